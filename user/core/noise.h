/* SPDX-License-Identifier: MIT */
/*
 * The Noise_IKpsk2 handshake of WireGuard (protocol.md "Handshake"), both
 * roles, one peer at a time:
 *
 *   initiator                              responder
 *   create_initiation  --- initiation -->  consume_initiation
 *   consume_response   <--- response ----  create_response
 *   begin_session                          begin_session
 *
 * Each step checks the handshake state on entry, computes into locals and
 * commits to the handshake only on success, so a forged or stale message
 * never disturbs a handshake in progress. Every failure wipes the secrets
 * on the stack. mac1/mac2 are the cookie module's: created messages leave
 * them zero, consumed messages are not checked here.
 *
 * Time is passed in (CLOCK_BOOTTIME nanoseconds); the only clock read is
 * TAI64N of now when an initiation is created without a fixed timestamp.
 *
 * Single writer (the agent), like the index table and keypair sets.
 */
#ifndef WGX_NOISE_H
#define WGX_NOISE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/index.h"
#include "core/keypairs.h"
#include "wgx_wire.h"

enum wgx_handshake_state {
	WGX_HANDSHAKE_ZEROED,
	WGX_HANDSHAKE_CREATED_INITIATION,
	WGX_HANDSHAKE_CONSUMED_INITIATION,
	WGX_HANDSHAKE_CREATED_RESPONSE,
	WGX_HANDSHAKE_CONSUMED_RESPONSE,
};

/* The device's static identity; lives in sodium_malloc'd memory. */
struct wgx_noise_static {
	uint8_t private_key[WGX_KEY_LEN];
	uint8_t public_key[WGX_KEY_LEN];
	bool has_identity;
};

/* One peer's handshake; lives in sodium_malloc'd memory. */
struct wgx_handshake {
	enum wgx_handshake_state state;
	const struct wgx_noise_static *local;
	/* Where begin_session installs keypairs; its index table is ours. */
	struct wgx_keypairs *keypairs;
	/* The peer, opaque here; copied into index entries and keypairs. */
	void *owner;
	uint8_t remote_static[WGX_KEY_LEN];
	/* DH(our static, remote static); all zeros: the peer is unusable. */
	uint8_t precomputed_static_static[WGX_KEY_LEN];
	/* All zeros when none is configured. */
	uint8_t preshared_key[WGX_KEY_LEN];
	uint8_t ephemeral_private[WGX_KEY_LEN];
	uint8_t remote_ephemeral[WGX_KEY_LEN];
	uint8_t hash[WGX_HASH_LEN];
	uint8_t chaining_key[WGX_HASH_LEN];
	/* Greatest TAI64N consumed from this peer: replay defence. */
	uint8_t latest_timestamp[WGX_TAI64N_LEN];
	/* CLOCK_BOOTTIME ns of the last initiation consumed: flood defence. */
	uint64_t last_initiation_ns;
	bool initiation_consumed;
	/* Our index for this handshake in the index table (0: none). */
	uint32_t local_index;
	/* The peer's sender_index: receiver_index of what we send it. */
	uint32_t remote_index;
};

/*
 * Deterministic inputs for reproducing known vectors; pass NULL in normal
 * use. A NULL member or a 0 index means "fresh as usual".
 */
struct wgx_noise_fixed {
	const uint8_t *ephemeral_private; /* 32 bytes, clamped before use */
	const uint8_t *timestamp;	  /* 12-byte TAI64N (initiation only) */
	uint32_t sender_index;		  /* taken with wgx_index_insert_at */
};

/* Finds the handshake of the peer whose static public key this is. */
typedef struct wgx_handshake *(*wgx_noise_lookup_fn)(
	void *ctx, const uint8_t remote_static[WGX_KEY_LEN]);

/*
 * Errors: -EINVAL malformed (length, type, reserved bytes); -ENOKEY no
 * identity, unknown peer or unknown receiver index; -EKEYREJECTED an
 * all-zero DH result (low-order point, or a peer whose static-static DH is
 * zero); -EBADMSG authentication failed; -EALREADY replayed timestamp;
 * -EBUSY initiation flood; -EPROTO handshake in the wrong state; -ENOMEM;
 * or the index table's observer's error (index.h: the XDP sessions map
 * refused the index), which abandons the step.
 */

struct wgx_noise_static *wgx_noise_static_new(void);
void wgx_noise_static_free(struct wgx_noise_static *st);
/*
 * Set (clamped copy) or, with NULL, clear the identity. Afterwards call
 * wgx_noise_handshake_precompute() on every peer's handshake (and expire
 * their sessions): this module keeps no list of peers.
 */
void wgx_noise_static_set(struct wgx_noise_static *st,
			  const uint8_t private_key[WGX_KEY_LEN]);

/*
 * A ZEROED handshake with remote_static and psk (NULL: none); computes the
 * static-static DH. The peer may turn out unusable (see precompute): it is
 * still created, and its handshake steps fail with -EKEYREJECTED.
 */
struct wgx_handshake *wgx_noise_handshake_new(
	const struct wgx_noise_static *local,
	const uint8_t remote_static[WGX_KEY_LEN],
	const uint8_t psk[WGX_KEY_LEN], struct wgx_keypairs *keypairs,
	void *owner);
/* Clear (dropping its index), wipe and free. NULL is a no-op. */
void wgx_noise_handshake_free(struct wgx_handshake *hs);
void wgx_noise_handshake_set_psk(struct wgx_handshake *hs,
				 const uint8_t psk[WGX_KEY_LEN]);
/* Recompute the static-static DH; false when the result is unusable. */
bool wgx_noise_handshake_precompute(struct wgx_handshake *hs);
/*
 * Back to ZEROED: drop our index, wipe ephemerals, C and H. Keeps the keys
 * and the replay/flood history (latest timestamp, last consumption time).
 */
void wgx_noise_handshake_clear(struct wgx_handshake *hs);

/* Any state: a new initiation supersedes whatever was in progress. */
int wgx_noise_create_initiation(struct wgx_handshake *hs,
				struct wgx_msg_initiation *msg,
				const struct wgx_noise_fixed *fixed);
/* On success *hs_out is the sender's handshake, now CONSUMED_INITIATION. */
int wgx_noise_consume_initiation(const struct wgx_noise_static *st,
				 const void *buf, size_t len, uint64_t now_ns,
				 wgx_noise_lookup_fn lookup, void *ctx,
				 struct wgx_handshake **hs_out);
/* Requires CONSUMED_INITIATION; leaves CREATED_RESPONSE. */
int wgx_noise_create_response(struct wgx_handshake *hs,
			      struct wgx_msg_response *msg,
			      const struct wgx_noise_fixed *fixed);
/*
 * Finds the handshake by receiver_index in indices; it must be
 * CREATED_INITIATION. On success *hs_out is it, now CONSUMED_RESPONSE.
 */
int wgx_noise_consume_response(struct wgx_index_table *indices, const void *buf,
			       size_t len, struct wgx_handshake **hs_out);
/*
 * After create_response (responder) or consume_response (initiator):
 * derive the transport keys into a new keypair, hand it our index, install
 * it into hs->keypairs and zero the handshake. *kp_out (may be NULL)
 * receives the keypair, owned by the keypair set.
 */
int wgx_noise_begin_session(struct wgx_handshake *hs, uint64_t now_ns,
			    struct wgx_keypair **kp_out);

#endif
