/* SPDX-License-Identifier: MIT */
/*
 * Buffers that hold plaintext: the workers' batches (TUN reads, decrypted
 * packets, sealed ones before they leave) and their scratch. Each is a
 * mapping of its own, mlock()ed so it never reaches swap, MADV_DONTDUMP so
 * no core dump holds it, and MADV_WIPEONFORK so no child of fork() sees
 * it; wiped before it is unmapped. When mlock is refused (RLIMIT_MEMLOCK
 * without CAP_IPC_LOCK) the buffer is used unlocked: that is logged once
 * per process and counted. Not for per-packet use: a mapping per call.
 */
#ifndef WGX_PLAINBUF_H
#define WGX_PLAINBUF_H

#include <stddef.h>
#include <stdint.h>

/* len bytes (rounded up to pages), zeroed; NULL when memory runs out. */
void *wgx_plainbuf_alloc(size_t len);
/* Wipe and unmap what wgx_plainbuf_alloc(len) returned; NULL is fine. */
void wgx_plainbuf_free(void *buf, size_t len);

struct wgx_plainbuf_stats {
	uint64_t bytes_mapped; /* now, rounded to pages */
	uint64_t lock_refused; /* buffers mlock refused, since start */
};

void wgx_plainbuf_stats(struct wgx_plainbuf_stats *out);

#endif
