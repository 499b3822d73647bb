// SPDX-License-Identifier: MIT
/* Key text codecs: base64 exactly as wg(8) accepts it, and hex. */
#include "test.h"

#include "core/crypto.h"
#include "core/key.h"

static const char b64_0to31[] = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
static const char hex_0to31[] =
	"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

static void bytes_0to31(uint8_t k[WGX_KEY_LEN])
{
	for (int i = 0; i < WGX_KEY_LEN; i++)
		k[i] = (uint8_t)i;
}

static void test_known_answers(void)
{
	uint8_t k[WGX_KEY_LEN], got[WGX_KEY_LEN];
	char b64[WGX_KEY_BASE64_LEN + 1], hex[WGX_KEY_HEX_LEN + 1];

	bytes_0to31(k);
	wgx_key_to_base64(b64, k);
	CHECK(!strcmp(b64, b64_0to31));
	wgx_key_to_hex(hex, k);
	CHECK(!strcmp(hex, hex_0to31));
	CHECK(wgx_key_from_base64(got, b64_0to31));
	CHECK_MEM(got, k, WGX_KEY_LEN);
	memset(k, 0, sizeof(k));
	wgx_key_to_base64(b64, k);
	CHECK(!strcmp(b64, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="));
}

static void test_round_trip(void)
{
	uint8_t k[WGX_KEY_LEN], got[WGX_KEY_LEN];
	char b64[WGX_KEY_BASE64_LEN + 1], hex[WGX_KEY_HEX_LEN + 1];

	for (int i = 0; i < 200; i++) {
		wgx_crypto_random(k, sizeof(k));
		wgx_key_to_base64(b64, k);
		CHECK(strlen(b64) == WGX_KEY_BASE64_LEN);
		CHECK(wgx_key_from_base64(got, b64));
		CHECK_MEM(got, k, WGX_KEY_LEN);
		wgx_key_to_hex(hex, k);
		CHECK(strlen(hex) == WGX_KEY_HEX_LEN);
		CHECK(wgx_key_from_hex(got, hex));
		CHECK_MEM(got, k, WGX_KEY_LEN);
	}
}

/* The example pair of wg(8)'s documentation, derived here. */
static void test_wg_example_pair(void)
{
	uint8_t priv[WGX_KEY_LEN], pub[WGX_KEY_LEN];
	char b64[WGX_KEY_BASE64_LEN + 1];

	CHECK(wgx_key_from_base64(
		priv, "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk="));
	wgx_crypto_dh_public(pub, priv);
	wgx_key_to_base64(b64, pub);
	CHECK(!strcmp(b64, "HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw="));
}

static void test_bad_length(void)
{
	static const char *const bad[] = {
		"",
		"=",
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh=",
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8==",
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
		" AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8", /* no '=' */
		/* 45 bytes of valid base64 decode to more than 32 bytes */
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8AAAA=",
	};
	uint8_t k[WGX_KEY_LEN];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(k, 0xaa, sizeof(k));
		CHECK(!wgx_key_from_base64(k, bad[i]));
		CHECK(wgx_crypto_is_zero(k, sizeof(k))); /* wiped */
		CHECK(wgx_key_base64_error(bad[i]) != NULL);
	}
	CHECK(!strcmp(wgx_key_base64_error("AAAA="), "too short"));
	CHECK(!strcmp(wgx_key_base64_error(
			      "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=="),
		      "too long"));
}

static void test_bad_chars(void)
{
	/* '-' and '_' are base64url, which wg does not take. */
	static const char subst[] = { '-', '_',	 ' ', '=',
				      '.', '\t', '*', (char)0xc3 };
	char s[WGX_KEY_BASE64_LEN + 1];
	uint8_t k[WGX_KEY_LEN];

	for (size_t i = 0; i < sizeof(subst); i++) {
		for (size_t pos = 0; pos < WGX_KEY_BASE64_LEN - 1; pos += 7) {
			memcpy(s, b64_0to31, sizeof(s));
			s[pos] = subst[i];
			CHECK(!wgx_key_from_base64(k, s));
			CHECK(wgx_key_base64_error(s) != NULL);
		}
	}
	memcpy(s, b64_0to31, sizeof(s));
	s[WGX_KEY_BASE64_LEN - 1] = 'A';
	CHECK(!wgx_key_from_base64(k, s));
	CHECK(!strcmp(wgx_key_base64_error(s),
		      "the last character must be '='"));
	memcpy(s, b64_0to31, sizeof(s));
	s[3] = '!';
	CHECK(!strcmp(wgx_key_base64_error(s), "a character is not base64"));
	CHECK(wgx_key_base64_error(b64_0to31) == NULL);
}

/* libsodium's decoder takes some of these for letters; wg does not. */
static void test_high_bytes(void)
{
	char s[WGX_KEY_BASE64_LEN + 1];
	uint8_t k[WGX_KEY_LEN];

	for (int c = 0x80; c <= 0xff; c++) {
		for (size_t pos = 0; pos < WGX_KEY_BASE64_LEN - 1; pos += 5) {
			memcpy(s, b64_0to31, sizeof(s));
			s[pos] = (char)c;
			CHECK(!wgx_key_from_base64(k, s));
		}
	}
	for (int c = 1; c < 0x80; c++) {
		bool b64 = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			   (c >= '0' && c <= '9') || c == '+' || c == '/';

		memcpy(s, b64_0to31, sizeof(s));
		s[0] = (char)c;
		CHECK(wgx_key_from_base64(k, s) == b64);
	}
}

/*
 * The 43rd character carries 4 bits of the last byte and 2 unused bits;
 * wg refuses the text when those are not zero, so only every 4th letter
 * of the alphabet may stand there.
 */
static void test_non_canonical(void)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				       "abcdefghijklmnopqrstuvwxyz0123456789+/";
	char s[WGX_KEY_BASE64_LEN + 1];
	uint8_t k[WGX_KEY_LEN];
	int accepted = 0;

	for (int i = 0; i < 64; i++) {
		bool ok;

		memcpy(s, b64_0to31, sizeof(s));
		s[WGX_KEY_BASE64_LEN - 2] = alphabet[i];
		ok = wgx_key_from_base64(k, s);
		CHECK(ok == (i % 4 == 0));
		if (!ok)
			CHECK(strstr(wgx_key_base64_error(s),
				     "non-canonical") != NULL);
		accepted += ok;
	}
	CHECK(accepted == 16);
}

static void test_hex(void)
{
	uint8_t k[WGX_KEY_LEN], want[WGX_KEY_LEN];
	char s[WGX_KEY_HEX_LEN + 2];

	bytes_0to31(want);
	CHECK(wgx_key_from_hex(k, hex_0to31));
	CHECK_MEM(k, want, WGX_KEY_LEN);
	CHECK(wgx_key_from_hex(k, "000102030405060708090A0B0C0D0E0F101112131415"
				  "161718191A1B1C1D1E1F"));
	CHECK_MEM(k, want, WGX_KEY_LEN);
	memcpy(s, hex_0to31, WGX_KEY_HEX_LEN + 1);
	s[10] = 'g';
	CHECK(!wgx_key_from_hex(k, s));
	CHECK(wgx_crypto_is_zero(k, sizeof(k)));
	s[10] = ' ';
	CHECK(!wgx_key_from_hex(k, s));
	CHECK(!wgx_key_from_hex(k, ""));
	memcpy(s, hex_0to31, WGX_KEY_HEX_LEN + 1);
	s[WGX_KEY_HEX_LEN - 1] = '\0';
	CHECK(!wgx_key_from_hex(k, s)); /* 63 digits */
	memcpy(s, hex_0to31, WGX_KEY_HEX_LEN);
	s[WGX_KEY_HEX_LEN] = '0';
	s[WGX_KEY_HEX_LEN + 1] = '\0';
	CHECK(!wgx_key_from_hex(k, s)); /* 65 digits */
	CHECK(!wgx_key_from_hex(k, b64_0to31));
	memcpy(s, hex_0to31, WGX_KEY_HEX_LEN + 1);
	for (int c = 0x80; c <= 0xff; c++) {
		s[0] = (char)c;
		CHECK(!wgx_key_from_hex(k, s));
	}
}

static const struct wgx_test key_tests[] = {
	{ "key: base64 and hex known answers", test_known_answers },
	{ "key: base64 and hex round trip", test_round_trip },
	{ "key: wg(8) example private/public pair", test_wg_example_pair },
	{ "key: base64 of the wrong length refused", test_bad_length },
	{ "key: base64 with bad characters refused", test_bad_chars },
	{ "key: base64 with bytes >= 0x80 refused, ASCII exactly",
	  test_high_bytes },
	{ "key: base64 with non-canonical last character refused",
	  test_non_canonical },
	{ "key: hex decoding, both cases, bad input", test_hex },
};
WGX_SUITE(key_tests)
