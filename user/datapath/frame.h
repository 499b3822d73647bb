/* SPDX-License-Identifier: MIT */
/*
 * Ethernet frames that carry WireGuard datagrams, as the AF_XDP sockets
 * see them: where the UDP payload and its source are, how a generic XDP
 * "frame" holding a GSO or GRO run splits into its datagrams, and the
 * headers AF_XDP transmit puts in front of a sealed datagram. Pure
 * functions over bytes, so the unit tests feed them crafted frames.
 */
#ifndef WGX_FRAME_H
#define WGX_FRAME_H

#include <stdbool.h>
#include <stdint.h>

#include "util/sockaddr.h"

/*
 * The UDP payload of an Ethernet frame f of len bytes (up to two VLAN
 * tags; IPv4 with options; IPv6 with hop-by-hop, routing and destination
 * options headers) and its source address and port; false for anything
 * else, a truncated header or a UDP length past the frame's end.
 */
bool wgx_frame_udp_payload(uint8_t *f, uint32_t len, uint8_t **payload,
			   uint32_t *plen, union wgx_sockaddr *src);

/*
 * The length of the first WireGuard data message in a run of len bytes
 * at m (len itself when m is not a run). A run's messages lie back to
 * back with the same type, receiver index and successive counters; where
 * the next one starts is where those appear again (the AEAD then checks
 * every cut, so a wrong guess costs a dropped packet, never a wrong one).
 */
uint32_t wgx_frame_run_first(const uint8_t *m, uint32_t len);

/* Where a frame to one endpoint goes: the next hop and both ends. */
struct wgx_frame_route {
	uint8_t dst_mac[6]; /* the next hop's */
	uint8_t src_mac[6]; /* the underlay's */
	/* Same family; addresses and ports in network order. */
	union wgx_sockaddr src, dst;
};

enum {
	WGX_FRAME_UDP4_HDR = 14 + 20 + 8,
	WGX_FRAME_UDP6_HDR = 14 + 40 + 8,
	/* IPv4 and IPv6 headers' hop limit (Linux's default TTL). */
	WGX_FRAME_TTL = 64,
};

/* The header bytes in front of the payload for r's family. */
static inline uint32_t wgx_frame_udp_hdr_len(const struct wgx_frame_route *r)
{
	return r->dst.sa.sa_family == AF_INET6 ? WGX_FRAME_UDP6_HDR
					       : WGX_FRAME_UDP4_HDR;
}

/*
 * Write Ethernet, IPv4 (no options, DF, identification id) or IPv6 and
 * UDP headers at f, in front of the plen bytes of payload already at
 * f + wgx_frame_udp_hdr_len(r): lengths, the IPv4 header checksum and the
 * UDP checksum over pseudo-header and payload (a sum of 0 goes out as
 * 0xffff, RFC 768 and 8200). Returns the frame's length, or 0 when plen
 * does not fit the length fields or the family is neither.
 */
uint32_t wgx_frame_udp_build(uint8_t *f, const struct wgx_frame_route *r,
			     uint32_t plen, uint16_t id);

#endif
