// SPDX-License-Identifier: MIT
/*
 * The server never waits: its sockets are non-blocking and its own epoll
 * set says when to come back, so a slow or silent client costs the
 * agent's loop no time. Requests have a fixed deadline (a trickling client
 * cannot stretch it); answers, which may be large, a deadline that moves
 * with progress. The client waits in poll() against the same kind of
 * moving deadline.
 */
#include "agent/control.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"

enum {
	COMMAND_NAME_MAX = 32,
	/* Largest response a client accepts: status line plus payload. */
	RESPONSE_MAX = WGX_CONTROL_PAYLOAD_MAX + WGX_CONTROL_ERROR_MAX + 16,
	/* Connections that may wait while WGX_CONTROL_CONN_MAX are served. */
	LISTEN_BACKLOG = 128,
	/* Per serve call; what is left stays ready for the next call. */
	EVENTS_PER_SERVE = 16,
	ACCEPTS_PER_SERVE = 8,
	/*
	 * Bytes written to one connection per serve call, about a socket
	 * buffer: a fast reader cannot keep one call going.
	 */
	WRITE_CHUNK = 256 << 10,
	/*
	 * Answer memory given back per serve call. Returning pages to the
	 * kernel costs 40-70 us a MiB here: freeing a 64 MiB answer at once
	 * held the loop 3-5 ms; in 8 MiB slices a call takes ~0.5 ms.
	 */
	RELEASE_SLICE = 8 << 20,
	/* After EMFILE and the like, accepting pauses this long. */
	ACCEPT_BACKOFF_MS = 1000,
};

/* ---- reply buffer (server side) ---- */

int wgx_control_reply_write(struct wgx_control_reply *r, const void *data,
			    size_t len)
{
	if (r->err)
		return r->err;
	if (len > WGX_CONTROL_PAYLOAD_MAX - r->len)
		return r->err = -EMSGSIZE;
	if (r->len + len + 1 > r->cap) {
		size_t cap = r->cap ? r->cap : 1024;
		char *p;

		while (cap < r->len + len + 1)
			cap *= 2;
		p = realloc(r->data, cap);
		if (!p)
			return r->err = -ENOMEM;
		r->data = p;
		r->cap = cap;
	}
	memcpy(r->data + r->len, data, len);
	r->len += len;
	r->data[r->len] = '\0';
	return 0;
}

int wgx_control_reply_adopt(struct wgx_control_reply *r, char *buf, size_t len,
			    size_t cap)
{
	int err;

	if (!r->err && !r->len && len < cap && len <= WGX_CONTROL_PAYLOAD_MAX) {
		free(r->data);
		r->data = buf;
		r->len = len;
		r->cap = cap;
		r->data[len] = '\0';
		return 0;
	}
	err = wgx_control_reply_write(r, buf, len);
	free(buf);
	return err;
}

int wgx_control_reply_printf(struct wgx_control_reply *r, const char *fmt, ...)
{
	char small[256], *heap;
	va_list ap;
	int n, ret;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return r->err ? r->err : (r->err = -EINVAL);
	if ((size_t)n < sizeof(small))
		return wgx_control_reply_write(r, small, (size_t)n);
	/* Too big for the stack buffer: format again into the heap. */
	heap = malloc((size_t)n + 1);
	if (!heap)
		return r->err ? r->err : (r->err = -ENOMEM);
	va_start(ap, fmt);
	vsnprintf(heap, (size_t)n + 1, fmt, ap);
	va_end(ap);
	ret = wgx_control_reply_write(r, heap, (size_t)n);
	free(heap);
	return ret;
}

/* Status lines are one line of printable text whatever a handler wrote. */
static void sanitize_line(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			*s = '?';
}

int wgx_control_reply_error(struct wgx_control_reply *r, int err,
			    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->error, sizeof(r->error), fmt, ap);
	va_end(ap);
	sanitize_line(r->error);
	return err;
}

static void reply_free(struct wgx_control_reply *r)
{
	free(r->data);
	memset(r, 0, sizeof(*r));
}

/* ---- deadlines and I/O shared by both ends ---- */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = events };

	for (;;) {
		int64_t left = deadline - now_ms();
		int n;

		if (left <= 0)
			return -ETIMEDOUT;
		n = poll(&p, 1, (int)left);
		if (n > 0)
			return 0;
		if (n == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

static int write_all(int fd, const char *data, size_t len, int64_t deadline)
{
	while (len) {
		ssize_t n = send(fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		int ret;

		if (n > 0) {
			data += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN)
			return -errno;
		ret = wait_fd(fd, POLLOUT, deadline);
		if (ret)
			return ret;
	}
	return 0;
}

/* One read within the deadline: bytes read, 0 at EOF, or -errno. */
static ssize_t read_some(int fd, char *buf, size_t len, int64_t deadline)
{
	for (;;) {
		ssize_t n = recv(fd, buf, len, MSG_DONTWAIT);
		int ret;

		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -errno;
		ret = wait_fd(fd, POLLIN, deadline);
		if (ret)
			return ret;
	}
}

static bool uid_allowed(uid_t uid)
{
	return uid == 0 || uid == geteuid();
}

static bool peer_allowed(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return false;
	return uid_allowed(cred.uid);
}

static int fill_addr(struct sockaddr_un *addr, const char *path)
{
	memset(addr, 0, sizeof(*addr));
	addr->sun_family = AF_UNIX;
	if (!path || !*path)
		return -EINVAL;
	if (strlen(path) >= sizeof(addr->sun_path))
		return -ENAMETOOLONG;
	strcpy(addr->sun_path, path);
	return 0;
}

/* ---- server ---- */

/*
 * Each connection moves through these states. Nothing here waits: a call
 * that would block returns, and epoll says when to come back.
 */
enum conn_state {
	CONN_READ,   /* reading the request line, until deadline */
	CONN_QUEUED, /* request complete, waiting for its turn to run */
	CONN_WRITE,  /* writing the answer; deadline moves with progress */
	CONN_DONE,   /* closed; its answer's pages still being given back */
};

struct wgx_control_conn {
	struct wgx_control_conn *prev, *next;
	int fd;
	enum conn_state state;
	int64_t deadline; /* ms, CLOCK_MONOTONIC */
	size_t req_len;
	char req[WGX_CONTROL_REQUEST_MAX + 1];
	char head[WGX_CONTROL_ERROR_MAX + 16]; /* "ok\n" or "error ...\n" */
	size_t head_len;
	size_t sent;	 /* bytes of head, then payload, written */
	size_t released; /* payload bytes whose pages went back (CONN_DONE) */
	struct wgx_control_reply reply;
};

/* What an epoll event points at, when it is not a connection. */
static char listen_token, timer_token;

static int epoll_set(struct wgx_control_server *s, int op, int fd,
		     uint32_t events, void *ptr)
{
	struct epoll_event ev = { .events = events, .data.ptr = ptr };

	return epoll_ctl(s->fd, op, fd, &ev) < 0 ? -errno : 0;
}

int wgx_control_server_open(struct wgx_control_server *s, const char *path,
			    const struct wgx_control_command *commands,
			    void *ctx)
{
	struct sockaddr_un addr;
	struct stat st;
	int ret;

	memset(s, 0, sizeof(*s));
	s->fd = s->listen_fd = s->timer_fd = -1;
	s->commands = commands;
	s->ctx = ctx;
	s->timeout_ms = WGX_CONTROL_SERVE_MS;
	s->stall_ms = WGX_CONTROL_STALL_MS;
	ret = fill_addr(&addr, path);
	if (ret)
		goto err;
	s->fd = epoll_create1(EPOLL_CLOEXEC);
	s->timer_fd =
		timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	s->listen_fd =
		socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0 || s->timer_fd < 0 || s->listen_fd < 0) {
		ret = -errno;
		goto err;
	}
	if (bind(s->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		ret = -errno;
		goto err;
	}
	snprintf(s->path, sizeof(s->path), "%s", path);
	/*
	 * bind() honours the umask; set 0600 explicitly. Until then the
	 * 0700 runtime directory keeps everyone else out.
	 */
	if (chmod(path, 0600) < 0 || stat(path, &st) < 0 ||
	    listen(s->listen_fd, LISTEN_BACKLOG) < 0) {
		ret = -errno;
		unlink(path);
		goto err;
	}
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	ret = epoll_set(s, EPOLL_CTL_ADD, s->timer_fd, EPOLLIN, &timer_token);
	if (!ret)
		ret = epoll_set(s, EPOLL_CTL_ADD, s->listen_fd, EPOLLIN,
				&listen_token);
	if (ret) {
		unlink(path);
		goto err;
	}
	s->accepting = true;
	return 0;
err:
	wgx_log_error("Couldn't open control socket %s: %s", path,
		      strerror(-ret));
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	if (s->timer_fd >= 0)
		close(s->timer_fd);
	if (s->fd >= 0)
		close(s->fd);
	s->fd = s->listen_fd = s->timer_fd = -1;
	s->path[0] = '\0';
	return ret;
}

/* Printable ASCII, no NUL, not empty: else -EPROTO. */
static int check_request(const char *req, size_t len)
{
	if (!len || memchr(req, '\0', len))
		return -EPROTO;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)req[i] < 0x20 ||
		    (unsigned char)req[i] > 0x7e)
			return -EPROTO;
	return 0;
}

/*
 * Read what has come of the request line. 1 once it is complete (newline
 * stripped), 0 for more, or -EMSGSIZE (too long), -EPROTO (not printable
 * ASCII, or empty), -ENODATA (connected and left) or the I/O error.
 */
static int conn_read(struct wgx_control_conn *c)
{
	size_t room = WGX_CONTROL_REQUEST_MAX - c->req_len;
	ssize_t n = recv(c->fd, c->req + c->req_len, room, MSG_DONTWAIT);
	char *nl;
	int ret;

	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	nl = memchr(c->req + c->req_len, '\n', (size_t)n);
	c->req_len += (size_t)n;
	if (nl)
		c->req_len = (size_t)(nl - c->req);
	else if (n == 0 && !c->req_len)
		return -ENODATA;
	else if (n && c->req_len >= WGX_CONTROL_REQUEST_MAX)
		return -EMSGSIZE;
	else if (n) /* EOF ends a request that has no newline */
		return 0;
	c->req[c->req_len] = '\0';
	ret = check_request(c->req, c->req_len);
	return ret ? ret : 1;
}

static const struct wgx_control_command *find_command(
	const struct wgx_control_command *cmds, const char *name)
{
	for (; cmds && cmds->name; cmds++)
		if (!strcmp(cmds->name, name))
			return cmds;
	return NULL;
}

static bool valid_command_name(const char *name)
{
	size_t len = strlen(name);

	if (!len || len > COMMAND_NAME_MAX)
		return false;
	return strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-") == len;
}

/* Run the request through the table; fills r and returns 0 or -errno. */
static int dispatch(struct wgx_control_server *s, char *req,
		    struct wgx_control_reply *r)
{
	const struct wgx_control_command *cmd;
	char *args = strchr(req, ' ');

	if (args)
		*args++ = '\0';
	else
		args = req + strlen(req);
	if (!valid_command_name(req))
		return wgx_control_reply_error(r, -EINVAL,
					       "malformed command name");
	cmd = find_command(s->commands, req);
	if (!cmd)
		return wgx_control_reply_error(r, -EOPNOTSUPP,
					       "unknown command '%s'", req);
	return cmd->fn(s->ctx, args, r);
}

static void conn_free(struct wgx_control_server *s, struct wgx_control_conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		s->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		s->tail = c->prev;
	reply_free(&c->reply);
	free(c);
}

/*
 * Give the pages of c's payload back to the kernel, up to budget bytes;
 * returns how many. Only whole pages inside the allocation, none of which
 * is read again, so the allocator's own data is never touched.
 */
static size_t conn_release(struct wgx_control_conn *c, size_t budget)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t base = (uintptr_t)c->reply.data;
	uintptr_t from = (base + c->released + page - 1) & ~(page - 1);
	uintptr_t to = (base + c->reply.len) & ~(page - 1);

	if (!c->reply.data || to <= from)
		return 0;
	if (to - from > budget)
		to = from + (budget & ~(page - 1));
	madvise((void *)from, to - from, MADV_DONTNEED);
	c->released = to - base;
	return to - from;
}

/*
 * End the connection now; a big answer's memory goes back over the next
 * serve calls (see RELEASE_SLICE), a small one at once.
 */
static void conn_close(struct wgx_control_server *s, struct wgx_control_conn *c)
{
	/*
	 * Out of the set before close(): a forked child may still hold the
	 * socket, and then close() alone would leave its events coming.
	 */
	epoll_set(s, EPOLL_CTL_DEL, c->fd, 0, NULL);
	close(c->fd);
	c->fd = -1;
	c->state = CONN_DONE;
	s->open--;
	if (c->reply.len - c->released <= RELEASE_SLICE)
		conn_free(s, c);
}

/* Give back up to RELEASE_SLICE of closed connections' answers. */
static void reap(struct wgx_control_server *s)
{
	struct wgx_control_conn *c, *next;
	size_t budget = RELEASE_SLICE;

	for (c = s->head; c && budget; c = next) {
		size_t n;

		next = c->next;
		if (c->state != CONN_DONE)
			continue;
		n = conn_release(c, budget);
		budget -= n;
		if (budget)
			conn_free(s, c);
	}
}

/* Put the status line in c->head, then write it (and any payload). */
static void conn_answer(struct wgx_control_server *s,
			struct wgx_control_conn *c, int status)
{
	struct wgx_control_reply *r = &c->reply;

	if (!status && r->err)
		status = wgx_control_reply_error(r, r->err, "%s",
						 r->err == -EMSGSIZE
							 ? "response too large"
							 : strerror(-r->err));
	if (status) {
		if (!r->error[0])
			snprintf(r->error, sizeof(r->error), "%s",
				 strerror(status < 0 ? -status : EIO));
		snprintf(c->head, sizeof(c->head), "error %s\n", r->error);
		/* An error drops the payload: free it now. */
		free(r->data);
		r->data = NULL;
		r->len = r->cap = 0;
	} else {
		snprintf(c->head, sizeof(c->head), "ok\n");
	}
	c->head_len = strlen(c->head);
	c->state = CONN_WRITE;
	c->deadline = now_ms() + s->stall_ms;
	if (epoll_set(s, EPOLL_CTL_MOD, c->fd, EPOLLOUT, c))
		c->deadline = 0; /* cannot be driven: expire it */
}

/*
 * Write what the socket takes, at most WRITE_CHUNK so that a fast reader
 * cannot keep one call going. 1 when all is written, 0 for more, -errno.
 */
static int conn_write(struct wgx_control_server *s, struct wgx_control_conn *c)
{
	const struct wgx_control_reply *r = &c->reply;
	struct iovec iov[2];
	struct msghdr msg = { .msg_iov = iov };
	size_t off = c->sent > c->head_len ? c->sent - c->head_len : 0;
	ssize_t n;

	if (c->sent < c->head_len)
		iov[msg.msg_iovlen++] = (struct iovec){
			.iov_base = c->head + c->sent,
			.iov_len = c->head_len - c->sent,
		};
	if (off < r->len)
		iov[msg.msg_iovlen++] = (struct iovec){
			.iov_base = r->data + off,
			.iov_len = r->len - off < WRITE_CHUNK ? r->len - off
							      : WRITE_CHUNK,
		};
	if (!msg.msg_iovlen)
		return 1;
	n = sendmsg(c->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	c->sent += (size_t)n;
	c->deadline = now_ms() + s->stall_ms;
	return c->sent == c->head_len + r->len;
}

/* After conn_answer(): write, and close once done or failed. */
static void conn_flush(struct wgx_control_server *s, struct wgx_control_conn *c)
{
	int ret = conn_write(s, c);

	if (ret < 0)
		wgx_log_debug("Couldn't send control response: %s",
			      strerror(-ret));
	if (ret)
		conn_close(s, c);
}

static void conn_request(struct wgx_control_server *s,
			 struct wgx_control_conn *c)
{
	int ret = conn_read(c);
	const char *why;

	if (!ret)
		return;
	if (ret == 1) {
		/* Handlers run one per serve call, oldest first: queue. */
		c->state = CONN_QUEUED;
		/* Should this fail, it only wakes us until the handler ran. */
		epoll_set(s, EPOLL_CTL_MOD, c->fd, 0, c);
		return;
	}
	s->rejected++;
	if (ret == -EMSGSIZE || ret == -EPROTO) {
		why = ret == -EMSGSIZE ? "request too long"
				       : "malformed request";
		conn_answer(s, c,
			    wgx_control_reply_error(&c->reply, ret, "%s", why));
		conn_flush(s, c);
		return;
	}
	/* Gone or broken: nobody to answer. */
	wgx_log_debug("Couldn't read control request: %s", strerror(-ret));
	conn_close(s, c);
}

static void conn_event(struct wgx_control_server *s, struct wgx_control_conn *c)
{
	if (c->state == CONN_READ)
		conn_request(s, c);
	else if (c->state == CONN_WRITE)
		conn_flush(s, c);
	/* CONN_QUEUED listens for nothing; a hang-up waits for its turn. */
}

/* Run the oldest complete request, if any, and start its answer. */
static void run_queued(struct wgx_control_server *s)
{
	struct wgx_control_conn *c;
	int status;

	for (c = s->head; c && c->state != CONN_QUEUED; c = c->next)
		;
	if (!c)
		return;
	status = dispatch(s, c->req, &c->reply);
	s->served++;
	conn_answer(s, c, status);
	conn_flush(s, c);
}

static void conn_new(struct wgx_control_server *s, int fd)
{
	struct wgx_control_conn *c = calloc(1, sizeof(*c));
	bool allowed = peer_allowed(fd);
	int err = c ? epoll_set(s, EPOLL_CTL_ADD, fd, allowed ? EPOLLIN : 0, c)
		    : -ENOMEM;

	if (err) {
		s->rejected++;
		wgx_log_warn("Couldn't serve control connection: %s",
			     strerror(-err));
		free(c);
		close(fd);
		return;
	}
	c->fd = fd;
	c->deadline = now_ms() + s->timeout_ms;
	c->prev = s->tail;
	if (s->tail)
		s->tail->next = c;
	else
		s->head = c;
	s->tail = c;
	s->open++;
	if (allowed)
		return;
	s->rejected++;
	wgx_log_warn("Refused control connection: peer is not root");
	conn_answer(s, c,
		    wgx_control_reply_error(&c->reply, -EPERM,
					    "permission denied"));
	conn_flush(s, c);
}

/* Accept what is pending, up to the connection cap. 0 or -errno. */
static int accept_some(struct wgx_control_server *s)
{
	for (int i = 0; i < ACCEPTS_PER_SERVE; i++) {
		int fd;

		if (s->open >= WGX_CONTROL_CONN_MAX)
			return 0; /* the rest wait in the backlog */
		fd = accept4(s->listen_fd, NULL, NULL,
			     SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0 && (errno == EAGAIN || errno == EINTR ||
			       errno == ECONNABORTED))
			return 0;
		if (fd < 0) {
			int err = -errno;

			/* Out of fds or memory: pause instead of spinning. */
			wgx_log_error("Couldn't accept control connection: %s; "
				      "retrying in %d ms",
				      strerror(-err), ACCEPT_BACKOFF_MS);
			s->accept_after = now_ms() + ACCEPT_BACKOFF_MS;
			return err;
		}
		conn_new(s, fd);
	}
	return 0;
}

/* Close what missed its deadline; requests that never came count. */
static void expire(struct wgx_control_server *s, int64_t now)
{
	struct wgx_control_conn *c = s->head, *next;

	for (; c; c = next) {
		next = c->next;
		if (c->state == CONN_QUEUED || c->state == CONN_DONE ||
		    c->deadline > now)
			continue;
		if (c->state == CONN_READ) {
			s->rejected++;
			wgx_log_debug("Control client sent no request within "
				      "%d ms",
				      s->timeout_ms);
		} else {
			wgx_log_debug("Control client took no response byte "
				      "for %d ms",
				      s->stall_ms);
		}
		conn_close(s, c);
	}
}

/* Listen while there is room and no back-off; else leave the backlog. */
static void update_accepting(struct wgx_control_server *s, int64_t now)
{
	bool want = s->open < WGX_CONTROL_CONN_MAX && now >= s->accept_after;

	if (want == s->accepting)
		return;
	if (!epoll_set(s, want ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, s->listen_fd,
		       EPOLLIN, &listen_token))
		s->accepting = want;
}

/*
 * Arm the timer for the earliest deadline, so that it expires (and s->fd
 * turns readable) with no other event. A queued request is due now, and
 * so is the memory of a closed connection.
 */
static void arm_timer(struct wgx_control_server *s, int64_t now)
{
	struct itimerspec its = { 0 };
	int64_t next = INT64_MAX;

	for (const struct wgx_control_conn *c = s->head; c; c = c->next) {
		bool due_now = c->state == CONN_QUEUED || c->state == CONN_DONE;
		int64_t due = due_now ? 0 : c->deadline;

		if (due < next)
			next = due;
	}
	/* A back-off still running; not the cap, which a close ends. */
	if (!s->accepting && s->accept_after > now && s->accept_after < next)
		next = s->accept_after;
	if (next != INT64_MAX) {
		/* Absolute; a time already past (even 0) expires at once. */
		next = next > 0 ? next : 1;
		its.it_value.tv_sec = next / 1000;
		its.it_value.tv_nsec = (long)(next % 1000) * 1000000;
	}
	timerfd_settime(s->timer_fd, TFD_TIMER_ABSTIME, &its, NULL);
}

/* Only to clear its readiness: arm_timer() works out what is due. */
static void drain_timer(struct wgx_control_server *s)
{
	uint64_t ticks;

	if (read(s->timer_fd, &ticks, sizeof(ticks)) < 0)
		return;
}

int wgx_control_server_serve(struct wgx_control_server *s)
{
	struct epoll_event evs[EVENTS_PER_SERVE];
	int n, ret = 0;
	int64_t now;

	if (s->fd < 0)
		return -EBADF;
	n = epoll_wait(s->fd, evs, EVENTS_PER_SERVE, 0);
	for (int i = 0; i < n; i++) {
		void *ptr = evs[i].data.ptr;

		if (ptr == &listen_token)
			ret = accept_some(s);
		else if (ptr == &timer_token)
			drain_timer(s);
		else
			conn_event(s, ptr);
	}
	run_queued(s);
	now = now_ms();
	expire(s, now);
	reap(s);
	update_accepting(s, now);
	arm_timer(s, now);
	return ret;
}

void wgx_control_server_close(struct wgx_control_server *s)
{
	struct stat st;

	/* A failed open leaves every fd at -1; s->fd says it is open. */
	if (s->fd >= 0) {
		while (s->head) {
			if (s->head->state == CONN_DONE)
				conn_free(s, s->head);
			else
				conn_close(s, s->head); /* DONE, or freed */
		}
		close(s->listen_fd);
		close(s->timer_fd);
		close(s->fd);
	}
	s->fd = s->listen_fd = s->timer_fd = -1;
	/* Another instance may have taken the path since: leave theirs. */
	if (s->path[0] && !stat(s->path, &st) && st.st_dev == s->dev &&
	    st.st_ino == s->ino)
		unlink(s->path);
	s->path[0] = '\0';
}

/* ---- client ---- */

void wgx_control_response_free(struct wgx_control_response *resp)
{
	free(resp->payload);
	resp->payload = NULL;
	resp->len = 0;
}

static int client_fail(struct wgx_control_response *resp, int err,
		       const char *what)
{
	snprintf(resp->error, sizeof(resp->error), "%s: %s", what,
		 strerror(-err));
	return err;
}

static bool valid_request(const char *req)
{
	size_t len = strlen(req);

	if (!len || len + 1 > WGX_CONTROL_REQUEST_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)req[i] < 0x20 ||
		    (unsigned char)req[i] > 0x7e)
			return false;
	return true;
}

static int client_connect(const char *path, int timeout_ms,
			  struct wgx_control_response *resp)
{
	struct timeval tv = { .tv_sec = timeout_ms / 1000,
			      .tv_usec = (timeout_ms % 1000) * 1000 };
	struct sockaddr_un addr;
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	int fd, ret;

	ret = fill_addr(&addr, path);
	if (ret)
		return client_fail(resp, ret, "bad socket path");
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return client_fail(resp, -errno, "socket");
	/* A blocking AF_UNIX connect waits for backlog room: bound it. */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		ret = errno == EAGAIN || errno == EINPROGRESS ? -ETIMEDOUT
							      : -errno;
		goto err;
	}
	/* Talk only to a daemon run by root (or by us, for tests). */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0) {
		ret = -errno;
		goto err;
	}
	if (!uid_allowed(cred.uid)) {
		ret = -EPERM;
		goto err;
	}
	return fd;
err:
	close(fd);
	return client_fail(resp, ret, "connect");
}

/* Room for at least one more byte and the NUL; 0, -EMSGSIZE, -ENOMEM. */
static int grow(char **buf, size_t *cap, size_t len)
{
	size_t want = *cap * 2;
	char *p;

	if (*cap - len >= 2)
		return 0;
	if (*cap >= RESPONSE_MAX + 1)
		return -EMSGSIZE;
	if (want > RESPONSE_MAX + 1)
		want = RESPONSE_MAX + 1;
	p = realloc(*buf, want);
	if (!p)
		return -ENOMEM;
	*buf = p;
	*cap = want;
	return 0;
}

/*
 * Read until EOF; a reset after some data still ends the response. Each
 * byte that arrives gives the daemon another timeout_ms: a big answer is
 * read whole, a daemon that stops sending fails within timeout_ms.
 */
static int read_response(int fd, char **out, size_t *out_len, int timeout_ms)
{
	size_t len = 0, cap = 64 << 10;
	char *buf = malloc(cap);
	int ret = buf ? 0 : -ENOMEM;

	while (!ret) {
		ssize_t n;

		ret = grow(&buf, &cap, len);
		if (ret)
			break;
		n = read_some(fd, buf + len, cap - 1 - len,
			      now_ms() + timeout_ms);
		if (n == 0 || (n == -ECONNRESET && len))
			break;
		if (n < 0)
			ret = (int)n;
		else
			len += (size_t)n;
	}
	if (ret) {
		free(buf);
		return ret;
	}
	buf[len] = '\0';
	*out = buf;
	*out_len = len;
	return 0;
}

/* Split "ok\n<payload>" / "error <message>\n" into resp. */
static int parse_response(char *buf, size_t len,
			  struct wgx_control_response *resp)
{
	char *nl = memchr(buf, '\n', len);
	size_t head;

	if (!nl)
		return client_fail(resp, -EPROTO, "malformed response");
	*nl = '\0';
	head = (size_t)(nl - buf) + 1;
	if (!strcmp(buf, "ok")) {
		memmove(buf, buf + head, len - head + 1);
		resp->payload = buf;
		resp->len = len - head;
		return 0;
	}
	if (!strncmp(buf, "error ", 6)) {
		snprintf(resp->error, sizeof(resp->error), "%s", buf + 6);
		sanitize_line(resp->error);
		free(buf);
		return -EREMOTEIO;
	}
	free(buf);
	return client_fail(resp, -EPROTO, "malformed response");
}

int wgx_control_call(const char *path, const char *request, int timeout_ms,
		     struct wgx_control_response *resp)
{
	char line[WGX_CONTROL_REQUEST_MAX + 1];
	size_t len = 0;
	char *buf;
	int fd, ret;

	memset(resp, 0, sizeof(*resp));
	if (timeout_ms <= 0)
		timeout_ms = WGX_CONTROL_TIMEOUT_MS;
	if (!request || !valid_request(request))
		return client_fail(resp, -EINVAL, "bad request");
	fd = client_connect(path, timeout_ms, resp);
	if (fd < 0)
		return fd;
	snprintf(line, sizeof(line), "%s\n", request);
	ret = write_all(fd, line, strlen(line), now_ms() + timeout_ms);
	if (ret) {
		close(fd);
		return client_fail(resp, ret, "send request");
	}
	shutdown(fd, SHUT_WR);
	ret = read_response(fd, &buf, &len, timeout_ms);
	close(fd);
	if (ret)
		return client_fail(resp, ret, "read response");
	return parse_response(buf, len, resp);
}
