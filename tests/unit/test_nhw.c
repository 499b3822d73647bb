// SPDX-License-Identifier: MIT
/*
 * The next-hop watch's framing: the kernel's answers to a route lookup
 * (out of the underlay directly or through a gateway, out of another
 * interface, local, no source) and its neighbour messages (usable or
 * not, deleted), built here as the kernel lays them out, plus truncated
 * and foreign messages.
 */
#include "test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <string.h>

#include "agent/nexthop_watch.h"

enum {
	UNDERLAY = 7,
	OTHER = 9,
	BUF = 512
};

static const uint8_t MAC[6] = { 2, 0, 0, 0, 0, 0x33 };

static struct nlmsghdr *route_msg(char *buf, uint8_t type, uint32_t oif,
				  const char *dst, const char *src,
				  const char *gw)
{
	struct nlmsghdr *nh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nh, sizeof(*rtm));
	uint8_t a[4];

	nh->nlmsg_type = RTM_NEWROUTE;
	rtm->rtm_family = AF_INET;
	rtm->rtm_dst_len = 32;
	rtm->rtm_type = type;
	inet_pton(AF_INET, dst, a);
	mnl_attr_put(nh, RTA_DST, 4, a);
	if (oif)
		mnl_attr_put_u32(nh, RTA_OIF, oif);
	if (src) {
		inet_pton(AF_INET, src, a);
		mnl_attr_put(nh, RTA_PREFSRC, 4, a);
	}
	if (gw) {
		inet_pton(AF_INET, gw, a);
		mnl_attr_put(nh, RTA_GATEWAY, 4, a);
	}
	return nh;
}

static bool addr_is(const uint8_t *got, const char *want)
{
	uint8_t a[4];

	inet_pton(AF_INET, want, a);
	return !memcmp(got, a, 4);
}

static void test_route_direct(void)
{
	_Alignas(struct nlmsghdr) char buf[BUF];
	struct wgx_nh_route r;
	struct nlmsghdr *nh = route_msg(buf, RTN_UNICAST, UNDERLAY, "10.1.0.2",
					"10.1.0.1", NULL);

	CHECK(wgx_nhw_route_parse(nh, UNDERLAY, &r) == 1);
	CHECK(r.state == WGX_NH_HERE);
	CHECK(addr_is(r.src, "10.1.0.1"));
	/* No gateway: the endpoint is its own next hop. */
	CHECK(r.next.family == AF_INET && addr_is(r.next.addr, "10.1.0.2"));
}

static void test_route_gateway(void)
{
	_Alignas(struct nlmsghdr) char buf[BUF];
	struct wgx_nh_route r;
	struct nlmsghdr *nh = route_msg(buf, RTN_UNICAST, UNDERLAY, "192.0.2.9",
					"10.1.0.1", "10.1.0.254");

	CHECK(wgx_nhw_route_parse(nh, UNDERLAY, &r) == 1);
	CHECK(r.state == WGX_NH_HERE);
	CHECK(addr_is(r.next.addr, "10.1.0.254"));
}

static void test_route_elsewhere(void)
{
	_Alignas(struct nlmsghdr) char buf[BUF];
	struct wgx_nh_route r;
	struct nlmsghdr *nh = route_msg(buf, RTN_UNICAST, OTHER, "10.2.0.2",
					"10.2.0.1", NULL);

	CHECK(wgx_nhw_route_parse(nh, UNDERLAY, &r) == 1);
	CHECK(r.state == WGX_NH_ELSEWHERE);
	nh = route_msg(buf, RTN_LOCAL, 1, "10.1.0.1", "10.1.0.1", NULL);
	CHECK(wgx_nhw_route_parse(nh, UNDERLAY, &r) == 1);
	CHECK(r.state == WGX_NH_ELSEWHERE);
}

static void test_route_unusable(void)
{
	_Alignas(struct nlmsghdr) char buf[BUF];
	struct wgx_nh_route r;
	struct nlmsghdr *nh;

	/* No source address to put in the frame: leave it to the socket. */
	nh = route_msg(buf, RTN_UNICAST, UNDERLAY, "10.1.0.2", NULL, NULL);
	CHECK(wgx_nhw_route_parse(nh, UNDERLAY, &r) == 1);
	CHECK(r.state == WGX_NH_UNROUTED);
	nh = route_msg(buf, RTN_UNREACHABLE, 0, "10.1.0.2", NULL, NULL);
	CHECK(wgx_nhw_route_parse(nh, UNDERLAY, &r) == 1);
	CHECK(r.state == WGX_NH_UNROUTED);
	/* Not a route at all. */
	nh->nlmsg_type = RTM_NEWLINK;
	CHECK(wgx_nhw_route_parse(nh, UNDERLAY, &r) == 0);
	/* The last attribute (the source) cut short: ignored, so no
	 * source: the socket's. */
	nh = route_msg(buf, RTN_UNICAST, UNDERLAY, "10.1.0.2", "10.1.0.1",
		       NULL);
	nh->nlmsg_len -= 4;
	CHECK(wgx_nhw_route_parse(nh, UNDERLAY, &r) == 1);
	CHECK(r.state == WGX_NH_UNROUTED);
	/* Too short for its header. */
	nh->nlmsg_len = NLMSG_HDRLEN + 4;
	CHECK(wgx_nhw_route_parse(nh, UNDERLAY, &r) == -EBADMSG);
}

static struct nlmsghdr *neigh_msg(char *buf, uint16_t type, uint16_t state,
				  const char *dst, bool lladdr)
{
	struct nlmsghdr *nh = mnl_nlmsg_put_header(buf);
	struct ndmsg *ndm = mnl_nlmsg_put_extra_header(nh, sizeof(*ndm));
	uint8_t a[4];

	nh->nlmsg_type = type;
	ndm->ndm_family = AF_INET;
	ndm->ndm_ifindex = UNDERLAY;
	ndm->ndm_state = state;
	inet_pton(AF_INET, dst, a);
	mnl_attr_put(nh, NDA_DST, 4, a);
	if (lladdr)
		mnl_attr_put(nh, NDA_LLADDR, 6, MAC);
	return nh;
}

static void test_neigh(void)
{
	_Alignas(struct nlmsghdr) char buf[BUF];
	struct wgx_nh_addr a;
	uint8_t mac[6] = { 0 };
	int ifindex = 0;
	bool valid = false;
	struct nlmsghdr *nh =
		neigh_msg(buf, RTM_NEWNEIGH, NUD_REACHABLE, "10.1.0.2", true);

	CHECK(wgx_nhw_neigh_parse(nh, &ifindex, &a, mac, &valid) == 1);
	CHECK(ifindex == UNDERLAY && valid && !memcmp(mac, MAC, 6));
	CHECK(a.family == AF_INET && addr_is(a.addr, "10.1.0.2"));
	/* Still being resolved, or failed: no usable MAC. */
	nh = neigh_msg(buf, RTM_NEWNEIGH, NUD_INCOMPLETE, "10.1.0.2", false);
	CHECK(wgx_nhw_neigh_parse(nh, &ifindex, &a, mac, &valid) == 1);
	CHECK(!valid);
	nh = neigh_msg(buf, RTM_NEWNEIGH, NUD_FAILED, "10.1.0.2", true);
	CHECK(wgx_nhw_neigh_parse(nh, &ifindex, &a, mac, &valid) == 1);
	CHECK(!valid);
	/* Deleted: whatever it carries, no longer usable. */
	nh = neigh_msg(buf, RTM_DELNEIGH, NUD_REACHABLE, "10.1.0.2", true);
	CHECK(wgx_nhw_neigh_parse(nh, &ifindex, &a, mac, &valid) == 1);
	CHECK(!valid);
}

static void test_neigh_bad(void)
{
	_Alignas(struct nlmsghdr) char buf[BUF];
	struct wgx_nh_addr a;
	uint8_t mac[6];
	int ifindex;
	bool valid;
	struct nlmsghdr *nh =
		neigh_msg(buf, RTM_NEWNEIGH, NUD_REACHABLE, "10.1.0.2", true);

	/* The MAC cut short: ignored, no usable MAC. */
	nh->nlmsg_len -= 8;
	CHECK(wgx_nhw_neigh_parse(nh, &ifindex, &a, mac, &valid) == 1);
	CHECK(!valid);
	nh = neigh_msg(buf, RTM_NEWROUTE, NUD_REACHABLE, "10.1.0.2", true);
	CHECK(wgx_nhw_neigh_parse(nh, &ifindex, &a, mac, &valid) == 0);
	/* Too short for its header. */
	nh = mnl_nlmsg_put_header(buf);
	nh->nlmsg_type = RTM_NEWNEIGH;
	CHECK(wgx_nhw_neigh_parse(nh, &ifindex, &a, mac, &valid) == -EBADMSG);
}

static const struct wgx_test nhw_tests[] = {
	{ "nhw: a route out of the underlay, no gateway", test_route_direct },
	{ "nhw: a route through a gateway", test_route_gateway },
	{ "nhw: routes out of another interface, local", test_route_elsewhere },
	{ "nhw: unusable, foreign and truncated routes", test_route_unusable },
	{ "nhw: neighbours usable, resolving, failed, deleted", test_neigh },
	{ "nhw: foreign and truncated neighbours", test_neigh_bad },
};
WGX_SUITE(nhw_tests)
