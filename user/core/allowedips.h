/* SPDX-License-Identifier: MIT */
/*
 * AllowedIPs: the cryptokey routing table of protocol.md ("Sessions, timers
 * and the data path"). One table maps IPv4 and IPv6 prefixes to peers; a
 * lookup returns the peer of the longest prefix holding an address. Outbound,
 * that chooses the peer for a destination; inbound, the decrypted packet's
 * source must map back to the peer it came from.
 *
 * Each family is a path-compressed binary trie: a node stores a prefix
 * (address + cidr) and, when it is one of the table's entries, its peer.
 * Nodes without a peer only join two subtries. In front of each trie sits a
 * jump table indexed by the first K address bits (K grows with the number of
 * prefixes, 8..20): a slot holds the peer of the longest prefix shorter than
 * K bits covering it and the topmost trie node inside it, so a lookup starts
 * about K levels down and touches a few cache lines instead of ~log2(n).
 *
 * Peers are opaque pointers the table never dereferences; it keeps, per
 * peer, the list of its prefixes in the order they were inserted (a prefix
 * that moves joins the end of its new peer's list), which is the order
 * walk() reports.
 *
 * Addresses are in network byte order: 4 bytes for AF_INET, 16 for AF_INET6.
 *
 * Concurrency: every function except lookup() is a writer or needs the
 * table stable; writers must be serialised by the caller, and walk() and
 * count() must not run during a write. lookup() takes no lock and never
 * allocates, and may run in any number of threads beside one writer: a
 * reachable node's prefix never changes; its peer, its links and the jump
 * slots change by single release stores of final values (new nodes are
 * complete before they are linked), and a resized jump table is swapped
 * in whole. Unlinked nodes and replaced jump tables go to the table's
 * retire hook (core/retire.h), which frees them once every reader has
 * moved on; without one they are freed at once (no concurrent readers).
 */
#ifndef WGX_ALLOWEDIPS_H
#define WGX_ALLOWEDIPS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/retire.h"

struct wgx_aip_node;
struct wgx_aip_owner;
struct wgx_aip_jump;

/* One address family: the trie and the jump table in front of it. */
struct wgx_aip_trie {
	struct wgx_aip_node *root;
	struct wgx_aip_jump *jump; /* NULL while the family is empty */
	size_t count;
};

/* One table; treat the fields as private. */
struct wgx_allowedips {
	struct wgx_aip_trie v4;
	struct wgx_aip_trie v6;
	/* Open-addressed hash of peer -> its prefix list; size is a power of 2. */
	struct wgx_aip_owner *owners;
	size_t owners_size;
	size_t owners_used;
	size_t bytes; /* heap bytes requested: nodes, jump tables, peer hash */
	const struct wgx_retire *retire; /* NULL: free at once */
};

void wgx_allowedips_init(struct wgx_allowedips *t);
/* Where unlinked nodes go (core/retire.h); NULL frees them at once. */
void wgx_allowedips_set_retire(struct wgx_allowedips *t,
			       const struct wgx_retire *retire);
/*
 * Frees every node at once (no reader may be left); the table is empty
 * (and reusable) afterwards.
 */
void wgx_allowedips_free(struct wgx_allowedips *t);

/*
 * Maps family/addr/cidr to peer. Host bits beyond cidr are ignored. An
 * existing identical prefix moves to peer, as WireGuard does. 0, -EINVAL
 * (cidr beyond 32/128, NULL addr or peer), -EAFNOSUPPORT or -ENOMEM (the
 * table is then unchanged).
 */
int wgx_allowedips_insert(struct wgx_allowedips *t, int family,
			  const void *addr, uint8_t cidr, void *peer);

/*
 * Removes one prefix if peer owns it: 0, -ENOENT (absent or owned by
 * another peer), -EINVAL or -EAFNOSUPPORT.
 */
int wgx_allowedips_remove(struct wgx_allowedips *t, int family,
			  const void *addr, uint8_t cidr, const void *peer);

/* The peer holding exactly this prefix (host bits ignored), or NULL. */
void *wgx_allowedips_owner(const struct wgx_allowedips *t, int family,
			   const void *addr, uint8_t cidr);

/* Removes every prefix of peer; returns how many there were. */
size_t wgx_allowedips_remove_by_peer(struct wgx_allowedips *t,
				     const void *peer);

/* The peer of the longest prefix holding addr, or NULL. */
void *wgx_allowedips_lookup(const struct wgx_allowedips *t, int family,
			    const void *addr);

/*
 * Calls fn for each prefix of peer in insertion order, with the address in
 * network byte order and host bits zero. Stops at the first non-zero value
 * fn returns and returns it; 0 when all were visited. fn must not modify
 * the table.
 */
int wgx_allowedips_walk(const struct wgx_allowedips *t, const void *peer,
			int (*fn)(void *ctx, int family, const void *addr,
				  uint8_t cidr),
			void *ctx);

/* Prefixes peer holds. */
size_t wgx_allowedips_peer_count(const struct wgx_allowedips *t,
				 const void *peer);
/* Prefixes held in the table, both families. */
size_t wgx_allowedips_count(const struct wgx_allowedips *t);
/* Heap bytes the table requested (nodes, jump tables, peer hash), without
 * malloc's own per-allocation overhead. */
size_t wgx_allowedips_bytes(const struct wgx_allowedips *t);

#endif
