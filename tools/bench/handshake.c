// SPDX-License-Identifier: MIT
/*
 * Handshakes per second on one core as the responder: consume_initiation +
 * create_response + begin_session (index table and keypair set included,
 * fresh random ephemerals), against the raw X25519 rate of this machine.
 *
 * Initiations come from many distinct initiator peers and are created
 * before the timed part with strictly increasing timestamps; a fake clock
 * moves 20 ms per round of peers so the flood limit never trips. Rates
 * are in this thread's CPU time, so other load on the machine does not
 * count against them.
 *
 * Then X25519 itself, libsodium (what wgx_crypto_dh() uses) against
 * OpenSSL's fastest public route with the same per-call semantics (raw
 * keys in, EVP_PKEY_derive(), keys freed), in alternating rounds; and
 * OpenSSL's derive alone on keys loaded once, what `openssl speed
 * ecdhx25519` measures, to show what the per-call setup costs.
 *
 *   build/bench/handshake [-n HANDSHAKES] [-p PEERS] [-r RUNS]
 */
#include <errno.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/crypto.h"
#include "core/index.h"
#include "core/keypairs.h"
#include "core/noise.h"

#define NSEC_PER_SEC 1000000000ULL
#define FLOOD_GAP_NS (NSEC_PER_SEC / WGX_INITIATIONS_PER_SECOND)

struct peer {
	/* Responder side: our record of this initiator. */
	struct wgx_keypairs kps;
	struct wgx_handshake *hs;
	/* Initiator side: the remote device that sends us initiations. */
	struct wgx_noise_static *st;
	struct wgx_index_table *idx;
	struct wgx_keypairs ikps;
	struct wgx_handshake *ihs;
	uint32_t stamps;
};

struct bench {
	struct wgx_noise_static *st;
	struct wgx_index_table *idx;
	struct peer *peers;
	unsigned int npeers;
	/* Responder's peer lookup by static key: open addressing. */
	struct peer **by_key;
	unsigned int key_mask;
	uint64_t now_ns;
};

/*
 * This thread's CPU time: the machine may be shared, and "per core" means
 * the time this core actually spent on us.
 */
static uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

static unsigned int key_slot(const struct bench *b, const uint8_t pub[32])
{
	unsigned int h;

	memcpy(&h, pub, sizeof(h));
	return h & b->key_mask;
}

static struct wgx_handshake *lookup(void *ctx, const uint8_t pub[32])
{
	struct bench *b = ctx;

	for (unsigned int i = key_slot(b, pub); b->by_key[i];
	     i = (i + 1) & b->key_mask)
		if (!memcmp(b->by_key[i]->hs->remote_static, pub, 32))
			return b->by_key[i]->hs;
	return NULL;
}

static int peer_init(struct bench *b, struct peer *p)
{
	uint8_t priv[32], pub[32];
	unsigned int i;

	wgx_crypto_dh_generate(priv, pub);
	p->st = wgx_noise_static_new();
	p->idx = wgx_index_new();
	if (!p->st || !p->idx)
		goto nomem;
	wgx_noise_static_set(p->st, priv);
	wgx_keypairs_init(&p->ikps, p->idx, NULL);
	wgx_keypairs_init(&p->kps, b->idx, NULL);
	p->ihs = wgx_noise_handshake_new(p->st, b->st->public_key, NULL,
					 &p->ikps, p);
	p->hs = wgx_noise_handshake_new(b->st, pub, NULL, &p->kps, p);
	if (!p->ihs || !p->hs)
		goto nomem;
	for (i = key_slot(b, pub); b->by_key[i]; i = (i + 1) & b->key_mask)
		;
	b->by_key[i] = p;
	wgx_crypto_wipe(priv, sizeof(priv));
	return 0;
nomem:
	wgx_crypto_wipe(priv, sizeof(priv));
	return -ENOMEM;
}

static void peer_free(struct peer *p)
{
	wgx_noise_handshake_free(p->hs);
	wgx_noise_handshake_free(p->ihs);
	if (p->idx)
		wgx_keypairs_clear(&p->ikps);
	wgx_keypairs_clear(&p->kps);
	wgx_index_free(p->idx);
	wgx_noise_static_free(p->st);
}

static int bench_init(struct bench *b, unsigned int npeers)
{
	uint8_t priv[32], pub[32];
	unsigned int slots = 1;

	memset(b, 0, sizeof(*b));
	while (slots < 2 * npeers)
		slots <<= 1;
	b->st = wgx_noise_static_new();
	b->idx = wgx_index_new();
	b->peers = calloc(npeers, sizeof(*b->peers));
	b->by_key = calloc(slots, sizeof(*b->by_key));
	if (!b->st || !b->idx || !b->peers || !b->by_key)
		return -ENOMEM;
	b->key_mask = slots - 1;
	wgx_crypto_dh_generate(priv, pub);
	wgx_noise_static_set(b->st, priv);
	wgx_crypto_wipe(priv, sizeof(priv));
	for (b->npeers = 0; b->npeers < npeers; b->npeers++) {
		if (peer_init(b, &b->peers[b->npeers]) < 0) {
			b->npeers++;
			return -ENOMEM;
		}
	}
	b->now_ns = NSEC_PER_SEC;
	return 0;
}

static void bench_free(struct bench *b)
{
	for (unsigned int i = 0; i < b->npeers; i++)
		peer_free(&b->peers[i]);
	free(b->peers);
	free(b->by_key);
	wgx_index_free(b->idx);
	wgx_noise_static_free(b->st);
}

/* Initiation i of a run comes from peer i % npeers, timestamps rising. */
static int precreate(struct bench *b, struct wgx_msg_initiation *msgs,
		     unsigned int n, double *secs)
{
	uint64_t t0 = cpu_ns();

	for (unsigned int i = 0; i < n; i++) {
		struct peer *p = &b->peers[i % b->npeers];
		uint8_t ts[WGX_TAI64N_LEN];
		struct wgx_noise_fixed f = { NULL, ts, 0 };

		wgx_crypto_tai64n(ts, 1700000000ULL + ++p->stamps, 0);
		if (wgx_noise_create_initiation(p->ihs, &msgs[i], &f) < 0)
			return -EIO;
	}
	*secs = (double)(cpu_ns() - t0) / 1e9;
	return 0;
}

struct split {
	double consume, respond, session;
};

/* The timed part: everything a responder does per initiation. */
static int respond_all(struct bench *b, const struct wgx_msg_initiation *msgs,
		       unsigned int n, struct split *s)
{
	uint64_t c = 0, r = 0, k = 0;

	for (unsigned int i = 0; i < n; i++) {
		struct wgx_msg_response resp;
		struct wgx_handshake *hs;
		uint64_t t0, t1, t2, t3;

		if (i % b->npeers == 0)
			b->now_ns += FLOOD_GAP_NS;
		t0 = cpu_ns();
		if (wgx_noise_consume_initiation(b->st, &msgs[i],
						 sizeof(msgs[i]), b->now_ns,
						 lookup, b, &hs) < 0)
			return -EBADMSG;
		t1 = cpu_ns();
		if (wgx_noise_create_response(hs, &resp, NULL) < 0)
			return -EIO;
		t2 = cpu_ns();
		if (wgx_noise_begin_session(hs, b->now_ns, NULL) < 0)
			return -EIO;
		t3 = cpu_ns();
		c += t1 - t0;
		r += t2 - t1;
		k += t3 - t2;
	}
	s->consume = (double)c / 1e9;
	s->respond = (double)r / 1e9;
	s->session = (double)k / 1e9;
	return 0;
}

/* Raw X25519: variable-base (DH) and fixed-base (public key) rates. */
static void x25519_rates(unsigned int n, double *dh_per_s, double *base_per_s)
{
	uint8_t priv[32], pub[32], out[32];
	uint64_t t0;
	unsigned int ok = 0;

	wgx_crypto_dh_generate(priv, pub);
	t0 = cpu_ns();
	for (unsigned int i = 0; i < n; i++) {
		ok += wgx_crypto_dh(out, priv, pub);
		pub[0] ^= out[0] & 0x10; /* keep the input changing */
	}
	*dh_per_s = n / ((double)(cpu_ns() - t0) / 1e9);
	t0 = cpu_ns();
	for (unsigned int i = 0; i < n; i++) {
		wgx_crypto_dh_public(out, priv);
		priv[1] ^= out[0];
	}
	*base_per_s = n / ((double)(cpu_ns() - t0) / 1e9);
	if (ok != n)
		fprintf(stderr, "warning: %u all-zero DH results\n", n - ok);
	wgx_crypto_wipe(priv, sizeof(priv));
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * X25519 through OpenSSL with wgx_crypto_dh()'s contract: raw private
 * and public key in, shared secret out. Loading a raw private key also
 * computes its public key, which is most of the extra cost.
 */
static bool ossl_dh(uint8_t out[32], const uint8_t priv[32],
		    const uint8_t pub[32])
{
	EVP_PKEY *k =
		EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, 32);
	EVP_PKEY *p =
		EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, pub, 32);
	EVP_PKEY_CTX *c = k ? EVP_PKEY_CTX_new(k, NULL) : NULL;
	size_t n = 32;
	bool ok = c && p && EVP_PKEY_derive_init(c) > 0 &&
		  EVP_PKEY_derive_set_peer(c, p) > 0 &&
		  EVP_PKEY_derive(c, out, &n) > 0 && n == 32;

	EVP_PKEY_CTX_free(c);
	EVP_PKEY_free(k);
	EVP_PKEY_free(p);
	return ok;
}

/* The public key of priv through OpenSSL (fixed base). */
static bool ossl_public(uint8_t pub[32], const uint8_t priv[32])
{
	EVP_PKEY *k =
		EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, 32);
	size_t n = 32;
	bool ok = k && EVP_PKEY_get_raw_public_key(k, pub, &n) > 0;

	EVP_PKEY_free(k);
	return ok;
}

enum x25519_way {
	X_SODIUM,      /* crypto_scalarmult, as wgx_crypto_dh() */
	X_OSSL,	       /* ossl_dh(): per call, same contract */
	X_OSSL_DERIVE, /* EVP_PKEY_derive() on a context set up once */
	X_SODIUM_BASE, /* crypto_scalarmult_base */
	X_OSSL_BASE,   /* ossl_public() */
	X_WAYS,
};

static const char *const x25519_names[X_WAYS] = {
	"X25519 DH, libsodium crypto_scalarmult",
	"X25519 DH, OpenSSL EVP per call (raw keys)",
	"X25519 DH, OpenSSL EVP_PKEY_derive only",
	"X25519 public key, libsodium",
	"X25519 public key, OpenSSL EVP per call",
};

/* n operations one way; microseconds of CPU per operation, or -1. */
static double x25519_round(enum x25519_way w, unsigned int n,
			   EVP_PKEY_CTX *derive)
{
	uint8_t priv[32], pub[32], out[32];
	unsigned int ok = 0;
	uint64_t t0;
	size_t len;

	wgx_crypto_dh_generate(priv, pub);
	t0 = cpu_ns();
	for (unsigned int i = 0; i < n; i++) {
		switch (w) {
		case X_SODIUM:
			ok += crypto_scalarmult(out, priv, pub) == 0;
			break;
		case X_OSSL:
			ok += ossl_dh(out, priv, pub);
			break;
		case X_OSSL_DERIVE:
			len = 32;
			ok += EVP_PKEY_derive(derive, out, &len) > 0;
			break;
		case X_SODIUM_BASE:
			ok += crypto_scalarmult_base(out, priv) == 0;
			break;
		default:
			ok += ossl_public(out, priv);
		}
		/* Keep the inputs changing, as real handshakes do. */
		if (w < X_SODIUM_BASE)
			pub[0] ^= out[0] & 0x10;
		else
			priv[1] ^= out[0];
	}
	t0 = cpu_ns() - t0;
	wgx_crypto_wipe(priv, sizeof(priv));
	return ok == n ? (double)t0 / 1e3 / n : -1;
}

/* An OpenSSL derive context with fixed random keys loaded once. */
static EVP_PKEY_CTX *derive_ctx(void)
{
	uint8_t priv[32], pub[32];
	EVP_PKEY *k, *p;
	EVP_PKEY_CTX *c = NULL;

	wgx_crypto_dh_generate(priv, pub);
	k = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, 32);
	wgx_crypto_dh_generate(priv, pub);
	p = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, pub, 32);
	wgx_crypto_wipe(priv, sizeof(priv));
	if (k && p)
		c = EVP_PKEY_CTX_new(k, NULL);
	if (c && (EVP_PKEY_derive_init(c) <= 0 ||
		  EVP_PKEY_derive_set_peer(c, p) <= 0)) {
		EVP_PKEY_CTX_free(c);
		c = NULL;
	}
	EVP_PKEY_free(k);
	EVP_PKEY_free(p);
	return c;
}

/*
 * The X25519 ways side by side: rounds alternate between them so all
 * see the same machine; best and median round per way.
 */
static int x25519_compare(unsigned int rounds)
{
	enum {
		PER_ROUND = 500,
		MAX_ROUNDS = 64
	};
	double us[X_WAYS][MAX_ROUNDS], best[X_WAYS];
	EVP_PKEY_CTX *derive = derive_ctx();
	uint8_t a[32], b[32], pa[32], pb[32], s1[32], s2[32];
	bool same;

	if (!derive)
		return -EIO;
	if (rounds > MAX_ROUNDS)
		rounds = MAX_ROUNDS;
	/* Both agree before either is timed. */
	wgx_crypto_dh_generate(a, pa);
	wgx_crypto_dh_generate(b, pb);
	same = wgx_crypto_dh(s1, a, pb) && ossl_dh(s2, a, pb) &&
	       !memcmp(s1, s2, 32) && ossl_public(s2, a) && !memcmp(s2, pa, 32);
	wgx_crypto_wipe(a, sizeof(a));
	wgx_crypto_wipe(b, sizeof(b));
	wgx_crypto_wipe(s1, sizeof(s1));
	wgx_crypto_wipe(s2, sizeof(s2));
	if (!same) {
		EVP_PKEY_CTX_free(derive);
		return -EIO;
	}
	for (unsigned int r = 0; r < rounds; r++) {
		for (int w = 0; w < X_WAYS; w++) {
			us[w][r] = x25519_round(w, PER_ROUND, derive);
			if (us[w][r] < 0) {
				EVP_PKEY_CTX_free(derive);
				return -EIO;
			}
		}
	}
	EVP_PKEY_CTX_free(derive);
	printf("\nX25519, %u alternating rounds of %d operations\n", rounds,
	       PER_ROUND);
	printf("%-44s %12s %10s %10s\n", "operation", "ops/s (best)", "us/op",
	       "median");
	for (int w = 0; w < X_WAYS; w++) {
		qsort(us[w], rounds, sizeof(double), cmp_double);
		best[w] = us[w][0];
		printf("%-44s %12.0f %10.1f %10.1f\n", x25519_names[w],
		       1e6 / best[w], best[w], us[w][rounds / 2]);
	}
	printf("\nOpenSSL / libsodium, best rounds: DH per call %.2fx, "
	       "derive only %.2fx, public key %.2fx\n",
	       best[X_SODIUM] / best[X_OSSL],
	       best[X_SODIUM] / best[X_OSSL_DERIVE],
	       best[X_SODIUM_BASE] / best[X_OSSL_BASE]);
	return 0;
}

static void usage(const char *argv0)
{
	fprintf(stderr, "usage: %s [-n HANDSHAKES] [-p PEERS] [-r RUNS]\n",
		argv0);
}

int main(int argc, char **argv)
{
	unsigned int n = 4000, npeers = 256, runs = 5;
	struct wgx_msg_initiation *msgs;
	double dh_rate, base_rate, create_secs = 0, *rates;
	struct split best = { 0 }, s;
	double best_total = 0;
	struct bench b = { 0 };
	int opt, ret = 1;

	while ((opt = getopt(argc, argv, "n:p:r:h")) != -1) {
		switch (opt) {
		case 'n':
			n = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		case 'p':
			npeers = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		case 'r':
			runs = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		default:
			usage(argv[0]);
			return opt == 'h' ? 0 : 2;
		}
	}
	if (!n || !npeers || !runs || npeers > 1u << 20) {
		usage(argv[0]);
		return 2;
	}
	if (wgx_crypto_init() < 0) {
		fprintf(stderr, "Couldn't initialise crypto\n");
		return 1;
	}
	msgs = calloc(n, sizeof(*msgs));
	rates = calloc(runs, sizeof(*rates));
	if (!msgs || !rates || bench_init(&b, npeers) < 0) {
		fprintf(stderr, "Couldn't set up %u peers: out of memory\n",
			npeers);
		goto out;
	}
	x25519_rates(20000, &dh_rate, &base_rate);
	for (unsigned int r = 0; r < runs; r++) {
		double total, secs;

		if (precreate(&b, msgs, n, &secs) < 0 ||
		    respond_all(&b, msgs, n, &s) < 0) {
			fprintf(stderr, "Couldn't run handshakes: failed\n");
			goto out;
		}
		create_secs += secs;
		total = s.consume + s.respond + s.session;
		rates[r] = n / total;
		if (!best_total || total < best_total) {
			best_total = total;
			best = s;
		}
	}
	qsort(rates, runs, sizeof(*rates), cmp_double);

	printf("handshake benchmark: %u responder handshakes x %u runs, "
	       "%u initiator peers, 1 thread, per CPU-second\n\n",
	       n, runs, npeers);
	printf("%-44s %12s %10s\n", "operation", "ops/s", "us/op");
	printf("%-44s %12.0f %10.1f\n", "X25519 DH (variable base)", dh_rate,
	       1e6 / dh_rate);
	printf("%-44s %12.0f %10.1f\n", "X25519 public key (fixed base)",
	       base_rate, 1e6 / base_rate);
	printf("%-44s %12.0f %10.1f\n", "initiator: create_initiation",
	       n * runs / create_secs, 1e6 * create_secs / (n * runs));
	printf("%-44s %12.0f %10.1f\n", "responder: consume_initiation (best)",
	       n / best.consume, 1e6 * best.consume / n);
	printf("%-44s %12.0f %10.1f\n", "responder: create_response (best)",
	       n / best.respond, 1e6 * best.respond / n);
	printf("%-44s %12.0f %10.1f\n", "responder: begin_session (best)",
	       n / best.session, 1e6 * best.session / n);
	printf("%-44s %12.0f %10.1f\n", "responder handshake, median of runs",
	       rates[runs / 2], 1e6 / rates[runs / 2]);
	printf("%-44s %12.0f %10.1f\n", "responder handshake, best run",
	       rates[runs - 1], 1e6 / rates[runs - 1]);
	printf("%-44s %12.0f %10.1f\n", "bound: X25519 DH rate / 4",
	       dh_rate / 4, 4e6 / dh_rate);
	printf("%-44s %12.0f %10.1f\n",
	       "bound: 3 DH + 1 fixed-base per handshake",
	       1 / (3 / dh_rate + 1 / base_rate),
	       1e6 * (3 / dh_rate + 1 / base_rate));
	printf("\nmedian run reaches %.0f%% of the 3 DH + 1 fixed-base bound\n",
	       100 * rates[runs / 2] * (3 / dh_rate + 1 / base_rate));
	if (x25519_compare(2 * runs + 1) < 0) {
		fprintf(stderr, "Couldn't compare X25519 implementations: "
				"OpenSSL failed or disagreed\n");
		goto out;
	}
	ret = 0;
out:
	bench_free(&b);
	free(rates);
	free(msgs);
	return ret;
}
