/* SPDX-License-Identifier: MIT */
/*
 * The worker pool: one thread per core (by default), each with its own
 * packet I/O (socket or AF_XDP), its own TUN queue, its own AEAD context,
 * buffers and counters, and two ordered rings (ring.h) of batches it
 * fills from its inputs. A worker's loop:
 *
 *   1. fill batches from its own inputs while its rings have room
 *      (reading the socket and the TUN, classifying, looking up keys);
 *   2. claim a batch from any worker's ring, its own first, and do its
 *      crypto; finish whatever is done at the head of that ring, in order
 *      (TUN writes, sends, events for the agent);
 *   3. report an RCU quiescent state; sleep when there was nothing to do.
 *
 * A worker that fills more than it can seal wakes a sleeping one to help,
 * so one busy peer (one socket, one TUN queue) uses every core.
 */
#ifndef WGX_WORKER_H
#define WGX_WORKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "core/aead.h"
#include "datapath/datapath.h"
#include "datapath/pktio.h"
#include "datapath/ring.h"
#include "device/device.h"

enum {
	/* Batches in flight per ring. */
	WGX_WORKER_BATCHES = 4,
	/* Segments merged into one TUN write at most. */
	WGX_TUN_GRO_SEGS = 64,
	/* One segment of a super-packet, written out (staging, ICMP). */
	WGX_SEG_SCRATCH = 65536 + 64,
	/* One TUN read: a virtio header and a 64 KiB super-packet. */
	WGX_TUN_READ_MAX = 10 + 65536,
};

struct wgx_rx_job;
struct wgx_tx_job;
struct wgx_pool;

/* One inner packet ready for the TUN, with room for a virtio header. */
struct wgx_tun_pkt {
	uint8_t *p;
	uint32_t len;
};

struct wgx_worker {
	struct wgx_pool *pool;
	struct wgx_device *dev;
	unsigned int id;
	struct wgx_pktio *io;
	int tun_fd;
	bool tun_vnet; /* TUN reads and writes carry a virtio header */
	bool tun_gro;  /* merge TCP segments on TUN writes (may drop) */
	struct wgx_aead *aead;
	struct wgx_ring rx_ring, tx_ring;
	struct wgx_rx_job *rx_job[WGX_WORKER_BATCHES];
	struct wgx_tx_job *tx_job[WGX_WORKER_BATCHES];
	int wake_fd; /* eventfd: another worker has work for this one */
	bool idle;   /* asleep, or about to be (its bit in idle_mask) */
	pthread_t thread;
	bool started;
	/* Counters: written by this worker only, read by show. */
	struct wgx_stats stats;
	_Atomic uint64_t batches_own;	 /* of its own rings it sealed */
	_Atomic uint64_t batches_helped; /* of other workers' rings */
	/* Scratch of the worker that finishes a receive batch. */
	struct wgx_tun_pkt tun_out[WGX_RX_MAX];
	struct iovec wiov[WGX_TUN_GRO_SEGS];
	/* ICMP errors sent back into the TUN: a token bucket. */
	uint64_t icmp_tokens, icmp_last_ns;
	/* Fill's scratch: a segment written out; a read that did not fit. */
	uint8_t *seg_scratch;
	uint8_t *carry;
	uint32_t carry_len;
};

struct wgx_pool {
	struct wgx_datapath dp; /* what the agent holds */
	struct wgx_device *dev;
	unsigned int n;
	struct wgx_worker *w;
	int stop_fd;
	/* Workers asleep or going to sleep, one bit each. */
	_Atomic uint64_t idle_mask;
	unsigned int offloads;
};

/* Per-batch counters, added to the worker's in one go. */
struct wgx_tally {
	uint64_t pkts[WGX_STAT_COUNT];
	uint64_t bytes[WGX_STAT_COUNT];
};

static inline void wgx_tally(struct wgx_tally *t, enum wgx_stat_id id,
			     uint64_t bytes)
{
	t->pkts[id]++;
	t->bytes[id] += bytes;
}

/* Add t to w's counters and zero it (w's own thread). */
void wgx_worker_tally_flush(struct wgx_worker *w, struct wgx_tally *t);
/* Raise events on p; note in *wake when the agent must run now. */
void wgx_worker_raise(struct wgx_worker *w, struct wgx_peer *p, unsigned int ev,
		      bool *wake);

/* Wake an idle worker to help with a ring that has work waiting. */
void wgx_pool_kick(struct wgx_pool *pool, const struct wgx_worker *from);

#endif
