/* SPDX-License-Identifier: MIT */
/* An IPv4 or IPv6 socket address: endpoints, sources, destinations. */
#ifndef WGX_SOCKADDR_H
#define WGX_SOCKADDR_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

union wgx_sockaddr {
	struct sockaddr sa;
	struct sockaddr_in in4;
	struct sockaddr_in6 in6;
};

bool wgx_sockaddr_equal(const union wgx_sockaddr *a,
			const union wgx_sockaddr *b);
socklen_t wgx_sockaddr_len(const union wgx_sockaddr *a);
/* "192.0.2.1:51820" or "[2001:db8::1]:51820". */
void wgx_sockaddr_format(const union wgx_sockaddr *a, char *buf, size_t len);

#endif
