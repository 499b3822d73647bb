// SPDX-License-Identifier: MIT
/*
 * The agent under a handshake flood (agent/handshake.c, core/ratelimit.c,
 * the queue of device.c): the queue shares sources and keeps room for
 * known ones; while busy a source within its budget gets the Noise step
 * and one beyond it a cookie; a source proven by mac2 that floods is
 * dropped and reported for the deny map; the test knob sends everyone
 * through a cookie round. Initiations here carry a valid mac1 and a junk
 * body, so "the Noise step was done" shows as drop_handshake_invalid and
 * a cookie as a reply on the fake datapath.
 */
#include "test.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include "agent/protocol.h"
#include "core/cookie.h"
#include "core/crypto.h"
#include "datapath/datapath.h"
#include "device/device.h"

#define NS 1000000000ULL

struct fake_dp {
	struct wgx_datapath dp;
	unsigned int sent;
	struct wgx_msg_cookie_reply last;
};

static int fake_send(struct wgx_datapath *dp, const union wgx_sockaddr *to,
		     const void *buf, size_t len)
{
	struct fake_dp *f = (struct fake_dp *)dp;

	(void)to;
	if (len == sizeof(f->last))
		memcpy(&f->last, buf, len);
	f->sent++;
	return 0;
}

static void fake_destroy(struct wgx_datapath *dp)
{
	(void)dp;
}

static const struct wgx_datapath_ops fake_ops = { "fake", fake_send,
						  fake_destroy };

static const uint8_t our_pub[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };

struct bench {
	struct wgx_device *dev;
	struct fake_dp fdp;
	uint8_t mac1_key[32];
	struct wgx_cookie_maker maker; /* a sender that keeps cookies */
};

static bool bench_init(struct bench *b)
{
	memset(b, 0, sizeof(*b));
	if (wgx_device_new(&b->dev))
		return false;
	b->fdp.dp.ops = &fake_ops;
	b->fdp.dp.dev = b->dev;
	b->dev->dp = &b->fdp.dp;
	wgx_cookie_checker_set_public_key(&b->dev->cookie_checker, our_pub);
	wgx_crypto_hash(b->mac1_key, "mac1----", 8, our_pub, 32);
	wgx_cookie_maker_init(&b->maker, our_pub);
	return true;
}

static void bench_free(struct bench *b)
{
	b->dev->dp = NULL;
	wgx_cookie_maker_wipe(&b->maker);
	wgx_device_free(b->dev);
}

static union wgx_sockaddr v4(uint8_t host, uint16_t port)
{
	union wgx_sockaddr a;

	memset(&a, 0, sizeof(a));
	a.in4.sin_family = AF_INET;
	a.in4.sin_port = htons(port);
	a.in4.sin_addr.s_addr = htonl(0x0a000000u | host);
	return a;
}

static uint64_t stat(const struct bench *b, enum wgx_stat_id id)
{
	return atomic_load(&b->dev->stats.packets[id]);
}

/* A junk initiation with a valid mac1 (and mac2 when with_cookie and the
 * maker holds one), queued from src. */
static void queue_init(struct bench *b, const union wgx_sockaddr *src,
		       bool with_cookie, uint64_t now)
{
	uint8_t m[WGX_MSG_INITIATION_LEN];

	wgx_crypto_random(m, sizeof(m));
	m[0] = WGX_MSG_INITIATION;
	m[1] = m[2] = m[3] = 0;
	if (with_cookie)
		CHECK(wgx_cookie_add_macs(&b->maker, m, sizeof(m), now) == 0);
	else
		wgx_crypto_mac(m + 116, b->mac1_key, 32, m, 116);
	if (!with_cookie)
		memset(m + 132, 0, 16);
	wgx_device_queue_handshake(b->dev, m, sizeof(m), src);
}

/* A junk initiation with a valid mac1 and a (junk) mac2, queued from
 * src: the queue only looks at whether a mac2 is there. */
static void queue_with_mac2(struct bench *b, const union wgx_sockaddr *src)
{
	uint8_t m[WGX_MSG_INITIATION_LEN];

	wgx_crypto_random(m, sizeof(m));
	m[0] = WGX_MSG_INITIATION;
	m[1] = m[2] = m[3] = 0;
	wgx_crypto_mac(m + 116, b->mac1_key, 32, m, 116);
	m[132] |= 1;
	wgx_device_queue_handshake(b->dev, m, sizeof(m), src);
}

static void drain(struct bench *b, uint64_t now)
{
	for (int i = 0; i < 8 && b->dev->hsq.count; i++)
		wgx_protocol_drain_handshakes(b->dev, now);
}

/* One source fills its share of the queue, no more; another still gets
 * in; unknown sources leave the last places to known ones. */
static void test_queue_shares(void)
{
	struct bench b;
	union wgx_sockaddr a = v4(1, 1000), c;
	const uint8_t known[4] = { 10, 0, 0, 200 };
	uint64_t now = 5 * NS, full0;
	unsigned int i;

	if (!bench_init(&b)) {
		CHECK(!"device");
		return;
	}
	for (i = 0; i < 2 * WGX_HSQ_PER_SHARE; i++)
		queue_init(&b, &a, false, now);
	CHECK(b.dev->hsq.count == WGX_HSQ_PER_SHARE);
	CHECK(stat(&b, WGX_STAT_DROP_HANDSHAKE_QUEUE_FULL) ==
	      WGX_HSQ_PER_SHARE);
	/* The same host from another port shares it; another host not. */
	a = v4(1, 2000);
	queue_init(&b, &a, false, now);
	CHECK(b.dev->hsq.count == WGX_HSQ_PER_SHARE);
	/* A message with a mac2 from the same host has a share of its own:
	 * a flood forging a peer's address cannot crowd out its retry. */
	queue_with_mac2(&b, &a);
	CHECK(b.dev->hsq.count == WGX_HSQ_PER_SHARE + 1);
	CHECK(b.dev->hsq.in_share_cookie[b.dev->hsq.item[WGX_HSQ_PER_SHARE]
						 .share] == 1);
	a = v4(2, 1000);
	queue_init(&b, &a, false, now);
	CHECK(b.dev->hsq.count == WGX_HSQ_PER_SHARE + 2);

	/* Many sources, a few each: up to the reserve, then only known. */
	for (i = 3; b.dev->hsq.count < WGX_HSQ_SIZE && i < 250; i++) {
		c = v4((uint8_t)i, 1);
		for (int k = 0; k < 8; k++)
			queue_init(&b, &c, false, now);
	}
	CHECK(b.dev->hsq.count == WGX_HSQ_SIZE - WGX_HSQ_RESERVED);
	full0 = stat(&b, WGX_STAT_DROP_HANDSHAKE_QUEUE_FULL);
	c = v4(200, 1);
	queue_init(&b, &c, false, now);
	CHECK(stat(&b, WGX_STAT_DROP_HANDSHAKE_QUEUE_FULL) == full0 + 1);
	wgx_ratelimit_learn(b.dev->ratelimit, known, 4, now);
	queue_init(&b, &c, false, now);
	CHECK(b.dev->hsq.count == WGX_HSQ_SIZE - WGX_HSQ_RESERVED + 1);
	/* Taking messages out gives their shares back. */
	drain(&b, now);
	CHECK(b.dev->hsq.count == 0);
	for (i = 0; i < WGX_HSQ_SHARES; i++)
		CHECK(!b.dev->hsq.in_share[i] &&
		      !b.dev->hsq.in_share_cookie[i]);
	bench_free(&b);
}

/* Not busy: every good mac1 gets the Noise step, no cookie. */
static void test_idle_no_cookies(void)
{
	struct bench b;
	union wgx_sockaddr a = v4(1, 1000);
	uint64_t now = 5 * NS;

	if (!bench_init(&b)) {
		CHECK(!"device");
		return;
	}
	for (int i = 0; i < 20; i++)
		queue_init(&b, &a, false, now + (uint64_t)i * NS / 10);
	drain(&b, now + 2 * NS);
	CHECK(stat(&b, WGX_STAT_DROP_HANDSHAKE_INVALID) == 20);
	CHECK(b.fdp.sent == 0);
	bench_free(&b);
}

/* Busy: the flooder gets cookies beyond its budget, a known source keeps
 * getting the Noise step. */
static void test_busy_per_source(void)
{
	struct bench b;
	union wgx_sockaddr flooder = v4(66, 4000), peer = v4(7, 51821);
	const uint8_t peer_addr[4] = { 10, 0, 0, 7 };
	uint64_t now = 5 * NS, inval;

	if (!bench_init(&b)) {
		CHECK(!"device");
		return;
	}
	wgx_ratelimit_learn(b.dev->ratelimit, peer_addr, 4, now);
	/* Much work in one window makes the agent busy. */
	for (int i = 0; i < WGX_HSQ_PER_SHARE; i++)
		queue_init(&b, &flooder, false, now);
	drain(&b, now);
	CHECK(wgx_ratelimit_busy(b.dev->ratelimit, now));
	CHECK(b.fdp.sent > 0);
	CHECK(stat(&b, WGX_STAT_TX_COOKIE_REPLY) == b.fdp.sent);
	CHECK(stat(&b, WGX_STAT_DROP_HANDSHAKE_INVALID) +
		      stat(&b, WGX_STAT_TX_COOKIE_REPLY) ==
	      WGX_HSQ_PER_SHARE);
	/* The peer, interleaved with more of the flood: never a cookie. */
	for (int r = 0; r < 4; r++) {
		unsigned int sent = b.fdp.sent;

		for (int i = 0; i < 10; i++)
			queue_init(&b, &flooder, false, now);
		inval = stat(&b, WGX_STAT_DROP_HANDSHAKE_INVALID);
		queue_init(&b, &peer, false, now);
		drain(&b, now);
		CHECK(b.fdp.sent == sent + 10);
		CHECK(stat(&b, WGX_STAT_DROP_HANDSHAKE_INVALID) == inval + 1);
	}
	bench_free(&b);
}

/* A cookie-proven source: 20 a second; beyond, dropped and reported. */
static void test_busy_mac2_flood(void)
{
	struct bench b;
	union wgx_sockaddr a = v4(9, 5000);
	struct wgx_ratelimit_key k;
	uint64_t now = 5 * NS;
	uint8_t m[WGX_MSG_INITIATION_LEN], addr[16];

	if (!bench_init(&b)) {
		CHECK(!"device");
		return;
	}
	/* Busy from a flood (within the source's share of the queue), so
	 * the source gets a cookie reply... */
	for (int i = 0; i < WGX_HSQ_PER_SHARE - 4; i++)
		queue_init(&b, &a, false, now);
	wgx_crypto_random(m, sizeof(m));
	m[0] = WGX_MSG_INITIATION;
	m[1] = m[2] = m[3] = 0;
	CHECK(wgx_cookie_add_macs(&b.maker, m, sizeof(m), now) == 0);
	wgx_device_queue_handshake(b.dev, m, sizeof(m), &a);
	drain(&b, now);
	/* ... the last one answers the maker's own message */
	CHECK(wgx_cookie_consume_reply(&b.maker, &b.fdp.last, now));
	/* ... then floods with the cookie. */
	for (int i = 0; i < 40; i++)
		queue_init(&b, &a, true, now);
	drain(&b, now);
	CHECK(stat(&b, WGX_STAT_DROP_HANDSHAKE_RATELIMIT) ==
	      40 - WGX_RATELIMIT_BURST);
	CHECK(wgx_ratelimit_take_offender(b.dev->ratelimit, &k));
	CHECK(wgx_ratelimit_key_addr(&k, addr) == 4);
	CHECK(addr[3] == 9);
	bench_free(&b);
}

/* The test knob: every message without a cookie gets one. */
static void test_forced_cookie_round(void)
{
	struct bench b;
	union wgx_sockaddr a = v4(3, 51821);
	const uint8_t addr[4] = { 10, 0, 0, 3 };
	uint64_t now = 5 * NS;

	if (!bench_init(&b)) {
		CHECK(!"device");
		return;
	}
	b.dev->force_under_load = true;
	wgx_ratelimit_learn(b.dev->ratelimit, addr, 4, now);
	queue_init(&b, &a, false, now);
	drain(&b, now);
	CHECK(b.fdp.sent == 1);
	CHECK(stat(&b, WGX_STAT_DROP_HANDSHAKE_INVALID) == 0);
	bench_free(&b);
}

static const struct wgx_test hs_guard_tests[] = {
	{ "hs guard: queue shares per source, last places for known",
	  test_queue_shares },
	{ "hs guard: not busy, no cookies", test_idle_no_cookies },
	{ "hs guard: busy, cookies to the flooder only", test_busy_per_source },
	{ "hs guard: a cookie-proven flood is limited and reported",
	  test_busy_mac2_flood },
	{ "hs guard: the test knob forces a cookie round",
	  test_forced_cookie_round },
};
WGX_SUITE(hs_guard_tests)
