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
 * The server is built for an event loop it does not own and never blocks
 * it: s->fd is an epoll set of the server's own (the listening socket, its
 * connections and a timerfd for their deadlines), readable whenever the
 * server has work. wgx_control_server_serve() does what is ready and
 * returns: accept, read what came of a request, run at most one handler,
 * write what the sockets take. A request must arrive within timeout_ms of
 * the accept; an answer must keep moving (no byte taken for stall_ms and
 * the connection is closed). At most WGX_CONTROL_CONN_MAX connections are
 * served at once; more wait in the listen backlog. Only uid 0 (or the
 * server's own uid) is served, checked with SO_PEERCRED.
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
	/*
	 * A sanity bound, not a working limit. show-json costs about 250
	 * bytes a peer (4 MiB ran out near 17,000 peers), so 100,000 peers
	 * are ~25 MiB and 1 GiB leaves 40 times that. It stops a runaway
	 * handler, or a client reading from something that is not a wgxdp
	 * daemon, before it eats the host's memory, and keeps every length
	 * far from INT_MAX.
	 */
	WGX_CONTROL_PAYLOAD_MAX = 1 << 30,
	WGX_CONTROL_ERROR_MAX = 256,
	/*
	 * Client: the longest silence (connecting, sending, waiting for the
	 * answer or its next bytes), so a wedged daemon fails in bounded
	 * time while an answer that keeps coming is read whole.
	 */
	WGX_CONTROL_TIMEOUT_MS = 5000,
	/* Server: from accept to the end of the request line. */
	WGX_CONTROL_SERVE_MS = 1000,
	/* Server: an answer the client takes no byte of for this long. */
	WGX_CONTROL_STALL_MS = 5000,
	/* Server: connections served at once; more wait in the backlog. */
	WGX_CONTROL_CONN_MAX = 64,
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
/*
 * Append a malloc'd buffer of len bytes (capacity cap > len), taking it
 * over: the payload itself when it is the first, so a large answer is not
 * copied. 0 or the sticky error (buf is freed either way).
 */
int wgx_control_reply_adopt(struct wgx_control_reply *r, char *buf, size_t len,
			    size_t cap);
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

struct wgx_control_conn; /* one connection being served (private) */

struct wgx_control_server {
	/* The server's epoll set: add it to the loop for EPOLLIN. */
	int fd;
	int listen_fd;
	int timer_fd; /* fires at the next deadline: s->fd turns readable */
	/* Ends with { NULL, NULL }; must outlive the server. */
	const struct wgx_control_command *commands;
	void *ctx;
	int timeout_ms; /* request; WGX_CONTROL_SERVE_MS by default */
	int stall_ms;	/* answer progress; WGX_CONTROL_STALL_MS by default */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	dev_t dev; /* the socket file we bound, so close() unlinks only it */
	ino_t ino;
	uint64_t served;      /* requests answered */
	uint64_t rejected;    /* connections refused, timed out or malformed */
	unsigned int open;    /* connections being served now */
	bool accepting;	      /* listen_fd is in the set */
	int64_t accept_after; /* ms: accept again after running out of fds */
	struct wgx_control_conn *head, *tail; /* oldest first */
};

/*
 * Bind path (mode 0600; it must not exist: whoever owns the path removes a
 * stale one first) and listen, non-blocking. 0 or -errno.
 */
int wgx_control_server_open(struct wgx_control_server *s, const char *path,
			    const struct wgx_control_command *commands,
			    void *ctx);
/*
 * Do what is ready, without blocking: call it whenever s->fd is readable.
 * 0, or -errno when the listening socket itself failed (e.g. -EMFILE:
 * accepting pauses for a moment and resumes by itself).
 */
int wgx_control_server_serve(struct wgx_control_server *s);
/*
 * Close every connection and the socket, and unlink its path if it is
 * still the one we bound. Harmless on a closed server, or one whose
 * open failed.
 */
void wgx_control_server_close(struct wgx_control_server *s);

/* The client's view of a response. */
struct wgx_control_response {
	char *payload; /* NUL-terminated; NULL before a successful call */
	size_t len;
	char error[WGX_CONTROL_ERROR_MAX]; /* the daemon's or ours */
};

/*
 * Send one request to the daemon at path and read the whole response,
 * however long, failing when the daemon stays silent for timeout_ms
 * (<= 0: WGX_CONTROL_TIMEOUT_MS) at any point. Returns 0 on "ok";
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
