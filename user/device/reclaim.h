/* SPDX-License-Identifier: MIT */
/*
 * Deferred frees for what the agent unpublishes (a removed peer, a retired
 * keypair, an AllowedIPs node, an index entry). An object handed to
 * wgx_reclaim_defer() is freed once
 *   1. a grace period has passed (rcu.h): no worker still holds a pointer
 *      it read from the published state, and
 *   2. every packet batch that was already in flight then has left the
 *      datapath: batches carry pointers (a keypair, a peer) from the
 *      worker that read them to the worker that finishes them, past the
 *      reader's quiescent state. The datapath tells which batches those
 *      are through the barrier callbacks.
 * The agent calls wgx_reclaim_poll() once per loop iteration; one grace
 * period covers everything deferred since the last poll, so a reload that
 * removes 100,000 objects waits once, not 100,000 times.
 *
 * Agent thread only: defer, poll and flush are not thread-safe.
 */
#ifndef WGX_RECLAIM_H
#define WGX_RECLAIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	/* Ordered batch rings a barrier can describe (two per worker). */
	WGX_RECLAIM_MAX_RINGS = 2 * 256,
};

#include "core/retire.h"

/*
 * How far the datapath's rings have got: snapshot() writes, per ring, the
 * sequence number of the next batch to be queued; passed() says whether
 * every ring has finished every batch before its snapshot value.
 */
struct wgx_reclaim_barrier {
	unsigned int (*snapshot)(void *ctx, uint64_t *seq, unsigned int max);
	bool (*passed)(void *ctx, const uint64_t *seq, unsigned int n);
	void *ctx;
};

struct wgx_reclaim_item {
	wgx_free_fn fn;
	void *obj;
};

/* Items that wait for one grace period, or for its batches to drain. */
struct wgx_reclaim_gen {
	struct wgx_reclaim_item *items;
	size_t n, cap;
	uint64_t *seq; /* the barrier's snapshot, once synchronized */
	unsigned int nseq;
};

struct wgx_reclaim {
	struct wgx_reclaim_gen pending;	 /* deferred, no grace period yet */
	struct wgx_reclaim_gen *waiting; /* past a grace period, draining */
	size_t n_waiting, cap_waiting;
	struct wgx_reclaim_barrier barrier; /* fn NULL: none */
	uint64_t freed;			    /* objects freed so far */
};

void wgx_reclaim_init(struct wgx_reclaim *r);
/* Set or clear (NULL) the datapath's rings; flushes nothing. */
void wgx_reclaim_set_barrier(struct wgx_reclaim *r,
			     const struct wgx_reclaim_barrier *b);

/*
 * Free obj with fn(obj) once no worker can reach it. Never fails: if the
 * list cannot grow it waits for a grace period and frees at once.
 */
void wgx_reclaim_defer(struct wgx_reclaim *r, wgx_free_fn fn, void *obj);
/* A struct wgx_retire (core/retire.h) that defers through r. */
struct wgx_retire wgx_reclaim_retire(struct wgx_reclaim *r);
/* Objects deferred and not freed yet. */
size_t wgx_reclaim_pending(const struct wgx_reclaim *r);
/*
 * One step: start a grace period for what was deferred since the last
 * call (blocks until the workers pass a quiescent state, a batch at
 * most), and free whatever has drained. Cheap when nothing is pending.
 */
void wgx_reclaim_poll(struct wgx_reclaim *r);
/*
 * Free everything now: the workers are stopped (shutdown) or none ever
 * ran. Also frees the lists.
 */
void wgx_reclaim_flush(struct wgx_reclaim *r);

#endif
