// SPDX-License-Identifier: MIT
/*
 * The tunnel commands. attach checks everything it can (arguments, the
 * interface, the config file, the instance lock) before it changes the
 * system, so a user mistake is one clear line and nothing to clean up.
 * The others find the running agent through its control socket.
 */
#include "cli/cli_tunnel.h"

#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/config.h"
#include "agent/control.h"
#include "agent/http.h"
#include "util/ifname.h"
#include "agent/instance.h"
#include "agent/loader.h"
#include "util/log.h"
#include "agent/netlink.h"
#include "agent/tunnel.h"
#include "datapath/datapath.h"

static int fail(const char *fmt, const char *a, const char *b)
{
	fputs("wgxdp: ", stderr);
	fprintf(stderr, fmt, a, b);
	fputc('\n', stderr);
	return 1;
}

static int check_ifname(const char *what, const char *name)
{
	const char *why = NULL;

	if (wgx_ifname_check(name, &why) < 0) {
		fprintf(stderr, "wgxdp: bad %s name '%s': %s\n", what, name,
			why ? why : "invalid");
		return -1;
	}
	return 0;
}

/* wg0.conf -> wg0, as wg-quick names the interface after the file. */
static int tun_from_config(const char *path, char *out, size_t len)
{
	char copy[PATH_MAX];
	char *base, *dot;

	snprintf(copy, sizeof(copy), "%s", path);
	base = basename(copy);
	dot = strrchr(base, '.');
	if (dot && !strcmp(dot, ".conf"))
		*dot = '\0';
	if (strlen(base) >= len)
		return -ENAMETOOLONG;
	snprintf(out, len, "%s", base);
	return 0;
}

static void print_config_messages(const struct wgx_config_errors *errs)
{
	for (size_t i = 0; i < errs->n; i++)
		fprintf(stderr, "%s\n", errs->msgs[i].text);
}

/* wg-quick keys we parse but do not act on: say so rather than ignore. */
static void warn_unapplied(const struct wgx_config *cfg, const char *path)
{
	bool hooks = false;

	for (int i = 0; i < WGX_CONFIG_HOOKS; i++)
		hooks = hooks || cfg->hooks[i].n;
	if (cfg->dns_servers.n || cfg->dns_search.n)
		fprintf(stderr,
			"wgxdp: warning: %s: DNS is not applied by "
			"wgxdp; configure the resolver yourself\n",
			path);
	if (hooks)
		fprintf(stderr,
			"wgxdp: warning: %s: PreUp/PostUp/PreDown/"
			"PostDown hooks are not run by wgxdp\n",
			path);
}

static struct wgx_config *load_config(const char *path)
{
	struct wgx_config_opts opts = { .flags = WGX_CONFIG_NEED_PRIVATE_KEY };
	struct wgx_config_errors errs = { 0 };
	struct wgx_config *cfg = NULL;
	char why[512];
	int err;

	err = wgx_config_parse_file(path, &opts, &cfg, &errs);
	print_config_messages(&errs);
	wgx_config_errors_free(&errs);
	if (err) {
		fprintf(stderr,
			"wgxdp: %s is not a valid config, nothing "
			"was changed\n",
			path);
		return NULL;
	}
	if (wgx_tunnel_check_config(cfg, why, sizeof(why)) < 0) {
		fprintf(stderr, "wgxdp: %s: %s\n", path, why);
		wgx_config_free(cfg);
		return NULL;
	}
	warn_unapplied(cfg, path);
	return cfg;
}

/* parse_attach(): --help was asked for. */
enum {
	HELP = 2
};

struct attach_args {
	const char *iface, *config, *name;
	enum wgx_mode mode;
	enum wgx_tx_mode tx;
	unsigned int workers; /* 0: one per online CPU */
	bool foreground, force;
	bool has_metrics;
	union wgx_sockaddr metrics;
};

/* --workers N: 1..WGX_WORKERS_MAX, digits only. */
static int parse_workers(const char *s, unsigned int *out)
{
	unsigned long n = 0;

	if (!*s || strlen(s) > 3)
		return -EINVAL;
	for (const char *c = s; *c; c++) {
		if (*c < '0' || *c > '9')
			return -EINVAL;
		n = n * 10 + (unsigned long)(*c - '0');
	}
	if (n < 1 || n > WGX_WORKERS_MAX)
		return -EINVAL;
	*out = (unsigned int)n;
	return 0;
}

static int parse_attach(int argc, char **argv, struct attach_args *a)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "mode", required_argument, NULL, 'm' },
		{ "name", required_argument, NULL, 'n' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "force", no_argument, NULL, 'F' },
		{ "workers", required_argument, NULL, 'w' },
		{ "tx", required_argument, NULL, 't' },
		{ "metrics", required_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(a, 0, sizeof(*a));
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "c:m:n:fFw:t:M:h", longopts,
				NULL)) != -1) {
		switch (c) {
		case 'c':
			a->config = optarg;
			break;
		case 'm':
			if (wgx_mode_parse(optarg, &a->mode) < 0)
				return fail("unknown mode '%s' (use auto, "
					    "native, skb or socket)%s",
					    optarg, "");
			break;
		case 'n':
			a->name = optarg;
			break;
		case 't':
			if (wgx_tx_mode_parse(optarg, &a->tx) < 0)
				return fail("attach: unknown --tx '%s' (use "
					    "auto, socket or xsk)%s",
					    optarg, "");
			break;
		case 'f':
			a->foreground = true;
			break;
		case 'F':
			a->force = true;
			break;
		case 'w':
			if (parse_workers(optarg, &a->workers) < 0)
				return fail("attach: --workers takes a number "
					    "from 1 to 64, not '%s'%s",
					    optarg, "");
			break;
		case 'M':
			if (wgx_http_parse_addr(optarg, &a->metrics) < 0)
				return fail("attach: --metrics takes ADDR:PORT "
					    "(127.0.0.1:9586, [::1]:9586), "
					    "not '%s'%s",
					    optarg, "");
			a->has_metrics = true;
			break;
		case 'h':
			return HELP;
		default:
			return fail("attach: bad option '%s'%s",
				    argv[optind - 1], "");
		}
	}
	if (optind >= argc)
		return fail("attach: missing IFACE%s%s", "", "");
	a->iface = argv[optind++];
	if (optind < argc)
		return fail("attach: unexpected argument '%s'%s", argv[optind],
			    "");
	if (!a->config)
		return fail("attach: --config FILE is required%s%s", "", "");
	return 0;
}

static int usage_attach(FILE *f)
{
	fputs("Usage: wgxdp attach IFACE --config FILE "
	      "[--mode auto|native|skb|socket]\n"
	      "       [--name TUN] [--workers N] [--tx auto|socket|xsk]\n"
	      "       [--metrics ADDR:PORT] [--foreground] [--force]\n"
	      "  --mode    auto (default): XDP in the driver, else generic "
	      "XDP, else sockets;\n"
	      "            native, skb: that XDP mode or fail; socket: no "
	      "XDP\n"
	      "  --tx      how data leaves with AF_XDP sockets: auto "
	      "(default) the path\n"
	      "            measured faster on this kind of interface; xsk: "
	      "AF_XDP TX (or\n"
	      "            fail); socket: the UDP sockets, no AF_XDP TX "
	      "ring. Either way\n"
	      "            the socket sends where the next hop is unknown\n"
	      "  --force   replace a foreign XDP program on IFACE\n"
	      "  --workers crypto worker threads (default: one per online "
	      "CPU)\n"
	      "  --name    the tunnel interface (default: the config file "
	      "name without .conf)\n"
	      "  --metrics serve Prometheus metrics at "
	      "http://ADDR:PORT/metrics\n"
	      "  --foreground  stay in the foreground, log to stderr\n",
	      f);
	return f == stdout ? 0 : 1;
}

/* Say which datapath the daemon got (auto may fall back to socket). */
static void print_attached(const char *tun, const char *iface)
{
	struct wgx_control_response resp = { 0 };
	char path[108];
	char *why = NULL;

	wgx_instance_sock_path(tun, path, sizeof(path));
	if (wgx_control_call(path, "mode", 0, &resp) == 0 && resp.payload) {
		char *nl = strchr(resp.payload, '\n');

		if (nl) {
			*nl = '\0';
			why = nl + 1;
			why[strcspn(why, "\n")] = '\0';
		}
	}
	printf("wgxdp: %s attached to %s (mode %s)\n", tun, iface,
	       resp.payload ? resp.payload : "unknown");
	if (why && *why)
		printf("wgxdp: %s\n", why);
	wgx_control_response_free(&resp);
	memset(&resp, 0, sizeof(resp));
	if (wgx_control_call(path, "tx", 0, &resp) == 0 && resp.payload) {
		resp.payload[strcspn(resp.payload, "\n")] = '\0';
		printf("wgxdp: %s transmits through %s\n", tun, resp.payload);
	}
	wgx_control_response_free(&resp);
}

int wgx_cli_attach(int argc, char **argv)
{
	struct wgx_instance inst = { .pid_fd = -1 };
	struct wgx_agent_opts opts = { 0 };
	struct attach_args a;
	char tun[IFNAMSIZ], path[PATH_MAX];
	int err;

	err = parse_attach(argc, argv, &a);
	if (err)
		return usage_attach(err == HELP ? stdout : stderr);
	if (check_ifname("interface", a.iface) < 0)
		return 1;
	if (wgx_nl_link_index(a.iface) <= 0)
		return fail("interface '%s' does not exist in this network "
			    "namespace%s",
			    a.iface, "");
	if (a.name && strlen(a.name) >= sizeof(tun))
		return fail("bad tunnel name '%s': longer than %s characters",
			    a.name, "15");
	if (a.name)
		snprintf(tun, sizeof(tun), "%s", a.name);
	else if (tun_from_config(a.config, tun, sizeof(tun)) < 0)
		return fail("can't name the tunnel after '%s': too long; use "
			    "--name TUN%s",
			    a.config, "");
	if (check_ifname("tunnel", tun) < 0)
		return 1;
	if (!strcmp(tun, a.iface))
		return fail("the tunnel can't be named like the underlay "
			    "interface '%s'%s",
			    a.iface, "");
	if (!realpath(a.config, path))
		return fail("can't read config %s: %s", a.config,
			    strerror(errno));
	if (geteuid() != 0)
		return fail("attach needs root (CAP_NET_ADMIN)%s%s", "", "");
	opts.config = load_config(path);
	if (!opts.config)
		return 1;
	err = wgx_instance_claim(&inst, tun, a.iface);
	if (err) {
		wgx_config_free(opts.config);
		return 1;
	}
	opts.iface = a.iface;
	opts.tun = tun;
	opts.config_path = path;
	opts.mode = a.mode;
	opts.force = a.force;
	opts.workers = a.workers;
	opts.tx = a.tx;
	opts.instance = &inst;
	opts.metrics = a.has_metrics ? &a.metrics : NULL;
	err = wgx_daemon_run(a.foreground, wgx_agent_main, &opts);
	wgx_config_free(opts.config);
	if (!a.foreground) {
		wgx_instance_disown(&inst);
		/*
		 * A daemon that failed start-up reports before it has torn
		 * down (TUN, XDP, pidfile): return once it has let go, so
		 * the user's retry is not refused as "already running".
		 */
		if (err)
			wgx_instance_wait_exit(tun, WGX_DAEMON_READY_MS);
		else
			print_attached(tun, a.iface);
	}
	return err ? 1 : 0;
}

/* The instance named by IFACE (underlay) or, failing that, by TUN. */
static int find_instance(const char *name, struct wgx_instance_info *info)
{
	int err = wgx_instance_find_iface(name, info);

	if (err == -ENOENT)
		err = wgx_instance_find_tun(name, info);
	return err;
}

static int one_name(int argc, char **argv, const char *what)
{
	if (argc == 2 && !strcmp(argv[1], "--help")) {
		printf("Usage: wgxdp %s IFACE\n", what);
		return 1;
	}
	if (argc < 2) {
		fprintf(stderr,
			"wgxdp: %s: missing IFACE\nUsage: wgxdp %s "
			"IFACE\n",
			what, what);
		return -1;
	}
	if (argc > 2) {
		fprintf(stderr, "wgxdp: %s: unexpected argument '%s'\n", what,
			argv[2]);
		return -1;
	}
	if (check_ifname("interface", argv[1]) < 0)
		return -1;
	return 0;
}

static int call(const struct wgx_instance_info *info, const char *req,
		bool print)
{
	struct wgx_control_response resp = { 0 };
	int err = wgx_control_call(info->sock_path, req, 0, &resp);

	if (resp.payload && (print || err))
		fputs(resp.payload, err ? stderr : stdout);
	if (err)
		fprintf(stderr, "wgxdp: %s %s: %s\n", req, info->tun,
			resp.error[0] ? resp.error : strerror(-err));
	wgx_control_response_free(&resp);
	return err;
}

int wgx_cli_detach(int argc, char **argv)
{
	struct wgx_instance_info info;
	int err;

	err = one_name(argc, argv, "detach");
	if (err)
		return err < 0 ? 1 : 0;
	err = find_instance(argv[1], &info);
	if (err == -ENOENT) {
		/* Leftovers of a crashed instance go with a message. */
		wgx_instance_reap();
		if (wgx_loader_reclaim(argv[1]) > 0)
			return 0;
		return fail("nothing is attached to %s in this network "
			    "namespace%s",
			    argv[1], "");
	}
	if (err)
		return fail("can't reach the instance on %s: %s", argv[1],
			    strerror(-err));
	if (call(&info, "detach", false))
		return 1;
	if (wgx_instance_wait_exit(info.tun, 15000) < 0)
		return fail("%s did not stop within 15 s (pid %s)", info.tun,
			    "see syslog");
	printf("wgxdp: detached %s from %s\n", info.tun, info.iface);
	return 0;
}

int wgx_cli_reload(int argc, char **argv)
{
	struct wgx_instance_info info;
	int err;

	err = one_name(argc, argv, "reload");
	if (err)
		return err < 0 ? 1 : 0;
	err = find_instance(argv[1], &info);
	if (err)
		return fail("nothing is attached to %s in this network "
			    "namespace%s",
			    argv[1], "");
	return call(&info, "reload", true) ? 1 : 0;
}

static int show_all(bool json)
{
	struct wgx_instance_info *list = NULL;
	size_t n = 0;
	int rc = 0, err = wgx_instance_list(&list, &n);

	if (err && err != -ENOENT)
		return fail("can't list instances: %s%s", strerror(-err), "");
	if (json)
		fputs("[", stdout);
	for (size_t i = 0, shown = 0; i < n; i++) {
		struct wgx_control_response resp = { 0 };
		int cerr =
			wgx_control_call(list[i].sock_path,
					 json ? "show-json" : "show", 0, &resp);

		/* A separator only between answers that came: valid JSON. */
		if (!cerr && resp.payload) {
			if (shown++)
				fputs(json ? "," : "\n", stdout);
			fputs(resp.payload, stdout);
		} else {
			fprintf(stderr, "wgxdp: show %s: %s\n", list[i].tun,
				resp.error[0] ? resp.error : strerror(-cerr));
			rc = 1;
		}
		wgx_control_response_free(&resp);
	}
	if (json)
		fputs("]\n", stdout);
	free(list);
	return rc;
}

int wgx_cli_show(int argc, char **argv)
{
	struct wgx_instance_info info;
	const char *name = NULL;
	bool json = false;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help")) {
			printf("Usage: wgxdp show [TUN] [--json]\n");
			return 0;
		}
		if (!strcmp(argv[i], "--json"))
			json = true;
		else if (argv[i][0] == '-')
			return fail("show: unknown option '%s'%s", argv[i], "");
		else if (!name)
			name = argv[i];
		else
			return fail("show: unexpected argument '%s'%s", argv[i],
				    "");
	}
	if (!name)
		return show_all(json);
	if (check_ifname("tunnel", name) < 0)
		return 1;
	if (wgx_instance_find_tun(name, &info) < 0 &&
	    wgx_instance_find_iface(name, &info) < 0)
		return fail("no wgxdp instance named %s in this network "
			    "namespace%s",
			    name, "");
	return call(&info, json ? "show-json" : "show", true) ? 1 : 0;
}
