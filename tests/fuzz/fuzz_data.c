// SPDX-License-Identifier: MIT
/*
 * Data decryption with a fixed session: any bytes as a data message to
 * the responder of handshake.json (psk case), whose receive key and
 * receiver index come from the vectors, so the vectors' own messages
 * decrypt. Opened whole (wgx_transport_open) and in the datapath's steps
 * (check, decrypt in place, finish), which must agree. The back end
 * follows the input's length, so every one of them sees input.
 */
#include "fuzz.h"

#include <errno.h>

#include "core/aead.h"
#include "core/crypto.h"
#include "core/transport.h"

static struct wgx_aead *aead[3];
static struct wgx_keypair base;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	FUZZ_ASSERT(wgx_crypto_init() == 0);
	fuzz_vec("handshake", "cases.1.initiator_send_key", base.recv_key, 32);
	fuzz_vec("handshake", "cases.1.initiator_receive_key", base.send_key,
		 32);
	base.local_index =
		fuzz_vec_u32("handshake", "inputs.responder_sender_index");
	base.remote_index =
		fuzz_vec_u32("handshake", "inputs.initiator_sender_index");
	base.birth_ns = FUZZ_NOW - 1000000000ULL;
	aead[0] = wgx_aead_new(WGX_AEAD_AUTO);
	aead[1] = wgx_aead_new(WGX_AEAD_SODIUM);
	aead[2] = wgx_aead_new(WGX_AEAD_OPENSSL);
	FUZZ_ASSERT(aead[0] && aead[1] && aead[2]);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wgx_aead *a = aead[size % 3];
	static struct wgx_keypair kp;
	uint8_t *msg, *out;
	int whole, step;

	if (size > 65536)
		return 0;
	msg = malloc(size + 1);
	out = malloc(size + 1);
	FUZZ_ASSERT(msg && out);
	memcpy(msg, data, size);
	kp = base;
	wgx_replay_init(&kp.replay);
	whole = wgx_transport_open(a, &kp, data, size, out, size, FUZZ_NOW);
	FUZZ_ASSERT(whole < 0 || (size_t)whole + 32 <= size);
	kp = base;
	wgx_replay_init(&kp.replay);
	step = wgx_transport_open_check(&kp, msg, size, FUZZ_NOW);
	if (!step) {
		if (wgx_transport_decrypt(a, &kp, msg, size))
			step = wgx_transport_open_finish(&kp, msg, size);
		else
			step = -EBADMSG;
	}
	/* Both ways reach the same verdict. */
	FUZZ_ASSERT((whole >= 0) == (step >= 0));
	FUZZ_ASSERT(whole < 0 || whole == step);
	free(msg);
	free(out);
	return 0;
}
