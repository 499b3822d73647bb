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
/* Close the TUN: the kernel removes it, its addresses and routes. */
void wgx_tunnel_close(struct wgx_tunnel *t);

#endif
