// SPDX-License-Identifier: MIT
/*
 * The measured choices live in one table, so a new measurement on a new
 * kind of interface is one line here and one section in the figures.
 */
#include "agent/txpath.h"

#include <errno.h>
#include <string.h>

static const char *const names[] = { "auto", "socket", "xsk" };

/* What `auto` takes per kind of interface, and the measurement why. */
static const struct {
	const char *kind;
	bool xsk;
	const char *why;
} measured[] = {
	/* Copy mode: one skb per frame against the socket's GSO runs. */
	{ "veth", false,
	  "auto: the UDP sockets measured faster than AF_XDP TX on veth" },
};

const char *wgx_tx_mode_name(enum wgx_tx_mode mode)
{
	return (unsigned int)mode < 3 ? names[mode] : "?";
}

int wgx_tx_mode_parse(const char *s, enum wgx_tx_mode *mode)
{
	for (unsigned int m = 0; m < 3; m++) {
		if (!strcmp(s, names[m])) {
			*mode = (enum wgx_tx_mode)m;
			return 0;
		}
	}
	return -EINVAL;
}

bool wgx_tx_choose(enum wgx_tx_mode asked, bool xsk_rx, const char *kind,
		   const char **why)
{
	if (!xsk_rx) {
		*why = "no AF_XDP sockets: the UDP sockets send";
		return false;
	}
	if (asked == WGX_TX_SOCKET) {
		*why = "--tx socket";
		return false;
	}
	if (asked == WGX_TX_XSK) {
		*why = "--tx xsk";
		return true;
	}
	for (size_t i = 0; i < sizeof(measured) / sizeof(measured[0]); i++) {
		if (!strcmp(kind, measured[i].kind)) {
			*why = measured[i].why;
			return measured[i].xsk;
		}
	}
	*why = "auto: not measured on this kind of interface: the socket";
	return false;
}
