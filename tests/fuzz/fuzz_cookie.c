// SPDX-License-Identifier: MIT
/*
 * Cookie reply: any bytes as the reply to the vectors' initiation, which
 * the maker has just sent (so a reply made for it is taken), and the same
 * bytes as a handshake message to the checking side under load, answered
 * with a cookie when their mac1 is good.
 */
#include "fuzz.h"

#include "core/cookie.h"
#include "core/crypto.h"

static uint8_t peer_pub[32], init[148];
static struct wgx_cookie_checker checker;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	FUZZ_ASSERT(wgx_crypto_init() == 0);
	fuzz_vec("handshake", "inputs.responder_static_public", peer_pub, 32);
	FUZZ_ASSERT(fuzz_vec("handshake", "cases.1.initiation", init, 148) ==
		    148);
	wgx_cookie_checker_init(&checker);
	wgx_cookie_checker_set_public_key(&checker, peer_pub);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wgx_cookie_src src = { .addr = { 10, 0, 0, 1 },
				      .addr_len = 4,
				      .port = 4242 };
	struct wgx_msg_cookie_reply reply, answer;
	struct wgx_cookie_maker maker;
	uint8_t msg[148];
	bool took;

	wgx_cookie_maker_init(&maker, peer_pub);
	memcpy(msg, init, sizeof(msg));
	FUZZ_ASSERT(wgx_cookie_add_macs(&maker, msg, sizeof(msg), FUZZ_NOW) ==
		    0);
	if (size >= sizeof(reply)) {
		memcpy(&reply, data, sizeof(reply));
		took = wgx_cookie_consume_reply(&maker, &reply, FUZZ_NOW);
		/* One reply per mac1: the same bytes again are refused. */
		if (took)
			FUZZ_ASSERT(!wgx_cookie_consume_reply(&maker, &reply,
							      FUZZ_NOW));
	}
	if (wgx_cookie_validate(&checker, data, size, &src, true, FUZZ_NOW) !=
	    WGX_COOKIE_INVALID_MAC)
		FUZZ_ASSERT(wgx_cookie_create_reply(&checker, &answer, data,
						    size, &src, FUZZ_NOW) == 0);
	wgx_cookie_maker_wipe(&maker);
	return 0;
}
