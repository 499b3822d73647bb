/* SPDX-License-Identifier: MIT */
/*
 * The device: one tunnel's identity, peers and shared tables, and the
 * agent-side protocol steps (handshakes, cookies, keepalives, timers).
 *
 * Concurrency: the agent thread is the only writer of the peers, keypairs,
 * index table and AllowedIPs, and writes only while holding `lock` for
 * writing. Datapath threads hold it for reading around each batch of
 * packets, never per packet and never while blocked in a system call.
 */
#ifndef WGX_DEVICE_H
#define WGX_DEVICE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/aead.h"
#include "core/allowedips.h"
#include "agent/config.h"
#include "core/cookie.h"
#include "core/index.h"
#include "core/noise.h"
#include "device/peer.h"
#include "device/reclaim.h"
#include "core/ratelimit.h"
#include "device/stats.h"

struct wgx_datapath;

/* Handshake messages waiting for the agent (from the receive path). */
struct wgx_hs_item {
	union wgx_sockaddr src;
	uint16_t len;
	uint8_t msg[WGX_MSG_INITIATION_LEN];
};

enum {
	WGX_HSQ_SIZE = 1024,
	/* Under load once this many wait, as the kernel's depth / 8. */
	WGX_HSQ_LOAD = WGX_HSQ_SIZE / 8,
};

struct wgx_hsq {
	pthread_mutex_t lock;
	unsigned int head, count;
	struct wgx_hs_item item[WGX_HSQ_SIZE];
};

struct wgx_device {
	pthread_rwlock_t lock;
	struct wgx_noise_static *identity;
	struct wgx_cookie_checker cookie_checker;
	struct wgx_ratelimit *ratelimit;
	struct wgx_index_table *indices;
	/* Deferred frees of what the workers may still read (reclaim.h). */
	struct wgx_reclaim reclaim;
	struct wgx_retire retire;
	struct wgx_allowedips allowedips;
	struct wgx_peer *peers;
	size_t n_peers;
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
	/* The agent's own AEAD context (keepalives, staged packets). */
	struct wgx_aead *aead;
	/* Monotonic ns until which we count as under load. */
	uint64_t under_load_until;
	bool force_under_load; /* test knob, see agent.c */
	/* Told (agent thread, write lock held) when a peer's keypairs move. */
	void (*keypairs_hook)(void *ctx, struct wgx_peer *p);
	void *keypairs_hook_ctx;
	struct wgx_stats stats;
};

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t wgx_now(void);

int wgx_device_new(struct wgx_device **out);
void wgx_device_free(struct wgx_device *dev);

/* Apply a parsed config: identity, port, peers (add/change/remove). */
int wgx_device_configure(struct wgx_device *dev, const struct wgx_config *cfg);

struct wgx_peer *wgx_device_find_peer(struct wgx_device *dev,
				      const uint8_t public_key[WGX_KEY_LEN]);

/* Wake the agent from a datapath thread (coalesced by the eventfd). */
void wgx_device_wake(struct wgx_device *dev);

/* Receive path: queue a handshake message (types 1-3) for the agent. */
void wgx_device_queue_handshake(struct wgx_device *dev, const uint8_t *msg,
				size_t len, const union wgx_sockaddr *src);

/* Agent: process queued handshakes, peer events and due timers. */
void wgx_device_process(struct wgx_device *dev);
/* Agent: the next deadline (monotonic ns) for its timer, 0 for none. */
uint64_t wgx_device_next_deadline(struct wgx_device *dev);

/* Agent: start a handshake with peer now if the timers allow it. */
void wgx_device_initiate(struct wgx_device *dev, struct wgx_peer *peer,
			 bool is_retry);

/* Agent: whether handshakes are answered with cookies right now. */
bool wgx_device_under_load(const struct wgx_device *dev, uint64_t now);

/* Agent: wipe every key and the identity; used on shutdown. */
void wgx_device_wipe(struct wgx_device *dev);

#endif
