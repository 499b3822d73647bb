// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * A stand-in for bpf/wgxdp.bpf.c with the same program name and maps
 * (include/wgx_bpf.h), so the loader can be tested on its own: it counts
 * every frame as pass_other and passes it.
 */
#include "vmlinux.h"

#include <bpf/bpf_helpers.h>

#include "wgx_bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, WGX_XDP_MAX_SESSIONS);
	__type(key, struct wgx_session_key);
	__type(value, struct wgx_session_value);
} wgx_sessions SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, WGX_XDP_STAT_COUNT);
	__type(key, __u32);
	__type(value, struct wgx_xdp_counter);
} wgx_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, WGX_XDP_MAX_QUEUES);
	__type(key, __u32);
	__type(value, __u32);
} wgx_xsks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct wgx_xdp_config);
} wgx_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, WGX_XDP_MAX_LOCAL_ADDRS);
	__type(key, struct wgx_addr_key);
	__type(value, __u8);
} wgx_local_addrs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, WGX_XDP_MAX_QUEUES);
	__type(key, __u32);
	__type(value, struct wgx_xsk_queue);
} wgx_xsk_queues SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, WGX_XDP_MAX_DENY);
	__type(key, struct wgx_addr_key);
	__type(value, struct wgx_deny_value);
} wgx_deny SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, WGX_XDP_MAX_HORIZONS);
	__type(key, struct wgx_session_key);
	__type(value, struct wgx_rx_horizon);
} wgx_rx_horizon SEC(".maps");

SEC("xdp")
int wgx_xdp(struct xdp_md *ctx)
{
	__u32 id = WGX_XDP_STAT_PASS_OTHER;
	struct wgx_xdp_counter *c = bpf_map_lookup_elem(&wgx_stats, &id);

	if (c) {
		c->packets++;
		c->bytes += ctx->data_end - ctx->data;
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
