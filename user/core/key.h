/* SPDX-License-Identifier: MIT */
/*
 * WireGuard key text: 32 bytes as 44 characters of standard base64 with one
 * '=' of padding (config files, genkey/pubkey), or as 64 hex digits (the
 * UAPI socket). Decoding is exact like wg(8): the wrong length, a character
 * outside the alphabet, a missing '=' and a last character whose two unused
 * bits are not zero (a non-canonical encoding) are all refused. Encoding and
 * decoding run in constant time because the text is often a private key.
 */
#ifndef WGX_KEY_H
#define WGX_KEY_H

#include <stdbool.h>
#include <stdint.h>

#include "core/crypto.h"
#include "wgx_wire.h"

enum wgx_key_text {
	WGX_KEY_BASE64_LEN = 44, /* characters, without the NUL */
	WGX_KEY_HEX_LEN = 64,
};

void wgx_key_to_base64(char out[WGX_KEY_BASE64_LEN + 1],
		       const uint8_t key[WGX_KEY_LEN]);
/* s must be NUL-terminated; on failure key is zeroed. */
WGX_MUST_CHECK bool wgx_key_from_base64(uint8_t key[WGX_KEY_LEN],
					const char *s);
/*
 * Why s is not a valid base64 key, for error messages (NULL when it is).
 * Not constant time: call it only after wgx_key_from_base64() failed.
 */
const char *wgx_key_base64_error(const char *s);

/* Lower-case hex, as the UAPI writes it; decoding accepts either case. */
void wgx_key_to_hex(char out[WGX_KEY_HEX_LEN + 1],
		    const uint8_t key[WGX_KEY_LEN]);
WGX_MUST_CHECK bool wgx_key_from_hex(uint8_t key[WGX_KEY_LEN], const char *s);

#endif
