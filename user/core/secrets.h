/* SPDX-License-Identifier: MIT */
/*
 * Where the protocol's secret objects live: keypairs, handshakes and
 * peers each in a process-wide pool of locked, guarded, non-dumpable
 * memory (util/secmem.h), a few mappings for any number of objects. The
 * pools are made on first use, which in the daemon is after it forked
 * (their memory is wiped in a forked child). Any thread.
 */
#ifndef WGX_SECRETS_H
#define WGX_SECRETS_H

#include <stddef.h>

#include "util/secmem.h"

enum wgx_secret_kind {
	WGX_SECRET_KEYPAIR,
	WGX_SECRET_HANDSHAKE,
	WGX_SECRET_PEER,
	WGX_SECRET_KINDS,
};

/*
 * A zeroed object of size bytes (always the same size for a kind), or
 * NULL when out of memory.
 */
void *wgx_secret_alloc(enum wgx_secret_kind kind, size_t size);
/* Wipe and give back; NULL is a no-op. */
void wgx_secret_free(enum wgx_secret_kind kind, void *obj);
/* A kind's counters (all zero before its first use). */
void wgx_secret_stats(enum wgx_secret_kind kind, struct wgx_secmem_stats *out);

#endif
