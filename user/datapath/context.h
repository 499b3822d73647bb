/* SPDX-License-Identifier: MIT */
/*
 * A worker's context as the packet core (rx.c, tx.c) sees it: what one
 * worker owns (its packet I/O, TUN queue, AEAD context, scratch and
 * counters) and the two ways it reports: per-batch counters and events
 * for the agent. The pool and the loop that run workers are worker.h's.
 */
#ifndef WGX_CONTEXT_H
#define WGX_CONTEXT_H

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

/*
 * Add n to one of w's counters, from w's own thread: one writer needs no
 * read-modify-write, only a store others read whole.
 */
static inline void wgx_worker_count(_Atomic uint64_t *c, uint64_t n)
{
	atomic_store_explicit(c,
			      atomic_load_explicit(c, memory_order_relaxed) + n,
			      memory_order_relaxed);
}

/* Add t to w's counters and zero it (w's own thread). */
void wgx_worker_tally_flush(struct wgx_worker *w, struct wgx_tally *t);
/* Raise events on p; note in *wake when the agent must run now. */
void wgx_worker_raise(struct wgx_worker *w, struct wgx_peer *p, unsigned int ev,
		      bool *wake);

#endif
