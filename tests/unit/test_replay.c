// SPDX-License-Identifier: MIT
/*
 * The replay window against the kernel's counter self-test
 * (drivers/net/wireguard/selftest/counter.c), as protocol.md lists it:
 * W = 8128, L = W + 1; the R = REJECT_AFTER_MESSAGES cases run on the same
 * window right after the first table, as in the kernel. Then the kernel's
 * bulk cases, and a random walk checked against a plain model.
 */
#include "test.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/crypto.h"
#include "core/replay.h"

enum {
	W = WGX_REPLAY_WINDOW,
	L = W + 1
};
static const uint64_t R = WGX_REJECT_AFTER_MESSAGES;

struct step {
	uint64_t counter;
	bool accept;
};

static int run(struct wgx_replay *r, const struct step *s, size_t n)
{
	int bad = 0;

	for (size_t i = 0; i < n; i++) {
		if (wgx_replay_check(r, s[i].counter) != s[i].accept) {
			fprintf(stderr, "    step %zu: counter %llu\n", i + 1,
				(unsigned long long)s[i].counter);
			bad++;
		}
	}
	return bad;
}

static void test_constants(void)
{
	CHECK(W == 8128);
	CHECK(R == 18446744073709543423ULL); /* 2^64 - 2^13 - 1 */
}

static void test_kernel_table(void)
{
	static const struct step table[] = {
		{ 0, true },
		{ 1, true },
		{ 1, false },
		{ 9, true },
		{ 8, true },
		{ 7, true },
		{ 7, false },
		{ L, true },
		{ L - 1, true },
		{ L - 1, false },
		{ L - 2, true },
		{ 2, true },
		{ 2, false },
		{ L + 16, true },
		{ 3, false },
		{ L + 16, false },
		{ 4 * L, true },
		{ 4 * L - (L - 1), true },
		{ 10, false },
		{ 4 * L - L, false },
		{ 4 * L - (L + 1), false },
		{ 4 * L - (L - 2), true },
		{ 4 * L + 1 - L, false },
		{ 0, false },
	};
	/* Same window, no reset in between: kernel cases 25..34. */
	const struct step limit[] = {
		{ R, false },	  { R - 1, true },  { R, false },
		{ R - 1, false }, { R - 2, true },  { R + 1, false },
		{ R + 2, false }, { R - 2, false }, { R - 3, true },
		{ 0, false },
	};
	struct wgx_replay r;

	wgx_replay_init(&r);
	CHECK(run(&r, table, sizeof(table) / sizeof(table[0])) == 0);
	CHECK(run(&r, limit, sizeof(limit) / sizeof(limit[0])) == 0);
	/* Nothing at or above R is ever accepted, even on a fresh window. */
	wgx_replay_init(&r);
	CHECK(!wgx_replay_check(&r, R));
	CHECK(!wgx_replay_check(&r, UINT64_MAX));
	CHECK(wgx_replay_check(&r, R - 1));
}

/* Kernel bulk case 1: 1..W in order, then 0 is still inside the window. */
static void test_bulk_in_order(void)
{
	struct wgx_replay r;
	int bad = 0;

	wgx_replay_init(&r);
	for (uint64_t i = 1; i <= W; i++)
		bad += !wgx_replay_check(&r, i);
	CHECK(bad == 0);
	CHECK(wgx_replay_check(&r, 0));
	CHECK(!wgx_replay_check(&r, 0));

	/* Kernel bulk case 2: 2..W+1, then 1 is the oldest still allowed. */
	wgx_replay_init(&r);
	bad = 0;
	for (uint64_t i = 2; i <= W + 1; i++)
		bad += !wgx_replay_check(&r, i);
	CHECK(bad == 0);
	CHECK(wgx_replay_check(&r, 1));
	CHECK(!wgx_replay_check(&r, 0));
}

static void test_bulk_descending(void)
{
	struct wgx_replay r;
	int bad = 0;

	/* Kernel bulk case 3: W down to 0, all accepted. */
	wgx_replay_init(&r);
	for (uint64_t i = W + 1; i-- > 0;)
		bad += !wgx_replay_check(&r, i);
	CHECK(bad == 0);

	/* Case 4: W+1 down to 1, then 0 has fallen out. */
	wgx_replay_init(&r);
	bad = 0;
	for (uint64_t i = W + 2; i-- > 1;)
		bad += !wgx_replay_check(&r, i);
	CHECK(bad == 0);
	CHECK(!wgx_replay_check(&r, 0));

	/* Case 5: W down to 1, then W+1 pushes 0 out. */
	wgx_replay_init(&r);
	bad = 0;
	for (uint64_t i = W + 1; i-- > 1;)
		bad += !wgx_replay_check(&r, i);
	CHECK(bad == 0);
	CHECK(wgx_replay_check(&r, W + 1));
	CHECK(!wgx_replay_check(&r, 0));

	/* Case 6: W down to 1, 0 while it still fits, then W+1. */
	wgx_replay_init(&r);
	bad = 0;
	for (uint64_t i = W + 1; i-- > 1;)
		bad += !wgx_replay_check(&r, i);
	CHECK(bad == 0);
	CHECK(wgx_replay_check(&r, 0));
	CHECK(wgx_replay_check(&r, W + 1));
}

/* A long in-order run: every counter once, every repeat refused. */
static void test_long_run(void)
{
	struct wgx_replay r;
	int bad = 0;

	wgx_replay_init(&r);
	for (uint64_t i = 0; i < 100000; i++) {
		bad += !wgx_replay_check(&r, i);
		if (i >= 5)
			bad += wgx_replay_check(&r, i - 5);
	}
	CHECK(bad == 0);
	for (uint64_t i = 100000 - W - 1; i < 100000; i++)
		bad += wgx_replay_check(&r, i);
	CHECK(bad == 0);
}

/* Sliding far ahead: old bits must not survive in the reused ring. */
static void test_far_jump(void)
{
	const uint64_t big = 1ULL << 40;
	struct wgx_replay r;

	wgx_replay_init(&r);
	CHECK(wgx_replay_check(&r, 100));
	/* Same ring slot one ring later: the stale bit must have been cleared. */
	CHECK(wgx_replay_check(&r, 100 + WGX_REPLAY_BITS));
	CHECK(!wgx_replay_check(&r, 100 + WGX_REPLAY_BITS));
	CHECK(!wgx_replay_check(&r, 100));
	CHECK(wgx_replay_check(&r, 100 + WGX_REPLAY_BITS - W));
	CHECK(!wgx_replay_check(&r, 100 + WGX_REPLAY_BITS - W - 1));

	CHECK(wgx_replay_check(&r, big));
	CHECK(!wgx_replay_check(&r, big - W - 1));
	CHECK(wgx_replay_check(&r, big - W));
	CHECK(wgx_replay_check(&r, big - 1));
	CHECK(wgx_replay_check(&r, big - 64));
	CHECK(!wgx_replay_check(&r, big - 64));
	CHECK(!wgx_replay_check(&r, 100 + WGX_REPLAY_BITS));
	CHECK(wgx_replay_check(&r, big + 1));
	CHECK(wgx_replay_check(&r, R - 1));
	CHECK(!wgx_replay_check(&r, big + 2));
}

/* Out of order inside the window: a shuffled block, each accepted once. */
static void test_shuffled_block(void)
{
	static uint64_t order[W + 1];
	struct wgx_replay r;
	int bad = 0;

	for (uint64_t i = 0; i <= W; i++)
		order[i] = 5000 + i;
	for (size_t i = W; i > 0; i--) {
		size_t j = wgx_crypto_random_below((uint32_t)i + 1);
		uint64_t t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
	wgx_replay_init(&r);
	CHECK(wgx_replay_check(&r, 5000 + W));
	for (uint64_t i = 0; i <= W; i++)
		bad += wgx_replay_check(&r, order[i]) != (order[i] != 5000 + W);
	CHECK(bad == 0);
	for (uint64_t i = 0; i <= W; i++)
		bad += wgx_replay_check(&r, order[i]);
	CHECK(bad == 0);
	CHECK(!wgx_replay_check(&r, 4999));
}

/*
 * A random walk, checked against the rule itself: accept c iff c < R, c is
 * new, and c >= highest - W (a window of W + 1 counters ending at the
 * highest accepted).
 */
static void test_random_walk(void)
{
	enum {
		SPAN = 400000
	};
	uint8_t *seen = calloc(SPAN + 1000, 1);
	uint64_t high = 0;
	bool any = false;
	struct wgx_replay r;
	int bad = 0;

	CHECK(seen != NULL);
	if (!seen)
		return;
	wgx_replay_init(&r);
	for (int i = 0; i < 300000; i++) {
		int64_t off =
			(int64_t)wgx_crypto_random_below(W + 400) - W - 200;
		int64_t c64 = (int64_t)high + off;
		uint64_t c;
		bool want, got;

		if (c64 < 0 || c64 >= SPAN)
			continue;
		c = (uint64_t)c64;
		want = !seen[c] && (!any || c + W >= high);
		got = wgx_replay_check(&r, c);
		bad += want != got;
		if (got) {
			seen[c] = 1;
			if (!any || c > high)
				high = c;
			any = true;
		}
	}
	CHECK(bad == 0);
	CHECK(high > 10 * W);
	free(seen);
}

static const struct wgx_test replay_tests[] = {
	{ "replay: window and limit constants", test_constants },
	{ "replay: kernel self-test table (W = 8128) and R cases",
	  test_kernel_table },
	{ "replay: bulk in order", test_bulk_in_order },
	{ "replay: bulk descending", test_bulk_descending },
	{ "replay: long in-order run with repeats", test_long_run },
	{ "replay: sliding far ahead clears the ring", test_far_jump },
	{ "replay: shuffled block inside the window", test_shuffled_block },
	{ "replay: random walk against the model", test_random_walk },
};
WGX_SUITE(replay_tests)
