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
 * Measured with tools/bench/tunnel (docs/performance.md, "Modes on
 * veth"): native XDP on a veth makes the sending peer segment its GSO
 * super-packets before they cross, so every 1420-byte datagram costs a
 * frame, an XDP run and an AF_XDP copy; generic XDP sees the
 * super-packets whole and hands them to the UDP socket, where GRO keeps
 * them whole, while single datagrams take AF_XDP.
 */
static const struct {
	const char *driver;
	struct wgx_xdp_policy policy;
} by_driver[] = {
	{ "veth",
	  { WGX_LOADER_MODE_SKB,
	    "veth: generic XDP measured faster than native, which makes the "
	    "peer segment GSO packets" } },
};

static const struct wgx_xdp_policy by_default = {
	WGX_LOADER_MODE_NATIVE,
	"native XDP in the driver, generic XDP where it has none"
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
