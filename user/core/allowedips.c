// SPDX-License-Identifier: MIT
/*
 * AllowedIPs as two path-compressed binary tries (one per family), the
 * layout the Linux driver's allowedips.c uses: a node holds a prefix, an
 * optional peer and two children; child[b] holds the longer prefixes whose
 * bit number cidr is b. Chains of single-child nodes are never stored, so a
 * trie of n prefixes has fewer than 2n nodes.
 *
 * Invariants: a node without a peer has exactly two children; a child's
 * cidr is larger than its parent's and its prefix extends the parent's.
 *
 * A lookup in the bare trie follows ~log2(n) dependent pointers, and beyond
 * the L2 cache each one is a miss (about 20 of them for 500k prefixes). So
 * each trie has a jump table over the first K bits, with 2^K >= its prefix
 * count: slot s holds the best peer among prefixes shorter than K covering
 * s, and the topmost node with cidr >= K whose first K bits are s. A lookup
 * reads one slot and walks the few nodes below it.
 *
 * A slot depends only on the prefixes covering it and the nodes inside it,
 * so a write to prefix P touches only the slots under P's first min(cidr,
 * K) bits. A P longer than K changes the start of its one slot. A P shorter
 * than K moves no node of K bits or more; it changes the peer of those of
 * its slots that no longer prefix claims, which a byte per slot recording
 * the depth of its peer tells without walking the trie.
 *
 * Write-side code works on 128-bit keys (an IPv4 address sits in the top 32
 * bits) so that one insert/remove serves both families; the two lookups are
 * specialised because they are the hot path.
 */
#include "core/allowedips.h"

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Jump table sizes: 2^8 slots at least, 2^20 (17 MiB) at most. */
enum {
	JUMP_MIN_BITS = 8,
	JUMP_MAX_BITS = 20,
};

struct wgx_aip_node {
	struct wgx_aip_node *child[2];
	void *peer; /* NULL: only joins two subtries */
	uint8_t cidr;
	uint8_t bits;  /* 32 or 128: the family, for walking a peer's list */
	uint32_t key4; /* IPv4 prefix in host order, host bits zero */
	/* The peer's prefixes in insertion order; lookups never read these. */
	struct wgx_aip_node *next;
	struct wgx_aip_node *prev;
};

/* IPv6 nodes carry 16 more bytes; IPv4 ones are 48 bytes in all. */
struct wgx_aip_node6 {
	struct wgx_aip_node n;
	uint64_t key[2]; /* host order, host bits zero */
};

struct wgx_aip_slot {
	struct wgx_aip_node *start; /* topmost node with cidr >= K in here */
	void *peer; /* longest prefix shorter than K covering the slot */
};

/* Replaced as a whole when K changes, so readers see bits and slots agree. */
struct wgx_aip_jump {
	unsigned int bits; /* K */
	/* Writers only: the depth of each slot's peer, see struct best. */
	uint8_t *depth;
	struct wgx_aip_slot slot[];
};

/* A peer's prefixes, oldest first. */
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
 * initialised object and read with an acquire load; both are plain moves on
 * x86 and are what concurrent readers will need (see allowedips.h).
 */
#define publish(slot, v) __atomic_store_n(&(slot), (v), __ATOMIC_RELEASE)
#define deref(slot)	 __atomic_load_n(&(slot), __ATOMIC_ACQUIRE)

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

static struct key key_set_bit(struct key k, unsigned int i)
{
	if (i < 64)
		k.hi |= 1ULL << (63 - i);
	else
		k.lo |= 1ULL << (127 - i);
	return k;
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

/* Unlinked: freed once concurrent readers are done with it (retire hook). */
static void node_free(struct wgx_allowedips *t, struct wgx_aip_node *n)
{
	t->bytes -= node_size(n->bits);
	wgx_retire(t->retire, free, n);
}

static struct wgx_aip_trie *trie_of(struct wgx_allowedips *t, unsigned int bits)
{
	return bits == 32 ? &t->v4 : &t->v6;
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

/* ---- Jump tables. ---- */

/* The peer a slot inherits and how deep it came from. */
struct best {
	void *peer;
	unsigned int depth; /* cidr + 1 of the prefix giving peer; 0: none */
};

static size_t jump_size(unsigned int bits)
{
	return sizeof(struct wgx_aip_jump) +
	       ((sizeof(struct wgx_aip_slot) + 1) << bits);
}

static size_t slot_of(struct key k, unsigned int bits)
{
	return (size_t)(k.hi >> (64 - bits));
}

/* Each field is stored once with its final value: no reader sees a gap. */
static void slot_set(struct wgx_aip_jump *j, size_t i,
		     struct wgx_aip_node *start, struct best best)
{
	publish(j->slot[i].start, start);
	publish(j->slot[i].peer, best.peer);
	j->depth[i] = (uint8_t)best.depth;
}

static void slots_set(struct wgx_aip_jump *j, size_t first, size_t count,
		      struct best best)
{
	for (size_t i = first; i < first + count; i++)
		slot_set(j, i, NULL, best);
}

/*
 * Follows k from *slot through the nodes shorter than len that cover it,
 * keeping the deepest peer seen in *best; returns the slot where that stops.
 */
static struct wgx_aip_node **descend(struct wgx_aip_node **slot, struct key k,
				     unsigned int len, struct best *best)
{
	struct wgx_aip_node *n;

	while ((n = *slot) && n->cidr < len && node_covers(n, k)) {
		if (n->peer) {
			best->peer = n->peer;
			best->depth = n->cidr + 1u;
		}
		slot = &n->child[key_bit(k, n->cidr)];
	}
	return slot;
}

/*
 * Recomputes the slots under prefix p/len (len <= K) from the subtrie at
 * *slot, reached with best from above. Recursion depth is at most K. Used
 * for whole rebuilds and for the one slot of a prefix of K bits or more.
 */
static void jump_fill(struct wgx_aip_jump *j, struct key p, unsigned int len,
		      struct wgx_aip_node **slot, struct best best)
{
	size_t first = slot_of(p, j->bits),
	       count = (size_t)1 << (j->bits - len);
	struct wgx_aip_node *n = *descend(slot, p, len, &best);
	size_t cfirst, ccount;
	struct key nk = { 0, 0 };

	if (n)
		nk = node_key(n);
	/* No prefix below p/len, or one below a different prefix. */
	if (!n || key_common(p, nk) < len) {
		slots_set(j, first, count, best);
		return;
	}
	/* A node at depth >= K starts the lookups of its own slot. */
	if (n->cidr >= j->bits) {
		cfirst = slot_of(nk, j->bits);
		slots_set(j, first, cfirst - first, best);
		slot_set(j, cfirst, n, best);
		slots_set(j, cfirst + 1, first + count - cfirst - 1, best);
		return;
	}
	/* len <= cidr < K: slots beside n's range keep best; split the rest. */
	cfirst = slot_of(nk, j->bits);
	ccount = (size_t)1 << (j->bits - n->cidr);
	slots_set(j, first, cfirst - first, best);
	slots_set(j, cfirst + ccount, first + count - cfirst - ccount, best);
	if (n->peer) {
		best.peer = n->peer;
		best.depth = n->cidr + 1u;
	}
	jump_fill(j, nk, n->cidr + 1u, &n->child[0], best);
	jump_fill(j, key_set_bit(nk, n->cidr), n->cidr + 1u, &n->child[1],
		  best);
}

/*
 * Prefix k/cidr, shorter than K, was set (to = its own peer) or removed (to
 * = what covers it from above). It decides the slots it covers that no
 * longer prefix claims. Nodes of K bits and more do not move in either
 * case, so the start pointers stand.
 */
static void jump_short(struct wgx_aip_jump *j, struct key k, unsigned int cidr,
		       struct best to)
{
	size_t first = slot_of(key_mask(k, cidr), j->bits);
	size_t count = (size_t)1 << (j->bits - cidr);

	for (size_t i = first; i < first + count; i++) {
		if (j->depth[i] > cidr + 1u)
			continue;
		publish(j->slot[i].peer, to.peer);
		j->depth[i] = (uint8_t)to.depth;
	}
}

/* After prefix k/cidr was set to peer (NULL: removed), fixes its slots. */
static void jump_update(struct wgx_aip_trie *tr, struct key k,
			unsigned int cidr, void *peer)
{
	struct best mine = { peer, cidr + 1u }, above = { NULL, 0 };
	struct wgx_aip_jump *j = tr->jump;
	struct wgx_aip_node **top;

	if (cidr < j->bits && peer) {
		jump_short(j, k, cidr, mine);
	} else if (cidr < j->bits) {
		descend(&tr->root, k, cidr, &above);
		jump_short(j, k, cidr, above);
	} else {
		top = descend(&tr->root, k, j->bits, &above);
		jump_fill(j, key_mask(k, j->bits), j->bits, top, above);
	}
}

static unsigned int jump_bits_for(size_t count)
{
	unsigned int bits = JUMP_MIN_BITS;

	while (bits < JUMP_MAX_BITS && ((size_t)1 << bits) < count)
		bits++;
	return bits;
}

/* Builds a table of 2^bits slots and swaps it in; -ENOMEM keeps the old. */
static int jump_rebuild(struct wgx_allowedips *t, struct wgx_aip_trie *tr,
			unsigned int bits)
{
	struct wgx_aip_jump *j = calloc(1, jump_size(bits)), *old = tr->jump;
	struct best none = { NULL, 0 };
	struct key zero = { 0, 0 };

	if (!j)
		return -ENOMEM;
	j->bits = bits;
	j->depth = (uint8_t *)&j->slot[(size_t)1 << bits];
	jump_fill(j, zero, 0, &tr->root, none);
	publish(tr->jump, j);
	t->bytes += jump_size(bits);
	if (old) {
		/* Readers may still be in old: deferred with the nodes. */
		t->bytes -= jump_size(old->bits);
		wgx_retire(t->retire, free, old);
	}
	return 0;
}

/*
 * Keeps about one prefix per slot: grows past one, shrinks at 1/8 (so that
 * alternating writes do not rebuild each time), and frees the table of an
 * empty family. A failed resize leaves a correct, slower table.
 */
static void jump_resize(struct wgx_allowedips *t, struct wgx_aip_trie *tr)
{
	unsigned int want = jump_bits_for(tr->count), bits = tr->jump->bits;
	struct wgx_aip_jump *old = tr->jump;

	if (!tr->count) {
		publish(tr->jump, NULL);
		t->bytes -= jump_size(bits);
		wgx_retire(t->retire, free, old);
	} else if (want > bits || want + 3 <= bits) {
		(void)jump_rebuild(t, tr, want);
	}
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
	n->prev = o->tail;
	if (o->tail)
		o->tail->next = n;
	else
		o->head = n;
	o->tail = n;
	o->count++;
	trie_of(t, n->bits)->count++;
	publish(n->peer, peer);
}

/* Takes n off its peer's list; n->peer is left for the caller. */
static void owner_unlink(struct wgx_allowedips *t, struct wgx_aip_node *n)
{
	struct wgx_aip_owner *o = owner_get(t, n->peer);

	if (n->prev)
		n->prev->next = n->next;
	else
		o->head = n->next;
	if (n->next)
		n->next->prev = n->prev;
	else
		o->tail = n->prev;
	n->next = n->prev = NULL;
	trie_of(t, n->bits)->count--;
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

	publish(n->peer, NULL);
	if (n->child[0] && n->child[1])
		return;
	child = n->child[0] ? n->child[0] : n->child[1];
	publish(*slot, child);
	node_free(t, n);
	if (child || !parent_slot)
		return;
	parent = *parent_slot;
	if (parent->peer)
		return;
	publish(*parent_slot,
		parent->child[0] ? parent->child[0] : parent->child[1]);
	node_free(t, parent);
}

/* Removes the node holding k/cidr in tr, which has a peer. */
static void remove_node(struct wgx_allowedips *t, struct wgx_aip_trie *tr,
			struct key k, unsigned int cidr)
{
	struct wgx_aip_node **parent,
		**slot = find(&tr->root, k, cidr, &parent);

	detach(t, slot, parent);
	jump_update(tr, k, cidr, NULL);
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

void wgx_allowedips_set_retire(struct wgx_allowedips *t,
			       const struct wgx_retire *retire)
{
	t->retire = retire;
}

void wgx_allowedips_free(struct wgx_allowedips *t)
{
	const struct wgx_retire *retire = t->retire;

	t->retire = NULL;
	free_trie(t, t->v4.root);
	free_trie(t, t->v6.root);
	free(t->v4.jump);
	free(t->v6.jump);
	free(t->owners);
	wgx_allowedips_init(t);
	t->retire = retire;
}

/* Links a new node for k/cidr under slot, where the search stopped at n. */
static int link_new(struct wgx_allowedips *t, struct wgx_aip_node **slot,
		    unsigned int bits, struct key k, unsigned int cidr,
		    void *peer)
{
	struct wgx_aip_node *n = *slot, *leaf, *top;
	unsigned int d;
	struct key nk;

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
	publish(*slot, top);
	return 0;
}

int wgx_allowedips_insert(struct wgx_allowedips *t, int family,
			  const void *addr, uint8_t cidr, void *peer)
{
	struct wgx_aip_node **slot, *n;
	struct wgx_aip_trie *tr;
	unsigned int bits;
	struct key k;
	int err = parse(family, addr, cidr, &k, &bits);

	if (err)
		return err;
	if (!peer)
		return -EINVAL;
	tr = trie_of(t, bits);
	/* Everything that can fail comes before the first change. */
	if (owner_reserve(t, peer))
		return -ENOMEM;
	if (!tr->jump && jump_rebuild(t, tr, JUMP_MIN_BITS)) {
		owner_release_if_empty(t);
		return -ENOMEM;
	}
	slot = &tr->root;
	while ((n = *slot) && n->cidr < cidr && node_covers(n, k))
		slot = &n->child[key_bit(k, n->cidr)];
	if (n && n->cidr == cidr && node_covers(n, k)) {
		/* The prefix exists: it moves to the end of peer's list. */
		if (n->peer)
			owner_unlink(t, n);
		owner_append(t, n, peer);
	} else {
		err = link_new(t, slot, bits, k, cidr, peer);
		if (err) {
			/* Undo what the reservations allocated. */
			if (!tr->count)
				jump_resize(t, tr);
			owner_release_if_empty(t);
			return err;
		}
	}
	jump_update(tr, k, cidr, peer);
	jump_resize(t, tr);
	return 0;
}

int wgx_allowedips_remove(struct wgx_allowedips *t, int family,
			  const void *addr, uint8_t cidr, const void *peer)
{
	struct wgx_aip_node **slot, **parent;
	struct wgx_aip_trie *tr;
	unsigned int bits;
	struct key k;
	int err = parse(family, addr, cidr, &k, &bits);

	if (err)
		return err;
	tr = trie_of(t, bits);
	slot = find(&tr->root, k, cidr, &parent);
	if (!slot || !peer || (*slot)->peer != peer)
		return -ENOENT;
	owner_unlink(t, *slot);
	remove_node(t, tr, k, cidr);
	jump_resize(t, tr);
	owner_release_if_empty(t);
	return 0;
}

void *wgx_allowedips_owner(const struct wgx_allowedips *t, int family,
			   const void *addr, uint8_t cidr)
{
	/* find() only reads through the slots it is given. */
	struct wgx_allowedips *w = (struct wgx_allowedips *)t;
	struct wgx_aip_node **slot, **parent;
	unsigned int bits;
	struct key k;

	if (parse(family, addr, cidr, &k, &bits))
		return NULL;
	slot = find(&trie_of(w, bits)->root, k, cidr, &parent);
	return slot ? (*slot)->peer : NULL;
}

size_t wgx_allowedips_remove_by_peer(struct wgx_allowedips *t, const void *peer)
{
	struct wgx_aip_owner *o = owner_get(t, peer);
	struct wgx_aip_node *n, *next;
	struct wgx_aip_trie *tr;
	size_t removed;

	if (!o)
		return 0;
	n = o->head;
	removed = o->count;
	owner_del(t, o);
	/* remove_node() frees only n and peerless parents, never a later n. */
	for (; n; n = next) {
		next = n->next;
		n->next = n->prev = NULL;
		tr = trie_of(t, n->bits);
		tr->count--;
		remove_node(t, tr, node_key(n), n->cidr);
	}
	if (t->v4.jump)
		jump_resize(t, &t->v4);
	if (t->v6.jump)
		jump_resize(t, &t->v6);
	owner_release_if_empty(t);
	return removed;
}

static void *lookup4(const struct wgx_aip_jump *j, uint32_t a)
{
	const struct wgx_aip_slot *s = &j->slot[a >> (32 - j->bits)];
	const struct wgx_aip_node *n = deref(s->start);
	void *best = deref(s->peer), *peer;
	unsigned int c;

	while (n) {
		c = n->cidr;
		if ((a ^ n->key4) & (uint32_t)(mask64(c) >> 32))
			break;
		peer = deref(n->peer);
		if (peer)
			best = peer;
		if (c == 32)
			break;
		n = deref(n->child[(a >> (31 - c)) & 1]);
	}
	return best;
}

static void *lookup6(const struct wgx_aip_jump *j, uint64_t hi, uint64_t lo)
{
	const struct wgx_aip_slot *s = &j->slot[hi >> (64 - j->bits)];
	const struct wgx_aip_node *n = deref(s->start);
	void *best = deref(s->peer), *peer;
	uint64_t diff;
	unsigned int c;

	while (n) {
		c = n->cidr;
		diff = (hi ^ node6(n)->key[0]) & mask64(c < 64 ? c : 64);
		diff |= (lo ^ node6(n)->key[1]) & mask64(c > 64 ? c - 64 : 0);
		if (diff)
			break;
		peer = deref(n->peer);
		if (peer)
			best = peer;
		if (c == 128)
			break;
		n = deref(n->child[(c < 64 ? hi >> (63 - c) : lo >> (127 - c)) &
				   1]);
	}
	return best;
}

void *wgx_allowedips_lookup(const struct wgx_allowedips *t, int family,
			    const void *addr)
{
	const struct wgx_aip_jump *j;
	struct key k;

	if (family == AF_INET) {
		j = deref(t->v4.jump);
		k = key_load(addr, 32);
		return j ? lookup4(j, (uint32_t)(k.hi >> 32)) : NULL;
	}
	if (family == AF_INET6) {
		j = deref(t->v6.jump);
		k = key_load(addr, 128);
		return j ? lookup6(j, k.hi, k.lo) : NULL;
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

size_t wgx_allowedips_peer_count(const struct wgx_allowedips *t,
				 const void *peer)
{
	const struct wgx_aip_owner *o = owner_get(t, peer);

	return o ? o->count : 0;
}

size_t wgx_allowedips_count(const struct wgx_allowedips *t)
{
	return t->v4.count + t->v6.count;
}

size_t wgx_allowedips_bytes(const struct wgx_allowedips *t)
{
	return t->bytes;
}
