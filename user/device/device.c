// SPDX-License-Identifier: MIT
/*
 * The device's shared state: creating and freeing it, the life of a peer
 * (created and unlinked by the agent, freed after a grace period), and
 * the lock-free ways the workers reach the agent.
 */
#include "device/device.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "core/crypto.h"
#include "core/secrets.h"

uint64_t wgx_now(void)
{
	struct timespec ts;

	clock_gettime(WGX_CLOCK, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void wake_agent(void *dev)
{
	wgx_device_wake(dev);
}

int wgx_device_new(struct wgx_device **out)
{
	struct wgx_device *dev = calloc(1, sizeof(*dev));

	*out = NULL;
	if (!dev)
		return -ENOMEM;
	pthread_mutex_init(&dev->hsq.lock, NULL);
	dev->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	dev->rx_horizon_fd = -1;
	dev->identity = wgx_noise_static_new();
	dev->indices = wgx_index_new();
	dev->ratelimit = malloc(sizeof(*dev->ratelimit));
	/* Stateless, so the agent's context never keeps a key around. */
	dev->aead = wgx_aead_new(WGX_AEAD_SODIUM);
	dev->mtu = WGX_DEFAULT_MTU;
	dev->next_peer_id = 1;
	wgx_peers_init(&dev->peers);
	wgx_heap_init(&dev->due);
	wgx_allowedips_init(&dev->allowedips);
	wgx_cookie_checker_init(&dev->cookie_checker);
	wgx_reclaim_init(&dev->reclaim);
	dev->retire = wgx_reclaim_retire(&dev->reclaim);
	if (dev->wake_fd < 0 || !dev->identity || !dev->indices ||
	    !dev->ratelimit || !dev->aead ||
	    wgx_nh_init(&dev->nexthops, &dev->reclaim) < 0) {
		wgx_device_free(dev);
		return -ENOMEM;
	}
	wgx_index_set_retire(dev->indices, &dev->retire);
	wgx_allowedips_set_retire(&dev->allowedips, &dev->retire);
	wgx_ratelimit_init(dev->ratelimit);
	dev->nexthops.wake = wake_agent;
	dev->nexthops.wake_ctx = dev;
	*out = dev;
	return 0;
}

/* ---- the life of a peer ----------------------------------------------- */

static void peer_free(struct wgx_peer *p)
{
	wgx_peer_destroy_shared(p);
	wgx_secret_free(WGX_SECRET_PEER, p);
}

/*
 * The grace period is over: no worker holds p. It may still sit on the
 * pending stack (it was raised before it was unlinked); the agent frees
 * it when it takes it from there.
 */
static void peer_release(void *obj)
{
	struct wgx_peer *p = obj;

	if (atomic_load(&p->events)) {
		p->free_when_popped = true;
		return;
	}
	peer_free(p);
}

struct wgx_peer *wgx_device_peer_new(struct wgx_device *dev,
				     const uint8_t public_key[WGX_KEY_LEN],
				     const uint8_t *psk)
{
	struct wgx_peer *p = wgx_secret_alloc(WGX_SECRET_PEER, sizeof(*p));

	if (!p)
		return NULL;
	p->dev = dev;
	memcpy(p->public_key, public_key, WGX_KEY_LEN);
	wgx_peer_init_shared(p);
	wgx_keypairs_init(&p->keypairs, dev->indices, &dev->retire);
	wgx_cookie_maker_init(&p->cookie, public_key);
	wgx_timers_init(&p->timers, 0);
	p->handshake = wgx_noise_handshake_new(dev->identity, public_key, psk,
					       &p->keypairs, p);
	if (!p->handshake) {
		peer_free(p);
		return NULL;
	}
	return p;
}

int wgx_device_peer_add(struct wgx_device *dev, struct wgx_peer *p)
{
	int err = wgx_peers_add(&dev->peers, p);

	if (!err)
		p->id = dev->next_peer_id++;
	return err;
}

void wgx_device_peer_remove(struct wgx_device *dev, struct wgx_peer *p)
{
	wgx_peers_remove(&dev->peers, p);
	wgx_heap_remove(&dev->due, &p->due);
	p->removed = true;
	/* Out of every table a worker reads; what it unlinks is retired. */
	wgx_allowedips_remove_by_peer(&dev->allowedips, p);
	wgx_keypairs_clear(&p->keypairs);
	/* Workers never read a handshake: it can go at once. */
	wgx_noise_handshake_free(p->handshake);
	p->handshake = NULL;
	wgx_cookie_maker_wipe(&p->cookie);
	wgx_reclaim_defer(&dev->reclaim, peer_release, p);
}

void wgx_device_peer_popped(struct wgx_device *dev, struct wgx_peer *p)
{
	(void)dev;
	if (p->removed && p->free_when_popped)
		peer_free(p);
}

void wgx_device_keypairs_changed(struct wgx_device *dev, struct wgx_peer *p)
{
	/*
	 * A confirmation reported for a keypair that is gone must not
	 * promote a later one that reuses its memory: forget it. A worker
	 * that still reports the old one does so before the old one's grace
	 * period ends, long before its memory can come back.
	 */
	atomic_store(&p->confirmed, NULL);
	if (dev->keypairs_hook)
		dev->keypairs_hook(dev->keypairs_hook_ctx, p);
}

struct wgx_peer *wgx_device_find_peer(struct wgx_device *dev,
				      const uint8_t public_key[WGX_KEY_LEN])
{
	return wgx_peers_find(&dev->peers, public_key);
}

void wgx_device_wipe(struct wgx_device *dev)
{
	while (dev->peers.first)
		wgx_device_peer_remove(dev, dev->peers.first);
	wgx_noise_static_set(dev->identity, NULL);
	wgx_cookie_checker_wipe(&dev->cookie_checker);
}

void wgx_device_free(struct wgx_device *dev)
{
	struct wgx_peer *p, *next;

	if (!dev)
		return;
	if (dev->identity)
		wgx_device_wipe(dev);
	/* The workers are gone: what waits for them can go now. */
	wgx_reclaim_flush(&dev->reclaim);
	wgx_nh_destroy(&dev->nexthops);
	for (p = wgx_device_take_pending(dev); p; p = next) {
		next = atomic_load(&p->pending_next);
		wgx_device_peer_popped(dev, p);
	}
	wgx_peers_free(&dev->peers);
	wgx_heap_free(&dev->due);
	wgx_allowedips_free(&dev->allowedips);
	wgx_noise_static_free(dev->identity);
	wgx_index_free(dev->indices);
	free(dev->ratelimit);
	wgx_aead_free(dev->aead);
	if (dev->wake_fd >= 0)
		close(dev->wake_fd);
	pthread_mutex_destroy(&dev->hsq.lock);
	free(dev);
}

/* ---- from the workers to the agent ------------------------------------ */

void wgx_device_wake(struct wgx_device *dev)
{
	uint64_t one = 1;

	if (write(dev->wake_fd, &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is saturated, the agent wakes anyway. */
	}
}

unsigned int wgx_device_raise(struct wgx_device *dev, struct wgx_peer *p,
			      unsigned int events)
{
	unsigned int old =
		atomic_load_explicit(&p->events, memory_order_relaxed);
	struct wgx_peer *head;

	/* Already raised: no write, so the line is not pulled away from the
	 * other workers on every packet. */
	if ((old & events) == events)
		return 0;
	old = atomic_fetch_or_explicit(&p->events, events,
				       memory_order_acq_rel);
	if (old)
		return events & ~old;
	/* First event since the agent last looked: push p (Treiber stack;
	 * pops take the whole stack, so there is no ABA). */
	head = atomic_load_explicit(&dev->pending, memory_order_relaxed);
	do {
		atomic_store_explicit(&p->pending_next, head,
				      memory_order_relaxed);
	} while (!atomic_compare_exchange_weak_explicit(&dev->pending, &head, p,
							memory_order_release,
							memory_order_relaxed));
	return events;
}

struct wgx_peer *wgx_device_take_pending(struct wgx_device *dev)
{
	return atomic_exchange_explicit(&dev->pending, NULL,
					memory_order_acquire);
}

/* Whether an initiation or response carries a mac2 (its last 16 bytes;
 * a cookie reply has none). */
static bool has_mac2(const uint8_t *msg, size_t len)
{
	uint8_t any = 0;

	if (msg[0] != WGX_MSG_INITIATION && msg[0] != WGX_MSG_RESPONSE)
		return false;
	for (size_t i = len - 16; i < len; i++)
		any |= msg[i];
	return any;
}

/* Whether a message from src may take a place in the queue (device.h). */
static bool hsq_admits(const struct wgx_hsq *q, uint16_t share, bool cookie,
		       const struct wgx_ratelimit *rl,
		       const struct wgx_cookie_src *cs)
{
	const uint16_t *in = cookie ? q->in_share_cookie : q->in_share;

	if (q->count == WGX_HSQ_SIZE || in[share] >= WGX_HSQ_PER_SHARE)
		return false;
	return q->count < WGX_HSQ_SIZE - WGX_HSQ_RESERVED ||
	       wgx_ratelimit_known(rl, cs->addr, cs->addr_len);
}

void wgx_device_queue_handshake(struct wgx_device *dev, const uint8_t *msg,
				size_t len, const union wgx_sockaddr *src)
{
	struct wgx_hsq *q = &dev->hsq;
	struct wgx_cookie_src cs;
	struct wgx_hs_item *it;
	uint16_t share;
	bool cookie;

	if (len > sizeof(it->msg) || len < 16 ||
	    wgx_cookie_src_from_sockaddr(&cs, &src->sa, wgx_sockaddr_len(src)) <
		    0)
		return;
	share = wgx_ratelimit_source_hash(dev->ratelimit, cs.addr,
					  cs.addr_len) %
		WGX_HSQ_SHARES;
	cookie = has_mac2(msg, len);
	pthread_mutex_lock(&q->lock);
	if (!hsq_admits(q, share, cookie, dev->ratelimit, &cs)) {
		pthread_mutex_unlock(&q->lock);
		wgx_stats_add(&dev->stats, WGX_STAT_DROP_HANDSHAKE_QUEUE_FULL,
			      len);
		return;
	}
	it = &q->item[(q->head + q->count) % WGX_HSQ_SIZE];
	it->src = *src;
	it->len = (uint16_t)len;
	it->share = share;
	it->cookie = cookie;
	memcpy(it->msg, msg, len);
	q->count++;
	if (cookie)
		q->in_share_cookie[share]++;
	else
		q->in_share[share]++;
	pthread_mutex_unlock(&q->lock);
}

bool wgx_device_pop_handshake(struct wgx_device *dev, struct wgx_hs_item *out,
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
		if (out->cookie)
			q->in_share_cookie[out->share]--;
		else
			q->in_share[out->share]--;
		got = true;
	}
	pthread_mutex_unlock(&q->lock);
	return got;
}

bool wgx_device_under_load(const struct wgx_device *dev, uint64_t now)
{
	return dev->force_under_load || now < dev->under_load_until;
}
