// SPDX-License-Identifier: MIT
/*
 * `wgxdp up IFNAME`: what `wireguard-go IFNAME` does, so that wg(8) and
 * wg-quick(8) drive wgxdp unchanged. A TUN with no key, no peer, no
 * address and no route, the UAPI socket, and a daemon that returns once
 * both are there and ends when the interface is deleted. Everything is
 * checked before the system is touched.
 */
#include "cli/cli_up.h"

#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/instance.h"
#include "agent/netlink.h"
#include "agent/uapi.h"
#include "datapath/datapath.h"
#include "util/ifname.h"
#include "util/log.h"

struct up_args {
	const char *tun, *underlay;
	enum wgx_mode mode;
	bool mode_given;
	unsigned int workers;
	bool foreground;
};

static int say(const char *fmt, const char *a)
{
	fputs("wgxdp: up: ", stderr);
	fprintf(stderr, fmt, a);
	fputc('\n', stderr);
	return 1;
}

static int usage(FILE *f)
{
	fputs("Usage: wgxdp up IFNAME [--underlay IFACE|auto] "
	      "[--mode auto|native|skb|socket] [--workers N] [--foreground]\n"
	      "  Like `wireguard-go IFNAME`: creates the TUN IFNAME with no "
	      "key, peer,\n"
	      "  address or route, serves /var/run/wireguard/IFNAME.sock "
	      "for wg(8),\n"
	      "  returns once ready; the daemon ends when IFNAME is deleted.\n"
	      "  --underlay  the interface WireGuard traffic comes in on "
	      "(XDP goes there);\n"
	      "              auto: the default route's; default: "
	      "$WGXDP_UNDERLAY, else plain\n"
	      "              UDP sockets on every interface and no XDP\n"
	      "  --mode      with an underlay, as for attach (default auto)\n"
	      "  --workers   crypto worker threads (default: one per online "
	      "CPU)\n"
	      "  --foreground  stay in the foreground, log to stderr (also "
	      "WG_PROCESS_FOREGROUND=1)\n",
	      f);
	return f == stdout ? 0 : 1;
}

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

/* 0, 1 (an error said), or 2 for --help. */
static int parse(int argc, char **argv, struct up_args *a)
{
	static const struct option longopts[] = {
		{ "underlay", required_argument, NULL, 'u' },
		{ "mode", required_argument, NULL, 'm' },
		{ "workers", required_argument, NULL, 'w' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *fg = getenv("WG_PROCESS_FOREGROUND");
	int c;

	memset(a, 0, sizeof(*a));
	a->underlay = getenv("WGXDP_UNDERLAY");
	if (a->underlay && !*a->underlay)
		a->underlay = NULL;
	a->foreground = fg && !strcmp(fg, "1");
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "u:m:w:fh", longopts, NULL)) !=
	       -1) {
		switch (c) {
		case 'u':
			a->underlay = optarg;
			break;
		case 'm':
			if (wgx_mode_parse(optarg, &a->mode) < 0)
				return say("unknown mode '%s' (use auto, "
					   "native, skb or socket)",
					   optarg);
			a->mode_given = true;
			break;
		case 'w':
			if (parse_workers(optarg, &a->workers) < 0)
				return say("--workers takes a number from 1 to "
					   "64, not '%s'",
					   optarg);
			break;
		case 'f':
			a->foreground = true;
			break;
		case 'h':
			return 2;
		default:
			return say("bad option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return say("missing IFNAME%s", "");
	a->tun = argv[optind++];
	if (optind < argc)
		return say("unexpected argument '%s'", argv[optind]);
	return 0;
}

/* The interface of the default route, IPv4 first, as `auto` means. */
static int default_route_iface(char name[IFNAMSIZ])
{
	static const int families[] = { AF_INET, AF_INET6 };
	struct wgx_nl_route routes[64];
	struct wgx_nl nl;
	int err = wgx_nl_open(&nl);

	if (err)
		return err;
	err = -ENOENT;
	for (size_t f = 0; f < 2 && err; f++) {
		int n = wgx_nl_route_list(&nl, families[f], 0, routes, 64);

		for (int i = 0; i < n && i < 64 && err; i++)
			if (!routes[i].prefix && routes[i].ifindex > 0 &&
			    if_indextoname((unsigned int)routes[i].ifindex,
					   name))
				err = 0;
	}
	wgx_nl_close(&nl);
	return err;
}

static int check_name(const char *what, const char *name)
{
	const char *why = NULL;

	if (wgx_ifname_check(name, &why) < 0) {
		fprintf(stderr, "wgxdp: up: bad %s name '%s': %s\n", what, name,
			why ? why : "invalid");
		return -1;
	}
	return 0;
}

/* Settle the underlay: none, a named interface, or auto's. */
static int resolve_underlay(struct up_args *a, char buf[IFNAMSIZ])
{
	if (!a->underlay)
		return 0;
	if (!strcmp(a->underlay, "auto")) {
		if (default_route_iface(buf) < 0)
			return say("--underlay auto: no default route in this "
				   "network namespace (name the interface)%s",
				   "");
		a->underlay = buf;
	}
	if (check_name("underlay", a->underlay) < 0)
		return 1;
	if (wgx_nl_link_index(a->underlay) <= 0)
		return say("underlay '%s' does not exist in this network "
			   "namespace",
			   a->underlay);
	if (!strcmp(a->underlay, a->tun))
		return say("the underlay can't be the tunnel itself ('%s')",
			   a->tun);
	return 0;
}

int wgx_cli_up(int argc, char **argv)
{
	struct wgx_config_opts copts = { 0 };
	struct wgx_instance inst = { .pid_fd = -1 };
	struct wgx_agent_opts opts = { 0 };
	char underlay[IFNAMSIZ];
	struct up_args a;
	int err;

	err = parse(argc, argv, &a);
	if (err)
		return usage(err == 2 ? stdout : stderr);
	if (check_name("interface", a.tun) < 0)
		return 1;
	if (geteuid() != 0)
		return say("needs root (CAP_NET_ADMIN)%s", "");
	if (resolve_underlay(&a, underlay))
		return 1;
	if (wgx_nl_link_exists(a.tun))
		return say("an interface named '%s' exists already", a.tun);
	if (a.mode_given && !a.underlay && a.mode != WGX_MODE_SOCKET)
		return say("--mode %s needs --underlay (XDP attaches there)",
			   wgx_mode_name(a.mode));
	/* No [Interface], no peers: wg(8) says what comes. */
	err = wgx_config_parse_buf("up", "", 0, &copts, &opts.config, NULL);
	if (err)
		return say("%s", strerror(-err));
	/* Without an underlay the record carries the TUN's own name. */
	err = wgx_instance_claim(&inst, a.tun, a.underlay ? a.underlay : a.tun);
	if (err) {
		wgx_config_free(opts.config);
		return 1;
	}
	opts.iface = a.underlay;
	opts.tun = a.tun;
	opts.mode = a.underlay ? a.mode : WGX_MODE_SOCKET;
	opts.workers = a.workers;
	opts.instance = &inst;
	err = wgx_daemon_run(a.foreground, wgx_agent_main, &opts);
	wgx_config_free(opts.config);
	if (!a.foreground) {
		wgx_instance_disown(&inst);
		if (err)
			wgx_instance_wait_exit(a.tun, WGX_DAEMON_READY_MS);
	}
	return err ? 1 : 0;
}
