// SPDX-License-Identifier: MIT
/*
 * A chained hash keyed by the index itself, spread with a Fibonacci
 * multiplier so that chosen indices (tests, insert_at) cluster no worse
 * than random ones. Readers follow acquire loads from the bucket array to
 * the node they want; the writer changes a chain only by a release store
 * of one link, after the node it links is complete:
 *
 *   insert   new->next = head; head = new
 *   replace  new->next = old->next; prev->next = new; retire(old)
 *   remove   prev->next = old->next; retire(old)
 *
 * A reader standing on a retired node still finds the rest of the chain
 * through it, which stays valid until the retire hook frees it. The bucket
 * array doubles when the table holds more entries than buckets; the new
 * array gets copies of the nodes, and the old array with its nodes is
 * retired as one object.
 */
#include "core/index.h"

#include <errno.h>
#include <stdlib.h>

#include "core/crypto.h"

enum {
	INITIAL_BITS = 6,
	MAX_BITS = 28,
	/* Collisions with 2^32 possible indices: never reached in practice. */
	MAX_RANDOM_TRIES = 1000,
};

struct node {
	struct node *next; /* published: __atomic release/acquire */
	struct wgx_index_entry e;
};

struct buckets {
	uint32_t bits;
	struct node *head[];
};

struct wgx_index_table {
	struct buckets *b; /* published: __atomic release/acquire */
	uint32_t count;
	wgx_index_observer_fn observer;
	void *observer_ctx;
	struct wgx_retire retire;
};

#define publish(slot, v) __atomic_store_n(&(slot), (v), __ATOMIC_RELEASE)
#define deref(slot)	 __atomic_load_n(&(slot), __ATOMIC_ACQUIRE)

static uint32_t home(uint32_t bits, uint32_t index)
{
	return (index * 0x9e3779b9u) >> (32 - bits);
}

static struct buckets *buckets_new(uint32_t bits)
{
	struct buckets *b = calloc(1, sizeof(*b) + ((size_t)1 << bits) *
							   sizeof(b->head[0]));

	if (b)
		b->bits = bits;
	return b;
}

/* Frees an array retired by a resize and every node still in it. */
static void buckets_free_all(void *obj)
{
	struct buckets *b = obj;

	for (size_t i = 0; i < ((size_t)1 << b->bits); i++) {
		struct node *n = b->head[i], *next;

		for (; n; n = next) {
			next = n->next;
			free(n);
		}
	}
	free(b);
}

struct wgx_index_table *wgx_index_new(void)
{
	struct wgx_index_table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->b = buckets_new(INITIAL_BITS);
	if (!t->b) {
		free(t);
		return NULL;
	}
	return t;
}

void wgx_index_free(struct wgx_index_table *t)
{
	if (!t)
		return;
	buckets_free_all(t->b);
	free(t);
}

void wgx_index_set_observer(struct wgx_index_table *t, wgx_index_observer_fn fn,
			    void *ctx)
{
	t->observer = fn;
	t->observer_ctx = ctx;
}

void wgx_index_set_retire(struct wgx_index_table *t,
			  const struct wgx_retire *retire)
{
	if (retire)
		t->retire = *retire;
	else
		t->retire = (struct wgx_retire){ 0 };
}

static int notify(const struct wgx_index_table *t,
		  const struct wgx_index_entry *e, bool present)
{
	return t->observer ? t->observer(t->observer_ctx, e, present) : 0;
}

/* The link that points at index's node, or at the chain's NULL end. */
static struct node **find_link(struct buckets *b, uint32_t index)
{
	struct node **link = &b->head[home(b->bits, index)];

	while (*link && (*link)->e.index != index)
		link = &(*link)->next;
	return link;
}

/* Copies of every node into a bigger array, swapped in whole. */
static int rebuild(struct wgx_index_table *t, uint32_t bits)
{
	struct buckets *old = t->b, *b = buckets_new(bits);

	if (!b)
		return -ENOMEM;
	for (size_t i = 0; i < ((size_t)1 << old->bits); i++) {
		for (struct node *n = old->head[i]; n; n = n->next) {
			struct node *c = malloc(sizeof(*c));
			uint32_t h = home(bits, n->e.index);

			if (!c) {
				buckets_free_all(b);
				return -ENOMEM;
			}
			c->e = n->e;
			c->next = b->head[h];
			b->head[h] = c;
		}
	}
	publish(t->b, b);
	wgx_retire(&t->retire, buckets_free_all, old);
	return 0;
}

int wgx_index_reserve(struct wgx_index_table *t, uint32_t n)
{
	uint32_t bits = t->b->bits;

	while (bits < MAX_BITS && ((uint64_t)1 << bits) < n)
		bits++;
	return bits > t->b->bits ? rebuild(t, bits) : 0;
}

/* Keep at most one entry per bucket on average; a failed grow is slower. */
static void grow_if_full(struct wgx_index_table *t)
{
	if (t->count >= (1u << t->b->bits) && t->b->bits < MAX_BITS)
		(void)rebuild(t, t->b->bits + 1);
}

static int link_new(struct wgx_index_table *t, uint32_t index,
		    enum wgx_index_type type, void *ptr, void *owner)
{
	struct node *n = malloc(sizeof(*n)), **head;
	int err;

	if (!n)
		return -ENOMEM;
	n->e = (struct wgx_index_entry){
		.index = index, .type = type, .ptr = ptr, .owner = owner
	};
	err = notify(t, &n->e, true);
	if (err) {
		free(n);
		return err;
	}
	head = &t->b->head[home(t->b->bits, index)];
	n->next = *head;
	publish(*head, n);
	t->count++;
	grow_if_full(t);
	return 0;
}

int wgx_index_insert_at(struct wgx_index_table *t, uint32_t index,
			enum wgx_index_type type, void *ptr, void *owner)
{
	if (!index)
		return -EINVAL;
	if (*find_link(t->b, index))
		return -EEXIST;
	return link_new(t, index, type, ptr, owner);
}

int wgx_index_insert(struct wgx_index_table *t, enum wgx_index_type type,
		     void *ptr, void *owner, uint32_t *index)
{
	for (int tries = 0; tries < MAX_RANDOM_TRIES; tries++) {
		uint32_t candidate = wgx_crypto_random_u32();
		int err;

		if (!candidate || *find_link(t->b, candidate))
			continue;
		err = link_new(t, candidate, type, ptr, owner);
		if (!err)
			*index = candidate;
		return err;
	}
	return -ENOSPC;
}

static void free_node(void *obj)
{
	free(obj);
}

int wgx_index_replace(struct wgx_index_table *t, uint32_t index,
		      enum wgx_index_type type, void *ptr)
{
	struct node **link, *old, *n;
	int err;

	if (!index)
		return -ENOENT;
	link = find_link(t->b, index);
	old = *link;
	if (!old)
		return -ENOENT;
	n = malloc(sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->e = old->e;
	n->e.type = type;
	n->e.ptr = ptr;
	err = notify(t, &n->e, true);
	if (err) {
		free(n);
		return err;
	}
	n->next = old->next;
	publish(*link, n);
	wgx_retire(&t->retire, free_node, old);
	return 0;
}

int wgx_index_remove(struct wgx_index_table *t, uint32_t index)
{
	struct node **link, *old;

	if (!index)
		return -ENOENT;
	link = find_link(t->b, index);
	old = *link;
	if (!old)
		return -ENOENT;
	(void)notify(t, &old->e, false);
	publish(*link, old->next);
	t->count--;
	wgx_retire(&t->retire, free_node, old);
	return 0;
}

bool wgx_index_lookup(const struct wgx_index_table *t, uint32_t index,
		      uint32_t type_mask, struct wgx_index_entry *out)
{
	const struct buckets *b;
	const struct node *n;

	if (!index)
		return false;
	b = deref(t->b);
	for (n = deref(b->head[home(b->bits, index)]); n; n = deref(n->next)) {
		if (n->e.index != index)
			continue;
		if (!(n->e.type & type_mask))
			return false;
		if (out)
			*out = n->e;
		return true;
	}
	return false;
}

uint32_t wgx_index_count(const struct wgx_index_table *t)
{
	return t->count;
}
