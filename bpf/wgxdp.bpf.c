// SPDX-License-Identifier: MIT
/*
 * wgx_xdp: sorts the frames of the underlay interface. It drops only what
 * is proven invalid; whatever it cannot judge goes to the stack.
 *
 *   not UDP to the listen port      -> PASS  pass_other
 *   a fragment after the first      -> PASS  pass_fragment
 *   IPv6 extension headers it does
 *     not walk (more than 6, ...)   -> PASS  pass_ipv6_ext
 *   ... on another host's address   -> PASS  pass_not_local
 *   bad WireGuard header or length  -> DROP  drop_malformed
 *   initiation or response from a
 *     source the agent denied       -> DROP  drop_denied
 *     with a wrong mac1             -> DROP  drop_bad_mac1
 *   handshake (type 1, 2, 3)        -> PASS  pass_handshake, to the agent
 *   data, unknown receiver index    -> DROP  drop_unknown_index
 *   data, counter no session reaches
 *     (WGX_COUNTER_LIMIT, 2^40), or
 *     outside the session's
 *     published horizon             -> DROP  drop_bad_counter
 *   data, known receiver index      -> REDIRECT to the queue's AF_XDP
 *                                      socket (redirect_xsk), or PASS
 *                                      when it has none (pass_data)
 *     larger than an AF_XDP frame   -> PASS  pass_large (generic XDP sees
 *                                      GSO super-packets whole)
 *   first fragment of a datagram    -> judged by its WireGuard header:
 *                                      DROP drop_fragment (unknown index,
 *                                      bad counter, bad header, denied
 *                                      source) or
 *                                      PASS pass_fragment
 *
 * Fragments are passed, not dropped: WireGuard does not set DF on IPv4,
 * so a peer behind a path with a small MTU sends fragments, and the
 * stack's reassembly (bounded by ipfrag_high_thresh) then hands the
 * datagram to a worker, which checks its index like any other.
 *
 * Each step returns a stat id; wgx_stats_record() counts it and maps it
 * to the verdict at the single exit.
 */
#include "common.bpf.h"
#include "mac1.bpf.h"
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

static __always_inline bool wgx_known_index(__le32 index)
{
	struct wgx_session_key key = { .index_le = index };

	return bpf_map_lookup_elem(&wgx_sessions, &key) != NULL;
}

/* The agent denied the source (its /64 for IPv6) until a time to come. */
static __always_inline bool wgx_denied(const struct wgx_ip *ip)
{
	struct wgx_deny_value *d;
	struct wgx_addr_key src;

	wgx_addr_key_set(&src, ip, ip->saddr);
	if (ip->family == 6)
		__builtin_memset(src.addr + WGX_DENY_PREFIX6, 0,
				 16 - WGX_DENY_PREFIX6);
	d = bpf_map_lookup_elem(&wgx_deny, &src);
	return d && bpf_ktime_get_boot_ns() < d->until_ns;
}

/* Whether counter fits the session's published horizon (wgx_bpf.h); true
 * when none is published. */
static __always_inline bool wgx_in_horizon(__le32 index, __u64 c)
{
	struct wgx_session_key key = { .index_le = index };
	struct wgx_rx_horizon *h;
	__u64 now, ahead;

	h = bpf_map_lookup_elem(&wgx_rx_horizon, &key);
	if (!h)
		return true;
	/* As core/replay.c counts: one past the counter, against next. */
	if (c + 1 + WGX_REPLAY_WINDOW < h->next)
		return false;
	now = bpf_ktime_get_boot_ns();
	/* A publication stamped ahead of now (it cannot be): no bound. */
	if (now < h->at_ns)
		return true;
	ahead = WGX_HORIZON_AHEAD + ((now - h->at_ns) >> WGX_HORIZON_NS_SHIFT);
	return c < h->next + ahead;
}

/*
 * A data message, its 16-byte header inside the frame. A counter no
 * session reaches, or one outside the session's published horizon, is
 * dropped here: a flood of bad tags on a live index would otherwise cost
 * a decryption each.
 */
static __always_inline __u32 wgx_data(struct xdp_md *ctx,
				      const struct wgx_ip *ip,
				      const struct wgx_wg_data_head *head)
{
	__u64 counter = wgx_counter(head);

	if (!wgx_known_index(head->index))
		return WGX_XDP_STAT_DROP_UNKNOWN_INDEX;
	if (wgx_counter_impossible(counter) ||
	    !wgx_in_horizon(head->index, counter))
		return WGX_XDP_STAT_DROP_BAD_COUNTER;
	/* The workers' frames start with a fixed IPv6 header: with
	 * extension headers the stack takes it. */
	if (ip->ext)
		return WGX_XDP_STAT_PASS_DATA;
	if (ctx->data_end - ctx->data > WGX_XDP_XSK_DATA_MAX)
		return WGX_XDP_STAT_PASS_LARGE;
	/* No socket on this queue: the lookup fails and XDP_PASS comes
	 * back, so the frame still reaches the stack. */
	if (bpf_redirect_map(&wgx_xsks, ctx->rx_queue_index, XDP_PASS) ==
	    XDP_REDIRECT)
		return WGX_XDP_STAT_REDIRECT_XSK;
	return WGX_XDP_STAT_PASS_DATA;
}

/* An initiation or response of the right size. */
static __always_inline __u32 wgx_handshake(struct xdp_md *ctx,
					   const struct wgx_xdp_config *cfg,
					   const struct wgx_ip *ip, void *msg,
					   bool initiation)
{
	__u32 off = msg - (void *)(long)ctx->data;

	if (wgx_denied(ip))
		return WGX_XDP_STAT_DROP_DENIED;
	if ((cfg->flags & WGX_XDP_MAC1) &&
	    !wgx_mac1_ok(ctx, cfg, off, initiation))
		return WGX_XDP_STAT_DROP_BAD_MAC1;
	return WGX_XDP_STAT_PASS_HANDSHAKE;
}

/* The first fragment of a data message: its index known and, when the
 * counter is in this fragment too, a counter a session can reach. */
static __always_inline bool wgx_data_fragment_ok(struct udphdr *udp, void *end)
{
	struct wgx_wg_data_head *head = (void *)(udp + 1);

	if (!wgx_known_index(head->index))
		return false;
	if ((void *)(head + 1) > end)
		return true; /* too little to judge the counter */
	return !wgx_counter_impossible(wgx_counter(head));
}

/*
 * The first fragment of a longer datagram: the UDP length is the whole
 * datagram's, the WireGuard header is here, the rest is not (so no mac1).
 * What its header proves invalid is dropped; the later fragments then
 * wait out the reassembly timeout in the stack, as any stray ones do.
 */
static __always_inline __u32 wgx_first_fragment(const struct wgx_ip *ip,
						struct udphdr *udp, void *end)
{
	struct wgx_wg_prefix *wg = (void *)(udp + 1);
	__u32 udp_len = bpf_ntohs(udp->len);

	if ((void *)(wg + 1) > end ||
	    ip->hdr_len + sizeof(*udp) + sizeof(*wg) > ip->tot_len)
		return WGX_XDP_STAT_PASS_FRAGMENT; /* too little to judge */
	if (udp_len < sizeof(*udp))
		return WGX_XDP_STAT_DROP_FRAGMENT;
	switch (wgx_wg_type(wg->word, udp_len - sizeof(*udp))) {
	case WGX_MSG_INITIATION:
	case WGX_MSG_RESPONSE:
		if (wgx_denied(ip))
			return WGX_XDP_STAT_DROP_FRAGMENT;
		return WGX_XDP_STAT_PASS_FRAGMENT;
	case WGX_MSG_COOKIE_REPLY:
		return WGX_XDP_STAT_PASS_FRAGMENT;
	case WGX_MSG_DATA:
		return wgx_data_fragment_ok(udp, end)
			       ? WGX_XDP_STAT_PASS_FRAGMENT
			       : WGX_XDP_STAT_DROP_FRAGMENT;
	default:
		return WGX_XDP_STAT_DROP_FRAGMENT;
	}
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
	if (ip->first_frag)
		return wgx_first_fragment(ip, udp, end);
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
		return wgx_handshake(ctx, cfg, ip, wg, true);
	case WGX_MSG_RESPONSE:
		return wgx_handshake(ctx, cfg, ip, wg, false);
	case WGX_MSG_COOKIE_REPLY:
		return WGX_XDP_STAT_PASS_HANDSHAKE;
	case WGX_MSG_DATA:
		/* len >= WGX_MSG_DATA_MIN_LEN: the header is in the frame;
		 * the verifier wants to see that too. */
		if ((void *)((struct wgx_wg_data_head *)wg + 1) > end)
			return WGX_XDP_STAT_DROP_MALFORMED;
		return wgx_data(ctx, ip, (void *)wg);
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
	if (proto == WGX_PARSE_IPV6_EXT)
		return WGX_XDP_STAT_PASS_IPV6_EXT;
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
