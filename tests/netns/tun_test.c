// SPDX-License-Identifier: MIT
/*
 * TUN and rtnetlink plumbing against the real kernel. Needs root and must
 * run inside a throw-away network namespace (t_tun.sh makes one): it
 * creates and deletes interfaces, addresses and routes, and sends one UDP
 * datagram into its own TUN. Each test prints PASS/FAIL; the last line is
 * "N passed, N failed".
 *
 * The tests run in order and share one TUN (wgxt0) from "create" to
 * "closing the fd".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "util/ifname.h"
#include "agent/netlink.h"
#include "agent/tun.h"

static int failures;

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "    %s:%d: CHECK(%s) failed\n",       \
				__FILE__, __LINE__, #cond);                    \
			failures++;                                            \
		}                                                              \
	} while (0)

#define TUN0 "wgxt0"

static struct wgx_nl nl;
static struct wgx_tun tun0;

/* ---- helpers ---- */

static struct wgx_nl_addr addr(int family, const char *text, int prefix)
{
	struct wgx_nl_addr a = { .ifindex = tun0.ifindex,
				 .family = (uint8_t)family,
				 .prefix = (uint8_t)prefix };

	if (inet_pton(family, text, a.addr) != 1)
		abort();
	return a;
}

static struct wgx_nl_route route(int family, const char *text, int prefix)
{
	struct wgx_nl_route r = { .family = (uint8_t)family,
				  .prefix = (uint8_t)prefix,
				  .ifindex = tun0.ifindex };

	if (inet_pton(family, text, r.dst) != 1)
		abort();
	return r;
}

/* Whether the output of a fixed shell command contains needle. */
static bool sh_has(const char *cmd, const char *needle)
{
	char out[16384];
	size_t n = 0;
	FILE *p = popen(cmd, "r");

	if (!p)
		return false;
	while (n < sizeof(out) - 1) {
		size_t got = fread(out + n, 1, sizeof(out) - 1 - n, p);

		if (!got)
			break;
		n += got;
	}
	out[n] = '\0';
	pclose(p);
	return strstr(out, needle) != NULL;
}

static bool sh_ok(const char *cmd)
{
	return system(cmd) == 0;
}

/* Bounded wait for name to disappear (at most about a second). */
static bool gone(const char *name)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };

	for (int i = 0; i < 100; i++) {
		if (!wgx_tun_exists(name))
			return true;
		nanosleep(&ts, NULL);
	}
	return false;
}

static bool addr_listed(int ifindex, const struct wgx_nl_addr *want,
			uint32_t *flags)
{
	struct wgx_nl_addr list[64];
	int n = wgx_nl_addr_list(&nl, ifindex, want->family, list, 64);

	for (int i = 0; i < n && i < 64; i++) {
		if (list[i].prefix == want->prefix &&
		    !memcmp(list[i].addr, want->addr,
			    want->family == AF_INET ? 4 : 16)) {
			if (flags)
				*flags = list[i].flags;
			return list[i].ifindex == ifindex;
		}
	}
	return false;
}

/* The metric of the route (table, prefix, device) when listed, else -1. */
static long route_listed(const struct wgx_nl_route *want, uint32_t table)
{
	struct wgx_nl_route list[128];
	int n = wgx_nl_route_list(&nl, want->family, table, list, 128);

	for (int i = 0; i < n && i < 128; i++)
		if (list[i].prefix == want->prefix &&
		    list[i].ifindex == want->ifindex &&
		    !memcmp(list[i].dst, want->dst,
			    want->family == AF_INET ? 4 : 16))
			return list[i].metric;
	return -1;
}

static int tun_ifr_flags(int fd)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	if (ioctl(fd, TUNGETIFF, &ifr) < 0)
		return -errno;
	return ifr.ifr_flags & 0xffff;
}

static bool fd_nonblock_cloexec(int fd)
{
	return (fcntl(fd, F_GETFL) & O_NONBLOCK) &&
	       (fcntl(fd, F_GETFD) & FD_CLOEXEC);
}

/* ---- tests ---- */

static void test_bad_names(void)
{
	static const char *const bad[] = {
		"",	 "a/b",	       "a b",
		"tab\t", ".",	       "..",
		"wg%d",	 "a:b",	       "0123456789abcdef",
		"\x01x", "nb\xa0space"
	};
	const char *why = NULL;
	struct wgx_tun t;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		CHECK(wgx_ifname_check(bad[i], &why) == -EINVAL);
		CHECK(why && *why);
		CHECK(wgx_tun_create(&t, bad[i], 1, 0) == -EINVAL);
	}
	CHECK(wgx_ifname_check(NULL, &why) == -EINVAL);
	CHECK(wgx_ifname_check("wg0", &why) == 0 && !why);
	CHECK(wgx_ifname_check("012345678901234", NULL) == 0);
	CHECK(wgx_tun_probe("a/b", &(enum wgx_tun_state){ 0 }) == -EINVAL);
	CHECK(!wgx_tun_exists("a/b"));
	CHECK(wgx_nl_link_index("0123456789abcdefgh") == -ENODEV);
}

static void test_create(void)
{
	enum wgx_tun_state st = WGX_TUN_ABSENT;
	struct wgx_nl_link l;
	int flags;

	CHECK(wgx_tun_probe(TUN0, &st) == 0 && st == WGX_TUN_ABSENT);
	CHECK(wgx_tun_create(&tun0, TUN0, 1, 0) == 0);
	CHECK(tun0.queues == 1 && tun0.fds && tun0.fds[0] >= 0);
	CHECK(tun0.ifindex > 0 && !tun0.reclaimed);
	if (!tun0.fds)
		return;
	CHECK(tun0.ifindex == wgx_nl_link_index(TUN0));
	CHECK(fd_nonblock_cloexec(tun0.fds[0]));
	flags = tun_ifr_flags(tun0.fds[0]);
	CHECK(flags >= 0 && (flags & IFF_TUN) && (flags & IFF_NO_PI));
	CHECK(!(flags & (IFF_TAP | IFF_MULTI_QUEUE | IFF_VNET_HDR)));
	CHECK(wgx_tun_is_tun(TUN0) == 1);
	CHECK(wgx_tun_probe(TUN0, &st) == 0 && st == WGX_TUN_BUSY);
	CHECK(wgx_nl_link_get(&nl, tun0.ifindex, NULL, &l) == 0);
	CHECK(!strcmp(l.name, TUN0) && !strcmp(l.kind, "tun"));
	CHECK(l.tun.present && l.tun.type == IFF_TUN && !l.tun.pi);
	CHECK(!l.tun.persist && !l.tun.multi_queue && l.carrier);
	CHECK(sh_has("ip -d link show " TUN0, "tun type tun pi off"));
}

static void test_busy(void)
{
	struct wgx_tun t;

	CHECK(wgx_tun_create(&t, TUN0, 1, 0) == -EBUSY);
	CHECK(wgx_tun_create(&t, TUN0, 1, WGX_TUN_RECLAIM) == -EBUSY);
	CHECK(wgx_tun_exists(TUN0));
}

static void test_mtu(void)
{
	struct wgx_nl_link l;

	CHECK(wgx_nl_link_set_mtu(&nl, tun0.ifindex, 1420) == 0);
	CHECK(wgx_nl_link_get(&nl, 0, TUN0, &l) == 0 && l.mtu == 1420);
	CHECK(l.ifindex == tun0.ifindex);
	CHECK(sh_has("ip link show " TUN0, "mtu 1420"));
}

static void test_addr_add(void)
{
	struct wgx_nl_addr a4 = addr(AF_INET, "10.77.0.1", 24);
	struct wgx_nl_addr a6 = addr(AF_INET6, "fd77::1", 64);

	CHECK(wgx_nl_addr_add(&nl, &a4) == 0);
	CHECK(wgx_nl_addr_add(&nl, &a6) == 0);
	CHECK(wgx_nl_addr_add(&nl, &a4) == -EEXIST);
	CHECK(wgx_nl_addr_add(&nl, &a6) == -EEXIST);
}

/* Before any address: taking a link down drops its IPv6 addresses. */
static void test_up_down(void)
{
	struct wgx_nl_link l;

	CHECK(wgx_nl_link_set_up(&nl, tun0.ifindex, true) == 0);
	CHECK(wgx_nl_link_get(&nl, tun0.ifindex, NULL, &l) == 0);
	CHECK(l.flags & IFF_UP);
	CHECK(wgx_nl_link_set_up(&nl, tun0.ifindex, false) == 0);
	CHECK(wgx_nl_link_get(&nl, tun0.ifindex, NULL, &l) == 0);
	CHECK(!(l.flags & IFF_UP));
	CHECK(sh_has("ip link show " TUN0, "state DOWN"));
}

static void test_up(void)
{
	struct wgx_nl_link l;

	CHECK(wgx_nl_link_set_up(&nl, tun0.ifindex, true) == 0);
	CHECK(wgx_nl_link_get(&nl, tun0.ifindex, NULL, &l) == 0);
	CHECK((l.flags & IFF_UP) && (l.flags & IFF_RUNNING));
	CHECK(sh_has("ip link show " TUN0, ",UP,LOWER_UP>"));
}

static void test_addr_list(void)
{
	struct wgx_nl_addr a4 = addr(AF_INET, "10.77.0.1", 24);
	struct wgx_nl_addr a6 = addr(AF_INET6, "fd77::1", 64);
	struct wgx_nl_addr one = { 0 };
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };
	uint32_t flags = ~0u;
	int fd;

	CHECK(addr_listed(tun0.ifindex, &a4, NULL));
	CHECK(addr_listed(tun0.ifindex, &a6, &flags));
	CHECK(!(flags & IFA_F_TENTATIVE) && (flags & IFA_F_NODAD));
	/* Filtered by interface: loopback's list lacks them. */
	CHECK(!addr_listed(1, &a4, NULL));
	/* The count is the total even with no room to store it. */
	CHECK(wgx_nl_addr_list(&nl, tun0.ifindex, AF_INET, NULL, 0) == 1);
	CHECK(wgx_nl_addr_list(&nl, tun0.ifindex, AF_INET, &one, 1) == 1);
	CHECK(one.prefix == 24 && !memcmp(one.addr, a4.addr, 4));
	CHECK(wgx_nl_addr_list(&nl, 0, AF_UNSPEC, NULL, 0) >= 3);
	CHECK(wgx_nl_addr_list(&nl, 0, 99, NULL, 0) == -EAFNOSUPPORT);
	CHECK(sh_has("ip -o addr show dev " TUN0, "inet 10.77.0.1/24"));
	CHECK(sh_has("ip -o addr show dev " TUN0, "inet6 fd77::1/64"));
	/* Not tentative means bindable at once: what NODAD is for. */
	memcpy(&sin6.sin6_addr, a6.addr, 16);
	fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	CHECK(fd >= 0);
	CHECK(bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)) == 0);
	close(fd);
}

/* Send one datagram to a peer address behind the TUN (all in this netns). */
static void test_packet(void)
{
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_port = htons(51820) };
	struct pollfd pfd = { .fd = tun0.fds ? tun0.fds[0] : -1,
			      .events = POLLIN };
	uint8_t pkt[2048];
	ssize_t n = -1;
	int fd;

	inet_pton(AF_INET, "10.77.0.2", &to.sin_addr);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	CHECK(fd >= 0);
	CHECK(sendto(fd, "wgx", 3, 0, (struct sockaddr *)&to, sizeof(to)) == 3);
	close(fd);
	/* Skip anything else the kernel sends (IPv6 router solicitations). */
	for (int i = 0; i < 10 && poll(&pfd, 1, 1000) == 1; i++) {
		n = read(pfd.fd, pkt, sizeof(pkt));
		if (n > 0 && (pkt[0] >> 4) == 4)
			break;
	}
	/* No PI header: the first byte is the IPv4 version and IHL. */
	CHECK(n == 20 + 8 + 3 && pkt[0] == 0x45 && pkt[9] == IPPROTO_UDP);
	CHECK(!memcmp(pkt + 16, &to.sin_addr, 4));
	CHECK(n == 31 && !memcmp(pkt + 28, "wgx", 3));
}

static void test_routes(void)
{
	struct wgx_nl_route r4 = route(AF_INET, "10.78.0.0", 16);
	struct wgx_nl_route r6 = route(AF_INET6, "fd78::", 48);

	CHECK(wgx_nl_route_add(&nl, &r4, WGX_NL_ROUTE_ADD) == 0);
	CHECK(wgx_nl_route_add(&nl, &r6, WGX_NL_ROUTE_ADD) == 0);
	CHECK(route_listed(&r4, 0) == 0);
	CHECK(route_listed(&r6, 0) == 1024);
	CHECK(route_listed(&r4, RT_TABLE_MAIN) == 0);
	CHECK(route_listed(&r4, 100) == -1);
	/* Exactly what `ip route add P dev D` makes (proto boot is implied). */
	CHECK(sh_has("ip -4 -o route show dev " TUN0,
		     "10.78.0.0/16 scope link"));
	CHECK(sh_has("ip -6 -o route show dev " TUN0, "fd78::/48 metric 1024"));
}

static void test_route_exists(void)
{
	struct wgx_nl_route r4 = route(AF_INET, "10.78.0.0", 16);
	struct wgx_nl_route r6 = route(AF_INET6, "fd78::", 48);

	CHECK(wgx_nl_route_add(&nl, &r4, WGX_NL_ROUTE_ADD) == -EEXIST);
	CHECK(wgx_nl_route_add(&nl, &r6, WGX_NL_ROUTE_ADD) == -EEXIST);
	CHECK(wgx_nl_route_add(&nl, &r4, WGX_NL_ROUTE_REPLACE) == 0);
	CHECK(wgx_nl_route_add(&nl, &r6, WGX_NL_ROUTE_REPLACE) == 0);
	CHECK(route_listed(&r4, 0) == 0 && route_listed(&r6, 0) == 1024);
}

static void test_route_table_metric(void)
{
	struct wgx_nl_route r4 = route(AF_INET, "10.80.1.2", 24);
	struct wgx_nl_route r6 = route(AF_INET6, "fd80::", 64);

	r4.table = r6.table = 100;
	r4.metric = 7;
	r6.metric = 9;
	/* Host bits (10.80.1.2/24) are cleared: it becomes 10.80.1.0/24. */
	CHECK(wgx_nl_route_add(&nl, &r4, WGX_NL_ROUTE_ADD) == 0);
	CHECK(wgx_nl_route_add(&nl, &r6, WGX_NL_ROUTE_ADD) == 0);
	r4.dst[3] = 0;
	CHECK(route_listed(&r4, 100) == 7 && route_listed(&r6, 100) == 9);
	CHECK(route_listed(&r4, 0) == -1 && route_listed(&r6, 0) == -1);
	CHECK(sh_has("ip -4 -o route show table 100",
		     "10.80.1.0/24 dev " TUN0 " scope link metric 7"));
	/* A different metric is a different route. */
	r4.metric = 8;
	CHECK(wgx_nl_route_add(&nl, &r4, WGX_NL_ROUTE_ADD) == 0);
	CHECK(wgx_nl_route_del(&nl, &r4) == 0);
	r4.metric = 7;
	CHECK(wgx_nl_route_del(&nl, &r4) == 0);
	CHECK(wgx_nl_route_del(&nl, &r6) == 0);
	CHECK(route_listed(&r4, 100) == -1 && route_listed(&r6, 100) == -1);
	/* Tables past 255 travel in RTA_TABLE only. */
	r4.table = 1000;
	CHECK(wgx_nl_route_add(&nl, &r4, WGX_NL_ROUTE_ADD) == 0);
	CHECK(route_listed(&r4, 1000) == 7);
	CHECK(wgx_nl_route_del(&nl, &r4) == 0);
}

static void test_route_del(void)
{
	struct wgx_nl_route r4 = route(AF_INET, "10.78.0.0", 16);
	struct wgx_nl_route r6 = route(AF_INET6, "fd78::", 48);

	CHECK(wgx_nl_route_del(&nl, &r4) == 0);
	CHECK(wgx_nl_route_del(&nl, &r6) == 0);
	CHECK(route_listed(&r4, 0) == -1 && route_listed(&r6, 0) == -1);
	CHECK(wgx_nl_route_del(&nl, &r4) == -ESRCH);
	CHECK(wgx_nl_route_del(&nl, &r6) == -ESRCH);
	CHECK(!sh_has("ip -4 -o route show dev " TUN0, "10.78.0.0/16"));
}

static void test_bad_input(void)
{
	struct wgx_nl_route r = route(AF_INET, "10.78.0.0", 16);
	struct wgx_nl_addr a = addr(AF_INET, "10.81.0.1", 24);

	r.prefix = 33;
	CHECK(wgx_nl_route_add(&nl, &r, WGX_NL_ROUTE_ADD) == -EINVAL);
	r.prefix = 16;
	r.family = 0;
	CHECK(wgx_nl_route_add(&nl, &r, WGX_NL_ROUTE_ADD) == -EINVAL);
	r.family = AF_INET;
	r.ifindex = 0;
	CHECK(wgx_nl_route_add(&nl, &r, WGX_NL_ROUTE_ADD) == -ENODEV);
	r.ifindex = 999999;
	CHECK(wgx_nl_route_add(&nl, &r, WGX_NL_ROUTE_ADD) == -ENODEV);
	a.prefix = 40;
	CHECK(wgx_nl_addr_add(&nl, &a) == -EINVAL);
	a.prefix = 24;
	a.ifindex = 999999;
	CHECK(wgx_nl_addr_add(&nl, &a) == -ENODEV);
	CHECK(wgx_nl_link_set_mtu(&nl, 999999, 1420) == -ENODEV);
	CHECK(wgx_nl_link_get(&nl, 0, "nosuchlink",
			      &(struct wgx_nl_link){ 0 }) == -ENODEV);
	/* The kernel's extended ACK explains a rejected MTU. */
	CHECK(wgx_nl_link_set_mtu(&nl, tun0.ifindex, 100000) == -EINVAL);
	CHECK(nl.err_msg[0] != '\0');
	CHECK(wgx_nl_link_set_mtu(&nl, tun0.ifindex, 1420) == 0);
	CHECK(nl.err_msg[0] == '\0');
}

struct events {
	int added, removed;
	struct wgx_nl_addr want;
};

static void on_addr(void *ctx, bool added, const struct wgx_nl_addr *a)
{
	struct events *e = ctx;

	if (a->ifindex != e->want.ifindex || a->family != e->want.family ||
	    a->prefix != e->want.prefix || memcmp(a->addr, e->want.addr, 4))
		return;
	if (added)
		e->added++;
	else
		e->removed++;
}

/* Drain the watch until cond holds or a second passes. */
static void wait_events(int fd, struct events *e, const int *counter)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	for (int i = 0; i < 10 && !*counter; i++) {
		if (poll(&pfd, 1, 100) < 0)
			break;
		CHECK(wgx_nl_addr_watch_read(fd, on_addr, e) >= 0);
	}
}

static void test_addr_watch(void)
{
	struct events e = { .want = addr(AF_INET, "10.79.0.1", 32) };
	int fd = wgx_nl_addr_watch_open();

	CHECK(fd >= 0);
	if (fd < 0)
		return;
	CHECK(fcntl(fd, F_GETFL) & O_NONBLOCK);
	CHECK(wgx_nl_addr_watch_read(fd, on_addr, &e) == 0);
	CHECK(wgx_nl_addr_add(&nl, &e.want) == 0);
	wait_events(fd, &e, &e.added);
	CHECK(e.added == 1 && e.removed == 0);
	CHECK(wgx_nl_addr_del(&nl, &e.want) == 0);
	wait_events(fd, &e, &e.removed);
	CHECK(e.added == 1 && e.removed == 1);
	close(fd);
}

static void test_addr_del(void)
{
	struct wgx_nl_addr a4 = addr(AF_INET, "10.77.0.1", 24);
	struct wgx_nl_addr a6 = addr(AF_INET6, "fd77::1", 64);

	CHECK(wgx_nl_addr_del(&nl, &a4) == 0);
	CHECK(wgx_nl_addr_del(&nl, &a6) == 0);
	CHECK(!addr_listed(tun0.ifindex, &a4, NULL));
	CHECK(!addr_listed(tun0.ifindex, &a6, NULL));
	CHECK(wgx_nl_addr_del(&nl, &a4) == -EADDRNOTAVAIL);
}

static void test_close_removes(void)
{
	enum wgx_tun_state st = WGX_TUN_BUSY;

	wgx_tun_close(&tun0);
	CHECK(tun0.fds == NULL && tun0.queues == 0);
	CHECK(gone(TUN0));
	CHECK(wgx_tun_probe(TUN0, &st) == 0 && st == WGX_TUN_ABSENT);
	CHECK(wgx_tun_is_tun(TUN0) == -ENODEV);
	CHECK(wgx_tun_delete(TUN0) == -ENODEV);
}

static void test_foreign(void)
{
	enum wgx_tun_state st = WGX_TUN_ABSENT;
	struct wgx_tun t;

	/* A dummy if the module is there, else a veth pair. */
	CHECK(sh_ok("ip link add wgxd0 type dummy 2>/dev/null || "
		    "ip link add wgxd0 type veth peer name wgxd1"));
	CHECK(wgx_tun_exists("wgxd0"));
	CHECK(wgx_tun_is_tun("wgxd0") == 0);
	CHECK(wgx_tun_probe("wgxd0", &st) == 0 && st == WGX_TUN_FOREIGN);
	CHECK(wgx_tun_create(&t, "wgxd0", 1, WGX_TUN_RECLAIM) == -EEXIST);
	CHECK(wgx_tun_delete("wgxd0") == -EMEDIUMTYPE);
	CHECK(wgx_tun_exists("wgxd0"));
	CHECK(sh_ok("ip link del wgxd0"));
	CHECK(gone("wgxd0"));
	/* A TAP is a tun-driver device but not a TUN. */
	CHECK(sh_ok("ip tuntap add wgxtap0 mode tap"));
	CHECK(wgx_tun_is_tun("wgxtap0") == 0);
	CHECK(wgx_tun_probe("wgxtap0", &st) == 0 && st == WGX_TUN_FOREIGN);
	CHECK(wgx_tun_create(&t, "wgxtap0", 1, WGX_TUN_RECLAIM) == -EEXIST);
	CHECK(sh_ok("ip link del wgxtap0"));
}

static void test_stale(void)
{
	enum wgx_tun_state st = WGX_TUN_ABSENT;
	struct wgx_nl_link l;
	struct wgx_tun t;

	/* Persistent with nobody attached: what a crash could leave. */
	CHECK(sh_ok("ip tuntap add wgxst0 mode tun"));
	CHECK(sh_ok("ip tuntap add wgxst1 mode tun multi_queue"));
	CHECK(wgx_tun_probe("wgxst0", &st) == 0 && st == WGX_TUN_STALE);
	CHECK(wgx_tun_probe("wgxst1", &st) == 0 && st == WGX_TUN_STALE);
	CHECK(wgx_tun_create(&t, "wgxst0", 1, 0) == -EEXIST);
	CHECK(wgx_tun_exists("wgxst0"));
	CHECK(wgx_tun_create(&t, "wgxst0", 1, WGX_TUN_RECLAIM) == 0);
	CHECK(t.reclaimed && t.ifindex > 0);
	CHECK(wgx_nl_link_get(&nl, 0, "wgxst0", &l) == 0 && !l.tun.persist);
	wgx_tun_close(&t);
	CHECK(gone("wgxst0"));
	CHECK(wgx_tun_create(&t, "wgxst1", 2, WGX_TUN_RECLAIM) == 0);
	CHECK(t.reclaimed && t.queues == 2);
	wgx_tun_close(&t);
	CHECK(gone("wgxst1"));
	/* wgx_tun_delete removes a stale TUN too. */
	CHECK(sh_ok("ip tuntap add wgxst2 mode tun"));
	CHECK(wgx_tun_delete("wgxst2") == 0);
	CHECK(gone("wgxst2"));
}

static void test_multi_queue(void)
{
	enum wgx_tun_state st = WGX_TUN_ABSENT;
	struct wgx_nl_link l;
	struct wgx_tun t;

	CHECK(wgx_tun_create(&t, "wgxmq0", 2, 0) == 0);
	if (!t.fds)
		return;
	CHECK(t.queues == 2 && t.fds[0] >= 0 && t.fds[1] >= 0);
	CHECK(t.fds[0] != t.fds[1]);
	for (int q = 0; q < 2; q++) {
		int flags = tun_ifr_flags(t.fds[q]);

		CHECK(flags >= 0 && (flags & IFF_MULTI_QUEUE));
		CHECK((flags & IFF_TUN) && (flags & IFF_NO_PI));
		CHECK(fd_nonblock_cloexec(t.fds[q]));
	}
	CHECK(wgx_nl_link_get(&nl, t.ifindex, NULL, &l) == 0);
	CHECK(l.tun.multi_queue && l.tun.queues == 2);
	CHECK(wgx_tun_probe("wgxmq0", &st) == 0 && st == WGX_TUN_BUSY);
	/* Joining a live multi-queue TUN is refused too. */
	CHECK(wgx_tun_create(&(struct wgx_tun){ 0 }, "wgxmq0", 2, 0) == -EBUSY);
	wgx_tun_close(&t);
	CHECK(gone("wgxmq0"));
	/* One queue, multi-queue on request. */
	CHECK(wgx_tun_create(&t, "wgxmq1", 1, WGX_TUN_MULTI_QUEUE) == 0);
	CHECK(t.fds && tun_ifr_flags(t.fds[0]) & IFF_MULTI_QUEUE);
	wgx_tun_close(&t);
	CHECK(gone("wgxmq1"));
}

static void test_bad_queues(void)
{
	struct wgx_tun t;

	CHECK(wgx_tun_create(&t, "wgxq0", 0, 0) == -EINVAL);
	CHECK(wgx_tun_create(&t, "wgxq0", WGX_TUN_MAX_QUEUES + 1, 0) ==
	      -EINVAL);
	CHECK(!wgx_tun_exists("wgxq0"));
}

/*
 * VNET_HDR: the offloads are on (ethtool, where installed, shows TSO on
 * the device) and every read starts with the 10-byte virtio header.
 */
static void test_vnet_hdr(void)
{
	struct wgx_tun t;
	struct wgx_nl_addr a = { .family = AF_INET, .prefix = 24 };
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_port = htons(51820) };
	uint8_t pkt[70000];
	struct pollfd pfd;
	ssize_t n = -1;
	int fd, flags;

	CHECK(wgx_tun_create(&t, "wgxv0", 1, WGX_TUN_VNET_HDR) == 0);
	if (!t.fds)
		return;
	flags = tun_ifr_flags(t.fds[0]);
	CHECK(flags >= 0 && (flags & IFF_VNET_HDR) && (flags & IFF_NO_PI));
	CHECK(t.vnet_hdr);
	CHECK((t.offloads & (TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6)) ==
	      (TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6));
	CHECK(sh_has("ethtool -k wgxv0 2>/dev/null || echo tcp-segmentation-"
		     "offload: on",
		     "tcp-segmentation-offload: on"));
	a.ifindex = t.ifindex;
	inet_pton(AF_INET, "10.79.0.1", a.addr);
	CHECK(wgx_nl_link_set_up(&nl, t.ifindex, true) == 0);
	CHECK(wgx_nl_addr_add(&nl, &a) == 0);
	/* A UDP datagram: a zero or checksum-only header, then bare IPv4. */
	inet_pton(AF_INET, "10.79.0.2", &to.sin_addr);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	CHECK(fd >= 0);
	CHECK(sendto(fd, "wgx", 3, 0, (struct sockaddr *)&to, sizeof(to)) == 3);
	close(fd);
	pfd = (struct pollfd){ .fd = t.fds[0], .events = POLLIN };
	for (int i = 0; i < 10 && poll(&pfd, 1, 1000) == 1; i++) {
		n = read(pfd.fd, pkt, sizeof(pkt));
		if (n > 10 && (pkt[10] >> 4) == 4)
			break;
	}
	CHECK(n == 10 + 31 && pkt[10] == 0x45 && pkt[1] == 0);
	CHECK(!memcmp(pkt + 10 + 28, "wgx", 3));
	wgx_tun_close(&t);
	CHECK(gone("wgxv0"));
}

static void test_nothing_left(void)
{
	CHECK(!sh_has("ip -o link show", "wgx"));
	CHECK(!sh_has("ip -o route show table all", "10.7"));
}

static const struct {
	const char *name;
	void (*fn)(void);
} tests[] = {
	{ "tun: bad interface names are rejected", test_bad_names },
	{ "tun: create gives a non-blocking close-on-exec TUN fd",
	  test_create },
	{ "tun: creating a live TUN's name again is -EBUSY", test_busy },
	{ "tun: set MTU 1420 and read it back", test_mtu },
	{ "tun: bring the link up and down", test_up_down },
	{ "tun: add IPv4 and IPv6 addresses, duplicates -EEXIST",
	  test_addr_add },
	{ "tun: bring the link up with its addresses", test_up },
	{ "tun: list finds the addresses, IPv6 usable at once",
	  test_addr_list },
	{ "tun: a packet routed into the TUN is read as bare IP", test_packet },
	{ "tun: IPv4 and IPv6 routes added and read back", test_routes },
	{ "tun: duplicate route is -EEXIST, replace accepted",
	  test_route_exists },
	{ "tun: routes in table 100 and 1000 with a metric",
	  test_route_table_metric },
	{ "tun: routes deleted, deleting again is -ESRCH", test_route_del },
	{ "tun: bad input and the kernel's errors", test_bad_input },
	{ "tun: address watch reports add and delete", test_addr_watch },
	{ "tun: addresses deleted", test_addr_del },
	{ "tun: closing the fd removes the TUN", test_close_removes },
	{ "tun: dummy and TAP interfaces are not TUNs", test_foreign },
	{ "tun: stale persistent TUNs are detected and reclaimed", test_stale },
	{ "tun: multi-queue with 2 queues", test_multi_queue },
	{ "tun: bad queue counts refused", test_bad_queues },
	{ "tun: VNET_HDR with offloads, reads carry a virtio header",
	  test_vnet_hdr },
	{ "tun: nothing left behind", test_nothing_left },
};

int main(void)
{
	unsigned int passed = 0, failed = 0;
	int r;

	setvbuf(stdout, NULL, _IOLBF, 0);
	r = wgx_nl_open(&nl);
	if (r < 0) {
		fprintf(stderr, "Couldn't open rtnetlink: %s\n", strerror(-r));
		printf("0 passed, 1 failed\n");
		return 1;
	}
	for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		failures = 0;
		tests[i].fn();
		printf("%s %s\n", failures ? "FAIL" : "PASS", tests[i].name);
		if (failures)
			failed++;
		else
			passed++;
	}
	wgx_tun_close(&tun0);
	wgx_nl_close(&nl);
	printf("%u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}
