// SPDX-License-Identifier: MIT
/*
 * The small configuration steps, and a reload built from them. A reload
 * first does everything that can fail (creating peers, inserting allowed
 * IPs), logging how to undo each, then everything that cannot (keys,
 * endpoints, keepalives, removals). A failure undoes the log, so a refused
 * reload leaves the device as it found it.
 */
#include "agent/peer_config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agent/daemon.h"
#include "agent/protocol.h"
#include "core/crypto.h"
#include "util/log.h"

/* ---- the steps ---------------------------------------------------------- */

int wgx_peer_config_add(struct wgx_device *dev,
			const uint8_t public_key[WGX_KEY_LEN],
			const uint8_t *psk, struct wgx_peer **out)
{
	struct wgx_peer *p = wgx_device_peer_new(dev, public_key, psk);
	int err;

	*out = NULL;
	if (!p)
		return -ENOMEM;
	err = wgx_device_peer_add(dev, p);
	if (err) {
		wgx_device_peer_remove(dev, p);
		return err;
	}
	*out = p;
	return 0;
}

void wgx_peer_config_remove(struct wgx_device *dev, struct wgx_peer *p)
{
	wgx_log_debug("peer %u removed", p->id);
	wgx_device_peer_remove(dev, p);
}

void wgx_peer_config_set_psk(struct wgx_device *dev, struct wgx_peer *p,
			     const uint8_t *psk)
{
	static const uint8_t zero[WGX_KEY_LEN];

	(void)dev;
	if (!psk)
		psk = zero;
	if (!wgx_crypto_equal(p->handshake->preshared_key, psk, WGX_KEY_LEN))
		wgx_noise_handshake_set_psk(p->handshake, psk);
}

void wgx_peer_config_set_endpoint(struct wgx_device *dev, struct wgx_peer *p,
				  const union wgx_sockaddr *ep)
{
	(void)dev;
	p->configured_endpoint = ep != NULL;
	if (ep)
		wgx_peer_set_endpoint(p, ep);
	else
		wgx_peer_clear_endpoint(p);
}

void wgx_peer_config_set_keepalive(struct wgx_device *dev, struct wgx_peer *p,
				   uint16_t seconds)
{
	if (seconds == p->persistent_keepalive)
		return;
	p->persistent_keepalive = seconds;
	wgx_timers_set_persistent_keepalive(&p->timers, seconds, wgx_now());
	wgx_protocol_schedule(dev, p);
}

int wgx_peer_config_allowed_ip_add(struct wgx_device *dev, struct wgx_peer *p,
				   const struct wgx_config_prefix *a)
{
	return wgx_allowedips_insert(&dev->allowedips, a->family, a->addr.bytes,
				     a->cidr, p);
}

int wgx_peer_config_allowed_ip_remove(struct wgx_device *dev,
				      struct wgx_peer *p,
				      const struct wgx_config_prefix *a)
{
	return wgx_allowedips_remove(&dev->allowedips, a->family, a->addr.bytes,
				     a->cidr, p);
}

void wgx_peer_config_set_private_key(struct wgx_device *dev,
				     const uint8_t *private_key)
{
	struct wgx_peer *p;

	if (private_key && dev->identity->has_identity &&
	    wgx_crypto_equal(dev->identity->private_key, private_key,
			     WGX_KEY_LEN))
		return;
	if (!private_key && !dev->identity->has_identity)
		return;
	wgx_noise_static_set(dev->identity, private_key);
	wgx_cookie_checker_set_public_key(
		&dev->cookie_checker,
		private_key ? dev->identity->public_key : NULL);
	wgx_peers_for_each(&dev->peers, p)
	{
		wgx_keypairs_clear(&p->keypairs);
		wgx_device_keypairs_changed(dev, p);
		wgx_noise_handshake_clear(p->handshake);
		wgx_noise_handshake_precompute(p->handshake);
		wgx_protocol_schedule(dev, p);
		/* A Diffie-Hellman each: 100,000 peers take seconds. */
		wgx_daemon_progress();
	}
}

/* ---- a reload ----------------------------------------------------------- */

/* One allowed IP inserted by a reload, and whom it belonged to before. */
struct undo {
	struct wgx_peer *peer;
	struct wgx_peer *prev; /* NULL: it was nobody's */
	const struct wgx_config_prefix *prefix;
};

struct plan {
	const struct wgx_config *cfg;
	struct wgx_peer **peer; /* cfg->peers[i] -> its peer */
	bool *fresh;		/* created by this reload */
	struct undo *undo;
	size_t n_undo;
	uint32_t gen;
	struct wgx_peer_config_stats st;
};

static uint32_t config_generation;

static void plan_free(struct plan *pl)
{
	free(pl->peer);
	free(pl->fresh);
	free(pl->undo);
}

/* Put back every allowed IP the reload moved, remove the peers it made. */
static void undo_all(struct wgx_device *dev, struct plan *pl)
{
	while (pl->n_undo) {
		struct undo *u = &pl->undo[--pl->n_undo];
		int err = u->prev ? wgx_peer_config_allowed_ip_add(dev, u->prev,
								   u->prefix)
				  : wgx_peer_config_allowed_ip_remove(
					    dev, u->peer, u->prefix);

		if (err)
			wgx_log_error("reload: couldn't undo an allowed IP "
				      "change: %s",
				      strerror(-err));
	}
	for (size_t i = 0; i < pl->cfg->n_peers; i++)
		if (pl->fresh[i] && pl->peer[i])
			wgx_device_peer_remove(dev, pl->peer[i]);
}

/* New peers, in the device but with nothing that routes to them yet. */
static int add_new_peers(struct wgx_device *dev, struct plan *pl)
{
	const struct wgx_config *cfg = pl->cfg;
	size_t n_new = 0;
	int err;

	for (size_t i = 0; i < cfg->n_peers; i++) {
		const struct wgx_config_peer *cp = &cfg->peers[i];

		pl->peer[i] = wgx_device_find_peer(dev, cp->public_key);
		if (pl->peer[i])
			continue;
		pl->peer[i] = wgx_device_peer_new(dev, cp->public_key,
						  cp->preshared_key);
		if (!pl->peer[i])
			return -ENOMEM;
		wgx_daemon_progress();
		pl->fresh[i] = true;
		n_new++;
	}
	/* Room first, so that adding cannot fail half-way. */
	err = wgx_peers_reserve(&dev->peers, dev->peers.count + n_new);
	if (err)
		return err;
	for (size_t i = 0; i < cfg->n_peers; i++)
		if (pl->fresh[i] && wgx_device_peer_add(dev, pl->peer[i]))
			return -ENOMEM;
	pl->st.peers_added = n_new;
	return 0;
}

static int insert_allowed_ips(struct wgx_device *dev, struct plan *pl)
{
	const struct wgx_config *cfg = pl->cfg;
	size_t total = wgx_config_count_allowed_ips(cfg);

	pl->undo = calloc(total ? total : 1, sizeof(*pl->undo));
	if (!pl->undo)
		return -ENOMEM;
	for (size_t i = 0; i < cfg->n_peers; i++) {
		const struct wgx_config_peer *cp = &cfg->peers[i];
		struct wgx_peer *p = pl->peer[i];

		for (size_t k = 0; k < cp->n_allowed_ips; k++) {
			const struct wgx_config_prefix *a = &cp->allowed_ips[k];
			struct wgx_peer *prev = wgx_allowedips_owner(
				&dev->allowedips, a->family, a->addr.bytes,
				a->cidr);
			int err;

			if (prev == p)
				continue;
			err = wgx_peer_config_allowed_ip_add(dev, p, a);
			if (err)
				return err;
			pl->undo[pl->n_undo++] = (struct undo){ p, prev, a };
			pl->st.allowed_ips_added++;
		}
	}
	return 0;
}

static int prefix_cmp(const void *x, const void *y)
{
	const struct wgx_config_prefix *a = x, *b = y;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	if (a->cidr != b->cidr)
		return a->cidr < b->cidr ? -1 : 1;
	return memcmp(a->addr.bytes, b->addr.bytes,
		      a->family == AF_INET ? 4 : 16);
}

/* A peer's prefixes that its [Peer] section no longer lists. */
struct stale {
	struct wgx_config_prefix *sorted; /* the section's, sorted */
	size_t n_sorted;
	struct wgx_config_prefix *out;
	size_t n, cap;
	bool nomem;
};

static int collect_stale(void *ctx, int family, const void *addr, uint8_t cidr)
{
	struct stale *s = ctx;
	struct wgx_config_prefix key = { .family = (sa_family_t)family,
					 .cidr = cidr };

	memcpy(key.addr.bytes, addr, family == AF_INET ? 4 : 16);
	if (bsearch(&key, s->sorted, s->n_sorted, sizeof(key), prefix_cmp))
		return 0;
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 8;
		struct wgx_config_prefix *n = realloc(s->out, cap * sizeof(*n));

		if (!n) {
			s->nomem = true;
			return 1;
		}
		s->out = n;
		s->cap = cap;
	}
	s->out[s->n++] = key;
	return 0;
}

/* Prefixes p holds beyond the section's (which it holds all of by now). */
static size_t prefixes_held(struct wgx_device *dev, struct wgx_peer *p)
{
	return wgx_allowedips_peer_count(&dev->allowedips, p);
}

static void remove_stale_allowed_ips(struct wgx_device *dev, struct plan *pl,
				     size_t i)
{
	const struct wgx_config_peer *cp = &pl->cfg->peers[i];
	struct wgx_peer *p = pl->peer[i];
	struct stale s = { 0 };

	if (prefixes_held(dev, p) == cp->n_allowed_ips)
		return;
	s.n_sorted = cp->n_allowed_ips;
	s.sorted = malloc((s.n_sorted ? s.n_sorted : 1) * sizeof(*s.sorted));
	if (!s.sorted) {
		/* Removing more than needed is worse than keeping some. */
		wgx_log_warn("reload: no memory to remove peer %u's old "
			     "allowed IPs",
			     p->id);
		return;
	}
	memcpy(s.sorted, cp->allowed_ips, s.n_sorted * sizeof(*s.sorted));
	qsort(s.sorted, s.n_sorted, sizeof(*s.sorted), prefix_cmp);
	wgx_allowedips_walk(&dev->allowedips, p, collect_stale, &s);
	for (size_t k = 0; k < s.n; k++)
		if (!wgx_peer_config_allowed_ip_remove(dev, p, &s.out[k]))
			pl->st.allowed_ips_removed++;
	if (s.nomem)
		wgx_log_warn("reload: no memory to remove all of peer %u's "
			     "old allowed IPs",
			     p->id);
	free(s.sorted);
	free(s.out);
}

/* Keys, endpoints and keepalives: none of these can fail. */
static void update_peer(struct wgx_device *dev, struct plan *pl, size_t i)
{
	const struct wgx_config_peer *cp = &pl->cfg->peers[i];
	struct wgx_peer *p = pl->peer[i];
	bool changed = false;

	p->config_gen = pl->gen;
	if (!pl->fresh[i]) {
		static const uint8_t zero[WGX_KEY_LEN];
		const uint8_t *psk =
			cp->preshared_key ? cp->preshared_key : zero;

		if (!wgx_crypto_equal(p->handshake->preshared_key, psk,
				      WGX_KEY_LEN)) {
			wgx_peer_config_set_psk(dev, p, psk);
			changed = true;
		}
	}
	if (cp->endpoint.text && cp->endpoint.resolved) {
		union wgx_sockaddr cur;
		bool has;

		wgx_peer_get_endpoint(p, &cur, &has);
		if (!p->configured_endpoint || !has ||
		    !wgx_sockaddr_equal(&cur, &cp->endpoint.addr)) {
			p->configured_endpoint = true;
			wgx_peer_set_endpoint(p, &cp->endpoint.addr);
			changed = true;
		}
	}
	if (cp->persistent_keepalive != p->persistent_keepalive) {
		wgx_peer_config_set_keepalive(dev, p, cp->persistent_keepalive);
		changed = true;
	}
	if (changed && !pl->fresh[i])
		pl->st.peers_changed++;
}

static void remove_unlisted_peers(struct wgx_device *dev, struct plan *pl)
{
	struct wgx_peer *p = dev->peers.first, *next;

	for (; p; p = next) {
		next = p->list_next;
		if (p->config_gen == pl->gen)
			continue;
		wgx_peer_config_remove(dev, p);
		pl->st.peers_removed++;
	}
}

int wgx_peer_config_apply(struct wgx_device *dev, const struct wgx_config *cfg,
			  struct wgx_peer_config_stats *stats)
{
	struct plan pl = { .cfg = cfg, .gen = ++config_generation };
	size_t n = cfg->n_peers ? cfg->n_peers : 1;
	int err = -ENOMEM;

	pl.peer = calloc(n, sizeof(*pl.peer));
	pl.fresh = calloc(n, sizeof(*pl.fresh));
	if (pl.peer && pl.fresh)
		err = add_new_peers(dev, &pl);
	if (!err)
		err = insert_allowed_ips(dev, &pl);
	if (err) {
		if (pl.peer && pl.fresh)
			undo_all(dev, &pl);
		plan_free(&pl);
		if (stats)
			memset(stats, 0, sizeof(*stats));
		return err;
	}
	/* Nothing below fails. */
	for (size_t i = 0; i < cfg->n_peers; i++)
		update_peer(dev, &pl, i);
	pl.st.private_key_changed =
		!cfg->private_key != !dev->identity->has_identity ||
		(cfg->private_key &&
		 !wgx_crypto_equal(dev->identity->private_key, cfg->private_key,
				   WGX_KEY_LEN));
	wgx_peer_config_set_private_key(dev, cfg->private_key);
	for (size_t i = 0; i < cfg->n_peers; i++)
		if (!pl.fresh[i])
			remove_stale_allowed_ips(dev, &pl, i);
	remove_unlisted_peers(dev, &pl);
	if (stats)
		*stats = pl.st;
	plan_free(&pl);
	return 0;
}
