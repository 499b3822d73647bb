/* SPDX-License-Identifier: MIT */
/*
 * The primitives of protocol.md behind one small API: X25519 and the
 * small-message AEADs from libsodium, BLAKE2s from libb2, HMAC/KDF built on
 * it, TAI64N, constant-time helpers and randomness. Bulk transport
 * encryption lives in aead.h, which picks the fastest back end.
 */
#ifndef WGX_CRYPTO_H
#define WGX_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wgx_wire.h"

#define WGX_MUST_CHECK __attribute__((warn_unused_result))

/* sodium_init(); 0 or -errno. Safe to call more than once. */
int wgx_crypto_init(void);

/* X25519. dh() fails (false) on an all-zero shared secret. */
void wgx_crypto_dh_generate(uint8_t priv[32], uint8_t pub[32]);
void wgx_crypto_dh_public(uint8_t pub[32], const uint8_t priv[32]);
void wgx_crypto_dh_clamp(uint8_t priv[32]);
WGX_MUST_CHECK bool wgx_crypto_dh(uint8_t out[32], const uint8_t priv[32],
				  const uint8_t pub[32]);

/* ChaCha20-Poly1305 (RFC 8439), nonce = 4 zero bytes || le64(counter). */
void wgx_crypto_aead_seal(uint8_t *dst, const uint8_t *src, size_t len,
			  const uint8_t *ad, size_t ad_len, uint64_t counter,
			  const uint8_t key[32]);
WGX_MUST_CHECK bool wgx_crypto_aead_open(uint8_t *dst, const uint8_t *src,
					 size_t len, const uint8_t *ad,
					 size_t ad_len, uint64_t counter,
					 const uint8_t key[32]);

/* XChaCha20-Poly1305 with a 24-byte nonce (cookie replies). */
void wgx_crypto_xaead_seal(uint8_t *dst, const uint8_t *src, size_t len,
			   const uint8_t *ad, size_t ad_len,
			   const uint8_t nonce[24], const uint8_t key[32]);
WGX_MUST_CHECK bool wgx_crypto_xaead_open(uint8_t *dst, const uint8_t *src,
					  size_t len, const uint8_t *ad,
					  size_t ad_len,
					  const uint8_t nonce[24],
					  const uint8_t key[32]);

/* HASH(a || b), BLAKE2s-256; b may be NULL with b_len 0. */
void wgx_crypto_hash(uint8_t out[32], const void *a, size_t a_len,
		     const void *b, size_t b_len);
/* MAC: keyed BLAKE2s with a 16-byte digest (not HMAC). */
void wgx_crypto_mac(uint8_t out[16], const uint8_t *key, size_t key_len,
		    const void *in, size_t in_len);
/* HMAC-BLAKE2s-256 (RFC 2104, 64-byte block). */
void wgx_crypto_hmac(uint8_t out[32], const uint8_t *key, size_t key_len,
		     const void *in, size_t in_len);
/*
 * KDF_n: t1, t2, t3 receive tau1..tau3; pass NULL for outputs not wanted
 * (t2 NULL means KDF1, t3 NULL means KDF2). Outputs may alias key.
 */
void wgx_crypto_kdf(uint8_t *t1, uint8_t *t2, uint8_t *t3,
		    const uint8_t key[32], const void *in, size_t in_len);

/* TAI64N of now, nanoseconds coarsened to a multiple of 2^24 ns. */
void wgx_crypto_tai64n_now(uint8_t out[12]);
void wgx_crypto_tai64n(uint8_t out[12], uint64_t unix_sec, uint32_t nsec);

bool wgx_crypto_equal(const void *a, const void *b, size_t len);
bool wgx_crypto_is_zero(const void *p, size_t len);
void wgx_crypto_random(void *p, size_t len);
uint32_t wgx_crypto_random_u32(void);
/* Uniform in [0, bound). */
uint32_t wgx_crypto_random_below(uint32_t bound);
void wgx_crypto_wipe(void *p, size_t len);

#endif
