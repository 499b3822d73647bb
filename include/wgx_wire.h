/* SPDX-License-Identifier: MIT */
/*
 * WireGuard wire format and protocol constants, shared by the XDP program
 * and userspace. Fixed-width types only; all integers little-endian on the
 * wire. The header is one type byte and three zero bytes; the receiver
 * compares the whole first word, so non-zero reserved bytes are invalid.
 */
#ifndef WGX_WIRE_H
#define WGX_WIRE_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

enum wgx_msg_type {
	WGX_MSG_INITIATION = 1,
	WGX_MSG_RESPONSE = 2,
	WGX_MSG_COOKIE_REPLY = 3,
	WGX_MSG_DATA = 4,
};

enum wgx_sizes {
	WGX_KEY_LEN = 32,
	WGX_HASH_LEN = 32,
	WGX_MAC_LEN = 16,
	WGX_TAG_LEN = 16,
	WGX_COOKIE_LEN = 16,
	WGX_COOKIE_NONCE_LEN = 24,
	WGX_TAI64N_LEN = 12,
	WGX_MSG_INITIATION_LEN = 148,
	WGX_MSG_RESPONSE_LEN = 92,
	WGX_MSG_COOKIE_REPLY_LEN = 64,
	WGX_MSG_DATA_MIN_LEN = 32,
	WGX_DATA_HEADER_LEN = 16,
	WGX_DEFAULT_MTU = 1420,
	WGX_DEFAULT_PORT = 51820,
	/* 8192 bits minus one word, as the kernel and wireguard-go use. */
	WGX_REPLAY_BITS = 8192,
	WGX_REPLAY_WINDOW = 8192 - 64,
};

/* Seconds, from the whitepaper section 6; see docs/protocol notes. */
enum wgx_timer_consts {
	WGX_REKEY_AFTER_TIME = 120,
	WGX_REJECT_AFTER_TIME = 180,
	WGX_REKEY_ATTEMPT_TIME = 90,
	WGX_REKEY_TIMEOUT = 5,
	WGX_REKEY_TIMEOUT_JITTER_MS = 334,
	WGX_KEEPALIVE_TIMEOUT = 10,
	WGX_COOKIE_REFRESH_TIME = 120,
	WGX_COOKIE_SECRET_LATENCY = 5,
	WGX_INITIATIONS_PER_SECOND = 50,
	WGX_MAX_TIMER_HANDSHAKES = 90 / 5, /* REKEY_ATTEMPT / REKEY_TIMEOUT */
};

#define WGX_REKEY_AFTER_MESSAGES  (1ULL << 60)
#define WGX_REJECT_AFTER_MESSAGES (~0ULL - (1ULL << 13))

/*
 * No data message of a live session carries a counter this high: counters
 * start at 0 with each session, go up by one per message, and a session
 * lives at most REJECT_AFTER_TIME (180 s). Reaching 2^40 would take six
 * billion messages a second for those 180 s, ten times what a 400 Gbit/s
 * link carries in minimum-size frames. So a counter at or above it is
 * proven bad before any decryption: the XDP program drops it
 * (drop_bad_counter) and so do the workers, which turns a flood of bad
 * tags with random counters into a cheap drop. The protocol core
 * (core/transport.c) keeps the whitepaper's REJECT_AFTER_MESSAGES limit.
 */
#define WGX_COUNTER_LIMIT (1ULL << 40)

struct wgx_msg_header {
	__u8 type;
	__u8 reserved[3];
} __attribute__((packed));

struct wgx_msg_macs {
	__u8 mac1[16];
	__u8 mac2[16];
} __attribute__((packed));

struct wgx_msg_initiation {
	struct wgx_msg_header header;
	__le32 sender_index;
	__u8 ephemeral[32];
	__u8 encrypted_static[32 + 16];
	__u8 encrypted_timestamp[12 + 16];
	struct wgx_msg_macs macs;
} __attribute__((packed));

struct wgx_msg_response {
	struct wgx_msg_header header;
	__le32 sender_index;
	__le32 receiver_index;
	__u8 ephemeral[32];
	__u8 encrypted_nothing[16];
	struct wgx_msg_macs macs;
} __attribute__((packed));

struct wgx_msg_cookie_reply {
	struct wgx_msg_header header;
	__le32 receiver_index;
	__u8 nonce[24];
	__u8 encrypted_cookie[16 + 16];
} __attribute__((packed));

struct wgx_msg_data {
	struct wgx_msg_header header;
	__le32 receiver_index;
	__le64 counter;
	__u8 encrypted[];
} __attribute__((packed));

_Static_assert(sizeof(struct wgx_msg_initiation) == 148, "initiation size");
_Static_assert(sizeof(struct wgx_msg_response) == 92, "response size");
_Static_assert(sizeof(struct wgx_msg_cookie_reply) == 64, "cookie size");
_Static_assert(sizeof(struct wgx_msg_data) + 16 == 32, "data minimum size");

#endif
