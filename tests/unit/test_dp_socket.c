// SPDX-License-Identifier: MIT
/* The socket datapath's offload names (WGXDP_OFFLOADS, `wgxdp show`). */
#include "test.h"

#include <errno.h>

#include "datapath/datapath.h"

static void test_parse(void)
{
	unsigned int bits = 12345;

	CHECK(wgx_dp_socket_parse_offloads("all", &bits) == 0);
	CHECK(bits == WGX_DP_OFFLOAD_ALL);
	CHECK(wgx_dp_socket_parse_offloads("none", &bits) == 0);
	CHECK(bits == 0);
	CHECK(wgx_dp_socket_parse_offloads("tun,udp-gso", &bits) == 0);
	CHECK(bits == (WGX_DP_TUN_VNET | WGX_DP_UDP_GSO));
	CHECK(wgx_dp_socket_parse_offloads("udp-gro,tun-gro,udp-gro", &bits) ==
	      0);
	CHECK(bits == (WGX_DP_UDP_GRO | WGX_DP_TUN_GRO));
}

static void test_parse_bad(void)
{
	static const char *const bad[] = {
		"",	"tun,", ",tun",	    "tun,,udp-gso", "TUN",
		"tun-", "udp",	"all none", "gso"
	};
	unsigned int bits = 777;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(wgx_dp_socket_parse_offloads(bad[i], &bits) == -EINVAL);
	CHECK(bits == 777);
}

static void test_format(void)
{
	char buf[64];

	wgx_dp_socket_format_offloads(0, buf, sizeof(buf));
	CHECK(!strcmp(buf, "none"));
	wgx_dp_socket_format_offloads(WGX_DP_OFFLOAD_ALL, buf, sizeof(buf));
	CHECK(!strcmp(buf, "tun tun-gro udp-gso udp-gro"));
	wgx_dp_socket_format_offloads(WGX_DP_UDP_GRO | WGX_DP_TUN_VNET, buf,
				      sizeof(buf));
	CHECK(!strcmp(buf, "tun udp-gro"));
	/* Cut short, never overrun. */
	memset(buf, 'x', sizeof(buf));
	wgx_dp_socket_format_offloads(WGX_DP_OFFLOAD_ALL, buf, 6);
	CHECK(strlen(buf) == 5 && buf[6] == 'x');
}

static const struct wgx_test dp_socket_tests[] = {
	{ "dp_socket: offload names parsed", test_parse },
	{ "dp_socket: bad offload lists refused", test_parse_bad },
	{ "dp_socket: offloads formatted", test_format },
};
WGX_SUITE(dp_socket_tests)
