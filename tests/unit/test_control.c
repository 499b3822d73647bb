// SPDX-License-Identifier: MIT
/*
 * The control socket: a server forked into a child serving in a loop, and
 * clients in the test process, in a temporary directory.
 */
#include "test.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
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

static const struct wgx_control_command commands[] = {
	{ "identity", h_identity }, { "show", h_show },	  { "echo", h_echo },
	{ "fail", h_fail },	    { "errno", h_errno }, { "big", h_big },
	{ "mib", h_mib },	    { NULL, NULL },
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

static const struct wgx_test control_tests[] = {
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
};
WGX_SUITE(control_tests)
