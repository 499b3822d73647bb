/* SPDX-License-Identifier: MIT */
/*
 * The narrow interface between the agent and a datapath (socket today;
 * XDP + socket and XDP + AF_XDP later). The datapath moves packets; the
 * agent owns handshakes, timers and configuration (design.md, "The agent
 * and the datapath").
 */
#ifndef WGX_DATAPATH_H
#define WGX_DATAPATH_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

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
};

struct wgx_socket_opts {
	const char *iface; /* underlay: sockets bound to it */
	int tun_fd;
	uint16_t port;
	uint32_t fwmark;
};

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
