// SPDX-License-Identifier: MIT
/*
 * TSO/USO segmentation and TCP coalescing for a vnet-header TUN; see
 * gso.h. The header rewrites follow the kernel's tcp_gso_segment(),
 * __udp_gso_segment() and tcp_gro_receive(); checksums are RFC 1071 over
 * the RFC 793 / RFC 768 / RFC 8200 section 8.1 pseudo-headers.
 */
#include "datapath/gso.h"

#include <endian.h>
#include <errno.h>
#include <string.h>

#include "datapath/ippkt.h"

enum {
	IP4_HDR = 20,
	IP6_HDR = 40,
	PROTO_TCP = 6,
	PROTO_UDP = 17,
	TCP_HDR = 20,
	UDP_HDR = 8,
	TCP_CSUM_OFF = 16,
	UDP_CSUM_OFF = 6,
	TCP_FIN = 0x01,
	TCP_PSH = 0x08,
	TCP_ACK = 0x10,
	TCP_CWR = 0x80,
	IP4_DF = 0x4000,
	IP4_MF = 0x2000,
	IP4_FRAG_OFF = 0x1fff,
	/* IPv6 extension headers skipped on the way to the transport. */
	IP6_HOPOPTS = 0,
	IP6_ROUTING = 43,
	IP6_DSTOPTS = 60,
	IP6_MAX_EXT = 8,
};

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/* Sum of the pseudo-header for an upper-layer packet of l4_len bytes. */
static uint32_t pseudo_sum(const uint8_t *ip, bool ipv6, uint8_t proto,
			   size_t l4_len)
{
	uint8_t tail[4] = { 0, proto, (uint8_t)(l4_len >> 8), (uint8_t)l4_len };
	uint32_t sum;

	if (ipv6)
		sum = wgx_ippkt_csum_partial(ip + 8, 32, 0);
	else
		sum = wgx_ippkt_csum_partial(ip + 12, 8, 0);
	return wgx_ippkt_csum_partial(tail, sizeof(tail), sum);
}

/* Store a checksum as computed (RFC 1071 sums are byte-order free). */
static void put_csum(uint8_t *field, uint16_t c)
{
	memcpy(field, &c, sizeof(c));
}

/* The fixed IP header: its length, or -EINVAL; len must be the IP length. */
static int ip_hdr_len(const uint8_t *pkt, size_t len, bool *ipv6)
{
	size_t ihl;

	if (len >= IP4_HDR && pkt[0] >> 4 == 4) {
		ihl = (size_t)(pkt[0] & 0x0f) * 4;
		if (ihl < IP4_HDR || ihl > len || get16(pkt + 2) != len)
			return -EINVAL;
		*ipv6 = false;
		return (int)ihl;
	}
	if (len >= IP6_HDR && pkt[0] >> 4 == 6) {
		if ((size_t)get16(pkt + 4) + IP6_HDR != len)
			return -EINVAL;
		*ipv6 = true;
		return IP6_HDR;
	}
	return -EINVAL;
}

static bool ip6_is_ext(uint8_t nh)
{
	return nh == IP6_HOPOPTS || nh == IP6_ROUTING || nh == IP6_DSTOPTS;
}

/* Offset and protocol of the transport header of a whole, unfragmented
 * packet; -EINVAL otherwise. */
static int ip_locate(const uint8_t *pkt, size_t len, bool *ipv6, uint8_t *proto)
{
	int off = ip_hdr_len(pkt, len, ipv6);
	uint8_t nh;

	if (off < 0)
		return off;
	if (!*ipv6) {
		if (get16(pkt + 6) & (IP4_MF | IP4_FRAG_OFF))
			return -EINVAL;
		*proto = pkt[9];
		return off;
	}
	nh = pkt[6];
	for (int i = 0; i < IP6_MAX_EXT && ip6_is_ext(nh); i++) {
		if ((size_t)off + 8 > len)
			return -EINVAL;
		nh = pkt[off];
		off += (pkt[off + 1] + 1) * 8;
	}
	if ((size_t)off > len || ip6_is_ext(nh))
		return -EINVAL;
	*proto = nh;
	return off;
}

/* A packet without GSO whose partial checksum we must complete. */
static int prepare_csum(struct wgx_gso *g, uint16_t start, uint16_t offset)
{
	bool ipv6;
	int ip = ip_hdr_len(g->pkt, g->len, &ipv6);

	if (ip < 0 || start < ip || (size_t)start + offset + 2 > g->len)
		return -EINVAL;
	g->csum = true;
	g->csum_start = start;
	g->csum_offset = offset;
	return 1;
}

/* The transport header of a GSO packet: where csum_start says it is. */
static int prepare_l4(struct wgx_gso *g, uint8_t type, uint16_t start,
		      uint16_t offset)
{
	uint8_t proto;
	int l4 = ip_locate(g->pkt, g->len, &g->ipv6, &proto);
	size_t doff;

	if (l4 < 0 || l4 != start)
		return -EINVAL;
	if ((type == WGX_VNET_GSO_TCPV4 && g->ipv6) ||
	    (type == WGX_VNET_GSO_TCPV6 && !g->ipv6))
		return -EINVAL;
	g->l4_off = (uint16_t)l4;
	if (type == WGX_VNET_GSO_UDP_L4) {
		if (proto != PROTO_UDP || offset != UDP_CSUM_OFF ||
		    (size_t)l4 + UDP_HDR > g->len ||
		    get16(g->pkt + l4 + 4) != g->len - (size_t)l4)
			return -EINVAL;
		g->kind = WGX_GSO_KIND_UDP;
		g->hdr_len = (uint16_t)(l4 + UDP_HDR);
		return 0;
	}
	if (proto != PROTO_TCP || offset != TCP_CSUM_OFF ||
	    (size_t)l4 + TCP_HDR > g->len)
		return -EINVAL;
	doff = (size_t)(g->pkt[l4 + 12] >> 4) * 4;
	if (doff < TCP_HDR || l4 + doff > g->len)
		return -EINVAL;
	g->kind = WGX_GSO_KIND_TCP;
	g->hdr_len = (uint16_t)(l4 + doff);
	return 0;
}

int wgx_gso_prepare(struct wgx_gso *g, const struct wgx_vnet_hdr *vh,
		    const uint8_t *pkt, size_t len)
{
	uint8_t type = vh->gso_type & (uint8_t)~WGX_VNET_GSO_ECN;
	bool ecn = vh->gso_type & WGX_VNET_GSO_ECN;
	uint16_t start = le16toh(vh->csum_start);
	uint16_t offset = le16toh(vh->csum_offset);
	uint16_t size = le16toh(vh->gso_size);
	size_t payload;

	memset(g, 0, sizeof(*g));
	g->pkt = pkt;
	g->len = len;
	g->nsegs = 1;
	if (type == WGX_VNET_GSO_NONE) {
		if (ecn)
			return -EINVAL;
		if (!(vh->flags & WGX_VNET_F_NEEDS_CSUM))
			return 1;
		return prepare_csum(g, start, offset);
	}
	if (type != WGX_VNET_GSO_TCPV4 && type != WGX_VNET_GSO_TCPV6 &&
	    type != WGX_VNET_GSO_UDP_L4)
		return -EINVAL;
	if (!(vh->flags & WGX_VNET_F_NEEDS_CSUM) || !size ||
	    len > WGX_GSO_MAX_LEN || (ecn && type == WGX_VNET_GSO_UDP_L4))
		return -EINVAL;
	if (prepare_l4(g, type, start, offset) < 0)
		return -EINVAL;
	g->mss = size;
	payload = len - g->hdr_len;
	g->nsegs = payload ? (unsigned int)((payload + size - 1) / size) : 1;
	return (int)g->nsegs;
}

size_t wgx_gso_seg_len(const struct wgx_gso *g, unsigned int i)
{
	size_t payload;

	if (g->kind == WGX_GSO_KIND_NONE)
		return g->len;
	payload = g->len - g->hdr_len;
	if (i + 1 < g->nsegs)
		return (size_t)g->hdr_len + g->mss;
	return g->hdr_len + payload - (size_t)(g->nsegs - 1) * g->mss;
}

/* Finish a partial checksum: the field holds the pseudo-header sum. */
static void complete_csum(uint8_t *pkt, size_t len, uint16_t start,
			  uint16_t offset)
{
	uint16_t c = wgx_ippkt_csum(pkt + start, len - start);

	/* RFC 768: a computed zero is sent as all ones (zero means none). */
	if (!c && offset == UDP_CSUM_OFF)
		c = 0xffff;
	put_csum(pkt + start + offset, c);
}

static void seg_ip(const struct wgx_gso *g, unsigned int i, uint8_t *out,
		   size_t n)
{
	size_t ihl = (size_t)(out[0] & 0x0f) * 4;

	if (g->ipv6) {
		put16(out + 4, (uint16_t)(n - IP6_HDR));
		return;
	}
	put16(out + 2, (uint16_t)n);
	/* IDs go up by one per segment, as the kernel's inet_gso_segment. */
	put16(out + 4, (uint16_t)(get16(g->pkt + 4) + i));
	put_csum(out + 10, 0);
	put_csum(out + 10, wgx_ippkt_csum(out, ihl));
}

static void seg_tcp(const struct wgx_gso *g, unsigned int i, uint8_t *out,
		    size_t n)
{
	uint8_t *t = out + g->l4_off;
	uint8_t flags = t[13];
	uint32_t sum;

	put32(t + 4, get32(g->pkt + g->l4_off + 4) + i * (uint32_t)g->mss);
	if (i + 1 < g->nsegs)
		flags &= (uint8_t) ~(TCP_FIN | TCP_PSH);
	/* CWR belongs to the first segment only (tcp_gso_segment). */
	if (i > 0)
		flags &= (uint8_t)~TCP_CWR;
	t[13] = flags;
	put_csum(t + TCP_CSUM_OFF, 0);
	sum = pseudo_sum(out, g->ipv6, PROTO_TCP, n - g->l4_off);
	sum = wgx_ippkt_csum_partial(t, n - g->l4_off, sum);
	put_csum(t + TCP_CSUM_OFF, wgx_ippkt_csum_fold(sum));
}

static void seg_udp(const struct wgx_gso *g, uint8_t *out, size_t n)
{
	uint8_t *u = out + g->l4_off;
	uint32_t sum;
	uint16_t c;

	put16(u + 4, (uint16_t)(n - g->l4_off));
	put_csum(u + UDP_CSUM_OFF, 0);
	sum = pseudo_sum(out, g->ipv6, PROTO_UDP, n - g->l4_off);
	sum = wgx_ippkt_csum_partial(u, n - g->l4_off, sum);
	c = wgx_ippkt_csum_fold(sum);
	put_csum(u + UDP_CSUM_OFF, c ? c : 0xffff);
}

void wgx_gso_write(const struct wgx_gso *g, unsigned int i, uint8_t *out)
{
	size_t n = wgx_gso_seg_len(g, i);

	if (g->kind == WGX_GSO_KIND_NONE) {
		memcpy(out, g->pkt, g->len);
		if (g->csum)
			complete_csum(out, g->len, g->csum_start,
				      g->csum_offset);
		return;
	}
	memcpy(out, g->pkt, g->hdr_len);
	memcpy(out + g->hdr_len, g->pkt + g->hdr_len + (size_t)i * g->mss,
	       n - g->hdr_len);
	seg_ip(g, i, out, n);
	if (g->kind == WGX_GSO_KIND_TCP)
		seg_tcp(g, i, out, n);
	else
		seg_udp(g, out, n);
}

/* ---- coalescing ------------------------------------------------------- */

static bool tcp_csum_ok(const uint8_t *pkt, size_t len, uint16_t l4, bool ipv6)
{
	uint32_t sum = pseudo_sum(pkt, ipv6, PROTO_TCP, len - l4);

	sum = wgx_ippkt_csum_partial(pkt + l4, len - l4, sum);
	return wgx_ippkt_csum_fold(sum) == 0;
}

/* A TCP segment GRO may take: no IP options or extension headers, not a
 * fragment, ACK and maybe PSH only, some payload. Sets *l4 and *hdr; the
 * checksum is checked apart, last, as the dearest test. */
static bool gro_shape(const uint8_t *pkt, size_t len, bool *ipv6, uint16_t *l4,
		      uint16_t *hdr)
{
	size_t doff;
	uint8_t flags;

	if (len > WGX_GSO_MAX_LEN)
		return false;
	if (len >= IP4_HDR && pkt[0] == 0x45) {
		if (get16(pkt + 2) != len ||
		    (get16(pkt + 6) & (IP4_MF | IP4_FRAG_OFF)) ||
		    pkt[9] != PROTO_TCP)
			return false;
		*ipv6 = false;
		*l4 = IP4_HDR;
	} else if (len >= IP6_HDR && pkt[0] >> 4 == 6) {
		if ((size_t)get16(pkt + 4) + IP6_HDR != len ||
		    pkt[6] != PROTO_TCP)
			return false;
		*ipv6 = true;
		*l4 = IP6_HDR;
	} else {
		return false;
	}
	if (len < (size_t)*l4 + TCP_HDR)
		return false;
	doff = (size_t)(pkt[*l4 + 12] >> 4) * 4;
	flags = pkt[*l4 + 13];
	if (doff < TCP_HDR || *l4 + doff >= len || !(flags & TCP_ACK) ||
	    (flags & ~(TCP_ACK | TCP_PSH)))
		return false;
	*hdr = (uint16_t)(*l4 + doff);
	return true;
}

bool wgx_gro_start(struct wgx_gro *g, uint8_t *pkt, size_t len)
{
	memset(g, 0, sizeof(*g));
	if (!gro_shape(pkt, len, &g->ipv6, &g->l4_off, &g->hdr_len) ||
	    !tcp_csum_ok(pkt, len, g->l4_off, g->ipv6))
		return false;
	g->head = pkt;
	g->total = len;
	g->mss = (uint16_t)(len - g->hdr_len);
	g->next_seq = get32(pkt + g->l4_off + 4) + g->mss;
	g->next_id = (uint16_t)(get16(pkt + 4) + 1);
	g->count = 1;
	g->push = pkt[g->l4_off + 13] & TCP_PSH;
	g->closed = g->push;
	return true;
}

/* The IP header of pkt matches the head's but for length and ID. */
static bool same_ip(const struct wgx_gro *g, const uint8_t *pkt)
{
	const uint8_t *h = g->head;

	if (g->ipv6)
		return !memcmp(pkt, h, 4) && !memcmp(pkt + 6, h + 6, 34);
	if (memcmp(pkt, h, 2) || memcmp(pkt + 6, h + 6, 4) ||
	    memcmp(pkt + 12, h + 12, 8))
		return false;
	/* Without DF the IDs must run on, as the kernel resegments them. */
	return (get16(h + 6) & IP4_DF) || get16(pkt + 4) == g->next_id;
}

/* The TCP header of pkt continues the head's: same ports, ACK, header
 * length, flags (PSH aside), window, urgent pointer and options. */
static bool same_tcp(const struct wgx_gro *g, const uint8_t *pkt)
{
	const uint8_t *t = pkt + g->l4_off, *h = g->head + g->l4_off;

	return !memcmp(t, h, 4) && get32(t + 4) == g->next_seq &&
	       !memcmp(t + 8, h + 8, 5) && (t[13] & ~TCP_PSH) == h[13] &&
	       !memcmp(t + 14, h + 14, 2) &&
	       !memcmp(t + 18, h + 18, (size_t)(g->hdr_len - g->l4_off) - 18);
}

bool wgx_gro_append(struct wgx_gro *g, const uint8_t *pkt, size_t len,
		    unsigned int max_count)
{
	bool ipv6;
	uint16_t l4, hdr;
	size_t payload;

	if (!g->head || g->closed || g->count >= max_count)
		return false;
	if (!gro_shape(pkt, len, &ipv6, &l4, &hdr) || ipv6 != g->ipv6 ||
	    hdr != g->hdr_len)
		return false;
	payload = len - hdr;
	if (payload > g->mss || g->total + payload > WGX_GSO_MAX_LEN ||
	    !same_ip(g, pkt) || !same_tcp(g, pkt) ||
	    !tcp_csum_ok(pkt, len, l4, ipv6))
		return false;
	g->total += payload;
	g->next_seq += (uint32_t)payload;
	g->next_id++;
	g->count++;
	if (pkt[l4 + 13] & TCP_PSH)
		g->push = true;
	/* A short segment or PSH ends what GRO may add (tcp_gro_receive). */
	g->closed = g->push || payload < g->mss;
	return true;
}

void wgx_gro_finish(struct wgx_gro *g, struct wgx_vnet_hdr *vh)
{
	uint8_t *h = g->head, *t;
	uint32_t sum;

	memset(vh, 0, sizeof(*vh));
	if (g->count < 2)
		return;
	t = h + g->l4_off;
	if (g->ipv6) {
		put16(h + 4, (uint16_t)(g->total - IP6_HDR));
	} else {
		put16(h + 2, (uint16_t)g->total);
		put_csum(h + 10, 0);
		put_csum(h + 10, wgx_ippkt_csum(h, IP4_HDR));
	}
	if (g->push)
		t[13] |= TCP_PSH;
	/* NEEDS_CSUM: the field holds the folded pseudo-header sum. */
	sum = pseudo_sum(h, g->ipv6, PROTO_TCP, g->total - g->l4_off);
	put_csum(t + TCP_CSUM_OFF, (uint16_t)~wgx_ippkt_csum_fold(sum));
	vh->flags = WGX_VNET_F_NEEDS_CSUM;
	vh->gso_type = g->ipv6 ? WGX_VNET_GSO_TCPV6 : WGX_VNET_GSO_TCPV4;
	vh->hdr_len = htole16(g->hdr_len);
	vh->gso_size = htole16(g->mss);
	vh->csum_start = htole16(g->l4_off);
	vh->csum_offset = htole16(TCP_CSUM_OFF);
}
