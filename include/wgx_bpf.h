/* SPDX-License-Identifier: MIT */
/*
 * The contract between the XDP program (bpf/wgxdp.bpf.c) and the agent:
 * map keys and values, stat ids and their names, config flags. Fixed-width
 * types only, so both sides and `bpftool map dump` agree. No secrets: the
 * sessions map holds receiver indices and peer ids, never key material.
 */
#ifndef WGX_BPF_H
#define WGX_BPF_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Names inside the object; pins use the plain names (design.md). */
#define WGX_XDP_PROG_NAME "wgx_xdp"
#define WGX_PIN_ROOT	  "/sys/fs/bpf/wgxdp"

enum wgx_xdp_limits {
	WGX_XDP_MAX_SESSIONS = 65536,
	/* The most the agent sizes the sessions map for (16 Mi entries). */
	WGX_XDP_SESSIONS_LIMIT = 1 << 24,
	WGX_XDP_MAX_QUEUES = 64,
	/*
	 * The largest frame an AF_XDP socket takes: a 4 KiB frame less the
	 * 256 bytes of headroom the kernel keeps in copy mode. A larger one
	 * (a GSO super-packet seen by generic XDP) goes to the stack.
	 */
	WGX_XDP_XSK_FRAME = 4096,
	WGX_XDP_XSK_DATA_MAX = 4096 - 256,
	WGX_XDP_MAX_LOCAL_ADDRS = 256,
	/* Sources the agent denies at once; LRU beyond that. */
	WGX_XDP_MAX_DENY = 16384,
	/* Most sessions with a published receive horizon (the agent sizes
	 * the map to the peers); LRU beyond that (a session without one is
	 * judged by WGX_COUNTER_LIMIT only). */
	WGX_XDP_MAX_HORIZONS = 65536,
};

/* Every verdict and drop reason of the XDP program, packets and bytes.
 * New ones go at the end: the ids are the stats map's keys, which pinned
 * maps and bpftool users keep across versions. */
#define WGX_XDP_STATS_LIST(X)                                                  \
	X(PASS_OTHER, "pass_other")                                            \
	X(PASS_FRAGMENT, "pass_fragment")                                      \
	X(PASS_IPV6_EXT, "pass_ipv6_ext")                                      \
	X(PASS_NOT_LOCAL, "pass_not_local")                                    \
	X(PASS_HANDSHAKE, "pass_handshake")                                    \
	X(PASS_DATA, "pass_data")                                              \
	X(REDIRECT_XSK, "redirect_xsk")                                        \
	X(PASS_LARGE, "pass_large")                                            \
	X(DROP_MALFORMED, "drop_malformed")                                    \
	X(DROP_UNKNOWN_INDEX, "drop_unknown_index")                            \
	X(DROP_FRAGMENT, "drop_fragment")                                      \
	X(DROP_BAD_MAC1, "drop_bad_mac1")                                      \
	X(DROP_DENIED, "drop_denied")                                          \
	X(ABORTED, "aborted")                                                  \
	X(DROP_BAD_COUNTER, "drop_bad_counter")

enum wgx_xdp_stat_id {
#define WGX_XDP_STAT_ENUM(id, name) WGX_XDP_STAT_##id,
	WGX_XDP_STATS_LIST(WGX_XDP_STAT_ENUM)
#undef WGX_XDP_STAT_ENUM
	WGX_XDP_STAT_COUNT,
};

/* stats: per-CPU array, key = enum wgx_xdp_stat_id. */
struct wgx_xdp_counter {
	__u64 packets;
	__u64 bytes;
};

/*
 * sessions: hash, key = the receiver index exactly as the 4 bytes sit in
 * the data message (little-endian on the wire; the agent stores
 * htole32(index)), value = who owns it.
 */
struct wgx_session_key {
	__u32 index_le;
};

struct wgx_session_value {
	__u32 peer_id;
	__u8 slot; /* enum wgx_session_slot */
	__u8 flags;
	__u16 reserved;
};

enum wgx_session_slot {
	WGX_SLOT_HANDSHAKE = 0, /* index announced, keys not derived yet */
	WGX_SLOT_CURRENT = 1,
	WGX_SLOT_PREVIOUS = 2,
	WGX_SLOT_NEXT = 3,
};

/*
 * config: array with one entry, key 0. Runtime settings.
 *
 * mac1_key is HASH("mac1----" || our static public key): every initiation
 * and response sent to us carries MAC(mac1_key, message up to mac1). It
 * is derived from a public key and proves nothing but that the sender
 * knows our public key, so it is not a secret and may sit in a map.
 */
struct wgx_xdp_config {
	__u16 listen_port; /* host byte order; 0: the program passes all */
	__u16 flags;	   /* enum wgx_xdp_flags */
	__u32 reserved;
	__u8 mac1_key[32]; /* valid with WGX_XDP_MAC1 */
};

enum wgx_xdp_flags {
	/* Drop initiations and responses whose mac1 is wrong. */
	WGX_XDP_MAC1 = 1 << 0,
};

/* local_addrs: hash, IFACE's own addresses (value: __u32 1). Also the
 * key of the deny map. addr in network byte order as on the wire; IPv4
 * in the first 4 bytes of addr, the rest zero. Every byte not set must be
 * zero: the maps hash the whole key. */
struct wgx_addr_key {
	__u8 family; /* 4 or 6 */
	__u8 reserved[3];
	__u8 addr[16];
};

/*
 * xsk_queues value, key = RX queue: the AF_XDP socket the agent put in
 * xsks at that key, for bpftool (the kernel hands user space no xskmap
 * values). The program never reads it.
 */
struct wgx_xsk_queue {
	__u32 active;	/* 1: a socket takes this queue's sessions */
	__u32 worker;	/* the worker that owns it */
	__u32 zerocopy; /* 1: zero-copy, 0: copy mode */
	__u32 pad;
};

/*
 * deny: LRU hash, key = a source address (IPv4 /32; IPv6 its /64, the low
 * 8 bytes of addr zero), value = until when its initiations and responses
 * are dropped. Only the agent adds entries, and only for sources that
 * proved they own the address (a valid mac2, i.e. they received our
 * cookie there) and still exceeded their handshake rate: nothing a
 * spoofer can aim at another host. Time is CLOCK_BOOTTIME in ns, the
 * clock of bpf_ktime_get_boot_ns().
 */
struct wgx_deny_value {
	__u64 until_ns;
};

/*
 * rx_horizon: LRU hash, key = struct wgx_session_key, value = where a
 * session's receive counter stood when a worker last published it: after
 * the first message that authenticated, then every WGX_HORIZON_STEP
 * counters, and at least once a second while it moves. Counters are not
 * secret (they travel in the clear), and only authenticated messages move
 * the horizon.
 *
 * The XDP program drops (drop_bad_counter) a data message whose counter
 *   - is behind the replay window of the published next (the window only
 *     moves forward, so the worker would refuse it too), or
 *   - is WGX_HORIZON_AHEAD or more beyond it, plus 1 for every
 *     2^WGX_HORIZON_NS_SHIFT ns since publication (125 million a second):
 *     more than a live session can have moved since.
 * So a flood of bad tags must guess a session's counter within 2^20 to
 * 2^27 (a second's allowance) to cost a decryption. Where a publication
 * fails or lags, the allowance grows with time, faster than any session
 * sends: a stale horizon can drop a burst for milliseconds (a worker that
 * stalled for seconds and publishes its backlog's counter), never lock a
 * session out. No entry (not yet published, evicted from a full map, no
 * XDP): no judgement.
 */
struct wgx_rx_horizon {
	__u64 next;  /* one past the highest counter accepted */
	__u64 at_ns; /* CLOCK_BOOTTIME of the publication */
};

#define WGX_HORIZON_STEP     (1ULL << 16)
#define WGX_HORIZON_AHEAD    (1ULL << 20)
#define WGX_HORIZON_NS_SHIFT 3

/* Bytes of the deny key's address kept for each family. */
enum wgx_deny_prefix {
	WGX_DENY_PREFIX4 = 4,
	WGX_DENY_PREFIX6 = 8,
};

#endif
