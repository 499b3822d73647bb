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
#include "agent/http.h"
#include "agent/metrics.h"
#include "agent/nexthop_watch.h"
#include "agent/peer_names.h"
#include "util/harden.h"
#include "datapath/datapath.h"
#include "agent/peer_config.h"
#include "agent/protocol.h"
#include "agent/resolve.h"
#include "device/device.h"
#include "util/log.h"
#include "agent/show.h"
#include "core/timers.h"
#include "agent/tunnel.h"
#include "agent/uapi_server.h"
#include "agent/underlay.h"
#include "agent/xdp.h"

/* The agent never sleeps longer than this: it collects timer events. */
static const uint64_t TICK_NS = 100000000ULL;
/* How often the TUN is looked at without an event (moved, deleted). */
static const uint64_t TUN_CHECK_NS = 1000000000ULL;

struct agent {
	const struct wgx_agent_opts *opts;
	struct wgx_config *config;
	struct wgx_device *dev;
	struct wgx_tunnel tunnel;
	struct wgx_datapath *dp;
	struct wgx_xdp xdp;
	struct wgx_control_server control;
	/* --metrics: /metrics over HTTP; names label the peers. */
	struct wgx_http_server http;
	struct wgx_peer_names names;
	struct wgx_uapi_server uapi;
	struct wgx_underlay underlay;
	/* How the datapath was started, to start it again (new port). */
	unsigned int offloads, workers;
	bool use_xsk; /* AF_XDP sockets wherever XDP is attached */
	/* Transmit through AF_XDP (txpath.h), and why (or why not). */
	bool xsk_tx;
	const char *tx_why;
	char iface_kind[16];
	/* The next hops AF_XDP transmit needs, kept fresh. */
	struct wgx_nhw nhw;
	bool nhw_open;
	int epoll_fd, timer_fd, signal_fd;
	uint64_t next_tun_check;
	/* A reload waiting for its host names (resolve.h); NULL: none. */
	struct wgx_resolve_job *resolving;
	bool stop;
	bool tunnel_open, control_open, http_open, uapi_open;
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

static int add_fd(struct agent *a, int fd);

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
	info->iface = a->opts->iface ? a->opts->iface : "any";
	info->mode = wgx_xdp_mode_name(&a->xdp);
	info->xdp = a->xdp.active ? &a->xdp : NULL;
	info->listen_port = a->dp ? a->dp->port : 0;
	info->dp = a->dp;
	wgx_dp_socket_format_offloads(a->dp ? atomic_load(&a->dp->offloads) : 0,
				      offloads, len);
	info->offloads = offloads;
	info->tx = a->xsk_tx ? "xsk" : "socket";
	info->tx_why = a->tx_why ? a->tx_why : "";
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
	if (a->opts->iface)
		setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, a->opts->iface,
			   (socklen_t)strlen(a->opts->iface));
	ok = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

/* Which worker's socket takes each RX queue, into xsk_queues for bpftool;
 * best effort: nothing depends on it. */
static void show_xsk_queues(struct agent *a)
{
	struct wgx_xsk_queue q[WGX_XDP_MAX_QUEUES] = { 0 };
	unsigned int n = 0;
	int err;

	for (unsigned int i = 0; i < wgx_dp_xsks(a->dp); i++) {
		struct wgx_dp_xsk_info x;

		wgx_dp_xsk_info(a->dp, i, &x);
		if (x.queue >= WGX_XDP_MAX_QUEUES)
			continue;
		q[x.queue] = (struct wgx_xsk_queue){ .active = 1,
						     .worker = x.worker,
						     .zerocopy = x.zerocopy };
		if (x.queue >= n)
			n = x.queue + 1;
	}
	err = wgx_xdp_set_xsk_queues(&a->xdp, q, n);
	if (err)
		wgx_log_warn("Couldn't fill the xsk_queues map: %s",
			     strerror(-err));
}

/* The workers' AF_XDP sockets into the program's map, the port into its
 * config: from here on known sessions bypass the UDP stack. */
static int connect_xdp(struct agent *a)
{
	int err;

	if (!a->xdp.active)
		return 0;
	wgx_xdp_set_port(&a->xdp, a->dp->port);
	err = wgx_dp_register_xsks(a->dp, wgx_xdp_xsks_map_fd(&a->xdp));
	if (err)
		wgx_log_error(
			"Couldn't put the AF_XDP sockets in the xsks map: "
			"%s",
			strerror(-err));
	else
		show_xsk_queues(a);
	return err;
}

/*
 * AF_XDP transmit needs every endpoint's next hop: the kernel's routes and
 * neighbours, followed through netlink from here on (once per instance;
 * a restarted datapath finds the table as it was).
 */
static int watch_nexthops(struct agent *a)
{
	int ifindex = wgx_nl_link_index(a->opts->iface), err;

	if (a->nhw_open)
		return 0;
	if (ifindex <= 0)
		return ifindex ? ifindex : -ENODEV;
	err = wgx_nhw_open(&a->nhw, &a->dev->nexthops, ifindex,
			   a->tunnel.tun.ifindex, a->config->fwmark);
	if (err)
		return err;
	a->nhw_open = true;
	return add_fd(a, a->nhw.fd);
}

/*
 * With XDP attached, the workers also take AF_XDP sockets on the
 * underlay's RX queues; should those fail, they run on their UDP sockets
 * behind the classifier, and say so.
 */
static int start_datapath(struct agent *a, uint16_t port, uint32_t fwmark)
{
	struct wgx_socket_opts so = {
		.iface = a->opts->iface,
		.workers = a->workers,
		.tun_fds = a->tunnel.tun.fds,
		.port = port,
		.fwmark = fwmark,
		.offloads = a->offloads,
		.xsk = a->xdp.active && a->use_xsk,
		.xsk_generic =
			a->xdp.active && a->xdp.ld.mode == WGX_LOADER_MODE_SKB,
		.xsk_tx = a->xsk_tx,
	};
	int err = wgx_dp_socket_create(a->dev, &so, &a->dp);

	if (err && so.xsk && a->opts->tx == WGX_TX_XSK)
		return err; /* insisted on: fail with the reason logged */
	if (err && so.xsk) {
		wgx_log_warn("AF_XDP unavailable on %s (%s): the workers "
			     "receive and send on their UDP sockets",
			     a->opts->iface, strerror(-err));
		so.xsk = so.xsk_tx = a->xsk_tx = false;
		a->tx_why = "AF_XDP unavailable: the UDP sockets send";
		err = wgx_dp_socket_create(a->dev, &so, &a->dp);
	}
	if (!err)
		err = connect_xdp(a);
	if (!err && a->xsk_tx)
		err = watch_nexthops(a);
	return err;
}

/*
 * ListenPort, FwMark and the MTU belong to the workers' sockets and
 * buffers: a new pool of workers takes them (a pause of a few
 * milliseconds; sessions and peers are the device's and stay). Should
 * that fail, the old settings come back and the error is returned.
 */
static int restart_datapath(struct agent *a, uint16_t port, uint32_t fwmark,
			    uint32_t mtu)
{
	uint16_t old_port = a->dp->port;
	uint32_t old_mark = a->dev->fwmark;
	int err, again;

	a->dp->ops->destroy(a->dp);
	a->dp = NULL;
	/* No worker runs now: the MTU they size their buffers by. */
	a->dev->mtu = mtu;
	err = start_datapath(a, port, fwmark);
	if (err) {
		wgx_log_error("Couldn't bind port %u with fwmark %u (%s): "
			      "keeping port %u",
			      port, fwmark, strerror(-err), old_port);
		again = start_datapath(a, old_port, old_mark);
		if (again) {
			wgx_log_error("Couldn't restart the datapath: %s: "
				      "stopping",
				      strerror(-again));
			a->stop = true;
			return err;
		}
	} else {
		a->dev->fwmark = fwmark;
		if (a->nhw_open)
			wgx_nhw_set_fwmark(&a->nhw, fwmark);
	}
	wgx_log_info("listening on UDP port %u", a->dp->port);
	return err;
}

/* The peers' names in the config file, for metrics; best effort. */
static void load_names(struct agent *a)
{
	int err = wgx_peer_names_load(&a->names, a->opts->config_path);

	if (err)
		wgx_log_warn("Couldn't read peer names from %s: %s",
			     a->opts->config_path, strerror(-err));
}

static int reload_apply(struct agent *a, struct wgx_config *cfg,
			struct wgx_control_reply *r);

/* A config that did not parse or resolve: log it, answer it. */
static int reload_refused(struct agent *a, int err,
			  struct wgx_config_errors *errs,
			  struct wgx_control_reply *r)
{
	const char *first = first_error(errs);

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
			errs->n_errors > 1 ? " (and more errors)" : "");
	else if (r)
		err = wgx_control_reply_error(
			r, err, "%s is not valid, nothing changed",
			a->opts->config_path);
	wgx_config_errors_free(errs);
	return err;
}

static void resolve_forget(struct agent *a)
{
	if (!a->resolving)
		return;
	epoll_ctl(a->epoll_fd, EPOLL_CTL_DEL, wgx_resolve_fd(a->resolving),
		  NULL);
	wgx_resolve_cancel(a->resolving);
	a->resolving = NULL;
}

/* The host names of a reload resolved: apply it now, or say why not. */
static void on_resolved(struct agent *a)
{
	struct wgx_config_errors errs = { 0 };
	struct wgx_config *cfg = NULL;
	int err = wgx_resolve_finish(a->resolving, &cfg, &errs);

	if (err == -EAGAIN)
		return;
	epoll_ctl(a->epoll_fd, EPOLL_CTL_DEL, wgx_resolve_fd(a->resolving),
		  NULL);
	a->resolving = NULL;
	if (err) {
		reload_refused(a, err, &errs, NULL);
		return;
	}
	wgx_config_errors_free(&errs);
	reload_apply(a, cfg, NULL);
}

/*
 * Host names in the new config: resolve them on a thread of their own
 * (resolve.h) and apply the config when they are, so the agent goes on
 * with handshakes, timers and requests meanwhile.
 */
static int reload_later(struct agent *a, struct wgx_config *cfg,
			struct wgx_control_reply *r)
{
	struct wgx_config_opts ropts = { 0 };
	size_t n = wgx_config_unresolved(cfg);
	struct epoll_event ev = { .events = EPOLLIN };
	int err;

	err = wgx_resolve_start(cfg, &ropts, &a->resolving);
	if (!err) {
		ev.data.fd = wgx_resolve_fd(a->resolving);
		if (epoll_ctl(a->epoll_fd, EPOLL_CTL_ADD, ev.data.fd, &ev) <
		    0) {
			err = -errno;
			wgx_resolve_cancel(a->resolving); /* frees cfg */
			a->resolving = NULL;
			cfg = NULL;
		}
	}
	if (err) {
		wgx_config_free(cfg);
		wgx_log_error("reload: couldn't start resolving host names "
			      "(%s): nothing changed",
			      strerror(-err));
		return r ? wgx_control_reply_error(r, err,
						   "reload: couldn't resolve "
						   "host names: %s",
						   strerror(-err))
			 : err;
	}
	wgx_log_info("reload: resolving %zu endpoint host name%s; the new "
		     "config applies once they resolve",
		     n, n == 1 ? "" : "s");
	return r ? wgx_control_reply_printf(
			   r,
			   "reload: resolving %zu endpoint host name%s; the "
			   "new config applies once they resolve (the outcome "
			   "goes to the log)\n",
			   n, n == 1 ? "" : "s")
		 : 0;
}

static int reload(struct agent *a, struct wgx_control_reply *r)
{
	struct wgx_config_opts copts = { .flags = WGX_CONFIG_NEED_PRIVATE_KEY |
						  WGX_CONFIG_NO_RESOLVE };
	struct wgx_config_errors errs = { 0 };
	struct wgx_config *cfg = NULL;
	int err;

	if (!a->opts->config_path) {
		wgx_log_error("reload: %s has no config file (started by "
			      "'up'): configure it with wg(8)",
			      a->opts->tun);
		return r ? wgx_control_reply_error(
				   r, -EINVAL,
				   "%s has no config file (started by 'up'): "
				   "configure it with wg(8)",
				   a->opts->tun)
			 : -EINVAL;
	}
	/* A newer reload supersedes one still resolving. */
	resolve_forget(a);
	err = wgx_config_parse_file(a->opts->config_path, &copts, &cfg, &errs);
	if (err)
		return reload_refused(a, err, &errs, r);
	wgx_config_errors_free(&errs);
	if (wgx_config_unresolved(cfg))
		return reload_later(a, cfg, r);
	return reload_apply(a, cfg, r);
}

static int reload_apply(struct agent *a, struct wgx_config *cfg,
			struct wgx_control_reply *r)
{
	struct wgx_peer_config_stats st;
	bool new_sockets;
	char why[256];
	int err;

	if (wgx_tunnel_check_config(cfg, why, sizeof(why)) < 0) {
		wgx_config_free(cfg);
		wgx_log_error("reload: %s", why);
		return r ? wgx_control_reply_error(r, -EINVAL, "%s", why)
			 : -EINVAL;
	}
	/* A /0 with Table = auto marks the sockets with its table. */
	if (wgx_tunnel_policy_sync(&a->tunnel, cfg, &cfg->fwmark))
		wgx_log_error("reload: the policy routing of %s's /0 failed",
			      a->opts->tun);
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
	if (new_sockets)
		restart_datapath(a, cfg->listen_port, cfg->fwmark, a->dev->mtu);
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
	load_names(a);
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
	/* The mode, then, from auto, why; from an explicit mode, what it
	 * costs here (attach prints both lines). */
	if (a->xdp.active && a->xdp.auto_why)
		return wgx_control_reply_printf(r, "%s\nauto: %s\n",
						wgx_xdp_mode_name(&a->xdp),
						a->xdp.auto_why);
	if (a->xdp.active && a->xdp.explicit_cost)
		return wgx_control_reply_printf(r, "%s\nnote: %s\n",
						wgx_xdp_mode_name(&a->xdp),
						a->xdp.explicit_cost);
	return wgx_control_reply_printf(r, "%s\n", wgx_xdp_mode_name(&a->xdp));
}

static int cmd_tx(void *ctx, const char *args, struct wgx_control_reply *r)
{
	struct agent *a = ctx;

	(void)args;
	return wgx_control_reply_printf(r, "%s (%s)\n",
					a->xsk_tx ? "AF_XDP" : "socket",
					a->tx_why ? a->tx_why : "");
}

/* The config file this instance runs (peer add/remove find it so). */
static int cmd_config(void *ctx, const char *args, struct wgx_control_reply *r)
{
	struct agent *a = ctx;

	(void)args;
	return wgx_control_reply_printf(r, "path=%s\nlisten_port=%u\n",
					a->opts->config_path,
					a->dp ? a->dp->port : 0);
}

static void fill_metrics(struct agent *a, struct wgx_metrics_source *src)
{
	*src = (struct wgx_metrics_source){
		.dev = a->dev,
		.tun = a->opts->tun,
		.iface = a->opts->iface,
		.mode = wgx_xdp_mode_name(&a->xdp),
		.xdp = a->xdp.active ? &a->xdp : NULL,
		.dp = a->dp,
		.names = &a->names,
	};
}

static int cmd_metrics(void *ctx, const char *args, struct wgx_control_reply *r)
{
	struct wgx_metrics_source src;

	(void)args;
	fill_metrics(ctx, &src);
	return wgx_metrics_reply(&src, r);
}

static size_t metrics_read(void *state, char *buf, size_t len)
{
	return wgx_metrics_read(state, buf, len);
}

static void metrics_free(void *state)
{
	wgx_metrics_free(state);
}

/* GET /metrics: a snapshot now, the text as the client takes it. */
static int http_metrics(void *ctx, struct wgx_http_body *body)
{
	struct wgx_metrics_source src;
	struct wgx_metrics *m;
	int err;

	fill_metrics(ctx, &src);
	err = wgx_metrics_snapshot(&src, &m);
	if (err)
		return err;
	*body = (struct wgx_http_body){ m, metrics_read, metrics_free };
	return 0;
}

static const struct wgx_http_route http_routes[] = {
	{ "/metrics", "text/plain; version=0.0.4; charset=utf-8",
	  http_metrics },
	{ NULL, NULL, NULL },
};

/* ---- the UAPI (wg show, wg set, wg syncconf) --------------------------- */

static int uapi_get(void *ctx, struct wgx_uapi_buf *out)
{
	struct agent *a = ctx;
	struct wgx_uapi_view v = { .dev = a->dev,
				   .listen_port = a->dp ? a->dp->port : 0,
				   .fwmark = a->dev->fwmark };

	return wgx_uapi_get(&v, out);
}

/*
 * A set, whole or not at all: the peer steps are prepared (what can fail),
 * then the sockets take a new ListenPort or FwMark if asked, then the
 * rest. The configured port and mark become the asked ones, so a later
 * reload compares the file against what runs.
 */
static int uapi_set(void *ctx, const struct wgx_steps *steps)
{
	struct agent *a = ctx;
	struct wgx_peer_config_stats st;
	struct wgx_steps_summary sum;
	struct wgx_peer_txn *txn;
	uint16_t port = a->config->listen_port;
	uint32_t mark = a->dev->fwmark;
	bool new_port, new_mark;
	int err;

	if (!a->dp)
		return -ENETDOWN; /* stopping: the datapath could not restart */
	wgx_steps_summarize(steps, &sum);
	if (sum.has_listen_port)
		port = sum.listen_port;
	if (sum.has_fwmark)
		mark = sum.fwmark;
	/* Port 0 asks for a random one: a change unless that is so now. */
	new_port = sum.has_listen_port &&
		   (port ? port != a->dp->port : a->config->listen_port != 0);
	new_mark = mark != a->dev->fwmark;
	if (new_port && port && !port_free(a, port)) {
		wgx_log_error("UAPI: listen_port %u is in use: nothing changed",
			      port);
		return -EADDRINUSE;
	}
	err = wgx_peer_config_prepare(a->dev, steps, &txn);
	if (err)
		return err;
	if ((new_port || new_mark) &&
	    restart_datapath(a, new_port ? port : a->dp->port, mark,
			     a->dev->mtu)) {
		wgx_peer_config_abort(a->dev, txn);
		return -EADDRINUSE;
	}
	if (new_port)
		a->config->listen_port = port;
	a->config->fwmark = mark;
	wgx_peer_config_commit(a->dev, txn, &st);
	wgx_log_info("UAPI set: %zu peers (%zu added, %zu removed, %zu "
		     "changed; allowed IPs: %zu added, %zu removed%s)",
		     a->dev->peers.count, st.peers_added, st.peers_removed,
		     st.peers_changed, st.allowed_ips_added,
		     st.allowed_ips_removed,
		     st.private_key_changed ? "; new private key" : "");
	return 0;
}

static const struct wgx_uapi_ops uapi_ops = {
	.get = uapi_get,
	.set = uapi_set,
};

/* The TUN changed (or it is time to look): its MTU, or it is gone. */
static void tunnel_changed(struct agent *a)
{
	switch (wgx_tunnel_check(&a->tunnel)) {
	case WGX_TUNNEL_GONE:
		wgx_log_info("%s was deleted: shutting down", a->opts->tun);
		a->stop = true;
		break;
	case WGX_TUNNEL_MTU:
		wgx_log_info("%s: MTU %u", a->opts->tun, a->tunnel.mtu);
		if (a->dp)
			restart_datapath(a, a->dp->port, a->dev->fwmark,
					 a->tunnel.mtu);
		break;
	default:
		break;
	}
	a->next_tun_check = wgx_now() + TUN_CHECK_NS;
}

static const struct wgx_control_command commands[] = {
	{ "identity", cmd_identity },
	{ "config", cmd_config },
	{ "metrics", cmd_metrics },
	{ "mode", cmd_mode },
	{ "tx", cmd_tx },
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
			else if (a->nhw_open && fd == a->nhw.fd)
				wgx_nhw_read(&a->nhw);
			else if (a->http_open && fd == a->http.fd)
				wgx_http_server_serve(&a->http);
			else if (fd == a->uapi.fd)
				wgx_uapi_server_serve(&a->uapi);
			else if (fd == a->tunnel.watch_fd)
				tunnel_changed(a);
			else if (a->resolving &&
				 fd == wgx_resolve_fd(a->resolving))
				on_resolved(a);
			else if (fd == a->underlay.fd)
				wgx_underlay_changed(&a->underlay);
			else if (fd == a->timer_fd &&
				 read(fd, &expirations, sizeof(expirations)) <
					 0)
				continue;
		}
		if (wgx_now() >= a->next_tun_check)
			tunnel_changed(a);
		wgx_protocol_process(a->dev);
		if (a->nhw_open)
			wgx_nhw_poll(&a->nhw);
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
	a->timer_fd = timerfd_create(WGX_CLOCK, TFD_NONBLOCK | TFD_CLOEXEC);
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
	const char *slow = getenv("WGXDP_TEST_RESOLVE_DELAY_MS");
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
	if (slow && *slow) {
		if (!allowed) {
			wgx_log_error("WGXDP_TEST_RESOLVE_DELAY_MS is a test "
				      "knob: refused without "
				      "WGXDP_TEST_TIMERS=1");
			return -EPERM;
		}
		wgx_resolve_set_test_delay((unsigned int)atoi(slow));
		wgx_log_warn("TEST KNOB: host names resolve %s ms late", slow);
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
	/* Port 0: everything passes until the sockets are bound. */
	struct wgx_xdp_opts xo = { .iface = a->opts->iface,
				   .force = a->opts->force,
				   .port = 0,
				   .peers = a->dev->peers.count };
	int err;

	a->xdp.addr_watch_fd = -1;
	if (a->opts->mode == WGX_MODE_SOCKET || !a->opts->iface)
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
	a->dev->rx_horizon_fd =
		wgx_loader_map_fd(&a->xdp.ld, WGX_LOADER_MAP_RX_HORIZON);
	if (a->xdp.addr_watch_fd >= 0)
		return add_fd(a, a->xdp.addr_watch_fd);
	return 0;
}

/*
 * AF_XDP with XDP, unless WGXDP_AF_XDP=0 (to compare the classifier in
 * front of sockets alone).
 */
/*
 * AF_XDP sockets behind the XDP program: with --mode native or skb, and
 * with auto where the policy for the interface says so (xdp_policy.h);
 * WGXDP_AF_XDP=0 or 1 overrides both, to measure or rule it out.
 */
static bool xsk_wanted(const struct agent *a)
{
	const char *env = getenv("WGXDP_AF_XDP");

	if (env && *env)
		return strcmp(env, "0") != 0;
	return !a->xdp.auto_why || a->xdp.auto_xsk;
}

/*
 * The transmit path (txpath.h) for the underlay's kind, once XDP is
 * settled: AF_XDP TX needs the AF_XDP sockets.
 */
static int choose_tx(struct agent *a)
{
	bool xsk_rx = a->xdp.active && a->use_xsk;
	struct wgx_nl_link l;

	if (a->opts->tx == WGX_TX_XSK && !xsk_rx) {
		wgx_log_error("--tx xsk needs AF_XDP sockets, and %s runs none "
			      "(mode %s%s): attach with --mode native or skb, "
			      "or --tx auto",
			      a->opts->iface, wgx_xdp_mode_name(&a->xdp),
			      a->use_xsk ? "" : ", AF_XDP off");
		return -EINVAL;
	}
	if (a->opts->iface &&
	    wgx_nl_link_get(&a->tunnel.nl, 0, a->opts->iface, &l) == 0)
		snprintf(a->iface_kind, sizeof(a->iface_kind), "%s", l.kind);
	a->xsk_tx =
		wgx_tx_choose(a->opts->tx, xsk_rx, a->iface_kind, &a->tx_why);
	return 0;
}

/* --metrics ADDR:PORT: /metrics over HTTP, served by this loop. */
static int start_http(struct agent *a)
{
	char where[80];
	int err;

	load_names(a);
	if (!a->opts->metrics)
		return 0;
	wgx_sockaddr_format(a->opts->metrics, where, sizeof(where));
	err = wgx_http_server_open(&a->http, a->opts->metrics, http_routes, a);
	if (err) {
		wgx_log_error("Couldn't serve metrics on %s: %s (pick another "
			      "--metrics address or port)",
			      where, strerror(-err));
		return err;
	}
	a->http_open = true;
	wgx_log_info("serving metrics at http://%s/metrics", where);
	return add_fd(a, a->http.fd);
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
	if (a->opts->config_path)
		err = wgx_tunnel_open(&a->tunnel, a->opts->tun, a->config,
				      so.workers, offloads & WGX_DP_TUN_VNET);
	else
		err = wgx_tunnel_open_bare(&a->tunnel, a->opts->tun, so.workers,
					   offloads & WGX_DP_TUN_VNET);
	if (err)
		return err;
	if (!a->tunnel.tun.vnet_hdr)
		offloads &= ~(unsigned int)WGX_DP_TUN_VNET;
	a->tunnel_open = true;
	/* A /0 with Table = auto: wg-quick's policy routing, its mark. */
	if (wgx_tunnel_needs_policy(a->config) &&
	    (err = wgx_tunnel_policy_set(&a->tunnel, a->config,
					 &a->config->fwmark)))
		return err;
	err = wgx_tunnel_watch(&a->tunnel);
	if (!err)
		err = add_fd(a, a->tunnel.watch_fd);
	if (err)
		return err;
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
	err = start_xdp(a);
	a->use_xsk = xsk_wanted(a);
	/* What an explicit mode costs was measured with AF_XDP behind it. */
	if (!a->use_xsk)
		a->xdp.explicit_cost = NULL;
	if (a->xdp.explicit_cost)
		wgx_log_info("--mode %s: %s", wgx_xdp_mode_name(&a->xdp),
			     a->xdp.explicit_cost);
	if (!err)
		err = choose_tx(a);
	if (!err)
		err = start_datapath(a, a->config->listen_port,
				     a->config->fwmark);
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
	err = add_fd(a, a->control.fd);
	if (!err)
		err = start_http(a);
	if (err)
		return err;
	/* Said in the log, not needed to run: a failure is only logged. */
	if (a->opts->iface &&
	    !wgx_underlay_open(&a->underlay, a->opts->iface, a->dev->mtu)) {
		err = add_fd(a, a->underlay.fd);
		if (err)
			return err;
	}
	err = wgx_uapi_sock_path(a->opts->tun, path, sizeof(path));
	if (!err)
		err = wgx_uapi_server_open(&a->uapi, path, &uapi_ops, a);
	if (err)
		return err;
	a->uapi_open = true;
	a->next_tun_check = wgx_now() + TUN_CHECK_NS;
	return add_fd(a, a->uapi.fd);
}

static void stop(struct agent *a)
{
	if (a->http_open)
		wgx_http_server_close(&a->http);
	wgx_peer_names_free(&a->names);
	if (a->uapi_open)
		wgx_uapi_server_close(&a->uapi);
	resolve_forget(a);
	wgx_underlay_close(&a->underlay);
	if (a->control_open)
		wgx_control_server_close(&a->control);
	if (a->dp)
		a->dp->ops->destroy(a->dp);
	if (a->nhw_open)
		wgx_nhw_close(&a->nhw);
	if (a->dev) {
		a->dev->dp = NULL;
		a->dev->keypairs_hook = NULL;
		a->dev->rx_horizon_fd = -1;
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
			   .xdp = { .addr_watch_fd = -1 },
			   .underlay = { .fd = -1 } };
	int err;

	opts->config = NULL;
	wgx_instance_update_pid(opts->instance);
	/* Keys and plaintext live here from now on: no core dumps. */
	err = wgx_harden_no_dumps();
	if (!err)
		err = start(&a);
	/* Set-up is done: keep only what running needs (harden.h). */
	if (!err)
		err = wgx_harden_drop_caps(a.xdp.active);
	if (err) {
		wgx_daemon_fail(notify, err, NULL);
		stop(&a);
		return err;
	}
	wgx_log_info("%s up on %s (mode %s, port %u, %zu peers; transmit: "
		     "%s, %s)",
		     opts->tun, opts->iface ? opts->iface : "any interface",
		     wgx_xdp_mode_name(&a.xdp), a.dp->port, a.dev->peers.count,
		     a.xsk_tx ? "AF_XDP" : "socket", a.tx_why);
	wgx_daemon_ready(notify);
	loop(&a);
	wgx_log_info("%s: shutting down", opts->tun);
	wgx_harden_teardown();
	stop(&a);
	return 0;
}
