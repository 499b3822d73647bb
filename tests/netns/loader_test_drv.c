// SPDX-License-Identifier: MIT
/*
 * Drives user/agent/loader.c for tests/netns/t_loader.sh: one subcommand per
 * call, results as "key=value" lines on stdout, the loader's messages on
 * stderr. Run it inside the test's network namespace.
 *
 *   attach IFACE MODE [--obj PATH] [--force] [--reclaim] [--hold]
 *       prints mode=, dispatcher=, link=, prog_id=; with --hold, then
 *       "ready" and waits for SIGTERM/SIGINT to detach (kill -9 leaves
 *       the pins behind, like a crashed daemon, and the program only when
 *       it went into libxdp's dispatcher); without it, exits at once,
 *       leaving the pins (and the program, in a dispatcher)
 *   detach IFACE            from the pins
 *   reclaim IFACE           prints reclaimed=0|1
 *   query IFACE             prints what is on IFACE
 *   session-add IFACE INDEX PEER SLOT | session-del IFACE INDEX
 *   config IFACE PORT FLAGS [MAC1_KEY_HEX]
 *   deny IFACE ADDR MS      deny ADDR's source (IPv6: its /64) for MS ms
 *   addrs IFACE [ADDR...]   replaces the local_addrs set
 *   stats IFACE             one "name packets bytes" line per counter
 *
 * -v before the subcommand shows the debug log (libxdp, libbpf).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "agent/loader.h"
#include "util/log.h"

static int usage(void)
{
	fprintf(stderr,
		"usage: loader_test_drv [-v] attach|detach|reclaim|query|"
		"session-add|session-del|config|deny|addrs|stats IFACE "
		"...\n");
	return 2;
}

static int fail(const char *what, int err)
{
	fprintf(stderr, "loader_test_drv: %s: %s\n", what, strerror(-err));
	return 1;
}

static unsigned long num(const char *s)
{
	char *end;
	unsigned long v = strtoul(s, &end, 0);

	if (!*s || *end) {
		fprintf(stderr, "loader_test_drv: bad number '%s'\n", s);
		exit(2);
	}
	return v;
}

static void print_loader(const struct wgx_loader *ld)
{
	printf("mode=%s\ndispatcher=%d\nlink=%d\nprog_id=%u\n",
	       wgx_loader_mode_name(ld->mode), ld->dispatcher, ld->link_fd >= 0,
	       ld->prog_id);
	fflush(stdout);
}

static int wait_signal(void)
{
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	printf("ready\n");
	fflush(stdout);
	return sigwait(&set, &sig);
}

static int cmd_attach(int argc, char **argv)
{
	struct wgx_loader_opts opts = { .iface = argv[0] };
	struct wgx_loader ld;
	bool hold = false;
	int err;

	if (argc < 2 || wgx_loader_mode_parse(argv[1], &opts.mode))
		return usage();
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--force"))
			opts.force = true;
		else if (!strcmp(argv[i], "--reclaim"))
			opts.reclaim_stale = true;
		else if (!strcmp(argv[i], "--hold"))
			hold = true;
		else if (!strcmp(argv[i], "--obj") && i + 1 < argc)
			opts.obj_path = argv[++i];
		else
			return usage();
	}
	err = wgx_loader_attach(&ld, &opts);
	if (err)
		return fail("attach", err);
	print_loader(&ld);
	if (!hold) {
		wgx_loader_close(&ld);
		return 0;
	}
	wait_signal();
	err = wgx_loader_detach(&ld);
	return err ? fail("detach", err) : 0;
}

static int cmd_query(const char *iface)
{
	struct wgx_loader_status st;
	int err = wgx_loader_query(iface, &st);

	if (err)
		return fail("query", err);
	printf("prog_id=%u\nprog_name=%s\nmode=%s\ndispatcher=%d\n"
	       "ours_id=%u\nforeign=%d\npinned=%d\n",
	       st.prog_id, st.prog_name,
	       st.prog_id ? wgx_loader_mode_name(st.mode) : "none",
	       st.dispatcher, st.ours_id, st.foreign, st.pinned);
	return 0;
}

static int parse_addr(const char *text, struct wgx_addr_key *key)
{
	unsigned char buf[16];

	if (inet_pton(AF_INET, text, buf) == 1)
		return wgx_loader_addr_key(AF_INET, buf, key);
	if (inet_pton(AF_INET6, text, buf) == 1)
		return wgx_loader_addr_key(AF_INET6, buf, key);
	fprintf(stderr, "loader_test_drv: bad address '%s'\n", text);
	return -EINVAL;
}

static int cmd_addrs(struct wgx_loader *ld, int argc, char **argv)
{
	struct wgx_addr_key keys[WGX_XDP_MAX_LOCAL_ADDRS];

	if (argc > WGX_XDP_MAX_LOCAL_ADDRS)
		return usage();
	for (int i = 0; i < argc; i++)
		if (parse_addr(argv[i], &keys[i]))
			return 2;
	return wgx_loader_set_local_addrs(ld, keys, (size_t)argc);
}

/* 64 hex digits into a 32-byte key; 2 on a bad one (usage). */
static int hex_key(const char *s, uint8_t key[32])
{
	for (int i = 0; i < 32; i++) {
		unsigned int b;

		if (sscanf(s + 2 * i, "%2x", &b) != 1)
			return 2;
		key[i] = (uint8_t)b;
	}
	return strlen(s) == 64 ? 0 : 2;
}

static int cmd_deny(struct wgx_loader *ld, const char *addr, unsigned long ms)
{
	struct wgx_addr_key key;
	struct timespec ts;

	if (parse_addr(addr, &key))
		return 2;
	if (key.family == 6)
		memset(key.addr + WGX_DENY_PREFIX6, 0, 16 - WGX_DENY_PREFIX6);
	clock_gettime(CLOCK_BOOTTIME, &ts);
	return wgx_loader_deny(ld, &key,
			       (uint64_t)ts.tv_sec * 1000000000ULL +
				       (uint64_t)ts.tv_nsec + ms * 1000000ULL);
}

static int cmd_stats(struct wgx_loader *ld)
{
	struct wgx_xdp_counter c[WGX_XDP_STAT_COUNT];
	int err = wgx_loader_read_stats(ld, c);

	for (unsigned int i = 0; !err && i < WGX_XDP_STAT_COUNT; i++)
		printf("%s %llu %llu\n", wgx_loader_stat_name(i),
		       (unsigned long long)c[i].packets,
		       (unsigned long long)c[i].bytes);
	return err;
}

/* The subcommands that work on the maps of an attached program. */
static int cmd_maps(const char *cmd, int argc, char **argv)
{
	struct wgx_loader ld;
	int err = wgx_loader_open_pinned(&ld, argv[0]);

	if (err)
		return fail("open pins", err);
	if (!strcmp(cmd, "detach")) {
		err = wgx_loader_detach(&ld);
	} else if (!strcmp(cmd, "session-add") && argc == 4) {
		err = wgx_loader_session_add(&ld, (uint32_t)num(argv[1]),
					     (uint32_t)num(argv[2]),
					     (uint8_t)num(argv[3]));
	} else if (!strcmp(cmd, "session-del") && argc == 2) {
		err = wgx_loader_session_del(&ld, (uint32_t)num(argv[1]));
	} else if (!strcmp(cmd, "config") && (argc == 3 || argc == 4)) {
		struct wgx_xdp_config cfg = {
			.listen_port = (uint16_t)num(argv[1]),
			.flags = (uint16_t)num(argv[2]),
		};
		err = argc == 4 ? hex_key(argv[3], cfg.mac1_key) : 0;
		if (!err)
			err = wgx_loader_set_config(&ld, &cfg);
	} else if (!strcmp(cmd, "deny") && argc == 3) {
		err = cmd_deny(&ld, argv[1], num(argv[2]));
	} else if (!strcmp(cmd, "addrs")) {
		err = cmd_addrs(&ld, argc - 1, argv + 1);
	} else if (!strcmp(cmd, "stats") && argc == 1) {
		err = cmd_stats(&ld);
	} else {
		err = 2;
	}
	wgx_loader_close(&ld);
	if (err == 2)
		return usage();
	return err ? fail(cmd, err) : 0;
}

int main(int argc, char **argv)
{
	const char *cmd;
	int err;

	if (argc > 1 && !strcmp(argv[1], "-v")) {
		wgx_log_set_level(WGX_LOG_DEBUG);
		argc--;
		argv++;
	}
	if (argc < 3)
		return usage();
	cmd = argv[1];
	if (!strcmp(cmd, "attach"))
		return cmd_attach(argc - 2, argv + 2);
	if (!strcmp(cmd, "query"))
		return cmd_query(argv[2]);
	if (!strcmp(cmd, "reclaim")) {
		err = wgx_loader_reclaim(argv[2]);
		if (err < 0)
			return fail("reclaim", err);
		printf("reclaimed=%d\n", err);
		return 0;
	}
	return cmd_maps(cmd, argc - 2, argv + 2);
}
