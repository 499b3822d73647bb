/* SPDX-License-Identifier: MIT */
/*
 * The device's peers as the agent keeps them: in the order they were
 * added (show, config files) and by public key, so that finding, adding
 * and removing one peer costs O(1) whatever the number of peers. The
 * workers never look here. Agent thread only.
 */
#ifndef WGX_PEERS_H
#define WGX_PEERS_H

#include <stddef.h>
#include <stdint.h>

#include "core/key.h"

struct wgx_peer;

struct wgx_peers {
	struct wgx_peer *first, *last;
	size_t count;
	/* Open addressing by public key; NULL is a free slot, TOMB a hole. */
	struct wgx_peer **slot;
	size_t cap, used; /* used counts holes too */
};

void wgx_peers_init(struct wgx_peers *s);
/* Frees the index only; the peers are the caller's. */
void wgx_peers_free(struct wgx_peers *s);

/* Room for n peers in all, so adding them cannot fail. 0 or -ENOMEM. */
int wgx_peers_reserve(struct wgx_peers *s, size_t n);
/* Append p (its public key must not be in the set). 0 or -ENOMEM. */
int wgx_peers_add(struct wgx_peers *s, struct wgx_peer *p);
void wgx_peers_remove(struct wgx_peers *s, struct wgx_peer *p);
struct wgx_peer *wgx_peers_find(const struct wgx_peers *s,
				const uint8_t public_key[WGX_KEY_LEN]);

#define wgx_peers_for_each(s, p)                                               \
	for ((p) = (s)->first; (p); (p) = (p)->list_next)

#endif
