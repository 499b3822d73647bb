// SPDX-License-Identifier: MIT
/*
 * horizon: when the workers publish a keypair's receive horizon for the
 * XDP program, and what they write (into a real LRU hash map, as root).
 */
#include <bpf/bpf.h>
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "test.h"
#include "datapath/horizon.h"
#include "device/device.h"
#include "wgx_bpf.h"

static uint64_t boot_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void test_due(void)
{
	const uint64_t t0 = 5000000000ULL, period = WGX_HORIZON_PERIOD_NS;
	struct wgx_keypair kp;

	memset(&kp, 0, sizeof(kp));
	wgx_replay_init(&kp.replay);
	CHECK(!wgx_horizon_due(&kp, t0)); /* nothing authenticated yet */
	CHECK(wgx_replay_check(&kp.replay, 0));
	CHECK(wgx_horizon_due(&kp, t0)); /* the first message: publish */
	/* No map: the write fails, and is not retried before the step. */
	CHECK(wgx_horizon_publish(-1, &kp, t0) < 0);
	CHECK(kp.horizon_published && kp.horizon_next == 1);
	CHECK(!wgx_horizon_due(&kp, t0));
	CHECK(wgx_replay_check(&kp.replay, WGX_HORIZON_STEP - 1));
	CHECK(!wgx_horizon_due(&kp, t0)); /* next = STEP: one short */
	CHECK(wgx_replay_check(&kp.replay, WGX_HORIZON_STEP));
	CHECK(wgx_horizon_due(&kp, t0));
	CHECK(wgx_horizon_publish(-1, &kp, t0) < 0);
	/* A slow session: once a period, and only when it moved. */
	CHECK(!wgx_horizon_due(&kp, t0 + 2 * period)); /* did not move */
	CHECK(wgx_replay_check(&kp.replay, WGX_HORIZON_STEP + 1));
	CHECK(!wgx_horizon_due(&kp, t0 + period - 1));
	CHECK(wgx_horizon_due(&kp, t0 + period));
}

static void test_publish(void)
{
	struct wgx_session_key key = { .index_le = htole32(0x01020304) };
	struct wgx_rx_horizon h = { 0 };
	struct wgx_keypair kp;
	uint64_t before, after;
	int fd;

	fd = bpf_map_create(BPF_MAP_TYPE_LRU_HASH, "test_horizon", sizeof(key),
			    sizeof(h), 16, NULL);
	if (fd < 0) {
		printf("# horizon: no BPF map (%s), publish not checked\n",
		       strerror(errno));
		return;
	}
	memset(&kp, 0, sizeof(kp));
	wgx_replay_init(&kp.replay);
	kp.local_index = 0x01020304;
	CHECK(wgx_replay_check(&kp.replay, 41));
	/* Stamped with the protocol time given, on XDP's clock. */
	before = wgx_now();
	CHECK(wgx_horizon_publish(fd, &kp, before) == 0);
	after = boot_ns();
	CHECK(bpf_map_lookup_elem(fd, &key, &h) == 0);
	CHECK(h.next == 42);
	CHECK(h.at_ns == before && h.at_ns <= after);
	close(fd);
}

static const struct wgx_test horizon_tests[] = {
	{ "horizon: published first, then every step", test_due },
	{ "horizon: what a publication writes", test_publish },
};
WGX_SUITE(horizon_tests)
