// SPDX-License-Identifier: MIT
/*
 * AllowedIPs benchmark: builds a table of N random prefixes (half IPv4
 * /8-/32, half IPv6 /16-/128, peers drawn from a pool of 1000), reports
 * build time and memory, then the latency of single lookups (median and
 * p99, each lookup timed on its own) and single-thread throughput.
 *
 *   allowedips [N [LOOKUPS]]      defaults: 1000000 1000000
 *
 * Latency: every lookup sits between two fenced TSC reads (rdtsc, rdtscp);
 * the median cost of an empty timed region is subtracted, and cycles are
 * turned into ns with a TSC rate calibrated against CLOCK_MONOTONIC.
 * Fences stop the CPU overlapping consecutive lookups, so this is the
 * latency one packet sees. Throughput runs the same addresses untimed
 * back to back, where the CPU may overlap independent lookups.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define HAVE_TSC 1
#endif

#include "core/allowedips.h"

enum {
	PEERS = 1000,
	DEFAULT_PREFIXES = 1000000,
	DEFAULT_LOOKUPS = 1000000,
	LIMIT_MB = 200,
	LIMIT_MEDIAN_NS = 1000,
	SEED = 1,
};

static char peer_pool[PEERS];

static uint64_t rng(uint64_t *state)
{
	/* splitmix64 */
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void random_bytes(uint64_t *state, uint8_t *p, size_t len)
{
	uint64_t r;

	for (size_t i = 0; i < len; i += 8) {
		r = rng(state);
		memcpy(p + i, &r, len - i < 8 ? len - i : 8);
	}
}

struct prefix {
	int family;
	uint8_t addr[16];
	uint8_t cidr;
};

/* Prefix i of the run: even ones IPv4 /8-/32, odd ones IPv6 /16-/128. */
static void random_prefix(uint64_t *state, size_t i, struct prefix *p)
{
	memset(p->addr, 0, sizeof(p->addr));
	if (i % 2 == 0) {
		p->family = AF_INET;
		random_bytes(state, p->addr, 4);
		p->cidr = (uint8_t)(8 + rng(state) % 25);
	} else {
		p->family = AF_INET6;
		random_bytes(state, p->addr, 16);
		p->cidr = (uint8_t)(16 + rng(state) % 113);
	}
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static size_t rss_bytes(void)
{
	unsigned long size = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (!f)
		return 0;
	if (fscanf(f, "%lu %lu", &size, &resident) != 2)
		resident = 0;
	fclose(f);
	return resident * (size_t)sysconf(_SC_PAGESIZE);
}

/* ---- Timestamps in ticks: TSC where there is one. ---- */

static inline uint64_t ticks_begin(void)
{
#ifdef HAVE_TSC
	uint64_t t;

	_mm_lfence();
	t = __rdtsc();
	_mm_lfence();
	return t;
#else
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
#endif
}

static inline uint64_t ticks_end(void)
{
#ifdef HAVE_TSC
	unsigned int aux;
	uint64_t t = __rdtscp(&aux);

	_mm_lfence();
	return t;
#else
	return ticks_begin();
#endif
}

/* Ticks per ns, measured over 200 ms. */
static double ticks_per_ns(void)
{
	double t0 = now_s(), t1;
	uint64_t c0 = ticks_begin(), c1;

	do
		t1 = now_s();
	while (t1 - t0 < 0.2);
	c1 = ticks_end();
	return (double)(c1 - c0) / ((t1 - t0) * 1e9);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Median cost of an empty timed region, in ticks. */
static uint32_t ticks_overhead(uint32_t *buf, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t t0 = ticks_begin();

		buf[i] = (uint32_t)(ticks_end() - t0);
	}
	qsort(buf, n, sizeof(*buf), cmp_u32);
	return buf[n / 2];
}

struct lookup_set {
	const char *name;
	int family;
	uint8_t (*addr)[16];
	size_t n;
	double hit, median_ns, p99_ns, per_sec;
};

static void *volatile sink;

static void measure(const struct wgx_allowedips *t, struct lookup_set *s,
		    uint32_t *ticks, uint32_t overhead, double tpn)
{
	size_t hits = 0, i;
	void *acc = NULL;
	double t0;

	/* Warm-up pass, also counting hits. */
	for (i = 0; i < s->n; i++)
		hits += wgx_allowedips_lookup(t, s->family, s->addr[i]) != NULL;
	s->hit = 100.0 * (double)hits / (double)s->n;

	for (i = 0; i < s->n; i++) {
		uint64_t c0 = ticks_begin(), c;

		sink = wgx_allowedips_lookup(t, s->family, s->addr[i]);
		c = ticks_end() - c0;
		ticks[i] = c > overhead ? (uint32_t)(c - overhead) : 0;
	}
	qsort(ticks, s->n, sizeof(*ticks), cmp_u32);
	s->median_ns = ticks[s->n / 2] / tpn;
	s->p99_ns = ticks[s->n * 99 / 100] / tpn;

	t0 = now_s();
	for (i = 0; i < s->n; i++)
		acc = (void *)((uintptr_t)acc ^
			       (uintptr_t)wgx_allowedips_lookup(t, s->family,
								s->addr[i]));
	s->per_sec = (double)s->n / (now_s() - t0);
	sink = acc;
}

/*
 * Addresses inside the inserted prefixes: replays the build's generator
 * (prefix, then peer draw) and adds random host bits from a second one.
 */
static void fill_inside(struct lookup_set *v4, struct lookup_set *v6,
			size_t prefixes)
{
	uint64_t replay = SEED, host_rng = SEED + 2;
	size_t n4 = 0, n6 = 0, i = 0;
	struct prefix p;
	uint8_t host[16];

	while (n4 < v4->n || n6 < v6->n) {
		struct lookup_set *s;
		size_t *n;

		random_prefix(&replay, i, &p);
		(void)rng(&replay); /* the peer draw */
		if (++i == prefixes) {
			i = 0;
			replay = SEED;
		}
		s = p.family == AF_INET ? v4 : v6;
		n = p.family == AF_INET ? &n4 : &n6;
		if (*n >= s->n)
			continue;
		/* Keep cidr bits of the prefix, random host bits. */
		random_bytes(&host_rng, host, 16);
		for (unsigned int b = 0; b < 16; b++) {
			unsigned int keep = p.cidr >= 8 * (b + 1) ? 8
					    : p.cidr > 8 * b ? p.cidr - 8 * b
							     : 0;
			uint8_t m = (uint8_t)(0xff00 >> keep);

			s->addr[*n][b] =
				(uint8_t)((p.addr[b] & m) | (host[b] & ~m));
		}
		(*n)++;
	}
}

/* Lookups in insertion order would favour nodes allocated side by side. */
static void shuffle(uint64_t *state, struct lookup_set *s)
{
	uint8_t tmp[16];

	for (size_t i = s->n - 1; i > 0; i--) {
		size_t j = (size_t)(rng(state) % (i + 1));

		memcpy(tmp, s->addr[i], 16);
		memcpy(s->addr[i], s->addr[j], 16);
		memcpy(s->addr[j], tmp, 16);
	}
}

static size_t parse_count(const char *s, const char *what)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v == 0 || v > 100000000ULL) {
		fprintf(stderr, "Couldn't parse %s '%s': want 1..100000000\n",
			what, s);
		exit(2);
	}
	return (size_t)v;
}

int main(int argc, char **argv)
{
	size_t prefixes =
		argc > 1 ? parse_count(argv[1], "N") : DEFAULT_PREFIXES;
	size_t lookups =
		argc > 2 ? parse_count(argv[2], "LOOKUPS") : DEFAULT_LOOKUPS;
	struct lookup_set sets[4] = {
		{ "IPv4 random", AF_INET },
		{ "IPv6 random", AF_INET6 },
		{ "IPv4 inside a prefix", AF_INET },
		{ "IPv6 inside a prefix", AF_INET6 },
	};
	struct wgx_allowedips t;
	size_t rss0, rss1, stored, bytes, i;
	double t0, build_s, free_s, tpn, worst = 0, rss_mb, mod_mb;
	uint32_t *ticks, overhead;
	uint64_t state;
	struct prefix p;
	bool mem_ok, lat_ok;
	int err;

	if (argc > 3) {
		fprintf(stderr, "usage: %s [N [LOOKUPS]]\n", argv[0]);
		return 2;
	}

	wgx_allowedips_init(&t);
	state = SEED;
	rss0 = rss_bytes();
	t0 = now_s();
	for (i = 0; i < prefixes; i++) {
		random_prefix(&state, i, &p);
		err = wgx_allowedips_insert(&t, p.family, p.addr, p.cidr,
					    &peer_pool[rng(&state) % PEERS]);
		if (err) {
			fprintf(stderr, "Couldn't insert prefix %zu: %s\n", i,
				strerror(-err));
			return 1;
		}
	}
	build_s = now_s() - t0;
	rss1 = rss_bytes();
	stored = wgx_allowedips_count(&t);
	bytes = wgx_allowedips_bytes(&t);
	mod_mb = (double)bytes / 1e6;
	rss_mb = (double)(rss1 - rss0) / 1e6;

	ticks = calloc(lookups, sizeof(*ticks));
	for (i = 0; i < 4; i++) {
		sets[i].n = lookups;
		sets[i].addr = calloc(lookups, sizeof(*sets[i].addr));
		if (!sets[i].addr || !ticks) {
			fprintf(stderr, "Couldn't allocate lookup sets\n");
			return 1;
		}
	}
	state = SEED + 1;
	for (i = 0; i < lookups; i++) {
		random_bytes(&state, sets[0].addr[i], 4);
		random_bytes(&state, sets[1].addr[i], 16);
	}
	fill_inside(&sets[2], &sets[3], prefixes);
	shuffle(&state, &sets[2]);
	shuffle(&state, &sets[3]);

	tpn = ticks_per_ns();
	overhead = ticks_overhead(ticks, lookups < 100000 ? lookups : 100000);

	printf("AllowedIPs: %zu random prefixes (IPv4 /8-/32, IPv6 /16-/128), "
	       "%d peers\n\n",
	       prefixes, PEERS);
	printf("  %-26s %10.3f s  (%.0f ns per insert)\n", "build", build_s,
	       build_s * 1e9 / (double)prefixes);
	printf("  %-26s %10zu  (%zu repeats moved an existing prefix)\n",
	       "prefixes stored", stored, prefixes - stored);
	printf("  %-26s %10.1f MB (%.1f bytes per prefix)\n",
	       "memory, module count", mod_mb, (double)bytes / (double)stored);
	printf("  %-26s %10.1f MB (with malloc overhead)\n",
	       "memory, RSS delta", rss_mb);
	printf("  %-26s %10s  %.3f ticks/ns, %u ticks overhead subtracted\n",
	       "timer",
#ifdef HAVE_TSC
	       "rdtsc",
#else
	       "monotonic",
#endif
	       tpn, overhead);

	printf("\n  %-22s %6s %11s %11s %14s\n", "lookups", "hit %",
	       "median ns", "p99 ns", "lookups/s");
	for (i = 0; i < 4; i++) {
		measure(&t, &sets[i], ticks, overhead, tpn);
		printf("  %-22s %6.1f %11.1f %11.1f %14.0f\n", sets[i].name,
		       sets[i].hit, sets[i].median_ns, sets[i].p99_ns,
		       sets[i].per_sec);
		if (sets[i].median_ns > worst)
			worst = sets[i].median_ns;
	}

	t0 = now_s();
	wgx_allowedips_free(&t);
	free_s = now_s() - t0;
	printf("\n  %-26s %10.3f s\n", "free", free_s);

	mem_ok = mod_mb < LIMIT_MB && rss_mb < LIMIT_MB;
	lat_ok = worst < LIMIT_MEDIAN_NS;
	printf("\n  %-34s %s (%.1f MB)\n", "memory < 200 MB (module and RSS)",
	       mem_ok ? "PASS" : "FAIL", mod_mb > rss_mb ? mod_mb : rss_mb);
	printf("  %-34s %s (worst median %.1f ns)\n",
	       "median lookup < 1 us (every set)", lat_ok ? "PASS" : "FAIL",
	       worst);

	for (i = 0; i < 4; i++)
		free(sets[i].addr);
	free(ticks);
	return mem_ok && lat_ok ? 0 : 1;
}
