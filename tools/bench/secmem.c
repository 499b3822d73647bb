// SPDX-License-Identifier: MIT
/*
 * Secret-memory pool against one sodium_malloc per object, side by side in
 * one run:
 *
 * 1. alloc+free pairs on one thread, for the sizes of a handshake, a
 *    keypair and a peer, with 1000 objects of each kind live. Ten slices
 *    alternate between the two so both see the same machine; the median
 *    slice is reported.
 * 2. the same from 1 and 4 threads at once on one pool (wall time per pair
 *    over all threads: lock contention, or the kernel's mmap lock for
 *    sodium_malloc).
 * 3. a device of 100,000 peers: 100,000 peers, 100,000 handshakes and
 *    300,000 keypairs; new lines in /proc/self/maps, memory, and the
 *    slowest single alloc (the one that maps and locks a chunk). The
 *    mapping cost of sodium_malloc is measured on 1000 objects.
 *
 *   secmem [PAIRS]      alloc+free pairs per slice, default 20000
 */
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/secmem.h"

enum {
	SLICES = 10,
	LIVE = 1000,
	THREADS_MAX = 4,
	PEERS = 100000,
	KEYPAIRS_PER_PEER = 3,
	/* sizeof of handshake, keypair and peer when this was written */
	HANDSHAKE_SIZE = 296,
	KEYPAIR_SIZE = 1144,
	PEER_SIZE = 1448,
};

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static size_t maps_lines(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	size_t n = 0;
	int c;

	if (!f)
		return 0;
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

/* A field of /proc/self/status in bytes ("VmRSS", "VmLck"), or 0. */
static long long status_bytes(const char *field)
{
	FILE *f = fopen("/proc/self/status", "r");
	size_t len = strlen(field);
	long long kb = 0;
	char line[256];

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, len) && line[len] == ':' &&
		    sscanf(line + len + 1, "%lld", &kb) == 1)
			break;
	fclose(f);
	return kb * 1024;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

struct run {
	struct wgx_secmem_pool *pool; /* NULL: sodium_malloc */
	size_t size;
	long pairs;
};

struct worker {
	const struct run *r;
	pthread_barrier_t *start;
	double t0, t1; /* when this thread began and ended its pairs */
};

static void pairs(const struct run *r)
{
	for (long i = 0; i < r->pairs; i++) {
		volatile uint8_t *p;

		if (r->pool) {
			p = wgx_secmem_alloc(r->pool);
			if (!p)
				abort();
			p[0] = 1;
			wgx_secmem_free(r->pool, (void *)p);
		} else {
			p = sodium_malloc(r->size);
			if (!p)
				abort();
			p[0] = 1;
			sodium_free((void *)p);
		}
	}
}

static void *pairs_thread(void *arg)
{
	struct worker *w = arg;

	pthread_barrier_wait(w->start);
	w->t0 = now_ns();
	pairs(w->r);
	w->t1 = now_ns();
	return NULL;
}

/*
 * Wall ns per pair with n threads doing r's pairs each, from the first
 * thread's start to the last one's end: the threads time themselves, as
 * the main thread may be scheduled late on a busy machine.
 */
static double run_threads(const struct run *r, int n)
{
	struct worker w[THREADS_MAX];
	pthread_barrier_t start;
	pthread_t t[THREADS_MAX];
	double t0 = 0, t1 = 0;

	pthread_barrier_init(&start, NULL, (unsigned)n);
	for (int i = 0; i < n; i++) {
		w[i] = (struct worker){ r, &start, 0, 0 };
		if (pthread_create(&t[i], NULL, pairs_thread, &w[i]))
			abort();
	}
	for (int i = 0; i < n; i++) {
		pthread_join(t[i], NULL);
		if (!i || w[i].t0 < t0)
			t0 = w[i].t0;
		if (!i || w[i].t1 > t1)
			t1 = w[i].t1;
	}
	pthread_barrier_destroy(&start);
	return (t1 - t0) / (double)(r->pairs * n);
}

/* Median ns per pair of pool and sodium, alternating slices. */
static void compare(size_t size, long n, int threads, double *pool_ns,
		    double *sodium_ns)
{
	struct wgx_secmem_pool pool;
	struct run rp = { &pool, size, n };
	struct run rs = { NULL, size, n / 10 ? n / 10 : 1 };
	double a[SLICES], b[SLICES];
	void *live_pool[LIVE], *live_sodium[LIVE];

	if (wgx_secmem_pool_init(&pool, size, "bench"))
		abort();
	for (int i = 0; i < LIVE; i++) {
		live_pool[i] = wgx_secmem_alloc(&pool);
		live_sodium[i] = sodium_malloc(size);
		if (!live_pool[i] || !live_sodium[i])
			abort();
	}
	run_threads(&rp, threads); /* warm-up */
	for (int s = 0; s < SLICES; s++) {
		a[s] = run_threads(&rp, threads);
		b[s] = run_threads(&rs, threads);
	}
	qsort(a, SLICES, sizeof(a[0]), cmp_double);
	qsort(b, SLICES, sizeof(b[0]), cmp_double);
	*pool_ns = a[SLICES / 2];
	*sodium_ns = b[SLICES / 2];
	for (int i = 0; i < LIVE; i++) {
		wgx_secmem_free(&pool, live_pool[i]);
		sodium_free(live_sodium[i]);
	}
	wgx_secmem_pool_destroy(&pool);
}

struct kind {
	const char *name;
	size_t size;
	long count;
	struct wgx_secmem_pool pool;
	void **obj;
};

static void device_scale(void)
{
	struct kind kinds[] = {
		{ .name = "peer", .size = PEER_SIZE, .count = PEERS },
		{ .name = "handshake", .size = HANDSHAKE_SIZE, .count = PEERS },
		{ .name = "keypair",
		  .size = KEYPAIR_SIZE,
		  .count = (long)PEERS * KEYPAIRS_PER_PEER },
	};
	size_t before = maps_lines(), after, sodium_maps;
	long long rss, sodium_rss;
	double t0, t, worst = 0, total = 0;
	void *sod[LIVE];

	for (size_t k = 0; k < 3; k++) {
		struct kind *d = &kinds[k];

		d->obj = calloc((size_t)d->count, sizeof(void *));
		if (!d->obj || wgx_secmem_pool_init(&d->pool, d->size, d->name))
			abort();
	}
	before = maps_lines();
	rss = status_bytes("VmRSS");
	t0 = now_ns();
	for (size_t k = 0; k < 3; k++) {
		struct kind *d = &kinds[k];

		for (long i = 0; i < d->count; i++) {
			t = now_ns();
			d->obj[i] = wgx_secmem_alloc(&d->pool);
			t = now_ns() - t;
			if (!d->obj[i])
				abort();
			if (t > worst)
				worst = t;
		}
	}
	total = now_ns() - t0;
	after = maps_lines();
	rss = status_bytes("VmRSS") - rss;
	printf("\n100,000 peers: 100k peers, 100k handshakes, 300k keypairs\n");
	printf("%-10s %8s %7s %10s %9s %9s\n", "pool", "objects", "chunks",
	       "MiB", "unlocked", "slot");
	for (size_t k = 0; k < 3; k++) {
		struct wgx_secmem_stats s;

		wgx_secmem_pool_stats(&kinds[k].pool, &s);
		printf("%-10s %8llu %7llu %10.1f %9.1f %9zu\n", kinds[k].name,
		       (unsigned long long)s.in_use,
		       (unsigned long long)s.chunks,
		       (double)s.bytes_mapped / (1 << 20),
		       (double)s.bytes_unlocked / (1 << 20),
		       kinds[k].pool.slot_size);
	}
	printf("new /proc/self/maps lines: %zu (limit 65530); RSS +%.1f MiB\n",
	       after - before, (double)rss / (1 << 20));
	printf("500,000 allocs: %.1f ms, %.0f ns each, slowest %.0f us\n",
	       total / 1e6, total / 500000, worst / 1e3);
	t0 = now_ns();
	for (size_t k = 0; k < 3; k++) {
		for (long i = 0; i < kinds[k].count; i++)
			wgx_secmem_free(&kinds[k].pool, kinds[k].obj[i]);
		wgx_secmem_pool_destroy(&kinds[k].pool);
		free(kinds[k].obj);
	}
	printf("free all and destroy: %.1f ms\n", (now_ns() - t0) / 1e6);

	before = maps_lines();
	rss = status_bytes("VmRSS");
	for (int i = 0; i < LIVE; i++) {
		if (!(sod[i] = sodium_malloc(KEYPAIR_SIZE)))
			abort();
		memset(sod[i], 0, KEYPAIR_SIZE);
	}
	sodium_maps = maps_lines() - before;
	sodium_rss = status_bytes("VmRSS") - rss;
	for (int i = 0; i < LIVE; i++)
		sodium_free(sod[i]);
	printf("sodium_malloc: %zu maps lines and %.0f bytes RSS per keypair "
	       "(%d of them): 500,000 objects would need %.0f lines\n",
	       sodium_maps / LIVE, (double)sodium_rss / LIVE, LIVE,
	       (double)sodium_maps / LIVE * 500000);
}

int main(int argc, char **argv)
{
	static const size_t sizes[] = { HANDSHAKE_SIZE, KEYPAIR_SIZE,
					PEER_SIZE };
	static const int threads[] = { 1, 4 };
	long n = argc > 1 ? atol(argv[1]) : 20000;
	double loads[3] = { 0 };

	if (n <= 0 || sodium_init() < 0) {
		fprintf(stderr, "usage: secmem [PAIRS]\n");
		return 1;
	}
	if (getloadavg(loads, 3) < 0)
		loads[0] = -1;
	printf("load average %.2f; median of %d slices, %ld pairs per pool "
	       "slice, %ld per sodium slice, %d objects live\n",
	       loads[0], SLICES, n, n / 10 ? n / 10 : 1, LIVE);
	printf("%-8s %7s %12s %14s %8s\n", "threads", "bytes", "pool ns/pair",
	       "sodium ns/pair", "ratio");
	for (size_t t = 0; t < 2; t++) {
		for (size_t i = 0; i < 3; i++) {
			double p, s;

			compare(sizes[i], n, threads[t], &p, &s);
			printf("%-8d %7zu %12.0f %14.0f %7.0fx\n", threads[t],
			       sizes[i], p, s, s / p);
		}
	}
	device_scale();
	return 0;
}
