// SPDX-License-Identifier: MIT
/*
 * The current/previous/next rotation, key confirmation, expiry and wiping;
 * first with keypairs made by hand, then with real handshakes both ways.
 */
#include "test.h"

#include <stdatomic.h>

#include "core/crypto.h"
#include "core/keypairs.h"
#include "core/noise.h"

#define SEC 1000000000ULL
#define T0  (5 * SEC)

/* A keypair registered in the index table, as begin_session leaves it. */
static struct wgx_keypair *mk(struct wgx_keypairs *kps, bool initiator,
			      uint64_t birth_ns)
{
	struct wgx_keypair *kp = wgx_keypairs_alloc(kps);

	CHECK(kp != NULL);
	if (!kp)
		return NULL;
	CHECK(wgx_crypto_is_zero(kp, sizeof(*kp)));
	wgx_crypto_random(kp->send_key, sizeof(kp->send_key));
	wgx_crypto_random(kp->recv_key, sizeof(kp->recv_key));
	kp->initiator = initiator;
	kp->birth_ns = birth_ns;
	CHECK(wgx_index_insert(kps->indices, WGX_INDEX_KEYPAIR, kp, NULL,
			       &kp->local_index) == 0);
	return kp;
}

/* Whether kp's index still resolves to kp (freed keypairs drop theirs). */
static bool indexed(struct wgx_keypairs *kps, uint32_t index)
{
	return wgx_index_lookup(kps->indices, index, WGX_INDEX_KEYPAIR, NULL);
}

static void test_keypairs_initiator(void)
{
	struct wgx_index_table *t = wgx_index_new();
	struct wgx_keypairs kps;
	struct wgx_keypair *a, *b, *c;
	uint32_t ia;

	CHECK(t != NULL);
	if (!t)
		return;
	wgx_keypairs_init(&kps, t, NULL);
	CHECK(!kps.current && !kps.previous && !kps.next);
	a = mk(&kps, true, T0);
	b = mk(&kps, true, T0);
	c = mk(&kps, true, T0);
	if (!a || !b || !c)
		goto out;
	ia = a->local_index;
	wgx_keypairs_install(&kps, a);
	CHECK(kps.current == a && !kps.previous && !kps.next);
	CHECK(wgx_keypairs_send_keypair(&kps, T0) == a);
	wgx_keypairs_install(&kps, b);
	CHECK(kps.current == b && kps.previous == a && !kps.next);
	wgx_keypairs_install(&kps, c);
	CHECK(kps.current == c && kps.previous == b && !kps.next);
	CHECK(!indexed(&kps, ia));
	CHECK(wgx_index_count(t) == 2);
out:
	wgx_keypairs_clear(&kps);
	wgx_index_free(t);
}

static void test_keypairs_responder_confirm(void)
{
	struct wgx_index_table *t = wgx_index_new();
	struct wgx_keypairs kps;
	struct wgx_keypair *cur, *r1, *r2;
	uint32_t i1;

	CHECK(t != NULL);
	if (!t)
		return;
	wgx_keypairs_init(&kps, t, NULL);
	cur = mk(&kps, true, T0);
	r1 = mk(&kps, false, T0);
	r2 = mk(&kps, false, T0);
	if (!cur || !r1 || !r2)
		goto out;
	i1 = r1->local_index;
	wgx_keypairs_install(&kps, cur);
	wgx_keypairs_install(&kps, r1);
	/* Not confirmed yet: we still send with the old current. */
	CHECK(kps.current == cur && kps.next == r1);
	CHECK(wgx_keypairs_send_keypair(&kps, T0) == cur);
	/* A newer responder keypair replaces the unconfirmed one. */
	wgx_keypairs_install(&kps, r2);
	CHECK(kps.next == r2 && kps.current == cur && !kps.previous);
	CHECK(!indexed(&kps, i1));
	/* Packets under current or an unknown keypair confirm nothing. */
	CHECK(!wgx_keypairs_confirm(&kps, cur));
	CHECK(!wgx_keypairs_confirm(&kps, NULL));
	CHECK(kps.next == r2);
	CHECK(wgx_keypairs_confirm(&kps, r2));
	CHECK(kps.current == r2 && kps.previous == cur && !kps.next);
	CHECK(wgx_keypairs_send_keypair(&kps, T0) == r2);
	CHECK(!wgx_keypairs_confirm(&kps, r2));
	CHECK(wgx_index_count(t) == 2);
out:
	wgx_keypairs_clear(&kps);
	wgx_index_free(t);
}

/* A responder with nothing yet cannot send until confirmation. */
static void test_keypairs_responder_alone(void)
{
	struct wgx_index_table *t = wgx_index_new();
	struct wgx_keypairs kps;
	struct wgx_keypair *r;

	CHECK(t != NULL);
	if (!t)
		return;
	wgx_keypairs_init(&kps, t, NULL);
	r = mk(&kps, false, T0);
	if (r) {
		wgx_keypairs_install(&kps, r);
		CHECK(kps.next == r && !kps.current);
		CHECK(wgx_keypairs_send_keypair(&kps, T0) == NULL);
		CHECK(wgx_keypairs_confirm(&kps, r));
		CHECK(kps.current == r && !kps.previous && !kps.next);
	}
	wgx_keypairs_clear(&kps);
	wgx_index_free(t);
}

/* Our own initiation completing while a responder keypair waits. */
static void test_keypairs_initiator_drops_next(void)
{
	struct wgx_index_table *t = wgx_index_new();
	struct wgx_keypairs kps;
	struct wgx_keypair *cur, *nxt, *mine;
	uint32_t in;

	CHECK(t != NULL);
	if (!t)
		return;
	wgx_keypairs_init(&kps, t, NULL);
	cur = mk(&kps, true, T0);
	nxt = mk(&kps, false, T0);
	mine = mk(&kps, true, T0);
	if (!cur || !nxt || !mine)
		goto out;
	in = nxt->local_index;
	wgx_keypairs_install(&kps, cur);
	wgx_keypairs_install(&kps, nxt);
	wgx_keypairs_install(&kps, mine);
	CHECK(kps.current == mine && kps.previous == cur && !kps.next);
	CHECK(!indexed(&kps, in));
	CHECK(wgx_index_count(t) == 2);
out:
	wgx_keypairs_clear(&kps);
	wgx_index_free(t);
}

static void test_keypairs_expiry_time(void)
{
	struct wgx_index_table *t = wgx_index_new();
	const uint64_t reject = WGX_REJECT_AFTER_TIME * SEC;
	struct wgx_keypairs kps;
	struct wgx_keypair *old, *cur;

	CHECK(t != NULL);
	if (!t)
		return;
	wgx_keypairs_init(&kps, t, NULL);
	old = mk(&kps, true, T0);
	cur = mk(&kps, true, T0 + 60 * SEC);
	if (!old || !cur)
		goto out;
	wgx_keypairs_install(&kps, old);
	wgx_keypairs_install(&kps, cur);
	CHECK(wgx_keypairs_usable(old, T0 + reject - 1));
	CHECK(!wgx_keypairs_usable(old, T0 + reject));
	CHECK(!wgx_keypairs_usable(NULL, T0));
	/* Nothing expires early. */
	CHECK(wgx_keypairs_expire(&kps, T0 + reject - 1) == 0);
	CHECK(wgx_keypairs_expire(&kps, T0 + reject) == 1);
	CHECK(kps.current == cur && !kps.previous);
	CHECK(wgx_keypairs_send_keypair(&kps, T0 + 60 * SEC + reject - 1) ==
	      cur);
	CHECK(wgx_keypairs_send_keypair(&kps, T0 + 60 * SEC + reject) == NULL);
	CHECK(wgx_keypairs_expire(&kps, T0 + 60 * SEC + reject) == 1);
	CHECK(!kps.current && wgx_index_count(t) == 0);
out:
	wgx_keypairs_clear(&kps);
	wgx_index_free(t);
}

static void test_keypairs_expiry_counter(void)
{
	struct wgx_index_table *t = wgx_index_new();
	struct wgx_keypairs kps;
	struct wgx_keypair *kp;

	CHECK(t != NULL);
	if (!t)
		return;
	wgx_keypairs_init(&kps, t, NULL);
	kp = mk(&kps, true, T0);
	if (kp) {
		wgx_keypairs_install(&kps, kp);
		atomic_store(&kp->send_counter, WGX_REJECT_AFTER_MESSAGES - 1);
		CHECK(wgx_keypairs_usable(kp, T0));
		CHECK(wgx_keypairs_send_keypair(&kps, T0) == kp);
		atomic_store(&kp->send_counter, WGX_REJECT_AFTER_MESSAGES);
		CHECK(!wgx_keypairs_usable(kp, T0));
		CHECK(wgx_keypairs_send_keypair(&kps, T0) == NULL);
		CHECK(wgx_keypairs_expire(&kps, T0) == 1 && !kps.current);
	}
	wgx_keypairs_clear(&kps);
	wgx_index_free(t);
}

static void test_keypairs_clear(void)
{
	struct wgx_index_table *t = wgx_index_new();
	struct wgx_keypairs kps;
	struct wgx_keypair *a, *b, *c;

	CHECK(t != NULL);
	if (!t)
		return;
	wgx_keypairs_init(&kps, t, NULL);
	a = mk(&kps, true, T0);
	b = mk(&kps, true, T0);
	c = mk(&kps, false, T0);
	if (a && b && c) {
		wgx_keypairs_install(&kps, a);
		wgx_keypairs_install(&kps, b);
		kps.next = c; /* all three slots filled */
		CHECK(wgx_index_count(t) == 3);
	}
	wgx_keypairs_clear(&kps);
	CHECK(!kps.current && !kps.previous && !kps.next);
	CHECK(wgx_index_count(t) == 0);
	wgx_keypairs_clear(&kps); /* idempotent */
	wgx_index_free(t);
}

/* Released keypairs wait in the retire hook; their index goes at once. */
struct held {
	void *obj[8];
	wgx_free_fn fn[8];
	int n;
};

static void hold(void *ctx, wgx_free_fn fn, void *obj)
{
	struct held *h = ctx;

	if (h->n == 8) {
		fn(obj);
		return;
	}
	h->obj[h->n] = obj;
	h->fn[h->n++] = fn;
}

static void test_keypairs_retired(void)
{
	struct wgx_index_table *t = wgx_index_new();
	struct held h = { 0 };
	struct wgx_retire retire = { hold, &h };
	struct wgx_keypairs kps;
	struct wgx_keypair *r1, *r2;
	uint32_t idx1;

	CHECK(t != NULL);
	if (!t)
		return;
	wgx_keypairs_init(&kps, t, &retire);
	r1 = mk(&kps, false, T0);
	r2 = mk(&kps, false, T0);
	if (!r1 || !r2)
		goto out;
	idx1 = r1->local_index;
	wgx_keypairs_install(&kps, r1);
	wgx_keypairs_install(&kps, r2);
	/* r1 was next and is superseded: retired, still readable. */
	CHECK(h.n == 1 && h.obj[0] == r1);
	CHECK(r1->local_index == idx1);
	CHECK(!wgx_index_lookup(t, idx1, WGX_INDEX_KEYPAIR, NULL));
	CHECK(wgx_keypairs_next(&kps) == r2);
out:
	wgx_keypairs_clear(&kps);
	CHECK(h.n == 2 && wgx_index_count(t) == 0);
	for (int i = 0; i < h.n; i++)
		h.fn[i](h.obj[i]);
	wgx_index_free(t);
}

/* Two real devices, each knowing the other. */
struct side {
	struct wgx_noise_static *st;
	struct wgx_index_table *idx;
	struct wgx_keypairs kps;
	struct wgx_handshake *hs;
};

static struct wgx_handshake *find(void *ctx, const uint8_t pub[32])
{
	struct side *s = ctx;

	return memcmp(s->hs->remote_static, pub, 32) ? NULL : s->hs;
}

/* One handshake from i to r at now; returns both new keypairs. */
static bool handshake(struct side *i, struct side *r, uint64_t now,
		      struct wgx_keypair **ki, struct wgx_keypair **kr)
{
	struct wgx_msg_initiation init;
	struct wgx_msg_response resp;
	struct wgx_handshake *got;

	*ki = *kr = NULL;
	return wgx_noise_create_initiation(i->hs, &init, NULL) == 0 &&
	       wgx_noise_consume_initiation(r->st, &init, sizeof(init), now,
					    find, r, &got) == 0 &&
	       wgx_noise_create_response(r->hs, &resp, NULL) == 0 &&
	       wgx_noise_begin_session(r->hs, now, kr) == 0 &&
	       wgx_noise_consume_response(i->idx, &resp, sizeof(resp), &got) ==
		       0 &&
	       wgx_noise_begin_session(i->hs, now, ki) == 0;
}

static bool same_session(const struct wgx_keypair *x,
			 const struct wgx_keypair *y)
{
	return x && y && !memcmp(x->send_key, y->recv_key, 32) &&
	       !memcmp(x->recv_key, y->send_key, 32) &&
	       x->local_index == y->remote_index &&
	       x->remote_index == y->local_index;
}

static void test_keypairs_real_rotation(void)
{
	uint8_t apriv[32], apub[32], bpriv[32], bpub[32];
	struct wgx_keypair *a1, *b1, *a2, *b2;
	struct side a = { 0 }, b = { 0 };
	struct wgx_index_entry e;

	wgx_crypto_dh_generate(apriv, apub);
	wgx_crypto_dh_generate(bpriv, bpub);
	a.st = wgx_noise_static_new();
	b.st = wgx_noise_static_new();
	a.idx = wgx_index_new();
	b.idx = wgx_index_new();
	CHECK(a.st && b.st && a.idx && b.idx);
	if (!a.st || !b.st || !a.idx || !b.idx)
		goto out;
	wgx_noise_static_set(a.st, apriv);
	wgx_noise_static_set(b.st, bpriv);
	wgx_keypairs_init(&a.kps, a.idx, NULL);
	wgx_keypairs_init(&b.kps, b.idx, NULL);
	a.hs = wgx_noise_handshake_new(a.st, bpub, NULL, &a.kps, &a);
	b.hs = wgx_noise_handshake_new(b.st, apub, NULL, &b.kps, &b);
	CHECK(a.hs && b.hs);
	if (!a.hs || !b.hs)
		goto out;

	/* 1: a initiates. a sends at once; b waits for a's first packet. */
	CHECK(handshake(&a, &b, T0, &a1, &b1));
	CHECK(same_session(a1, b1));
	CHECK(a.kps.current == a1 && !a.kps.previous && !a.kps.next);
	CHECK(b.kps.next == b1 && !b.kps.current);
	CHECK(wgx_keypairs_send_keypair(&b.kps, T0) == NULL);
	/* a's first data message names b1's index: b finds and confirms. */
	CHECK(wgx_index_lookup(b.idx, a1->remote_index, WGX_INDEX_KEYPAIR,
			       &e) &&
	      e.ptr == b1 && e.owner == &b);
	CHECK(wgx_keypairs_confirm(&b.kps, e.ptr));
	CHECK(b.kps.current == b1 &&
	      wgx_keypairs_send_keypair(&b.kps, T0) == b1);

	/* 2: b initiates the rekey. b rotates at once, a waits. */
	CHECK(handshake(&b, &a, T0 + 120 * SEC, &b2, &a2));
	CHECK(same_session(a2, b2));
	CHECK(b.kps.current == b2 && b.kps.previous == b1 && !b.kps.next);
	CHECK(a.kps.current == a1 && a.kps.next == a2 && !a.kps.previous);
	CHECK(wgx_keypairs_send_keypair(&a.kps, T0 + 120 * SEC) == a1);
	CHECK(wgx_keypairs_confirm(&a.kps, a2));
	CHECK(a.kps.current == a2 && a.kps.previous == a1 && !a.kps.next);
	/* Previous still receives: its index still resolves. */
	CHECK(wgx_index_lookup(a.idx, a1->local_index, WGX_INDEX_KEYPAIR, &e) &&
	      e.ptr == a1);
	CHECK(wgx_index_count(a.idx) == 2 && wgx_index_count(b.idx) == 2);
	/* At 180 s a1 and b1 expire; the rekeyed pair lives on. */
	CHECK(wgx_keypairs_expire(&a.kps, T0 + 180 * SEC) == 1);
	CHECK(wgx_keypairs_expire(&b.kps, T0 + 180 * SEC) == 1);
	CHECK(a.kps.current == a2 && !a.kps.previous);
	CHECK(wgx_index_count(a.idx) == 1 && wgx_index_count(b.idx) == 1);
out:
	wgx_noise_handshake_free(a.hs);
	wgx_noise_handshake_free(b.hs);
	if (a.idx)
		wgx_keypairs_clear(&a.kps);
	if (b.idx)
		wgx_keypairs_clear(&b.kps);
	wgx_index_free(a.idx);
	wgx_index_free(b.idx);
	wgx_noise_static_free(a.st);
	wgx_noise_static_free(b.st);
	wgx_crypto_wipe(apriv, 32);
	wgx_crypto_wipe(bpriv, 32);
}

static const struct wgx_test keypairs_tests[] = {
	{ "keypairs: initiator keypair becomes current at once",
	  test_keypairs_initiator },
	{ "keypairs: responder keypair waits in next until confirmed",
	  test_keypairs_responder_confirm },
	{ "keypairs: lone responder cannot send before confirmation",
	  test_keypairs_responder_alone },
	{ "keypairs: initiator session drops a pending next",
	  test_keypairs_initiator_drops_next },
	{ "keypairs: expiry after REJECT_AFTER_TIME",
	  test_keypairs_expiry_time },
	{ "keypairs: expiry at REJECT_AFTER_MESSAGES",
	  test_keypairs_expiry_counter },
	{ "keypairs: clear wipes all three", test_keypairs_clear },
	{ "keypairs: released keypairs wait for the retire hook",
	  test_keypairs_retired },
	{ "keypairs: real handshakes both ways rotate the set",
	  test_keypairs_real_rotation },
};
WGX_SUITE(keypairs_tests)
