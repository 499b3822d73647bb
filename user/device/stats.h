/* SPDX-License-Identifier: MIT */
/*
 * Datapath counters of the userspace side: every verdict and drop reason
 * has its own id and name (shown by `wgxdp show`). Updated with relaxed
 * atomic adds, once per packet at most, by whichever thread saw it.
 */
#ifndef WGX_STATS_H
#define WGX_STATS_H

#include <stdatomic.h>
#include <stdint.h>

#define WGX_STATS_LIST(X)                                                      \
	X(RX_DATA, "rx_data")                                                  \
	X(RX_KEEPALIVE, "rx_keepalive")                                        \
	X(RX_HANDSHAKE, "rx_handshake")                                        \
	X(TX_DATA, "tx_data")                                                  \
	X(TX_KEEPALIVE, "tx_keepalive")                                        \
	X(TX_HANDSHAKE, "tx_handshake")                                        \
	X(TX_COOKIE_REPLY, "tx_cookie_reply")                                  \
	X(TX_GSO_REFUSED, "tx_gso_refused")                                    \
	X(TX_XSK, "tx_xsk")                                                    \
	X(TX_SOCKET_NO_NEXTHOP, "tx_socket_no_nexthop")                        \
	X(TX_SOCKET_OTHER_IFACE, "tx_socket_other_iface")                      \
	X(TX_SOCKET_RING_FULL, "tx_socket_ring_full")                          \
	X(TX_SOCKET_TOO_BIG, "tx_socket_too_big")                              \
	X(XDP_HORIZON_FAILED, "xdp_horizon_failed")                            \
	X(DROP_MALFORMED, "drop_malformed")                                    \
	X(DROP_UNKNOWN_INDEX, "drop_unknown_index")                            \
	X(DROP_BAD_TAG, "drop_bad_tag")                                        \
	X(DROP_BAD_COUNTER, "drop_bad_counter")                                \
	X(DROP_REPLAY, "drop_replay")                                          \
	X(DROP_EXPIRED_KEY, "drop_expired_key")                                \
	X(DROP_BAD_INNER, "drop_bad_inner")                                    \
	X(DROP_ALLOWEDIPS, "drop_allowedips")                                  \
	X(DROP_NO_ROUTE, "drop_no_route")                                      \
	X(DROP_NO_ENDPOINT, "drop_no_endpoint")                                \
	X(DROP_HANDSHAKE_INVALID, "drop_handshake_invalid")                    \
	X(DROP_HANDSHAKE_RATELIMIT, "drop_handshake_ratelimit")                \
	X(DROP_HANDSHAKE_QUEUE_FULL, "drop_handshake_queue_full")              \
	X(DROP_STAGED_OVERFLOW, "drop_staged_overflow")                        \
	X(DROP_SEND_ERROR, "drop_send_error")                                  \
	X(DROP_TUN_ERROR, "drop_tun_error")                                    \
	X(DROP_STAGED_GAVE_UP, "drop_staged_gave_up")                          \
	X(STAGED, "staged")                                                    \
	X(HANDSHAKE_GAVE_UP, "handshake_gave_up")                              \
	X(KEYS_WIPED, "keys_wiped")

enum wgx_stat_id {
#define WGX_STAT_ENUM(id, name) WGX_STAT_##id,
	WGX_STATS_LIST(WGX_STAT_ENUM)
#undef WGX_STAT_ENUM
	WGX_STAT_COUNT,
};

struct wgx_stats {
	_Atomic uint64_t packets[WGX_STAT_COUNT];
	_Atomic uint64_t bytes[WGX_STAT_COUNT];
};

static inline void wgx_stats_add(struct wgx_stats *s, enum wgx_stat_id id,
				 uint64_t bytes)
{
	atomic_fetch_add_explicit(&s->packets[id], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&s->bytes[id], bytes, memory_order_relaxed);
}

const char *wgx_stats_name(enum wgx_stat_id id);

#endif
