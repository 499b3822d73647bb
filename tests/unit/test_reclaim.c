// SPDX-License-Identifier: MIT
/* Deferred frees: after a grace period, and only once batches drained. */
#include "test.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "device/rcu.h"
#include "device/reclaim.h"

static int freed_count;

static void count_free(void *obj)
{
	freed_count++;
	free(obj);
}

/* A datapath of two rings whose "emitted" positions the test moves. */
struct fake_rings {
	uint64_t queued[2];
	uint64_t emitted[2];
};

static unsigned int fake_snapshot(void *ctx, uint64_t *seq, unsigned int max)
{
	struct fake_rings *f = ctx;

	for (unsigned int i = 0; i < 2 && i < max; i++)
		seq[i] = f->queued[i];
	return 2;
}

static bool fake_passed(void *ctx, const uint64_t *seq, unsigned int n)
{
	struct fake_rings *f = ctx;

	for (unsigned int i = 0; i < n; i++)
		if (f->emitted[i] < seq[i])
			return false;
	return true;
}

static void test_reclaim_no_barrier(void)
{
	struct wgx_reclaim r;

	freed_count = 0;
	wgx_reclaim_init(&r);
	for (int i = 0; i < 1000; i++)
		wgx_reclaim_defer(&r, count_free, malloc(16));
	CHECK(freed_count == 0);
	CHECK(wgx_reclaim_pending(&r) == 1000);
	wgx_reclaim_poll(&r);
	CHECK(freed_count == 1000);
	CHECK(wgx_reclaim_pending(&r) == 0);
	wgx_reclaim_poll(&r); /* nothing pending: a no-op */
	CHECK(r.freed == 1000);
	wgx_reclaim_flush(&r);
}

static void test_reclaim_waits_for_batches(void)
{
	struct fake_rings f = { .queued = { 5, 9 }, .emitted = { 3, 9 } };
	struct wgx_reclaim_barrier b = { fake_snapshot, fake_passed, &f };
	struct wgx_reclaim r;

	freed_count = 0;
	wgx_reclaim_init(&r);
	wgx_reclaim_set_barrier(&r, &b);
	wgx_reclaim_defer(&r, count_free, malloc(16));
	wgx_reclaim_poll(&r);
	/* Ring 0 still has batches 3 and 4 in flight. */
	CHECK(freed_count == 0);
	f.queued[0] = 8; /* later batches do not matter */
	wgx_reclaim_defer(&r, count_free, malloc(16));
	wgx_reclaim_poll(&r);
	CHECK(freed_count == 0);
	f.emitted[0] = 5;
	wgx_reclaim_poll(&r);
	/* The first generation drained; the second waits for batch 7. */
	CHECK(freed_count == 1);
	f.emitted[0] = 8;
	wgx_reclaim_poll(&r);
	CHECK(freed_count == 2);
	CHECK(wgx_reclaim_pending(&r) == 0);
	wgx_reclaim_flush(&r);
}

static void test_reclaim_flush(void)
{
	struct fake_rings f = { .queued = { 1, 1 }, .emitted = { 0, 0 } };
	struct wgx_reclaim_barrier b = { fake_snapshot, fake_passed, &f };
	struct wgx_reclaim r;

	freed_count = 0;
	wgx_reclaim_init(&r);
	wgx_reclaim_set_barrier(&r, &b);
	wgx_reclaim_defer(&r, count_free, malloc(16));
	wgx_reclaim_poll(&r);
	wgx_reclaim_defer(&r, count_free, malloc(16));
	CHECK(freed_count == 0);
	wgx_reclaim_flush(&r);
	CHECK(freed_count == 2);
	CHECK(wgx_reclaim_pending(&r) == 0);
}

/*
 * A registered reader that never reaches a quiescent state while it holds
 * a pointer: the object it reads is not freed under it.
 */
struct holder {
	_Atomic int *shared;
	_Atomic int state; /* 1: holding, 2: released, 3: stop */
};

static void *hold_then_release(void *arg)
{
	struct holder *h = arg;

	wgx_rcu_register();
	atomic_store(&h->state, 1);
	/* Hold the pointer for a while, reading it. */
	for (int i = 0; i < 2000; i++) {
		(void)atomic_load(h->shared);
		usleep(50);
	}
	atomic_store(&h->state, 2);
	wgx_rcu_quiescent();
	wgx_rcu_offline();
	while (atomic_load(&h->state) != 3)
		usleep(100);
	wgx_rcu_online();
	wgx_rcu_unregister();
	return NULL;
}

static void free_and_mark(void *obj)
{
	freed_count++;
	free(obj);
}

static void test_reclaim_grace_period(void)
{
	struct holder h = { 0 };
	struct wgx_reclaim r;
	pthread_t th;

	freed_count = 0;
	h.shared = malloc(sizeof(*h.shared));
	atomic_store(h.shared, 7);
	wgx_reclaim_init(&r);
	CHECK(pthread_create(&th, NULL, hold_then_release, &h) == 0);
	while (atomic_load(&h.state) != 1)
		usleep(100);
	wgx_reclaim_defer(&r, free_and_mark, (void *)h.shared);
	/* Blocks until the reader's quiescent state. */
	wgx_reclaim_poll(&r);
	CHECK(atomic_load(&h.state) == 2);
	CHECK(freed_count == 1);
	atomic_store(&h.state, 3);
	pthread_join(th, NULL);
	wgx_reclaim_flush(&r);
}

static const struct wgx_test reclaim_tests[] = {
	{ "reclaim: frees after a grace period", test_reclaim_no_barrier },
	{ "reclaim: waits for batches in flight",
	  test_reclaim_waits_for_batches },
	{ "reclaim: flush frees everything", test_reclaim_flush },
	{ "reclaim: a reader holding a pointer delays the free",
	  test_reclaim_grace_period },
};
WGX_SUITE(reclaim_tests)
