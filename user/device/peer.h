/* SPDX-License-Identifier: MIT */
/*
 * A peer as the agent and the workers share it. The agent is the only
 * writer of everything but the fields marked "datapath"; workers reach a
 * peer through the index table (keypair -> peer) and AllowedIPs, never
 * through the agent's lists, and read it without locks:
 *   - keypairs: published slots (core/keypairs.h);
 *   - the endpoint: a sequence lock of atomic words, written by the agent
 *     and by a worker that sees the peer roam, read by any worker;
 *   - events: atomic bits, and a lock-free stack of peers with events that
 *     the agent takes whole (device.h), so it never scans every peer;
 *   - staged packets: a short spinlock, only on the no-session path.
 * A removed peer is freed only after a grace period (device/reclaim.h).
 */
#ifndef WGX_PEER_H
#define WGX_PEER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/cookie.h"
#include "core/keypairs.h"
#include "core/noise.h"
#include "core/timers.h"
#include "util/heap.h"
#include "util/sockaddr.h"

struct wgx_device;

/* Events the datapath raises for the agent (bits of peer->events). */
enum wgx_peer_event {
	WGX_EV_DATA_SENT = 1 << 0,
	WGX_EV_DATA_RECEIVED = 1 << 1,
	WGX_EV_AUTH_SENT = 1 << 2,
	WGX_EV_AUTH_RECEIVED = 1 << 3,
	WGX_EV_TRAVERSAL = 1 << 4,
	WGX_EV_WANT_HANDSHAKE = 1 << 5,	  /* no key, or rekey on send */
	WGX_EV_LASTMINUTE_REKEY = 1 << 6, /* initiator's 165-second rule */
	WGX_EV_KEY_CONFIRMED = 1 << 7,	  /* data arrived under "next" */
	WGX_EV_ENDPOINT_CHANGED = 1 << 8,
};

enum {
	WGX_STAGED_MAX = 128, /* packets waiting for a handshake, per peer */
};

struct wgx_staged_pkt {
	struct wgx_staged_pkt *next;
	uint16_t len;
	uint8_t data[];
};

/*
 * The endpoint under a sequence lock: seq is odd while a writer is in the
 * middle, and readers retry. Every word is an atomic, so the race a
 * sequence lock tolerates is not undefined behaviour.
 */
struct wgx_endpoint_slot {
	_Atomic uint32_t seq;
	_Atomic uint64_t word[4]; /* a union wgx_sockaddr; family 0: none */
};

struct wgx_peer {
	struct wgx_device *dev;
	uint32_t id; /* stable for the instance's life: show, BPF maps */
	uint8_t public_key[WGX_KEY_LEN];
	struct wgx_handshake *handshake;
	struct wgx_keypairs keypairs;
	struct wgx_cookie_maker cookie;
	struct wgx_timers timers;
	uint16_t persistent_keepalive;
	bool configured_endpoint;

	/* Agent only: the device's peer set (device/peers.h). */
	struct wgx_peer *list_prev, *list_next;
	/* Agent only: position among the due timers (util/heap.h). */
	struct wgx_heap_node due;
	/* Agent only: the last configuration pass that named this peer. */
	uint32_t config_gen;
	/* Agent only: removed; freed after a grace period. */
	bool removed;
	/* Agent only: freed by the event loop once it leaves the stack. */
	bool free_when_popped;

	struct wgx_endpoint_slot endpoint;

	/* datapath: timer events for the agent, and its stack link. */
	_Atomic unsigned int events;
	struct wgx_peer *_Atomic pending_next;
	/* datapath: the keypair whose first packet confirmed it. */
	struct wgx_keypair *_Atomic confirmed;
	/* datapath: when data last went out / came in, to order events. */
	_Atomic uint64_t last_sent_ns;
	_Atomic uint64_t last_received_ns;

	/* datapath: transfer counters (bytes of UDP payload, datagrams). */
	_Atomic uint64_t rx_bytes;
	_Atomic uint64_t tx_bytes;
	_Atomic uint64_t rx_packets;
	_Atomic uint64_t tx_packets;
	/* Agent only: handshakes completed (either role), for metrics. */
	uint64_t handshakes;
	/* Wall clock of the last completed handshake (0: never). */
	uint64_t last_handshake_sec;
	uint32_t last_handshake_nsec;

	/* Packets waiting for a session; oldest dropped when full. */
	pthread_spinlock_t staged_lock;
	struct wgx_staged_pkt *staged_head, *staged_tail;
	unsigned int staged_count;
};

/* Any thread. */
void wgx_peer_get_endpoint(struct wgx_peer *p, union wgx_sockaddr *out,
			   bool *has);
/* Any thread; true when the endpoint changed. */
bool wgx_peer_set_endpoint(struct wgx_peer *p, const union wgx_sockaddr *ep);
/* Agent: forget the endpoint. */
void wgx_peer_clear_endpoint(struct wgx_peer *p);

/*
 * Queue a packet until a session exists (any thread). False when the
 * queue was full and its oldest packet was dropped to make room, or when
 * there was no memory for it.
 */
bool wgx_peer_stage(struct wgx_peer *p, const uint8_t *pkt, size_t len);
/* Take the oldest staged packet (caller wipes and frees it), or NULL. */
struct wgx_staged_pkt *wgx_peer_unstage(struct wgx_peer *p);
/* Packets waiting (a snapshot). */
unsigned int wgx_peer_staged(struct wgx_peer *p);
/* Drop every staged packet; returns how many there were. */
unsigned int wgx_peer_purge_staged(struct wgx_peer *p);

/* Set up and tear down the locks and the empty queue (agent). */
void wgx_peer_init_shared(struct wgx_peer *p);
void wgx_peer_destroy_shared(struct wgx_peer *p);

#endif
