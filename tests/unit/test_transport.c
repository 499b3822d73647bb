// SPDX-License-Identifier: MIT
/*
 * Data messages: padding at and around the MTU, round trips on every AEAD
 * back end, the shared vectors' messages byte for byte (and wireguard-go's
 * first data message), trimming, and one test per drop reason.
 */
#include "test.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/transport.h"

enum {
	MTU = 1420,
	BUF = 1600
};
static const uint64_t SEC = 1000000000ULL;
/* An arbitrary CLOCK_MONOTONIC birth time for test keypairs. */
static const uint64_t BIRTH = 5000 * 1000000000ULL;
static const enum wgx_aead_backend backends[] = {
	WGX_AEAD_OPENSSL,
	WGX_AEAD_SODIUM,
#ifdef WGX_HAVE_IPSECMB
	WGX_AEAD_IPSECMB,
#endif
	WGX_AEAD_AUTO,
};

enum {
	NB = sizeof(backends) / sizeof(backends[0])
};

/* A sender and a receiver sharing one direction's key. */
struct pair {
	struct wgx_keypair tx;
	struct wgx_keypair rx;
};

static void pair_init(struct pair *p)
{
	memset(p, 0, sizeof(*p));
	wgx_crypto_random(p->tx.send_key, WGX_KEY_LEN);
	memcpy(p->rx.recv_key, p->tx.send_key, WGX_KEY_LEN);
	atomic_store(&p->tx.send_counter, 0);
	atomic_store(&p->rx.send_counter, 0);
	wgx_replay_init(&p->tx.replay);
	wgx_replay_init(&p->rx.replay);
	p->tx.birth_ns = p->rx.birth_ns = BIRTH;
	p->tx.remote_index = p->rx.local_index = 0x11223344;
	p->rx.remote_index = p->tx.local_index = 0x55667788;
	p->tx.initiator = true;
}

/* An IPv4 packet of len bytes (len >= 20) with a matching total length. */
static void ipv4(uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 7 + 3);
	p[0] = 0x45;
	p[2] = (uint8_t)(len >> 8);
	p[3] = (uint8_t)len;
}

/* An IPv6 packet of len bytes (len >= 40): payload length = len - 40. */
static void ipv6(uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 13 + 1);
	p[0] = 0x60;
	p[4] = (uint8_t)((len - 40) >> 8);
	p[5] = (uint8_t)(len - 40);
}

/* One context per back end; false (after a failed CHECK) if any is missing. */
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

static struct wgx_aead *aead_default(void)
{
	struct wgx_aead *a = wgx_aead_new(WGX_AEAD_DEFAULT);

	CHECK(a != NULL);
	return a;
}

static uint64_t le64_at(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* Padded length for each inner length at MTU 1420, and the header. */
static void test_padding(void)
{
	static const struct {
		size_t len, padded;
	} cases[] = {
		{ 0, 0 },	{ 1, 16 },	{ 15, 16 },	{ 16, 16 },
		{ 17, 32 },	{ 84, 96 },	{ 1408, 1408 }, { 1409, 1420 },
		{ 1419, 1420 }, { 1420, 1420 },
	};
	uint8_t inner[MTU], out[BUF], plain[BUF];
	struct wgx_aead *a = aead_default();
	struct pair p;

	if (!a)
		return;
	pair_init(&p);
	wgx_crypto_random(inner, sizeof(inner));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = cases[i].len, padded = cases[i].padded;
		int n = wgx_transport_seal(a, &p.tx, inner, len, MTU, out,
					   sizeof(out), BIRTH);

		CHECK(n == (int)(32 + padded));
		CHECK(wgx_transport_wire_len(len, MTU) == 32 + padded);
		if (n != (int)(32 + padded))
			continue;
		CHECK(out[0] == 4 && out[1] == 0 && out[2] == 0 && out[3] == 0);
		CHECK(out[4] == 0x44 && out[5] == 0x33 && out[6] == 0x22 &&
		      out[7] == 0x11);
		CHECK(le64_at(out + 8) == i);
		/* Decrypt by hand: the inner packet, then zeros. */
		CHECK(wgx_aead_open(a, plain, out + 16, (size_t)n - 16, i,
				    p.tx.send_key));
		CHECK_MEM(plain, inner, len);
		CHECK(wgx_crypto_is_zero(plain + len, padded - len));
	}
	/* The full-size packet: 1452 bytes on the wire, not 1468. */
	CHECK(wgx_transport_wire_len(1420, 1420) == 1452);
	/* Other MTUs: capped at the MTU, else the next multiple of 16. */
	CHECK(wgx_transport_wire_len(1279, 1280) == 32 + 1280);
	CHECK(wgx_transport_wire_len(1490, 1500) == 32 + 1500);
	CHECK(wgx_transport_wire_len(1480, 1500) == 32 + 1488);
	CHECK(wgx_transport_wire_len(1, 1) == 32 + 1);
	wgx_aead_free(a);
}

/* Seal and open IPv4 and IPv6 packets on every pair of back ends. */
static void test_round_trip(void)
{
	static const size_t v4[] = { 20, 21, 84, 1419, 1420 };
	static const size_t v6[] = { 40, 41, 1280, 1419, 1420 };
	uint8_t inner[MTU], out[BUF], back[BUF];
	struct wgx_aead *a[NB];
	struct pair p;

	if (!open_all(a))
		goto out;
	pair_init(&p);
	for (int s = 0; s < NB; s++) {
		for (int r = 0; r < NB; r++) {
			for (size_t k = 0; k < 10; k++) {
				size_t len = k < 5 ? v4[k] : v6[k - 5];
				int n;

				if (k < 5)
					ipv4(inner, len);
				else
					ipv6(inner, len);
				n = wgx_transport_seal(a[s], &p.tx, inner, len,
						       MTU, out, sizeof(out),
						       BIRTH + SEC);
				CHECK(n ==
				      (int)wgx_transport_wire_len(len, MTU));
				memset(back, 0, sizeof(back));
				CHECK(wgx_transport_open(
					      a[r], &p.rx, out, (size_t)n, back,
					      sizeof(back),
					      BIRTH + SEC) == (int)len);
				CHECK_MEM(back, inner, len);
			}
		}
	}
out:
	free_all(a);
}

static uint64_t vec_u64(const char *file, const char *path)
{
	const char *s = wgx_vec_get(file, path);

	return s ? strtoull(s, NULL, 10) : 0;
}

/* Reproduce one vector message with seal and take it back with open. */
static void check_vector_message(struct wgx_aead *a, const uint8_t key[32],
				 uint32_t index, uint64_t counter,
				 const uint8_t *plain, long plain_len,
				 const uint8_t *msg, long msg_len)
{
	struct wgx_keypair kp;
	uint8_t out[BUF], back[BUF];
	int n;

	memset(&kp, 0, sizeof(kp));
	memcpy(kp.send_key, key, 32);
	memcpy(kp.recv_key, key, 32);
	kp.remote_index = kp.local_index = index;
	kp.birth_ns = BIRTH;
	wgx_replay_init(&kp.replay);
	atomic_store(&kp.send_counter, counter);
	n = wgx_transport_seal(a, &kp, plain, (size_t)plain_len, MTU, out,
			       sizeof(out), BIRTH);
	CHECK(n == msg_len);
	if (n == msg_len)
		CHECK_MEM(out, msg, (size_t)n);
	CHECK(atomic_load(&kp.send_counter) == counter + 1);
	n = wgx_transport_open(a, &kp, msg, (size_t)msg_len, back, sizeof(back),
			       BIRTH);
	CHECK(n == plain_len);
	if (n == plain_len)
		CHECK_MEM(back, plain, (size_t)n);
}

/* The shared handshake vectors' three data messages, in both cases. */
static void test_shared_vectors(void)
{
	uint8_t send[32], recv[32], plain[BUF], msg[BUF];
	struct wgx_aead *a[NB];
	char path[96];

	if (!open_all(a))
		goto out;
	for (int c = 0; c < 2; c++) {
		snprintf(path, sizeof(path), "cases.%d.initiator_send_key", c);
		CHECK(wgx_vec_hex("handshake", path, send, 32) == 32);
		snprintf(path, sizeof(path), "cases.%d.initiator_receive_key",
			 c);
		CHECK(wgx_vec_hex("handshake", path, recv, 32) == 32);
		for (int m = 0; m < 3; m++) {
			const char *pre = "cases.%d.transport.%d.%s";
			uint64_t counter, index, padded;
			long plen, mlen;
			const char *dir;

			snprintf(path, sizeof(path), pre, c, m, "plaintext");
			plen = wgx_vec_hex("handshake", path, plain,
					   sizeof(plain));
			snprintf(path, sizeof(path), pre, c, m, "message");
			mlen = wgx_vec_hex("handshake", path, msg, sizeof(msg));
			snprintf(path, sizeof(path), pre, c, m, "counter");
			counter = vec_u64("handshake", path);
			snprintf(path, sizeof(path), pre, c, m,
				 "receiver_index");
			index = vec_u64("handshake", path);
			snprintf(path, sizeof(path), pre, c, m,
				 "padded_length");
			padded = vec_u64("handshake", path);
			snprintf(path, sizeof(path), pre, c, m, "direction");
			dir = wgx_vec_get("handshake", path);
			CHECK(plen >= 0 && mlen == (long)(32 + padded));
			CHECK(dir != NULL);
			if (plen < 0 || mlen < 32 || !dir)
				continue;
			CHECK(wgx_transport_wire_len((size_t)plen, MTU) ==
			      (size_t)mlen);
			for (int b = 0; b < NB; b++)
				check_vector_message(
					a[b],
					!strcmp(dir, "initiator->responder")
						? send
						: recv,
					(uint32_t)index, counter, plain, plen,
					msg, mlen);
		}
	}
out:
	free_all(a);
}

/* wireguard-go's own first data message, sent under initiator_send_key. */
static void test_wireguard_go_message(void)
{
	const char *f = "wireguard-go-initiation";
	uint8_t key[32], plain[BUF], msg[BUF];
	struct wgx_aead *a = aead_default();
	long plen, mlen;
	uint64_t index;

	if (!a)
		return;
	CHECK(wgx_vec_hex(f, "initiator_send_key", key, 32) == 32);
	plen = wgx_vec_hex(f, "first_data.plaintext", plain, sizeof(plain));
	mlen = wgx_vec_hex(f, "first_data.message", msg, sizeof(msg));
	index = vec_u64(f, "response_sender_index");
	CHECK(plen > 0 && mlen > 32);
	if (plen > 0 && mlen > 32)
		check_vector_message(a, key, (uint32_t)index,
				     vec_u64(f, "first_data.counter"), plain,
				     plen, msg, mlen);
	wgx_aead_free(a);
}

/* Seal an arbitrary inner buffer, then open it on the receiving side. */
static int seal_open(struct wgx_aead *a, struct pair *p, const uint8_t *inner,
		     size_t len, uint8_t *back)
{
	uint8_t out[BUF];
	int n = wgx_transport_seal(a, &p->tx, inner, len, MTU, out, sizeof(out),
				   BIRTH);

	CHECK(n > 0);
	if (n <= 0)
		return n;
	return wgx_transport_open(a, &p->rx, out, (size_t)n, back, BUF, BIRTH);
}

/* Padding and any slack after the stated length are cut off. */
static void test_trim(void)
{
	uint8_t inner[200], back[BUF];
	struct wgx_aead *a = aead_default();
	struct pair p;

	if (!a)
		return;
	pair_init(&p);
	/* IPv4 stating 50 bytes inside 70: trimmed to 50. */
	ipv4(inner, 70);
	inner[2] = 0;
	inner[3] = 50;
	CHECK(seal_open(a, &p, inner, 70, back) == 50);
	CHECK_MEM(back, inner, 50);
	/* Exactly 20 (a bare header) is valid. */
	ipv4(inner, 20);
	CHECK(seal_open(a, &p, inner, 20, back) == 20);
	/* IPv6 with payload length 10: 50 bytes. */
	ipv6(inner, 100);
	inner[4] = 0;
	inner[5] = 10;
	CHECK(seal_open(a, &p, inner, 100, back) == 50);
	CHECK_MEM(back, inner, 50);
	/* An IPv6 header alone. */
	ipv6(inner, 40);
	CHECK(seal_open(a, &p, inner, 40, back) == 40);
	/* 41 bytes travel as 48 and come back as 41. */
	ipv6(inner, 41);
	CHECK(seal_open(a, &p, inner, 41, back) == 41);
	CHECK_MEM(back, inner, 41);
	wgx_aead_free(a);
}

/* Authenticated plaintexts that are not a usable IP packet. */
static void test_bad_inner(void)
{
	uint8_t inner[200], back[BUF];
	struct wgx_aead *a = aead_default();
	struct pair p;

	if (!a)
		return;
	pair_init(&p);
	ipv4(inner, 100);
	inner[0] = 0x55; /* version 5 */
	CHECK(seal_open(a, &p, inner, 100, back) == -EPROTONOSUPPORT);
	memset(inner, 0, sizeof(inner)); /* version 0 */
	CHECK(seal_open(a, &p, inner, 100, back) == -EPROTONOSUPPORT);
	/* Version 4 but the plaintext (16 bytes) cannot hold the header. */
	ipv4(inner, 20);
	CHECK(seal_open(a, &p, inner, 16, back) == -EPROTONOSUPPORT);
	/* Version 6 in a 32-byte plaintext. */
	ipv6(inner, 40);
	CHECK(seal_open(a, &p, inner, 32, back) == -EPROTONOSUPPORT);
	/*
	 * IPv4 stating more than the padded plaintext (112 bytes here). Up
	 * to 112 the receiver cannot tell padding from data, as in the kernel.
	 */
	ipv4(inner, 100);
	inner[2] = 0;
	inner[3] = 112;
	CHECK(seal_open(a, &p, inner, 100, back) == 112);
	inner[3] = 113;
	CHECK(seal_open(a, &p, inner, 100, back) == -EOVERFLOW);
	inner[2] = 0xff;
	CHECK(seal_open(a, &p, inner, 100, back) == -EOVERFLOW);
	/* IPv4 stating less than its own header. */
	inner[2] = 0;
	inner[3] = 19;
	CHECK(seal_open(a, &p, inner, 100, back) == -EOVERFLOW);
	/* IPv6 whose payload length runs past the plaintext. */
	ipv6(inner, 100);
	inner[5] = 112 - 40 + 1;
	CHECK(seal_open(a, &p, inner, 100, back) == -EOVERFLOW);
	wgx_aead_free(a);
}

static void test_keepalive(void)
{
	uint8_t out[BUF], back[BUF];
	struct wgx_aead *a = aead_default();
	struct pair p;
	int n;

	if (!a)
		return;
	pair_init(&p);
	n = wgx_transport_seal(a, &p.tx, NULL, 0, MTU, out, sizeof(out), BIRTH);
	CHECK(n == 32);
	CHECK(wgx_transport_open(a, &p.rx, out, 32, back, sizeof(back),
				 BIRTH) == 0);
	/* A keepalive needs no output room at all. */
	n = wgx_transport_seal(a, &p.tx, NULL, 0, MTU, out, 32, BIRTH);
	CHECK(n == 32);
	CHECK(wgx_transport_open(a, &p.rx, out, 32, back, 0, BIRTH) == 0);
	CHECK(wgx_transport_seal(a, &p.tx, NULL, 0, MTU, out, 31, BIRTH) ==
	      -ENOBUFS);
	wgx_aead_free(a);
}

/* inner at out + 16 and out at msg + 16: no copies. */
static void test_in_place(void)
{
	uint8_t buf[BUF], inner[MTU];
	struct wgx_aead *a = aead_default();
	struct pair p;
	int n;

	if (!a)
		return;
	pair_init(&p);
	ipv4(inner, 1000);
	memcpy(buf + 16, inner, 1000);
	n = wgx_transport_seal(a, &p.tx, buf + 16, 1000, MTU, buf, sizeof(buf),
			       BIRTH);
	CHECK(n == 32 + 1008);
	CHECK(wgx_transport_open(a, &p.rx, buf, (size_t)n, buf + 16,
				 sizeof(buf) - 16, BIRTH) == 1000);
	CHECK_MEM(buf + 16, inner, 1000);
	wgx_aead_free(a);
}

static void test_replayed(void)
{
	uint8_t inner[100], out[BUF], copy[BUF], back[BUF];
	struct wgx_aead *a = aead_default();
	struct pair p;
	int n;

	if (!a)
		return;
	pair_init(&p);
	ipv4(inner, 100);
	n = wgx_transport_seal(a, &p.tx, inner, 100, MTU, out, sizeof(out),
			       BIRTH);
	CHECK(n == 144);
	CHECK(wgx_transport_open(a, &p.rx, out, 144, back, sizeof(back),
				 BIRTH) == 100);
	CHECK(wgx_transport_open(a, &p.rx, out, 144, back, sizeof(back),
				 BIRTH) == -EALREADY);

	/* A forgery under a new counter must not move the window... */
	n = wgx_transport_seal(a, &p.tx, inner, 100, MTU, out, sizeof(out),
			       BIRTH);
	memcpy(copy, out, 144);
	copy[40] ^= 1;
	CHECK(wgx_transport_open(a, &p.rx, copy, 144, back, sizeof(back),
				 BIRTH) == -EBADMSG);
	/* ...so the genuine message with that counter is still accepted. */
	CHECK(wgx_transport_open(a, &p.rx, out, 144, back, sizeof(back),
				 BIRTH) == 100);
	CHECK(wgx_transport_open(a, &p.rx, out, 144, back, sizeof(back),
				 BIRTH) == -EALREADY);

	/* Far behind the window: refused even though never seen. */
	n = wgx_transport_seal(a, &p.tx, inner, 100, MTU, copy, sizeof(copy),
			       BIRTH);
	atomic_store(&p.tx.send_counter, 20000);
	CHECK(wgx_transport_seal(a, &p.tx, inner, 100, MTU, out, sizeof(out),
				 BIRTH) == 144);
	CHECK(wgx_transport_open(a, &p.rx, out, 144, back, sizeof(back),
				 BIRTH) == 100);
	CHECK(wgx_transport_open(a, &p.rx, copy, (size_t)n, back, sizeof(back),
				 BIRTH) == -EALREADY);
	wgx_aead_free(a);
}

static void test_bad_tag(void)
{
	uint8_t inner[100], out[BUF], back[BUF];
	struct wgx_aead *a = aead_default();
	struct pair p;
	int bad = 0;

	if (!a)
		return;
	pair_init(&p);
	ipv4(inner, 100);
	CHECK(wgx_transport_seal(a, &p.tx, inner, 100, MTU, out, sizeof(out),
				 BIRTH) == 144);
	/* Any flipped bit in the counter, ciphertext or tag. */
	for (size_t i = 8; i < 144; i++) {
		out[i] ^= 0x10;
		bad += wgx_transport_open(a, &p.rx, out, 144, back,
					  sizeof(back), BIRTH) != -EBADMSG;
		out[i] ^= 0x10;
	}
	CHECK(bad == 0);
	/* Wrong key. */
	p.rx.recv_key[0] ^= 1;
	CHECK(wgx_transport_open(a, &p.rx, out, 144, back, sizeof(back),
				 BIRTH) == -EBADMSG);
	p.rx.recv_key[0] ^= 1;
	/* Cut short, or padded out: still a bad tag, not a crash. */
	CHECK(wgx_transport_open(a, &p.rx, out, 143, back, sizeof(back),
				 BIRTH) == -EBADMSG);
	CHECK(wgx_transport_open(a, &p.rx, out, 145, back, sizeof(back),
				 BIRTH) == -EBADMSG);
	/* The window never moved: the original still opens. */
	CHECK(wgx_transport_open(a, &p.rx, out, 144, back, sizeof(back),
				 BIRTH) == 100);
	wgx_aead_free(a);
}

/* Short messages, wrong types, reserved bytes, foreign index. */
static void test_malformed(void)
{
	uint8_t inner[100], out[BUF], back[BUF];
	struct wgx_aead *a = aead_default();
	struct pair p;

	if (!a)
		return;
	pair_init(&p);
	ipv4(inner, 100);
	CHECK(wgx_transport_seal(a, &p.tx, inner, 100, MTU, out, sizeof(out),
				 BIRTH) == 144);
	CHECK(wgx_transport_open(a, &p.rx, out, 0, back, sizeof(back), BIRTH) ==
	      -EINVAL);
	CHECK(wgx_transport_open(a, &p.rx, out, 16, back, sizeof(back),
				 BIRTH) == -EINVAL);
	CHECK(wgx_transport_open(a, &p.rx, out, 31, back, sizeof(back),
				 BIRTH) == -EINVAL);
	for (int t = 0; t < 256; t++) {
		if (t == 4)
			continue;
		out[0] = (uint8_t)t;
		CHECK(wgx_transport_open(a, &p.rx, out, 144, back, sizeof(back),
					 BIRTH) == -EPROTO);
	}
	out[0] = 4;
	for (int r = 1; r < 4; r++) {
		out[r] = 1;
		CHECK(wgx_transport_open(a, &p.rx, out, 144, back, sizeof(back),
					 BIRTH) == -EPROTO);
		out[r] = 0x80;
		CHECK(wgx_transport_open(a, &p.rx, out, 144, back, sizeof(back),
					 BIRTH) == -EPROTO);
		out[r] = 0;
	}
	out[4] ^= 1;
	CHECK(wgx_transport_open(a, &p.rx, out, 144, back, sizeof(back),
				 BIRTH) == -ENOKEY);
	out[4] ^= 1;
	/* Output too small for the padded plaintext. */
	CHECK(wgx_transport_open(a, &p.rx, out, 144, back, 111, BIRTH) ==
	      -ENOBUFS);
	/* None of that consumed the counter. */
	CHECK(wgx_transport_open(a, &p.rx, out, 144, back, 112, BIRTH) == 100);
	wgx_aead_free(a);
}

/* REJECT_AFTER_TIME: usable until 180 s after birth, not at 180 s. */
static void test_expired_time(void)
{
	const uint64_t edge = BIRTH + WGX_REJECT_AFTER_TIME * SEC;
	uint8_t inner[100], out[BUF], back[BUF];
	struct wgx_aead *a = aead_default();
	struct pair p;

	if (!a)
		return;
	pair_init(&p);
	ipv4(inner, 100);
	CHECK(wgx_transport_seal(a, &p.tx, inner, 100, MTU, out, sizeof(out),
				 edge - 1) == 144);
	CHECK(wgx_transport_seal(a, &p.tx, inner, 100, MTU, out, sizeof(out),
				 edge) == -EKEYEXPIRED);
	CHECK(wgx_transport_seal(a, &p.tx, inner, 100, MTU, out, sizeof(out),
				 edge + 3600 * SEC) == -EKEYEXPIRED);
	/* A refused send does not use up a counter. */
	CHECK(atomic_load(&p.tx.send_counter) == 1);
	CHECK(wgx_transport_seal(a, &p.tx, inner, 100, MTU, out, sizeof(out),
				 edge - 1) == 144);
	CHECK(wgx_transport_open(a, &p.rx, out, 144, back, sizeof(back),
				 edge) == -EKEYEXPIRED);
	CHECK(wgx_transport_open(a, &p.rx, out, 144, back, sizeof(back),
				 edge - 1) == 100);
	wgx_aead_free(a);
}

/* REJECT_AFTER_MESSAGES on both sides, and no wrap of the counter. */
static void test_expired_counter(void)
{
	const uint64_t r = WGX_REJECT_AFTER_MESSAGES;
	uint8_t inner[100], out[BUF], last[BUF], back[BUF];
	struct wgx_aead *a = aead_default();
	struct pair p;
	int bad = 0;

	if (!a)
		return;
	pair_init(&p);
	ipv4(inner, 100);
	atomic_store(&p.tx.send_counter, r - 2);
	CHECK(wgx_transport_seal(a, &p.tx, inner, 100, MTU, out, sizeof(out),
				 BIRTH) == 144);
	CHECK(le64_at(out + 8) == r - 2);
	CHECK(wgx_transport_seal(a, &p.tx, inner, 100, MTU, last, sizeof(last),
				 BIRTH) == 144);
	CHECK(le64_at(last + 8) == r - 1);
	/* 2^13 + 2 refusals would wrap a plain fetch-add back to 0. */
	for (int i = 0; i < 8200; i++)
		bad += wgx_transport_seal(a, &p.tx, inner, 100, MTU, back,
					  sizeof(back), BIRTH) != -EKEYREJECTED;
	CHECK(bad == 0);
	CHECK(atomic_load(&p.tx.send_counter) == r);

	/* Receiver: counters at or past R are refused before decrypting. */
	memcpy(back, out, 144);
	for (int i = 0; i < 8; i++)
		back[8 + i] = (uint8_t)(r >> (8 * i));
	CHECK(wgx_transport_open(a, &p.rx, back, 144, back + 200, 200, BIRTH) ==
	      -ERANGE);
	memset(back + 8, 0xff, 8);
	CHECK(wgx_transport_open(a, &p.rx, back, 144, back + 200, 200, BIRTH) ==
	      -ERANGE);
	/* R - 2 and R - 1 are fine; after R - 1 the keypair is spent. */
	CHECK(wgx_transport_open(a, &p.rx, out, 144, back, sizeof(back),
				 BIRTH) == 100);
	CHECK(wgx_transport_open(a, &p.rx, last, 144, back, sizeof(back),
				 BIRTH) == 100);
	CHECK(wgx_transport_open(a, &p.rx, out, 144, back, sizeof(back),
				 BIRTH) == -EKEYREJECTED);
	wgx_aead_free(a);
}

static void test_oversize(void)
{
	uint8_t inner[BUF], out[BUF];
	struct wgx_aead *a = aead_default();
	struct pair p;

	if (!a)
		return;
	pair_init(&p);
	ipv4(inner, sizeof(inner));
	CHECK(wgx_transport_seal(a, &p.tx, inner, 1421, MTU, out, sizeof(out),
				 BIRTH) == -EMSGSIZE);
	CHECK(wgx_transport_seal(a, &p.tx, inner, 1500, MTU, out, sizeof(out),
				 BIRTH) == -EMSGSIZE);
	CHECK(wgx_transport_seal(a, &p.tx, inner, 1, 0, out, sizeof(out),
				 BIRTH) == -EMSGSIZE);
	CHECK(wgx_transport_seal(a, &p.tx, inner, 100, 70000, out, sizeof(out),
				 BIRTH) == -EMSGSIZE);
	/* One byte short of the wire length. */
	CHECK(wgx_transport_seal(a, &p.tx, inner, 1420, MTU, out, 1451,
				 BIRTH) == -ENOBUFS);
	CHECK(atomic_load(&p.tx.send_counter) == 0);
	CHECK(wgx_transport_seal(a, &p.tx, inner, 1420, MTU, out, 1452,
				 BIRTH) == 1452);
	CHECK(wgx_transport_seal(a, &p.tx, inner, 1500, 1500, out, sizeof(out),
				 BIRTH) == 1532);
	wgx_aead_free(a);
}

static void test_rekey(void)
{
	struct pair p;

	pair_init(&p);
	CHECK(!wgx_transport_rekey_on_send(&p.tx, BIRTH));
	CHECK(!wgx_transport_rekey_on_recv(&p.tx, BIRTH));
	/* Counter: strictly past REKEY_AFTER_MESSAGES, either role. */
	atomic_store(&p.tx.send_counter, WGX_REKEY_AFTER_MESSAGES);
	CHECK(!wgx_transport_rekey_on_send(&p.tx, BIRTH));
	atomic_store(&p.tx.send_counter, WGX_REKEY_AFTER_MESSAGES + 1);
	CHECK(wgx_transport_rekey_on_send(&p.tx, BIRTH));
	p.tx.initiator = false;
	CHECK(wgx_transport_rekey_on_send(&p.tx, BIRTH));
	atomic_store(&p.tx.send_counter, 0);
	/* Age on send: initiator only, at REKEY_AFTER_TIME. */
	CHECK(!wgx_transport_rekey_on_send(&p.tx, BIRTH + 170 * SEC));
	p.tx.initiator = true;
	CHECK(!wgx_transport_rekey_on_send(&p.tx, BIRTH + 120 * SEC - 1));
	CHECK(wgx_transport_rekey_on_send(&p.tx, BIRTH + 120 * SEC));
	/* Age on receive: initiator only, at 180 - 10 - 5 = 165 s. */
	CHECK(!wgx_transport_rekey_on_recv(&p.tx, BIRTH + 165 * SEC - 1));
	CHECK(wgx_transport_rekey_on_recv(&p.tx, BIRTH + 165 * SEC));
	p.tx.initiator = false;
	CHECK(!wgx_transport_rekey_on_recv(&p.tx, BIRTH + 179 * SEC));
}

struct claim_job {
	struct wgx_keypair *kp;
	uint8_t *seen;
	int bad;
};

enum {
	THREADS = 4,
	PER_THREAD = 5000
};

static void *claim_worker(void *arg)
{
	struct claim_job *job = arg;
	struct wgx_aead *a = wgx_aead_new(WGX_AEAD_DEFAULT);
	uint8_t out[64];

	if (!a) {
		job->bad++;
		return NULL;
	}
	for (int i = 0; i < PER_THREAD; i++) {
		uint64_t c;

		if (wgx_transport_seal(a, job->kp, NULL, 0, MTU, out,
				       sizeof(out), BIRTH) != 32) {
			job->bad++;
			continue;
		}
		c = le64_at(out + 8);
		if (c >= THREADS * PER_THREAD)
			job->bad++;
		else
			job->seen[c] = 1;
	}
	wgx_aead_free(a);
	return NULL;
}

/* Workers sharing one keypair never send the same counter twice. */
static void test_concurrent_counters(void)
{
	static uint8_t seen[THREADS][THREADS * PER_THREAD];
	struct claim_job jobs[THREADS];
	pthread_t t[THREADS];
	struct pair p;
	int missing = 0, twice = 0;

	pair_init(&p);
	memset(seen, 0, sizeof(seen));
	for (int i = 0; i < THREADS; i++) {
		jobs[i] = (struct claim_job){ &p.tx, seen[i], 0 };
		CHECK(pthread_create(&t[i], NULL, claim_worker, &jobs[i]) == 0);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		CHECK(jobs[i].bad == 0);
	}
	for (int c = 0; c < THREADS * PER_THREAD; c++) {
		int n = 0;

		for (int i = 0; i < THREADS; i++)
			n += seen[i][c];
		missing += n == 0;
		twice += n > 1;
	}
	CHECK(missing == 0);
	CHECK(twice == 0);
	CHECK(atomic_load(&p.tx.send_counter) == THREADS * PER_THREAD);
}

static const struct wgx_test transport_tests[] = {
	{ "transport: padding at and around the MTU", test_padding },
	{ "transport: IPv4/IPv6 round trip on every back end pair",
	  test_round_trip },
	{ "transport: shared vectors' data messages byte for byte",
	  test_shared_vectors },
	{ "transport: wireguard-go's first data message",
	  test_wireguard_go_message },
	{ "transport: trims by IPv4 total / IPv6 payload length", test_trim },
	{ "transport: bad inner packets dropped", test_bad_inner },
	{ "transport: keepalive", test_keepalive },
	{ "transport: in-place seal and open", test_in_place },
	{ "transport: replayed message refused", test_replayed },
	{ "transport: bad tag refused, window kept", test_bad_tag },
	{ "transport: truncated, wrong type, reserved, index", test_malformed },
	{ "transport: expired keypair by time", test_expired_time },
	{ "transport: expired keypair by counter", test_expired_counter },
	{ "transport: oversize inner and short buffers", test_oversize },
	{ "transport: rekey signals", test_rekey },
	{ "transport: concurrent senders get unique counters",
	  test_concurrent_counters },
};
WGX_SUITE(transport_tests)
