/* SPDX-License-Identifier: MIT */
/*
 * The agent's protocol work on the device (agent thread only): sending
 * handshakes, keepalives and staged packets (send.c), answering handshake
 * messages the workers queued (handshake.c), and driving each peer's
 * timers from the events the workers raise (events.c). Timer state is
 * touched only through wgx_timers_* events, and every change to a peer's
 * deadlines ends with wgx_protocol_schedule() (schedule.c), which keeps
 * the agent's due list right.
 */
#ifndef WGX_PROTOCOL_H
#define WGX_PROTOCOL_H

#include <stdbool.h>
#include <stdint.h>

#include "device/device.h"

/* events.c: one pass: queued handshakes, pending peers, due timers,
 * reclamation. */
void wgx_protocol_process(struct wgx_device *dev);

/* schedule.c */
/* The next deadline (wgx_now() ns) the agent must wake for; 0: none. */
uint64_t wgx_protocol_next_deadline(const struct wgx_device *dev);
/* Recompute p's earliest deadline (timers and key expiry) in the list. */
void wgx_protocol_schedule(struct wgx_device *dev, struct wgx_peer *p);

/* send.c */
/* Send one message to p's endpoint, counted under stat. */
void wgx_protocol_send_to_peer(struct wgx_device *dev, struct wgx_peer *p,
			       const void *buf, size_t len,
			       enum wgx_stat_id stat);
/* Start a handshake with p now if the timers allow it. */
void wgx_protocol_initiate(struct wgx_device *dev, struct wgx_peer *p,
			   bool is_retry);
/* Send what waited for a session; start a handshake if there is none. */
void wgx_protocol_flush_staged(struct wgx_device *dev, struct wgx_peer *p);
/* A keepalive, or the staged packets if any. */
void wgx_protocol_send_keepalive(struct wgx_device *dev, struct wgx_peer *p);
/* The wall clock of a completed handshake, and the timers' event. */
void wgx_protocol_handshake_done(struct wgx_peer *p);

/* handshake.c */
/* Answer the queued handshake messages (a bounded number per call). */
void wgx_protocol_drain_handshakes(struct wgx_device *dev, uint64_t now);

#endif
