// SPDX-License-Identifier: MIT
/*
 * The agent's event loop and its control commands. Everything the agent
 * changes happens on this one thread; the datapath threads only read.
 */
#include "agent/agent.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "agent/control.h"
#include "datapath/datapath.h"
#include "agent/peer_config.h"
#include "agent/protocol.h"
#include "device/device.h"
#include "util/log.h"
#include "agent/show.h"
#include "core/timers.h"
#include "agent/tunnel.h"
#include "agent/xdp.h"

/* The agent never sleeps longer than this: it collects timer events. */
static const uint64_t TICK_NS = 100000000ULL;

struct agent {
	const struct wgx_agent_opts *opts;
	struct wgx_config *config;
	struct wgx_device *dev;
	struct wgx_tunnel tunnel;
	struct wgx_datapath *dp;
	struct wgx_xdp xdp;
	struct wgx_control_server control;
	/* How the datapath was started, to start it again (new port). */
	unsigned int offloads, workers;
	int epoll_fd, timer_fd, signal_fd;
	bool stop;
	bool tunnel_open, control_open;
};

const char *wgx_mode_name(enum wgx_mode mode)
{
	static const char *const names[] = { "auto", "native", "skb",
					     "socket" };

	return (unsigned int)mode < 4 ? names[mode] : "?";
}

int wgx_mode_parse(const char *s, enum wgx_mode *mode)
{
	for (unsigned int m = WGX_MODE_AUTO; m <= WGX_MODE_SOCKET; m++) {
		if (!strcmp(s, wgx_mode_name(m))) {
			*mode = m;
			return 0;
		}
	}
	return -EINVAL;
}

/* ---- control commands ------------------------------------------------- */

static int cmd_identity(void *ctx, const char *args,
			struct wgx_control_reply *r)
{
	struct agent *a = ctx;

	(void)args;
	return wgx_instance_identity(a->opts->instance, r);
}

static void fill_show(struct agent *a, struct wgx_show_info *info,
		      char *offloads, size_t len)
{
	info->tun = a->opts->tun;
	info->iface = a->opts->iface;
	info->mode = wgx_xdp_mode_name(&a->xdp);
	info->xdp = a->xdp.active ? &a->xdp : NULL;
	info->listen_port = a->dp ? a->dp->port : 0;
	info->dp = a->dp;
	wgx_dp_socket_format_offloads(a->dp ? atomic_load(&a->dp->offloads) : 0,
				      offloads, len);
	info->offloads = offloads;
}

static int cmd_show(void *ctx, const char *args, struct wgx_control_reply *r)
{
	struct agent *a = ctx;
	struct wgx_show_info info;
	char offloads[64];

	(void)args;
	fill_show(a, &info, offloads, sizeof(offloads));
	return wgx_show_text(a->dev, &info, r);
}

static int cmd_show_json(void *ctx, const char *args,
			 struct wgx_control_reply *r)
{
	struct agent *a = ctx;
	struct wgx_show_info info;
	char offloads[64];

	(void)args;
	fill_show(a, &info, offloads, sizeof(offloads));
	return wgx_show_json(a->dev, &info, r);
}

static int cmd_detach(void *ctx, const char *args, struct wgx_control_reply *r)
{
	struct agent *a = ctx;

	(void)args;
	(void)r;
	wgx_log_info("detach requested");
	a->stop = true;
	return 0;
}

static const char *first_error(const struct wgx_config_errors *errs)
{
	for (size_t i = 0; i < errs->n; i++)
		if (!errs->msgs[i].warning)
			return errs->msgs[i].text;
	return NULL;
}

/* A UDP port nobody else holds on the underlay (IPv4 tells). */
static bool port_free(const struct agent *a, uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	bool ok;

	if (fd < 0)
		return true; /* let the bind itself say what is wrong */
	setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, a->opts->iface,
		   (socklen_t)strlen(a->opts->iface));
	ok = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

static int start_datapath(struct agent *a, uint16_t port, uint32_t fwmark)
{
	struct wgx_socket_opts so = { .iface = a->opts->iface,
				      .workers = a->workers,
				      .tun_fds = a->tunnel.tun.fds,
				      .port = port,
				      .fwmark = fwmark,
				      .offloads = a->offloads };

	return wgx_dp_socket_create(a->dev, &so, &a->dp);
}

/*
 * ListenPort and FwMark belong to the sockets: a new pool of workers binds
 * them (a pause of a few milliseconds; sessions and peers are the
 * device's and stay). Should that fail, the old settings come back.
 */
static void restart_datapath(struct agent *a, const struct wgx_config *cfg)
{
	uint16_t old_port = a->dp->port;
	int err;

	a->dp->ops->destroy(a->dp);
	a->dp = NULL;
	err = start_datapath(a, cfg->listen_port, cfg->fwmark);
	if (err) {
		wgx_log_error("reload: couldn't bind the new ListenPort or "
			      "FwMark (%s): keeping port %u",
			      strerror(-err), old_port);
		err = start_datapath(a, old_port, a->config->fwmark);
	}
	if (err) {
		wgx_log_error("Couldn't restart the datapath: %s: stopping",
			      strerror(-err));
		a->stop = true;
		return;
	}
	wgx_xdp_set_port(&a->xdp, a->dp->port);
	wgx_log_info("listening on UDP port %u", a->dp->port);
}

static int reload(struct agent *a, struct wgx_control_reply *r)
{
	struct wgx_config_opts copts = { .flags = WGX_CONFIG_NEED_PRIVATE_KEY };
	struct wgx_config_errors errs = { 0 };
	struct wgx_peer_config_stats st;
	struct wgx_config *cfg = NULL;
	bool new_sockets;
	char why[256];
	int err;

	err = wgx_config_parse_file(a->opts->config_path, &copts, &cfg, &errs);
	if (err) {
		const char *first = first_error(&errs);

		wgx_log_error("reload: %s is not valid, nothing changed%s%s",
			      a->opts->config_path, first ? ": " : "",
			      first ? first : "");
		/*
		 * An error answer carries one line and no payload, so the
		 * first error (file:line: what) goes in that line.
		 */
		if (r && first)
			err = wgx_control_reply_error(
				r, err, "nothing changed: %s%s", first,
				errs.n_errors > 1 ? " (and more errors)" : "");
		else if (r)
			err = wgx_control_reply_error(
				r, err, "%s is not valid, nothing changed",
				a->opts->config_path);
		wgx_config_errors_free(&errs);
		return err;
	}
	wgx_config_errors_free(&errs);
	if (wgx_tunnel_check_config(cfg, why, sizeof(why)) < 0) {
		wgx_config_free(cfg);
		wgx_log_error("reload: %s", why);
		return r ? wgx_control_reply_error(r, -EINVAL, "%s", why)
			 : -EINVAL;
	}
	new_sockets = cfg->listen_port != a->config->listen_port ||
		      cfg->fwmark != a->config->fwmark;
	if (cfg->listen_port != a->config->listen_port && cfg->listen_port &&
	    !port_free(a, cfg->listen_port)) {
		wgx_config_free(cfg);
		wgx_log_error("reload: ListenPort %u is in use: nothing "
			      "changed",
			      cfg->listen_port);
		return r ? wgx_control_reply_error(
				   r, -EADDRINUSE,
				   "reload: ListenPort %u is in "
				   "use: nothing changed",
				   cfg->listen_port)
			 : -EADDRINUSE;
	}
	if (cfg->mtu != a->config->mtu ||
	    cfg->n_addresses != a->config->n_addresses)
		wgx_log_warn("reload: MTU and Address changes need detach and "
			     "attach");
	err = wgx_peer_config_apply(a->dev, cfg, &st);
	if (err) {
		wgx_config_free(cfg);
		wgx_log_error("reload: couldn't apply %s (%s): nothing changed",
			      a->opts->config_path, strerror(-err));
		return r ? wgx_control_reply_error(
				   r, err, "reload: %s: nothing changed",
				   strerror(-err))
			 : err;
	}
	a->dev->fwmark = cfg->fwmark;
	if (new_sockets)
		restart_datapath(a, cfg);
	err = wgx_tunnel_sync_routes(&a->tunnel, cfg);
	wgx_log_info("reloaded %s: %zu peers (%zu added, %zu removed, %zu "
		     "changed; allowed IPs: %zu added, %zu removed)",
		     a->opts->config_path, cfg->n_peers, st.peers_added,
		     st.peers_removed, st.peers_changed, st.allowed_ips_added,
		     st.allowed_ips_removed);
	/* The peers are the device's now: keep only the [Interface]. */
	wgx_config_drop_peers(cfg);
	wgx_config_free(a->config);
	a->config = cfg;
	if (err && r)
		return wgx_control_reply_error(r, err, "reload: %s",
					       strerror(-err));
	return err;
}

static int cmd_reload(void *ctx, const char *args, struct wgx_control_reply *r)
{
	(void)args;
	return reload(ctx, r);
}

static int cmd_mode(void *ctx, const char *args, struct wgx_control_reply *r)
{
	struct agent *a = ctx;

	(void)args;
	return wgx_control_reply_printf(r, "%s\n", wgx_xdp_mode_name(&a->xdp));
}

static const struct wgx_control_command commands[] = {
	{ "identity", cmd_identity },
	{ "mode", cmd_mode },
	{ "show", cmd_show },
	{ "show-json", cmd_show_json },
	{ "detach", cmd_detach },
	{ "reload", cmd_reload },
	{ NULL, NULL },
};

/* ---- event loop ------------------------------------------------------- */

static void arm_timer(struct agent *a)
{
	uint64_t now = wgx_now(), next = wgx_protocol_next_deadline(a->dev);
	struct itimerspec its = { 0 };
	uint64_t wait;

	if (!next || next > now + TICK_NS)
		next = now + TICK_NS;
	wait = next > now ? next - now : 1;
	its.it_value.tv_sec = (time_t)(wait / 1000000000ULL);
	its.it_value.tv_nsec = (long)(wait % 1000000000ULL);
	timerfd_settime(a->timer_fd, 0, &its, NULL);
}

static void on_signal(struct agent *a)
{
	struct signalfd_siginfo si;

	while (read(a->signal_fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			wgx_log_info("SIGHUP: reloading");
			reload(a, NULL);
		} else {
			wgx_log_info("signal %u: shutting down", si.ssi_signo);
			a->stop = true;
		}
	}
}

static int add_fd(struct agent *a, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	return epoll_ctl(a->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

static void loop(struct agent *a)
{
	struct epoll_event evs[8];

	while (!a->stop) {
		int n;
		uint64_t expirations;

		arm_timer(a);
		n = epoll_wait(a->epoll_fd, evs, 8, -1);
		if (n < 0 && errno != EINTR) {
			wgx_log_error("epoll_wait: %s", strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;

			if (fd == a->signal_fd)
				on_signal(a);
			else if (fd == a->xdp.addr_watch_fd)
				wgx_xdp_addresses_changed(&a->xdp);
			else if (fd == a->control.fd)
				wgx_control_server_serve(&a->control);
			else if (fd == a->timer_fd &&
				 read(fd, &expirations, sizeof(expirations)) <
					 0)
				continue;
		}
		wgx_protocol_process(a->dev);
		wgx_xdp_sync(&a->xdp);
	}
}

/* ---- set-up and tear-down --------------------------------------------- */

static int setup_fds(struct agent *a)
{
	sigset_t mask;
	int err;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	/* Before any thread starts, so every thread inherits the mask. */
	pthread_sigmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	a->signal_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	a->timer_fd =
		timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	a->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (a->signal_fd < 0 || a->timer_fd < 0 || a->epoll_fd < 0) {
		err = -errno;
		wgx_log_error("Couldn't create event descriptors: %s",
			      strerror(-err));
		return err;
	}
	err = add_fd(a, a->signal_fd);
	if (!err)
		err = add_fd(a, a->timer_fd);
	if (!err)
		err = add_fd(a, a->dev->wake_fd);
	return err;
}

/* The IPv6 source of our ICMPv6 errors (IPv4 ones answer as the target). */
static void tun_addresses(struct wgx_device *dev, const struct wgx_config *cfg)
{
	for (size_t i = 0; i < cfg->n_addresses; i++) {
		const struct wgx_config_prefix *p = &cfg->addresses[i];

		if (p->family == AF_INET6) {
			memcpy(dev->tun_addr6, p->addr.bytes, 16);
			dev->has_tun_addr6 = true;
			return;
		}
	}
}

/* Test-only knobs, refused unless WGXDP_TEST_TIMERS=1 (see timers.h). */
static int test_knobs(struct agent *a)
{
	const char *scale = getenv("WGXDP_TEST_TIME_SCALE");
	const char *load = getenv("WGXDP_TEST_UNDER_LOAD");
	const char *allow = getenv("WGXDP_TEST_TIMERS");
	bool allowed = allow && !strcmp(allow, "1");

	if (scale && *scale) {
		int err = wgx_timers_set_scale(1, (unsigned int)atoi(scale));

		if (err) {
			wgx_log_error("WGXDP_TEST_TIME_SCALE is a test knob: "
				      "refused without WGXDP_TEST_TIMERS=1");
			return err;
		}
		wgx_log_warn("TEST BUILD KNOB: protocol time divided by %s",
			     scale);
	}
	if (load && !strcmp(load, "1")) {
		if (!allowed) {
			wgx_log_error("WGXDP_TEST_UNDER_LOAD is a test knob: "
				      "refused without WGXDP_TEST_TIMERS=1");
			return -EPERM;
		}
		a->dev->force_under_load = true;
		wgx_log_warn("TEST KNOB: always under load");
	}
	return 0;
}

/* WGXDP_OFFLOADS (datapath.h) narrows the offloads; all by default. */
static int offloads_wanted(unsigned int *offloads)
{
	const char *env = getenv("WGXDP_OFFLOADS");

	*offloads = WGX_DP_OFFLOAD_ALL;
	if (env && wgx_dp_socket_parse_offloads(env, offloads) < 0) {
		wgx_log_error("WGXDP_OFFLOADS=%s: expected all, none, or a "
			      "list of tun, tun-gro, udp-gso, udp-gro",
			      env);
		return -EINVAL;
	}
	return 0;
}

static void sync_peer(void *ctx, struct wgx_peer *p)
{
	wgx_xdp_sync_peer(ctx, p);
}

/*
 * The classifier in front of the socket: XDP drops what it can prove
 * invalid and passes the rest to the sockets. Started before the agent
 * loop runs, so no receiver index exists yet that the map could miss.
 */
static int start_xdp(struct agent *a)
{
	struct wgx_xdp_opts xo = { .iface = a->opts->iface,
				   .force = a->opts->force,
				   .port = a->dp->port,
				   .peers = a->dev->peers.count };
	int err;

	a->xdp.addr_watch_fd = -1;
	if (a->opts->mode == WGX_MODE_SOCKET)
		return 0;
	xo.mode = a->opts->mode == WGX_MODE_NATIVE ? WGX_LOADER_MODE_NATIVE
		  : a->opts->mode == WGX_MODE_SKB  ? WGX_LOADER_MODE_SKB
						   : WGX_LOADER_MODE_AUTO;
	err = wgx_xdp_start(&a->xdp, a->dev, &xo);
	if (err && a->opts->mode == WGX_MODE_AUTO) {
		wgx_log_warn("XDP unavailable on %s (%s): socket mode only",
			     a->opts->iface, strerror(-err));
		return 0;
	}
	if (err)
		return err;
	a->dev->keypairs_hook = sync_peer;
	a->dev->keypairs_hook_ctx = &a->xdp;
	if (a->xdp.addr_watch_fd >= 0)
		return add_fd(a, a->xdp.addr_watch_fd);
	return 0;
}

/* --workers, or one per online CPU. */
static unsigned int workers_wanted(unsigned int asked)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	if (asked)
		return asked;
	if (cpus < 1)
		return 1;
	return cpus > WGX_WORKERS_MAX ? WGX_WORKERS_MAX : (unsigned int)cpus;
}

static int start(struct agent *a)
{
	struct wgx_socket_opts so = { 0 };
	unsigned int offloads;
	char path[108];
	int err;

	err = wgx_device_new(&a->dev);
	if (err) {
		wgx_log_error("Couldn't create the device: %s", strerror(-err));
		return err;
	}
	err = test_knobs(a);
	if (!err)
		err = setup_fds(a);
	if (err)
		return err;
	err = offloads_wanted(&offloads);
	if (err)
		return err;
	so.workers = workers_wanted(a->opts->workers);
	err = wgx_tunnel_open(&a->tunnel, a->opts->tun, a->config, so.workers,
			      offloads & WGX_DP_TUN_VNET);
	if (err)
		return err;
	if (!a->tunnel.tun.vnet_hdr)
		offloads &= ~(unsigned int)WGX_DP_TUN_VNET;
	a->tunnel_open = true;
	a->dev->mtu = a->tunnel.mtu;
	tun_addresses(a->dev, a->config);
	a->dev->fwmark = a->config->fwmark;
	err = wgx_peer_config_apply(a->dev, a->config, NULL);
	if (err) {
		wgx_log_error("Couldn't configure peers: %s", strerror(-err));
		return err;
	}
	wgx_config_drop_peers(a->config);
	a->offloads = offloads;
	a->workers = so.workers;
	err = start_datapath(a, a->config->listen_port, a->config->fwmark);
	if (!err)
		err = start_xdp(a);
	if (err)
		return err;
	wgx_instance_sock_path(a->opts->tun, path, sizeof(path));
	err = wgx_control_server_open(&a->control, path, commands, a);
	if (err) {
		wgx_log_error("Couldn't open control socket %s: %s", path,
			      strerror(-err));
		return err;
	}
	a->control_open = true;
	return add_fd(a, a->control.fd);
}

static void stop(struct agent *a)
{
	if (a->control_open)
		wgx_control_server_close(&a->control);
	if (a->dp)
		a->dp->ops->destroy(a->dp);
	if (a->dev) {
		a->dev->dp = NULL;
		a->dev->keypairs_hook = NULL;
	}
	/* Before the keys are wiped: their removal must not touch the maps. */
	wgx_xdp_stop(&a->xdp);
	if (a->tunnel_open)
		wgx_tunnel_close(&a->tunnel);
	/* Wipes every key and the identity. */
	wgx_device_free(a->dev);
	wgx_config_free(a->config);
	if (a->epoll_fd >= 0)
		close(a->epoll_fd);
	if (a->timer_fd >= 0)
		close(a->timer_fd);
	if (a->signal_fd >= 0)
		close(a->signal_fd);
	wgx_instance_release(a->opts->instance);
}

int wgx_agent_main(void *ctx, struct wgx_daemon_notify *notify)
{
	struct wgx_agent_opts *opts = ctx;
	struct agent a = { .opts = opts,
			   .config = opts->config,
			   .epoll_fd = -1,
			   .timer_fd = -1,
			   .signal_fd = -1,
			   .xdp = { .addr_watch_fd = -1 } };
	int err;

	opts->config = NULL;
	wgx_instance_update_pid(opts->instance);
	err = start(&a);
	if (err) {
		wgx_daemon_fail(notify, err, NULL);
		stop(&a);
		return err;
	}
	wgx_log_info("%s up on %s (mode %s, port %u, %zu peers)", opts->tun,
		     opts->iface, wgx_xdp_mode_name(&a.xdp), a.dp->port,
		     a.dev->peers.count);
	wgx_daemon_ready(notify);
	loop(&a);
	wgx_log_info("%s: shutting down", opts->tun);
	stop(&a);
	return 0;
}
