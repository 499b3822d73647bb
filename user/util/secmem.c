// SPDX-License-Identifier: MIT
/*
 * Each chunk keeps a stack of its free slot indices and one "in use" bit per
 * slot, both in malloc()ed memory. Alloc pops from the first chunk on the
 * pool's partial list; free finds the pointer's chunk by bisecting the
 * address-sorted chunk array, checks the slot boundary and the bit, wipes
 * and pushes. Both are O(1) but for the bisection, O(log chunks).
 *
 * Chunks grow with the pool (each as large as all before it, from 64 KiB to
 * 4 MiB) rather than being one fixed size: a fixed 4 MiB would lock 4 MiB
 * per pool on a device with two peers, and a small fixed size would need
 * thousands of mappings for 100,000 peers. A chunk whose last object is
 * freed becomes the pool's spare; when a second one empties, the smaller of
 * the two is unmapped, so churn at a chunk boundary costs no syscalls and a
 * pool that shrank gives its locked memory back.
 *
 * Under AddressSanitizer free slots and the padding after each object are
 * poisoned, so a use after free or an overflow into the next slot is
 * reported even though the memory stays mapped.
 */
#include "util/secmem.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/log.h"

#if defined(__SANITIZE_ADDRESS__)
#define SECMEM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SECMEM_ASAN 1
#endif
#endif

#ifdef SECMEM_ASAN
#include <sanitizer/asan_interface.h>
#define poison(p, n)   ASAN_POISON_MEMORY_REGION((p), (n))
#define unpoison(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define poison(p, n)   ((void)(p), (void)(n))
#define unpoison(p, n) ((void)(p), (void)(n))
#endif

struct wgx_secmem_chunk {
	uint8_t *base; /* first slot, right after the leading guard page */
	size_t len;    /* bytes from base to the trailing guard page */
	uint32_t nslots;
	uint32_t nfree;
	bool locked;
	int lock_err; /* errno of a refused mlock, for the pool's warning */
	bool on_partial;
	struct wgx_secmem_chunk *prev, *next; /* the pool's partial list */
	uint32_t *free_idx; /* free slot indices, nfree deep, popped at top */
	uint64_t used[];    /* one bit per slot, set while in use */
};

static size_t round_up(size_t n, size_t to)
{
	return (n + to - 1) / to * to;
}

__attribute__((noreturn, cold)) static void die(
	const struct wgx_secmem_pool *pool, const void *ptr, const char *why)
{
	wgx_log_error("Secret memory pool %s: free of %p, %s; aborting",
		      pool->name, ptr, why);
	abort();
}

int wgx_secmem_pool_init(struct wgx_secmem_pool *pool, size_t object_size,
			 const char *name)
{
	long page = sysconf(_SC_PAGESIZE);

	if (!object_size || object_size > WGX_SECMEM_OBJECT_MAX || page <= 0 ||
	    page % WGX_SECMEM_ALIGN)
		return -EINVAL;
	memset(pool, 0, sizeof(*pool));
	pthread_mutex_init(&pool->lock, NULL);
	snprintf(pool->name, sizeof(pool->name), "%s", name ? name : "?");
	pool->object_size = object_size;
	pool->slot_size = round_up(object_size, WGX_SECMEM_ALIGN);
	pool->page_size = (size_t)page;
	return 0;
}

/* Usable bytes of the next chunk: as much as is mapped, within bounds. */
static size_t next_chunk_len(const struct wgx_secmem_pool *pool)
{
	size_t len = pool->stats.bytes_mapped, nslots;

	if (len < WGX_SECMEM_CHUNK_MIN)
		len = WGX_SECMEM_CHUNK_MIN;
	if (len > WGX_SECMEM_CHUNK_MAX)
		len = WGX_SECMEM_CHUNK_MAX;
	nslots = len / pool->slot_size;
	if (!nslots)
		nslots = 1;
	return round_up(nslots * pool->slot_size, pool->page_size);
}

/* Map a chunk of len usable bytes; reads only fields fixed at init. */
static struct wgx_secmem_chunk *chunk_map(const struct wgx_secmem_pool *pool,
					  size_t len)
{
	size_t page = pool->page_size, nslots = len / pool->slot_size;
	size_t words = (nslots + 63) / 64;
	struct wgx_secmem_chunk *c;
	uint8_t *map;

	c = calloc(1, sizeof(*c) + words * sizeof(uint64_t) +
			      nslots * sizeof(uint32_t));
	if (!c)
		return NULL;
	c->free_idx = (uint32_t *)(c->used + words);
	map = mmap(NULL, len + 2 * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
		   -1, 0);
	if (map == MAP_FAILED)
		goto err_free;
	c->base = map + page;
	c->len = len;
	if (mprotect(c->base, len, PROT_READ | PROT_WRITE) ||
	    madvise(c->base, len, MADV_DONTDUMP))
		goto err_unmap;
#ifdef MADV_WIPEONFORK
	/* Linux 4.14+; before that a forked child keeps a copy. */
	(void)madvise(c->base, len, MADV_WIPEONFORK);
#endif
	/* The syscall: sanitizers turn mlock() into a no-op that says 0. */
	c->locked = syscall(SYS_mlock, c->base, len) == 0;
	if (!c->locked)
		c->lock_err = errno;
	c->nslots = (uint32_t)nslots;
	c->nfree = c->nslots;
	/* Pops hand out slot 0 first: ascending addresses. */
	for (uint32_t i = 0; i < c->nslots; i++)
		c->free_idx[i] = c->nslots - 1 - i;
	poison(c->base, len);
	return c;

err_unmap:
	munmap(map, len + 2 * page);
err_free:
	free(c);
	return NULL;
}

/* Wipe what is still in use and unmap; c is off every list already. */
static void chunk_unmap(const struct wgx_secmem_pool *pool,
			struct wgx_secmem_chunk *c)
{
	size_t page = pool->page_size;

	/* Shadow memory outlives the mapping: leave none poisoned. */
	unpoison(c->base, c->len);
	for (uint32_t i = 0; i < c->nslots; i++) {
		if (c->used[i / 64] & (1ULL << (i % 64)))
			sodium_memzero(c->base + (size_t)i * pool->slot_size,
				       pool->slot_size);
	}
	munmap(c->base - page, c->len + 2 * page);
	free(c);
}

static uintptr_t chunk_end(const struct wgx_secmem_pool *pool,
			   const struct wgx_secmem_chunk *c)
{
	return (uintptr_t)c->base + (size_t)c->nslots * pool->slot_size;
}

/* Index in the sorted chunk array of the first chunk at or above p. */
static size_t chunk_bisect(const struct wgx_secmem_pool *pool, uintptr_t p)
{
	size_t lo = 0, hi = pool->nchunks;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (chunk_end(pool, pool->chunks[mid]) <= p)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The chunk whose slots cover p, or NULL. */
static struct wgx_secmem_chunk *chunk_find(const struct wgx_secmem_pool *pool,
					   const void *p)
{
	uintptr_t a = (uintptr_t)p;
	size_t i = chunk_bisect(pool, a);
	struct wgx_secmem_chunk *c;

	if (i == pool->nchunks)
		return NULL;
	c = pool->chunks[i];
	return a >= (uintptr_t)c->base ? c : NULL;
}

static void stats_add(struct wgx_secmem_pool *pool,
		      const struct wgx_secmem_chunk *c, int sign)
{
	struct wgx_secmem_stats *s = &pool->stats;

	s->chunks += (uint64_t)sign;
	s->slots += (uint64_t)(sign * (int64_t)c->nslots);
	s->bytes_mapped += (uint64_t)(sign * (int64_t)c->len);
	if (!c->locked)
		s->bytes_unlocked += (uint64_t)(sign * (int64_t)c->len);
}

static int chunk_insert(struct wgx_secmem_pool *pool,
			struct wgx_secmem_chunk *c)
{
	size_t i;

	if (pool->nchunks == pool->chunks_cap) {
		size_t cap = pool->chunks_cap ? 2 * pool->chunks_cap : 16;
		void *n = realloc(pool->chunks, cap * sizeof(*pool->chunks));

		if (!n)
			return -ENOMEM;
		pool->chunks = n;
		pool->chunks_cap = cap;
	}
	i = chunk_bisect(pool, (uintptr_t)c->base);
	memmove(&pool->chunks[i + 1], &pool->chunks[i],
		(pool->nchunks - i) * sizeof(*pool->chunks));
	pool->chunks[i] = c;
	pool->nchunks++;
	stats_add(pool, c, 1);
	return 0;
}

static void chunk_remove(struct wgx_secmem_pool *pool,
			 struct wgx_secmem_chunk *c)
{
	size_t i = chunk_bisect(pool, (uintptr_t)c->base);

	memmove(&pool->chunks[i], &pool->chunks[i + 1],
		(pool->nchunks - i - 1) * sizeof(*pool->chunks));
	pool->nchunks--;
	stats_add(pool, c, -1);
}

static void partial_add(struct wgx_secmem_pool *pool,
			struct wgx_secmem_chunk *c)
{
	c->prev = NULL;
	c->next = pool->partial;
	if (c->next)
		c->next->prev = c;
	pool->partial = c;
	c->on_partial = true;
}

static void partial_del(struct wgx_secmem_pool *pool,
			struct wgx_secmem_chunk *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		pool->partial = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
	c->on_partial = false;
}

/* A free slot from the partial list or the spare, or NULL. */
static void *take(struct wgx_secmem_pool *pool)
{
	struct wgx_secmem_chunk *c = pool->partial;
	uint32_t i;

	if (!c && pool->spare) {
		c = pool->spare;
		pool->spare = NULL;
		partial_add(pool, c);
	}
	if (!c)
		return NULL;
	i = c->free_idx[--c->nfree];
	c->used[i / 64] |= 1ULL << (i % 64);
	if (!c->nfree)
		partial_del(pool, c);
	pool->stats.in_use++;
	return c->base + (size_t)i * pool->slot_size;
}

/* Add a fresh chunk; 0 or -ENOMEM. Called with the lock held. */
static int grow(struct wgx_secmem_pool *pool, struct wgx_secmem_chunk *c)
{
	if (chunk_insert(pool, c))
		return -ENOMEM;
	/* Another thread may have added one meanwhile: one spare at most. */
	if (pool->spare)
		partial_add(pool, c);
	else
		pool->spare = c;
	if (!c->locked && !pool->lock_warned) {
		pool->lock_warned = true;
		wgx_log_warn("Couldn't lock secret memory of pool %s: %s; keys "
			     "may be swapped to disk. Raise the memlock limit "
			     "(ulimit -l, LimitMEMLOCK=) or grant CAP_IPC_LOCK",
			     pool->name, strerror(c->lock_err));
	}
	return 0;
}

void *wgx_secmem_alloc(struct wgx_secmem_pool *pool)
{
	struct wgx_secmem_chunk *c;
	size_t len;
	void *p;

	pthread_mutex_lock(&pool->lock);
	p = take(pool);
	if (p)
		goto out;
	/* Map without the lock: frees need not wait for mlock's faults. */
	len = next_chunk_len(pool);
	pthread_mutex_unlock(&pool->lock);
	c = chunk_map(pool, len);
	pthread_mutex_lock(&pool->lock);
	if (c && grow(pool, c)) {
		pthread_mutex_unlock(&pool->lock);
		chunk_unmap(pool, c);
		pthread_mutex_lock(&pool->lock);
	}
	p = take(pool);
	if (!p)
		pool->stats.alloc_failed++;
out:
	pthread_mutex_unlock(&pool->lock);
	if (p)
		unpoison(p, pool->object_size);
	return p;
}

/*
 * c has no slot in use any more: keep it as the spare, or, when there is
 * one already, keep the larger of the two and return the other to unmap.
 */
static struct wgx_secmem_chunk *emptied(struct wgx_secmem_pool *pool,
					struct wgx_secmem_chunk *c)
{
	struct wgx_secmem_chunk *drop = c;

	if (c->on_partial)
		partial_del(pool, c);
	if (!pool->spare) {
		pool->spare = c;
		return NULL;
	}
	if (c->len > pool->spare->len) {
		drop = pool->spare;
		pool->spare = c;
	}
	chunk_remove(pool, drop);
	return drop;
}

void wgx_secmem_free(struct wgx_secmem_pool *pool, void *ptr)
{
	struct wgx_secmem_chunk *c, *drop = NULL;
	uint8_t *p = ptr;
	uint64_t bit;
	size_t off;
	uint32_t i;

	if (!ptr)
		return;
	pthread_mutex_lock(&pool->lock);
	c = chunk_find(pool, p);
	if (!c)
		die(pool, ptr, "which is not from this pool");
	off = (size_t)(p - c->base);
	if (off % pool->slot_size)
		die(pool, ptr, "which points inside an object");
	i = (uint32_t)(off / pool->slot_size);
	bit = 1ULL << (i % 64);
	if (!(c->used[i / 64] & bit))
		die(pool, ptr, "which is not in use (double free?)");
	/* The whole slot: an overflow into the padding is wiped too. */
	unpoison(p, pool->slot_size);
	sodium_memzero(p, pool->slot_size);
	poison(p, pool->slot_size);
	c->used[i / 64] &= ~bit;
	c->free_idx[c->nfree++] = i;
	pool->stats.in_use--;
	if (c->nfree == c->nslots)
		drop = emptied(pool, c);
	else if (!c->on_partial)
		partial_add(pool, c);
	pthread_mutex_unlock(&pool->lock);
	if (drop)
		chunk_unmap(pool, drop);
}

void wgx_secmem_pool_stats(struct wgx_secmem_pool *pool,
			   struct wgx_secmem_stats *out)
{
	pthread_mutex_lock(&pool->lock);
	*out = pool->stats;
	pthread_mutex_unlock(&pool->lock);
}

void wgx_secmem_pool_destroy(struct wgx_secmem_pool *pool)
{
	for (size_t i = 0; i < pool->nchunks; i++)
		chunk_unmap(pool, pool->chunks[i]);
	free(pool->chunks);
	pthread_mutex_destroy(&pool->lock);
	memset(pool, 0, sizeof(*pool));
}
