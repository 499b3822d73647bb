// SPDX-License-Identifier: MIT
/* Host-name endpoints resolved off the agent thread (resolve.h). */
#include "agent/resolve.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

struct wgx_resolve_job {
	_Atomic int refs;
	atomic_bool done; /* release: result, cfg and errs are written */
	int fd;
	struct wgx_config *cfg;
	struct wgx_config_opts opts;
	struct wgx_config_errors errs;
	int result;
};

static _Atomic unsigned int test_delay_ms;

void wgx_resolve_set_test_delay(unsigned int ms)
{
	atomic_store(&test_delay_ms, ms);
}

static void job_put(struct wgx_resolve_job *job)
{
	if (atomic_fetch_sub(&job->refs, 1) != 1)
		return;
	wgx_config_free(job->cfg);
	wgx_config_errors_free(&job->errs);
	close(job->fd);
	free(job);
}

static void *run(void *arg)
{
	struct wgx_resolve_job *job = arg;
	unsigned int ms = atomic_load(&test_delay_ms);
	uint64_t one = 1;

	if (ms) {
		struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
	}
	job->result = wgx_config_resolve(job->cfg, &job->opts, &job->errs);
	atomic_store_explicit(&job->done, true, memory_order_release);
	if (write(job->fd, &one, sizeof(one)) < 0) {
		/* An eventfd counter does not overflow at 1. */
	}
	job_put(job);
	return NULL;
}

int wgx_resolve_start(struct wgx_config *cfg,
		      const struct wgx_config_opts *opts,
		      struct wgx_resolve_job **out)
{
	struct wgx_resolve_job *job = calloc(1, sizeof(*job));
	pthread_attr_t attr;
	pthread_t t;
	int err;

	*out = NULL;
	if (!job)
		return -ENOMEM;
	job->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (job->fd < 0) {
		err = -errno;
		free(job);
		return err;
	}
	if (opts)
		job->opts = *opts;
	job->cfg = cfg;
	atomic_init(&job->refs, 2);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	err = -pthread_create(&t, &attr, run, job);
	pthread_attr_destroy(&attr);
	if (err) {
		job->cfg = NULL; /* still the caller's */
		close(job->fd);
		free(job);
		return err;
	}
	*out = job;
	return 0;
}

int wgx_resolve_fd(const struct wgx_resolve_job *job)
{
	return job->fd;
}

int wgx_resolve_finish(struct wgx_resolve_job *job, struct wgx_config **cfg,
		       struct wgx_config_errors *errs)
{
	uint64_t n;
	int ret;

	if (read(job->fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		return -errno;
	if (!atomic_load_explicit(&job->done, memory_order_acquire))
		return -EAGAIN;
	ret = job->result;
	*cfg = ret ? NULL : job->cfg;
	if (!ret)
		job->cfg = NULL;
	*errs = job->errs;
	memset(&job->errs, 0, sizeof(job->errs));
	job_put(job);
	return ret;
}

void wgx_resolve_cancel(struct wgx_resolve_job *job)
{
	if (job)
		job_put(job);
}
