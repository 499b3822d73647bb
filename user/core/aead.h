/* SPDX-License-Identifier: MIT */
/*
 * The bulk transport AEAD: ChaCha20-Poly1305 (RFC 8439) with WireGuard's
 * nonce, 4 zero bytes || le64(counter), behind one interface with two back
 * ends that produce identical bytes. Neither wins everywhere
 * (tools/bench/crypto): OpenSSL 3.0 is faster in bulk (AVX-512) but pays a
 * fixed EVP cost per packet, so libsodium is faster for small packets.
 * The default, "auto", uses each where it is faster.
 *
 * A context is not thread-safe: each worker thread owns one. It holds
 * reusable cipher state, so sealing and opening never allocate. Keys are
 * passed per call and never copied out of the caller's memory by this
 * module (the OpenSSL back end keeps its expanded state in the context
 * until the next call or wgx_aead_free(), which cleanses it).
 */
#ifndef WGX_AEAD_H
#define WGX_AEAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/crypto.h"

enum wgx_aead_backend {
	WGX_AEAD_OPENSSL,
	WGX_AEAD_SODIUM,
	/* libsodium below WGX_AEAD_AUTO_MIN_LEN bytes, OpenSSL from there. */
	WGX_AEAD_AUTO,
	WGX_AEAD_DEFAULT = WGX_AEAD_AUTO,
};

enum {
	/*
	 * Where OpenSSL overtakes libsodium per packet: around 900 bytes,
	 * libsodium clearly ahead up to 768, OpenSSL ahead at 1420
	 * (tools/bench/crypto --size N ...; noisy in between).
	 */
	WGX_AEAD_AUTO_MIN_LEN = 1024,
};

struct wgx_aead;

/* NULL when out of memory or the back end cannot be set up. */
struct wgx_aead *wgx_aead_new(enum wgx_aead_backend backend);
void wgx_aead_free(struct wgx_aead *aead);
/*
 * Drop every key the context holds (wiped), as an idle thread does so
 * keys do not outlive the sessions they belong to.
 */
void wgx_aead_forget(struct wgx_aead *aead);

/* "openssl", "sodium" or "auto". */
const char *wgx_aead_name(const struct wgx_aead *aead);
const char *wgx_aead_backend_name(enum wgx_aead_backend backend);
/* Parse "openssl" / "sodium" / "auto" (tools, options); else -EINVAL. */
int wgx_aead_backend_parse(const char *name, enum wgx_aead_backend *out);

/*
 * Encrypt len bytes of src into dst, writing len + WGX_TAG_LEN bytes.
 * dst == src (in place) works; other overlaps do not. 0, or -EMSGSIZE
 * for len > INT_MAX, or -EIO when the back end fails (dst unusable).
 */
WGX_MUST_CHECK int wgx_aead_seal(struct wgx_aead *aead, uint8_t *dst,
				 const uint8_t *src, size_t len,
				 uint64_t counter, const uint8_t key[32]);
/*
 * Verify and decrypt len bytes (ciphertext then tag) into dst, writing
 * len - WGX_TAG_LEN bytes. dst == src works. false on a bad tag or a len
 * under WGX_TAG_LEN; dst is then wiped and must not be used.
 */
WGX_MUST_CHECK bool wgx_aead_open(struct wgx_aead *aead, uint8_t *dst,
				  const uint8_t *src, size_t len,
				  uint64_t counter, const uint8_t key[32]);

/* The same with associated data (RFC vectors; not used by transport). */
WGX_MUST_CHECK int wgx_aead_seal_ad(struct wgx_aead *aead, uint8_t *dst,
				    const uint8_t *src, size_t len,
				    const uint8_t *ad, size_t ad_len,
				    uint64_t counter, const uint8_t key[32]);
WGX_MUST_CHECK bool wgx_aead_open_ad(struct wgx_aead *aead, uint8_t *dst,
				     const uint8_t *src, size_t len,
				     const uint8_t *ad, size_t ad_len,
				     uint64_t counter, const uint8_t key[32]);

#endif
