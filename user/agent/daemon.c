// SPDX-License-Identifier: MIT
/*
 * The readiness channel is a socketpair rather than a pipe so the daemon
 * can write with MSG_NOSIGNAL: a parent that gave up waiting must not kill
 * it with SIGPIPE. Lines on it: "pid <n>" (first, from the daemon),
 * any number of "busy", then "ready" or "error <errno> <message>".
 */
#include "agent/daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"

static void send_line(int fd, const char *line)
{
	ssize_t n = send(fd, line, strlen(line), MSG_NOSIGNAL);

	(void)n; /* nobody left to tell */
}

static void send_error(int fd, int err, const char *msg)
{
	char line[WGX_DAEMON_MSG_MAX + 32];

	snprintf(line, sizeof(line), "error %d %s", err < 0 ? -err : err,
		 msg && *msg ? msg : "start-up failed");
	/* One line whatever msg holds. */
	for (char *p = line; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	strcat(line, "\n");
	send_line(fd, line);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The daemon's channel while it starts (start-up is single-threaded). */
static struct wgx_daemon_notify *starting;

void wgx_daemon_progress(void)
{
	static int64_t last;
	int64_t now;

	if (!starting || starting->fd < 0)
		return;
	now = now_ms();
	if (now - last < WGX_DAEMON_BUSY_MS)
		return;
	last = now;
	send_line(starting->fd, "busy\n");
}

void wgx_daemon_ready(struct wgx_daemon_notify *notify)
{
	if (notify->foreground)
		wgx_log_debug("Ready");
	if (notify->fd < 0)
		return;
	send_line(notify->fd, "ready\n");
	close(notify->fd);
	notify->fd = -1;
	starting = NULL;
}

void wgx_daemon_fail(struct wgx_daemon_notify *notify, int err, const char *msg)
{
	if (notify->fd < 0)
		return;
	send_error(notify->fd, err, msg ? msg : wgx_log_last_error());
	close(notify->fd);
	notify->fd = -1;
	starting = NULL;
}

static void detach_stdio(void)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return;
	dup2(fd, STDIN_FILENO);
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	if (fd > STDERR_FILENO)
		close(fd);
}

/* The daemon itself: never returns. */
static void __attribute__((noreturn))
run_daemon(wgx_daemon_fn fn, void *ctx, int fd)
{
	struct wgx_daemon_notify notify = { .fd = fd };
	char line[32];
	int ret;

	/* Do not pin the caller's working directory's filesystem. */
	if (chdir("/") < 0)
		wgx_log_debug("Couldn't chdir to /: %s", strerror(errno));
	detach_stdio();
	wgx_log_use_syslog(true);
	wgx_log_clear_last_error();
	snprintf(line, sizeof(line), "pid %d\n", (int)getpid());
	send_line(fd, line);
	starting = &notify;
	ret = fn(ctx, &notify);
	if (notify.fd >= 0)
		wgx_daemon_fail(&notify, ret ? ret : -ECHILD,
				*wgx_log_last_error()
					? NULL
					: "daemon exited during start-up");
	_exit(ret ? 1 : 0);
}

/* The first child: new session, fork the daemon, leave. */
static void __attribute__((noreturn))
run_intermediate(wgx_daemon_fn fn, void *ctx, int fd)
{
	pid_t pid;

	if (setsid() < 0) {
		send_error(fd, errno, "setsid failed");
		_exit(1);
	}
	pid = fork();
	if (pid < 0) {
		send_error(fd, errno, "fork failed");
		_exit(1);
	}
	if (pid == 0)
		run_daemon(fn, ctx, fd);
	_exit(0);
}

struct wait_state {
	pid_t pid;
	int result; /* 1 until a verdict: 0 ready, -errno failed */
	bool timed_out;
	int timeout_ms;	  /* of silence */
	int64_t deadline; /* moved on by every "busy" */
	char *msg;
	size_t msg_len;
};

static void set_msg(struct wait_state *w, const char *text)
{
	if (w->msg_len)
		snprintf(w->msg, w->msg_len, "%s", text);
}

static void parse_line(struct wait_state *w, const char *line)
{
	char *end;
	long v;

	if (!strncmp(line, "pid ", 4)) {
		v = strtol(line + 4, &end, 10);
		if (end != line + 4 && v > 0)
			w->pid = (pid_t)v;
	} else if (!strcmp(line, "busy")) {
		w->deadline = now_ms() + w->timeout_ms;
	} else if (!strcmp(line, "ready")) {
		w->result = 0;
		set_msg(w, "ready");
	} else if (!strncmp(line, "error ", 6)) {
		v = strtol(line + 6, &end, 10);
		w->result = v > 0 && v < 4096 ? -(int)v : -EIO;
		set_msg(w, *end == ' ' ? end + 1 : end);
	}
}

/* Read lines until a verdict, EOF or the deadline. */
static void wait_word(struct wait_state *w, int fd)
{
	char buf[WGX_DAEMON_MSG_MAX + 64];
	size_t len = 0;

	while (w->result > 0) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int64_t left = w->deadline - now_ms();
		char *nl;
		ssize_t n;

		if (left <= 0 || poll(&p, 1, (int)left) == 0) {
			w->timed_out = true;
			return;
		}
		n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return; /* EOF without a verdict */
		len += (size_t)n;
		buf[len] = '\0';
		while (w->result > 0 && (nl = strchr(buf, '\n')) != NULL) {
			*nl = '\0';
			parse_line(w, buf);
			len -= (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, len + 1);
		}
		if (len == sizeof(buf) - 1)
			len = 0; /* an overlong line: drop it */
	}
}

int wgx_daemon_spawn(wgx_daemon_fn fn, void *ctx, int timeout_ms, char *msg,
		     size_t msg_len, pid_t *pid)
{
	struct wait_state w = { .result = 1, .msg = msg, .msg_len = msg_len };
	pid_t child;
	int sv[2];

	set_msg(&w, "");
	w.timeout_ms = timeout_ms > 0 ? timeout_ms : WGX_DAEMON_READY_MS;
	w.deadline = now_ms() + w.timeout_ms;
	if (pid)
		*pid = 0;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		int err = -errno;

		set_msg(&w, strerror(-err));
		return err;
	}
	fflush(NULL); /* or buffered output would be written twice */
	child = fork();
	if (child < 0) {
		int err = -errno;

		set_msg(&w, strerror(-err));
		close(sv[0]);
		close(sv[1]);
		return err;
	}
	if (child == 0) {
		close(sv[0]);
		run_intermediate(fn, ctx, sv[1]);
	}
	close(sv[1]);
	while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
		;
	wait_word(&w, sv[0]);
	close(sv[0]);
	if (w.timed_out) {
		/* A half-started tunnel must not linger unnoticed. */
		w.result = -ETIMEDOUT;
		if (w.pid > 0)
			kill(w.pid, SIGTERM);
		if (msg_len)
			snprintf(msg, msg_len,
				 "daemon did not report readiness or "
				 "progress within %d ms; stopped it",
				 w.timeout_ms);
	} else if (w.result > 0) {
		w.result = -ECHILD;
		set_msg(&w, "daemon exited during start-up");
	}
	if (pid)
		*pid = w.pid;
	return w.result;
}

int wgx_daemon_run(bool foreground, wgx_daemon_fn fn, void *ctx)
{
	char msg[WGX_DAEMON_MSG_MAX];
	int ret;

	if (foreground) {
		struct wgx_daemon_notify notify = { .fd = -1,
						    .foreground = true };

		return fn(ctx, &notify);
	}
	ret = wgx_daemon_spawn(fn, ctx, 0, msg, sizeof(msg), NULL);
	if (ret)
		wgx_log_error("Couldn't start daemon: %s", msg);
	return ret;
}
