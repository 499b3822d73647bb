// SPDX-License-Identifier: MIT
/*
 * Replay window as a ring of 64-bit words indexed by counter / 64. When the
 * window slides forward the words it passes are cleared, so the cost of a
 * jump is bounded by the ring size, never by the size of the jump.
 */
#include "core/replay.h"

#include <string.h>

enum {
	WORDS = WGX_REPLAY_BITS / 64,
};

void wgx_replay_init(struct wgx_replay *r)
{
	memset(r, 0, sizeof(*r));
}

bool wgx_replay_check(struct wgx_replay *r, uint64_t counter)
{
	uint64_t c, word, bit;

	if (counter >= WGX_REJECT_AFTER_MESSAGES)
		return false;
	/* Work one past the counter so that 0 means "nothing seen". */
	c = counter + 1;
	if (c + WGX_REPLAY_WINDOW < r->next)
		return false;
	word = c >> 6;
	if (c > r->next) {
		uint64_t current = r->next >> 6, gap = word - current;

		if (gap > WORDS)
			gap = WORDS;
		for (uint64_t i = 1; i <= gap; i++)
			r->bitmap[(current + i) & (WORDS - 1)] = 0;
		r->next = c;
	}
	bit = 1ULL << (c & 63);
	word &= WORDS - 1;
	if (r->bitmap[word] & bit)
		return false;
	r->bitmap[word] |= bit;
	return true;
}
