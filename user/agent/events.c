// SPDX-License-Identifier: MIT
/*
 * The agent's pass over the device: handshakes first, then the peers the
 * workers raised events on (taken whole from the device's stack), then
 * the peers whose earliest deadline is due (a min-heap), then what waits
 * for a grace period. Nothing here walks every peer, so an idle device of
 * 100,000 peers costs what an idle device of one does.
 */
#include "agent/protocol.h"

#include <stddef.h>
#include <unistd.h>

#include "util/log.h"

#define peer_of_due(n)                                                         \
	((struct wgx_peer *)((char *)(n)-offsetof(struct wgx_peer, due)))

static void confirm_key(struct wgx_device *dev, struct wgx_peer *p)
{
	struct wgx_keypair *kp = atomic_exchange(&p->confirmed, NULL);
	bool promoted = false;

	if (!kp)
		return;
	if (kp == p->keypairs.next)
		promoted = wgx_keypairs_confirm(&p->keypairs, kp);
	wgx_device_keypairs_changed(dev, p);
	if (promoted) {
		wgx_protocol_handshake_done(p);
		wgx_protocol_flush_staged(dev, p);
	}
}

static void apply_sent(struct wgx_peer *p, unsigned int ev, uint64_t now)
{
	if (ev & WGX_EV_DATA_SENT)
		wgx_timers_data_sent(&p->timers, now);
	if (ev & WGX_EV_AUTH_SENT)
		wgx_timers_any_authenticated_sent(&p->timers, now);
}

static void apply_received(struct wgx_peer *p, unsigned int ev, uint64_t now)
{
	if (ev & WGX_EV_AUTH_RECEIVED)
		wgx_timers_any_authenticated_received(&p->timers, now);
	if (ev & WGX_EV_DATA_RECEIVED)
		wgx_timers_data_received(&p->timers, now);
}

static void apply_events(struct wgx_device *dev, struct wgx_peer *p,
			 unsigned int ev, uint64_t now)
{
	if (ev & WGX_EV_KEY_CONFIRMED)
		confirm_key(dev, p);
	/*
	 * The bits lost their order; the last send and receive times keep
	 * it, so "received, then answered" leaves no keepalive armed.
	 */
	if (atomic_load(&p->last_sent_ns) >=
	    atomic_load(&p->last_received_ns)) {
		apply_received(p, ev, now);
		apply_sent(p, ev, now);
	} else {
		apply_sent(p, ev, now);
		apply_received(p, ev, now);
	}
	if (ev & WGX_EV_TRAVERSAL)
		wgx_timers_authenticated_traversal(&p->timers, now);
	if ((ev & WGX_EV_LASTMINUTE_REKEY) &&
	    !p->timers.sent_lastminute_handshake) {
		p->timers.sent_lastminute_handshake = true;
		wgx_protocol_initiate(dev, p, false);
	}
	if (ev & WGX_EV_WANT_HANDSHAKE) {
		if (wgx_peer_staged(p))
			wgx_protocol_flush_staged(dev, p);
		else
			wgx_protocol_initiate(dev, p, false);
	}
	wgx_protocol_schedule(dev, p);
}

static void apply_pending(struct wgx_device *dev, uint64_t now)
{
	struct wgx_peer *p = wgx_device_take_pending(dev), *next;

	for (; p; p = next) {
		unsigned int ev;

		/* Before the events are cleared: p may be pushed again then. */
		next = atomic_load_explicit(&p->pending_next,
					    memory_order_relaxed);
		ev = atomic_exchange_explicit(&p->events, 0,
					      memory_order_acq_rel);
		if (p->removed) {
			wgx_device_peer_popped(dev, p);
			continue;
		}
		if (ev)
			apply_events(dev, p, ev, now);
	}
}

static void zero_keys(struct wgx_device *dev, struct wgx_peer *p)
{
	wgx_log_info("peer %u: no new session for 3 x REJECT_AFTER_TIME, "
		     "wiping its keys",
		     p->id);
	wgx_stats_add(&dev->stats, WGX_STAT_KEYS_WIPED, 0);
	wgx_keypairs_clear(&p->keypairs);
	wgx_device_keypairs_changed(dev, p);
	wgx_noise_handshake_clear(p->handshake);
}

static void run_timers(struct wgx_device *dev, struct wgx_peer *p, uint64_t now)
{
	unsigned int act;
	uint64_t next = wgx_timers_next(&p->timers);

	if (!next || next > now)
		return;
	act = wgx_timers_fire(&p->timers, now);
	if (act & WGX_ACT_GIVE_UP) {
		unsigned int n = wgx_peer_purge_staged(p);

		wgx_log_info("peer %u: handshake did not complete, giving up "
			     "(%u queued packets dropped)",
			     p->id, n);
		wgx_stats_add(&dev->stats, WGX_STAT_HANDSHAKE_GAVE_UP, 0);
		for (unsigned int i = 0; i < n; i++)
			wgx_stats_add(&dev->stats, WGX_STAT_DROP_STAGED_GAVE_UP,
				      0);
	}
	if (act & WGX_ACT_RETRY_INITIATION)
		wgx_protocol_initiate(dev, p, true);
	if (act & WGX_ACT_NEW_HANDSHAKE)
		wgx_protocol_initiate(dev, p, false);
	if (act & WGX_ACT_SEND_KEEPALIVE)
		wgx_protocol_send_keepalive(dev, p);
	if (act & WGX_ACT_ZERO_KEYS)
		zero_keys(dev, p);
}

static bool keypair_expired(const struct wgx_keypair *kp, uint64_t now)
{
	return kp && !wgx_keypairs_usable(kp, now);
}

static void expire_keypairs(struct wgx_device *dev, struct wgx_peer *p,
			    uint64_t now)
{
	struct wgx_keypairs *k = &p->keypairs;

	if (!keypair_expired(k->current, now) &&
	    !keypair_expired(k->previous, now) &&
	    !keypair_expired(k->next, now))
		return;
	wgx_keypairs_expire(k, now);
	wgx_device_keypairs_changed(dev, p);
}

/* Every peer whose earliest deadline has come, each at most once. */
static void run_due(struct wgx_device *dev, uint64_t now)
{
	size_t budget = dev->due.n;

	while (budget--) {
		struct wgx_heap_node *n = wgx_heap_min(&dev->due);
		struct wgx_peer *p;

		if (!n || n->key > now)
			return;
		p = peer_of_due(n);
		/* Out first: whatever runs below puts it back if needed. */
		wgx_heap_remove(&dev->due, n);
		run_timers(dev, p, now);
		expire_keypairs(dev, p, now);
		wgx_protocol_schedule(dev, p);
	}
}

void wgx_protocol_process(struct wgx_device *dev)
{
	uint64_t now = wgx_now(), count;

	if (read(dev->wake_fd, &count, sizeof(count)) < 0) {
		/* Nothing pending: woken by the timer. */
	}
	wgx_protocol_drain_handshakes(dev, now);
	apply_pending(dev, now);
	run_due(dev, now);
	wgx_reclaim_poll(&dev->reclaim);
}
