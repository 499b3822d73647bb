// SPDX-License-Identifier: MIT
/*
 * Handshake messages the workers queued for the agent: mac1 first, then
 * while the agent is busy (a deep queue, or much Diffie-Hellman work of
 * late) the load is decided per source (ratelimit.h): a source within
 * its small budget is answered at once, one beyond it gets a cookie
 * reply, and a message with a valid cookie is limited per source, its
 * source denied in XDP when it floods all the same. Then the Noise step.
 * The X25519 work runs without any lock; installing the keys publishes
 * them to the workers.
 *
 * Why per source: a wireguard-go initiator that gets a cookie reply
 * waits out its 5 s retry before it uses it, so a peer asked for a
 * cookie is 5 s late at best. Answering with cookies whoever sends while
 * the agent is busy (as WireGuard implementations do) lets one flooder
 * make every peer late; here the flooder's own sources get the cookies.
 */
#include "agent/protocol.h"

#include <errno.h>
#include <string.h>

#include "datapath/datapath.h"
#include "util/log.h"

static struct wgx_handshake *lookup_handshake(void *ctx,
					      const uint8_t remote[WGX_KEY_LEN])
{
	struct wgx_peer *p = wgx_device_find_peer(ctx, remote);

	return p ? p->handshake : NULL;
}

static void authenticated_from(struct wgx_device *dev, struct wgx_peer *p,
			       const struct wgx_hs_item *it, uint64_t now)
{
	const union wgx_sockaddr *src = &it->src;
	size_t len = it->len;
	struct wgx_cookie_src cs;

	/* A source that authenticated keeps its place in the queue. */
	if (!wgx_cookie_src_from_sockaddr(&cs, &src->sa, wgx_sockaddr_len(src)))
		wgx_ratelimit_learn(dev->ratelimit, cs.addr, cs.addr_len, now);
	wgx_peer_set_endpoint(p, src);
	atomic_fetch_add_explicit(&p->rx_bytes, len, memory_order_relaxed);
	atomic_fetch_add_explicit(&p->rx_packets, 1, memory_order_relaxed);
	wgx_timers_any_authenticated_received(&p->timers, now);
	wgx_timers_authenticated_traversal(&p->timers, now);
}

static int begin_session(struct wgx_device *dev, struct wgx_handshake *hs,
			 uint64_t now)
{
	int err = wgx_noise_begin_session(hs, now, NULL);

	if (!err)
		wgx_device_keypairs_changed(dev, hs->owner);
	return err;
}

static void consume_initiation(struct wgx_device *dev,
			       const struct wgx_hs_item *it, uint64_t now)
{
	struct wgx_msg_response resp;
	struct wgx_handshake *hs = NULL;
	struct wgx_peer *p;
	int err;

	err = wgx_noise_consume_initiation(dev->identity, it->msg, it->len, now,
					   lookup_handshake, dev, &hs);
	if (!err)
		err = wgx_noise_create_response(hs, &resp, NULL);
	if (!err)
		err = begin_session(dev, hs, now);
	if (err) {
		wgx_stats_add(&dev->stats, WGX_STAT_DROP_HANDSHAKE_INVALID,
			      it->len);
		wgx_log_debug("dropped initiation: %s", strerror(-err));
		return;
	}
	p = hs->owner;
	authenticated_from(dev, p, it, now);
	if (wgx_cookie_add_macs(&p->cookie, &resp, sizeof(resp), now) == 0)
		wgx_protocol_send_to_peer(dev, p, &resp, sizeof(resp),
					  WGX_STAT_TX_HANDSHAKE);
	wgx_timers_any_authenticated_sent(&p->timers, now);
	wgx_timers_session_derived(&p->timers, now);
	/*
	 * As the kernel: a response counts as a handshake sent, so the
	 * responder waiting for key confirmation does not start a crossing
	 * initiation of its own for REKEY_TIMEOUT.
	 */
	p->timers.last_initiation_ns = now;
	wgx_protocol_schedule(dev, p);
}

static void consume_response(struct wgx_device *dev,
			     const struct wgx_hs_item *it, uint64_t now)
{
	struct wgx_handshake *hs = NULL;
	struct wgx_peer *p;
	int err;

	err = wgx_noise_consume_response(dev->indices, it->msg, it->len, &hs);
	if (!err)
		err = begin_session(dev, hs, now);
	if (err) {
		wgx_stats_add(&dev->stats, WGX_STAT_DROP_HANDSHAKE_INVALID,
			      it->len);
		wgx_log_debug("dropped response: %s", strerror(-err));
		return;
	}
	p = hs->owner;
	authenticated_from(dev, p, it, now);
	wgx_timers_session_derived(&p->timers, now);
	wgx_protocol_handshake_done(p);
	/* Key confirmation for the responder: staged data or a keepalive. */
	wgx_protocol_send_keepalive(dev, p);
	wgx_protocol_schedule(dev, p);
}

static void consume_cookie_reply(struct wgx_device *dev,
				 const struct wgx_hs_item *it, uint64_t now)
{
	const struct wgx_msg_cookie_reply *r = (const void *)it->msg;
	struct wgx_index_entry e;
	struct wgx_peer *p;

	if (!wgx_index_lookup(dev->indices, le32toh(r->receiver_index),
			      WGX_INDEX_HANDSHAKE | WGX_INDEX_KEYPAIR, &e)) {
		wgx_stats_add(&dev->stats, WGX_STAT_DROP_HANDSHAKE_INVALID,
			      it->len);
		return;
	}
	p = e.owner;
	if (!wgx_cookie_consume_reply(&p->cookie, r, now))
		wgx_stats_add(&dev->stats, WGX_STAT_DROP_HANDSHAKE_INVALID,
			      it->len);
}

static void send_cookie_reply(struct wgx_device *dev,
			      const struct wgx_hs_item *it,
			      const struct wgx_cookie_src *src, uint64_t now)
{
	struct wgx_msg_cookie_reply reply;

	if (wgx_cookie_create_reply(&dev->cookie_checker, &reply, it->msg,
				    it->len, src, now) < 0)
		return;
	if (wgx_dp_send(dev->dp, &it->src, &reply, sizeof(reply)) == 0)
		wgx_stats_add(&dev->stats, WGX_STAT_TX_COOKIE_REPLY,
			      sizeof(reply));
}

/*
 * While busy, whether a message with a good mac1 gets the Noise step
 * (true) or is answered or dropped here (false).
 */
static bool may_work(struct wgx_device *dev, const struct wgx_hs_item *it,
		     const struct wgx_cookie_src *src,
		     enum wgx_cookie_mac_state mac, uint64_t now)
{
	if (mac == WGX_COOKIE_VALID_MAC_WITH_COOKIE) {
		if (wgx_ratelimit_allow(dev->ratelimit, src->addr,
					src->addr_len, now))
			return true;
		/* Proven address, still flooding: ratelimit.c records the
		 * source for the XDP deny map (xdp.c). */
		wgx_stats_add(&dev->stats, WGX_STAT_DROP_HANDSHAKE_RATELIMIT,
			      it->len);
		return false;
	}
	/* The test knob makes every source go through a cookie round. */
	if (!dev->force_under_load &&
	    wgx_ratelimit_work(dev->ratelimit, src->addr, src->addr_len, now))
		return true;
	send_cookie_reply(dev, it, src, now);
	return false;
}

static void handle_handshake(struct wgx_device *dev,
			     const struct wgx_hs_item *it, bool under_load,
			     uint64_t now)
{
	struct wgx_cookie_src src;
	enum wgx_cookie_mac_state mac;

	wgx_stats_add(&dev->stats, WGX_STAT_RX_HANDSHAKE, it->len);
	if (it->msg[0] == WGX_MSG_COOKIE_REPLY) {
		consume_cookie_reply(dev, it, now);
		return;
	}
	if (wgx_cookie_src_from_sockaddr(&src, &it->src.sa,
					 wgx_sockaddr_len(&it->src)) < 0)
		return;
	mac = wgx_cookie_validate(&dev->cookie_checker, it->msg, it->len, &src,
				  under_load, now);
	if (mac == WGX_COOKIE_INVALID_MAC) {
		wgx_stats_add(&dev->stats, WGX_STAT_DROP_HANDSHAKE_INVALID,
			      it->len);
		return;
	}
	if (under_load && !may_work(dev, it, &src, mac, now))
		return;
	wgx_ratelimit_did_work(dev->ratelimit, now);
	if (it->msg[0] == WGX_MSG_INITIATION)
		consume_initiation(dev, it, now);
	else
		consume_response(dev, it, now);
}

void wgx_protocol_drain_handshakes(struct wgx_device *dev, uint64_t now)
{
	struct wgx_hs_item it;
	unsigned int depth, budget = WGX_HSQ_SIZE;

	while (budget-- && wgx_device_pop_handshake(dev, &it, &depth)) {
		/* Under load for a second after the queue ran deep. */
		if (depth >= WGX_HSQ_LOAD)
			dev->under_load_until = now + 1000000000ULL;
		handle_handshake(
			dev, &it,
			wgx_device_under_load(dev, now) ||
				wgx_ratelimit_busy(dev->ratelimit, now),
			now);
	}
}
