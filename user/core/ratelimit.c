// SPDX-License-Identifier: MIT
/*
 * Each entry holds credit measured in nanoseconds: a packet costs one
 * second / PER_SECOND, idle time refills credit up to BURST packets.
 */
#include "core/ratelimit.h"

#include <string.h>

#include "core/crypto.h"

static const uint64_t PACKET_COST = 1000000000ULL / WGX_RATELIMIT_PER_SECOND;
static const uint64_t MAX_TOKENS =
	1000000000ULL / WGX_RATELIMIT_PER_SECOND * WGX_RATELIMIT_BURST;

void wgx_ratelimit_init(struct wgx_ratelimit *rl)
{
	memset(rl, 0, sizeof(*rl));
	/* A secret seed keeps attackers from aiming at one bucket chain. */
	wgx_crypto_random(&rl->seed, sizeof(rl->seed));
}

static void make_key(uint8_t key[8], const uint8_t *addr, unsigned int addr_len)
{
	memset(key, 0, 8);
	if (addr_len == 4) {
		memcpy(key, addr, 4);
		key[7] = 4;
	} else {
		memcpy(key, addr, 8); /* the /64 */
	}
}

static uint32_t hash_key(const struct wgx_ratelimit *rl, const uint8_t key[8])
{
	uint64_t h = rl->seed, k;

	memcpy(&k, key, 8);
	h ^= k;
	h *= 0x9e3779b97f4a7c15ULL;
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 32;
	return (uint32_t)h;
}

static struct wgx_ratelimit_entry *find_or_claim(struct wgx_ratelimit *rl,
						 const uint8_t key[8],
						 uint64_t now)
{
	uint32_t h = hash_key(rl, key);
	struct wgx_ratelimit_entry *victim = NULL;

	for (unsigned int i = 0; i < WGX_RATELIMIT_PROBE; i++) {
		struct wgx_ratelimit_entry *e =
			&rl->slot[(h + i) & (WGX_RATELIMIT_SLOTS - 1)];

		if (e->used && !memcmp(e->key, key, 8))
			return e;
		if (!e->used || now - e->last_ns > 1000000000ULL) {
			if (!victim || victim->used)
				victim = e;
		} else if (!victim ||
			   (victim->used && e->last_ns < victim->last_ns)) {
			victim = e;
		}
	}
	memcpy(victim->key, key, 8);
	victim->used = 1;
	victim->last_ns = now;
	victim->tokens = MAX_TOKENS;
	return victim;
}

bool wgx_ratelimit_allow(struct wgx_ratelimit *rl, const uint8_t *addr,
			 unsigned int addr_len, uint64_t now)
{
	struct wgx_ratelimit_entry *e;
	uint8_t key[8];

	if (addr_len != 4 && addr_len != 16)
		return false;
	make_key(key, addr, addr_len);
	e = find_or_claim(rl, key, now);
	if (now > e->last_ns) {
		uint64_t refill = now - e->last_ns;

		e->tokens = refill >= MAX_TOKENS - e->tokens
				    ? MAX_TOKENS
				    : e->tokens + refill;
	}
	e->last_ns = now;
	if (e->tokens < PACKET_COST)
		return false;
	e->tokens -= PACKET_COST;
	return true;
}
