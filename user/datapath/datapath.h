/* SPDX-License-Identifier: MIT */
/*
 * The narrow interface between the agent and the datapath: a pool of
 * workers (worker.h) over some packet I/O (sockets today; AF_XDP next).
 * The datapath moves packets; the agent owns handshakes, timers and
 * configuration (design.md, "The agent and the datapath").
 */
#ifndef WGX_DATAPATH_H
#define WGX_DATAPATH_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "util/sockaddr.h"
#include "device/stats.h"

struct wgx_device;
struct wgx_datapath;
struct wgx_pktio;

struct wgx_datapath_ops {
	const char *name;
	/* Send one UDP payload (handshake, cookie reply, keepalive). */
	int (*send)(struct wgx_datapath *dp, const union wgx_sockaddr *to,
		    const void *buf, size_t len);
	/* Stop the threads and release everything. */
	void (*destroy)(struct wgx_datapath *dp);
};

struct wgx_datapath {
	const struct wgx_datapath_ops *ops;
	struct wgx_device *dev;
	/* The UDP port actually bound (ListenPort 0 picks one). */
	uint16_t port;
	/* Offloads in use (enum wgx_dp_offload): one may drop at run time. */
	_Atomic unsigned int offloads;
};

/* Offloads the datapath may use (wgx_socket_opts.offloads). */
enum wgx_dp_offload {
	/* The TUN fd has IFF_VNET_HDR: reads may be TSO/USO super-packets. */
	WGX_DP_TUN_VNET = 1 << 0,
	/* Merge TCP segments into one TUN write (needs WGX_DP_TUN_VNET). */
	WGX_DP_TUN_GRO = 1 << 1,
	/* UDP_SEGMENT: one sendmsg for a run of same-size datagrams. */
	WGX_DP_UDP_GSO = 1 << 2,
	/* UDP_GRO: one recvmsg for a run of coalesced datagrams. */
	WGX_DP_UDP_GRO = 1 << 3,
	WGX_DP_OFFLOAD_ALL = (1 << 4) - 1,
};

enum {
	/* Workers in a pool at most (the idle mask is 64 bits). */
	WGX_WORKERS_MAX = 64,
};

/* Makes worker i's packet I/O (tests: memory instead of sockets). */
typedef int (*wgx_pktio_factory)(void *ctx, unsigned int worker,
				 struct wgx_pktio **out);

struct wgx_socket_opts {
	const char *iface;    /* underlay: sockets bound to it; NULL: any */
	unsigned int workers; /* 1..WGX_WORKERS_MAX */
	const int *tun_fds;   /* one TUN queue per worker */
	uint16_t port;
	uint32_t fwmark;
	unsigned int offloads;	   /* enum wgx_dp_offload; unusable ones drop */
	wgx_pktio_factory make_io; /* NULL: UDP sockets */
	void *make_io_ctx;
	/*
	 * AF_XDP on iface's RX queues as well (the XDP program is attached
	 * and redirects known sessions): worker i owns queues i, i + workers,
	 * ... A worker without a queue receives on its sockets only.
	 */
	bool xsk;
	/* The program runs as generic XDP: frames may be datagram runs. */
	bool xsk_generic;
	/*
	 * With xsk: sealed datagrams leave through AF_XDP TX where the next
	 * hop is known (dev->nexthops), else through the UDP sockets.
	 */
	bool xsk_tx;
};

/*
 * Offloads by name, as WGXDP_OFFLOADS gives them: "all", "none", or a
 * comma-separated list of "tun" (WGX_DP_TUN_VNET), "tun-gro", "udp-gso",
 * "udp-gro". 0 or -EINVAL (*out untouched).
 */
int wgx_dp_socket_parse_offloads(const char *s, unsigned int *out);
/* The names of the offloads in bits, space-separated, or "none". */
void wgx_dp_socket_format_offloads(unsigned int bits, char *buf, size_t len);

/*
 * Start the worker pool. The reason is logged on failure. dev->dp is set
 * before the first worker runs.
 */
int wgx_dp_socket_create(struct wgx_device *dev,
			 const struct wgx_socket_opts *opts,
			 struct wgx_datapath **out);

/* What one worker did, for `wgxdp show`. */
struct wgx_dp_worker_info {
	uint64_t rx_packets, tx_packets;
	uint64_t batches_own, batches_helped;
};

/* Workers in the pool. */
unsigned int wgx_dp_workers(const struct wgx_datapath *dp);
/* Worker i's counters. */
void wgx_dp_worker_info(const struct wgx_datapath *dp, unsigned int i,
			struct wgx_dp_worker_info *out);
/* AF_XDP sockets into the program's xsks map (after attach): 0 or -errno. */
int wgx_dp_register_xsks(struct wgx_datapath *dp, int xsks_map_fd);
/* The AF_XDP sockets of the pool, for show. */
struct wgx_dp_xsk_info {
	unsigned int worker, queue;
	bool zerocopy;
	uint64_t rx_packets, rx_dropped, rx_invalid_descs, rx_ring_full,
		fill_ring_empty;
	bool tx; /* this socket transmits */
	uint64_t tx_packets, tx_invalid_descs, tx_ring_empty;
};
unsigned int wgx_dp_xsks(const struct wgx_datapath *dp);
void wgx_dp_xsk_info(const struct wgx_datapath *dp, unsigned int i,
		     struct wgx_dp_xsk_info *out);

/* Every worker's counters added to out (packets and bytes per stat). */
void wgx_dp_add_stats(const struct wgx_datapath *dp,
		      uint64_t packets[WGX_STAT_COUNT],
		      uint64_t bytes[WGX_STAT_COUNT]);

static inline int wgx_dp_send(struct wgx_datapath *dp,
			      const union wgx_sockaddr *to, const void *buf,
			      size_t len)
{
	return dp->ops->send(dp, to, buf, len);
}

#endif
