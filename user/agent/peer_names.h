/* SPDX-License-Identifier: MIT */
/*
 * The agent's names for its peers, from the "# Name = alice" lines of its
 * config file (config_edit.h), to label metrics. Public keys only: no
 * secret is kept. Agent thread only.
 */
#ifndef WGX_PEER_NAMES_H
#define WGX_PEER_NAMES_H

#include <stddef.h>
#include <stdint.h>

#include "agent/config_edit.h"
#include "core/key.h"

struct wgx_peer_name {
	uint8_t key[WGX_KEY_LEN];
	char name[WGX_PEER_NAME_MAX + 1];
};

struct wgx_peer_names {
	struct wgx_peer_name *v; /* sorted by key */
	size_t n;
};

/*
 * Replace t with the names in the file at path (its text is wiped after).
 * On failure t is left as it was. 0 or -errno.
 */
int wgx_peer_names_load(struct wgx_peer_names *t, const char *path);
/* The same from text already in memory. */
int wgx_peer_names_from_text(struct wgx_peer_names *t, const char *buf,
			     size_t len);
/* The name of the peer with this public key, or NULL. */
const char *wgx_peer_names_find(const struct wgx_peer_names *t,
				const uint8_t key[WGX_KEY_LEN]);
void wgx_peer_names_free(struct wgx_peer_names *t);

#endif
