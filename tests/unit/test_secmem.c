// SPDX-License-Identifier: MIT
/*
 * The secret-memory pool: zeroed slots, wiped frees, few mappings for
 * hundreds of thousands of objects, guard pages, mlock refusal, and the
 * aborts on a double or foreign free. Crashes are provoked in forked
 * children; their stderr is captured to check the message names the pool.
 */
#include "test.h"

#include <errno.h>
#include <linux/capability.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/log.h"
#include "util/secmem.h"

enum {
	MANY = 300000,
	MANY_SIZE = 1000, /* ~1 KiB; rounds up to a 1024-byte slot */
	THREADS = 4,
	THREAD_ROUNDS = 10000,
	THREAD_BATCH = 32,
	CHILD_OUT = 4096,
};

/*
 * Lines in /proc/self/maps that are not the pool's: AddressSanitizer's
 * allocator maps a region per size class on first use and keeps it.
 * ThreadSanitizer maps shadow beside every mapping of ours, four or five
 * lines per chunk that outlive it, so there the counts are not checked.
 */
#if defined(__SANITIZE_ADDRESS__)
#define RUNTIME_MAPS 64
#else
#define RUNTIME_MAPS 0
#endif
#if defined(__SANITIZE_THREAD__)
#define COUNT_MAPS 0
#else
#define COUNT_MAPS 1
#endif

/*
 * Read pool memory whatever AddressSanitizer thinks of it: free slots are
 * poisoned, and the test must look inside them.
 */
__attribute__((no_sanitize_address)) static uint8_t peek(const uint8_t *p)
{
	return *(const volatile uint8_t *)p;
}

__attribute__((no_sanitize_address)) static bool all_zero(const uint8_t *p,
							  size_t len)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < len; i++)
		acc |= peek(p + i);
	return acc == 0;
}

static size_t maps_lines(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	size_t n = 0;
	int c;

	if (!f)
		return 0;
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

/* VmLck of /proc/self/status in bytes, or -1. */
static long long locked_bytes(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	long long kb = -1;
	char line[256];

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmLck: %lld kB", &kb) == 1)
			break;
	fclose(f);
	return kb < 0 ? -1 : kb * 1024;
}

/*
 * Run fn(arg) in a child with stderr captured into out; returns the wait
 * status. The child exits 0 when fn returns with no CHECK failed.
 */
static int in_child(void (*fn)(void *), void *arg, char *out, size_t len)
{
	int fds[2], status = -1;
	size_t got = 0;
	ssize_t n;
	pid_t pid;

	out[0] = '\0';
	if (pipe(fds))
		return -1;
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		dup2(fds[1], STDERR_FILENO);
		/* Reach the real signal, not a sanitizer's report of it. */
		signal(SIGSEGV, SIG_DFL);
		wgx_log_set_sink(NULL, NULL);
		wgx_log_use_syslog(false);
		wgx_test_failures = 0;
		fn(arg);
		_exit(wgx_test_failures ? 1 : 0);
	}
	close(fds[1]);
	while (pid > 0 && got + 1 < len &&
	       (n = read(fds[0], out + got, len - 1 - got)) > 0)
		got += (size_t)n;
	out[got] = '\0';
	close(fds[0]);
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return status;
}

static bool killed_by(int status, int sig)
{
	return status != -1 && WIFSIGNALED(status) && WTERMSIG(status) == sig;
}

static void test_init(void)
{
	struct wgx_secmem_pool pool;
	struct wgx_secmem_stats s;

	CHECK(wgx_secmem_pool_init(&pool, 0, "zero") == -EINVAL);
	CHECK(wgx_secmem_pool_init(&pool, WGX_SECMEM_OBJECT_MAX + 1, "big") ==
	      -EINVAL);
	CHECK(wgx_secmem_pool_init(&pool, 65,
				   "a-name-longer-than-the-field-"
				   "has-room-for") == 0);
	CHECK(pool.slot_size == 128);
	CHECK(strlen(pool.name) == WGX_SECMEM_NAME_MAX - 1);
	/* Nothing is mapped before the first object. */
	wgx_secmem_pool_stats(&pool, &s);
	CHECK(s.chunks == 0 && s.bytes_mapped == 0 && s.in_use == 0);
	wgx_secmem_pool_destroy(&pool);
}

static void test_zeroed_aligned(void)
{
	struct wgx_secmem_pool pool;
	struct wgx_secmem_stats s;
	uint8_t *p[100];

	CHECK(wgx_secmem_pool_init(&pool, 296, "handshake") == 0);
	for (size_t i = 0; i < 100; i++) {
		p[i] = wgx_secmem_alloc(&pool);
		CHECK(p[i] != NULL);
		if (!p[i])
			return;
		CHECK((uintptr_t)p[i] % WGX_SECMEM_ALIGN == 0);
		CHECK(all_zero(p[i], 296));
		memset(p[i], (int)i + 1, 296);
	}
	/* No object overlapped another: each still holds its own byte. */
	for (size_t i = 0; i < 100; i++)
		CHECK(p[i][0] == i + 1 && p[i][295] == i + 1);
	wgx_secmem_pool_stats(&pool, &s);
	CHECK(s.in_use == 100);
	CHECK(s.slots >= 100);
	/* The first chunk, 64 KiB, holds 204 slots of 320 bytes. */
	CHECK(s.chunks == 1 && s.slots == 204);
	CHECK(s.bytes_mapped == WGX_SECMEM_CHUNK_MIN);
	for (size_t i = 0; i < 100; i++)
		wgx_secmem_free(&pool, p[i]);
	wgx_secmem_pool_stats(&pool, &s);
	CHECK(s.in_use == 0);
	wgx_secmem_pool_destroy(&pool);
}

static void test_wiped_on_free(void)
{
	struct wgx_secmem_pool pool;
	uint8_t *p, *q;

	CHECK(wgx_secmem_pool_init(&pool, 1144, "keypair") == 0);
	p = wgx_secmem_alloc(&pool);
	CHECK(p != NULL);
	if (!p)
		return;
	memset(p, 0xa5, 1144);
	wgx_secmem_free(&pool, p);
	/* The slot is still mapped: it must read back as zeroes. */
	CHECK(all_zero(p, pool.slot_size));
	/* And the next object, the same slot, comes back zeroed. */
	q = wgx_secmem_alloc(&pool);
	CHECK(q == p);
	CHECK(q && all_zero(q, 1144));
	wgx_secmem_free(&pool, q);
	wgx_secmem_free(&pool, NULL);
	wgx_secmem_pool_destroy(&pool);
}

/*
 * 300,000 objects of ~1 KiB: one sodium_malloc each would need 1.2M
 * mappings, far past vm.max_map_count (65,530 by default).
 */
static void test_many_objects(void)
{
	struct wgx_secmem_pool pool;
	struct wgx_secmem_stats s;
	uint8_t **p = calloc(MANY, sizeof(*p));
	size_t before = maps_lines(), after;
	bool ok = true;

	CHECK(p != NULL);
	if (!p)
		return;
	CHECK(wgx_secmem_pool_init(&pool, MANY_SIZE, "many") == 0);
	for (size_t i = 0; i < MANY && ok; i++) {
		p[i] = wgx_secmem_alloc(&pool);
		ok = p[i] != NULL;
		if (ok)
			memcpy(p[i], &i, sizeof(i));
	}
	CHECK(ok);
	after = maps_lines();
	wgx_secmem_pool_stats(&pool, &s);
	CHECK(s.in_use == MANY);
	/* 293 MiB in chunks of at most 4 MiB: about 80 of them. */
	CHECK(s.chunks < 100);
	CHECK(s.bytes_mapped <= s.chunks * WGX_SECMEM_CHUNK_MAX);
	CHECK(s.bytes_mapped >= (uint64_t)MANY * 1024);
	if (COUNT_MAPS) {
		CHECK(after >= before);
		CHECK(after - before <= 3 * s.chunks + RUNTIME_MAPS);
		CHECK(after - before < 300);
	}
	for (size_t i = 0; i < MANY && ok; i++) {
		size_t v;

		memcpy(&v, p[i], sizeof(v));
		ok = v == i;
	}
	CHECK(ok);
	/* Free all but every 1000th: chunks that empty are given back. */
	for (size_t i = 0; i < MANY; i++)
		if (p[i] && i % 1000)
			wgx_secmem_free(&pool, p[i]);
	wgx_secmem_pool_stats(&pool, &s);
	CHECK(s.in_use == MANY / 1000);
	for (size_t i = 0; i < MANY; i += 1000)
		wgx_secmem_free(&pool, p[i]);
	wgx_secmem_pool_stats(&pool, &s);
	CHECK(s.in_use == 0);
	/* Only the spare is left. */
	CHECK(s.chunks == 1);
	CHECK(s.bytes_mapped == WGX_SECMEM_CHUNK_MAX);
	if (COUNT_MAPS)
		CHECK(maps_lines() <= before + 3 + RUNTIME_MAPS);
	wgx_secmem_pool_destroy(&pool);
	if (COUNT_MAPS)
		CHECK(maps_lines() <= before + RUNTIME_MAPS);
	free(p);
}

/* Alloc and free across a chunk boundary map nothing new: the spare. */
static void test_spare(void)
{
	struct wgx_secmem_pool pool;
	struct wgx_secmem_stats s;
	uint8_t *p[65];

	CHECK(wgx_secmem_pool_init(&pool, 1024, "spare") == 0);
	for (size_t i = 0; i < 64; i++) {
		p[i] = wgx_secmem_alloc(&pool);
		CHECK(p[i] != NULL);
	}
	wgx_secmem_pool_stats(&pool, &s);
	CHECK(s.chunks == 1 && s.slots == 64);
	for (int round = 0; round < 100; round++) {
		p[64] = wgx_secmem_alloc(&pool);
		CHECK(p[64] != NULL);
		wgx_secmem_free(&pool, p[64]);
	}
	wgx_secmem_pool_stats(&pool, &s);
	CHECK(s.chunks == 2);
	for (size_t i = 0; i < 64; i++)
		wgx_secmem_free(&pool, p[i]);
	/* Two empty chunks of the same size: one stays. */
	wgx_secmem_pool_stats(&pool, &s);
	CHECK(s.chunks == 1 && s.in_use == 0);
	wgx_secmem_pool_destroy(&pool);
}

/* Whether this process may mlock beyond RLIMIT_MEMLOCK. */
static bool can_lock(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d))
		return false;
	return d[CAP_IPC_LOCK / 32].effective & (1u << (CAP_IPC_LOCK % 32));
}

/*
 * The kernel's flags on the mapping holding p, from /proc/self/smaps:
 * "lo" locked, "dd" not dumped, "wf" wiped on fork.
 */
static bool vma_flags(const void *p, char *flags, size_t len)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	unsigned long lo, hi;
	bool inside = false, found = false;
	char line[512];

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2)
			inside = (uintptr_t)p >= lo && (uintptr_t)p < hi;
		else if (inside && !strncmp(line, "VmFlags:", 8)) {
			snprintf(flags, len, "%s", line + 8);
			found = true;
		}
	}
	fclose(f);
	return found;
}

static void test_vma_flags(void)
{
	struct wgx_secmem_pool pool;
	struct wgx_secmem_stats s;
	char flags[512];
	uint8_t *p;

	CHECK(wgx_secmem_pool_init(&pool, 1144, "flags") == 0);
	p = wgx_secmem_alloc(&pool);
	CHECK(p != NULL);
	if (!p)
		return;
	wgx_secmem_pool_stats(&pool, &s);
	CHECK(vma_flags(p, flags, sizeof(flags)));
	CHECK(strstr(flags, " dd"));
	CHECK(strstr(flags, " wf"));
	CHECK(!!strstr(flags, " lo") == (s.bytes_unlocked == 0));
	/* The guard pages: no access at all. */
	CHECK(vma_flags(p - 1, flags, sizeof(flags)));
	CHECK(!strstr(flags, " rd") && !strstr(flags, " wr"));
	CHECK(vma_flags(p + s.bytes_mapped, flags, sizeof(flags)));
	CHECK(!strstr(flags, " rd") && !strstr(flags, " wr"));
	wgx_secmem_free(&pool, p);
	wgx_secmem_pool_destroy(&pool);
}

static void test_mlocked(void)
{
	struct wgx_secmem_pool pool;
	struct wgx_secmem_stats s;
	long long before = locked_bytes(), after;
	void *p;

	CHECK(wgx_secmem_pool_init(&pool, 1448, "peer") == 0);
	p = wgx_secmem_alloc(&pool);
	CHECK(p != NULL);
	after = locked_bytes();
	wgx_secmem_pool_stats(&pool, &s);
	/* Whatever mlock granted, the counters say so. */
	CHECK(before >= 0 && after >= 0);
	CHECK(after - before == (long long)(s.bytes_mapped - s.bytes_unlocked));
	/* With CAP_IPC_LOCK nothing can refuse. */
	if (can_lock())
		CHECK(s.bytes_unlocked == 0 && after - before == 65536);
	wgx_secmem_free(&pool, p);
	wgx_secmem_pool_destroy(&pool);
	CHECK(locked_bytes() == before);
}

struct guard_case {
	struct wgx_secmem_pool *pool;
	bool after; /* the byte after the chunk, else the one before */
};

static void touch_guard(void *arg)
{
	struct guard_case *g = arg;
	struct wgx_secmem_stats s;
	uint8_t *p = wgx_secmem_alloc(g->pool);

	wgx_secmem_pool_stats(g->pool, &s);
	if (!p || s.chunks != 1)
		return;
	/* p is the first slot of the only chunk. */
	(void)peek(g->after ? p + s.bytes_mapped : p - 1);
}

static void test_guard_pages(void)
{
	struct wgx_secmem_pool pool;
	struct guard_case g = { &pool, false };
	char out[CHILD_OUT];
	uint8_t *p;

	CHECK(wgx_secmem_pool_init(&pool, 1144, "guard") == 0);
	CHECK(killed_by(in_child(touch_guard, &g, out, sizeof(out)), SIGSEGV));
	g.after = true;
	CHECK(killed_by(in_child(touch_guard, &g, out, sizeof(out)), SIGSEGV));
	/* The slots themselves are fine to touch. */
	p = wgx_secmem_alloc(&pool);
	CHECK(p && peek(p) == 0 && peek(p + pool.slot_size - 1) == 0);
	wgx_secmem_free(&pool, p);
	wgx_secmem_pool_destroy(&pool);
}

struct bad_free {
	struct wgx_secmem_pool *pool;
	struct wgx_secmem_pool *other;
	int how;
};

enum {
	BAD_DOUBLE,
	BAD_INSIDE,
	BAD_STACK,
	BAD_OTHER_POOL,
	BAD_NEVER_ALLOCATED,
};

static void bad_free(void *arg)
{
	struct bad_free *b = arg;
	uint8_t *p = wgx_secmem_alloc(b->pool);
	uint8_t *q = wgx_secmem_alloc(b->pool);
	int on_stack = 0;

	if (!p || !q)
		return;
	switch (b->how) {
	case BAD_DOUBLE:
		wgx_secmem_free(b->pool, p);
		wgx_secmem_free(b->pool, p);
		break;
	case BAD_INSIDE:
		wgx_secmem_free(b->pool, p + 8);
		break;
	case BAD_STACK:
		wgx_secmem_free(b->pool, &on_stack);
		break;
	case BAD_OTHER_POOL:
		wgx_secmem_free(b->other, p);
		break;
	case BAD_NEVER_ALLOCATED:
		wgx_secmem_free(b->pool, q + b->pool->slot_size);
		break;
	}
	/* Still here: the bad free went unnoticed. */
	wgx_test_failures++;
}

static void test_bad_free_aborts(void)
{
	static const int cases[] = { BAD_DOUBLE, BAD_INSIDE, BAD_STACK,
				     BAD_OTHER_POOL, BAD_NEVER_ALLOCATED };
	struct wgx_secmem_pool pool, other;
	struct bad_free b = { &pool, &other, 0 };
	char out[CHILD_OUT];

	CHECK(wgx_secmem_pool_init(&pool, 296, "victim-pool") == 0);
	CHECK(wgx_secmem_pool_init(&other, 296, "other-pool") == 0);
	/* The other pool has a chunk, just not this one. */
	wgx_secmem_free(&other, wgx_secmem_alloc(&other));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int status;

		b.how = cases[i];
		status = in_child(bad_free, &b, out, sizeof(out));
		CHECK(killed_by(status, SIGABRT));
		CHECK(strstr(out, cases[i] == BAD_OTHER_POOL ? "other-pool"
							     : "victim-pool"));
		if (cases[i] == BAD_DOUBLE)
			CHECK(strstr(out, "double free"));
	}
	wgx_secmem_pool_destroy(&other);
	wgx_secmem_pool_destroy(&pool);
}

static int lock_warnings;

static void count_warnings(enum wgx_log_level level, const char *msg, void *ctx)
{
	(void)ctx;
	if (level == WGX_LOG_WARN && strstr(msg, "unlockable"))
		lock_warnings++;
}

/* Without CAP_IPC_LOCK and with RLIMIT_MEMLOCK 0, mlock says EPERM. */
static void unlockable(void *arg)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	struct rlimit none = { 0, 0 };
	struct wgx_secmem_pool pool;
	struct wgx_secmem_stats s;
	uint8_t *p[200];

	(void)arg;
	CHECK(syscall(SYS_capget, &h, d) == 0);
	d[CAP_IPC_LOCK / 32].effective &= ~(1u << (CAP_IPC_LOCK % 32));
	CHECK(syscall(SYS_capset, &h, d) == 0);
	CHECK(setrlimit(RLIMIT_MEMLOCK, &none) == 0);
	wgx_log_set_sink(count_warnings, NULL);
	CHECK(wgx_secmem_pool_init(&pool, 1024, "unlockable") == 0);
	for (size_t i = 0; i < 200; i++) {
		p[i] = wgx_secmem_alloc(&pool);
		CHECK(p[i] != NULL);
		if (p[i])
			memset(p[i], 1, 1024);
	}
	wgx_secmem_pool_stats(&pool, &s);
	CHECK(s.chunks >= 2);
	CHECK(s.bytes_unlocked == s.bytes_mapped);
	/* Once per pool, however many chunks. */
	CHECK(lock_warnings == 1);
	for (size_t i = 0; i < 200; i++)
		wgx_secmem_free(&pool, p[i]);
	wgx_secmem_pool_destroy(&pool);
}

static void test_mlock_refused(void)
{
	char out[CHILD_OUT];
	int status = in_child(unlockable, NULL, out, sizeof(out));

	CHECK(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0);
	if (status != 0)
		fprintf(stderr, "%s", out);
}

static void check_wiped_in_child(void *arg)
{
	CHECK(all_zero(arg, 64));
}

/* A forked child gets zeroes where the parent keeps its secrets. */
static void test_wipe_on_fork(void)
{
	struct wgx_secmem_pool pool;
	char out[CHILD_OUT];
	uint8_t *p;
	int status;

	CHECK(wgx_secmem_pool_init(&pool, 64, "fork") == 0);
	p = wgx_secmem_alloc(&pool);
	CHECK(p != NULL);
	if (!p)
		return;
	memset(p, 0x5a, 64);
	status = in_child(check_wiped_in_child, p, out, sizeof(out));
	CHECK(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK(p[0] == 0x5a && p[63] == 0x5a);
	wgx_secmem_free(&pool, p);
	wgx_secmem_pool_destroy(&pool);
}

struct worker {
	struct wgx_secmem_pool *pool;
	pthread_barrier_t *start;
	uint64_t tag;
	bool ok;
};

/* Each object carries its owner's tag; another owner would overwrite it. */
static void *worker_run(void *arg)
{
	struct worker *w = arg;
	uint64_t *p[THREAD_BATCH];

	w->ok = true;
	pthread_barrier_wait(w->start);
	for (int r = 0; r < THREAD_ROUNDS && w->ok; r++) {
		int n = 1 + r % THREAD_BATCH;

		for (int i = 0; i < n; i++) {
			p[i] = wgx_secmem_alloc(w->pool);
			if (!p[i] || p[i][0] || p[i][36]) {
				w->ok = false;
				n = i + (p[i] != NULL);
				break;
			}
			p[i][0] = p[i][36] = w->tag + (uint64_t)i;
		}
		for (int i = 0; i < n; i++) {
			if (p[i][0] != w->tag + (uint64_t)i ||
			    p[i][36] != w->tag + (uint64_t)i)
				w->ok = false;
			wgx_secmem_free(w->pool, p[i]);
		}
	}
	return NULL;
}

static void test_threads(void)
{
	struct wgx_secmem_pool pool;
	struct wgx_secmem_stats s;
	struct worker w[THREADS];
	pthread_barrier_t start;
	pthread_t t[THREADS];

	CHECK(wgx_secmem_pool_init(&pool, 296, "threads") == 0);
	pthread_barrier_init(&start, NULL, THREADS);
	for (int i = 0; i < THREADS; i++) {
		w[i] = (struct worker){ &pool, &start, (uint64_t)(i + 1) << 32,
					false };
		CHECK(pthread_create(&t[i], NULL, worker_run, &w[i]) == 0);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		CHECK(w[i].ok);
	}
	pthread_barrier_destroy(&start);
	wgx_secmem_pool_stats(&pool, &s);
	CHECK(s.in_use == 0);
	CHECK(s.alloc_failed == 0);
	wgx_secmem_pool_destroy(&pool);
}

static const struct wgx_test tests[] = {
	{ "secmem_init", test_init },
	{ "secmem_zeroed_aligned", test_zeroed_aligned },
	{ "secmem_wiped_on_free", test_wiped_on_free },
	{ "secmem_many_objects", test_many_objects },
	{ "secmem_spare", test_spare },
	{ "secmem_vma_flags", test_vma_flags },
	{ "secmem_mlocked", test_mlocked },
	{ "secmem_guard_pages", test_guard_pages },
	{ "secmem_bad_free_aborts", test_bad_free_aborts },
	{ "secmem_mlock_refused", test_mlock_refused },
	{ "secmem_wipe_on_fork", test_wipe_on_fork },
	{ "secmem_threads", test_threads },
};

WGX_SUITE(tests)
