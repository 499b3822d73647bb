// SPDX-License-Identifier: MIT
/* KDF1/2/3 against shared/vectors/kdf.json (wireguard-go's kdf_test.go). */
#include "test.h"

#include <stdio.h>

#include "core/crypto.h"

static void test_kdf_vectors(void)
{
	for (int i = 0; i < 3; i++) {
		uint8_t key[64], in[64], want[3][32], got[3][32], key32[32];
		char path[64];
		long klen, ilen;

		snprintf(path, sizeof(path), "vectors.%d.key", i);
		klen = wgx_vec_hex("kdf", path, key, sizeof(key));
		snprintf(path, sizeof(path), "vectors.%d.input", i);
		ilen = wgx_vec_hex("kdf", path, in, sizeof(in));
		for (int t = 0; t < 3; t++) {
			snprintf(path, sizeof(path), "vectors.%d.t%d", i, t);
			CHECK(wgx_vec_hex("kdf", path, want[t], 32) == 32);
		}
		/* WireGuard keys are 32 bytes; the vectors use shorter HMAC keys,
		 * which HMAC zero-pads, so pad here the same way. */
		CHECK(klen >= 0 && klen <= 32 && ilen >= 0);
		if (klen < 0 || klen > 32 || ilen < 0)
			return;
		memset(key32, 0, sizeof(key32));
		memcpy(key32, key, (size_t)klen);
		wgx_crypto_kdf(got[0], got[1], got[2], key32, in, (size_t)ilen);
		CHECK_MEM(got, want, sizeof(want));
		memset(got, 0, sizeof(got));
		wgx_crypto_kdf(got[0], NULL, NULL, key32, in, (size_t)ilen);
		CHECK_MEM(got[0], want[0], 32);
		CHECK(wgx_crypto_is_zero(got[1], 32));
	}
}

static const struct wgx_test kdf_tests[] = {
	{ "kdf: shared vectors KDF1/2/3", test_kdf_vectors },
};
WGX_SUITE(kdf_tests)
