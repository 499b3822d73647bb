// SPDX-License-Identifier: MIT
#include "util/heap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void wgx_heap_init(struct wgx_heap *h)
{
	memset(h, 0, sizeof(*h));
}

void wgx_heap_free(struct wgx_heap *h)
{
	for (size_t i = 0; i < h->n; i++)
		h->v[i]->pos = 0;
	free(h->v);
	wgx_heap_init(h);
}

static void place(struct wgx_heap *h, size_t i, struct wgx_heap_node *n)
{
	h->v[i] = n;
	n->pos = (uint32_t)(i + 1);
}

static void sift_up(struct wgx_heap *h, size_t i)
{
	struct wgx_heap_node *n = h->v[i];

	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (h->v[parent]->key <= n->key)
			break;
		place(h, i, h->v[parent]);
		i = parent;
	}
	place(h, i, n);
}

static void sift_down(struct wgx_heap *h, size_t i)
{
	struct wgx_heap_node *n = h->v[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= h->n)
			break;
		if (c + 1 < h->n && h->v[c + 1]->key < h->v[c]->key)
			c++;
		if (n->key <= h->v[c]->key)
			break;
		place(h, i, h->v[c]);
		i = c;
	}
	place(h, i, n);
}

int wgx_heap_set(struct wgx_heap *h, struct wgx_heap_node *node, uint64_t key)
{
	uint64_t old = node->key;

	if (node->pos) {
		node->key = key;
		if (key < old)
			sift_up(h, node->pos - 1);
		else
			sift_down(h, node->pos - 1);
		return 0;
	}
	if (h->n == h->cap) {
		size_t cap = h->cap ? 2 * h->cap : 64;
		struct wgx_heap_node **v = realloc(h->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		h->v = v;
		h->cap = cap;
	}
	node->key = key;
	place(h, h->n++, node);
	sift_up(h, h->n - 1);
	return 0;
}

void wgx_heap_remove(struct wgx_heap *h, struct wgx_heap_node *node)
{
	size_t i;
	struct wgx_heap_node *last;

	if (!node->pos)
		return;
	i = node->pos - 1;
	node->pos = 0;
	last = h->v[--h->n];
	if (i == h->n)
		return;
	place(h, i, last);
	if (i > 0 && h->v[(i - 1) / 2]->key > last->key)
		sift_up(h, i);
	else
		sift_down(h, i);
}

struct wgx_heap_node *wgx_heap_min(const struct wgx_heap *h)
{
	return h->n ? h->v[0] : NULL;
}
