// SPDX-License-Identifier: MIT
/*
 * AllowedIPs as two path-compressed binary tries (one per family), the
 * layout the Linux driver's allowedips.c uses: a node holds a prefix, an
 * optional peer and two children; child[b] holds the longer prefixes whose
 * bit number cidr is b. Chains of single-child nodes are never stored, so a
 * trie of n prefixes has fewer than 2n nodes and a lookup visits about
 * log2(n) of them.
 *
 * Invariants: a node without a peer has exactly two children; a child's
 * cidr is larger than its parent's and its prefix extends the parent's.
 *
 * Write-side code works on 128-bit keys (an IPv4 address sits in the top 32
 * bits) so that one insert/remove serves both families; the two lookups are
 * specialised because they are the hot path.
 */
#include "allowedips.h"

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct wgx_aip_node {
	struct wgx_aip_node *child[2];
	void *peer; /* NULL: only joins two subtries */
	uint8_t cidr;
	uint8_t bits;  /* 32 or 128: the family, for walking a peer's list */
	uint32_t key4; /* IPv4 prefix in host order, host bits zero */
	struct wgx_aip_node *next; /* next prefix of the same peer */
};

/* IPv6 nodes carry 16 more bytes; IPv4 ones are 40 bytes in all. */
struct wgx_aip_node6 {
	struct wgx_aip_node n;
	uint64_t key[2]; /* host order, host bits zero */
};

/* A peer's prefixes, oldest first; tail makes appending O(1). */
struct wgx_aip_owner {
	const void *peer; /* NULL: free slot */
	struct wgx_aip_node *head;
	struct wgx_aip_node *tail;
	size_t count;
};

struct key {
	uint64_t hi;
	uint64_t lo;
};

/*
 * Everything a lookup follows is published by a release store of a fully
 * initialised node and read with an acquire load; both are plain moves on
 * x86 and are what concurrent readers will need (see allowedips.h).
 */
static void publish(struct wgx_aip_node **slot, struct wgx_aip_node *n)
{
	__atomic_store_n(slot, n, __ATOMIC_RELEASE);
}

static void publish_peer(struct wgx_aip_node *n, void *peer)
{
	__atomic_store_n(&n->peer, peer, __ATOMIC_RELEASE);
}

static const struct wgx_aip_node *deref(struct wgx_aip_node *const *slot)
{
	return __atomic_load_n(slot, __ATOMIC_ACQUIRE);
}

static uint64_t mask64(unsigned int n)
{
	return n ? ~0ULL << (64 - n) : 0;
}

static struct key key_mask(struct key k, unsigned int cidr)
{
	k.hi &= mask64(cidr < 64 ? cidr : 64);
	k.lo &= mask64(cidr > 64 ? cidr - 64 : 0);
	return k;
}

static unsigned int key_bit(struct key k, unsigned int i)
{
	return i < 64 ? (k.hi >> (63 - i)) & 1 : (k.lo >> (127 - i)) & 1;
}

/* Length of the common leading bits of a and b (128 when equal). */
static unsigned int key_common(struct key a, struct key b)
{
	uint64_t x = a.hi ^ b.hi;

	if (x)
		return (unsigned int)__builtin_clzll(x);
	x = a.lo ^ b.lo;
	return x ? 64 + (unsigned int)__builtin_clzll(x) : 128;
}

static struct key key_load(const void *addr, unsigned int bits)
{
	struct key k = { 0, 0 };
	uint32_t a4;

	if (bits == 32) {
		memcpy(&a4, addr, 4);
		k.hi = (uint64_t)ntohl(a4) << 32;
	} else {
		memcpy(&k.hi, addr, 8);
		memcpy(&k.lo, (const uint8_t *)addr + 8, 8);
		k.hi = be64toh(k.hi);
		k.lo = be64toh(k.lo);
	}
	return k;
}

static void key_store(void *addr, struct key k, unsigned int bits)
{
	uint32_t a4 = htonl((uint32_t)(k.hi >> 32));

	if (bits == 32) {
		memcpy(addr, &a4, 4);
		return;
	}
	k.hi = htobe64(k.hi);
	k.lo = htobe64(k.lo);
	memcpy(addr, &k.hi, 8);
	memcpy((uint8_t *)addr + 8, &k.lo, 8);
}

static const struct wgx_aip_node6 *node6(const struct wgx_aip_node *n)
{
	return (const struct wgx_aip_node6 *)n;
}

static struct key node_key(const struct wgx_aip_node *n)
{
	struct key k = { (uint64_t)n->key4 << 32, 0 };

	if (n->bits == 128) {
		k.hi = node6(n)->key[0];
		k.lo = node6(n)->key[1];
	}
	return k;
}

static bool node_covers(const struct wgx_aip_node *n, struct key k)
{
	return key_common(k, node_key(n)) >= n->cidr;
}

static size_t node_size(unsigned int bits)
{
	return bits == 32 ? sizeof(struct wgx_aip_node)
			  : sizeof(struct wgx_aip_node6);
}

/* A detached node for key (already masked) / cidr, without a peer. */
static struct wgx_aip_node *node_new(struct wgx_allowedips *t,
				     unsigned int bits, struct key k,
				     unsigned int cidr)
{
	struct wgx_aip_node *n = calloc(1, node_size(bits));

	if (!n)
		return NULL;
	n->cidr = (uint8_t)cidr;
	n->bits = (uint8_t)bits;
	if (bits == 32) {
		n->key4 = (uint32_t)(k.hi >> 32);
	} else {
		((struct wgx_aip_node6 *)n)->key[0] = k.hi;
		((struct wgx_aip_node6 *)n)->key[1] = k.lo;
	}
	t->bytes += node_size(bits);
	return n;
}

/* Frees at once: concurrent readers will need this deferred. */
static void node_free(struct wgx_allowedips *t, struct wgx_aip_node *n)
{
	t->bytes -= node_size(n->bits);
	free(n);
}

static struct wgx_aip_node **root_of(struct wgx_allowedips *t,
				     unsigned int bits)
{
	return bits == 32 ? &t->root4 : &t->root6;
}

/* Validates and decodes the arguments every writer takes. */
static int parse(int family, const void *addr, uint8_t cidr, struct key *k,
		 unsigned int *bits)
{
	if (family == AF_INET)
		*bits = 32;
	else if (family == AF_INET6)
		*bits = 128;
	else
		return -EAFNOSUPPORT;
	if (!addr || cidr > *bits)
		return -EINVAL;
	*k = key_mask(key_load(addr, *bits), cidr);
	return 0;
}

/* ---- Peer -> prefix list: open addressing with linear probing. ---- */

static size_t owner_home(const struct wgx_allowedips *t, const void *peer)
{
	/* Fibonacci hashing: pointers' low bits are alignment zeros. */
	uint64_t h = (uint64_t)(uintptr_t)peer * 0x9e3779b97f4a7c15ULL;

	return (size_t)(h >> 32) & (t->owners_size - 1);
}

static struct wgx_aip_owner *owner_get(const struct wgx_allowedips *t,
				       const void *peer)
{
	size_t i;

	if (!t->owners_used || !peer)
		return NULL;
	for (i = owner_home(t, peer); t->owners[i].peer;
	     i = (i + 1) & (t->owners_size - 1))
		if (t->owners[i].peer == peer)
			return &t->owners[i];
	return NULL;
}

/*
 * Makes room for peer (load <= 1/2) before anything changes, so that linking
 * it later cannot fail.
 */
static int owner_reserve(struct wgx_allowedips *t, const void *peer)
{
	size_t old_size = t->owners_size, size = old_size ? old_size * 2 : 8;
	struct wgx_aip_owner *old = t->owners, *grown;
	size_t i, j;

	if ((t->owners_used + 1) * 2 <= old_size || owner_get(t, peer))
		return 0;
	grown = calloc(size, sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	t->owners = grown;
	t->owners_size = size;
	for (i = 0; i < old_size; i++) {
		if (!old[i].peer)
			continue;
		for (j = owner_home(t, old[i].peer); grown[j].peer;
		     j = (j + 1) & (size - 1))
			;
		grown[j] = old[i];
	}
	t->bytes += (size - old_size) * sizeof(*grown);
	free(old);
	return 0;
}

/* Deletes by shifting later members of the probe run back (no tombstones). */
static void owner_del(struct wgx_allowedips *t, struct wgx_aip_owner *o)
{
	size_t mask = t->owners_size - 1, hole = (size_t)(o - t->owners);
	size_t i = hole, home;

	for (;;) {
		i = (i + 1) & mask;
		if (!t->owners[i].peer)
			break;
		home = owner_home(t, t->owners[i].peer);
		/* Stays if its home lies cyclically in (hole, i]. */
		if (((i - home) & mask) < ((i - hole) & mask))
			continue;
		t->owners[hole] = t->owners[i];
		hole = i;
	}
	memset(&t->owners[hole], 0, sizeof(t->owners[hole]));
	t->owners_used--;
}

/* An empty table holds no memory; called once a removal is complete. */
static void owner_release_if_empty(struct wgx_allowedips *t)
{
	if (t->owners_used)
		return;
	t->bytes -= t->owners_size * sizeof(*t->owners);
	free(t->owners);
	t->owners = NULL;
	t->owners_size = 0;
}

/* Gives n to peer at the end of its list; owner_reserve() came first. */
static void owner_append(struct wgx_allowedips *t, struct wgx_aip_node *n,
			 void *peer)
{
	struct wgx_aip_owner *o = owner_get(t, peer);
	size_t i;

	if (!o) {
		for (i = owner_home(t, peer); t->owners[i].peer;
		     i = (i + 1) & (t->owners_size - 1))
			;
		o = &t->owners[i];
		o->peer = peer;
		t->owners_used++;
	}
	n->next = NULL;
	if (o->tail)
		o->tail->next = n;
	else
		o->head = n;
	o->tail = n;
	o->count++;
	t->count++;
	publish_peer(n, peer);
}

/* Takes n off its peer's list (a linear scan: the list is singly linked). */
static void owner_unlink(struct wgx_allowedips *t, struct wgx_aip_node *n)
{
	struct wgx_aip_owner *o = owner_get(t, n->peer);
	struct wgx_aip_node **pp = &o->head, *prev = NULL;

	while (*pp != n) {
		prev = *pp;
		pp = &prev->next;
	}
	*pp = n->next;
	if (o->tail == n)
		o->tail = prev;
	n->next = NULL;
	t->count--;
	if (!--o->count)
		owner_del(t, o);
}

/* ---- The trie. ---- */

/*
 * The slot holding exactly key/cidr, or NULL; *parent gets the slot holding
 * that node's parent (NULL at the root).
 */
static struct wgx_aip_node **find(struct wgx_aip_node **slot, struct key k,
				  unsigned int cidr,
				  struct wgx_aip_node ***parent)
{
	struct wgx_aip_node *n;

	*parent = NULL;
	while ((n = *slot) && n->cidr < cidr && node_covers(n, k)) {
		*parent = slot;
		slot = &n->child[key_bit(k, n->cidr)];
	}
	return n && n->cidr == cidr && node_covers(n, k) ? slot : NULL;
}

/*
 * Drops the peer of the node in slot (already off its owner's list) and
 * frees what no longer earns its place: the node unless it still joins two
 * subtries, then a peerless parent left with one child.
 */
static void detach(struct wgx_allowedips *t, struct wgx_aip_node **slot,
		   struct wgx_aip_node **parent_slot)
{
	struct wgx_aip_node *n = *slot, *child, *parent;

	publish_peer(n, NULL);
	if (n->child[0] && n->child[1])
		return;
	child = n->child[0] ? n->child[0] : n->child[1];
	publish(slot, child);
	node_free(t, n);
	if (child || !parent_slot)
		return;
	parent = *parent_slot;
	if (parent->peer)
		return;
	publish(parent_slot,
		parent->child[0] ? parent->child[0] : parent->child[1]);
	node_free(t, parent);
}

/* An existing prefix changes owner; it goes to the end of peer's list. */
static void node_move(struct wgx_allowedips *t, struct wgx_aip_node *n,
		      void *peer)
{
	if (n->peer)
		owner_unlink(t, n);
	owner_append(t, n, peer);
}

void wgx_allowedips_init(struct wgx_allowedips *t)
{
	memset(t, 0, sizeof(*t));
}

static void free_trie(struct wgx_allowedips *t, struct wgx_aip_node *n)
{
	/* Recursion depth is bounded by 129: cidr grows on every level. */
	if (!n)
		return;
	free_trie(t, n->child[0]);
	free_trie(t, n->child[1]);
	node_free(t, n);
}

void wgx_allowedips_free(struct wgx_allowedips *t)
{
	free_trie(t, t->root4);
	free_trie(t, t->root6);
	free(t->owners);
	wgx_allowedips_init(t);
}

int wgx_allowedips_insert(struct wgx_allowedips *t, int family,
			  const void *addr, uint8_t cidr, void *peer)
{
	struct wgx_aip_node **slot, *n, *leaf, *top;
	unsigned int bits, d;
	struct key k, nk;
	int err = parse(family, addr, cidr, &k, &bits);

	if (err)
		return err;
	if (!peer)
		return -EINVAL;
	if (owner_reserve(t, peer))
		return -ENOMEM;
	slot = root_of(t, bits);
	while ((n = *slot) && n->cidr <= cidr && node_covers(n, k)) {
		if (n->cidr == cidr) {
			node_move(t, n, peer);
			return 0;
		}
		slot = &n->child[key_bit(k, n->cidr)];
	}
	top = leaf = node_new(t, bits, k, cidr);
	if (!leaf)
		return -ENOMEM;
	if (n) {
		/* n is not above the new prefix: it is below it, or the two
		 * part at bit d and need a peerless node there. */
		nk = node_key(n);
		d = key_common(k, nk);
		if (d >= cidr) {
			leaf->child[key_bit(nk, cidr)] = n;
		} else {
			top = node_new(t, bits, key_mask(k, d), d);
			if (!top) {
				node_free(t, leaf);
				return -ENOMEM;
			}
			top->child[key_bit(k, d)] = leaf;
			top->child[key_bit(nk, d)] = n;
		}
	}
	owner_append(t, leaf, peer);
	publish(slot, top);
	return 0;
}

int wgx_allowedips_remove(struct wgx_allowedips *t, int family,
			  const void *addr, uint8_t cidr, const void *peer)
{
	struct wgx_aip_node **slot, **parent;
	unsigned int bits;
	struct key k;
	int err = parse(family, addr, cidr, &k, &bits);

	if (err)
		return err;
	slot = find(root_of(t, bits), k, cidr, &parent);
	if (!slot || !peer || (*slot)->peer != peer)
		return -ENOENT;
	owner_unlink(t, *slot);
	detach(t, slot, parent);
	owner_release_if_empty(t);
	return 0;
}

size_t wgx_allowedips_remove_by_peer(struct wgx_allowedips *t, const void *peer)
{
	struct wgx_aip_owner *o = owner_get(t, peer);
	struct wgx_aip_node *n, *next, **slot, **parent;
	size_t removed;

	if (!o)
		return 0;
	n = o->head;
	removed = o->count;
	t->count -= removed;
	owner_del(t, o);
	/* detach() frees only n and peerless parents, never a later n. */
	for (; n; n = next) {
		next = n->next;
		slot = find(root_of(t, n->bits), node_key(n), n->cidr, &parent);
		detach(t, slot, parent);
	}
	owner_release_if_empty(t);
	return removed;
}

static void *lookup4(const struct wgx_aip_node *n, uint32_t a)
{
	void *best = NULL, *peer;
	unsigned int c;

	while (n) {
		c = n->cidr;
		if ((a ^ n->key4) & (uint32_t)(mask64(c) >> 32))
			break;
		peer = __atomic_load_n(&n->peer, __ATOMIC_ACQUIRE);
		if (peer)
			best = peer;
		if (c == 32)
			break;
		n = deref(&n->child[(a >> (31 - c)) & 1]);
	}
	return best;
}

static void *lookup6(const struct wgx_aip_node *n, uint64_t hi, uint64_t lo)
{
	void *best = NULL, *peer;
	uint64_t diff;
	unsigned int c;

	while (n) {
		c = n->cidr;
		diff = (hi ^ node6(n)->key[0]) & mask64(c < 64 ? c : 64);
		diff |= (lo ^ node6(n)->key[1]) & mask64(c > 64 ? c - 64 : 0);
		if (diff)
			break;
		peer = __atomic_load_n(&n->peer, __ATOMIC_ACQUIRE);
		if (peer)
			best = peer;
		if (c == 128)
			break;
		n = deref(
			&n->child[(c < 64 ? hi >> (63 - c) : lo >> (127 - c)) &
				  1]);
	}
	return best;
}

void *wgx_allowedips_lookup(const struct wgx_allowedips *t, int family,
			    const void *addr)
{
	struct key k;

	if (family == AF_INET) {
		k = key_load(addr, 32);
		return lookup4(deref(&t->root4), (uint32_t)(k.hi >> 32));
	}
	if (family == AF_INET6) {
		k = key_load(addr, 128);
		return lookup6(deref(&t->root6), k.hi, k.lo);
	}
	return NULL;
}

int wgx_allowedips_walk(const struct wgx_allowedips *t, const void *peer,
			int (*fn)(void *ctx, int family, const void *addr,
				  uint8_t cidr),
			void *ctx)
{
	const struct wgx_aip_owner *o = owner_get(t, peer);
	const struct wgx_aip_node *n;
	uint8_t addr[16];
	int ret;

	for (n = o ? o->head : NULL; n; n = n->next) {
		key_store(addr, node_key(n), n->bits);
		ret = fn(ctx, n->bits == 32 ? AF_INET : AF_INET6, addr,
			 n->cidr);
		if (ret)
			return ret;
	}
	return 0;
}

size_t wgx_allowedips_count(const struct wgx_allowedips *t)
{
	return t->count;
}

size_t wgx_allowedips_bytes(const struct wgx_allowedips *t)
{
	return t->bytes;
}
