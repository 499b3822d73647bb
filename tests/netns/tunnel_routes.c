// SPDX-License-Identifier: MIT
/*
 * The TUN's routes as the agent sets them, one step at a time, for
 * t_tun.sh: opens TUN with the first config file (wgx_tunnel_open, as
 * `attach` does), then syncs the routes to each further config file
 * (wgx_tunnel_sync_routes, as `reload` does). Before each sync, and
 * before closing the TUN at the end, it waits for a line on stdin (or its
 * end), so the script can look at the routes, or change them, in between.
 * After each step it prints "ok STEP MS" (or "fail STEP reason"); MS is
 * the step's time.
 *
 * Usage: tunnel_routes TUN CONFIG [CONFIG...]
 * Needs root, in a throw-away network namespace.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "agent/config.h"
#include "agent/tunnel.h"
#include "core/crypto.h"
#include "util/log.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static struct wgx_config *load(const char *path)
{
	struct wgx_config_opts opts = { .flags = WGX_CONFIG_NO_RESOLVE };
	struct wgx_config_errors errs = { 0 };
	struct wgx_config *cfg = NULL;
	char why[256];

	if (wgx_config_parse_file(path, &opts, &cfg, &errs) < 0) {
		for (size_t i = 0; i < errs.n && i < 3; i++)
			fprintf(stderr, "%s\n", errs.msgs[i].text);
	} else if (wgx_tunnel_check_config(cfg, why, sizeof(why)) < 0) {
		fprintf(stderr, "%s: %s\n", path, why);
		wgx_config_free(cfg);
		cfg = NULL;
	}
	wgx_config_errors_free(&errs);
	return cfg;
}

int main(int argc, char **argv)
{
	struct wgx_tunnel t;
	struct wgx_config *cfg;
	char line[64];
	double t0;
	int err;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 3) {
		fprintf(stderr,
			"usage: tunnel_routes TUN CONFIG [CONFIG...]\n");
		return 2;
	}
	if (wgx_crypto_init() < 0)
		return 1;
	cfg = load(argv[2]);
	if (!cfg) {
		printf("fail 1 bad config\n");
		return 1;
	}
	t0 = now_ms();
	err = wgx_tunnel_open(&t, argv[1], cfg, 1, false);
	wgx_config_free(cfg);
	if (err) {
		printf("fail 1 %s\n", strerror(-err));
		return 1;
	}
	printf("ok 1 %.0f\n", now_ms() - t0);
	/* A line: next step; after the last, a line or EOF: close. */
	for (int i = 3; fgets(line, sizeof(line), stdin) && i < argc; i++) {
		cfg = load(argv[i]);
		if (!cfg) {
			printf("fail %d bad config\n", i - 1);
			err = -EINVAL;
			break;
		}
		t0 = now_ms();
		err = wgx_tunnel_sync_routes(&t, cfg);
		wgx_config_free(cfg);
		if (err) {
			printf("fail %d %s\n", i - 1, strerror(-err));
			break;
		}
		printf("ok %d %.0f\n", i - 1, now_ms() - t0);
	}
	wgx_tunnel_close(&t);
	return err ? 1 : 0;
}
