/* SPDX-License-Identifier: MIT */
/*
 * Keeps the device's next-hop table (device/nexthop.h) true to the
 * kernel, over rtnetlink (libmnl):
 *   - answers the workers' asks: the kernel's route to the endpoint
 *     (RTM_GETROUTE with the FwMark, so policy rules apply as they do to
 *     our sockets: oif, gateway, preferred source) and, for a next hop
 *     not seen before, its neighbour entry (RTM_GETNEIGH);
 *   - follows notifications: a neighbour of the underlay that changes
 *     (RTM_NEWNEIGH/DELNEIGH) is one store; a route or rule that changes
 *     marks every entry out of date, and each one in use is resolved
 *     again the next time a worker sends to it (once per change).
 * No periodic sweep: the work follows what changed and what is in use.
 * Agent thread only.
 */
#ifndef WGX_NEXTHOP_WATCH_H
#define WGX_NEXTHOP_WATCH_H

#include <linux/netlink.h>
#include <stdbool.h>
#include <stdint.h>

#include "device/nexthop.h"

struct mnl_socket;

struct wgx_nhw {
	struct wgx_nh_table *t;
	struct mnl_socket *req;	   /* requests, answered in turn */
	struct mnl_socket *events; /* notifications */
	int fd;			   /* events' descriptor, for epoll; -1 */
	int ifindex;		   /* the underlay */
	int skip_ifindex;	   /* routes through it don't matter (TUN) */
	uint32_t fwmark;
	uint32_t seq;
	char *buf;
	/* What it did, for show and the tests. */
	uint64_t resolved, neigh_events, route_events;
};

/*
 * Open both sockets for the underlay ifindex: 0 or -errno (logged).
 * skip_ifindex: our TUN, whose routes (the peers' AllowedIPs) come by the
 * thousand and never carry the underlay's traffic.
 */
int wgx_nhw_open(struct wgx_nhw *w, struct wgx_nh_table *t, int ifindex,
		 int skip_ifindex, uint32_t fwmark);
void wgx_nhw_close(struct wgx_nhw *w);
/* The events fd is readable: apply what changed. */
void wgx_nhw_read(struct wgx_nhw *w);
/* Answer what the workers asked (a bounded number per call). */
void wgx_nhw_poll(struct wgx_nhw *w);
/* A new FwMark: routes may differ now. */
void wgx_nhw_set_fwmark(struct wgx_nhw *w, uint32_t fwmark);

/*
 * The framing, for tests. wgx_nhw_route_parse reads an RTM_NEWROUTE
 * answer for a route lookup from the underlay ifindex's point of view
 * (1: out filled, 0: not a route, -EBADMSG). wgx_nhw_neigh_parse reads an
 * RTM_NEWNEIGH or RTM_DELNEIGH: its ifindex, address and MAC (*valid:
 * the kernel holds a usable one); 1, 0 or -EBADMSG likewise.
 */
int wgx_nhw_route_parse(const struct nlmsghdr *nh, int ifindex,
			struct wgx_nh_route *out);
int wgx_nhw_neigh_parse(const struct nlmsghdr *nh, int *ifindex,
			struct wgx_nh_addr *a, uint8_t mac[6], bool *valid);

#endif
