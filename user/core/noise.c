// SPDX-License-Identifier: MIT
/*
 * Noise_IKpsk2 as WireGuard uses it. The four message steps read as the
 * protocol script, annotated with the Noise tokens (e, es, s, ss, {t}, ee,
 * se, psk, {}); each works on local copies of C and H and commits them to
 * the handshake only when the whole message checked out, as the kernel's
 * noise.c does.
 */
#include "core/noise.h"
#include "core/secrets.h"

#include <endian.h>
#include <errno.h>
#include <sodium.h>
#include <stdatomic.h>
#include <string.h>

#include "core/crypto.h"

enum {
	NSEC_PER_SEC = 1000000000,
	STATIC_CT_LEN = WGX_KEY_LEN + WGX_TAG_LEN,
	TIMESTAMP_CT_LEN = WGX_TAI64N_LEN + WGX_TAG_LEN,
};

static const char construction[] = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s";
static const char identifier[] = "WireGuard v1 zx2c4 Jason@zx2c4.com";

/* H = HASH(H || data). */
static void mix_hash(uint8_t h[WGX_HASH_LEN], const void *data, size_t len)
{
	wgx_crypto_hash(h, h, WGX_HASH_LEN, data, len);
}

/* C = HASH(CONSTRUCTION); H = HASH(C || IDENTIFIER); H = HASH(H || S_r). */
static void handshake_init(uint8_t ck[WGX_HASH_LEN], uint8_t h[WGX_HASH_LEN],
			   const uint8_t responder_static[WGX_KEY_LEN])
{
	wgx_crypto_hash(ck, construction, sizeof(construction) - 1, NULL, 0);
	wgx_crypto_hash(h, ck, WGX_HASH_LEN, identifier,
			sizeof(identifier) - 1);
	mix_hash(h, responder_static, WGX_KEY_LEN);
}

/* (C, key) = KDF2(C, DH(priv, pub)), or C = KDF1(...) when key is NULL. */
static WGX_MUST_CHECK bool mix_dh(uint8_t ck[WGX_HASH_LEN], uint8_t *key,
				  const uint8_t priv[WGX_KEY_LEN],
				  const uint8_t pub[WGX_KEY_LEN])
{
	uint8_t dh[WGX_KEY_LEN];
	bool ok = wgx_crypto_dh(dh, priv, pub);

	if (ok)
		wgx_crypto_kdf(ck, key, NULL, ck, dh, sizeof(dh));
	wgx_crypto_wipe(dh, sizeof(dh));
	return ok;
}

/* The "ss" DH, computed once per peer; all zeros marks it unusable. */
static WGX_MUST_CHECK bool mix_precomputed_dh(uint8_t ck[WGX_HASH_LEN],
					      uint8_t key[WGX_KEY_LEN],
					      const uint8_t dh[WGX_KEY_LEN])
{
	if (wgx_crypto_is_zero(dh, WGX_KEY_LEN))
		return false;
	wgx_crypto_kdf(ck, key, NULL, ck, dh, WGX_KEY_LEN);
	return true;
}

/* e: C = KDF1(C, e); H = HASH(H || e); dst receives a copy of e. */
static void message_ephemeral(uint8_t dst[WGX_KEY_LEN],
			      const uint8_t src[WGX_KEY_LEN],
			      uint8_t ck[WGX_HASH_LEN], uint8_t h[WGX_HASH_LEN])
{
	if (dst != src)
		memcpy(dst, src, WGX_KEY_LEN);
	wgx_crypto_kdf(ck, NULL, NULL, ck, src, WGX_KEY_LEN);
	mix_hash(h, src, WGX_KEY_LEN);
}

/* psk: (C, tau, key) = KDF3(C, Q); H = HASH(H || tau). */
static void mix_psk(uint8_t ck[WGX_HASH_LEN], uint8_t h[WGX_HASH_LEN],
		    uint8_t key[WGX_KEY_LEN], const uint8_t psk[WGX_KEY_LEN])
{
	uint8_t tau[WGX_HASH_LEN];

	wgx_crypto_kdf(ck, tau, key, ck, psk, WGX_KEY_LEN);
	mix_hash(h, tau, sizeof(tau));
	wgx_crypto_wipe(tau, sizeof(tau));
}

/* dst = AEAD(key, 0, src, H); H = HASH(H || dst). */
static void message_encrypt(uint8_t *dst, const uint8_t *src, size_t len,
			    const uint8_t key[WGX_KEY_LEN],
			    uint8_t h[WGX_HASH_LEN])
{
	wgx_crypto_aead_seal(dst, src, len, h, WGX_HASH_LEN, 0, key);
	mix_hash(h, dst, len + WGX_TAG_LEN);
}

static WGX_MUST_CHECK bool message_decrypt(uint8_t *dst, const uint8_t *src,
					   size_t len,
					   const uint8_t key[WGX_KEY_LEN],
					   uint8_t h[WGX_HASH_LEN])
{
	if (!wgx_crypto_aead_open(dst, src, len, h, WGX_HASH_LEN, 0, key))
		return false;
	mix_hash(h, src, len);
	return true;
}

static void new_ephemeral(uint8_t priv[WGX_KEY_LEN], uint8_t pub[WGX_KEY_LEN],
			  const struct wgx_noise_fixed *fixed)
{
	if (fixed && fixed->ephemeral_private) {
		memcpy(priv, fixed->ephemeral_private, WGX_KEY_LEN);
		wgx_crypto_dh_clamp(priv);
		wgx_crypto_dh_public(pub, priv);
	} else {
		wgx_crypto_dh_generate(priv, pub);
	}
}

/* The whole first word must be type, 0, 0, 0 (protocol.md, Messages). */
static bool header_ok(const struct wgx_msg_header *hdr, enum wgx_msg_type type)
{
	return hdr->type == type && !hdr->reserved[0] && !hdr->reserved[1] &&
	       !hdr->reserved[2];
}

/*
 * A fresh index for hs, taken before the old one is released so that a
 * failure leaves hs as it was. The caller commits *index to hs.
 */
static int claim_index(struct wgx_handshake *hs,
		       const struct wgx_noise_fixed *fixed, uint32_t *index)
{
	struct wgx_index_table *t = hs->keypairs->indices;
	int ret;

	if (fixed && fixed->sender_index) {
		*index = fixed->sender_index;
		if (*index == hs->local_index)
			return 0;
		ret = wgx_index_insert_at(t, *index, WGX_INDEX_HANDSHAKE, hs,
					  hs->owner);
	} else {
		ret = wgx_index_insert(t, WGX_INDEX_HANDSHAKE, hs, hs->owner,
				       index);
	}
	if (ret)
		return ret;
	if (hs->local_index)
		wgx_index_remove(t, hs->local_index);
	return 0;
}

/*
 * The last step of creating a message, shared by both roles: take a fresh
 * index and keep the ephemeral key, C and H for the message's answer.
 */
static int commit_created(struct wgx_handshake *hs,
			  const struct wgx_noise_fixed *fixed,
			  const uint8_t e_priv[WGX_KEY_LEN],
			  const uint8_t ck[WGX_HASH_LEN],
			  const uint8_t h[WGX_HASH_LEN],
			  enum wgx_handshake_state state, uint32_t *index)
{
	int ret = claim_index(hs, fixed, index);

	if (ret)
		return ret;
	memcpy(hs->ephemeral_private, e_priv, WGX_KEY_LEN);
	memcpy(hs->chaining_key, ck, WGX_HASH_LEN);
	memcpy(hs->hash, h, WGX_HASH_LEN);
	hs->local_index = *index;
	hs->state = state;
	return 0;
}

struct wgx_noise_static *wgx_noise_static_new(void)
{
	struct wgx_noise_static *st = sodium_malloc(sizeof(*st));

	if (st)
		sodium_memzero(st, sizeof(*st));
	return st;
}

void wgx_noise_static_free(struct wgx_noise_static *st)
{
	if (!st)
		return;
	sodium_memzero(st, sizeof(*st));
	sodium_free(st);
}

void wgx_noise_static_set(struct wgx_noise_static *st,
			  const uint8_t private_key[WGX_KEY_LEN])
{
	sodium_memzero(st, sizeof(*st));
	if (!private_key)
		return;
	memcpy(st->private_key, private_key, WGX_KEY_LEN);
	wgx_crypto_dh_clamp(st->private_key);
	wgx_crypto_dh_public(st->public_key, st->private_key);
	st->has_identity = true;
}

bool wgx_noise_handshake_precompute(struct wgx_handshake *hs)
{
	uint8_t *ss = hs->precomputed_static_static;

	if (!hs->local->has_identity ||
	    !wgx_crypto_dh(ss, hs->local->private_key, hs->remote_static)) {
		wgx_crypto_wipe(ss, WGX_KEY_LEN);
		return false;
	}
	return true;
}

void wgx_noise_handshake_set_psk(struct wgx_handshake *hs,
				 const uint8_t psk[WGX_KEY_LEN])
{
	if (psk)
		memcpy(hs->preshared_key, psk, WGX_KEY_LEN);
	else
		wgx_crypto_wipe(hs->preshared_key, WGX_KEY_LEN);
}

struct wgx_handshake *wgx_noise_handshake_new(
	const struct wgx_noise_static *local,
	const uint8_t remote_static[WGX_KEY_LEN],
	const uint8_t psk[WGX_KEY_LEN], struct wgx_keypairs *keypairs,
	void *owner)
{
	struct wgx_handshake *hs =
		wgx_secret_alloc(WGX_SECRET_HANDSHAKE, sizeof(*hs));

	if (!hs)
		return NULL;
	hs->state = WGX_HANDSHAKE_ZEROED;
	hs->local = local;
	hs->keypairs = keypairs;
	hs->owner = owner;
	memcpy(hs->remote_static, remote_static, WGX_KEY_LEN);
	wgx_noise_handshake_set_psk(hs, psk);
	/* An unusable peer is reported by every handshake step instead. */
	(void)wgx_noise_handshake_precompute(hs);
	return hs;
}

/* Forget the session in progress; keys and replay history stay. */
static void handshake_zero(struct wgx_handshake *hs)
{
	wgx_crypto_wipe(hs->ephemeral_private, WGX_KEY_LEN);
	wgx_crypto_wipe(hs->remote_ephemeral, WGX_KEY_LEN);
	wgx_crypto_wipe(hs->hash, WGX_HASH_LEN);
	wgx_crypto_wipe(hs->chaining_key, WGX_HASH_LEN);
	hs->remote_index = 0;
	hs->state = WGX_HANDSHAKE_ZEROED;
}

void wgx_noise_handshake_clear(struct wgx_handshake *hs)
{
	if (hs->local_index)
		wgx_index_remove(hs->keypairs->indices, hs->local_index);
	hs->local_index = 0;
	handshake_zero(hs);
}

void wgx_noise_handshake_free(struct wgx_handshake *hs)
{
	if (!hs)
		return;
	wgx_noise_handshake_clear(hs);
	wgx_secret_free(WGX_SECRET_HANDSHAKE, hs);
}

int wgx_noise_create_initiation(struct wgx_handshake *hs,
				struct wgx_msg_initiation *msg,
				const struct wgx_noise_fixed *fixed)
{
	uint8_t ck[WGX_HASH_LEN], h[WGX_HASH_LEN], key[WGX_KEY_LEN];
	uint8_t e_priv[WGX_KEY_LEN], ts[WGX_TAI64N_LEN];
	const struct wgx_noise_static *st = hs->local;
	uint32_t index;
	int ret = -ENOKEY;

	memset(msg, 0, sizeof(*msg));
	if (!st->has_identity)
		goto out;
	ret = -EKEYREJECTED;
	if (wgx_crypto_is_zero(hs->precomputed_static_static, WGX_KEY_LEN))
		goto out;
	msg->header.type = WGX_MSG_INITIATION;
	handshake_init(ck, h, hs->remote_static);

	/* e */
	new_ephemeral(e_priv, msg->ephemeral, fixed);
	message_ephemeral(msg->ephemeral, msg->ephemeral, ck, h);
	/* es */
	if (!mix_dh(ck, key, e_priv, hs->remote_static))
		goto out;
	/* s */
	message_encrypt(msg->encrypted_static, st->public_key, WGX_KEY_LEN, key,
			h);
	/* ss */
	if (!mix_precomputed_dh(ck, key, hs->precomputed_static_static))
		goto out;
	/* {t} */
	if (fixed && fixed->timestamp)
		memcpy(ts, fixed->timestamp, sizeof(ts));
	else
		wgx_crypto_tai64n_now(ts);
	message_encrypt(msg->encrypted_timestamp, ts, sizeof(ts), key, h);

	ret = commit_created(hs, fixed, e_priv, ck, h,
			     WGX_HANDSHAKE_CREATED_INITIATION, &index);
	if (ret)
		goto out;
	msg->sender_index = htole32(index);
out:
	if (ret)
		memset(msg, 0, sizeof(*msg));
	wgx_crypto_wipe(ck, sizeof(ck));
	wgx_crypto_wipe(h, sizeof(h));
	wgx_crypto_wipe(key, sizeof(key));
	wgx_crypto_wipe(e_priv, sizeof(e_priv));
	wgx_crypto_wipe(ts, sizeof(ts));
	return ret;
}

/* A found peer must be ours and hold exactly the key that was decrypted. */
static struct wgx_handshake *find_peer(const struct wgx_noise_static *st,
				       wgx_noise_lookup_fn lookup, void *ctx,
				       const uint8_t s[WGX_KEY_LEN])
{
	struct wgx_handshake *hs = lookup(ctx, s);

	if (!hs || hs->local != st ||
	    !wgx_crypto_equal(hs->remote_static, s, WGX_KEY_LEN))
		return NULL;
	return hs;
}

/* At most one initiation per peer per 1/INITIATIONS_PER_SECOND. */
static bool is_flood(const struct wgx_handshake *hs, uint64_t now_ns)
{
	const uint64_t gap = NSEC_PER_SEC / WGX_INITIATIONS_PER_SECOND;

	if (!hs->initiation_consumed)
		return false;
	return now_ns < hs->last_initiation_ns ||
	       now_ns - hs->last_initiation_ns < gap;
}

int wgx_noise_consume_initiation(const struct wgx_noise_static *st,
				 const void *buf, size_t len, uint64_t now_ns,
				 wgx_noise_lookup_fn lookup, void *ctx,
				 struct wgx_handshake **hs_out)
{
	const struct wgx_msg_initiation *msg = buf;
	uint8_t ck[WGX_HASH_LEN], h[WGX_HASH_LEN], key[WGX_KEY_LEN];
	uint8_t e[WGX_KEY_LEN], s[WGX_KEY_LEN], t[WGX_TAI64N_LEN];
	struct wgx_handshake *hs;
	int ret = -EINVAL;

	if (len != sizeof(*msg) || !header_ok(&msg->header, WGX_MSG_INITIATION))
		goto out;
	ret = -ENOKEY;
	if (!st->has_identity)
		goto out;
	handshake_init(ck, h, st->public_key);

	/* e */
	message_ephemeral(e, msg->ephemeral, ck, h);
	/* es */
	ret = -EKEYREJECTED;
	if (!mix_dh(ck, key, st->private_key, e))
		goto out;
	/* s */
	ret = -EBADMSG;
	if (!message_decrypt(s, msg->encrypted_static, STATIC_CT_LEN, key, h))
		goto out;
	ret = -ENOKEY;
	hs = find_peer(st, lookup, ctx, s);
	if (!hs)
		goto out;
	/* ss */
	ret = -EKEYREJECTED;
	if (!mix_precomputed_dh(ck, key, hs->precomputed_static_static))
		goto out;
	/* {t} */
	ret = -EBADMSG;
	if (!message_decrypt(t, msg->encrypted_timestamp, TIMESTAMP_CT_LEN, key,
			     h))
		goto out;
	/* TAI64N is big-endian: byte order is time order. */
	ret = -EALREADY;
	if (memcmp(t, hs->latest_timestamp, sizeof(t)) <= 0)
		goto out;
	ret = -EBUSY;
	if (is_flood(hs, now_ns))
		goto out;

	memcpy(hs->remote_ephemeral, e, WGX_KEY_LEN);
	memcpy(hs->latest_timestamp, t, sizeof(t));
	memcpy(hs->chaining_key, ck, WGX_HASH_LEN);
	memcpy(hs->hash, h, WGX_HASH_LEN);
	hs->remote_index = le32toh(msg->sender_index);
	hs->last_initiation_ns = now_ns;
	hs->initiation_consumed = true;
	hs->state = WGX_HANDSHAKE_CONSUMED_INITIATION;
	*hs_out = hs;
	ret = 0;
out:
	wgx_crypto_wipe(ck, sizeof(ck));
	wgx_crypto_wipe(h, sizeof(h));
	wgx_crypto_wipe(key, sizeof(key));
	wgx_crypto_wipe(e, sizeof(e));
	wgx_crypto_wipe(s, sizeof(s));
	wgx_crypto_wipe(t, sizeof(t));
	return ret;
}

int wgx_noise_create_response(struct wgx_handshake *hs,
			      struct wgx_msg_response *msg,
			      const struct wgx_noise_fixed *fixed)
{
	uint8_t ck[WGX_HASH_LEN], h[WGX_HASH_LEN], key[WGX_KEY_LEN];
	uint8_t e_priv[WGX_KEY_LEN];
	uint32_t index;
	int ret = -EPROTO;

	memset(msg, 0, sizeof(*msg));
	if (hs->state != WGX_HANDSHAKE_CONSUMED_INITIATION)
		goto out;
	ret = -ENOKEY;
	if (!hs->local->has_identity)
		goto out;
	memcpy(ck, hs->chaining_key, sizeof(ck));
	memcpy(h, hs->hash, sizeof(h));
	msg->header.type = WGX_MSG_RESPONSE;
	msg->receiver_index = htole32(hs->remote_index);

	/* e */
	new_ephemeral(e_priv, msg->ephemeral, fixed);
	message_ephemeral(msg->ephemeral, msg->ephemeral, ck, h);
	/* ee */
	ret = -EKEYREJECTED;
	if (!mix_dh(ck, NULL, e_priv, hs->remote_ephemeral))
		goto out;
	/* se */
	if (!mix_dh(ck, NULL, e_priv, hs->remote_static))
		goto out;
	/* psk */
	mix_psk(ck, h, key, hs->preshared_key);
	/* {} */
	message_encrypt(msg->encrypted_nothing, (const uint8_t *)"", 0, key, h);

	ret = commit_created(hs, fixed, e_priv, ck, h,
			     WGX_HANDSHAKE_CREATED_RESPONSE, &index);
	if (ret)
		goto out;
	msg->sender_index = htole32(index);
out:
	if (ret)
		memset(msg, 0, sizeof(*msg));
	wgx_crypto_wipe(ck, sizeof(ck));
	wgx_crypto_wipe(h, sizeof(h));
	wgx_crypto_wipe(key, sizeof(key));
	wgx_crypto_wipe(e_priv, sizeof(e_priv));
	return ret;
}

int wgx_noise_consume_response(struct wgx_index_table *indices, const void *buf,
			       size_t len, struct wgx_handshake **hs_out)
{
	const struct wgx_msg_response *msg = buf;
	uint8_t ck[WGX_HASH_LEN], h[WGX_HASH_LEN], key[WGX_KEY_LEN];
	uint8_t e[WGX_KEY_LEN], nothing[1];
	struct wgx_index_entry entry;
	struct wgx_handshake *hs;
	int ret = -EINVAL;

	if (len != sizeof(*msg) || !header_ok(&msg->header, WGX_MSG_RESPONSE))
		goto out;
	ret = -ENOKEY;
	if (!wgx_index_lookup(indices, le32toh(msg->receiver_index),
			      WGX_INDEX_HANDSHAKE, &entry))
		goto out;
	hs = entry.ptr;
	ret = -EPROTO;
	if (hs->state != WGX_HANDSHAKE_CREATED_INITIATION)
		goto out;
	ret = -ENOKEY;
	if (!hs->local->has_identity)
		goto out;
	memcpy(ck, hs->chaining_key, sizeof(ck));
	memcpy(h, hs->hash, sizeof(h));

	/* e */
	message_ephemeral(e, msg->ephemeral, ck, h);
	/* ee */
	ret = -EKEYREJECTED;
	if (!mix_dh(ck, NULL, hs->ephemeral_private, e))
		goto out;
	/* se */
	if (!mix_dh(ck, NULL, hs->local->private_key, e))
		goto out;
	/* psk */
	mix_psk(ck, h, key, hs->preshared_key);
	/* {} */
	ret = -EBADMSG;
	if (!message_decrypt(nothing, msg->encrypted_nothing, WGX_TAG_LEN, key,
			     h))
		goto out;

	memcpy(hs->remote_ephemeral, e, WGX_KEY_LEN);
	memcpy(hs->chaining_key, ck, WGX_HASH_LEN);
	memcpy(hs->hash, h, WGX_HASH_LEN);
	hs->remote_index = le32toh(msg->sender_index);
	hs->state = WGX_HANDSHAKE_CONSUMED_RESPONSE;
	*hs_out = hs;
	ret = 0;
out:
	wgx_crypto_wipe(ck, sizeof(ck));
	wgx_crypto_wipe(h, sizeof(h));
	wgx_crypto_wipe(key, sizeof(key));
	wgx_crypto_wipe(e, sizeof(e));
	return ret;
}

/* (T_send_i, T_recv_i) = KDF2(C, empty); the responder's are swapped. */
static void derive_keys(struct wgx_keypair *kp, const struct wgx_handshake *hs)
{
	if (kp->initiator)
		wgx_crypto_kdf(kp->send_key, kp->recv_key, NULL,
			       hs->chaining_key, "", 0);
	else
		wgx_crypto_kdf(kp->recv_key, kp->send_key, NULL,
			       hs->chaining_key, "", 0);
}

int wgx_noise_begin_session(struct wgx_handshake *hs, uint64_t now_ns,
			    struct wgx_keypair **kp_out)
{
	struct wgx_keypairs *kps = hs->keypairs;
	struct wgx_keypair *kp;
	int err;

	if ((hs->state != WGX_HANDSHAKE_CREATED_RESPONSE &&
	     hs->state != WGX_HANDSHAKE_CONSUMED_RESPONSE) ||
	    !hs->local_index)
		return -EPROTO;
	kp = wgx_keypairs_alloc(kps);
	if (!kp)
		return -ENOMEM;
	kp->initiator = hs->state == WGX_HANDSHAKE_CONSUMED_RESPONSE;
	derive_keys(kp, hs);
	atomic_store_explicit(&kp->send_counter, 0, memory_order_relaxed);
	wgx_replay_init(&kp->replay);
	kp->birth_ns = now_ns;
	kp->remote_index = hs->remote_index;
	kp->peer = hs->owner;
	/* Complete before the index makes it reachable to the datapath. */
	kp->local_index = hs->local_index;
	/* The index the peer will address data to moves to the keypair. */
	err = wgx_index_replace(kps->indices, hs->local_index,
				WGX_INDEX_KEYPAIR, kp);
	if (err) {
		/* Still the handshake's: the keypair must not remove it. */
		kp->local_index = 0;
		wgx_keypairs_free(kps, kp);
		return err == -ENOENT ? -EPROTO : err;
	}
	hs->local_index = 0;
	wgx_keypairs_install(kps, kp);
	handshake_zero(hs);
	if (kp_out)
		*kp_out = kp;
	return 0;
}
