// SPDX-License-Identifier: MIT
/* Publishing receive horizons for the XDP program (horizon.h). */
#include "datapath/horizon.h"

#include <bpf/bpf.h>
#include <endian.h>
#include <errno.h>
#include <time.h>

#include "device/device.h"
#include "wgx_bpf.h"

/* Protocol time stamps the publication: XDP's bpf_ktime_get_boot_ns()
 * must read the same clock. */
_Static_assert(WGX_CLOCK == CLOCK_BOOTTIME,
	       "rx_horizon's at_ns is compared with bpf_ktime_get_boot_ns()");

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
	/* now is a little behind the clock by the time XDP reads it: the
	 * allowance only grows from that. */
	struct wgx_rx_horizon h = { .next = kp->replay.next, .at_ns = now };

	kp->horizon_next = h.next;
	kp->horizon_at = now;
	kp->horizon_published = true;
	if (bpf_map_update_elem(map_fd, &key, &h, BPF_ANY))
		return -errno;
	return 0;
}
