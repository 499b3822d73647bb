// SPDX-License-Identifier: MIT
/*
 * Linear probing keyed by the index itself, spread with a Fibonacci
 * multiplier so that chosen indices (tests, insert_at) cluster no worse than
 * random ones. Deletion shifts later members of the probe run back instead
 * of leaving tombstones, so lookups never walk dead slots.
 */
#include "core/index.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "core/crypto.h"

enum {
	INITIAL_BITS = 6,
	MAX_BITS = 31,
	/* Collisions with 2^31 live entries at most: this is never reached. */
	MAX_RANDOM_TRIES = 1000,
};

struct wgx_index_table {
	struct wgx_index_entry *slots;
	uint32_t bits;
	uint32_t count;
	wgx_index_observer_fn observer;
	void *observer_ctx;
	/* Writers take it inside every change; readers via read_lock(). */
	pthread_rwlock_t lock;
};

static void notify(const struct wgx_index_table *t,
		   const struct wgx_index_entry *e, bool present)
{
	if (t->observer)
		t->observer(t->observer_ctx, e, present);
}

void wgx_index_set_observer(struct wgx_index_table *t, wgx_index_observer_fn fn,
			    void *ctx)
{
	t->observer = fn;
	t->observer_ctx = ctx;
}

static uint32_t capacity(const struct wgx_index_table *t)
{
	return 1u << t->bits;
}

static uint32_t home(const struct wgx_index_table *t, uint32_t index)
{
	return (index * 0x9e3779b9u) >> (32 - t->bits);
}

/* The slot holding index, or the empty slot where it would go. */
static uint32_t probe(const struct wgx_index_table *t, uint32_t index)
{
	uint32_t mask = capacity(t) - 1, i = home(t, index);

	while (t->slots[i].index && t->slots[i].index != index)
		i = (i + 1) & mask;
	return i;
}

struct wgx_index_table *wgx_index_new(void)
{
	struct wgx_index_table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->bits = INITIAL_BITS;
	t->slots = calloc(capacity(t), sizeof(*t->slots));
	if (!t->slots) {
		free(t);
		return NULL;
	}
	pthread_rwlock_init(&t->lock, NULL);
	return t;
}

void wgx_index_free(struct wgx_index_table *t)
{
	if (!t)
		return;
	pthread_rwlock_destroy(&t->lock);
	free(t->slots);
	free(t);
}

static int grow(struct wgx_index_table *t)
{
	struct wgx_index_entry *old = t->slots;
	uint32_t old_cap = capacity(t);

	if (t->bits >= MAX_BITS)
		return -ENOMEM;
	t->slots = calloc((size_t)old_cap * 2, sizeof(*t->slots));
	if (!t->slots) {
		t->slots = old;
		return -ENOMEM;
	}
	t->bits++;
	for (uint32_t i = 0; i < old_cap; i++)
		if (old[i].index)
			t->slots[probe(t, old[i].index)] = old[i];
	free(old);
	return 0;
}

/* Keep the load at or below one half so probe runs stay short. */
static int reserve_one(struct wgx_index_table *t)
{
	if ((uint64_t)(t->count + 1) * 2 > capacity(t))
		return grow(t);
	return 0;
}

static void put(struct wgx_index_table *t, uint32_t slot, uint32_t index,
		enum wgx_index_type type, void *ptr, void *owner)
{
	t->slots[slot] = (struct wgx_index_entry){
		.index = index, .type = type, .ptr = ptr, .owner = owner
	};
	t->count++;
	notify(t, &t->slots[slot], true);
}

static int insert_at_locked(struct wgx_index_table *t, uint32_t index,
			    enum wgx_index_type type, void *ptr, void *owner)
{
	uint32_t slot;
	int ret;

	if (!index)
		return -EINVAL;
	ret = reserve_one(t);
	if (ret)
		return ret;
	slot = probe(t, index);
	if (t->slots[slot].index)
		return -EEXIST;
	put(t, slot, index, type, ptr, owner);
	return 0;
}

static int insert_locked(struct wgx_index_table *t, enum wgx_index_type type,
			 void *ptr, void *owner, uint32_t *index)
{
	int ret = reserve_one(t);

	if (ret)
		return ret;
	for (int tries = 0; tries < MAX_RANDOM_TRIES; tries++) {
		uint32_t candidate = wgx_crypto_random_u32(), slot;

		if (!candidate)
			continue;
		slot = probe(t, candidate);
		if (t->slots[slot].index)
			continue;
		put(t, slot, candidate, type, ptr, owner);
		*index = candidate;
		return 0;
	}
	return -ENOSPC;
}

static int replace_locked(struct wgx_index_table *t, uint32_t index,
			  enum wgx_index_type type, void *ptr)
{
	uint32_t slot;

	if (!index)
		return -ENOENT;
	slot = probe(t, index);
	if (!t->slots[slot].index)
		return -ENOENT;
	t->slots[slot].type = type;
	t->slots[slot].ptr = ptr;
	notify(t, &t->slots[slot], true);
	return 0;
}

/*
 * Backward-shift deletion: walk the run after the hole and move back every
 * entry whose home is not in (hole, here], so no probe run is broken.
 */
static int remove_locked(struct wgx_index_table *t, uint32_t index)
{
	uint32_t mask = capacity(t) - 1, hole, i;

	if (!index)
		return -ENOENT;
	hole = probe(t, index);
	if (!t->slots[hole].index)
		return -ENOENT;
	notify(t, &t->slots[hole], false);
	for (i = (hole + 1) & mask; t->slots[i].index; i = (i + 1) & mask) {
		uint32_t h = home(t, t->slots[i].index);

		/* Distance from home to i vs from hole to i, both cyclic. */
		if (((i - h) & mask) >= ((i - hole) & mask)) {
			t->slots[hole] = t->slots[i];
			hole = i;
		}
	}
	t->slots[hole] = (struct wgx_index_entry){ 0 };
	t->count--;
	return 0;
}

int wgx_index_insert_at(struct wgx_index_table *t, uint32_t index,
			enum wgx_index_type type, void *ptr, void *owner)
{
	int ret;

	pthread_rwlock_wrlock(&t->lock);
	ret = insert_at_locked(t, index, type, ptr, owner);
	pthread_rwlock_unlock(&t->lock);
	return ret;
}

int wgx_index_insert(struct wgx_index_table *t, enum wgx_index_type type,
		     void *ptr, void *owner, uint32_t *index)
{
	int ret;

	pthread_rwlock_wrlock(&t->lock);
	ret = insert_locked(t, type, ptr, owner, index);
	pthread_rwlock_unlock(&t->lock);
	return ret;
}

int wgx_index_replace(struct wgx_index_table *t, uint32_t index,
		      enum wgx_index_type type, void *ptr)
{
	int ret;

	pthread_rwlock_wrlock(&t->lock);
	ret = replace_locked(t, index, type, ptr);
	pthread_rwlock_unlock(&t->lock);
	return ret;
}

int wgx_index_remove(struct wgx_index_table *t, uint32_t index)
{
	int ret;

	pthread_rwlock_wrlock(&t->lock);
	ret = remove_locked(t, index);
	pthread_rwlock_unlock(&t->lock);
	return ret;
}

void wgx_index_read_lock(struct wgx_index_table *t)
{
	pthread_rwlock_rdlock(&t->lock);
}

void wgx_index_read_unlock(struct wgx_index_table *t)
{
	pthread_rwlock_unlock(&t->lock);
}

bool wgx_index_lookup(const struct wgx_index_table *t, uint32_t index,
		      uint32_t type_mask, struct wgx_index_entry *out)
{
	const struct wgx_index_entry *e;

	if (!index)
		return false;
	e = &t->slots[probe(t, index)];
	if (!e->index || !(e->type & type_mask))
		return false;
	if (out)
		*out = *e;
	return true;
}

uint32_t wgx_index_count(const struct wgx_index_table *t)
{
	return t->count;
}
