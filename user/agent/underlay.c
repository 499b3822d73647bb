// SPDX-License-Identifier: MIT
/* What happens to the underlay, said in the log (underlay.h). */
#include "agent/underlay.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util/log.h"

enum {
	/* IPv4 or IPv6, UDP, and WireGuard's data header and tag. */
	OVERHEAD4 = 20 + 8 + 16 + 16,
	OVERHEAD6 = 40 + 8 + 16 + 16,
};

uint32_t wgx_underlay_need(uint32_t tun_mtu, bool ipv6)
{
	return tun_mtu + (ipv6 ? OVERHEAD6 : OVERHEAD4);
}

static bool link_up(uint32_t flags)
{
	return (flags & IFF_UP) && (flags & IFF_RUNNING);
}

static void say_mtu(const struct wgx_underlay *u)
{
	uint32_t need4 = wgx_underlay_need(u->tun_mtu, false),
		 need6 = wgx_underlay_need(u->tun_mtu, true);

	if (u->mtu < need4)
		wgx_log_warn("Underlay %s MTU is now %u, below the %u bytes a "
			     "full packet of the tunnel (MTU %u) needs over "
			     "IPv4 (%u over IPv6): larger packets are dropped "
			     "(set MTU = %u in the config and re-attach, or "
			     "raise the underlay's MTU)",
			     u->name, u->mtu, need4, u->tun_mtu, need6,
			     u->mtu > OVERHEAD6 ? u->mtu - OVERHEAD6 : 0);
	else if (u->mtu < need6)
		wgx_log_warn("Underlay %s MTU is now %u: enough for the "
			     "tunnel over IPv4, not for its full packets over "
			     "IPv6 (%u bytes)",
			     u->name, u->mtu, need6);
	else
		wgx_log_info("Underlay %s MTU is now %u", u->name, u->mtu);
}

static void on_link(struct wgx_underlay *u, const struct nlmsghdr *nh)
{
	struct wgx_nl_link l;
	bool up;

	if (nh->nlmsg_type == RTM_DELLINK) {
		const struct ifinfomsg *ifi = NLMSG_DATA(nh);

		if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)) ||
		    ifi->ifi_index != u->ifindex || u->gone)
			return;
		u->gone = true;
		wgx_log_error("Underlay %s was deleted: nothing reaches the "
			      "peers any more (detach, then attach to another "
			      "interface)",
			      u->name);
		return;
	}
	if (wgx_nl_link_parse(nh, &l) != 1 || l.ifindex != u->ifindex)
		return;
	up = link_up(l.flags);
	if (up != u->up) {
		u->up = up;
		if (up)
			wgx_log_info("Underlay %s is up again: the tunnel "
				     "sends again",
				     u->name);
		else
			wgx_log_warn("Underlay %s is down: the tunnel's "
				     "packets cannot leave until it is up "
				     "again",
				     u->name);
	}
	if (l.mtu && l.mtu != u->mtu) {
		u->mtu = l.mtu;
		say_mtu(u);
	}
}

static void on_addr(void *ctx, bool added, const struct wgx_nl_addr *a)
{
	struct wgx_underlay *u = ctx;
	char text[INET6_ADDRSTRLEN] = "?";

	/* Link-local addresses come and go with the link: not news. */
	if (a->ifindex != u->ifindex || a->scope == RT_SCOPE_LINK)
		return;
	inet_ntop(a->family, a->addr, text, sizeof(text));
	if (added)
		wgx_log_info("Underlay %s has a new address %s: peers learn it "
			     "from the next packet the tunnel sends",
			     u->name, text);
	else
		wgx_log_info("Underlay %s lost address %s: peers that sent "
			     "there find the tunnel at the address of its next "
			     "packet",
			     u->name, text);
}

void wgx_underlay_events(struct wgx_underlay *u, const void *buf, size_t len)
{
	const struct nlmsghdr *nh = buf;
	int left = len > INT32_MAX ? INT32_MAX : (int)len;

	for (; mnl_nlmsg_ok(nh, left); nh = mnl_nlmsg_next(nh, &left))
		if (nh->nlmsg_type == RTM_NEWLINK ||
		    nh->nlmsg_type == RTM_DELLINK)
			on_link(u, nh);
	/* Addresses: the parser walks the datagram again for its kind. */
	wgx_nl_addr_parse(buf, len, on_addr, u);
}

void wgx_underlay_changed(struct wgx_underlay *u)
{
	char buf[16384] __attribute__((aligned(NLMSG_ALIGNTO)));

	for (;;) {
		ssize_t n = recv(u->fd, buf, sizeof(buf), 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == ENOBUFS) {
			wgx_log_debug("Underlay events overflowed: some were "
				      "lost");
			continue;
		}
		if (n <= 0)
			return;
		wgx_underlay_events(u, buf, (size_t)n);
	}
}

int wgx_underlay_open(struct wgx_underlay *u, const char *iface,
		      uint32_t tun_mtu)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK,
				  .nl_groups = RTMGRP_LINK |
					       RTMGRP_IPV4_IFADDR |
					       RTMGRP_IPV6_IFADDR };
	struct wgx_nl nl = { 0 };
	struct wgx_nl_link l;
	int err;

	memset(u, 0, sizeof(*u));
	u->fd = -1;
	u->tun_mtu = tun_mtu;
	snprintf(u->name, sizeof(u->name), "%s", iface);
	err = wgx_nl_open(&nl);
	if (!err)
		err = wgx_nl_link_get(&nl, 0, iface, &l);
	wgx_nl_close(&nl);
	if (err)
		goto fail;
	u->ifindex = l.ifindex;
	u->mtu = l.mtu;
	u->up = link_up(l.flags);
	u->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
		       NETLINK_ROUTE);
	if (u->fd < 0 || bind(u->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = -errno;
		goto fail;
	}
	if (u->mtu < wgx_underlay_need(tun_mtu, false))
		say_mtu(u);
	return 0;
fail:
	wgx_log_warn("Couldn't watch underlay %s (%s): its changes go "
		     "unreported",
		     iface, strerror(-err));
	wgx_underlay_close(u);
	return err;
}

void wgx_underlay_close(struct wgx_underlay *u)
{
	if (u->fd >= 0)
		close(u->fd);
	u->fd = -1;
}
