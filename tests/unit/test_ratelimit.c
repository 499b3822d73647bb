// SPDX-License-Identifier: MIT
/*
 * Per-source handshake limits: the mac2 limiter (burst, steady rate, /64
 * grouping, fixed size, offenders for the deny map), the work budget per
 * source and for unknown sources together, busy, and the known sources.
 */
#include "test.h"

#include <stdlib.h>

#include "core/ratelimit.h"

#define MS(x) ((uint64_t)(x)*1000000ULL)

static struct wgx_ratelimit *new_rl(void)
{
	struct wgx_ratelimit *rl = malloc(sizeof(*rl));

	if (rl)
		wgx_ratelimit_init(rl);
	return rl;
}

static unsigned int count_allowed(struct wgx_ratelimit *rl, const uint8_t *a,
				  unsigned int len, uint64_t now, int n)
{
	unsigned int ok = 0;

	for (int i = 0; i < n; i++)
		ok += wgx_ratelimit_allow(rl, a, len, now);
	return ok;
}

static void test_burst_then_rate(void)
{
	struct wgx_ratelimit *rl = new_rl();
	const uint8_t a[4] = { 10, 0, 0, 1 }, b[4] = { 10, 0, 0, 2 };
	uint64_t now = MS(5000);
	unsigned int ok = 0;

	CHECK(rl);
	if (!rl)
		return;
	CHECK(count_allowed(rl, a, 4, now, 100) == WGX_RATELIMIT_BURST);
	/* Another address has its own budget. */
	CHECK(count_allowed(rl, b, 4, now, 100) == WGX_RATELIMIT_BURST);
	/* Over ten seconds at 1000 tries per second: about 20 per second. */
	for (int ms = 1; ms <= 10000; ms++)
		ok += wgx_ratelimit_allow(rl, a, 4, now + MS(ms));
	CHECK(ok >= 10 * WGX_RATELIMIT_PER_SECOND - 1);
	CHECK(ok <= 10 * WGX_RATELIMIT_PER_SECOND + WGX_RATELIMIT_BURST);
	free(rl);
}

static void test_ipv6_grouped_by_64(void)
{
	struct wgx_ratelimit *rl = new_rl();
	uint8_t a[16] = { 0xfd, 0, 0, 0, 0, 0, 0, 1 }, other[16];

	CHECK(rl);
	if (!rl)
		return;
	memcpy(other, a, 16);
	other[15] = 0x99; /* same /64 */
	CHECK(count_allowed(rl, a, 16, MS(1000), 3) == 3);
	CHECK(count_allowed(rl, other, 16, MS(1000), 10) ==
	      WGX_RATELIMIT_BURST - 3);
	other[7] = 2; /* another /64 */
	CHECK(count_allowed(rl, other, 16, MS(1000), 10) ==
	      WGX_RATELIMIT_BURST);
	free(rl);
}

static void test_bad_length_and_many_sources(void)
{
	struct wgx_ratelimit *rl = new_rl();
	uint8_t a[4] = { 192, 0, 2, 1 };
	unsigned int ok = 0;

	CHECK(rl);
	if (!rl)
		return;
	CHECK(!wgx_ratelimit_allow(rl, a, 5, MS(1)));
	CHECK(!wgx_ratelimit_allow(rl, a, 0, MS(1)));
	/* Far more sources than slots: still answers, memory fixed. */
	for (uint32_t i = 0; i < 4 * WGX_RATELIMIT_SLOTS; i++) {
		memcpy(a, &i, 4);
		ok += wgx_ratelimit_allow(rl, a, 4, MS(1));
	}
	CHECK(ok == 4 * WGX_RATELIMIT_SLOTS);
	free(rl);
}

/* Over the mac2 limit: the source is reported once, again only after
 * WGX_RATELIMIT_REPORT_NS; IPv6 by its /64. */
static void test_offenders(void)
{
	struct wgx_ratelimit *rl = new_rl();
	const uint8_t a[4] = { 10, 0, 0, 1 };
	uint8_t b[16] = { 0xfd, 0, 0, 0, 0, 0, 0, 7, [15] = 0x42 };
	struct wgx_ratelimit_key k;
	uint8_t addr[16];
	uint64_t now = MS(5000);

	CHECK(rl);
	if (!rl)
		return;
	CHECK(!wgx_ratelimit_take_offender(rl, &k));
	CHECK(count_allowed(rl, a, 4, now, 100) == WGX_RATELIMIT_BURST);
	CHECK(wgx_ratelimit_take_offender(rl, &k));
	CHECK(wgx_ratelimit_key_addr(&k, addr) == 4);
	CHECK_MEM(addr, a, 4);
	/* 95 refusals, one report */
	CHECK(!wgx_ratelimit_take_offender(rl, &k));
	CHECK(!wgx_ratelimit_allow(rl, a, 4, now + MS(10)));
	CHECK(!wgx_ratelimit_take_offender(rl, &k));
	/* Still flooding after the report interval: reported again. */
	count_allowed(rl, a, 4, now + MS(600), 100);
	CHECK(wgx_ratelimit_take_offender(rl, &k));
	CHECK(!wgx_ratelimit_take_offender(rl, &k));

	CHECK(count_allowed(rl, b, 16, now, 100) == WGX_RATELIMIT_BURST);
	CHECK(wgx_ratelimit_take_offender(rl, &k));
	CHECK(wgx_ratelimit_key_addr(&k, addr) == 16);
	CHECK_MEM(addr, b, 8);
	for (int i = 8; i < 16; i++)
		CHECK(addr[i] == 0);
	free(rl);
}

/* The ring keeps the newest offenders when nobody takes them. */
static void test_offenders_ring(void)
{
	struct wgx_ratelimit *rl = new_rl();
	struct wgx_ratelimit_key k;
	uint8_t a[4] = { 10, 1, 0, 0 }, addr[16];
	unsigned int n = 0;

	CHECK(rl);
	if (!rl)
		return;
	for (int i = 0; i < 3 * WGX_RATELIMIT_OFFENDERS; i++) {
		a[3] = (uint8_t)i;
		a[2] = (uint8_t)(i >> 8);
		count_allowed(rl, a, 4, MS(1000), WGX_RATELIMIT_BURST + 1);
	}
	while (wgx_ratelimit_take_offender(rl, &k)) {
		wgx_ratelimit_key_addr(&k, addr);
		if (!n)
			CHECK(addr[3] ==
			      (uint8_t)(2 * WGX_RATELIMIT_OFFENDERS));
		n++;
	}
	CHECK(n == WGX_RATELIMIT_OFFENDERS);
	free(rl);
}

/* The work budget: a small burst per source, then its steady rate. */
static void test_work_per_source(void)
{
	struct wgx_ratelimit *rl = new_rl();
	const uint8_t a[4] = { 10, 0, 0, 1 }, b[4] = { 10, 0, 0, 2 };
	uint64_t now = MS(5000);
	unsigned int ok = 0;

	CHECK(rl);
	if (!rl)
		return;
	/* Both known, so only their own budgets count. */
	wgx_ratelimit_learn(rl, a, 4, now);
	wgx_ratelimit_learn(rl, b, 4, now);
	for (int i = 0; i < 100; i++)
		ok += wgx_ratelimit_work(rl, a, 4, now);
	CHECK(ok == WGX_RATELIMIT_WORK_BURST);
	/* One flooding source leaves the other its whole budget. */
	ok = 0;
	for (int i = 0; i < 100; i++)
		ok += wgx_ratelimit_work(rl, b, 4, now);
	CHECK(ok == WGX_RATELIMIT_WORK_BURST);
	/* Ten seconds of 100 tries a second: about 4 a second. */
	ok = 0;
	for (int ms = 10; ms <= 10000; ms += 10)
		ok += wgx_ratelimit_work(rl, a, 4, now + MS(ms));
	CHECK(ok >= 10 * WGX_RATELIMIT_WORK_PER_SECOND - 1);
	CHECK(ok <= 10 * WGX_RATELIMIT_WORK_PER_SECOND + 1);
	CHECK(!wgx_ratelimit_work(rl, a, 3, now));
	free(rl);
}

/* Unknown sources share one more budget: many fresh (spoofed) sources
 * cannot all have the work done; a known source still can. */
static void test_work_unknown_shared(void)
{
	struct wgx_ratelimit *rl = new_rl();
	const uint8_t known[4] = { 192, 0, 2, 1 };
	uint8_t a[4] = { 10, 9, 0, 0 };
	uint64_t now = MS(5000);
	unsigned int ok = 0;

	CHECK(rl);
	if (!rl)
		return;
	CHECK(!wgx_ratelimit_known(rl, known, 4));
	wgx_ratelimit_learn(rl, known, 4, now);
	for (int i = 0; i < 2000; i++) {
		a[2] = (uint8_t)(i >> 8);
		a[3] = (uint8_t)i;
		ok += wgx_ratelimit_work(rl, a, 4, now);
	}
	CHECK(ok == WGX_RATELIMIT_UNKNOWN_BURST);
	CHECK(wgx_ratelimit_work(rl, known, 4, now));
	/* A second later the shared budget has refilled by its rate. */
	ok = 0;
	for (int i = 0; i < 2000; i++) {
		a[2] = (uint8_t)(i >> 8);
		a[3] = (uint8_t)(i + 7);
		ok += wgx_ratelimit_work(rl, a, 4, now + MS(1000));
	}
	CHECK(ok == WGX_RATELIMIT_UNKNOWN_BURST);
	free(rl);
}

/* Known for one to two generations after the last handshake; IPv6 by
 * /64; what was never learnt is unknown. */
static void test_known_generations(void)
{
	struct wgx_ratelimit *rl = new_rl();
	const uint64_t gen = (uint64_t)WGX_RATELIMIT_KNOWN_SECONDS * MS(1000);
	uint8_t a[4] = { 10, 0, 0, 1 }, other[4] = { 10, 0, 0, 2 };
	uint8_t v6[16] = { 0xfd, 1, 2, 3, 4, 5, 6, 7, [15] = 1 }, v6b[16];
	uint64_t now = MS(5000);

	CHECK(rl);
	if (!rl)
		return;
	CHECK(!wgx_ratelimit_known(rl, a, 4));
	wgx_ratelimit_learn(rl, a, 4, now);
	wgx_ratelimit_learn(rl, v6, 16, now);
	CHECK(wgx_ratelimit_known(rl, a, 4));
	memcpy(v6b, v6, 16);
	v6b[15] = 0x77;
	CHECK(wgx_ratelimit_known(rl, v6b, 16));
	v6b[7] = 8;
	CHECK(!wgx_ratelimit_known(rl, v6b, 16));
	CHECK(!wgx_ratelimit_known(rl, a, 5));
	/* One generation later (learning something else turns it): still
	 * known; two generations without a handshake: forgotten. */
	wgx_ratelimit_learn(rl, other, 4, now + gen);
	CHECK(wgx_ratelimit_known(rl, a, 4));
	wgx_ratelimit_learn(rl, other, 4, now + 2 * gen);
	CHECK(!wgx_ratelimit_known(rl, a, 4));
	CHECK(wgx_ratelimit_known(rl, other, 4));
	free(rl);
}

/* Busy after more than WGX_RATELIMIT_BUSY_WORK in 100 ms, for 1 s. */
static void test_busy(void)
{
	struct wgx_ratelimit *rl = new_rl();
	uint64_t now = MS(5000);

	CHECK(rl);
	if (!rl)
		return;
	for (int i = 0; i < WGX_RATELIMIT_BUSY_WORK; i++)
		wgx_ratelimit_did_work(rl, now + MS(i));
	CHECK(!wgx_ratelimit_busy(rl, now + MS(60)));
	wgx_ratelimit_did_work(rl, now + MS(60));
	CHECK(wgx_ratelimit_busy(rl, now + MS(60)));
	CHECK(wgx_ratelimit_busy(rl, now + MS(1059)));
	CHECK(!wgx_ratelimit_busy(rl, now + MS(1061)));
	/* The same amount spread over windows is not busy. */
	for (int i = 0; i < 10 * WGX_RATELIMIT_BUSY_WORK; i++)
		wgx_ratelimit_did_work(rl, now + MS(2000 + 3 * i));
	CHECK(!wgx_ratelimit_busy(rl, now + MS(3600)));
	free(rl);
}

/* The queue's share of a source: the same for its whole /64, spread
 * otherwise. */
static void test_source_hash(void)
{
	struct wgx_ratelimit *rl = new_rl();
	uint8_t a[16] = { 0xfd, 1, 2, 3, 4, 5, 6, 7, [15] = 1 }, b[16];
	unsigned int same = 0;

	CHECK(rl);
	if (!rl)
		return;
	memcpy(b, a, 16);
	b[15] = 9;
	CHECK(wgx_ratelimit_source_hash(rl, a, 16) ==
	      wgx_ratelimit_source_hash(rl, b, 16));
	for (int i = 0; i < 256; i++) {
		uint8_t v4[4] = { 10, 0, 0, (uint8_t)i };

		same += wgx_ratelimit_source_hash(rl, v4, 4) % 1024 ==
			wgx_ratelimit_source_hash(rl, a, 16) % 1024;
	}
	CHECK(same < 8);
	free(rl);
}

static const struct wgx_test ratelimit_tests[] = {
	{ "ratelimit: burst then about 20 per second", test_burst_then_rate },
	{ "ratelimit: IPv6 sources share a /64 budget",
	  test_ipv6_grouped_by_64 },
	{ "ratelimit: bad lengths refused, fixed memory under many sources",
	  test_bad_length_and_many_sources },
	{ "ratelimit: a mac2 flooder is reported, again after 500 ms",
	  test_offenders },
	{ "ratelimit: the offender ring keeps the newest",
	  test_offenders_ring },
	{ "ratelimit: work budget per source", test_work_per_source },
	{ "ratelimit: unknown sources share a work budget, known do not",
	  test_work_unknown_shared },
	{ "ratelimit: known sources over two generations, IPv6 by /64",
	  test_known_generations },
	{ "ratelimit: busy after much work in 100 ms, for a second",
	  test_busy },
	{ "ratelimit: queue shares by source, one per /64", test_source_hash },
};
WGX_SUITE(ratelimit_tests)
