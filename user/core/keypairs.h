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
 *   table and hands the keypair to the set's retire hook (core/retire.h),
 *   which wipes and frees it once no worker can still be using it.
 *
 * One writer (the agent) and lock-free readers (the workers): the three
 * slots are published with release stores and read with the acquire
 * loads below. A keypair never changes slots behind a reader's back in a
 * way that matters: a reader that saw it in "next" may report it for
 * confirmation after it moved, and the agent checks again.
 */
#ifndef WGX_KEYPAIRS_H
#define WGX_KEYPAIRS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/index.h"
#include "core/retire.h"
#include "core/keypair.h"

struct wgx_keypairs {
	/* Published: read them with the accessors below. */
	struct wgx_keypair *current;
	struct wgx_keypair *previous;
	struct wgx_keypair *next;
	/* The device's index table, where each keypair's local index lives. */
	struct wgx_index_table *indices;
	/* Where released keypairs go; NULL: wiped and freed at once. */
	const struct wgx_retire *retire;
};

static inline struct wgx_keypair *wgx_keypairs_current(
	const struct wgx_keypairs *kps)
{
	return __atomic_load_n(&kps->current, __ATOMIC_ACQUIRE);
}

static inline struct wgx_keypair *wgx_keypairs_previous(
	const struct wgx_keypairs *kps)
{
	return __atomic_load_n(&kps->previous, __ATOMIC_ACQUIRE);
}

static inline struct wgx_keypair *wgx_keypairs_next(
	const struct wgx_keypairs *kps)
{
	return __atomic_load_n(&kps->next, __ATOMIC_ACQUIRE);
}

void wgx_keypairs_init(struct wgx_keypairs *kps,
		       struct wgx_index_table *indices,
		       const struct wgx_retire *retire);

/* A zeroed keypair in locked, guarded memory, or NULL. */
struct wgx_keypair *wgx_keypairs_alloc(struct wgx_keypairs *kps);
/*
 * Remove kp's index from the table and retire it (wiped, then freed). NULL
 * is a no-op.
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
 * receive. now_ns is CLOCK_BOOTTIME, like kp->birth_ns.
 */
bool wgx_keypairs_usable(const struct wgx_keypair *kp, uint64_t now_ns);
/* The keypair to send with: current if usable, else NULL (any thread). */
struct wgx_keypair *wgx_keypairs_send_keypair(const struct wgx_keypairs *kps,
					      uint64_t now_ns);
/* Free every keypair of the set that is no longer usable; returns count. */
unsigned int wgx_keypairs_expire(struct wgx_keypairs *kps, uint64_t now_ns);
/*
 * Release all three (peer removed, key changed, 3 x REJECT_AFTER_TIME
 * without a new session).
 */
void wgx_keypairs_clear(struct wgx_keypairs *kps);

#endif
