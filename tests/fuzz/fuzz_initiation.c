// SPDX-License-Identifier: MIT
/*
 * Consume initiation: any bytes as a handshake initiation to a responder
 * that knows the vectors' initiator (handshake.json, with its preshared
 * key), checked for mac1 first as the agent does, then consumed whatever
 * mac1 said. An initiation that is accepted is answered and turned into a
 * session, so those steps run on fuzzed state too. The replay and flood
 * history is reset every run: each input stands alone.
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

static struct wgx_handshake *lookup(void *ctx, const uint8_t pub[32])
{
	(void)ctx;
	return !memcmp(hs->remote_static, pub, 32) ? hs : NULL;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	uint8_t priv[32], peer[32], psk[32];

	(void)argc;
	(void)argv;
	FUZZ_ASSERT(wgx_crypto_init() == 0);
	fuzz_vec("handshake", "inputs.responder_static_private", priv, 32);
	fuzz_vec("handshake", "inputs.initiator_static_public", peer, 32);
	fuzz_vec("handshake", "inputs.preshared_key", psk, 32);
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
	struct wgx_cookie_src src = { .addr = { 192, 0, 2, 1 },
				      .addr_len = 4,
				      .port = 51820 };
	struct wgx_handshake *got = NULL;
	struct wgx_msg_response resp;
	struct wgx_keypair *kp = NULL;
	enum wgx_cookie_mac_state mac;
	int ret;

	memset(hs->latest_timestamp, 0, sizeof(hs->latest_timestamp));
	hs->last_initiation_ns = 0;
	mac = wgx_cookie_validate(&checker, data, size, &src, size & 1,
				  FUZZ_NOW);
	FUZZ_ASSERT(mac == WGX_COOKIE_INVALID_MAC || size == 148);
	ret = wgx_noise_consume_initiation(st, data, size, FUZZ_NOW, lookup,
					   NULL, &got);
	if (ret) {
		FUZZ_ASSERT(ret < 0 && !got);
		return 0;
	}
	FUZZ_ASSERT(got == hs && size == sizeof(struct wgx_msg_initiation));
	if (wgx_noise_create_response(hs, &resp, NULL) == 0)
		FUZZ_ASSERT(wgx_noise_begin_session(hs, FUZZ_NOW, &kp) == 0);
	wgx_keypairs_clear(&kps);
	wgx_noise_handshake_clear(hs);
	return 0;
}
