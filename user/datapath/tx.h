/* SPDX-License-Identifier: MIT */
/*
 * The send half of the packet core, in the ring's three steps:
 *
 *   fill    (the TUN queue's owner) read a batch of packets, TSO/USO
 *           super-packets included; route each by AllowedIPs, find its
 *           peer's endpoint and keypair, claim the nonce counters, stage
 *           what has no session yet and ask the agent for a handshake;
 *   seal    (any worker) cut each super-packet into segments straight into
 *           the send area and encrypt them in place;
 *   finish  (one worker at a time, in ring order) send them, runs of
 *           same-size datagrams to one endpoint in one UDP GSO send, raise
 *           the timer events, and answer unroutable packets with ICMP.
 */
#ifndef WGX_TX_H
#define WGX_TX_H

#include "datapath/gso.h"
#include "datapath/pktio.h"
#include "datapath/context.h"

enum {
	/* TUN reads per batch (one packet each, or one super-packet). */
	WGX_TX_READS = 256,
	/* What the reads of one batch go to. */
	WGX_TX_AREA = 1 << 20,
	/* A batch stops taking reads when fewer segments than this fit. */
	WGX_TX_SEG_RESERVE = 64,
};

/* What fill decided for one read. */
enum wgx_tx_verdict {
	WGX_TX_DROP,   /* counted */
	WGX_TX_SEAL,   /* its segments are sealed and sent */
	WGX_TX_ICMP,   /* no route or no endpoint: answer it */
	WGX_TX_STAGED, /* waiting for a handshake (copied to the peer) */
};

struct wgx_tx_read {
	uint32_t off, len; /* in the area, virtio header excluded */
	uint8_t verdict;
	struct wgx_gso gso;
	struct wgx_peer *peer;
	struct wgx_keypair *kp;
	union wgx_sockaddr to;
};

struct wgx_tx_seg {
	uint32_t off;  /* of its message in the send area */
	uint32_t wire; /* after seal; 0: not sealed */
	uint16_t read, index;
	uint64_t counter;
};

struct wgx_tx_job {
	uint8_t *area;
	struct wgx_tx_read rd[WGX_TX_READS];
	unsigned int nrd;
	uint8_t *out;
	size_t out_cap, out_used;
	struct wgx_tx_seg seg[WGX_TX_MAX];
	unsigned int nseg;
	struct wgx_tx_send send;
};

struct wgx_tx_job *wgx_tx_job_new(uint32_t mtu);
/* Wipes the plaintext the areas held. */
void wgx_tx_job_free(struct wgx_tx_job *j);

/* The packets read (0: the TUN had none). */
int wgx_tx_fill(struct wgx_worker *w, struct wgx_tx_job *j);
void wgx_tx_seal(struct wgx_worker *w, struct wgx_tx_job *j);
void wgx_tx_finish(struct wgx_worker *w, struct wgx_tx_job *j);

#endif
