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

#include <stdatomic.h>
#include <stdint.h>

#include "datapath/context.h"

struct wgx_pool {
	struct wgx_datapath dp; /* what the agent holds */
	struct wgx_device *dev;
	unsigned int n;
	struct wgx_worker *w;
	unsigned int rx_queues; /* of the underlay, with AF_XDP; else 0 */
	int stop_fd;
	/* Workers asleep or going to sleep, one bit each. */
	_Atomic uint64_t idle_mask;
	unsigned int offloads;
};

/* Wake an idle worker to help with a ring that has work waiting. */
void wgx_pool_kick(struct wgx_pool *pool, const struct wgx_worker *from);

#endif
