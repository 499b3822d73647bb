/* SPDX-License-Identifier: MIT */
/*
 * The control socket between the CLI (`wgxdp show/detach/reload`) and a
 * running daemon. AF_UNIX SOCK_STREAM, one exchange per connection:
 *
 *   request:  "<command>[ <arguments>]\n"   printable ASCII, at most
 *             WGX_CONTROL_REQUEST_MAX bytes with the newline
 *   response: "ok\n" + payload, or "error <message>\n"; the server closes
 *             the connection after it, which ends the payload
 *
 * The server is built for an event loop it does not own: the listening
 * socket is non-blocking, and wgx_control_server_serve() accepts one
 * connection and answers it synchronously within a short deadline, so a
 * silent or slow client costs the loop at most that long. Only uid 0 (or
 * the server's own uid) is served, checked with SO_PEERCRED.
 */
#ifndef WGX_CONTROL_H
#define WGX_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/un.h>

enum {
	WGX_CONTROL_REQUEST_MAX = 512,
	WGX_CONTROL_PAYLOAD_MAX = 4 << 20,
	WGX_CONTROL_ERROR_MAX = 256,
	/* Client: the whole exchange, so a wedged daemon cannot hang the CLI. */
	WGX_CONTROL_TIMEOUT_MS = 5000,
	/* Server: one connection, from accept to the last byte written. */
	WGX_CONTROL_SERVE_MS = 1000,
};

/* What a handler answers: a payload, or an error message. */
struct wgx_control_reply {
	char *data;
	size_t len;
	size_t cap;
	int err; /* sticky: -ENOMEM, or -EMSGSIZE past the payload limit */
	char error[WGX_CONTROL_ERROR_MAX];
};

/* Append to the payload; 0 or the sticky error. */
int wgx_control_reply_write(struct wgx_control_reply *r, const void *data,
			    size_t len);
__attribute__((format(printf, 2, 3))) int wgx_control_reply_printf(
	struct wgx_control_reply *r, const char *fmt, ...);
/*
 * Set the message sent as "error <message>" and return err, so a handler
 * can `return wgx_control_reply_error(r, -EINVAL, "bad peer");`.
 */
__attribute__((format(printf, 3, 4))) int wgx_control_reply_error(
	struct wgx_control_reply *r, int err, const char *fmt, ...);

/*
 * A handler gets the caller's ctx and the text after "<command> " ("" when
 * none). Return 0 to send "ok" and the payload, or -errno to send "error"
 * with the message set by wgx_control_reply_error() (else strerror).
 */
typedef int (*wgx_control_fn)(void *ctx, const char *args,
			      struct wgx_control_reply *reply);

struct wgx_control_command {
	const char *name; /* [a-z0-9-]+, e.g. "identity", "show-json" */
	wgx_control_fn fn;
};

struct wgx_control_server {
	int fd; /* listening socket: add it to epoll for EPOLLIN */
	/* Ends with { NULL, NULL }; must outlive the server. */
	const struct wgx_control_command *commands;
	void *ctx;
	int timeout_ms; /* per connection; WGX_CONTROL_SERVE_MS by default */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	dev_t dev; /* the socket file we bound, so close() unlinks only it */
	ino_t ino;
	uint64_t served;   /* requests answered */
	uint64_t rejected; /* connections refused, timed out or malformed */
};

/*
 * Bind path (mode 0600; it must not exist: whoever owns the path removes a
 * stale one first) and listen, non-blocking. 0 or -errno.
 */
int wgx_control_server_open(struct wgx_control_server *s, const char *path,
			    const struct wgx_control_command *commands,
			    void *ctx);
/*
 * Accept one pending connection and answer it. 0 when a connection was
 * handled (well or not) or none was pending; -errno only when the
 * listening socket itself failed (e.g. -EMFILE: back off before retrying).
 */
int wgx_control_server_serve(struct wgx_control_server *s);
/* Close the socket and unlink its path if it is still the one we bound. */
void wgx_control_server_close(struct wgx_control_server *s);

/* The client's view of a response. */
struct wgx_control_response {
	char *payload; /* NUL-terminated; NULL before a successful call */
	size_t len;
	char error[WGX_CONTROL_ERROR_MAX]; /* the daemon's or ours */
};

/*
 * Send one request to the daemon at path and read the whole response
 * within timeout_ms (<= 0: WGX_CONTROL_TIMEOUT_MS). Returns 0 on "ok";
 * -EREMOTEIO when the daemon answered "error" (message in resp->error);
 * otherwise -errno with a description in resp->error: -ENOENT (no socket),
 * -ECONNREFUSED (stale socket, nobody listening), -ETIMEDOUT, -EPERM (the
 * server is not root or us), -EPROTO (malformed response), -EMSGSIZE,
 * -EINVAL (bad request). Free resp with wgx_control_response_free().
 */
int wgx_control_call(const char *path, const char *request, int timeout_ms,
		     struct wgx_control_response *resp);
void wgx_control_response_free(struct wgx_control_response *resp);

#endif
