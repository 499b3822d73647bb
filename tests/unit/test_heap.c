// SPDX-License-Identifier: MIT
/* The min-heap of due timers against a brute-force model. */
#include "test.h"

#include <stdlib.h>

#include "util/heap.h"

enum {
	NODES = 500,
	OPS = 100000,
};

static void test_heap_model(void)
{
	static struct wgx_heap_node node[NODES];
	static bool in[NODES];
	struct wgx_heap h;
	unsigned int bad = 0;

	wgx_heap_init(&h);
	memset(node, 0, sizeof(node));
	memset(in, 0, sizeof(in));
	srand(7);
	for (int op = 0; op < OPS; op++) {
		int i = rand() % NODES;
		uint64_t key = (uint64_t)(rand() % 1000);
		struct wgx_heap_node *min;
		uint64_t want = UINT64_MAX;

		if (rand() % 3) {
			if (wgx_heap_set(&h, &node[i], key))
				bad++;
			in[i] = true;
		} else {
			wgx_heap_remove(&h, &node[i]);
			in[i] = false;
		}
		for (int k = 0; k < NODES; k++) {
			if (in[k] != wgx_heap_contains(&node[k]))
				bad++;
			if (in[k] && node[k].key < want)
				want = node[k].key;
		}
		min = wgx_heap_min(&h);
		if ((want == UINT64_MAX) != (min == NULL) ||
		    (min && min->key != want))
			bad++;
	}
	CHECK(bad == 0);
	wgx_heap_free(&h);
	for (int k = 0; k < NODES; k++)
		CHECK(!wgx_heap_contains(&node[k]));
}

static void test_heap_order(void)
{
	struct wgx_heap_node n[5] = { 0 };
	const uint64_t keys[5] = { 50, 10, 40, 20, 30 };
	struct wgx_heap h;
	uint64_t last = 0;

	wgx_heap_init(&h);
	for (int i = 0; i < 5; i++)
		CHECK(wgx_heap_set(&h, &n[i], keys[i]) == 0);
	/* Moving a key both ways keeps the order. */
	CHECK(wgx_heap_set(&h, &n[0], 5) == 0);
	CHECK(wgx_heap_min(&h) == &n[0]);
	CHECK(wgx_heap_set(&h, &n[0], 55) == 0);
	CHECK(wgx_heap_min(&h) == &n[1]);
	for (int i = 0; i < 5; i++) {
		struct wgx_heap_node *m = wgx_heap_min(&h);

		CHECK(m && m->key >= last);
		last = m ? m->key : last;
		if (m)
			wgx_heap_remove(&h, m);
	}
	CHECK(!wgx_heap_min(&h));
	wgx_heap_remove(&h, &n[2]); /* not in: a no-op */
	wgx_heap_free(&h);
}

static const struct wgx_test heap_tests[] = {
	{ "heap: random operations match a model", test_heap_model },
	{ "heap: pops in key order, keys move both ways", test_heap_order },
};
WGX_SUITE(heap_tests)
