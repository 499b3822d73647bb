/* SPDX-License-Identifier: MIT */
/*
 * Per-source budget for handshake initiations while the agent is under
 * load: a token bucket in nanoseconds of credit (struct wgx_hs_budget).
 * Updates from several CPUs may race and lose a refill or a charge; the
 * budget is a flood brake, not an exact quota, and the cookie mechanism
 * in the agent does the precise work.
 */
#ifndef WGX_BUDGET_BPF_H
#define WGX_BUDGET_BPF_H

#include "common.bpf.h"
#include "maps.bpf.h"
#include "parsing.bpf.h"

/* true: the initiation from ip's source may pass (and is charged). */
static __always_inline bool wgx_budget_take(const struct wgx_xdp_config *cfg,
					    const struct wgx_ip *ip)
{
	struct wgx_hs_budget *bucket, fresh;
	struct wgx_addr_key src;
	__u64 now, cost, cap, credit, elapsed;

	/* Refill at hs_rate per second; rate 0 never refills. */
	cost = cfg->hs_rate ? WGX_NSEC_PER_SEC / cfg->hs_rate
			    : WGX_NSEC_PER_SEC;
	/* hs_burst < 2^32 and cost <= 1e9: cannot overflow 64 bits. */
	cap = (__u64)cfg->hs_burst * cost;
	now = bpf_ktime_get_ns();

	wgx_addr_key_set(&src, ip, ip->saddr);
	bucket = bpf_map_lookup_elem(&wgx_hs_budget, &src);
	if (!bucket) {
		/* A new source starts with a full bucket. */
		if (cap < cost)
			return false;
		fresh.tokens_ns = cap - cost;
		fresh.last_ns = now;
		bpf_map_update_elem(&wgx_hs_budget, &src, &fresh, BPF_ANY);
		return true;
	}

	elapsed = now > bucket->last_ns ? now - bucket->last_ns : 0;
	if (!cfg->hs_rate)
		elapsed = 0;
	credit = bucket->tokens_ns;
	/* Clamp in two steps so the sum cannot wrap. */
	if (credit > cap)
		credit = cap;
	credit = elapsed >= cap - credit ? cap : credit + elapsed;
	bucket->last_ns = now;
	if (credit < cost) {
		bucket->tokens_ns = credit;
		return false;
	}
	bucket->tokens_ns = credit - cost;
	return true;
}

#endif
