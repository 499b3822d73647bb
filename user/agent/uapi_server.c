// SPDX-License-Identifier: MIT
/*
 * Connections move READ -> QUEUED (a request is complete) -> WRITE (its
 * answer) -> READ again, or are closed after an error answer. Nothing
 * waits: a call that would block returns, and the server's epoll set says
 * when to come back. Bytes read but not yet parsed stay in the
 * connection's buffer (a client may send its next request early); that
 * buffer and the parser's line are wiped, since they may hold keys.
 */
#include "agent/uapi_server.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "core/crypto.h"
#include "util/log.h"

enum {
	LISTEN_BACKLOG = 128,
	EVENTS_PER_SERVE = 16,
	ACCEPTS_PER_SERVE = 8,
	IN_BUF = 64 << 10,
	/* Bytes parsed per connection per serve call: ~1 ms of work. */
	READ_BUDGET = 256 << 10,
	/* Bytes written per connection per serve call. */
	WRITE_CHUNK = 256 << 10,
	ACCEPT_BACKOFF_MS = 1000,
};

enum conn_state {
	CONN_READ,
	CONN_QUEUED,
	CONN_WRITE,
};

struct wgx_uapi_conn {
	struct wgx_uapi_conn *prev, *next;
	int fd;
	enum conn_state state;
	int64_t deadline; /* ms, CLOCK_MONOTONIC */
	int64_t started;  /* first byte of the request under way; 0: none */
	bool eof;	  /* the client shut its side */
	struct wgx_uapi_parser parser;
	size_t in_off, in_len;
	struct wgx_uapi_buf out;
	size_t sent;
	char in[IN_BUF];
};

static char listen_token, timer_token;

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int epoll_set(struct wgx_uapi_server *s, int op, int fd, uint32_t events,
		     void *ptr)
{
	struct epoll_event ev = { .events = events, .data.ptr = ptr };

	return epoll_ctl(s->fd, op, fd, &ev) < 0 ? -errno : 0;
}

static bool peer_allowed(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return false;
	return cred.uid == 0 || cred.uid == geteuid();
}

/* ---- the socket file ---------------------------------------------------- */

/* Somebody answers on path: a live wireguard-go or wgxdp. */
static bool socket_live(const struct sockaddr_un *addr)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	bool live;

	if (fd < 0)
		return false;
	live = connect(fd, (const struct sockaddr *)addr, sizeof(*addr)) == 0 ||
	       errno == EAGAIN;
	close(fd);
	return live;
}

static int make_dir(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;
	struct stat st;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	if (!stat(dir, &st))
		return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int bind_socket(struct wgx_uapi_server *s, const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct stat st;
	int err;

	if (strlen(path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	strcpy(addr.sun_path, path);
	err = make_dir(path);
	if (err)
		return err;
	if (bind(s->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		if (errno != EADDRINUSE)
			return -errno;
		if (socket_live(&addr))
			return -EADDRINUSE;
		/* A dead daemon's socket (crash, kill -9): take it over. */
		wgx_log_warn("replacing stale UAPI socket %s", path);
		unlink(path);
		if (bind(s->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) <
		    0)
			return -errno;
	}
	snprintf(s->path, sizeof(s->path), "%s", path);
	if (chmod(path, 0600) < 0 || stat(path, &st) < 0) {
		err = -errno;
		unlink(path);
		s->path[0] = '\0';
		return err;
	}
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	return 0;
}

int wgx_uapi_server_open(struct wgx_uapi_server *s, const char *path,
			 const struct wgx_uapi_ops *ops, void *ctx)
{
	int err;

	memset(s, 0, sizeof(*s));
	s->fd = s->listen_fd = s->timer_fd = -1;
	s->ops = ops;
	s->ctx = ctx;
	s->stall_ms = WGX_UAPI_STALL_MS;
	s->request_ms = WGX_UAPI_REQUEST_MS;
	s->idle_ms = WGX_UAPI_IDLE_MS;
	s->fd = epoll_create1(EPOLL_CLOEXEC);
	s->timer_fd =
		timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	s->listen_fd =
		socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0 || s->timer_fd < 0 || s->listen_fd < 0) {
		err = -errno;
		goto fail;
	}
	err = bind_socket(s, path);
	if (!err && listen(s->listen_fd, LISTEN_BACKLOG) < 0)
		err = -errno;
	if (!err)
		err = epoll_set(s, EPOLL_CTL_ADD, s->timer_fd, EPOLLIN,
				&timer_token);
	if (!err) {
		err = epoll_set(s, EPOLL_CTL_ADD, s->listen_fd, EPOLLIN,
				&listen_token);
		s->accepting = !err;
	}
	if (!err)
		return 0;
fail:
	if (err == -EADDRINUSE)
		wgx_log_error("Couldn't serve the UAPI at %s: another process "
			      "(wireguard-go, another wgxdp) answers there; "
			      "pick another interface name",
			      path);
	else
		wgx_log_error("Couldn't serve the UAPI at %s: %s", path,
			      strerror(-err));
	wgx_uapi_server_close(s);
	return err;
}

/* ---- connections -------------------------------------------------------- */

static void conn_free(struct wgx_uapi_server *s, struct wgx_uapi_conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		s->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		s->tail = c->prev;
	epoll_set(s, EPOLL_CTL_DEL, c->fd, 0, NULL);
	close(c->fd);
	s->open--;
	wgx_uapi_parser_free(&c->parser);
	wgx_uapi_buf_free(&c->out);
	wgx_crypto_wipe(c->in, sizeof(c->in));
	free(c);
}

static void conn_watch(struct wgx_uapi_server *s, struct wgx_uapi_conn *c,
		       uint32_t events)
{
	/* Should this fail, the deadline closes the connection. */
	if (epoll_set(s, EPOLL_CTL_MOD, c->fd, events, c))
		c->deadline = 0;
}

/* The request is answered: start writing; later READ again or close. */
static void conn_answer(struct wgx_uapi_server *s, struct wgx_uapi_conn *c)
{
	struct wgx_uapi_parser *p = &c->parser;
	int err = p->err;

	if (!err && p->op == WGX_UAPI_OP_GET) {
		err = s->ops->get(s->ctx, &c->out);
		s->gets++;
	} else if (!err) {
		err = s->ops->set(s->ctx, &p->steps);
		s->sets++;
	}
	if (err && p->op == WGX_UAPI_OP_GET)
		wgx_uapi_buf_free(&c->out); /* never half a get */
	if (err) {
		s->errors++;
		wgx_log_warn("UAPI %s refused: %s%s%s",
			     p->op == WGX_UAPI_OP_SET	? "set"
			     : p->op == WGX_UAPI_OP_GET ? "get"
							: "request",
			     p->why[0] ? p->why : strerror(-err),
			     p->why[0] ? ": " : "",
			     p->why[0] ? strerror(-err) : "");
	}
	if (err || p->op != WGX_UAPI_OP_GET)
		wgx_uapi_status(&c->out, err);
	/* The steps (keys among them) are not needed any more. */
	wgx_steps_free(&p->steps);
	c->state = CONN_WRITE;
	c->sent = 0;
	c->deadline = now_ms() + s->stall_ms;
	conn_watch(s, c, EPOLLOUT);
}

static void conn_next(struct wgx_uapi_server *s, struct wgx_uapi_conn *c);

/* Write what the socket takes; then the next request, or close. */
static void conn_write(struct wgx_uapi_server *s, struct wgx_uapi_conn *c)
{
	size_t left = c->out.len - c->sent;
	ssize_t n = 0;

	if (left)
		n = send(c->fd, c->out.data + c->sent,
			 left < WRITE_CHUNK ? left : WRITE_CHUNK,
			 MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {
		conn_free(s, c);
		return;
	}
	c->sent += (size_t)n;
	c->deadline = now_ms() + s->stall_ms;
	if (c->sent < c->out.len)
		return;
	wgx_uapi_buf_free(&c->out);
	if (c->parser.close || c->out.err) {
		conn_free(s, c);
		return;
	}
	conn_next(s, c);
}

/*
 * Feed what is buffered to the parser, reading more while the budget
 * lasts. Returns with the request queued, the connection waiting for
 * bytes, or freed.
 */
static void conn_read(struct wgx_uapi_server *s, struct wgx_uapi_conn *c)
{
	struct wgx_uapi_parser *p = &c->parser;
	size_t budget = READ_BUDGET;

	for (;;) {
		if (c->in_len) {
			size_t used = wgx_uapi_parser_feed(p, c->in + c->in_off,
							   c->in_len);

			if (used && !c->started)
				c->started = now_ms();
			wgx_crypto_wipe(c->in + c->in_off, used);
			c->in_off += used;
			c->in_len -= used;
			if (p->done)
				break;
		}
		if (c->eof) {
			if (!wgx_uapi_parser_eof(p)) {
				conn_free(s, c); /* left between requests */
				return;
			}
			break;
		}
		if (!budget) {
			/* More next call: level-triggered epoll says so. */
			return;
		}
		{
			ssize_t n =
				recv(c->fd, c->in, sizeof(c->in), MSG_DONTWAIT);

			c->in_off = 0;
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				return;
			if (n < 0) {
				conn_free(s, c);
				return;
			}
			if (n == 0) {
				c->eof = true;
				continue;
			}
			c->in_len = (size_t)n;
			budget = (size_t)n >= budget ? 0 : budget - (size_t)n;
			c->deadline = now_ms() + s->stall_ms;
		}
	}
	/* Complete (or failed): wait for our turn to run the handler. */
	c->state = CONN_QUEUED;
	conn_watch(s, c, 0);
}

/* After an answer: the next request (maybe buffered already). */
static void conn_next(struct wgx_uapi_server *s, struct wgx_uapi_conn *c)
{
	wgx_uapi_parser_reset(&c->parser);
	c->state = CONN_READ;
	c->started = 0;
	c->deadline = now_ms() + s->idle_ms;
	conn_watch(s, c, EPOLLIN);
	if (c->in_len || c->eof)
		conn_read(s, c);
}

static void conn_new(struct wgx_uapi_server *s, int fd)
{
	struct wgx_uapi_conn *c;

	if (!peer_allowed(fd)) {
		/* The socket is 0600 root's: only a bug of ours lets one in. */
		s->rejected++;
		wgx_log_warn("Refused UAPI connection: peer is not root");
		close(fd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c || epoll_set(s, EPOLL_CTL_ADD, fd, EPOLLIN, c)) {
		s->rejected++;
		wgx_log_warn("Couldn't serve UAPI connection: %s",
			     c ? strerror(errno) : "out of memory");
		free(c);
		close(fd);
		return;
	}
	c->fd = fd;
	wgx_uapi_parser_init(&c->parser);
	c->deadline = now_ms() + s->idle_ms;
	c->prev = s->tail;
	if (s->tail)
		s->tail->next = c;
	else
		s->head = c;
	s->tail = c;
	s->open++;
}

static int accept_some(struct wgx_uapi_server *s)
{
	for (int i = 0; i < ACCEPTS_PER_SERVE; i++) {
		int fd;

		if (s->open >= WGX_UAPI_CONN_MAX)
			return 0;
		fd = accept4(s->listen_fd, NULL, NULL,
			     SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0 && (errno == EAGAIN || errno == EINTR ||
			       errno == ECONNABORTED))
			return 0;
		if (fd < 0) {
			int err = -errno;

			wgx_log_error("Couldn't accept UAPI connection: %s; "
				      "retrying in %d ms",
				      strerror(-err), ACCEPT_BACKOFF_MS);
			s->accept_after = now_ms() + ACCEPT_BACKOFF_MS;
			return err;
		}
		conn_new(s, fd);
	}
	return 0;
}

static void conn_event(struct wgx_uapi_server *s, struct wgx_uapi_conn *c)
{
	if (c->state == CONN_READ)
		conn_read(s, c);
	else if (c->state == CONN_WRITE)
		conn_write(s, c);
}

/* Run the oldest complete request, if any. */
static void run_queued(struct wgx_uapi_server *s)
{
	struct wgx_uapi_conn *c;

	for (c = s->head; c && c->state != CONN_QUEUED; c = c->next)
		;
	if (!c)
		return;
	conn_answer(s, c);
	conn_write(s, c);
}

/* A request that stopped coming is answered; an idle client closed. */
static void expire(struct wgx_uapi_server *s, int64_t now)
{
	struct wgx_uapi_conn *c, *next;

	for (c = s->head; c; c = next) {
		bool late;

		next = c->next;
		late = c->deadline <= now ||
		       (c->state == CONN_READ && c->started &&
			now >= c->started + s->request_ms);
		if (c->state == CONN_QUEUED || !late)
			continue;
		s->rejected++;
		if (c->state == CONN_READ && c->started) {
			struct wgx_uapi_parser *p = &c->parser;

			if (!p->err) {
				p->err = -ETIMEDOUT;
				snprintf(p->why, sizeof(p->why),
					 "the client stopped mid-request");
			}
			p->close = true;
			p->done = true;
			c->state = CONN_QUEUED;
			conn_watch(s, c, 0);
			continue;
		}
		conn_free(s, c);
	}
}

static void update_accepting(struct wgx_uapi_server *s, int64_t now)
{
	bool want = s->open < WGX_UAPI_CONN_MAX && now >= s->accept_after;

	if (want == s->accepting)
		return;
	if (!epoll_set(s, want ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, s->listen_fd,
		       EPOLLIN, &listen_token))
		s->accepting = want;
}

static void arm_timer(struct wgx_uapi_server *s, int64_t now)
{
	struct itimerspec its = { 0 };
	int64_t next = INT64_MAX;

	for (const struct wgx_uapi_conn *c = s->head; c; c = c->next) {
		int64_t due = c->state == CONN_QUEUED ? 0 : c->deadline;

		if (c->state == CONN_READ && c->started &&
		    c->started + s->request_ms < due)
			due = c->started + s->request_ms;
		if (due < next)
			next = due;
	}
	if (!s->accepting && s->accept_after > now && s->accept_after < next)
		next = s->accept_after;
	if (next != INT64_MAX) {
		next = next > 0 ? next : 1;
		its.it_value.tv_sec = next / 1000;
		its.it_value.tv_nsec = (long)(next % 1000) * 1000000;
	}
	timerfd_settime(s->timer_fd, TFD_TIMER_ABSTIME, &its, NULL);
}

int wgx_uapi_server_serve(struct wgx_uapi_server *s)
{
	struct epoll_event evs[EVENTS_PER_SERVE];
	uint64_t ticks;
	int n, ret = 0;
	int64_t now;

	if (s->fd < 0)
		return -EBADF;
	n = epoll_wait(s->fd, evs, EVENTS_PER_SERVE, 0);
	for (int i = 0; i < n; i++) {
		void *ptr = evs[i].data.ptr;

		if (ptr == &listen_token)
			ret = accept_some(s);
		else if (ptr == &timer_token) {
			if (read(s->timer_fd, &ticks, sizeof(ticks)) < 0) {
				/* Only its readiness mattered. */
			}
		} else {
			conn_event(s, ptr);
		}
	}
	run_queued(s);
	now = now_ms();
	expire(s, now);
	update_accepting(s, now);
	arm_timer(s, now);
	return ret;
}

void wgx_uapi_server_close(struct wgx_uapi_server *s)
{
	struct stat st;

	while (s->head)
		conn_free(s, s->head);
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	if (s->timer_fd >= 0)
		close(s->timer_fd);
	if (s->fd >= 0)
		close(s->fd);
	s->fd = s->listen_fd = s->timer_fd = -1;
	/* Another process may have taken the path since: leave theirs. */
	if (s->path[0] && !stat(s->path, &st) && st.st_dev == s->dev &&
	    st.st_ino == s->ino)
		unlink(s->path);
	s->path[0] = '\0';
}
