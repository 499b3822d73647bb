// SPDX-License-Identifier: MIT
/* Token bucket per source: burst, steady rate, /64 grouping, fixed size. */
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

static const struct wgx_test ratelimit_tests[] = {
	{ "ratelimit: burst then about 20 per second", test_burst_then_rate },
	{ "ratelimit: IPv6 sources share a /64 budget",
	  test_ipv6_grouped_by_64 },
	{ "ratelimit: bad lengths refused, fixed memory under many sources",
	  test_bad_length_and_many_sources },
};
WGX_SUITE(ratelimit_tests)
