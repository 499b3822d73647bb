/* SPDX-License-Identifier: MIT */
/*
 * The cross-platform userspace API (UAPI) of WireGuard, as `wg` and
 * wireguard-go speak it over /var/run/wireguard/<TUN>.sock: the request
 * parser and the "get" answer. No I/O here (uapi_server.h does the
 * socket); the parser is pure and fed bytes as they come.
 *
 *   get=1\n\n                 -> key=value lines, then errno=0\n\n
 *   set=1\n key=value lines \n -> errno=N\n\n
 *
 * A set's lines become a list of small steps (peer_config.h) in their
 * order; the caller applies them as one transaction. Device keys
 * (private_key, listen_port, fwmark, replace_peers) come before the first
 * public_key; after it, peer keys (update_only, remove, preshared_key,
 * endpoint, persistent_keepalive_interval, replace_allowed_ips,
 * allowed_ip, protocol_version). Keys are 64 hex digits (either case; an
 * all-zero private or pre-shared key means "none"); booleans are "true";
 * numbers are decimal; an endpoint is a numeric "IPv4:port" or
 * "[IPv6(%zone)]:port"; allowed_ip is "IP/CIDR", or "-IP/CIDR" to remove
 * one prefix (as current wireguard-go accepts).
 *
 * Errors answer as wireguard-go does, errno=-N: a line without '=' is
 * -EPROTO, an unknown key, a key in the wrong section or a bad value
 * -EINVAL. Beyond wireguard-go: a line longer than WGX_UAPI_LINE_MAX or
 * a request past WGX_UAPI_REQUEST_MAX is -EMSGSIZE, a byte that is not
 * printable ASCII -EPROTO, a request that ends (EOF) before its blank
 * line -EPROTO, and an unknown operation gets errno=-EPROTO instead of a
 * silent close. After an error the rest of the request is read and
 * dropped up to its blank line, so the client is never cut off while it
 * writes, and nothing of it is applied. Error messages never carry key
 * text.
 */
#ifndef WGX_UAPI_H
#define WGX_UAPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/peer_config.h"
#include "device/device.h"

#define WGX_UAPI_DIR "/var/run/wireguard"

enum {
	/*
	 * The longest line: wg's longest is an endpoint with a scope
	 * ("endpoint=[" 45 "%" 15 "]:65535"), under 90 bytes.
	 */
	WGX_UAPI_LINE_MAX = 512,
	/* A sanity bound on one request: 100,000 peers are about 30 MiB. */
	WGX_UAPI_REQUEST_MAX = 256 << 20,
	WGX_UAPI_WHY_MAX = 160,
};

enum wgx_uapi_op {
	WGX_UAPI_OP_NONE,
	WGX_UAPI_OP_GET,
	WGX_UAPI_OP_SET,
};

struct wgx_uapi_parser {
	enum wgx_uapi_op op;
	int state; /* private */
	/* The first error (-errno; 0 none) and what it was, for the log. */
	int err;
	char why[WGX_UAPI_WHY_MAX];
	/* The request is complete (or failed for good): answer it. */
	bool done;
	/* After the answer, close: the stream cannot be followed further. */
	bool close;
	unsigned int line_no;
	size_t bytes;
	bool in_peer; /* a public_key line came */
	struct wgx_steps steps;
	size_t line_len;
	char line[WGX_UAPI_LINE_MAX + 1];
};

void wgx_uapi_parser_init(struct wgx_uapi_parser *p);
/* Forget the request (wiping what it held) and wait for the next one. */
void wgx_uapi_parser_reset(struct wgx_uapi_parser *p);
void wgx_uapi_parser_free(struct wgx_uapi_parser *p);

/*
 * Take up to len bytes; returns how many were taken, stopping right after
 * a request's end (p->done). Call again after the answer (and a reset)
 * with the rest.
 */
size_t wgx_uapi_parser_feed(struct wgx_uapi_parser *p, const char *buf,
			    size_t len);
/*
 * The client will send no more. True when a request is pending that
 * must be answered (an incomplete one fails with -EPROTO); false when
 * the connection was between requests.
 */
bool wgx_uapi_parser_eof(struct wgx_uapi_parser *p);

/*
 * One whole request in buf (for tests and fuzzing): 0 with p->op and
 * p->steps filled, or the request's -errno; *used (may be NULL) gets the
 * bytes it took. A request without its final blank line is -EPROTO.
 * p must be initialised; reset or free it afterwards.
 */
int wgx_uapi_parse(struct wgx_uapi_parser *p, const char *buf, size_t len,
		   size_t *used);

/*
 * An answer buffer that may hold key text: anonymous memory, never
 * dumped, moved (not copied) when it grows and wiped before it is
 * unmapped.
 */
struct wgx_uapi_buf {
	char *data;
	size_t len, cap;
	int err; /* sticky -ENOMEM */
};

int wgx_uapi_buf_reserve(struct wgx_uapi_buf *b, size_t room);
int wgx_uapi_buf_write(struct wgx_uapi_buf *b, const void *data, size_t len);
void wgx_uapi_buf_free(struct wgx_uapi_buf *b);

/* What "get" reports beside the device: the sockets are the agent's. */
struct wgx_uapi_view {
	struct wgx_device *dev;
	uint16_t listen_port; /* bound; 0: none */
	uint32_t fwmark;
};

/*
 * The answer to get=1, "errno=0\n\n" included, in wireguard-go's order:
 * private_key, listen_port, fwmark (each when set), then per peer
 * public_key, preshared_key, protocol_version, endpoint (when known),
 * last_handshake_time_sec/_nsec, tx_bytes, rx_bytes,
 * persistent_keepalive_interval and its allowed_ip lines. Sized before it
 * is written: one allocation. 0 or -ENOMEM.
 */
int wgx_uapi_get(const struct wgx_uapi_view *v, struct wgx_uapi_buf *out);

/* "errno=N\n\n" as wireguard-go writes it (N is 0 or -errno). */
int wgx_uapi_status(struct wgx_uapi_buf *out, int err);

/* /var/run/wireguard/<tun>.sock into buf: 0 or -ENAMETOOLONG. */
int wgx_uapi_sock_path(const char *tun, char *buf, size_t len);

#endif
