// SPDX-License-Identifier: MIT
/*
 * The control socket: a server forked into a child serving in a loop, and
 * clients in the test process, in a temporary directory.
 */
#include "test.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/control.h"
#include "util/log.h"

struct fixture {
	char dir[64];
	char path[128];
	struct wgx_control_server server;
	pid_t child;
};

static int h_identity(void *ctx, const char *args, struct wgx_control_reply *r)
{
	(void)ctx;
	(void)args;
	return wgx_control_reply_printf(r, "tun=t0\niface=eth0\n");
}

static int h_show(void *ctx, const char *args, struct wgx_control_reply *r)
{
	(void)args;
	return wgx_control_reply_printf(r, "interface: %s\n",
					(const char *)ctx);
}

static int h_echo(void *ctx, const char *args, struct wgx_control_reply *r)
{
	(void)ctx;
	return wgx_control_reply_printf(r, "[%s]", args);
}

static int h_fail(void *ctx, const char *args, struct wgx_control_reply *r)
{
	(void)ctx;
	(void)args;
	wgx_control_reply_printf(r, "partial payload is dropped");
	return wgx_control_reply_error(r, -EINVAL, "Couldn't frob: bad\nthing");
}

static int h_errno(void *ctx, const char *args, struct wgx_control_reply *r)
{
	(void)ctx;
	(void)args;
	(void)r;
	return -ENOENT;
}

/* Past the sanity bound: the sticky error turns "ok" into "error". */
static int h_big(void *ctx, const char *args, struct wgx_control_reply *r)
{
	static const char chunk[64];

	(void)ctx;
	(void)args;
	wgx_control_reply_write(r, chunk, sizeof(chunk));
	/* The bound is checked before a byte is read: chunk is not read. */
	wgx_control_reply_write(r, chunk, WGX_CONTROL_PAYLOAD_MAX);
	return 0;
}

/* 1 MiB: bigger than a socket buffer, so the write side must loop. */
static int h_mib(void *ctx, const char *args, struct wgx_control_reply *r)
{
	(void)ctx;
	(void)args;
	for (int i = 0; i < 16384; i++)
		wgx_control_reply_printf(r, "%063d\n", i);
	return 0;
}

static int64_t clock_us(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t now_us(void)
{
	return clock_us(CLOCK_MONOTONIC);
}

/* This thread's CPU time: what a serve call costs, load on the host aside. */
static int64_t cpu_us(void)
{
	return clock_us(CLOCK_THREAD_CPUTIME_ID);
}

/* 64 MiB of numbered lines, built once; h_huge answers with them. */
enum {
	HUGE_LINE = 64,
	HUGE_LINES = 1 << 20,
	HUGE_LEN = HUGE_LINE * HUGE_LINES
};
static char *huge;
/* Time spent in handlers, which serve calls are not charged for. */
static int64_t handler_us, handler_cpu_us;

static bool huge_prepare(void)
{
	if (huge)
		return true;
	huge = malloc(HUGE_LEN + 1);
	for (unsigned int i = 0; huge && i < HUGE_LINES; i++)
		snprintf(huge + (size_t)i * HUGE_LINE, HUGE_LINE + 1, "%063u\n",
			 i);
	return huge != NULL;
}

static int h_huge(void *ctx, const char *args, struct wgx_control_reply *r)
{
	int64_t t0 = now_us(), c0 = cpu_us();
	int ret;

	(void)ctx;
	(void)args;
	ret = wgx_control_reply_write(r, huge, HUGE_LEN);
	handler_us += now_us() - t0;
	handler_cpu_us += cpu_us() - c0;
	return ret;
}

static const struct wgx_control_command commands[] = {
	{ "identity", h_identity }, { "show", h_show },	  { "echo", h_echo },
	{ "fail", h_fail },	    { "errno", h_errno }, { "big", h_big },
	{ "mib", h_mib },	    { "huge", h_huge },	  { NULL, NULL },
};

static void quiet_sink(enum wgx_log_level level, const char *msg, void *ctx)
{
	(void)level;
	(void)msg;
	(void)ctx;
}

static bool fixture_dir(struct fixture *f)
{
	memset(f, 0, sizeof(*f));
	f->server.fd = -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/wgx-ctl-XXXXXX");
	if (!mkdtemp(f->dir))
		return false;
	snprintf(f->path, sizeof(f->path), "%s/t0.sock", f->dir);
	wgx_log_set_sink(quiet_sink, NULL);
	return true;
}

/* Open the server here (so it exists before the fork) and serve in a child. */
static bool start_server(struct fixture *f, int timeout_ms, bool serve)
{
	if (!fixture_dir(f))
		return false;
	if (wgx_control_server_open(&f->server, f->path, commands, "wg0"))
		return false;
	f->server.timeout_ms = timeout_ms;
	if (!serve)
		return true;
	f->child = fork();
	if (f->child == 0) {
		struct pollfd p = { .fd = f->server.fd, .events = POLLIN };

		for (;;)
			if (poll(&p, 1, -1) > 0)
				wgx_control_server_serve(&f->server);
	}
	return f->child > 0;
}

static void stop_server(struct fixture *f)
{
	if (f->child > 0) {
		kill(f->child, SIGKILL);
		waitpid(f->child, NULL, 0);
	}
	wgx_control_server_close(&f->server);
	unlink(f->path);
	rmdir(f->dir);
	wgx_log_set_sink(NULL, NULL);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int raw_connect(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&addr, sizeof(addr))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Send raw bytes and half-close; read until EOF or reset. */
static size_t raw_exchange(const char *path, const void *req, size_t len,
			   char *out, size_t out_len)
{
	int fd = raw_connect(path);
	struct timeval tv = { .tv_sec = 5 };
	size_t got = 0;
	ssize_t n;

	out[0] = '\0';
	if (fd < 0)
		return 0;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	n = send(fd, req, len, MSG_NOSIGNAL);
	(void)n;
	shutdown(fd, SHUT_WR);
	while (got < out_len - 1 &&
	       (n = recv(fd, out + got, out_len - 1 - got, 0)) > 0)
		got += (size_t)n;
	out[got] = '\0';
	close(fd);
	return got;
}

static void test_control_round_trip(void)
{
	struct wgx_control_response resp;
	struct fixture f;

	CHECK(start_server(&f, 1000, true));
	CHECK(wgx_control_call(f.path, "identity", 0, &resp) == 0);
	CHECK(resp.payload && !strcmp(resp.payload, "tun=t0\niface=eth0\n"));
	CHECK(resp.len == strlen("tun=t0\niface=eth0\n"));
	wgx_control_response_free(&resp);
	CHECK(wgx_control_call(f.path, "show", 0, &resp) == 0);
	CHECK(resp.payload && !strcmp(resp.payload, "interface: wg0\n"));
	wgx_control_response_free(&resp);
	CHECK(wgx_control_call(f.path, "echo a b  c", 0, &resp) == 0);
	CHECK(resp.payload && !strcmp(resp.payload, "[a b  c]"));
	wgx_control_response_free(&resp);
	CHECK(wgx_control_call(f.path, "echo", 0, &resp) == 0);
	CHECK(resp.payload && !strcmp(resp.payload, "[]"));
	wgx_control_response_free(&resp);
	CHECK(wgx_control_call(f.path, "mib", 0, &resp) == 0);
	CHECK(resp.len == 16384 * 64 && resp.payload &&
	      !strncmp(resp.payload + 64 * 16383, "000", 3));
	wgx_control_response_free(&resp);
	stop_server(&f);
}

static void test_control_errors(void)
{
	struct wgx_control_response resp;
	struct fixture f;

	CHECK(start_server(&f, 1000, true));
	CHECK(wgx_control_call(f.path, "nope", 0, &resp) == -EREMOTEIO);
	CHECK(!strcmp(resp.error, "unknown command 'nope'"));
	CHECK(resp.payload == NULL);
	CHECK(wgx_control_call(f.path, "fail", 0, &resp) == -EREMOTEIO);
	CHECK(!strcmp(resp.error, "Couldn't frob: bad?thing"));
	CHECK(wgx_control_call(f.path, "errno", 0, &resp) == -EREMOTEIO);
	CHECK(!strcmp(resp.error, strerror(ENOENT)));
	CHECK(wgx_control_call(f.path, "big", 0, &resp) == -EREMOTEIO);
	CHECK(!strcmp(resp.error, "response too large"));
	CHECK(wgx_control_call(f.path, "Show", 0, &resp) == -EREMOTEIO);
	CHECK(!strcmp(resp.error, "malformed command name"));
	stop_server(&f);
}

static void test_control_bad_requests(void)
{
	char big[4096], out[1024];
	struct wgx_control_response resp;
	struct fixture f;

	CHECK(start_server(&f, 1000, true));
	memset(big, 'a', sizeof(big));
	raw_exchange(f.path, big, sizeof(big), out, sizeof(out));
	CHECK(!strcmp(out, "error request too long\n"));
	/* Exactly at the limit (newline included) is still served. */
	memcpy(big, "echo ", 5);
	big[WGX_CONTROL_REQUEST_MAX - 1] = '\n';
	CHECK(raw_exchange(f.path, big, WGX_CONTROL_REQUEST_MAX, out,
			   sizeof(out)) == 3 + WGX_CONTROL_REQUEST_MAX - 6 + 2);
	CHECK(!strncmp(out, "ok\n[aaa", 7) &&
	      !strcmp(out + strlen(out) - 3, "aa]"));
	raw_exchange(f.path, "show\x01\n", 6, out, sizeof(out));
	CHECK(!strcmp(out, "error malformed request\n"));
	raw_exchange(f.path, "sh\0ow\n", 6, out, sizeof(out));
	CHECK(!strcmp(out, "error malformed request\n"));
	raw_exchange(f.path, "\n", 1, out, sizeof(out));
	CHECK(!strcmp(out, "error malformed request\n"));
	/* No newline, but the client half-closed: still one request. */
	raw_exchange(f.path, "show", 4, out, sizeof(out));
	CHECK(!strcmp(out, "ok\ninterface: wg0\n"));
	/* The client library refuses what the server would. */
	big[WGX_CONTROL_REQUEST_MAX - 1] = 'a';
	big[WGX_CONTROL_REQUEST_MAX] = '\0';
	CHECK(wgx_control_call(f.path, big, 0, &resp) == -EINVAL);
	CHECK(wgx_control_call(f.path, "show\n", 0, &resp) == -EINVAL);
	CHECK(wgx_control_call(f.path, "", 0, &resp) == -EINVAL);
	/* And the server survived all of it. */
	CHECK(wgx_control_call(f.path, "show", 0, &resp) == 0);
	wgx_control_response_free(&resp);
	stop_server(&f);
}

static void test_control_silent_client(void)
{
	struct wgx_control_response resp;
	struct fixture f;
	int64_t t0;
	int silent;

	CHECK(start_server(&f, 300, true));
	silent = raw_connect(f.path);
	CHECK(silent >= 0);
	t0 = now_ms();
	/* Served once the silent connection's 300 ms deadline passes. */
	CHECK(wgx_control_call(f.path, "identity", 0, &resp) == 0);
	CHECK(now_ms() - t0 < 3000);
	wgx_control_response_free(&resp);
	/* And the server hung up on the silent one without a word. */
	if (silent >= 0) {
		struct pollfd p = { .fd = silent, .events = POLLIN };
		char c;

		CHECK(poll(&p, 1, 3000) == 1);
		CHECK(read(silent, &c, 1) == 0);
		close(silent);
	}
	/* A client that trickles never gets more than the deadline. */
	silent = raw_connect(f.path);
	t0 = now_ms();
	for (int i = 0; i < 8 && silent >= 0; i++) {
		struct timespec ts = { .tv_nsec = 100 * 1000 * 1000 };

		if (send(silent, "e", 1, MSG_NOSIGNAL) != 1)
			break;
		nanosleep(&ts, NULL);
	}
	CHECK(wgx_control_call(f.path, "identity", 0, &resp) == 0);
	CHECK(now_ms() - t0 < 3000);
	wgx_control_response_free(&resp);
	if (silent >= 0)
		close(silent);
	stop_server(&f);
}

static void test_control_client_timeout(void)
{
	struct wgx_control_response resp;
	struct fixture f;
	int64_t t0;

	/* Listening but never serving: a wedged daemon. */
	CHECK(start_server(&f, 1000, false));
	t0 = now_ms();
	CHECK(wgx_control_call(f.path, "identity", 300, &resp) == -ETIMEDOUT);
	CHECK(now_ms() - t0 >= 250 && now_ms() - t0 < 2000);
	CHECK(strstr(resp.error, "timed out") != NULL);
	stop_server(&f);
}

static void test_control_stale_and_missing(void)
{
	struct wgx_control_response resp;
	struct fixture f;
	pid_t child;
	int status = -1;

	CHECK(fixture_dir(&f));
	/* Opened by a child that exits without closing: as if killed. */
	child = fork();
	if (child == 0)
		_exit(wgx_control_server_open(&f.server, f.path, commands,
					      NULL) != 0);
	CHECK(child > 0 && waitpid(child, &status, 0) == child);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK(wgx_control_call(f.path, "identity", 0, &resp) == -ECONNREFUSED);
	unlink(f.path);
	CHECK(wgx_control_call(f.path, "identity", 0, &resp) == -ENOENT);
	stop_server(&f);
}

static void test_control_socket_mode(void)
{
	struct wgx_control_server other;
	struct fixture f;
	struct stat st;
	mode_t old = umask(0);

	CHECK(start_server(&f, 1000, false));
	umask(old);
	CHECK(stat(f.path, &st) == 0);
	CHECK(S_ISSOCK(st.st_mode));
	CHECK((st.st_mode & 07777) == 0600);
	/* The path is taken: a second server must not steal it. */
	CHECK(wgx_control_server_open(&other, f.path, commands, NULL) ==
	      -EADDRINUSE);
	CHECK(other.fd == -1);
	CHECK(stat(f.path, &st) == 0);
	stop_server(&f);
}

static void test_control_close_leaves_others(void)
{
	struct fixture f;
	struct stat st;
	int fd;

	CHECK(start_server(&f, 1000, false));
	/* Someone else now owns the path: close must not remove theirs. */
	unlink(f.path);
	fd = open(f.path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	CHECK(fd >= 0);
	if (fd >= 0)
		close(fd);
	wgx_control_server_close(&f.server);
	CHECK(stat(f.path, &st) == 0 && S_ISREG(st.st_mode));
	unlink(f.path);
	/* Our own socket is removed. */
	CHECK(wgx_control_server_open(&f.server, f.path, commands, NULL) == 0);
	wgx_control_server_close(&f.server);
	CHECK(stat(f.path, &st) < 0 && errno == ENOENT);
	CHECK(f.server.fd == -1);
	wgx_control_server_close(&f.server); /* twice is harmless */
	stop_server(&f);
}

static void test_control_bad_paths(void)
{
	struct wgx_control_response resp;
	struct wgx_control_server s;
	char path[200];

	memset(path, 'a', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	wgx_log_set_sink(quiet_sink, NULL);
	CHECK(wgx_control_server_open(&s, path, commands, NULL) ==
	      -ENAMETOOLONG);
	CHECK(wgx_control_server_open(&s, "", commands, NULL) == -EINVAL);
	CHECK(wgx_control_server_open(&s, "/nonexistent-dir/x.sock", commands,
				      NULL) == -ENOENT);
	CHECK(wgx_control_call(path, "show", 0, &resp) == -ENAMETOOLONG);
	wgx_log_set_sink(NULL, NULL);
}

/* Served only for root: an unprivileged peer is turned away. */
static void test_control_peer_credentials(void)
{
	struct fixture f;
	int status = -1;
	pid_t pid;

	if (geteuid() != 0) {
		/* Only root can become another user to try this. */
		CHECK(geteuid() != 0);
		return;
	}
	CHECK(start_server(&f, 1000, true));
	/* Let "nobody" reach the socket so SO_PEERCRED is what stops it. */
	chmod(f.dir, 0755);
	chmod(f.path, 0666);
	pid = fork();
	if (pid == 0) {
		char out[128];

		if (setgid(65534) || setuid(65534))
			_exit(2);
		raw_exchange(f.path, "show\n", 5, out, sizeof(out));
		_exit(strcmp(out, "error permission denied\n") ? 1 : 0);
	}
	CHECK(pid > 0);
	if (pid > 0)
		waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	stop_server(&f);
}

/* ---- the server in this process, driven as the agent drives it ---- */

struct pump {
	struct wgx_control_server *s;
	int64_t worst_us;	/* longest serve call */
	int64_t worst_cpu_us;	/* most CPU time a serve call took */
	unsigned int most_open; /* most connections open at once */
};

/*
 * A serve call does a few ms of work at most (CPU time, handlers not
 * counted), and never waits for a client: its wall time, which a loaded
 * host stretches by a scheduler tick or two, stays far below the stalled
 * clients' deadlines (300 ms and more here). Not under ASan or TSan: ASan's
 * free() of a 64 MiB block, quarantine and all, takes 10 to 300 ms.
 */
enum {
	SERVE_CPU_US = 5000,
	SERVE_WALL_US = 50000
};

static bool serve_was_quick(const struct pump *p)
{
	/* Sanitizers slow every call by an unknown factor: not timed there. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
	(void)p;
	return true;
#else
	return p->worst_cpu_us < SERVE_CPU_US && p->worst_us < SERVE_WALL_US;
#endif
}

/* Wait up to wait_ms for the server's fd, as the agent's epoll does. */
static void pump(struct pump *p, int wait_ms)
{
	struct pollfd pfd = { .fd = p->s->fd, .events = POLLIN };
	int64_t t0, c0, took, cpu;

	if (poll(&pfd, 1, wait_ms) != 1)
		return;
	handler_us = handler_cpu_us = 0;
	t0 = now_us();
	c0 = cpu_us();
	wgx_control_server_serve(p->s);
	took = now_us() - t0 - handler_us;
	cpu = cpu_us() - c0 - handler_cpu_us;
	if (took > p->worst_us)
		p->worst_us = took;
	if (cpu > p->worst_cpu_us)
		p->worst_cpu_us = cpu;
	if (p->s->open > p->most_open)
		p->most_open = p->s->open;
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	while (d && readdir(d))
		n++;
	if (d)
		closedir(d);
	return n;
}

static void test_control_huge_answer(void)
{
	struct fixture f;
	struct pump p = { .s = &f.server };
	int status = -1, fds = count_fds();
	pid_t child;
	int64_t t0;

	CHECK(huge_prepare());
	CHECK(start_server(&f, 1000, false));
	child = fork();
	if (child == 0) {
		struct wgx_control_response resp;
		bool ok = wgx_control_call(f.path, "huge", 0, &resp) == 0 &&
			  resp.len == HUGE_LEN &&
			  !memcmp(resp.payload, huge, HUGE_LEN);

		_exit(ok ? 0 : 1);
	}
	t0 = now_ms();
	while (child > 0 && waitpid(child, &status, WNOHANG) == 0) {
		if (now_ms() - t0 > 30000) {
			kill(child, SIGKILL);
			waitpid(child, &status, 0);
			break;
		}
		pump(&p, 10);
	}
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK(f.server.served == 1 && f.server.rejected == 0);
	CHECK(serve_was_quick(&p));
	/* The connection is gone, and so is its memory. */
	for (t0 = now_ms();
	     (f.server.open || f.server.head) && now_ms() - t0 < 2000;)
		pump(&p, 10);
	CHECK(f.server.open == 0 && f.server.head == NULL);
	stop_server(&f);
	CHECK(count_fds() == fds);
}

struct client {
	int fd;
	size_t got;
	char buf[64];
	bool done;
};

/* Read what came; true once the server closed the connection. */
static bool client_poll(struct client *c)
{
	ssize_t n;

	while (!c->done &&
	       (n = recv(c->fd, c->buf + c->got, sizeof(c->buf) - 1 - c->got,
			 MSG_DONTWAIT)) >= 0) {
		c->got += (size_t)n;
		c->done = n == 0 || c->got == sizeof(c->buf) - 1;
	}
	c->buf[c->got] = '\0';
	return c->done;
}

/*
 * Half a request, an answer nobody reads, and 100 clients at once: the
 * 100 are all served before the stalled two reach their deadlines, every
 * serve call is short, and the deadlines then close the stalled two with
 * no other event to wake the server.
 */
static void test_control_stalled_clients(void)
{
	enum {
		CLIENTS = 100
	};
	static struct client c[CLIENTS];
	int fds = count_fds(), half, unread, done = 0;
	struct pump p;
	struct fixture f;
	struct pollfd pfd;
	int64_t t0;
	char want[64];

	CHECK(huge_prepare());
	CHECK(start_server(&f, 1500, false));
	p = (struct pump){ .s = &f.server };
	f.server.stall_ms = 1500;
	half = raw_connect(f.path);
	unread = raw_connect(f.path);
	CHECK(half >= 0 && unread >= 0);
	CHECK(send(half, "sho", 3, MSG_NOSIGNAL) == 3);
	CHECK(send(unread, "huge\n", 5, MSG_NOSIGNAL) == 5);
	/* Both accepted, the big answer started and stuck. */
	for (t0 = now_ms(); f.server.served < 1 && now_ms() - t0 < 2000;)
		pump(&p, 10);
	for (int i = 0; i < 5; i++)
		pump(&p, 1);
	CHECK(f.server.served == 1 && f.server.open == 2);
	t0 = now_ms();
	for (int i = 0; i < CLIENTS; i++) {
		char req[32];
		int n = snprintf(req, sizeof(req), "echo %d\n", i);

		c[i] = (struct client){ .fd = raw_connect(f.path) };
		CHECK(c[i].fd >= 0);
		CHECK(send(c[i].fd, req, (size_t)n, MSG_NOSIGNAL) == n);
		shutdown(c[i].fd, SHUT_WR);
	}
	while (done < CLIENTS && now_ms() - t0 < 5000) {
		pump(&p, 1);
		done = 0;
		for (int i = 0; i < CLIENTS; i++)
			done += client_poll(&c[i]);
	}
	CHECK(done == CLIENTS);
	CHECK(now_ms() - t0 < 1000);
	for (int i = 0; i < CLIENTS; i++) {
		snprintf(want, sizeof(want), "ok\n[%d]", i);
		CHECK(!strcmp(c[i].buf, want));
		close(c[i].fd);
	}
	/* The stalled two were not closed to make way: they still wait. */
	CHECK(f.server.open == 2);
	CHECK(f.server.served == 1 + CLIENTS && f.server.rejected == 0);
	CHECK(p.most_open <= WGX_CONTROL_CONN_MAX);
	/* Only the server's timer can wake it now. */
	for (t0 = now_ms();
	     (f.server.open || f.server.head) && now_ms() - t0 < 5000;)
		pump(&p, 100);
	CHECK(f.server.open == 0 && f.server.head == NULL);
	CHECK(f.server.rejected == 1); /* half a request is a bad one */
	pfd = (struct pollfd){ .fd = half, .events = POLLIN };
	CHECK(poll(&pfd, 1, 0) == 1 && read(half, want, 1) == 0);
	pfd = (struct pollfd){ .fd = unread, .events = POLLIN };
	CHECK(poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLHUP));
	CHECK(serve_was_quick(&p));
	close(half);
	close(unread);
	stop_server(&f);
	CHECK(count_fds() == fds);
}

/* Past WGX_CONTROL_CONN_MAX, connections wait in the backlog. */
static void test_control_connection_cap(void)
{
	enum {
		SILENT = WGX_CONTROL_CONN_MAX + 6
	};
	struct wgx_control_response resp;
	int fd[SILENT], fds = count_fds();
	struct fixture f;
	struct pump p;
	int64_t t0;

	CHECK(start_server(&f, 300, false));
	p = (struct pump){ .s = &f.server };
	for (int i = 0; i < SILENT; i++)
		CHECK((fd[i] = raw_connect(f.path)) >= 0);
	for (t0 = now_ms(); now_ms() - t0 < 100;)
		pump(&p, 10);
	CHECK(f.server.open == WGX_CONTROL_CONN_MAX);
	/* Deadlines free the slots; the ones that waited get theirs. */
	for (t0 = now_ms(); f.server.rejected < SILENT && now_ms() - t0 < 3000;)
		pump(&p, 10);
	CHECK(f.server.rejected == SILENT && f.server.open == 0);
	CHECK(p.most_open == WGX_CONTROL_CONN_MAX);
	CHECK(serve_was_quick(&p));
	for (int i = 0; i < SILENT; i++)
		if (fd[i] >= 0)
			close(fd[i]);
	stop_server(&f);
	CHECK(count_fds() == fds);
	/* And after all that, a server still serves. */
	CHECK(start_server(&f, 300, true));
	CHECK(wgx_control_call(f.path, "identity", 0, &resp) == 0);
	wgx_control_response_free(&resp);
	stop_server(&f);
}

/*
 * Out of fds: accepting pauses instead of spinning, resumes by itself,
 * and the pause leaves no timer behind to spin on at the cap later.
 */
static void test_control_accept_backoff(void)
{
	int fd[WGX_CONTROL_CONN_MAX], fds = count_fds(), waiting, lowest;
	struct rlimit old, low;
	struct pollfd pfd;
	struct fixture f;
	struct pump p;
	char out[64] = "";
	int64_t t0;

	CHECK(start_server(&f, 300, false));
	p = (struct pump){ .s = &f.server };
	waiting = raw_connect(f.path);
	CHECK(waiting >= 0);
	CHECK(send(waiting, "identity\n", 9, MSG_NOSIGNAL) == 9);
	/* Leave accept() no fd number to return. */
	lowest = open("/dev/null", O_RDONLY | O_CLOEXEC);
	CHECK(lowest >= 0 && getrlimit(RLIMIT_NOFILE, &old) == 0);
	close(lowest);
	low = old;
	low.rlim_cur = (rlim_t)lowest;
	CHECK(setrlimit(RLIMIT_NOFILE, &low) == 0);
	CHECK(wgx_control_server_serve(&f.server) == -EMFILE);
	CHECK(setrlimit(RLIMIT_NOFILE, &old) == 0);
	CHECK(!f.server.accepting);
	t0 = now_ms();
	pfd = (struct pollfd){ .fd = f.server.fd, .events = POLLIN };
	CHECK(poll(&pfd, 1, 500) == 0);
	for (; !f.server.served && now_ms() - t0 < 3000;)
		pump(&p, 100);
	CHECK(f.server.served == 1 && now_ms() - t0 >= 900);
	pfd = (struct pollfd){ .fd = waiting, .events = POLLIN };
	CHECK(poll(&pfd, 1, 1000) == 1);
	CHECK(recv(waiting, out, sizeof(out) - 1, 0) > 0);
	CHECK(!strcmp(out, "ok\ntun=t0\niface=eth0\n"));
	close(waiting);
	/* At the cap, nothing is due before the first request deadline. */
	for (int i = 0; i < WGX_CONTROL_CONN_MAX; i++)
		CHECK((fd[i] = raw_connect(f.path)) >= 0);
	t0 = now_ms();
	while (f.server.open < WGX_CONTROL_CONN_MAX && now_ms() - t0 < 200)
		pump(&p, 10);
	CHECK(f.server.open == WGX_CONTROL_CONN_MAX && !f.server.accepting);
	pfd = (struct pollfd){ .fd = f.server.fd, .events = POLLIN };
	CHECK(poll(&pfd, 1, 50) == 0);
	for (int i = 0; i < WGX_CONTROL_CONN_MAX; i++)
		if (fd[i] >= 0)
			close(fd[i]);
	for (t0 = now_ms(); f.server.open && now_ms() - t0 < 2000;)
		pump(&p, 10);
	CHECK(f.server.open == 0 && f.server.accepting);
	CHECK(serve_was_quick(&p));
	stop_server(&f);
	CHECK(count_fds() == fds);
}

/* A fake daemon: answers with "ok\n" then chunks gap_ms apart. */
static void trickle_daemon(int lfd, int chunks, int gap_ms)
{
	struct timespec gap = { .tv_nsec = gap_ms * 1000000L };
	char block[1000], req[64];
	int fd = accept(lfd, NULL, NULL);

	memset(block, 'y', sizeof(block));
	if (fd < 0 || recv(fd, req, sizeof(req), 0) <= 0 ||
	    send(fd, "ok\n", 3, MSG_NOSIGNAL) != 3)
		_exit(1);
	for (int i = 0; i < chunks; i++) {
		nanosleep(&gap, NULL);
		if (send(fd, block, sizeof(block), MSG_NOSIGNAL) !=
		    (ssize_t)sizeof(block))
			_exit(1);
	}
	/* A stall longer than any client timeout here: wedged. */
	if (chunks < 10)
		sleep(5);
	_exit(0);
}

static pid_t spawn_trickle(const char *path, int chunks, int gap_ms)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	pid_t pid;

	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	unlink(path);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) ||
	    listen(lfd, 1)) {
		if (lfd >= 0)
			close(lfd);
		return -1;
	}
	pid = fork();
	if (pid == 0)
		trickle_daemon(lfd, chunks, gap_ms);
	close(lfd);
	return pid;
}

/* The client's timeout is for silence, not for the whole answer. */
static void test_control_client_progress(void)
{
	struct wgx_control_response resp;
	struct fixture f;
	int64_t t0;
	pid_t pid;

	CHECK(fixture_dir(&f));
	/* 10 chunks 100 ms apart: 1 s in all, never 300 ms silent. */
	pid = spawn_trickle(f.path, 10, 100);
	CHECK(pid > 0);
	t0 = now_ms();
	CHECK(wgx_control_call(f.path, "x", 300, &resp) == 0);
	CHECK(now_ms() - t0 >= 900);
	CHECK(resp.len == 10 * 1000 && resp.payload[resp.len - 1] == 'y');
	wgx_control_response_free(&resp);
	if (pid > 0)
		waitpid(pid, NULL, 0);
	/* Two chunks, then silence: fails 300 ms after the last byte. */
	pid = spawn_trickle(f.path, 2, 100);
	CHECK(pid > 0);
	t0 = now_ms();
	CHECK(wgx_control_call(f.path, "x", 300, &resp) == -ETIMEDOUT);
	CHECK(now_ms() - t0 >= 450 && now_ms() - t0 < 2000);
	CHECK(resp.payload == NULL);
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	stop_server(&f);
}

/* A first buffer becomes the payload; a later one is appended. */
static void test_control_reply_adopt(void)
{
	struct wgx_control_reply r = { 0 };
	char *a = malloc(16), *b = malloc(16);

	CHECK(a && b);
	if (!a || !b) {
		free(a);
		free(b);
		return;
	}
	strcpy(a, "first");
	strcpy(b, "+second");
	CHECK(wgx_control_reply_adopt(&r, a, 5, 16) == 0);
	CHECK(r.data == a && r.len == 5);
	CHECK(wgx_control_reply_adopt(&r, b, 7, 16) == 0);
	CHECK(r.len == 12 && !strcmp(r.data, "first+second"));
	free(r.data);
}

static const struct wgx_test control_tests[] = {
	{ "control: a reply takes over a buffer", test_control_reply_adopt },
	{ "control: round trip (identity, show, arguments, 1 MiB)",
	  test_control_round_trip },
	{ "control: unknown command and handler errors", test_control_errors },
	{ "control: oversized and malformed requests",
	  test_control_bad_requests },
	{ "control: silent and trickling clients do not wedge the server",
	  test_control_silent_client },
	{ "control: client times out on a wedged server",
	  test_control_client_timeout },
	{ "control: stale and missing sockets",
	  test_control_stale_and_missing },
	{ "control: socket mode 0600, path not stolen",
	  test_control_socket_mode },
	{ "control: close unlinks only its own socket",
	  test_control_close_leaves_others },
	{ "control: bad socket paths", test_control_bad_paths },
	{ "control: non-root peers are refused",
	  test_control_peer_credentials },
	{ "control: a 64 MiB answer arrives whole", test_control_huge_answer },
	{ "control: stalled clients hold up nobody; deadlines close them",
	  test_control_stalled_clients },
	{ "control: connections past the cap wait in the backlog",
	  test_control_connection_cap },
	{ "control: out of fds, accepting pauses and resumes",
	  test_control_accept_backoff },
	{ "control: client timeout counts silence, not answer length",
	  test_control_client_progress },
};
WGX_SUITE(control_tests)
