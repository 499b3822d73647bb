// SPDX-License-Identifier: MIT
/* The receiver-index table: uniqueness, removal, replacement, misses. */
#include "test.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/crypto.h"
#include "core/index.h"

enum {
	MANY = 100000,
	MODEL_KEYS = 512,
	MODEL_OPS = 200000,
};

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* ptr values that name slot i without pointing anywhere real. */
static void *tag(uintptr_t i)
{
	return (void *)(i * 16 + 16);
}

static void test_index_unique(void)
{
	struct wgx_index_table *t = wgx_index_new();
	uint32_t *idx = calloc(MANY, sizeof(*idx));
	uint32_t *sorted = calloc(MANY, sizeof(*sorted));
	unsigned int bad = 0;

	CHECK(t && idx && sorted);
	if (!t || !idx || !sorted)
		goto out;
	for (uintptr_t i = 0; i < MANY; i++)
		if (wgx_index_insert(t, WGX_INDEX_HANDSHAKE, tag(i), tag(i + 1),
				     &idx[i]) != 0 ||
		    idx[i] == 0)
			bad++;
	CHECK(bad == 0);
	CHECK(wgx_index_count(t) == MANY);
	memcpy(sorted, idx, MANY * sizeof(*idx));
	qsort(sorted, MANY, sizeof(*sorted), cmp_u32);
	for (size_t i = 1; i < MANY; i++)
		if (sorted[i] == sorted[i - 1])
			bad++;
	CHECK(bad == 0);
	for (uintptr_t i = 0; i < MANY; i++) {
		struct wgx_index_entry e;

		if (!wgx_index_lookup(t, idx[i], WGX_INDEX_HANDSHAKE, &e) ||
		    e.index != idx[i] || e.ptr != tag(i) ||
		    e.owner != tag(i + 1) || e.type != WGX_INDEX_HANDSHAKE)
			bad++;
	}
	CHECK(bad == 0);
out:
	free(sorted);
	free(idx);
	wgx_index_free(t);
}

static void test_index_remove(void)
{
	struct wgx_index_table *t = wgx_index_new();
	uint32_t idx[1000];
	unsigned int bad = 0;

	CHECK(t != NULL);
	if (!t)
		return;
	for (uintptr_t i = 0; i < 1000; i++)
		CHECK(wgx_index_insert(t, WGX_INDEX_KEYPAIR, tag(i), NULL,
				       &idx[i]) == 0);
	for (size_t i = 0; i < 1000; i += 2)
		CHECK(wgx_index_remove(t, idx[i]) == 0);
	CHECK(wgx_index_count(t) == 500);
	for (uintptr_t i = 0; i < 1000; i++) {
		struct wgx_index_entry e;
		bool hit = wgx_index_lookup(t, idx[i], WGX_INDEX_KEYPAIR, &e);

		if (i % 2 ? !hit || e.ptr != tag(i) : hit)
			bad++;
	}
	CHECK(bad == 0);
	CHECK(wgx_index_remove(t, idx[0]) == -ENOENT);
	CHECK(wgx_index_remove(t, 0) == -ENOENT);
	CHECK(wgx_index_count(t) == 500);
	wgx_index_free(t);
}

static void test_index_replace(void)
{
	struct wgx_index_table *t = wgx_index_new();
	struct wgx_index_entry e;
	uint32_t i;

	CHECK(t != NULL);
	if (!t)
		return;
	CHECK(wgx_index_insert(t, WGX_INDEX_HANDSHAKE, tag(1), tag(9), &i) ==
	      0);
	CHECK(wgx_index_replace(t, i, WGX_INDEX_KEYPAIR, tag(2)) == 0);
	CHECK(!wgx_index_lookup(t, i, WGX_INDEX_HANDSHAKE, &e));
	CHECK(wgx_index_lookup(t, i, WGX_INDEX_KEYPAIR, &e));
	CHECK(e.index == i && e.ptr == tag(2) && e.owner == tag(9) &&
	      e.type == WGX_INDEX_KEYPAIR);
	CHECK(wgx_index_lookup(t, i, WGX_INDEX_KEYPAIR | WGX_INDEX_HANDSHAKE,
			       NULL));
	CHECK(wgx_index_count(t) == 1);
	CHECK(wgx_index_replace(t, i + 1, WGX_INDEX_KEYPAIR, tag(3)) ==
	      -ENOENT);
	CHECK(wgx_index_replace(t, 0, WGX_INDEX_KEYPAIR, tag(3)) == -ENOENT);
	wgx_index_free(t);
}

static void test_index_misses(void)
{
	struct wgx_index_table *t = wgx_index_new();
	struct wgx_index_entry e = { 0 };
	uint32_t i;

	CHECK(t != NULL);
	if (!t)
		return;
	CHECK(!wgx_index_lookup(t, 1234, WGX_INDEX_HANDSHAKE, &e));
	CHECK(!wgx_index_lookup(t, 0, WGX_INDEX_HANDSHAKE, &e));
	CHECK(wgx_index_insert(t, WGX_INDEX_HANDSHAKE, tag(1), NULL, &i) == 0);
	CHECK(!wgx_index_lookup(t, i, WGX_INDEX_KEYPAIR, &e));
	CHECK(!wgx_index_lookup(t, i ^ 1, WGX_INDEX_HANDSHAKE, &e));
	CHECK(!wgx_index_lookup(t, 0, ~0u, &e));
	/* A miss leaves *out alone. */
	CHECK(e.ptr == NULL && e.index == 0);
	wgx_index_free(t);
}

static void test_index_insert_at(void)
{
	struct wgx_index_table *t = wgx_index_new();
	struct wgx_index_entry e;

	CHECK(t != NULL);
	if (!t)
		return;
	CHECK(wgx_index_insert_at(t, 0, WGX_INDEX_HANDSHAKE, tag(1), NULL) ==
	      -EINVAL);
	CHECK(wgx_index_insert_at(t, 439041101, WGX_INDEX_HANDSHAKE, tag(1),
				  NULL) == 0);
	CHECK(wgx_index_insert_at(t, 439041101, WGX_INDEX_KEYPAIR, tag(2),
				  NULL) == -EEXIST);
	CHECK(wgx_index_lookup(t, 439041101, WGX_INDEX_HANDSHAKE, &e) &&
	      e.ptr == tag(1));
	CHECK(wgx_index_count(t) == 1);
	wgx_index_free(t);
}

/*
 * Random inserts and removes over a small key space, checked against a
 * plain array after every step: exercises probe runs that wrap, growth and
 * backward-shift deletion in the middle of runs.
 */
static void test_index_model(void)
{
	struct wgx_index_table *t = wgx_index_new();
	static bool present[MODEL_KEYS];
	unsigned int bad = 0, count = 0;

	CHECK(t != NULL);
	if (!t)
		return;
	memset(present, 0, sizeof(present));
	for (int op = 0; op < MODEL_OPS; op++) {
		uint32_t k = wgx_crypto_random_below(MODEL_KEYS - 1) + 1;
		struct wgx_index_entry e;
		int ret;

		if (wgx_crypto_random_below(2)) {
			ret = wgx_index_insert_at(t, k, WGX_INDEX_KEYPAIR,
						  tag(k), NULL);
			if (ret != (present[k] ? -EEXIST : 0))
				bad++;
			count += !present[k];
			present[k] = true;
		} else {
			ret = wgx_index_remove(t, k);
			if (ret != (present[k] ? 0 : -ENOENT))
				bad++;
			count -= present[k];
			present[k] = false;
		}
		k = wgx_crypto_random_below(MODEL_KEYS - 1) + 1;
		if (wgx_index_lookup(t, k, WGX_INDEX_KEYPAIR, &e) !=
			    present[k] ||
		    (present[k] && e.ptr != tag(k)))
			bad++;
		if (wgx_index_count(t) != count)
			bad++;
	}
	for (uint32_t k = 1; k < MODEL_KEYS; k++)
		if (wgx_index_lookup(t, k, WGX_INDEX_KEYPAIR, NULL) !=
		    present[k])
			bad++;
	CHECK(bad == 0);
	wgx_index_free(t);
}

struct seen {
	int inserts, replaces, removes;
	uint32_t last_index;
	uint32_t last_type;
	bool present_during_remove;
	int refuse; /* error to answer inserts and replaces with */
	struct wgx_index_table *t;
};

static int observe(void *ctx, const struct wgx_index_entry *e, bool present)
{
	struct seen *s = ctx;

	if (present && s->refuse)
		return s->refuse;

	s->last_index = e->index;
	s->last_type = e->type;
	if (!present) {
		s->removes++;
		/* Told before the removal: the entry is still there. */
		s->present_during_remove =
			wgx_index_lookup(s->t, e->index, ~0u, NULL);
	} else if (e->type == WGX_INDEX_KEYPAIR) {
		s->replaces++;
	} else {
		s->inserts++;
	}
	return 0;
}

static void test_index_observer(void)
{
	struct wgx_index_table *t = wgx_index_new();
	struct seen s = { 0 };
	int obj;
	uint32_t idx = 0;

	CHECK(t);
	if (!t)
		return;
	s.t = t;
	wgx_index_set_observer(t, observe, &s);
	CHECK(wgx_index_insert(t, WGX_INDEX_HANDSHAKE, &obj, &obj, &idx) == 0);
	CHECK(s.inserts == 1 && s.last_index == idx);
	CHECK(wgx_index_replace(t, idx, WGX_INDEX_KEYPAIR, &obj) == 0);
	CHECK(s.replaces == 1 && s.last_type == WGX_INDEX_KEYPAIR);
	CHECK(wgx_index_remove(t, idx) == 0);
	CHECK(s.removes == 1 && s.last_index == idx && s.present_during_remove);
	/* Failed operations tell nothing. */
	CHECK(wgx_index_remove(t, idx) == -ENOENT);
	CHECK(wgx_index_replace(t, idx, WGX_INDEX_KEYPAIR, &obj) == -ENOENT);
	CHECK(s.removes == 1 && s.replaces == 1);
	wgx_index_set_observer(t, NULL, NULL);
	CHECK(wgx_index_insert(t, WGX_INDEX_HANDSHAKE, &obj, &obj, &idx) == 0);
	CHECK(s.inserts == 1);
	wgx_index_free(t);
}

/* An observer that says no (the XDP map is full) leaves the table as is. */
static void test_index_observer_refuses(void)
{
	struct wgx_index_table *t = wgx_index_new();
	struct seen s = { 0 };
	struct wgx_index_entry e;
	int obj, other;
	uint32_t idx = 0, idx2 = 0;

	CHECK(t);
	if (!t)
		return;
	s.t = t;
	wgx_index_set_observer(t, observe, &s);
	CHECK(wgx_index_insert(t, WGX_INDEX_HANDSHAKE, &obj, &obj, &idx) == 0);
	s.refuse = -ENOSPC;
	CHECK(wgx_index_insert(t, WGX_INDEX_HANDSHAKE, &obj, &obj, &idx2) ==
	      -ENOSPC);
	CHECK(wgx_index_insert_at(t, 77, WGX_INDEX_HANDSHAKE, &obj, &obj) ==
	      -ENOSPC);
	CHECK(wgx_index_count(t) == 1);
	CHECK(!wgx_index_lookup(t, 77, ~0u, NULL));
	CHECK(wgx_index_replace(t, idx, WGX_INDEX_KEYPAIR, &other) == -ENOSPC);
	CHECK(wgx_index_lookup(t, idx, ~0u, &e) &&
	      e.type == WGX_INDEX_HANDSHAKE && e.ptr == &obj);
	s.refuse = 0;
	CHECK(wgx_index_replace(t, idx, WGX_INDEX_KEYPAIR, &other) == 0);
	wgx_index_free(t);
}

/* Retired nodes collected here and freed at the end of a test. */
struct graveyard {
	void *obj[1 << 16];
	wgx_free_fn fn[1 << 16];
	size_t n;
};

static void bury(void *ctx, wgx_free_fn fn, void *obj)
{
	struct graveyard *g = ctx;

	if (g->n == sizeof(g->obj) / sizeof(g->obj[0])) {
		fn(obj); /* full: only in a test that no reader runs in */
		return;
	}
	g->obj[g->n] = obj;
	g->fn[g->n++] = fn;
}

static void graveyard_empty(struct graveyard *g)
{
	for (size_t i = 0; i < g->n; i++)
		g->fn[i](g->obj[i]);
	g->n = 0;
}

struct reader {
	struct wgx_index_table *t;
	const uint32_t *stable; /* never removed while the reader runs */
	size_t n_stable;
	_Atomic bool stop;
	unsigned long misses;
	_Atomic unsigned long lookups;
};

static void *read_loop(void *arg)
{
	struct reader *r = arg;

	while (!atomic_load(&r->stop)) {
		for (size_t i = 0; i < r->n_stable; i++) {
			struct wgx_index_entry e;

			if (!wgx_index_lookup(r->t, r->stable[i], ~0u, &e) ||
			    e.index != r->stable[i])
				r->misses++;
			r->lookups++;
		}
	}
	return NULL;
}

/*
 * A reader thread never misses an index that stays, while the writer
 * inserts, replaces and removes others and the bucket array grows.
 */
static void test_index_concurrent_reader(void)
{
	static struct graveyard g;
	struct wgx_retire retire = { bury, &g };
	struct wgx_index_table *t = wgx_index_new();
	uint32_t stable[64], churn[2000];
	struct reader r = { 0 };
	pthread_t th;
	int obj;

	CHECK(t);
	if (!t)
		return;
	g.n = 0;
	wgx_index_set_retire(t, &retire);
	for (size_t i = 0; i < 64; i++)
		CHECK(wgx_index_insert(t, WGX_INDEX_KEYPAIR, &obj, &obj,
				       &stable[i]) == 0);
	r.t = t;
	r.stable = stable;
	r.n_stable = 64;
	CHECK(pthread_create(&th, NULL, read_loop, &r) == 0);
	/* On a loaded machine the reader may start late: the churn begins
	 * once it reads (for at most 10 s). */
	for (int i = 0; i < 10000 && atomic_load(&r.lookups) == 0; i++)
		usleep(1000);
	for (int round = 0; round < 5; round++) {
		for (size_t i = 0; i < 2000; i++)
			CHECK(wgx_index_insert(t, WGX_INDEX_HANDSHAKE, &obj,
					       &obj, &churn[i]) == 0);
		for (size_t i = 0; i < 2000; i += 2)
			CHECK(wgx_index_replace(t, churn[i], WGX_INDEX_KEYPAIR,
						&obj) == 0);
		for (size_t i = 0; i < 2000; i++)
			CHECK(wgx_index_remove(t, churn[i]) == 0);
	}
	atomic_store(&r.stop, true);
	pthread_join(th, NULL);
	CHECK(r.lookups > 0);
	CHECK(r.misses == 0);
	CHECK(wgx_index_count(t) == 64);
	graveyard_empty(&g);
	wgx_index_free(t);
}

static void test_index_reserve(void)
{
	struct wgx_index_table *t = wgx_index_new();
	uint32_t idx;
	int obj;

	CHECK(t && wgx_index_reserve(t, 300000) == 0);
	for (int i = 0; t && i < 1000; i++)
		CHECK(wgx_index_insert(t, WGX_INDEX_KEYPAIR, &obj, &obj,
				       &idx) == 0);
	CHECK(t && wgx_index_count(t) == 1000);
	wgx_index_free(t);
}

static const struct wgx_test index_tests[] = {
	{ "index: an observer's error refuses the change",
	  test_index_observer_refuses },
	{ "index: a concurrent reader never misses a stable index",
	  test_index_concurrent_reader },
	{ "index: reserve sizes the table up front", test_index_reserve },
	{ "index: observer told of insert, replace and remove",
	  test_index_observer },
	{ "index: unique random indices over many inserts", test_index_unique },
	{ "index: remove", test_index_remove },
	{ "index: replace keeps index and owner", test_index_replace },
	{ "index: lookup misses (unknown, zero, wrong type)",
	  test_index_misses },
	{ "index: insert at a chosen index", test_index_insert_at },
	{ "index: random operations match a model", test_index_model },
};
WGX_SUITE(index_tests)
