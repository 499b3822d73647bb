/* SPDX-License-Identifier: MIT */
/*
 * The "no route to host" answer for an outbound packet that matches no
 * peer's AllowedIPs. The kernel driver's xmit path answers such packets
 * with ICMP destination unreachable / host unreachable (type 3 code 1) and
 * ICMPv6 destination unreachable / address unreachable (type 1 code 3);
 * wgxdp builds the same message and writes it back into the TUN, so the
 * sending application sees EHOSTUNREACH at once instead of a timeout.
 *
 * The message quotes the start of the offending packet: for IPv4 its whole
 * header and as much payload as keeps the answer within 576 bytes (RFC 792,
 * RFC 1812 4.3.2.3, as Linux does); for IPv6 as much as keeps it within the
 * minimum MTU of 1280 bytes (RFC 4443 2.4(c)). Bytes beyond the packet's
 * stated length (padding) are never quoted. The answer carries no IP
 * options, TTL / hop limit 64; IPv4 sets DF with ID 0 (an atomic datagram,
 * RFC 6864) and the precedence of RFC 1812 4.3.2.5.
 *
 * To prevent loops and storms there is no answer (RFC 1122 3.2.2, RFC 1812
 * 4.3.2.7, RFC 4443 2.4(e)) to:
 *  - an ICMP error (IPv4 types 3, 4, 5, 11, 12, and types above 18 that are
 *    unknown, as Linux treats them) or an ICMPv6 error (type < 128), found
 *    behind IPv6 extension headers too, nor to a truncated ICMP header;
 *  - an IPv4 fragment other than the first (it cannot be identified);
 *  - a source or destination that is not a single unicast host:
 *    IPv4 0/8, 127/8, 224/4 multicast, 240/4 including 255.255.255.255;
 *    IPv6 ::, ::1, ff00::/8.
 */
#ifndef WGX_ICMP_H
#define WGX_ICMP_H

#include <stddef.h>
#include <stdint.h>

enum {
	/* Largest answers, IP header included. */
	WGX_ICMP4_MAX_LEN = 576,
	WGX_ICMP6_MAX_LEN = 1280,
	/* An out buffer of this size always suffices. */
	WGX_ICMP_MAX_LEN = WGX_ICMP6_MAX_LEN,
	WGX_ICMP_TTL = 64,
	/* What is sent (the kernel driver's choice). */
	WGX_ICMP4_DEST_UNREACH = 3,
	WGX_ICMP4_HOST_UNREACH = 1,
	WGX_ICMP6_DEST_UNREACH = 1,
	WGX_ICMP6_ADDR_UNREACH = 3,
};

/*
 * Build the unreachable answer to orig (a raw IPv4/IPv6 packet; bytes past
 * its stated length are ignored) in out. src_addr is the answer's source,
 * 4 or 16 bytes matching orig's family, or NULL for orig's destination; the
 * answer goes to orig's source.
 *
 * out may be orig itself (answer in place) or any buffer that overlaps it;
 * src_addr is copied before out is written.
 *
 * Returns the answer's length, or
 *  -EINVAL  orig does not parse (wgx_ippkt_parse_trim), or src_addr is not
 *           a unicast address;
 *  -EPERM   orig must not be answered (see above);
 *  -ENOSPC  out_cap is below the answer's length (never with
 *           WGX_ICMP_MAX_LEN).
 */
int wgx_icmp_unreachable(const uint8_t *orig, size_t orig_len,
			 const uint8_t *src_addr, uint8_t *out, size_t out_cap);

#endif
