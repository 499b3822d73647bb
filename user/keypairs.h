/* SPDX-License-Identifier: MIT */
/*
 * A peer's transport keypairs: current (send and receive), previous (receive
 * only, for packets still in flight under the last session) and next (the
 * responder's new keypair, receive only until key confirmation).
 *
 * - The initiator's new keypair becomes current at once: old current moves
 *   to previous, old previous and any pending next are freed.
 * - The responder's new keypair waits in next (old next and old previous
 *   are freed, as the kernel does: a newer session supersedes both). It is
 *   promoted to current when the first data packet under it arrives
 *   (wgx_keypairs_confirm), because only then do we know the initiator
 *   holds it too.
 * - Freeing a keypair removes its receiver index from the device's index
 *   table, zeroes it and sodium_free()s it.
 *
 * Single writer: only the agent calls these. The datapath integration will
 * add atomic publication of the three pointers and deferred freeing once
 * every worker has moved past a retired keypair.
 */
#ifndef WGX_KEYPAIRS_H
#define WGX_KEYPAIRS_H

#include <stdbool.h>
#include <stdint.h>

#include "index.h"
#include "keypair.h"

struct wgx_keypairs {
	struct wgx_keypair *current;
	struct wgx_keypair *previous;
	struct wgx_keypair *next;
	/* The device's index table, where each keypair's local index lives. */
	struct wgx_index_table *indices;
};

void wgx_keypairs_init(struct wgx_keypairs *kps,
		       struct wgx_index_table *indices);

/* A zeroed keypair in sodium_malloc'd memory, or NULL. */
struct wgx_keypair *wgx_keypairs_alloc(void);
/* Remove kp's index from the table, wipe and free it. NULL is a no-op. */
void wgx_keypairs_free(struct wgx_keypairs *kps, struct wgx_keypair *kp);

/* Take ownership of a fresh keypair, placed by kp->initiator (see above). */
void wgx_keypairs_install(struct wgx_keypairs *kps, struct wgx_keypair *kp);
/*
 * The receive path reports the keypair that just authenticated a packet.
 * If it is next, it becomes current (key confirmation): true is returned
 * so the caller can fire its "session confirmed" event.
 */
bool wgx_keypairs_confirm(struct wgx_keypairs *kps, struct wgx_keypair *kp);

/*
 * REJECT_AFTER_TIME and REJECT_AFTER_MESSAGES: false once kp is that old or
 * its send counter reached the limit; it must then neither send nor
 * receive. now_ns is CLOCK_MONOTONIC, like kp->birth_ns.
 */
bool wgx_keypairs_usable(const struct wgx_keypair *kp, uint64_t now_ns);
/* The keypair to send with: current if usable, else NULL. */
struct wgx_keypair *wgx_keypairs_send_keypair(const struct wgx_keypairs *kps,
					      uint64_t now_ns);
/* Free every keypair of the set that is no longer usable; returns count. */
unsigned int wgx_keypairs_expire(struct wgx_keypairs *kps, uint64_t now_ns);
/* Free all three (peer removed, key changed, 3 x REJECT_AFTER_TIME idle). */
void wgx_keypairs_clear(struct wgx_keypairs *kps);

#endif
