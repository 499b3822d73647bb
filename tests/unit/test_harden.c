// SPDX-License-Identifier: MIT
/*
 * What the daemon gives up (util/harden.h) and where plaintext lives
 * (util/plainbuf.h). Capabilities and dumpability change the process, so
 * those tests run in a forked child, which reports through its exit code;
 * without root they say so and pass.
 */
#include "test.h"

#include <errno.h>
#include <linux/capability.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/harden.h"
#include "util/plainbuf.h"

/* A "Name:\tvalue" line of a /proc status file, as a number (base 16/10). */
static bool status_field(const char *path, const char *name, int base,
			 unsigned long long *out)
{
	char line[256];
	size_t n = strlen(name);
	FILE *f = fopen(path, "re");
	bool found = false;

	while (f && !found && fgets(line, sizeof(line), f))
		if (!strncmp(line, name, n) && line[n] == ':') {
			*out = strtoull(line + n + 1, NULL, base);
			found = true;
		}
	if (f)
		fclose(f);
	return found;
}

static unsigned long long bit(int cap)
{
	return 1ULL << cap;
}

static int run_child(int (*fn)(void))
{
	pid_t pid;
	int st = 0;

	fflush(NULL);
	pid = fork();
	if (pid == 0)
		_exit(fn());
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static int child_no_dumps(void)
{
	struct rlimit rl;

	if (prctl(PR_GET_DUMPABLE) != 1)
		return 10; /* a fresh process is dumpable: the test shows it */
	if (wgx_harden_no_dumps())
		return 11;
	if (prctl(PR_GET_DUMPABLE) != 0)
		return 12;
	if (getrlimit(RLIMIT_CORE, &rl) || rl.rlim_cur || rl.rlim_max)
		return 13;
	return 0;
}

static void test_no_dumps(void)
{
	CHECK(run_child(child_no_dumps) == 0);
}

static void *thread_drop(void *arg)
{
	unsigned long long eff = ~0ULL;
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/task/%ld/status",
		 (long)syscall(SYS_gettid));
	*(int *)arg = wgx_harden_thread() == 0 &&
				      status_field(path, "CapEff", 16, &eff) &&
				      eff == 0
			      ? 0
			      : 1;
	return NULL;
}

static int child_caps(void)
{
	/* With XDP, CAP_NET_RAW too: new AF_XDP sockets. */
	const unsigned long long kept = bit(CAP_NET_ADMIN) |
					bit(CAP_NET_BIND_SERVICE) |
					bit(CAP_IPC_LOCK) | bit(CAP_NET_RAW),
				 down = bit(CAP_SYS_ADMIN) | bit(CAP_BPF);
	unsigned long long eff, prm, bnd, nnp, before;
	pthread_t t;
	int thread_rc = 1;

	if (!status_field("/proc/self/status", "CapEff", 16, &before))
		return 20;
	if ((before & (kept | down)) != (kept | down))
		return 99; /* not privileged enough to show anything */
	if (wgx_harden_drop_caps(true))
		return 21;
	if (!status_field("/proc/self/status", "CapEff", 16, &eff) ||
	    !status_field("/proc/self/status", "CapPrm", 16, &prm) ||
	    !status_field("/proc/self/status", "CapBnd", 16, &bnd) ||
	    !status_field("/proc/self/status", "NoNewPrivs", 10, &nnp))
		return 22;
	if (eff != kept)
		return 23;
	if (prm != (kept | down) || bnd != prm)
		return 24;
	if (nnp != 1)
		return 25;
	/* CAP_SYS_ADMIN for a moment (a setns()), then not again. */
	if (wgx_harden_raise_admin() ||
	    !status_field("/proc/self/status", "CapEff", 16, &eff) ||
	    eff != (kept | bit(CAP_SYS_ADMIN)))
		return 28;
	wgx_harden_lower_admin();
	if (!status_field("/proc/self/status", "CapEff", 16, &eff) ||
	    eff != kept)
		return 29;
	/* A thread started now inherits the agent's set and drops it all. */
	if (pthread_create(&t, NULL, thread_drop, &thread_rc) ||
	    pthread_join(t, NULL) || thread_rc)
		return 26;
	wgx_harden_teardown();
	if (!status_field("/proc/self/status", "CapEff", 16, &eff) ||
	    eff != (kept | down))
		return 27;
	return 0;
}

static int child_caps_socket(void)
{
	unsigned long long prm = 0, before = 0;

	if (!status_field("/proc/self/status", "CapEff", 16, &before) ||
	    !(before & bit(CAP_SYS_ADMIN)))
		return 99;
	/* Without XDP: no CAP_NET_RAW, no CAP_BPF; CAP_SYS_ADMIN permitted
	 * to follow a moved TUN. */
	if (wgx_harden_drop_caps(false) ||
	    !status_field("/proc/self/status", "CapPrm", 16, &prm))
		return 30;
	return prm == (bit(CAP_NET_ADMIN) | bit(CAP_NET_BIND_SERVICE) |
		       bit(CAP_IPC_LOCK) | bit(CAP_SYS_ADMIN))
		       ? 0
		       : 31;
}

static void test_caps(void)
{
	int rc = run_child(child_caps);

	if (rc == 99) {
		fprintf(stderr, "    not root: capabilities not shown\n");
		return;
	}
	if (rc)
		fprintf(stderr, "    child: %d\n", rc);
	CHECK(rc == 0);
	rc = run_child(child_caps_socket);
	CHECK(rc == 0 || rc == 99);
}

/* The VmFlags and Locked lines of the mapping that holds addr. */
static bool mapping_flags(const void *addr, char *flags, size_t len,
			  unsigned long *locked_kb)
{
	unsigned long lo, hi, a = (unsigned long)addr;
	char line[512];
	bool in = false, got = false;
	FILE *f = fopen("/proc/self/smaps", "re");

	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 &&
		    strchr(line, '-') < strchr(line, ' ')) {
			in = a >= lo && a < hi;
			continue;
		}
		if (!in)
			continue;
		if (!strncmp(line, "Locked:", 7))
			*locked_kb = strtoul(line + 7, NULL, 10);
		if (!strncmp(line, "VmFlags:", 8)) {
			size_t n = strlen(line + 8);

			n = n < len ? n : len - 1;
			memcpy(flags, line + 8, n);
			flags[n] = '\0';
			got = true;
		}
	}
	if (f)
		fclose(f);
	return got;
}

/* The sanitizers' runtimes turn mlock() into a no-op that says yes. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define UNDER_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define UNDER_SANITIZER 1
#endif
#endif
#ifndef UNDER_SANITIZER
#define UNDER_SANITIZER 0
#endif

static void test_plainbuf(void)
{
	const size_t len = 3 * 4096 + 5;
	struct wgx_plainbuf_stats st0, st1;
	unsigned long locked = 0;
	char flags[256] = "";
	uint8_t *b;

	wgx_plainbuf_stats(&st0);
	b = wgx_plainbuf_alloc(len);
	CHECK(b != NULL);
	if (!b)
		return;
	for (size_t i = 0; i < len; i++)
		CHECK(b[i] == 0);
	memset(b, 0xa5, len);
	wgx_plainbuf_stats(&st1);
	CHECK(st1.bytes_mapped == st0.bytes_mapped + 4 * 4096);
	CHECK(mapping_flags(b, flags, sizeof(flags), &locked));
	/* Not dumped, not seen by a child of fork(). */
	CHECK(strstr(flags, " dd") != NULL);
	CHECK(strstr(flags, " wf") != NULL);
	/* Locked, unless this process may not lock (then counted), or
	 * runs under a sanitizer. */
	if (st1.lock_refused == st0.lock_refused && !UNDER_SANITIZER) {
		CHECK(strstr(flags, " lo") != NULL);
		CHECK(locked >= 16);
	}
	wgx_plainbuf_free(b, len);
	wgx_plainbuf_stats(&st1);
	CHECK(st1.bytes_mapped == st0.bytes_mapped);
	CHECK(!mapping_flags(b, flags, sizeof(flags), &locked) ||
	      !strstr(flags, " dd"));
	wgx_plainbuf_free(NULL, 10);
	CHECK(wgx_plainbuf_alloc(0) == NULL);
}

static const struct wgx_test harden_tests[] = {
	{ "harden: core dumps off", test_no_dumps },
	{ "harden: capabilities kept, dropped, raised for the teardown",
	  test_caps },
	{ "plainbuf: locked, not dumped, wiped on fork, counted",
	  test_plainbuf },
};
WGX_SUITE(harden_tests)
