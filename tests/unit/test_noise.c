// SPDX-License-Identifier: MIT
/*
 * The handshake against shared/vectors (handshake.json both cases, the real
 * wireguard-go initiation), then every way a message can be wrong.
 */
#include "test.h"

#include <endian.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/crypto.h"
#include "core/noise.h"

/* Fake CLOCK_MONOTONIC: one millisecond, and a start past zero. */
#define MS 1000000ULL
#define T0 (1000 * MS)

enum {
	INIT_MAC1 = offsetof(struct wgx_msg_initiation, macs),
	RESP_MAC1 = offsetof(struct wgx_msg_response, macs),
	DATA_HDR = WGX_DATA_HEADER_LEN,
};

/* One device with one peer: what the agent will hold per peer. */
struct dev {
	struct wgx_noise_static *st;
	struct wgx_index_table *idx;
	struct wgx_keypairs kps;
	struct wgx_handshake *hs;
};

static struct wgx_handshake *lookup(void *ctx, const uint8_t pub[32])
{
	struct dev *d = ctx;

	return d->hs && !memcmp(d->hs->remote_static, pub, 32) ? d->hs : NULL;
}

/* Ignores the key and answers with its one handshake: must be caught. */
static struct wgx_handshake *lookup_any(void *ctx, const uint8_t pub[32])
{
	(void)pub;
	return ((struct dev *)ctx)->hs;
}

static bool dev_init(struct dev *d, const uint8_t priv[32],
		     const uint8_t peer_pub[32], const uint8_t *psk)
{
	memset(d, 0, sizeof(*d));
	d->st = wgx_noise_static_new();
	d->idx = wgx_index_new();
	if (!d->st || !d->idx)
		return false;
	wgx_noise_static_set(d->st, priv);
	wgx_keypairs_init(&d->kps, d->idx, NULL);
	d->hs = wgx_noise_handshake_new(d->st, peer_pub, psk, &d->kps, d);
	return d->hs != NULL;
}

static void dev_free(struct dev *d)
{
	wgx_noise_handshake_free(d->hs);
	if (d->idx)
		wgx_keypairs_clear(&d->kps);
	wgx_index_free(d->idx);
	wgx_noise_static_free(d->st);
	memset(d, 0, sizeof(*d));
}

/* Two devices with random static keys that know each other. */
static bool pair_init(struct dev *ini, struct dev *res, const uint8_t *psk_i,
		      const uint8_t *psk_r)
{
	uint8_t ipriv[32], ipub[32], rpriv[32], rpub[32];
	bool ok;

	wgx_crypto_dh_generate(ipriv, ipub);
	wgx_crypto_dh_generate(rpriv, rpub);
	ok = dev_init(ini, ipriv, rpub, psk_i) &&
	     dev_init(res, rpriv, ipub, psk_r);
	wgx_crypto_wipe(ipriv, 32);
	wgx_crypto_wipe(rpriv, 32);
	CHECK(ok);
	return ok;
}

static void pair_free(struct dev *ini, struct dev *res)
{
	dev_free(ini);
	dev_free(res);
}

/* A fixed timestamp n steps after the vectors' one. */
static void stamp(uint8_t ts[12], uint32_t n)
{
	wgx_crypto_tai64n(ts, 1700000000ULL + n, 0);
}

static bool vec32(const char *file, const char *path, uint8_t out[32])
{
	bool ok = wgx_vec_hex(file, path, out, 32) == 32;

	CHECK(ok);
	return ok;
}

static uint32_t vec_u32(const char *file, const char *path)
{
	const char *v = wgx_vec_get(file, path);

	return v ? (uint32_t)strtoul(v, NULL, 10) : 0;
}

/* mac1 = MAC(HASH("mac1----" || receiver static), msg[0 : mac1]). */
static void mac1(uint8_t out[16], const uint8_t receiver_pub[32],
		 const void *msg, size_t mac1_off)
{
	uint8_t key[32];

	wgx_crypto_hash(key, "mac1----", 8, receiver_pub, 32);
	wgx_crypto_mac(out, key, 32, msg, mac1_off);
}

/*
 * Transport message t of a case: decrypt with the receiver's keypair,
 * compare with the plaintext, re-encrypt with the sender's, compare bytes.
 */
static void check_transport(int c, int t, struct wgx_keypair *to_resp,
			    struct wgx_keypair *to_init)
{
	uint8_t msg[256], plain[256], want[256], again[256];
	struct wgx_keypair *recv, *send;
	const char *dir;
	char path[64];
	long mlen, plen;
	size_t padded;
	uint64_t counter;

	snprintf(path, sizeof(path), "cases.%d.transport.%d.message", c, t);
	mlen = wgx_vec_hex("handshake", path, msg, sizeof(msg));
	snprintf(path, sizeof(path), "cases.%d.transport.%d.plaintext", c, t);
	plen = wgx_vec_hex("handshake", path, want, sizeof(want));
	snprintf(path, sizeof(path), "cases.%d.transport.%d.padded_length", c,
		 t);
	padded = vec_u32("handshake", path);
	snprintf(path, sizeof(path), "cases.%d.transport.%d.counter", c, t);
	counter = vec_u32("handshake", path);
	snprintf(path, sizeof(path), "cases.%d.transport.%d.direction", c, t);
	dir = wgx_vec_get("handshake", path);
	CHECK(dir && mlen == (long)(DATA_HDR + padded + WGX_TAG_LEN) &&
	      plen >= 0 && (size_t)plen <= padded);
	if (!dir || mlen != (long)(DATA_HDR + padded + WGX_TAG_LEN) ||
	    plen < 0 || (size_t)plen > padded)
		return;
	recv = strcmp(dir, "initiator->responder") ? to_init : to_resp;
	send = recv == to_resp ? to_init : to_resp;
	CHECK(le32toh(((struct wgx_msg_data *)msg)->receiver_index) ==
	      recv->local_index);
	CHECK(recv->local_index == send->remote_index);
	CHECK(wgx_crypto_aead_open(plain, msg + DATA_HDR, padded + WGX_TAG_LEN,
				   NULL, 0, counter, recv->recv_key));
	CHECK_MEM(plain, want, (size_t)plen);
	CHECK(wgx_crypto_is_zero(plain + plen, padded - (size_t)plen) ||
	      padded == (size_t)plen);
	memcpy(again, msg, DATA_HDR);
	wgx_crypto_aead_seal(again + DATA_HDR, plain, padded, NULL, 0, counter,
			     send->send_key);
	CHECK_MEM(again, msg, (size_t)mlen);
}

static void run_case(int c)
{
	uint8_t isk[32], ipk[32], rsk[32], rpk[32], iek[32], rek[32], psk[32];
	uint8_t ts[12], want_init[148], want_resp[92], v[32], m[16];
	struct wgx_noise_fixed fi = { iek, ts, 0 }, fr = { rek, NULL, 0 };
	struct wgx_keypair *kpi = NULL, *kpr = NULL;
	struct wgx_msg_initiation init;
	struct wgx_msg_response resp;
	struct wgx_handshake *got = NULL;
	struct dev ini, res;
	char path[64];

	if (!vec32("handshake", "inputs.initiator_static_private", isk) ||
	    !vec32("handshake", "inputs.initiator_static_public", ipk) ||
	    !vec32("handshake", "inputs.responder_static_private", rsk) ||
	    !vec32("handshake", "inputs.responder_static_public", rpk) ||
	    !vec32("handshake", "inputs.initiator_ephemeral_private", iek) ||
	    !vec32("handshake", "inputs.responder_ephemeral_private", rek))
		return;
	snprintf(path, sizeof(path), "cases.%d.preshared_key", c);
	if (!vec32("handshake", path, psk) ||
	    wgx_vec_hex("handshake", "inputs.timestamp", ts, 12) != 12)
		return;
	fi.sender_index = vec_u32("handshake", "inputs.initiator_sender_index");
	fr.sender_index = vec_u32("handshake", "inputs.responder_sender_index");
	snprintf(path, sizeof(path), "cases.%d.initiation", c);
	CHECK(wgx_vec_hex("handshake", path, want_init, 148) == 148);
	snprintf(path, sizeof(path), "cases.%d.response", c);
	CHECK(wgx_vec_hex("handshake", path, want_resp, 92) == 92);

	if (!dev_init(&ini, isk, rpk, c ? psk : NULL) ||
	    !dev_init(&res, rsk, ipk, c ? psk : NULL)) {
		CHECK(!"dev_init");
		goto out;
	}
	CHECK_MEM(ini.st->public_key, ipk, 32);
	CHECK_MEM(res.st->public_key, rpk, 32);

	/* Initiator: the initiation byte for byte up to mac1. */
	CHECK(wgx_noise_create_initiation(ini.hs, &init, &fi) == 0);
	CHECK(ini.hs->state == WGX_HANDSHAKE_CREATED_INITIATION);
	CHECK_MEM(&init, want_init, INIT_MAC1);
	CHECK(wgx_crypto_is_zero(&init.macs, sizeof(init.macs)));
	mac1(m, rpk, &init, INIT_MAC1);
	CHECK_MEM(m, want_init + INIT_MAC1, 16);
	snprintf(path, sizeof(path), "cases.%d.initiation_mac1", c);
	CHECK(wgx_vec_hex("handshake", path, v, 16) == 16);
	CHECK_MEM(m, v, 16);
	snprintf(path, sizeof(path), "cases.%d.chaining_key_after_initiation",
		 c);
	if (vec32("handshake", path, v))
		CHECK_MEM(ini.hs->chaining_key, v, 32);
	snprintf(path, sizeof(path), "cases.%d.hash_after_initiation", c);
	if (vec32("handshake", path, v))
		CHECK_MEM(ini.hs->hash, v, 32);

	/* Responder consumes the vector's bytes (with their real mac1). */
	CHECK(wgx_noise_consume_initiation(res.st, want_init, 148, T0, lookup,
					   &res, &got) == 0);
	CHECK(got == res.hs);
	CHECK(res.hs->state == WGX_HANDSHAKE_CONSUMED_INITIATION);
	CHECK(res.hs->remote_index == fi.sender_index);
	CHECK_MEM(res.hs->latest_timestamp, ts, 12);
	snprintf(path, sizeof(path), "cases.%d.chaining_key_after_initiation",
		 c);
	if (vec32("handshake", path, v))
		CHECK_MEM(res.hs->chaining_key, v, 32);
	snprintf(path, sizeof(path), "cases.%d.hash_after_initiation", c);
	if (vec32("handshake", path, v))
		CHECK_MEM(res.hs->hash, v, 32);

	CHECK(wgx_noise_create_response(res.hs, &resp, &fr) == 0);
	CHECK(res.hs->state == WGX_HANDSHAKE_CREATED_RESPONSE);
	CHECK_MEM(&resp, want_resp, RESP_MAC1);
	CHECK(wgx_crypto_is_zero(&resp.macs, sizeof(resp.macs)));
	mac1(m, ipk, &resp, RESP_MAC1);
	CHECK_MEM(m, want_resp + RESP_MAC1, 16);
	snprintf(path, sizeof(path), "cases.%d.chaining_key_after_response", c);
	if (vec32("handshake", path, v))
		CHECK_MEM(res.hs->chaining_key, v, 32);
	snprintf(path, sizeof(path), "cases.%d.hash_after_response", c);
	if (vec32("handshake", path, v))
		CHECK_MEM(res.hs->hash, v, 32);

	got = NULL;
	CHECK(wgx_noise_consume_response(ini.idx, want_resp, 92, &got) == 0);
	CHECK(got == ini.hs);
	CHECK(ini.hs->state == WGX_HANDSHAKE_CONSUMED_RESPONSE);
	CHECK(ini.hs->remote_index == fr.sender_index);
	snprintf(path, sizeof(path), "cases.%d.chaining_key_after_response", c);
	if (vec32("handshake", path, v))
		CHECK_MEM(ini.hs->chaining_key, v, 32);
	snprintf(path, sizeof(path), "cases.%d.hash_after_response", c);
	if (vec32("handshake", path, v))
		CHECK_MEM(ini.hs->hash, v, 32);

	/* Transport keys on both sides. */
	CHECK(wgx_noise_begin_session(ini.hs, T0, &kpi) == 0);
	CHECK(wgx_noise_begin_session(res.hs, T0, &kpr) == 0);
	CHECK(kpi && kpr);
	if (!kpi || !kpr)
		goto out;
	CHECK(kpi->initiator && !kpr->initiator);
	snprintf(path, sizeof(path), "cases.%d.initiator_send_key", c);
	if (vec32("handshake", path, v)) {
		CHECK_MEM(kpi->send_key, v, 32);
		CHECK_MEM(kpr->recv_key, v, 32);
	}
	snprintf(path, sizeof(path), "cases.%d.initiator_receive_key", c);
	if (vec32("handshake", path, v)) {
		CHECK_MEM(kpi->recv_key, v, 32);
		CHECK_MEM(kpr->send_key, v, 32);
	}
	CHECK(kpi->local_index == fi.sender_index &&
	      kpi->remote_index == fr.sender_index);
	CHECK(kpr->local_index == fr.sender_index &&
	      kpr->remote_index == fi.sender_index);
	CHECK(ini.kps.current == kpi && res.kps.next == kpr &&
	      !res.kps.current);
	/* The handshakes are spent; their indices now name the keypairs. */
	CHECK(ini.hs->state == WGX_HANDSHAKE_ZEROED &&
	      res.hs->state == WGX_HANDSHAKE_ZEROED);
	CHECK(wgx_crypto_is_zero(ini.hs->chaining_key, 32) &&
	      wgx_crypto_is_zero(res.hs->ephemeral_private, 32));
	CHECK(!wgx_index_lookup(ini.idx, fi.sender_index, WGX_INDEX_HANDSHAKE,
				NULL));
	CHECK(wgx_index_lookup(ini.idx, fi.sender_index, WGX_INDEX_KEYPAIR,
			       NULL));

	for (int t = 0; t < 3; t++)
		check_transport(c, t, kpr, kpi);
	/* The first data packet confirms the responder's keypair. */
	CHECK(wgx_keypairs_confirm(&res.kps, kpr));
	CHECK(res.kps.current == kpr && !res.kps.next);
out:
	pair_free(&ini, &res);
	wgx_crypto_wipe(isk, 32);
	wgx_crypto_wipe(rsk, 32);
	wgx_crypto_wipe(iek, 32);
	wgx_crypto_wipe(rek, 32);
}

static void test_noise_vectors_no_psk(void)
{
	run_case(0);
}

static void test_noise_vectors_psk(void)
{
	run_case(1);
}

static void test_noise_wireguard_go(void)
{
	static const char *f = "wireguard-go-initiation";
	uint8_t rsk[32], ipk[32], rek[32], v[32], ts[12], m[16];
	uint8_t init[148], want_resp[92], data[256], plain[256], want[256];
	struct wgx_noise_fixed fr = { rek, NULL, 0 };
	struct wgx_handshake *got = NULL;
	struct wgx_keypair *kp = NULL;
	struct wgx_msg_response resp;
	struct dev res;
	long dlen, plen;

	if (!vec32(f, "responder_static_private", rsk) ||
	    !vec32(f, "initiator_static_public", ipk) ||
	    !vec32(f, "response_ephemeral_private", rek))
		return;
	fr.sender_index = vec_u32(f, "response_sender_index");
	CHECK(wgx_vec_hex(f, "initiation", init, 148) == 148);
	CHECK(wgx_vec_hex(f, "response", want_resp, 92) == 92);
	if (!dev_init(&res, rsk, ipk, NULL)) {
		CHECK(!"dev_init");
		goto out;
	}
	if (vec32(f, "responder_static_public", v))
		CHECK_MEM(res.st->public_key, v, 32);
	mac1(m, res.st->public_key, init, INIT_MAC1);
	CHECK_MEM(m, init + INIT_MAC1, 16);

	CHECK(wgx_noise_consume_initiation(res.st, init, sizeof(init), T0,
					   lookup, &res, &got) == 0);
	CHECK(got == res.hs);
	CHECK_MEM(res.hs->remote_static, ipk, 32);
	CHECK(res.hs->remote_index ==
	      vec_u32(f, "decrypted.initiator_sender_index"));
	if (vec32(f, "decrypted.initiator_ephemeral_public", v))
		CHECK_MEM(res.hs->remote_ephemeral, v, 32);
	CHECK(wgx_vec_hex(f, "decrypted.timestamp", ts, 12) == 12);
	CHECK_MEM(res.hs->latest_timestamp, ts, 12);
	if (vec32(f, "chaining_key_after_initiation", v))
		CHECK_MEM(res.hs->chaining_key, v, 32);
	if (vec32(f, "hash_after_initiation", v))
		CHECK_MEM(res.hs->hash, v, 32);

	CHECK(wgx_noise_create_response(res.hs, &resp, &fr) == 0);
	CHECK_MEM(&resp, want_resp, RESP_MAC1);
	if (vec32(f, "chaining_key_after_response", v))
		CHECK_MEM(res.hs->chaining_key, v, 32);
	if (vec32(f, "hash_after_response", v))
		CHECK_MEM(res.hs->hash, v, 32);

	CHECK(wgx_noise_begin_session(res.hs, T0, &kp) == 0 && kp);
	if (!kp)
		goto out;
	if (vec32(f, "initiator_send_key", v))
		CHECK_MEM(kp->recv_key, v, 32);
	if (vec32(f, "initiator_receive_key", v))
		CHECK_MEM(kp->send_key, v, 32);

	/* wireguard-go's first data message, addressed to our index. */
	dlen = wgx_vec_hex(f, "first_data.message", data, sizeof(data));
	plen = wgx_vec_hex(f, "first_data.plaintext", want, sizeof(want));
	CHECK(dlen >= DATA_HDR + WGX_TAG_LEN && plen > 0 &&
	      plen <= dlen - DATA_HDR - WGX_TAG_LEN);
	if (dlen < DATA_HDR + WGX_TAG_LEN || plen <= 0 ||
	    plen > dlen - DATA_HDR - WGX_TAG_LEN)
		goto out;
	CHECK(le32toh(((struct wgx_msg_data *)data)->receiver_index) ==
	      kp->local_index);
	CHECK(wgx_crypto_aead_open(
		plain, data + DATA_HDR, (size_t)dlen - DATA_HDR, NULL, 0,
		vec_u32(f, "first_data.counter"), kp->recv_key));
	CHECK_MEM(plain, want, (size_t)plen);
	CHECK(wgx_keypairs_confirm(&res.kps, kp) && res.kps.current == kp);
out:
	dev_free(&res);
	wgx_crypto_wipe(rsk, 32);
	wgx_crypto_wipe(rek, 32);
}

/* A whole handshake with fresh randomness; the keys must agree. */
static void test_noise_random_roundtrip(void)
{
	struct wgx_keypair *kpi = NULL, *kpr = NULL;
	struct wgx_handshake *got = NULL;
	struct wgx_msg_initiation init;
	struct wgx_msg_response resp;
	uint8_t psk[32];
	struct dev ini, res;

	wgx_crypto_random(psk, sizeof(psk));
	if (!pair_init(&ini, &res, psk, psk))
		goto out;
	CHECK(wgx_noise_create_initiation(ini.hs, &init, NULL) == 0);
	CHECK(init.header.type == WGX_MSG_INITIATION);
	CHECK(le32toh(init.sender_index) == ini.hs->local_index);
	CHECK(wgx_index_count(ini.idx) == 1);
	CHECK(wgx_noise_consume_initiation(res.st, &init, sizeof(init), T0,
					   lookup, &res, &got) == 0 &&
	      got == res.hs);
	CHECK(wgx_noise_create_response(res.hs, &resp, NULL) == 0);
	CHECK(le32toh(resp.receiver_index) == ini.hs->local_index);
	CHECK(wgx_noise_consume_response(ini.idx, &resp, sizeof(resp), &got) ==
		      0 &&
	      got == ini.hs);
	CHECK_MEM(ini.hs->chaining_key, res.hs->chaining_key, 32);
	CHECK_MEM(ini.hs->hash, res.hs->hash, 32);
	CHECK(wgx_noise_begin_session(ini.hs, T0, &kpi) == 0);
	CHECK(wgx_noise_begin_session(res.hs, T0, &kpr) == 0);
	CHECK(kpi && kpr);
	if (kpi && kpr) {
		CHECK_MEM(kpi->send_key, kpr->recv_key, 32);
		CHECK_MEM(kpi->recv_key, kpr->send_key, 32);
		CHECK(memcmp(kpi->send_key, kpi->recv_key, 32) != 0);
		CHECK(kpi->peer == &ini && kpr->peer == &res);
		CHECK(kpi->birth_ns == T0);
	}
	/* begin_session twice is a state error, not a second keypair. */
	CHECK(wgx_noise_begin_session(ini.hs, T0, &kpi) == -EPROTO);
	CHECK(wgx_index_count(ini.idx) == 1 && wgx_index_count(res.idx) == 1);
out:
	pair_free(&ini, &res);
}

/* Initiation from ini with fixed timestamp step n; random ephemeral. */
static bool make_init(struct dev *ini, struct wgx_msg_initiation *m, uint32_t n)
{
	uint8_t ts[12];
	struct wgx_noise_fixed f = { NULL, ts, 0 };

	stamp(ts, n);
	return wgx_noise_create_initiation(ini->hs, m, &f) == 0;
}

static void test_noise_replay(void)
{
	struct wgx_msg_initiation a, b, c;
	struct wgx_handshake *got;
	struct dev ini, res;

	if (!pair_init(&ini, &res, NULL, NULL))
		goto out;
	CHECK(make_init(&ini, &a, 10) && make_init(&ini, &b, 20) &&
	      make_init(&ini, &c, 20));
	CHECK(wgx_noise_consume_initiation(res.st, &b, sizeof(b), T0, lookup,
					   &res, &got) == 0);
	/* The same message again, long after the flood window. */
	CHECK(wgx_noise_consume_initiation(res.st, &b, sizeof(b),
					   T0 + 1000 * MS, lookup, &res,
					   &got) == -EALREADY);
	/* An older timestamp, and an equal one under a fresh ephemeral. */
	CHECK(wgx_noise_consume_initiation(res.st, &a, sizeof(a),
					   T0 + 2000 * MS, lookup, &res,
					   &got) == -EALREADY);
	CHECK(wgx_noise_consume_initiation(res.st, &c, sizeof(c),
					   T0 + 3000 * MS, lookup, &res,
					   &got) == -EALREADY);
	/* Rejections must not have moved the handshake. */
	CHECK(res.hs->remote_index == le32toh(b.sender_index));
	CHECK(res.hs->last_initiation_ns == T0);
out:
	pair_free(&ini, &res);
}

static void test_noise_flood(void)
{
	struct wgx_msg_initiation a, b;
	struct wgx_handshake *got;
	uint8_t ck[32];
	struct dev ini, res;

	if (!pair_init(&ini, &res, NULL, NULL))
		goto out;
	CHECK(make_init(&ini, &a, 1) && make_init(&ini, &b, 2));
	CHECK(wgx_noise_consume_initiation(res.st, &a, sizeof(a), T0, lookup,
					   &res, &got) == 0);
	memcpy(ck, res.hs->chaining_key, 32);
	CHECK(wgx_noise_consume_initiation(res.st, &b, sizeof(b),
					   T0 + 20 * MS - 1, lookup, &res,
					   &got) == -EBUSY);
	CHECK_MEM(res.hs->chaining_key, ck, 32);
	CHECK(res.hs->remote_index == le32toh(a.sender_index));
	/* A clock that went backwards is not a free pass either. */
	CHECK(wgx_noise_consume_initiation(res.st, &b, sizeof(b), T0 - MS,
					   lookup, &res, &got) == -EBUSY);
	CHECK(wgx_noise_consume_initiation(res.st, &b, sizeof(b), T0 + 20 * MS,
					   lookup, &res, &got) == 0);
	CHECK(res.hs->remote_index == le32toh(b.sender_index));
	CHECK(res.hs->last_initiation_ns == T0 + 20 * MS);
out:
	pair_free(&ini, &res);
}

static void test_noise_wrong_psk(void)
{
	struct wgx_msg_initiation init;
	struct wgx_msg_response resp;
	struct wgx_handshake *got;
	uint8_t psk[32], ck[32];
	struct dev ini, res;

	wgx_crypto_random(psk, sizeof(psk));
	if (!pair_init(&ini, &res, psk, NULL))
		goto out;
	CHECK(make_init(&ini, &init, 1));
	/* The psk only enters with the response: the responder cannot tell. */
	CHECK(wgx_noise_consume_initiation(res.st, &init, sizeof(init), T0,
					   lookup, &res, &got) == 0);
	CHECK(wgx_noise_create_response(res.hs, &resp, NULL) == 0);
	memcpy(ck, ini.hs->chaining_key, 32);
	CHECK(wgx_noise_consume_response(ini.idx, &resp, sizeof(resp), &got) ==
	      -EBADMSG);
	CHECK(ini.hs->state == WGX_HANDSHAKE_CREATED_INITIATION);
	CHECK_MEM(ini.hs->chaining_key, ck, 32);
	/* With the right psk set on the responder, a retry goes through. */
	wgx_noise_handshake_set_psk(res.hs, psk);
	CHECK(make_init(&ini, &init, 2));
	CHECK(wgx_noise_consume_initiation(res.st, &init, sizeof(init),
					   T0 + 20 * MS, lookup, &res,
					   &got) == 0);
	CHECK(wgx_noise_create_response(res.hs, &resp, NULL) == 0);
	CHECK(wgx_noise_consume_response(ini.idx, &resp, sizeof(resp), &got) ==
	      0);
out:
	pair_free(&ini, &res);
	wgx_crypto_wipe(psk, sizeof(psk));
}

/*
 * Flip every bit of an initiation. Header bytes are malformed; flips of the
 * sender index still consume (that field is not authenticated: only the
 * responder's answer, which the initiator will not recognise, changes);
 * ephemeral, static and timestamp are authenticated; mac1/mac2 are the
 * cookie module's and ignored here.
 */
static void test_noise_initiation_bitflips(void)
{
	struct wgx_msg_initiation init;
	struct wgx_handshake saved, *got;
	unsigned int wrong = 0, unchanged = 0;
	uint8_t buf[148];
	struct dev ini, res;

	if (!pair_init(&ini, &res, NULL, NULL))
		goto out;
	CHECK(wgx_noise_create_initiation(ini.hs, &init, NULL) == 0);
	saved = *res.hs;
	for (size_t i = 0; i < sizeof(buf); i++) {
		for (int b = 0; b < 8; b++) {
			uint32_t idx = le32toh(init.sender_index);
			int ret, want;

			memcpy(buf, &init, sizeof(buf));
			buf[i] ^= (uint8_t)(1u << b);
			ret = wgx_noise_consume_initiation(res.st, buf,
							   sizeof(buf), T0,
							   lookup, &res, &got);
			if (i < 4)
				want = -EINVAL;
			else if (i < 8 || i >= INIT_MAC1)
				want = 0;
			else
				want = 1; /* any failure */
			if (want == 1 ? ret >= 0 : ret != want)
				wrong++;
			if (ret == 0) {
				if (i < 8)
					idx ^= 1u << (8 * (i - 4) + b);
				if (res.hs->remote_index != idx)
					wrong++;
				*res.hs = saved;
			} else if (memcmp(res.hs, &saved, sizeof(saved))) {
				unchanged++;
				*res.hs = saved;
			}
		}
	}
	CHECK(wrong == 0);
	CHECK(unchanged == 0);
out:
	wgx_crypto_wipe(&saved, sizeof(saved));
	pair_free(&ini, &res);
}

static void test_noise_response_bitflips(void)
{
	struct wgx_msg_initiation init;
	struct wgx_msg_response resp;
	struct wgx_handshake saved, *got;
	unsigned int wrong = 0, unchanged = 0;
	uint8_t buf[92];
	struct dev ini, res;

	if (!pair_init(&ini, &res, NULL, NULL))
		goto out;
	CHECK(wgx_noise_create_initiation(ini.hs, &init, NULL) == 0);
	CHECK(wgx_noise_consume_initiation(res.st, &init, sizeof(init), T0,
					   lookup, &res, &got) == 0);
	CHECK(wgx_noise_create_response(res.hs, &resp, NULL) == 0);
	saved = *ini.hs;
	for (size_t i = 0; i < sizeof(buf); i++) {
		for (int b = 0; b < 8; b++) {
			uint32_t idx = le32toh(resp.sender_index);
			int ret, want;

			memcpy(buf, &resp, sizeof(buf));
			buf[i] ^= (uint8_t)(1u << b);
			ret = wgx_noise_consume_response(ini.idx, buf,
							 sizeof(buf), &got);
			if (i < 4)
				want = -EINVAL;
			else if (i < 8 || i >= RESP_MAC1)
				want = 0;
			else if (i < 12)
				want = -ENOKEY;
			else
				want = 1;
			if (want == 1 ? ret >= 0 : ret != want)
				wrong++;
			if (ret == 0) {
				if (i < 8)
					idx ^= 1u << (8 * (i - 4) + b);
				if (ini.hs->remote_index != idx)
					wrong++;
				*ini.hs = saved;
			} else if (memcmp(ini.hs, &saved, sizeof(saved))) {
				unchanged++;
				*ini.hs = saved;
			}
		}
	}
	CHECK(wrong == 0);
	CHECK(unchanged == 0);
out:
	wgx_crypto_wipe(&saved, sizeof(saved));
	pair_free(&ini, &res);
}

static void test_noise_lengths(void)
{
	struct wgx_msg_initiation init;
	struct wgx_msg_response resp;
	struct wgx_handshake *got;
	uint8_t big[256];
	struct dev ini, res;

	if (!pair_init(&ini, &res, NULL, NULL))
		goto out;
	CHECK(wgx_noise_create_initiation(ini.hs, &init, NULL) == 0);
	memset(big, 0, sizeof(big));
	memcpy(big, &init, sizeof(init));
	for (size_t len = 0; len < sizeof(big); len++)
		if (len != sizeof(init))
			CHECK(wgx_noise_consume_initiation(res.st, big, len, T0,
							   lookup, &res,
							   &got) == -EINVAL);
	CHECK(res.hs->state == WGX_HANDSHAKE_ZEROED);
	CHECK(wgx_noise_consume_initiation(res.st, big, sizeof(init), T0,
					   lookup, &res, &got) == 0);
	CHECK(wgx_noise_create_response(res.hs, &resp, NULL) == 0);
	memset(big, 0, sizeof(big));
	memcpy(big, &resp, sizeof(resp));
	for (size_t len = 0; len < sizeof(big); len++)
		if (len != sizeof(resp))
			CHECK(wgx_noise_consume_response(ini.idx, big, len,
							 &got) == -EINVAL);
	/* Right size, wrong type: each consumer takes only its own. */
	big[0] = WGX_MSG_INITIATION;
	CHECK(wgx_noise_consume_response(ini.idx, big, sizeof(resp), &got) ==
	      -EINVAL);
	memcpy(big, &init, sizeof(init));
	big[0] = WGX_MSG_RESPONSE;
	CHECK(wgx_noise_consume_initiation(res.st, big, sizeof(init),
					   T0 + 20 * MS, lookup, &res,
					   &got) == -EINVAL);
	CHECK(ini.hs->state == WGX_HANDSHAKE_CREATED_INITIATION);
	CHECK(wgx_noise_consume_response(ini.idx, &resp, sizeof(resp), &got) ==
	      0);
out:
	pair_free(&ini, &res);
}

static void test_noise_reserved(void)
{
	struct wgx_msg_initiation init, bad_init;
	struct wgx_msg_response resp, bad_resp;
	struct wgx_handshake *got;
	struct dev ini, res;

	if (!pair_init(&ini, &res, NULL, NULL))
		goto out;
	CHECK(wgx_noise_create_initiation(ini.hs, &init, NULL) == 0);
	for (int r = 0; r < 3; r++) {
		bad_init = init;
		bad_init.header.reserved[r] = 1;
		CHECK(wgx_noise_consume_initiation(res.st, &bad_init,
						   sizeof(bad_init), T0, lookup,
						   &res, &got) == -EINVAL);
	}
	CHECK(wgx_noise_consume_initiation(res.st, &init, sizeof(init), T0,
					   lookup, &res, &got) == 0);
	CHECK(wgx_noise_create_response(res.hs, &resp, NULL) == 0);
	for (int r = 0; r < 3; r++) {
		bad_resp = resp;
		bad_resp.header.reserved[r] = 0x80;
		CHECK(wgx_noise_consume_response(ini.idx, &bad_resp,
						 sizeof(bad_resp),
						 &got) == -EINVAL);
	}
	CHECK(wgx_noise_consume_response(ini.idx, &resp, sizeof(resp), &got) ==
	      0);
out:
	pair_free(&ini, &res);
}

static void test_noise_unknown_peer(void)
{
	uint8_t priv[32], pub[32];
	struct wgx_msg_initiation init;
	struct wgx_handshake *got = NULL;
	struct dev ini, res, stranger;

	if (!pair_init(&ini, &res, NULL, NULL))
		goto out;
	/* A stranger who knows the responder's public key. */
	wgx_crypto_dh_generate(priv, pub);
	if (!dev_init(&stranger, priv, res.st->public_key, NULL)) {
		CHECK(!"dev_init");
		dev_free(&stranger);
		goto out;
	}
	CHECK(wgx_noise_create_initiation(stranger.hs, &init, NULL) == 0);
	CHECK(wgx_noise_consume_initiation(res.st, &init, sizeof(init), T0,
					   lookup, &res, &got) == -ENOKEY);
	/* A careless lookup must not make the stranger our peer. */
	CHECK(wgx_noise_consume_initiation(res.st, &init, sizeof(init), T0,
					   lookup_any, &res, &got) == -ENOKEY);
	CHECK(got == NULL && res.hs->state == WGX_HANDSHAKE_ZEROED);
	dev_free(&stranger);
out:
	wgx_crypto_wipe(priv, sizeof(priv));
	pair_free(&ini, &res);
}

/* X25519 points of small order (and non-canonical aliases of them). */
static const char *const low_order[] = {
	"0000000000000000000000000000000000000000000000000000000000000000",
	"0100000000000000000000000000000000000000000000000000000000000000",
	"e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
	"5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
	"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
};

static void test_noise_low_order_ephemeral(void)
{
	struct wgx_msg_initiation init, bad_init;
	struct wgx_msg_response resp, bad_resp;
	struct wgx_handshake *got;
	uint8_t ck[32];
	struct dev ini, res;

	if (!pair_init(&ini, &res, NULL, NULL))
		goto out;
	CHECK(wgx_noise_create_initiation(ini.hs, &init, NULL) == 0);
	for (size_t i = 0; i < sizeof(low_order) / sizeof(low_order[0]); i++) {
		bad_init = init;
		CHECK(wgx_hex_decode(bad_init.ephemeral, 32, low_order[i]));
		CHECK(wgx_noise_consume_initiation(
			      res.st, &bad_init, sizeof(bad_init), T0, lookup,
			      &res, &got) == -EKEYREJECTED);
	}
	CHECK(res.hs->state == WGX_HANDSHAKE_ZEROED);
	CHECK(wgx_noise_consume_initiation(res.st, &init, sizeof(init), T0,
					   lookup, &res, &got) == 0);
	CHECK(wgx_noise_create_response(res.hs, &resp, NULL) == 0);
	memcpy(ck, ini.hs->chaining_key, 32);
	for (size_t i = 0; i < sizeof(low_order) / sizeof(low_order[0]); i++) {
		bad_resp = resp;
		CHECK(wgx_hex_decode(bad_resp.ephemeral, 32, low_order[i]));
		CHECK(wgx_noise_consume_response(ini.idx, &bad_resp,
						 sizeof(bad_resp),
						 &got) == -EKEYREJECTED);
	}
	CHECK(ini.hs->state == WGX_HANDSHAKE_CREATED_INITIATION);
	CHECK_MEM(ini.hs->chaining_key, ck, 32);
	CHECK(wgx_noise_consume_response(ini.idx, &resp, sizeof(resp), &got) ==
	      0);
out:
	pair_free(&ini, &res);
}

/* A peer whose static key is of small order can never handshake. */
static void test_noise_low_order_static(void)
{
	uint8_t priv[32], pub[32], bad[32];
	struct wgx_msg_initiation init;
	struct dev d;

	wgx_crypto_dh_generate(priv, pub);
	for (size_t i = 0; i < sizeof(low_order) / sizeof(low_order[0]); i++) {
		CHECK(wgx_hex_decode(bad, 32, low_order[i]));
		if (!dev_init(&d, priv, bad, NULL)) {
			CHECK(!"dev_init");
			dev_free(&d);
			break;
		}
		CHECK(wgx_crypto_is_zero(d.hs->precomputed_static_static, 32));
		CHECK(!wgx_noise_handshake_precompute(d.hs));
		memset(&init, 0xaa, sizeof(init));
		CHECK(wgx_noise_create_initiation(d.hs, &init, NULL) ==
		      -EKEYREJECTED);
		CHECK(wgx_crypto_is_zero(&init, sizeof(init)));
		CHECK(d.hs->state == WGX_HANDSHAKE_ZEROED);
		CHECK(wgx_index_count(d.idx) == 0);
		dev_free(&d);
	}
	wgx_crypto_wipe(priv, sizeof(priv));
}

static void test_noise_no_identity(void)
{
	struct wgx_msg_initiation init;
	struct wgx_handshake *got;
	struct dev ini, res;

	if (!pair_init(&ini, &res, NULL, NULL))
		goto out;
	CHECK(wgx_noise_create_initiation(ini.hs, &init, NULL) == 0);
	wgx_noise_static_set(res.st, NULL);
	CHECK(!res.st->has_identity);
	CHECK(wgx_noise_consume_initiation(res.st, &init, sizeof(init), T0,
					   lookup, &res, &got) == -ENOKEY);
	wgx_noise_static_set(ini.st, NULL);
	CHECK(!wgx_noise_handshake_precompute(ini.hs));
	CHECK(wgx_noise_create_initiation(ini.hs, &init, NULL) == -ENOKEY);
out:
	pair_free(&ini, &res);
}

static void test_noise_wrong_state(void)
{
	struct wgx_msg_initiation init;
	struct wgx_msg_response resp;
	struct wgx_handshake *got;
	struct dev ini, res;

	if (!pair_init(&ini, &res, NULL, NULL))
		goto out;
	/* Nothing to respond to, and no session to begin. */
	CHECK(wgx_noise_create_response(res.hs, &resp, NULL) == -EPROTO);
	CHECK(wgx_crypto_is_zero(&resp, sizeof(resp)));
	CHECK(wgx_noise_begin_session(res.hs, T0, NULL) == -EPROTO);
	CHECK(wgx_noise_create_initiation(ini.hs, &init, NULL) == 0);
	CHECK(wgx_noise_begin_session(ini.hs, T0, NULL) == -EPROTO);
	CHECK(wgx_noise_consume_initiation(res.st, &init, sizeof(init), T0,
					   lookup, &res, &got) == 0);
	CHECK(wgx_noise_begin_session(res.hs, T0, NULL) == -EPROTO);
	CHECK(wgx_noise_create_response(res.hs, &resp, NULL) == 0);
	/* A second response from the same state is refused. */
	{
		struct wgx_msg_response again;

		CHECK(wgx_noise_create_response(res.hs, &again, NULL) ==
		      -EPROTO);
	}
	CHECK(wgx_noise_consume_response(ini.idx, &resp, sizeof(resp), &got) ==
	      0);
	/* The same response again: the handshake is past that state. */
	CHECK(wgx_noise_consume_response(ini.idx, &resp, sizeof(resp), &got) ==
	      -EPROTO);
	CHECK(wgx_noise_begin_session(ini.hs, T0, NULL) == 0);
	/* And once the session began, the index names a keypair. */
	CHECK(wgx_noise_consume_response(ini.idx, &resp, sizeof(resp), &got) ==
	      -ENOKEY);
out:
	pair_free(&ini, &res);
}

static void test_noise_unknown_receiver(void)
{
	struct wgx_msg_initiation init;
	struct wgx_msg_response resp;
	struct wgx_handshake *got;
	uint32_t other;
	struct dev ini, res;

	if (!pair_init(&ini, &res, NULL, NULL))
		goto out;
	CHECK(wgx_noise_create_initiation(ini.hs, &init, NULL) == 0);
	CHECK(wgx_noise_consume_initiation(res.st, &init, sizeof(init), T0,
					   lookup, &res, &got) == 0);
	CHECK(wgx_noise_create_response(res.hs, &resp, NULL) == 0);
	other = ini.hs->local_index + 1;
	resp.receiver_index = htole32(other);
	CHECK(wgx_noise_consume_response(ini.idx, &resp, sizeof(resp), &got) ==
	      -ENOKEY);
	resp.receiver_index = 0;
	CHECK(wgx_noise_consume_response(ini.idx, &resp, sizeof(resp), &got) ==
	      -ENOKEY);
	CHECK(ini.hs->state == WGX_HANDSHAKE_CREATED_INITIATION);
out:
	pair_free(&ini, &res);
}

/*
 * A forged initiation aimed at a device that is itself initiating must
 * leave its handshake intact, so the real response still completes it.
 */
static void test_noise_forgery_keeps_handshake(void)
{
	struct wgx_msg_initiation init, forged;
	struct wgx_msg_response resp;
	struct wgx_handshake before, *got;
	struct dev ini, res;

	if (!pair_init(&ini, &res, NULL, NULL))
		goto out;
	CHECK(wgx_noise_create_initiation(ini.hs, &init, NULL) == 0);
	before = *ini.hs;
	/* The peer's own initiation with its timestamp tampered with. */
	CHECK(wgx_noise_create_initiation(res.hs, &forged, NULL) == 0);
	forged.encrypted_timestamp[3] ^= 1;
	CHECK(wgx_noise_consume_initiation(ini.st, &forged, sizeof(forged), T0,
					   lookup, &ini, &got) == -EBADMSG);
	/* Random bytes with a valid header. */
	wgx_crypto_random(&forged, sizeof(forged));
	forged.header = init.header;
	CHECK(wgx_noise_consume_initiation(ini.st, &forged, sizeof(forged), T0,
					   lookup, &ini, &got) < 0);
	CHECK(memcmp(ini.hs, &before, sizeof(before)) == 0);
	CHECK(wgx_noise_consume_initiation(res.st, &init, sizeof(init), T0,
					   lookup, &res, &got) == 0);
	CHECK(wgx_noise_create_response(res.hs, &resp, NULL) == 0);
	CHECK(wgx_noise_consume_response(ini.idx, &resp, sizeof(resp), &got) ==
	      0);
out:
	wgx_crypto_wipe(&before, sizeof(before));
	pair_free(&ini, &res);
}

/* A new initiation retires the index of the one before it. */
static void test_noise_reinitiation(void)
{
	struct wgx_msg_initiation first, second;
	struct wgx_msg_response resp;
	struct wgx_handshake *got;
	struct dev ini, res;

	if (!pair_init(&ini, &res, NULL, NULL))
		goto out;
	CHECK(make_init(&ini, &first, 1));
	CHECK(make_init(&ini, &second, 2));
	CHECK(first.sender_index != second.sender_index);
	CHECK(wgx_index_count(ini.idx) == 1);
	CHECK(!wgx_index_lookup(ini.idx, le32toh(first.sender_index),
				WGX_INDEX_HANDSHAKE, NULL));
	/* The responder answers the first: nobody is waiting for that. */
	CHECK(wgx_noise_consume_initiation(res.st, &first, sizeof(first), T0,
					   lookup, &res, &got) == 0);
	CHECK(wgx_noise_create_response(res.hs, &resp, NULL) == 0);
	CHECK(wgx_noise_consume_response(ini.idx, &resp, sizeof(resp), &got) ==
	      -ENOKEY);
	/* clear() drops the index and the secrets, keeps the history. */
	wgx_noise_handshake_clear(res.hs);
	CHECK(res.hs->state == WGX_HANDSHAKE_ZEROED);
	CHECK(wgx_index_count(res.idx) == 0);
	CHECK(wgx_crypto_is_zero(res.hs->ephemeral_private, 32) &&
	      wgx_crypto_is_zero(res.hs->chaining_key, 32) &&
	      wgx_crypto_is_zero(res.hs->hash, 32));
	CHECK(!wgx_crypto_is_zero(res.hs->latest_timestamp, 12));
	CHECK(wgx_noise_consume_initiation(res.st, &first, sizeof(first),
					   T0 + 1000 * MS, lookup, &res,
					   &got) == -EALREADY);
out:
	pair_free(&ini, &res);
}

static const struct wgx_test noise_tests[] = {
	{ "noise: vectors no-psk (initiation, response, C/H, keys, data)",
	  test_noise_vectors_no_psk },
	{ "noise: vectors psk (initiation, response, C/H, keys, data)",
	  test_noise_vectors_psk },
	{ "noise: wireguard-go initiation, response, first data",
	  test_noise_wireguard_go },
	{ "noise: random handshake, both roles agree",
	  test_noise_random_roundtrip },
	{ "noise: replayed or older timestamp rejected", test_noise_replay },
	{ "noise: one initiation per peer per 20 ms", test_noise_flood },
	{ "noise: wrong psk fails consume_response", test_noise_wrong_psk },
	{ "noise: bit flips in every initiation byte",
	  test_noise_initiation_bitflips },
	{ "noise: bit flips in every response byte",
	  test_noise_response_bitflips },
	{ "noise: truncated, oversized and mistyped messages rejected",
	  test_noise_lengths },
	{ "noise: non-zero reserved bytes rejected", test_noise_reserved },
	{ "noise: unknown peer static key rejected", test_noise_unknown_peer },
	{ "noise: low-order ephemeral (all-zero DH) rejected",
	  test_noise_low_order_ephemeral },
	{ "noise: low-order peer static key makes the peer unusable",
	  test_noise_low_order_static },
	{ "noise: no device identity fails cleanly", test_noise_no_identity },
	{ "noise: steps in the wrong state rejected", test_noise_wrong_state },
	{ "noise: response with unknown receiver index rejected",
	  test_noise_unknown_receiver },
	{ "noise: forged initiation keeps the handshake in progress",
	  test_noise_forgery_keeps_handshake },
	{ "noise: re-initiation retires the old index; clear",
	  test_noise_reinitiation },
};
WGX_SUITE(noise_tests)
