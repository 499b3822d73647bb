// SPDX-License-Identifier: MIT
/*
 * Three back ends for the transport AEAD. The OpenSSL one keeps one
 * EVP_CIPHER_CTX per direction, bound to ChaCha20-Poly1305 once at
 * creation; each packet then only loads key and nonce, which resets the
 * Poly1305 state, so nothing is allocated or looked up per packet. That
 * reload still costs a few hundred nanoseconds in OpenSSL 3.0's EVP layer,
 * more than libsodium spends on a whole small packet. libsodium is
 * stateless and needs no context at all. intel-ipsec-mb (aead_ipsecmb.c)
 * has neither cost and, on AVX-512, the fastest code: "auto" picks per
 * size from the table below.
 */
#include "core/aead.h"

#include <errno.h>
#include <limits.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "core/aead_ipsecmb.h"

/*
 * The key each OpenSSL context was last loaded with. Loading a key costs
 * more than sealing a small packet, and a session keeps its key for
 * minutes, so a context is re-keyed only when the key changes. The copy
 * lives in locked, guarded memory and is wiped with the context; the
 * context holds the key schedule anyway.
 */
struct loaded_keys {
	uint8_t enc[WGX_KEY_LEN];
	uint8_t dec[WGX_KEY_LEN];
	bool enc_set, dec_set;
};

/* auto: each back end up to the size where the next one is faster. */
struct auto_step {
	size_t below; /* plaintext bytes */
	enum wgx_aead_backend backend;
};

/*
 * The fastest back end per size, by the code path intel-ipsec-mb runs on
 * this CPU (auto_none: the library is absent or does not serve it).
 * Measured on the project's Xeon (AVX-512 with IFMA and VAES) with
 * tools/bench/crypto, best of ten slices, packets per CPU-second:
 *
 *   avx512  tools/bench/crypto --size 64 --size 128 ... --size 65535
 *           ipsecmb ahead at every size from 64 to 65535 bytes, seal and
 *           open: 2.32x/2.56x libsodium at 64, 2.48x/2.42x OpenSSL at
 *           1420, 1.15x OpenSSL at 16384 (the closest), 1.20x at 65535.
 *
 * The other paths ran on the same CPU, forced, with OpenSSL kept off its
 * AVX-512 code to stand in for a CPU without it (libsodium has none):
 *
 *   OPENSSL_ia32cap='~0x0:~0x80210000' tools/bench/crypto --no-batch \
 *           --ipsecmb-arch ARCH --size N...
 *   avx2    ipsecmb ahead up to 1420 bytes (1.33x libsodium at 64,
 *           1.08x OpenSSL at 1420), level with OpenSSL at 1536-1792,
 *           behind from 1920 (0.93x), 0.77x at 16384.
 *   avx,    ipsecmb ahead up to 384 bytes (sse 1.79x libsodium at 64,
 *   sse     1.07-1.18x OpenSSL at 384), behind OpenSSL from 448 (avx)
 *           or 512 (sse); then as without it.
 *   none    libsodium below 1024 bytes, OpenSSL from there (in the
 *           avx512 run OpenSSL / libsodium is 0.47-0.74x up to 512,
 *           0.97-1.03x at 1024, 1.20-1.26x at 1420, 2.1x at 65535).
 */
static const struct auto_step auto_none[] = {
	{ 1024, WGX_AEAD_SODIUM },
	{ SIZE_MAX, WGX_AEAD_OPENSSL },
};
static const struct auto_step auto_sse[] = {
	{ 448, WGX_AEAD_IPSECMB },
	{ 1024, WGX_AEAD_SODIUM },
	{ SIZE_MAX, WGX_AEAD_OPENSSL },
};
static const struct auto_step auto_avx2[] = {
	{ 1536, WGX_AEAD_IPSECMB },
	{ SIZE_MAX, WGX_AEAD_OPENSSL },
};
static const struct auto_step auto_avx512[] = {
	{ SIZE_MAX, WGX_AEAD_IPSECMB },
};
static const struct auto_step *const auto_tables[] = {
	/* A context never runs "auto": that index means no library. */
	[WGX_IPSECMB_AUTO] = auto_none,	    [WGX_IPSECMB_SSE] = auto_sse,
	[WGX_IPSECMB_AVX] = auto_sse,	    [WGX_IPSECMB_AVX2] = auto_avx2,
	[WGX_IPSECMB_AVX512] = auto_avx512,
};

struct wgx_aead {
	enum wgx_aead_backend backend;
	const struct auto_step *steps; /* auto only */
	EVP_CIPHER_CTX *enc;
	EVP_CIPHER_CTX *dec;
	struct loaded_keys *keys;
	struct wgx_ipsecmb *mb;
};

static const char *const names[] = {
	[WGX_AEAD_OPENSSL] = "openssl",
	[WGX_AEAD_SODIUM] = "sodium",
	[WGX_AEAD_IPSECMB] = "ipsecmb",
	[WGX_AEAD_AUTO] = "auto",
};

static const char *const arch_names[] = {
	[WGX_IPSECMB_AUTO] = "auto",	 [WGX_IPSECMB_SSE] = "sse",
	[WGX_IPSECMB_AVX] = "avx",	 [WGX_IPSECMB_AVX2] = "avx2",
	[WGX_IPSECMB_AVX512] = "avx512",
};

static bool valid(enum wgx_aead_backend b)
{
	return b == WGX_AEAD_OPENSSL || b == WGX_AEAD_SODIUM ||
	       b == WGX_AEAD_IPSECMB || b == WGX_AEAD_AUTO;
}

/* Which library handles a message of len bytes. */
static enum wgx_aead_backend pick(const struct wgx_aead *a, size_t len)
{
	const struct auto_step *s = a->steps;

	if (!s)
		return a->backend;
	while (s->below != SIZE_MAX && len >= s->below)
		s++;
	return s->backend;
}

/* Whether any message size goes to back end b. */
static bool uses(const struct wgx_aead *a, enum wgx_aead_backend b)
{
	const struct auto_step *s = a->steps;

	if (!s)
		return a->backend == b;
	for (;; s++) {
		if (s->backend == b)
			return true;
		if (s->below == SIZE_MAX)
			return false;
	}
}

/* RFC 8439 nonce as WireGuard builds it: 32 zero bits, then le64. */
static void counter_nonce(uint8_t nonce[12], uint64_t counter)
{
	memset(nonce, 0, 4);
	for (int i = 0; i < 8; i++)
		nonce[4 + i] = (uint8_t)(counter >> (8 * i));
}

static EVP_CIPHER_CTX *ossl_ctx(int enc)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();

	if (c && !EVP_CipherInit_ex2(c, EVP_chacha20_poly1305(), NULL, NULL,
				     enc, NULL)) {
		EVP_CIPHER_CTX_free(c);
		c = NULL;
	}
	return c;
}

struct wgx_aead *wgx_aead_new(enum wgx_aead_backend backend)
{
	struct wgx_aead *a;

	if (!valid(backend))
		return NULL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	a->backend = backend;
	if (backend == WGX_AEAD_IPSECMB || backend == WGX_AEAD_AUTO) {
		a->mb = wgx_ipsecmb_new();
		if (!a->mb && backend == WGX_AEAD_IPSECMB)
			goto fail;
	}
	if (backend == WGX_AEAD_AUTO)
		a->steps = auto_tables[a->mb ? wgx_ipsecmb_arch(a->mb)
					     : WGX_IPSECMB_AUTO];
	if (uses(a, WGX_AEAD_OPENSSL)) {
		a->enc = ossl_ctx(1);
		a->dec = ossl_ctx(0);
		a->keys = sodium_malloc(sizeof(*a->keys));
		if (a->keys)
			memset(a->keys, 0, sizeof(*a->keys));
		if (!a->enc || !a->dec || !a->keys)
			goto fail;
	}
	return a;
fail:
	wgx_aead_free(a);
	return NULL;
}

void wgx_aead_free(struct wgx_aead *aead)
{
	if (!aead)
		return;
	/* EVP_CIPHER_CTX_free() cleanses the key schedule it held. */
	EVP_CIPHER_CTX_free(aead->enc);
	EVP_CIPHER_CTX_free(aead->dec);
	/* sodium_free() wipes before it releases. */
	if (aead->keys)
		sodium_free(aead->keys);
	wgx_ipsecmb_free(aead->mb);
	free(aead);
}

void wgx_aead_forget(struct wgx_aead *aead)
{
	static const uint8_t zero[WGX_KEY_LEN], nonce[12];

	if (!aead)
		return;
	wgx_ipsecmb_forget(aead->mb);
	if (!aead->keys)
		return;
	if (aead->keys->enc_set)
		EVP_EncryptInit_ex2(aead->enc, NULL, zero, nonce, NULL);
	if (aead->keys->dec_set)
		EVP_DecryptInit_ex2(aead->dec, NULL, zero, nonce, NULL);
	sodium_memzero(aead->keys, sizeof(*aead->keys));
}

const char *wgx_aead_backend_name(enum wgx_aead_backend backend)
{
	if (!valid(backend))
		return "unknown";
	return names[backend];
}

const char *wgx_aead_name(const struct wgx_aead *aead)
{
	return wgx_aead_backend_name(aead->backend);
}

int wgx_aead_backend_parse(const char *name, enum wgx_aead_backend *out)
{
	if (!name)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(name, names[i])) {
			*out = (enum wgx_aead_backend)i;
			return 0;
		}
	}
	return -EINVAL;
}

enum wgx_aead_backend wgx_aead_backend_for(const struct wgx_aead *aead,
					   size_t len)
{
	return pick(aead, len);
}

const char *wgx_aead_ipsecmb_arch(const struct wgx_aead *aead)
{
	return aead->mb ? arch_names[wgx_ipsecmb_arch(aead->mb)] : NULL;
}

int wgx_aead_ipsecmb_set_arch(const char *arch)
{
	for (size_t i = 0; arch && i < sizeof(arch_names) / sizeof(*arch_names);
	     i++)
		if (!strcmp(arch, arch_names[i]))
			return wgx_ipsecmb_set_arch((enum wgx_ipsecmb_arch)i);
	return -EINVAL;
}

/*
 * The tag moves through OSSL_PARAMs directly: EVP_CIPHER_CTX_ctrl() builds
 * the same parameters but measurably slower (OpenSSL 3.0).
 */
static int ossl_tag(EVP_CIPHER_CTX *c, uint8_t *tag, bool set)
{
	OSSL_PARAM p[2] = {
		OSSL_PARAM_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag,
					WGX_TAG_LEN),
		OSSL_PARAM_END,
	};

	return set ? EVP_CIPHER_CTX_set_params(c, p)
		   : EVP_CIPHER_CTX_get_params(c, p);
}

/* key when the context must be re-keyed, NULL when it already holds it. */
static const uint8_t *key_to_load(uint8_t cached[32], bool *set,
				  const uint8_t key[32])
{
	if (*set && !sodium_memcmp(cached, key, WGX_KEY_LEN))
		return NULL;
	memcpy(cached, key, WGX_KEY_LEN);
	*set = true;
	return key;
}

static int ossl_seal(EVP_CIPHER_CTX *c, uint8_t *dst, const uint8_t *src,
		     int len, const uint8_t *ad, int ad_len,
		     const uint8_t nonce[12], const uint8_t key[32])
{
	int n;

	if (!EVP_EncryptInit_ex2(c, NULL, key, nonce, NULL))
		return -EIO;
	if (ad_len && !EVP_EncryptUpdate(c, NULL, &n, ad, ad_len))
		return -EIO;
	if (len && (!EVP_EncryptUpdate(c, dst, &n, src, len) || n != len))
		return -EIO;
	/* A stream cipher: Final emits no bytes, it only finishes the MAC. */
	if (!EVP_EncryptFinal_ex(c, dst + len, &n) ||
	    !ossl_tag(c, dst + len, false))
		return -EIO;
	return 0;
}

static bool ossl_open(EVP_CIPHER_CTX *c, uint8_t *dst, const uint8_t *src,
		      int clen, const uint8_t *ad, int ad_len,
		      const uint8_t nonce[12], const uint8_t key[32])
{
	int n;

	if (!EVP_DecryptInit_ex2(c, NULL, key, nonce, NULL))
		return false;
	/* Set the expected tag first: in place, decrypting never reaches it. */
	if (!ossl_tag(c, (uint8_t *)(src + clen), true))
		return false;
	if (ad_len && !EVP_DecryptUpdate(c, NULL, &n, ad, ad_len))
		return false;
	if (clen && (!EVP_DecryptUpdate(c, dst, &n, src, clen) || n != clen))
		return false;
	return EVP_DecryptFinal_ex(c, dst + clen, &n) > 0;
}

int wgx_aead_seal_ad(struct wgx_aead *aead, uint8_t *dst, const uint8_t *src,
		     size_t len, const uint8_t *ad, size_t ad_len,
		     uint64_t counter, const uint8_t key[32])
{
	uint8_t nonce[12];

	if (len > INT_MAX - WGX_TAG_LEN || ad_len > INT_MAX)
		return -EMSGSIZE;
	switch (pick(aead, len)) {
	case WGX_AEAD_IPSECMB:
		return wgx_ipsecmb_seal(aead->mb, dst, src, len, ad, ad_len,
					counter, key);
	case WGX_AEAD_OPENSSL:
		counter_nonce(nonce, counter);
		return ossl_seal(aead->enc, dst, src, (int)len, ad, (int)ad_len,
				 nonce,
				 key_to_load(aead->keys->enc,
					     &aead->keys->enc_set, key));
	default:
		counter_nonce(nonce, counter);
		crypto_aead_chacha20poly1305_ietf_encrypt(
			dst, NULL, src, len, ad, ad_len, NULL, nonce, key);
		return 0;
	}
}

bool wgx_aead_open_ad(struct wgx_aead *aead, uint8_t *dst, const uint8_t *src,
		      size_t len, const uint8_t *ad, size_t ad_len,
		      uint64_t counter, const uint8_t key[32])
{
	uint8_t nonce[12];
	size_t clen;
	bool ok;

	if (len < WGX_TAG_LEN || len > INT_MAX || ad_len > INT_MAX)
		return false;
	clen = len - WGX_TAG_LEN;
	counter_nonce(nonce, counter);
	switch (pick(aead, clen)) {
	case WGX_AEAD_IPSECMB:
		ok = wgx_ipsecmb_open(aead->mb, dst, src, clen, ad, ad_len,
				      counter, key);
		break;
	case WGX_AEAD_OPENSSL:
		ok = ossl_open(aead->dec, dst, src, (int)clen, ad, (int)ad_len,
			       nonce,
			       key_to_load(aead->keys->dec,
					   &aead->keys->dec_set, key));
		break;
	default:
		ok = crypto_aead_chacha20poly1305_ietf_decrypt(
			     dst, NULL, NULL, src, len, ad, ad_len, nonce,
			     key) == 0;
	}
	/*
	 * OpenSSL and intel-ipsec-mb decrypt before the tag is checked:
	 * never leave forged plaintext.
	 */
	if (!ok)
		wgx_crypto_wipe(dst, clen);
	return ok;
}

int wgx_aead_seal(struct wgx_aead *aead, uint8_t *dst, const uint8_t *src,
		  size_t len, uint64_t counter, const uint8_t key[32])
{
	return wgx_aead_seal_ad(aead, dst, src, len, NULL, 0, counter, key);
}

bool wgx_aead_open(struct wgx_aead *aead, uint8_t *dst, const uint8_t *src,
		   size_t len, uint64_t counter, const uint8_t key[32])
{
	return wgx_aead_open_ad(aead, dst, src, len, NULL, 0, counter, key);
}

/*
 * One message after another, whatever the back end: intel-ipsec-mb 1.3
 * has no multi-buffer ChaCha20-Poly1305, and its burst API, which runs
 * the same single-buffer code per job, measured no faster than single
 * jobs (tools/bench/crypto, batch against single calls: -11% to +6%
 * from run to run and size to size, no consistent gain). OpenSSL and
 * libsodium have no batch interface.
 */
static int batch(struct wgx_aead *a, struct wgx_aead_op *ops, unsigned int n,
		 bool seal)
{
	int done = 0;

	if (n > WGX_AEAD_BATCH_MAX)
		return -EINVAL;
	for (unsigned int i = 0; i < n; i++) {
		struct wgx_aead_op *op = &ops[i];

		if (seal)
			op->err = wgx_aead_seal(a, op->dst, op->src, op->len,
						op->counter, op->key);
		else if (wgx_aead_open(a, op->dst, op->src, op->len,
				       op->counter, op->key))
			op->err = 0;
		else
			op->err = -EBADMSG;
		done += op->err == 0;
	}
	return done;
}

int wgx_aead_seal_batch(struct wgx_aead *aead, struct wgx_aead_op *ops,
			unsigned int n)
{
	return batch(aead, ops, n, true);
}

int wgx_aead_open_batch(struct wgx_aead *aead, struct wgx_aead_op *ops,
			unsigned int n)
{
	return batch(aead, ops, n, false);
}
