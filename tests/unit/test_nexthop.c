// SPDX-License-Identifier: MIT
/*
 * The next-hop table: what a worker decides for an endpoint in each
 * state, neighbours shared by endpoints and changed in one store, MACs
 * learned from frames as the fallback, asks for what is unknown or out of
 * date (once each), replacement and growth that keep what was learned,
 * and every object freed (ASan runs these too).
 */
#include "test.h"

#include <arpa/inet.h>
#include <stdio.h>

#include "device/nexthop.h"

static const uint8_t MAC_GW[6] = { 2, 0, 0, 0, 0, 0x11 };
static const uint8_t MAC_RX[6] = { 2, 0, 0, 0, 0, 0x22 };

struct fixture {
	struct wgx_reclaim reclaim;
	struct wgx_nh_table t;
};

static void setup(struct fixture *f)
{
	wgx_reclaim_init(&f->reclaim);
	CHECK(wgx_nh_init(&f->t, &f->reclaim) == 0);
}

static void teardown(struct fixture *f)
{
	wgx_reclaim_flush(&f->reclaim);
	wgx_nh_destroy(&f->t);
}

static union wgx_sockaddr sa4(const char *ip, uint16_t port)
{
	union wgx_sockaddr s = { 0 };

	s.in4.sin_family = AF_INET;
	s.in4.sin_port = htons(port);
	inet_pton(AF_INET, ip, &s.in4.sin_addr);
	return s;
}

static union wgx_sockaddr sa6(const char *ip, uint16_t port)
{
	union wgx_sockaddr s = { 0 };

	s.in6.sin6_family = AF_INET6;
	s.in6.sin6_port = htons(port);
	inet_pton(AF_INET6, ip, &s.in6.sin6_addr);
	return s;
}

static struct wgx_nh_addr key(const union wgx_sockaddr *s)
{
	struct wgx_nh_addr a;

	wgx_nh_addr_of(s, &a);
	return a;
}

/* A route out of the underlay from src via gateway gw (same family). */
static struct wgx_nh_route here(const union wgx_sockaddr *src,
				const union wgx_sockaddr *gw)
{
	struct wgx_nh_route r = { .state = WGX_NH_HERE };
	struct wgx_nh_addr s = key(src);

	memcpy(r.src, s.addr, 16);
	r.next = key(gw);
	return r;
}

static void test_unknown_asks(void)
{
	struct fixture f;
	union wgx_sockaddr ep = sa4("198.51.100.7", 51820), src;
	struct wgx_nh_addr asks[WGX_NH_ASKS];
	uint8_t mac[6];

	setup(&f);
	CHECK(wgx_nh_next(&f.t, &ep, mac, &src) == WGX_NH_NO_NEXTHOP);
	CHECK(wgx_nh_take_asks(&f.t, asks, WGX_NH_ASKS) == 1);
	CHECK(asks[0].family == AF_INET);
	CHECK(!memcmp(asks[0].addr, &ep.in4.sin_addr, 4));
	/* Taken: the mailbox is empty again. */
	CHECK(wgx_nh_take_asks(&f.t, asks, WGX_NH_ASKS) == 0);
	teardown(&f);
}

static void test_states(void)
{
	struct fixture f;
	union wgx_sockaddr ep = sa4("198.51.100.7", 51820), gw, me, src;
	struct wgx_nh_route r;
	struct wgx_nh_neigh *nn;
	uint8_t mac[6];

	setup(&f);
	gw = sa4("192.0.2.254", 0);
	me = sa4("192.0.2.1", 0);
	r = here(&me, &gw);
	{
		struct wgx_nh_addr a = key(&ep);

		/* Routed here, but the gateway's MAC is unknown yet. */
		CHECK(wgx_nh_set(&f.t, &a, &r, &nn) == 0);
		CHECK(nn != NULL);
		CHECK(wgx_nh_next(&f.t, &ep, mac, &src) == WGX_NH_NO_NEXTHOP);
		/* The kernel resolves it. */
		CHECK(wgx_nh_neigh_update(&f.t, &r.next, MAC_GW));
		CHECK(wgx_nh_next(&f.t, &ep, mac, &src) == WGX_NH_SEND);
		CHECK_MEM(mac, MAC_GW, 6);
		CHECK(src.sa.sa_family == AF_INET);
		CHECK(!memcmp(&src.in4.sin_addr, &me.in4.sin_addr, 4));
		/* Another interface. */
		CHECK(wgx_nh_set(&f.t, &a,
				 &(struct wgx_nh_route){
					 .state = WGX_NH_ELSEWHERE },
				 &nn) == 0);
		CHECK(nn == NULL);
		CHECK(wgx_nh_next(&f.t, &ep, mac, &src) == WGX_NH_OTHER_IFACE);
		/* No route at all. */
		CHECK(wgx_nh_set(&f.t, &a,
				 &(struct wgx_nh_route){
					 .state = WGX_NH_UNROUTED },
				 &nn) == 0);
		CHECK(wgx_nh_next(&f.t, &ep, mac, &src) == WGX_NH_NO_NEXTHOP);
	}
	/* The gateway lost its last endpoint: not a neighbour of ours. */
	CHECK(!wgx_nh_neigh_update(&f.t, &r.next, MAC_GW));
	teardown(&f);
}

/* 1,000 endpoints behind one gateway: one store moves them all. */
static void test_shared_neighbour(void)
{
	struct fixture f;
	union wgx_sockaddr gw = sa6("fe80::1", 0), me = sa6("2001:db8::1", 0),
			   src;
	struct wgx_nh_route r = here(&me, &gw);
	const uint8_t other[6] = { 2, 0, 0, 0, 0, 0x33 };
	int made = 0, sent = 0;
	uint8_t mac[6];
	char ip[64];

	setup(&f);
	for (int i = 0; i < 1000; i++) {
		union wgx_sockaddr ep;
		struct wgx_nh_addr a;
		struct wgx_nh_neigh *nn;

		snprintf(ip, sizeof(ip), "2001:db8:1::%x", i + 1);
		ep = sa6(ip, 51820);
		a = key(&ep);
		CHECK(wgx_nh_set(&f.t, &a, &r, &nn) == 0);
		made += nn != NULL;
	}
	CHECK(made == 1);
	CHECK(wgx_nh_neigh_update(&f.t, &r.next, other));
	for (int i = 0; i < 1000; i++) {
		union wgx_sockaddr ep;

		snprintf(ip, sizeof(ip), "2001:db8:1::%x", i + 1);
		ep = sa6(ip, 51820);
		sent += wgx_nh_next(&f.t, &ep, mac, &src) == WGX_NH_SEND &&
			!memcmp(mac, other, 6);
	}
	CHECK(sent == 1000);
	CHECK(f.t.count == 1000);
	teardown(&f);
}

static void test_learned(void)
{
	struct fixture f;
	union wgx_sockaddr ep = sa4("10.9.0.2", 40000), me = sa4("10.9.0.1", 0),
			   src;
	struct wgx_nh_route r = here(&me, &ep);
	struct wgx_nh_addr a = key(&ep), asks[4];
	struct wgx_nh_neigh *nn;
	uint8_t mac[6];

	setup(&f);
	/* A frame from an endpoint with no entry yet: the agent is asked. */
	wgx_nh_learn(&f.t, &ep, MAC_RX);
	CHECK(wgx_nh_take_asks(&f.t, asks, 4) == 1);
	CHECK(wgx_nh_set(&f.t, &a, &r, &nn) == 0);
	wgx_nh_learn(&f.t, &ep, MAC_RX);
	/* The kernel has no neighbour: the learned MAC serves. */
	CHECK(wgx_nh_next(&f.t, &ep, mac, &src) == WGX_NH_SEND);
	CHECK_MEM(mac, MAC_RX, 6);
	/* The kernel's wins once it has one, and the learned is kept. */
	CHECK(wgx_nh_neigh_update(&f.t, &a, MAC_GW));
	CHECK(wgx_nh_next(&f.t, &ep, mac, &src) == WGX_NH_SEND);
	CHECK_MEM(mac, MAC_GW, 6);
	CHECK(wgx_nh_neigh_update(&f.t, &a, NULL));
	/* A replaced entry keeps what the receivers learned. */
	CHECK(wgx_nh_set(&f.t, &a, &r, &nn) == 0);
	CHECK(wgx_nh_next(&f.t, &ep, mac, &src) == WGX_NH_SEND);
	CHECK_MEM(mac, MAC_RX, 6);
	teardown(&f);
}

/* After a route change each entry in use asks once, then is fresh. */
static void test_refresh_once(void)
{
	struct fixture f;
	union wgx_sockaddr ep = sa4("10.9.0.2", 40000), me = sa4("10.9.0.1", 0),
			   src;
	struct wgx_nh_route r = here(&me, &ep);
	struct wgx_nh_addr a = key(&ep), asks[4];
	struct wgx_nh_neigh *nn;
	uint8_t mac[6];

	setup(&f);
	CHECK(wgx_nh_set(&f.t, &a, &r, &nn) == 0);
	wgx_nh_neigh_update(&f.t, &a, MAC_GW);
	CHECK(wgx_nh_next(&f.t, &ep, mac, &src) == WGX_NH_SEND);
	CHECK(wgx_nh_take_asks(&f.t, asks, 4) == 0);
	wgx_nh_routes_changed(&f.t);
	/* Still used while the agent looks again; asked once only. */
	for (int i = 0; i < 10; i++)
		CHECK(wgx_nh_next(&f.t, &ep, mac, &src) == WGX_NH_SEND);
	CHECK(wgx_nh_take_asks(&f.t, asks, 4) == 1);
	CHECK(wgx_nh_set(&f.t, &a, &r, &nn) == 0);
	CHECK(wgx_nh_next(&f.t, &ep, mac, &src) == WGX_NH_SEND);
	CHECK(wgx_nh_take_asks(&f.t, asks, 4) == 0);
	teardown(&f);
}

/* Growth past many bucket sizes; removal frees the last neighbour ref. */
static void test_grow_remove(void)
{
	struct fixture f;
	union wgx_sockaddr me = sa4("10.0.0.1", 0), gw = sa4("10.0.0.254", 0),
			   src;
	struct wgx_nh_route r = here(&me, &gw);
	int found = 0;
	uint8_t mac[6];

	setup(&f);
	for (uint32_t i = 0; i < 20000; i++) {
		union wgx_sockaddr ep = sa4("0.0.0.0", 1);
		struct wgx_nh_addr a;
		struct wgx_nh_neigh *nn;

		ep.in4.sin_addr.s_addr = htonl(0x0a800000 + i);
		a = key(&ep);
		CHECK(wgx_nh_set(&f.t, &a, &r, &nn) == 0);
		if (i == 0)
			wgx_nh_neigh_update(&f.t, &r.next, MAC_GW);
	}
	CHECK(f.t.count == 20000);
	CHECK(f.t.n_neigh == 1);
	for (uint32_t i = 0; i < 20000; i++) {
		union wgx_sockaddr ep = sa4("0.0.0.0", 1);

		ep.in4.sin_addr.s_addr = htonl(0x0a800000 + i);
		found += wgx_nh_next(&f.t, &ep, mac, &src) == WGX_NH_SEND;
	}
	CHECK(found == 20000);
	for (uint32_t i = 0; i < 20000; i++) {
		union wgx_sockaddr ep = sa4("0.0.0.0", 1);
		struct wgx_nh_addr a;

		ep.in4.sin_addr.s_addr = htonl(0x0a800000 + i);
		a = key(&ep);
		wgx_nh_remove(&f.t, &a);
	}
	CHECK(f.t.count == 0);
	CHECK(f.t.n_neigh == 0);
	CHECK(wgx_reclaim_pending(&f.reclaim) > 20000);
	teardown(&f);
}

/* A full mailbox drops asks, counted; nothing blocks. */
static void test_mailbox_full(void)
{
	struct fixture f;
	struct wgx_nh_addr a = { .family = AF_INET }, out[WGX_NH_ASKS];

	setup(&f);
	for (int i = 0; i < WGX_NH_ASKS + 5; i++) {
		a.addr[0] = (uint8_t)i;
		wgx_nh_ask(&f.t, &a);
	}
	CHECK(atomic_load(&f.t.asks_dropped) == 5);
	CHECK(wgx_nh_take_asks(&f.t, out, WGX_NH_ASKS) == WGX_NH_ASKS);
	CHECK(out[0].addr[0] == 0);
	teardown(&f);
}

static const struct wgx_test nexthop_tests[] = {
	{ "nexthop: an unknown endpoint asks the agent", test_unknown_asks },
	{ "nexthop: here, elsewhere, unrouted", test_states },
	{ "nexthop: one neighbour for 1,000 endpoints", test_shared_neighbour },
	{ "nexthop: MAC learned from frames as the fallback", test_learned },
	{ "nexthop: a route change asks once per entry", test_refresh_once },
	{ "nexthop: 20,000 entries grow, then all removed", test_grow_remove },
	{ "nexthop: a full mailbox drops and counts", test_mailbox_full },
};
WGX_SUITE(nexthop_tests)
