/* SPDX-License-Identifier: MIT */
/*
 * Start the agent as a daemon that reports when it is up. The parent forks;
 * the child forks again and exits, so the daemon is reparented, is not a
 * session leader and can never regain a terminal; the daemon setsid()s,
 * moves to /, points stdio at /dev/null and logs to syslog. It then runs
 * the caller's start function, which sets everything up and calls
 * wgx_daemon_ready() once the control socket answers (or wgx_daemon_fail()
 * with the reason). The parent waits for that word, bounded, so
 * `wgxdp attach` returns 0 only for a tunnel that is really up.
 *
 * In the foreground the same start function runs in the calling process
 * and the notifications only log, so both modes share one code path.
 */
#ifndef WGX_DAEMON_H
#define WGX_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

enum {
	/* How long the parent waits for "ready", or for a sign of progress
	 * while start-up works through a large configuration. */
	WGX_DAEMON_READY_MS = 15000,
	/* The daemon reports progress at most this often. */
	WGX_DAEMON_BUSY_MS = 250,
	WGX_DAEMON_MSG_MAX = 512,
};

/* The start function's link to whoever waits for it. */
struct wgx_daemon_notify {
	int fd; /* our end of the readiness channel; -1 once used */
	bool foreground;
};

/*
 * Runs in the daemon (or in the foreground). Returns the daemon's result,
 * 0 or -errno: a daemon then _exit()s with status 0 or 1. Returning before
 * either notification tells the parent that start-up failed.
 */
typedef int (*wgx_daemon_fn)(void *ctx, struct wgx_daemon_notify *notify);

/* Tell the parent the daemon is up. Later calls do nothing. */
void wgx_daemon_ready(struct wgx_daemon_notify *notify);
/*
 * Tell the parent start-up failed with err (-errno) and msg, NULL meaning
 * this thread's last logged error (log.h). Callers log the error first;
 * this only carries it. Later calls do nothing.
 */
void wgx_daemon_fail(struct wgx_daemon_notify *notify, int err,
		     const char *msg);

/*
 * Tell the parent start-up is still working (a long loop calls it as
 * often as it likes; a line goes out every WGX_DAEMON_BUSY_MS at most):
 * the parent's wait then starts over, so 100,000 peers on a slow machine
 * are not taken for a hung daemon. Does nothing outside start-up.
 */
void wgx_daemon_progress(void);

/*
 * Start fn as a daemon and wait for its word, up to timeout_ms (<= 0:
 * the default) after the start or the last progress report. Returns 0 on "ready", with its pid in *pid (may be NULL).
 * Otherwise -errno with the reason in msg (msg_len bytes, may be 0): the
 * daemon's own error and errno; -ECHILD when it exited without a word;
 * -ETIMEDOUT when it stayed silent, in which case it is sent SIGTERM so no
 * half-started tunnel lingers. Flushes stdio before forking.
 */
int wgx_daemon_spawn(wgx_daemon_fn fn, void *ctx, int timeout_ms, char *msg,
		     size_t msg_len, pid_t *pid);

/*
 * What `attach` calls: fn in the foreground (returning its result) or as
 * a daemon (returning once it is ready, after logging the daemon's error
 * as "Couldn't start daemon: ..." when it is not).
 */
int wgx_daemon_run(bool foreground, wgx_daemon_fn fn, void *ctx);

#endif
