// SPDX-License-Identifier: MIT
/*
 * Two back ends for the transport AEAD. The OpenSSL one keeps one
 * EVP_CIPHER_CTX per direction, bound to ChaCha20-Poly1305 once at
 * creation; each packet then only loads key and nonce, which resets the
 * Poly1305 state, so nothing is allocated or looked up per packet. That
 * reload still costs a few hundred nanoseconds in OpenSSL 3.0's EVP layer,
 * more than libsodium spends on a whole small packet, hence "auto".
 * libsodium is stateless and needs no context at all.
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

struct wgx_aead {
	enum wgx_aead_backend backend;
	EVP_CIPHER_CTX *enc;
	EVP_CIPHER_CTX *dec;
	struct loaded_keys *keys;
};

static const char *const names[] = {
	[WGX_AEAD_OPENSSL] = "openssl",
	[WGX_AEAD_SODIUM] = "sodium",
	[WGX_AEAD_AUTO] = "auto",
};

static bool valid(enum wgx_aead_backend b)
{
	return b == WGX_AEAD_OPENSSL || b == WGX_AEAD_SODIUM ||
	       b == WGX_AEAD_AUTO;
}

/* Which library handles a message of len bytes. */
static bool use_openssl(const struct wgx_aead *a, size_t len)
{
	return a->backend == WGX_AEAD_OPENSSL ||
	       (a->backend == WGX_AEAD_AUTO && len >= WGX_AEAD_AUTO_MIN_LEN);
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
	if (backend != WGX_AEAD_SODIUM) {
		a->enc = ossl_ctx(1);
		a->dec = ossl_ctx(0);
		a->keys = sodium_malloc(sizeof(*a->keys));
		if (a->keys)
			memset(a->keys, 0, sizeof(*a->keys));
		if (!a->enc || !a->dec || !a->keys) {
			wgx_aead_free(a);
			return NULL;
		}
	}
	return a;
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
	free(aead);
}

void wgx_aead_forget(struct wgx_aead *aead)
{
	static const uint8_t zero[WGX_KEY_LEN], nonce[12];

	if (!aead || !aead->keys)
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
	counter_nonce(nonce, counter);
	if (use_openssl(aead, len))
		return ossl_seal(aead->enc, dst, src, (int)len, ad, (int)ad_len,
				 nonce,
				 key_to_load(aead->keys->enc,
					     &aead->keys->enc_set, key));
	crypto_aead_chacha20poly1305_ietf_encrypt(dst, NULL, src, len, ad,
						  ad_len, NULL, nonce, key);
	return 0;
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
	if (use_openssl(aead, clen))
		ok = ossl_open(aead->dec, dst, src, (int)clen, ad, (int)ad_len,
			       nonce,
			       key_to_load(aead->keys->dec,
					   &aead->keys->dec_set, key));
	else
		ok = crypto_aead_chacha20poly1305_ietf_decrypt(
			     dst, NULL, NULL, src, len, ad, ad_len, nonce,
			     key) == 0;
	/* OpenSSL decrypts before it checks: never leave forged plaintext. */
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
