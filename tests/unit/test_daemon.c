// SPDX-License-Identifier: MIT
/*
 * Daemon start-up through the function API: each test spawns a real
 * detached daemon running a tiny start function, and checks what the
 * waiting parent is told. The start functions log only to a sink.
 */
#include "test.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "agent/daemon.h"
#include "util/log.h"

static void quiet_sink(enum wgx_log_level level, const char *msg, void *ctx)
{
	(void)level;
	(void)msg;
	(void)ctx;
}

static int start_ready(void *ctx, struct wgx_daemon_notify *n)
{
	(void)ctx;
	wgx_daemon_ready(n);
	wgx_daemon_ready(n); /* a second word is ignored */
	return 0;
}

static int start_fail(void *ctx, struct wgx_daemon_notify *n)
{
	(void)ctx;
	wgx_daemon_fail(n, -EADDRINUSE, "Couldn't bind port 51820: in use");
	wgx_daemon_ready(n); /* too late: the verdict was sent */
	return -EADDRINUSE;
}

static int start_fail_logged(void *ctx, struct wgx_daemon_notify *n)
{
	(void)ctx;
	wgx_log_error("Couldn't attach XDP program on %s: %s", "eth0",
		      "no such device");
	wgx_daemon_fail(n, -ENODEV, NULL);
	return -ENODEV;
}

static int start_return(void *ctx, struct wgx_daemon_notify *n)
{
	(void)ctx;
	(void)n;
	return 0;
}

static int start_return_logged(void *ctx, struct wgx_daemon_notify *n)
{
	(void)ctx;
	(void)n;
	wgx_log_error("Couldn't open %s: %s", "wg0.conf", "denied");
	return -EACCES;
}

static int start_hang(void *ctx, struct wgx_daemon_notify *n)
{
	(void)ctx;
	(void)n;
	for (;;)
		pause();
	return 0;
}

/* Busy for ms, saying so (tests wait 500 ms for a word). */
static void busy_for(int ms)
{
	for (int t = 0; t < ms; t += 20) {
		usleep(20000);
		wgx_daemon_progress();
	}
}

static int start_busy_ready(void *ctx, struct wgx_daemon_notify *n)
{
	(void)ctx;
	busy_for(1200);
	wgx_daemon_ready(n);
	return 0;
}

static int start_busy_hang(void *ctx, struct wgx_daemon_notify *n)
{
	busy_for(600);
	return start_hang(ctx, n);
}

/*
 * What a daemon sees: a new session it does not lead (so it can never
 * regain a terminal), stdio on /dev/null, cwd /, syslog. ctx holds the
 * spawner's session id.
 */
static int start_inspect(void *ctx, struct wgx_daemon_notify *n)
{
	char target[64] = "";
	ssize_t len = readlink("/proc/self/fd/1", target, sizeof(target) - 1);
	pid_t parent_sid = *(const pid_t *)ctx;
	char cwd[8] = "";

	if (len > 0)
		target[len] = '\0';
	if (!getcwd(cwd, sizeof(cwd)))
		cwd[0] = '\0';
	if (n->foreground || getsid(0) == getpid() || getsid(0) == parent_sid ||
	    strcmp(target, "/dev/null") || strcmp(cwd, "/") ||
	    !wgx_log_is_syslog()) {
		wgx_daemon_fail(n, -EINVAL, "not detached");
		return -EINVAL;
	}
	wgx_daemon_ready(n);
	return 0;
}

static bool gone_or_zombie(pid_t pid)
{
	char path[64], state = 0;
	FILE *f;

	for (int i = 0; i < 200; i++) {
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
		f = fopen(path, "r");
		if (!f)
			return true;
		/* "pid (comm) S ...": the state follows the last ')'. */
		if (fscanf(f, "%*d (%*[^)]) %c", &state) != 1)
			state = 0;
		fclose(f);
		if (state == 'Z' || state == 'X')
			return true;
		usleep(10000);
	}
	return false;
}

static void test_daemon_ready(void)
{
	char msg[WGX_DAEMON_MSG_MAX];
	pid_t pid = 0, sid = getsid(0);

	wgx_log_set_sink(quiet_sink, NULL);
	CHECK(wgx_daemon_spawn(start_ready, NULL, 5000, msg, sizeof(msg),
			       &pid) == 0);
	CHECK(pid > 0 && pid != getpid());
	CHECK(!strcmp(msg, "ready"));
	CHECK(wgx_daemon_spawn(start_inspect, &sid, 5000, msg, sizeof(msg),
			       NULL) == 0);
	CHECK(!strcmp(msg, "ready"));
	/* Our own logging target is untouched by the child's switch. */
	CHECK(!wgx_log_is_syslog());
	wgx_log_set_sink(NULL, NULL);
}

static void test_daemon_error(void)
{
	char msg[WGX_DAEMON_MSG_MAX];
	pid_t pid = 0;

	wgx_log_set_sink(quiet_sink, NULL);
	CHECK(wgx_daemon_spawn(start_fail, NULL, 5000, msg, sizeof(msg),
			       &pid) == -EADDRINUSE);
	CHECK(!strcmp(msg, "Couldn't bind port 51820: in use"));
	CHECK(pid > 0);
	/* NULL message: the daemon's last logged error is sent. */
	CHECK(wgx_daemon_spawn(start_fail_logged, NULL, 5000, msg, sizeof(msg),
			       NULL) == -ENODEV);
	CHECK(!strcmp(msg, "Couldn't attach XDP program on eth0: "
			   "no such device"));
	/* A tiny buffer is cut, not overrun. */
	CHECK(wgx_daemon_spawn(start_fail, NULL, 5000, msg, 8, NULL) ==
	      -EADDRINUSE);
	CHECK(!strcmp(msg, "Couldn'"));
	CHECK(wgx_daemon_spawn(start_fail, NULL, 5000, NULL, 0, NULL) ==
	      -EADDRINUSE);
	wgx_log_set_sink(NULL, NULL);
}

static void test_daemon_silent_exit(void)
{
	char msg[WGX_DAEMON_MSG_MAX];

	wgx_log_set_sink(quiet_sink, NULL);
	/* Returning success without a word is still a failed start. */
	CHECK(wgx_daemon_spawn(start_return, NULL, 5000, msg, sizeof(msg),
			       NULL) == -ECHILD);
	CHECK(!strcmp(msg, "daemon exited during start-up"));
	/* Returning an error passes on the last logged error. */
	CHECK(wgx_daemon_spawn(start_return_logged, NULL, 5000, msg,
			       sizeof(msg), NULL) == -EACCES);
	CHECK(!strcmp(msg, "Couldn't open wg0.conf: denied"));
	wgx_log_set_sink(NULL, NULL);
}

static void test_daemon_timeout(void)
{
	char msg[WGX_DAEMON_MSG_MAX];
	struct timespec t0, t1;
	pid_t pid = 0;
	long ms;

	wgx_log_set_sink(quiet_sink, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK(wgx_daemon_spawn(start_hang, NULL, 200, msg, sizeof(msg), &pid) ==
	      -ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 +
	     (t1.tv_nsec - t0.tv_nsec) / 1000000;
	CHECK(ms >= 190 && ms < 2000);
	CHECK(strstr(msg, "readiness or progress within 200 ms") != NULL);
	/* The silent daemon was stopped, not left running. */
	CHECK(pid > 0 && gone_or_zombie(pid));
	wgx_log_set_sink(NULL, NULL);
}

static void test_daemon_run(void)
{
	pid_t sid = getsid(0);

	wgx_log_set_sink(quiet_sink, NULL);
	/* Foreground: same start function, run here, result returned. */
	CHECK(wgx_daemon_run(true, start_ready, NULL) == 0);
	CHECK(wgx_daemon_run(true, start_return_logged, NULL) == -EACCES);
	CHECK(wgx_daemon_run(true, start_fail, NULL) == -EADDRINUSE);
	/* ...and told it is not detached. */
	CHECK(wgx_daemon_run(true, start_inspect, &sid) == -EINVAL);
	/* Daemon: failure is logged as "Couldn't start daemon: ...". */
	wgx_log_clear_last_error();
	CHECK(wgx_daemon_run(false, start_fail, NULL) == -EADDRINUSE);
	CHECK(!strcmp(wgx_log_last_error(),
		      "Couldn't start daemon: "
		      "Couldn't bind port 51820: in use"));
	CHECK(wgx_daemon_run(false, start_ready, NULL) == 0);
	wgx_log_set_sink(NULL, NULL);
}

/* Progress reports keep the parent waiting; silence after them does not. */
static void test_daemon_progress(void)
{
	char msg[WGX_DAEMON_MSG_MAX];
	struct timespec t0, t1;
	pid_t pid = 0;
	long ms;

	wgx_log_set_sink(quiet_sink, NULL);
	CHECK(wgx_daemon_spawn(start_busy_ready, NULL, 500, msg, sizeof(msg),
			       NULL) == 0);
	CHECK(!strcmp(msg, "ready"));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK(wgx_daemon_spawn(start_busy_hang, NULL, 500, msg, sizeof(msg),
			       &pid) == -ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 +
	     (t1.tv_nsec - t0.tv_nsec) / 1000000;
	/* 600 ms of progress, then 500 ms of silence. */
	CHECK(ms >= 1000 && ms < 3000);
	CHECK(strstr(msg, "readiness or progress within 500 ms") != NULL);
	CHECK(pid > 0 && gone_or_zombie(pid));
	/* Outside a daemon's start-up it does nothing. */
	wgx_daemon_progress();
	wgx_log_set_sink(NULL, NULL);
}

static const struct wgx_test daemon_tests[] = {
	{ "daemon: ready child returns 0 with its pid", test_daemon_ready },
	{ "daemon: child's error and errno reach the parent",
	  test_daemon_error },
	{ "daemon: child exiting without a word is an error",
	  test_daemon_silent_exit },
	{ "daemon: silent child times out and is stopped",
	  test_daemon_timeout },
	{ "daemon: foreground and daemon modes via run", test_daemon_run },
	{ "daemon: progress keeps the parent waiting, silence does not",
	  test_daemon_progress },
};
WGX_SUITE(daemon_tests)
