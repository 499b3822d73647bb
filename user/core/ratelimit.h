/* SPDX-License-Identifier: MIT */
/*
 * Per-source-address token bucket for handshake messages under load
 * (protocol.md: about 20 per second per address with a small burst, as the
 * kernel allows). IPv6 sources are grouped by /64, since one host can own
 * a whole /64. Fixed memory: a full table forgets the stalest entry rather
 * than growing, so a flood of spoofed sources cannot exhaust memory.
 */
#ifndef WGX_RATELIMIT_H
#define WGX_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

enum {
	WGX_RATELIMIT_PER_SECOND = 20,
	WGX_RATELIMIT_BURST = 5,
	WGX_RATELIMIT_SLOTS = 8192, /* power of two */
	WGX_RATELIMIT_PROBE = 8,
};

struct wgx_ratelimit_entry {
	uint8_t key[8];
	uint8_t used;
	uint64_t last_ns;
	uint64_t tokens; /* in nanoseconds of credit */
};

struct wgx_ratelimit {
	uint64_t seed;
	struct wgx_ratelimit_entry slot[WGX_RATELIMIT_SLOTS];
};

void wgx_ratelimit_init(struct wgx_ratelimit *rl);
/*
 * addr is 4 (IPv4) or 16 (IPv6) bytes. True when a packet from addr may be
 * processed now; false when its budget is spent.
 */
bool wgx_ratelimit_allow(struct wgx_ratelimit *rl, const uint8_t *addr,
			 unsigned int addr_len, uint64_t now);

#endif
