/* SPDX-License-Identifier: MIT */
/*
 * What `--mode auto` runs, per kind of interface: the XDP mode measured
 * fastest there (docs/performance.md), tried first, whether the workers
 * take AF_XDP sockets behind it, and why, for attach to say. The other XDP
 * mode is the fallback; `socket` is never chosen for the user (it has no
 * classifier in front of the stack). `--mode native` and `skb` always run
 * AF_XDP.
 */
#ifndef WGX_XDP_POLICY_H
#define WGX_XDP_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "agent/loader.h"

struct wgx_xdp_policy {
	enum wgx_loader_mode first; /* WGX_LOADER_MODE_NATIVE or _SKB */
	bool xsk;		    /* AF_XDP sockets behind the program */
	const char *why;	    /* one line, for attach and the log */
	/* What an explicit --mode native or skb costs on this kind with
	 * AF_XDP behind it, as measured; NULL where none was measured. */
	const char *explicit_cost;
};

/* The policy for a driver name as ethtool reports it ("" when unknown). */
void wgx_xdp_policy_for_driver(const char *driver, struct wgx_xdp_policy *p);

/* IFACE's driver name (ETHTOOL_GDRVINFO) into out. 0 or -errno. */
int wgx_xdp_iface_driver(const char *iface, char *out, size_t len);

#endif
