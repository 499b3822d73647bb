/* SPDX-License-Identifier: MIT */
/*
 * The packet I/O under the packet core: how a worker's batches of
 * WireGuard datagrams reach and leave the underlay. The packet logic
 * (rx.c, tx.c) is written once over this interface; the socket I/O
 * (pktio_socket.c) moves datagrams through a UDP socket, the AF_XDP I/O
 * through its rings, and the unit tests through memory.
 *
 * Batches are the unit of work: the worker that owns an I/O fills a
 * receive batch from it, any worker decrypts it, and one worker at a time,
 * in the order the batches were filled, finishes it (worker.h). A batch
 * keeps its buffers until its owner refills it, so datagrams can be
 * decrypted in place wherever they landed.
 */
#ifndef WGX_PKTIO_H
#define WGX_PKTIO_H

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/sockaddr.h"
#include "device/stats.h"

struct wgx_keypair;
struct wgx_peer;

enum {
	/* Receive messages per batch; each may be a GRO run. */
	WGX_RX_MSGS = 16,
	/* Datagrams per batch: a GRO run holds at most 64 (UDP_GRO). */
	WGX_RX_MAX = WGX_RX_MSGS * 64,
	/* The largest UDP payload: a GRO run is never truncated. */
	WGX_RX_BUF = 65536,
	/* Sealed datagrams per send batch. */
	WGX_TX_MAX = 384,
};

/* What happened to a received datagram so far. */
enum wgx_rx_state {
	WGX_RX_DROPPED,	 /* counted, nothing more to do */
	WGX_RX_DATA,	 /* a data message with a known keypair: decrypt */
	WGX_RX_TAG_OK,	 /* decrypted in place: finish in order */
	WGX_RX_TAG_BAD,	 /* forged or corrupt: count it in order */
	WGX_RX_CONSUMED, /* a handshake message, queued for the agent */
};

struct wgx_rx_dgram {
	uint8_t *data; /* the WireGuard message */
	uint32_t len;
	uint16_t src;  /* index into the batch's sources */
	uint8_t state; /* enum wgx_rx_state */
	struct wgx_keypair *kp;
	struct wgx_peer *peer;
};

struct wgx_rx_batch {
	unsigned int n;
	struct wgx_rx_dgram d[WGX_RX_MAX];
	/* Source addresses (a GRO run, or a row of frames, shares one). */
	union wgx_sockaddr src[WGX_RX_MAX];
	unsigned int nsrc;
	/* Buffers for I/Os that receive into memory of their own. */
	uint8_t *buf[WGX_RX_MSGS];
	unsigned int nbuf; /* used by this fill */
	/* What the I/O lent this batch (AF_XDP: its frames), given back by
	 * recycle() before the batch is filled again. */
	uint64_t lent[WGX_RX_MAX];
	unsigned int nlent;
	/* Which I/O filled it, for recycle(). */
	struct wgx_pktio *io;
};

/* A sealed datagram waiting to be sent. */
struct wgx_tx_dgram {
	uint8_t *p; /* the message, contiguous with the next when they run */
	uint32_t wire;
	union wgx_sockaddr to;
};

struct wgx_tx_send {
	unsigned int n;
	struct wgx_tx_dgram d[WGX_TX_MAX];
};

/* Why a datagram the AF_XDP I/O could send went through the socket. */
enum wgx_tx_fallback {
	WGX_TX_FB_NO_NEXTHOP,  /* no route or next hop's MAC known yet */
	WGX_TX_FB_OTHER_IFACE, /* the route leaves by another interface */
	WGX_TX_FB_RING_FULL,   /* no TX frame free */
	WGX_TX_FB_TOO_BIG,     /* the frame exceeds the underlay's MTU */
	WGX_TX_FB_COUNT,
};

/* What send() tells the packet core about each datagram. */
struct wgx_pktio_result {
	unsigned int sent, failed;
	uint64_t sent_bytes, failed_bytes;
	/* Batched sends the kernel refused, resent one by one. */
	unsigned int refused;
	uint64_t refused_bytes;
	/* Of those sent: through AF_XDP TX. */
	unsigned int xsk;
	uint64_t xsk_bytes;
	/* Handed to the socket instead, by reason. */
	unsigned int fallback[WGX_TX_FB_COUNT];
	uint64_t fallback_bytes[WGX_TX_FB_COUNT];
};

struct wgx_pktio;

struct wgx_pktio_ops {
	const char *name;
	/*
	 * Receive what waits, without blocking, into b (b->n datagrams,
	 * b->src filled): the number of datagrams, 0 when nothing waits, or
	 * -errno.
	 */
	int (*recv)(struct wgx_pktio *io, struct wgx_rx_batch *b);
	/* Give back what b held before it is refilled (may be NULL). */
	void (*recycle)(struct wgx_pktio *io, struct wgx_rx_batch *b);
	/* Send every datagram of s, in order; any worker may call it. */
	void (*send)(struct wgx_pktio *io, const struct wgx_tx_send *s,
		     struct wgx_pktio_result *r);
	/* One datagram (the agent's handshakes and keepalives). */
	int (*send_one)(struct wgx_pktio *io, const union wgx_sockaddr *to,
			const void *buf, size_t len);
	/* The descriptors to poll for input; returns how many. */
	unsigned int (*poll_fds)(struct wgx_pktio *io, struct pollfd *pfd,
				 unsigned int max);
	void (*destroy)(struct wgx_pktio *io);
};

struct wgx_pktio {
	const struct wgx_pktio_ops *ops;
	/* Receive batches need WGX_RX_MSGS buffers of WGX_RX_BUF bytes. */
	bool needs_buffers;
};

#endif
