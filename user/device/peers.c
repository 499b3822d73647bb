// SPDX-License-Identifier: MIT
/*
 * A doubly linked list for order and an open-addressed table for lookup.
 * Public keys are Curve25519 points chosen by whoever configures the
 * peer (root), so their first bytes serve as the hash as they are.
 */
#include "device/peers.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "device/peer.h"

static struct wgx_peer tombstone;
#define TOMB (&tombstone)

void wgx_peers_init(struct wgx_peers *s)
{
	memset(s, 0, sizeof(*s));
}

void wgx_peers_free(struct wgx_peers *s)
{
	free(s->slot);
	wgx_peers_init(s);
}

static size_t home(const struct wgx_peers *s, const uint8_t *key)
{
	uint64_t h;

	memcpy(&h, key, sizeof(h));
	h *= 0x9e3779b97f4a7c15ULL;
	return (size_t)(h >> 17) & (s->cap - 1);
}

/* The slot holding key, or NULL. */
static struct wgx_peer **find_slot(const struct wgx_peers *s,
				   const uint8_t *key)
{
	size_t i;

	if (!s->cap)
		return NULL;
	for (i = home(s, key); s->slot[i]; i = (i + 1) & (s->cap - 1))
		if (s->slot[i] != TOMB &&
		    !memcmp(s->slot[i]->public_key, key, WGX_KEY_LEN))
			return &s->slot[i];
	return NULL;
}

static void put(struct wgx_peers *s, struct wgx_peer *p)
{
	size_t i = home(s, p->public_key);

	while (s->slot[i] && s->slot[i] != TOMB)
		i = (i + 1) & (s->cap - 1);
	if (!s->slot[i])
		s->used++;
	s->slot[i] = p;
}

/* A table of cap slots holding every peer, holes gone. */
static int rehash(struct wgx_peers *s, size_t cap)
{
	struct wgx_peer **old = s->slot;
	size_t old_cap = s->cap;

	s->slot = calloc(cap, sizeof(*s->slot));
	if (!s->slot) {
		s->slot = old;
		return -ENOMEM;
	}
	s->cap = cap;
	s->used = 0;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i] && old[i] != TOMB)
			put(s, old[i]);
	free(old);
	return 0;
}

int wgx_peers_reserve(struct wgx_peers *s, size_t n)
{
	size_t cap = 16;

	/* Load, holes included, at most one half. */
	while (cap < 2 * (n + 1))
		cap *= 2;
	if (cap < s->cap)
		cap = s->cap;
	if (cap == s->cap && 2 * (s->used + 1) <= s->cap)
		return 0;
	return rehash(s, cap);
}

int wgx_peers_add(struct wgx_peers *s, struct wgx_peer *p)
{
	int err;

	if (2 * (s->used + 1) > s->cap) {
		err = wgx_peers_reserve(s, s->count + 1);
		if (err)
			return err;
	}
	put(s, p);
	p->list_next = NULL;
	p->list_prev = s->last;
	if (s->last)
		s->last->list_next = p;
	else
		s->first = p;
	s->last = p;
	s->count++;
	return 0;
}

void wgx_peers_remove(struct wgx_peers *s, struct wgx_peer *p)
{
	struct wgx_peer **slot = find_slot(s, p->public_key);

	if (!slot || *slot != p)
		return;
	*slot = TOMB;
	if (p->list_prev)
		p->list_prev->list_next = p->list_next;
	else
		s->first = p->list_next;
	if (p->list_next)
		p->list_next->list_prev = p->list_prev;
	else
		s->last = p->list_prev;
	p->list_prev = p->list_next = NULL;
	s->count--;
}

struct wgx_peer *wgx_peers_find(const struct wgx_peers *s,
				const uint8_t public_key[WGX_KEY_LEN])
{
	struct wgx_peer **slot = find_slot(s, public_key);

	return slot ? *slot : NULL;
}
