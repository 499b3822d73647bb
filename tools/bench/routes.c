// SPDX-License-Identifier: MIT
/*
 * Route installation benchmark: the TUN set up as `attach` does it
 * (wgx_tunnel_open), with P peers of one IPv4 /32 and one IPv6 /128
 * AllowedIPs each, then two reloads (wgx_tunnel_sync_routes): the same
 * config again, and one where a tenth of the peers is replaced. Prints the
 * time of each step and the routes the kernel then holds on the TUN.
 *
 *   routes [--peers P] [--covered]      default: 100000 peers (200,000
 *                                       prefixes), none covered
 *
 * --covered gives the TUN the Addresses 10.0.0.1/8 and fd00::1/16, whose
 * subnet routes cover every peer's prefix (wg-quick then adds no route);
 * otherwise the Addresses are 192.168.77.1/24 and fd77::1/64, outside them.
 *
 * It runs in a private network namespace of its own (unshare), gone when
 * it exits, so it needs root and leaves nothing behind.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/config.h"
#include "agent/netlink.h"
#include "agent/tunnel.h"
#include "util/log.h"

enum {
	DEFAULT_PEERS = 100000,
	MAX_PEERS = 1 << 22, /* the IPv4 prefixes come from 10.0.0.0/8 */
};

static double clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Wall time and this process's CPU time (the kernel's work on the
 * routes included: it runs in our sendmsg), since start(). */
static double t0, c0;

static void start(void)
{
	t0 = clock_s(CLOCK_MONOTONIC);
	c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
}

/* Peer number id: 10.x.y.z/32 and fd00::<id>/128 (both under 10/8, fd00/16). */
static void peer_prefixes(struct wgx_config_prefix pfx[2], uint32_t id)
{
	uint32_t v4 = 0x0a000000u | (id + 2);

	memset(pfx, 0, 2 * sizeof(*pfx));
	pfx[0].family = AF_INET;
	pfx[0].cidr = 32;
	pfx[0].addr.bytes[0] = (uint8_t)(v4 >> 24);
	pfx[0].addr.bytes[1] = (uint8_t)(v4 >> 16);
	pfx[0].addr.bytes[2] = (uint8_t)(v4 >> 8);
	pfx[0].addr.bytes[3] = (uint8_t)v4;
	pfx[1].family = AF_INET6;
	pfx[1].cidr = 128;
	pfx[1].addr.bytes[0] = 0xfd;
	pfx[1].addr.bytes[12] = (uint8_t)(id >> 24);
	pfx[1].addr.bytes[13] = (uint8_t)(id >> 16);
	pfx[1].addr.bytes[14] = (uint8_t)(id >> 8);
	pfx[1].addr.bytes[15] = (uint8_t)(id + 2);
}

static void address(struct wgx_config_prefix *a, int family, const char *text,
		    uint8_t cidr)
{
	memset(a, 0, sizeof(*a));
	a->family = (sa_family_t)family;
	a->cidr = cidr;
	if (inet_pton(family, text, a->addr.bytes) != 1)
		abort();
}

/* Peers first..first+n-1; only what the tunnel reads is filled in. */
static struct wgx_config *make_config(uint32_t first, uint32_t n, bool covered)
{
	struct wgx_config *cfg = calloc(1, sizeof(*cfg));
	struct wgx_config_prefix *pfx = calloc((size_t)n * 2, sizeof(*pfx));

	if (!cfg || !pfx)
		abort();
	cfg->peers = calloc(n, sizeof(*cfg->peers));
	cfg->addresses = calloc(2, sizeof(*cfg->addresses));
	if (!cfg->peers || !cfg->addresses)
		abort();
	cfg->n_addresses = 2;
	if (covered) {
		address(&cfg->addresses[0], AF_INET, "10.0.0.1", 8);
		address(&cfg->addresses[1], AF_INET6, "fd00::1", 16);
	} else {
		address(&cfg->addresses[0], AF_INET, "192.168.77.1", 24);
		address(&cfg->addresses[1], AF_INET6, "fd77::1", 64);
	}
	cfg->n_peers = n;
	for (uint32_t i = 0; i < n; i++) {
		peer_prefixes(&pfx[2 * i], first + i);
		cfg->peers[i].allowed_ips = &pfx[2 * i];
		cfg->peers[i].n_allowed_ips = 2;
		cfg->peers[i].line = i + 1;
	}
	return cfg;
}

static void free_config(struct wgx_config *cfg)
{
	if (cfg->n_peers)
		free(cfg->peers[0].allowed_ips);
	free(cfg->peers);
	free(cfg->addresses);
	free(cfg);
}

/* Routes of family in the main table through ifindex, or -errno. */
static long routes_on(struct wgx_nl *nl, int family, int ifindex)
{
	static struct wgx_nl_route *list;
	static size_t cap;
	long n, on = 0;

	for (;;) {
		n = wgx_nl_route_list(nl, family, 0, list, cap);
		if (n < 0 || (size_t)n <= cap)
			break;
		free(list);
		cap = (size_t)n + 1024;
		list = calloc(cap, sizeof(*list));
		if (!list)
			return -ENOMEM;
	}
	for (long i = 0; i < n; i++)
		on += list[i].ifindex == ifindex;
	return n < 0 ? n : on;
}

static long peak_rss_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmHWM: %ld", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static void report(struct wgx_tunnel *t, const char *step, int err)
{
	double secs = clock_s(CLOCK_MONOTONIC) - t0;
	double cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
	long v4 = routes_on(&t->nl, AF_INET, t->tun.ifindex);
	long v6 = routes_on(&t->nl, AF_INET6, t->tun.ifindex);

	printf("%-27s %8.3f s %7.3f s  %s  routes on the TUN: %ld IPv4, "
	       "%ld IPv6\n",
	       step, secs, cpu, err ? strerror(-err) : "ok", v4, v6);
}

int main(int argc, char **argv)
{
	uint32_t peers = DEFAULT_PEERS;
	struct wgx_config *cfg, *cfg2;
	struct wgx_tunnel t;
	bool covered = false;
	int err;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--covered")) {
			covered = true;
		} else if (!strcmp(argv[i], "--peers") && i + 1 < argc) {
			peers = (uint32_t)strtoul(argv[++i], NULL, 10);
		} else {
			fprintf(stderr,
				"usage: routes [--peers P] [--covered]\n");
			return 2;
		}
	}
	if (peers < 10 || peers > MAX_PEERS) {
		fprintf(stderr, "routes: --peers must be 10..%d\n", MAX_PEERS);
		return 2;
	}
	if (unshare(CLONE_NEWNET) < 0) {
		fprintf(stderr,
			"routes: Couldn't make a private network "
			"namespace: %s (run as root)\n",
			strerror(errno));
		return 1;
	}
	wgx_log_set_level(WGX_LOG_WARN);
	cfg = make_config(0, peers, covered);
	/* A tenth of the peers replaced by new ones. */
	cfg2 = make_config(peers / 10, peers, covered);
	printf("# %u peers, %u prefixes, %s; wall and CPU time\n", peers,
	       2 * peers,
	       covered ? "all covered by the Address subnets" : "none covered");
	start();
	err = wgx_tunnel_open(&t, "wgxbench0", cfg, 1, false);
	if (err) {
		printf("open failed after %.3f s: %s\n",
		       clock_s(CLOCK_MONOTONIC) - t0, strerror(-err));
		return 1;
	}
	report(&t, "open (install)", 0);
	start();
	err = wgx_tunnel_sync_routes(&t, cfg);
	report(&t, "reload, no change", err);
	start();
	err = wgx_tunnel_sync_routes(&t, cfg2);
	report(&t, "reload, 10% peers replaced", err);
	start();
	wgx_tunnel_close(&t);
	printf("%-27s %8.3f s\n", "close", clock_s(CLOCK_MONOTONIC) - t0);
	printf("peak RSS %ld kB\n", peak_rss_kb());
	free_config(cfg);
	free_config(cfg2);
	return 0;
}
