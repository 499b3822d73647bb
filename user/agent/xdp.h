/* SPDX-License-Identifier: MIT */
/*
 * The agent's side of the XDP classifier: attach it (loader.h), keep its
 * maps current (listen port and the mac1 key of our identity in config,
 * IFACE's own addresses in local_addrs, every receiver index in sessions
 * before the message announcing it leaves, proven handshake flooders in
 * deny) and read its counters for show.
 */
#ifndef WGX_XDP_H
#define WGX_XDP_H

#include <stdbool.h>
#include <stdint.h>

#include "device/device.h"
#include "agent/loader.h"

/* How long XDP drops a proven flooder's handshakes: 2 s (ns), renewed
 * while it goes on (ratelimit.h reports it every 500 ms at most). */
#define WGX_XDP_DENY_NS 2000000000ULL

struct wgx_xdp {
	struct wgx_loader ld;
	struct wgx_device *dev;
	struct wgx_xdp_config cfg;
	uint64_t denied;      /* deny map entries written */
	int addr_watch_fd;    /* for the agent's epoll; -1 when none */
	const char *auto_why; /* --mode auto: why this mode; NULL otherwise */
	bool auto_xsk;	      /* --mode auto: AF_XDP sockets on this kind */
	/* --mode native or skb: what it costs on this kind of interface
	 * against auto, as measured; NULL otherwise. */
	const char *explicit_cost;
	bool active;
};

struct wgx_xdp_opts {
	const char *iface;
	enum wgx_loader_mode mode;
	bool force;    /* replace a foreign XDP program */
	uint16_t port; /* the bound listen port */
	size_t peers;  /* configured now: the sessions map is sized for them */
};

/* Attach and fill the maps; the reason is logged on failure. */
int wgx_xdp_start(struct wgx_xdp *x, struct wgx_device *dev,
		  const struct wgx_xdp_opts *opts);
/* Detach, unpin, close. Safe when never started. */
void wgx_xdp_stop(struct wgx_xdp *x);
/* The address-watch fd is readable: re-read IFACE's addresses. */
void wgx_xdp_addresses_changed(struct wgx_xdp *x);
/* The listen port changed (a reload): the program classifies that one. */
void wgx_xdp_set_port(struct wgx_xdp *x, uint16_t port);
/* The xsks map (RX queue -> AF_XDP socket), -1 when not active. */
int wgx_xdp_xsks_map_fd(const struct wgx_xdp *x);

/*
 * xsk_queues: what sits in xsks per RX queue (q[i] for queue i; queues
 * past n get active 0), for bpftool. 0 or the first -errno.
 */
int wgx_xdp_set_xsk_queues(struct wgx_xdp *x, const struct wgx_xsk_queue *q,
			   unsigned int n);
/*
 * Once per turn of the agent's loop: the mac1 key in config follows our
 * identity (on a key change), and sources that exceeded the mac2 rate
 * limit go to the deny map. Cheap when nothing changed.
 */
void wgx_xdp_sync(struct wgx_xdp *x);
/* Mirror the index slots of a peer's keypairs (after a change). */
void wgx_xdp_sync_peer(struct wgx_xdp *x, struct wgx_peer *p);
/* Counters summed over CPUs; 0 or -errno. */
int wgx_xdp_counters(struct wgx_xdp *x,
		     struct wgx_xdp_counter out[WGX_XDP_STAT_COUNT]);
const char *wgx_xdp_mode_name(const struct wgx_xdp *x);

#endif
