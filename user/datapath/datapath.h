/* SPDX-License-Identifier: MIT */
/*
 * The narrow interface between the agent and a datapath (socket today;
 * XDP + socket and XDP + AF_XDP later). The datapath moves packets; the
 * agent owns handshakes, timers and configuration (design.md, "The agent
 * and the datapath").
 */
#ifndef WGX_DATAPATH_H
#define WGX_DATAPATH_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/config.h"

struct wgx_device;
struct wgx_datapath;

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

/* Offloads the socket datapath may use (wgx_socket_opts.offloads). */
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

struct wgx_socket_opts {
	const char *iface; /* underlay: sockets bound to it */
	int tun_fd;
	uint16_t port;
	uint32_t fwmark;
	unsigned int offloads; /* enum wgx_dp_offload; unusable ones drop */
};

/*
 * Offloads by name, as WGXDP_OFFLOADS gives them: "all", "none", or a
 * comma-separated list of "tun" (WGX_DP_TUN_VNET), "tun-gro", "udp-gso",
 * "udp-gro". 0 or -EINVAL (*out untouched).
 */
int wgx_dp_socket_parse_offloads(const char *s, unsigned int *out);
/* The names of the offloads in bits, space-separated, or "none". */
void wgx_dp_socket_format_offloads(unsigned int bits, char *buf, size_t len);

/* The plain UDP socket datapath: works on any host. */
int wgx_dp_socket_create(struct wgx_device *dev,
			 const struct wgx_socket_opts *opts,
			 struct wgx_datapath **out);

static inline int wgx_dp_send(struct wgx_datapath *dp,
			      const union wgx_sockaddr *to, const void *buf,
			      size_t len)
{
	return dp->ops->send(dp, to, buf, len);
}

#endif
