/* SPDX-License-Identifier: MIT */
/*
 * Interface name validation for the CLI (IFACE and the TUN name) before any
 * name reaches the kernel. The rules are the kernel's dev_valid_name() plus
 * '%' (TUNSETIFF and RTM_NEWLINK expand "%d" into a name of the kernel's
 * choosing, and we need the exact name) and control characters (names end
 * up in messages and file names under /run/wgxdp).
 */
#ifndef WGX_IFNAME_H
#define WGX_IFNAME_H

/*
 * 0 when name is a usable interface name, else -EINVAL with *why (if not
 * NULL) pointing at a static phrase such as "is longer than 15 characters",
 * meant to follow the quoted name: "wgxdp: interface name 'x/y' contains
 * '/'".
 */
int wgx_ifname_check(const char *name, const char **why);

#endif
