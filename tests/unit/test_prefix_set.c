// SPDX-License-Identifier: MIT
/*
 * The prefix hash set the tunnel keeps its routes in: canonical prefixes,
 * add and find, "covers" over the lengths present, and in-place filtering
 * (backward-shift deletion) that must keep every survivor findable.
 */
#include "test.h"

#include <errno.h>
#include <sys/socket.h>

#include "agent/prefix_set.h"

static struct wgx_prefix v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d,
			    unsigned int len)
{
	const uint8_t addr[4] = { a, b, c, d };
	struct wgx_prefix p;

	wgx_prefix_make(&p, AF_INET, addr, len);
	return p;
}

static void test_prefix_make(void)
{
	const uint8_t a6[16] = { 0xfd, 0x00, 0x12, 0x34, [15] = 0xff };
	struct wgx_prefix p = v4(10, 1, 2, 3, 12);

	/* Host bits are cleared; bytes past the family's size are zero. */
	CHECK(p.family == AF_INET && p.len == 12);
	CHECK(p.addr[0] == 10 && p.addr[1] == 0 && p.addr[2] == 0);
	CHECK(wgx_prefix_make(&p, AF_INET6, a6, 20) == 0);
	CHECK(p.addr[0] == 0xfd && p.addr[1] == 0 && p.addr[2] == 0x10);
	CHECK(p.addr[3] == 0 && p.addr[15] == 0);
	CHECK(wgx_prefix_make(&p, AF_INET6, a6, 128) == 0 && p.addr[15]);
	CHECK(wgx_prefix_make(&p, AF_INET, a6, 33) == -EINVAL);
	CHECK(wgx_prefix_make(&p, AF_INET6, a6, 129) == -EINVAL);
	CHECK(wgx_prefix_make(&p, AF_UNIX, a6, 8) == -EINVAL);
}

static void test_prefix_set_add_find(void)
{
	struct wgx_prefix_set s;
	struct wgx_prefix p = v4(10, 0, 0, 1, 32), q;
	struct wgx_prefix_slot *slot;
	bool added = false;

	wgx_prefix_set_init(&s);
	CHECK(!wgx_prefix_set_find(&s, &p));
	CHECK(!wgx_prefix_set_covers(&s, &p));
	slot = wgx_prefix_set_add(&s, &p, &added);
	CHECK(slot && added && slot->flags == 0 && s.n == 1);
	if (!slot)
		return;
	slot->flags = 5;
	slot = wgx_prefix_set_add(&s, &p, &added);
	CHECK(slot && !added && slot->flags == 5 && s.n == 1);
	CHECK(wgx_prefix_set_find(&s, &p) == slot);
	/* Same bytes, other length or family: other prefixes. */
	q = v4(10, 0, 0, 0, 24);
	CHECK(!wgx_prefix_set_find(&s, &q));
	q = p;
	q.family = AF_INET6;
	CHECK(!wgx_prefix_set_find(&s, &q));
	wgx_prefix_set_free(&s);
	CHECK(s.n == 0 && !wgx_prefix_set_find(&s, &p));
}

static void test_prefix_set_covers(void)
{
	const uint8_t a6[16] = { 0xfd, 0x70, [15] = 2 };
	struct wgx_prefix_set s;
	struct wgx_prefix p, p6;
	bool added;

	wgx_prefix_set_init(&s);
	p = v4(10, 70, 0, 0, 16);
	CHECK(wgx_prefix_set_add(&s, &p, &added));
	p = v4(192, 168, 1, 7, 32);
	CHECK(wgx_prefix_set_add(&s, &p, &added));
	wgx_prefix_make(&p6, AF_INET6, a6, 64);
	CHECK(wgx_prefix_set_add(&s, &p6, &added));
	/* Held by 10.70.0.0/16: itself and anything longer inside it. */
	p = v4(10, 70, 0, 0, 16);
	CHECK(wgx_prefix_set_covers(&s, &p));
	p = v4(10, 70, 5, 2, 32);
	CHECK(wgx_prefix_set_covers(&s, &p));
	p = v4(10, 70, 9, 0, 24);
	CHECK(wgx_prefix_set_covers(&s, &p));
	/* Shorter than anything that could hold it, or outside. */
	p = v4(10, 0, 0, 0, 8);
	CHECK(!wgx_prefix_set_covers(&s, &p));
	p = v4(10, 71, 0, 1, 32);
	CHECK(!wgx_prefix_set_covers(&s, &p));
	/* A host route covers only itself. */
	p = v4(192, 168, 1, 7, 32);
	CHECK(wgx_prefix_set_covers(&s, &p));
	p = v4(192, 168, 1, 0, 24);
	CHECK(!wgx_prefix_set_covers(&s, &p));
	/* Families never cover each other. */
	wgx_prefix_make(&p6, AF_INET6, a6, 128);
	CHECK(wgx_prefix_set_covers(&s, &p6));
	p6.addr[1] = 0x71;
	CHECK(!wgx_prefix_set_covers(&s, &p6));
	p = v4(0xfd, 0x70, 0, 0, 32);
	CHECK(!wgx_prefix_set_covers(&s, &p));
	wgx_prefix_set_free(&s);
}

static bool keep_odd(const struct wgx_prefix_slot *slot, void *ctx)
{
	(void)ctx;
	return slot->p.addr[3] & 1;
}

static bool keep_none(const struct wgx_prefix_slot *slot, void *ctx)
{
	(void)slot;
	(void)ctx;
	return false;
}

static void test_prefix_set_filter(void)
{
	enum {
		N = 20000
	};
	struct wgx_prefix_set s;
	struct wgx_prefix p;
	size_t found = 0, wrong = 0;
	bool added;

	wgx_prefix_set_init(&s);
	CHECK(wgx_prefix_set_reserve(&s, N) == 0 && s.cap >= 2 * N);
	for (unsigned int i = 0; i < N; i++) {
		p = v4(10, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i,
		       32);
		CHECK(wgx_prefix_set_add(&s, &p, &added) && added);
	}
	CHECK(s.n == N);
	wgx_prefix_set_filter(&s, keep_odd, NULL);
	CHECK(s.n == N / 2);
	/* Every survivor is still found, every other one gone. */
	for (unsigned int i = 0; i < N; i++) {
		p = v4(10, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i,
		       32);
		if (wgx_prefix_set_find(&s, &p))
			found++;
		if (!!wgx_prefix_set_find(&s, &p) != (i & 1))
			wrong++;
	}
	CHECK(found == N / 2 && wrong == 0);
	/* Lengths are recomputed: nothing left means nothing covers. */
	wgx_prefix_set_filter(&s, keep_none, NULL);
	CHECK(s.n == 0);
	p = v4(10, 0, 0, 1, 32);
	CHECK(!wgx_prefix_set_covers(&s, &p));
	wgx_prefix_set_free(&s);
}

static const struct wgx_test prefix_set_tests[] = {
	{ "prefix_set: canonical prefixes", test_prefix_make },
	{ "prefix_set: add and find", test_prefix_set_add_find },
	{ "prefix_set: covers by the lengths present", test_prefix_set_covers },
	{ "prefix_set: filtering keeps every survivor findable",
	  test_prefix_set_filter },
};

WGX_SUITE(prefix_set_tests)
