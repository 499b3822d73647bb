/* SPDX-License-Identifier: MIT */
/*
 * Addresses for new peers, from the interface's own subnets (its Address
 * lines, e.g. "10.0.0.1/24" is the pool 10.0.0.0/24). An address is taken
 * when it is the interface's own, or lies in a peer's AllowedIPs prefix
 * that is no wider than the subnet. Wider prefixes (a site behind a peer,
 * a default route) are ignored: a new /32 wins over them by longest prefix
 * match, as in every WireGuard implementation. In IPv4 subnets of /30 and
 * wider the network and broadcast addresses are never handed out; in IPv6
 * the all-zero host (the subnet-router anycast address) never is.
 */
#ifndef WGX_ADDR_POOL_H
#define WGX_ADDR_POOL_H

#include <stdbool.h>

#include "agent/config.h"

/*
 * The interface's first Address of family (AF_INET, AF_INET6), or NULL:
 * the subnet new peers of that family take their address from.
 */
const struct wgx_config_prefix *wgx_addr_pool_subnet(
	const struct wgx_config *cfg, int family);

/*
 * The lowest free host address of subnet (an Address of cfg), as a /32 or
 * /128 in out. 0, or -ENOSPC when the subnet has none left.
 */
int wgx_addr_pool_next(const struct wgx_config *cfg,
		       const struct wgx_config_prefix *subnet,
		       struct wgx_config_prefix *out);

/*
 * Can addr (a host: /32 or /128) be given to a new peer? 0; -ERANGE when
 * no Address of cfg holds it; -EADDRNOTAVAIL when it is a subnet's
 * network, broadcast or anycast address; -EEXIST when it is taken, with
 * *owner the index of the peer holding it in cfg->peers, or -1 for the
 * interface itself.
 */
int wgx_addr_pool_check(const struct wgx_config *cfg,
			const struct wgx_config_prefix *addr, long *owner);

/* prefix holds addr (same family, within its first cidr bits). */
bool wgx_addr_pool_contains(const struct wgx_config_prefix *prefix,
			    const struct wgx_config_prefix *addr);

#endif
