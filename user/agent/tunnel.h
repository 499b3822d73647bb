/* SPDX-License-Identifier: MIT */
/*
 * The TUN interface as wg-quick would set it up: created, MTU and
 * Address applied, a route through it for every peer's AllowedIPs
 * (unless Table = off), brought up. Routes are remembered so a reload can
 * apply only the difference.
 */
#ifndef WGX_TUNNEL_H
#define WGX_TUNNEL_H

#include <stdbool.h>

#include "agent/config.h"
#include "agent/netlink.h"
#include "datapath/tun.h"

struct wgx_tunnel {
	struct wgx_tun tun;
	struct wgx_nl nl;
	uint32_t mtu;
	uint32_t table; /* 0: main; meaningful when routes is true */
	bool routes;	/* false with Table = off */
	struct wgx_nl_route *installed;
	size_t n_installed, cap_installed;
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
/* Bring the routes in line with cfg (reload). */
int wgx_tunnel_sync_routes(struct wgx_tunnel *t, const struct wgx_config *cfg);
/* Close the TUN: the kernel removes it, its addresses and routes. */
void wgx_tunnel_close(struct wgx_tunnel *t);

#endif
