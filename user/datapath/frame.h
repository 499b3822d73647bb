/* SPDX-License-Identifier: MIT */
/*
 * Ethernet frames that carry WireGuard datagrams, as the AF_XDP sockets
 * see them: where the UDP payload and its source are, and how a generic
 * XDP "frame" holding a GSO or GRO run splits into its datagrams. Pure
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

#endif
