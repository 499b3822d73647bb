// SPDX-License-Identifier: MIT
/*
 * AllowedIPs: hand-picked longest-prefix cases for both families, moves,
 * removal, walk order, bad arguments, and a seeded random run checked
 * against a brute-force linear scan.
 */
#include "test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/allowedips.h"

static int peers[32];
#define A (&peers[0])
#define B (&peers[1])
#define C (&peers[2])
#define D (&peers[3])

static int addr_family(const char *ip)
{
	return strchr(ip, ':') ? AF_INET6 : AF_INET;
}

static void parse_ip(const char *ip, uint8_t out[16])
{
	memset(out, 0, 16);
	CHECK(inet_pton(addr_family(ip), ip, out) == 1);
}

static int ins(struct wgx_allowedips *t, const char *ip, uint8_t cidr,
	       void *peer)
{
	uint8_t a[16];

	parse_ip(ip, a);
	return wgx_allowedips_insert(t, addr_family(ip), a, cidr, peer);
}

static int rm(struct wgx_allowedips *t, const char *ip, uint8_t cidr,
	      const void *peer)
{
	uint8_t a[16];

	parse_ip(ip, a);
	return wgx_allowedips_remove(t, addr_family(ip), a, cidr, peer);
}

static void *look(const struct wgx_allowedips *t, const char *ip)
{
	uint8_t a[16];

	parse_ip(ip, a);
	return wgx_allowedips_lookup(t, addr_family(ip), a);
}

/* walk() output as "ip/cidr ip/cidr ..." for compact comparisons. */
struct walk_text {
	char buf[1024];
	int calls;
	int stop_after; /* return 7 from this call on; 0: never */
};

static int walk_print(void *ctx, int family, const void *addr, uint8_t cidr)
{
	struct walk_text *w = ctx;
	char ip[INET6_ADDRSTRLEN];
	size_t len = strlen(w->buf);

	CHECK(family == AF_INET || family == AF_INET6);
	CHECK(inet_ntop(family, addr, ip, sizeof(ip)) != NULL);
	snprintf(w->buf + len, sizeof(w->buf) - len, "%s%s/%u", len ? " " : "",
		 ip, cidr);
	w->calls++;
	return w->stop_after && w->calls >= w->stop_after ? 7 : 0;
}

static const char *walk_str(const struct wgx_allowedips *t, const void *peer)
{
	static struct walk_text w;

	memset(&w, 0, sizeof(w));
	CHECK(wgx_allowedips_walk(t, peer, walk_print, &w) == 0);
	return w.buf;
}

static void test_empty(void)
{
	struct wgx_allowedips t;
	struct walk_text w = { .calls = 0 };
	uint8_t zero[16] = { 0 };

	wgx_allowedips_init(&t);
	CHECK(look(&t, "10.0.0.1") == NULL);
	CHECK(look(&t, "0.0.0.0") == NULL);
	CHECK(look(&t, "2001:db8::1") == NULL);
	CHECK(look(&t, "::") == NULL);
	CHECK(wgx_allowedips_lookup(&t, AF_UNIX, zero) == NULL);
	CHECK(wgx_allowedips_count(&t) == 0);
	CHECK(wgx_allowedips_bytes(&t) == 0);
	CHECK(wgx_allowedips_walk(&t, A, walk_print, &w) == 0);
	CHECK(w.calls == 0);
	CHECK(rm(&t, "10.0.0.0", 8, A) == -ENOENT);
	CHECK(wgx_allowedips_remove_by_peer(&t, A) == 0);
	wgx_allowedips_free(&t);
	CHECK(wgx_allowedips_bytes(&t) == 0);
}

static void test_v4_longest(void)
{
	struct wgx_allowedips t;

	wgx_allowedips_init(&t);
	CHECK(ins(&t, "10.0.0.0", 8, A) == 0);
	CHECK(ins(&t, "10.1.0.0", 16, B) == 0);
	CHECK(ins(&t, "10.1.2.0", 24, C) == 0);
	CHECK(ins(&t, "10.1.2.3", 32, D) == 0);
	/* Siblings: the two halves of 192.168.0.0/16. */
	CHECK(ins(&t, "192.168.0.0", 17, A) == 0);
	CHECK(ins(&t, "192.168.128.0", 17, B) == 0);
	CHECK(wgx_allowedips_count(&t) == 6);

	CHECK(look(&t, "10.1.2.3") == D);
	CHECK(look(&t, "10.1.2.4") == C);
	CHECK(look(&t, "10.1.2.255") == C);
	CHECK(look(&t, "10.1.3.0") == B);
	CHECK(look(&t, "10.1.255.255") == B);
	CHECK(look(&t, "10.2.0.0") == A);
	CHECK(look(&t, "10.255.255.255") == A);
	CHECK(look(&t, "11.0.0.0") == NULL);
	CHECK(look(&t, "9.255.255.255") == NULL);
	CHECK(look(&t, "192.168.127.255") == A);
	CHECK(look(&t, "192.168.128.0") == B);
	CHECK(look(&t, "192.169.0.0") == NULL);
	/* A v4 prefix never answers a v6 lookup of the same bytes. */
	CHECK(look(&t, "a01:203::") == NULL);

	/* Inserting in the opposite order builds the same answers. */
	wgx_allowedips_free(&t);
	CHECK(ins(&t, "10.1.2.3", 32, D) == 0);
	CHECK(ins(&t, "10.1.2.0", 24, C) == 0);
	CHECK(ins(&t, "10.1.0.0", 16, B) == 0);
	CHECK(ins(&t, "10.0.0.0", 8, A) == 0);
	CHECK(look(&t, "10.1.2.3") == D);
	CHECK(look(&t, "10.1.2.2") == C);
	CHECK(look(&t, "10.1.200.2") == B);
	CHECK(look(&t, "10.200.0.0") == A);
	wgx_allowedips_free(&t);
}

static void test_v4_edges(void)
{
	struct wgx_allowedips t;

	wgx_allowedips_init(&t);
	CHECK(ins(&t, "0.0.0.0", 0, A) == 0);
	CHECK(look(&t, "0.0.0.0") == A);
	CHECK(look(&t, "255.255.255.255") == A);
	CHECK(look(&t, "::") == NULL);
	CHECK(ins(&t, "255.255.255.255", 32, B) == 0);
	CHECK(ins(&t, "0.0.0.0", 32, C) == 0);
	CHECK(ins(&t, "128.0.0.0", 1, D) == 0);
	CHECK(look(&t, "255.255.255.255") == B);
	CHECK(look(&t, "255.255.255.254") == D);
	CHECK(look(&t, "128.0.0.0") == D);
	CHECK(look(&t, "127.255.255.255") == A);
	CHECK(look(&t, "0.0.0.0") == C);
	CHECK(look(&t, "0.0.0.1") == A);
	wgx_allowedips_free(&t);
}

static void test_v6_longest(void)
{
	struct wgx_allowedips t;

	wgx_allowedips_init(&t);
	CHECK(ins(&t, "::", 0, A) == 0);
	CHECK(ins(&t, "2001:db8::", 32, B) == 0);
	CHECK(ins(&t, "2001:db8::", 48, C) == 0);
	CHECK(ins(&t, "2001:db8:0:1::", 64, D) == 0);
	CHECK(ins(&t, "2001:db8:0:1::1", 128, A) == 0);
	/* Siblings split right after the 64-bit boundary and before it. */
	CHECK(ins(&t, "2001:db8:1:2::", 65, B) == 0);
	CHECK(ins(&t, "2001:db8:1:2:8000::", 65, C) == 0);
	CHECK(ins(&t, "2001:db8:1:2::", 63, D) == 0);
	CHECK(wgx_allowedips_count(&t) == 8);

	CHECK(look(&t, "2001:db8:0:1::1") == A);
	CHECK(look(&t, "2001:db8:0:1::2") == D);
	CHECK(look(&t, "2001:db8:0:1:ffff:ffff:ffff:ffff") == D);
	CHECK(look(&t, "2001:db8:0:2::") == C);
	CHECK(look(&t, "2001:db8:ffff::") == B);
	CHECK(look(&t, "2001:db9::") == A);
	CHECK(look(&t, "ffff::") == A);
	CHECK(look(&t, "2001:db8:1:2::5") == B);
	CHECK(look(&t, "2001:db8:1:2:7fff:ffff:ffff:ffff") == B);
	CHECK(look(&t, "2001:db8:1:2:8000::") == C);
	CHECK(look(&t, "2001:db8:1:3::") == D);
	CHECK(look(&t, "2001:db8:1:4::") == B);
	/* ::/0 is IPv6 only. */
	CHECK(look(&t, "1.2.3.4") == NULL);
	wgx_allowedips_free(&t);

	CHECK(ins(&t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 128, A) == 0);
	CHECK(ins(&t, "::", 128, B) == 0);
	CHECK(look(&t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff") == A);
	CHECK(look(&t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe") == NULL);
	CHECK(look(&t, "::") == B);
	CHECK(look(&t, "::1") == NULL);
	CHECK(look(&t, "8000::") == NULL);
	wgx_allowedips_free(&t);
}

/*
 * Short prefixes, which live in the jump table's slots rather than below
 * them (the table indexes at least the first 8 bits), and removals that
 * pull a sibling up into the place of the removed prefix.
 */
static void test_short_prefixes(void)
{
	struct wgx_allowedips t;

	wgx_allowedips_init(&t);
	CHECK(ins(&t, "0.0.0.0", 6, A) == 0);
	CHECK(ins(&t, "8.0.0.0", 7, B) == 0);
	CHECK(rm(&t, "0.0.0.0", 6, A) == 0);
	CHECK(look(&t, "8.0.0.1") == B);
	CHECK(look(&t, "9.255.0.0") == B);
	CHECK(look(&t, "0.0.0.1") == NULL);
	CHECK(look(&t, "3.0.0.0") == NULL);
	CHECK(look(&t, "10.0.0.0") == NULL);
	CHECK(rm(&t, "8.0.0.0", 7, B) == 0);

	/* A prefix inside another, with slots on both sides of it. */
	CHECK(ins(&t, "0.0.0.0", 4, A) == 0);
	CHECK(ins(&t, "4.0.0.0", 6, B) == 0);
	CHECK(look(&t, "3.0.0.0") == A);
	CHECK(look(&t, "5.0.0.0") == B);
	CHECK(look(&t, "8.0.0.0") == A);
	CHECK(look(&t, "15.255.255.255") == A);
	CHECK(ins(&t, "0.0.0.0", 5, C) == 0);
	CHECK(ins(&t, "6.0.0.0", 8, D) == 0);
	CHECK(ins(&t, "6.128.0.0", 9, A) == 0);
	CHECK(look(&t, "1.0.0.0") == C);
	CHECK(look(&t, "5.0.0.0") == B);
	CHECK(look(&t, "6.1.0.0") == D);
	CHECK(look(&t, "6.129.0.0") == A);
	CHECK(look(&t, "7.0.0.0") == B);
	CHECK(look(&t, "8.0.0.0") == A);
	CHECK(look(&t, "12.0.0.0") == A);
	CHECK(rm(&t, "0.0.0.0", 4, A) == 0);
	CHECK(look(&t, "12.0.0.0") == NULL);
	CHECK(look(&t, "1.0.0.0") == C);
	CHECK(rm(&t, "0.0.0.0", 5, C) == 0);
	CHECK(look(&t, "1.0.0.0") == NULL);
	CHECK(look(&t, "4.0.0.0") == B);
	CHECK(look(&t, "6.0.0.0") == D);
	CHECK(look(&t, "6.128.0.0") == A);
	CHECK(rm(&t, "6.0.0.0", 8, D) == 0);
	CHECK(look(&t, "6.0.0.0") == B);
	CHECK(look(&t, "6.128.0.0") == A);
	CHECK(look(&t, "8.0.0.0") == NULL);
	wgx_allowedips_free(&t);

	CHECK(ins(&t, "::", 6, A) == 0);
	CHECK(ins(&t, "800::", 7, B) == 0);
	CHECK(ins(&t, "fe00::", 7, C) == 0);
	CHECK(look(&t, "3ff::") == A);
	CHECK(rm(&t, "::", 6, A) == 0);
	CHECK(look(&t, "3ff::") == NULL);
	CHECK(look(&t, "9ff::") == B);
	CHECK(look(&t, "ff00::1") == C);
	CHECK(look(&t, "fc00::1") == NULL);
	wgx_allowedips_free(&t);
}

static void test_reinsert_moves(void)
{
	struct wgx_allowedips t;

	wgx_allowedips_init(&t);
	CHECK(ins(&t, "10.0.0.0", 8, A) == 0);
	CHECK(ins(&t, "10.1.0.0", 16, A) == 0);
	CHECK(ins(&t, "fd00::", 8, A) == 0);
	CHECK(ins(&t, "10.0.0.0", 8, B) == 0);
	CHECK(wgx_allowedips_count(&t) == 3);
	CHECK(look(&t, "10.2.0.0") == B);
	CHECK(look(&t, "10.1.0.0") == A);
	CHECK(!strcmp(walk_str(&t, A), "10.1.0.0/16 fd00::/8"));
	CHECK(!strcmp(walk_str(&t, B), "10.0.0.0/8"));
	/* The old owner no longer holds it. */
	CHECK(rm(&t, "10.0.0.0", 8, A) == -ENOENT);
	/* Same peer again: still one entry, now last in the list. */
	CHECK(ins(&t, "10.1.0.0", 16, A) == 0);
	CHECK(!strcmp(walk_str(&t, A), "fd00::/8 10.1.0.0/16"));
	CHECK(wgx_allowedips_count(&t) == 3);
	/* A moved prefix takes its peer's last entry with it. */
	CHECK(ins(&t, "10.0.0.0", 8, C) == 0);
	CHECK(!strcmp(walk_str(&t, B), ""));
	CHECK(look(&t, "10.3.0.0") == C);
	wgx_allowedips_free(&t);
}

static void test_host_bits_masked(void)
{
	struct wgx_allowedips t;

	wgx_allowedips_init(&t);
	CHECK(ins(&t, "10.1.2.3", 8, A) == 0);
	CHECK(!strcmp(walk_str(&t, A), "10.0.0.0/8"));
	CHECK(look(&t, "10.200.0.1") == A);
	/* Different host bits name the same prefix: it moves. */
	CHECK(ins(&t, "10.9.9.9", 8, B) == 0);
	CHECK(wgx_allowedips_count(&t) == 1);
	CHECK(look(&t, "10.0.0.0") == B);
	CHECK(ins(&t, "1.2.3.4", 0, C) == 0);
	CHECK(!strcmp(walk_str(&t, C), "0.0.0.0/0"));
	CHECK(rm(&t, "99.99.99.99", 0, C) == 0);

	CHECK(ins(&t, "2001:db8:1:2:ffff:1:2:3", 65, A) == 0);
	CHECK(ins(&t, "2001:db8:ffff:ffff:ffff::", 17, A) == 0);
	CHECK(!strcmp(walk_str(&t, A), "2001:db8:1:2:8000::/65 2001::/17"));
	CHECK(look(&t, "2001:db8:1:2:8000::1") == A);
	CHECK(look(&t, "2001:db8:1:2:7fff::") == A); /* via 2001::/17 */
	CHECK(look(&t, "2001:8000::") == NULL);
	CHECK(rm(&t, "2001:db8:1:2:ffff::", 65, A) == 0);
	CHECK(wgx_allowedips_count(&t) == 2);
	wgx_allowedips_free(&t);
}

static void test_bad_arguments(void)
{
	struct wgx_allowedips t;
	uint8_t a[16] = { 10 };

	wgx_allowedips_init(&t);
	CHECK(wgx_allowedips_insert(&t, AF_INET, a, 33, A) == -EINVAL);
	CHECK(wgx_allowedips_insert(&t, AF_INET, a, 255, A) == -EINVAL);
	CHECK(wgx_allowedips_insert(&t, AF_INET6, a, 129, A) == -EINVAL);
	CHECK(wgx_allowedips_insert(&t, AF_UNIX, a, 8, A) == -EAFNOSUPPORT);
	CHECK(wgx_allowedips_insert(&t, AF_INET, NULL, 8, A) == -EINVAL);
	CHECK(wgx_allowedips_insert(&t, AF_INET, a, 8, NULL) == -EINVAL);
	CHECK(wgx_allowedips_count(&t) == 0);
	CHECK(wgx_allowedips_bytes(&t) == 0);

	CHECK(wgx_allowedips_insert(&t, AF_INET, a, 32, A) == 0);
	CHECK(wgx_allowedips_insert(&t, AF_INET6, a, 128, A) == 0);
	CHECK(wgx_allowedips_remove(&t, AF_INET, a, 33, A) == -EINVAL);
	CHECK(wgx_allowedips_remove(&t, AF_INET6, a, 200, A) == -EINVAL);
	CHECK(wgx_allowedips_remove(&t, AF_UNIX, a, 8, A) == -EAFNOSUPPORT);
	CHECK(wgx_allowedips_remove(&t, AF_INET, NULL, 8, A) == -EINVAL);
	CHECK(wgx_allowedips_remove(&t, AF_INET, a, 32, NULL) == -ENOENT);
	CHECK(wgx_allowedips_count(&t) == 2);
	CHECK(wgx_allowedips_lookup(&t, AF_INET, a) == A);
	wgx_allowedips_free(&t);
}

static void test_remove_one(void)
{
	struct wgx_allowedips t;

	wgx_allowedips_init(&t);
	CHECK(ins(&t, "10.0.0.0", 8, A) == 0);
	CHECK(ins(&t, "10.1.0.0", 16, B) == 0);
	CHECK(ins(&t, "10.1.2.0", 24, C) == 0);
	CHECK(ins(&t, "10.0.0.0", 24, D) == 0);
	CHECK(ins(&t, "10.0.1.0", 24, D) == 0);
	CHECK(ins(&t, "2001:db8::", 32, B) == 0);

	/* Wrong owner, absent prefix, or only a joining node: nothing. */
	CHECK(rm(&t, "10.1.0.0", 16, A) == -ENOENT);
	CHECK(rm(&t, "10.1.0.0", 17, B) == -ENOENT);
	CHECK(rm(&t, "10.0.0.0", 23, D) == -ENOENT);
	CHECK(rm(&t, "10.1.0.0", 16, B) == 0);
	CHECK(rm(&t, "10.1.0.0", 16, B) == -ENOENT);
	CHECK(wgx_allowedips_count(&t) == 5);
	/* The /16 falls back to the /8; everything else is intact. */
	CHECK(look(&t, "10.1.3.0") == A);
	CHECK(look(&t, "10.1.2.9") == C);
	CHECK(look(&t, "10.0.0.9") == D);
	CHECK(look(&t, "10.0.1.9") == D);
	CHECK(look(&t, "2001:db8::1") == B);

	/* Removing the node in the middle of a chain keeps both ends. */
	CHECK(rm(&t, "10.0.0.0", 8, A) == 0);
	CHECK(look(&t, "10.1.2.9") == C);
	CHECK(look(&t, "10.0.0.9") == D);
	CHECK(look(&t, "10.0.2.9") == NULL);
	CHECK(rm(&t, "10.0.0.0", 24, D) == 0);
	CHECK(look(&t, "10.0.0.9") == NULL);
	CHECK(look(&t, "10.0.1.9") == D);
	CHECK(!strcmp(walk_str(&t, D), "10.0.1.0/24"));
	CHECK(rm(&t, "10.1.2.0", 24, C) == 0);
	CHECK(rm(&t, "10.0.1.0", 24, D) == 0);
	CHECK(rm(&t, "2001:db8::", 32, B) == 0);
	/* Every node and the peer hash are gone. */
	CHECK(wgx_allowedips_count(&t) == 0);
	CHECK(wgx_allowedips_bytes(&t) == 0);
	wgx_allowedips_free(&t);
}

static void test_remove_by_peer(void)
{
	struct wgx_allowedips t;
	size_t bytes;

	wgx_allowedips_init(&t);
	CHECK(ins(&t, "10.0.0.0", 8, A) == 0);
	CHECK(ins(&t, "fd00::", 8, A) == 0);
	bytes = wgx_allowedips_bytes(&t);
	CHECK(bytes > 0);
	CHECK(ins(&t, "10.1.0.0", 16, B) == 0);
	CHECK(ins(&t, "10.1.2.0", 24, B) == 0);
	CHECK(ins(&t, "10.2.0.0", 16, B) == 0);
	CHECK(ins(&t, "0.0.0.0", 0, B) == 0);
	CHECK(ins(&t, "fd00:1::", 32, B) == 0);
	CHECK(ins(&t, "fd00:1:2::", 48, C) == 0);
	CHECK(wgx_allowedips_remove_by_peer(&t, D) == 0);
	CHECK(wgx_allowedips_remove_by_peer(&t, B) == 5);
	CHECK(wgx_allowedips_count(&t) == 3);
	CHECK(look(&t, "10.1.2.3") == A);
	CHECK(look(&t, "11.0.0.0") == NULL);
	CHECK(look(&t, "fd00:1::1") == A);
	CHECK(look(&t, "fd00:1:2::1") == C);
	CHECK(!strcmp(walk_str(&t, B), ""));
	CHECK(!strcmp(walk_str(&t, A), "10.0.0.0/8 fd00::/8"));
	CHECK(wgx_allowedips_remove_by_peer(&t, C) == 1);
	/* Back to the nodes A alone needs. */
	CHECK(wgx_allowedips_bytes(&t) == bytes);
	CHECK(wgx_allowedips_remove_by_peer(&t, A) == 2);
	CHECK(wgx_allowedips_bytes(&t) == 0);
	CHECK(look(&t, "10.0.0.0") == NULL);
	CHECK(ins(&t, "10.0.0.0", 8, A) == 0);
	CHECK(look(&t, "10.0.0.0") == A);
	wgx_allowedips_free(&t);
}

static void test_walk(void)
{
	struct wgx_allowedips t;
	struct walk_text w;

	wgx_allowedips_init(&t);
	CHECK(ins(&t, "192.168.1.0", 24, A) == 0);
	CHECK(ins(&t, "10.0.0.1", 32, B) == 0);
	CHECK(ins(&t, "2001:db8::", 64, A) == 0);
	CHECK(ins(&t, "10.0.0.0", 8, A) == 0);
	CHECK(ins(&t, "::", 0, A) == 0);
	CHECK(ins(&t, "10.0.0.2", 32, B) == 0);
	CHECK(!strcmp(walk_str(&t, A),
		      "192.168.1.0/24 2001:db8::/64 10.0.0.0/8 ::/0"));
	CHECK(!strcmp(walk_str(&t, B), "10.0.0.1/32 10.0.0.2/32"));
	CHECK(!strcmp(walk_str(&t, C), ""));

	/* A non-zero return stops the walk and is passed back. */
	memset(&w, 0, sizeof(w));
	w.stop_after = 2;
	CHECK(wgx_allowedips_walk(&t, A, walk_print, &w) == 7);
	CHECK(w.calls == 2);
	CHECK(!strcmp(w.buf, "192.168.1.0/24 2001:db8::/64"));

	/* Removing from the middle, the head and the tail keeps the order. */
	CHECK(rm(&t, "2001:db8::", 64, A) == 0);
	CHECK(!strcmp(walk_str(&t, A), "192.168.1.0/24 10.0.0.0/8 ::/0"));
	CHECK(rm(&t, "192.168.1.0", 24, A) == 0);
	CHECK(rm(&t, "::", 0, A) == 0);
	CHECK(!strcmp(walk_str(&t, A), "10.0.0.0/8"));
	CHECK(ins(&t, "172.16.0.0", 12, A) == 0);
	CHECK(!strcmp(walk_str(&t, A), "10.0.0.0/8 172.16.0.0/12"));
	wgx_allowedips_free(&t);
}

/* ---- Randomised comparison with a brute-force reference. ---- */

enum {
	R_PEERS = 16,
	R_PREFIXES = 2500,
	R_QUERIES = 8000,
	R_STRIDE = 2503,
};

struct ref {
	int family;
	uint8_t addr[16];
	uint8_t cidr;
	int peer;	  /* -1: removed */
	unsigned int seq; /* order of the last insert, for walk() */
};

struct ref_table {
	struct ref e[R_PREFIXES];
	size_t n;
	unsigned int seq;
};

static uint64_t rng_state;

static uint64_t rng(void)
{
	/* splitmix64: fixed seed, same run everywhere. */
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static unsigned int addr_bits(int family)
{
	return family == AF_INET ? 32 : 128;
}

/* Keeps the first cidr bits of in and sets the rest from fill. */
static void prefix_fill(uint8_t *out, const uint8_t *in, unsigned int cidr,
			const uint8_t *fill, unsigned int bits)
{
	for (unsigned int i = 0; i < bits / 8; i++) {
		unsigned int keep = cidr >= 8 * (i + 1) ? 8
				    : cidr > 8 * i	? cidr - 8 * i
							: 0;
		uint8_t m = (uint8_t)(0xff00 >> keep);

		out[i] = (uint8_t)((in[i] & m) | (fill[i] & ~m));
	}
}

/*
 * Addresses cluster around a few bases so that prefixes nest and share
 * long leading runs, as real routing tables do.
 */
static void random_addr(int family, uint8_t out[16])
{
	static const uint8_t bases[4][16] = {
		{ 10, 0, 0, 0 },
		{ 192, 168, 1, 0 },
		{ 0x20, 0x01, 0x0d, 0xb8 },
		{ 0xfd, 0x00, 0xaa, 0xbb, 0xcc, 0xdd, 0, 0, 0, 0, 0, 0, 1 },
	};
	unsigned int bits = addr_bits(family);
	uint8_t fill[16];

	for (int i = 0; i < 16; i++)
		fill[i] = (uint8_t)rng();
	prefix_fill(out, bases[rng() % 4], (unsigned int)(rng() % (bits + 1)),
		    fill, bits);
}

static bool ref_covers(const struct ref *r, int family, const uint8_t *addr)
{
	uint8_t masked[16], zero[16] = { 0 };

	if (r->family != family || r->peer < 0)
		return false;
	prefix_fill(masked, addr, r->cidr, zero, addr_bits(family));
	return !memcmp(masked, r->addr, addr_bits(family) / 8);
}

static void ref_insert(struct ref_table *rt, int family, const uint8_t *addr,
		       uint8_t cidr, int peer)
{
	uint8_t zero[16] = { 0 };
	struct ref r = { .family = family, .cidr = cidr, .peer = peer };

	prefix_fill(r.addr, addr, cidr, zero, addr_bits(family));
	r.seq = rt->seq++;
	for (size_t i = 0; i < rt->n; i++) {
		struct ref *e = &rt->e[i];

		if (e->peer >= 0 && e->family == family && e->cidr == cidr &&
		    !memcmp(e->addr, r.addr, 16)) {
			*e = r; /* last writer wins */
			return;
		}
	}
	rt->e[rt->n++] = r;
}

static int ref_lookup(const struct ref_table *rt, int family,
		      const uint8_t *addr)
{
	const struct ref *best = NULL;

	for (size_t i = 0; i < rt->n; i++)
		if (ref_covers(&rt->e[i], family, addr) &&
		    (!best || rt->e[i].cidr > best->cidr))
			best = &rt->e[i];
	return best ? best->peer : -1;
}

static size_t ref_live(const struct ref_table *rt, int peer)
{
	size_t n = 0;

	for (size_t i = 0; i < rt->n; i++)
		n += peer < 0 ? rt->e[i].peer >= 0 : rt->e[i].peer == peer;
	return n;
}

static int lookup_index(const struct wgx_allowedips *t, int family,
			const uint8_t *addr)
{
	int *p = wgx_allowedips_lookup(t, family, addr);

	return p ? (int)(p - peers) : -1;
}

/* Random addresses, then one inside (and one at the start of) each prefix. */
static void compare_lookups(const struct wgx_allowedips *t,
			    const struct ref_table *rt)
{
	int mismatches = 0;
	uint8_t a[16];

	for (int i = 0; i < R_QUERIES; i++) {
		int family = i & 1 ? AF_INET6 : AF_INET;

		random_addr(family, a);
		mismatches +=
			lookup_index(t, family, a) != ref_lookup(rt, family, a);
	}
	for (size_t i = 0; i < rt->n; i++) {
		const struct ref *e = &rt->e[i];
		uint8_t fill[16];

		for (int j = 0; j < 16; j++)
			fill[j] = (uint8_t)rng();
		prefix_fill(a, e->addr, e->cidr, fill, addr_bits(e->family));
		mismatches += lookup_index(t, e->family, a) !=
			      ref_lookup(rt, e->family, a);
		mismatches += lookup_index(t, e->family, e->addr) !=
			      ref_lookup(rt, e->family, e->addr);
	}
	CHECK(mismatches == 0);
	CHECK(wgx_allowedips_count(t) == ref_live(rt, -1));
}

struct walk_check {
	const struct ref **want;
	size_t n, pos;
	int bad;
};

static int walk_compare(void *ctx, int family, const void *addr, uint8_t cidr)
{
	struct walk_check *w = ctx;
	const struct ref *r = w->pos < w->n ? w->want[w->pos] : NULL;

	w->pos++;
	if (!r || r->family != family || r->cidr != cidr ||
	    memcmp(r->addr, addr, addr_bits(family) / 8))
		w->bad++;
	return 0;
}

static int by_seq(const void *a, const void *b)
{
	const struct ref *x = *(const struct ref *const *)a;
	const struct ref *y = *(const struct ref *const *)b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Each peer's walk is its live prefixes in order of their last insert. */
static void compare_walks(const struct wgx_allowedips *t,
			  const struct ref_table *rt)
{
	static const struct ref *want[R_PREFIXES];

	for (int p = 0; p < R_PEERS; p++) {
		struct walk_check w = { .want = want };

		for (size_t i = 0; i < rt->n; i++)
			if (rt->e[i].peer == p)
				want[w.n++] = &rt->e[i];
		qsort(want, w.n, sizeof(want[0]), by_seq);
		CHECK(wgx_allowedips_walk(t, &peers[p], walk_compare, &w) == 0);
		CHECK(w.pos == w.n);
		CHECK(w.bad == 0);
	}
}

static size_t ref_family_live(const struct ref_table *rt, int family)
{
	size_t n = 0;

	for (size_t i = 0; i < rt->n; i++)
		n += rt->e[i].peer >= 0 && rt->e[i].family == family;
	return n;
}

static bool ref_has(const struct ref_table *rt, int family, const uint8_t *addr,
		    uint8_t cidr)
{
	for (size_t i = 0; i < rt->n; i++)
		if (rt->e[i].peer >= 0 && rt->e[i].family == family &&
		    rt->e[i].cidr == cidr &&
		    !memcmp(rt->e[i].addr, addr, addr_bits(family) / 8))
			return true;
	return false;
}

/*
 * The trie of a set of prefixes is unique, so no useless node may survive
 * removals: a table built from the survivors alone must use the same bytes.
 * Its jump tables and peer hash must have been sized the same way too, so
 * it first grows to the same per-family peaks with filler host routes
 * (absent from t), spread over all peers, and drops them one by one.
 */
static void check_no_useless_nodes(const struct wgx_allowedips *t,
				   const struct ref_table *rt,
				   const size_t peak[2])
{
	static uint8_t filler[2 * R_PREFIXES][16];
	struct wgx_allowedips fresh;
	size_t nfill[2] = { 0, 0 };
	uint32_t seq = 0;

	wgx_allowedips_init(&fresh);
	for (size_t i = 0; i < rt->n; i++)
		if (rt->e[i].peer >= 0)
			CHECK(wgx_allowedips_insert(
				      &fresh, rt->e[i].family, rt->e[i].addr,
				      rt->e[i].cidr,
				      &peers[rt->e[i].peer]) == 0);
	for (int f = 0; f < 2; f++) {
		int family = f ? AF_INET6 : AF_INET;
		uint8_t cidr = (uint8_t)addr_bits(family);
		size_t want = peak[f] - ref_family_live(rt, family);

		while (nfill[f] < want) {
			uint8_t *a = filler[f * R_PREFIXES + nfill[f]];

			memset(a, 0, 16);
			a[0] = 240;
			memcpy(a + 1, &seq, sizeof(seq));
			seq++;
			if (ref_has(rt, family, a, cidr))
				continue;
			CHECK(wgx_allowedips_insert(&fresh, family, a, cidr,
						    &peers[seq % R_PEERS]) ==
			      0);
			nfill[f]++;
		}
	}
	for (int f = 0; f < 2; f++) {
		int family = f ? AF_INET6 : AF_INET;

		for (size_t i = 0; i < nfill[f]; i++) {
			const uint8_t *a = filler[f * R_PREFIXES + i];
			void *owner = wgx_allowedips_lookup(&fresh, family, a);

			CHECK(wgx_allowedips_remove(&fresh, family, a,
						    (uint8_t)addr_bits(family),
						    owner) == 0);
		}
	}
	CHECK(wgx_allowedips_count(&fresh) == wgx_allowedips_count(t));
	CHECK(wgx_allowedips_bytes(&fresh) == wgx_allowedips_bytes(t));
	compare_lookups(&fresh, rt);
	wgx_allowedips_free(&fresh);
}

static void random_prefix(int *family, uint8_t a[16], uint8_t *cidr)
{
	*family = rng() & 1 ? AF_INET6 : AF_INET;
	random_addr(*family, a);
	*cidr = (uint8_t)(rng() % (addr_bits(*family) + 1));
}

static void test_random(void)
{
	static struct ref_table rt;
	struct wgx_allowedips t;
	uint8_t a[16], cidr;
	int family, peer, removed = 0;
	size_t peak[2];

	rng_state = 0x5eed;
	memset(&rt, 0, sizeof(rt));
	wgx_allowedips_init(&t);
	for (int i = 0; i < R_PREFIXES; i++) {
		random_prefix(&family, a, &cidr);
		peer = (int)(rng() % R_PEERS);
		CHECK(wgx_allowedips_insert(&t, family, a, cidr,
					    &peers[peer]) == 0);
		ref_insert(&rt, family, a, cidr, peer);
	}
	peak[0] = ref_family_live(&rt, AF_INET);
	peak[1] = ref_family_live(&rt, AF_INET6);
	compare_lookups(&t, &rt);
	compare_walks(&t, &rt);

	for (int p = 0; p < 4; p++) {
		CHECK(wgx_allowedips_remove_by_peer(&t, &peers[p]) ==
		      ref_live(&rt, p));
		for (size_t i = 0; i < rt.n; i++)
			if (rt.e[i].peer == p)
				rt.e[i].peer = -1;
	}
	compare_lookups(&t, &rt);
	compare_walks(&t, &rt);

	/* Single removals: a wrong owner first, then the right one. */
	for (size_t i = 0; i < rt.n; i += 3) {
		struct ref *e = &rt.e[i];

		if (e->peer < 0)
			continue;
		CHECK(wgx_allowedips_remove(&t, e->family, e->addr, e->cidr,
					    &peers[(e->peer + 1) % R_PEERS]) ==
		      -ENOENT);
		CHECK(wgx_allowedips_remove(&t, e->family, e->addr, e->cidr,
					    &peers[e->peer]) == 0);
		e->peer = -1;
		removed++;
	}
	CHECK(removed > 100);
	compare_lookups(&t, &rt);
	compare_walks(&t, &rt);

	check_no_useless_nodes(&t, &rt, peak);

	/*
	 * One by one down to a few, which also shrinks the jump tables; the
	 * stride is a prime above R_PREFIXES, so it visits every entry.
	 */
	for (size_t i = 0, left = ref_live(&rt, -1); left > 20;
	     i = (i + R_STRIDE) % rt.n) {
		struct ref *e = &rt.e[i];

		if (e->peer < 0)
			continue;
		CHECK(wgx_allowedips_remove(&t, e->family, e->addr, e->cidr,
					    &peers[e->peer]) == 0);
		e->peer = -1;
		if (--left % 150 == 0)
			compare_lookups(&t, &rt);
	}
	compare_lookups(&t, &rt);
	compare_walks(&t, &rt);

	for (int p = 0; p < R_PEERS; p++)
		wgx_allowedips_remove_by_peer(&t, &peers[p]);
	CHECK(wgx_allowedips_count(&t) == 0);
	CHECK(wgx_allowedips_bytes(&t) == 0);
	wgx_allowedips_free(&t);
}

static const struct wgx_test allowedips_tests[] = {
	{ "allowedips: empty table", test_empty },
	{ "allowedips: IPv4 longest prefix, nested and siblings",
	  test_v4_longest },
	{ "allowedips: IPv4 /0 and /32 edges", test_v4_edges },
	{ "allowedips: IPv6 longest prefix, /0 and /128", test_v6_longest },
	{ "allowedips: short prefixes and removals that pull a sibling up",
	  test_short_prefixes },
	{ "allowedips: reinsert moves the prefix to the new peer",
	  test_reinsert_moves },
	{ "allowedips: host bits beyond cidr are masked",
	  test_host_bits_masked },
	{ "allowedips: bad cidr, family, address and peer rejected",
	  test_bad_arguments },
	{ "allowedips: remove one prefix leaves the others", test_remove_one },
	{ "allowedips: remove_by_peer leaves other peers",
	  test_remove_by_peer },
	{ "allowedips: walk order and content", test_walk },
	{ "allowedips: random prefixes match a brute-force scan", test_random },
};
WGX_SUITE(allowedips_tests)
