/* SPDX-License-Identifier: MIT */
/*
 * The agent: one event loop (epoll over a timerfd, a signalfd, the
 * datapath's wake-up eventfd, the control and UAPI sockets and a watch on
 * the TUN) that owns the handshakes, timers, configuration and the
 * instance's runtime files. Without config_path (`wgxdp up`) the TUN is
 * bare, as wireguard-go makes it, and the UAPI configures everything.
 */
#ifndef WGX_AGENT_H
#define WGX_AGENT_H

#include <stdbool.h>

#include "agent/config.h"
#include "agent/daemon.h"
#include "agent/instance.h"
#include "agent/txpath.h"
#include "util/sockaddr.h"

enum wgx_mode {
	WGX_MODE_AUTO,
	WGX_MODE_NATIVE,
	WGX_MODE_SKB,
	WGX_MODE_SOCKET,
};

struct wgx_agent_opts {
	const char *iface; /* the underlay; NULL: sockets on any (up) */
	const char *tun;
	/* Absolute, re-read on reload; NULL for `up` (configured by wg). */
	const char *config_path;
	enum wgx_mode mode;
	unsigned int workers; /* 0: one per online CPU */
	enum wgx_tx_mode tx;  /* how sealed datagrams leave */
	bool force;	      /* replace a foreign XDP program on IFACE */
	/* Parsed and checked by the CLI; the agent takes ownership. */
	struct wgx_config *config;
	struct wgx_instance *instance; /* claimed by the CLI */
	/*
	 * --metrics ADDR:PORT (wgx_http_parse_addr): serve /metrics there;
	 * NULL: no HTTP. attach sets it; so can any other start command.
	 */
	const union wgx_sockaddr *metrics;
};

const char *wgx_mode_name(enum wgx_mode mode);
int wgx_mode_parse(const char *s, enum wgx_mode *mode);

/* The daemon's start function (daemon.h): runs until detached. */
int wgx_agent_main(void *opts, struct wgx_daemon_notify *notify);

#endif
