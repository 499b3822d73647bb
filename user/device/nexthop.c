// SPDX-License-Identifier: MIT
/*
 * Entries hang in a chained hash whose bucket heads and links are atomic
 * pointers: the agent links a new entry in front with a release store, or
 * swaps it for the one it replaces, and defers the old one's free; a
 * worker walks the chain with acquire loads. Growing the table copies
 * every entry into a new bucket array published in one store, since a
 * chain link cannot belong to two tables at once.
 */
#include "device/nexthop.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum {
	BUCKETS_MIN = 256,
	NEIGH_BUCKETS_MIN = 64,
	ASK_FREE = 0,
	ASK_WRITING = 1,
	ASK_FULL = 2,
};

void wgx_nh_addr_of(const union wgx_sockaddr *sa, struct wgx_nh_addr *out)
{
	memset(out, 0, sizeof(*out));
	out->family = (uint8_t)sa->sa.sa_family;
	if (sa->sa.sa_family == AF_INET)
		memcpy(out->addr, &sa->in4.sin_addr, 4);
	else if (sa->sa.sa_family == AF_INET6)
		memcpy(out->addr, &sa->in6.sin6_addr, 16);
}

static bool addr_eq(const struct wgx_nh_addr *a, const struct wgx_nh_addr *b)
{
	return a->family == b->family && !memcmp(a->addr, b->addr, 16);
}

static size_t addr_hash(const struct wgx_nh_addr *a)
{
	uint64_t w[2];

	memcpy(w, a->addr, 16);
	/* Mix the words so neighbouring addresses spread over buckets. */
	w[0] = (w[0] ^ (w[1] * 0x9e3779b97f4a7c15ULL) ^ a->family) *
	       0xbf58476d1ce4e5b9ULL;
	return (size_t)(w[0] ^ (w[0] >> 31));
}

static uint64_t mac_word(const uint8_t mac[6])
{
	uint64_t w = 0;

	memcpy(&w, mac, 6);
	return w | WGX_NH_MAC_VALID;
}

/* ---- datapath ----------------------------------------------------------- */

const struct wgx_nh_entry *wgx_nh_lookup(struct wgx_nh_table *t,
					 const struct wgx_nh_addr *a)
{
	struct wgx_nh_buckets *b =
		atomic_load_explicit(&t->tab, memory_order_acquire);
	struct wgx_nh_entry *e;

	if (!b)
		return NULL;
	e = atomic_load_explicit(&b->b[addr_hash(a) & b->mask],
				 memory_order_acquire);
	while (e && !addr_eq(&e->addr, a))
		e = atomic_load_explicit(&e->next, memory_order_acquire);
	return e;
}

bool wgx_nh_ask(struct wgx_nh_table *t, const struct wgx_nh_addr *a)
{
	for (unsigned int i = 0; i < WGX_NH_ASKS; i++) {
		uint32_t want = ASK_FREE;

		if (!atomic_compare_exchange_strong_explicit(
			    &t->ask[i].state, &want, ASK_WRITING,
			    memory_order_acquire, memory_order_relaxed))
			continue;
		t->ask[i].addr = *a;
		atomic_store_explicit(&t->ask[i].state, ASK_FULL,
				      memory_order_release);
		if (t->wake)
			t->wake(t->wake_ctx);
		return true;
	}
	atomic_fetch_add_explicit(&t->asks_dropped, 1, memory_order_relaxed);
	return false;
}

/* Ask once per entry for a fresh resolution: the routes changed. */
static void ask_refresh(struct wgx_nh_table *t, const struct wgx_nh_entry *e)
{
	struct wgx_nh_entry *m = (struct wgx_nh_entry *)e;

	if (e->gen == atomic_load_explicit(&t->gen, memory_order_relaxed) ||
	    atomic_load_explicit(&m->asked, memory_order_relaxed))
		return;
	/* A full mailbox: ask again next time. */
	if (!atomic_exchange_explicit(&m->asked, true, memory_order_relaxed) &&
	    !wgx_nh_ask(t, &e->addr))
		atomic_store_explicit(&m->asked, false, memory_order_relaxed);
}

/* The kernel's MAC for the next hop, else the one learned from frames. */
static uint64_t entry_mac(const struct wgx_nh_entry *e)
{
	uint64_t mac =
		atomic_load_explicit(&e->neigh->mac, memory_order_relaxed);

	if (!(mac & WGX_NH_MAC_VALID))
		mac = atomic_load_explicit(&((struct wgx_nh_entry *)e)->learned,
					   memory_order_relaxed);
	return mac;
}

enum wgx_nh_verdict wgx_nh_next(struct wgx_nh_table *t,
				const union wgx_sockaddr *to,
				uint8_t dst_mac[6], union wgx_sockaddr *src)
{
	const struct wgx_nh_entry *e;
	struct wgx_nh_addr a;
	uint64_t mac;

	wgx_nh_addr_of(to, &a);
	e = wgx_nh_lookup(t, &a);
	if (!e) {
		wgx_nh_ask(t, &a);
		return WGX_NH_NO_NEXTHOP;
	}
	/* A stale answer is still the best one until the new one comes. */
	ask_refresh(t, e);
	if (e->state == WGX_NH_ELSEWHERE)
		return WGX_NH_OTHER_IFACE;
	if (e->state != WGX_NH_HERE)
		return WGX_NH_NO_NEXTHOP;
	mac = entry_mac(e);
	if (!(mac & WGX_NH_MAC_VALID))
		return WGX_NH_NO_NEXTHOP;
	memcpy(dst_mac, &mac, 6);
	memset(src, 0, sizeof(*src));
	src->sa.sa_family = a.family;
	if (a.family == AF_INET)
		memcpy(&src->in4.sin_addr, e->src, 4);
	else
		memcpy(&src->in6.sin6_addr, e->src, 16);
	return WGX_NH_SEND;
}

void wgx_nh_learn(struct wgx_nh_table *t, const union wgx_sockaddr *from,
		  const uint8_t mac[6])
{
	struct wgx_nh_addr a;
	struct wgx_nh_entry *e;
	uint64_t w = mac_word(mac);

	wgx_nh_addr_of(from, &a);
	e = (struct wgx_nh_entry *)wgx_nh_lookup(t, &a);
	if (!e) {
		wgx_nh_ask(t, &a);
		return;
	}
	/* Store only on a change: the line stays shared between workers. */
	if (atomic_load_explicit(&e->learned, memory_order_relaxed) != w)
		atomic_store_explicit(&e->learned, w, memory_order_relaxed);
}

/* ---- agent: neighbours -------------------------------------------------- */

static struct wgx_nh_neigh **neigh_slot(struct wgx_nh_table *t,
					const struct wgx_nh_addr *a)
{
	struct wgx_nh_neigh **p = &t->nb[addr_hash(a) & t->nb_mask];

	while (*p && !addr_eq(&(*p)->addr, a))
		p = &(*p)->next;
	return p;
}

static int neigh_grow(struct wgx_nh_table *t)
{
	size_t n = (t->nb_mask + 1) * 4;
	struct wgx_nh_neigh **nb = calloc(n, sizeof(*nb));

	if (!nb)
		return -ENOMEM;
	for (size_t i = 0; i <= t->nb_mask; i++) {
		struct wgx_nh_neigh *x = t->nb[i], *next;

		for (; x; x = next) {
			next = x->next;
			x->next = nb[addr_hash(&x->addr) & (n - 1)];
			nb[addr_hash(&x->addr) & (n - 1)] = x;
		}
	}
	free(t->nb);
	t->nb = nb;
	t->nb_mask = n - 1;
	return 0;
}

/* The neighbour for a, made if new (*made); NULL without memory. */
static struct wgx_nh_neigh *neigh_get(struct wgx_nh_table *t,
				      const struct wgx_nh_addr *a, bool *made)
{
	struct wgx_nh_neigh **p, *n;

	*made = false;
	if (t->n_neigh > 2 * (t->nb_mask + 1))
		neigh_grow(t); /* a longer chain if it fails */
	p = neigh_slot(t, a);
	n = *p;
	if (n)
		return n;
	n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->addr = *a;
	*p = n;
	t->n_neigh++;
	*made = true;
	return n;
}

static void neigh_put(struct wgx_nh_table *t, struct wgx_nh_neigh *n)
{
	struct wgx_nh_neigh **p;

	if (!n || --n->refs)
		return;
	p = neigh_slot(t, &n->addr);
	if (*p == n)
		*p = n->next;
	t->n_neigh--;
	/* Entries unpublished with it may still be read: defer. */
	wgx_reclaim_defer(t->reclaim, free, n);
}

bool wgx_nh_neigh_update(struct wgx_nh_table *t, const struct wgx_nh_addr *a,
			 const uint8_t *mac)
{
	struct wgx_nh_neigh *n = *neigh_slot(t, a);

	if (!n)
		return false;
	atomic_store_explicit(&n->mac, mac ? mac_word(mac) : 0,
			      memory_order_relaxed);
	return true;
}

void wgx_nh_for_each_neigh(struct wgx_nh_table *t,
			   void (*fn)(void *ctx, struct wgx_nh_neigh *n),
			   void *ctx)
{
	for (size_t i = 0; i <= t->nb_mask; i++)
		for (struct wgx_nh_neigh *n = t->nb[i]; n; n = n->next)
			fn(ctx, n);
}

/* ---- agent: entries ----------------------------------------------------- */

static struct wgx_nh_buckets *buckets_new(size_t n)
{
	struct wgx_nh_buckets *b = calloc(1, sizeof(*b) + n * sizeof(b->b[0]));

	if (b)
		b->mask = n - 1;
	return b;
}

static struct wgx_nh_buckets *tab_of(struct wgx_nh_table *t)
{
	return atomic_load_explicit(&t->tab, memory_order_relaxed);
}

/* The link that points at a's entry (or at the chain's NULL end). */
static struct wgx_nh_entry *_Atomic *entry_link(struct wgx_nh_buckets *b,
						const struct wgx_nh_addr *a)
{
	struct wgx_nh_entry *_Atomic *p = &b->b[addr_hash(a) & b->mask];
	struct wgx_nh_entry *e;

	while ((e = atomic_load_explicit(p, memory_order_relaxed)) &&
	       !addr_eq(&e->addr, a))
		p = &e->next;
	return p;
}

static void link_front(struct wgx_nh_buckets *b, struct wgx_nh_entry *e)
{
	struct wgx_nh_entry *_Atomic *head =
		&b->b[addr_hash(&e->addr) & b->mask];

	atomic_store_explicit(&e->next,
			      atomic_load_explicit(head, memory_order_relaxed),
			      memory_order_relaxed);
	atomic_store_explicit(head, e, memory_order_release);
}

static struct wgx_nh_entry *entry_copy(const struct wgx_nh_entry *e)
{
	struct wgx_nh_entry *c = malloc(sizeof(*c));

	if (!c)
		return NULL;
	memcpy(c, e, sizeof(*c));
	atomic_store(&c->learned,
		     atomic_load(&((struct wgx_nh_entry *)e)->learned));
	atomic_store(&c->asked,
		     atomic_load(&((struct wgx_nh_entry *)e)->asked));
	return c;
}

/* Free a whole unpublished table and its entries (after readers left). */
static void buckets_free_all(void *obj)
{
	struct wgx_nh_buckets *b = obj;

	for (size_t i = 0; i <= b->mask; i++) {
		struct wgx_nh_entry *e = atomic_load(&b->b[i]), *next;

		for (; e; e = next) {
			next = atomic_load(&e->next);
			free(e);
		}
	}
	free(b);
}

/* Four times the buckets: copies of every entry, one publishing store. */
static int grow(struct wgx_nh_table *t)
{
	struct wgx_nh_buckets *old = tab_of(t);
	struct wgx_nh_buckets *nb = buckets_new((old->mask + 1) * 4);

	if (!nb)
		return -ENOMEM;
	for (size_t i = 0; i <= old->mask; i++) {
		struct wgx_nh_entry *e = atomic_load(&old->b[i]);

		for (; e; e = atomic_load(&e->next)) {
			struct wgx_nh_entry *c = entry_copy(e);

			if (!c) {
				buckets_free_all(nb);
				return -ENOMEM;
			}
			link_front(nb, c);
		}
	}
	/* The copies keep the neighbours' references. */
	atomic_store_explicit(&t->tab, nb, memory_order_release);
	wgx_reclaim_defer(t->reclaim, buckets_free_all, old);
	return 0;
}

int wgx_nh_set(struct wgx_nh_table *t, const struct wgx_nh_addr *a,
	       const struct wgx_nh_route *r, struct wgx_nh_neigh **new_neigh)
{
	struct wgx_nh_entry *_Atomic *link, *e, *old;
	struct wgx_nh_neigh *n = NULL;
	bool made = false;

	*new_neigh = NULL;
	if (t->count >= tab_of(t)->mask + 1)
		grow(t); /* longer chains if it fails */
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	if (r->state == WGX_NH_HERE) {
		n = neigh_get(t, &r->next, &made);
		if (!n) {
			free(e);
			return -ENOMEM;
		}
		n->refs++;
	}
	e->addr = *a;
	e->state = (uint8_t)r->state;
	memcpy(e->src, r->src, 16);
	e->neigh = n;
	e->gen = atomic_load_explicit(&t->gen, memory_order_relaxed);
	link = entry_link(tab_of(t), a);
	old = atomic_load_explicit(link, memory_order_relaxed);
	if (old) {
		/* What the receivers learned still holds. */
		atomic_store(&e->learned, atomic_load(&old->learned));
		atomic_store_explicit(&e->next, atomic_load(&old->next),
				      memory_order_relaxed);
		atomic_store_explicit(link, e, memory_order_release);
		neigh_put(t, old->neigh);
		wgx_reclaim_defer(t->reclaim, free, old);
	} else {
		link_front(tab_of(t), e);
		t->count++;
	}
	if (made)
		*new_neigh = n;
	return 0;
}

void wgx_nh_remove(struct wgx_nh_table *t, const struct wgx_nh_addr *a)
{
	struct wgx_nh_entry *_Atomic *link = entry_link(tab_of(t), a);
	struct wgx_nh_entry *e =
		atomic_load_explicit(link, memory_order_relaxed);

	if (!e)
		return;
	atomic_store_explicit(link, atomic_load(&e->next),
			      memory_order_release);
	t->count--;
	neigh_put(t, e->neigh);
	wgx_reclaim_defer(t->reclaim, free, e);
}

void wgx_nh_routes_changed(struct wgx_nh_table *t)
{
	atomic_fetch_add_explicit(&t->gen, 1, memory_order_relaxed);
}

size_t wgx_nh_take_asks(struct wgx_nh_table *t, struct wgx_nh_addr *out,
			size_t max)
{
	size_t n = 0;

	for (unsigned int i = 0; i < WGX_NH_ASKS && n < max; i++) {
		if (atomic_load_explicit(&t->ask[i].state,
					 memory_order_acquire) != ASK_FULL)
			continue;
		out[n++] = t->ask[i].addr;
		atomic_store_explicit(&t->ask[i].state, ASK_FREE,
				      memory_order_release);
	}
	return n;
}

int wgx_nh_init(struct wgx_nh_table *t, struct wgx_reclaim *reclaim)
{
	memset(t, 0, sizeof(*t));
	t->reclaim = reclaim;
	t->nb = calloc(NEIGH_BUCKETS_MIN, sizeof(*t->nb));
	t->nb_mask = NEIGH_BUCKETS_MIN - 1;
	atomic_store(&t->tab, buckets_new(BUCKETS_MIN));
	if (!t->nb || !tab_of(t)) {
		wgx_nh_destroy(t);
		return -ENOMEM;
	}
	return 0;
}

void wgx_nh_destroy(struct wgx_nh_table *t)
{
	struct wgx_nh_buckets *b = tab_of(t);

	if (b)
		buckets_free_all(b);
	atomic_store(&t->tab, NULL);
	for (size_t i = 0; t->nb && i <= t->nb_mask; i++) {
		struct wgx_nh_neigh *n = t->nb[i], *next;

		for (; n; n = next) {
			next = n->next;
			free(n);
		}
	}
	free(t->nb);
	t->nb = NULL;
	t->count = t->n_neigh = 0;
}
