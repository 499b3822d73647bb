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
 * - Releasing a keypair removes its receiver index from the device's index
 *   table and zeroes it. The set keeps one zeroed allocation as a spare for
 *   its next keypair (sodium_malloc costs a handful of syscalls and page
 *   faults, about a tenth of a responder handshake); others are
 *   sodium_free()d.
 *
 * Single writer: only the agent calls these. The datapath integration will
 * add atomic publication of the three pointers and deferred release once
 * every worker has moved past a retired keypair (the spare included: it
 * must not be reused while a worker may still read it).
 */
#ifndef WGX_KEYPAIRS_H
#define WGX_KEYPAIRS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/index.h"
#include "core/keypair.h"

struct wgx_keypairs {
	struct wgx_keypair *current;
	struct wgx_keypair *previous;
	struct wgx_keypair *next;
	/* A zeroed allocation kept for the next keypair, or NULL. */
	struct wgx_keypair *spare;
	/* The device's index table, where each keypair's local index lives. */
	struct wgx_index_table *indices;
};

void wgx_keypairs_init(struct wgx_keypairs *kps,
		       struct wgx_index_table *indices);

/* A zeroed keypair in sodium_malloc'd memory (the spare if any), or NULL. */
struct wgx_keypair *wgx_keypairs_alloc(struct wgx_keypairs *kps);
/*
 * Remove kp's index from the table and zero it; keep it as the spare or
 * sodium_free() it. NULL is a no-op.
 */
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
/*
 * Free all three and the spare (peer removed, key changed, 3 x
 * REJECT_AFTER_TIME without a new session).
 */
void wgx_keypairs_clear(struct wgx_keypairs *kps);

#endif
