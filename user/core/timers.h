/* SPDX-License-Identifier: MIT */
/*
 * Per-peer protocol timers (protocol.md "Sessions, timers and the data
 * path"), as pure state: send and receive code report events, the agent's
 * event loop asks for the next deadline, and wgx_timers_fire() says which
 * actions are due. Nothing here sends packets or reads a clock, so every
 * rule is unit-testable with a fake "now".
 */
#ifndef WGX_TIMERS_H
#define WGX_TIMERS_H

#include <stdbool.h>
#include <stdint.h>

enum wgx_timer_id {
	WGX_TIMER_RETRANSMIT_HANDSHAKE,
	WGX_TIMER_SEND_KEEPALIVE,
	WGX_TIMER_NEW_HANDSHAKE,
	WGX_TIMER_ZERO_KEYS,
	WGX_TIMER_PERSISTENT_KEEPALIVE,
	WGX_TIMER_COUNT,
};

/* What wgx_timers_fire() asks the agent to do (a bit mask). */
enum wgx_timer_action {
	WGX_ACT_RETRY_INITIATION = 1 << 0, /* resend an initiation (retry) */
	WGX_ACT_GIVE_UP = 1 << 1,	   /* drop the queued packets */
	WGX_ACT_SEND_KEEPALIVE = 1 << 2,
	WGX_ACT_NEW_HANDSHAKE = 1 << 3, /* data sent, nothing heard back */
	WGX_ACT_ZERO_KEYS = 1 << 4,	/* wipe keypairs and handshake */
};

struct wgx_timers {
	/* Absolute CLOCK_BOOTTIME ns; 0 means not armed. */
	uint64_t deadline[WGX_TIMER_COUNT];
	unsigned int handshake_attempts;
	bool need_another_keepalive;
	bool sent_lastminute_handshake;
	/* Seconds; 0 is off. */
	uint16_t persistent_keepalive;
	/* When the last initiation left, to send at most one per REKEY_TIMEOUT. */
	uint64_t last_initiation_ns;
};

/*
 * Protocol durations in nanoseconds. A test build can shrink time so the
 * 120-second rules run in seconds: see wgx_timers_set_scale().
 */
uint64_t wgx_timers_seconds(unsigned int seconds);
/*
 * Scale every protocol duration by num/den (default 1/1). Refused with
 * -EPERM unless the environment explicitly enables test timers
 * (WGXDP_TEST_TIMERS=1): a production daemon never runs shortened timers.
 */
int wgx_timers_set_scale(unsigned int num, unsigned int den);

void wgx_timers_init(struct wgx_timers *t, uint16_t persistent_keepalive);

/* Events from the send and receive paths. */
void wgx_timers_data_sent(struct wgx_timers *t, uint64_t now);
void wgx_timers_data_received(struct wgx_timers *t, uint64_t now);
void wgx_timers_any_authenticated_sent(struct wgx_timers *t, uint64_t now);
void wgx_timers_any_authenticated_received(struct wgx_timers *t, uint64_t now);
void wgx_timers_authenticated_traversal(struct wgx_timers *t, uint64_t now);
void wgx_timers_handshake_initiated(struct wgx_timers *t, uint64_t now);
void wgx_timers_handshake_complete(struct wgx_timers *t);
void wgx_timers_session_derived(struct wgx_timers *t, uint64_t now);
void wgx_timers_set_persistent_keepalive(struct wgx_timers *t, uint16_t seconds,
					 uint64_t now);

/*
 * May an initiation go out now? At most one per REKEY_TIMEOUT; a non-retry
 * request also resets the attempt counter (a fresh try of 18).
 */
bool wgx_timers_may_initiate(struct wgx_timers *t, bool is_retry, uint64_t now);

/* Earliest armed deadline, or 0 when none is armed. */
uint64_t wgx_timers_next(const struct wgx_timers *t);

/* Disarm what is due at now and return the actions to carry out. */
unsigned int wgx_timers_fire(struct wgx_timers *t, uint64_t now);

/* Stop everything (peer removed or keys wiped for good). */
void wgx_timers_stop(struct wgx_timers *t);

#endif
