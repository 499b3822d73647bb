/* SPDX-License-Identifier: MIT */
/*
 * Leveled logging for the CLI and the agent. Messages read "Couldn't X:
 * reason" and carry no trailing newline. They go to stderr (foreground,
 * CLI) or to syslog as LOG_DAEMON with ident "wgxdp" (daemon). Safe to call
 * from any thread; errno is preserved so a caller can log and then return
 * -errno. Configure (level, target, sink) before starting threads.
 */
#ifndef WGX_LOG_H
#define WGX_LOG_H

#include <stdarg.h>
#include <stdbool.h>

enum wgx_log_level {
	WGX_LOG_ERROR,
	WGX_LOG_WARN,
	WGX_LOG_INFO,
	WGX_LOG_DEBUG,
};

enum {
	/* Longest message kept; longer ones are cut and end in "...". */
	WGX_LOG_MSG_MAX = 512,
};

/* Messages above level are dropped; the default is WGX_LOG_INFO. */
void wgx_log_set_level(enum wgx_log_level level);
enum wgx_log_level wgx_log_get_level(void);
/* Level from "error", "warn", "info", "debug"; 0 or -EINVAL. */
int wgx_log_parse_level(const char *name, enum wgx_log_level *level);
/* Each -v raises the level by one from the default, capped at debug. */
void wgx_log_set_verbosity(int verbose);

/* Where messages go: stderr (the default) or syslog. */
void wgx_log_use_syslog(bool on);
bool wgx_log_is_syslog(void);

/*
 * A sink replaces stderr/syslog (tests capture messages with it); NULL
 * restores the normal target. msg has no trailing newline.
 */
typedef void (*wgx_log_sink_fn)(enum wgx_log_level level, const char *msg,
				void *ctx);
void wgx_log_set_sink(wgx_log_sink_fn fn, void *ctx);

__attribute__((format(printf, 2, 3))) void wgx_log_print(
	enum wgx_log_level level, const char *fmt, ...);
__attribute__((format(printf, 2, 0))) void wgx_log_vprint(
	enum wgx_log_level level, const char *fmt, va_list ap);

/*
 * The calling thread's last error message, wherever it went, "" when
 * none: a daemon that fails during start-up hands it to the waiting parent.
 */
const char *wgx_log_last_error(void);
void wgx_log_clear_last_error(void);

#define wgx_log_error(...) wgx_log_print(WGX_LOG_ERROR, __VA_ARGS__)
#define wgx_log_warn(...)  wgx_log_print(WGX_LOG_WARN, __VA_ARGS__)
#define wgx_log_info(...)  wgx_log_print(WGX_LOG_INFO, __VA_ARGS__)
#define wgx_log_debug(...) wgx_log_print(WGX_LOG_DEBUG, __VA_ARGS__)

#endif
