// SPDX-License-Identifier: MIT
/*
 * Primitives for the handshake and cookies. Everything here works on small
 * messages; the bulk transport AEAD has its own back ends in aead.c.
 */
#include "core/crypto.h"

#include <blake2.h>
#include <errno.h>
#include <sodium.h>
#include <string.h>
#include <time.h>

int wgx_crypto_init(void)
{
	return sodium_init() < 0 ? -EIO : 0;
}

void wgx_crypto_dh_clamp(uint8_t priv[32])
{
	priv[0] &= 248;
	priv[31] = (priv[31] & 127) | 64;
}

void wgx_crypto_dh_public(uint8_t pub[32], const uint8_t priv[32])
{
	crypto_scalarmult_base(pub, priv);
}

void wgx_crypto_dh_generate(uint8_t priv[32], uint8_t pub[32])
{
	randombytes_buf(priv, 32);
	wgx_crypto_dh_clamp(priv);
	wgx_crypto_dh_public(pub, priv);
}

/*
 * libsodium rather than OpenSSL 3.0: OpenSSL's X25519 is 1.17x as fast
 * once its keys are loaded, but its public API loads a raw private key by
 * also computing the public key, so one call with this contract runs at
 * 0.49x, and its public keys at 0.90x (tools/bench/handshake).
 */
bool wgx_crypto_dh(uint8_t out[32], const uint8_t priv[32],
		   const uint8_t pub[32])
{
	/* libsodium refuses (-1) when the result is all zeros. */
	if (crypto_scalarmult(out, priv, pub) != 0) {
		sodium_memzero(out, 32);
		return false;
	}
	return true;
}

static void counter_nonce(uint8_t nonce[12], uint64_t counter)
{
	memset(nonce, 0, 4);
	for (int i = 0; i < 8; i++)
		nonce[4 + i] = (uint8_t)(counter >> (8 * i));
}

void wgx_crypto_aead_seal(uint8_t *dst, const uint8_t *src, size_t len,
			  const uint8_t *ad, size_t ad_len, uint64_t counter,
			  const uint8_t key[32])
{
	uint8_t nonce[12];

	counter_nonce(nonce, counter);
	crypto_aead_chacha20poly1305_ietf_encrypt(dst, NULL, src, len, ad,
						  ad_len, NULL, nonce, key);
}

bool wgx_crypto_aead_open(uint8_t *dst, const uint8_t *src, size_t len,
			  const uint8_t *ad, size_t ad_len, uint64_t counter,
			  const uint8_t key[32])
{
	uint8_t nonce[12];

	if (len < WGX_TAG_LEN)
		return false;
	counter_nonce(nonce, counter);
	return crypto_aead_chacha20poly1305_ietf_decrypt(
		       dst, NULL, NULL, src, len, ad, ad_len, nonce, key) == 0;
}

void wgx_crypto_xaead_seal(uint8_t *dst, const uint8_t *src, size_t len,
			   const uint8_t *ad, size_t ad_len,
			   const uint8_t nonce[24], const uint8_t key[32])
{
	crypto_aead_xchacha20poly1305_ietf_encrypt(dst, NULL, src, len, ad,
						   ad_len, NULL, nonce, key);
}

bool wgx_crypto_xaead_open(uint8_t *dst, const uint8_t *src, size_t len,
			   const uint8_t *ad, size_t ad_len,
			   const uint8_t nonce[24], const uint8_t key[32])
{
	if (len < WGX_TAG_LEN)
		return false;
	return crypto_aead_xchacha20poly1305_ietf_decrypt(
		       dst, NULL, NULL, src, len, ad, ad_len, nonce, key) == 0;
}

void wgx_crypto_hash(uint8_t out[32], const void *a, size_t a_len,
		     const void *b, size_t b_len)
{
	blake2s_state s;

	blake2s_init(&s, 32);
	blake2s_update(&s, a, a_len);
	if (b_len)
		blake2s_update(&s, b, b_len);
	blake2s_final(&s, out, 32);
	sodium_memzero(&s, sizeof(s));
}

void wgx_crypto_mac(uint8_t out[16], const uint8_t *key, size_t key_len,
		    const void *in, size_t in_len)
{
	blake2s_state s;

	blake2s_init_key(&s, 16, key, key_len);
	blake2s_update(&s, in, in_len);
	blake2s_final(&s, out, 16);
	sodium_memzero(&s, sizeof(s));
}

/* RFC 2104 over BLAKE2s: H(K ^ opad || H(K ^ ipad || m)). */
static void hmac2(uint8_t out[32], const uint8_t *key, size_t key_len,
		  const void *a, size_t a_len, const void *b, size_t b_len)
{
	uint8_t block[BLAKE2S_BLOCKBYTES] = { 0 }, inner[32];
	blake2s_state s;
	size_t i;

	if (key_len > sizeof(block))
		wgx_crypto_hash(block, key, key_len, NULL, 0);
	else
		memcpy(block, key, key_len);
	for (i = 0; i < sizeof(block); i++)
		block[i] ^= 0x36;
	blake2s_init(&s, 32);
	blake2s_update(&s, block, sizeof(block));
	blake2s_update(&s, a, a_len);
	if (b_len)
		blake2s_update(&s, b, b_len);
	blake2s_final(&s, inner, 32);
	for (i = 0; i < sizeof(block); i++)
		block[i] ^= 0x36 ^ 0x5c;
	blake2s_init(&s, 32);
	blake2s_update(&s, block, sizeof(block));
	blake2s_update(&s, inner, sizeof(inner));
	blake2s_final(&s, out, 32);
	sodium_memzero(block, sizeof(block));
	sodium_memzero(inner, sizeof(inner));
	sodium_memzero(&s, sizeof(s));
}

void wgx_crypto_hmac(uint8_t out[32], const uint8_t *key, size_t key_len,
		     const void *in, size_t in_len)
{
	hmac2(out, key, key_len, in, in_len, NULL, 0);
}

void wgx_crypto_kdf(uint8_t *t1, uint8_t *t2, uint8_t *t3,
		    const uint8_t key[32], const void *in, size_t in_len)
{
	uint8_t prk[32], t[32], idx;

	hmac2(prk, key, 32, in, in_len, NULL, 0);
	idx = 1;
	hmac2(t, prk, 32, &idx, 1, NULL, 0);
	memcpy(t1, t, 32);
	if (t2) {
		idx = 2;
		hmac2(t, prk, 32, t, 32, &idx, 1);
		memcpy(t2, t, 32);
	}
	if (t2 && t3) {
		idx = 3;
		hmac2(t, prk, 32, t, 32, &idx, 1);
		memcpy(t3, t, 32);
	}
	sodium_memzero(prk, sizeof(prk));
	sodium_memzero(t, sizeof(t));
}

void wgx_crypto_tai64n(uint8_t out[12], uint64_t unix_sec, uint32_t nsec)
{
	uint64_t sec = 0x400000000000000aULL + unix_sec;
	/* Real peers hide timing below ~16.7 ms (wireguard-go: low 24 bits). */
	uint32_t ns = nsec & ~((1u << 24) - 1);

	for (int i = 0; i < 8; i++)
		out[i] = (uint8_t)(sec >> (56 - 8 * i));
	for (int i = 0; i < 4; i++)
		out[8 + i] = (uint8_t)(ns >> (24 - 8 * i));
}

void wgx_crypto_tai64n_now(uint8_t out[12])
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	wgx_crypto_tai64n(out, (uint64_t)ts.tv_sec, (uint32_t)ts.tv_nsec);
}

bool wgx_crypto_equal(const void *a, const void *b, size_t len)
{
	return sodium_memcmp(a, b, len) == 0;
}

bool wgx_crypto_is_zero(const void *p, size_t len)
{
	return sodium_is_zero(p, len) == 1;
}

void wgx_crypto_random(void *p, size_t len)
{
	randombytes_buf(p, len);
}

uint32_t wgx_crypto_random_u32(void)
{
	return randombytes_random();
}

uint32_t wgx_crypto_random_below(uint32_t bound)
{
	return randombytes_uniform(bound);
}

void wgx_crypto_wipe(void *p, size_t len)
{
	sodium_memzero(p, len);
}
