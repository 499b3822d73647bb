/* SPDX-License-Identifier: MIT */
/*
 * A small HTTP/1.1 server for the agent's event loop: `--metrics
 * ADDR:PORT` serves GET /metrics from it. Like the control server
 * (control.h), it never blocks the loop it runs in: s->fd is an epoll set
 * of its own (the listening socket, its connections and a timerfd for
 * their deadlines), readable whenever there is work, and
 * wgx_http_server_serve() does a bounded amount of what is ready and
 * returns.
 *
 * What it speaks: one GET or HEAD per connection ("Connection: close";
 * HTTP/1.0 and 1.1), a request head of at most WGX_HTTP_REQUEST_MAX bytes
 * that must arrive within WGX_HTTP_REQUEST_MS of the accept (a client
 * trickling bytes cannot hold a connection longer), and a response body
 * produced on demand, in pieces of WGX_HTTP_CHUNK bytes, only when the
 * client has taken the previous piece; a client that takes nothing for
 * WGX_HTTP_STALL_MS is dropped. Errors are answered with their status:
 * 400 (malformed), 404, 405 (not GET or HEAD), 431 (head too large), 503
 * (out of memory), 505 (not HTTP/1.x). At most WGX_HTTP_CONN_MAX
 * connections at once; more wait in the listen backlog.
 */
#ifndef WGX_HTTP_H
#define WGX_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/sockaddr.h"

enum {
	WGX_HTTP_REQUEST_MAX = 8192,
	WGX_HTTP_REQUEST_MS = 5000,
	WGX_HTTP_STALL_MS = 10000,
	WGX_HTTP_CONN_MAX = 16,
	WGX_HTTP_CHUNK = 64 << 10,
};

/* A response body, produced as the client takes it. */
struct wgx_http_body {
	void *state;
	/* Up to len (>= 512) bytes at buf: how many; 0 at the end. */
	size_t (*read)(void *state, char *buf, size_t len);
	void (*free)(void *state);
};

/*
 * Called for a GET or HEAD of the route's path (the query string is
 * ignored): fill body and return 0, or -errno (503).
 */
typedef int (*wgx_http_fn)(void *ctx, struct wgx_http_body *body);

struct wgx_http_route {
	const char *path; /* "/metrics" */
	const char *content_type;
	wgx_http_fn fn;
};

struct wgx_http_conn;

struct wgx_http_server {
	int fd; /* the epoll set: add it to the loop for EPOLLIN */
	int listen_fd;
	int timer_fd;
	const struct wgx_http_route *routes; /* ends with a NULL path */
	void *ctx;
	int request_ms, stall_ms; /* the WGX_HTTP_* defaults; tests shorten */
	union wgx_sockaddr addr;  /* bound (port 0 in the request: chosen) */
	uint64_t served;	  /* responses started, any status */
	uint64_t rejected;	  /* timed out, malformed or refused */
	unsigned int open;
	bool accepting;
	int64_t accept_after; /* ms: accept again after running out of fds */
	struct wgx_http_conn *head, *tail;
};

/*
 * "127.0.0.1:9586", "[::1]:9586", "0.0.0.0:9586", "[::]:9586": numeric
 * address and a port of 1 to 65535. 0 or -EINVAL.
 */
int wgx_http_parse_addr(const char *s, union wgx_sockaddr *out);

/* Bind and listen, non-blocking. 0 or -errno. */
int wgx_http_server_open(struct wgx_http_server *s,
			 const union wgx_sockaddr *addr,
			 const struct wgx_http_route *routes, void *ctx);
/* Do what is ready, without blocking. 0, or -errno of the listener. */
int wgx_http_server_serve(struct wgx_http_server *s);
/* Close every connection and the socket. Harmless when not open. */
void wgx_http_server_close(struct wgx_http_server *s);

#endif
