/* SPDX-License-Identifier: MIT */
/*
 * What every part of the XDP program includes: kernel types from
 * vmlinux.h, libbpf's helpers, the shared contract headers, and the few
 * protocol constants that are macros in the kernel and so missing from BTF.
 */
#ifndef WGX_COMMON_BPF_H
#define WGX_COMMON_BPF_H

/*
 * Packet headers have a fixed wire layout, so field offsets must not be
 * relocated against the running kernel's structs: no CO-RE here.
 */
#define BPF_NO_PRESERVE_ACCESS_INDEX
#include "vmlinux.h"

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "wgx_bpf.h"
#include "wgx_wire.h"

enum wgx_eth_proto {
	WGX_ETH_P_IP = 0x0800,
	WGX_ETH_P_IPV6 = 0x86DD,
	WGX_ETH_P_8021Q = 0x8100,
	WGX_ETH_P_8021AD = 0x88A8,
};

enum wgx_ip_consts {
	WGX_IP_MF = 0x2000,	/* more fragments follow */
	WGX_IP_OFFSET = 0x1FFF, /* fragment offset, in 8-byte units */
	WGX_IP6_MF = 0x0001,	/* in the IPv6 fragment header */
	WGX_IP6_OFFSET = 0xFFF8,
	WGX_IPV6_NEXTHDR_HOP = 0,
	WGX_IPV6_NEXTHDR_ROUTING = 43,
	WGX_IPV6_NEXTHDR_FRAGMENT = 44,
	WGX_IPV6_NEXTHDR_AUTH = 51,
	WGX_IPV6_NEXTHDR_DEST = 60,
	WGX_IPV6_NEXTHDR_MOBILITY = 135,
	WGX_IPV6_NEXTHDR_HIP = 139,
	WGX_IPV6_NEXTHDR_SHIM6 = 140,
	WGX_IPV6_NEXTHDR_EXP1 = 253,
	WGX_IPV6_NEXTHDR_EXP2 = 254,
	/* Extension headers walked before giving up (pass_ipv6_ext). */
	WGX_IPV6_EXT_MAX = 6,
	WGX_VLAN_MAX_DEPTH = 2, /* 802.1AD outer tag + 802.1Q inner tag */
};

/* The first two bytes of every IPv6 extension header but the fragment
 * header's second byte (reserved there). */
struct wgx_ipv6_opt {
	__u8 nexthdr;
	__u8 len;
};

#define WGX_NSEC_PER_SEC 1000000000ULL

/* WireGuard integers are little-endian on the wire (wgx_wire.h). */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define wgx_le32_to_cpu(x) (x)
#else
#define wgx_le32_to_cpu(x) __builtin_bswap32(x)
#endif

#endif
