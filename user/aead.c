// SPDX-License-Identifier: MIT
/*
 * Two back ends for the transport AEAD. The OpenSSL one keeps one cipher
 * context per direction, bound to ChaCha20-Poly1305 once at creation;
 * each packet then only loads key and nonce, which resets the Poly1305
 * state, so nothing is allocated or looked up per packet. libsodium is
 * stateless and needs no context at all.
 *
 * OpenSSL 3.0's EVP layer costs about as much per packet as encrypting a
 * small one (parameter look-ups by name, IV and key length queries on
 * every init, the tag through ctrl). So the OpenSSL back end calls the
 * provider's ChaCha20-Poly1305 directly: the very implementation EVP
 * would reach, found once through the public provider interface
 * (OSSL_PROVIDER_query_operation(), provider-cipher(7)). Should that
 * lookup fail, it goes through EVP as before.
 */
#include "aead.h"

#include <errno.h>
#include <limits.h>
#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/provider.h>
#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/* The provider's ChaCha20-Poly1305 functions (provider-cipher(7)). */
struct direct {
	EVP_CIPHER *cipher; /* held for good: keeps the provider loaded */
	void *provctx;
	OSSL_FUNC_cipher_newctx_fn *newctx;
	OSSL_FUNC_cipher_freectx_fn *freectx;
	OSSL_FUNC_cipher_encrypt_init_fn *einit;
	OSSL_FUNC_cipher_decrypt_init_fn *dinit;
	OSSL_FUNC_cipher_update_fn *update;
	OSSL_FUNC_cipher_final_fn *final;
	OSSL_FUNC_cipher_get_ctx_params_fn *get_params;
	OSSL_FUNC_cipher_set_ctx_params_fn *set_params;
	bool ok;
};

static struct direct direct;
static pthread_once_t direct_once = PTHREAD_ONCE_INIT;

struct wgx_aead {
	enum wgx_aead_backend backend;
	/* OpenSSL: provider contexts when direct.ok, else EVP ones. */
	void *enc_direct, *dec_direct;
	EVP_CIPHER_CTX *enc;
	EVP_CIPHER_CTX *dec;
};

static const char *const names[] = {
	[WGX_AEAD_OPENSSL] = "openssl",
	[WGX_AEAD_SODIUM] = "sodium",
};

/* RFC 8439 nonce as WireGuard builds it: 32 zero bits, then le64. */
static void counter_nonce(uint8_t nonce[12], uint64_t counter)
{
	memset(nonce, 0, 4);
	for (int i = 0; i < 8; i++)
		nonce[4 + i] = (uint8_t)(counter >> (8 * i));
}

static void direct_fn(const OSSL_DISPATCH *d)
{
	switch (d->function_id) {
	case OSSL_FUNC_CIPHER_NEWCTX:
		direct.newctx = OSSL_FUNC_cipher_newctx(d);
		break;
	case OSSL_FUNC_CIPHER_FREECTX:
		direct.freectx = OSSL_FUNC_cipher_freectx(d);
		break;
	case OSSL_FUNC_CIPHER_ENCRYPT_INIT:
		direct.einit = OSSL_FUNC_cipher_encrypt_init(d);
		break;
	case OSSL_FUNC_CIPHER_DECRYPT_INIT:
		direct.dinit = OSSL_FUNC_cipher_decrypt_init(d);
		break;
	case OSSL_FUNC_CIPHER_UPDATE:
		direct.update = OSSL_FUNC_cipher_update(d);
		break;
	case OSSL_FUNC_CIPHER_FINAL:
		direct.final = OSSL_FUNC_cipher_final(d);
		break;
	case OSSL_FUNC_CIPHER_GET_CTX_PARAMS:
		direct.get_params = OSSL_FUNC_cipher_get_ctx_params(d);
		break;
	case OSSL_FUNC_CIPHER_SET_CTX_PARAMS:
		direct.set_params = OSSL_FUNC_cipher_set_ctx_params(d);
		break;
	}
}

/* Find the implementation EVP_chacha20_poly1305() resolves to. */
static void direct_init(void)
{
	const OSSL_PROVIDER *prov;
	const OSSL_ALGORITHM *alg;
	int no_store;

	direct.cipher = EVP_CIPHER_fetch(NULL, "ChaCha20-Poly1305", NULL);
	prov = direct.cipher ? EVP_CIPHER_get0_provider(direct.cipher) : NULL;
	if (!prov)
		return;
	alg = OSSL_PROVIDER_query_operation(prov, OSSL_OP_CIPHER, &no_store);
	for (; alg && alg->algorithm_names; alg++) {
		if (!EVP_CIPHER_is_a(direct.cipher, alg->algorithm_names) &&
		    strcmp(alg->algorithm_names, "ChaCha20-Poly1305"))
			continue;
		for (const OSSL_DISPATCH *d = alg->implementation;
		     d->function_id; d++)
			direct_fn(d);
		break;
	}
	direct.provctx = OSSL_PROVIDER_get0_provider_ctx(prov);
	direct.ok = direct.newctx && direct.freectx && direct.einit &&
		    direct.dinit && direct.update && direct.final &&
		    direct.get_params && direct.set_params;
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

	if (backend != WGX_AEAD_OPENSSL && backend != WGX_AEAD_SODIUM)
		return NULL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	a->backend = backend;
	if (backend != WGX_AEAD_OPENSSL)
		return a;
	pthread_once(&direct_once, direct_init);
	if (direct.ok) {
		a->enc_direct = direct.newctx(direct.provctx);
		a->dec_direct = direct.newctx(direct.provctx);
		if (a->enc_direct && a->dec_direct)
			return a;
	} else {
		a->enc = ossl_ctx(1);
		a->dec = ossl_ctx(0);
		if (a->enc && a->dec)
			return a;
	}
	wgx_aead_free(a);
	return NULL;
}

void wgx_aead_free(struct wgx_aead *aead)
{
	if (!aead)
		return;
	/* Both free functions cleanse the key schedule they held. */
	if (aead->enc_direct)
		direct.freectx(aead->enc_direct);
	if (aead->dec_direct)
		direct.freectx(aead->dec_direct);
	EVP_CIPHER_CTX_free(aead->enc);
	EVP_CIPHER_CTX_free(aead->dec);
	free(aead);
}

const char *wgx_aead_backend_name(enum wgx_aead_backend backend)
{
	if (backend != WGX_AEAD_OPENSSL && backend != WGX_AEAD_SODIUM)
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
	    !EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, WGX_TAG_LEN,
				 dst + len))
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
	if (!EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, WGX_TAG_LEN,
				 (void *)(src + clen)))
		return false;
	if (ad_len && !EVP_DecryptUpdate(c, NULL, &n, ad, ad_len))
		return false;
	if (clen && (!EVP_DecryptUpdate(c, dst, &n, src, clen) || n != clen))
		return false;
	return EVP_DecryptFinal_ex(c, dst + clen, &n) > 0;
}

static bool direct_tag(void *c, uint8_t *tag, bool get)
{
	OSSL_PARAM p[2] = {
		OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG,
						  tag, WGX_TAG_LEN),
		OSSL_PARAM_construct_end(),
	};

	return get ? direct.get_params(c, p) : direct.set_params(c, p);
}

/* As ossl_seal(), through the provider: out == NULL passes the AD (with
 * outsize at least its length, as EVP passes it). */
static int direct_seal(void *c, uint8_t *dst, const uint8_t *src, size_t len,
		       const uint8_t *ad, size_t ad_len,
		       const uint8_t nonce[12], const uint8_t key[32])
{
	size_t n;

	if (!direct.einit(c, key, 32, nonce, 12, NULL))
		return -EIO;
	if (ad_len && !direct.update(c, NULL, &n, ad_len, ad, ad_len))
		return -EIO;
	if (len && (!direct.update(c, dst, &n, len, src, len) || n != len))
		return -EIO;
	if (!direct.final(c, dst + len, &n, 0) || !direct_tag(c, dst + len, 1))
		return -EIO;
	return 0;
}

static bool direct_open(void *c, uint8_t *dst, const uint8_t *src, size_t clen,
			const uint8_t *ad, size_t ad_len,
			const uint8_t nonce[12], const uint8_t key[32])
{
	size_t n;

	if (!direct.dinit(c, key, 32, nonce, 12, NULL))
		return false;
	/* The expected tag first: in place, decrypting never reaches it. */
	if (!direct_tag(c, (uint8_t *)(src + clen), 0))
		return false;
	if (ad_len && !direct.update(c, NULL, &n, ad_len, ad, ad_len))
		return false;
	if (clen && (!direct.update(c, dst, &n, clen, src, clen) || n != clen))
		return false;
	return direct.final(c, dst + clen, &n, 0) > 0;
}

int wgx_aead_seal_ad(struct wgx_aead *aead, uint8_t *dst, const uint8_t *src,
		     size_t len, const uint8_t *ad, size_t ad_len,
		     uint64_t counter, const uint8_t key[32])
{
	uint8_t nonce[12];

	if (len > INT_MAX - WGX_TAG_LEN || ad_len > INT_MAX)
		return -EMSGSIZE;
	counter_nonce(nonce, counter);
	if (aead->enc_direct)
		return direct_seal(aead->enc_direct, dst, src, len, ad, ad_len,
				   nonce, key);
	if (aead->backend == WGX_AEAD_OPENSSL)
		return ossl_seal(aead->enc, dst, src, (int)len, ad, (int)ad_len,
				 nonce, key);
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
	if (aead->dec_direct)
		ok = direct_open(aead->dec_direct, dst, src, clen, ad, ad_len,
				 nonce, key);
	else if (aead->backend == WGX_AEAD_OPENSSL)
		ok = ossl_open(aead->dec, dst, src, (int)clen, ad, (int)ad_len,
			       nonce, key);
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
