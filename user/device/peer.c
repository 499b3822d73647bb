// SPDX-License-Identifier: MIT
/* The peer state the workers touch: endpoint, staged packets, events. */
#include "device/peer.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"

_Static_assert(sizeof(union wgx_sockaddr) <= sizeof(uint64_t[4]),
	       "an endpoint fits the sequence lock's words");

void wgx_peer_init_shared(struct wgx_peer *p)
{
	pthread_spin_init(&p->staged_lock, PTHREAD_PROCESS_PRIVATE);
	p->staged_head = p->staged_tail = NULL;
	p->staged_count = 0;
	atomic_store(&p->endpoint.seq, 0);
	for (int i = 0; i < 4; i++)
		atomic_store(&p->endpoint.word[i], 0);
}

void wgx_peer_destroy_shared(struct wgx_peer *p)
{
	wgx_peer_purge_staged(p);
	pthread_spin_destroy(&p->staged_lock);
}

/* ---- endpoint: a sequence lock of atomic words ------------------------ */

void wgx_peer_get_endpoint(struct wgx_peer *p, union wgx_sockaddr *out,
			   bool *has)
{
	struct wgx_endpoint_slot *e = &p->endpoint;
	uint64_t w[4];
	uint32_t s1, s2;

	/*
	 * Acquire loads throughout, no fences (ThreadSanitizer has none): a
	 * word from a writer's release store makes that writer's odd seq
	 * visible to the second look, so a torn copy is retried.
	 */
	do {
		s1 = atomic_load_explicit(&e->seq, memory_order_acquire);
		for (int i = 0; i < 4; i++)
			w[i] = atomic_load_explicit(&e->word[i],
						    memory_order_acquire);
		s2 = atomic_load_explicit(&e->seq, memory_order_acquire);
	} while ((s1 & 1) || s1 != s2);
	memcpy(out, w, sizeof(*out));
	*has = out->sa.sa_family != 0;
}

/* Writers exclude each other by making seq odd with a compare-exchange. */
static uint32_t write_begin(struct wgx_endpoint_slot *e)
{
	uint32_t s = atomic_load_explicit(&e->seq, memory_order_relaxed);

	for (;;) {
		if (!(s & 1) &&
		    atomic_compare_exchange_weak_explicit(&e->seq, &s, s + 1,
							  memory_order_acq_rel,
							  memory_order_relaxed))
			break;
		s = atomic_load_explicit(&e->seq, memory_order_relaxed);
	}
	return s + 1;
}

static void write_words(struct wgx_endpoint_slot *e, const uint64_t w[4])
{
	uint32_t s = write_begin(e);

	/* Release: no word becomes visible before the odd seq. */
	for (int i = 0; i < 4; i++)
		atomic_store_explicit(&e->word[i], w[i], memory_order_release);
	atomic_store_explicit(&e->seq, s + 1, memory_order_release);
}

bool wgx_peer_set_endpoint(struct wgx_peer *p, const union wgx_sockaddr *ep)
{
	union wgx_sockaddr cur;
	uint64_t w[4] = { 0 };
	bool has;

	/* Compare first: the common case (no roaming) writes nothing. */
	wgx_peer_get_endpoint(p, &cur, &has);
	if (has && wgx_sockaddr_equal(&cur, ep))
		return false;
	memcpy(w, ep, wgx_sockaddr_len(ep));
	write_words(&p->endpoint, w);
	return true;
}

void wgx_peer_clear_endpoint(struct wgx_peer *p)
{
	static const uint64_t none[4];

	write_words(&p->endpoint, none);
}

/* ---- staged packets ---------------------------------------------------- */

static void staged_free(struct wgx_staged_pkt *s)
{
	/* Staged packets are plaintext: never leave them in memory. */
	wgx_crypto_wipe(s->data, s->len);
	free(s);
}

bool wgx_peer_stage(struct wgx_peer *p, const uint8_t *pkt, size_t len)
{
	struct wgx_staged_pkt *s = malloc(sizeof(*s) + len), *old = NULL;

	if (!s)
		return false;
	s->next = NULL;
	s->len = (uint16_t)len;
	memcpy(s->data, pkt, len);
	pthread_spin_lock(&p->staged_lock);
	if (p->staged_count == WGX_STAGED_MAX) {
		/* Full: the oldest packet makes room, as the kernel does. */
		old = p->staged_head;
		p->staged_head = old->next;
		p->staged_count--;
	}
	if (p->staged_tail && p->staged_head)
		p->staged_tail->next = s;
	else
		p->staged_head = s;
	p->staged_tail = s;
	p->staged_count++;
	pthread_spin_unlock(&p->staged_lock);
	if (old)
		staged_free(old);
	return !old;
}

struct wgx_staged_pkt *wgx_peer_unstage(struct wgx_peer *p)
{
	struct wgx_staged_pkt *s;

	pthread_spin_lock(&p->staged_lock);
	s = p->staged_head;
	if (s) {
		p->staged_head = s->next;
		if (!p->staged_head)
			p->staged_tail = NULL;
		p->staged_count--;
	}
	pthread_spin_unlock(&p->staged_lock);
	return s;
}

unsigned int wgx_peer_staged(struct wgx_peer *p)
{
	unsigned int n;

	pthread_spin_lock(&p->staged_lock);
	n = p->staged_count;
	pthread_spin_unlock(&p->staged_lock);
	return n;
}

unsigned int wgx_peer_purge_staged(struct wgx_peer *p)
{
	struct wgx_staged_pkt *s;
	unsigned int n = 0;

	while ((s = wgx_peer_unstage(p))) {
		n++;
		staged_free(s);
	}
	return n;
}
