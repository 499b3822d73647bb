// SPDX-License-Identifier: MIT
/*
 * Each message is formatted once into a stack buffer and written with a
 * single write() so lines from several threads never interleave.
 */
#include "util/log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <unistd.h>

static int log_level = WGX_LOG_INFO;
static bool log_syslog;
static wgx_log_sink_fn log_sink;
static void *log_sink_ctx;
static __thread char last_error[WGX_LOG_MSG_MAX];

static const char *const level_names[] = {
	[WGX_LOG_ERROR] = "error",
	[WGX_LOG_WARN] = "warn",
	[WGX_LOG_INFO] = "info",
	[WGX_LOG_DEBUG] = "debug",
};

void wgx_log_set_level(enum wgx_log_level level)
{
	if (level > WGX_LOG_DEBUG)
		level = WGX_LOG_DEBUG;
	__atomic_store_n(&log_level, (int)level, __ATOMIC_RELAXED);
}

enum wgx_log_level wgx_log_get_level(void)
{
	return (enum wgx_log_level)__atomic_load_n(&log_level,
						   __ATOMIC_RELAXED);
}

int wgx_log_parse_level(const char *name, enum wgx_log_level *level)
{
	for (int i = WGX_LOG_ERROR; i <= WGX_LOG_DEBUG; i++) {
		if (name && !strcasecmp(name, level_names[i])) {
			*level = (enum wgx_log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

void wgx_log_set_verbosity(int verbose)
{
	int level = WGX_LOG_INFO + (verbose > 0 ? verbose : 0);

	wgx_log_set_level(level > WGX_LOG_DEBUG ? WGX_LOG_DEBUG
						: (enum wgx_log_level)level);
}

void wgx_log_use_syslog(bool on)
{
	if (on && !log_syslog)
		openlog("wgxdp", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	else if (!on && log_syslog)
		closelog();
	log_syslog = on;
}

bool wgx_log_is_syslog(void)
{
	return log_syslog;
}

void wgx_log_set_sink(wgx_log_sink_fn fn, void *ctx)
{
	log_sink = fn;
	log_sink_ctx = ctx;
}

const char *wgx_log_last_error(void)
{
	return last_error;
}

void wgx_log_clear_last_error(void)
{
	last_error[0] = '\0';
}

static void format_msg(char *buf, size_t len, const char *fmt, va_list ap)
{
	int n = vsnprintf(buf, len, fmt, ap);

	if (n < 0) {
		snprintf(buf, len, "(unformattable message)");
	} else if ((size_t)n >= len) {
		/* Mark the cut so a reader knows the message went on. */
		memcpy(buf + len - 4, "...", 4);
	}
	/* One line per message: a stray newline would forge a second one. */
	for (char *p = buf; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
}

static void write_stderr(enum wgx_log_level level, const char *msg)
{
	char line[WGX_LOG_MSG_MAX + 16];
	const char *prefix = level == WGX_LOG_WARN    ? "Warning: "
			     : level == WGX_LOG_DEBUG ? "debug: "
						      : "";
	int n = snprintf(line, sizeof(line), "%s%s\n", prefix, msg);
	ssize_t r;

	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	r = write(STDERR_FILENO, line, (size_t)n);
	(void)r;
}

static int syslog_priority(enum wgx_log_level level)
{
	switch (level) {
	case WGX_LOG_ERROR:
		return LOG_ERR;
	case WGX_LOG_WARN:
		return LOG_WARNING;
	case WGX_LOG_INFO:
		return LOG_INFO;
	default:
		return LOG_DEBUG;
	}
}

void wgx_log_vprint(enum wgx_log_level level, const char *fmt, va_list ap)
{
	char msg[WGX_LOG_MSG_MAX];
	int saved = errno;

	/* Errors always pass: WGX_LOG_ERROR is the lowest level. */
	if ((int)level > (int)wgx_log_get_level())
		return;
	format_msg(msg, sizeof(msg), fmt, ap);
	if (level == WGX_LOG_ERROR)
		memcpy(last_error, msg, sizeof(last_error));
	if (log_sink)
		log_sink(level, msg, log_sink_ctx);
	else if (log_syslog)
		syslog(syslog_priority(level), "%s", msg);
	else
		write_stderr(level, msg);
	errno = saved;
}

void wgx_log_print(enum wgx_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	wgx_log_vprint(level, fmt, ap);
	va_end(ap);
}
