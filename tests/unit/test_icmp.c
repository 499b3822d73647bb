// SPDX-License-Identifier: MIT
/* "No route to host" answers: fields, checksums, quoting, refusals, fuzz. */
#include "test.h"

#include <errno.h>
#include <stdlib.h>

#include "datapath/icmp.h"
#include "datapath/ippkt.h"

static const uint8_t a4_host[4] = { 10, 0, 0, 1 };
static const uint8_t a4_peer[4] = { 10, 9, 8, 7 };
static const uint8_t a4_gw[4] = { 10, 0, 0, 254 };
static const uint8_t a6_host[16] = { 0xfd, 0, 0, 0, 0, 0, 0, 0,
				     0,	   0, 0, 0, 0, 0, 0, 1 };
static const uint8_t a6_peer[16] = { 0xfd, 0, 0, 9, 0, 0, 0, 0,
				     0,	   0, 0, 0, 0, 0, 0, 7 };
static const uint8_t a6_gw[16] = { 0xfd, 0, 0, 0, 0, 0, 0, 0,
				   0,	 0, 0, 0, 0, 0, 0, 0xfe };

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Independent of the code under test: bytewise, big-endian words. */
static uint16_t ref_sum(const uint8_t *p, size_t len, uint32_t sum)
{
	for (size_t i = 0; i < len; i += 2) {
		sum += (uint32_t)p[i] << 8 | (i + 1 < len ? p[i + 1] : 0);
		sum = (sum & 0xffff) + (sum >> 16);
	}
	return (uint16_t)sum;
}

/* A UDP-ish IPv4 packet of tot bytes (tot >= 20), payload byte i = i. */
static void mk4(uint8_t *p, size_t tot, uint8_t proto, const uint8_t *src,
		const uint8_t *dst)
{
	uint16_t c;

	for (size_t i = 20; i < tot; i++)
		p[i] = (uint8_t)i;
	memset(p, 0, 20);
	p[0] = 0x45;
	p[1] = 0x2e; /* some TOS bits and ECT(0) */
	p[2] = (uint8_t)(tot >> 8);
	p[3] = (uint8_t)tot;
	p[4] = 0xbe;
	p[5] = 0xef;
	p[8] = 63;
	p[9] = proto;
	memcpy(p + 12, src, 4);
	memcpy(p + 16, dst, 4);
	c = wgx_ippkt_csum(p, 20);
	memcpy(p + 10, &c, 2);
}

static void mk6(uint8_t *p, size_t tot, uint8_t next, const uint8_t *src,
		const uint8_t *dst)
{
	for (size_t i = 40; i < tot; i++)
		p[i] = (uint8_t)i;
	memset(p, 0, 8);
	p[0] = 0x60;
	p[4] = (uint8_t)((tot - 40) >> 8);
	p[5] = (uint8_t)(tot - 40);
	p[6] = next;
	p[7] = 63;
	memcpy(p + 8, src, 16);
	memcpy(p + 24, dst, 16);
}

/* Every field of an IPv4 answer to orig, quoting quote bytes, from src. */
static void check_answer4(const uint8_t *a, int n, const uint8_t *orig,
			  size_t quote, const uint8_t *src)
{
	struct wgx_ippkt_info in;

	CHECK(n == (int)(28 + quote));
	if (n != (int)(28 + quote))
		return;
	CHECK(a[0] == 0x45);
	/* Original TOS bits kept, ECN cleared, precedence 6. */
	CHECK(a[1] == (0xc0 | (orig[1] & 0x1e)));
	CHECK(get16(a + 2) == n);
	CHECK(get16(a + 4) == 0);
	CHECK(get16(a + 6) == 0x4000);
	CHECK(a[8] == 64);
	CHECK(a[9] == 1);
	CHECK_MEM(a + 12, src, 4);
	CHECK_MEM(a + 16, orig + 12, 4);
	CHECK(ref_sum(a, 20, 0) == 0xffff);
	CHECK(wgx_ippkt_csum(a, 20) == 0);
	CHECK(a[20] == 3 && a[21] == 1);
	CHECK(a[24] == 0 && a[25] == 0 && a[26] == 0 && a[27] == 0);
	CHECK(ref_sum(a + 20, (size_t)n - 20, 0) == 0xffff);
	CHECK(wgx_ippkt_csum(a + 20, (size_t)n - 20) == 0);
	CHECK_MEM(a + 28, orig, quote);
	CHECK(wgx_ippkt_parse(a, (size_t)n, &in) == 0);
}

static void check_answer6(const uint8_t *a, int n, const uint8_t *orig,
			  size_t quote, const uint8_t *src)
{
	uint8_t ph[40] = { 0 };
	uint16_t sum;

	CHECK(n == (int)(48 + quote));
	if (n != (int)(48 + quote))
		return;
	CHECK(a[0] == 0x60 && a[1] == 0 && a[2] == 0 && a[3] == 0);
	CHECK(get16(a + 4) == n - 40);
	CHECK(a[6] == 58);
	CHECK(a[7] == 64);
	CHECK_MEM(a + 8, src, 16);
	CHECK_MEM(a + 24, orig + 8, 16);
	CHECK(a[40] == 1 && a[41] == 3);
	CHECK(a[44] == 0 && a[45] == 0 && a[46] == 0 && a[47] == 0);
	/* RFC 8200 8.1 pseudo-header, summed independently. */
	memcpy(ph, a + 8, 32);
	ph[34] = (uint8_t)((n - 40) >> 8);
	ph[35] = (uint8_t)(n - 40);
	ph[39] = 58;
	sum = ref_sum(ph, sizeof(ph), 0);
	sum = ref_sum(a + 40, (size_t)n - 40, sum);
	CHECK(sum == 0xffff);
	CHECK_MEM(a + 48, orig, quote);
}

static void test_v4_udp(void)
{
	uint8_t pkt[100], out[WGX_ICMP_MAX_LEN];
	int n;

	mk4(pkt, sizeof(pkt), 17, a4_host, a4_peer);
	n = wgx_icmp_unreachable(pkt, sizeof(pkt), a4_gw, out, sizeof(out));
	check_answer4(out, n, pkt, sizeof(pkt), a4_gw);
	/* Source omitted: the answer comes from the unreachable address. */
	n = wgx_icmp_unreachable(pkt, sizeof(pkt), NULL, out, sizeof(out));
	check_answer4(out, n, pkt, sizeof(pkt), a4_peer);
	/* A bare header is quoted whole. */
	mk4(pkt, 20, 6, a4_host, a4_peer);
	n = wgx_icmp_unreachable(pkt, 20, NULL, out, sizeof(out));
	check_answer4(out, n, pkt, 20, a4_peer);
}

static void test_v4_options(void)
{
	uint8_t pkt[68], out[WGX_ICMP_MAX_LEN];
	int n;

	/* IHL 15: the 60-byte header and 8 payload bytes are all quoted. */
	mk4(pkt, sizeof(pkt), 17, a4_host, a4_peer);
	pkt[0] = 0x4f;
	memset(pkt + 20, 1, 40); /* NOPs */
	n = wgx_icmp_unreachable(pkt, sizeof(pkt), a4_gw, out, sizeof(out));
	check_answer4(out, n, pkt, sizeof(pkt), a4_gw);
	CHECK(out[0] == 0x45); /* the answer itself carries none */
}

static void test_v6_udp(void)
{
	uint8_t pkt[111], out[WGX_ICMP_MAX_LEN];
	int n;

	mk6(pkt, sizeof(pkt), 17, a6_host, a6_peer);
	n = wgx_icmp_unreachable(pkt, sizeof(pkt), a6_gw, out, sizeof(out));
	check_answer6(out, n, pkt, sizeof(pkt), a6_gw);
	n = wgx_icmp_unreachable(pkt, sizeof(pkt), NULL, out, sizeof(out));
	check_answer6(out, n, pkt, sizeof(pkt), a6_peer);
}

static void test_caps(void)
{
	static uint8_t pkt[1400], pad[1500], out[WGX_ICMP_MAX_LEN];
	int n;

	mk4(pkt, sizeof(pkt), 17, a4_host, a4_peer);
	n = wgx_icmp_unreachable(pkt, sizeof(pkt), a4_gw, out, sizeof(out));
	CHECK(n == 576);
	check_answer4(out, n, pkt, 548, a4_gw);
	/* Exactly at the limit and one past it. */
	mk4(pkt, 548, 17, a4_host, a4_peer);
	CHECK(wgx_icmp_unreachable(pkt, 548, NULL, out, sizeof(out)) == 576);
	mk4(pkt, 549, 17, a4_host, a4_peer);
	CHECK(wgx_icmp_unreachable(pkt, 549, NULL, out, sizeof(out)) == 576);

	mk6(pkt, sizeof(pkt), 17, a6_host, a6_peer);
	n = wgx_icmp_unreachable(pkt, sizeof(pkt), a6_gw, out, sizeof(out));
	CHECK(n == 1280);
	check_answer6(out, n, pkt, 1232, a6_gw);
	mk6(pkt, 1232, 17, a6_host, a6_peer);
	CHECK(wgx_icmp_unreachable(pkt, 1232, NULL, out, sizeof(out)) == 1280);

	/* Padding after the stated length is never quoted. */
	memset(pad, 0xaa, sizeof(pad));
	mk4(pad, 100, 17, a4_host, a4_peer);
	n = wgx_icmp_unreachable(pad, sizeof(pad), NULL, out, sizeof(out));
	check_answer4(out, n, pad, 100, a4_peer);
	mk6(pad, 100, 17, a6_host, a6_peer);
	n = wgx_icmp_unreachable(pad, sizeof(pad), NULL, out, sizeof(out));
	check_answer6(out, n, pad, 100, a6_peer);
}

static void test_no_answer_icmp4_errors(void)
{
	static const uint8_t errors[] = { 3, 4, 5, 11, 12, 19, 42, 255 };
	static const uint8_t infos[] = { 0, 8, 13, 17, 18 };
	uint8_t pkt[56], out[WGX_ICMP_MAX_LEN];

	for (size_t i = 0; i < sizeof(errors); i++) {
		mk4(pkt, sizeof(pkt), 1, a4_host, a4_peer);
		pkt[20] = errors[i];
		CHECK(wgx_icmp_unreachable(pkt, sizeof(pkt), NULL, out,
					   sizeof(out)) == -EPERM);
	}
	for (size_t i = 0; i < sizeof(infos); i++) {
		mk4(pkt, sizeof(pkt), 1, a4_host, a4_peer);
		pkt[20] = infos[i];
		CHECK(wgx_icmp_unreachable(pkt, sizeof(pkt), NULL, out,
					   sizeof(out)) == 28 + 56);
	}
	/* ICMP without even a type byte: cannot tell, so no answer. */
	mk4(pkt, 20, 1, a4_host, a4_peer);
	CHECK(wgx_icmp_unreachable(pkt, 20, NULL, out, sizeof(out)) == -EPERM);
	/* The type byte sits after the options. */
	mk4(pkt, 32, 1, a4_host, a4_peer);
	pkt[0] = 0x46;
	pkt[20] = 8; /* an option byte that looks like echo */
	pkt[24] = 3;
	CHECK(wgx_icmp_unreachable(pkt, 32, NULL, out, sizeof(out)) == -EPERM);
	pkt[24] = 8;
	pkt[20] = 3;
	CHECK(wgx_icmp_unreachable(pkt, 32, NULL, out, sizeof(out)) == 60);
}

static void test_no_answer_icmp6_errors(void)
{
	uint8_t pkt[96], out[WGX_ICMP_MAX_LEN];

	for (unsigned int t = 0; t < 256; t++) {
		mk6(pkt, sizeof(pkt), 58, a6_host, a6_peer);
		pkt[40] = (uint8_t)t;
		CHECK(wgx_icmp_unreachable(pkt, sizeof(pkt), NULL, out,
					   sizeof(out)) ==
		      (t < 128 ? -EPERM : 48 + (int)sizeof(pkt)));
	}
	/* Behind hop-by-hop (8 bytes) and destination options (16 bytes). */
	mk6(pkt, sizeof(pkt), 0, a6_host, a6_peer);
	pkt[40] = 60;
	pkt[41] = 0;
	pkt[48] = 58;
	pkt[49] = 1;
	pkt[64] = 1; /* ICMPv6 destination unreachable */
	CHECK(wgx_icmp_unreachable(pkt, sizeof(pkt), NULL, out, sizeof(out)) ==
	      -EPERM);
	pkt[64] = 128;
	CHECK(wgx_icmp_unreachable(pkt, sizeof(pkt), NULL, out, sizeof(out)) ==
	      48 + (int)sizeof(pkt));
	/* Behind a first fragment: still seen. */
	mk6(pkt, sizeof(pkt), 44, a6_host, a6_peer);
	pkt[40] = 58;
	pkt[42] = 0x00;
	pkt[43] = 0x01; /* offset 0, more fragments */
	pkt[48] = 2;
	CHECK(wgx_icmp_unreachable(pkt, sizeof(pkt), NULL, out, sizeof(out)) ==
	      -EPERM);
	/* A later fragment cannot be identified; Linux answers it too. */
	pkt[42] = 0x01;
	CHECK(wgx_icmp_unreachable(pkt, sizeof(pkt), NULL, out, sizeof(out)) ==
	      48 + (int)sizeof(pkt));
	/* A fragment header cut short: 4 of its 8 bytes. */
	mk6(pkt, 44, 44, a6_host, a6_peer);
	pkt[40] = 58;
	pkt[42] = 0;
	pkt[43] = 0;
	CHECK(wgx_icmp_unreachable(pkt, 44, NULL, out, sizeof(out)) == 92);
	/* ICMPv6 with no type byte, and an option header past the end. */
	mk6(pkt, 40, 58, a6_host, a6_peer);
	CHECK(wgx_icmp_unreachable(pkt, 40, NULL, out, sizeof(out)) == -EPERM);
	mk6(pkt, 48, 0, a6_host, a6_peer);
	pkt[40] = 58;
	pkt[41] = 0;
	CHECK(wgx_icmp_unreachable(pkt, 48, NULL, out, sizeof(out)) == -EPERM);
	/* 16 bytes claimed, 8 there: the type byte would lie past the end. */
	pkt[41] = 1;
	CHECK(wgx_icmp_unreachable(pkt, 48, NULL, out, sizeof(out)) == -EPERM);
	/* Not even the option header's first two bytes: the upper layer is
	 * unknown, so it is answered, as Linux does. */
	mk6(pkt, 41, 0, a6_host, a6_peer);
	CHECK(wgx_icmp_unreachable(pkt, 41, NULL, out, sizeof(out)) == 89);
}

static void test_no_answer_addresses(void)
{
	static const uint8_t bad4[][4] = {
		{ 0, 0, 0, 0 },		{ 0, 1, 2, 3 },
		{ 127, 0, 0, 1 },	{ 224, 0, 0, 1 },
		{ 239, 255, 255, 250 }, { 240, 0, 0, 1 },
		{ 255, 255, 255, 255 },
	};
	static const uint8_t bad6[][16] = {
		{ 0 },
		{ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 },
		{ 0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 },
		{ 0xff, 0x0e, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x12, 0x34 },
	};
	uint8_t pkt[60], out[WGX_ICMP_MAX_LEN];

	for (size_t i = 0; i < sizeof(bad4) / sizeof(bad4[0]); i++) {
		mk4(pkt, sizeof(pkt), 17, bad4[i], a4_peer);
		CHECK(wgx_icmp_unreachable(pkt, sizeof(pkt), a4_gw, out,
					   sizeof(out)) == -EPERM);
		mk4(pkt, sizeof(pkt), 17, a4_host, bad4[i]);
		CHECK(wgx_icmp_unreachable(pkt, sizeof(pkt), a4_gw, out,
					   sizeof(out)) == -EPERM);
		/* Nor from such an address. */
		mk4(pkt, sizeof(pkt), 17, a4_host, a4_peer);
		CHECK(wgx_icmp_unreachable(pkt, sizeof(pkt), bad4[i], out,
					   sizeof(out)) == -EINVAL);
	}
	for (size_t i = 0; i < sizeof(bad6) / sizeof(bad6[0]); i++) {
		mk6(pkt, sizeof(pkt), 17, bad6[i], a6_peer);
		CHECK(wgx_icmp_unreachable(pkt, sizeof(pkt), a6_gw, out,
					   sizeof(out)) == -EPERM);
		mk6(pkt, sizeof(pkt), 17, a6_host, bad6[i]);
		CHECK(wgx_icmp_unreachable(pkt, sizeof(pkt), a6_gw, out,
					   sizeof(out)) == -EPERM);
		mk6(pkt, sizeof(pkt), 17, a6_host, a6_peer);
		CHECK(wgx_icmp_unreachable(pkt, sizeof(pkt), bad6[i], out,
					   sizeof(out)) == -EINVAL);
	}
	/* Edges that are unicast. */
	static const uint8_t ok4[] = { 1, 0, 0, 0 },
			     top4[] = { 223, 255, 1, 1 };
	static const uint8_t ok6[16] = { [15] = 2 };
	mk4(pkt, sizeof(pkt), 17, ok4, top4);
	CHECK(wgx_icmp_unreachable(pkt, sizeof(pkt), NULL, out, sizeof(out)) ==
	      88);
	mk6(pkt, sizeof(pkt), 17, ok6, a6_peer);
	CHECK(wgx_icmp_unreachable(pkt, sizeof(pkt), NULL, out, sizeof(out)) ==
	      108);
}

static void test_no_answer_fragments(void)
{
	uint8_t pkt[60], out[WGX_ICMP_MAX_LEN];

	mk4(pkt, sizeof(pkt), 17, a4_host, a4_peer);
	pkt[6] = 0x20; /* MF, offset 0: the first fragment is answered */
	CHECK(wgx_icmp_unreachable(pkt, sizeof(pkt), NULL, out, sizeof(out)) ==
	      88);
	pkt[7] = 0x01; /* MF, offset 8 bytes */
	CHECK(wgx_icmp_unreachable(pkt, sizeof(pkt), NULL, out, sizeof(out)) ==
	      -EPERM);
	pkt[6] = 0x1f; /* last fragment, highest offset */
	pkt[7] = 0xff;
	CHECK(wgx_icmp_unreachable(pkt, sizeof(pkt), NULL, out, sizeof(out)) ==
	      -EPERM);
	pkt[6] = 0x40; /* DF only */
	pkt[7] = 0;
	CHECK(wgx_icmp_unreachable(pkt, sizeof(pkt), NULL, out, sizeof(out)) ==
	      88);
}

static void test_small_buffer(void)
{
	uint8_t pkt[100], out[WGX_ICMP_MAX_LEN];

	mk4(pkt, sizeof(pkt), 17, a4_host, a4_peer);
	CHECK(wgx_icmp_unreachable(pkt, sizeof(pkt), NULL, out, 127) ==
	      -ENOSPC);
	CHECK(wgx_icmp_unreachable(pkt, sizeof(pkt), NULL, out, 0) == -ENOSPC);
	CHECK(wgx_icmp_unreachable(pkt, sizeof(pkt), NULL, out, 128) == 128);
	mk6(pkt, sizeof(pkt), 17, a6_host, a6_peer);
	CHECK(wgx_icmp_unreachable(pkt, sizeof(pkt), NULL, out, 147) ==
	      -ENOSPC);
	CHECK(wgx_icmp_unreachable(pkt, sizeof(pkt), NULL, out, 148) == 148);
}

static void test_bad_input(void)
{
	uint8_t pkt[100], out[WGX_ICMP_MAX_LEN];

	mk4(pkt, sizeof(pkt), 17, a4_host, a4_peer);
	CHECK(wgx_icmp_unreachable(pkt, 99, NULL, out, sizeof(out)) == -EINVAL);
	CHECK(wgx_icmp_unreachable(NULL, 0, NULL, out, sizeof(out)) == -EINVAL);
	CHECK(wgx_icmp_unreachable(pkt, sizeof(pkt), NULL, NULL, 0) == -EINVAL);
	pkt[0] = 0x55;
	CHECK(wgx_icmp_unreachable(pkt, sizeof(pkt), NULL, out, sizeof(out)) ==
	      -EINVAL);
}

static void test_in_place(void)
{
	uint8_t pkt[300], ref[WGX_ICMP_MAX_LEN], buf[WGX_ICMP_MAX_LEN + 8];
	int n;

	mk4(pkt, sizeof(pkt), 17, a4_host, a4_peer);
	n = wgx_icmp_unreachable(pkt, sizeof(pkt), NULL, ref, sizeof(ref));
	CHECK(n == 328);
	memcpy(buf, pkt, sizeof(pkt));
	CHECK(wgx_icmp_unreachable(buf, sizeof(pkt), NULL, buf,
				   WGX_ICMP_MAX_LEN) == n);
	CHECK_MEM(buf, ref, (size_t)n);
	/* Overlapping the other way: the answer starts before orig. */
	memcpy(buf + 8, pkt, sizeof(pkt));
	CHECK(wgx_icmp_unreachable(buf + 8, sizeof(pkt), NULL, buf,
				   WGX_ICMP_MAX_LEN) == n);
	CHECK_MEM(buf, ref, (size_t)n);

	mk6(pkt, sizeof(pkt), 17, a6_host, a6_peer);
	n = wgx_icmp_unreachable(pkt, sizeof(pkt), NULL, ref, sizeof(ref));
	CHECK(n == 348);
	memcpy(buf, pkt, sizeof(pkt));
	CHECK(wgx_icmp_unreachable(buf, sizeof(pkt), buf + 24, buf,
				   WGX_ICMP_MAX_LEN) == n);
	CHECK_MEM(buf, ref, (size_t)n);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 32);
}

/* Whatever came in, anything accepted must be self-consistent. */
static void fuzz_one(const uint8_t *src, size_t len)
{
	uint8_t *p = malloc(len ? len : 1), *out;
	size_t cap = rnd() % 4 ? WGX_ICMP_MAX_LEN : rnd() % WGX_ICMP_MAX_LEN;
	struct wgx_ippkt_info in;
	int family, n;

	out = malloc(cap ? cap : 1);
	CHECK(p && out);
	if (!p || !out)
		goto out;
	if (len)
		memcpy(p, src, len);
	if (wgx_ippkt_parse(p, len, &in) == 0)
		CHECK(in.tot_len == len && in.hdr_len <= len);
	if (wgx_ippkt_parse_trim(p, len, &in) == 0) {
		CHECK(in.tot_len <= len && in.hdr_len <= in.tot_len);
		CHECK(in.daddr + in.addr_len <= p + in.hdr_len);
	}
	if (wgx_ippkt_daddr(p, len, &family))
		CHECK(wgx_ippkt_saddr(p, len, &family) != NULL);
	n = wgx_icmp_unreachable(p, len, NULL, out, cap);
	CHECK(n == -EINVAL || n == -EPERM || n == -ENOSPC || n > 0);
	if (n > 0) {
		CHECK((size_t)n <= cap && (size_t)n <= WGX_ICMP_MAX_LEN);
		CHECK(wgx_ippkt_parse(out, (size_t)n, &in) == 0);
	}
out:
	free(out);
	free(p);
}

static void test_fuzz_random(void)
{
	static uint8_t buf[1600];

	for (int i = 0; i < 100000; i++) {
		size_t len = rnd() % sizeof(buf);

		for (size_t j = 0; j < len; j++)
			buf[j] = (uint8_t)rnd();
		/* Half with a plausible version nibble to get past it. */
		if (len && (i & 1))
			buf[0] = (uint8_t)((i & 2 ? 0x40 : 0x60) |
					   (buf[0] & 15));
		fuzz_one(buf, len);
	}
}

static void test_fuzz_mutated(void)
{
	static uint8_t buf[1600];

	for (int i = 0; i < 100000; i++) {
		size_t tot = 40 + rnd() % 1400, len = tot;
		static const uint8_t nexts[] = { 0, 1, 17, 43, 44, 51, 58, 60 };
		uint8_t next = nexts[rnd() % sizeof(nexts)];

		if (i & 1)
			mk4(buf, tot, next, a4_host, a4_peer);
		else
			mk6(buf, tot, next, a6_host, a6_peer);
		/* Flip a few bytes, mostly in the headers, and cut or pad. */
		for (unsigned int k = rnd() % 6; k; k--)
			buf[rnd() % (rnd() % 4 ? 64 : tot)] = (uint8_t)rnd();
		if (rnd() % 3 == 0)
			len = rnd() % (tot + 32);
		if (len > tot)
			memset(buf + tot, 0, len - tot);
		fuzz_one(buf, len);
	}
}

static const struct wgx_test icmp_tests[] = {
	{ "icmp: IPv4 UDP answer, every field", test_v4_udp },
	{ "icmp: IPv4 options quoted", test_v4_options },
	{ "icmp: IPv6 UDP answer, every field", test_v6_udp },
	{ "icmp: answers capped at 576 / 1280", test_caps },
	{ "icmp: no answer to ICMP errors", test_no_answer_icmp4_errors },
	{ "icmp: no answer to ICMPv6 errors", test_no_answer_icmp6_errors },
	{ "icmp: no answer to non-unicast addresses",
	  test_no_answer_addresses },
	{ "icmp: no answer to later IPv4 fragments", test_no_answer_fragments },
	{ "icmp: too small out buffer", test_small_buffer },
	{ "icmp: malformed input", test_bad_input },
	{ "icmp: answer in place", test_in_place },
	{ "icmp: fuzz random buffers", test_fuzz_random },
	{ "icmp: fuzz mutated packets", test_fuzz_mutated },
};
WGX_SUITE(icmp_tests)
