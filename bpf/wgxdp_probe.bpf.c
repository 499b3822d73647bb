// SPDX-License-Identifier: MIT
/*
 * wgx_probe: can this kernel run libxdp's multi-program dispatcher? The
 * dispatcher is an XDP program whose slots are global functions that
 * other XDP programs replace as extension (freplace) programs. The loader
 * (user/agent/loader.c) loads wgx_probe, then wgx_probe_ext as a
 * replacement of its slot, and attaches that: where that fails (no BTF,
 * no JIT, extension programs refused) the dispatcher cannot work either,
 * and the loader attaches our program alone through a bpf_link instead.
 * Nothing here is ever attached to an interface.
 */
#include "vmlinux.h"

#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* A slot, as the dispatcher's: global, so it can be replaced. */
__attribute__((noinline)) int wgx_probe_slot(struct xdp_md *ctx)
{
	volatile int ret = XDP_PASS;

	if (!ctx)
		return XDP_ABORTED;
	return ret;
}

SEC("xdp")
int wgx_probe(struct xdp_md *ctx)
{
	return wgx_probe_slot(ctx);
}

SEC("freplace/wgx_probe_slot")
int wgx_probe_ext(struct xdp_md *ctx)
{
	return ctx ? XDP_PASS : XDP_ABORTED;
}
