// SPDX-License-Identifier: MIT
/*
 * The timer rules follow the WireGuard whitepaper section 6 and the Linux
 * driver's timers.c: each event arms or disarms one deadline; firing turns
 * deadlines into actions. Jitter on handshake timers keeps two peers that
 * lost their session at the same moment from initiating in lock step.
 */
#include "core/timers.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"
#include "wgx_wire.h"

static unsigned int scale_num = 1, scale_den = 1;

int wgx_timers_set_scale(unsigned int num, unsigned int den)
{
	const char *allow = getenv("WGXDP_TEST_TIMERS");

	if (!allow || strcmp(allow, "1") != 0)
		return -EPERM;
	if (!num || !den)
		return -EINVAL;
	scale_num = num;
	scale_den = den;
	return 0;
}

uint64_t wgx_timers_seconds(unsigned int seconds)
{
	return (uint64_t)seconds * 1000000000ULL * scale_num / scale_den;
}

static uint64_t jitter(void)
{
	uint64_t ms = wgx_crypto_random_below(WGX_REKEY_TIMEOUT_JITTER_MS);

	return ms * 1000000ULL * scale_num / scale_den;
}

static void arm(struct wgx_timers *t, enum wgx_timer_id id, uint64_t when)
{
	/* 0 means disarmed, so a deadline of exactly 0 is nudged forward. */
	t->deadline[id] = when ? when : 1;
}

static bool armed(const struct wgx_timers *t, enum wgx_timer_id id)
{
	return t->deadline[id] != 0;
}

void wgx_timers_init(struct wgx_timers *t, uint16_t persistent_keepalive)
{
	memset(t, 0, sizeof(*t));
	t->persistent_keepalive = persistent_keepalive;
}

void wgx_timers_data_sent(struct wgx_timers *t, uint64_t now)
{
	if (!armed(t, WGX_TIMER_NEW_HANDSHAKE))
		arm(t, WGX_TIMER_NEW_HANDSHAKE,
		    now +
			    wgx_timers_seconds(WGX_KEEPALIVE_TIMEOUT +
					       WGX_REKEY_TIMEOUT) +
			    jitter());
}

void wgx_timers_data_received(struct wgx_timers *t, uint64_t now)
{
	if (!armed(t, WGX_TIMER_SEND_KEEPALIVE))
		arm(t, WGX_TIMER_SEND_KEEPALIVE,
		    now + wgx_timers_seconds(WGX_KEEPALIVE_TIMEOUT));
	else
		t->need_another_keepalive = true;
}

void wgx_timers_any_authenticated_sent(struct wgx_timers *t, uint64_t now)
{
	(void)now;
	t->deadline[WGX_TIMER_SEND_KEEPALIVE] = 0;
}

void wgx_timers_any_authenticated_received(struct wgx_timers *t, uint64_t now)
{
	(void)now;
	t->deadline[WGX_TIMER_NEW_HANDSHAKE] = 0;
}

void wgx_timers_authenticated_traversal(struct wgx_timers *t, uint64_t now)
{
	if (t->persistent_keepalive)
		arm(t, WGX_TIMER_PERSISTENT_KEEPALIVE,
		    now + wgx_timers_seconds(t->persistent_keepalive));
}

void wgx_timers_handshake_initiated(struct wgx_timers *t, uint64_t now)
{
	t->last_initiation_ns = now;
	arm(t, WGX_TIMER_RETRANSMIT_HANDSHAKE,
	    now + wgx_timers_seconds(WGX_REKEY_TIMEOUT) + jitter());
}

void wgx_timers_handshake_complete(struct wgx_timers *t)
{
	t->deadline[WGX_TIMER_RETRANSMIT_HANDSHAKE] = 0;
	t->handshake_attempts = 0;
	t->sent_lastminute_handshake = false;
}

void wgx_timers_session_derived(struct wgx_timers *t, uint64_t now)
{
	arm(t, WGX_TIMER_ZERO_KEYS,
	    now + 3 * wgx_timers_seconds(WGX_REJECT_AFTER_TIME));
}

void wgx_timers_set_persistent_keepalive(struct wgx_timers *t, uint16_t seconds,
					 uint64_t now)
{
	t->persistent_keepalive = seconds;
	t->deadline[WGX_TIMER_PERSISTENT_KEEPALIVE] = 0;
	/* A newly configured keepalive starts at once, as wg(8) expects. */
	if (seconds)
		arm(t, WGX_TIMER_PERSISTENT_KEEPALIVE, now);
}

bool wgx_timers_may_initiate(struct wgx_timers *t, bool is_retry, uint64_t now)
{
	if (!is_retry)
		t->handshake_attempts = 0;
	if (t->last_initiation_ns &&
	    now < t->last_initiation_ns + wgx_timers_seconds(WGX_REKEY_TIMEOUT))
		return false;
	return true;
}

uint64_t wgx_timers_next(const struct wgx_timers *t)
{
	uint64_t next = 0;

	for (int i = 0; i < WGX_TIMER_COUNT; i++)
		if (t->deadline[i] && (!next || t->deadline[i] < next))
			next = t->deadline[i];
	return next;
}

static bool due(struct wgx_timers *t, enum wgx_timer_id id, uint64_t now)
{
	if (!armed(t, id) || t->deadline[id] > now)
		return false;
	t->deadline[id] = 0;
	return true;
}

static unsigned int fire_retransmit(struct wgx_timers *t, uint64_t now)
{
	if (t->handshake_attempts > WGX_MAX_TIMER_HANDSHAKES) {
		/* REKEY_ATTEMPT_TIME is over: stop, and wipe keys later. */
		t->deadline[WGX_TIMER_SEND_KEEPALIVE] = 0;
		if (!armed(t, WGX_TIMER_ZERO_KEYS))
			arm(t, WGX_TIMER_ZERO_KEYS,
			    now + 3 * wgx_timers_seconds(
					      WGX_REJECT_AFTER_TIME));
		return WGX_ACT_GIVE_UP;
	}
	t->handshake_attempts++;
	return WGX_ACT_RETRY_INITIATION;
}

unsigned int wgx_timers_fire(struct wgx_timers *t, uint64_t now)
{
	unsigned int actions = 0;

	if (due(t, WGX_TIMER_RETRANSMIT_HANDSHAKE, now))
		actions |= fire_retransmit(t, now);
	if (due(t, WGX_TIMER_SEND_KEEPALIVE, now)) {
		actions |= WGX_ACT_SEND_KEEPALIVE;
		if (t->need_another_keepalive) {
			t->need_another_keepalive = false;
			arm(t, WGX_TIMER_SEND_KEEPALIVE,
			    now + wgx_timers_seconds(WGX_KEEPALIVE_TIMEOUT));
		}
	}
	if (due(t, WGX_TIMER_NEW_HANDSHAKE, now))
		actions |= WGX_ACT_NEW_HANDSHAKE;
	if (due(t, WGX_TIMER_ZERO_KEYS, now))
		actions |= WGX_ACT_ZERO_KEYS;
	if (due(t, WGX_TIMER_PERSISTENT_KEEPALIVE, now) &&
	    t->persistent_keepalive)
		actions |= WGX_ACT_SEND_KEEPALIVE;
	return actions;
}

void wgx_timers_stop(struct wgx_timers *t)
{
	memset(t->deadline, 0, sizeof(t->deadline));
	t->need_another_keepalive = false;
}
