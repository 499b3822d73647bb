/* SPDX-License-Identifier: MIT */
/*
 * The WireGuard message header check: the first word is the type with
 * three zero reserved bytes, and each type has its exact size (data
 * messages a minimum; a full-size one is not a multiple of 16 because
 * padding stops at the MTU).
 */
#ifndef WGX_WIREGUARD_BPF_H
#define WGX_WIREGUARD_BPF_H

#include "common.bpf.h"

/* The first 8 bytes of every message: type word, then for data messages
 * the receiver index (the sender index for an initiation). */
struct wgx_wg_prefix {
	__le32 word;
	__le32 index;
};

/* A data message's header: type word, receiver index, counter. The
 * counter is read as two 32-bit halves: over IPv4 it sits at an offset
 * that is not a multiple of 8, which a strict-alignment verifier refuses
 * for a 64-bit load. */
struct wgx_wg_data_head {
	__le32 word;
	__le32 index;
	__le32 counter_lo;
	__le32 counter_hi;
};

static __always_inline __u64 wgx_counter(const struct wgx_wg_data_head *h)
{
	return (__u64)wgx_le32_to_cpu(h->counter_hi) << 32 |
	       wgx_le32_to_cpu(h->counter_lo);
}

/* Whether a data message's counter is one no session reaches
 * (WGX_COUNTER_LIMIT): proven bad without the key. */
static __always_inline bool wgx_counter_impossible(__u64 counter)
{
	return counter >= WGX_COUNTER_LIMIT;
}

/* Returns the message type, or 0 when the word or the size is wrong.
 * len is the UDP payload length. */
static __always_inline __u32 wgx_wg_type(__le32 word, __u32 len)
{
	switch (wgx_le32_to_cpu(word)) {
	case WGX_MSG_INITIATION:
		return len == WGX_MSG_INITIATION_LEN ? WGX_MSG_INITIATION : 0;
	case WGX_MSG_RESPONSE:
		return len == WGX_MSG_RESPONSE_LEN ? WGX_MSG_RESPONSE : 0;
	case WGX_MSG_COOKIE_REPLY:
		return len == WGX_MSG_COOKIE_REPLY_LEN ? WGX_MSG_COOKIE_REPLY
						       : 0;
	case WGX_MSG_DATA:
		return len >= WGX_MSG_DATA_MIN_LEN ? WGX_MSG_DATA : 0;
	default:
		return 0;
	}
}

#endif
