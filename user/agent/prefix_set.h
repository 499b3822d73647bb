/* SPDX-License-Identifier: MIT */
/*
 * A set of IP prefixes, hashed (open addressing, linear probing), with a
 * byte of flags per entry for its owner: add and find in O(1), and "does a
 * prefix of the set hold this one?" in one find per prefix length present.
 * The tunnel keeps the routes it installed in one, and the routes it finds
 * on its device in another, so a sync of n AllowedIPs costs O(n).
 *
 * 19 bytes a slot, at most half the slots used: about 40 bytes an entry.
 */
#ifndef WGX_PREFIX_SET_H
#define WGX_PREFIX_SET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Canonical: host bits clear, bytes past the family's size zero. */
struct wgx_prefix {
	uint8_t family; /* AF_INET or AF_INET6; 0 marks a free slot */
	uint8_t len;
	uint8_t addr[16];
};

struct wgx_prefix_slot {
	struct wgx_prefix p;
	uint8_t flags; /* the owner's; 0 when added */
};

struct wgx_prefix_set {
	struct wgx_prefix_slot *slots;
	size_t cap; /* a power of 2, or 0 */
	size_t n;
	/* Lengths present: bit L % 64 of lens[AF_INET6?][L / 64]. */
	uint64_t lens[2][3];
};

/* p from family, addr (4 or 16 bytes) and len: 0 or -EINVAL. */
int wgx_prefix_make(struct wgx_prefix *p, int family, const void *addr,
		    unsigned int len);

void wgx_prefix_set_init(struct wgx_prefix_set *s);
void wgx_prefix_set_free(struct wgx_prefix_set *s);
/* Room for n entries without growing: 0 or -ENOMEM. */
int wgx_prefix_set_reserve(struct wgx_prefix_set *s, size_t n);

/* The slot holding p, or NULL. */
struct wgx_prefix_slot *wgx_prefix_set_find(const struct wgx_prefix_set *s,
					    const struct wgx_prefix *p);
/*
 * The slot of p, added with flags 0 when absent (*added says which); NULL
 * when growing failed. A pointer to a slot lasts until the next add or
 * filter.
 */
struct wgx_prefix_slot *wgx_prefix_set_add(struct wgx_prefix_set *s,
					   const struct wgx_prefix *p,
					   bool *added);
/* Whether p, or a shorter prefix holding it, is in the set. */
bool wgx_prefix_set_covers(const struct wgx_prefix_set *s,
			   const struct wgx_prefix *p);
/*
 * Keeps the entries keep() says yes to, in place (never fails): O(cap).
 * keep() may be asked twice about one entry and must answer the same.
 */
void wgx_prefix_set_filter(struct wgx_prefix_set *s,
			   bool (*keep)(const struct wgx_prefix_slot *slot,
					void *ctx),
			   void *ctx);

#endif
