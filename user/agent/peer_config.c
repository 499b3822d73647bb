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
#include <sodium.h>
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

/* ---- a batch of steps --------------------------------------------------- */

enum {
	/* Keys per block of the batch's secret memory: about a page. */
	STEP_KEYS_PER_BLOCK = 126,
	NONE = UINT32_MAX,
};

struct wgx_step_secrets {
	struct wgx_step_secrets *next;
	size_t used;
	uint8_t key[STEP_KEYS_PER_BLOCK][WGX_KEY_LEN];
};

void wgx_steps_free(struct wgx_steps *s)
{
	struct wgx_step_secrets *b, *next;

	for (b = s->secrets; b; b = next) {
		next = b->next;
		sodium_free(b); /* wipes */
	}
	free(s->v);
	memset(s, 0, sizeof(*s));
}

struct wgx_step *wgx_steps_push(struct wgx_steps *s, enum wgx_step_kind kind)
{
	struct wgx_step *st;

	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		struct wgx_step *v = realloc(s->v, cap * sizeof(*v));

		if (!v)
			return NULL;
		s->v = v;
		s->cap = cap;
	}
	st = &s->v[s->n++];
	memset(st, 0, sizeof(*st));
	st->kind = (uint8_t)kind;
	return st;
}

uint8_t *wgx_steps_key(struct wgx_steps *s)
{
	struct wgx_step_secrets *b = s->secrets;

	if (!b || b->used == STEP_KEYS_PER_BLOCK) {
		b = sodium_malloc(sizeof(*b));
		if (!b)
			return NULL;
		sodium_memzero(b, sizeof(*b));
		b->next = s->secrets;
		s->secrets = b;
	}
	return b->key[b->used++];
}

void wgx_steps_summarize(const struct wgx_steps *s,
			 struct wgx_steps_summary *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < s->n; i++) {
		if (s->v[i].kind == WGX_STEP_LISTEN_PORT) {
			out->has_listen_port = true;
			out->listen_port = s->v[i].u.port;
		} else if (s->v[i].kind == WGX_STEP_FWMARK) {
			out->has_fwmark = true;
			out->fwmark = s->v[i].u.fwmark;
		}
	}
}

/*
 * The outcome is worked out on a model of only what the batch names:
 * a target per public key, and the prefixes its allowed-IP steps touch
 * with their owner at the end. Dropping all of a peer's prefixes at once
 * (removal, replace_allowed_ips) bumps its epoch: a prefix given to an
 * older epoch is nobody's now, and so are the prefixes the peer held
 * before the batch (base_dropped), which the commit walks.
 */
struct target {
	uint8_t key[WGX_KEY_LEN];
	struct wgx_peer *old;  /* the device's peer before the batch */
	struct wgx_peer *peer; /* the peer at the end (old, or created) */
	uint32_t epoch;
	bool present;	   /* in the model, now */
	bool reset;	   /* removed and named again: config starts over */
	bool base_dropped; /* its prefixes from before the batch are gone */
	bool created;	   /* prepare made peer */
	bool has_psk, has_endpoint, has_keepalive;
	const uint8_t *psk;
	union wgx_sockaddr endpoint;
	uint16_t keepalive;
};

/* A prefix some step touched, and its owner at the end. */
struct touched {
	struct wgx_config_prefix prefix;
	uint32_t owner; /* target index, or NONE */
	uint32_t epoch; /* the owner's when it was given */
	bool used;
	bool decided; /* owner says where it ends; else it stays put */
	bool inserted;
};

struct txn_undo {
	struct wgx_peer *peer, *prev; /* inserted for peer; prev held it */
	const struct wgx_config_prefix *prefix;
};

struct wgx_peer_txn {
	struct target *t;
	size_t nt;
	uint32_t *t_hash; /* open addressing over t[]: NONE is free */
	size_t t_mask;
	struct touched *x;
	size_t x_mask;
	struct txn_undo *undo;
	size_t n_undo;
	bool replace_peers;
	bool set_private_key;
	const uint8_t *private_key;
	uint32_t gen;
	struct wgx_peer_config_stats st;
};

static size_t pow2_at_least(size_t n)
{
	size_t cap = 16;

	while (cap < n)
		cap *= 2;
	return cap;
}

static uint64_t key_hash(const uint8_t *key)
{
	uint64_t h;

	/* Public keys are random: their first bytes hash well enough. */
	memcpy(&h, key, sizeof(h));
	return h ^ (h >> 29);
}

static uint64_t prefix_hash(const struct wgx_config_prefix *p)
{
	uint64_t h =
		1469598103934665603ULL ^ ((uint64_t)p->family << 8) ^ p->cidr;

	for (size_t i = 0; i < 16; i++)
		h = (h ^ p->addr.bytes[i]) * 1099511628211ULL;
	return h ^ (h >> 32);
}

static bool prefix_equal(const struct wgx_config_prefix *a,
			 const struct wgx_config_prefix *b)
{
	return a->family == b->family && a->cidr == b->cidr &&
	       !memcmp(a->addr.bytes, b->addr.bytes, 16);
}

/* The target of key, NONE when the batch has not named it yet. */
static uint32_t target_find(const struct wgx_peer_txn *t, const uint8_t *key)
{
	for (size_t i = key_hash(key) & t->t_mask;; i = (i + 1) & t->t_mask) {
		uint32_t k = t->t_hash[i];

		if (k == NONE || !memcmp(t->t[k].key, key, WGX_KEY_LEN))
			return k;
	}
}

/* The target of key, made (present as the device says) if new. */
static uint32_t target_get(struct wgx_peer_txn *t, struct wgx_device *dev,
			   const uint8_t *key)
{
	size_t i = key_hash(key) & t->t_mask;
	struct target *tg;

	for (;; i = (i + 1) & t->t_mask) {
		uint32_t k = t->t_hash[i];

		if (k == NONE)
			break;
		if (!memcmp(t->t[k].key, key, WGX_KEY_LEN))
			return k;
	}
	tg = &t->t[t->nt];
	memcpy(tg->key, key, WGX_KEY_LEN);
	tg->old = wgx_device_find_peer(dev, key);
	tg->present = tg->old && !t->replace_peers;
	tg->base_dropped = t->replace_peers;
	t->t_hash[i] = (uint32_t)t->nt;
	return (uint32_t)t->nt++;
}

/* All of a target's prefixes go (it is removed, or replaces them). */
static void target_drop_prefixes(struct target *tg)
{
	tg->epoch++;
	tg->base_dropped = true;
}

static struct touched *touched_get(struct wgx_peer_txn *t,
				   const struct wgx_config_prefix *p)
{
	for (size_t i = prefix_hash(p) & t->x_mask;; i = (i + 1) & t->x_mask) {
		struct touched *x = &t->x[i];

		if (!x->used) {
			x->used = true;
			x->prefix = *p;
			x->owner = NONE;
			x->decided = false;
			return x;
		}
		if (prefix_equal(&x->prefix, p))
			return x;
	}
}

/* The owner of a decided prefix now: a target, or NONE. */
static uint32_t touched_owner(const struct wgx_peer_txn *t,
			      const struct touched *x)
{
	if (!x->used || !x->decided || x->owner == NONE ||
	    t->t[x->owner].epoch != x->epoch)
		return NONE;
	return x->owner;
}

/* Does target k hold prefix p now, in the model? */
static bool model_holds(struct wgx_peer_txn *t, struct wgx_device *dev,
			uint32_t k, const struct wgx_config_prefix *p,
			struct touched **slot)
{
	struct touched *x = touched_get(t, p);
	struct wgx_peer *holder;
	uint32_t owner;

	*slot = x;
	if (x->decided)
		return touched_owner(t, x) == k;
	/* First touched by this step: the device says, for now. */
	holder = wgx_allowedips_owner(&dev->allowedips, p->family,
				      p->addr.bytes, p->cidr);
	if (!holder)
		return false;
	owner = target_find(t, holder->public_key);
	if (owner == NONE) /* a peer the batch does not name */
		return false;
	if (t->t[owner].base_dropped || t->t[owner].old != holder)
		return false;
	/* Held from before the batch: record it as the target's own. */
	x->owner = owner;
	x->epoch = t->t[owner].epoch;
	x->decided = true;
	return owner == k;
}

/* Per-peer state while walking the steps. */
struct walk {
	uint32_t cur;	    /* target of the current peer, NONE: ignored */
	bool block_created; /* its WGX_STEP_PEER created it */
	bool has_own;
	uint8_t own[WGX_KEY_LEN]; /* the device's public key, as it will be */
};

static void step_private_key(struct wgx_peer_txn *t, struct wgx_device *dev,
			     struct walk *w, const uint8_t *key)
{
	uint32_t k;

	t->set_private_key = true;
	t->private_key = key;
	if (!key) {
		w->has_own = false;
		return;
	}
	if (dev->identity->has_identity &&
	    wgx_crypto_equal(dev->identity->private_key, key, WGX_KEY_LEN))
		return;
	wgx_crypto_dh_public(w->own, key);
	w->has_own = true;
	/* As wireguard-go does: a peer with our own key goes. */
	k = target_get(t, dev, w->own);
	t->t[k].present = false;
	target_drop_prefixes(&t->t[k]);
}

static void step_peer(struct wgx_peer_txn *t, struct wgx_device *dev,
		      struct walk *w, const uint8_t *key)
{
	struct target *tg;

	w->cur = NONE;
	w->block_created = false;
	/* Our own key: the steps up to the next peer are ignored. */
	if (w->has_own && !memcmp(w->own, key, WGX_KEY_LEN))
		return;
	w->cur = target_get(t, dev, key);
	tg = &t->t[w->cur];
	if (tg->present)
		return;
	/* Created now: from scratch, or starting over if it existed. */
	tg->present = true;
	tg->reset = true;
	tg->base_dropped = true;
	tg->has_psk = tg->has_endpoint = tg->has_keepalive = false;
	w->block_created = true;
}

static void step_allowed_ip(struct wgx_peer_txn *t, struct wgx_device *dev,
			    uint32_t k, const struct wgx_step *s)
{
	struct touched *x;
	bool holds = model_holds(t, dev, k, &s->u.prefix, &x);

	if (s->kind == WGX_STEP_ALLOWED_IP_ADD) {
		x->owner = k;
		x->epoch = t->t[k].epoch;
		x->decided = true;
	} else if (holds) {
		x->owner = NONE;
		x->decided = true;
	}
}

static void walk_step(struct wgx_peer_txn *t, struct wgx_device *dev,
		      struct walk *w, const struct wgx_step *s)
{
	struct target *tg = w->cur == NONE ? NULL : &t->t[w->cur];

	switch (s->kind) {
	case WGX_STEP_PRIVATE_KEY:
		step_private_key(t, dev, w, s->key);
		return;
	case WGX_STEP_REPLACE_PEERS:
		t->replace_peers = true;
		for (size_t i = 0; i < t->nt; i++) {
			t->t[i].present = false;
			target_drop_prefixes(&t->t[i]);
		}
		return;
	case WGX_STEP_PEER:
		step_peer(t, dev, w, s->u.public_key);
		return;
	case WGX_STEP_LISTEN_PORT:
	case WGX_STEP_FWMARK:
		return; /* the caller's */
	default:
		break;
	}
	if (!tg)
		return;
	switch (s->kind) {
	case WGX_STEP_UPDATE_ONLY:
	case WGX_STEP_REMOVE:
		/* update_only: a peer its WGX_STEP_PEER created goes again. */
		if (s->kind == WGX_STEP_UPDATE_ONLY && !w->block_created)
			return;
		tg->present = false;
		target_drop_prefixes(tg);
		w->cur = NONE;
		return;
	case WGX_STEP_PSK:
		tg->has_psk = true;
		tg->psk = s->key;
		return;
	case WGX_STEP_ENDPOINT:
		tg->has_endpoint = true;
		tg->endpoint = s->u.endpoint;
		return;
	case WGX_STEP_KEEPALIVE:
		tg->has_keepalive = true;
		tg->keepalive = s->u.seconds;
		return;
	case WGX_STEP_REPLACE_ALLOWED_IPS:
		target_drop_prefixes(tg);
		return;
	case WGX_STEP_ALLOWED_IP_ADD:
	case WGX_STEP_ALLOWED_IP_REMOVE:
		step_allowed_ip(t, dev, w->cur, s);
		return;
	default:
		return;
	}
}

static void txn_free(struct wgx_peer_txn *t)
{
	if (!t)
		return;
	free(t->t);
	free(t->t_hash);
	free(t->x);
	free(t->undo);
	free(t);
}

static struct wgx_peer_txn *txn_new(const struct wgx_steps *steps)
{
	struct wgx_peer_txn *t = calloc(1, sizeof(*t));
	size_t peers = 1, prefixes = 0;

	if (!t)
		return NULL;
	for (size_t i = 0; i < steps->n; i++) {
		peers += steps->v[i].kind == WGX_STEP_PEER ||
			 steps->v[i].kind == WGX_STEP_PRIVATE_KEY;
		prefixes += steps->v[i].kind == WGX_STEP_ALLOWED_IP_ADD ||
			    steps->v[i].kind == WGX_STEP_ALLOWED_IP_REMOVE;
	}
	t->t = calloc(peers, sizeof(*t->t));
	t->t_mask = pow2_at_least(2 * peers) - 1;
	t->t_hash = malloc((t->t_mask + 1) * sizeof(*t->t_hash));
	t->x_mask = pow2_at_least(2 * prefixes) - 1;
	t->x = calloc(t->x_mask + 1, sizeof(*t->x));
	t->undo = calloc(prefixes ? prefixes : 1, sizeof(*t->undo));
	if (!t->t || !t->t_hash || !t->x || !t->undo) {
		txn_free(t);
		return NULL;
	}
	memset(t->t_hash, 0xff, (t->t_mask + 1) * sizeof(*t->t_hash));
	t->gen = ++config_generation;
	return t;
}

/* Put back every prefix prepare moved; remove the peers it created. */
static void txn_undo(struct wgx_device *dev, struct wgx_peer_txn *t)
{
	while (t->n_undo) {
		struct txn_undo *u = &t->undo[--t->n_undo];
		int err = u->prev ? wgx_peer_config_allowed_ip_add(dev, u->prev,
								   u->prefix)
				  : wgx_peer_config_allowed_ip_remove(
					    dev, u->peer, u->prefix);

		if (err)
			wgx_log_error("Couldn't undo an allowed IP change: %s",
				      strerror(-err));
	}
	for (size_t i = 0; i < t->nt; i++)
		if (t->t[i].created) {
			wgx_device_peer_remove(dev, t->t[i].peer);
			t->t[i].created = false;
		}
}

static int create_peers(struct wgx_device *dev, struct wgx_peer_txn *t)
{
	size_t n_new = 0;
	int err;

	for (size_t i = 0; i < t->nt; i++) {
		struct target *tg = &t->t[i];

		tg->peer = tg->present ? tg->old : NULL;
		if (!tg->present || tg->old)
			continue;
		tg->peer = wgx_device_peer_new(dev, tg->key, NULL);
		if (!tg->peer)
			return -ENOMEM;
		n_new++;
	}
	/* Room first, so that adding cannot fail half-way. */
	err = wgx_peers_reserve(&dev->peers, dev->peers.count + n_new);
	for (size_t i = 0; i < t->nt; i++) {
		struct target *tg = &t->t[i];

		if (!tg->present || tg->old)
			continue;
		if (err || wgx_device_peer_add(dev, tg->peer)) {
			/* Never added: removing frees it all the same. */
			wgx_device_peer_remove(dev, tg->peer);
			tg->peer = NULL;
			err = -ENOMEM;
			continue;
		}
		tg->created = true;
		t->st.peers_added++;
	}
	return err;
}

/*
 * Give each prefix to the peer it ends with, in the order the steps added
 * them (`wg show` lists a peer's prefixes in that order, as wireguard-go
 * does).
 */
static int insert_prefixes(struct wgx_device *dev, struct wgx_peer_txn *t,
			   const struct wgx_steps *steps)
{
	uint32_t cur = NONE;

	for (size_t i = 0; i < steps->n; i++) {
		const struct wgx_step *s = &steps->v[i];
		struct touched *x;
		struct wgx_peer *p, *prev;
		uint32_t k;
		int err;

		if (s->kind == WGX_STEP_PEER)
			cur = target_find(t, s->u.public_key);
		if (s->kind != WGX_STEP_ALLOWED_IP_ADD || cur == NONE)
			continue;
		x = touched_get(t, &s->u.prefix);
		k = touched_owner(t, x);
		if (k != cur || !t->t[k].present || x->inserted)
			continue;
		x->inserted = true;
		p = t->t[k].peer;
		prev = wgx_allowedips_owner(&dev->allowedips, x->prefix.family,
					    x->prefix.addr.bytes,
					    x->prefix.cidr);
		if (prev == p)
			continue;
		err = wgx_peer_config_allowed_ip_add(dev, p, &x->prefix);
		if (err)
			return err;
		t->undo[t->n_undo++] = (struct txn_undo){ p, prev, &x->prefix };
		t->st.allowed_ips_added++;
	}
	return 0;
}

int wgx_peer_config_prepare(struct wgx_device *dev,
			    const struct wgx_steps *steps,
			    struct wgx_peer_txn **out)
{
	struct wgx_peer_txn *t = txn_new(steps);
	struct walk w = { .cur = NONE };
	int err;

	*out = NULL;
	if (!t)
		return -ENOMEM;
	if (dev->identity->has_identity) {
		memcpy(w.own, dev->identity->public_key, WGX_KEY_LEN);
		w.has_own = true;
	}
	for (size_t i = 0; i < steps->n; i++)
		walk_step(t, dev, &w, &steps->v[i]);
	err = create_peers(dev, t);
	if (!err)
		err = insert_prefixes(dev, t, steps);
	if (err) {
		txn_undo(dev, t);
		txn_free(t);
		return err;
	}
	*out = t;
	return 0;
}

void wgx_peer_config_abort(struct wgx_device *dev, struct wgx_peer_txn *t)
{
	if (!t)
		return;
	txn_undo(dev, t);
	txn_free(t);
}

/* Prefixes a peer holds that the batch took from it. */
struct dropped {
	const struct wgx_peer_txn *t;
	struct wgx_config_prefix *v;
	size_t n, cap;
	bool nomem;
};

static int collect_dropped(void *ctx, int family, const void *addr,
			   uint8_t cidr)
{
	struct dropped *d = ctx;
	const struct wgx_peer_txn *t = d->t;
	struct wgx_config_prefix p = { .family = (sa_family_t)family,
				       .cidr = cidr };

	memcpy(p.addr.bytes, addr, family == AF_INET ? 4 : 16);
	/* A decided prefix is kept, moved or removed already. */
	for (size_t i = prefix_hash(&p) & t->x_mask; t->x[i].used;
	     i = (i + 1) & t->x_mask) {
		if (!prefix_equal(&t->x[i].prefix, &p))
			continue;
		if (t->x[i].decided)
			return 0;
		break;
	}
	if (d->n == d->cap) {
		size_t cap = d->cap ? 2 * d->cap : 16;
		struct wgx_config_prefix *v = realloc(d->v, cap * sizeof(*v));

		if (!v) {
			d->nomem = true;
			return 1;
		}
		d->v = v;
		d->cap = cap;
	}
	d->v[d->n++] = p;
	return 0;
}

static void remove_dropped(struct wgx_device *dev, struct wgx_peer_txn *t,
			   struct target *tg)
{
	struct dropped d = { .t = t };

	wgx_allowedips_walk(&dev->allowedips, tg->peer, collect_dropped, &d);
	for (size_t i = 0; i < d.n; i++)
		if (!wgx_peer_config_allowed_ip_remove(dev, tg->peer, &d.v[i]))
			t->st.allowed_ips_removed++;
	if (d.nomem)
		wgx_log_warn("no memory to remove all of peer %u's old allowed "
			     "IPs",
			     tg->peer->id);
	free(d.v);
}

static void configure_target(struct wgx_device *dev, struct wgx_peer_txn *t,
			     struct target *tg)
{
	struct wgx_peer *p = tg->peer;
	bool changed = tg->reset && !tg->created;

	p->config_gen = t->gen;
	if (tg->has_psk || tg->reset) {
		changed |= tg->has_psk;
		wgx_peer_config_set_psk(dev, p, tg->has_psk ? tg->psk : NULL);
	}
	if (tg->has_endpoint) {
		wgx_peer_config_set_endpoint(dev, p, &tg->endpoint);
		changed = true;
	} else if (tg->reset) {
		/* Kept as learned, no longer configured. */
		p->configured_endpoint = false;
	}
	if (tg->has_keepalive || tg->reset) {
		changed |= tg->has_keepalive;
		wgx_peer_config_set_keepalive(
			dev, p, tg->has_keepalive ? tg->keepalive : 0);
	}
	if (changed && !tg->created)
		t->st.peers_changed++;
}

void wgx_peer_config_commit(struct wgx_device *dev, struct wgx_peer_txn *t,
			    struct wgx_peer_config_stats *stats)
{
	struct wgx_peer *p, *next;

	/* Prefixes that end with nobody, wherever they are now. */
	for (size_t i = 0; i <= t->x_mask; i++) {
		struct touched *x = &t->x[i];
		uint32_t k = touched_owner(t, x);

		if (!x->decided || (k != NONE && t->t[k].present))
			continue;
		p = wgx_allowedips_owner(&dev->allowedips, x->prefix.family,
					 x->prefix.addr.bytes, x->prefix.cidr);
		if (p && !wgx_peer_config_allowed_ip_remove(dev, p, &x->prefix))
			t->st.allowed_ips_removed++;
	}
	for (size_t i = 0; i < t->nt; i++) {
		struct target *tg = &t->t[i];

		if (!tg->present)
			continue;
		if (tg->base_dropped && !tg->created)
			remove_dropped(dev, t, tg);
		configure_target(dev, t, tg);
	}
	for (size_t i = 0; i < t->nt; i++)
		if (!t->t[i].present && t->t[i].old) {
			wgx_peer_config_remove(dev, t->t[i].old);
			t->st.peers_removed++;
		}
	for (p = t->replace_peers ? dev->peers.first : NULL; p; p = next) {
		next = p->list_next;
		if (p->config_gen == t->gen)
			continue;
		wgx_peer_config_remove(dev, p);
		t->st.peers_removed++;
	}
	if (t->set_private_key) {
		const uint8_t *key = t->private_key;

		t->st.private_key_changed =
			!key != !dev->identity->has_identity ||
			(key && !wgx_crypto_equal(dev->identity->private_key,
						  key, WGX_KEY_LEN));
		wgx_peer_config_set_private_key(dev, key);
	}
	if (stats)
		*stats = t->st;
	txn_free(t);
}
