// SPDX-License-Identifier: MIT
#include "datapath/context.h"

enum {
	/* Events the agent must see at once; the rest wait for its tick. */
	URGENT_EVENTS = WGX_EV_WANT_HANDSHAKE | WGX_EV_KEY_CONFIRMED |
			WGX_EV_LASTMINUTE_REKEY,
};

void wgx_worker_tally_flush(struct wgx_worker *w, struct wgx_tally *t)
{
	for (int id = 0; id < WGX_STAT_COUNT; id++) {
		if (!t->pkts[id])
			continue;
		wgx_worker_count(&w->stats.packets[id], t->pkts[id]);
		wgx_worker_count(&w->stats.bytes[id], t->bytes[id]);
		t->pkts[id] = t->bytes[id] = 0;
	}
}

void wgx_worker_raise(struct wgx_worker *w, struct wgx_peer *p, unsigned int ev,
		      bool *wake)
{
	if (wgx_device_raise(w->dev, p, ev) & URGENT_EVENTS)
		*wake = true;
}
