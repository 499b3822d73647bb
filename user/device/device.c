// SPDX-License-Identifier: MIT
/*
 * The agent's protocol work: configuration of peers, handshakes (with
 * cookies under load), keepalives, staged packets and the timer rules.
 * Runs on the agent thread only; see device.h for the locking rule.
 */
#include "device/device.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "core/crypto.h"
#include "datapath/datapath.h"
#include "util/log.h"
#include "core/transport.h"

uint64_t wgx_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void wrlock(struct wgx_device *dev)
{
	pthread_rwlock_wrlock(&dev->lock);
}

static void unlock(struct wgx_device *dev)
{
	pthread_rwlock_unlock(&dev->lock);
}

int wgx_device_new(struct wgx_device **out)
{
	struct wgx_device *dev = calloc(1, sizeof(*dev));
	pthread_rwlockattr_t attr;

	*out = NULL;
	if (!dev)
		return -ENOMEM;
	/* Writers (handshakes) must not starve behind a busy datapath. */
	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(
		&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&dev->lock, &attr);
	pthread_rwlockattr_destroy(&attr);
	pthread_mutex_init(&dev->hsq.lock, NULL);
	dev->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	dev->identity = wgx_noise_static_new();
	dev->indices = wgx_index_new();
	dev->ratelimit = malloc(sizeof(*dev->ratelimit));
	/* Stateless, so the agent's context never keeps a key around. */
	dev->aead = wgx_aead_new(WGX_AEAD_SODIUM);
	dev->mtu = WGX_DEFAULT_MTU;
	dev->next_peer_id = 1;
	wgx_allowedips_init(&dev->allowedips);
	wgx_cookie_checker_init(&dev->cookie_checker);
	if (dev->wake_fd < 0 || !dev->identity || !dev->indices ||
	    !dev->ratelimit || !dev->aead) {
		wgx_device_free(dev);
		return -ENOMEM;
	}
	wgx_ratelimit_init(dev->ratelimit);
	wgx_reclaim_init(&dev->reclaim);
	dev->retire = wgx_reclaim_retire(&dev->reclaim);
	wgx_index_set_retire(dev->indices, &dev->retire);
	*out = dev;
	return 0;
}

/*
 * Called under the write lock whenever a peer's keypairs change: a
 * confirmation reported for the old "next" must not promote a keypair
 * that reused its memory (the receive path stores it under the read lock).
 */
static void keypairs_changed(struct wgx_peer *p)
{
	struct wgx_device *dev = p->dev;

	atomic_store(&p->confirmed, NULL);
	if (dev->keypairs_hook)
		dev->keypairs_hook(dev->keypairs_hook_ctx, p);
}

bool wgx_device_under_load(const struct wgx_device *dev, uint64_t now)
{
	return dev->force_under_load || now < dev->under_load_until;
}

static void peer_free(struct wgx_peer *p)
{
	wgx_peer_purge_staged(p);
	wgx_keypairs_clear(&p->keypairs);
	if (p->keypairs.spare)
		wgx_keypairs_free(&p->keypairs, p->keypairs.spare);
	wgx_noise_handshake_free(p->handshake);
	wgx_cookie_maker_wipe(&p->cookie);
	pthread_spin_destroy(&p->endpoint_lock);
	pthread_mutex_destroy(&p->staged_lock);
	sodium_free(p);
}

/* Unlink and free a peer; the caller holds the write lock. */
static void peer_remove_locked(struct wgx_device *dev, struct wgx_peer *p)
{
	struct wgx_peer **pp;

	for (pp = &dev->peers; *pp; pp = &(*pp)->next_peer) {
		if (*pp == p) {
			*pp = p->next_peer;
			break;
		}
	}
	dev->n_peers--;
	wgx_allowedips_remove_by_peer(&dev->allowedips, p);
	peer_free(p);
}

void wgx_device_wipe(struct wgx_device *dev)
{
	wrlock(dev);
	while (dev->peers)
		peer_remove_locked(dev, dev->peers);
	wgx_noise_static_set(dev->identity, NULL);
	wgx_cookie_checker_wipe(&dev->cookie_checker);
	unlock(dev);
}

void wgx_device_free(struct wgx_device *dev)
{
	if (!dev)
		return;
	if (dev->identity)
		wgx_device_wipe(dev);
	/* The workers are gone: what waits for them can go now. */
	wgx_reclaim_flush(&dev->reclaim);
	wgx_allowedips_free(&dev->allowedips);
	wgx_noise_static_free(dev->identity);
	wgx_index_free(dev->indices);
	free(dev->ratelimit);
	wgx_aead_free(dev->aead);
	if (dev->wake_fd >= 0)
		close(dev->wake_fd);
	pthread_mutex_destroy(&dev->hsq.lock);
	pthread_rwlock_destroy(&dev->lock);
	free(dev);
}

void wgx_device_wake(struct wgx_device *dev)
{
	uint64_t one = 1;

	if (write(dev->wake_fd, &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is saturated, the agent wakes anyway. */
	}
}

struct wgx_peer *wgx_device_find_peer(struct wgx_device *dev,
				      const uint8_t public_key[WGX_KEY_LEN])
{
	struct wgx_peer *p;

	for (p = dev->peers; p; p = p->next_peer)
		if (!memcmp(p->public_key, public_key, WGX_KEY_LEN))
			return p;
	return NULL;
}

/* ---- configuration ---------------------------------------------------- */

static struct wgx_peer *peer_new(struct wgx_device *dev,
				 const struct wgx_config_peer *cp)
{
	struct wgx_peer *p = sodium_malloc(sizeof(*p));

	if (!p)
		return NULL;
	memset(p, 0, sizeof(*p));
	p->dev = dev;
	p->id = dev->next_peer_id++;
	memcpy(p->public_key, cp->public_key, WGX_KEY_LEN);
	pthread_spin_init(&p->endpoint_lock, PTHREAD_PROCESS_PRIVATE);
	pthread_mutex_init(&p->staged_lock, NULL);
	wgx_keypairs_init(&p->keypairs, dev->indices);
	wgx_cookie_maker_init(&p->cookie, cp->public_key);
	wgx_timers_init(&p->timers, 0);
	p->handshake =
		wgx_noise_handshake_new(dev->identity, cp->public_key,
					cp->preshared_key, &p->keypairs, p);
	if (!p->handshake) {
		peer_free(p);
		return NULL;
	}
	return p;
}

static int set_allowed_ips(struct wgx_device *dev, struct wgx_peer *p,
			   const struct wgx_config_peer *cp)
{
	wgx_allowedips_remove_by_peer(&dev->allowedips, p);
	for (size_t i = 0; i < cp->n_allowed_ips; i++) {
		const struct wgx_config_prefix *a = &cp->allowed_ips[i];
		int err = wgx_allowedips_insert(&dev->allowedips, a->family,
						a->addr.bytes, a->cidr, p);

		if (err)
			return err;
	}
	return 0;
}

static void append_peer(struct wgx_device *dev, struct wgx_peer *p)
{
	struct wgx_peer **pp = &dev->peers;

	while (*pp)
		pp = &(*pp)->next_peer;
	*pp = p;
	dev->n_peers++;
}

/* Apply one [Peer] section to a new or existing peer (write lock held). */
static int apply_peer(struct wgx_device *dev, struct wgx_peer *p,
		      const struct wgx_config_peer *cp, uint64_t now)
{
	static const uint8_t zero[WGX_KEY_LEN];
	const uint8_t *psk = cp->preshared_key ? cp->preshared_key : zero;

	if (!wgx_crypto_equal(p->handshake->preshared_key, psk, WGX_KEY_LEN))
		wgx_noise_handshake_set_psk(p->handshake, psk);
	if (cp->endpoint.text && cp->endpoint.resolved) {
		p->configured_endpoint = true;
		wgx_peer_set_endpoint(p, &cp->endpoint.addr);
	}
	if (cp->persistent_keepalive != p->persistent_keepalive) {
		p->persistent_keepalive = cp->persistent_keepalive;
		wgx_timers_set_persistent_keepalive(
			&p->timers, cp->persistent_keepalive, now);
	}
	return set_allowed_ips(dev, p, cp);
}

static bool in_config(const struct wgx_config *cfg, const struct wgx_peer *p)
{
	for (size_t i = 0; i < cfg->n_peers; i++)
		if (!memcmp(cfg->peers[i].public_key, p->public_key,
			    WGX_KEY_LEN))
			return true;
	return false;
}

/* A new private key invalidates every session and precomputation. */
static void set_identity(struct wgx_device *dev, const uint8_t *private_key)
{
	struct wgx_peer *p;

	if (private_key && dev->identity->has_identity &&
	    wgx_crypto_equal(dev->identity->private_key, private_key,
			     WGX_KEY_LEN))
		return;
	wgx_noise_static_set(dev->identity, private_key);
	wgx_cookie_checker_set_public_key(
		&dev->cookie_checker,
		private_key ? dev->identity->public_key : NULL);
	for (p = dev->peers; p; p = p->next_peer) {
		wgx_keypairs_clear(&p->keypairs);
		keypairs_changed(p);
		wgx_noise_handshake_clear(p->handshake);
		wgx_noise_handshake_precompute(p->handshake);
	}
}

int wgx_device_configure(struct wgx_device *dev, const struct wgx_config *cfg)
{
	uint64_t now = wgx_now();
	struct wgx_peer *p, *next;
	int err = 0;

	wrlock(dev);
	set_identity(dev, cfg->private_key);
	dev->fwmark = cfg->fwmark;
	for (p = dev->peers; p; p = next) {
		next = p->next_peer;
		if (!in_config(cfg, p)) {
			wgx_log_info("peer %u removed", p->id);
			peer_remove_locked(dev, p);
		}
	}
	for (size_t i = 0; i < cfg->n_peers && !err; i++) {
		const struct wgx_config_peer *cp = &cfg->peers[i];

		p = wgx_device_find_peer(dev, cp->public_key);
		if (!p) {
			p = peer_new(dev, cp);
			if (!p) {
				err = -ENOMEM;
				break;
			}
			append_peer(dev, p);
		}
		err = apply_peer(dev, p, cp, now);
	}
	unlock(dev);
	return err;
}

/* ---- sending ---------------------------------------------------------- */

static void send_to_peer(struct wgx_device *dev, struct wgx_peer *p,
			 const void *buf, size_t len, enum wgx_stat_id stat)
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
}

void wgx_device_initiate(struct wgx_device *dev, struct wgx_peer *p,
			 bool is_retry)
{
	uint64_t now = wgx_now();
	struct wgx_msg_initiation msg;
	int err;

	if (!wgx_timers_may_initiate(&p->timers, is_retry, now))
		return;
	/*
	 * No device lock: the datapath never reads handshake state, and the
	 * index table locks itself for the instant it changes.
	 */
	err = wgx_noise_create_initiation(p->handshake, &msg, NULL);
	if (err) {
		wgx_log_debug("peer %u: couldn't create initiation: %s", p->id,
			      strerror(-err));
		return;
	}
	if (wgx_cookie_add_macs(&p->cookie, &msg, sizeof(msg), now) == 0)
		send_to_peer(dev, p, &msg, sizeof(msg), WGX_STAT_TX_HANDSHAKE);
	wgx_timers_handshake_initiated(&p->timers, now);
	wgx_timers_any_authenticated_sent(&p->timers, now);
	wgx_timers_authenticated_traversal(&p->timers, now);
}

/* Seal and send one packet (agent thread); false when no key was usable. */
static bool send_sealed(struct wgx_device *dev, struct wgx_peer *p,
			const uint8_t *inner, size_t len, uint64_t now)
{
	uint8_t buf[65536];
	struct wgx_keypair *kp = wgx_keypairs_send_keypair(&p->keypairs, now);
	int n;

	if (!kp)
		return false;
	n = wgx_transport_seal(dev->aead, kp, inner, len, dev->mtu, buf,
			       sizeof(buf), now);
	if (n < 0)
		return false;
	send_to_peer(dev, p, buf, (size_t)n,
		     len ? WGX_STAT_TX_DATA : WGX_STAT_TX_KEEPALIVE);
	if (len)
		wgx_timers_data_sent(&p->timers, now);
	wgx_timers_any_authenticated_sent(&p->timers, now);
	wgx_timers_authenticated_traversal(&p->timers, now);
	if (wgx_transport_rekey_on_send(kp, now))
		wgx_device_initiate(dev, p, false);
	return true;
}

/* Send what waited for a session; start a handshake if there is none. */
static void flush_staged(struct wgx_device *dev, struct wgx_peer *p)
{
	uint64_t now = wgx_now();
	struct wgx_staged_pkt *s;

	while (wgx_peer_staged(p)) {
		if (!wgx_keypairs_send_keypair(&p->keypairs, now)) {
			wgx_device_initiate(dev, p, false);
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

static void send_keepalive(struct wgx_device *dev, struct wgx_peer *p)
{
	uint64_t now = wgx_now();

	if (wgx_peer_staged(p)) {
		flush_staged(dev, p);
		return;
	}
	if (!send_sealed(dev, p, NULL, 0, now))
		wgx_device_initiate(dev, p, false);
}

/* ---- receiving handshakes --------------------------------------------- */

void wgx_device_queue_handshake(struct wgx_device *dev, const uint8_t *msg,
				size_t len, const union wgx_sockaddr *src)
{
	struct wgx_hsq *q = &dev->hsq;
	struct wgx_hs_item *it;

	if (len > sizeof(it->msg))
		return;
	pthread_mutex_lock(&q->lock);
	if (q->count == WGX_HSQ_SIZE) {
		pthread_mutex_unlock(&q->lock);
		wgx_stats_add(&dev->stats, WGX_STAT_DROP_HANDSHAKE_QUEUE_FULL,
			      len);
		return;
	}
	it = &q->item[(q->head + q->count) % WGX_HSQ_SIZE];
	it->src = *src;
	it->len = (uint16_t)len;
	memcpy(it->msg, msg, len);
	q->count++;
	pthread_mutex_unlock(&q->lock);
}

static bool hsq_pop(struct wgx_device *dev, struct wgx_hs_item *out,
		    unsigned int *depth)
{
	struct wgx_hsq *q = &dev->hsq;
	bool got = false;

	pthread_mutex_lock(&q->lock);
	*depth = q->count;
	if (q->count) {
		*out = q->item[q->head];
		q->head = (q->head + 1) % WGX_HSQ_SIZE;
		q->count--;
		got = true;
	}
	pthread_mutex_unlock(&q->lock);
	return got;
}

static struct wgx_handshake *lookup_handshake(void *ctx,
					      const uint8_t remote[WGX_KEY_LEN])
{
	struct wgx_peer *p = wgx_device_find_peer(ctx, remote);

	return p ? p->handshake : NULL;
}

static void handshake_done(struct wgx_peer *p, uint64_t now)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	p->last_handshake_sec = (uint64_t)ts.tv_sec;
	p->last_handshake_nsec = (uint32_t)ts.tv_nsec;
	wgx_timers_handshake_complete(&p->timers);
	(void)now;
}

static void authenticated_from(struct wgx_peer *p,
			       const union wgx_sockaddr *src, size_t len,
			       uint64_t now)
{
	wgx_peer_set_endpoint(p, src);
	atomic_fetch_add_explicit(&p->rx_bytes, len, memory_order_relaxed);
	wgx_timers_any_authenticated_received(&p->timers, now);
	wgx_timers_authenticated_traversal(&p->timers, now);
}

static int begin_session(struct wgx_device *dev, struct wgx_handshake *hs,
			 uint64_t now)
{
	int err;

	wrlock(dev);
	err = wgx_noise_begin_session(hs, now, NULL);
	keypairs_changed(hs->owner);
	unlock(dev);
	return err;
}

static void consume_initiation(struct wgx_device *dev,
			       const struct wgx_hs_item *it, uint64_t now)
{
	struct wgx_msg_response resp;
	struct wgx_handshake *hs = NULL;
	struct wgx_peer *p;
	int err;

	/* The X25519 work runs unlocked; only installing the keys locks. */
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
	authenticated_from(p, &it->src, it->len, now);
	if (wgx_cookie_add_macs(&p->cookie, &resp, sizeof(resp), now) == 0)
		send_to_peer(dev, p, &resp, sizeof(resp),
			     WGX_STAT_TX_HANDSHAKE);
	wgx_timers_any_authenticated_sent(&p->timers, now);
	wgx_timers_session_derived(&p->timers, now);
	/*
	 * As the kernel: a response counts as a handshake sent, so the
	 * responder waiting for key confirmation does not start a crossing
	 * initiation of its own for REKEY_TIMEOUT.
	 */
	p->timers.last_initiation_ns = now;
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
	authenticated_from(p, &it->src, it->len, now);
	wgx_timers_session_derived(&p->timers, now);
	handshake_done(p, now);
	/* Key confirmation for the responder: staged data or a keepalive. */
	send_keepalive(dev, p);
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
	if (under_load) {
		if (mac != WGX_COOKIE_VALID_MAC_WITH_COOKIE) {
			send_cookie_reply(dev, it, &src, now);
			return;
		}
		if (!wgx_ratelimit_allow(dev->ratelimit, src.addr, src.addr_len,
					 now)) {
			wgx_stats_add(&dev->stats,
				      WGX_STAT_DROP_HANDSHAKE_RATELIMIT,
				      it->len);
			return;
		}
	}
	if (it->msg[0] == WGX_MSG_INITIATION)
		consume_initiation(dev, it, now);
	else
		consume_response(dev, it, now);
}

static void drain_handshakes(struct wgx_device *dev, uint64_t now)
{
	struct wgx_hs_item it;
	unsigned int depth, budget = WGX_HSQ_SIZE;

	while (budget-- && hsq_pop(dev, &it, &depth)) {
		/* Under load for a second after the queue ran deep. */
		if (depth >= WGX_HSQ_LOAD)
			dev->under_load_until = now + 1000000000ULL;
		handle_handshake(dev, &it, wgx_device_under_load(dev, now),
				 now);
	}
}

/* ---- events and timers ------------------------------------------------ */

static void confirm_key(struct wgx_device *dev, struct wgx_peer *p,
			uint64_t now)
{
	struct wgx_keypair *kp = atomic_exchange(&p->confirmed, NULL);
	bool promoted = false;

	if (!kp)
		return;
	wrlock(dev);
	if (kp == p->keypairs.next)
		promoted = wgx_keypairs_confirm(&p->keypairs, kp);
	keypairs_changed(p);
	unlock(dev);
	if (promoted) {
		handshake_done(p, now);
		flush_staged(dev, p);
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
			 uint64_t now)
{
	unsigned int ev =
		atomic_exchange_explicit(&p->events, 0, memory_order_acquire);

	if (!ev)
		return;
	if (ev & WGX_EV_KEY_CONFIRMED)
		confirm_key(dev, p, now);
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
		wgx_device_initiate(dev, p, false);
	}
	if (ev & WGX_EV_WANT_HANDSHAKE) {
		if (wgx_peer_staged(p))
			flush_staged(dev, p);
		else
			wgx_device_initiate(dev, p, false);
	}
}

static void zero_keys(struct wgx_device *dev, struct wgx_peer *p)
{
	wgx_log_info("peer %u: no new session for 3 x REJECT_AFTER_TIME, "
		     "wiping its keys",
		     p->id);
	wgx_stats_add(&dev->stats, WGX_STAT_KEYS_WIPED, 0);
	wrlock(dev);
	wgx_keypairs_clear(&p->keypairs);
	keypairs_changed(p);
	wgx_noise_handshake_clear(p->handshake);
	unlock(dev);
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
		wgx_device_initiate(dev, p, true);
	if (act & WGX_ACT_NEW_HANDSHAKE)
		wgx_device_initiate(dev, p, false);
	if (act & WGX_ACT_SEND_KEEPALIVE)
		send_keepalive(dev, p);
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
	wrlock(dev);
	wgx_keypairs_expire(k, now);
	keypairs_changed(p);
	unlock(dev);
}

void wgx_device_process(struct wgx_device *dev)
{
	uint64_t now = wgx_now(), count;
	struct wgx_peer *p;

	if (read(dev->wake_fd, &count, sizeof(count)) < 0) {
		/* Nothing pending: woken by the timer. */
	}
	drain_handshakes(dev, now);
	for (p = dev->peers; p; p = p->next_peer) {
		apply_events(dev, p, now);
		run_timers(dev, p, now);
		expire_keypairs(dev, p, now);
	}
	wgx_reclaim_poll(&dev->reclaim);
}

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

uint64_t wgx_device_next_deadline(struct wgx_device *dev)
{
	uint64_t next = 0;
	struct wgx_peer *p;

	for (p = dev->peers; p; p = p->next_peer) {
		next = earliest(next, wgx_timers_next(&p->timers));
		next = earliest(next, expiry_of(p->keypairs.current));
		next = earliest(next, expiry_of(p->keypairs.previous));
		next = earliest(next, expiry_of(p->keypairs.next));
	}
	return next;
}
