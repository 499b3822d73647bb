/* SPDX-License-Identifier: MIT */
/*
 * The one exit of the XDP program: the pipeline decides a stat id, this
 * counts the frame under it and turns it into the verdict, so no path can
 * return without being counted.
 */
#ifndef WGX_STATS_BPF_H
#define WGX_STATS_BPF_H

#include "common.bpf.h"
#include "maps.bpf.h"

/* Each stat id stands for exactly one verdict. */
static __always_inline int wgx_stat_verdict(__u32 id)
{
	switch (id) {
	case WGX_XDP_STAT_REDIRECT_XSK:
		return XDP_REDIRECT;
	case WGX_XDP_STAT_DROP_MALFORMED:
	case WGX_XDP_STAT_DROP_UNKNOWN_INDEX:
	case WGX_XDP_STAT_DROP_BAD_COUNTER:
	case WGX_XDP_STAT_DROP_FRAGMENT:
	case WGX_XDP_STAT_DROP_BAD_MAC1:
	case WGX_XDP_STAT_DROP_DENIED:
		return XDP_DROP;
	case WGX_XDP_STAT_ABORTED:
		return XDP_ABORTED;
	default:
		return XDP_PASS;
	}
}

static __always_inline int wgx_stats_record(struct xdp_md *ctx, __u32 id)
{
	struct wgx_xdp_counter *counter;

	counter = bpf_map_lookup_elem(&wgx_stats, &id);
	if (counter) {
		/* Per-CPU value: no other writer, no atomics needed. */
		counter->packets++;
		counter->bytes += bpf_xdp_get_buff_len(ctx);
	}
	return wgx_stat_verdict(id);
}

#endif
