// SPDX-License-Identifier: MIT
/*
 * The agent's due list: each peer sits in a min-heap (device.h, due) at
 * its earliest deadline, timers and key expiry together, so the agent
 * sleeps until the first one and wakes only for the peers that are due.
 */
#include "agent/protocol.h"

#include "util/log.h"

static uint64_t earliest(uint64_t a, uint64_t b)
{
	if (!a)
		return b;
	if (!b)
		return a;
	return a < b ? a : b;
}

static uint64_t expiry_of(const struct wgx_keypair *kp)
{
	return kp ? kp->birth_ns + wgx_timers_seconds(WGX_REJECT_AFTER_TIME)
		  : 0;
}

void wgx_protocol_schedule(struct wgx_device *dev, struct wgx_peer *p)
{
	uint64_t next = wgx_timers_next(&p->timers);

	if (p->removed)
		return;
	next = earliest(next, expiry_of(p->keypairs.current));
	next = earliest(next, expiry_of(p->keypairs.previous));
	next = earliest(next, expiry_of(p->keypairs.next));
	if (!next) {
		wgx_heap_remove(&dev->due, &p->due);
		return;
	}
	if (wgx_heap_set(&dev->due, &p->due, next) < 0)
		wgx_log_warn("peer %u: no memory to schedule its timers",
			     p->id);
}

uint64_t wgx_protocol_next_deadline(const struct wgx_device *dev)
{
	const struct wgx_heap_node *n = wgx_heap_min(&dev->due);

	return n ? n->key : 0;
}
