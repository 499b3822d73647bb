/* SPDX-License-Identifier: MIT */
/*
 * Watching the underlay (IFACE) while the tunnel runs, to say what
 * happened to it: down and up again, deleted, an address gone or new (the
 * peers learn a new one from our next packet, as roaming does), an MTU
 * that no longer carries the tunnel's full packets (and what to set). The
 * datapath itself needs nothing done: its sockets are bound to the
 * device, not to an address, and send again once a route is back.
 */
#ifndef WGX_UNDERLAY_H
#define WGX_UNDERLAY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "agent/netlink.h"

struct wgx_underlay {
	int fd; /* rtnetlink link and address events; -1: not watching */
	int ifindex;
	char name[IFNAMSIZ];
	uint32_t mtu;
	uint32_t tun_mtu; /* the tunnel's: what a full packet carries */
	bool up;
	bool gone;
};

/*
 * Watch iface, whose tunnel has MTU tun_mtu; u->fd goes in the agent's
 * epoll. 0 or -errno (logged; the tunnel runs unwatched).
 */
int wgx_underlay_open(struct wgx_underlay *u, const char *iface,
		      uint32_t tun_mtu);
/* u->fd is readable: log what changed. */
void wgx_underlay_changed(struct wgx_underlay *u);
/* Handle one datagram of rtnetlink events (tests feed it directly). */
void wgx_underlay_events(struct wgx_underlay *u, const void *buf, size_t len);
/* Safe when never opened. */
void wgx_underlay_close(struct wgx_underlay *u);

/* Bytes a full tunnel packet needs on the wire: MTU + 60 (IPv4), + 80. */
uint32_t wgx_underlay_need(uint32_t tun_mtu, bool ipv6);

#endif
