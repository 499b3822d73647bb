// SPDX-License-Identifier: MIT
/*
 * Super-packet segmentation and TCP coalescing. Every checksum is checked
 * against a separate, deliberately naive RFC 1071 sum over a pseudo-header
 * built byte by byte here, not with the module's own helpers.
 */
#include "test.h"

#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "datapath/gso.h"

enum {
	TCP = 6,
	UDP = 17,
	FIN = 0x01,
	SYN = 0x02,
	PSH = 0x08,
	ACK = 0x10
};
enum {
	CWR = 0x80,
	BIG = 70000
};

/* ---- an independent checksum ---------------------------------------- */

/* Naive one's complement sum of big-endian 16-bit words. */
static uint32_t ref_sum(const uint8_t *p, size_t len, uint32_t sum)
{
	for (size_t i = 0; i < len; i += 2) {
		uint32_t w = (uint32_t)p[i] << 8;

		if (i + 1 < len)
			w |= p[i + 1];
		sum += w;
		while (sum > 0xffff)
			sum = (sum & 0xffff) + (sum >> 16);
	}
	return sum;
}

static bool ip4_hdr_ok(const uint8_t *p)
{
	return ref_sum(p, (size_t)(p[0] & 15) * 4, 0) == 0xffff;
}

/* The transport checksum of a packet verifies (l4 = transport offset). */
static bool l4_ok(const uint8_t *p, size_t len, size_t l4, uint8_t proto)
{
	uint8_t ph[40];
	size_t alen = p[0] >> 4 == 6 ? 16 : 4, n = 0;
	size_t l4len = len - l4;

	memcpy(ph, p + (alen == 16 ? 8 : 12), 2 * alen);
	n = 2 * alen;
	ph[n++] = 0;
	ph[n++] = proto;
	ph[n++] = (uint8_t)(l4len >> 8);
	ph[n++] = (uint8_t)l4len;
	return ref_sum(p + l4, l4len, ref_sum(ph, n, 0)) == 0xffff;
}

/* The pseudo-header sum a kernel leaves in a CHECKSUM_PARTIAL field. */
static uint16_t ref_seed(const uint8_t *p, size_t len, size_t l4, uint8_t proto)
{
	uint8_t ph[40];
	size_t alen = p[0] >> 4 == 6 ? 16 : 4, n;

	memcpy(ph, p + (alen == 16 ? 8 : 12), 2 * alen);
	n = 2 * alen;
	ph[n++] = 0;
	ph[n++] = proto;
	ph[n++] = (uint8_t)((len - l4) >> 8);
	ph[n++] = (uint8_t)(len - l4);
	return (uint16_t)ref_sum(ph, n, 0);
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)rd16(p) << 16 | rd16(p + 2);
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
	wr16(p, (uint16_t)(v >> 16));
	wr16(p + 2, (uint16_t)v);
}

/* ---- building super-packets ------------------------------------------ */

struct spec {
	bool v6;
	uint8_t proto;
	size_t ip_opts;	 /* IPv4 option bytes (multiple of 4) */
	size_t ext;	 /* IPv6 hop-by-hop header bytes (multiple of 8) */
	size_t tcp_opts; /* TCP option bytes (multiple of 4) */
	size_t payload;
	uint8_t flags;
	uint16_t mss;
	bool df;
};

/* Build the packet into p; returns its length, fills vh as a kernel would
 * (partial checksum seeded with the pseudo-header sum). */
static size_t build(const struct spec *s, uint8_t *p, struct wgx_vnet_hdr *vh)
{
	size_t ip = s->v6 ? 40 + s->ext : 20 + s->ip_opts, l4hdr, len;

	l4hdr = s->proto == TCP ? 20 + s->tcp_opts : 8;
	len = ip + l4hdr + s->payload;
	memset(p, 0, len);
	if (s->v6) {
		p[0] = 0x60;
		p[1] = 0x0a; /* traffic class and flow label bits */
		wr16(p + 4, (uint16_t)(len - 40));
		p[6] = s->ext ? 0 : s->proto;
		p[7] = 64;
		p[8] = 0xfd;
		p[23] = 1;
		p[24] = 0xfd;
		p[39] = 2;
		if (s->ext) {
			p[40] = s->proto;
			p[41] = (uint8_t)(s->ext / 8 - 1);
			p[42] = 1; /* PadN filling the rest */
			p[43] = (uint8_t)(s->ext - 4);
		}
	} else {
		p[0] = (uint8_t)(0x40 | ip / 4);
		p[1] = 0x02;
		wr16(p + 2, (uint16_t)len);
		wr16(p + 4, 0xfffe); /* IDs wrap */
		wr16(p + 6, s->df ? 0x4000 : 0);
		p[8] = 64;
		p[9] = s->proto;
		p[12] = 10;
		p[15] = 1;
		p[16] = 10;
		p[19] = 2;
		for (size_t i = 20; i < ip; i++)
			p[i] = 1; /* NOP options */
		wr16(p + 10, (uint16_t)~ref_sum(p, ip, 0));
	}
	wr16(p + ip, 40000);
	wr16(p + ip + 2, 5201);
	if (s->proto == TCP) {
		wr32(p + ip + 4, 0xfffff000); /* sequence numbers wrap */
		wr32(p + ip + 8, 0x01020304);
		p[ip + 12] = (uint8_t)((l4hdr / 4) << 4);
		p[ip + 13] = s->flags;
		wr16(p + ip + 14, 501);
		for (size_t i = 20; i < l4hdr; i++)
			p[ip + i] = (uint8_t)(i == 20 ? 8 : i == 21 ? 10 : i);
	} else {
		wr16(p + ip + 4, (uint16_t)(len - ip));
	}
	for (size_t i = 0; i < s->payload; i++)
		p[ip + l4hdr + i] = (uint8_t)(i * 13 + 7);
	wr16(p + ip + (s->proto == TCP ? 16 : 6),
	     ref_seed(p, len, ip, s->proto));
	memset(vh, 0, sizeof(*vh));
	vh->flags = WGX_VNET_F_NEEDS_CSUM;
	vh->gso_type = s->proto == UDP ? WGX_VNET_GSO_UDP_L4
		       : s->v6	       ? WGX_VNET_GSO_TCPV6
				       : WGX_VNET_GSO_TCPV4;
	vh->gso_size = htole16(s->mss);
	vh->csum_start = htole16((uint16_t)ip);
	vh->csum_offset = htole16(s->proto == TCP ? 16 : 6);
	vh->hdr_len = htole16((uint16_t)(ip + l4hdr));
	return len;
}

/* Copy into an exactly sized heap buffer so ASan sees any overread. */
static uint8_t *exact(const uint8_t *src, size_t len)
{
	uint8_t *p = malloc(len ? len : 1);

	if (p && len)
		memcpy(p, src, len);
	return p;
}

/*
 * Segment s and check every segment against the original: lengths, IP
 * fields and checksums, sequence numbers, flags, transport checksums and
 * the payload, which must concatenate back to the original's.
 */
static void check_segments(const struct spec *s, unsigned int want)
{
	static uint8_t buf[BIG], seg[BIG];
	struct wgx_vnet_hdr vh;
	struct wgx_gso g;
	size_t len = build(s, buf, &vh), ip, hdr, done = 0;
	uint8_t *pkt = exact(buf, len);
	int n = wgx_gso_prepare(&g, &vh, pkt, len);

	ip = s->v6 ? 40 + s->ext : 20 + s->ip_opts;
	hdr = ip + (s->proto == TCP ? 20 + s->tcp_opts : 8);
	CHECK(n == (int)want);
	for (int i = 0; i < n; i++) {
		size_t sl = wgx_gso_seg_len(&g, (unsigned int)i);
		size_t plen = sl - hdr;
		uint8_t *o = malloc(sl);
		bool last = i == n - 1;

		CHECK(sl <= (size_t)hdr + s->mss);
		CHECK(last || plen == s->mss);
		wgx_gso_write(&g, (unsigned int)i, o);
		memcpy(seg, o, sl);
		if (s->v6) {
			CHECK(rd16(seg + 4) == sl - 40);
			CHECK_MEM(seg, pkt, 4);
			CHECK_MEM(seg + 6, pkt + 6, ip - 6);
		} else {
			CHECK(rd16(seg + 2) == sl);
			CHECK(rd16(seg + 4) == (uint16_t)(0xfffe + i));
			CHECK(ip4_hdr_ok(seg));
			CHECK_MEM(seg + 12, pkt + 12, ip - 12);
		}
		if (s->proto == TCP) {
			uint8_t f = s->flags;

			CHECK(rd32(seg + ip + 4) ==
			      (uint32_t)(0xfffff000u + (uint32_t)i * s->mss));
			if (!last)
				f &= (uint8_t) ~(FIN | PSH);
			if (i)
				f &= (uint8_t)~CWR;
			CHECK(seg[ip + 13] == f);
			CHECK_MEM(seg + ip + 20, pkt + ip + 20, s->tcp_opts);
		} else {
			CHECK(rd16(seg + ip + 4) == sl - ip);
			CHECK(rd16(seg + ip + 6) != 0);
		}
		CHECK(l4_ok(seg, sl, ip, s->proto));
		CHECK_MEM(seg + hdr, pkt + hdr + done, plen);
		done += plen;
		free(o);
	}
	CHECK(done == s->payload);
	free(pkt);
}

static void test_tcp4(void)
{
	struct spec s = { .proto = TCP,
			  .payload = 4000,
			  .flags = ACK,
			  .mss = 1000,
			  .df = true };

	check_segments(&s, 4);
	s.payload = 65535 - 40;
	s.mss = 1380;
	check_segments(&s, 48);
}

static void test_exact_mss(void)
{
	struct spec s = {
		.proto = TCP, .payload = 1380, .flags = ACK | PSH, .mss = 1380
	};

	check_segments(&s, 1);
	s.proto = UDP;
	check_segments(&s, 1);
}

static void test_one_over(void)
{
	struct spec s = {
		.proto = TCP, .payload = 1381, .flags = ACK | PSH, .mss = 1380
	};

	check_segments(&s, 2);
	s.v6 = true;
	check_segments(&s, 2);
}

static void test_ip4_options(void)
{
	struct spec s = { .proto = TCP,
			  .ip_opts = 8,
			  .payload = 3000,
			  .flags = ACK,
			  .mss = 1000 };

	check_segments(&s, 3);
	s.ip_opts = 40;
	check_segments(&s, 3);
}

static void test_tcp_options(void)
{
	struct spec s = { .proto = TCP,
			  .tcp_opts = 12,
			  .payload = 2897,
			  .flags = ACK,
			  .mss = 1448 };

	check_segments(&s, 3);
	s.tcp_opts = 40;
	check_segments(&s, 3);
}

static void test_tcp6(void)
{
	struct spec s = { .v6 = true,
			  .proto = TCP,
			  .tcp_opts = 12,
			  .payload = 10000,
			  .flags = ACK,
			  .mss = 1368 };

	check_segments(&s, 8);
}

static void test_ip6_ext(void)
{
	struct spec s = { .v6 = true,
			  .ext = 8,
			  .proto = TCP,
			  .payload = 2500,
			  .flags = ACK,
			  .mss = 1000 };

	check_segments(&s, 3);
	s.ext = 16;
	s.proto = UDP;
	check_segments(&s, 3);
}

static void test_flags(void)
{
	struct spec s = { .proto = TCP,
			  .payload = 3500,
			  .flags = ACK | PSH | FIN | CWR,
			  .mss = 1000 };

	/* check_segments() asserts FIN/PSH last, CWR first. */
	check_segments(&s, 4);
	s.v6 = true;
	check_segments(&s, 4);
}

static void test_udp(void)
{
	struct spec s = { .proto = UDP, .payload = 5000, .mss = 1200 };

	check_segments(&s, 5);
	s.v6 = true;
	check_segments(&s, 5);
	s.payload = 0;
	check_segments(&s, 1);
}

/* A TCP segment without GSO but with a partial checksum. */
static void test_csum_only(void)
{
	static uint8_t buf[BIG];
	struct spec s = { .proto = TCP, .payload = 333, .flags = ACK };
	struct wgx_vnet_hdr vh;
	struct wgx_gso g;
	size_t len = build(&s, buf, &vh);
	uint8_t out[1000];

	vh.gso_type = WGX_VNET_GSO_NONE;
	vh.gso_size = 0;
	CHECK(!l4_ok(buf, len, 20, TCP));
	CHECK(wgx_gso_prepare(&g, &vh, buf, len) == 1);
	CHECK(wgx_gso_seg_len(&g, 0) == len);
	wgx_gso_write(&g, 0, out);
	CHECK(l4_ok(out, len, 20, TCP));
	CHECK_MEM(out, buf, 36);
	CHECK_MEM(out + 40, buf + 40, len - 40);

	s.proto = UDP;
	s.v6 = true;
	len = build(&s, buf, &vh);
	vh.gso_type = WGX_VNET_GSO_NONE;
	CHECK(wgx_gso_prepare(&g, &vh, buf, len) == 1);
	wgx_gso_write(&g, 0, out);
	CHECK(l4_ok(out, len, 40, UDP));
}

/* A UDP checksum that computes to zero goes out as 0xffff. */
static void test_csum_udp_zero(void)
{
	static uint8_t buf[BIG];
	struct spec s = { .proto = UDP, .payload = 2 };
	struct wgx_vnet_hdr vh;
	struct wgx_gso g;
	size_t len = build(&s, buf, &vh);
	uint8_t out[64];
	uint32_t sum;

	/* Pick the payload so the whole sum is 0xffff: checksum 0. */
	wr16(buf + 28, 0);
	sum = ref_sum(buf + 20, len - 20, 0);
	wr16(buf + 28, (uint16_t)~sum);
	vh.gso_type = WGX_VNET_GSO_NONE;
	CHECK(wgx_gso_prepare(&g, &vh, buf, len) == 1);
	wgx_gso_write(&g, 0, out);
	CHECK(rd16(out + 26) == 0xffff);
	CHECK(l4_ok(out, len, 20, UDP));
}

static void test_plain_copy(void)
{
	const uint8_t junk[7] = { 1, 2, 3, 4, 5, 6, 7 };
	struct wgx_vnet_hdr vh = { 0 };
	struct wgx_gso g;
	uint8_t out[7];

	/* Not looked at: the caller's own parser judges it. */
	CHECK(wgx_gso_prepare(&g, &vh, junk, sizeof(junk)) == 1);
	CHECK(wgx_gso_seg_len(&g, 0) == sizeof(junk));
	wgx_gso_write(&g, 0, out);
	CHECK_MEM(out, junk, sizeof(junk));
}

/* One mutation of a good TSO packet that must be refused. */
static int mutated(int which)
{
	static uint8_t buf[BIG];
	struct spec s = {
		.proto = TCP, .payload = 3000, .flags = ACK, .mss = 1000
	};
	struct wgx_vnet_hdr vh;
	struct wgx_gso g;
	size_t len = build(&s, buf, &vh);
	uint8_t *pkt;
	int r;

	switch (which) {
	case 0:
		vh.gso_type = 2;
		break; /* unknown type */
	case 1:
		vh.gso_type = WGX_VNET_GSO_TCPV6;
		break; /* wrong family */
	case 2:
		vh.flags = 0;
		break; /* GSO, no csum */
	case 3:
		vh.gso_size = 0;
		break;
	case 4:
		vh.csum_start = htole16(24);
		break;
	case 5:
		vh.csum_offset = htole16(6);
		break;
	case 6:
		vh.csum_start = htole16(60000);
		break;
	case 7:
		buf[32] = 0x40;
		break; /* doff 4 */
	case 8:
		buf[32] = 0xf0;
		len = 70; /* doff past end */
		wr16(buf + 2, 70);
		break;
	case 9:
		len -= 1;
		break; /* length mismatch */
	case 10:
		buf[0] = 0x44;
		break; /* IHL 4 */
	case 11:
		buf[6] = 0x20;
		break; /* MF: a fragment */
	case 12:
		buf[9] = UDP;
		break; /* not TCP */
	case 13:
		vh.gso_type = WGX_VNET_GSO_UDP_L4;
		break; /* not UDP */
	case 14:
		buf[0] = 0x75;
		break; /* version 7 */
	case 15:
		len = 30;
		wr16(buf + 2, 30);
		break; /* truncated TCP */
	case 16:
		vh.gso_type = WGX_VNET_GSO_UDP_L4 | WGX_VNET_GSO_ECN;
		break;
	case 17:
		vh.gso_type = WGX_VNET_GSO_ECN;
		break; /* ECN, no GSO */
	case 18:
		vh.gso_type = 0; /* csum past end */
		vh.csum_offset = htole16((uint16_t)(len - 21));
		break;
	case 19:
		vh.gso_type = 0; /* csum in IP header */
		vh.csum_start = htole16(4);
		break;
	case -1:
		break; /* untouched */
	default:
		return 1;
	}
	pkt = exact(buf, len);
	r = wgx_gso_prepare(&g, &vh, pkt, len);
	free(pkt);
	return r;
}

static void test_malformed(void)
{
	for (int i = 0; i < 20; i++) {
		CHECK(mutated(i) == -EINVAL);
		if (mutated(i) != -EINVAL)
			printf("  mutation %d accepted\n", i);
	}
	CHECK(mutated(-1) == 3);
}

/* A v6 GSO packet with extension headers running past the packet. */
static void test_ip6_ext_truncated(void)
{
	static uint8_t buf[BIG];
	struct spec s = { .v6 = true,
			  .ext = 8,
			  .proto = TCP,
			  .payload = 10,
			  .flags = ACK,
			  .mss = 4 };
	struct wgx_vnet_hdr vh;
	struct wgx_gso g;
	size_t len = build(&s, buf, &vh);

	CHECK(wgx_gso_prepare(&g, &vh, buf, len) == 3);
	buf[41] = 200; /* hop-by-hop length way past the end */
	CHECK(wgx_gso_prepare(&g, &vh, buf, len) == -EINVAL);
	buf[41] = 0;
	buf[40] = 0; /* a chain of hop-by-hop headers, never the transport */
	CHECK(wgx_gso_prepare(&g, &vh, buf, len) == -EINVAL);
}

/* Random headers over random and half-valid packets: no crash, no
 * overread (ASan), and segments that add up. */
static void test_random(void)
{
	static uint8_t buf[BIG];
	unsigned int seed = 12345;

	for (int round = 0; round < 20000; round++) {
		struct spec s = { .v6 = rand_r(&seed) & 1,
				  .proto = (rand_r(&seed) & 1) ? TCP : UDP,
				  .payload = (size_t)rand_r(&seed) % 3000,
				  .flags = (uint8_t)rand_r(&seed),
				  .mss = (uint16_t)(rand_r(&seed) % 1500) };
		struct wgx_vnet_hdr vh;
		struct wgx_gso g;
		size_t len = build(&s, buf, &vh), total = 0;
		uint8_t *pkt;
		int n;

		for (int k = rand_r(&seed) % 4; k > 0; k--)
			buf[rand_r(&seed) % len] = (uint8_t)rand_r(&seed);
		if (rand_r(&seed) % 3 == 0)
			for (size_t k = 0; k < sizeof(vh); k++)
				((uint8_t *)&vh)[k] = (uint8_t)rand_r(&seed);
		if (rand_r(&seed) % 4 == 0)
			len = (size_t)rand_r(&seed) % (len + 1);
		pkt = exact(buf, len);
		n = wgx_gso_prepare(&g, &vh, pkt, len);
		CHECK(n == -EINVAL || n >= 1);
		for (int i = 0; i < n && n < 2000; i++) {
			size_t sl = wgx_gso_seg_len(&g, (unsigned int)i);
			uint8_t *o = malloc(sl ? sl : 1);

			wgx_gso_write(&g, (unsigned int)i, o);
			total += sl - (g.kind ? g.hdr_len : 0);
			free(o);
		}
		if (n > 0 && n < 2000)
			CHECK(total == len - (g.kind ? g.hdr_len : 0));
		free(pkt);
	}
}

/* ---- coalescing -------------------------------------------------------- */

struct segs {
	uint8_t data[64][1600];
	size_t len[64];
	unsigned int n;
};

/* Cut spec s into segments with the module, each checksum verified. */
static void cut(const struct spec *s, struct segs *out)
{
	static uint8_t buf[BIG];
	struct wgx_vnet_hdr vh;
	struct wgx_gso g;
	size_t len = build(s, buf, &vh);
	int n = wgx_gso_prepare(&g, &vh, buf, len);

	out->n = 0;
	for (int i = 0; i < n && i < 64; i++) {
		out->len[i] = wgx_gso_seg_len(&g, (unsigned int)i);
		wgx_gso_write(&g, (unsigned int)i, out->data[i]);
		out->n++;
	}
}

/* Merge segs[from..] greedily; returns how many joined. */
static unsigned int merge(struct segs *sg, unsigned int from, struct wgx_gro *g,
			  uint8_t *merged, size_t *mlen,
			  struct wgx_vnet_hdr *vh)
{
	size_t off;
	unsigned int i;

	if (!wgx_gro_start(g, sg->data[from], sg->len[from]))
		return 0;
	for (i = from + 1; i < sg->n; i++)
		if (!wgx_gro_append(g, sg->data[i], sg->len[i], 64))
			break;
	CHECK(g->hdr_len <= WGX_GRO_HDR_MAX);
	memcpy(merged, sg->data[from], sg->len[from]);
	off = sg->len[from];
	for (unsigned int k = from + 1; k < i; k++) {
		memcpy(merged + off, sg->data[k] + g->hdr_len,
		       sg->len[k] - g->hdr_len);
		off += sg->len[k] - g->hdr_len;
	}
	wgx_gro_finish(g, vh);
	/* finish rewrote the head in place: take its header again. */
	memcpy(merged, sg->data[from], g->hdr_len);
	*mlen = off;
	return i - from;
}

/* Merged then cut again, a run gives back exactly its segments. */
static void roundtrip(const struct spec *s)
{
	static struct segs sg, orig, again;
	static uint8_t merged[BIG];
	struct wgx_vnet_hdr vh;
	struct wgx_gso g2;
	struct wgx_gro g;
	size_t mlen;
	unsigned int n;

	cut(s, &sg);
	orig = sg;
	n = merge(&sg, 0, &g, merged, &mlen, &vh);
	CHECK(n == orig.n);
	CHECK(vh.flags == WGX_VNET_F_NEEDS_CSUM);
	CHECK(le16toh(vh.gso_size) == s->mss);
	CHECK(wgx_gso_prepare(&g2, &vh, merged, mlen) == (int)orig.n);
	for (unsigned int i = 0; i < orig.n && i < 64; i++) {
		again.len[i] = wgx_gso_seg_len(&g2, i);
		wgx_gso_write(&g2, i, again.data[i]);
		CHECK(again.len[i] == orig.len[i]);
		CHECK_MEM(again.data[i], orig.data[i], orig.len[i]);
	}
}

static void test_gro_roundtrip(void)
{
	struct spec s = { .proto = TCP,
			  .tcp_opts = 12,
			  .payload = 20000,
			  .flags = ACK | PSH,
			  .mss = 1368,
			  .df = true };

	roundtrip(&s);
	s.v6 = true;
	roundtrip(&s);
	s.payload = 65535 - 72;
	s.mss = 1348;
	roundtrip(&s);
}

static void test_gro_single(void)
{
	static struct segs sg;
	struct spec s = {
		.proto = TCP, .payload = 100, .flags = ACK, .mss = 1000
	};
	struct wgx_vnet_hdr vh;
	struct wgx_gro g;
	uint8_t copy[200];

	cut(&s, &sg);
	memcpy(copy, sg.data[0], sg.len[0]);
	CHECK(wgx_gro_start(&g, sg.data[0], sg.len[0]));
	wgx_gro_finish(&g, &vh);
	CHECK(vh.flags == 0 && vh.gso_type == 0 && vh.gso_size == 0);
	CHECK_MEM(sg.data[0], copy, sg.len[0]);
}

/* How many segments from `from` on merge (on a copy: finish rewrites). */
static unsigned int joined(const struct segs *sg, unsigned int from)
{
	static uint8_t merged[BIG];
	static struct segs tmp;
	struct wgx_vnet_hdr vh;
	struct wgx_gro g;
	size_t mlen;

	tmp = *sg;
	return merge(&tmp, from, &g, merged, &mlen, &vh);
}

static void recsum(struct segs *sg, unsigned int i, bool v6)
{
	uint8_t *p = sg->data[i];
	size_t l4 = v6 ? 40 : 20;

	if (!v6) {
		wr16(p + 10, 0);
		wr16(p + 10, (uint16_t)~ref_sum(p, 20, 0));
	}
	wr16(p + l4 + 16, 0);
	wr16(p + l4 + 16, (uint16_t)~ref_sum(p + l4, sg->len[i] - l4,
					     ref_seed(p, sg->len[i], l4, TCP)));
	CHECK(l4_ok(p, sg->len[i], l4, TCP));
}

static void test_gro_refused(void)
{
	static struct segs sg;
	struct spec s = { .proto = TCP,
			  .payload = 5000,
			  .flags = ACK,
			  .mss = 1000,
			  .df = true };

	cut(&s, &sg);
	CHECK(joined(&sg, 0) == 5);
	/* A bad checksum in the third: it and what follows stay apart. */
	sg.data[2][100] ^= 1;
	CHECK(joined(&sg, 0) == 2);
	CHECK(joined(&sg, 2) == 0);
	CHECK(joined(&sg, 3) == 2);
	sg.data[2][100] ^= 1;
	/* A different ACK number. */
	sg.data[3][28] ^= 1;
	recsum(&sg, 3, false);
	CHECK(joined(&sg, 0) == 3);
	sg.data[3][28] ^= 1;
	recsum(&sg, 3, false);
	/* A different window. */
	sg.data[1][34] ^= 1;
	recsum(&sg, 1, false);
	CHECK(joined(&sg, 0) == 1);
	sg.data[1][34] ^= 1;
	recsum(&sg, 1, false);
	/* A gap in the sequence. */
	wr32(sg.data[2] + 24, rd32(sg.data[2] + 24) + 1);
	recsum(&sg, 2, false);
	CHECK(joined(&sg, 0) == 2);
	wr32(sg.data[2] + 24, rd32(sg.data[2] + 24) - 1);
	recsum(&sg, 2, false);
	/* Another destination address. */
	sg.data[4][19] = 3;
	recsum(&sg, 4, false);
	CHECK(joined(&sg, 0) == 4);
	sg.data[4][19] = 2;
	recsum(&sg, 4, false);
	/* A different TTL. */
	sg.data[1][8] = 63;
	recsum(&sg, 1, false);
	CHECK(joined(&sg, 0) == 1);
	sg.data[1][8] = 64;
	recsum(&sg, 1, false);
	CHECK(joined(&sg, 0) == 5);
}

static void test_gro_flags(void)
{
	static struct segs sg;
	struct spec s = { .proto = TCP,
			  .payload = 4000,
			  .flags = ACK,
			  .mss = 1000,
			  .df = true };

	cut(&s, &sg);
	/* PSH in the middle closes the run after it. */
	sg.data[1][33] |= PSH;
	recsum(&sg, 1, false);
	CHECK(joined(&sg, 0) == 2);
	sg.data[1][33] = ACK;
	recsum(&sg, 1, false);
	/* FIN, SYN or no ACK: never merged. */
	sg.data[2][33] = ACK | FIN;
	recsum(&sg, 2, false);
	CHECK(joined(&sg, 0) == 2);
	CHECK(joined(&sg, 2) == 0);
	sg.data[2][33] = SYN | ACK;
	recsum(&sg, 2, false);
	CHECK(joined(&sg, 2) == 0);
	sg.data[2][33] = PSH;
	recsum(&sg, 2, false);
	CHECK(joined(&sg, 2) == 0);
}

static void test_gro_sizes(void)
{
	static struct segs sg;
	struct spec s = { .proto = TCP,
			  .payload = 3500,
			  .flags = ACK,
			  .mss = 1000,
			  .df = true };
	struct wgx_gro g;

	cut(&s, &sg);
	/* A short segment ends the run; one longer than the first never
	 * joins. */
	CHECK(joined(&sg, 0) == 4);
	CHECK(joined(&sg, 3) == 1);
	CHECK(wgx_gro_start(&g, sg.data[3], sg.len[3]));
	CHECK(!wgx_gro_append(&g, sg.data[0], sg.len[0], 64));
	/* The count limit holds. */
	CHECK(wgx_gro_start(&g, sg.data[0], sg.len[0]));
	CHECK(wgx_gro_append(&g, sg.data[1], sg.len[1], 2));
	CHECK(!wgx_gro_append(&g, sg.data[2], sg.len[2], 2));
	/* Without DF the IDs must run on. */
	s.df = false;
	cut(&s, &sg);
	CHECK(joined(&sg, 0) == 4);
	wr16(sg.data[2] + 4, 7);
	recsum(&sg, 2, false);
	CHECK(joined(&sg, 0) == 2);
	/* IPv4 options: not merged. */
	s.ip_opts = 4;
	cut(&s, &sg);
	CHECK(joined(&sg, 0) == 0);
}

/* Three 20000-byte segments make 60040 bytes; a fourth would pass 64 KiB. */
static void test_gro_max_len(void)
{
	static uint8_t buf[BIG];
	struct spec s = { .proto = TCP,
			  .payload = 60000,
			  .flags = ACK,
			  .mss = 20000,
			  .df = true };
	struct wgx_vnet_hdr vh;
	struct wgx_gso gs;
	struct wgx_gro g;
	size_t len = build(&s, buf, &vh), sl = 20040;
	uint8_t *seg[4];

	CHECK(wgx_gso_prepare(&gs, &vh, buf, len) == 3);
	for (unsigned int i = 0; i < 4; i++) {
		seg[i] = malloc(sl);
		wgx_gso_write(&gs, i < 3 ? i : 2, seg[i]);
	}
	/* The fourth continues the third's sequence: only the length bars
	 * it. */
	wr32(seg[3] + 24, rd32(seg[3] + 24) + 20000);
	wr16(seg[3] + 36, 0);
	wr16(seg[3] + 36, (uint16_t)~ref_sum(seg[3] + 20, sl - 20,
					     ref_seed(seg[3], sl, 20, TCP)));
	CHECK(l4_ok(seg[3], sl, 20, TCP));
	CHECK(wgx_gro_start(&g, seg[0], sl));
	CHECK(wgx_gro_append(&g, seg[1], sl, 64));
	CHECK(wgx_gro_append(&g, seg[2], sl, 64));
	CHECK(g.total == 60040);
	CHECK(!wgx_gro_append(&g, seg[3], sl, 64));
	/* Without the bar it would have joined. */
	CHECK(wgx_gro_start(&g, seg[1], sl));
	CHECK(wgx_gro_append(&g, seg[2], sl, 64));
	CHECK(wgx_gro_append(&g, seg[3], sl, 64));
	for (unsigned int i = 0; i < 4; i++)
		free(seg[i]);
}

static const struct wgx_test gso_tests[] = {
	{ "gso: TCPv4 super-packet cut at the MSS", test_tcp4 },
	{ "gso: payload of exactly the MSS is one segment", test_exact_mss },
	{ "gso: one byte over the MSS", test_one_over },
	{ "gso: IPv4 options copied to every segment", test_ip4_options },
	{ "gso: TCP options copied to every segment", test_tcp_options },
	{ "gso: TCPv6 super-packet", test_tcp6 },
	{ "gso: IPv6 extension headers", test_ip6_ext },
	{ "gso: FIN/PSH last segment only, CWR first only", test_flags },
	{ "gso: UDP (USO) IPv4 and IPv6", test_udp },
	{ "gso: NEEDS_CSUM without GSO completed", test_csum_only },
	{ "gso: UDP checksum of zero sent as 0xffff", test_csum_udp_zero },
	{ "gso: no offload: copied as is", test_plain_copy },
	{ "gso: malformed headers rejected", test_malformed },
	{ "gso: truncated IPv6 extension headers rejected",
	  test_ip6_ext_truncated },
	{ "gso: random headers and packets", test_random },
	{ "gso: merge then cut gives the segments back", test_gro_roundtrip },
	{ "gso: merge of one segment leaves it alone", test_gro_single },
	{ "gso: merge refuses other flows, gaps, bad checksums",
	  test_gro_refused },
	{ "gso: merge and TCP flags", test_gro_flags },
	{ "gso: merge sizes, IDs, options and limits", test_gro_sizes },
	{ "gso: merge never passes 64 KiB", test_gro_max_len },
};
WGX_SUITE(gso_tests)
