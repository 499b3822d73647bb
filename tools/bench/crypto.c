// SPDX-License-Identifier: MIT
/*
 * Transport AEAD throughput: seal and open per packet on each back end
 * (OpenSSL, libsodium, intel-ipsec-mb, and "auto", which picks one by
 * size), one at a time and in batches, one thread pinned to one core.
 * Every round works on the same 64 messages (buffers, counters, keys):
 * "single" calls wgx_aead_seal()/open() for each, "batch" hands all 64 to
 * wgx_aead_seal_batch()/open_batch(). Each case is warmed up, then run
 * for about `seconds` per back end in ten slices that alternate between
 * the back ends, so all of them see the same conditions on a shared
 * machine. Rates are packets per CPU-second of this thread (time it was
 * preempted does not count); the table shows the best slice and the
 * median one and the payload GB/s (10^9 bytes) of the best; ratios of the
 * best slices follow.
 *
 *   tools/bench/crypto [--seconds S] [--backend NAME] [--size N]...
 *                      [--keys K] [--no-batch] [--ipsecmb-arch ARCH]
 *
 * Default sizes 64 and 1420; --size (repeatable) replaces them. --keys:
 * how many distinct keys the 64 messages use (1, one busy peer: default).
 * --ipsecmb-arch sse|avx|avx2|avx512 runs that code path of the library
 * instead of its choice for this CPU (and auto's table for it).
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
	ROUND = WGX_AEAD_BATCH_MAX,
	MAX_LEN = 65535,
	NB = 4,
	MAX_SIZES = 16,
	SLICES = 10,
	/* seal, open; single, batch */
	NOPS = 4,
};

static const enum wgx_aead_backend backends[NB] = {
	WGX_AEAD_OPENSSL,
	WGX_AEAD_SODIUM,
	WGX_AEAD_IPSECMB,
	WGX_AEAD_AUTO,
};

static const char *const op_names[NOPS] = { "seal", "open", "seal*64",
					    "open*64" };

struct options {
	double seconds;
	int only; /* a back end, or -1 for all */
	size_t sizes[MAX_SIZES];
	int nsizes;
	int keys;
	bool batch;
	const char *arch;
};

struct result {
	double best;   /* Mpkt/s; 0 when not measured */
	double median; /* Mpkt/s */
};

/* The 64 messages of a round, each with its own buffers. */
struct work {
	uint8_t key[ROUND][32];
	uint8_t pt[ROUND][MAX_LEN];
	uint8_t ct[ROUND][MAX_LEN + 16];
	uint8_t out[ROUND][MAX_LEN + 16];
	struct wgx_aead_op ops[ROUND];
	uint64_t counter;
};

static double clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One round of 64 messages; 0 or -EIO. */
static int round_single(struct wgx_aead *a, struct work *w, bool seal,
			size_t len)
{
	for (int i = 0; i < ROUND; i++) {
		if (seal) {
			if (wgx_aead_seal(a, w->out[i], w->pt[i], len,
					  w->counter++, w->key[i]) < 0)
				return -EIO;
		} else if (!wgx_aead_open(a, w->out[i], w->ct[i], len + 16,
					  (uint64_t)i, w->key[i])) {
			return -EIO;
		}
	}
	return 0;
}

static int round_batch(struct wgx_aead *a, struct work *w, bool seal,
		       size_t len)
{
	for (int i = 0; i < ROUND; i++) {
		struct wgx_aead_op *op = &w->ops[i];

		op->dst = w->out[i];
		op->src = seal ? w->pt[i] : w->ct[i];
		op->len = seal ? len : len + 16;
		op->counter = seal ? w->counter++ : (uint64_t)i;
		op->key = w->key[i];
	}
	if (seal)
		return wgx_aead_seal_batch(a, w->ops, ROUND) == ROUND ? 0
								      : -EIO;
	return wgx_aead_open_batch(a, w->ops, ROUND) == ROUND ? 0 : -EIO;
}

/*
 * Rounds of op for `seconds` of wall time. Returns packets per
 * CPU-second of this thread, or a negative errno.
 */
static double slice(struct wgx_aead *a, struct work *w, int op, size_t len,
		    double seconds)
{
	double end = clock_s(CLOCK_MONOTONIC) + seconds;
	double cpu0 = clock_s(CLOCK_THREAD_CPUTIME_ID), cpu;
	bool seal = op % 2 == 0;
	long n = 0;

	do {
		int err = op < 2 ? round_single(a, w, seal, len)
				 : round_batch(a, w, seal, len);

		if (err < 0)
			return err;
		n += ROUND;
	} while (clock_s(CLOCK_MONOTONIC) < end);
	cpu = clock_s(CLOCK_THREAD_CPUTIME_ID) - cpu0;
	return cpu > 0 ? (double)n / cpu : -EIO;
}

static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return (a > b) - (a < b);
}

/* Fresh messages of len bytes; the ciphertexts to open use counter i. */
static int prepare(struct wgx_aead *a, struct work *w, size_t len, int keys)
{
	randombytes_buf(w->key[0], sizeof(w->key[0]));
	for (int i = 0; i < ROUND; i++) {
		if (i >= keys)
			memcpy(w->key[i], w->key[i % keys], 32);
		else if (i)
			randombytes_buf(w->key[i], 32);
		randombytes_buf(w->pt[i], len);
		if (wgx_aead_seal(a, w->ct[i], w->pt[i], len, (uint64_t)i,
				  w->key[i]) < 0)
			return -EIO;
	}
	w->counter = ROUND;
	return 0;
}

/* One case for every back end in a[], interleaved slice by slice. */
static int measure(struct wgx_aead *a[NB], int op, size_t len,
		   const struct options *o, struct result r[NB])
{
	static struct work w;
	double rate[NB][SLICES];
	struct wgx_aead *first = NULL;

	for (int b = 0; b < NB && !first; b++)
		first = a[b];
	if (prepare(first, &w, len, o->keys) < 0)
		return -EIO;
	for (int b = 0; b < NB; b++) {
		/* Warm-up: caches, branch predictors, clock frequency. */
		if (a[b] && slice(a[b], &w, op, len, o->seconds / 5) < 0)
			return -EIO;
	}
	for (int s = 0; s < SLICES; s++) {
		for (int b = 0; b < NB; b++) {
			if (!a[b])
				continue;
			rate[b][s] =
				slice(a[b], &w, op, len, o->seconds / SLICES);
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
	fprintf(f, "usage: crypto [--seconds S] "
		   "[--backend openssl|sodium|ipsecmb|auto] [--size N]...\n"
		   "              [--keys K] [--no-batch] "
		   "[--ipsecmb-arch sse|avx|avx2|avx512]\n");
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

static int parse_keys(const char *arg, struct options *o)
{
	char *end;
	long n = strtol(arg, &end, 10);

	if (*arg == '\0' || *end != '\0' || n < 1 || n > ROUND) {
		fprintf(stderr, "Couldn't use --keys %s: want 1..%d\n", arg,
			ROUND);
		return -EINVAL;
	}
	o->keys = (int)n;
	return 0;
}

static int parse_option(int c, struct options *o)
{
	enum wgx_aead_backend b;

	switch (c) {
	case 's':
		o->seconds = strtod(optarg, NULL);
		if (!(o->seconds > 0 && o->seconds <= 60)) {
			fprintf(stderr,
				"Couldn't use --seconds %s: want 0 < S <= 60\n",
				optarg);
			return -EINVAL;
		}
		return 0;
	case 'b':
		if (wgx_aead_backend_parse(optarg, &b) < 0) {
			fprintf(stderr,
				"Couldn't use --backend %s: unknown "
				"(openssl, sodium, ipsecmb, auto)\n",
				optarg);
			return -EINVAL;
		}
		o->only = (int)b;
		return 0;
	case 'n':
		return parse_size(optarg, o);
	case 'k':
		return parse_keys(optarg, o);
	case 'B':
		o->batch = false;
		return 0;
	case 'a':
		o->arch = optarg;
		return 0;
	case 'h':
		usage(stdout);
		exit(0);
	default:
		usage(stderr);
		return -EINVAL;
	}
}

static int parse(int argc, char **argv, struct options *o)
{
	static const struct option opts[] = {
		{ "seconds", required_argument, NULL, 's' },
		{ "backend", required_argument, NULL, 'b' },
		{ "size", required_argument, NULL, 'n' },
		{ "keys", required_argument, NULL, 'k' },
		{ "no-batch", no_argument, NULL, 'B' },
		{ "ipsecmb-arch", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "s:b:n:k:h", opts, NULL)) != -1)
		if (parse_option(c, o) < 0)
			return -EINVAL;
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

static void print_case(struct wgx_aead *a[NB], int op, size_t len,
		       const struct result r[NB])
{
	for (int b = 0; b < NB; b++) {
		if (!a[b])
			continue;
		printf("  %-7s %5zu  %-8s %9.3f %8.3f %8.1f %9.3f\n",
		       op_names[op], len, wgx_aead_name(a[b]), r[b].best,
		       r[b].best * (double)len / 1e3, 1e3 / r[b].best,
		       r[b].median);
	}
}

/* x / y of the best slices, or a dash where either is missing. */
static void print_ratio(const struct result *x, const struct result *y)
{
	if (x->best > 0 && y->best > 0)
		printf("  %7.2fx", x->best / y->best);
	else
		printf("  %8s", "-");
}

static void print_ratios(const struct options *o,
			 struct result r[MAX_SIZES][NOPS][NB])
{
	enum {
		OSSL,
		SOD,
		IMB,
		AUTO
	};

	printf("\nratios of the best slices (packets per CPU-second)\n"
	       "  op      bytes  ipsecmb/  ipsecmb/   openssl/  auto/best"
	       "   batch/single\n"
	       "                  openssl    sodium     sodium  single"
	       "     ipsecmb      auto\n");
	for (int s = 0; s < o->nsizes; s++) {
		for (int op = 0; op < 2; op++) {
			struct result *x = r[s][op], *bt = r[s][op + 2];
			struct result best = x[OSSL];

			for (int b = SOD; b < AUTO; b++)
				if (x[b].best > best.best)
					best = x[b];
			printf("  %-7s %5zu", op_names[op], o->sizes[s]);
			print_ratio(&x[IMB], &x[OSSL]);
			print_ratio(&x[IMB], &x[SOD]);
			print_ratio(&x[OSSL], &x[SOD]);
			print_ratio(&x[AUTO], &best);
			print_ratio(&bt[IMB], &x[IMB]);
			print_ratio(&bt[AUTO], &x[AUTO]);
			printf("\n");
		}
	}
}

static void print_header(int cpu, const struct options *o,
			 struct wgx_aead *a[NB])
{
	const struct wgx_aead *au = a[NB - 1];

	printf("ChaCha20-Poly1305 transport AEAD, one thread (CPU %d); "
	       "per case and back end %.1f s\nin %d alternating slices after "
	       "a %.1f s warm-up; rates per CPU-second of the thread;\n"
	       "rounds of %d messages with %d distinct key(s); "
	       "OP*64: the batch call\n",
	       cpu, o->seconds, SLICES, o->seconds / 5, ROUND, o->keys);
	printf("%s, libsodium %s, intel-ipsec-mb: %s\n",
	       OpenSSL_version(OPENSSL_VERSION), sodium_version_string(),
	       a[2] ? wgx_aead_ipsecmb_arch(a[2]) : "not available");
	if (au) {
		size_t from = 0;

		printf("auto:");
		for (size_t n = 1; n <= MAX_LEN + 1; n++) {
			if (n <= MAX_LEN &&
			    wgx_aead_backend_for(au, n) ==
				    wgx_aead_backend_for(au, from))
				continue;
			printf(" %s %zu-%zu",
			       wgx_aead_backend_name(
				       wgx_aead_backend_for(au, from)),
			       from, n - 1);
			from = n;
		}
		printf(" bytes\n");
	}
	printf("\n                           ------- best slice -------    "
	       "median\n"
	       "  op      bytes  backend     Mpkt/s     GB/s   ns/pkt    "
	       "Mpkt/s\n");
}

static int open_backends(const struct options *o, struct wgx_aead *a[NB])
{
	if (o->arch && wgx_aead_ipsecmb_set_arch(o->arch) < 0) {
		fprintf(stderr,
			"Couldn't use --ipsecmb-arch %s: unknown, or built "
			"without intel-ipsec-mb (sse, avx, avx2, avx512)\n",
			o->arch);
		return -EINVAL;
	}
	for (int b = 0; b < NB; b++) {
		if (o->only >= 0 && (int)backends[b] != o->only)
			continue;
		a[b] = wgx_aead_new(backends[b]);
		if (a[b])
			continue;
		if (backends[b] != WGX_AEAD_IPSECMB) {
			fprintf(stderr, "Couldn't create the %s back end\n",
				wgx_aead_backend_name(backends[b]));
			return -ENODEV;
		}
		fprintf(stderr,
			"%s the ipsecmb back end: built without "
			"intel-ipsec-mb (libipsec-mb-dev), or this CPU cannot "
			"run %s code path\n",
			o->only < 0 ? "Skipping" : "Couldn't create",
			o->arch ? "that" : "any");
		/* Measure the others. */
		if (o->only >= 0)
			return -ENODEV;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct result r[MAX_SIZES][NOPS][NB];
	struct options o = {
		.seconds = 1.0, .only = -1, .keys = 1, .batch = true
	};
	struct wgx_aead *a[NB] = { NULL };
	int cpu, ret = 1;

	if (parse(argc, argv, &o) < 0)
		return 2;
	if (sodium_init() < 0) {
		fprintf(stderr, "Couldn't initialise libsodium\n");
		return 1;
	}
	pin_to_current_cpu(&cpu);
	if (open_backends(&o, a) < 0)
		goto out;
	print_header(cpu, &o, a);
	for (int s = 0; s < o.nsizes; s++) {
		for (int op = 0; op < (o.batch ? NOPS : 2); op++) {
			if (measure(a, op, o.sizes[s], &o, r[s][op]) < 0) {
				fprintf(stderr, "Couldn't %s %zu bytes\n",
					op_names[op], o.sizes[s]);
				goto out;
			}
			print_case(a, op, o.sizes[s], r[s][op]);
		}
	}
	if (o.only < 0)
		print_ratios(&o, r);
	printf("\ndefault back end: %s (WGX_AEAD_DEFAULT)\n",
	       wgx_aead_backend_name(WGX_AEAD_DEFAULT));
	ret = 0;
out:
	for (int b = 0; b < NB; b++)
		wgx_aead_free(a[b]);
	return ret;
}
