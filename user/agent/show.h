/* SPDX-License-Identifier: MIT */
/*
 * What `wgxdp show` prints, produced by the agent from its live state:
 * text in the spirit of `wg show`, or JSON following design.md (one
 * object per instance: interface, underlay, mode, public_key,
 * listen_port, peers[], counters{}).
 */
#ifndef WGX_SHOW_H
#define WGX_SHOW_H

#include "agent/control.h"
#include "device/device.h"
#include "agent/xdp.h"
#include "datapath/datapath.h"

struct wgx_show_info {
	const char *tun;
	const char *iface;
	const char *mode;
	const char *offloads; /* "tun udp-gso ...", or "none" */
	const char *tx;	      /* "xsk" or "socket" */
	const char *tx_why;   /* why that transmit path */
	uint16_t listen_port;
	struct wgx_xdp *xdp;	       /* NULL in socket mode */
	const struct wgx_datapath *dp; /* the workers; NULL: none */
};

int wgx_show_text(struct wgx_device *dev, const struct wgx_show_info *info,
		  struct wgx_control_reply *r);
int wgx_show_json(struct wgx_device *dev, const struct wgx_show_info *info,
		  struct wgx_control_reply *r);

#endif
