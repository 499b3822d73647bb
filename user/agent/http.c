// SPDX-License-Identifier: MIT
/*
 * Each connection reads its request head into a fixed buffer, is answered
 * once, and is closed: no keep-alive, no request bodies, nothing that
 * needs a parser's state across calls. The body is asked for a chunk only
 * when the previous one left, so a slow scraper costs one chunk of memory
 * and no formatting time, and a fast one at most a chunk per serve call.
 */
#include "agent/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"

enum {
	LISTEN_BACKLOG = 64,
	EVENTS_PER_SERVE = 16,
	ACCEPTS_PER_SERVE = 8,
	ACCEPT_BACKOFF_MS = 1000,
	HEAD_MAX = 512,
};

enum conn_state {
	CONN_READ,  /* the request head, until deadline */
	CONN_WRITE, /* the response; deadline moves with progress */
};

struct wgx_http_conn {
	struct wgx_http_conn *prev, *next;
	int fd;
	enum conn_state state;
	int64_t deadline;
	size_t req_len;
	char req[WGX_HTTP_REQUEST_MAX + 1];
	char *out; /* the head, then each body chunk */
	size_t out_len, out_sent;
	struct wgx_http_body body;
	bool has_body, body_done;
};

static char listen_token, timer_token;

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int epoll_set(struct wgx_http_server *s, int op, int fd, uint32_t events,
		     void *ptr)
{
	struct epoll_event ev = { .events = events, .data.ptr = ptr };

	return epoll_ctl(s->fd, op, fd, &ev) < 0 ? -errno : 0;
}

/* ---- addresses -------------------------------------------------------- */

int wgx_http_parse_addr(const char *s, union wgx_sockaddr *out)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *port, *end;
	unsigned long p;
	bool bracket;
	char *e;
	size_t n;

	memset(out, 0, sizeof(*out));
	bracket = s[0] == '[';
	if (bracket) {
		end = strchr(s, ']');
		if (!end || end[1] != ':')
			return -EINVAL;
		n = (size_t)(end - s) - 1;
		port = end + 2;
		s++;
	} else {
		end = strrchr(s, ':');
		if (!end)
			return -EINVAL;
		n = (size_t)(end - s);
		port = end + 1;
	}
	if (!n || n >= sizeof(host) || !*port || *port == '-' || *port == '+')
		return -EINVAL;
	memcpy(host, s, n);
	host[n] = '\0';
	/* IPv6 only in brackets, so the port is never ambiguous. */
	if (!bracket && strchr(host, ':'))
		return -EINVAL;
	p = strtoul(port, &e, 10);
	if (*e || !p || p > 65535)
		return -EINVAL;
	if (inet_pton(AF_INET, host, &out->in4.sin_addr) == 1) {
		out->in4.sin_family = AF_INET;
		out->in4.sin_port = htons((uint16_t)p);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &out->in6.sin6_addr) == 1) {
		out->in6.sin6_family = AF_INET6;
		out->in6.sin6_port = htons((uint16_t)p);
		return 0;
	}
	return -EINVAL;
}

/* ---- server ----------------------------------------------------------- */

int wgx_http_server_open(struct wgx_http_server *s,
			 const union wgx_sockaddr *addr,
			 const struct wgx_http_route *routes, void *ctx)
{
	socklen_t len = wgx_sockaddr_len(addr);
	int one = 1, ret;

	memset(s, 0, sizeof(*s));
	s->routes = routes;
	s->ctx = ctx;
	s->request_ms = WGX_HTTP_REQUEST_MS;
	s->stall_ms = WGX_HTTP_STALL_MS;
	s->fd = epoll_create1(EPOLL_CLOEXEC);
	s->timer_fd =
		timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	s->listen_fd = socket(addr->sa.sa_family,
			      SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0 || s->timer_fd < 0 || s->listen_fd < 0)
		goto err;
	setsockopt(s->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* "[::]:PORT" serves IPv6 only; "0.0.0.0:PORT" is IPv4's. */
	if (addr->sa.sa_family == AF_INET6)
		setsockopt(s->listen_fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
			   sizeof(one));
	if (bind(s->listen_fd, &addr->sa, len) < 0 ||
	    listen(s->listen_fd, LISTEN_BACKLOG) < 0)
		goto err;
	len = sizeof(s->addr);
	if (getsockname(s->listen_fd, &s->addr.sa, &len) < 0)
		goto err;
	ret = epoll_set(s, EPOLL_CTL_ADD, s->timer_fd, EPOLLIN, &timer_token);
	if (!ret)
		ret = epoll_set(s, EPOLL_CTL_ADD, s->listen_fd, EPOLLIN,
				&listen_token);
	if (ret) {
		errno = -ret;
		goto err;
	}
	s->accepting = true;
	return 0;
err:
	ret = -errno;
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	if (s->timer_fd >= 0)
		close(s->timer_fd);
	if (s->fd >= 0)
		close(s->fd);
	s->fd = s->listen_fd = s->timer_fd = -1;
	return ret;
}

static void conn_free(struct wgx_http_server *s, struct wgx_http_conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		s->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		s->tail = c->prev;
	if (c->has_body && c->body.free)
		c->body.free(c->body.state);
	epoll_set(s, EPOLL_CTL_DEL, c->fd, 0, NULL);
	close(c->fd);
	free(c->out);
	free(c);
	s->open--;
}

/*
 * The response is complete: say so with a FIN, and take what the client
 * may still have sent, so that close() does not turn into a reset that
 * could cut the end of the answer.
 */
static void conn_finish(struct wgx_http_server *s, struct wgx_http_conn *c)
{
	char sink[512];

	shutdown(c->fd, SHUT_WR);
	while (recv(c->fd, sink, sizeof(sink), MSG_DONTWAIT) > 0)
		;
	conn_free(s, c);
}

static const char *reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 431:
		return "Request Header Fields Too Large";
	case 503:
		return "Service Unavailable";
	case 505:
		return "HTTP Version Not Supported";
	}
	return "Error";
}

/* Start writing the answer: status, headers, and for errors a text. */
static void conn_answer(struct wgx_http_server *s, struct wgx_http_conn *c,
			int status, const char *type, const char *text)
{
	int n;

	c->out = malloc(WGX_HTTP_CHUNK);
	if (!c->out) {
		conn_free(s, c);
		return;
	}
	if (status == 200)
		n = snprintf(c->out, HEAD_MAX,
			     "HTTP/1.1 200 OK\r\nContent-Type: %s\r\n"
			     "Cache-Control: no-store\r\n"
			     "Connection: close\r\n\r\n",
			     type);
	else
		n = snprintf(c->out, HEAD_MAX,
			     "HTTP/1.1 %d %s\r\n"
			     "Content-Type: text/plain; charset=utf-8\r\n"
			     "Content-Length: %zu\r\n%s"
			     "Connection: close\r\n\r\n%s",
			     status, reason(status), strlen(text),
			     status == 405 ? "Allow: GET, HEAD\r\n" : "", text);
	c->out_len = n > 0 && n < HEAD_MAX ? (size_t)n : 0;
	c->out_sent = 0;
	c->state = CONN_WRITE;
	c->deadline = now_ms() + s->stall_ms;
	s->served++;
	if (status != 200)
		s->rejected++;
	if (epoll_set(s, EPOLL_CTL_MOD, c->fd, EPOLLOUT, c))
		c->deadline = 0; /* cannot be driven: expire it */
}

static bool token_char(char ch)
{
	return ch > ' ' && ch < 0x7f && !strchr("()<>@,;:\\\"/[]?={}", ch);
}

/* The head is whole: parse it and answer. */
static void conn_request(struct wgx_http_server *s, struct wgx_http_conn *c)
{
	char *line = c->req, *sp1, *sp2, *eol, *q;
	const struct wgx_http_route *r;
	bool head;
	int err;

	eol = strpbrk(line, "\r\n");
	*eol = '\0';
	sp1 = strchr(line, ' ');
	sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
	if (!sp1 || !sp2 || sp1 == line || strchr(sp2 + 1, ' '))
		return conn_answer(s, c, 400, NULL, "malformed request line\n");
	*sp1 = *sp2 = '\0';
	for (char *p = line; *p; p++)
		if (!token_char(*p))
			return conn_answer(s, c, 400, NULL,
					   "malformed method\n");
	if (strncmp(sp2 + 1, "HTTP/", 5))
		return conn_answer(s, c, 400, NULL, "not an HTTP request\n");
	if (strcmp(sp2 + 1, "HTTP/1.1") && strcmp(sp2 + 1, "HTTP/1.0"))
		return conn_answer(s, c, 505, NULL, "HTTP/1.x only\n");
	/* Header lines: "Name: value", no folding. */
	for (char *h = eol + 1; *h;) {
		size_t n = strcspn(h, "\r\n");
		char *colon = memchr(h, ':', n);

		if (n && (!colon || colon == h || *h == ' ' || *h == '\t'))
			return conn_answer(s, c, 400, NULL,
					   "malformed header line\n");
		h += n;
		h += strspn(h, "\r\n");
	}
	head = !strcmp(line, "HEAD");
	if (!head && strcmp(line, "GET"))
		return conn_answer(s, c, 405, NULL, "GET or HEAD only\n");
	q = sp1 + 1;
	if (*q != '/')
		return conn_answer(s, c, 400, NULL, "malformed target\n");
	q[strcspn(q, "?#")] = '\0';
	for (r = s->routes; r->path; r++)
		if (!strcmp(r->path, q))
			break;
	if (!r->path)
		return conn_answer(s, c, 404, NULL,
				   "not found: the metrics are at /metrics\n");
	err = r->fn(s->ctx, &c->body);
	if (err) {
		wgx_log_warn("Couldn't answer an HTTP request for %s: %s",
			     r->path, strerror(-err));
		return conn_answer(s, c, 503, NULL, "out of memory\n");
	}
	c->has_body = true;
	c->body_done = head;
	conn_answer(s, c, 200, r->content_type, NULL);
}

/* Where the head ends: "\r\n\r\n" or "\n\n"; NULL while incomplete. */
static char *head_end(char *req, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++) {
		if (req[i] != '\n')
			continue;
		if (req[i + 1] == '\n')
			return req + i + 1;
		if (i + 2 < len && req[i + 1] == '\r' && req[i + 2] == '\n')
			return req + i + 2;
	}
	return NULL;
}

static void conn_read(struct wgx_http_server *s, struct wgx_http_conn *c)
{
	size_t room = WGX_HTTP_REQUEST_MAX - c->req_len;
	ssize_t n = recv(c->fd, c->req + c->req_len, room, MSG_DONTWAIT);
	char *end;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) { /* gone before asking */
		s->rejected++;
		conn_free(s, c);
		return;
	}
	c->req_len += (size_t)n;
	c->req[c->req_len] = '\0';
	if (memchr(c->req, '\0', c->req_len))
		return conn_answer(s, c, 400, NULL, "NUL in the request\n");
	end = head_end(c->req, c->req_len);
	if (end) {
		end[1] = '\0';
		return conn_request(s, c);
	}
	if (c->req_len == WGX_HTTP_REQUEST_MAX)
		conn_answer(s, c, 431, NULL, "request head too large\n");
}

/* Send what is buffered; refill from the body once it is gone. */
static void conn_write(struct wgx_http_server *s, struct wgx_http_conn *c)
{
	ssize_t n;

	if (c->out_sent == c->out_len && c->has_body && !c->body_done) {
		c->out_len =
			c->body.read(c->body.state, c->out, WGX_HTTP_CHUNK);
		c->out_sent = 0;
		c->body_done = !c->out_len;
	}
	if (c->out_sent == c->out_len) {
		conn_finish(s, c);
		return;
	}
	n = send(c->fd, c->out + c->out_sent, c->out_len - c->out_sent,
		 MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {
		wgx_log_debug("Couldn't send an HTTP response: %s",
			      strerror(errno));
		conn_free(s, c);
		return;
	}
	c->out_sent += (size_t)n;
	c->deadline = now_ms() + s->stall_ms;
	if (c->out_sent == c->out_len && (!c->has_body || c->body_done))
		conn_finish(s, c);
}

static void conn_event(struct wgx_http_server *s, struct wgx_http_conn *c)
{
	if (c->state == CONN_READ)
		conn_read(s, c);
	else
		conn_write(s, c);
}

static void conn_new(struct wgx_http_server *s, int fd)
{
	struct wgx_http_conn *c = calloc(1, sizeof(*c));

	if (!c || epoll_set(s, EPOLL_CTL_ADD, fd, EPOLLIN, c)) {
		s->rejected++;
		free(c);
		close(fd);
		return;
	}
	c->fd = fd;
	c->deadline = now_ms() + s->request_ms;
	c->prev = s->tail;
	if (s->tail)
		s->tail->next = c;
	else
		s->head = c;
	s->tail = c;
	s->open++;
}

static int accept_some(struct wgx_http_server *s)
{
	for (int i = 0; i < ACCEPTS_PER_SERVE; i++) {
		int fd;

		if (s->open >= WGX_HTTP_CONN_MAX)
			return 0;
		fd = accept4(s->listen_fd, NULL, NULL,
			     SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0 && (errno == EAGAIN || errno == EINTR ||
			       errno == ECONNABORTED))
			return 0;
		if (fd < 0) {
			int err = -errno;

			wgx_log_error("Couldn't accept a metrics connection: "
				      "%s; retrying in %d ms",
				      strerror(-err), ACCEPT_BACKOFF_MS);
			s->accept_after = now_ms() + ACCEPT_BACKOFF_MS;
			return err;
		}
		conn_new(s, fd);
	}
	return 0;
}

static void expire(struct wgx_http_server *s, int64_t now)
{
	struct wgx_http_conn *c = s->head, *next;

	for (; c; c = next) {
		next = c->next;
		if (c->deadline > now)
			continue;
		if (c->state == CONN_READ)
			s->rejected++;
		wgx_log_debug("HTTP client %s for too long: closed",
			      c->state == CONN_READ ? "sent no request"
						    : "took no response byte");
		conn_free(s, c);
	}
}

static void update_accepting(struct wgx_http_server *s, int64_t now)
{
	bool want = s->open < WGX_HTTP_CONN_MAX && now >= s->accept_after;

	if (want == s->accepting)
		return;
	if (!epoll_set(s, want ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, s->listen_fd,
		       EPOLLIN, &listen_token))
		s->accepting = want;
}

static void arm_timer(struct wgx_http_server *s, int64_t now)
{
	struct itimerspec its = { 0 };
	int64_t next = INT64_MAX;

	for (const struct wgx_http_conn *c = s->head; c; c = c->next)
		if (c->deadline < next)
			next = c->deadline;
	if (!s->accepting && s->accept_after > now && s->accept_after < next)
		next = s->accept_after;
	if (next != INT64_MAX) {
		next = next > 0 ? next : 1;
		its.it_value.tv_sec = next / 1000;
		its.it_value.tv_nsec = (long)(next % 1000) * 1000000;
	}
	timerfd_settime(s->timer_fd, TFD_TIMER_ABSTIME, &its, NULL);
}

/* Only to clear its readiness: arm_timer() works out what is due. */
static void drain_timer(struct wgx_http_server *s)
{
	uint64_t ticks;

	if (read(s->timer_fd, &ticks, sizeof(ticks)) < 0)
		return;
}

int wgx_http_server_serve(struct wgx_http_server *s)
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
	now = now_ms();
	expire(s, now);
	update_accepting(s, now);
	arm_timer(s, now);
	return ret;
}

void wgx_http_server_close(struct wgx_http_server *s)
{
	if (s->fd < 0)
		return;
	while (s->head)
		conn_free(s, s->head);
	close(s->listen_fd);
	close(s->timer_fd);
	close(s->fd);
	s->fd = s->listen_fd = s->timer_fd = -1;
}
