// SPDX-License-Identifier: MIT
/* Inner packet parsing, address helpers and the RFC 1071 checksum. */
#include "test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>

#include "datapath/ippkt.h"

/* 10.0.0.1 -> 10.0.0.2, UDP 1234 -> 53, 4 payload bytes, 32 in all. */
static const uint8_t udp4[] = {
	0x45, 0x00, 0x00, 0x20, 0x12, 0x34, 0x40, 0x00, 0x40, 0x11, 0x00,
	0x00, 10,   0,	  0,	1,    10,   0,	  0,	2,    0x04, 0xd2,
	0x00, 0x35, 0x00, 0x0c, 0x00, 0x00, 'a',  'b',	'c',  'd',
};

/* The same with 8 bytes of options (IHL 7): NOP, NOP, then timestamp. */
static const uint8_t opt4[] = {
	0x47, 0x00, 0x00, 0x28, 0x12, 0x34, 0x40, 0x00, 0x40, 0x11,
	0x00, 0x00, 10,	  0,	0,    1,    10,	  0,	0,    2,
	0x01, 0x01, 0x44, 0x04, 0x05, 0x00, 0x00, 0x00, 0x04, 0xd2,
	0x00, 0x35, 0x00, 0x0c, 0x00, 0x00, 'a',  'b',	'c',  'd',
};

/* fd00::1 -> fd00::2, UDP, 12 payload bytes: 52 in all. */
static const uint8_t udp6[] = {
	0x60, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x11, 0x40, 0xfd, 0x00, 0,
	0,    0,    0,	  0,	0,    0,    0,	  0,	0,    0,    0,
	0,    1,    0xfd, 0x00, 0,    0,    0,	  0,	0,    0,    0,
	0,    0,    0,	  0,	0,    0,    2,	  0x04, 0xd2, 0x00, 0x35,
	0x00, 0x0c, 0x00, 0x00, 'a',  'b',  'c',  'd',
};

/* Copies into an exactly sized heap buffer so ASan sees any overread. */
static uint8_t *dup_exact(const uint8_t *src, size_t len)
{
	uint8_t *p = malloc(len ? len : 1);

	if (p && len)
		memcpy(p, src, len);
	return p;
}

static void test_parse_v4(void)
{
	struct wgx_ippkt_info in;

	CHECK(wgx_ippkt_parse(udp4, sizeof(udp4), &in) == 0);
	CHECK(in.family == AF_INET);
	CHECK(in.addr_len == 4);
	CHECK(in.hdr_len == 20);
	CHECK(in.tot_len == sizeof(udp4));
	CHECK(in.proto == 17);
	CHECK(in.saddr == udp4 + 12);
	CHECK(in.daddr == udp4 + 16);
	CHECK(in.saddr[3] == 1 && in.daddr[3] == 2);
}

static void test_parse_v4_options(void)
{
	struct wgx_ippkt_info in;

	CHECK(wgx_ippkt_parse(opt4, sizeof(opt4), &in) == 0);
	CHECK(in.hdr_len == 28);
	CHECK(in.tot_len == sizeof(opt4));
	CHECK(in.saddr == opt4 + 12 && in.daddr == opt4 + 16);

	/* IHL 15: 60-byte header, no payload. */
	uint8_t max[60] = { 0x4f, 0, 0, 60 };
	CHECK(wgx_ippkt_parse(max, sizeof(max), &in) == 0);
	CHECK(in.hdr_len == 60 && in.tot_len == 60);
}

static void test_parse_v6(void)
{
	struct wgx_ippkt_info in;

	CHECK(wgx_ippkt_parse(udp6, sizeof(udp6), &in) == 0);
	CHECK(in.family == AF_INET6);
	CHECK(in.addr_len == 16);
	CHECK(in.hdr_len == 40);
	CHECK(in.tot_len == sizeof(udp6));
	CHECK(in.proto == 17);
	CHECK(in.saddr == udp6 + 8 && in.daddr == udp6 + 24);
	CHECK(in.saddr[15] == 1 && in.daddr[15] == 2);
}

static void check_truncations(const uint8_t *pkt, size_t len)
{
	struct wgx_ippkt_info in;

	for (size_t l = 0; l < len; l++) {
		uint8_t *p = dup_exact(pkt, l);

		CHECK(p);
		if (!p)
			return;
		CHECK(wgx_ippkt_parse(p, l, &in) == -EINVAL);
		CHECK(wgx_ippkt_parse_trim(p, l, &in) == -EINVAL);
		free(p);
	}
}

static void test_truncated(void)
{
	check_truncations(udp4, sizeof(udp4));
	check_truncations(opt4, sizeof(opt4));
	check_truncations(udp6, sizeof(udp6));
	/* NULL with length 0 is never dereferenced. */
	struct wgx_ippkt_info in;
	CHECK(wgx_ippkt_parse(NULL, 0, &in) == -EINVAL);
}

static void test_bad_version(void)
{
	struct wgx_ippkt_info in;
	uint8_t p[sizeof(udp6)];

	for (unsigned int v = 0; v < 16; v++) {
		if (v == 4 || v == 6)
			continue;
		memcpy(p, udp4, sizeof(udp4));
		p[0] = (uint8_t)(v << 4 | 5);
		CHECK(wgx_ippkt_parse(p, sizeof(udp4), &in) == -EINVAL);
		CHECK(wgx_ippkt_parse_trim(p, sizeof(udp4), &in) == -EINVAL);
		memcpy(p, udp6, sizeof(udp6));
		p[0] = (uint8_t)(v << 4);
		CHECK(wgx_ippkt_parse(p, sizeof(udp6), &in) == -EINVAL);
	}
	/* A v6 header claimed on a buffer only v4-sized. */
	memcpy(p, udp4, sizeof(udp4));
	p[0] = 0x65;
	CHECK(wgx_ippkt_parse_trim(p, sizeof(udp4), &in) == -EINVAL);
}

static void test_bad_ihl(void)
{
	struct wgx_ippkt_info in;
	uint8_t p[sizeof(udp4)];

	for (unsigned int ihl = 0; ihl < 5; ihl++) {
		memcpy(p, udp4, sizeof(p));
		p[0] = (uint8_t)(0x40 | ihl);
		CHECK(wgx_ippkt_parse(p, sizeof(p), &in) == -EINVAL);
		CHECK(wgx_ippkt_parse_trim(p, sizeof(p), &in) == -EINVAL);
	}
	/* IHL 8 (32 bytes) on a 32-byte packet is fine, IHL 9 is past it. */
	memcpy(p, udp4, sizeof(p));
	p[0] = 0x48;
	CHECK(wgx_ippkt_parse(p, sizeof(p), &in) == 0);
	CHECK(in.hdr_len == 32);
	p[0] = 0x49;
	CHECK(wgx_ippkt_parse(p, sizeof(p), &in) == -EINVAL);
	CHECK(wgx_ippkt_parse_trim(p, sizeof(p), &in) == -EINVAL);
}

static void test_bad_total_length(void)
{
	struct wgx_ippkt_info in;
	uint8_t p[sizeof(udp6)];

	memcpy(p, udp4, sizeof(udp4));
	/* Stated length beyond the buffer. */
	p[3] = sizeof(udp4) + 1;
	CHECK(wgx_ippkt_parse(p, sizeof(udp4), &in) == -EINVAL);
	CHECK(wgx_ippkt_parse_trim(p, sizeof(udp4), &in) == -EINVAL);
	p[2] = 0xff;
	CHECK(wgx_ippkt_parse_trim(p, sizeof(udp4), &in) == -EINVAL);
	/* Stated length below the header. */
	p[2] = 0;
	p[3] = 19;
	CHECK(wgx_ippkt_parse(p, sizeof(udp4), &in) == -EINVAL);
	CHECK(wgx_ippkt_parse_trim(p, sizeof(udp4), &in) == -EINVAL);
	memcpy(p, opt4, sizeof(opt4));
	p[3] = 24; /* covers the fixed header, not the options */
	CHECK(wgx_ippkt_parse_trim(p, sizeof(opt4), &in) == -EINVAL);
	/* Stated length short of the buffer: a TUN read is one packet. */
	memcpy(p, udp4, sizeof(udp4));
	p[3] = sizeof(udp4) - 1;
	CHECK(wgx_ippkt_parse(p, sizeof(udp4), &in) == -EINVAL);

	memcpy(p, udp6, sizeof(udp6));
	p[5] = 13;
	CHECK(wgx_ippkt_parse(p, sizeof(udp6), &in) == -EINVAL);
	CHECK(wgx_ippkt_parse_trim(p, sizeof(udp6), &in) == -EINVAL);
	p[4] = 0xff;
	p[5] = 0xff;
	CHECK(wgx_ippkt_parse_trim(p, sizeof(udp6), &in) == -EINVAL);
	p[4] = 0;
	p[5] = 11;
	CHECK(wgx_ippkt_parse(p, sizeof(udp6), &in) == -EINVAL);
}

static void test_trim_padding(void)
{
	struct wgx_ippkt_info in;
	uint8_t p[64] = { 0 };

	/* 32-byte v4 packet padded to 48, as the sender pads to 16. */
	memcpy(p, udp4, sizeof(udp4));
	CHECK(wgx_ippkt_parse(p, 48, &in) == -EINVAL);
	CHECK(wgx_ippkt_parse_trim(p, 48, &in) == 0);
	CHECK(in.tot_len == sizeof(udp4) && in.family == AF_INET);
	CHECK(in.daddr == p + 16);
	/* No padding at all is fine too. */
	CHECK(wgx_ippkt_parse_trim(p, sizeof(udp4), &in) == 0);
	CHECK(in.tot_len == sizeof(udp4));

	memset(p, 0, sizeof(p));
	memcpy(p, udp6, sizeof(udp6));
	CHECK(wgx_ippkt_parse_trim(p, 64, &in) == 0);
	CHECK(in.tot_len == sizeof(udp6) && in.family == AF_INET6);
	CHECK(in.saddr == p + 8);

	/* An empty v6 payload: the header alone, 24 padding bytes. */
	p[5] = 0;
	CHECK(wgx_ippkt_parse_trim(p, 64, &in) == 0);
	CHECK(in.tot_len == 40);
	CHECK(wgx_ippkt_parse(p, 40, &in) == 0);
}

static void test_addr_helpers(void)
{
	int family = -1;

	CHECK(wgx_ippkt_daddr(udp4, sizeof(udp4), &family) == udp4 + 16);
	CHECK(family == AF_INET);
	CHECK(wgx_ippkt_saddr(udp4, sizeof(udp4), &family) == udp4 + 12);
	CHECK(wgx_ippkt_daddr(udp6, sizeof(udp6), &family) == udp6 + 24);
	CHECK(family == AF_INET6);
	CHECK(wgx_ippkt_saddr(udp6, sizeof(udp6), &family) == udp6 + 8);

	family = -1;
	CHECK(wgx_ippkt_daddr(udp4, 19, &family) == NULL);
	CHECK(wgx_ippkt_saddr(udp6, 39, &family) == NULL);
	CHECK(wgx_ippkt_daddr(NULL, 0, &family) == NULL);
	uint8_t bad[40] = { 0x55 };
	CHECK(wgx_ippkt_daddr(bad, sizeof(bad), &family) == NULL);
	CHECK(family == -1);
}

/* Bit-by-bit reference: big-endian 16-bit words, end-around carry. */
static uint16_t ref_csum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;

	for (size_t i = 0; i < len; i += 2) {
		sum += (uint32_t)p[i] << 8 | (i + 1 < len ? p[i + 1] : 0);
		sum = (sum & 0xffff) + (sum >> 16);
	}
	return htons((uint16_t)~sum);
}

static void test_csum_known(void)
{
	/* RFC 1071 section 3: these words sum to ddf2, so the checksum is
	 * its complement 220d. */
	static const uint8_t rfc[] = { 0x00, 0x01, 0xf2, 0x03,
				       0xf4, 0xf5, 0xf6, 0xf7 };
	/* A common IPv4 header example; its checksum field holds b861. */
	uint8_t ip[20] = { 0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40,
			   0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8,
			   0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7 };
	uint16_t c;

	CHECK(wgx_ippkt_csum(rfc, sizeof(rfc)) == htons(0x220d));
	/* The partial sum, folded but not complemented, is ddf2. */
	c = (uint16_t)~wgx_ippkt_csum_fold(
		wgx_ippkt_csum_partial(rfc, sizeof(rfc), 0));
	CHECK(c == htons(0xddf2));
	c = wgx_ippkt_csum(ip, sizeof(ip));
	CHECK(c == htons(0xb861));
	memcpy(ip + 10, &c, 2);
	CHECK(ip[10] == 0xb8 && ip[11] == 0x61);
	/* Verifying over a correct checksum gives 0. */
	CHECK(wgx_ippkt_csum(ip, sizeof(ip)) == 0);
	ip[15] ^= 1;
	CHECK(wgx_ippkt_csum(ip, sizeof(ip)) != 0);
	/* Odd length: the last byte is padded with a zero. */
	static const uint8_t odd[] = { 0x12, 0x34, 0x56 };
	CHECK(wgx_ippkt_csum(odd, 3) == htons((uint16_t) ~(0x1234 + 0x5600)));
	/* Nothing sums to 0, whose complement is ffff. */
	CHECK(wgx_ippkt_csum(NULL, 0) == 0xffff);
}

static void test_csum_reference(void)
{
	uint8_t buf[600];
	uint32_t x = 12345;

	for (size_t i = 0; i < sizeof(buf); i++) {
		x = x * 1103515245 + 12345;
		buf[i] = (uint8_t)(x >> 16);
	}
	/* Every length, at odd and even alignments (past 128 bytes the
	 * vector loop does the bulk where the CPU has it). */
	for (size_t off = 0; off < 4; off++)
		for (size_t len = 0; len + off <= sizeof(buf); len++)
			CHECK(wgx_ippkt_csum(buf + off, len) ==
			      ref_csum(buf + off, len));
	/* Carries: all-ones data. */
	memset(buf, 0xff, sizeof(buf));
	CHECK(wgx_ippkt_csum(buf, sizeof(buf)) == ref_csum(buf, sizeof(buf)));
	CHECK(wgx_ippkt_csum(buf, 599) == ref_csum(buf, 599));
}

static void test_csum_chained(void)
{
	uint8_t buf[257];
	uint32_t sum;

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7 + 3);
	/* Even-length pieces chained equal one pass over the whole. */
	for (size_t cut = 0; cut <= 256; cut += 2) {
		sum = wgx_ippkt_csum_partial(buf, cut, 0);
		sum = wgx_ippkt_csum_partial(buf + cut, sizeof(buf) - cut, sum);
		CHECK(wgx_ippkt_csum_fold(sum) ==
		      wgx_ippkt_csum(buf, sizeof(buf)));
	}
}

static const struct wgx_test ippkt_tests[] = {
	{ "ippkt: parse IPv4", test_parse_v4 },
	{ "ippkt: parse IPv4 with options", test_parse_v4_options },
	{ "ippkt: parse IPv6", test_parse_v6 },
	{ "ippkt: every truncation rejected", test_truncated },
	{ "ippkt: wrong version rejected", test_bad_version },
	{ "ippkt: bad IHL rejected", test_bad_ihl },
	{ "ippkt: bad stated length rejected", test_bad_total_length },
	{ "ippkt: trim mode accepts padding", test_trim_padding },
	{ "ippkt: address helpers", test_addr_helpers },
	{ "ippkt: checksum known values", test_csum_known },
	{ "ippkt: checksum against reference", test_csum_reference },
	{ "ippkt: checksum in pieces", test_csum_chained },
};
WGX_SUITE(ippkt_tests)
