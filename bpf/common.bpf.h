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
	WGX_IPV6_NEXTHDR_FRAGMENT = 44,
	WGX_VLAN_MAX_DEPTH = 2, /* 802.1AD outer tag + 802.1Q inner tag */
};

#define WGX_NSEC_PER_SEC 1000000000ULL

/* WireGuard integers are little-endian on the wire (wgx_wire.h). */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define wgx_le32_to_cpu(x) (x)
#else
#define wgx_le32_to_cpu(x) __builtin_bswap32(x)
#endif

#endif
