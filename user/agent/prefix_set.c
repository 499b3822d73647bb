// SPDX-License-Identifier: MIT
/* A hash set of IP prefixes; see prefix_set.h. */
#include "agent/prefix_set.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

enum {
	MIN_CAP = 16,
};

static size_t addr_len(int family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

int wgx_prefix_make(struct wgx_prefix *p, int family, const void *addr,
		    unsigned int len)
{
	size_t n = addr_len(family);

	memset(p, 0, sizeof(*p));
	if (!n || len > n * 8)
		return -EINVAL;
	p->family = (uint8_t)family;
	p->len = (uint8_t)len;
	memcpy(p->addr, addr, n);
	for (unsigned int bit = len; bit < n * 8; bit++)
		p->addr[bit / 8] &= (uint8_t) ~(0x80u >> (bit % 8));
	return 0;
}

/* murmur3's 64-bit finaliser: sequential addresses spread over the table. */
static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	return x ^ (x >> 33);
}

static size_t slot_of(const struct wgx_prefix_set *s,
		      const struct wgx_prefix *p)
{
	uint64_t a, b;

	memcpy(&a, p->addr, 8);
	memcpy(&b, p->addr + 8, 8);
	return (size_t)mix(a ^ mix(b ^ ((uint64_t)p->family << 8 | p->len))) &
	       (s->cap - 1);
}

static bool same(const struct wgx_prefix *a, const struct wgx_prefix *b)
{
	return !memcmp(a, b, sizeof(*a));
}

static uint64_t *len_word(struct wgx_prefix_set *s, const struct wgx_prefix *p)
{
	return &s->lens[p->family == AF_INET6][p->len / 64];
}

void wgx_prefix_set_init(struct wgx_prefix_set *s)
{
	memset(s, 0, sizeof(*s));
}

void wgx_prefix_set_free(struct wgx_prefix_set *s)
{
	free(s->slots);
	wgx_prefix_set_init(s);
}

/* Places p in a table known to have room and not to hold it. */
static struct wgx_prefix_slot *place(struct wgx_prefix_set *s,
				     const struct wgx_prefix_slot *from)
{
	size_t i = slot_of(s, &from->p);

	while (s->slots[i].p.family)
		i = (i + 1) & (s->cap - 1);
	s->slots[i] = *from;
	*len_word(s, &from->p) |= 1ULL << (from->p.len % 64);
	s->n++;
	return &s->slots[i];
}

/* Moves every entry into a table of cap slots. */
static int rehash(struct wgx_prefix_set *s, size_t cap)
{
	struct wgx_prefix_slot *old = s->slots;
	size_t old_cap = s->cap;
	struct wgx_prefix_slot *slots = calloc(cap, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	s->slots = slots;
	s->cap = cap;
	s->n = 0;
	memset(s->lens, 0, sizeof(s->lens));
	for (size_t i = 0; i < old_cap; i++)
		if (old[i].p.family)
			place(s, &old[i]);
	free(old);
	return 0;
}

/* At most half full: linear probing stays short. */
static size_t cap_for(size_t n)
{
	size_t cap = MIN_CAP;

	while (cap / 2 < n)
		cap *= 2;
	return cap;
}

int wgx_prefix_set_reserve(struct wgx_prefix_set *s, size_t n)
{
	size_t cap = cap_for(n);

	return cap <= s->cap ? 0 : rehash(s, cap);
}

struct wgx_prefix_slot *wgx_prefix_set_find(const struct wgx_prefix_set *s,
					    const struct wgx_prefix *p)
{
	if (!s->n)
		return NULL;
	for (size_t i = slot_of(s, p); s->slots[i].p.family;
	     i = (i + 1) & (s->cap - 1))
		if (same(&s->slots[i].p, p))
			return &s->slots[i];
	return NULL;
}

struct wgx_prefix_slot *wgx_prefix_set_add(struct wgx_prefix_set *s,
					   const struct wgx_prefix *p,
					   bool *added)
{
	struct wgx_prefix_slot *slot = wgx_prefix_set_find(s, p);
	struct wgx_prefix_slot fresh = { .p = *p };

	*added = !slot;
	if (slot)
		return slot;
	if (wgx_prefix_set_reserve(s, s->n + 1) < 0)
		return NULL;
	return place(s, &fresh);
}

bool wgx_prefix_set_covers(const struct wgx_prefix_set *s,
			   const struct wgx_prefix *p)
{
	const uint64_t *lens = s->lens[p->family == AF_INET6];
	struct wgx_prefix q;

	for (unsigned int len = 0; len <= p->len; len++) {
		if (!(lens[len / 64] & (1ULL << (len % 64))))
			continue;
		wgx_prefix_make(&q, p->family, p->addr, len);
		if (wgx_prefix_set_find(s, &q))
			return true;
	}
	return false;
}

/*
 * Empties slot i and moves later entries of its cluster back so that no
 * probe sequence crosses a hole (backward-shift deletion).
 */
static void remove_at(struct wgx_prefix_set *s, size_t i)
{
	size_t mask = s->cap - 1;

	for (size_t j = (i + 1) & mask; s->slots[j].p.family;
	     j = (j + 1) & mask) {
		size_t home = slot_of(s, &s->slots[j].p);

		/* j stays unless its home lies cyclically in (i, j]. */
		if (((j - home) & mask) >= ((j - i) & mask)) {
			s->slots[i] = s->slots[j];
			i = j;
		}
	}
	memset(&s->slots[i], 0, sizeof(s->slots[i]));
	s->n--;
}

void wgx_prefix_set_filter(struct wgx_prefix_set *s,
			   bool (*keep)(const struct wgx_prefix_slot *slot,
					void *ctx),
			   void *ctx)
{
	memset(s->lens, 0, sizeof(s->lens));
	for (size_t i = 0; i < s->cap; i++) {
		/* A removal may move a later entry into slot i: look again. */
		while (s->slots[i].p.family && !keep(&s->slots[i], ctx))
			remove_at(s, i);
	}
	for (size_t i = 0; i < s->cap; i++)
		if (s->slots[i].p.family)
			*len_word(s, &s->slots[i].p) |=
				1ULL << (s->slots[i].p.len % 64);
}
