// SPDX-License-Identifier: MIT
/*
 * Reload's host names resolved off the agent thread (agent/resolve.h):
 * the caller gets control back at once however slow the resolver is, the
 * config comes back resolved, a name that does not resolve comes back as
 * the parser's message, and a job given up on frees itself.
 */
#include "test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include "agent/config.h"
#include "agent/resolve.h"
#include "core/crypto.h"

#define PEER1 "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg="
#define PEER2 "Q9FjT3mzuL8AJnzV03DDX7vPqSbxhiHkzqZbNgNDvHw="
#define TEXT                                                                   \
	"[Peer]\nPublicKey = " PEER1 "\nEndpoint = slow.example:51820\n"       \
	"[Peer]\nPublicKey = " PEER2 "\nEndpoint = 192.0.2.9:1\n"

static atomic_int calls, finished;

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* 300 ms per name, as a slow DNS server; only slow.example exists. */
static int slow_resolve(void *ctx, const char *host, uint16_t port,
			union wgx_sockaddr *out)
{
	(void)ctx;
	atomic_fetch_add(&calls, 1);
	usleep(300 * 1000);
	atomic_fetch_add(&finished, 1);
	if (strcmp(host, "slow.example"))
		return EAI_NONAME;
	memset(out, 0, sizeof(*out));
	out->in4.sin_family = AF_INET;
	out->in4.sin_port = htons(port);
	inet_pton(AF_INET, "198.51.100.7", &out->in4.sin_addr);
	return 0;
}

static struct wgx_config *parse_unresolved(const char *text)
{
	struct wgx_config_opts o = { .flags = WGX_CONFIG_NO_RESOLVE };
	struct wgx_config_errors errs = { 0 };
	struct wgx_config *cfg = NULL;

	CHECK(wgx_config_parse_buf("t.conf", text, strlen(text), &o, &cfg,
				   &errs) == 0);
	wgx_config_errors_free(&errs);
	return cfg;
}

static void test_resolve_off_thread(void)
{
	struct wgx_config_opts o = { .resolve = slow_resolve };
	struct wgx_config *cfg = parse_unresolved(TEXT), *got = NULL;
	struct wgx_config_errors errs = { 0 };
	struct wgx_resolve_job *job = NULL;
	struct pollfd pfd;
	uint64_t t0;

	if (!cfg)
		return;
	CHECK(wgx_config_unresolved(cfg) == 1);
	atomic_store(&calls, 0);
	t0 = now_ms();
	CHECK(wgx_resolve_start(cfg, &o, &job) == 0);
	if (!job) {
		wgx_config_free(cfg);
		return;
	}
	/* Back at once, long before the resolver answers. */
	CHECK(now_ms() - t0 < 150);
	pfd = (struct pollfd){ .fd = wgx_resolve_fd(job), .events = POLLIN };
	CHECK(poll(&pfd, 1, 0) == 0);
	CHECK(wgx_resolve_finish(job, &got, &errs) == -EAGAIN);
	CHECK(poll(&pfd, 1, 5000) == 1);
	CHECK(now_ms() - t0 >= 250);
	CHECK(wgx_resolve_finish(job, &got, &errs) == 0);
	CHECK(atomic_load(&calls) == 1); /* numeric ones need no resolver */
	CHECK(errs.n == 0);
	CHECK(got == cfg);
	if (got) {
		CHECK(wgx_config_unresolved(got) == 0);
		CHECK(got->peers[0].endpoint.resolved);
		CHECK(got->peers[0].endpoint.addr.in4.sin_port == htons(51820));
		CHECK(got->peers[0].endpoint.addr.in4.sin_addr.s_addr ==
		      inet_addr("198.51.100.7"));
	}
	wgx_config_free(got);
	wgx_config_errors_free(&errs);
}

static void test_resolve_failure(void)
{
	static const char text[] = "[Peer]\nPublicKey = " PEER1 "\n\n"
				   "Endpoint = nx.example:7\n";
	struct wgx_config_opts o = { .resolve = slow_resolve };
	struct wgx_config *cfg = parse_unresolved(text), *got = cfg;
	struct wgx_config_errors errs = { 0 };
	struct wgx_resolve_job *job = NULL;
	struct pollfd pfd;

	if (!cfg)
		return;
	CHECK(wgx_resolve_start(cfg, &o, &job) == 0);
	if (!job)
		return;
	pfd = (struct pollfd){ .fd = wgx_resolve_fd(job), .events = POLLIN };
	CHECK(poll(&pfd, 1, 5000) == 1);
	CHECK(wgx_resolve_finish(job, &got, &errs) == -EINVAL);
	CHECK(got == NULL);
	/* The message the parser would have given, line and all. */
	CHECK(errs.n == 1 && errs.n_errors == 1 &&
	      strstr(errs.msgs[0].text,
		     "t.conf:4: Endpoint 'nx.example:7': cannot resolve "
		     "'nx.example'"));
	wgx_config_errors_free(&errs);
}

static void test_resolve_cancel(void)
{
	struct wgx_config_opts o = { .resolve = slow_resolve };
	struct wgx_config *cfg = parse_unresolved(TEXT);
	struct wgx_resolve_job *job = NULL;
	int before;

	if (!cfg)
		return;
	before = atomic_load(&finished);
	CHECK(wgx_resolve_start(cfg, &o, &job) == 0);
	/* Given up on at once: the thread frees it (ASan: no leak). */
	wgx_resolve_cancel(job);
	wgx_resolve_cancel(NULL);
	for (int i = 0; i < 100 && atomic_load(&finished) == before; i++)
		usleep(20 * 1000);
	usleep(50 * 1000);
	CHECK(atomic_load(&finished) > before);
}

static const struct wgx_test resolve_tests[] = {
	{ "resolve: a slow host name does not hold the caller",
	  test_resolve_off_thread },
	{ "resolve: a name that fails comes back as the parser's message",
	  test_resolve_failure },
	{ "resolve: a job given up on frees itself", test_resolve_cancel },
};
WGX_SUITE(resolve_tests)
