/* SPDX-License-Identifier: MIT */
/*
 * A binary min-heap of intrusive nodes keyed by a u64 (the agent's due
 * timers: one node per peer, keyed by its earliest deadline). Each node
 * knows its position, so changing a node's key or removing it is
 * O(log n), and the earliest is O(1): the agent's idle cost does not grow
 * with the number of peers. Not thread-safe.
 */
#ifndef WGX_HEAP_H
#define WGX_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct wgx_heap_node {
	uint64_t key;
	uint32_t pos; /* 0: not in a heap; else index + 1 */
};

struct wgx_heap {
	struct wgx_heap_node **v;
	size_t n, cap;
};

void wgx_heap_init(struct wgx_heap *h);
void wgx_heap_free(struct wgx_heap *h);

static inline bool wgx_heap_contains(const struct wgx_heap_node *n)
{
	return n->pos != 0;
}

/*
 * Put node in with key, or move it to key if it is in already. 0 or
 * -ENOMEM (the node is then where it was).
 */
int wgx_heap_set(struct wgx_heap *h, struct wgx_heap_node *node, uint64_t key);
/* Take node out; a no-op when it is not in. */
void wgx_heap_remove(struct wgx_heap *h, struct wgx_heap_node *node);
/* The node with the smallest key, or NULL when empty. */
struct wgx_heap_node *wgx_heap_min(const struct wgx_heap *h);

#endif
