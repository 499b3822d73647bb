// SPDX-License-Identifier: MIT
/*
 * Parsing of address notifications (wgx_nl_addr_parse), fed hand-built
 * rtnetlink datagrams: good ones, and cut or malformed ones that must give
 * -EBADMSG without reading past the buffer. Then the framing underneath:
 * route requests as built, and route, link and ack answers (built here
 * with libmnl) as parsed. The socket side is exercised against the kernel
 * by tests/netns/tun_test.c and tunnel_routes.c.
 */
#include "test.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/if_tun.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
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

/* ---- framing: requests built, answers parsed ---- */

/* The attribute of type in a message, after a header of hdr bytes. */
static const struct nlattr *find_attr(const struct nlmsghdr *nh, size_t hdr,
				      uint16_t type)
{
	const struct nlattr *a;

	mnl_attr_for_each(a, nh,
			  hdr) if (mnl_attr_get_type(a) == type) return a;
	return NULL;
}

static void test_netlink_route_msg(void)
{
	char buf[256] __attribute__((aligned(4))) = { 0 };
	const struct nlmsghdr *nh = (const struct nlmsghdr *)buf;
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nh);
	const uint8_t want_dst[4] = { 10, 80, 1, 0 };
	struct wgx_nl_route r = { .family = AF_INET,
				  .prefix = 24,
				  .dst = { 10, 80, 1, 2 },
				  .ifindex = 7 };
	const struct nlattr *a;
	int len;

	len = wgx_nl_route_msg(buf, sizeof(buf), RTM_NEWROUTE,
			       NLM_F_CREATE | NLM_F_EXCL, &r);
	CHECK(len > 0 && (size_t)len == nh->nlmsg_len);
	CHECK(nh->nlmsg_type == RTM_NEWROUTE);
	CHECK(nh->nlmsg_flags ==
	      (NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL));
	/* `ip route add 10.80.1.0/24 dev D`: boot, link scope, main. */
	CHECK(rtm->rtm_family == AF_INET && rtm->rtm_dst_len == 24);
	CHECK(rtm->rtm_protocol == RTPROT_BOOT);
	CHECK(rtm->rtm_scope == RT_SCOPE_LINK);
	CHECK(rtm->rtm_type == RTN_UNICAST);
	CHECK(rtm->rtm_table == RT_TABLE_MAIN);
	/* Host bits cleared, as the kernel insists. */
	a = find_attr(nh, sizeof(*rtm), RTA_DST);
	CHECK(a && mnl_attr_get_payload_len(a) == 4);
	CHECK(a && !memcmp(mnl_attr_get_payload(a), want_dst, 4));
	a = find_attr(nh, sizeof(*rtm), RTA_OIF);
	CHECK(a && mnl_attr_get_u32(a) == 7);
	a = find_attr(nh, sizeof(*rtm), RTA_TABLE);
	CHECK(a && mnl_attr_get_u32(a) == RT_TABLE_MAIN);
	CHECK(!find_attr(nh, sizeof(*rtm), RTA_PRIORITY));

	/* A delete of our own: protocol and metric named; table 1000 only
	 * fits RTA_TABLE; /0 has no RTA_DST. */
	r.family = AF_INET6;
	r.prefix = 0;
	r.table = 1000;
	r.metric = 1024;
	r.protocol = RTPROT_BOOT;
	len = wgx_nl_route_msg(buf, sizeof(buf), RTM_DELROUTE, 0, &r);
	CHECK(len > 0);
	CHECK(nh->nlmsg_flags == (NLM_F_REQUEST | NLM_F_ACK));
	CHECK(rtm->rtm_family == AF_INET6 && rtm->rtm_dst_len == 0);
	CHECK(rtm->rtm_protocol == RTPROT_BOOT);
	CHECK(rtm->rtm_scope == RT_SCOPE_NOWHERE);
	CHECK(rtm->rtm_table == RT_TABLE_UNSPEC);
	CHECK(!find_attr(nh, sizeof(*rtm), RTA_DST));
	a = find_attr(nh, sizeof(*rtm), RTA_TABLE);
	CHECK(a && mnl_attr_get_u32(a) == 1000);
	a = find_attr(nh, sizeof(*rtm), RTA_PRIORITY);
	CHECK(a && mnl_attr_get_u32(a) == 1024);
	/* Too small a buffer is refused, never overrun. */
	r.prefix = 64;
	for (size_t size = 0; size < (size_t)len + 20; size++)
		CHECK(wgx_nl_route_msg(buf, size, RTM_NEWROUTE, 0, &r) ==
		      (size < (size_t)len + 20 ? -EMSGSIZE : len + 20));
	CHECK(wgx_nl_route_msg(buf, sizeof(buf), RTM_NEWROUTE, 0, &r) ==
	      len + 20);
}

/* An RTM_NEWROUTE as the kernel sends it in a dump. */
static struct nlmsghdr *route_reply(char *buf, uint8_t family, uint8_t len,
				    const void *dst, size_t dst_len)
{
	struct nlmsghdr *nh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nh, sizeof(*rtm));

	nh->nlmsg_type = RTM_NEWROUTE;
	rtm->rtm_family = family;
	rtm->rtm_dst_len = len;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_KERNEL;
	rtm->rtm_type = RTN_UNICAST;
	if (dst_len)
		mnl_attr_put(nh, RTA_DST, dst_len, dst);
	mnl_attr_put_u32(nh, RTA_TABLE, RT_TABLE_MAIN);
	mnl_attr_put_u32(nh, RTA_OIF, 9);
	mnl_attr_put_u32(nh, RTA_PRIORITY, 256);
	return nh;
}

static void test_netlink_route_parse(void)
{
	char buf[256] __attribute__((aligned(4)));
	struct wgx_nl_route r;
	struct nlmsghdr *nh;

	nh = route_reply(buf, AF_INET6, 64, v6, 16);
	CHECK(wgx_nl_route_parse(nh, &r) == 1);
	CHECK(r.family == AF_INET6 && r.prefix == 64 && r.ifindex == 9);
	CHECK(r.table == RT_TABLE_MAIN && r.metric == 256);
	CHECK(r.protocol == RTPROT_KERNEL && r.type == RTN_UNICAST);
	CHECK_MEM(r.dst, v6, 16);
	/* An IPv4 route with a 16-byte destination is malformed. */
	nh = route_reply(buf, AF_INET, 24, v6, 16);
	CHECK(wgx_nl_route_parse(nh, &r) == -EBADMSG);
	/* So is a prefix longer than the family's. */
	nh = route_reply(buf, AF_INET, 33, v4_local, 4);
	CHECK(wgx_nl_route_parse(nh, &r) == -EBADMSG);
	/* Another family (IPMR, 128) or message type: skipped. */
	nh = route_reply(buf, 128, 32, v4_local, 4);
	CHECK(wgx_nl_route_parse(nh, &r) == 0);
	nh = route_reply(buf, AF_INET, 32, v4_local, 4);
	nh->nlmsg_type = RTM_NEWADDR;
	CHECK(wgx_nl_route_parse(nh, &r) == 0);
	/* Too short for its rtmsg. */
	nh->nlmsg_type = RTM_NEWROUTE;
	nh->nlmsg_len = MNL_NLMSG_HDRLEN + 4;
	CHECK(wgx_nl_route_parse(nh, &r) == -EBADMSG);
}

static void test_netlink_link_parse(void)
{
	char buf[512] __attribute__((aligned(4)));
	struct nlmsghdr *nh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nh, sizeof(*ifi));
	struct nlattr *info, *data;
	struct wgx_nl_link l;

	nh->nlmsg_type = RTM_NEWLINK;
	ifi->ifi_index = 4;
	ifi->ifi_flags = IFF_UP | IFF_POINTOPOINT;
	mnl_attr_put_strz(nh, IFLA_IFNAME, "wg0");
	mnl_attr_put_u32(nh, IFLA_MTU, 1420);
	mnl_attr_put_u8(nh, IFLA_CARRIER, 1);
	info = mnl_attr_nest_start(nh, IFLA_LINKINFO);
	mnl_attr_put_strz(nh, IFLA_INFO_KIND, "tun");
	data = mnl_attr_nest_start(nh, IFLA_INFO_DATA);
	mnl_attr_put_u8(nh, IFLA_TUN_TYPE, IFF_TUN);
	mnl_attr_put_u8(nh, IFLA_TUN_MULTI_QUEUE, 1);
	mnl_attr_put_u32(nh, IFLA_TUN_NUM_QUEUES, 2);
	mnl_attr_put_u32(nh, IFLA_TUN_NUM_DISABLED_QUEUES, 1);
	/* A u32 where a u8 belongs is ignored, not misread. */
	mnl_attr_put_u32(nh, IFLA_TUN_PERSIST, 1);
	mnl_attr_nest_end(nh, data);
	mnl_attr_nest_end(nh, info);
	CHECK(wgx_nl_link_parse(nh, &l) == 1);
	CHECK(l.ifindex == 4 && (l.flags & IFF_UP) && l.mtu == 1420);
	CHECK(!strcmp(l.name, "wg0") && !strcmp(l.kind, "tun") && l.carrier);
	CHECK(l.tun.present && l.tun.type == IFF_TUN && l.tun.multi_queue);
	CHECK(l.tun.queues == 2 && l.tun.disabled_queues == 1);
	CHECK(!l.tun.persist);
	nh->nlmsg_type = RTM_NEWADDR;
	CHECK(wgx_nl_link_parse(nh, &l) == 0);
	nh->nlmsg_type = RTM_NEWLINK;
	nh->nlmsg_len = MNL_NLMSG_HDRLEN + 2;
	CHECK(wgx_nl_link_parse(nh, &l) == -EBADMSG);
}

static void test_netlink_ack_parse(void)
{
	char buf[256] __attribute__((aligned(4)));
	struct nlmsghdr *nh = mnl_nlmsg_put_header(buf);
	struct nlmsgerr *e = mnl_nlmsg_put_extra_header(nh, sizeof(*e));
	char msg[32];
	int *done;

	nh->nlmsg_type = NLMSG_ERROR;
	CHECK(wgx_nl_ack_parse(nh, msg, sizeof(msg)) == 0 && !msg[0]);
	/* A capped error with the kernel's reason (extended ACK). */
	e->error = -EEXIST;
	e->msg.nlmsg_len = 60;
	nh->nlmsg_flags = NLM_F_CAPPED | NLM_F_ACK_TLVS;
	mnl_attr_put_strz(nh, NLMSGERR_ATTR_MSG, "Route exists, and more");
	CHECK(wgx_nl_ack_parse(nh, msg, sizeof(msg)) == -EEXIST);
	CHECK(!strcmp(msg, "Route exists, and more"));
	/* Cut to the room given. */
	CHECK(wgx_nl_ack_parse(nh, msg, 6) == -EEXIST && !strcmp(msg, "Route"));
	/* Positive errors are a protocol violation. */
	e->error = EEXIST;
	CHECK(wgx_nl_ack_parse(nh, msg, sizeof(msg)) == -EPROTO);
	/* Uncapped: the request (here its 16-byte header) comes first. */
	nh = mnl_nlmsg_put_header(buf);
	e = mnl_nlmsg_put_extra_header(nh, sizeof(*e));
	nh->nlmsg_type = NLMSG_ERROR;
	nh->nlmsg_flags = NLM_F_ACK_TLVS;
	e->error = -EINVAL;
	e->msg.nlmsg_len = MNL_NLMSG_HDRLEN + 8;
	mnl_nlmsg_put_extra_header(nh, 8);
	mnl_attr_put_strz(nh, NLMSGERR_ATTR_MSG, "bad mtu");
	CHECK(wgx_nl_ack_parse(nh, msg, sizeof(msg)) == -EINVAL);
	CHECK(!strcmp(msg, "bad mtu"));
	/* Too short for an nlmsgerr. */
	nh->nlmsg_len = MNL_NLMSG_HDRLEN + 4;
	CHECK(wgx_nl_ack_parse(nh, msg, sizeof(msg)) == -EBADMSG);
	/* The end of a dump, fine or failed. */
	nh = mnl_nlmsg_put_header(buf);
	nh->nlmsg_type = NLMSG_DONE;
	CHECK(wgx_nl_ack_parse(nh, msg, sizeof(msg)) == 0);
	done = mnl_nlmsg_put_extra_header(nh, sizeof(*done));
	*done = -ENOBUFS;
	CHECK(wgx_nl_ack_parse(nh, msg, sizeof(msg)) == -ENOBUFS);
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
	{ "netlink: route requests as `ip route` sends them",
	  test_netlink_route_msg },
	{ "netlink: route answers parsed, malformed ones refused",
	  test_netlink_route_parse },
	{ "netlink: link answers with TUN details", test_netlink_link_parse },
	{ "netlink: acks, errors with the kernel's reason, dump ends",
	  test_netlink_ack_parse },
};

WGX_SUITE(netlink_tests)
