/* SPDX-License-Identifier: MIT */
/*
 * The agent: one event loop (epoll over a timerfd, a signalfd, the
 * datapath's wake-up eventfd and the control socket) that owns the
 * handshakes, timers, configuration and the instance's runtime files.
 */
#ifndef WGX_AGENT_H
#define WGX_AGENT_H

#include <stdbool.h>

#include "agent/config.h"
#include "agent/daemon.h"
#include "agent/instance.h"
#include "agent/txpath.h"

enum wgx_mode {
	WGX_MODE_AUTO,
	WGX_MODE_NATIVE,
	WGX_MODE_SKB,
	WGX_MODE_SOCKET,
};

struct wgx_agent_opts {
	const char *iface;
	const char *tun;
	const char *config_path; /* absolute, re-read on reload */
	enum wgx_mode mode;
	unsigned int workers; /* 0: one per online CPU */
	enum wgx_tx_mode tx;  /* how sealed datagrams leave */
	bool force;	      /* replace a foreign XDP program on IFACE */
	/* Parsed and checked by the CLI; the agent takes ownership. */
	struct wgx_config *config;
	struct wgx_instance *instance; /* claimed by the CLI */
};

const char *wgx_mode_name(enum wgx_mode mode);
int wgx_mode_parse(const char *s, enum wgx_mode *mode);

/* The daemon's start function (daemon.h): runs until detached. */
int wgx_agent_main(void *opts, struct wgx_daemon_notify *notify);

#endif
