// SPDX-License-Identifier: MIT
/*
 * What the agent itself sends: initiations, keepalives and the packets
 * that waited for a session. The workers send all other data.
 */
#include "agent/protocol.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/crypto.h"
#include "core/transport.h"
#include "datapath/datapath.h"
#include "util/log.h"

void wgx_protocol_send_to_peer(struct wgx_device *dev, struct wgx_peer *p,
			       const void *buf, size_t len,
			       enum wgx_stat_id stat)
{
	union wgx_sockaddr ep;
	bool has;

	wgx_peer_get_endpoint(p, &ep, &has);
	if (!has) {
		wgx_stats_add(&dev->stats, WGX_STAT_DROP_NO_ENDPOINT, len);
		return;
	}
	if (wgx_dp_send(dev->dp, &ep, buf, len) < 0) {
		wgx_stats_add(&dev->stats, WGX_STAT_DROP_SEND_ERROR, len);
		return;
	}
	wgx_stats_add(&dev->stats, stat, len);
	atomic_fetch_add_explicit(&p->tx_bytes, len, memory_order_relaxed);
	atomic_fetch_add_explicit(&p->tx_packets, 1, memory_order_relaxed);
}

void wgx_protocol_initiate(struct wgx_device *dev, struct wgx_peer *p,
			   bool is_retry)
{
	uint64_t now = wgx_now();
	struct wgx_msg_initiation msg;
	int err;

	if (!wgx_timers_may_initiate(&p->timers, is_retry, now))
		return;
	err = wgx_noise_create_initiation(p->handshake, &msg, NULL);
	if (err) {
		wgx_log_debug("peer %u: couldn't create initiation: %s", p->id,
			      strerror(-err));
		return;
	}
	if (wgx_cookie_add_macs(&p->cookie, &msg, sizeof(msg), now) == 0)
		wgx_protocol_send_to_peer(dev, p, &msg, sizeof(msg),
					  WGX_STAT_TX_HANDSHAKE);
	wgx_timers_handshake_initiated(&p->timers, now);
	wgx_timers_any_authenticated_sent(&p->timers, now);
	wgx_timers_authenticated_traversal(&p->timers, now);
	wgx_protocol_schedule(dev, p);
}

/* Seal and send one packet; false when no key was usable. */
static bool send_sealed(struct wgx_device *dev, struct wgx_peer *p,
			const uint8_t *inner, size_t len, uint64_t now)
{
	static uint8_t buf[65536];
	struct wgx_keypair *kp = wgx_keypairs_send_keypair(&p->keypairs, now);
	int n;

	if (!kp)
		return false;
	n = wgx_transport_seal(dev->aead, kp, inner, len, dev->mtu, buf,
			       sizeof(buf), now);
	if (n < 0)
		return false;
	wgx_protocol_send_to_peer(dev, p, buf, (size_t)n,
				  len ? WGX_STAT_TX_DATA
				      : WGX_STAT_TX_KEEPALIVE);
	if (len)
		wgx_timers_data_sent(&p->timers, now);
	wgx_timers_any_authenticated_sent(&p->timers, now);
	wgx_timers_authenticated_traversal(&p->timers, now);
	if (wgx_transport_rekey_on_send(kp, now))
		wgx_protocol_initiate(dev, p, false);
	wgx_protocol_schedule(dev, p);
	return true;
}

void wgx_protocol_flush_staged(struct wgx_device *dev, struct wgx_peer *p)
{
	uint64_t now = wgx_now();
	struct wgx_staged_pkt *s;

	while (wgx_peer_staged(p)) {
		if (!wgx_keypairs_send_keypair(&p->keypairs, now)) {
			wgx_protocol_initiate(dev, p, false);
			return;
		}
		s = wgx_peer_unstage(p);
		if (!s)
			break;
		send_sealed(dev, p, s->data, s->len, now);
		wgx_crypto_wipe(s->data, s->len);
		free(s);
	}
}

void wgx_protocol_send_keepalive(struct wgx_device *dev, struct wgx_peer *p)
{
	uint64_t now = wgx_now();

	if (wgx_peer_staged(p)) {
		wgx_protocol_flush_staged(dev, p);
		return;
	}
	if (!send_sealed(dev, p, NULL, 0, now))
		wgx_protocol_initiate(dev, p, false);
}

void wgx_protocol_handshake_done(struct wgx_peer *p)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	p->last_handshake_sec = (uint64_t)ts.tv_sec;
	p->last_handshake_nsec = (uint32_t)ts.tv_nsec;
	p->handshakes++;
	wgx_timers_handshake_complete(&p->timers);
}
