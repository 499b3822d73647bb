// SPDX-License-Identifier: MIT
/* Which XDP mode auto tries first on which interface (xdp_policy.h). */
#include "agent/xdp_policy.h"

#include <errno.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/*
 * Measured with tools/bench/tunnel (docs/performance.md, "AF_XDP and the
 * modes on veth"): native XDP on a veth makes the sending peer segment
 * its GSO super-packets before they cross and copies each frame into a
 * page for the program; AF_XDP on veth runs in copy mode only, one more
 * copy and a frame per datagram. Generic XDP in front of the UDP sockets
 * (which keep GSO/GRO super-packets whole) carried as much as socket
 * mode, and drops floods before the stack.
 */
static const struct {
	const char *driver;
	struct wgx_xdp_policy policy;
} by_driver[] = {
	{ "veth",
	  { WGX_LOADER_MODE_SKB, false,
	    "veth: generic XDP in front of the UDP sockets carried as much "
	    "as socket mode; native XDP and AF_XDP (copy mode only) less",
	    "on veth this mode carried less TCP than --mode auto or socket "
	    "(measured: skb with AF_XDP about 13% less, native 18-40% less: "
	    "AF_XDP copies every frame, native XDP makes the peer segment "
	    "GSO packets); --mode auto is the fast choice here" } },
};

static const struct wgx_xdp_policy by_default = {
	WGX_LOADER_MODE_NATIVE, true,
	"native XDP in the driver and AF_XDP sockets, generic XDP where it "
	"has none",
	NULL
};

void wgx_xdp_policy_for_driver(const char *driver, struct wgx_xdp_policy *p)
{
	for (size_t i = 0; i < sizeof(by_driver) / sizeof(by_driver[0]); i++) {
		if (driver && !strcmp(driver, by_driver[i].driver)) {
			*p = by_driver[i].policy;
			return;
		}
	}
	*p = by_default;
}

int wgx_xdp_iface_driver(const char *iface, char *out, size_t len)
{
	struct ethtool_drvinfo info = { .cmd = ETHTOOL_GDRVINFO };
	struct ifreq ifr = { 0 };
	int fd, err = 0;

	if (!iface || strlen(iface) >= sizeof(ifr.ifr_name))
		return -EINVAL;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	memcpy(ifr.ifr_name, iface, strlen(iface) + 1);
	ifr.ifr_data = (char *)&info;
	if (ioctl(fd, SIOCETHTOOL, &ifr) < 0)
		err = -errno;
	close(fd);
	if (!err)
		snprintf(out, len, "%.*s", (int)sizeof(info.driver),
			 info.driver);
	return err;
}
