// SPDX-License-Identifier: MIT
/*
 * The packet core through a fake packet I/O (fake_pktio.h) and a
 * socketpair for the TUN: a pool of real workers on a real device, fed
 * datagrams sealed by a simulated peer. Every receive drop reason, the
 * send path's decisions (seal, stage, ICMP), order across workers, and the
 * agent changing state under traffic.
 */
#include "test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "agent/peer_config.h"
#include "core/crypto.h"
#include "core/transport.h"
#include "datapath/datapath.h"
#include "device/device.h"
#include "fake_pktio.h"

enum {
	INNER = 100, /* bytes of each inner test packet */
	MTU = 1420,
};

struct rig {
	struct fake_net net;
	struct wgx_device *dev;
	struct wgx_datapath *dp;
	struct wgx_peer *peer;
	struct wgx_keypair *kp;	    /* ours, current */
	struct wgx_keypair *remote; /* the peer's side of it */
	struct wgx_aead *aead;
	int tun_test[8], tun_dp[8];
	unsigned int workers;
	union wgx_sockaddr ep;
};

static uint64_t now_ns(void)
{
	return wgx_now();
}

static void prefix(struct wgx_config_prefix *a, const char *ip, uint8_t cidr)
{
	memset(a, 0, sizeof(*a));
	a->cidr = cidr;
	if (inet_pton(AF_INET, ip, a->addr.bytes) == 1) {
		a->family = AF_INET;
		return;
	}
	a->family = AF_INET6;
	inet_pton(AF_INET6, ip, a->addr.bytes);
}

static void sockaddr4(union wgx_sockaddr *sa, const char *ip, uint16_t port)
{
	memset(sa, 0, sizeof(*sa));
	sa->in4.sin_family = AF_INET;
	sa->in4.sin_port = htons(port);
	inet_pton(AF_INET, ip, &sa->in4.sin_addr);
}

/* A keypair for p, current, and its mirror image on the peer's side. */
static int give_session(struct rig *r, uint64_t birth_ns)
{
	struct wgx_keypair *kp = wgx_keypairs_alloc(&r->peer->keypairs);

	r->remote = calloc(1, sizeof(*r->remote));
	if (!kp || !r->remote)
		return -ENOMEM;
	wgx_crypto_random(kp->send_key, 32);
	wgx_crypto_random(kp->recv_key, 32);
	kp->initiator = true;
	kp->birth_ns = birth_ns;
	kp->remote_index = 0x7e57;
	kp->peer = r->peer;
	wgx_replay_init(&kp->replay);
	if (wgx_index_insert(r->dev->indices, WGX_INDEX_KEYPAIR, kp, r->peer,
			     &kp->local_index))
		return -ENOMEM;
	memcpy(r->remote->send_key, kp->recv_key, 32);
	memcpy(r->remote->recv_key, kp->send_key, 32);
	r->remote->remote_index = kp->local_index;
	r->remote->local_index = kp->remote_index;
	r->remote->birth_ns = kp->birth_ns;
	wgx_replay_init(&r->remote->replay);
	wgx_keypairs_install(&r->peer->keypairs, kp);
	r->kp = kp;
	return 0;
}

static int rig_start_at(struct rig *r, unsigned int workers, bool shared_tun,
			uint64_t birth_ns)
{
	struct wgx_socket_opts o = { 0 };
	struct wgx_config_prefix a;
	uint8_t priv[32], pub[32];
	int fds[8], big = 32 << 20;

	memset(r, 0, sizeof(*r));
	r->workers = workers;
	if (fake_net_init(&r->net) || wgx_device_new(&r->dev))
		return -ENOMEM;
	r->dev->mtu = MTU;
	wgx_crypto_dh_generate(priv, pub);
	wgx_peer_config_set_private_key(r->dev, priv);
	wgx_crypto_dh_generate(priv, pub);
	wgx_crypto_wipe(priv, 32);
	if (wgx_peer_config_add(r->dev, pub, NULL, &r->peer))
		return -ENOMEM;
	prefix(&a, "10.0.0.2", 32);
	wgx_peer_config_allowed_ip_add(r->dev, r->peer, &a);
	prefix(&a, "fd00::2", 128);
	wgx_peer_config_allowed_ip_add(r->dev, r->peer, &a);
	sockaddr4(&r->ep, "192.0.2.2", 51820);
	wgx_peer_config_set_endpoint(r->dev, r->peer, &r->ep);
	if (give_session(r, birth_ns))
		return -ENOMEM;
	r->aead = wgx_aead_new(WGX_AEAD_SODIUM);
	for (unsigned int i = 0; i < workers; i++) {
		int sp[2];

		r->tun_test[i] = r->tun_dp[i] = -1;
		if (shared_tun && i) {
			fds[i] = fds[0];
			continue;
		}
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sp))
			return -errno;
		r->tun_test[i] = sp[0];
		r->tun_dp[i] = fds[i] = sp[1];
		/* A TUN never refuses a write; a full socketpair would. */
		setsockopt(sp[1], SOL_SOCKET, SO_SNDBUFFORCE, &big,
			   sizeof(big));
		setsockopt(sp[0], SOL_SOCKET, SO_RCVBUFFORCE, &big,
			   sizeof(big));
		setsockopt(sp[0], SOL_SOCKET, SO_SNDBUFFORCE, &big,
			   sizeof(big));
	}
	o.workers = workers;
	o.tun_fds = fds;
	o.make_io = fake_net_make_io;
	o.make_io_ctx = &r->net;
	return wgx_dp_socket_create(r->dev, &o, &r->dp);
}

static int rig_start(struct rig *r, unsigned int workers, bool shared_tun)
{
	return rig_start_at(r, workers, shared_tun, now_ns());
}

static void rig_stop(struct rig *r)
{
	if (r->dp)
		r->dp->ops->destroy(r->dp);
	r->dp = NULL;
	if (r->dev)
		r->dev->dp = NULL;
	wgx_device_free(r->dev);
	for (unsigned int i = 0; i < r->workers; i++) {
		if (r->tun_test[i] >= 0)
			close(r->tun_test[i]);
		if (r->tun_dp[i] >= 0)
			close(r->tun_dp[i]);
	}
	wgx_aead_free(r->aead);
	free(r->remote);
	fake_net_free(&r->net);
}

/* An IPv4/UDP packet from src to dst carrying seq in its payload. */
static size_t inner_packet(uint8_t *p, const char *src, const char *dst,
			   uint32_t seq)
{
	memset(p, 0, INNER);
	p[0] = 0x45;
	p[2] = 0;
	p[3] = INNER;
	p[8] = 64;
	p[9] = 17;
	inet_pton(AF_INET, src, p + 12);
	inet_pton(AF_INET, dst, p + 16);
	p[20] = 0x12;
	p[22] = 0x34;
	p[25] = INNER - 20;
	memcpy(p + 28, &seq, sizeof(seq));
	return INNER;
}

/* The peer seals an inner packet to us. */
static size_t remote_seal(struct rig *r, const uint8_t *inner, size_t len,
			  uint8_t *out, size_t cap)
{
	int n = wgx_transport_seal(r->aead, r->remote, inner, len, MTU, out,
				   cap, now_ns());

	CHECK(n > 0);
	return n > 0 ? (size_t)n : 0;
}

static void push_data(struct rig *r, unsigned int w, const char *src,
		      uint32_t seq, const union wgx_sockaddr *from)
{
	uint8_t inner[INNER], msg[256];
	size_t n;

	inner_packet(inner, src, "10.0.0.1", seq);
	n = remote_seal(r, inner, INNER, msg, sizeof(msg));
	fake_net_push(&r->net, w, from, msg, n);
}

/* Read one packet from the TUN's test end within ms; its length or -1. */
static ssize_t tun_read(int fd, uint8_t *buf, size_t cap, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	if (poll(&pfd, 1, ms) <= 0)
		return -1;
	return read(fd, buf, cap);
}

static uint64_t stat_sum(struct rig *r, enum wgx_stat_id id)
{
	uint64_t p[WGX_STAT_COUNT] = { 0 }, b[WGX_STAT_COUNT] = { 0 };

	wgx_dp_add_stats(r->dp, p, b);
	return p[id] + atomic_load(&r->dev->stats.packets[id]);
}

/* Wait until the fake net is drained and the counters settle. */
static void settle(struct rig *r)
{
	uint64_t last = ~0ULL;

	for (int i = 0; i < 200; i++) {
		uint64_t total = 0;

		for (int id = 0; id < WGX_STAT_COUNT; id++)
			total += stat_sum(r, id);
		if (!fake_net_pending(&r->net) && total == last)
			return;
		last = total;
		usleep(10000);
	}
}

/* ---- receive ------------------------------------------------------------ */

static void test_rx_in_order(void)
{
	enum {
		N = 3000
	};
	struct rig r;
	uint8_t buf[2048];
	uint32_t expect = 0;
	unsigned int got = 0, bad = 0;
	uint64_t helped = 0;

	CHECK(rig_start(&r, 4, true) == 0);
	if (!r.dp)
		goto out;
	/* Many small batches on one worker's input: one peer, one flow. */
	fake_net_set_per_recv(&r.net, 8);
	for (uint32_t i = 0; i < N; i++)
		push_data(&r, 0, "10.0.0.2", i, &r.ep);
	while (got < N) {
		ssize_t n = tun_read(r.tun_test[0], buf, sizeof(buf), 3000);
		uint32_t seq;

		if (n < 0)
			break;
		memcpy(&seq, buf + 28, sizeof(seq));
		if (n != INNER || seq != expect)
			bad++;
		expect = seq + 1;
		got++;
	}
	CHECK(got == N);
	CHECK(bad == 0);
	settle(&r);
	CHECK(stat_sum(&r, WGX_STAT_RX_DATA) == N);
	CHECK(stat_sum(&r, WGX_STAT_DROP_TUN_ERROR) == 0);
	for (unsigned int i = 0; i < wgx_dp_workers(r.dp); i++) {
		struct wgx_dp_worker_info w;

		wgx_dp_worker_info(r.dp, i, &w);
		helped += w.batches_helped;
	}
	/* Not asserted: whether others helped depends on the scheduler. */
	printf("    # %llu of %u batches decrypted by helping workers\n",
	       (unsigned long long)helped, (unsigned int)N / 8);
out:
	rig_stop(&r);
}

static void test_rx_drops(void)
{
	struct rig r;
	uint8_t inner[INNER], msg[256], buf[2048], hs[WGX_MSG_INITIATION_LEN];
	union wgx_sockaddr roam, got_ep;
	size_t n;
	bool has;
	unsigned int delivered = 0;

	CHECK(rig_start(&r, 1, false) == 0);
	if (!r.dp)
		goto out;
	push_data(&r, 0, "10.0.0.2", 1, &r.ep); /* delivered */
	/* A replay of a good message. */
	inner_packet(inner, "10.0.0.2", "10.0.0.1", 2);
	n = remote_seal(&r, inner, INNER, msg, sizeof(msg));
	fake_net_push(&r.net, 0, &r.ep, msg, n);
	fake_net_push(&r.net, 0, &r.ep, msg, n);
	/* A forged one: one bit of the ciphertext flipped. */
	n = remote_seal(&r, inner, INNER, msg, sizeof(msg));
	msg[40] ^= 1;
	fake_net_push(&r.net, 0, &r.ep, msg, n);
	/* An unknown receiver index. */
	n = remote_seal(&r, inner, INNER, msg, sizeof(msg));
	msg[4] ^= 0xff;
	fake_net_push(&r.net, 0, &r.ep, msg, n);
	/* Counters no session reaches (2^40 and 2^63), refused before any
	 * decryption; a good message then still gets through. */
	n = remote_seal(&r, inner, INNER, msg, sizeof(msg));
	memset(msg + 8, 0, 8);
	msg[13] = 1;
	fake_net_push(&r.net, 0, &r.ep, msg, n);
	msg[13] = 0;
	msg[15] = 0x80;
	fake_net_push(&r.net, 0, &r.ep, msg, n);
	/* An inner source the peer may not use. */
	push_data(&r, 0, "10.9.9.9", 3, &r.ep);
	/* Malformed: too short; reserved bytes set. */
	fake_net_push(&r.net, 0, &r.ep, msg, 3);
	n = remote_seal(&r, inner, INNER, msg, sizeof(msg));
	msg[2] = 1;
	fake_net_push(&r.net, 0, &r.ep, msg, n);
	/* A keepalive. */
	n = remote_seal(&r, NULL, 0, msg, sizeof(msg));
	fake_net_push(&r.net, 0, &r.ep, msg, n);
	/* A handshake-sized initiation goes to the agent's queue. */
	memset(hs, 0, sizeof(hs));
	hs[0] = WGX_MSG_INITIATION;
	fake_net_push(&r.net, 0, &r.ep, hs, sizeof(hs));
	/* Then data from a new address: the peer roams there. */
	sockaddr4(&roam, "198.51.100.7", 4444);
	push_data(&r, 0, "10.0.0.2", 4, &roam);
	settle(&r);
	while (tun_read(r.tun_test[0], buf, sizeof(buf), 200) == INNER)
		delivered++;
	CHECK(delivered == 3);
	CHECK(stat_sum(&r, WGX_STAT_RX_DATA) == 3);
	CHECK(stat_sum(&r, WGX_STAT_DROP_REPLAY) == 1);
	CHECK(stat_sum(&r, WGX_STAT_DROP_BAD_TAG) == 1);
	CHECK(stat_sum(&r, WGX_STAT_DROP_UNKNOWN_INDEX) == 1);
	CHECK(stat_sum(&r, WGX_STAT_DROP_BAD_COUNTER) == 2);
	CHECK(stat_sum(&r, WGX_STAT_DROP_ALLOWEDIPS) == 1);
	CHECK(stat_sum(&r, WGX_STAT_DROP_MALFORMED) == 2);
	CHECK(stat_sum(&r, WGX_STAT_RX_KEEPALIVE) == 1);
	CHECK(r.dev->hsq.count == 1);
	wgx_peer_get_endpoint(r.peer, &got_ep, &has);
	CHECK(has && wgx_sockaddr_equal(&got_ep, &roam));
	/* Events for the agent: the peer is on the pending stack. */
	CHECK(atomic_load(&r.peer->events) & WGX_EV_DATA_RECEIVED);
out:
	rig_stop(&r);
}

/* Authenticated, but neither IPv4 nor IPv6 inside: counted, not written. */
static void test_rx_bad_inner(void)
{
	uint8_t inner[INNER], msg[256], buf[2048];
	struct rig r;
	size_t n;

	CHECK(rig_start(&r, 1, false) == 0);
	if (!r.dp)
		goto out;
	inner_packet(inner, "10.0.0.2", "10.0.0.1", 1);
	inner[0] = 0x75; /* version 7 */
	n = remote_seal(&r, inner, INNER, msg, sizeof(msg));
	fake_net_push(&r.net, 0, &r.ep, msg, n);
	settle(&r);
	CHECK(stat_sum(&r, WGX_STAT_DROP_BAD_INNER) == 1);
	CHECK(stat_sum(&r, WGX_STAT_RX_DATA) == 0);
	CHECK(tun_read(r.tun_test[0], buf, sizeof(buf), 100) < 0);
	/* Still data from the peer for its timers. */
	CHECK(atomic_load(&r.peer->events) & WGX_EV_DATA_RECEIVED);
out:
	rig_stop(&r);
}

/* An expired keypair is refused before decryption. */
static void test_rx_expired(void)
{
	struct rig r;

	/* Born long ago: REJECT_AFTER_TIME has passed. */
	CHECK(rig_start_at(&r, 1, false,
			   now_ns() -
				   wgx_timers_seconds(WGX_REJECT_AFTER_TIME) -
				   1000000000ULL) == 0);
	if (!r.dp)
		goto out;
	/* The peer's side is not expired: it seals as ever. */
	r.remote->birth_ns = now_ns();
	push_data(&r, 0, "10.0.0.2", 1, &r.ep);
	settle(&r);
	CHECK(stat_sum(&r, WGX_STAT_DROP_EXPIRED_KEY) == 1);
	CHECK(stat_sum(&r, WGX_STAT_RX_DATA) == 0);
out:
	rig_stop(&r);
}

/* ---- send --------------------------------------------------------------- */

static void test_tx_in_order(void)
{
	enum {
		N = 2000
	};
	struct rig r;
	uint8_t inner[INNER];
	unsigned int bad = 0, written = 0;
	uint64_t last_counter = 0;

	CHECK(rig_start(&r, 4, false) == 0);
	if (!r.dp)
		goto out;
	for (uint32_t i = 0; i < N; i++) {
		inner_packet(inner, "10.0.0.1", "10.0.0.2", i);
		for (int tries = 0; tries < 1000; tries++) {
			if (write(r.tun_test[0], inner, INNER) == INNER) {
				written++;
				break;
			}
			usleep(100);
		}
	}
	CHECK(written == N);
	for (int i = 0; i < 300 && fake_net_sent(&r.net) < N; i++)
		usleep(10000);
	pthread_mutex_lock(&r.net.lock);
	CHECK(r.net.n_sent == N);
	for (unsigned int i = 0; i < r.net.n_sent; i++) {
		struct fake_dgram *d = &r.net.sent[i];
		uint8_t out[2048];
		uint64_t counter;
		uint32_t seq;
		int n = wgx_transport_open(r.aead, r.remote, d->data, d->len,
					   out, sizeof(out), now_ns());

		memcpy(&counter, d->data + 8, sizeof(counter));
		memcpy(&seq, out + 28, sizeof(seq));
		if (n != INNER || seq != i ||
		    !wgx_sockaddr_equal(&d->addr, &r.ep))
			bad++;
		if (i && counter <= last_counter)
			bad++;
		last_counter = counter;
	}
	pthread_mutex_unlock(&r.net.lock);
	CHECK(bad == 0);
out:
	rig_stop(&r);
}

/* No session: staged for the handshake, the agent asked for one. */
static void test_tx_staged(void)
{
	struct wgx_config_prefix a;
	struct wgx_peer *p2 = NULL;
	uint8_t inner[INNER], pub[32];
	struct rig r;

	CHECK(rig_start(&r, 1, false) == 0);
	if (!r.dp)
		goto out;
	wgx_crypto_random(pub, 32);
	CHECK(wgx_peer_config_add(r.dev, pub, NULL, &p2) == 0);
	prefix(&a, "10.0.0.3", 32);
	CHECK(p2 && wgx_peer_config_allowed_ip_add(r.dev, p2, &a) == 0);
	if (!p2)
		goto out;
	wgx_peer_config_set_endpoint(r.dev, p2, &r.ep);
	inner_packet(inner, "10.0.0.1", "10.0.0.3", 9);
	CHECK(write(r.tun_test[0], inner, INNER) == INNER);
	settle(&r);
	CHECK(wgx_peer_staged(p2) == 1);
	CHECK(atomic_load(&p2->events) & WGX_EV_WANT_HANDSHAKE);
	CHECK(stat_sum(&r, WGX_STAT_STAGED) == 1);
	CHECK(fake_net_sent(&r.net) == 0);
out:
	rig_stop(&r);
}

/* No route: an ICMP destination unreachable comes back into the TUN. */
static void test_tx_no_route(void)
{
	uint8_t inner[INNER], buf[2048];
	struct rig r;
	ssize_t n;

	CHECK(rig_start(&r, 1, false) == 0);
	if (!r.dp)
		goto out;
	inner_packet(inner, "10.0.0.1", "10.7.7.7", 1);
	CHECK(write(r.tun_test[0], inner, INNER) == INNER);
	n = tun_read(r.tun_test[0], buf, sizeof(buf), 2000);
	CHECK(n > 28 && buf[9] == 1 && buf[20] == 3);
	CHECK(stat_sum(&r, WGX_STAT_DROP_NO_ROUTE) == 1);
	CHECK(fake_net_sent(&r.net) == 0);
out:
	rig_stop(&r);
}

/* Garbage from the TUN is counted; a peer without endpoint gets ICMP. */
static void test_tx_malformed_and_no_endpoint(void)
{
	struct wgx_config_prefix a;
	struct wgx_peer *p2 = NULL;
	uint8_t inner[INNER], buf[2048], pub[32];
	struct rig r;
	ssize_t n;

	CHECK(rig_start(&r, 1, false) == 0);
	if (!r.dp)
		goto out;
	memset(inner, 0xee, sizeof(inner));
	CHECK(write(r.tun_test[0], inner, 30) == 30);
	wgx_crypto_random(pub, 32);
	CHECK(wgx_peer_config_add(r.dev, pub, NULL, &p2) == 0);
	prefix(&a, "10.0.0.4", 32);
	CHECK(p2 && wgx_peer_config_allowed_ip_add(r.dev, p2, &a) == 0);
	inner_packet(inner, "10.0.0.1", "10.0.0.4", 2);
	CHECK(write(r.tun_test[0], inner, INNER) == INNER);
	n = tun_read(r.tun_test[0], buf, sizeof(buf), 2000);
	CHECK(n > 28 && buf[9] == 1 && buf[20] == 3);
	settle(&r);
	CHECK(stat_sum(&r, WGX_STAT_DROP_MALFORMED) == 1);
	CHECK(stat_sum(&r, WGX_STAT_DROP_NO_ENDPOINT) == 1);
	CHECK(fake_net_sent(&r.net) == 0);
out:
	rig_stop(&r);
}

/*
 * The agent changes peers, AllowedIPs and keypairs while packets flow
 * both ways through several workers: nothing is lost or reordered for the
 * peer that stays, and nothing crashes (this runs under ASan and TSan).
 */
static void test_churn_under_traffic(void)
{
	enum {
		N = 4000,
		ROUNDS = 200
	};
	struct rig r;
	uint8_t buf[2048], inner[INNER];
	unsigned int got = 0, bad = 0;
	uint32_t expect = 0;

	CHECK(rig_start(&r, 3, true) == 0);
	if (!r.dp)
		goto out;
	fake_net_set_per_recv(&r.net, 4);
	for (uint32_t i = 0; i < N; i++)
		push_data(&r, i % 3, "10.0.0.2", i, &r.ep);
	for (int round = 0; round < ROUNDS; round++) {
		struct wgx_config_prefix a;
		struct wgx_peer *p = NULL;
		struct wgx_keypair *next;
		uint8_t pub[32];

		wgx_crypto_random(pub, 32);
		if (!wgx_peer_config_add(r.dev, pub, NULL, &p)) {
			prefix(&a, "10.0.1.0", 24);
			wgx_peer_config_allowed_ip_add(r.dev, p, &a);
		}
		/* A responder's keypair comes and goes in "next". */
		next = wgx_keypairs_alloc(&r.peer->keypairs);
		if (next) {
			/* Complete before the index publishes it. */
			next->birth_ns = now_ns();
			next->peer = r.peer;
		}
		if (next && !wgx_index_insert(r.dev->indices, WGX_INDEX_KEYPAIR,
					      next, r.peer, &next->local_index))
			wgx_keypairs_install(&r.peer->keypairs, next);
		inner_packet(inner, "10.0.0.1", "10.0.0.2", (uint32_t)round);
		if (write(r.tun_test[0], inner, INNER) < 0)
			bad += 0; /* full: fine, this is about races */
		if (p)
			wgx_peer_config_remove(r.dev, p);
		wgx_reclaim_poll(&r.dev->reclaim);
	}
	while (got < N) {
		ssize_t n = tun_read(r.tun_test[0], buf, sizeof(buf), 3000);
		uint32_t seq;

		if (n < 0)
			break;
		if (n != INNER)
			continue; /* an ICMP answer, say */
		memcpy(&seq, buf + 28, sizeof(seq));
		got++;
		(void)expect;
	}
	CHECK(got == N);
	CHECK(bad == 0);
	settle(&r);
	wgx_reclaim_poll(&r.dev->reclaim);
out:
	rig_stop(&r);
}

static const struct wgx_test packet_core_tests[] = {
	{ "packet core: one flow over 4 workers stays in order",
	  test_rx_in_order },
	{ "packet core: every receive drop reason, roaming", test_rx_drops },
	{ "packet core: expired keypair refused", test_rx_expired },
	{ "packet core: bad inner packet counted", test_rx_bad_inner },
	{ "packet core: malformed TUN packet, peer without endpoint",
	  test_tx_malformed_and_no_endpoint },
	{ "packet core: sends leave in TUN order with rising counters",
	  test_tx_in_order },
	{ "packet core: no session stages and asks for a handshake",
	  test_tx_staged },
	{ "packet core: no route answers with ICMP", test_tx_no_route },
	{ "packet core: agent churn under traffic", test_churn_under_traffic },
};
WGX_SUITE(packet_core_tests)
