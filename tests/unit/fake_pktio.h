/* SPDX-License-Identifier: MIT */
/*
 * A packet I/O in memory (datapath/pktio.h) for the packet core's unit
 * tests: datagrams queued by the test come out of recv(), and whatever the
 * workers send is captured, in the order send() was called, across every
 * worker of a pool.
 */
#ifndef WGX_FAKE_PKTIO_H
#define WGX_FAKE_PKTIO_H

#include <pthread.h>
#include <stdint.h>

#include "datapath/pktio.h"

enum {
	FAKE_MAX_DGRAM = 2048,
	FAKE_QUEUE = 16384,
};

struct fake_dgram {
	union wgx_sockaddr addr; /* source (queued) or destination (sent) */
	uint16_t len;
	uint8_t data[FAKE_MAX_DGRAM];
};

/* What every fake I/O of a pool shares. */
struct fake_net {
	pthread_mutex_t lock;
	/* Sent by any worker, in order of the send() calls. */
	struct fake_dgram *sent;
	unsigned int n_sent;
	/* Waiting to be received, per worker. */
	struct fake_dgram *queue[8];
	unsigned int head[8], tail[8];
	/* Readable while worker i may have datagrams waiting. */
	int efd[8];
	/* Datagrams per recv() at most (to make many batches). */
	unsigned int per_recv;
};

int fake_net_init(struct fake_net *net);
void fake_net_free(struct fake_net *net);
/* Queue one datagram for worker w's recv(). */
void fake_net_push(struct fake_net *net, unsigned int w,
		   const union wgx_sockaddr *from, const void *data,
		   size_t len);
/* Datagrams per recv() from now on. */
void fake_net_set_per_recv(struct fake_net *net, unsigned int n);
/* Datagrams sent so far. */
unsigned int fake_net_sent(struct fake_net *net);
/* Datagrams still queued for any worker. */
unsigned int fake_net_pending(struct fake_net *net);
/* A wgx_pktio_factory: ctx is the struct fake_net. */
int fake_net_make_io(void *ctx, unsigned int worker, struct wgx_pktio **out);

#endif
