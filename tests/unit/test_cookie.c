// SPDX-License-Identifier: MIT
/*
 * mac1/mac2 and cookie replies: mac1 against shared/vectors (handshake.json
 * and wireguard-go-initiation.json), then maker -> checker round trips with
 * time moved by hand, and every way a message or reply can be wrong.
 */
#include "test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/un.h>

#include "core/cookie.h"
#include "core/crypto.h"

#define NS 1000000000ULL
/* An arbitrary monotonic start, far from 0 so time can also go back. */
#define T0 (1000 * NS)

/* The answer for a good mac1 without a (checked, valid) mac2. */
#define NO WGX_COOKIE_VALID_MAC_BUT_NO_COOKIE

struct keys {
	uint8_t init_pub[32], resp_pub[32];
	uint8_t mac1_init[32], mac1_resp[32];
};

static bool load_keys(struct keys *k)
{
	return wgx_vec_hex("handshake", "inputs.initiator_static_public",
			   k->init_pub, 32) == 32 &&
	       wgx_vec_hex("handshake", "inputs.responder_static_public",
			   k->resp_pub, 32) == 32 &&
	       wgx_vec_hex("handshake", "mac1_key_initiator", k->mac1_init,
			   32) == 32 &&
	       wgx_vec_hex("handshake", "mac1_key_responder", k->mac1_resp,
			   32) == 32;
}

static bool load_msg(const char *file, const char *path, uint8_t *out,
		     size_t len)
{
	return wgx_vec_hex(file, path, out, len) == (long)len;
}

static struct wgx_cookie_src src4(uint8_t a, uint8_t b, uint8_t c, uint8_t d,
				  uint16_t port)
{
	struct wgx_cookie_src s = { .addr = { a, b, c, d }, .addr_len = 4 };

	s.port = port;
	return s;
}

static struct wgx_cookie_src src6(uint8_t last, uint16_t port)
{
	struct wgx_cookie_src s = { .addr = { 0x20, 0x01, 0x0d, 0xb8 },
				    .addr_len = 16 };

	s.addr[15] = last;
	s.port = port;
	return s;
}

/* A handshake message with random contents: only the header and index
 * matter to the macs. */
static void make_msg(uint8_t *msg, size_t len, uint32_t sender_index)
{
	wgx_crypto_random(msg, len);
	msg[0] = len == WGX_MSG_INITIATION_LEN ? WGX_MSG_INITIATION
					       : WGX_MSG_RESPONSE;
	msg[1] = msg[2] = msg[3] = 0;
	for (int i = 0; i < 4; i++)
		msg[4 + i] = (uint8_t)(sender_index >> (8 * i));
}

static const uint8_t *mac2_of(const uint8_t *msg, size_t len)
{
	return msg + len - 16;
}

/* A checker and maker for the same responder key, as two peers hold them. */
struct pair {
	struct wgx_cookie_checker checker;
	struct wgx_cookie_maker maker;
	uint8_t pub[32];
};

static void pair_init(struct pair *p)
{
	uint8_t priv[32];

	wgx_crypto_dh_generate(priv, p->pub);
	wgx_crypto_wipe(priv, sizeof(priv));
	wgx_cookie_checker_init(&p->checker);
	wgx_cookie_checker_set_public_key(&p->checker, p->pub);
	wgx_cookie_maker_init(&p->maker, p->pub);
}

static void pair_wipe(struct pair *p)
{
	wgx_cookie_checker_wipe(&p->checker);
	wgx_cookie_maker_wipe(&p->maker);
}

/* Send msg, be answered with a cookie for src, consume it: true if all went
 * as the protocol wants. */
static bool get_cookie(struct pair *p, uint8_t *msg, size_t len,
		       const struct wgx_cookie_src *src, uint64_t now)
{
	struct wgx_msg_cookie_reply reply;

	return wgx_cookie_add_macs(&p->maker, msg, len, now) == 0 &&
	       wgx_cookie_validate(&p->checker, msg, len, src, true, now) ==
		       NO &&
	       wgx_cookie_create_reply(&p->checker, &reply, msg, len, src,
				       now) == 0 &&
	       wgx_cookie_consume_reply(&p->maker, &reply, now);
}

static void test_vector_keys(void)
{
	struct wgx_cookie_checker c;
	struct wgx_cookie_maker m;
	uint8_t pub[32], want[32];
	struct keys k;

	if (!load_keys(&k)) {
		CHECK(!"handshake vectors");
		return;
	}
	wgx_cookie_checker_init(&c);
	wgx_cookie_checker_set_public_key(&c, k.resp_pub);
	CHECK_MEM(c.mac1_key, k.mac1_resp, 32);
	wgx_cookie_checker_set_public_key(&c, k.init_pub);
	CHECK_MEM(c.mac1_key, k.mac1_init, 32);
	wgx_cookie_maker_init(&m, k.resp_pub);
	CHECK_MEM(m.mac1_key, k.mac1_resp, 32);
	wgx_crypto_hash(want, "cookie--", 8, k.resp_pub, 32);
	CHECK_MEM(m.cookie_key, want, 32);
	wgx_cookie_checker_set_public_key(&c, k.resp_pub);
	CHECK_MEM(c.cookie_key, want, 32);

	CHECK(wgx_vec_hex("wireguard-go-initiation", "responder_static_public",
			  pub, 32) == 32);
	CHECK(wgx_vec_hex("wireguard-go-initiation", "mac1_key_responder", want,
			  32) == 32);
	wgx_cookie_checker_set_public_key(&c, pub);
	CHECK_MEM(c.mac1_key, want, 32);
	wgx_cookie_checker_wipe(&c);
	wgx_cookie_maker_wipe(&m);
}

/* Validate one vector message at a checker for pub; mac2 is zero in them. */
static void check_vector_msg(const char *path, size_t len, const char *mac1,
			     const uint8_t pub[32], const uint8_t wrong[32])
{
	struct wgx_cookie_src src = src4(192, 0, 2, 1, 51820);
	struct wgx_cookie_checker c;
	uint8_t msg[148], want[16];

	if (!load_msg("handshake", path, msg, len) ||
	    wgx_vec_hex("handshake", mac1, want, 16) != 16) {
		CHECK(!"vector message");
		return;
	}
	CHECK_MEM(msg + len - 32, want, 16);
	CHECK(wgx_crypto_is_zero(mac2_of(msg, len), 16));
	wgx_cookie_checker_init(&c);
	wgx_cookie_checker_set_public_key(&c, pub);
	CHECK(wgx_cookie_validate(&c, msg, len, NULL, false, T0) == NO);
	CHECK(wgx_cookie_validate(&c, msg, len, &src, true, T0) == NO);
	wgx_cookie_checker_set_public_key(&c, wrong);
	CHECK(wgx_cookie_validate(&c, msg, len, NULL, false, T0) ==
	      WGX_COOKIE_INVALID_MAC);
	wgx_cookie_checker_wipe(&c);
}

static void test_vector_messages(void)
{
	struct keys k;

	if (!load_keys(&k)) {
		CHECK(!"handshake vectors");
		return;
	}
	for (int i = 0; i < 2; i++) {
		char p[64], mac1[64];

		snprintf(p, sizeof(p), "cases.%d.initiation", i);
		snprintf(mac1, sizeof(mac1), "cases.%d.initiation_mac1", i);
		check_vector_msg(p, 148, mac1, k.resp_pub, k.init_pub);
		snprintf(p, sizeof(p), "cases.%d.response", i);
		snprintf(mac1, sizeof(mac1), "cases.%d.response_mac1", i);
		check_vector_msg(p, 92, mac1, k.init_pub, k.resp_pub);
	}
}

/* The maker, given a vector message with its macs zeroed, rewrites them. */
static void test_vector_maker(void)
{
	struct wgx_cookie_maker m;
	uint8_t want[148], msg[148];
	struct keys k;

	if (!load_keys(&k) ||
	    !load_msg("handshake", "cases.0.initiation", want, 148)) {
		CHECK(!"handshake vectors");
		return;
	}
	memcpy(msg, want, 148);
	memset(msg + 116, 0xee, 32);
	wgx_cookie_maker_init(&m, k.resp_pub);
	CHECK(wgx_cookie_add_macs(&m, msg, 148, T0) == 0);
	CHECK_MEM(msg, want, 148);

	if (!load_msg("handshake", "cases.1.response", want, 92)) {
		CHECK(!"handshake vectors");
		return;
	}
	memcpy(msg, want, 92);
	memset(msg + 60, 0xee, 32);
	wgx_cookie_maker_init(&m, k.init_pub);
	CHECK(wgx_cookie_add_macs(&m, msg, 92, T0) == 0);
	CHECK_MEM(msg, want, 92);
	wgx_cookie_maker_wipe(&m);
}

static void test_wireguard_go_initiation(void)
{
	struct wgx_cookie_src src = src4(10, 99, 0, 1, 40000);
	struct wgx_cookie_checker c;
	uint8_t msg[148], pub[32], other[32];

	if (!load_msg("wireguard-go-initiation", "initiation", msg, 148) ||
	    wgx_vec_hex("wireguard-go-initiation", "responder_static_public",
			pub, 32) != 32 ||
	    wgx_vec_hex("wireguard-go-initiation", "initiator_static_public",
			other, 32) != 32) {
		CHECK(!"wireguard-go vectors");
		return;
	}
	wgx_cookie_checker_init(&c);
	wgx_cookie_checker_set_public_key(&c, pub);
	CHECK(wgx_cookie_validate(&c, msg, 148, NULL, false, T0) == NO);
	CHECK(wgx_cookie_validate(&c, msg, 148, &src, true, T0) == NO);
	wgx_cookie_checker_set_public_key(&c, other);
	CHECK(wgx_cookie_validate(&c, msg, 148, NULL, false, T0) ==
	      WGX_COOKIE_INVALID_MAC);
	wgx_cookie_checker_wipe(&c);
}

static void test_wrong_public_key(void)
{
	struct wgx_cookie_maker wrong;
	struct pair p, q;
	uint8_t msg[148];

	pair_init(&p);
	pair_init(&q);
	make_msg(msg, 148, 7);
	/* Made for q's key, checked at p. */
	wgx_cookie_maker_init(&wrong, q.pub);
	CHECK(wgx_cookie_add_macs(&wrong, msg, 148, T0) == 0);
	CHECK(wgx_cookie_validate(&p.checker, msg, 148, NULL, false, T0) ==
	      WGX_COOKIE_INVALID_MAC);
	CHECK(wgx_cookie_validate(&q.checker, msg, 148, NULL, false, T0) == NO);
	wgx_cookie_maker_wipe(&wrong);
	pair_wipe(&p);
	pair_wipe(&q);
}

static void test_public_key_change(void)
{
	struct wgx_cookie_src src = src4(192, 0, 2, 1, 1);
	struct wgx_msg_cookie_reply reply;
	struct pair p, q;
	uint8_t a[148], b[148];

	pair_init(&p);
	pair_init(&q);
	make_msg(a, 148, 1);
	make_msg(b, 148, 2);
	CHECK(wgx_cookie_add_macs(&p.maker, a, 148, T0) == 0);
	CHECK(wgx_cookie_add_macs(&q.maker, b, 148, T0) == 0);
	CHECK(wgx_cookie_validate(&p.checker, a, 148, NULL, false, T0) == NO);
	wgx_cookie_checker_set_public_key(&p.checker, q.pub);
	CHECK(wgx_cookie_validate(&p.checker, a, 148, NULL, false, T0) ==
	      WGX_COOKIE_INVALID_MAC);
	CHECK(wgx_cookie_validate(&p.checker, b, 148, NULL, false, T0) == NO);
	/* Replies are now sealed under q's cookie key: p's maker refuses. */
	CHECK(wgx_cookie_create_reply(&p.checker, &reply, a, 148, &src, T0) ==
	      0);
	CHECK(!wgx_cookie_consume_reply(&p.maker, &reply, T0));
	CHECK(!p.maker.has_cookie);
	pair_wipe(&p);
	pair_wipe(&q);
}

static void test_no_identity(void)
{
	struct wgx_cookie_src src = src4(192, 0, 2, 1, 1);
	struct wgx_msg_cookie_reply reply;
	struct wgx_cookie_checker c;
	uint8_t msg[148], zero[32];
	struct pair p;

	pair_init(&p);
	make_msg(msg, 148, 3);
	CHECK(wgx_cookie_add_macs(&p.maker, msg, 148, T0) == 0);
	wgx_cookie_checker_init(&c);
	CHECK(wgx_cookie_validate(&c, msg, 148, NULL, false, T0) ==
	      WGX_COOKIE_INVALID_MAC);
	CHECK(wgx_cookie_create_reply(&c, &reply, msg, 148, &src, T0) ==
	      -ENOKEY);
	/* Removing the key fails closed again, even for a good message. */
	CHECK(wgx_cookie_validate(&p.checker, msg, 148, NULL, false, T0) == NO);
	wgx_cookie_checker_set_public_key(&p.checker, NULL);
	CHECK(wgx_cookie_validate(&p.checker, msg, 148, &src, true, T0) ==
	      WGX_COOKIE_INVALID_MAC);
	CHECK(wgx_crypto_is_zero(p.checker.mac1_key, 32));
	CHECK(wgx_cookie_create_reply(&p.checker, &reply, msg, 148, &src, T0) ==
	      -ENOKEY);
	/* A keyless checker must not fall back to an all-zero mac1 key. */
	memset(zero, 0, sizeof(zero));
	wgx_crypto_mac(msg + 116, zero, 32, msg, 116);
	CHECK(wgx_cookie_validate(&p.checker, msg, 148, NULL, false, T0) ==
	      WGX_COOKIE_INVALID_MAC);
	CHECK(wgx_cookie_validate(&c, msg, 148, NULL, false, T0) ==
	      WGX_COOKIE_INVALID_MAC);
	pair_wipe(&p);
}

/* The key handed to the XDP program is the vector's mac1 key, and none
 * (all zero, false) without an identity. */
static void test_mac1_key_export(void)
{
	struct wgx_cookie_checker c;
	uint8_t out[32];
	struct keys k;

	if (!load_keys(&k)) {
		CHECK(!"handshake vectors");
		return;
	}
	wgx_cookie_checker_init(&c);
	memset(out, 0xaa, sizeof(out));
	CHECK(!wgx_cookie_checker_mac1_key(&c, out));
	CHECK(wgx_crypto_is_zero(out, sizeof(out)));
	wgx_cookie_checker_set_public_key(&c, k.resp_pub);
	CHECK(wgx_cookie_checker_mac1_key(&c, out));
	CHECK_MEM(out, k.mac1_resp, 32);
	wgx_cookie_checker_set_public_key(&c, NULL);
	memset(out, 0xaa, sizeof(out));
	CHECK(!wgx_cookie_checker_mac1_key(&c, out));
	CHECK(wgx_crypto_is_zero(out, sizeof(out)));
	wgx_cookie_checker_wipe(&c);
}

static void test_wrong_lengths(void)
{
	/* Empty, short, the cookie reply's, one off either size, long. */
	static const size_t bad[] = { 0, 1, 31, 32, 64, 91, 93, 147, 149, 200 };
	struct wgx_cookie_src src = src4(192, 0, 2, 1, 1);
	struct wgx_msg_cookie_reply reply;
	struct wgx_cookie_maker before;
	uint8_t buf[200], copy[200];
	struct pair p;

	pair_init(&p);
	make_msg(buf, 148, 9);
	CHECK(wgx_cookie_add_macs(&p.maker, buf, 148, T0) == 0);
	CHECK(wgx_cookie_validate(&p.checker, buf, 148, NULL, false, T0) == NO);
	memcpy(&before, &p.maker, sizeof(before));
	memcpy(copy, buf, sizeof(buf));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(wgx_cookie_validate(&p.checker, buf, bad[i], NULL, false,
					  T0) == WGX_COOKIE_INVALID_MAC);
		CHECK(wgx_cookie_validate(&p.checker, buf, bad[i], &src, true,
					  T0) == WGX_COOKIE_INVALID_MAC);
		CHECK(wgx_cookie_add_macs(&p.maker, buf, bad[i], T0) ==
		      -EINVAL);
		CHECK(wgx_cookie_create_reply(&p.checker, &reply, buf, bad[i],
					      &src, T0) == -EINVAL);
	}
	CHECK_MEM(buf, copy, sizeof(buf));
	CHECK_MEM(&before, &p.maker, sizeof(before));
	CHECK(!p.checker.has_secret);
	/* A good initiation is not a good response: wrong mac offsets. */
	CHECK(wgx_cookie_validate(&p.checker, buf, 92, NULL, false, T0) ==
	      WGX_COOKIE_INVALID_MAC);
	pair_wipe(&p);
}

/* Every bit of everything mac1 covers, and mac1 itself, is covered. */
static void check_bit_flips(size_t len)
{
	struct wgx_cookie_src src = src4(198, 51, 100, 7, 51820);
	struct pair p;
	uint8_t msg[148];

	pair_init(&p);
	make_msg(msg, len, 0x01020304);
	CHECK(get_cookie(&p, msg, len, &src, T0));
	CHECK(wgx_cookie_add_macs(&p.maker, msg, len, T0) == 0);
	CHECK(wgx_cookie_validate(&p.checker, msg, len, &src, true, T0) ==
	      WGX_COOKIE_VALID_MAC_WITH_COOKIE);
	for (size_t i = 0; i < len - 16; i++) {
		for (int bit = 0; bit < 8; bit++) {
			msg[i] ^= (uint8_t)(1u << bit);
			CHECK(wgx_cookie_validate(&p.checker, msg, len, NULL,
						  false, T0) ==
			      WGX_COOKIE_INVALID_MAC);
			msg[i] ^= (uint8_t)(1u << bit);
		}
	}
	/* mac2 is outside mac1: a flip there only loses the cookie. */
	for (size_t i = len - 16; i < len; i++) {
		msg[i] ^= 0x80;
		CHECK(wgx_cookie_validate(&p.checker, msg, len, &src, true,
					  T0) == NO);
		msg[i] ^= 0x80;
	}
	CHECK(wgx_cookie_validate(&p.checker, msg, len, &src, true, T0) ==
	      WGX_COOKIE_VALID_MAC_WITH_COOKIE);
	pair_wipe(&p);
}

static void test_bit_flips(void)
{
	check_bit_flips(148);
	check_bit_flips(92);
}

static void check_round_trip(size_t len)
{
	struct wgx_cookie_src a = src4(203, 0, 113, 5, 51820);
	struct wgx_cookie_src other_addr = src4(203, 0, 113, 6, 51820);
	struct wgx_cookie_src other_port = src4(203, 0, 113, 5, 51821);
	struct wgx_cookie_src v6 = src6(5, 51820);
	struct wgx_msg_cookie_reply reply;
	uint8_t msg[148], want[16];
	uint64_t now = T0;
	struct pair p;

	pair_init(&p);
	make_msg(msg, len, 0xdeadbeef);
	CHECK(wgx_cookie_add_macs(&p.maker, msg, len, now) == 0);
	CHECK(wgx_crypto_is_zero(mac2_of(msg, len), 16));
	CHECK(wgx_cookie_validate(&p.checker, msg, len, &a, false, now) == NO);
	/* Under load without mac2: the caller answers with a reply. */
	CHECK(wgx_cookie_validate(&p.checker, msg, len, &a, true, now) == NO);
	CHECK(wgx_cookie_create_reply(&p.checker, &reply, msg, len, &a, now) ==
	      0);
	CHECK(reply.header.type == WGX_MSG_COOKIE_REPLY);
	CHECK(wgx_crypto_is_zero(reply.header.reserved, 3));
	CHECK(memcmp(&reply.receiver_index, msg + 4, 4) == 0);
	CHECK(wgx_cookie_consume_reply(&p.maker, &reply, now + NS));

	now += 2 * NS;
	CHECK(wgx_cookie_add_macs(&p.maker, msg, len, now) == 0);
	CHECK(!wgx_crypto_is_zero(mac2_of(msg, len), 16));
	/* mac2 = MAC(cookie, everything before mac2, mac1 included). */
	wgx_crypto_mac(want, p.maker.cookie, 16, msg, len - 16);
	CHECK_MEM(mac2_of(msg, len), want, 16);
	CHECK(wgx_cookie_validate(&p.checker, msg, len, &a, true, now) ==
	      WGX_COOKIE_VALID_MAC_WITH_COOKIE);
	/* Not under load, mac2 is not even looked at. */
	CHECK(wgx_cookie_validate(&p.checker, msg, len, &a, false, now) == NO);
	CHECK(wgx_cookie_validate(&p.checker, msg, len, &other_addr, true,
				  now) == NO);
	CHECK(wgx_cookie_validate(&p.checker, msg, len, &other_port, true,
				  now) == NO);
	CHECK(wgx_cookie_validate(&p.checker, msg, len, &v6, true, now) == NO);
	pair_wipe(&p);
}

static void test_round_trip(void)
{
	check_round_trip(148);
	check_round_trip(92);
}

static void test_round_trip_ipv6(void)
{
	struct wgx_cookie_src a = src6(1, 443), b = src6(2, 443);
	struct pair p;
	uint8_t msg[148];

	pair_init(&p);
	make_msg(msg, 148, 42);
	CHECK(get_cookie(&p, msg, 148, &a, T0));
	CHECK(wgx_cookie_add_macs(&p.maker, msg, 148, T0) == 0);
	CHECK(wgx_cookie_validate(&p.checker, msg, 148, &a, true, T0) ==
	      WGX_COOKIE_VALID_MAC_WITH_COOKIE);
	CHECK(wgx_cookie_validate(&p.checker, msg, 148, &b, true, T0) == NO);
	pair_wipe(&p);
}

/* Open a reply by hand and recompute the cookie from R_m: the exact bytes
 * hashed are the address then the big-endian port, as in the kernel. */
static void check_cookie_bytes(const struct wgx_cookie_src *src,
			       const uint8_t *in, size_t in_len)
{
	struct wgx_msg_cookie_reply reply, again;
	uint8_t key[32], cookie[16], want[16], cookie2[16];
	struct pair p;
	uint8_t msg[148];

	pair_init(&p);
	make_msg(msg, 148, 5);
	CHECK(wgx_cookie_add_macs(&p.maker, msg, 148, T0) == 0);
	CHECK(wgx_cookie_create_reply(&p.checker, &reply, msg, 148, src, T0) ==
	      0);
	wgx_crypto_hash(key, "cookie--", 8, p.pub, 32);
	CHECK(wgx_crypto_xaead_open(cookie, reply.encrypted_cookie, 32,
				    msg + 116, 16, reply.nonce, key));
	wgx_crypto_mac(want, p.checker.secret, 32, in, in_len);
	CHECK_MEM(cookie, want, 16);
	/* A second reply within the secret's life: same cookie, new nonce. */
	CHECK(wgx_cookie_create_reply(&p.checker, &again, msg, 148, src,
				      T0 + 119 * NS) == 0);
	CHECK(memcmp(again.nonce, reply.nonce, 24) != 0);
	CHECK(wgx_crypto_xaead_open(cookie2, again.encrypted_cookie, 32,
				    msg + 116, 16, again.nonce, key));
	CHECK_MEM(cookie2, cookie, 16);
	pair_wipe(&p);
}

static void test_cookie_bytes(void)
{
	static const uint8_t in4[] = { 192, 0, 2, 33, 0xca, 0x6c };
	static const uint8_t in6[] = { 0x20, 0x01, 0x0d, 0xb8, 0,    0,
				       0,    0,	   0,	 0,    0,    0,
				       0,    0,	   0,	 9,    0x01, 0xbb };
	struct wgx_cookie_src s4 = src4(192, 0, 2, 33, 51820);
	struct wgx_cookie_src s6 = src6(9, 443);

	check_cookie_bytes(&s4, in4, sizeof(in4));
	check_cookie_bytes(&s6, in6, sizeof(in6));
}

static void test_cookie_expiry(void)
{
	struct wgx_cookie_src a = src4(192, 0, 2, 1, 1000);
	uint64_t born = T0 + 3 * NS;
	struct pair p;
	uint8_t msg[148];

	pair_init(&p);
	make_msg(msg, 148, 11);
	CHECK(get_cookie(&p, msg, 148, &a, born));
	/* The secret was born at `born` too, so the checker still agrees. */
	CHECK(wgx_cookie_add_macs(&p.maker, msg, 148, born + 115 * NS - 1) ==
	      0);
	CHECK(!wgx_crypto_is_zero(mac2_of(msg, 148), 16));
	CHECK(wgx_cookie_validate(&p.checker, msg, 148, &a, true,
				  born + 115 * NS - 1) ==
	      WGX_COOKIE_VALID_MAC_WITH_COOKIE);
	CHECK(wgx_cookie_add_macs(&p.maker, msg, 148, born + 115 * NS) == 0);
	CHECK(wgx_crypto_is_zero(mac2_of(msg, 148), 16));
	CHECK(wgx_cookie_validate(&p.checker, msg, 148, &a, true,
				  born + 115 * NS) == NO);
	pair_wipe(&p);
}

static void test_secret_rotation(void)
{
	struct wgx_cookie_src a = src4(192, 0, 2, 1, 1000);
	uint8_t old_cookie[16], old_secret[32], msg[148], late[148];
	struct wgx_msg_cookie_reply reply;
	struct pair p;

	pair_init(&p);
	make_msg(msg, 148, 12);
	CHECK(get_cookie(&p, msg, 148, &a, T0));
	memcpy(old_cookie, p.maker.cookie, 16);
	memcpy(old_secret, p.checker.secret, 32);

	/* Made 114 s in with the old cookie: good until the secret is 120 s
	 * old, refused from then on. */
	memcpy(late, msg, 148);
	CHECK(wgx_cookie_add_macs(&p.maker, late, 148, T0 + 114 * NS) == 0);
	CHECK(wgx_cookie_validate(&p.checker, late, 148, &a, true,
				  T0 + 120 * NS - 1) ==
	      WGX_COOKIE_VALID_MAC_WITH_COOKIE);
	CHECK(wgx_cookie_validate(&p.checker, late, 148, &a, true,
				  T0 + 120 * NS) == NO);

	/* The next reply renews R_m: a new cookie, the old one dead. */
	CHECK(wgx_cookie_create_reply(&p.checker, &reply, late, 148, &a,
				      T0 + 120 * NS) == 0);
	CHECK(memcmp(p.checker.secret, old_secret, 32) != 0);
	CHECK(p.checker.secret_birth == T0 + 120 * NS);
	CHECK(wgx_cookie_validate(&p.checker, late, 148, &a, true,
				  T0 + 121 * NS) == NO);
	CHECK(wgx_cookie_consume_reply(&p.maker, &reply, T0 + 120 * NS));
	CHECK(memcmp(p.maker.cookie, old_cookie, 16) != 0);
	CHECK(wgx_cookie_add_macs(&p.maker, late, 148, T0 + 121 * NS) == 0);
	CHECK(wgx_cookie_validate(&p.checker, late, 148, &a, true,
				  T0 + 121 * NS) ==
	      WGX_COOKIE_VALID_MAC_WITH_COOKIE);
	pair_wipe(&p);
}

static void test_clock_backwards(void)
{
	struct wgx_cookie_src a = src4(192, 0, 2, 1, 1000);
	struct pair p;
	uint8_t msg[148];

	pair_init(&p);
	make_msg(msg, 148, 13);
	CHECK(get_cookie(&p, msg, 148, &a, T0));
	/* Time before a birth means "expired": fail closed on both sides. */
	CHECK(wgx_cookie_add_macs(&p.maker, msg, 148, T0 - 1) == 0);
	CHECK(wgx_crypto_is_zero(mac2_of(msg, 148), 16));
	CHECK(wgx_cookie_add_macs(&p.maker, msg, 148, T0) == 0);
	CHECK(wgx_cookie_validate(&p.checker, msg, 148, &a, true, T0) ==
	      WGX_COOKIE_VALID_MAC_WITH_COOKIE);
	CHECK(wgx_cookie_validate(&p.checker, msg, 148, &a, true, T0 - 1) ==
	      NO);
	pair_wipe(&p);
}

/* Checker side of the reply tests: one pair, message b sent last. */
struct reply_fixture {
	struct pair p;
	struct wgx_cookie_src src;
	uint8_t a[148], b[148];
	struct wgx_msg_cookie_reply reply_a, reply_b;
};

static void fixture_init(struct reply_fixture *f)
{
	pair_init(&f->p);
	f->src = src4(192, 0, 2, 77, 5555);
	/* Same sender index, different contents: only mac1 tells apart. */
	make_msg(f->a, 148, 77);
	make_msg(f->b, 148, 77);
	CHECK(wgx_cookie_add_macs(&f->p.maker, f->a, 148, T0) == 0);
	CHECK(wgx_cookie_create_reply(&f->p.checker, &f->reply_a, f->a, 148,
				      &f->src, T0) == 0);
	CHECK(wgx_cookie_add_macs(&f->p.maker, f->b, 148, T0) == 0);
	CHECK(wgx_cookie_create_reply(&f->p.checker, &f->reply_b, f->b, 148,
				      &f->src, T0) == 0);
}

/* A refused reply leaves the maker byte for byte as it was. */
static void check_refused(struct wgx_cookie_maker *m,
			  const struct wgx_msg_cookie_reply *reply)
{
	struct wgx_cookie_maker before;

	memcpy(&before, m, sizeof(before));
	CHECK(!wgx_cookie_consume_reply(m, reply, T0 + NS));
	CHECK_MEM(&before, m, sizeof(before));
}

static void test_reply_wrong_mac1(void)
{
	struct reply_fixture f;

	fixture_init(&f);
	check_refused(&f.p.maker, &f.reply_a);
	CHECK(!f.p.maker.has_cookie);
	CHECK(wgx_cookie_consume_reply(&f.p.maker, &f.reply_b, T0 + NS));
	CHECK(f.p.maker.has_cookie);
	CHECK(f.p.maker.cookie_birth == T0 + NS);
	pair_wipe(&f.p);
}

static void test_reply_wrong_receiver(void)
{
	struct wgx_msg_cookie_reply r;
	struct reply_fixture f;

	fixture_init(&f);
	memcpy(&r, &f.reply_b, sizeof(r));
	r.receiver_index ^= 1;
	check_refused(&f.p.maker, &r);
	r.receiver_index ^= 1;
	CHECK(wgx_cookie_consume_reply(&f.p.maker, &r, T0 + NS));
	pair_wipe(&f.p);
}

static void test_reply_tampered(void)
{
	struct wgx_msg_cookie_reply r;
	struct reply_fixture f;
	uint8_t *bytes = (uint8_t *)&r;

	fixture_init(&f);
	/* Header, nonce and ciphertext: every byte matters. */
	for (size_t i = 0; i < sizeof(r); i++) {
		if (i >= 4 && i < 8)
			continue; /* receiver index: its own test */
		memcpy(&r, &f.reply_b, sizeof(r));
		bytes[i] ^= 0x01;
		check_refused(&f.p.maker, &r);
	}
	CHECK(wgx_cookie_consume_reply(&f.p.maker, &f.reply_b, T0 + NS));
	pair_wipe(&f.p);
}

static void test_reply_before_send(void)
{
	struct wgx_cookie_src src = src4(192, 0, 2, 1, 1);
	struct wgx_msg_cookie_reply reply;
	struct wgx_cookie_maker other;
	struct pair p;
	uint8_t msg[148];

	pair_init(&p);
	/* Another maker for the same key sent the message; ours sent none. */
	wgx_cookie_maker_init(&other, p.pub);
	make_msg(msg, 148, 21);
	CHECK(wgx_cookie_add_macs(&other, msg, 148, T0) == 0);
	CHECK(wgx_cookie_create_reply(&p.checker, &reply, msg, 148, &src, T0) ==
	      0);
	check_refused(&p.maker, &reply);
	CHECK(!p.maker.has_cookie);
	CHECK(wgx_cookie_consume_reply(&other, &reply, T0));
	wgx_cookie_maker_wipe(&other);
	pair_wipe(&p);
}

static void test_reply_replayed(void)
{
	struct reply_fixture f;
	uint8_t cookie[16];

	fixture_init(&f);
	CHECK(wgx_cookie_consume_reply(&f.p.maker, &f.reply_b, T0 + NS));
	memcpy(cookie, f.p.maker.cookie, 16);
	check_refused(&f.p.maker, &f.reply_b);
	CHECK_MEM(f.p.maker.cookie, cookie, 16);
	CHECK(f.p.maker.cookie_birth == T0 + NS);
	pair_wipe(&f.p);
}

static void test_bad_source(void)
{
	struct wgx_cookie_src bad = src4(192, 0, 2, 1, 1);
	struct wgx_msg_cookie_reply reply;
	struct pair p;
	uint8_t msg[148];

	pair_init(&p);
	make_msg(msg, 148, 31);
	CHECK(wgx_cookie_add_macs(&p.maker, msg, 148, T0) == 0);
	bad.addr_len = 5;
	CHECK(wgx_cookie_validate(&p.checker, msg, 148, &bad, true, T0) ==
	      WGX_COOKIE_INVALID_MAC);
	CHECK(wgx_cookie_validate(&p.checker, msg, 148, NULL, true, T0) ==
	      WGX_COOKIE_INVALID_MAC);
	CHECK(wgx_cookie_validate(&p.checker, msg, 148, &bad, false, T0) == NO);
	CHECK(wgx_cookie_create_reply(&p.checker, &reply, msg, 148, &bad, T0) ==
	      -EINVAL);
	CHECK(wgx_cookie_create_reply(&p.checker, &reply, msg, 148, NULL, T0) ==
	      -EINVAL);
	CHECK(!p.checker.has_secret);
	pair_wipe(&p);
}

static void test_src_from_sockaddr(void)
{
	struct sockaddr_in6 in6 = { .sin6_family = AF_INET6 };
	struct sockaddr_in in = { .sin_family = AF_INET };
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	struct wgx_cookie_src s;

	in.sin_port = htons(51820);
	CHECK(inet_pton(AF_INET, "192.0.2.10", &in.sin_addr) == 1);
	CHECK(wgx_cookie_src_from_sockaddr(&s, (struct sockaddr *)&in,
					   sizeof(in)) == 0);
	CHECK(s.addr_len == 4 && s.port == 51820);
	CHECK(s.addr[0] == 192 && s.addr[3] == 10);
	CHECK(wgx_cookie_src_from_sockaddr(&s, (struct sockaddr *)&in,
					   sizeof(in) - 1) == -EINVAL);

	in6.sin6_port = htons(443);
	CHECK(inet_pton(AF_INET6, "2001:db8::9", &in6.sin6_addr) == 1);
	CHECK(wgx_cookie_src_from_sockaddr(&s, (struct sockaddr *)&in6,
					   sizeof(in6)) == 0);
	CHECK(s.addr_len == 16 && s.port == 443);
	CHECK(s.addr[0] == 0x20 && s.addr[15] == 9);
	CHECK(wgx_cookie_src_from_sockaddr(&s, (struct sockaddr *)&in6,
					   sizeof(in6) - 1) == -EINVAL);

	/* IPv4-mapped: the same source as the plain IPv4 address. */
	CHECK(inet_pton(AF_INET6, "::ffff:192.0.2.10", &in6.sin6_addr) == 1);
	CHECK(wgx_cookie_src_from_sockaddr(&s, (struct sockaddr *)&in6,
					   sizeof(in6)) == 0);
	CHECK(s.addr_len == 4 && s.addr[0] == 192 && s.addr[3] == 10);

	CHECK(wgx_cookie_src_from_sockaddr(&s, (struct sockaddr *)&un,
					   sizeof(un)) == -EAFNOSUPPORT);
	CHECK(wgx_cookie_src_from_sockaddr(&s, NULL, 0) == -EINVAL);
	CHECK(wgx_cookie_src_from_sockaddr(&s, (struct sockaddr *)&in, 1) ==
	      -EINVAL);
}

static void test_wipe(void)
{
	struct wgx_cookie_src a = src4(192, 0, 2, 1, 1);
	struct pair p;
	uint8_t msg[148];

	pair_init(&p);
	make_msg(msg, 148, 41);
	CHECK(get_cookie(&p, msg, 148, &a, T0));
	CHECK(!wgx_crypto_is_zero(p.checker.secret, 32));
	CHECK(!wgx_crypto_is_zero(p.maker.cookie, 16));
	pair_wipe(&p);
	CHECK(wgx_crypto_is_zero(&p.checker, sizeof(p.checker)));
	CHECK(wgx_crypto_is_zero(&p.maker, sizeof(p.maker)));
	/* A wiped checker has no identity: it fails closed. */
	CHECK(wgx_cookie_validate(&p.checker, msg, 148, NULL, false, T0) ==
	      WGX_COOKIE_INVALID_MAC);
}

static const struct wgx_test cookie_tests[] = {
	{ "cookie: mac1 keys match shared vectors", test_vector_keys },
	{ "cookie: shared vector messages validate", test_vector_messages },
	{ "cookie: maker reproduces vector mac1", test_vector_maker },
	{ "cookie: wireguard-go initiation validates",
	  test_wireguard_go_initiation },
	{ "cookie: wrong public key fails mac1", test_wrong_public_key },
	{ "cookie: public key change recomputes keys", test_public_key_change },
	{ "cookie: no identity fails closed", test_no_identity },
	{ "cookie: mac1 key for XDP is the vector's, none without identity",
	  test_mac1_key_export },
	{ "cookie: wrong lengths rejected", test_wrong_lengths },
	{ "cookie: bit flips break mac1", test_bit_flips },
	{ "cookie: round trip under load", test_round_trip },
	{ "cookie: round trip over IPv6", test_round_trip_ipv6 },
	{ "cookie: cookie hashes address and big-endian port",
	  test_cookie_bytes },
	{ "cookie: held cookie expires after 115 s", test_cookie_expiry },
	{ "cookie: secret rotation after 120 s", test_secret_rotation },
	{ "cookie: clock going backwards fails closed", test_clock_backwards },
	{ "cookie: reply for another mac1 rejected", test_reply_wrong_mac1 },
	{ "cookie: reply with wrong receiver index rejected",
	  test_reply_wrong_receiver },
	{ "cookie: tampered reply rejected", test_reply_tampered },
	{ "cookie: reply before any message rejected", test_reply_before_send },
	{ "cookie: replayed reply rejected", test_reply_replayed },
	{ "cookie: bad source address rejected", test_bad_source },
	{ "cookie: source from sockaddr", test_src_from_sockaddr },
	{ "cookie: wipe clears secrets", test_wipe },
};
WGX_SUITE(cookie_tests)
