// SPDX-License-Identifier: MIT
/*
 * Parsing of address notifications (wgx_nl_addr_parse), fed hand-built
 * rtnetlink datagrams: good ones, and cut or malformed ones that must give
 * -EBADMSG without reading past the buffer. The socket side is exercised
 * against the kernel by tests/netns/tun_test.c.
 */
#include "test.h"

#include <errno.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include "agent/netlink.h"

struct dgram {
	union {
		struct nlmsghdr align;
		uint8_t buf[1024];
	};
	size_t len;
	struct nlmsghdr *cur;
};

static void msg_start(struct dgram *d, uint16_t type, uint8_t family,
		      uint8_t prefix, uint32_t ifindex)
{
	struct ifaddrmsg *ifa;

	d->len = NLMSG_ALIGN(d->len);
	d->cur = (struct nlmsghdr *)(d->buf + d->len);
	memset(d->cur, 0, NLMSG_SPACE(sizeof(*ifa)));
	d->cur->nlmsg_type = type;
	d->cur->nlmsg_len = NLMSG_LENGTH(sizeof(*ifa));
	ifa = NLMSG_DATA(d->cur);
	ifa->ifa_family = family;
	ifa->ifa_prefixlen = prefix;
	ifa->ifa_index = ifindex;
	ifa->ifa_flags = IFA_F_PERMANENT;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	d->len += d->cur->nlmsg_len;
}

static void msg_attr(struct dgram *d, uint16_t type, const void *data, size_t n)
{
	struct rtattr *rta = (struct rtattr *)((uint8_t *)d->cur +
					       NLMSG_ALIGN(d->cur->nlmsg_len));

	rta->rta_type = type;
	rta->rta_len = RTA_LENGTH(n);
	memcpy(RTA_DATA(rta), data, n);
	d->cur->nlmsg_len = NLMSG_ALIGN(d->cur->nlmsg_len) + RTA_SPACE(n);
	d->len = (size_t)((uint8_t *)d->cur - d->buf) + d->cur->nlmsg_len;
}

struct seen {
	int count, added;
	struct wgx_nl_addr last;
};

static void on_addr(void *ctx, bool added, const struct wgx_nl_addr *a)
{
	struct seen *s = ctx;

	s->count++;
	s->added += added;
	s->last = *a;
}

static const uint8_t v4_local[4] = { 10, 0, 0, 1 };
static const uint8_t v4_peer[4] = { 10, 0, 0, 2 };
static const uint8_t v6[16] = { 0xfd, 0x77, [15] = 1 };

static void test_netlink_parse_v4(void)
{
	struct dgram d = { .len = 0 };
	struct seen s = { 0 };

	msg_start(&d, RTM_NEWADDR, AF_INET, 24, 7);
	/* Point-to-point: IFA_ADDRESS is the peer, IFA_LOCAL ours. */
	msg_attr(&d, IFA_ADDRESS, v4_peer, 4);
	msg_attr(&d, IFA_LOCAL, v4_local, 4);
	CHECK(wgx_nl_addr_parse(d.buf, d.len, on_addr, &s) == 1);
	CHECK(s.count == 1 && s.added == 1);
	CHECK(s.last.ifindex == 7 && s.last.family == AF_INET);
	CHECK(s.last.prefix == 24 && s.last.flags == IFA_F_PERMANENT);
	CHECK_MEM(s.last.addr, v4_local, 4);
}

static void test_netlink_parse_v6_del(void)
{
	struct dgram d = { .len = 0 };
	struct seen s = { 0 };
	uint32_t flags = IFA_F_NODAD | IFA_F_NOPREFIXROUTE;

	msg_start(&d, RTM_DELADDR, AF_INET6, 64, 3);
	msg_attr(&d, IFA_ADDRESS, v6, 16);
	/* IFA_FLAGS carries flags above bit 7 and wins over ifa_flags. */
	msg_attr(&d, IFA_FLAGS, &flags, 4);
	CHECK(wgx_nl_addr_parse(d.buf, d.len, on_addr, &s) == 1);
	CHECK(s.count == 1 && s.added == 0);
	CHECK(s.last.family == AF_INET6 && s.last.prefix == 64);
	CHECK(s.last.flags == flags && s.last.ifindex == 3);
	CHECK_MEM(s.last.addr, v6, 16);
}

static void test_netlink_parse_batch(void)
{
	struct dgram d = { .len = 0 };
	struct seen s = { 0 };

	msg_start(&d, RTM_NEWADDR, AF_INET, 32, 1);
	msg_attr(&d, IFA_LOCAL, v4_local, 4);
	/* Messages that are not address events are skipped. */
	msg_start(&d, RTM_NEWLINK, AF_UNSPEC, 0, 1);
	msg_start(&d, RTM_NEWADDR, AF_PACKET, 0, 1);
	msg_start(&d, RTM_NEWADDR, AF_INET6, 128, 2);
	msg_attr(&d, IFA_ADDRESS, v6, 16);
	CHECK(wgx_nl_addr_parse(d.buf, d.len, on_addr, &s) == 2);
	CHECK(s.count == 2 && s.added == 2 && s.last.ifindex == 2);
	CHECK(wgx_nl_addr_parse(d.buf, 0, on_addr, &s) == 0);
	CHECK(s.count == 2);
}

static void test_netlink_parse_cut(void)
{
	struct dgram d = { .len = 0 };
	struct seen s = { 0 };
	size_t full;

	msg_start(&d, RTM_NEWADDR, AF_INET, 24, 7);
	msg_attr(&d, IFA_LOCAL, v4_local, 4);
	full = d.len;
	/* Every shorter length is a cut datagram. */
	for (size_t len = 1; len < full; len++) {
		s.count = 0;
		CHECK(wgx_nl_addr_parse(d.buf, len, on_addr, &s) == -EBADMSG);
		CHECK(s.count == 0);
	}
	/* Junk after a good message. */
	CHECK(wgx_nl_addr_parse(d.buf, full + 8, on_addr, &s) == -EBADMSG);
}

static void test_netlink_parse_malformed(void)
{
	struct dgram d = { .len = 0 };
	struct seen s = { 0 };

	/* An IPv4 address 16 bytes long. */
	msg_start(&d, RTM_NEWADDR, AF_INET, 24, 7);
	msg_attr(&d, IFA_LOCAL, v6, 16);
	CHECK(wgx_nl_addr_parse(d.buf, d.len, on_addr, &s) == -EBADMSG);
	/* No address at all. */
	d.len = 0;
	msg_start(&d, RTM_NEWADDR, AF_INET6, 64, 7);
	CHECK(wgx_nl_addr_parse(d.buf, d.len, on_addr, &s) == -EBADMSG);
	/* A header claiming less than a header. */
	d.cur->nlmsg_len = 8;
	CHECK(wgx_nl_addr_parse(d.buf, d.len, on_addr, &s) == -EBADMSG);
	/* A header claiming more than the datagram. */
	d.cur->nlmsg_len = (uint32_t)d.len + 4;
	CHECK(wgx_nl_addr_parse(d.buf, d.len, on_addr, &s) == -EBADMSG);
	/* An address message too short for its ifaddrmsg. */
	d.cur->nlmsg_len = NLMSG_HDRLEN + 2;
	CHECK(wgx_nl_addr_parse(d.buf, NLMSG_HDRLEN + 2, on_addr, &s) ==
	      -EBADMSG);
	CHECK(s.count == 0);
}

static void test_netlink_bad_handle_args(void)
{
	/* Rejected before any socket is touched. */
	struct wgx_nl nl = { .sock = NULL };
	struct wgx_nl_route r = { .family = AF_INET,
				  .prefix = 33,
				  .ifindex = 1 };
	struct wgx_nl_addr a = { .family = AF_INET6,
				 .prefix = 129,
				 .ifindex = 1 };

	CHECK(wgx_nl_route_add(&nl, &r, WGX_NL_ROUTE_ADD) == -EINVAL);
	r.prefix = 8;
	r.family = AF_UNIX;
	CHECK(wgx_nl_route_del(&nl, &r) == -EINVAL);
	r.family = AF_INET6;
	r.ifindex = 0;
	CHECK(wgx_nl_route_add(&nl, &r, WGX_NL_ROUTE_REPLACE) == -ENODEV);
	CHECK(wgx_nl_addr_add(&nl, &a) == -EINVAL);
	a.prefix = 64;
	a.ifindex = -1;
	CHECK(wgx_nl_addr_del(&nl, &a) == -ENODEV);
	CHECK(wgx_nl_link_set_mtu(&nl, 0, 1420) == -ENODEV);
	CHECK(wgx_nl_link_del(&nl, -3) == -ENODEV);
	CHECK(wgx_nl_addr_list(&nl, 0, AF_UNIX, NULL, 0) == -EAFNOSUPPORT);
	CHECK(wgx_nl_link_index("") == -ENODEV);
	CHECK(wgx_nl_link_index(NULL) == -ENODEV);
	CHECK(wgx_nl_link_index("0123456789abcdef") == -ENODEV);
	CHECK(!wgx_nl_link_exists("no/such"));
}

static const struct wgx_test netlink_tests[] = {
	{ "netlink: IPv4 event prefers IFA_LOCAL", test_netlink_parse_v4 },
	{ "netlink: IPv6 delete event with IFA_FLAGS",
	  test_netlink_parse_v6_del },
	{ "netlink: several messages in one datagram",
	  test_netlink_parse_batch },
	{ "netlink: cut datagrams are -EBADMSG", test_netlink_parse_cut },
	{ "netlink: malformed address messages are -EBADMSG",
	  test_netlink_parse_malformed },
	{ "netlink: bad arguments refused before the kernel",
	  test_netlink_bad_handle_args },
};

WGX_SUITE(netlink_tests)
