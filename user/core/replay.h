/* SPDX-License-Identifier: MIT */
/*
 * The receive counter's sliding window (protocol.md: 8192 bits minus one
 * word = 8128 counters, as the kernel and wireguard-go keep it). Check a
 * counter only after its tag verified: an unauthenticated packet must not
 * move the window. Not thread-safe: one writer per keypair.
 */
#ifndef WGX_REPLAY_H
#define WGX_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

#include "wgx_wire.h"

struct wgx_replay {
	/* One past the highest counter accepted so far (0: none yet). */
	uint64_t next;
	uint64_t bitmap[WGX_REPLAY_BITS / 64];
};

void wgx_replay_init(struct wgx_replay *r);
/*
 * Accept-and-record: true when counter is new, inside the window and below
 * REJECT_AFTER_MESSAGES; the window then remembers it.
 */
__attribute__((warn_unused_result)) bool wgx_replay_check(struct wgx_replay *r,
							  uint64_t counter);

#endif
