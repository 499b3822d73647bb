// SPDX-License-Identifier: MIT
/*
 * Consume response: any bytes as the answer to the vectors' initiation
 * (handshake.json with its preshared key; fixed ephemeral, timestamp and
 * index, so a response from the vectors is accepted). The initiation is
 * sent again, from a cleared handshake, after every response that was
 * taken (a refused one changes nothing), so each input stands alone; an
 * accepted response becomes a session.
 */
#include "fuzz.h"

#include "core/cookie.h"
#include "core/crypto.h"
#include "core/keypairs.h"
#include "core/noise.h"

static struct wgx_noise_static *st;
static struct wgx_index_table *idx;
static struct wgx_keypairs kps;
static struct wgx_handshake *hs;
static struct wgx_cookie_checker checker;
static uint8_t eph[32], ts[12];
static struct wgx_noise_fixed fixed = { eph, ts, 0 };

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	uint8_t priv[32], peer[32], psk[32];

	(void)argc;
	(void)argv;
	FUZZ_ASSERT(wgx_crypto_init() == 0);
	fuzz_vec("handshake", "inputs.initiator_static_private", priv, 32);
	fuzz_vec("handshake", "inputs.responder_static_public", peer, 32);
	fuzz_vec("handshake", "inputs.preshared_key", psk, 32);
	fuzz_vec("handshake", "inputs.initiator_ephemeral_private", eph, 32);
	fuzz_vec("handshake", "inputs.timestamp", ts, 12);
	fixed.sender_index =
		fuzz_vec_u32("handshake", "inputs.initiator_sender_index");
	st = wgx_noise_static_new();
	idx = wgx_index_new();
	FUZZ_ASSERT(st && idx);
	wgx_noise_static_set(st, priv);
	wgx_keypairs_init(&kps, idx, NULL);
	hs = wgx_noise_handshake_new(st, peer, psk, &kps, NULL);
	FUZZ_ASSERT(hs);
	wgx_cookie_checker_init(&checker);
	wgx_cookie_checker_set_public_key(&checker, st->public_key);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wgx_cookie_src src = { .addr = { 0xfd, [15] = 1 },
				      .addr_len = 16,
				      .port = 1 };
	struct wgx_handshake *got = NULL;
	struct wgx_msg_initiation init;
	struct wgx_keypair *kp = NULL;
	enum wgx_cookie_mac_state mac;
	int ret;

	/* A refused response changes nothing: send again only after one
	 * was taken (the DH of a fresh initiation dominates a run). */
	if (hs->state != WGX_HANDSHAKE_CREATED_INITIATION) {
		wgx_noise_handshake_clear(hs);
		FUZZ_ASSERT(wgx_noise_create_initiation(hs, &init, &fixed) ==
			    0);
	}
	mac = wgx_cookie_validate(&checker, data, size, &src, size & 1,
				  FUZZ_NOW);
	FUZZ_ASSERT(mac == WGX_COOKIE_INVALID_MAC || size == 92);
	ret = wgx_noise_consume_response(idx, data, size, &got);
	if (ret) {
		FUZZ_ASSERT(ret < 0 && !got);
		return 0;
	}
	FUZZ_ASSERT(got == hs && size == sizeof(struct wgx_msg_response));
	FUZZ_ASSERT(wgx_noise_begin_session(hs, FUZZ_NOW, &kp) == 0 && kp);
	wgx_keypairs_clear(&kps);
	return 0;
}
