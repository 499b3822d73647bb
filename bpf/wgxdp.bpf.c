// SPDX-License-Identifier: MIT
/*
 * wgx_xdp: sorts the frames of the underlay interface.
 *
 *   not UDP to the listen port      -> PASS  pass_other (pass_fragment)
 *   ... on another host's address   -> PASS  pass_not_local
 *   bad WireGuard header or length  -> DROP  drop_malformed
 *   handshake (type 1, 2, 3)        -> PASS  pass_handshake, to the agent
 *     initiation over budget (load) -> DROP  drop_handshake_budget
 *   data, unknown receiver index    -> DROP  drop_unknown_index
 *   data, known receiver index      -> REDIRECT to the queue's AF_XDP
 *                                      socket (redirect_xsk), or PASS
 *                                      when it has none (pass_data)
 *     larger than an AF_XDP frame   -> PASS  pass_large (generic XDP sees
 *                                      GSO super-packets whole)
 *
 * Each step returns a stat id; wgx_stats_record() counts it and maps it
 * to the verdict at the single exit.
 */
#include "common.bpf.h"
#include "budget.bpf.h"
#include "maps.bpf.h"
#include "parsing.bpf.h"
#include "stats.bpf.h"
#include "wireguard.bpf.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

static __always_inline bool wgx_is_local(const struct wgx_ip *ip)
{
	struct wgx_addr_key key;

	wgx_addr_key_set(&key, ip, ip->daddr);
	return bpf_map_lookup_elem(&wgx_local_addrs, &key) != NULL;
}

static __always_inline __u32 wgx_data(struct xdp_md *ctx, __le32 index)
{
	struct wgx_session_key key = { .index_le = index };

	if (!bpf_map_lookup_elem(&wgx_sessions, &key))
		return WGX_XDP_STAT_DROP_UNKNOWN_INDEX;
	if (ctx->data_end - ctx->data > WGX_XDP_XSK_DATA_MAX)
		return WGX_XDP_STAT_PASS_LARGE;
	/* No socket on this queue: the lookup fails and XDP_PASS comes
	 * back, so the frame still reaches the stack. */
	if (bpf_redirect_map(&wgx_xsks, ctx->rx_queue_index, XDP_PASS) ==
	    XDP_REDIRECT)
		return WGX_XDP_STAT_REDIRECT_XSK;
	return WGX_XDP_STAT_PASS_DATA;
}

/* A UDP datagram to the listen port on a local address. */
static __always_inline __u32 wgx_wireguard(struct xdp_md *ctx,
					   const struct wgx_xdp_config *cfg,
					   const struct wgx_ip *ip,
					   struct udphdr *udp, void *end)
{
	struct wgx_wg_prefix *wg = (void *)(udp + 1);
	__u32 udp_len = bpf_ntohs(udp->len);
	__u32 len;

	/*
	 * The IP length must fit in the frame (Ethernet padding may follow
	 * it) and the UDP length in the IP payload; together they keep the
	 * UDP length within the frame's end.
	 */
	if (ip->hdr + ip->tot_len > end)
		return WGX_XDP_STAT_DROP_MALFORMED;
	if (udp_len < sizeof(*udp) || ip->hdr_len + udp_len > ip->tot_len)
		return WGX_XDP_STAT_DROP_MALFORMED;
	len = udp_len - sizeof(*udp);
	if (len < WGX_MSG_DATA_MIN_LEN)
		return WGX_XDP_STAT_DROP_MALFORMED;
	if ((void *)(wg + 1) > end) /* implied by the above; the verifier
				     * wants to see it */
		return WGX_XDP_STAT_DROP_MALFORMED;

	switch (wgx_wg_type(wg->word, len)) {
	case WGX_MSG_INITIATION:
		if ((cfg->flags & WGX_XDP_UNDER_LOAD) &&
		    !wgx_budget_take(cfg, ip))
			return WGX_XDP_STAT_DROP_HANDSHAKE_BUDGET;
		return WGX_XDP_STAT_PASS_HANDSHAKE;
	case WGX_MSG_RESPONSE:
	case WGX_MSG_COOKIE_REPLY:
		return WGX_XDP_STAT_PASS_HANDSHAKE;
	case WGX_MSG_DATA:
		return wgx_data(ctx, wg->index);
	default:
		return WGX_XDP_STAT_DROP_MALFORMED;
	}
}

static __always_inline __u32 wgx_classify(struct xdp_md *ctx)
{
	struct wgx_cursor c = {
		.pos = (void *)(long)ctx->data,
		.end = (void *)(long)ctx->data_end,
	};
	const struct wgx_xdp_config *cfg;
	struct wgx_ip ip = {};
	struct udphdr *udp;
	__u32 zero = 0;
	int proto;

	cfg = bpf_map_lookup_elem(&wgx_config, &zero);
	if (!cfg || !cfg->listen_port)
		return WGX_XDP_STAT_PASS_OTHER;

	proto = wgx_parse_eth(&c);
	if (proto == bpf_htons(WGX_ETH_P_IP))
		proto = wgx_parse_ipv4(&c, &ip);
	else if (proto == bpf_htons(WGX_ETH_P_IPV6))
		proto = wgx_parse_ipv6(&c, &ip);
	else
		return WGX_XDP_STAT_PASS_OTHER;
	if (proto == WGX_PARSE_FRAGMENT)
		return WGX_XDP_STAT_PASS_FRAGMENT;
	if (proto != IPPROTO_UDP)
		return WGX_XDP_STAT_PASS_OTHER;

	udp = wgx_parse_udp(&c);
	if (!udp || udp->dest != bpf_htons(cfg->listen_port))
		return WGX_XDP_STAT_PASS_OTHER;
	/* Traffic this node only routes is never touched. */
	if (!wgx_is_local(&ip))
		return WGX_XDP_STAT_PASS_NOT_LOCAL;
	return wgx_wireguard(ctx, cfg, &ip, udp, c.end);
}

SEC("xdp")
int wgx_xdp(struct xdp_md *ctx)
{
	return wgx_stats_record(ctx, wgx_classify(ctx));
}
