// SPDX-License-Identifier: MIT
/*
 * The loader's pure parts: names, paths, keys, and bad input refused
 * before any BPF object, map or interface is touched. Attaching for real
 * is tested in tests/netns/t_loader.sh.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "agent/loader.h"
#include "util/log.h"
#include "test.h"

struct capture {
	int count;
	char last[WGX_LOG_MSG_MAX];
};

static void capture_sink(enum wgx_log_level level, const char *msg, void *ctx)
{
	struct capture *c = ctx;

	(void)level;
	c->count++;
	snprintf(c->last, sizeof(c->last), "%s", msg);
}

static void test_mode_parse(void)
{
	static const char *const names[] = { "auto", "native", "skb" };
	enum wgx_loader_mode m = WGX_LOADER_MODE_SKB;

	for (int i = 0; i < 3; i++) {
		CHECK(wgx_loader_mode_parse(names[i], &m) == 0);
		CHECK(m == (enum wgx_loader_mode)i);
		CHECK(strcmp(wgx_loader_mode_name(m), names[i]) == 0);
	}
	CHECK(strcmp(wgx_loader_mode_name((enum wgx_loader_mode)7),
		     "unknown") == 0);
}

static void test_mode_parse_bad(void)
{
	/* "socket" is the caller's fallback, not an XDP mode */
	static const char *const bad[] = { "socket", "",    "Native", "skb ",
					   "hw",     "drv", "generic" };
	enum wgx_loader_mode m = WGX_LOADER_MODE_SKB;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(wgx_loader_mode_parse(bad[i], &m) == -EINVAL);
	CHECK(wgx_loader_mode_parse(NULL, &m) == -EINVAL);
	CHECK(m == WGX_LOADER_MODE_SKB);
}

static void test_map_names(void)
{
	/* the pin names of design.md, in enum order */
	static const char *const pins[WGX_LOADER_MAP_COUNT] = {
		"sessions",    "stats", "xsks",	      "config",
		"local_addrs", "deny",	"xsk_queues", "rx_horizon",
	};

	for (int i = 0; i < WGX_LOADER_MAP_COUNT; i++) {
		const char *name = wgx_loader_map_name((enum wgx_loader_map)i);

		CHECK(name && strcmp(name, pins[i]) == 0);
	}
	CHECK(wgx_loader_map_name(WGX_LOADER_MAP_COUNT) == NULL);
	CHECK(wgx_loader_map_name((enum wgx_loader_map) - 1) == NULL);
}

static void test_stat_names(void)
{
	CHECK(strcmp(wgx_loader_stat_name(WGX_XDP_STAT_PASS_OTHER),
		     "pass_other") == 0);
	CHECK(strcmp(wgx_loader_stat_name(WGX_XDP_STAT_DROP_UNKNOWN_INDEX),
		     "drop_unknown_index") == 0);
	CHECK(strcmp(wgx_loader_stat_name(WGX_XDP_STAT_ABORTED), "aborted") ==
	      0);
	for (unsigned int i = 0; i < WGX_XDP_STAT_COUNT; i++)
		CHECK(wgx_loader_stat_name(i) != NULL);
	CHECK(wgx_loader_stat_name(WGX_XDP_STAT_COUNT) == NULL);
}

static void test_map_sizes(void)
{
	CHECK(wgx_loader_sessions_for_peers(0) == WGX_XDP_MAX_SESSIONS);
	CHECK(wgx_loader_sessions_for_peers(100000) >= 800000);
	CHECK(wgx_loader_sessions_for_peers((size_t)1 << 40) ==
	      WGX_XDP_SESSIONS_LIMIT);
	/* rx_horizon is allocated whole: sized to the peers, bounded. */
	CHECK(wgx_loader_horizons_for_peers(0) == 1024);
	CHECK(wgx_loader_horizons_for_peers(2) == 1024);
	CHECK(wgx_loader_horizons_for_peers(1000) == 4000);
	CHECK(wgx_loader_horizons_for_peers(100000) == WGX_XDP_MAX_HORIZONS);
	CHECK(wgx_loader_horizons_for_peers((size_t)1 << 40) ==
	      WGX_XDP_MAX_HORIZONS);
}

static void test_pin_dir(void)
{
	char buf[WGX_LOADER_PATH_MAX];

	CHECK(wgx_loader_pin_dir("eth0", buf, sizeof(buf)) == 0);
	CHECK(strcmp(buf, "/sys/fs/bpf/wgxdp/eth0") == 0);
	CHECK(wgx_loader_pin_dir("abcdefghijklmno", buf, sizeof(buf)) == 0);
	CHECK(strcmp(buf, "/sys/fs/bpf/wgxdp/abcdefghijklmno") == 0);
	CHECK(wgx_loader_pin_dir("eth0", buf, 10) == -ENAMETOOLONG);
}

static void test_pin_dir_bad_names(void)
{
	/* each would escape the pin root or is no interface name at all */
	static const char *const bad[] = { "",	  "..",	    ".",
					   "a/b", "../etc", "abcdefghijklmnop",
					   "a b" };
	char buf[WGX_LOADER_PATH_MAX];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(wgx_loader_pin_dir(bad[i], buf, sizeof(buf)) == -EINVAL);
	CHECK(wgx_loader_pin_dir(NULL, buf, sizeof(buf)) == -EINVAL);
}

static void test_addr_key(void)
{
	static const uint8_t v4[4] = { 192, 0, 2, 1 };
	static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 7 };
	static const uint8_t zero[16];
	struct wgx_addr_key k;

	memset(&k, 0xff, sizeof(k));
	CHECK(wgx_loader_addr_key(AF_INET, v4, &k) == 0);
	CHECK(k.family == 4);
	CHECK_MEM(k.addr, v4, 4);
	CHECK_MEM(k.addr + 4, zero, 12);
	CHECK(!k.reserved[0] && !k.reserved[1] && !k.reserved[2]);
	CHECK(wgx_loader_addr_key(AF_INET6, v6, &k) == 0);
	CHECK(k.family == 6);
	CHECK_MEM(k.addr, v6, 16);
}

static void test_addr_key_bad_family(void)
{
	static const uint8_t a[16];
	struct wgx_addr_key k;

	CHECK(wgx_loader_addr_key(AF_UNIX, a, &k) == -EAFNOSUPPORT);
	CHECK(wgx_loader_addr_key(AF_UNSPEC, a, &k) == -EAFNOSUPPORT);
	CHECK(k.family == 0);
}

static void test_closed_loader(void)
{
	struct capture c = { 0 };
	struct wgx_xdp_counter stats[WGX_XDP_STAT_COUNT];
	struct wgx_xdp_config cfg = { .listen_port = 51820 };
	struct wgx_loader ld;

	memset(&ld, 0, sizeof(ld));
	wgx_log_set_sink(capture_sink, &c);
	CHECK(wgx_loader_map_fd(&ld, WGX_LOADER_MAP_SESSIONS) == -EBADF);
	CHECK(wgx_loader_set_config(&ld, &cfg) == -EBADF);
	CHECK(wgx_loader_session_add(&ld, 1, 2, WGX_SLOT_CURRENT) == -EBADF);
	CHECK(wgx_loader_session_del(&ld, 1) == -EBADF);
	CHECK(wgx_loader_set_local_addrs(&ld, NULL, 0) == -EBADF);
	CHECK(wgx_loader_read_stats(&ld, stats) == -EBADF);
	CHECK(strstr(c.last, "Couldn't read the XDP counters") != NULL);
	/* closing or detaching what was never opened does nothing */
	wgx_loader_close(&ld);
	CHECK(wgx_loader_detach(&ld) == 0);
	wgx_log_set_sink(NULL, NULL);
	CHECK(c.count == 5);
}

static void test_session_bad_slot(void)
{
	struct capture c = { 0 };
	struct wgx_loader ld;

	memset(&ld, 0, sizeof(ld));
	wgx_log_set_sink(capture_sink, &c);
	CHECK(wgx_loader_session_add(&ld, 1, 2, WGX_SLOT_NEXT + 1) == -EINVAL);
	CHECK(wgx_loader_session_add(&ld, 1, 2, 255) == -EINVAL);
	wgx_log_set_sink(NULL, NULL);
	CHECK(strstr(c.last, "not a keypair slot") != NULL);
}

static void test_local_addrs_bad(void)
{
	struct wgx_addr_key keys[WGX_XDP_MAX_LOCAL_ADDRS + 1];
	struct capture c = { 0 };
	struct wgx_loader ld;

	memset(&ld, 0, sizeof(ld));
	memset(keys, 0, sizeof(keys));
	for (size_t i = 0; i < WGX_XDP_MAX_LOCAL_ADDRS + 1; i++)
		keys[i].family = 6;
	wgx_log_set_sink(capture_sink, &c);
	CHECK(wgx_loader_set_local_addrs(
		      &ld, keys, WGX_XDP_MAX_LOCAL_ADDRS + 1) == -E2BIG);
	keys[1].family = 5;
	CHECK(wgx_loader_set_local_addrs(&ld, keys, 2) == -EINVAL);
	keys[1].family = 4;
	keys[1].addr[4] = 1; /* IPv4 with bytes past the first four */
	CHECK(wgx_loader_set_local_addrs(&ld, keys, 2) == -EINVAL);
	keys[1].addr[4] = 0;
	keys[1].reserved[2] = 1;
	CHECK(wgx_loader_set_local_addrs(&ld, keys, 2) == -EINVAL);
	keys[1].reserved[2] = 0;
	/* valid keys get as far as the (closed) map */
	CHECK(wgx_loader_set_local_addrs(&ld, keys, 2) == -EBADF);
	wgx_log_set_sink(NULL, NULL);
	CHECK(c.count == 5);
}

static void test_attach_bad_input(void)
{
	struct wgx_loader_opts opts = { .iface = "a/b" };
	struct wgx_loader_status st;
	struct capture c = { 0 };
	struct wgx_loader ld;

	wgx_log_set_sink(capture_sink, &c);
	CHECK(wgx_loader_attach(&ld, &opts) == -EINVAL);
	CHECK(strstr(c.last, "Couldn't attach XDP: interface name 'a/b'") !=
	      NULL);
	CHECK(!ld.active && ld.map_fd[0] == -1);
	opts.iface = NULL;
	CHECK(wgx_loader_attach(&ld, &opts) == -EINVAL);
	opts.iface = "eth0";
	opts.mode = (enum wgx_loader_mode)3;
	CHECK(wgx_loader_attach(&ld, &opts) == -EINVAL);
	CHECK(wgx_loader_query("", &st) == -EINVAL);
	CHECK(wgx_loader_reclaim("../x") == -EINVAL);
	CHECK(wgx_loader_open_pinned(&ld, "x/y") == -EINVAL);
	CHECK(!ld.active);
	wgx_log_set_sink(NULL, NULL);
}

static void test_attach_no_such_iface(void)
{
	struct wgx_loader_opts opts = { .iface = "wgxnoiface0",
					.obj_path = "/nonexistent.o" };
	struct capture c = { 0 };
	struct wgx_loader ld;

	wgx_log_set_sink(capture_sink, &c);
	CHECK(wgx_loader_attach(&ld, &opts) == -ENODEV);
	CHECK(strstr(c.last, "no interface wgxnoiface0") != NULL);
	wgx_log_set_sink(NULL, NULL);
}

static void test_default_obj_env(void)
{
	char buf[64], longer[200];
	const char *old = getenv(WGX_LOADER_OBJ_ENV);
	char *saved = old ? strdup(old) : NULL;

	setenv(WGX_LOADER_OBJ_ENV, "/opt/x/wgxdp.bpf.o", 1);
	CHECK(wgx_loader_default_obj(buf, sizeof(buf)) == 0);
	CHECK(strcmp(buf, "/opt/x/wgxdp.bpf.o") == 0);
	memset(longer, 'a', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	setenv(WGX_LOADER_OBJ_ENV, longer, 1);
	CHECK(wgx_loader_default_obj(buf, sizeof(buf)) == -ENAMETOOLONG);
	if (saved)
		setenv(WGX_LOADER_OBJ_ENV, saved, 1);
	else
		unsetenv(WGX_LOADER_OBJ_ENV);
	free(saved);
}

static const struct wgx_test loader_tests[] = {
	{ "loader: mode names parse and print", test_mode_parse },
	{ "loader: bad mode names are refused", test_mode_parse_bad },
	{ "loader: map pin names follow design.md", test_map_names },
	{ "loader: stat names from wgx_bpf.h", test_stat_names },
	{ "loader: map sizes for the peers", test_map_sizes },
	{ "loader: pin directory per interface", test_pin_dir },
	{ "loader: pin directory refuses bad names", test_pin_dir_bad_names },
	{ "loader: local_addrs keys from IPv4/IPv6", test_addr_key },
	{ "loader: local_addrs key refuses other families",
	  test_addr_key_bad_family },
	{ "loader: a closed loader refuses map access", test_closed_loader },
	{ "loader: session slot out of range", test_session_bad_slot },
	{ "loader: local_addrs refuses too many or unclean keys",
	  test_local_addrs_bad },
	{ "loader: attach/query/reclaim refuse bad input",
	  test_attach_bad_input },
	{ "loader: attach to a missing interface", test_attach_no_such_iface },
	{ "loader: default object from the environment", test_default_obj_env },
};
WGX_SUITE(loader_tests)
