/* SPDX-License-Identifier: MIT */
/* The socket packet I/O (pktio.h over UDP sockets); see pktio_socket.c. */
#ifndef WGX_PKTIO_SOCKET_H
#define WGX_PKTIO_SOCKET_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "datapath/datapath.h"
#include "datapath/pktio.h"

/*
 * Bind a worker's sockets (IPv4, and IPv6 where the host has it) to port
 * (0: the kernel picks; *bound tells which) with SO_REUSEPORT, so every
 * worker can bind the same one. stop_fd (-1: none) cuts a wait for send
 * buffer space short; pool_offloads loses WGX_DP_UDP_GSO if the kernel
 * refuses it. The reason is logged on failure.
 */
int wgx_pktio_socket_open(const struct wgx_socket_opts *o, uint16_t port,
			  int stop_fd, _Atomic unsigned int *pool_offloads,
			  struct wgx_pktio **out, uint16_t *bound);
/* The UDP offloads (enum wgx_dp_offload) this I/O's sockets have. */
unsigned int wgx_pktio_socket_offloads(const struct wgx_pktio *io);
bool wgx_pktio_socket_has_ipv6(const struct wgx_pktio *io);

#endif
