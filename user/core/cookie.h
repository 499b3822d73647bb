/* SPDX-License-Identifier: MIT */
/*
 * The denial-of-service defence of WireGuard (protocol.md "MACs and
 * cookies"), split as in the Linux driver:
 *
 *  - a cookie checker per device, on the receiving side: checks mac1 with
 *    our static public key, checks mac2 against the cookie of the source
 *    address when the caller is under load, and builds cookie replies;
 *  - a cookie maker per peer, on the sending side: writes mac1 (and mac2
 *    while it holds a fresh cookie) into outgoing handshake messages and
 *    takes the cookie out of a reply that answers the last one.
 *
 * Whether the device is under load is the caller's decision, passed in.
 * Rate limiting of messages carrying a valid mac2 is the caller's job too
 * (a per-source limiter applied on WGX_COOKIE_VALID_MAC_WITH_COOKIE).
 *
 * Time is always an argument: nanoseconds of CLOCK_BOOTTIME. Nothing here
 * reads a clock, takes a lock or allocates; the agent's event loop owns
 * both objects. The owner places them in sodium_malloc'd memory (the device
 * and peer structs, which hold keys anyway); the _wipe functions clear every
 * byte, secrets included.
 */
#ifndef WGX_COOKIE_H
#define WGX_COOKIE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/crypto.h"
#include "wgx_wire.h"

/*
 * The outer source of a handshake message, which a cookie is bound to. As
 * the kernel does, the cookie hashes the address in network byte order (4
 * bytes for IPv4, 16 for IPv6) then the UDP port big-endian.
 */
struct wgx_cookie_src {
	uint8_t addr[16];
	uint8_t addr_len; /* 4 or 16 */
	uint16_t port;	  /* host byte order */
};

/* Receiving side, one per device. Fields are private to cookie.c. */
struct wgx_cookie_checker {
	uint8_t mac1_key[WGX_KEY_LEN];	 /* HASH("mac1----" || our public) */
	uint8_t cookie_key[WGX_KEY_LEN]; /* HASH("cookie--" || our public) */
	uint8_t secret[WGX_HASH_LEN];	 /* R_m */
	uint64_t secret_birth;		 /* ns */
	bool has_identity;
	bool has_secret;
};

/* Sending side, one per peer. Fields are private to cookie.c. */
struct wgx_cookie_maker {
	uint8_t mac1_key[WGX_KEY_LEN];	 /* HASH("mac1----" || peer public) */
	uint8_t cookie_key[WGX_KEY_LEN]; /* HASH("cookie--" || peer public) */
	uint8_t cookie[WGX_COOKIE_LEN];
	uint64_t cookie_birth; /* ns */
	uint8_t last_mac1[WGX_MAC_LEN];
	uint32_t last_sender_index; /* raw little-endian, as on the wire */
	bool has_cookie;
	bool has_sent_mac1;
};

enum wgx_cookie_mac_state {
	WGX_COOKIE_INVALID_MAC,
	/* mac1 good; mac2 absent, wrong, or not checked (not under load). */
	WGX_COOKIE_VALID_MAC_BUT_NO_COOKIE,
	/* mac1 good and, under load, mac2 good for this source. */
	WGX_COOKIE_VALID_MAC_WITH_COOKIE,
};

/*
 * 0, -EINVAL on a short length, -EAFNOSUPPORT unless AF_INET/AF_INET6. An
 * IPv4-mapped IPv6 address becomes the 4-byte IPv4 address, so a dual-stack
 * socket and the XDP path (which sees the IPv4 header) agree on cookies.
 */
int wgx_cookie_src_from_sockaddr(struct wgx_cookie_src *src,
				 const struct sockaddr *sa, socklen_t len);

/* No identity (validation fails closed) and no secret yet. */
void wgx_cookie_checker_init(struct wgx_cookie_checker *checker);
/* Derive the keys from our static public key; NULL when we have none. */
void wgx_cookie_checker_set_public_key(struct wgx_cookie_checker *checker,
				       const uint8_t pub[WGX_KEY_LEN]);
void wgx_cookie_checker_wipe(struct wgx_cookie_checker *checker);
/*
 * The mac1 key (derived from our public key, not a secret) into out, for
 * a check of mac1 ahead of the agent (the XDP program). false, and out
 * zeroed, while there is no identity.
 */
bool wgx_cookie_checker_mac1_key(const struct wgx_cookie_checker *checker,
				 uint8_t out[WGX_KEY_LEN]);

/*
 * Check the macs of a handshake initiation or response (len 148 or 92; any
 * other length, or no identity, gives WGX_COOKIE_INVALID_MAC). mac2 is only
 * checked when under_load; a secret older than COOKIE_REFRESH_TIME makes
 * every mac2 invalid. src is only read when under_load.
 */
WGX_MUST_CHECK enum wgx_cookie_mac_state wgx_cookie_validate(
	const struct wgx_cookie_checker *checker, const void *msg, size_t len,
	const struct wgx_cookie_src *src, bool under_load, uint64_t now);

/*
 * Answer msg (an initiation or response whose mac1 validated) with a cookie
 * for src; renews R_m first when it is older than COOKIE_REFRESH_TIME.
 * 0, -EINVAL on a bad length or src, -ENOKEY without identity.
 */
int wgx_cookie_create_reply(struct wgx_cookie_checker *checker,
			    struct wgx_msg_cookie_reply *reply, const void *msg,
			    size_t len, const struct wgx_cookie_src *src,
			    uint64_t now);

/* peer_pub is the remote peer's static public key. */
void wgx_cookie_maker_init(struct wgx_cookie_maker *maker,
			   const uint8_t peer_pub[WGX_KEY_LEN]);
void wgx_cookie_maker_wipe(struct wgx_cookie_maker *maker);

/*
 * Fill mac1 and mac2 of an outgoing initiation or response (len 148 or 92;
 * else -EINVAL and nothing changes) and remember mac1 for the reply. mac2
 * uses the held cookie while it is younger than COOKIE_REFRESH_TIME -
 * COOKIE_SECRET_LATENCY, else it is 16 zero bytes. Returns 0.
 */
int wgx_cookie_add_macs(struct wgx_cookie_maker *maker, void *msg, size_t len,
			uint64_t now);

/*
 * Take the cookie from a reply to the last message we sent: its receiver
 * index must be that message's sender index and it must decrypt with that
 * message's mac1 as associated data. Each sent mac1 accepts one reply. On
 * false nothing changes.
 */
WGX_MUST_CHECK bool wgx_cookie_consume_reply(
	struct wgx_cookie_maker *maker,
	const struct wgx_msg_cookie_reply *reply, uint64_t now);

#endif
