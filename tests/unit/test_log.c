// SPDX-License-Identifier: MIT
/* Leveled logging: filtering, the sink, last error, line hygiene. */
#include "test.h"

#include <errno.h>
#include <stdio.h>

#include "util/log.h"

struct capture {
	int count;
	enum wgx_log_level level;
	char msg[WGX_LOG_MSG_MAX];
};

static void capture_sink(enum wgx_log_level level, const char *msg, void *ctx)
{
	struct capture *c = ctx;

	c->count++;
	c->level = level;
	snprintf(c->msg, sizeof(c->msg), "%s", msg);
}

static void test_log_levels(void)
{
	struct capture c = { 0 };

	wgx_log_set_sink(capture_sink, &c);
	wgx_log_set_level(WGX_LOG_WARN);
	wgx_log_info("hidden %d", 1);
	wgx_log_debug("hidden %d", 2);
	CHECK(c.count == 0);
	wgx_log_warn("Couldn't frob %s: %s", "eth0", "busy");
	CHECK(c.count == 1 && c.level == WGX_LOG_WARN);
	CHECK(!strcmp(c.msg, "Couldn't frob eth0: busy"));
	wgx_log_set_level(WGX_LOG_ERROR);
	wgx_log_warn("hidden");
	wgx_log_error("shown");
	CHECK(c.count == 2 && c.level == WGX_LOG_ERROR);
	wgx_log_set_level(WGX_LOG_DEBUG);
	wgx_log_debug("dbg");
	CHECK(c.count == 3 && c.level == WGX_LOG_DEBUG);
	wgx_log_set_level(WGX_LOG_INFO);
	wgx_log_set_sink(NULL, NULL);
}

static void test_log_verbosity_and_parse(void)
{
	enum wgx_log_level l = WGX_LOG_ERROR;

	wgx_log_set_verbosity(0);
	CHECK(wgx_log_get_level() == WGX_LOG_INFO);
	wgx_log_set_verbosity(1);
	CHECK(wgx_log_get_level() == WGX_LOG_DEBUG);
	wgx_log_set_verbosity(7);
	CHECK(wgx_log_get_level() == WGX_LOG_DEBUG);
	CHECK(wgx_log_parse_level("warn", &l) == 0 && l == WGX_LOG_WARN);
	CHECK(wgx_log_parse_level("DEBUG", &l) == 0 && l == WGX_LOG_DEBUG);
	CHECK(wgx_log_parse_level("loud", &l) == -EINVAL);
	CHECK(wgx_log_parse_level(NULL, &l) == -EINVAL);
	CHECK(l == WGX_LOG_DEBUG);
	wgx_log_set_level(WGX_LOG_INFO);
}

static void test_log_last_error_and_errno(void)
{
	struct capture c = { 0 };

	wgx_log_set_sink(capture_sink, &c);
	wgx_log_clear_last_error();
	CHECK(!strcmp(wgx_log_last_error(), ""));
	errno = ENOSPC;
	wgx_log_error("Couldn't write %s: %s", "x", "full");
	CHECK(errno == ENOSPC);
	CHECK(!strcmp(wgx_log_last_error(), "Couldn't write x: full"));
	wgx_log_warn("only a warning");
	CHECK(!strcmp(wgx_log_last_error(), "Couldn't write x: full"));
	wgx_log_set_sink(NULL, NULL);
}

static void test_log_line_hygiene(void)
{
	struct capture c = { 0 };
	char big[2 * WGX_LOG_MSG_MAX];

	wgx_log_set_sink(capture_sink, &c);
	/* An embedded newline must not forge a second log line. */
	wgx_log_error("peer said: %s", "ok\nroot: pwned\r");
	CHECK(!strchr(c.msg, '\n') && !strchr(c.msg, '\r'));
	CHECK(!strcmp(c.msg, "peer said: ok root: pwned "));
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	wgx_log_error("%s", big);
	CHECK(strlen(c.msg) == WGX_LOG_MSG_MAX - 1);
	CHECK(!strcmp(c.msg + WGX_LOG_MSG_MAX - 4, "..."));
	wgx_log_set_sink(NULL, NULL);
}

static const struct wgx_test log_tests[] = {
	{ "log: levels filter messages, sink receives them", test_log_levels },
	{ "log: verbosity and level names", test_log_verbosity_and_parse },
	{ "log: last error kept, errno preserved",
	  test_log_last_error_and_errno },
	{ "log: newlines neutralised, long messages cut",
	  test_log_line_hygiene },
};
WGX_SUITE(log_tests)
