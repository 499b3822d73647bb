/* SPDX-License-Identifier: MIT */
/*
 * A peer as the agent and the datapath share it. The agent owns every
 * field except those marked "datapath": it changes them only while it
 * holds the device's state lock for writing, which the datapath holds for
 * reading around each batch. The datapath reports timer events through
 * atomic bits (never a syscall per packet) and the agent applies them.
 */
#ifndef WGX_PEER_H
#define WGX_PEER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "agent/config.h"
#include "core/cookie.h"
#include "core/keypairs.h"
#include "core/noise.h"
#include "core/timers.h"

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
	uint16_t len;
	uint8_t data[];
};

struct wgx_peer {
	struct wgx_device *dev;
	struct wgx_peer *next_peer;
	uint32_t id; /* stable for the instance's life: show, BPF maps */
	uint8_t public_key[WGX_KEY_LEN];
	struct wgx_handshake *handshake;
	struct wgx_keypairs keypairs;
	struct wgx_cookie_maker cookie;
	struct wgx_timers timers;
	uint16_t persistent_keepalive;
	bool configured_endpoint;

	/* Endpoint: written by the agent and the receive path (roaming). */
	pthread_spinlock_t endpoint_lock;
	union wgx_sockaddr endpoint;
	bool has_endpoint;

	/* datapath: timer events and key confirmation for the agent. */
	_Atomic unsigned int events;
	struct wgx_keypair *_Atomic confirmed;
	/* datapath: when data last went out / came in, to order events. */
	_Atomic uint64_t last_sent_ns;
	_Atomic uint64_t last_received_ns;

	/* datapath: transfer counters (bytes of UDP payload). */
	_Atomic uint64_t rx_bytes;
	_Atomic uint64_t tx_bytes;
	/* Wall clock of the last completed handshake (0: never). */
	uint64_t last_handshake_sec;
	uint32_t last_handshake_nsec;

	/* Packets waiting for a session; oldest dropped when full. */
	pthread_mutex_t staged_lock;
	struct wgx_staged_pkt *staged[WGX_STAGED_MAX];
	unsigned int staged_head, staged_count;
};

/* Raise events for the agent; wakes it at most once per batch. */
static inline bool wgx_peer_raise(struct wgx_peer *p, unsigned int ev)
{
	unsigned int old;

	/* Already pending: no write, so the line is not pulled away from
	 * the other datapath thread on every packet. */
	if ((atomic_load_explicit(&p->events, memory_order_relaxed) & ev) == ev)
		return false;
	old = atomic_fetch_or_explicit(&p->events, ev, memory_order_release);
	return (old & ev) != ev;
}

void wgx_peer_get_endpoint(struct wgx_peer *p, union wgx_sockaddr *out,
			   bool *has);
/* True when the endpoint changed. */
bool wgx_peer_set_endpoint(struct wgx_peer *p, const union wgx_sockaddr *ep);

/*
 * Queue a packet until a session exists (datapath, any thread). False when
 * the queue was full and its oldest packet was dropped to make room.
 */
bool wgx_peer_stage(struct wgx_peer *p, const uint8_t *pkt, size_t len);
/* Take the oldest staged packet (caller frees it), or NULL. */
struct wgx_staged_pkt *wgx_peer_unstage(struct wgx_peer *p);
/* Packets waiting (a snapshot). */
unsigned int wgx_peer_staged(struct wgx_peer *p);
/* Drop every staged packet; returns how many there were. */
unsigned int wgx_peer_purge_staged(struct wgx_peer *p);

bool wgx_sockaddr_equal(const union wgx_sockaddr *a,
			const union wgx_sockaddr *b);
socklen_t wgx_sockaddr_len(const union wgx_sockaddr *a);
/* "192.0.2.1:51820" or "[2001:db8::1]:51820". */
void wgx_sockaddr_format(const union wgx_sockaddr *a, char *buf, size_t len);

#endif
