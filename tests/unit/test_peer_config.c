// SPDX-License-Identifier: MIT
/*
 * Configuration steps and reloads on a real device (no datapath): a
 * reload changes exactly the difference, an unchanged one changes
 * nothing, and peers are found by key at any scale.
 */
#include "test.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>

#include "agent/peer_config.h"
#include "agent/protocol.h"
#include "core/crypto.h"
#include "core/key.h"

struct keyset {
	char priv[WGX_KEY_BASE64_LEN + 1];
	char pub[8][WGX_KEY_BASE64_LEN + 1];
	uint8_t pub_raw[8][WGX_KEY_LEN];
};

static void make_keys(struct keyset *k)
{
	uint8_t priv[32], pub[32];

	wgx_crypto_dh_generate(priv, pub);
	wgx_key_to_base64(k->priv, priv);
	for (int i = 0; i < 8; i++) {
		wgx_crypto_dh_generate(priv, k->pub_raw[i]);
		wgx_key_to_base64(k->pub[i], k->pub_raw[i]);
	}
	wgx_crypto_wipe(priv, sizeof(priv));
	(void)pub;
}

static struct wgx_config *parse(const char *text)
{
	struct wgx_config_opts opts = { .flags = WGX_CONFIG_NO_RESOLVE };
	struct wgx_config *cfg = NULL;

	if (wgx_config_parse_buf("t.conf", text, strlen(text), &opts, &cfg,
				 NULL))
		return NULL;
	return cfg;
}

/* A config text: the interface, then peers given as "i:prefix,prefix". */
static struct wgx_config *conf(const struct keyset *k, const char *const *peers,
			       int n)
{
	static char buf[8192];
	int used = snprintf(buf, sizeof(buf), "[Interface]\nPrivateKey = %s\n",
			    k->priv);

	for (int i = 0; i < n; i++) {
		int who = peers[i][0] - '0';

		used += snprintf(buf + used, sizeof(buf) - (size_t)used,
				 "[Peer]\nPublicKey = %s\nAllowedIPs = %s\n",
				 k->pub[who], peers[i] + 2);
	}
	return parse(buf);
}

static struct wgx_peer *owner_of(struct wgx_device *dev, const char *ip)
{
	uint8_t a[16];

	if (inet_pton(AF_INET, ip, a) == 1)
		return wgx_allowedips_lookup(&dev->allowedips, AF_INET, a);
	inet_pton(AF_INET6, ip, a);
	return wgx_allowedips_lookup(&dev->allowedips, AF_INET6, a);
}

static void test_reload_difference(void)
{
	static const char *const v1[] = { "0:10.0.0.1/32,fd00::1/128",
					  "1:10.0.0.2/32",
					  "2:10.0.0.3/32,10.9.0.0/16" };
	static const char *const v2[] = { "0:10.0.0.1/32,fd00::1/128",
					  "2:10.0.0.3/32,10.8.0.0/16",
					  "3:10.0.0.4/32" };
	struct wgx_peer_config_stats st;
	struct wgx_device *dev;
	struct wgx_config *c1, *c2;
	struct wgx_peer *p0, *p2;
	struct keyset k;
	uint32_t id2;

	make_keys(&k);
	c1 = conf(&k, v1, 3);
	c2 = conf(&k, v2, 3);
	CHECK(c1 && c2 && wgx_device_new(&dev) == 0);
	if (!c1 || !c2)
		goto out;
	CHECK(wgx_peer_config_apply(dev, c1, &st) == 0);
	CHECK(st.peers_added == 3 && st.allowed_ips_added == 5);
	CHECK(st.private_key_changed);
	CHECK(dev->peers.count == 3);
	p0 = wgx_device_find_peer(dev, k.pub_raw[0]);
	p2 = wgx_device_find_peer(dev, k.pub_raw[2]);
	CHECK(p0 && p2 && owner_of(dev, "10.9.1.1") == p2);
	id2 = p2 ? p2->id : 0;
	/* Again: nothing changes. */
	CHECK(wgx_peer_config_apply(dev, c1, &st) == 0);
	CHECK(!st.peers_added && !st.peers_removed && !st.peers_changed);
	CHECK(!st.allowed_ips_added && !st.allowed_ips_removed);
	CHECK(!st.private_key_changed);
	/* v2: peer 1 goes, peer 3 comes, peer 2 swaps a prefix. */
	CHECK(wgx_peer_config_apply(dev, c2, &st) == 0);
	CHECK(st.peers_added == 1 && st.peers_removed == 1);
	CHECK(st.allowed_ips_added == 2 && st.allowed_ips_removed == 1);
	CHECK(dev->peers.count == 3);
	CHECK(!wgx_device_find_peer(dev, k.pub_raw[1]));
	CHECK(wgx_device_find_peer(dev, k.pub_raw[0]) == p0);
	CHECK(wgx_device_find_peer(dev, k.pub_raw[2]) == p2);
	CHECK(p2 && p2->id == id2);
	CHECK(owner_of(dev, "10.9.1.1") == NULL);
	CHECK(p2 && owner_of(dev, "10.8.1.1") == p2);
	CHECK(owner_of(dev, "10.0.0.2") == NULL);
	CHECK(owner_of(dev, "10.0.0.4") ==
	      wgx_device_find_peer(dev, k.pub_raw[3]));
	CHECK(owner_of(dev, "fd00::1") == p0);
	/* The order of the file is the order of the peers. */
	CHECK(dev->peers.first == p0 && p0 && p0->list_next == p2);
out:
	wgx_config_free(c1);
	wgx_config_free(c2);
	wgx_device_free(dev);
}

/* A prefix moving between peers in one reload ends with its new owner. */
static void test_reload_moves_prefix(void)
{
	static const char *const v1[] = { "0:10.1.0.0/16", "1:10.2.0.0/16" };
	static const char *const v2[] = { "0:10.2.0.0/16", "1:10.1.0.0/16" };
	struct wgx_peer_config_stats st;
	struct wgx_device *dev = NULL;
	struct wgx_config *c1, *c2;
	struct keyset k;

	make_keys(&k);
	c1 = conf(&k, v1, 2);
	c2 = conf(&k, v2, 2);
	CHECK(c1 && c2 && wgx_device_new(&dev) == 0);
	if (c1 && c2 && dev) {
		CHECK(wgx_peer_config_apply(dev, c1, NULL) == 0);
		CHECK(wgx_peer_config_apply(dev, c2, &st) == 0);
		CHECK(owner_of(dev, "10.2.3.4") ==
		      wgx_device_find_peer(dev, k.pub_raw[0]));
		CHECK(owner_of(dev, "10.1.3.4") ==
		      wgx_device_find_peer(dev, k.pub_raw[1]));
		CHECK(wgx_allowedips_count(&dev->allowedips) == 2);
	}
	wgx_config_free(c1);
	wgx_config_free(c2);
	wgx_device_free(dev);
}

static void test_steps(void)
{
	struct wgx_config_prefix a = { .family = AF_INET, .cidr = 24 };
	struct wgx_device *dev = NULL;
	struct wgx_peer *p = NULL, *q = NULL;
	uint8_t k1[32], k2[32], priv[32];

	wgx_crypto_dh_generate(priv, k1);
	wgx_crypto_dh_generate(priv, k2);
	inet_pton(AF_INET, "192.0.2.0", a.addr.bytes);
	CHECK(wgx_device_new(&dev) == 0);
	if (!dev)
		return;
	wgx_peer_config_set_private_key(dev, priv);
	CHECK(wgx_peer_config_add(dev, k1, NULL, &p) == 0 && p);
	CHECK(wgx_peer_config_add(dev, k2, NULL, &q) == 0 && q);
	CHECK(p && wgx_peer_config_allowed_ip_add(dev, p, &a) == 0);
	CHECK(owner_of(dev, "192.0.2.9") == p);
	/* Moving to q, then removing from p is refused: q holds it. */
	CHECK(q && wgx_peer_config_allowed_ip_add(dev, q, &a) == 0);
	CHECK(wgx_peer_config_allowed_ip_remove(dev, p, &a) == -ENOENT);
	CHECK(wgx_peer_config_allowed_ip_remove(dev, q, &a) == 0);
	CHECK(owner_of(dev, "192.0.2.9") == NULL);
	wgx_peer_config_set_keepalive(dev, p, 25);
	CHECK(p->persistent_keepalive == 25);
	CHECK(wgx_protocol_next_deadline(dev) != 0);
	wgx_peer_config_set_keepalive(dev, p, 0);
	CHECK(wgx_protocol_next_deadline(dev) == 0);
	wgx_peer_config_remove(dev, p);
	CHECK(dev->peers.count == 1 && !wgx_device_find_peer(dev, k1));
	wgx_crypto_wipe(priv, sizeof(priv));
	wgx_device_free(dev);
}

/* Many peers: each found by key, the set survives removals. */
static void test_many_peers(void)
{
	enum {
		N = 100000
	};
	static uint8_t keys[N][32];
	struct wgx_device *dev = NULL;
	unsigned int bad = 0;

	CHECK(wgx_device_new(&dev) == 0);
	if (!dev)
		return;
	for (int i = 0; i < N; i++) {
		struct wgx_peer *p;

		wgx_crypto_random(keys[i], 32);
		if (wgx_peer_config_add(dev, keys[i], NULL, &p))
			bad++;
	}
	for (int i = 0; i < N; i += 2)
		wgx_peer_config_remove(dev, wgx_device_find_peer(dev, keys[i]));
	for (int i = 0; i < N; i++) {
		struct wgx_peer *p = wgx_device_find_peer(dev, keys[i]);

		if ((i % 2 == 0) != (p == NULL))
			bad++;
		if (p && memcmp(p->public_key, keys[i], 32))
			bad++;
	}
	CHECK(bad == 0);
	CHECK(dev->peers.count == N / 2);
	wgx_device_free(dev);
}

/* A reader never sees half of one endpoint and half of another. */
struct ep_race {
	struct wgx_peer *p;
	union wgx_sockaddr a, b;
	_Atomic bool stop;
	unsigned long torn, reads;
};

static void *ep_writer(void *arg)
{
	struct ep_race *r = arg;

	for (int i = 0; i < 200000 && !atomic_load(&r->stop); i++)
		wgx_peer_set_endpoint(r->p, i & 1 ? &r->a : &r->b);
	atomic_store(&r->stop, true);
	return NULL;
}

static void test_endpoint_race(void)
{
	struct wgx_device *dev = NULL;
	struct wgx_peer *p = NULL;
	struct ep_race r = { 0 };
	uint8_t key[32];
	pthread_t th;

	wgx_crypto_random(key, 32);
	CHECK(wgx_device_new(&dev) == 0);
	CHECK(dev && wgx_peer_config_add(dev, key, NULL, &p) == 0);
	if (!p)
		goto out;
	r.p = p;
	r.a.in4 = (struct sockaddr_in){ .sin_family = AF_INET,
					.sin_port = htons(1),
					.sin_addr.s_addr = htonl(0x0a000001) };
	r.b.in6 = (struct sockaddr_in6){ .sin6_family = AF_INET6,
					 .sin6_port = htons(2) };
	memset(&r.b.in6.sin6_addr, 0xab, 16);
	CHECK(pthread_create(&th, NULL, ep_writer, &r) == 0);
	while (!atomic_load(&r.stop)) {
		union wgx_sockaddr got;
		bool has;

		wgx_peer_get_endpoint(p, &got, &has);
		r.reads++;
		if (has && !wgx_sockaddr_equal(&got, &r.a) &&
		    !wgx_sockaddr_equal(&got, &r.b))
			r.torn++;
	}
	pthread_join(th, NULL);
	CHECK(r.reads > 0 && r.torn == 0);
out:
	wgx_device_free(dev);
}

static const struct wgx_test peer_config_tests[] = {
	{ "peer_config: a reload applies exactly the difference",
	  test_reload_difference },
	{ "peer_config: prefixes swapped between peers in one reload",
	  test_reload_moves_prefix },
	{ "peer_config: single steps", test_steps },
	{ "peer_config: many peers found by key", test_many_peers },
	{ "peer: endpoint reads are never torn", test_endpoint_race },
};
WGX_SUITE(peer_config_tests)
