/* SPDX-License-Identifier: MIT */
/*
 * Which way sealed datagrams leave (attach's --tx): AF_XDP TX (frames
 * built in the UMEM, sent on the workers' AF_XDP sockets) or the UDP
 * sockets (sendmmsg, UDP GSO). `auto` takes, per kind of interface, the
 * path measured faster there (docs/performance.md, "AF_XDP transmit");
 * `socket` never opens an AF_XDP TX ring; `xsk` insists on AF_XDP TX.
 * Either way a datagram whose next hop is unknown goes through the
 * socket.
 */
#ifndef WGX_TXPATH_H
#define WGX_TXPATH_H

#include <stdbool.h>

enum wgx_tx_mode {
	WGX_TX_AUTO,
	WGX_TX_SOCKET,
	WGX_TX_XSK,
};

const char *wgx_tx_mode_name(enum wgx_tx_mode mode);
int wgx_tx_mode_parse(const char *s, enum wgx_tx_mode *mode);

/*
 * The path for an interface of kind (IFLA_INFO_KIND; "" when the driver
 * gives none) when AF_XDP receive runs (xsk_rx) or not: true for AF_XDP
 * TX. *why says why, in words for attach and show. asked == WGX_TX_XSK
 * without xsk_rx is the caller's error to report.
 */
bool wgx_tx_choose(enum wgx_tx_mode asked, bool xsk_rx, const char *kind,
		   const char **why);

#endif
