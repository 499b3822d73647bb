/* SPDX-License-Identifier: MIT */
/*
 * The receive half of the packet core, in the three steps the ring runs
 * (worker.h):
 *
 *   fill     (the I/O's owner) receive a batch; check each datagram's
 *            header, find its keypair by receiver index, queue handshake
 *            messages for the agent, drop the rest with a reason;
 *   decrypt  (any worker) verify and decrypt in place;
 *   finish   (one worker at a time, in ring order) the replay window,
 *            roaming, timer events, the AllowedIPs source check, and the
 *            TUN writes, consecutive TCP segments merged.
 */
#ifndef WGX_RX_H
#define WGX_RX_H

#include "datapath/pktio.h"
#include "datapath/context.h"

struct wgx_rx_job {
	struct wgx_rx_batch b;
};

struct wgx_rx_job *wgx_rx_job_new(const struct wgx_pktio *io);
/* Wipes what the buffers held: decrypted packets. */
void wgx_rx_job_free(struct wgx_rx_job *j);

/* The datagrams received (0: none waited), or -errno from the I/O. */
int wgx_rx_fill(struct wgx_worker *w, struct wgx_rx_job *j);
void wgx_rx_decrypt(struct wgx_worker *w, struct wgx_rx_job *j);
void wgx_rx_finish(struct wgx_worker *w, struct wgx_rx_job *j);

#endif
