/* SPDX-License-Identifier: MIT */
/*
 * The Prometheus text exposition (format 0.0.4) of one instance: per peer
 * (labelled by interface, public key and, where the config names it,
 * name) bytes and packets each way, the latest handshake time and the
 * handshakes done; per device the XDP verdicts, drops by reason and
 * layer, the datapath's other counters, each worker's counters, the
 * handshake queue, peers and sessions. Every sample carries an
 * "interface" label, so the expositions of several instances merge into
 * one (wgxdp metrics without a TUN does that).
 *
 * Two steps, so that a big device never holds the agent's loop for long:
 * a snapshot copies every number at once (about 100 bytes and a few
 * hundred nanoseconds a peer, one consistent view), then the text is
 * produced from the snapshot in pieces of any size, as a reader takes
 * them (the HTTP server formats the next 64 KiB only when a client has
 * taken the last).
 */
#ifndef WGX_METRICS_H
#define WGX_METRICS_H

#include <stddef.h>

#include "agent/control.h"
#include "agent/peer_names.h"
#include "agent/xdp.h"
#include "datapath/datapath.h"
#include "device/device.h"

enum {
	/* The longest line; a piece buffer must hold one. */
	WGX_METRICS_LINE_MAX = 512,
};

/* What the agent exposes. */
struct wgx_metrics_source {
	struct wgx_device *dev;
	const char *tun, *iface, *mode;
	struct wgx_xdp *xdp;		    /* NULL: no XDP program */
	const struct wgx_datapath *dp;	    /* NULL: no workers */
	const struct wgx_peer_names *names; /* NULL: none known */
};

struct wgx_metrics;

/* Copy every number now (agent thread). 0 or -ENOMEM. */
int wgx_metrics_snapshot(const struct wgx_metrics_source *src,
			 struct wgx_metrics **out);
/*
 * The next whole lines of text that fit in buf (len at least
 * WGX_METRICS_LINE_MAX); 0 once everything was read.
 */
size_t wgx_metrics_read(struct wgx_metrics *m, char *buf, size_t len);
void wgx_metrics_free(struct wgx_metrics *m);

/* All of it at once, for the control socket's "metrics". */
int wgx_metrics_reply(const struct wgx_metrics_source *src,
		      struct wgx_control_reply *r);

#endif
