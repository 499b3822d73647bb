/* SPDX-License-Identifier: MIT */
/*
 * Header parsers. Each one reads the header at the cursor, checks it lies
 * inside the frame, advances the cursor past it and returns the next
 * protocol, or WGX_PARSE_ERR when the header is cut short or not what it
 * claims to be (the pipeline then passes the frame untouched).
 */
#ifndef WGX_PARSING_BPF_H
#define WGX_PARSING_BPF_H

#include "common.bpf.h"

enum wgx_parse_result {
	WGX_PARSE_ERR = -1,
	/* An IPv4 fragment or an IPv6 fragment header: left to the stack. */
	WGX_PARSE_FRAGMENT = -2,
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
	__u32 hdr_len; /* from hdr to the L4 header */
	__u32 tot_len; /* bytes from hdr the IP length field claims */
	__u8 family;   /* 4 or 6, as in struct wgx_addr_key */
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

/* IPv4 with options; returns the L4 protocol or WGX_PARSE_FRAGMENT. */
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

	if (iph->frag_off & bpf_htons(WGX_IP_MF | WGX_IP_OFFSET))
		return WGX_PARSE_FRAGMENT;
	return iph->protocol;
}

/* The fixed IPv6 header only: extension headers are the stack's business
 * (a fragment header right after it is reported as a fragment). */
static __always_inline int wgx_parse_ipv6(struct wgx_cursor *c,
					  struct wgx_ip *ip)
{
	struct ipv6hdr *ip6h = c->pos;

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

	if (ip6h->nexthdr == WGX_IPV6_NEXTHDR_FRAGMENT)
		return WGX_PARSE_FRAGMENT;
	return ip6h->nexthdr;
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
