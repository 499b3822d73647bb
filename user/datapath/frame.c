// SPDX-License-Identifier: MIT
/*
 * The parse trusts nothing: the program checked these frames before it
 * redirected them, but a frame here is still bytes from the wire.
 */
#include "datapath/frame.h"

#include <endian.h>
#include <netinet/in.h>
#include <string.h>

#include "datapath/ippkt.h"
#include "wgx_wire.h"

enum {
	ETH_HDR = 14,
	VLAN_HDR = 4,
	IP4_HDR = 20,
	IP6_HDR = 40,
	UDP_HDR = 8,
	ETH_P_IPV4 = 0x0800,
	ETH_P_IPV6 = 0x86dd,
	ETH_P_VLAN = 0x8100,
	ETH_P_QINQ = 0x88a8,
	/* IPv6 extension headers coded in units of 8 bytes. */
	IP6_HOPOPTS = 0,
	IP6_ROUTING = 43,
	IP6_DSTOPTS = 60,
	IP6_EXT_MAX = 8,
	IP4_DF = 0x4000,
	IP_LEN_MAX = 65535,
};

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Past the VLAN tags: the offset of the network header, or 0. */
static uint32_t skip_vlans(const uint8_t *f, uint32_t len, uint16_t *proto)
{
	uint32_t off = ETH_HDR;

	if (len < ETH_HDR)
		return 0;
	*proto = get16(f + 12);
	for (int i = 0; i < 2 && (*proto == ETH_P_VLAN || *proto == ETH_P_QINQ);
	     i++) {
		if (len < off + VLAN_HDR)
			return 0;
		*proto = get16(f + off + 2);
		off += VLAN_HDR;
	}
	return off;
}

/* IPv4 at off: the transport offset and protocol, the source; 0 if bad. */
static uint32_t ip4_l4(const uint8_t *f, uint32_t len, uint32_t off,
		       uint8_t *next, union wgx_sockaddr *src)
{
	uint32_t ihl;

	if (len < off + IP4_HDR || (f[off] >> 4) != 4)
		return 0;
	ihl = (uint32_t)(f[off] & 0x0f) * 4;
	if (ihl < IP4_HDR || len < off + ihl)
		return 0;
	*next = f[off + 9];
	src->in4.sin_family = AF_INET;
	memcpy(&src->in4.sin_addr, f + off + 12, 4);
	return off + ihl;
}

/* IPv6 at off, its extension headers skipped: as ip4_l4. */
static uint32_t ip6_l4(const uint8_t *f, uint32_t len, uint32_t off,
		       uint8_t *next, union wgx_sockaddr *src)
{
	uint32_t l4 = off + IP6_HDR;

	if (len < off + IP6_HDR || (f[off] >> 4) != 6)
		return 0;
	*next = f[off + 6];
	for (int i = 0;
	     i < IP6_EXT_MAX && (*next == IP6_HOPOPTS || *next == IP6_ROUTING ||
				 *next == IP6_DSTOPTS);
	     i++) {
		if (len < l4 + 8)
			return 0;
		*next = f[l4];
		l4 += ((uint32_t)f[l4 + 1] + 1) * 8;
	}
	src->in6.sin6_family = AF_INET6;
	memcpy(&src->in6.sin6_addr, f + off + 8, 16);
	return l4;
}

bool wgx_frame_udp_payload(uint8_t *f, uint32_t len, uint8_t **payload,
			   uint32_t *plen, union wgx_sockaddr *src)
{
	uint16_t proto = 0, ulen;
	uint32_t off = skip_vlans(f, len, &proto), l4 = 0;
	uint8_t next = 0;

	memset(src, 0, sizeof(*src));
	if (off && proto == ETH_P_IPV4)
		l4 = ip4_l4(f, len, off, &next, src);
	else if (off && proto == ETH_P_IPV6)
		l4 = ip6_l4(f, len, off, &next, src);
	if (!l4 || next != IPPROTO_UDP || len < l4 + UDP_HDR)
		return false;
	ulen = get16(f + l4 + 4);
	if (ulen < UDP_HDR || l4 + ulen > len)
		return false;
	if (src->sa.sa_family == AF_INET)
		memcpy(&src->in4.sin_port, f + l4, 2);
	else
		memcpy(&src->in6.sin6_port, f + l4, 2);
	*payload = f + l4 + UDP_HDR;
	*plen = ulen - UDP_HDR;
	return true;
}

uint32_t wgx_frame_run_first(const uint8_t *m, uint32_t len)
{
	const uint8_t *at = m + WGX_MSG_DATA_MIN_LEN, *end = m + len;
	uint64_t counter, next;

	if (len < 2 * WGX_MSG_DATA_MIN_LEN || m[0] != WGX_MSG_DATA)
		return len;
	memcpy(&counter, m + 8, 8);
	counter = le64toh(counter);
	while (end - at >= WGX_MSG_DATA_MIN_LEN) {
		at = memmem(at, (size_t)(end - at), m, 8);
		if (!at || end - at < WGX_MSG_DATA_MIN_LEN)
			break;
		memcpy(&next, at + 8, 8);
		if (le64toh(next) == counter + 1)
			return (uint32_t)(at - m);
		at++;
	}
	return len;
}

/* ---- building --------------------------------------------------------- */

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void eth_write(uint8_t *f, const struct wgx_frame_route *r,
		      uint16_t proto)
{
	memcpy(f, r->dst_mac, 6);
	memcpy(f + 6, r->src_mac, 6);
	put16(f + 12, proto);
}

/*
 * The pseudo-header's protocol and length words as the sum reads them:
 * in network order (ippkt.h sums the bytes as they lie in memory).
 */
static uint32_t pseudo_tail(uint32_t ulen)
{
	return (uint32_t)htons(IPPROTO_UDP) + htons((uint16_t)ulen);
}

/*
 * The UDP header at u for ulen bytes of datagram, checksummed over the
 * pseudo-header sum ps, the header and the payload behind it.
 */
static void udp_write(uint8_t *u, const struct wgx_frame_route *r,
		      uint32_t ulen, uint32_t ps)
{
	uint16_t sum;

	/* Ports are in network order in the socket addresses. */
	if (r->dst.sa.sa_family == AF_INET6) {
		memcpy(u, &r->src.in6.sin6_port, 2);
		memcpy(u + 2, &r->dst.in6.sin6_port, 2);
	} else {
		memcpy(u, &r->src.in4.sin_port, 2);
		memcpy(u + 2, &r->dst.in4.sin_port, 2);
	}
	put16(u + 4, (uint16_t)ulen);
	put16(u + 6, 0);
	sum = wgx_ippkt_csum_fold(wgx_ippkt_csum_partial(u, ulen, ps));
	/* 0 means "no checksum" in UDP over IPv4 and is illegal over IPv6. */
	memcpy(u + 6, sum ? &sum : &(uint16_t){ 0xffff }, 2);
}

static uint32_t build4(uint8_t *f, const struct wgx_frame_route *r,
		       uint32_t plen, uint16_t id)
{
	uint8_t *ip = f + ETH_HDR, *pseudo = ip + 12;
	uint32_t ulen = UDP_HDR + plen, ps;
	uint16_t sum;

	if (IP4_HDR + ulen > IP_LEN_MAX)
		return 0;
	eth_write(f, r, ETH_P_IPV4);
	ip[0] = 0x45;
	ip[1] = 0;
	put16(ip + 2, (uint16_t)(IP4_HDR + ulen));
	put16(ip + 4, id);
	put16(ip + 6, IP4_DF);
	ip[8] = WGX_FRAME_TTL;
	ip[9] = IPPROTO_UDP;
	put16(ip + 10, 0);
	memcpy(ip + 12, &r->src.in4.sin_addr, 4);
	memcpy(ip + 16, &r->dst.in4.sin_addr, 4);
	sum = wgx_ippkt_csum(ip, IP4_HDR);
	memcpy(ip + 10, &sum, 2);
	/* Pseudo-header: the addresses in place, protocol and length. */
	ps = wgx_ippkt_csum_partial(pseudo, 8, pseudo_tail(ulen));
	udp_write(ip + IP4_HDR, r, ulen, ps);
	return ETH_HDR + IP4_HDR + ulen;
}

static uint32_t build6(uint8_t *f, const struct wgx_frame_route *r,
		       uint32_t plen)
{
	uint8_t *ip = f + ETH_HDR;
	uint32_t ulen = UDP_HDR + plen, ps;

	if (ulen > IP_LEN_MAX)
		return 0;
	eth_write(f, r, ETH_P_IPV6);
	memset(ip, 0, 4);
	ip[0] = 0x60;
	put16(ip + 4, (uint16_t)ulen);
	ip[6] = IPPROTO_UDP;
	ip[7] = WGX_FRAME_TTL;
	memcpy(ip + 8, &r->src.in6.sin6_addr, 16);
	memcpy(ip + 24, &r->dst.in6.sin6_addr, 16);
	/* Pseudo-header (RFC 8200 8.1): addresses in place, length, 17. */
	ps = wgx_ippkt_csum_partial(ip + 8, 32, pseudo_tail(ulen));
	udp_write(ip + IP6_HDR, r, ulen, ps);
	return ETH_HDR + IP6_HDR + ulen;
}

uint32_t wgx_frame_udp_build(uint8_t *f, const struct wgx_frame_route *r,
			     uint32_t plen, uint16_t id)
{
	if (r->dst.sa.sa_family != r->src.sa.sa_family)
		return 0;
	if (r->dst.sa.sa_family == AF_INET)
		return build4(f, r, plen, id);
	if (r->dst.sa.sa_family == AF_INET6)
		return build6(f, r, plen);
	return 0;
}
