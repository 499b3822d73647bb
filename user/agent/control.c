// SPDX-License-Identifier: MIT
/*
 * Both ends keep one deadline per exchange and poll() against what is left
 * of it, so a peer that trickles bytes cannot stretch the exchange.
 */
#include "agent/control.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"

enum {
	COMMAND_NAME_MAX = 32,
	/* Largest response a client accepts: status line plus payload. */
	RESPONSE_MAX = WGX_CONTROL_PAYLOAD_MAX + WGX_CONTROL_ERROR_MAX + 16,
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

static int64_t deadline_after(int timeout_ms, int fallback_ms)
{
	return now_ms() + (timeout_ms > 0 ? timeout_ms : fallback_ms);
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

int wgx_control_server_open(struct wgx_control_server *s, const char *path,
			    const struct wgx_control_command *commands,
			    void *ctx)
{
	struct sockaddr_un addr;
	struct stat st;
	int ret;

	memset(s, 0, sizeof(*s));
	s->fd = -1;
	s->commands = commands;
	s->ctx = ctx;
	s->timeout_ms = WGX_CONTROL_SERVE_MS;
	ret = fill_addr(&addr, path);
	if (ret)
		goto err;
	s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0) {
		ret = -errno;
		goto err;
	}
	if (bind(s->fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		ret = -errno;
		goto err;
	}
	snprintf(s->path, sizeof(s->path), "%s", path);
	/*
	 * bind() honours the umask; set 0600 explicitly. Until then the
	 * 0700 runtime directory keeps everyone else out.
	 */
	if (chmod(path, 0600) < 0 || stat(path, &st) < 0 ||
	    listen(s->fd, 16) < 0) {
		ret = -errno;
		unlink(path);
		goto err;
	}
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	return 0;
err:
	wgx_log_error("Couldn't open control socket %s: %s", path,
		      strerror(-ret));
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	s->path[0] = '\0';
	return ret;
}

/*
 * Read one request line. Returns its length (newline stripped), or
 * -EMSGSIZE (too long), -EPROTO (not printable ASCII, or empty), or the
 * I/O error (-ETIMEDOUT for a silent client).
 */
static int read_request(int fd, char *buf, size_t size, int64_t deadline)
{
	size_t len = 0;

	for (;;) {
		char *nl;
		ssize_t n = read_some(fd, buf + len, size - 1 - len, deadline);

		if (n < 0)
			return (int)n;
		buf[len + (size_t)n] = '\0';
		nl = memchr(buf + len, '\n', (size_t)n);
		len += (size_t)n;
		if (nl) {
			*nl = '\0';
			len = (size_t)(nl - buf);
			break;
		}
		if (n == 0 && !len)
			return -ENODATA; /* connected and left: no request */
		if (n == 0) /* EOF ends a request that has no newline */
			break;
		if (len >= size - 1)
			return -EMSGSIZE;
	}
	if (memchr(buf, '\0', len))
		return -EPROTO;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)buf[i] < 0x20 ||
		    (unsigned char)buf[i] > 0x7e)
			return -EPROTO;
	return len ? (int)len : -EPROTO;
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

static int send_response(int fd, int status, struct wgx_control_reply *r,
			 int64_t deadline)
{
	char head[WGX_CONTROL_ERROR_MAX + 16];
	int ret;

	if (!status && r->err)
		status = wgx_control_reply_error(r, r->err, "%s",
						 r->err == -EMSGSIZE
							 ? "response too large"
							 : strerror(-r->err));
	if (!status) {
		ret = write_all(fd, "ok\n", 3, deadline);
		return ret ? ret : write_all(fd, r->data, r->len, deadline);
	}
	if (!r->error[0])
		snprintf(r->error, sizeof(r->error), "%s",
			 strerror(status < 0 ? -status : EIO));
	snprintf(head, sizeof(head), "error %s\n", r->error);
	return write_all(fd, head, strlen(head), deadline);
}

static void serve_conn(struct wgx_control_server *s, int fd, int64_t deadline)
{
	struct wgx_control_reply r = { 0 };
	char req[WGX_CONTROL_REQUEST_MAX + 1];
	int ret, status;

	if (!peer_allowed(fd)) {
		s->rejected++;
		wgx_log_warn("Refused control connection: peer is not root");
		status = wgx_control_reply_error(&r, -EPERM,
						 "permission denied");
		goto reply;
	}
	ret = read_request(fd, req, sizeof(req), deadline);
	if (ret == -EMSGSIZE || ret == -EPROTO) {
		s->rejected++;
		status = wgx_control_reply_error(&r, ret, "%s",
						 ret == -EMSGSIZE
							 ? "request too long"
							 : "malformed request");
		goto reply;
	}
	if (ret < 0) {
		/* Silent, gone or timed out: nobody to answer. */
		s->rejected++;
		wgx_log_debug("Couldn't read control request: %s",
			      strerror(-ret));
		goto out;
	}
	status = dispatch(s, req, &r);
	s->served++;
reply:
	ret = send_response(fd, status, &r, deadline);
	if (ret)
		wgx_log_debug("Couldn't send control response: %s",
			      strerror(-ret));
out:
	reply_free(&r);
}

int wgx_control_server_serve(struct wgx_control_server *s)
{
	int fd = accept4(s->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0) {
		if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED)
			return 0;
		wgx_log_error("Couldn't accept control connection: %s",
			      strerror(errno));
		return -errno;
	}
	serve_conn(s, fd, deadline_after(s->timeout_ms, WGX_CONTROL_SERVE_MS));
	close(fd);
	return 0;
}

void wgx_control_server_close(struct wgx_control_server *s)
{
	struct stat st;

	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
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

static int client_connect(const char *path, int64_t deadline,
			  struct wgx_control_response *resp)
{
	/* At least 1 ms: a zero timeval would mean "wait forever". */
	int64_t left = deadline - now_ms() > 0 ? deadline - now_ms() : 1;
	struct timeval tv = { .tv_sec = left / 1000,
			      .tv_usec = (left % 1000) * 1000 };
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

/* Read until EOF; a reset after some data still ends the response. */
static int read_response(int fd, char **out, size_t *out_len, int64_t deadline)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);

	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n;

		if (cap - len < 2) {
			char *p = cap >= RESPONSE_MAX ? NULL
						      : realloc(buf, cap * 2);

			if (!p) {
				free(buf);
				return cap >= RESPONSE_MAX ? -EMSGSIZE
							   : -ENOMEM;
			}
			buf = p;
			cap *= 2;
		}
		n = read_some(fd, buf + len, cap - 1 - len, deadline);
		if (n == 0 || (n == -ECONNRESET && len))
			break;
		if (n < 0) {
			free(buf);
			return (int)n;
		}
		len += (size_t)n;
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
	int64_t deadline = deadline_after(timeout_ms, WGX_CONTROL_TIMEOUT_MS);
	char line[WGX_CONTROL_REQUEST_MAX + 1];
	size_t len = 0;
	char *buf;
	int fd, ret;

	memset(resp, 0, sizeof(*resp));
	if (!request || !valid_request(request))
		return client_fail(resp, -EINVAL, "bad request");
	fd = client_connect(path, deadline, resp);
	if (fd < 0)
		return fd;
	snprintf(line, sizeof(line), "%s\n", request);
	ret = write_all(fd, line, strlen(line), deadline);
	if (ret) {
		close(fd);
		return client_fail(resp, ret, "send request");
	}
	shutdown(fd, SHUT_WR);
	ret = read_response(fd, &buf, &len, deadline);
	close(fd);
	if (ret)
		return client_fail(resp, ret, "read response");
	return parse_response(buf, len, resp);
}
