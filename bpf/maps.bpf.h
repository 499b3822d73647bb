/* SPDX-License-Identifier: MIT */
/*
 * The maps of the XDP program. Keys and values are the fixed-width structs
 * of include/wgx_bpf.h and carry BTF, so `bpftool map dump` prints field
 * names. The loader pins them under WGX_PIN_ROOT/<IFACE>/ with the plain
 * names of design.md (sessions, xsks, config, local_addrs, stats,
 * deny), xsk_queues beside xsks and rx_horizon beside sessions.
 */
#ifndef WGX_MAPS_BPF_H
#define WGX_MAPS_BPF_H

#include "common.bpf.h"

/* Receiver indices the agent has announced: data messages to any other
 * index are dropped here and never reach a crypto worker. The loader sizes
 * it from the peer count; entries are allocated as they are added, so a
 * map sized for 100,000 peers costs nothing while they are idle. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, WGX_XDP_MAX_SESSIONS);
	__type(key, struct wgx_session_key);
	__type(value, struct wgx_session_value);
} wgx_sessions SEC(".maps");

/* RX queue -> AF_XDP socket of the worker that owns the queue. */
struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, WGX_XDP_MAX_QUEUES);
	__type(key, __u32);
	__type(value, __u32);
} wgx_xsks SEC(".maps");

/* RX queue -> which worker's AF_XDP socket sits in wgx_xsks there, and
 * in which mode: written by the agent for `bpftool map dump`, since the
 * kernel gives user space no values of an xskmap. Never read here. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, WGX_XDP_MAX_QUEUES);
	__type(key, __u32);
	__type(value, struct wgx_xsk_queue);
} wgx_xsk_queues SEC(".maps");

/* Runtime settings written by the agent; one entry, key 0. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct wgx_xdp_config);
} wgx_config SEC(".maps");

/* IFACE's own addresses: only WireGuard traffic to these is ours. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, WGX_XDP_MAX_LOCAL_ADDRS);
	__type(key, struct wgx_addr_key);
	__type(value, __u32);
} wgx_local_addrs SEC(".maps");

/* Packets and bytes per verdict and drop reason, per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, WGX_XDP_STAT_COUNT);
	__type(key, __u32);
	__type(value, struct wgx_xdp_counter);
} wgx_stats SEC(".maps");

/* Sources that proved their address with a cookie and still flooded
 * handshakes (include/wgx_bpf.h); LRU, so a full map forgets the oldest. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, WGX_XDP_MAX_DENY);
	__type(key, struct wgx_addr_key);
	__type(value, struct wgx_deny_value);
} wgx_deny SEC(".maps");

/* Published receive horizons (wgx_bpf.h); written by the workers. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, WGX_XDP_MAX_HORIZONS);
	__type(key, struct wgx_session_key);
	__type(value, struct wgx_rx_horizon);
} wgx_rx_horizon SEC(".maps");

#endif
