// SPDX-License-Identifier: MIT
/*
 * Protocol time is CLOCK_BOOTTIME (device.h, WGX_CLOCK). The second test
 * shows why: in a time namespace whose boot clock is 200 s ahead of the
 * host's and whose monotonic clock is not (what a 200 s suspend leaves
 * behind: CLOCK_MONOTONIC stops while the machine sleeps, CLOCK_BOOTTIME
 * does not), a keypair made just before is past REJECT_AFTER_TIME and is
 * refused; measured on CLOCK_MONOTONIC it would still be used. Time
 * namespaces need CAP_SYS_ADMIN and Linux 5.6: without them that test
 * says so and passes.
 */
#include "test.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/keypairs.h"
#include "core/transport.h"
#include "device/device.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static uint64_t ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void test_now_is_boottime(void)
{
	uint64_t before = ns(CLOCK_BOOTTIME), now = wgx_now(),
		 after = ns(CLOCK_BOOTTIME);
	int fd = timerfd_create(WGX_CLOCK, TFD_CLOEXEC);

	CHECK(WGX_CLOCK == CLOCK_BOOTTIME);
	CHECK(before <= now && now <= after);
	/* The agent's timerfd takes the same clock. */
	CHECK(fd >= 0);
	if (fd >= 0)
		close(fd);
}

enum {
	SUSPEND_S = 200,
	/* Exit codes of the child in the time namespace. */
	CHILD_OK = 0,
	CHILD_NO_TIMENS = 3,
};

/* In the new time namespace: what does a keypair born before look like? */
static int check_after_suspend(const struct wgx_keypair *kp)
{
	uint64_t now = wgx_now(), mono = ns(CLOCK_MONOTONIC);
	struct wgx_keypair copy = *kp;
	uint64_t counter;

	/* wgx_now() sees the 200 s; CLOCK_MONOTONIC does not. */
	if (now < kp->birth_ns + SUSPEND_S * 1000000000ULL)
		return 10;
	if (mono > kp->birth_ns + 60 * 1000000000ULL)
		return 11;
	/* The old clock would still use the key; ours refuses it. */
	if (!wgx_keypairs_usable(kp, mono))
		return 12;
	if (wgx_keypairs_usable(kp, now))
		return 13;
	if (wgx_transport_seal_claim(&copy, now, &counter) != -EKEYEXPIRED)
		return 14;
	return CHILD_OK;
}

/* A child that enters a time namespace 200 s of suspend ahead. */
static int run_suspended(const struct wgx_keypair *kp)
{
	char offsets[64];
	pid_t pid;
	int fd, st;

	if (unshare(CLONE_NEWTIME) < 0)
		return CHILD_NO_TIMENS;
	/* The offsets apply to the children: write them before the fork. */
	fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
	snprintf(offsets, sizeof(offsets), "boottime %d 0\n", SUSPEND_S);
	if (fd < 0 || write(fd, offsets, strlen(offsets)) < 0)
		return CHILD_NO_TIMENS;
	close(fd);
	pid = fork();
	if (pid == 0)
		_exit(check_after_suspend(kp));
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return 20;
	return WEXITSTATUS(st);
}

static void test_suspend_expires_keys(void)
{
	struct wgx_keypair kp = { .birth_ns = wgx_now() };
	pid_t pid;
	int st = 0;

	wgx_replay_init(&kp.replay);
	CHECK(wgx_keypairs_usable(&kp, wgx_now()));
	fflush(NULL);
	pid = fork();
	if (pid == 0)
		_exit(run_suspended(&kp));
	CHECK(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st));
	if (WEXITSTATUS(st) == CHILD_NO_TIMENS) {
		fprintf(stderr, "    no time namespace here (needs "
				"CAP_SYS_ADMIN, Linux 5.6): not shown\n");
		return;
	}
	if (WEXITSTATUS(st) != CHILD_OK)
		fprintf(stderr, "    child in the time namespace: %d\n",
			WEXITSTATUS(st));
	CHECK(WEXITSTATUS(st) == CHILD_OK);
}

static const struct wgx_test clock_tests[] = {
	{ "clock: protocol time and the agent's timer are CLOCK_BOOTTIME",
	  test_now_is_boottime },
	{ "clock: after a 200 s suspend a 180 s key is refused",
	  test_suspend_expires_keys },
};
WGX_SUITE(clock_tests)
