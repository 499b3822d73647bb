/* SPDX-License-Identifier: MIT */
/*
 * The bulk transport AEAD: ChaCha20-Poly1305 (RFC 8439) with WireGuard's
 * nonce, 4 zero bytes || le64(counter), behind one interface with three
 * back ends that produce identical bytes. None wins everywhere
 * (tools/bench/crypto): intel-ipsec-mb's AVX-512 code is the fastest at
 * every size where the CPU has it, OpenSSL 3.0 is fast in bulk but pays a
 * fixed EVP cost per packet, libsodium is fast for small packets. The
 * default, "auto", uses each where it is fastest.
 *
 * A context is not thread-safe: each worker thread owns one. It holds
 * reusable cipher state (OpenSSL contexts, one intel-ipsec-mb manager),
 * set up at creation, so sealing and opening never allocate. Keys are
 * passed per call. The OpenSSL back end keeps the last key and its
 * expanded state in the context; intel-ipsec-mb is given the caller's key
 * and keeps nothing derived from it (it is used only when built with
 * SAFE_DATA, which makes it clear what it derives), only pointers to the
 * last message's buffers and key. wgx_aead_forget() and wgx_aead_free()
 * wipe all of it.
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
	/* x86-64 only, and only where the library serves this CPU. */
	WGX_AEAD_IPSECMB,
	/* Per message size, the fastest of the above (table in aead.c). */
	WGX_AEAD_AUTO,
	WGX_AEAD_DEFAULT = WGX_AEAD_AUTO,
};

enum {
	/* Most operations one batch call takes. */
	WGX_AEAD_BATCH_MAX = 64,
};

struct wgx_aead;

/*
 * NULL when out of memory or the back end cannot be set up: "ipsecmb"
 * without the library or on a CPU it does not serve ("auto" then does
 * without it).
 */
struct wgx_aead *wgx_aead_new(enum wgx_aead_backend backend);
void wgx_aead_free(struct wgx_aead *aead);
/*
 * Drop every key the context holds (wiped), as an idle thread does so
 * keys do not outlive the sessions they belong to.
 */
void wgx_aead_forget(struct wgx_aead *aead);

/* "openssl", "sodium", "ipsecmb" or "auto". */
const char *wgx_aead_name(const struct wgx_aead *aead);
const char *wgx_aead_backend_name(enum wgx_aead_backend backend);
/* Parse one of those names (tools, options); else -EINVAL. */
int wgx_aead_backend_parse(const char *name, enum wgx_aead_backend *out);
/* The back end that handles a message of len bytes: auto's choice. */
enum wgx_aead_backend wgx_aead_backend_for(const struct wgx_aead *aead,
					   size_t len);

/*
 * Which intel-ipsec-mb code path ("sse", "avx", "avx2", "avx512") the
 * context runs, or NULL when it has none. Contexts created after
 * wgx_aead_ipsecmb_set_arch() run that path instead of the library's
 * choice ("auto"), so benchmarks and tests can reach the paths of other
 * CPUs; -EINVAL for an unknown name, -ENODEV without the library. Not
 * thread-safe: for tools and tests, before they create contexts.
 */
const char *wgx_aead_ipsecmb_arch(const struct wgx_aead *aead);
int wgx_aead_ipsecmb_set_arch(const char *arch);

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

/*
 * One message of a batch: what wgx_aead_seal() or wgx_aead_open() takes,
 * and its outcome in err. len is the plaintext's length to seal and the
 * message's (ciphertext then tag) to open.
 */
struct wgx_aead_op {
	uint8_t *dst;
	const uint8_t *src;
	size_t len;
	uint64_t counter;
	const uint8_t *key; /* WGX_KEY_LEN bytes */
	/*
	 * Set by the call: 0 done; -EBADMSG bad tag or too short to open
	 * (dst wiped); -EMSGSIZE too long; -EIO the back end failed.
	 */
	int err;
};

/*
 * Seal or open up to WGX_AEAD_BATCH_MAX messages, each exactly as the
 * single calls would, with its own key, counter and size; each may be in
 * place, but no two may overlap. Returns how many succeeded (the rest
 * have err set), or -EINVAL when n > WGX_AEAD_BATCH_MAX (nothing done).
 */
WGX_MUST_CHECK int wgx_aead_seal_batch(struct wgx_aead *aead,
				       struct wgx_aead_op *ops, unsigned int n);
WGX_MUST_CHECK int wgx_aead_open_batch(struct wgx_aead *aead,
				       struct wgx_aead_op *ops, unsigned int n);

#endif
