// SPDX-License-Identifier: MIT
/* Timer rules with a fake clock: each event arms what protocol.md says. */
#include "test.h"

#include <errno.h>
#include <stdlib.h>

#include "core/timers.h"
#include "wgx_wire.h"

#define S(x)  ((uint64_t)(x)*1000000000ULL)
#define MS(x) ((uint64_t)(x)*1000000ULL)

static const uint64_t T0 = S(1000);

static void test_retransmit_and_give_up(void)
{
	struct wgx_timers t;
	uint64_t now = T0;
	unsigned int retries = 0, act = 0;

	wgx_timers_init(&t, 0);
	CHECK(wgx_timers_may_initiate(&t, false, now));
	wgx_timers_handshake_initiated(&t, now);
	/* Not before REKEY_TIMEOUT, and jitter stays under 334 ms. */
	CHECK(wgx_timers_fire(&t, now + S(5) - 1) == 0);
	CHECK(wgx_timers_next(&t) >= now + S(5));
	CHECK(wgx_timers_next(&t) < now + S(5) + MS(334));
	for (int i = 0; i < 40; i++) {
		now = wgx_timers_next(&t);
		if (!now)
			break;
		act = wgx_timers_fire(&t, now);
		if (act & WGX_ACT_RETRY_INITIATION) {
			retries++;
			CHECK(wgx_timers_may_initiate(&t, true, now));
			wgx_timers_handshake_initiated(&t, now);
		}
		if (act & WGX_ACT_GIVE_UP)
			break;
	}
	/*
	 * As the kernel: the give-up check runs when attempts passed
	 * MAX_TIMER_HANDSHAKES (18), so 20 initiations in all and the queue
	 * dropped REKEY_ATTEMPT_TIME plus two timeouts (and jitter) later.
	 */
	CHECK(retries == WGX_MAX_TIMER_HANDSHAKES + 1);
	CHECK(act & WGX_ACT_GIVE_UP);
	CHECK(now - T0 >= S(WGX_REKEY_ATTEMPT_TIME + 2 * WGX_REKEY_TIMEOUT));
	CHECK(now - T0 <
	      S(WGX_REKEY_ATTEMPT_TIME + 2 * WGX_REKEY_TIMEOUT) + 20 * MS(334));
	/* After giving up the keys are wiped 3 x REJECT_AFTER_TIME later. */
	CHECK(wgx_timers_next(&t) == now + S(3 * WGX_REJECT_AFTER_TIME));
	CHECK(wgx_timers_fire(&t, wgx_timers_next(&t)) == WGX_ACT_ZERO_KEYS);
	CHECK(wgx_timers_next(&t) == 0);
}

static void test_one_initiation_per_rekey_timeout(void)
{
	struct wgx_timers t;

	wgx_timers_init(&t, 0);
	CHECK(wgx_timers_may_initiate(&t, false, T0));
	wgx_timers_handshake_initiated(&t, T0);
	CHECK(!wgx_timers_may_initiate(&t, false, T0 + S(1)));
	CHECK(!wgx_timers_may_initiate(&t, true, T0 + S(5) - 1));
	CHECK(wgx_timers_may_initiate(&t, false, T0 + S(5)));
}

static void test_handshake_complete_stops_retry(void)
{
	struct wgx_timers t;

	wgx_timers_init(&t, 0);
	wgx_timers_handshake_initiated(&t, T0);
	wgx_timers_fire(&t, T0 + S(6));
	wgx_timers_handshake_initiated(&t, T0 + S(6));
	CHECK(t.handshake_attempts == 1);
	wgx_timers_handshake_complete(&t);
	CHECK(t.handshake_attempts == 0);
	CHECK(wgx_timers_fire(&t, T0 + S(60)) == 0);
}

static void test_passive_keepalive(void)
{
	struct wgx_timers t;

	wgx_timers_init(&t, 0);
	wgx_timers_data_received(&t, T0);
	CHECK(wgx_timers_fire(&t, T0 + S(10) - 1) == 0);
	CHECK(wgx_timers_fire(&t, T0 + S(10)) == WGX_ACT_SEND_KEEPALIVE);
	/* Sending anything authenticated cancels the pending keepalive. */
	wgx_timers_data_received(&t, T0 + S(20));
	wgx_timers_any_authenticated_sent(&t, T0 + S(21));
	CHECK(wgx_timers_fire(&t, T0 + S(40)) == 0);
	/* Data received while armed asks for one more keepalive after. */
	wgx_timers_data_received(&t, T0 + S(50));
	wgx_timers_data_received(&t, T0 + S(51));
	CHECK(wgx_timers_fire(&t, T0 + S(60)) == WGX_ACT_SEND_KEEPALIVE);
	CHECK(wgx_timers_next(&t) == T0 + S(70));
	CHECK(wgx_timers_fire(&t, T0 + S(70)) == WGX_ACT_SEND_KEEPALIVE);
	CHECK(wgx_timers_next(&t) == 0);
}

static void test_new_handshake_when_unanswered(void)
{
	struct wgx_timers t;

	wgx_timers_init(&t, 0);
	wgx_timers_data_sent(&t, T0);
	/* Re-sending does not push the deadline out. */
	wgx_timers_data_sent(&t, T0 + S(3));
	CHECK(wgx_timers_next(&t) >= T0 + S(15));
	CHECK(wgx_timers_next(&t) < T0 + S(15) + MS(334));
	CHECK(wgx_timers_fire(&t, T0 + S(15) + MS(334)) ==
	      WGX_ACT_NEW_HANDSHAKE);
	/* An answer in time cancels it. */
	wgx_timers_data_sent(&t, T0 + S(20));
	wgx_timers_any_authenticated_received(&t, T0 + S(21));
	CHECK(wgx_timers_fire(&t, T0 + S(60)) == 0);
}

static void test_persistent_keepalive(void)
{
	struct wgx_timers t;

	wgx_timers_init(&t, 25);
	wgx_timers_authenticated_traversal(&t, T0);
	CHECK(wgx_timers_next(&t) == T0 + S(25));
	CHECK(wgx_timers_fire(&t, T0 + S(25)) == WGX_ACT_SEND_KEEPALIVE);
	wgx_timers_set_persistent_keepalive(&t, 0, T0 + S(26));
	wgx_timers_authenticated_traversal(&t, T0 + S(26));
	CHECK(wgx_timers_next(&t) == 0);
	/* Turning it on sends one at once. */
	wgx_timers_set_persistent_keepalive(&t, 5, T0 + S(30));
	CHECK(wgx_timers_fire(&t, T0 + S(30)) == WGX_ACT_SEND_KEEPALIVE);
}

static void test_zero_keys_after_session(void)
{
	struct wgx_timers t;

	wgx_timers_init(&t, 0);
	wgx_timers_session_derived(&t, T0);
	CHECK(wgx_timers_fire(&t, T0 + S(539)) == 0);
	CHECK(wgx_timers_fire(&t, T0 + S(540)) == WGX_ACT_ZERO_KEYS);
	/* A new session pushes the wipe out again. */
	wgx_timers_session_derived(&t, T0 + S(600));
	wgx_timers_session_derived(&t, T0 + S(700));
	CHECK(wgx_timers_next(&t) == T0 + S(700) + S(540));
	wgx_timers_stop(&t);
	CHECK(wgx_timers_next(&t) == 0);
}

static void test_scale_needs_test_flag(void)
{
	unsetenv("WGXDP_TEST_TIMERS");
	CHECK(wgx_timers_set_scale(1, 10) == -EPERM);
	CHECK(wgx_timers_seconds(1) == S(1));
	setenv("WGXDP_TEST_TIMERS", "1", 1);
	CHECK(wgx_timers_set_scale(0, 10) == -EINVAL);
	CHECK(wgx_timers_set_scale(1, 10) == 0);
	CHECK(wgx_timers_seconds(10) == S(1));
	CHECK(wgx_timers_set_scale(1, 1) == 0);
	unsetenv("WGXDP_TEST_TIMERS");
	CHECK(wgx_timers_seconds(1) == S(1));
}

static const struct wgx_test timers_tests[] = {
	{ "timers: retransmit 18 times then give up and wipe",
	  test_retransmit_and_give_up },
	{ "timers: one initiation per REKEY_TIMEOUT",
	  test_one_initiation_per_rekey_timeout },
	{ "timers: handshake complete stops retries",
	  test_handshake_complete_stops_retry },
	{ "timers: passive keepalive after KEEPALIVE_TIMEOUT",
	  test_passive_keepalive },
	{ "timers: new handshake when data goes unanswered",
	  test_new_handshake_when_unanswered },
	{ "timers: persistent keepalive", test_persistent_keepalive },
	{ "timers: key wipe after 3 x REJECT_AFTER_TIME",
	  test_zero_keys_after_session },
	{ "timers: time scale refused without the test flag",
	  test_scale_needs_test_flag },
};
WGX_SUITE(timers_tests)
