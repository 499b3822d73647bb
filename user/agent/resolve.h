/* SPDX-License-Identifier: MIT */
/*
 * Host-name endpoints resolved off the agent thread. getaddrinfo() may
 * take seconds (a slow or dead DNS server: 5 s a try); on the agent thread
 * that would stop handshakes, timers, keepalives and the control socket
 * for as long. A reload whose config names hosts hands it to a job: a
 * thread resolves them (wgx_config_resolve) and makes the job's eventfd
 * readable; the agent then takes the config back and applies it. Attach
 * resolves in the CLI, before the daemon exists.
 *
 * The agent and the thread each hold the job; whoever lets go last frees
 * it, so the agent may give up on a job (a newer reload, shutdown) while
 * its thread still waits for DNS.
 */
#ifndef WGX_RESOLVE_H
#define WGX_RESOLVE_H

#include "agent/config.h"

struct wgx_resolve_job;

/*
 * Start resolving cfg's unresolved endpoints, taking cfg over; opts as
 * wgx_config_resolve() takes them (copied). 0 or -errno (cfg is then
 * still the caller's).
 */
int wgx_resolve_start(struct wgx_config *cfg,
		      const struct wgx_config_opts *opts,
		      struct wgx_resolve_job **out);

/* Readable once the job is done. */
int wgx_resolve_fd(const struct wgx_resolve_job *job);

/*
 * Once done (else -EAGAIN and the job stays): the config (NULL when a
 * name did not resolve; the reasons are in errs), and the job is freed. 0, -EINVAL or -ENOMEM as
 * wgx_config_resolve() returned.
 */
int wgx_resolve_finish(struct wgx_resolve_job *job, struct wgx_config **cfg,
		       struct wgx_config_errors *errs);

/* Give up on the job whatever its state; NULL is fine. */
void wgx_resolve_cancel(struct wgx_resolve_job *job);

/*
 * Test knob (WGXDP_TEST_RESOLVE_DELAY_MS, refused unless
 * WGXDP_TEST_TIMERS=1, agent.c): every job waits ms before it resolves,
 * as a slow DNS server would make it.
 */
void wgx_resolve_set_test_delay(unsigned int ms);

#endif
