/* SPDX-License-Identifier: MIT */
/*
 * Transport data messages (type 4; protocol.md "Messages" and "Sessions"):
 * building one from an inner IP packet and a keypair, and checking,
 * decrypting and trimming one that arrived. No allocation, no locks: the
 * send counter is claimed atomically, the replay window has one writer
 * (the worker that owns the keypair's receive side).
 *
 * Wire layout: type 4 | 3 zero bytes | receiver_index le32 | counter le64 |
 * ChaCha20-Poly1305(inner packet zero-padded to min(MTU, next multiple of
 * 16)) | 16-byte tag. An empty payload (32 bytes on the wire) is a
 * keepalive.
 *
 * Every failure is its own negative errno, so the datapath can count
 * each drop reason:
 *
 *   seal
 *     -EMSGSIZE         inner packet longer than the MTU (or MTU > 65535)
 *     -ENOBUFS          output buffer smaller than the wire length
 *     -EKEYEXPIRED      keypair is REJECT_AFTER_TIME old
 *     -EKEYREJECTED     send counter reached REJECT_AFTER_MESSAGES
 *     -EIO              the AEAD back end failed
 *   open
 *     -EINVAL           message shorter than 32 bytes
 *     -EPROTO           first word is not type 4 with three zero bytes
 *     -ENOKEY           receiver_index is not this keypair's local index
 *     -EKEYEXPIRED      keypair is REJECT_AFTER_TIME old
 *     -EKEYREJECTED     keypair already accepted counter
 *                       REJECT_AFTER_MESSAGES - 1 (spent)
 *     -ERANGE           message counter >= REJECT_AFTER_MESSAGES
 *     -ENOBUFS          output buffer smaller than the padded plaintext
 *     -EBADMSG          authentication tag did not verify
 *     -EALREADY         replayed counter, or too old for the window
 *     -EPROTONOSUPPORT  plaintext is neither IPv4 (>= 20 bytes, version 4)
 *                       nor IPv6 (>= 40 bytes, version 6)
 *     -EOVERFLOW        inner length field exceeds the plaintext (or an
 *                       IPv4 total length below its 20-byte header)
 *
 * Whatever open() wrote to the output on failure must not be handed on.
 */
#ifndef WGX_TRANSPORT_H
#define WGX_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/aead.h"
#include "core/keypair.h"

/* Wire length of a data message carrying len bytes at this MTU. */
size_t wgx_transport_wire_len(size_t len, uint32_t mtu);

/*
 * Encrypt the inner packet into out (capacity out_cap) with the next send
 * counter of kp. inner may be out + WGX_DATA_HEADER_LEN (no copy); any
 * other overlap is not allowed. len 0 builds a keepalive. Returns the
 * wire length or a negative errno from the table above; a counter is
 * consumed only when the keypair is usable.
 */
int wgx_transport_seal(struct wgx_aead *aead, struct wgx_keypair *kp,
		       const uint8_t *inner, size_t len, uint32_t mtu,
		       uint8_t *out, size_t out_cap, uint64_t now_ns);

/*
 * Check, decrypt and trim a data message of len bytes already matched to
 * kp by its receiver index. The inner packet is written to out (capacity
 * out_cap, at least len - 32); out may be msg + WGX_DATA_HEADER_LEN.
 * Returns the inner length (0 for a keepalive) or a negative errno. The
 * replay window moves only for a message whose tag verified.
 */
int wgx_transport_open(struct wgx_aead *aead, struct wgx_keypair *kp,
		       const uint8_t *msg, size_t len, uint8_t *out,
		       size_t out_cap, uint64_t now_ns);

/*
 * The same in steps, for a datapath that seals and opens batches on
 * several threads but keeps each keypair's replay window in one place:
 *
 * seal_claim  expiry and the next counter (-EKEYEXPIRED, -EKEYREJECTED);
 * seal_at     build and encrypt with that counter (any thread).
 */
int wgx_transport_seal_claim(struct wgx_keypair *kp, uint64_t now_ns,
			     uint64_t *counter);
int wgx_transport_seal_at(struct wgx_aead *aead, const struct wgx_keypair *kp,
			  uint64_t counter, const uint8_t *inner, size_t len,
			  uint32_t mtu, uint8_t *out, size_t out_cap);
/*
 * open_check   header, index, expiry, counter range: everything that can
 *              be refused before decrypting (-EINVAL, -EPROTO, -ENOKEY,
 *              -EKEYEXPIRED, -ERANGE);
 * decrypt      verify and decrypt in place: the plaintext is at
 *              msg + WGX_DATA_HEADER_LEN, len - 32 bytes; false on a bad
 *              tag (plaintext wiped). Any thread.
 * open_finish  the replay window and the trim (-EKEYREJECTED, -EALREADY,
 *              -EPROTONOSUPPORT, -EOVERFLOW, or the inner length). Only
 *              after a good tag, and one thread at a time per keypair
 *              (wgx_keypair_replay_lock()).
 */
int wgx_transport_open_check(const struct wgx_keypair *kp, const uint8_t *msg,
			     size_t len, uint64_t now_ns);
WGX_MUST_CHECK bool wgx_transport_decrypt(struct wgx_aead *aead,
					  const struct wgx_keypair *kp,
					  uint8_t *msg, size_t len);
int wgx_transport_open_finish(struct wgx_keypair *kp, const uint8_t *msg,
			      size_t len);

/*
 * After sending: true when the sender should start a new handshake, i.e.
 * its counter passed REKEY_AFTER_MESSAGES or, for the initiator, the
 * keypair is REKEY_AFTER_TIME old.
 */
bool wgx_transport_rekey_on_send(const struct wgx_keypair *kp, uint64_t now_ns);
/*
 * After receiving: true for the initiator once the keypair is
 * REJECT_AFTER_TIME - KEEPALIVE_TIMEOUT - REKEY_TIMEOUT (165 s) old, so a
 * receive-only initiator still rekeys in time.
 */
bool wgx_transport_rekey_on_recv(const struct wgx_keypair *kp, uint64_t now_ns);
/*
 * A keypair that wants a rekey says so on every packet until the new
 * session exists: true at most once a second per keypair, for the one
 * caller (of any thread) that should ask the agent.
 */
bool wgx_transport_rekey_ask_due(struct wgx_keypair *kp, uint64_t now_ns);

#endif
