/* SPDX-License-Identifier: MIT */
/*
 * The UAPI socket (uapi.h) for an event loop it does not own, built like
 * the control server (control.h) and never blocking it: s->fd is an epoll
 * set of the server's own (the listening socket, its connections, a
 * timerfd for their deadlines), readable whenever there is work, and
 * wgx_uapi_server_serve() does what is ready and returns.
 *
 * A connection carries any number of requests, one after the other, as
 * wireguard-go allows (`wg` opens one per request). Each serve call reads
 * at most READ_BUDGET bytes per connection and runs at most one handler,
 * so a large `wg setconf` is parsed over several turns of the loop while
 * the datapath and the other clients go on. Deadlines: a request must
 * keep coming (a silence of stall_ms mid-request, or a request still
 * unfinished after request_ms, is answered errno=-ETIMEDOUT and closed);
 * an idle connection closes after idle_ms; an answer the client takes no
 * byte of for stall_ms is dropped. At most WGX_UAPI_CONN_MAX connections
 * are served at once; more wait in the listen backlog. Only uid 0 (or the
 * server's own uid) is served, checked with SO_PEERCRED.
 */
#ifndef WGX_UAPI_SERVER_H
#define WGX_UAPI_SERVER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/un.h>

#include "agent/uapi.h"

enum {
	WGX_UAPI_CONN_MAX = 64,
	WGX_UAPI_STALL_MS = 5000,
	WGX_UAPI_REQUEST_MS = 60000,
	WGX_UAPI_IDLE_MS = 5000,
};

struct wgx_uapi_ops {
	/* The whole get answer, its errno line included, into out. */
	int (*get)(void *ctx, struct wgx_uapi_buf *out);
	/* Apply a set, whole or not at all: 0 or -errno (the errno line). */
	int (*set)(void *ctx, const struct wgx_steps *steps);
};

struct wgx_uapi_conn;

struct wgx_uapi_server {
	int fd; /* the server's epoll set: add it to the loop for EPOLLIN */
	int listen_fd;
	int timer_fd;
	const struct wgx_uapi_ops *ops;
	void *ctx;
	int stall_ms, request_ms, idle_ms;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	dev_t dev; /* the socket file we bound, so close() unlinks only it */
	ino_t ino;
	uint64_t gets, sets;  /* requests answered */
	uint64_t errors;      /* answered with an error */
	uint64_t rejected;    /* refused, timed out or cut off */
	unsigned int open;    /* connections being served */
	bool accepting;	      /* listen_fd is in the set */
	int64_t accept_after; /* ms: accept again after running out of fds */
	struct wgx_uapi_conn *head, *tail; /* oldest first */
};

/*
 * Listen on path (normally wgx_uapi_sock_path()), mode 0600, making its
 * directory (0755, as wireguard-go does) when missing. A socket left by a
 * dead process is replaced; one somebody still answers on is
 * -EADDRINUSE. 0 or -errno, the reason logged.
 */
int wgx_uapi_server_open(struct wgx_uapi_server *s, const char *path,
			 const struct wgx_uapi_ops *ops, void *ctx);
/* Do what is ready, without blocking; 0 or -errno of the listener. */
int wgx_uapi_server_serve(struct wgx_uapi_server *s);
/* Close everything; unlink the socket if it is still ours. */
void wgx_uapi_server_close(struct wgx_uapi_server *s);

#endif
