/* SPDX-License-Identifier: MIT */
/*
 * Per-source limits for handshake messages, the agent's defence against a
 * handshake flood. A source is an IPv4 address or an IPv6 /64 (one host
 * can own a whole /64).
 *
 *  - proven: messages with a valid mac2 (the sender received our cookie
 *    at its address) may come 20 a second with a burst of 5, as the kernel
 *    allows. A source that exceeds it proved its address and still
 *    floods: it is recorded as an offender (for the XDP deny map).
 *  - work: the Diffie-Hellman work done for messages without a cookie.
 *    While the agent is busy, a source within this small budget is
 *    answered at once and one beyond it gets a cookie reply instead: the
 *    load is decided per source, so a flood from some sources never makes
 *    the others wait out a cookie round (a wireguard-go initiator that
 *    gets a cookie waits its full 5 s retry before using it). An attacker
 *    who forges a peer's address can spend that address's budget, which
 *    costs the peer one cookie round: its mac2 then gets it through.
 *  - unknown: sources never seen to authenticate share one more budget
 *    while the agent is busy, so a flood from random (spoofed) sources,
 *    each with a fresh per-source budget, cannot take all the work.
 *  - known: the sources that completed an authenticated handshake, kept
 *    in a bitmap of hashed sources over two generations of 30 minutes.
 *    Only the agent sets bits (after the Noise handshake proved the
 *    peer); the receive path reads them without a lock to keep room in
 *    the handshake queue for known sources (device.c).
 *
 * Fixed memory: a full table forgets its stalest entry rather than
 * growing, so spoofed sources cannot exhaust memory. A secret seed keeps
 * attackers from aiming at one hash chain or bitmap bit. Times are ns of
 * the agent's clock. Everything but wgx_ratelimit_known() is agent-only.
 */
#ifndef WGX_RATELIMIT_H
#define WGX_RATELIMIT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

enum {
	WGX_RATELIMIT_PER_SECOND = 20,
	WGX_RATELIMIT_BURST = 5,
	/* Handshakes answered without a cookie per source, while busy. */
	WGX_RATELIMIT_WORK_PER_SECOND = 4,
	WGX_RATELIMIT_WORK_BURST = 8,
	/* ... and for all unknown sources together. */
	WGX_RATELIMIT_UNKNOWN_PER_SECOND = 500,
	WGX_RATELIMIT_UNKNOWN_BURST = 100,
	/* Busy: more Diffie-Hellman work than this in a window of 100 ms
	 * (500 a second, about 10% of a core) makes the agent busy for a
	 * second, and the per-source budgets apply. */
	WGX_RATELIMIT_BUSY_WORK = 50,
	WGX_RATELIMIT_SLOTS = 8192, /* power of two */
	WGX_RATELIMIT_PROBE = 8,
	WGX_RATELIMIT_KNOWN_BITS = 1 << 20, /* per generation */
	WGX_RATELIMIT_KNOWN_SECONDS = 1800, /* a generation's age */
	WGX_RATELIMIT_OFFENDERS = 64,
	/* An offender is reported again after this long (ns: 500 ms). */
	WGX_RATELIMIT_REPORT_NS = 500000000,
};

/* A source: family 4 with the address in b[0..3], or family 6 with the
 * /64 in b. Every byte not set is zero. */
struct wgx_ratelimit_key {
	uint8_t family;
	uint8_t b[8];
};

struct wgx_ratelimit_entry {
	struct wgx_ratelimit_key key;
	uint8_t used;
	uint64_t last_ns;
	uint64_t tokens;      /* in nanoseconds of credit */
	uint64_t reported_ns; /* last time it went to the offenders */
};

/* Token buckets per source, cost ns of credit each, at most cap. */
struct wgx_ratelimit_table {
	uint64_t cost, cap;
	struct wgx_ratelimit_entry slot[WGX_RATELIMIT_SLOTS];
};

struct wgx_ratelimit {
	uint64_t seed;
	struct wgx_ratelimit_table proven;
	struct wgx_ratelimit_table work;
	uint64_t unknown_tokens, unknown_last_ns;
	/* Work done in the current window, and until when we are busy. */
	uint64_t window_ns, busy_until_ns;
	unsigned int window_work;
	/* known[g]: generation g's bitmap; cur the one bits go to. */
	_Atomic uint64_t known[2][WGX_RATELIMIT_KNOWN_BITS / 64];
	_Atomic unsigned int known_cur;
	uint64_t known_since_ns; /* when the current generation began */
	/* Offenders not taken yet: a ring of keys. */
	struct wgx_ratelimit_key offender[WGX_RATELIMIT_OFFENDERS];
	unsigned int offender_head, offender_count;
};

void wgx_ratelimit_init(struct wgx_ratelimit *rl);

/*
 * The source of addr (4 or 16 bytes); false for another length. IPv6 is
 * grouped by /64.
 */
bool wgx_ratelimit_key(struct wgx_ratelimit_key *key, const uint8_t *addr,
		       unsigned int addr_len);

/*
 * A message with a valid mac2 from addr: true when it may be processed
 * now, false when its source spent its budget; that source is then
 * recorded as an offender (at most once per WGX_RATELIMIT_REPORT_NS).
 */
bool wgx_ratelimit_allow(struct wgx_ratelimit *rl, const uint8_t *addr,
			 unsigned int addr_len, uint64_t now);

/*
 * A message without a (valid) cookie from addr, when the agent is busy:
 * true when its source may have the Diffie-Hellman work done (within its
 * own budget, and for a source never seen to authenticate, within the
 * unknown sources' shared budget too), false when it should get a cookie
 * reply instead. Charges the budgets it took from.
 */
bool wgx_ratelimit_work(struct wgx_ratelimit *rl, const uint8_t *addr,
			unsigned int addr_len, uint64_t now);

/* The agent does the Diffie-Hellman work for one message now. */
void wgx_ratelimit_did_work(struct wgx_ratelimit *rl, uint64_t now);
/* Whether recent work made the agent busy (see WGX_RATELIMIT_BUSY_WORK). */
bool wgx_ratelimit_busy(const struct wgx_ratelimit *rl, uint64_t now);

/*
 * Any thread: a hash of addr's source under the secret seed (to spread
 * sources over the handshake queue's shares).
 */
uint32_t wgx_ratelimit_source_hash(const struct wgx_ratelimit *rl,
				   const uint8_t *addr, unsigned int addr_len);

/* addr completed an authenticated handshake: it is known from now on. */
void wgx_ratelimit_learn(struct wgx_ratelimit *rl, const uint8_t *addr,
			 unsigned int addr_len, uint64_t now);

/*
 * Any thread: whether addr's source completed an authenticated handshake
 * in the last one or two generations. A few unrelated sources share its
 * bit (1 in 2^20 per known source); nothing is ever missed.
 */
bool wgx_ratelimit_known(const struct wgx_ratelimit *rl, const uint8_t *addr,
			 unsigned int addr_len);

/* Take the oldest offender not taken yet; false when there is none. */
bool wgx_ratelimit_take_offender(struct wgx_ratelimit *rl,
				 struct wgx_ratelimit_key *key);

/* The address of a key, 4 or 16 bytes (an IPv6 /64 with a zero host
 * part) into addr; returns its length. */
unsigned int wgx_ratelimit_key_addr(const struct wgx_ratelimit_key *key,
				    uint8_t addr[16]);

#endif
