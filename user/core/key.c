// SPDX-License-Identifier: MIT
/*
 * Key text codecs: libsodium's constant-time encoders and hex decoder, and
 * a base64 decoder of our own with wg(8)'s exact rules.
 */
#include "core/key.h"

#include <sodium.h>
#include <string.h>

void wgx_key_to_base64(char out[WGX_KEY_BASE64_LEN + 1],
		       const uint8_t key[WGX_KEY_LEN])
{
	sodium_bin2base64(out, WGX_KEY_BASE64_LEN + 1, key, WGX_KEY_LEN,
			  sodium_base64_VARIANT_ORIGINAL);
}

/* All ones when lo <= c <= hi, else 0; no branch on c. */
static uint32_t in_range(uint32_t c, uint32_t lo, uint32_t hi)
{
	return 0U - (((lo - 1 - c) & (c - hi - 1)) >> 31);
}

/* One character's 6 bits; *bad gets bit 0 set if c is not base64. */
static uint32_t b64_value(unsigned char ch, uint32_t *bad)
{
	uint32_t c = ch, upper = in_range(c, 'A', 'Z'),
		 lower = in_range(c, 'a', 'z'), digit = in_range(c, '0', '9'),
		 plus = in_range(c, '+', '+'), slash = in_range(c, '/', '/');

	*bad |= ~(upper | lower | digit | plus | slash) & 1;
	return (upper & (c - 'A')) | (lower & (c - 'a' + 26)) |
	       (digit & (c - '0' + 52)) | (plus & 62) | (slash & 63);
}

/*
 * Our own decoder: libsodium's sodium_base642bin() takes some bytes >= 0x80
 * for letters (signed char arithmetic), which wg refuses. Constant time
 * in the key: only the length and the final '=' are checked with branches.
 */
bool wgx_key_from_base64(uint8_t key[WGX_KEY_LEN], const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	uint32_t bad = 0, v;
	size_t i, o = 0;

	if (strlen(s) != WGX_KEY_BASE64_LEN ||
	    s[WGX_KEY_BASE64_LEN - 1] != '=') {
		sodium_memzero(key, WGX_KEY_LEN);
		return false;
	}
	for (i = 0; i + 4 < WGX_KEY_BASE64_LEN; i += 4) {
		v = b64_value(u[i], &bad) << 18 |
		    b64_value(u[i + 1], &bad) << 12 |
		    b64_value(u[i + 2], &bad) << 6 | b64_value(u[i + 3], &bad);
		key[o++] = (uint8_t)(v >> 16);
		key[o++] = (uint8_t)(v >> 8);
		key[o++] = (uint8_t)v;
	}
	/* Three characters, 18 bits, for the last two bytes. */
	v = b64_value(u[i], &bad) << 12 | b64_value(u[i + 1], &bad) << 6 |
	    b64_value(u[i + 2], &bad);
	bad |= ((v & 3) + 3) >> 2; /* unused bits set: non-canonical */
	key[o++] = (uint8_t)(v >> 10);
	key[o] = (uint8_t)(v >> 2);
	if (bad) {
		sodium_memzero(key, WGX_KEY_LEN);
		return false;
	}
	return true;
}

static bool is_base64_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '+' || c == '/';
}

const char *wgx_key_base64_error(const char *s)
{
	size_t len = strlen(s), i;
	uint8_t key[WGX_KEY_LEN];

	if (len != WGX_KEY_BASE64_LEN)
		return len < WGX_KEY_BASE64_LEN ? "too short" : "too long";
	for (i = 0; i < WGX_KEY_BASE64_LEN - 1; i++)
		if (!is_base64_char(s[i]))
			return "a character is not base64";
	if (s[WGX_KEY_BASE64_LEN - 1] != '=')
		return "the last character must be '='";
	if (!wgx_key_from_base64(key, s))
		return "non-canonical encoding (the last character before "
		       "'=' has unused bits set)";
	sodium_memzero(key, sizeof(key));
	return NULL;
}

void wgx_key_to_hex(char out[WGX_KEY_HEX_LEN + 1],
		    const uint8_t key[WGX_KEY_LEN])
{
	sodium_bin2hex(out, WGX_KEY_HEX_LEN + 1, key, WGX_KEY_LEN);
}

bool wgx_key_from_hex(uint8_t key[WGX_KEY_LEN], const char *s)
{
	const char *end = NULL;
	size_t len = 0;

	if (strlen(s) != WGX_KEY_HEX_LEN ||
	    sodium_hex2bin(key, WGX_KEY_LEN, s, WGX_KEY_HEX_LEN, NULL, &len,
			   &end) ||
	    len != WGX_KEY_LEN || end != s + WGX_KEY_HEX_LEN) {
		sodium_memzero(key, WGX_KEY_LEN);
		return false;
	}
	return true;
}
