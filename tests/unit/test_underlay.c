// SPDX-License-Identifier: MIT
/*
 * What the agent says about the underlay, from rtnetlink messages built
 * here: down, up, MTU too small for the tunnel (and what to set), an MTU
 * enough for IPv4 only, addresses gained and lost, deletion; other
 * interfaces and link-local addresses are not news.
 */
#include "test.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>

#include "agent/underlay.h"
#include "util/log.h"

static char said[8][512];
static int nsaid;

static void sink(enum wgx_log_level level, const char *msg, void *ctx)
{
	(void)level;
	(void)ctx;
	if (nsaid < 8)
		snprintf(said[nsaid++], sizeof(said[0]), "%s", msg);
}

static bool heard(const char *want)
{
	for (int i = 0; i < nsaid; i++)
		if (strstr(said[i], want))
			return true;
	fprintf(stderr, "    nothing said \"%s\"; said:\n", want);
	for (int i = 0; i < nsaid; i++)
		fprintf(stderr, "      %s\n", said[i]);
	return false;
}

static size_t link_msg(char *buf, uint16_t type, int ifindex, unsigned flags,
		       uint32_t mtu)
{
	struct nlmsghdr *nh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nh, sizeof(*ifi));

	nh->nlmsg_type = type;
	ifi->ifi_index = ifindex;
	ifi->ifi_flags = flags;
	mnl_attr_put_u32(nh, IFLA_MTU, mtu);
	mnl_attr_put_strz(nh, IFLA_IFNAME, "eth9");
	return nh->nlmsg_len;
}

static size_t addr_msg(char *buf, uint16_t type, int ifindex, const char *ip,
		       uint8_t scope)
{
	struct nlmsghdr *nh = mnl_nlmsg_put_header(buf);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nh, sizeof(*ifa));
	uint8_t a[16];
	bool v6 = strchr(ip, ':') != NULL;

	nh->nlmsg_type = type;
	ifa->ifa_family = v6 ? AF_INET6 : AF_INET;
	ifa->ifa_prefixlen = v6 ? 64 : 24;
	ifa->ifa_scope = scope;
	ifa->ifa_index = (unsigned)ifindex;
	inet_pton(ifa->ifa_family, ip, a);
	mnl_attr_put(nh, IFA_ADDRESS, v6 ? 16 : 4, a);
	mnl_attr_put(nh, IFA_LOCAL, v6 ? 16 : 4, a);
	return nh->nlmsg_len;
}

static void feed(struct wgx_underlay *u, const char *buf, size_t len)
{
	nsaid = 0;
	wgx_underlay_events(u, buf, len);
}

static void test_underlay_events(void)
{
	struct wgx_underlay u = { .fd = -1,
				  .ifindex = 7,
				  .name = "eth9",
				  .mtu = 1500,
				  .tun_mtu = 1420,
				  .up = true };
	char buf[8192] __attribute__((aligned(4)));
	const unsigned up = IFF_UP | IFF_RUNNING;

	wgx_log_set_sink(sink, NULL);
	CHECK(wgx_underlay_need(1420, false) == 1480);
	CHECK(wgx_underlay_need(1420, true) == 1500);
	feed(&u, buf, link_msg(buf, RTM_NEWLINK, 7, IFF_UP, 1500));
	CHECK(nsaid == 1 && heard("Underlay eth9 is down"));
	feed(&u, buf, link_msg(buf, RTM_NEWLINK, 7, IFF_UP, 1500));
	CHECK(nsaid == 0); /* no change, no news */
	feed(&u, buf, link_msg(buf, RTM_NEWLINK, 7, up, 1500));
	CHECK(nsaid == 1 && heard("Underlay eth9 is up again"));
	feed(&u, buf, link_msg(buf, RTM_NEWLINK, 7, up, 1300));
	CHECK(heard("Underlay eth9 MTU is now 1300, below the 1480 bytes") &&
	      heard("set MTU = 1220"));
	feed(&u, buf, link_msg(buf, RTM_NEWLINK, 7, up, 1490));
	CHECK(heard("enough for the tunnel over IPv4, not for its full "
		    "packets over IPv6 (1500 bytes)"));
	feed(&u, buf, link_msg(buf, RTM_NEWLINK, 7, up, 9000));
	CHECK(heard("Underlay eth9 MTU is now 9000"));
	/* Another interface is not ours. */
	feed(&u, buf, link_msg(buf, RTM_NEWLINK, 8, 0, 100));
	CHECK(nsaid == 0);
	feed(&u, buf, addr_msg(buf, RTM_NEWADDR, 7, "192.0.2.5", 0));
	CHECK(heard("Underlay eth9 has a new address 192.0.2.5"));
	feed(&u, buf, addr_msg(buf, RTM_DELADDR, 7, "2001:db8::1", 0));
	CHECK(heard("Underlay eth9 lost address 2001:db8::1"));
	feed(&u, buf, addr_msg(buf, RTM_NEWADDR, 7, "fe80::1", RT_SCOPE_LINK));
	CHECK(nsaid == 0);
	feed(&u, buf, addr_msg(buf, RTM_NEWADDR, 8, "192.0.2.6", 0));
	CHECK(nsaid == 0);
	feed(&u, buf, link_msg(buf, RTM_DELLINK, 7, 0, 0));
	CHECK(nsaid == 1 && heard("Underlay eth9 was deleted"));
	feed(&u, buf, link_msg(buf, RTM_DELLINK, 7, 0, 0));
	CHECK(nsaid == 0);
	wgx_log_set_sink(NULL, NULL);
	wgx_underlay_close(&u);
}

static const struct wgx_test underlay_tests[] = {
	{ "underlay: down, up, MTU, addresses, deletion are said",
	  test_underlay_events },
};
WGX_SUITE(underlay_tests)
