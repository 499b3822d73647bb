// SPDX-License-Identifier: MIT
/*
 * Each table entry holds credit measured in nanoseconds: a message costs
 * one second / its rate, idle time refills credit up to the burst. The
 * same arithmetic serves the unknown sources' shared budget.
 */
#include "core/ratelimit.h"

#include <string.h>

#include "core/crypto.h"

#define NSEC_PER_SEC 1000000000ULL

static void table_init(struct wgx_ratelimit_table *t, uint64_t per_second,
		       uint64_t burst)
{
	memset(t, 0, sizeof(*t));
	t->cost = NSEC_PER_SEC / per_second;
	t->cap = t->cost * burst;
}

void wgx_ratelimit_init(struct wgx_ratelimit *rl)
{
	memset(rl, 0, sizeof(*rl));
	/* A secret seed keeps attackers from aiming at one bucket chain. */
	wgx_crypto_random(&rl->seed, sizeof(rl->seed));
	table_init(&rl->proven, WGX_RATELIMIT_PER_SECOND, WGX_RATELIMIT_BURST);
	table_init(&rl->work, WGX_RATELIMIT_WORK_PER_SECOND,
		   WGX_RATELIMIT_WORK_BURST);
	rl->unknown_tokens = NSEC_PER_SEC / WGX_RATELIMIT_UNKNOWN_PER_SECOND *
			     WGX_RATELIMIT_UNKNOWN_BURST;
}

bool wgx_ratelimit_key(struct wgx_ratelimit_key *key, const uint8_t *addr,
		       unsigned int addr_len)
{
	memset(key, 0, sizeof(*key));
	if (addr_len == 4) {
		key->family = 4;
		memcpy(key->b, addr, 4);
	} else if (addr_len == 16) {
		key->family = 6;
		memcpy(key->b, addr, 8); /* the /64 */
	} else {
		return false;
	}
	return true;
}

unsigned int wgx_ratelimit_key_addr(const struct wgx_ratelimit_key *key,
				    uint8_t addr[16])
{
	memset(addr, 0, 16);
	if (key->family == 4) {
		memcpy(addr, key->b, 4);
		return 4;
	}
	memcpy(addr, key->b, 8);
	return 16;
}

static uint64_t hash_key(uint64_t seed, const struct wgx_ratelimit_key *key)
{
	uint64_t h = seed, k;

	memcpy(&k, key->b, 8);
	h ^= k + key->family;
	h *= 0x9e3779b97f4a7c15ULL;
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 32;
	return h;
}

static bool same_key(const struct wgx_ratelimit_key *a,
		     const struct wgx_ratelimit_key *b)
{
	return a->family == b->family && !memcmp(a->b, b->b, sizeof(a->b));
}

static struct wgx_ratelimit_entry *find_or_claim(
	const struct wgx_ratelimit *rl, struct wgx_ratelimit_table *t,
	const struct wgx_ratelimit_key *key, uint64_t now)
{
	uint32_t h = (uint32_t)hash_key(rl->seed, key);
	struct wgx_ratelimit_entry *victim = NULL;

	for (unsigned int i = 0; i < WGX_RATELIMIT_PROBE; i++) {
		struct wgx_ratelimit_entry *e =
			&t->slot[(h + i) & (WGX_RATELIMIT_SLOTS - 1)];

		if (e->used && same_key(&e->key, key))
			return e;
		if (!e->used || now - e->last_ns > NSEC_PER_SEC) {
			if (!victim || victim->used)
				victim = e;
		} else if (!victim ||
			   (victim->used && e->last_ns < victim->last_ns)) {
			victim = e;
		}
	}
	victim->key = *key;
	victim->used = 1;
	victim->last_ns = now;
	victim->tokens = t->cap;
	victim->reported_ns = 0;
	return victim;
}

/* Refill credit for the time since last, then take cost if it is there. */
static bool take(uint64_t *tokens, uint64_t *last_ns, uint64_t cost,
		 uint64_t cap, uint64_t now)
{
	if (now > *last_ns) {
		uint64_t refill = now - *last_ns;

		*tokens = refill >= cap - *tokens ? cap : *tokens + refill;
	}
	*last_ns = now;
	if (*tokens < cost)
		return false;
	*tokens -= cost;
	return true;
}

static void add_offender(struct wgx_ratelimit *rl,
			 const struct wgx_ratelimit_key *key)
{
	unsigned int at = (rl->offender_head + rl->offender_count) %
			  WGX_RATELIMIT_OFFENDERS;

	if (rl->offender_count == WGX_RATELIMIT_OFFENDERS) {
		/* Full: the oldest goes (it was reported long enough). */
		rl->offender_head =
			(rl->offender_head + 1) % WGX_RATELIMIT_OFFENDERS;
		rl->offender_count--;
	}
	rl->offender[at] = *key;
	rl->offender_count++;
}

bool wgx_ratelimit_allow(struct wgx_ratelimit *rl, const uint8_t *addr,
			 unsigned int addr_len, uint64_t now)
{
	struct wgx_ratelimit_table *t = &rl->proven;
	struct wgx_ratelimit_entry *e;
	struct wgx_ratelimit_key key;

	if (!wgx_ratelimit_key(&key, addr, addr_len))
		return false;
	e = find_or_claim(rl, t, &key, now);
	if (take(&e->tokens, &e->last_ns, t->cost, t->cap, now))
		return true;
	if (!e->reported_ns ||
	    now - e->reported_ns >= WGX_RATELIMIT_REPORT_NS) {
		e->reported_ns = now ? now : 1;
		add_offender(rl, &key);
	}
	return false;
}

static bool take_unknown(struct wgx_ratelimit *rl, uint64_t now)
{
	const uint64_t cost = NSEC_PER_SEC / WGX_RATELIMIT_UNKNOWN_PER_SECOND;

	return take(&rl->unknown_tokens, &rl->unknown_last_ns, cost,
		    cost * WGX_RATELIMIT_UNKNOWN_BURST, now);
}

bool wgx_ratelimit_work(struct wgx_ratelimit *rl, const uint8_t *addr,
			unsigned int addr_len, uint64_t now)
{
	struct wgx_ratelimit_table *t = &rl->work;
	struct wgx_ratelimit_entry *e;
	struct wgx_ratelimit_key key;

	if (!wgx_ratelimit_key(&key, addr, addr_len))
		return false;
	e = find_or_claim(rl, t, &key, now);
	if (!take(&e->tokens, &e->last_ns, t->cost, t->cap, now))
		return false;
	if (wgx_ratelimit_known(rl, addr, addr_len) || take_unknown(rl, now))
		return true;
	/* Not done after all: the source keeps what it was charged. */
	e->tokens += t->cost;
	return false;
}

void wgx_ratelimit_did_work(struct wgx_ratelimit *rl, uint64_t now)
{
	if (now - rl->window_ns >= NSEC_PER_SEC / 10) {
		rl->window_ns = now;
		rl->window_work = 0;
	}
	if (++rl->window_work > WGX_RATELIMIT_BUSY_WORK)
		rl->busy_until_ns = now + NSEC_PER_SEC;
}

bool wgx_ratelimit_busy(const struct wgx_ratelimit *rl, uint64_t now)
{
	return now < rl->busy_until_ns;
}

uint32_t wgx_ratelimit_source_hash(const struct wgx_ratelimit *rl,
				   const uint8_t *addr, unsigned int addr_len)
{
	struct wgx_ratelimit_key key;

	if (!wgx_ratelimit_key(&key, addr, addr_len))
		return 0;
	return (uint32_t)hash_key(rl->seed, &key);
}

static uint32_t known_bit(const struct wgx_ratelimit *rl,
			  const struct wgx_ratelimit_key *key)
{
	/* Another hash than the tables' (the seed turned around). */
	return (uint32_t)(hash_key(~rl->seed, key) >> 32) &
	       (WGX_RATELIMIT_KNOWN_BITS - 1);
}

void wgx_ratelimit_learn(struct wgx_ratelimit *rl, const uint8_t *addr,
			 unsigned int addr_len, uint64_t now)
{
	unsigned int cur =
		atomic_load_explicit(&rl->known_cur, memory_order_relaxed);
	struct wgx_ratelimit_key key;
	uint32_t bit;

	if (!wgx_ratelimit_key(&key, addr, addr_len))
		return;
	if (!rl->known_since_ns)
		rl->known_since_ns = now;
	if (now - rl->known_since_ns >=
	    (uint64_t)WGX_RATELIMIT_KNOWN_SECONDS * NSEC_PER_SEC) {
		/* A new generation: the oldest one is forgotten. Readers
		 * see both, so a source learnt in the last one stays. */
		cur ^= 1;
		for (unsigned int i = 0; i < WGX_RATELIMIT_KNOWN_BITS / 64; i++)
			atomic_store_explicit(&rl->known[cur][i], 0,
					      memory_order_relaxed);
		atomic_store_explicit(&rl->known_cur, cur,
				      memory_order_release);
		rl->known_since_ns = now;
	}
	bit = known_bit(rl, &key);
	atomic_fetch_or_explicit(&rl->known[cur][bit / 64], 1ULL << (bit % 64),
				 memory_order_relaxed);
}

bool wgx_ratelimit_known(const struct wgx_ratelimit *rl, const uint8_t *addr,
			 unsigned int addr_len)
{
	struct wgx_ratelimit_key key;
	uint64_t mask;
	uint32_t bit;

	if (!wgx_ratelimit_key(&key, addr, addr_len))
		return false;
	bit = known_bit(rl, &key);
	mask = 1ULL << (bit % 64);
	return (atomic_load_explicit(&rl->known[0][bit / 64],
				     memory_order_relaxed) |
		atomic_load_explicit(&rl->known[1][bit / 64],
				     memory_order_relaxed)) &
	       mask;
}

bool wgx_ratelimit_take_offender(struct wgx_ratelimit *rl,
				 struct wgx_ratelimit_key *key)
{
	if (!rl->offender_count)
		return false;
	*key = rl->offender[rl->offender_head];
	rl->offender_head = (rl->offender_head + 1) % WGX_RATELIMIT_OFFENDERS;
	rl->offender_count--;
	return true;
}
