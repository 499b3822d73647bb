/* SPDX-License-Identifier: MIT */
/*
 * The device: one tunnel's identity, peers and the tables the workers
 * read, and the narrow ways the two sides reach each other.
 *
 * Concurrency: the agent thread is the only writer of the peers, keypairs,
 * index table and AllowedIPs. Workers read them without locks as RCU
 * readers (device/rcu.h); what the agent unlinks is freed only after a
 * grace period (reclaim). Workers talk back through atomics: per-peer
 * event bits with a lock-free stack of pending peers, the handshake
 * queue, and the wake-up eventfd.
 */
#ifndef WGX_DEVICE_H
#define WGX_DEVICE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "core/aead.h"
#include "core/allowedips.h"
#include "core/cookie.h"
#include "core/index.h"
#include "core/noise.h"
#include "core/ratelimit.h"
#include "device/nexthop.h"
#include "device/peer.h"
#include "device/peers.h"
#include "device/reclaim.h"
#include "device/stats.h"
#include "util/heap.h"

struct wgx_datapath;

/* Handshake messages waiting for the agent (from the receive path). */
struct wgx_hs_item {
	union wgx_sockaddr src;
	uint16_t len;
	uint16_t share; /* the source's share of the queue */
	bool cookie;	/* it carries a mac2 (counted in in_share_cookie) */
	uint8_t msg[WGX_MSG_INITIATION_LEN];
};

enum {
	WGX_HSQ_SIZE = 1024,
	/* Under load once this many wait, as the kernel's depth / 8. */
	WGX_HSQ_LOAD = WGX_HSQ_SIZE / 8,
	/*
	 * Sources (hashed, IPv6 by /64) share the queue: one share holds
	 * at most WGX_HSQ_PER_SHARE messages, so a flood from a few sources
	 * cannot fill it; and its last WGX_HSQ_RESERVED places take only
	 * sources known to have authenticated (ratelimit.h), so a flood from
	 * many (spoofed) sources cannot either. Messages that carry a mac2
	 * have shares of their own: a flood forging a peer's address without
	 * its cookie cannot crowd out the retry with the cookie, which would
	 * cost the peer a second 5 s round.
	 */
	WGX_HSQ_SHARES = 1024,
	WGX_HSQ_PER_SHARE = WGX_HSQ_SIZE / 16,
	WGX_HSQ_RESERVED = WGX_HSQ_SIZE / 4,
};

struct wgx_hsq {
	pthread_mutex_t lock;
	unsigned int head, count;
	uint16_t in_share[WGX_HSQ_SHARES];
	uint16_t in_share_cookie[WGX_HSQ_SHARES];
	struct wgx_hs_item item[WGX_HSQ_SIZE];
};

struct wgx_device {
	struct wgx_noise_static *identity;
	struct wgx_cookie_checker cookie_checker;
	struct wgx_ratelimit *ratelimit;
	struct wgx_index_table *indices;
	struct wgx_allowedips allowedips;
	/* Agent only: every peer, in order and by public key. */
	struct wgx_peers peers;
	uint32_t next_peer_id;
	uint16_t listen_port;
	uint32_t fwmark;
	uint32_t mtu;
	/* The TUN's IPv6 address: source of our ICMPv6 errors. */
	uint8_t tun_addr6[16];
	bool has_tun_addr6;

	struct wgx_datapath *dp;
	/* Written by the datapath to wake the agent (events, handshakes). */
	int wake_fd;
	struct wgx_hsq hsq;
	/* Peers with events: pushed by any thread, taken whole by the agent. */
	struct wgx_peer *_Atomic pending;
	/* Agent only: each peer's earliest deadline (timers, key expiry). */
	struct wgx_heap due;
	/* The agent's own AEAD context (keepalives, staged packets). */
	struct wgx_aead *aead;
	/* Protocol time (wgx_now) until which we count as under load. */
	uint64_t under_load_until;
	bool force_under_load; /* test knob, see agent.c */
	/* Told (agent thread) when a peer's keypairs move. */
	void (*keypairs_hook)(void *ctx, struct wgx_peer *p);
	void *keypairs_hook_ctx;
	/* Deferred frees of what the workers may still read (reclaim.h). */
	struct wgx_reclaim reclaim;
	struct wgx_retire retire;
	struct wgx_stats stats;
	/* Endpoints' next hops, for AF_XDP transmit (nexthop.h). */
	struct wgx_nh_table nexthops;
	/* The XDP program's rx_horizon map (datapath/horizon.h), -1 without
	 * XDP. Set by the agent before the workers start; the workers are
	 * gone before it closes. */
	int rx_horizon_fd;
};

/*
 * Protocol time: key lifetimes, timers, cookies, handshake history. As in
 * the kernel's WireGuard (ktime_get_coarse_boottime_ns), it runs on while
 * the machine sleeps: a laptop or VM that was suspended for ten minutes
 * finds its sessions 600 s older and rekeys, instead of using keys past
 * REJECT_AFTER_TIME (180 s) of real time, as CLOCK_MONOTONIC, which
 * stops during suspend, would let it. The agent's timerfd runs on the
 * same clock, so a deadline that passed during a suspend fires on resume.
 */
#define WGX_CLOCK CLOCK_BOOTTIME

/* WGX_CLOCK in nanoseconds. */
uint64_t wgx_now(void);

int wgx_device_new(struct wgx_device **out);
/* Wipes every key, frees every peer and what waits for reclamation. */
void wgx_device_free(struct wgx_device *dev);

/* Agent: a new peer, not yet in dev->peers. NULL when out of memory. */
struct wgx_peer *wgx_device_peer_new(struct wgx_device *dev,
				     const uint8_t public_key[WGX_KEY_LEN],
				     const uint8_t *psk);
/* Agent: add a new peer to the device's set. 0 or -ENOMEM. */
int wgx_device_peer_add(struct wgx_device *dev, struct wgx_peer *p);
/*
 * Agent: unlink a peer from every table the workers read and free it
 * after a grace period (also right for a peer never added).
 */
void wgx_device_peer_remove(struct wgx_device *dev, struct wgx_peer *p);
/* Agent: a peer's keypairs changed (the XDP map, stale confirmations). */
void wgx_device_keypairs_changed(struct wgx_device *dev, struct wgx_peer *p);

struct wgx_peer *wgx_device_find_peer(struct wgx_device *dev,
				      const uint8_t public_key[WGX_KEY_LEN]);

/* Wake the agent from a datapath thread (coalesced by the eventfd). */
void wgx_device_wake(struct wgx_device *dev);

/*
 * Any thread: raise events on p, and put p on the device's stack for the
 * agent if it had none pending. Returns the bits that were not set yet
 * (the caller wakes the agent for the urgent ones).
 */
unsigned int wgx_device_raise(struct wgx_device *dev, struct wgx_peer *p,
			      unsigned int events);
/*
 * Agent: take every pending peer (a list through pending_next). Read a
 * peer's link before clearing its events: a worker may push it again.
 */
struct wgx_peer *wgx_device_take_pending(struct wgx_device *dev);
/*
 * Agent: a removed peer came off the pending stack (its events cleared);
 * frees it if its grace period ended while it was there.
 */
void wgx_device_peer_popped(struct wgx_device *dev, struct wgx_peer *p);

/* Receive path: queue a handshake message (types 1-3) for the agent. */
void wgx_device_queue_handshake(struct wgx_device *dev, const uint8_t *msg,
				size_t len, const union wgx_sockaddr *src);
/* Agent: take the oldest queued handshake; *depth: how many waited. */
bool wgx_device_pop_handshake(struct wgx_device *dev, struct wgx_hs_item *out,
			      unsigned int *depth);

/* Agent: whether handshakes are answered with cookies right now. */
bool wgx_device_under_load(const struct wgx_device *dev, uint64_t now);

/* Agent: wipe every key and the identity, remove every peer. */
void wgx_device_wipe(struct wgx_device *dev);

#endif
