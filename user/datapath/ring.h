/* SPDX-License-Identifier: MIT */
/*
 * An ordered ring of batches: one busy flow on every core without
 * reordering it (the kernel driver's design, per input rather than per
 * device). Each worker owns one ring per direction and is its only
 * producer: it fills the next free slot with a batch from its socket or
 * TUN queue, in arrival order. Any worker may then claim the oldest
 * unclaimed batch and do its crypto. Batches are finished (written to the
 * TUN, sent on the wire) strictly in ring order, by whichever worker
 * completes the oldest one: it takes the ring's emit token, finishes
 * every completed batch at the head, and leaves the rest to whoever
 * completes them. No one ever waits for another worker.
 *
 *   slot:   FREE --produce--> READY --claim--> BUSY --done--> DONE
 *            ^                                                  |
 *            +-------------------- emitted in order ------------+
 *
 * Flows never mix rings (a flow arrives on one socket or TUN queue), so
 * per-ring order is per-flow order.
 */
#ifndef WGX_RING_H
#define WGX_RING_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

enum wgx_slot_state {
	WGX_SLOT_FREE,
	WGX_SLOT_READY,
	WGX_SLOT_BUSY,
	WGX_SLOT_DONE,
};

enum {
	WGX_RING_MAX = 16, /* slots per ring, a power of two */
};

struct wgx_ring_slot {
	_Atomic int state; /* enum wgx_slot_state */
	void *batch;	   /* fixed for the ring's life */
};

struct wgx_ring {
	unsigned int size, mask;
	/* Producer only: the next sequence number to fill. */
	uint64_t tail;
	/* Published: batches filled so far (tail, for the others). */
	_Atomic uint64_t produced;
	/* Claimers: the next sequence number to claim. */
	_Atomic uint64_t claim;
	/* Emitter: the next sequence number to finish; batches finished. */
	_Atomic uint64_t head;
	_Atomic bool emitting;
	struct wgx_ring_slot slot[WGX_RING_MAX];
};

/* size: 1..WGX_RING_MAX, a power of two; batches[i] goes to slot i. */
void wgx_ring_init(struct wgx_ring *r, unsigned int size, void **batches);

/* Producer: the batch to fill next, or NULL while the ring is full. */
void *wgx_ring_next_free(struct wgx_ring *r);
/* Producer: the batch wgx_ring_next_free() gave is filled: publish it. */
void wgx_ring_produce(struct wgx_ring *r);

/* Any worker: claim the oldest filled batch, or NULL. */
void *wgx_ring_claim(struct wgx_ring *r, uint64_t *seq);
/* Batches filled and not claimed yet (a snapshot). */
unsigned int wgx_ring_claimable(const struct wgx_ring *r);

/*
 * The claimer is done with batch seq. Then, if no one else is emitting,
 * call finish(ctx, batch) for every done batch at the head, in order,
 * and free their slots. Returns how many this call finished.
 */
unsigned int wgx_ring_done(struct wgx_ring *r, uint64_t seq,
			   void (*finish)(void *ctx, void *batch), void *ctx);

/* Batches queued (produced) and finished so far: the reclaim barrier. */
uint64_t wgx_ring_produced(const struct wgx_ring *r);
uint64_t wgx_ring_finished(const struct wgx_ring *r);
/* Every batch was finished and no slot is in use. */
bool wgx_ring_idle(const struct wgx_ring *r);

#endif
