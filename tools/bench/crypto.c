// SPDX-License-Identifier: MIT
/*
 * Transport AEAD throughput: seal and open per packet on each back end
 * (OpenSSL, libsodium, and "auto", which picks one by size), one thread
 * pinned to one core. Each case is warmed up, then run for about
 * `seconds` per back end in ten slices that alternate between the back
 * ends, so all of them see the same conditions on a shared machine.
 * Rates are packets per CPU-second of this thread (time it was preempted
 * does not count); the table shows the best slice and the median one,
 * the payload GB/s (10^9 bytes) of the best, the OpenSSL/libsodium ratio
 * and which back end is the default.
 *
 *   tools/bench/crypto [--seconds S] [--backend NAME] [--size N]...
 *
 * Default sizes 64 and 1420; --size (repeatable) replaces them.
 */
#include <errno.h>
#include <getopt.h>
#include <openssl/crypto.h>
#include <sched.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/aead.h"

enum {
	BATCH = 64,
	MAX_LEN = 65535,
	NB = 3,
	MAX_SIZES = 16,
	SLICES = 10,
};

static const enum wgx_aead_backend backends[NB] = {
	WGX_AEAD_OPENSSL,
	WGX_AEAD_SODIUM,
	WGX_AEAD_AUTO,
};

struct options {
	double seconds;
	int only; /* a back end, or -1 for all */
	size_t sizes[MAX_SIZES];
	int nsizes;
};

struct result {
	double best;   /* Mpkt/s */
	double median; /* Mpkt/s */
};

struct work {
	uint8_t key[32];
	uint8_t pt[MAX_LEN];
	uint8_t ct[MAX_LEN + 16];
	uint8_t out[MAX_LEN + 16];
	uint64_t counter;
};

static double clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Seal (a fresh counter each time, as a sender does) or open (one valid
 * message over and over) for `seconds` of wall time. Returns packets per
 * CPU-second of this thread, or a negative errno.
 */
static double slice(struct wgx_aead *a, struct work *w, bool seal, size_t len,
		    double seconds)
{
	double end = clock_s(CLOCK_MONOTONIC) + seconds;
	double cpu0 = clock_s(CLOCK_THREAD_CPUTIME_ID), cpu;
	long n = 0;

	do {
		for (int i = 0; i < BATCH; i++) {
			if (seal) {
				if (wgx_aead_seal(a, w->out, w->pt, len,
						  w->counter++, w->key) < 0)
					return -EIO;
			} else if (!wgx_aead_open(a, w->out, w->ct, len + 16, 1,
						  w->key)) {
				return -EIO;
			}
		}
		n += BATCH;
	} while (clock_s(CLOCK_MONOTONIC) < end);
	cpu = clock_s(CLOCK_THREAD_CPUTIME_ID) - cpu0;
	return cpu > 0 ? (double)n / cpu : -EIO;
}

static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return (a > b) - (a < b);
}

/* One case for every back end in a[], interleaved slice by slice. */
static int measure(struct wgx_aead *a[NB], bool seal, size_t len,
		   double seconds, struct result r[NB])
{
	static struct work w;
	double rate[NB][SLICES];

	randombytes_buf(w.key, sizeof(w.key));
	randombytes_buf(w.pt, len);
	w.counter = 2;
	for (int b = 0; b < NB; b++) {
		if (!a[b])
			continue;
		if (wgx_aead_seal(a[b], w.ct, w.pt, len, 1, w.key) < 0)
			return -EIO;
		/* Warm-up: caches, branch predictors, clock frequency. */
		if (slice(a[b], &w, seal, len, seconds / 5) < 0)
			return -EIO;
	}
	for (int s = 0; s < SLICES; s++) {
		for (int b = 0; b < NB; b++) {
			if (!a[b])
				continue;
			rate[b][s] =
				slice(a[b], &w, seal, len, seconds / SLICES);
			if (rate[b][s] < 0)
				return -EIO;
		}
	}
	for (int b = 0; b < NB; b++) {
		if (!a[b])
			continue;
		qsort(rate[b], SLICES, sizeof(double), cmp_double);
		r[b].best = rate[b][SLICES - 1] / 1e6;
		r[b].median = (rate[b][SLICES / 2 - 1] + rate[b][SLICES / 2]) /
			      2 / 1e6;
	}
	return 0;
}

static void pin_to_current_cpu(int *cpu)
{
	cpu_set_t set;

	*cpu = sched_getcpu();
	if (*cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(*cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0)
		*cpu = -1;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: crypto [--seconds S] [--backend openssl|sodium|auto]"
		   " [--size N]...\n");
}

static int parse_size(const char *arg, struct options *o)
{
	char *end;
	unsigned long n = strtoul(arg, &end, 10);

	if (*arg == '\0' || *end != '\0' || n > MAX_LEN ||
	    o->nsizes == MAX_SIZES) {
		fprintf(stderr,
			"Couldn't use --size %s: want 0..%d, at most "
			"%d sizes\n",
			arg, MAX_LEN, MAX_SIZES);
		return -EINVAL;
	}
	o->sizes[o->nsizes++] = n;
	return 0;
}

static int parse(int argc, char **argv, struct options *o)
{
	static const struct option opts[] = {
		{ "seconds", required_argument, NULL, 's' },
		{ "backend", required_argument, NULL, 'b' },
		{ "size", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	enum wgx_aead_backend b;
	int c;

	while ((c = getopt_long(argc, argv, "s:b:n:h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			o->seconds = strtod(optarg, NULL);
			if (!(o->seconds > 0 && o->seconds <= 60)) {
				fprintf(stderr,
					"Couldn't use --seconds %s: "
					"want 0 < S <= 60\n",
					optarg);
				return -EINVAL;
			}
			break;
		case 'b':
			if (wgx_aead_backend_parse(optarg, &b) < 0) {
				fprintf(stderr,
					"Couldn't use --backend %s: unknown "
					"(openssl, sodium, auto)\n",
					optarg);
				return -EINVAL;
			}
			o->only = (int)b;
			break;
		case 'n':
			if (parse_size(optarg, o) < 0)
				return -EINVAL;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return -EINVAL;
	}
	if (!o->nsizes) {
		o->sizes[o->nsizes++] = 64;
		o->sizes[o->nsizes++] = 1420;
	}
	return 0;
}

static void print_case(struct wgx_aead *a[NB], bool seal, size_t len,
		       const struct result r[NB])
{
	for (int b = 0; b < NB; b++) {
		if (!a[b])
			continue;
		printf("  %-5s %5zu  %-8s %9.3f %8.3f %8.1f %9.3f\n",
		       seal ? "seal" : "open", len, wgx_aead_name(a[b]),
		       r[b].best, r[b].best * (double)len / 1e3,
		       1e3 / r[b].best, r[b].median);
	}
}

static void print_ratios(const struct options *o,
			 struct result r[MAX_SIZES][2][NB])
{
	printf("\nOpenSSL / libsodium (packets per CPU-second)\n"
	       "  op    bytes   best  median\n");
	for (int s = 0; s < o->nsizes; s++)
		for (int op = 0; op < 2; op++)
			printf("  %-5s %5zu  %5.2fx %5.2fx\n",
			       op ? "open" : "seal", o->sizes[s],
			       r[s][op][0].best / r[s][op][1].best,
			       r[s][op][0].median / r[s][op][1].median);
}

static void print_header(int cpu, double seconds)
{
	printf("ChaCha20-Poly1305 transport AEAD, one thread (CPU %d); "
	       "per case and back end %.1f s\nin %d alternating slices after "
	       "a %.1f s warm-up; rates per CPU-second of the thread\n",
	       cpu, seconds, SLICES, seconds / 5);
	printf("%s, libsodium %s; auto = sodium below %d bytes, else "
	       "openssl\n\n",
	       OpenSSL_version(OPENSSL_VERSION), sodium_version_string(),
	       WGX_AEAD_AUTO_MIN_LEN);
	printf("                         ------- best slice -------    "
	       "median\n"
	       "  op    bytes  backend     Mpkt/s     GB/s   ns/pkt    "
	       "Mpkt/s\n");
}

int main(int argc, char **argv)
{
	static struct result r[MAX_SIZES][2][NB];
	struct options o = { .seconds = 1.0, .only = -1 };
	struct wgx_aead *a[NB] = { NULL };
	int cpu, ret = 1;

	if (parse(argc, argv, &o) < 0)
		return 2;
	if (sodium_init() < 0) {
		fprintf(stderr, "Couldn't initialise libsodium\n");
		return 1;
	}
	pin_to_current_cpu(&cpu);
	for (int b = 0; b < NB; b++) {
		if (o.only >= 0 && (int)backends[b] != o.only)
			continue;
		a[b] = wgx_aead_new(backends[b]);
		if (!a[b]) {
			fprintf(stderr, "Couldn't create the %s back end\n",
				wgx_aead_backend_name(backends[b]));
			goto out;
		}
	}
	print_header(cpu, o.seconds);
	for (int s = 0; s < o.nsizes; s++) {
		for (int op = 0; op < 2; op++) {
			if (measure(a, op == 0, o.sizes[s], o.seconds,
				    r[s][op]) < 0) {
				fprintf(stderr, "Couldn't %s %zu bytes\n",
					op ? "open" : "seal", o.sizes[s]);
				goto out;
			}
			print_case(a, op == 0, o.sizes[s], r[s][op]);
		}
	}
	if (a[0] && a[1])
		print_ratios(&o, r);
	printf("\ndefault back end: %s (WGX_AEAD_DEFAULT)\n",
	       wgx_aead_backend_name(WGX_AEAD_DEFAULT));
	ret = 0;
out:
	for (int b = 0; b < NB; b++)
		wgx_aead_free(a[b]);
	return ret;
}
