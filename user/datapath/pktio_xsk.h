/* SPDX-License-Identifier: MIT */
/*
 * The AF_XDP packet I/O (pktio.h): a worker's receive side for the RX
 * queues it owns is one AF_XDP socket per queue, which the XDP program
 * fills with the data messages of known sessions (the xsks map, queue ->
 * socket); the rest (handshakes, data on queues without a socket) still
 * arrives on the worker's UDP sockets, which also send. libxdp's
 * <xdp/xsk.h> sets up the rings; our own program is already attached
 * (XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD), and the agent writes the map.
 */
#ifndef WGX_PKTIO_XSK_H
#define WGX_PKTIO_XSK_H

#include <stdbool.h>
#include <stdint.h>

#include "datapath/datapath.h"
#include "datapath/pktio.h"
#include "device/nexthop.h"

enum {
	/* AF_XDP sockets one worker owns at most. */
	WGX_XSK_PER_WORKER = 8,
};

/* One socket's state, for show (XDP_STATISTICS and ours). */
struct wgx_xsk_info {
	unsigned int queue;
	bool zerocopy;
	uint64_t rx_packets;
	uint64_t rx_dropped;	   /* the kernel's: no room, too big */
	uint64_t rx_invalid_descs; /* the kernel's */
	uint64_t rx_ring_full;	   /* the kernel's */
	uint64_t fill_ring_empty;  /* the kernel's count, else ours */
	bool tx;		   /* this socket transmits */
	uint64_t tx_packets;
	uint64_t tx_invalid_descs; /* the kernel's */
	uint64_t tx_ring_empty;	   /* the kernel's */
};

/* AF_XDP transmit: off (every send through the UDP sockets) or how. */
struct wgx_xsk_tx {
	bool on;
	struct wgx_nh_table *nh; /* the endpoints' next hops */
	uint16_t port;		 /* our UDP source port */
};

/*
 * A worker's I/O: its UDP sockets (through sock, an open socket I/O it
 * takes over) and one AF_XDP socket for each of queues[0..nq). runs:
 * the program runs as generic XDP, where a frame may carry a GSO or GRO
 * run of datagrams, cut apart here. With tx->on, sealed datagrams leave
 * through the first socket's TX ring wherever the next hop is known
 * (the rest, and every handshake, through sock). The reason is logged
 * on failure (sock is then destroyed too).
 */
int wgx_pktio_xsk_open(struct wgx_pktio *sock, const char *iface,
		       const unsigned int *queues, unsigned int nq, bool runs,
		       const struct wgx_xsk_tx *tx, struct wgx_pktio **out);

/* Put every socket into the program's xsks map (fd): 0 or -errno. */
int wgx_pktio_xsk_register(struct wgx_pktio *io, int xsks_map_fd);
/* Sockets this I/O has (0 for any other I/O). */
unsigned int wgx_pktio_xsk_count(const struct wgx_pktio *io);
void wgx_pktio_xsk_info(struct wgx_pktio *io, unsigned int i,
			struct wgx_xsk_info *out);
bool wgx_pktio_is_xsk(const struct wgx_pktio *io);

/* The RX queues the interface has (ethtool channels, else sysfs, else 1). */
unsigned int wgx_xsk_rx_queues(const char *iface);

#endif
