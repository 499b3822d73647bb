// SPDX-License-Identifier: MIT
/*
 * Generations of deferred frees. "pending" collects what was deferred
 * since the last poll; a poll moves it, after one grace period and with
 * the rings' positions at that moment, to the "waiting" list, whose
 * generations are freed oldest first once the datapath has moved past
 * their positions.
 */
#include "device/reclaim.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "device/rcu.h"

enum {
	FIRST_CAP = 64,
};

void wgx_reclaim_init(struct wgx_reclaim *r)
{
	memset(r, 0, sizeof(*r));
}

void wgx_reclaim_set_barrier(struct wgx_reclaim *r,
			     const struct wgx_reclaim_barrier *b)
{
	if (b)
		r->barrier = *b;
	else
		memset(&r->barrier, 0, sizeof(r->barrier));
}

static void gen_free_items(struct wgx_reclaim *r, struct wgx_reclaim_gen *g)
{
	for (size_t i = 0; i < g->n; i++)
		g->items[i].fn(g->items[i].obj);
	r->freed += g->n;
	g->n = 0;
}

static void gen_release(struct wgx_reclaim_gen *g)
{
	free(g->items);
	free(g->seq);
	memset(g, 0, sizeof(*g));
}

static bool gen_grow(struct wgx_reclaim_gen *g)
{
	size_t cap = g->cap ? 2 * g->cap : FIRST_CAP;
	struct wgx_reclaim_item *n = realloc(g->items, cap * sizeof(*n));

	if (!n)
		return false;
	g->items = n;
	g->cap = cap;
	return true;
}

/* The barrier's view now; false when there is nothing to wait for. */
static bool snapshot(struct wgx_reclaim *r, struct wgx_reclaim_gen *g)
{
	if (!r->barrier.snapshot)
		return false;
	g->seq = calloc(WGX_RECLAIM_MAX_RINGS, sizeof(*g->seq));
	if (!g->seq)
		return false;
	g->nseq = r->barrier.snapshot(r->barrier.ctx, g->seq,
				      WGX_RECLAIM_MAX_RINGS);
	return g->nseq > 0;
}

static bool drained(struct wgx_reclaim *r, const struct wgx_reclaim_gen *g)
{
	return !g->nseq || !r->barrier.passed ||
	       r->barrier.passed(r->barrier.ctx, g->seq, g->nseq);
}

/* Out of memory for the lists: wait for the batches in flight right here. */
static void free_now(struct wgx_reclaim *r, struct wgx_reclaim_gen *g)
{
	if (snapshot(r, g))
		while (!drained(r, g))
			usleep(100);
	gen_free_items(r, g);
	gen_release(g);
}

void wgx_reclaim_defer(struct wgx_reclaim *r, wgx_free_fn fn, void *obj)
{
	struct wgx_reclaim_gen *g = &r->pending;

	if (g->n == g->cap && !gen_grow(g)) {
		/* Free what is pending and obj itself after one wait. */
		struct wgx_reclaim_gen now = *g;

		memset(g, 0, sizeof(*g));
		wgx_rcu_synchronize();
		fn(obj);
		r->freed++;
		free_now(r, &now);
		return;
	}
	g->items[g->n++] = (struct wgx_reclaim_item){ fn, obj };
}

static void defer_cb(void *ctx, wgx_free_fn fn, void *obj)
{
	wgx_reclaim_defer(ctx, fn, obj);
}

struct wgx_retire wgx_reclaim_retire(struct wgx_reclaim *r)
{
	return (struct wgx_retire){ .defer = defer_cb, .ctx = r };
}

size_t wgx_reclaim_pending(const struct wgx_reclaim *r)
{
	size_t n = r->pending.n;

	for (size_t i = 0; i < r->n_waiting; i++)
		n += r->waiting[i].n;
	return n;
}

/* Move pending to the waiting list (after the grace period was waited). */
static void start_waiting(struct wgx_reclaim *r)
{
	struct wgx_reclaim_gen g = r->pending;

	memset(&r->pending, 0, sizeof(r->pending));
	if (!snapshot(r, &g) || drained(r, &g)) {
		gen_free_items(r, &g);
		gen_release(&g);
		return;
	}
	if (r->n_waiting == r->cap_waiting) {
		size_t cap = r->cap_waiting ? 2 * r->cap_waiting : 4;
		struct wgx_reclaim_gen *n =
			realloc(r->waiting, cap * sizeof(*n));

		if (!n) {
			free_now(r, &g);
			return;
		}
		r->waiting = n;
		r->cap_waiting = cap;
	}
	r->waiting[r->n_waiting++] = g;
}

void wgx_reclaim_poll(struct wgx_reclaim *r)
{
	size_t done = 0;

	if (r->pending.n) {
		wgx_rcu_synchronize();
		start_waiting(r);
	}
	/* Oldest first: a later generation never drains before an earlier. */
	while (done < r->n_waiting && drained(r, &r->waiting[done])) {
		gen_free_items(r, &r->waiting[done]);
		gen_release(&r->waiting[done]);
		done++;
	}
	if (done) {
		memmove(r->waiting, r->waiting + done,
			(r->n_waiting - done) * sizeof(*r->waiting));
		r->n_waiting -= done;
	}
}

void wgx_reclaim_flush(struct wgx_reclaim *r)
{
	for (size_t i = 0; i < r->n_waiting; i++) {
		gen_free_items(r, &r->waiting[i]);
		gen_release(&r->waiting[i]);
	}
	free(r->waiting);
	r->waiting = NULL;
	r->n_waiting = r->cap_waiting = 0;
	gen_free_items(r, &r->pending);
	gen_release(&r->pending);
}
