// SPDX-License-Identifier: MIT
/*
 * The transport AEAD's back ends (OpenSSL, libsodium, and "auto", which
 * switches between them at WGX_AEAD_AUTO_MIN_LEN): identical bytes, RFC
 * 8439 A.5, in place, tampering, wrong counter or key, empty plaintext,
 * and choosing a back end by name.
 */
#include "test.h"

#include <errno.h>

#include "core/aead.h"

static const enum wgx_aead_backend backends[] = {
	WGX_AEAD_OPENSSL,
	WGX_AEAD_SODIUM,
	WGX_AEAD_AUTO,
};
enum {
	NB = sizeof(backends) / sizeof(backends[0])
};

static bool open_all(struct wgx_aead *a[NB])
{
	bool ok = true;

	for (int i = 0; i < NB; i++) {
		a[i] = wgx_aead_new(backends[i]);
		CHECK(a[i] != NULL);
		ok = ok && a[i];
	}
	return ok;
}

static void free_all(struct wgx_aead *a[NB])
{
	for (int i = 0; i < NB; i++)
		wgx_aead_free(a[i]);
}

/* Sizes worth trying: all small ones, a spread, and auto's switch point. */
static bool interesting(size_t len)
{
	size_t d = len > WGX_AEAD_AUTO_MIN_LEN ? len - WGX_AEAD_AUTO_MIN_LEN
					       : WGX_AEAD_AUTO_MIN_LEN - len;

	return len <= 300 || len % 97 == 0 || d <= 1 || len == 1420 ||
	       len == 1500;
}

/* Random keys, counters and lengths: all seal alike, each opens all. */
static void test_backends_agree(void)
{
	static uint8_t pt[1500], ct[NB][1500 + 16], back[1500];
	struct wgx_aead *a[NB];
	uint8_t key[32];

	if (!open_all(a))
		goto out;
	for (size_t len = 0; len <= 1500; len++) {
		uint64_t counter = (uint64_t)wgx_crypto_random_u32() << 32 |
				   wgx_crypto_random_u32();

		if (!interesting(len))
			continue;
		wgx_crypto_random(key, sizeof(key));
		wgx_crypto_random(pt, len);
		for (int i = 0; i < NB; i++)
			CHECK(wgx_aead_seal(a[i], ct[i], pt, len, counter,
					    key) == 0);
		for (int i = 1; i < NB; i++)
			CHECK_MEM(ct[0], ct[i], len + 16);
		for (int i = 0; i < NB; i++) {
			for (int j = 0; j < NB; j++) {
				memset(back, 0, len);
				CHECK(wgx_aead_open(a[i], back, ct[j], len + 16,
						    counter, key));
				CHECK_MEM(back, pt, len);
			}
		}
	}
out:
	free_all(a);
}

/* RFC 8439 appendix A.5: nonce 000000000102030405060708, with AAD. */
static const char a5_key[] =
	"1c9240a5eb55d38af333888604f6b5f0473917c1402b80099dca5cbc207075c0";
static const char a5_ad[] = "f33388860000000000004e91";
static const char a5_ct[] =
	"64a0861575861af460f062c79be643bd5e805cfd345cf389f108670ac76c8cb2"
	"4c6cfc18755d43eea09ee94e382d26b0bdb7b73c321b0100d4f03b7f355894cf"
	"332f830e710b97ce98c8a84abd0b948114ad176e008d33bd60f982b1ff37c855"
	"9797a06ef4f0ef61c186324e2b3506383606907b6a7c02b0f9f6157b53c867e4"
	"b9166c767b804d46a59b5216cde7a4e99040c5a40433225ee282a1b0a06c523e"
	"af4534d7f83fa1155b0047718cbc546a0d072b04b3564eea1b422273f548271a"
	"0bb2316053fa76991955ebd63159434ecebb4e466dae5a1073a6727627097a10"
	"49e617d91d361094fa68f0ff77987130305beaba2eda04df997b714d6c6f2c29"
	"a6ad5cb4022b02709b"
	"eead9d67890cbb22392336fea1851f38";
static const char a5_pt[] =
	"496e7465726e65742d4472616674732061726520647261667420646f63756d656e"
	"74732076616c696420666f722061206d6178696d756d206f6620736978206d6f6e"
	"74687320616e64206d617920626520757064617465642c207265706c616365642c"
	"206f72206f62736f6c65746564206279206f7468657220646f63756d656e747320"
	"617420616e792074696d652e20497420697320696e617070726f70726961746520"
	"746f2075736520496e7465726e65742d447261667473206173207265666572656e"
	"6365206d6174657269616c206f7220746f2063697465207468656d206f74686572"
	"207468616e206173202fe2809c776f726b20696e2070726f67726573732e2fe280"
	"9d";

static void test_rfc8439_a5(void)
{
	const uint64_t counter = 0x0807060504030201ULL;
	uint8_t key[32], ad[12], msg[265 + 16], pt[265], got[265 + 16];
	struct wgx_aead *a[NB];

	CHECK(wgx_hex_decode(key, 32, a5_key));
	CHECK(wgx_hex_decode(ad, 12, a5_ad));
	CHECK(wgx_hex_decode(msg, sizeof(msg), a5_ct));
	CHECK(wgx_hex_decode(pt, sizeof(pt), a5_pt));
	if (!open_all(a))
		goto out;
	for (int i = 0; i < NB; i++) {
		memset(got, 0, sizeof(got));
		CHECK(wgx_aead_open_ad(a[i], got, msg, sizeof(msg), ad, 12,
				       counter, key));
		CHECK_MEM(got, pt, sizeof(pt));
		memset(got, 0, sizeof(got));
		CHECK(wgx_aead_seal_ad(a[i], got, pt, sizeof(pt), ad, 12,
				       counter, key) == 0);
		CHECK_MEM(got, msg, sizeof(msg));
		/* Without the AAD the tag cannot match. */
		CHECK(!wgx_aead_open(a[i], got, msg, sizeof(msg), counter,
				     key));
	}
out:
	free_all(a);
}

/* In place, below and above auto's switch point. */
static void test_in_place(void)
{
	static const size_t lens[] = { 100, 1420 };
	uint8_t key[32], pt[1420], buf[1420 + 16], ref[1420 + 16];
	struct wgx_aead *a[NB];

	if (!open_all(a))
		goto out;
	wgx_crypto_random(key, sizeof(key));
	wgx_crypto_random(pt, sizeof(pt));
	for (int i = 0; i < NB; i++) {
		for (size_t k = 0; k < 2; k++) {
			size_t len = lens[k];

			CHECK(wgx_aead_seal(a[i], ref, pt, len, 77, key) == 0);
			memcpy(buf, pt, len);
			CHECK(wgx_aead_seal(a[i], buf, buf, len, 77, key) == 0);
			CHECK_MEM(buf, ref, len + 16);
			CHECK(wgx_aead_open(a[i], buf, buf, len + 16, 77, key));
			CHECK_MEM(buf, pt, len);
			/* The tag is left where it was. */
			CHECK_MEM(buf + len, ref + len, 16);
		}
	}
out:
	free_all(a);
}

/* Every single-bit flip of a short message, tag included, is refused. */
static void test_tamper(void)
{
	uint8_t key[32], pt[5] = { 'h', 'e', 'l', 'l', 'o' }, msg[5 + 16];
	uint8_t out[5];
	struct wgx_aead *a[NB];

	if (!open_all(a))
		goto out;
	wgx_crypto_random(key, sizeof(key));
	for (int i = 0; i < NB; i++) {
		int accepted = 0, leaked = 0;

		CHECK(wgx_aead_seal(a[i], msg, pt, sizeof(pt), 3, key) == 0);
		for (size_t bit = 0; bit < sizeof(msg) * 8; bit++) {
			msg[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			memset(out, 0xee, sizeof(out));
			accepted += wgx_aead_open(a[i], out, msg, sizeof(msg),
						  3, key);
			/* No forged plaintext is left behind either. */
			leaked += !wgx_crypto_is_zero(out, sizeof(out));
			msg[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		}
		CHECK(accepted == 0);
		CHECK(leaked == 0);
		CHECK(wgx_aead_open(a[i], out, msg, sizeof(msg), 3, key));
		CHECK_MEM(out, pt, sizeof(pt));
		/* One byte short. */
		CHECK(!wgx_aead_open(a[i], out, msg, sizeof(msg) - 1, 3, key));
	}
out:
	free_all(a);
}

static void test_wrong_counter_or_key(void)
{
	uint8_t key[32], other[32], pt[64], msg[64 + 16], out[64];
	struct wgx_aead *a[NB];

	if (!open_all(a))
		goto out;
	wgx_crypto_random(key, sizeof(key));
	memcpy(other, key, sizeof(key));
	other[31] ^= 1;
	wgx_crypto_random(pt, sizeof(pt));
	for (int i = 0; i < NB; i++) {
		CHECK(wgx_aead_seal(a[i], msg, pt, sizeof(pt), 1000, key) == 0);
		CHECK(!wgx_aead_open(a[i], out, msg, sizeof(msg), 999, key));
		CHECK(!wgx_aead_open(a[i], out, msg, sizeof(msg), 1001, key));
		CHECK(!wgx_aead_open(a[i], out, msg, sizeof(msg),
				     1000 | 1ULL << 32, key));
		CHECK(!wgx_aead_open(a[i], out, msg, sizeof(msg), 1000, other));
		/* The context is not left broken by a failure. */
		CHECK(wgx_aead_open(a[i], out, msg, sizeof(msg), 1000, key));
		CHECK_MEM(out, pt, sizeof(pt));
	}
out:
	free_all(a);
}

/* A keepalive: no plaintext, just a tag. */
static void test_empty(void)
{
	uint8_t key[32], tag[NB][16], out[1] = { 0x42 };
	struct wgx_aead *a[NB];

	if (!open_all(a))
		goto out;
	wgx_crypto_random(key, sizeof(key));
	for (int i = 0; i < NB; i++) {
		CHECK(wgx_aead_seal(a[i], tag[i], NULL, 0, 1, key) == 0);
		CHECK(!wgx_crypto_is_zero(tag[i], 16));
	}
	for (int i = 1; i < NB; i++)
		CHECK_MEM(tag[0], tag[i], 16);
	for (int i = 0; i < NB; i++) {
		CHECK(wgx_aead_open(a[i], out, tag[i], 16, 1, key));
		CHECK(out[0] == 0x42);
		CHECK(!wgx_aead_open(a[i], out, tag[i], 16, 2, key));
		CHECK(!wgx_aead_open(a[i], out, tag[i], 15, 1, key));
		CHECK(!wgx_aead_open(a[i], out, tag[i], 0, 1, key));
		tag[i][15] ^= 0x80;
		CHECK(!wgx_aead_open(a[i], out, tag[i], 16, 1, key));
	}
out:
	free_all(a);
}

static void test_names(void)
{
	enum wgx_aead_backend b = WGX_AEAD_SODIUM;
	struct wgx_aead *a;

	CHECK(WGX_AEAD_DEFAULT == WGX_AEAD_AUTO);
	CHECK(wgx_aead_backend_parse("openssl", &b) == 0);
	CHECK(b == WGX_AEAD_OPENSSL);
	CHECK(wgx_aead_backend_parse("sodium", &b) == 0);
	CHECK(b == WGX_AEAD_SODIUM);
	CHECK(wgx_aead_backend_parse("auto", &b) == 0);
	CHECK(b == WGX_AEAD_AUTO);
	CHECK(wgx_aead_backend_parse("sodium", &b) == 0);
	CHECK(wgx_aead_backend_parse("OpenSSL", &b) == -EINVAL);
	CHECK(wgx_aead_backend_parse("libsodium", &b) == -EINVAL);
	CHECK(wgx_aead_backend_parse("", &b) == -EINVAL);
	CHECK(wgx_aead_backend_parse("openssl ", &b) == -EINVAL);
	CHECK(wgx_aead_backend_parse(NULL, &b) == -EINVAL);
	CHECK(b == WGX_AEAD_SODIUM);
	CHECK(!strcmp(wgx_aead_backend_name(WGX_AEAD_SODIUM), "sodium"));
	CHECK(!strcmp(wgx_aead_backend_name((enum wgx_aead_backend)7),
		      "unknown"));
	CHECK(wgx_aead_new((enum wgx_aead_backend)7) == NULL);
	a = wgx_aead_new(WGX_AEAD_DEFAULT);
	CHECK(a && !strcmp(wgx_aead_name(a), "auto"));
	wgx_aead_free(a);
	a = wgx_aead_new(WGX_AEAD_OPENSSL);
	CHECK(a && !strcmp(wgx_aead_name(a), "openssl"));
	wgx_aead_free(a);
	a = wgx_aead_new(WGX_AEAD_SODIUM);
	CHECK(a && !strcmp(wgx_aead_name(a), "sodium"));
	wgx_aead_free(a);
	wgx_aead_free(NULL);
}

static const struct wgx_test aead_tests[] = {
	{ "aead: back ends produce identical bytes", test_backends_agree },
	{ "aead: RFC 8439 A.5 on both back ends", test_rfc8439_a5 },
	{ "aead: in-place seal and open", test_in_place },
	{ "aead: every bit flip is refused and wiped", test_tamper },
	{ "aead: wrong counter or key is refused", test_wrong_counter_or_key },
	{ "aead: zero-length plaintext", test_empty },
	{ "aead: back end names, parsing and default", test_names },
};
WGX_SUITE(aead_tests)
