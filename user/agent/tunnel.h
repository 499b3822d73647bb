/* SPDX-License-Identifier: MIT */
/*
 * The TUN interface as wg-quick would set it up: created, MTU and
 * Address applied, brought up, and routes for the peers' AllowedIPs
 * (unless Table = off) chosen as wg-quick chooses them:
 *
 * - Table auto (the default): a prefix gets `ip route add PREFIX dev TUN`
 *   only when no route of the main table through the TUN already holds it
 *   (`ip route show dev TUN match PREFIX` is empty). So the subnet routes
 *   of the TUN's own Address (10.0.0.1/8 covers a peer's 10.0.5.2/32), and
 *   any route someone else put on the TUN, make a route unnecessary.
 * - Table = N: every prefix gets a route in table N, as wg-quick adds them
 *   without looking (one already there is left alone).
 *
 * wg-quick adds the longest prefixes first, so its own routes never cover
 * one another: only routes that are not the tunnel's decide. A sync
 * (reload) therefore computes exactly what a fresh `wg-quick up` would
 * install next to the routes on the TUN that are not ours, and applies
 * the difference: a route whose cover went away comes back, and a route
 * under a newly added shorter prefix of ours stays (a fresh up would add
 * both too; the longer one routes the same packets to the same place).
 * The routes we installed are kept in a hash, the routes found on the TUN
 * in another: install and sync are O(n) in the AllowedIPs, and requests
 * go to the kernel in batches.
 */
#ifndef WGX_TUNNEL_H
#define WGX_TUNNEL_H

#include <stdbool.h>

#include "agent/config.h"
#include "agent/netlink.h"
#include "agent/prefix_set.h"
#include "agent/tun.h"

struct wgx_tunnel {
	struct wgx_tun tun;
	struct wgx_nl nl;
	uint32_t mtu;
	uint32_t table; /* 0: auto (main); else Table = N, even 254 */
	bool routes;	/* false with Table = off */
	/* The routes we added and have not removed (table above). */
	struct wgx_prefix_set installed;
	/*
	 * Following the TUN (wgx_tunnel_watch): an epoll set for the
	 * caller's loop holding a link watch in the TUN's network namespace,
	 * wherever `ip link set TUN netns NS` took it; -1 when not watching.
	 */
	int watch_fd;
	int watch_nl;	   /* the link watch inside; also asked the MTU */
	uint64_t watch_ns; /* that namespace (inode) */
	/* wg-quick's policy routing for a /0 (wgx_tunnel_policy_*). */
	struct wgx_tunnel_policy {
		uint32_t table; /* = the fwmark; 0: not set up */
		/* Per family, what was added: route, mark rule, main rule. */
		uint8_t v4, v6;
	} policy;
};

enum wgx_tunnel_change {
	WGX_TUNNEL_SAME,
	WGX_TUNNEL_MTU,	 /* t->mtu is the new one */
	WGX_TUNNEL_GONE, /* the interface was deleted (here or elsewhere) */
};

/*
 * Refuses what wg-quick would handle and we do not yet: a /0 AllowedIPs
 * with routing on, a Table given by name. Message in why. 0 or -EINVAL.
 */
int wgx_tunnel_check_config(const struct wgx_config *cfg, char *why,
			    size_t len);

/*
 * Create and configure, with one queue per worker; the reason is logged
 * on failure. offload asks for WGX_TUN_VNET_HDR (tun.h); a kernel that
 * refuses it gets a plain TUN (t->tun.vnet_hdr says which).
 */
int wgx_tunnel_open(struct wgx_tunnel *t, const char *name,
		    const struct wgx_config *cfg, unsigned int queues,
		    bool offload);
/*
 * Bring the routes in line with cfg (reload): 0, or the first error (the
 * routes that could be added are; every failure is logged).
 */
int wgx_tunnel_sync_routes(struct wgx_tunnel *t, const struct wgx_config *cfg);
/*
 * `wgxdp up`: the TUN alone, as wireguard-go makes it: MTU 1420, down,
 * no address, no route (whoever configures it adds them).
 */
int wgx_tunnel_open_bare(struct wgx_tunnel *t, const char *name,
			 unsigned int queues, bool offload);
/* Close the TUN: the kernel removes it, its addresses and routes. */
void wgx_tunnel_close(struct wgx_tunnel *t);

/*
 * Follow the TUN: open t->watch_fd. Then call wgx_tunnel_check() when it
 * is readable, and now and then (a move to another namespace and a
 * deletion there are seen by the check itself: TUNGETIFF fails once the
 * interface is gone, TUNGETDEVNETNS says where it lives). 0 or -errno.
 */
int wgx_tunnel_watch(struct wgx_tunnel *t);
enum wgx_tunnel_change wgx_tunnel_check(struct wgx_tunnel *t);

/*
 * A /0 AllowedIPs with Table = auto, as wg-quick routes it: the socket
 * mark (FwMark, or the first table from 51820 up without routes when
 * FwMark is unset: *fwmark is set to it), the default route in that
 * table through the TUN, `ip rule add not fwmark M table M` and `ip rule
 * add table main suppress_prefixlength 0`, per family that has a /0.
 * The caller marks its sockets with *fwmark. 0 or -errno, undone on
 * failure; wgx_tunnel_policy_clear removes what set added.
 */
int wgx_tunnel_policy_set(struct wgx_tunnel *t, const struct wgx_config *cfg,
			  uint32_t *fwmark);
void wgx_tunnel_policy_clear(struct wgx_tunnel *t);
/* A reload: set, clear or keep it as cfg asks (*fwmark as set does). */
int wgx_tunnel_policy_sync(struct wgx_tunnel *t, const struct wgx_config *cfg,
			   uint32_t *fwmark);
/* cfg has a /0 that Table = auto routes by policy. */
bool wgx_tunnel_needs_policy(const struct wgx_config *cfg);

#endif
