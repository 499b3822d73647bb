// SPDX-License-Identifier: MIT
/*
 * Every primitive of user/core/crypto.c against published vectors: RFC 7693
 * (BLAKE2s), the BLAKE2 reference KAT (keyed BLAKE2s), RFC 8439
 * (ChaCha20-Poly1305), RFC 7748 (X25519), draft-irtf-cfrg-xchacha
 * (XChaCha20-Poly1305), plus TAI64N, low-order points and the
 * constant-time helpers. Hex below is as printed in those documents.
 */
#include "test.h"

#include <blake2.h>
#include <sodium.h>
#include <stdio.h>

#include "core/crypto.h"

static bool unhex(uint8_t *out, size_t len, const char *hex)
{
	bool ok = wgx_hex_decode(out, len, hex);

	CHECK(ok);
	return ok;
}

/* RFC 7693 appendix B: BLAKE2s-256("abc"). */
static void test_blake2s_abc(void)
{
	uint8_t want[32], got[32];

	unhex(want, 32,
	      "508c5e8c327c14e2e1a72ba34eeb452f"
	      "37458b209ed63a294d999b4c86675982");
	wgx_crypto_hash(got, "abc", 3, NULL, 0);
	CHECK_MEM(got, want, 32);
	/* HASH(a || b) must not depend on where the input is split. */
	memset(got, 0, sizeof(got));
	wgx_crypto_hash(got, "a", 1, "bc", 2);
	CHECK_MEM(got, want, 32);
}

/* RFC 7693 appendix E: the deterministic Fibonacci input generator. */
static void selftest_seq(uint8_t *out, size_t len, uint32_t seed)
{
	uint32_t a = 0xDEAD4BAD * seed, b = 1, t;

	for (size_t i = 0; i < len; i++) {
		t = a + b;
		a = b;
		b = t;
		out[i] = (uint8_t)(t >> 24);
	}
}

/* One self-test digest; the 32-byte unkeyed and 16-byte keyed ones go
 * through our wrappers, the other lengths straight to libb2. */
static void selftest_one(uint8_t *md, size_t outlen, const uint8_t *in,
			 size_t inlen, const uint8_t *key, size_t keylen)
{
	if (outlen == 32 && !keylen)
		wgx_crypto_hash(md, in, inlen, NULL, 0);
	else if (outlen == 16 && keylen)
		wgx_crypto_mac(md, key, keylen, in, inlen);
	else
		CHECK(blake2s(md, in, key, outlen, inlen, keylen) == 0);
}

/* RFC 7693 appendix E: hash of the 48 keyed and unkeyed digests. */
static void test_blake2s_selftest(void)
{
	static const size_t md_len[] = { 16, 20, 28, 32 };
	static const size_t in_len[] = { 0, 3, 64, 65, 255, 1024 };
	uint8_t in[1024], key[32], all[2 * 6 * (16 + 20 + 28 + 32)];
	uint8_t want[32], got[32];
	size_t pos = 0;

	unhex(want, 32,
	      "6a411f08ce25adcdfb02aba641451cec"
	      "53c598b24f4fc787fbdc88797f4c1dfe");
	for (size_t i = 0; i < 4; i++) {
		size_t outlen = md_len[i];

		for (size_t j = 0; j < 6; j++) {
			size_t inlen = in_len[j];

			selftest_seq(in, inlen, (uint32_t)inlen);
			selftest_one(all + pos, outlen, in, inlen, NULL, 0);
			pos += outlen;
			selftest_seq(key, outlen, (uint32_t)outlen);
			selftest_one(all + pos, outlen, in, inlen, key, outlen);
			pos += outlen;
		}
	}
	CHECK(pos == sizeof(all));
	wgx_crypto_hash(got, all, pos, NULL, 0);
	CHECK_MEM(got, want, 32);
}

/* BLAKE2 reference KAT (blake2s-kat.txt): key 00..1f, input 00..n-1. */
static void test_blake2s_keyed_kat(void)
{
	static const char *const want_hex[] = {
		"48a8997da407876b3d79c0d92325ad3b"
		"89cbb754d86ab71aee047ad345fd2c49",
		"40d15fee7c328830166ac3f918650f80"
		"7e7e01e177258cdc0a39b11f598066f1",
		"6bb71300644cd3991b26ccd4d274acd1"
		"adeab8b1d7914546c1198bbe9fc9d803",
	};
	uint8_t key[32], in[2] = { 0, 1 }, want[32], got[32];

	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)i;
	for (size_t n = 0; n < 3; n++) {
		unhex(want, 32, want_hex[n]);
		CHECK(blake2s(got, in, key, 32, n, 32) == 0);
		CHECK_MEM(got, want, 32);
	}
}

/*
 * MAC = keyed BLAKE2s-128. Known answers: Python hashlib.blake2s(b"abc",
 * key=bytes(range(32)), digest_size=16), and mac1 of the shared
 * handshake vector (keyed by HASH("mac1----" || responder public key)).
 */
static void test_mac(void)
{
	uint8_t key[32], want[16], got[16], pub[32], mac1_key[32];
	uint8_t init[WGX_MSG_INITIATION_LEN];

	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)i;
	unhex(want, 16, "61ba5f165c194692e09d12520cc4c74a");
	wgx_crypto_mac(got, key, 32, "abc", 3);
	CHECK_MEM(got, want, 16);

	CHECK(wgx_vec_hex("handshake", "inputs.responder_static_public", pub,
			  32) == 32);
	CHECK(wgx_vec_hex("handshake", "mac1_key_responder", key, 32) == 32);
	CHECK(wgx_vec_hex("handshake", "cases.0.initiation", init,
			  sizeof(init)) == (long)sizeof(init));
	CHECK(wgx_vec_hex("handshake", "cases.0.initiation_mac1", want, 16) ==
	      16);
	wgx_crypto_hash(mac1_key, "mac1----", 8, pub, 32);
	CHECK_MEM(mac1_key, key, 32);
	wgx_crypto_mac(got, mac1_key, 32, init,
		       offsetof(struct wgx_msg_initiation, macs));
	CHECK_MEM(got, want, 16);
	CHECK_MEM(init + offsetof(struct wgx_msg_initiation, macs), want, 16);
}

/*
 * HMAC-BLAKE2s (the KDF vectors in test_kdf.c cover short keys). These
 * were computed with Python's hmac.new(key, msg, hashlib.blake2s); the
 * first also appears in other WireGuard implementations' tests. The
 * 131-byte key exercises the "hash a key longer than a block" path.
 */
static void test_hmac(void)
{
	static const char fox[] = "The quick brown fox jumps over the lazy dog";
	static const char big[] =
		"Test Using Larger Than Block-Size Key - Hash Key First";
	uint8_t key[131], want[32], got[32];

	unhex(want, 32,
	      "f93215bb90d4af4c3061cd932fb169fb"
	      "8bb8a91d0b4022baea1271e1323cd9a0");
	wgx_crypto_hmac(got, (const uint8_t *)"key", 3, fox, strlen(fox));
	CHECK_MEM(got, want, 32);

	memset(key, 0xaa, sizeof(key));
	unhex(want, 32,
	      "d23d79394f53d536a096e6514447eeaa"
	      "bb05ded01be32c1937da6a8f7103bc4e");
	wgx_crypto_hmac(got, key, sizeof(key), big, strlen(big));
	CHECK_MEM(got, want, 32);
}

static const char rfc8439_sunscreen[] =
	"Ladies and Gentlemen of the class of '99: If I could offer you only "
	"one tip for the future, sunscreen would be it.";

/*
 * RFC 8439 section 2.8.2. Its nonce (07000000 4041424344454647) is not of
 * WireGuard's counter form, so libsodium is called directly here; the
 * counter mapping is tested with appendix A.5 below.
 */
static void test_aead_rfc8439_282(void)
{
	uint8_t key[32], nonce[12], ad[12], want[114 + 16], got[114 + 16];
	uint8_t back[114];
	unsigned long long n;

	CHECK(sizeof(rfc8439_sunscreen) - 1 == 114);
	unhex(key, 32,
	      "808182838485868788898a8b8c8d8e8f"
	      "909192939495969798999a9b9c9d9e9f");
	unhex(nonce, 12, "070000004041424344454647");
	unhex(ad, 12, "50515253c0c1c2c3c4c5c6c7");
	unhex(want, sizeof(want),
	      "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
	      "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
	      "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
	      "3ff4def08e4b7a9de576d26586cec64b6116"
	      "1ae10b594f09e26a7e902ecbd0600691");
	crypto_aead_chacha20poly1305_ietf_encrypt(
		got, &n, (const uint8_t *)rfc8439_sunscreen, 114, ad, 12, NULL,
		nonce, key);
	CHECK(n == sizeof(want));
	CHECK_MEM(got, want, sizeof(want));
	CHECK(crypto_aead_chacha20poly1305_ietf_decrypt(back, &n, NULL, want,
							sizeof(want), ad, 12,
							nonce, key) == 0);
	CHECK_MEM(back, rfc8439_sunscreen, 114);
}

/* RFC 8439 appendix A.5: ciphertext then tag. */
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
/* Nonce 00000000 0102030405060708 is WireGuard's form for this counter. */
static const uint64_t a5_counter = 0x0807060504030201ULL;

static void test_aead_rfc8439_a5(void)
{
	uint8_t key[32], ad[12], msg[265 + 16], got[265 + 16], pt[265];

	unhex(pt, sizeof(pt), a5_pt);
	CHECK_MEM(pt, "Internet-Drafts are draft documents", 35);
	unhex(key, 32, a5_key);
	unhex(ad, 12, a5_ad);
	unhex(msg, sizeof(msg), a5_ct);
	CHECK(wgx_crypto_aead_open(got, msg, sizeof(msg), ad, 12, a5_counter,
				   key));
	CHECK_MEM(got, pt, 265);
	memset(got, 0, sizeof(got));
	wgx_crypto_aead_seal(got, pt, 265, ad, 12, a5_counter, key);
	CHECK_MEM(got, msg, sizeof(msg));
	/* Any other counter is a different nonce. */
	CHECK(!wgx_crypto_aead_open(got, msg, sizeof(msg), ad, 12,
				    a5_counter + 1, key));
	CHECK(!wgx_crypto_aead_open(got, msg, sizeof(msg), ad, 12, 0x01020304,
				    key));
	CHECK(!wgx_crypto_aead_open(got, msg, 15, ad, 12, a5_counter, key));
}

/* draft-irtf-cfrg-xchacha-03 appendix A.3.1. */
static void test_xaead_draft(void)
{
	uint8_t key[32], nonce[24], ad[12], want[114 + 16], got[114 + 16];

	unhex(key, 32,
	      "808182838485868788898a8b8c8d8e8f"
	      "909192939495969798999a9b9c9d9e9f");
	unhex(nonce, 24, "404142434445464748494a4b4c4d4e4f5051525354555657");
	unhex(ad, 12, "50515253c0c1c2c3c4c5c6c7");
	unhex(want, sizeof(want),
	      "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb"
	      "731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b452"
	      "2f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff9"
	      "21f9664c97637da9768812f615c68b13b52e"
	      "c0875924c1c7987947deafd8780acf49");
	wgx_crypto_xaead_seal(got, (const uint8_t *)rfc8439_sunscreen, 114, ad,
			      12, nonce, key);
	CHECK_MEM(got, want, sizeof(want));
	memset(got, 0, sizeof(got));
	CHECK(wgx_crypto_xaead_open(got, want, sizeof(want), ad, 12, nonce,
				    key));
	CHECK_MEM(got, rfc8439_sunscreen, 114);
	want[0] ^= 1;
	CHECK(!wgx_crypto_xaead_open(got, want, sizeof(want), ad, 12, nonce,
				     key));
	want[0] ^= 1;
	CHECK(!wgx_crypto_xaead_open(got, want, sizeof(want), ad, 11, nonce,
				     key));
	CHECK(!wgx_crypto_xaead_open(got, want, 15, ad, 12, nonce, key));
}

/* RFC 7748 section 5.2: the two single X25519 vectors. */
static void test_x25519_rfc7748_52(void)
{
	static const char *const v[2][3] = {
		{ "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba44"
		  "9ac4",
		  "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab"
		  "1c4c",
		  "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a2"
		  "8552" },
		/* Its u has the top bit set: X25519 must ignore that bit. */
		{ "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918"
		  "ba0d",
		  "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715"
		  "a493",
		  "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac"
		  "7957" },
	};
	uint8_t k[32], u[32], want[32], got[32];

	for (int i = 0; i < 2; i++) {
		unhex(k, 32, v[i][0]);
		unhex(u, 32, v[i][1]);
		unhex(want, 32, v[i][2]);
		CHECK(wgx_crypto_dh(got, k, u));
		CHECK_MEM(got, want, 32);
	}
}

/* RFC 7748 section 5.2: k = u = 9; repeat (k, u) = (X25519(k, u), k). */
static void test_x25519_rfc7748_iterated(void)
{
	uint8_t k[32] = { 9 }, u[32] = { 9 }, r[32], want1[32], want1000[32];

	unhex(want1, 32,
	      "422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae307"
	      "9");
	unhex(want1000, 32,
	      "684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c5"
	      "1");
	for (int i = 1; i <= 1000; i++) {
		CHECK(wgx_crypto_dh(r, k, u));
		memcpy(u, k, 32);
		memcpy(k, r, 32);
		if (i == 1)
			CHECK_MEM(k, want1, 32);
	}
	CHECK_MEM(k, want1000, 32);
}

/* RFC 7748 section 6.1: Alice and Bob. */
static void test_x25519_rfc7748_61(void)
{
	uint8_t a[32], b[32], a_pub[32], b_pub[32], k[32], got[32];

	unhex(a, 32,
	      "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2"
	      "a");
	unhex(a_pub, 32,
	      "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6"
	      "a");
	unhex(b, 32,
	      "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0e"
	      "b");
	unhex(b_pub, 32,
	      "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4"
	      "f");
	unhex(k, 32,
	      "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e16174"
	      "2");
	wgx_crypto_dh_public(got, a);
	CHECK_MEM(got, a_pub, 32);
	wgx_crypto_dh_public(got, b);
	CHECK_MEM(got, b_pub, 32);
	memset(got, 0, 32);
	CHECK(wgx_crypto_dh(got, a, b_pub));
	CHECK_MEM(got, k, 32);
	memset(got, 0, 32);
	CHECK(wgx_crypto_dh(got, b, a_pub));
	CHECK_MEM(got, k, 32);
}

/* Generated pairs agree, and clamping is what RFC 7748 section 5 says. */
static void test_x25519_generate(void)
{
	uint8_t a[32], a_pub[32], b[32], b_pub[32], k1[32], k2[32], p[32];

	wgx_crypto_dh_generate(a, a_pub);
	wgx_crypto_dh_generate(b, b_pub);
	CHECK((a[0] & 7) == 0 && (a[31] & 0x80) == 0 && (a[31] & 0x40));
	CHECK(!wgx_crypto_equal(a_pub, b_pub, 32));
	wgx_crypto_dh_public(p, a);
	CHECK_MEM(p, a_pub, 32);
	CHECK(wgx_crypto_dh(k1, a, b_pub));
	CHECK(wgx_crypto_dh(k2, b, a_pub));
	CHECK_MEM(k1, k2, 32);
	memset(p, 0xff, 32);
	wgx_crypto_dh_clamp(p);
	CHECK(p[0] == 0xf8 && p[31] == 0x7f && p[1] == 0xff);
	memset(p, 0, 32);
	wgx_crypto_dh_clamp(p);
	CHECK(p[0] == 0 && p[31] == 0x40);
}

/*
 * Points of small order give an all-zero shared secret, which dh() must
 * refuse (and zero its output). u = 0, u = 1, a point of order 8, and
 * p - 1, p, p + 1 (non-canonical encodings of small-order points).
 */
static void test_x25519_low_order(void)
{
	static const char *const bad[] = {
		"00000000000000000000000000000000000000000000000000000000000000"
		"00",
		"01000000000000000000000000000000000000000000000000000000000000"
		"00",
		"e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b8"
		"00",
		"5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f11"
		"57",
		"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
		"7f",
		"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
		"7f",
		"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
		"7f",
	};
	uint8_t priv[32], pub[32], pt[32], out[32];

	wgx_crypto_dh_generate(priv, pub);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		unhex(pt, 32, bad[i]);
		memset(out, 0xa5, sizeof(out));
		CHECK(!wgx_crypto_dh(out, priv, pt));
		CHECK(wgx_crypto_is_zero(out, 32));
	}
	/* A proper public key still works with the same private key. */
	CHECK(wgx_crypto_dh(out, priv, pub));
	CHECK(!wgx_crypto_is_zero(out, 32));
}

/* TAI64N: 2^62 + 10 + seconds, big-endian; nanoseconds aligned to 2^24. */
static void test_tai64n(void)
{
	uint8_t got[12], want[12], prev[12];

	wgx_crypto_tai64n(got, 0, 0);
	unhex(want, 12, "400000000000000a00000000");
	CHECK_MEM(got, want, 12);
	/* 587202560 = 35 * 2^24 is kept; anything up to the next step is cut. */
	wgx_crypto_tai64n(got, 0, 587202560);
	unhex(want, 12, "400000000000000a23000000");
	CHECK_MEM(got, want, 12);
	wgx_crypto_tai64n(got, 0, 587202560 + 123);
	CHECK_MEM(got, want, 12);
	wgx_crypto_tai64n(got, 0, 587202560 + (1u << 24) - 1);
	CHECK_MEM(got, want, 12);
	wgx_crypto_tai64n(got, 0, (1u << 24) - 1);
	unhex(want, 12, "400000000000000a00000000");
	CHECK_MEM(got, want, 12);
	/* 999999999 ns rounds down to 59 * 2^24 = 0x3b000000. */
	wgx_crypto_tai64n(got, 1, 999999999);
	unhex(want, 12, "400000000000000b3b000000");
	CHECK_MEM(got, want, 12);
	/* The shared handshake vector's timestamp. */
	wgx_crypto_tai64n(got, 1700000000, 218103808);
	CHECK(wgx_vec_hex("handshake", "inputs.timestamp", want, 12) == 12);
	CHECK_MEM(got, want, 12);
	/* now() is after the vector's date and never goes backwards. */
	wgx_crypto_tai64n_now(prev);
	wgx_crypto_tai64n_now(got);
	CHECK(memcmp(got, want, 12) > 0);
	CHECK(memcmp(got, prev, 12) >= 0);
	CHECK((got[9] | got[10] | got[11]) == 0);
}

static void test_constant_time(void)
{
	uint8_t a[32], b[32];

	memset(a, 0x11, sizeof(a));
	memcpy(b, a, sizeof(b));
	CHECK(wgx_crypto_equal(a, b, 32));
	CHECK(wgx_crypto_equal(a, b, 0));
	for (int i = 0; i < 32; i++) {
		b[i] ^= 0x80;
		CHECK(!wgx_crypto_equal(a, b, 32));
		b[i] ^= 0x80;
	}
	b[31] ^= 1;
	CHECK(wgx_crypto_equal(a, b, 31));
	CHECK(!wgx_crypto_equal(a, b, 32));

	memset(a, 0, sizeof(a));
	CHECK(wgx_crypto_is_zero(a, 32));
	CHECK(wgx_crypto_is_zero(a, 0));
	for (int i = 0; i < 32; i++) {
		a[i] = 1;
		CHECK(!wgx_crypto_is_zero(a, 32));
		a[i] = 0;
	}
	memset(b, 0x5a, sizeof(b));
	wgx_crypto_wipe(b, sizeof(b));
	CHECK(wgx_crypto_is_zero(b, sizeof(b)));
}

static void test_random(void)
{
	uint8_t a[32] = { 0 }, b[32] = { 0 };
	uint32_t seen = 0;

	wgx_crypto_random(a, sizeof(a));
	wgx_crypto_random(b, sizeof(b));
	CHECK(!wgx_crypto_is_zero(a, 32));
	CHECK(!wgx_crypto_equal(a, b, 32));
	for (int i = 0; i < 1000; i++) {
		uint32_t r = wgx_crypto_random_below(7);

		CHECK(r < 7);
		seen |= 1u << r;
	}
	CHECK(seen == 0x7f);
	CHECK(wgx_crypto_random_u32() != wgx_crypto_random_u32() ||
	      wgx_crypto_random_u32() != wgx_crypto_random_u32());
}

static const struct wgx_test crypto_tests[] = {
	{ "crypto: BLAKE2s RFC 7693 appendix B", test_blake2s_abc },
	{ "crypto: BLAKE2s RFC 7693 appendix E self-test",
	  test_blake2s_selftest },
	{ "crypto: keyed BLAKE2s reference KAT", test_blake2s_keyed_kat },
	{ "crypto: MAC keyed BLAKE2s-128 and mac1 vector", test_mac },
	{ "crypto: HMAC-BLAKE2s known answers", test_hmac },
	{ "crypto: ChaCha20-Poly1305 RFC 8439 2.8.2", test_aead_rfc8439_282 },
	{ "crypto: ChaCha20-Poly1305 RFC 8439 A.5 counter nonce",
	  test_aead_rfc8439_a5 },
	{ "crypto: XChaCha20-Poly1305 draft A.3.1", test_xaead_draft },
	{ "crypto: X25519 RFC 7748 5.2 vectors", test_x25519_rfc7748_52 },
	{ "crypto: X25519 RFC 7748 5.2 iterated 1 and 1000",
	  test_x25519_rfc7748_iterated },
	{ "crypto: X25519 RFC 7748 6.1 Diffie-Hellman",
	  test_x25519_rfc7748_61 },
	{ "crypto: X25519 generate and clamp", test_x25519_generate },
	{ "crypto: X25519 low-order points rejected", test_x25519_low_order },
	{ "crypto: TAI64N encoding and coarsening", test_tai64n },
	{ "crypto: constant-time equal, is_zero, wipe", test_constant_time },
	{ "crypto: random", test_random },
};
WGX_SUITE(crypto_tests)
