// SPDX-License-Identifier: MIT
/*
 * Control socket benchmark: how long a client waits for an answer of
 * MIB MiB, and how long one serve call holds the agent's loop, first
 * alone, then with a client that sends half a request and stops before
 * each call (what a wedged `socat` or a stopped CLI leaves behind). The
 * serve figures (wall and CPU time of the longest call) leave out the
 * handler's own time, building the answer.
 *
 *   tools/bench/control [MIB [ROUNDS]]      defaults: 3 20
 *
 * The server runs here, driven as the agent drives it: poll() on s.fd,
 * then wgx_control_server_serve(). The client runs in a child process
 * (wgx_control_call). Only the public API is used, so the same file builds
 * against older trees for side-by-side runs.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/control.h"
#include "util/log.h"

enum {
	MAX_ROUNDS = 1000
};

static char *blob;
static size_t blob_len;
/* Time in the handler, which the serve figures leave out. */
static double handler_ms, handler_cpu_ms;

static double clock_ms(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static double now_ms(void)
{
	return clock_ms(CLOCK_MONOTONIC);
}

/* This thread's CPU time: the host's load does not count. */
static double cpu_ms(void)
{
	return clock_ms(CLOCK_THREAD_CPUTIME_ID);
}

static int h_blob(void *ctx, const char *args, struct wgx_control_reply *r)
{
	double t0 = now_ms(), c0 = cpu_ms();
	int ret;

	(void)ctx;
	(void)args;
	ret = wgx_control_reply_write(r, blob, blob_len);
	handler_ms += now_ms() - t0;
	handler_cpu_ms += cpu_ms() - c0;
	return ret;
}

static const struct wgx_control_command commands[] = {
	{ "blob", h_blob },
	{ NULL, NULL },
};

static void quiet(enum wgx_log_level level, const char *msg, void *ctx)
{
	(void)level;
	(void)msg;
	(void)ctx;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Connect and send the start of a request, never its end. */
static int stall(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) ||
	    send(fd, "bl", 2, MSG_NOSIGNAL) != 2) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* The child: ROUNDS calls, their times in ms written to out. */
static void __attribute__((noreturn))
client(const char *path, int rounds, bool stalled, int out)
{
	double t[MAX_ROUNDS];

	for (int i = 0; i < rounds; i++) {
		struct wgx_control_response resp;
		int fd = stalled ? stall(path) : -1;
		double t0 = now_ms();
		int err = wgx_control_call(path, "blob", 0, &resp);

		t[i] = now_ms() - t0;
		if (err || resp.len != blob_len)
			t[i] = -1;
		wgx_control_response_free(&resp);
		if (fd >= 0)
			close(fd);
	}
	_exit(write(out, t, sizeof(double) * (size_t)rounds) < 0);
}

static int run(struct wgx_control_server *s, const char *path, int rounds,
	       bool stalled)
{
	double t[MAX_ROUNDS], worst = 0, worst_cpu = 0;
	size_t want = sizeof(double) * (size_t)rounds, got = 0;
	int fds[2], status = -1;
	pid_t pid;

	if (pipe(fds))
		return -errno;
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		client(path, rounds, stalled, fds[1]);
	}
	close(fds[1]);
	while (pid > 0 && got < want) {
		struct pollfd p[2] = { { .fd = s->fd, .events = POLLIN },
				       { .fd = fds[0], .events = POLLIN } };
		double t0, c0;
		ssize_t n;

		if (poll(p, 2, 100) < 0)
			break;
		if (p[0].revents) {
			handler_ms = handler_cpu_ms = 0;
			t0 = now_ms();
			c0 = cpu_ms();
			wgx_control_server_serve(s);
			t0 = now_ms() - t0 - handler_ms;
			c0 = cpu_ms() - c0 - handler_cpu_ms;
			worst = t0 > worst ? t0 : worst;
			worst_cpu = c0 > worst_cpu ? c0 : worst_cpu;
		}
		if (!p[1].revents)
			continue;
		n = read(fds[0], (char *)t + got, want - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fds[0]);
	if (pid > 0)
		waitpid(pid, &status, 0);
	if (got < want || !WIFEXITED(status) || WEXITSTATUS(status))
		return -EIO;
	qsort(t, (size_t)rounds, sizeof(double), cmp_double);
	if (t[0] < 0) {
		fprintf(stderr, "control: a call failed\n");
		return -EIO;
	}
	printf("%-22s median %9.2f ms %8.1f MiB/s | longest serve %8.2f ms, "
	       "%6.2f ms CPU\n",
	       stalled ? "with a stalled client" : "alone", t[rounds / 2],
	       (double)blob_len / (1 << 20) / (t[rounds / 2] / 1e3), worst,
	       worst_cpu);
	return 0;
}

int main(int argc, char **argv)
{
	struct wgx_control_server s;
	char dir[] = "/tmp/wgx-bench-XXXXXX", path[64];
	int mib = argc > 1 ? atoi(argv[1]) : 3;
	int rounds = argc > 2 ? atoi(argv[2]) : 20;
	int err;

	if (mib <= 0 || rounds <= 0 || rounds > MAX_ROUNDS) {
		fprintf(stderr, "usage: control [MIB [ROUNDS<=%d]]\n",
			MAX_ROUNDS);
		return 2;
	}
	blob_len = (size_t)mib << 20;
	blob = malloc(blob_len);
	if (!blob || !mkdtemp(dir))
		return 1;
	memset(blob, 'x', blob_len);
	snprintf(path, sizeof(path), "%s/c.sock", dir);
	wgx_log_set_sink(quiet, NULL);
	if (wgx_control_server_open(&s, path, commands, NULL))
		return 1;
	printf("%d MiB answer, %d rounds\n", mib, rounds);
	err = run(&s, path, rounds, false);
	if (!err)
		err = run(&s, path, rounds, true);
	wgx_control_server_close(&s);
	rmdir(dir);
	free(blob);
	return err ? 1 : 0;
}
