// SPDX-License-Identifier: MIT
/* xdp_policy: which XDP mode --mode auto tries first, per driver. */
#include <errno.h>
#include <string.h>

#include "test.h"
#include "agent/xdp_policy.h"

static void test_veth_generic_first(void)
{
	struct wgx_xdp_policy p;

	wgx_xdp_policy_for_driver("veth", &p);
	CHECK(p.first == WGX_LOADER_MODE_SKB);
	CHECK(!p.xsk); /* the UDP sockets carried more than AF_XDP there */
	CHECK(p.why && strstr(p.why, "veth") != NULL);
	/* An explicit native or skb mode there is told what it costs. */
	CHECK(p.explicit_cost && strstr(p.explicit_cost, "--mode auto"));
}

static void test_other_drivers_native_first(void)
{
	static const char *const drivers[] = { "ixgbe", "mlx5_core", "", "vet",
					       "veth0", "virtio_net" };
	struct wgx_xdp_policy p;

	for (size_t i = 0; i < sizeof(drivers) / sizeof(drivers[0]); i++) {
		wgx_xdp_policy_for_driver(drivers[i], &p);
		CHECK(p.first == WGX_LOADER_MODE_NATIVE);
		CHECK(p.xsk);
		CHECK(p.why && *p.why);
		CHECK(p.explicit_cost == NULL); /* not measured there */
	}
	wgx_xdp_policy_for_driver(NULL, &p);
	CHECK(p.first == WGX_LOADER_MODE_NATIVE);
}

static void test_driver_lookup(void)
{
	char d[32] = "x";

	/* lo answers ETHTOOL_GDRVINFO with no driver, or not at all. */
	CHECK(wgx_xdp_iface_driver(NULL, d, sizeof(d)) == -EINVAL);
	CHECK(wgx_xdp_iface_driver("a-name-far-too-long-for-ifnamsiz", d,
				   sizeof(d)) == -EINVAL);
	CHECK(wgx_xdp_iface_driver("wgx-no-such-if", d, sizeof(d)) < 0);
}

static const struct wgx_test xdp_policy_tests[] = {
	{ "xdp_policy: veth: generic XDP first, no AF_XDP",
	  test_veth_generic_first },
	{ "xdp_policy: other drivers try native first",
	  test_other_drivers_native_first },
	{ "xdp_policy: driver lookup refuses bad names", test_driver_lookup },
};
WGX_SUITE(xdp_policy_tests)
