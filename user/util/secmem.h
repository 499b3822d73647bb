/* SPDX-License-Identifier: MIT */
/*
 * Secret memory in a few large arenas: a pool hands out fixed-size,
 * 64-byte aligned slots for one kind of secret object (peer, handshake,
 * keypair). A sodium_malloc per object costs four kernel mappings, which
 * capped a device near 8,000 peers at the default vm.max_map_count; a pool
 * costs three mappings per chunk of up to WGX_SECMEM_CHUNK_MAX bytes.
 *
 * Each chunk is one mapping with a PROT_NONE guard page on either side
 * (the first slot starts right after the leading one), mlock()ed,
 * MADV_DONTDUMP and MADV_WIPEONFORK (a child of fork() sees zeroes: create
 * pools after daemonizing). When mlock is refused the chunk is used
 * unlocked: the pool logs it once and counts it in bytes_unlocked.
 *
 * Free slots are always zero: fresh mappings are, and wgx_secmem_free()
 * wipes the whole slot before recycling it, so alloc needs no memset. Free
 * aborts, naming the pool, on a pointer that is not a slot of this pool or
 * whose slot is not in use: a double free of a key must never hand the same
 * memory to two owners. The bookkeeping (in-use bits, free stacks) lives in
 * ordinary heap memory, away from the slots, so an overflow of an object
 * cannot forge it.
 *
 * Thread-safe: one mutex per pool, held for a few dozen ns; chunks are
 * mapped and unmapped outside it. Not for per-packet use.
 */
#ifndef WGX_SECMEM_H
#define WGX_SECMEM_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	/* Slot alignment and size granule: one cache line. */
	WGX_SECMEM_ALIGN = 64,
	/* Largest object a pool takes (larger ones want their own mapping). */
	WGX_SECMEM_OBJECT_MAX = 1 << 20,
	/*
	 * Chunk sizes (usable bytes, guard pages not counted): the first is
	 * CHUNK_MIN, each later one as large as all chunks mapped so far,
	 * capped at CHUNK_MAX. A small device locks 64 KiB per pool instead
	 * of megabytes (RLIMIT_MEMLOCK is 8 MiB for unprivileged users), and
	 * 300,000 keypairs take about 90 chunks, 270 mappings.
	 */
	WGX_SECMEM_CHUNK_MIN = 64 << 10,
	WGX_SECMEM_CHUNK_MAX = 4 << 20,
	WGX_SECMEM_NAME_MAX = 32,
};

struct wgx_secmem_chunk;

struct wgx_secmem_stats {
	uint64_t in_use;	 /* objects allocated now */
	uint64_t slots;		 /* objects all chunks hold */
	uint64_t chunks;	 /* each three kernel mappings */
	uint64_t bytes_mapped;	 /* chunk memory, guard pages not counted */
	uint64_t bytes_unlocked; /* the part of bytes_mapped mlock refused */
	uint64_t alloc_failed;	 /* allocs that returned NULL */
};

/* Embed one per object type; fields are private to secmem.c. */
struct wgx_secmem_pool {
	pthread_mutex_t lock;
	char name[WGX_SECMEM_NAME_MAX];
	size_t object_size;
	size_t slot_size;
	size_t page_size;
	/* Every chunk, sorted by address: free() finds its chunk by bisection. */
	struct wgx_secmem_chunk **chunks;
	size_t nchunks;
	size_t chunks_cap;
	/* Chunks with both used and free slots; allocs come from here first. */
	struct wgx_secmem_chunk *partial;
	/*
	 * At most one chunk with no slot in use stays mapped, so alloc and
	 * free at a chunk boundary do not map and unmap every time.
	 */
	struct wgx_secmem_chunk *spare;
	struct wgx_secmem_stats stats;
	bool lock_warned;
};

/*
 * Set up an empty pool for objects of object_size bytes (1 to
 * WGX_SECMEM_OBJECT_MAX); name (copied, cut to fit) names the pool in
 * messages. Maps nothing yet. 0 or -EINVAL.
 */
int wgx_secmem_pool_init(struct wgx_secmem_pool *pool, size_t object_size,
			 const char *name);
/* Wipe and unmap every chunk, objects still in use included. */
void wgx_secmem_pool_destroy(struct wgx_secmem_pool *pool);

/* A zeroed, 64-byte aligned object, or NULL when memory runs out. */
void *wgx_secmem_alloc(struct wgx_secmem_pool *pool);
/*
 * Wipe ptr's slot and recycle it; NULL does nothing. Aborts on a pointer
 * that is not an object of this pool in use.
 */
void wgx_secmem_free(struct wgx_secmem_pool *pool, void *ptr);

/* A consistent snapshot of the counters. */
void wgx_secmem_pool_stats(struct wgx_secmem_pool *pool,
			   struct wgx_secmem_stats *out);

#endif
