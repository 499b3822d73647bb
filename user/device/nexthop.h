/* SPDX-License-Identifier: MIT */
/*
 * The next hop of each endpoint, for AF_XDP transmit: which way the
 * kernel routes an endpoint's address (out of the underlay or not, from
 * which source address, through which gateway) and that next hop's
 * Ethernet address, from the kernel's neighbour table or, while the
 * kernel has none, learned from frames the endpoint sent us.
 *
 * Two levels, so that what changes often costs little:
 *   entry  one per endpoint address: the route's answer (state, source,
 *          neighbour). Immutable once published; the agent replaces it
 *          whole when the route changes (read-copy-update).
 *   neigh  one per next-hop address, shared by every endpoint behind it:
 *          its MAC is one atomic word, so a neighbour change is O(1)
 *          whatever the number of endpoints behind that gateway.
 *
 * Workers read without locks (RCU, rcu.h; what the agent unpublishes is
 * freed through reclaim.h). They write only two things, both atomics:
 * the MAC learned from a received frame, and asks in a small mailbox
 * that the agent drains each loop: "resolve this endpoint" (no entry
 * yet) and "resolve it again" (the routes changed since it was
 * resolved). So the agent resolves only endpoints in use, each once per
 * change: 100,000 idle peers cost no netlink traffic at all.
 *
 * Everything named for the agent runs on the agent's thread only.
 */
#ifndef WGX_NEXTHOP_H
#define WGX_NEXTHOP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "device/reclaim.h"
#include "util/sockaddr.h"

/* An IPv4 or IPv6 address, without port: what entries are keyed by. */
struct wgx_nh_addr {
	uint8_t family; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
};

/* Where the kernel routes an endpoint. */
enum wgx_nh_state {
	WGX_NH_UNROUTED,  /* no route (yet): the socket decides */
	WGX_NH_HERE,	  /* out of the underlay: AF_XDP can send */
	WGX_NH_ELSEWHERE, /* out of another interface: the socket's */
};

/* What a send to one endpoint does (and why, for the counters). */
enum wgx_nh_verdict {
	WGX_NH_SEND,	    /* frame filled in: AF_XDP */
	WGX_NH_NO_NEXTHOP,  /* no route or no MAC known yet */
	WGX_NH_OTHER_IFACE, /* the route leaves by another interface */
};

enum {
	/* Asks that wait for the agent at most; more are dropped. */
	WGX_NH_ASKS = 64,
	/* A valid MAC word: the address in the low 48 bits. */
	WGX_NH_MAC_VALID = 1ULL << 63,
};

struct wgx_nh_neigh {
	struct wgx_nh_neigh *next; /* agent: the neighbour hash chain */
	struct wgx_nh_addr addr;
	_Atomic uint64_t mac; /* WGX_NH_MAC_VALID | MAC, 0: unknown */
	unsigned int refs;    /* agent: entries pointing here */
};

struct wgx_nh_entry {
	struct wgx_nh_entry *_Atomic next; /* published hash chain */
	struct wgx_nh_addr addr;
	uint8_t state;		    /* enum wgx_nh_state */
	uint8_t src[16];	    /* the route's preferred source */
	struct wgx_nh_neigh *neigh; /* state HERE: never NULL */
	uint32_t gen;		    /* the route generation resolved in */
	/* datapath: the MAC frames from this address came from. */
	_Atomic uint64_t learned;
	/* datapath: a refresh was asked for (once per entry). */
	_Atomic bool asked;
};

struct wgx_nh_buckets {
	size_t mask;
	struct wgx_nh_entry *_Atomic b[];
};

struct wgx_nh_ask {
	_Atomic uint32_t state; /* free, being written, full */
	struct wgx_nh_addr addr;
};

struct wgx_nh_table {
	struct wgx_nh_buckets *_Atomic tab;
	/* Bumped by the agent when routes or rules change. */
	_Atomic uint32_t gen;
	struct wgx_nh_ask ask[WGX_NH_ASKS];
	_Atomic uint64_t asks_dropped; /* the mailbox was full */
	/* Called after an ask (any thread): wakes the agent. */
	void (*wake)(void *ctx);
	void *wake_ctx;
	/* Agent only. */
	size_t count;
	struct wgx_nh_neigh **nb; /* neighbours by address */
	size_t nb_mask, n_neigh;
	struct wgx_reclaim *reclaim;
};

/* What the agent learned about one endpoint's route. */
struct wgx_nh_route {
	enum wgx_nh_state state;
	uint8_t src[16];	 /* HERE: the source address to use */
	struct wgx_nh_addr next; /* HERE: the gateway, or the endpoint */
};

/* The endpoint's address as a key (its port left out). */
void wgx_nh_addr_of(const union wgx_sockaddr *sa, struct wgx_nh_addr *out);

/* ---- datapath ----------------------------------------------------------- */

/* The published entry for a, or NULL (valid until a quiescent state). */
const struct wgx_nh_entry *wgx_nh_lookup(struct wgx_nh_table *t,
					 const struct wgx_nh_addr *a);
/*
 * How to send to to: WGX_NH_SEND fills the next hop's MAC into dst_mac
 * and the source address (no port) into src. Asks the agent to resolve
 * what it does not know, once.
 */
enum wgx_nh_verdict wgx_nh_next(struct wgx_nh_table *t,
				const union wgx_sockaddr *to,
				uint8_t dst_mac[6], union wgx_sockaddr *src);
/* A frame from `from` came from Ethernet address mac: remember it. */
void wgx_nh_learn(struct wgx_nh_table *t, const union wgx_sockaddr *from,
		  const uint8_t mac[6]);
/* Ask the agent to resolve a (any thread); false: the mailbox is full. */
bool wgx_nh_ask(struct wgx_nh_table *t, const struct wgx_nh_addr *a);

/* ---- agent -------------------------------------------------------------- */

int wgx_nh_init(struct wgx_nh_table *t, struct wgx_reclaim *reclaim);
/* Free everything now: no worker runs any more. */
void wgx_nh_destroy(struct wgx_nh_table *t);
/* Take up to max asks: how many. */
size_t wgx_nh_take_asks(struct wgx_nh_table *t, struct wgx_nh_addr *out,
			size_t max);
/*
 * Publish endpoint a's route (a new entry, or one replacing the old).
 * 0, or -ENOMEM (nothing changed). *new_neigh: a neighbour not known
 * before, whose MAC the agent should look up.
 */
int wgx_nh_set(struct wgx_nh_table *t, const struct wgx_nh_addr *a,
	       const struct wgx_nh_route *r, struct wgx_nh_neigh **new_neigh);
/* Forget endpoint a (freed after a grace period). */
void wgx_nh_remove(struct wgx_nh_table *t, const struct wgx_nh_addr *a);
/* The kernel's neighbour a now has mac (NULL: none). False: not ours. */
bool wgx_nh_neigh_update(struct wgx_nh_table *t, const struct wgx_nh_addr *a,
			 const uint8_t *mac);
/* Routes or rules changed: endpoints in use get resolved again. */
void wgx_nh_routes_changed(struct wgx_nh_table *t);
/* Every neighbour, for a fresh look after lost notifications. */
void wgx_nh_for_each_neigh(struct wgx_nh_table *t,
			   void (*fn)(void *ctx, struct wgx_nh_neigh *n),
			   void *ctx);

#endif
