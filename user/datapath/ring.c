// SPDX-License-Identifier: MIT
/*
 * The emit token's lost-wakeup race: a worker marks its batch DONE and
 * fails to take the token because another worker is emitting; that one
 * may already have looked at the slot. So the emitter looks again after
 * it releases the token, and both steps are sequentially consistent: if
 * the DONE store came first in that order, the look sees it; if not, the
 * failed exchange came after the release, and it did not fail.
 */
#include "datapath/ring.h"

#include <stddef.h>

void wgx_ring_init(struct wgx_ring *r, unsigned int size, void **batches)
{
	r->size = size;
	r->mask = size - 1;
	r->tail = 0;
	atomic_init(&r->produced, 0);
	atomic_init(&r->claim, 0);
	atomic_init(&r->head, 0);
	atomic_init(&r->emitting, false);
	for (unsigned int i = 0; i < WGX_RING_MAX; i++) {
		atomic_init(&r->slot[i].state, WGX_SLOT_FREE);
		r->slot[i].batch = i < size ? batches[i] : NULL;
	}
}

void *wgx_ring_next_free(struct wgx_ring *r)
{
	struct wgx_ring_slot *s = &r->slot[r->tail & r->mask];

	if (atomic_load_explicit(&s->state, memory_order_acquire) !=
	    WGX_SLOT_FREE)
		return NULL;
	return s->batch;
}

void wgx_ring_produce(struct wgx_ring *r)
{
	struct wgx_ring_slot *s = &r->slot[r->tail & r->mask];

	atomic_store_explicit(&s->state, WGX_SLOT_READY, memory_order_release);
	r->tail++;
	atomic_store_explicit(&r->produced, r->tail, memory_order_release);
}

void *wgx_ring_claim(struct wgx_ring *r, uint64_t *seq)
{
	uint64_t c = atomic_load_explicit(&r->claim, memory_order_relaxed);

	for (;;) {
		if (c >=
		    atomic_load_explicit(&r->produced, memory_order_acquire))
			return NULL;
		if (atomic_compare_exchange_weak_explicit(&r->claim, &c, c + 1,
							  memory_order_acq_rel,
							  memory_order_relaxed))
			break;
	}
	atomic_store_explicit(&r->slot[c & r->mask].state, WGX_SLOT_BUSY,
			      memory_order_relaxed);
	*seq = c;
	return r->slot[c & r->mask].batch;
}

unsigned int wgx_ring_claimable(const struct wgx_ring *r)
{
	uint64_t p = atomic_load_explicit(&r->produced, memory_order_acquire);
	uint64_t c = atomic_load_explicit(&r->claim, memory_order_relaxed);

	return p > c ? (unsigned int)(p - c) : 0;
}

/* The head batch, if it is done. */
static struct wgx_ring_slot *done_head(struct wgx_ring *r, uint64_t *h)
{
	struct wgx_ring_slot *s;

	*h = atomic_load_explicit(&r->head, memory_order_relaxed);
	if (*h >= atomic_load_explicit(&r->produced, memory_order_acquire))
		return NULL;
	s = &r->slot[*h & r->mask];
	return atomic_load(&s->state) == WGX_SLOT_DONE ? s : NULL;
}

unsigned int wgx_ring_done(struct wgx_ring *r, uint64_t seq,
			   void (*finish)(void *ctx, void *batch), void *ctx)
{
	unsigned int n = 0;
	struct wgx_ring_slot *s;
	uint64_t h;

	atomic_store(&r->slot[seq & r->mask].state, WGX_SLOT_DONE);
	do {
		if (atomic_exchange(&r->emitting, true))
			return n;
		while ((s = done_head(r, &h))) {
			finish(ctx, s->batch);
			atomic_store_explicit(&s->state, WGX_SLOT_FREE,
					      memory_order_release);
			atomic_store_explicit(&r->head, h + 1,
					      memory_order_release);
			n++;
		}
		atomic_store(&r->emitting, false);
	} while (done_head(r, &h));
	return n;
}

uint64_t wgx_ring_produced(const struct wgx_ring *r)
{
	return atomic_load_explicit(&r->produced, memory_order_acquire);
}

uint64_t wgx_ring_finished(const struct wgx_ring *r)
{
	return atomic_load_explicit(&r->head, memory_order_acquire);
}

bool wgx_ring_idle(const struct wgx_ring *r)
{
	return wgx_ring_finished(r) == wgx_ring_produced(r);
}
