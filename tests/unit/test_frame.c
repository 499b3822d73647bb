// SPDX-License-Identifier: MIT
/*
 * Ethernet frames as an AF_XDP socket sees them: the UDP payload and
 * source found through VLAN tags, IPv4 options and IPv6 extension
 * headers; every malformed or truncated frame refused; runs of data
 * messages cut where the next counter starts.
 */
#include "test.h"

#include <arpa/inet.h>
#include <endian.h>
#include <stdlib.h>

#include "datapath/frame.h"
#include "wgx_wire.h"

enum {
	FRAME_MAX = 2048
};

struct frame_spec {
	int vlans; /* 0, 1 or 2 tags */
	bool v6;
	int ip4_opts;  /* 32-bit words of IPv4 options */
	int ext;       /* IPv6 extension headers of 8 bytes */
	uint8_t proto; /* transport protocol (17: UDP) */
	uint32_t payload;
	uint32_t pad; /* Ethernet padding after the datagram */
};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* A frame from 192.0.2.7:51820 or [2001:db8::7]:51820, payload bytes i. */
static uint32_t build(const struct frame_spec *s, uint8_t *f)
{
	uint32_t off = 12, l4, ip;
	uint8_t *p;

	memset(f, 0, FRAME_MAX);
	for (int i = 0; i < s->vlans; i++, off += 4) {
		put16(f + off, i ? 0x8100 : 0x88a8);
		put16(f + off + 2, 42);
	}
	put16(f + off, s->v6 ? 0x86dd : 0x0800);
	ip = off + 2;
	if (s->v6) {
		f[ip] = 0x60;
		f[ip + 6] = s->ext ? 0 : s->proto;
		inet_pton(AF_INET6, "2001:db8::7", f + ip + 8);
		l4 = ip + 40;
		for (int i = 0; i < s->ext; i++, l4 += 8)
			f[l4] = i + 1 < s->ext ? 60 : s->proto;
	} else {
		f[ip] = (uint8_t)(0x40 | (5 + s->ip4_opts));
		f[ip + 9] = s->proto;
		inet_pton(AF_INET, "192.0.2.7", f + ip + 12);
		l4 = ip + 20 + 4 * (uint32_t)s->ip4_opts;
	}
	put16(f + l4, 51820);
	put16(f + l4 + 4, (uint16_t)(8 + s->payload));
	p = f + l4 + 8;
	for (uint32_t i = 0; i < s->payload; i++)
		p[i] = (uint8_t)i;
	return l4 + 8 + s->payload + s->pad;
}

static bool parse(uint8_t *f, uint32_t len, uint8_t **pl, uint32_t *plen,
		  union wgx_sockaddr *src)
{
	return wgx_frame_udp_payload(f, len, pl, plen, src);
}

static void check_ok(const struct frame_spec *s)
{
	uint8_t f[FRAME_MAX], *pl = NULL;
	union wgx_sockaddr src;
	uint32_t len = build(s, f), plen = 0;
	char addr[64] = "";

	CHECK(parse(f, len, &pl, &plen, &src));
	CHECK(plen == s->payload);
	CHECK(pl && pl + plen <= f + len);
	CHECK(pl && plen > 3 && pl[0] == 0 && pl[3] == 3);
	if (s->v6) {
		CHECK(src.sa.sa_family == AF_INET6);
		CHECK(ntohs(src.in6.sin6_port) == 51820);
		inet_ntop(AF_INET6, &src.in6.sin6_addr, addr, sizeof(addr));
		CHECK(!strcmp(addr, "2001:db8::7"));
	} else {
		CHECK(src.sa.sa_family == AF_INET);
		CHECK(ntohs(src.in4.sin_port) == 51820);
		inet_ntop(AF_INET, &src.in4.sin_addr, addr, sizeof(addr));
		CHECK(!strcmp(addr, "192.0.2.7"));
	}
}

static void test_plain(void)
{
	check_ok(&(struct frame_spec){ .proto = 17, .payload = 148 });
	check_ok(&(struct frame_spec){
		.v6 = true, .proto = 17, .payload = 1440 });
}

static void test_vlan(void)
{
	check_ok(
		&(struct frame_spec){ .vlans = 1, .proto = 17, .payload = 32 });
	check_ok(&(struct frame_spec){
		.vlans = 2, .v6 = true, .proto = 17, .payload = 32 });
}

static void test_headers(void)
{
	check_ok(&(struct frame_spec){
		.ip4_opts = 10, .proto = 17, .payload = 64 });
	check_ok(&(struct frame_spec){
		.v6 = true, .ext = 3, .proto = 17, .payload = 64 });
	/* Ethernet padding after a short datagram is not payload. */
	check_ok(&(struct frame_spec){ .proto = 17, .payload = 4, .pad = 20 });
}

/* Every cut of a good frame short of its datagram's end is refused. */
static void test_truncated(void)
{
	const struct frame_spec specs[] = {
		{ .vlans = 2, .ip4_opts = 2, .proto = 17, .payload = 40 },
		{ .vlans = 1,
		  .v6 = true,
		  .ext = 2,
		  .proto = 17,
		  .payload = 40 },
	};
	uint8_t f[FRAME_MAX], *pl;
	union wgx_sockaddr src;
	uint32_t plen;

	for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		uint32_t len = build(&specs[i], f);
		int accepted = 0;

		for (uint32_t cut = 0; cut < len; cut++)
			accepted += parse(f, cut, &pl, &plen, &src);
		CHECK(accepted == 0);
		CHECK(parse(f, len, &pl, &plen, &src));
	}
}

static void test_refused(void)
{
	uint8_t f[FRAME_MAX], *pl;
	union wgx_sockaddr src;
	uint32_t plen, len;
	struct frame_spec s = { .proto = 17, .payload = 40 };

	/* Not UDP. */
	len = build(&(struct frame_spec){ .proto = 6, .payload = 40 }, f);
	CHECK(!parse(f, len, &pl, &plen, &src));
	len = build(
		&(struct frame_spec){
			.v6 = true, .ext = 1, .proto = 58, .payload = 40 },
		f);
	CHECK(!parse(f, len, &pl, &plen, &src));
	/* ARP, and an IP version that does not match the EtherType. */
	len = build(&s, f);
	put16(f + 12, 0x0806);
	CHECK(!parse(f, len, &pl, &plen, &src));
	len = build(&s, f);
	f[14] = 0x65;
	CHECK(!parse(f, len, &pl, &plen, &src));
	/* IPv4 header length under 20 bytes. */
	len = build(&s, f);
	f[14] = 0x44;
	CHECK(!parse(f, len, &pl, &plen, &src));
	/* UDP length under its header, and past the frame's end. */
	len = build(&s, f);
	put16(f + 14 + 20 + 4, 7);
	CHECK(!parse(f, len, &pl, &plen, &src));
	put16(f + 14 + 20 + 4, (uint16_t)(8 + 41));
	CHECK(!parse(f, len, &pl, &plen, &src));
	/* Three VLAN tags: the third is not looked through. */
	len = build(
		&(struct frame_spec){ .vlans = 2, .proto = 17, .payload = 40 },
		f);
	memmove(f + 16, f + 12, len - 12);
	put16(f + 12, 0x8100);
	put16(f + 14, 7);
	CHECK(!parse(f, len + 4, &pl, &plen, &src));
}

/* Random bytes: never accepted with a payload outside the frame. */
static void test_random(void)
{
	uint8_t f[FRAME_MAX], *pl;
	union wgx_sockaddr src;
	uint32_t plen;

	srand(7);
	for (int i = 0; i < 200000; i++) {
		uint32_t len = (uint32_t)rand() % 160;

		for (uint32_t j = 0; j < len; j++)
			f[j] = (uint8_t)rand();
		/* Often a plausible start, to get past the first checks. */
		if (i & 1) {
			put16(f + 12, i & 2 ? 0x86dd : 0x0800);
			if (len > 14)
				f[14] = i & 2 ? 0x60 : 0x45;
		}
		if (parse(f, len, &pl, &plen, &src))
			CHECK(pl >= f && pl + plen <= f + len);
	}
}

/* ---- runs ------------------------------------------------------------ */

/* A data message of len bytes (>= 32) with this counter, filled with x. */
static void data_msg(uint8_t *m, uint32_t len, uint64_t counter, uint8_t x)
{
	uint64_t le = htole64(counter);

	memset(m, x, len);
	m[0] = WGX_MSG_DATA;
	m[1] = m[2] = m[3] = 0;
	memcpy(m + 4, "\x11\x22\x33\x44", 4);
	memcpy(m + 8, &le, 8);
}

static void test_run_split(void)
{
	const uint32_t lens[] = { 1452, 1452, 80 };
	uint8_t run[4096];
	uint32_t at = 0, n = 0, cuts[4] = { 0 };

	for (int i = 0; i < 3; i++) {
		data_msg(run + at, lens[i], 1000 + (uint64_t)i, 0xa5);
		at += lens[i];
	}
	for (uint32_t off = 0; off < at && n < 4; n++) {
		cuts[n] = wgx_frame_run_first(run + off, at - off);
		off += cuts[n];
	}
	CHECK(n == 3);
	CHECK(cuts[0] == 1452 && cuts[1] == 1452 && cuts[2] == 80);
}

static void test_run_single(void)
{
	uint8_t m[1500];

	/* One message, a message too short to be two, not data at all. */
	data_msg(m, 1500, 5, 0);
	CHECK(wgx_frame_run_first(m, 1500) == 1500);
	CHECK(wgx_frame_run_first(m, 40) == 40);
	m[0] = WGX_MSG_INITIATION;
	CHECK(wgx_frame_run_first(m, 1500) == 1500);
}

/* The header again, but not with the next counter, is not a cut. */
static void test_run_lookalike(void)
{
	uint8_t run[256];

	data_msg(run, 128, 9, 0);
	data_msg(run + 64, 32, 9, 0); /* same counter inside the payload */
	data_msg(run + 128, 128, 10, 0);
	CHECK(wgx_frame_run_first(run, 256) == 128);
	/* A next message of under 32 bytes at the end is no message. */
	CHECK(wgx_frame_run_first(run, 150) == 150);
}

/* ---- building --------------------------------------------------------- */

/*
 * RFC 1071 the slow way, to check the fast one against: big-endian
 * 16-bit words, an odd last byte padded with zero, carries folded once
 * at the end. Returns the folded sum, not its complement.
 */
static uint16_t naive_sum(const uint8_t *p, size_t len, uint32_t sum)
{
	for (size_t i = 0; i < len; i += 2)
		sum += (uint32_t)(p[i] << 8) | (i + 1 < len ? p[i + 1] : 0);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static void route_of(struct wgx_frame_route *r, bool v6)
{
	memset(r, 0, sizeof(*r));
	memcpy(r->dst_mac, "\x02\x00\x00\x00\x00\xbb", 6);
	memcpy(r->src_mac, "\x02\x00\x00\x00\x00\xaa", 6);
	if (v6) {
		r->src.in6.sin6_family = r->dst.in6.sin6_family = AF_INET6;
		inet_pton(AF_INET6, "2001:db8::1", &r->src.in6.sin6_addr);
		inet_pton(AF_INET6, "2001:db8:ffff::2", &r->dst.in6.sin6_addr);
		r->src.in6.sin6_port = htons(51820);
		r->dst.in6.sin6_port = htons(40000);
	} else {
		r->src.in4.sin_family = r->dst.in4.sin_family = AF_INET;
		inet_pton(AF_INET, "192.0.2.1", &r->src.in4.sin_addr);
		inet_pton(AF_INET, "198.51.100.254", &r->dst.in4.sin_addr);
		r->src.in4.sin_port = htons(51820);
		r->dst.in4.sin_port = htons(40000);
	}
}

/* The UDP checksum of frame f checks out by the naive sum. */
static bool udp_sum_ok(const uint8_t *f, bool v6, uint32_t ulen)
{
	const uint8_t *ip = f + 14, *u = ip + (v6 ? 40 : 20);
	uint32_t ps = 17 + ulen;
	uint16_t s;

	/* Pseudo-header: the addresses, then protocol and length words. */
	s = v6 ? naive_sum(ip + 8, 32, ps) : naive_sum(ip + 12, 8, ps);
	return naive_sum(u, ulen, s) == 0xffff;
}

/* Build a frame around plen bytes from seed; check every field. */
static void check_built(bool v6, uint32_t plen, uint8_t seed)
{
	static uint8_t f[70000];
	struct wgx_frame_route r;
	uint32_t hl, len, got_len = 0;
	union wgx_sockaddr src;
	uint8_t *pl = NULL;

	route_of(&r, v6);
	hl = wgx_frame_udp_hdr_len(&r);
	CHECK(hl == (v6 ? 62u : 42u));
	for (uint32_t i = 0; i < plen; i++)
		f[hl + i] = (uint8_t)(seed + i * 7);
	len = wgx_frame_udp_build(f, &r, plen, 0x1234);
	CHECK(len == hl + plen);
	CHECK_MEM(f, r.dst_mac, 6);
	CHECK_MEM(f + 6, r.src_mac, 6);
	if (!v6) {
		CHECK(naive_sum(f + 14, 20, 0) == 0xffff);
		CHECK(f[14] == 0x45 && f[14 + 8] == 64 && f[14 + 9] == 17);
		CHECK(f[14 + 6] == 0x40); /* DF */
		CHECK((f[16] << 8 | f[17]) == (int)(20 + 8 + plen));
	} else {
		CHECK(f[14] == 0x60 && f[14 + 6] == 17 && f[14 + 7] == 64);
		CHECK((f[18] << 8 | f[19]) == (int)(8 + plen));
	}
	CHECK(udp_sum_ok(f, v6, 8 + plen));
	CHECK(memcmp(f + hl - 2, "\0\0", 2)); /* never 0 */
	/* And the receive side reads it back. */
	CHECK(wgx_frame_udp_payload(f, len, &pl, &got_len, &src));
	CHECK(got_len == plen && pl == f + hl);
	CHECK(wgx_sockaddr_equal(&src, &r.src));
}

static void test_build_lengths(void)
{
	/* Even, odd, tiny, the largest data message, past 64 KiB of sum. */
	const uint32_t lens[] = { 0, 1, 2, 3, 32, 33, 148, 1451, 1452, 9001 };

	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		check_built(false, lens[i], (uint8_t)i);
		check_built(true, lens[i], (uint8_t)(i + 100));
	}
}

/* A payload whose checksum comes to 0: sent as 0xffff, both families. */
static void test_build_zero_sum(void)
{
	static uint8_t f[256];

	for (int v6 = 0; v6 < 2; v6++) {
		struct wgx_frame_route r;
		uint32_t hl, plen = 33;
		uint16_t c;

		route_of(&r, v6);
		hl = wgx_frame_udp_hdr_len(&r);
		memset(f + hl, 0x5a, plen);
		f[hl] = f[hl + 1] = 0;
		CHECK(wgx_frame_udp_build(f, &r, plen, 0) == hl + plen);
		/* Put the checksum into the first payload word: sum 0xffff. */
		memcpy(&c, f + hl - 2, 2);
		memcpy(f + hl, &c, 2);
		CHECK(wgx_frame_udp_build(f, &r, plen, 0) == hl + plen);
		CHECK(f[hl - 2] == 0xff && f[hl - 1] == 0xff);
		CHECK(udp_sum_ok(f, v6, 8 + plen));
	}
}

static void test_build_refused(void)
{
	static uint8_t f[70000];
	struct wgx_frame_route r;

	route_of(&r, false);
	CHECK(wgx_frame_udp_build(f, &r, 65535 - 28 + 1, 0) == 0);
	CHECK(wgx_frame_udp_build(f, &r, 65535 - 28, 0) == 65535 + 14);
	route_of(&r, true);
	CHECK(wgx_frame_udp_build(f, &r, 65535 - 8 + 1, 0) == 0);
	/* Mixed families. */
	r.src.sa.sa_family = AF_INET;
	CHECK(wgx_frame_udp_build(f, &r, 10, 0) == 0);
}

static const struct wgx_test frame_tests[] = {
	{ "frame: IPv4 and IPv6 payload and source", test_plain },
	{ "frame: one and two VLAN tags", test_vlan },
	{ "frame: IPv4 options, IPv6 extensions, padding", test_headers },
	{ "frame: every truncation refused", test_truncated },
	{ "frame: not UDP, not IP, bad lengths refused", test_refused },
	{ "frame: random bytes never point outside", test_random },
	{ "frame: a run cut at each next counter", test_run_split },
	{ "frame: a single message is not cut", test_run_single },
	{ "frame: a look-alike header is not a cut", test_run_lookalike },
	{ "frame: headers built, checksums by the naive sum",
	  test_build_lengths },
	{ "frame: a UDP checksum of 0 is sent as 0xffff", test_build_zero_sum },
	{ "frame: lengths past the IP fields refused", test_build_refused },
};
WGX_SUITE(frame_tests)
