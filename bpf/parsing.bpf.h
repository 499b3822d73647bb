/* SPDX-License-Identifier: MIT */
/*
 * Header parsers. Each one reads the header at the cursor, checks it lies
 * inside the frame, advances the cursor past it and returns the next
 * protocol, or WGX_PARSE_ERR when the header is cut short or not what it
 * claims to be (the pipeline then passes the frame untouched).
 *
 * Fragments: only the first fragment of a datagram holds the UDP and
 * WireGuard headers. The parsers mark it (ip->first_frag) and go on, so
 * the pipeline can judge its header like any datagram's; a later
 * fragment is reported as WGX_PARSE_FRAGMENT and left to the stack.
 */
#ifndef WGX_PARSING_BPF_H
#define WGX_PARSING_BPF_H

#include "common.bpf.h"

enum wgx_parse_result {
	WGX_PARSE_ERR = -1,
	/* A fragment after the first (IPv4 or IPv6): left to the stack. */
	WGX_PARSE_FRAGMENT = -2,
	/* An IPv6 extension header chain we do not walk: left to the stack. */
	WGX_PARSE_IPV6_EXT = -3,
};

struct wgx_cursor {
	void *pos;
	void *end;
};

/* The IP header facts the pipeline needs once the parser is done. */
struct wgx_ip {
	void *hdr;	   /* first byte of the IP header */
	const __u8 *saddr; /* in the packet, network byte order */
	const __u8 *daddr;
	__u32 hdr_len;	 /* from hdr to the L4 header */
	__u32 tot_len;	 /* bytes from hdr the IP length field claims */
	__u8 family;	 /* 4 or 6, as in struct wgx_addr_key */
	__u8 first_frag; /* the first fragment of a longer datagram */
	__u8 ext;	 /* IPv6 extension headers were walked */
};

/* Ethernet and up to WGX_VLAN_MAX_DEPTH VLAN tags; returns the ethertype
 * in network byte order. A third tag is returned as such, i.e. not IP. */
static __always_inline int wgx_parse_eth(struct wgx_cursor *c)
{
	struct ethhdr *eth = c->pos;
	struct vlan_hdr *vlan;
	__be16 proto;
	int i;

	if ((void *)(eth + 1) > c->end)
		return WGX_PARSE_ERR;
	proto = eth->h_proto;
	c->pos = eth + 1;

#pragma unroll
	for (i = 0; i < WGX_VLAN_MAX_DEPTH; i++) {
		if (proto != bpf_htons(WGX_ETH_P_8021Q) &&
		    proto != bpf_htons(WGX_ETH_P_8021AD))
			break;
		vlan = c->pos;
		if ((void *)(vlan + 1) > c->end)
			return WGX_PARSE_ERR;
		proto = vlan->h_vlan_encapsulated_proto;
		c->pos = vlan + 1;
	}
	return proto;
}

/* IPv4 with options; returns the L4 protocol, or WGX_PARSE_FRAGMENT for
 * a fragment after the first. */
static __always_inline int wgx_parse_ipv4(struct wgx_cursor *c,
					  struct wgx_ip *ip)
{
	struct iphdr *iph = c->pos;
	__u32 hdr_len;

	if ((void *)(iph + 1) > c->end)
		return WGX_PARSE_ERR;
	if (iph->version != 4)
		return WGX_PARSE_ERR;
	hdr_len = iph->ihl * 4;
	if (hdr_len < sizeof(*iph))
		return WGX_PARSE_ERR;
	if (c->pos + hdr_len > c->end)
		return WGX_PARSE_ERR;

	ip->hdr = iph;
	ip->saddr = (const __u8 *)&iph->saddr;
	ip->daddr = (const __u8 *)&iph->daddr;
	ip->hdr_len = hdr_len;
	ip->tot_len = bpf_ntohs(iph->tot_len);
	ip->family = 4;
	c->pos += hdr_len;

	if (iph->frag_off & bpf_htons(WGX_IP_OFFSET))
		return WGX_PARSE_FRAGMENT;
	ip->first_frag = !!(iph->frag_off & bpf_htons(WGX_IP_MF));
	return iph->protocol;
}

/*
 * One IPv6 extension header at the cursor: its length in bytes, 0 when
 * next is not one we walk, or WGX_PARSE_ERR. A fragment header past the
 * first fragment gives WGX_PARSE_FRAGMENT.
 */
static __always_inline int wgx_ipv6_ext_len(struct wgx_cursor *c,
					    struct wgx_ip *ip, __u8 next)
{
	struct wgx_ipv6_opt *opt = c->pos;
	struct frag_hdr *fh = c->pos;

	switch (next) {
	case WGX_IPV6_NEXTHDR_HOP:
	case WGX_IPV6_NEXTHDR_ROUTING:
	case WGX_IPV6_NEXTHDR_DEST:
		if ((void *)(opt + 1) > c->end)
			return WGX_PARSE_ERR;
		return (opt->len + 1) * 8;
	case WGX_IPV6_NEXTHDR_AUTH:
		if ((void *)(opt + 1) > c->end)
			return WGX_PARSE_ERR;
		return (opt->len + 2) * 4;
	case WGX_IPV6_NEXTHDR_FRAGMENT:
		if ((void *)(fh + 1) > c->end)
			return WGX_PARSE_ERR;
		if (fh->frag_off & bpf_htons(WGX_IP6_OFFSET))
			return WGX_PARSE_FRAGMENT;
		if (fh->frag_off & bpf_htons(WGX_IP6_MF))
			ip->first_frag = 1;
		return sizeof(*fh);
	default:
		return 0;
	}
}

/* The other extension headers of RFC 8200 section 4 and its registry
 * (ESP is the end of what can be read, so it counts as a protocol). */
static __always_inline bool wgx_ipv6_ext_other(__u8 next)
{
	return next == WGX_IPV6_NEXTHDR_MOBILITY ||
	       next == WGX_IPV6_NEXTHDR_HIP || next == WGX_IPV6_NEXTHDR_SHIM6 ||
	       next == WGX_IPV6_NEXTHDR_EXP1 || next == WGX_IPV6_NEXTHDR_EXP2;
}

/*
 * IPv6 and up to WGX_IPV6_EXT_MAX extension headers (hop-by-hop, routing,
 * destination options, authentication, fragment), so that a WireGuard
 * datagram behind them is judged like any other. Returns the L4
 * protocol; WGX_PARSE_FRAGMENT past the first fragment; WGX_PARSE_IPV6_EXT
 * for a longer chain or a header we cannot walk.
 */
static __always_inline int wgx_parse_ipv6(struct wgx_cursor *c,
					  struct wgx_ip *ip)
{
	struct ipv6hdr *ip6h = c->pos;
	__u8 next;
	int i, len;

	if ((void *)(ip6h + 1) > c->end)
		return WGX_PARSE_ERR;
	if (ip6h->version != 6)
		return WGX_PARSE_ERR;

	ip->hdr = ip6h;
	ip->saddr = (const __u8 *)&ip6h->saddr;
	ip->daddr = (const __u8 *)&ip6h->daddr;
	ip->hdr_len = sizeof(*ip6h);
	ip->tot_len = sizeof(*ip6h) + bpf_ntohs(ip6h->payload_len);
	ip->family = 6;
	c->pos = ip6h + 1;
	next = ip6h->nexthdr;

#pragma unroll
	for (i = 0; i < WGX_IPV6_EXT_MAX; i++) {
		struct wgx_ipv6_opt *opt = c->pos;

		len = wgx_ipv6_ext_len(c, ip, next);
		if (len < 0)
			return len;
		if (!len)
			break;
		if (c->pos + len > c->end)
			return WGX_PARSE_ERR;
		next = opt->nexthdr;
		c->pos += len;
		ip->hdr_len += len;
		ip->ext = 1;
	}
	if (wgx_ipv6_ext_len(c, ip, next) || wgx_ipv6_ext_other(next))
		return WGX_PARSE_IPV6_EXT;
	return next;
}

static __always_inline struct udphdr *wgx_parse_udp(struct wgx_cursor *c)
{
	struct udphdr *udp = c->pos;

	if ((void *)(udp + 1) > c->end)
		return NULL;
	c->pos = udp + 1;
	return udp;
}

/* A map key for an address of the packet; unused bytes stay zero. */
static __always_inline void wgx_addr_key_set(struct wgx_addr_key *key,
					     const struct wgx_ip *ip,
					     const __u8 *addr)
{
	__builtin_memset(key, 0, sizeof(*key));
	key->family = ip->family;
	if (ip->family == 4)
		__builtin_memcpy(key->addr, addr, 4);
	else
		__builtin_memcpy(key->addr, addr, 16);
}

#endif
