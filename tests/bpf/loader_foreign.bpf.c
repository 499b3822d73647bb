// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Somebody else's XDP program: a different name from wgx_xdp, so the
 * loader must treat it as foreign (refuse it, or replace it with force).
 */
#include "vmlinux.h"

#include <bpf/bpf_helpers.h>

SEC("xdp")
int foreign_xdp(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
