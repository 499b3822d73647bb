// SPDX-License-Identifier: MIT
/* Publishing receive horizons for the XDP program (horizon.h). */
#include "datapath/horizon.h"

#include <bpf/bpf.h>
#include <endian.h>
#include <errno.h>
#include <time.h>

#include "wgx_bpf.h"

bool wgx_horizon_due(const struct wgx_keypair *kp, uint64_t now)
{
	uint64_t next = kp->replay.next;

	if (!kp->horizon_published)
		return next > 0;
	if (next >= kp->horizon_next + WGX_HORIZON_STEP)
		return true;
	return next > kp->horizon_next &&
	       now - kp->horizon_at >= WGX_HORIZON_PERIOD_NS;
}

int wgx_horizon_publish(int map_fd, struct wgx_keypair *kp, uint64_t now)
{
	struct wgx_session_key key = { .index_le = htole32(kp->local_index) };
	struct wgx_rx_horizon h = { .next = kp->replay.next };
	struct timespec ts;

	/* bpf_ktime_get_boot_ns()'s clock, whatever wgx_now() runs on. */
	clock_gettime(CLOCK_BOOTTIME, &ts);
	h.at_ns = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
	kp->horizon_next = h.next;
	kp->horizon_at = now;
	kp->horizon_published = true;
	if (bpf_map_update_elem(map_fd, &key, &h, BPF_ANY))
		return -errno;
	return 0;
}
