// SPDX-License-Identifier: MIT
/*
 * mac1, mac2 and cookie replies (whitepaper section 5.4.4 and 5.4.7).
 *
 * Both macs sit at the end of an initiation or a response: mac1 covers the
 * message up to mac1, mac2 covers it up to mac2 (so it includes mac1).
 * Every message with macs carries its sender index right after the header.
 */
#include "core/cookie.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#define NSEC_PER_SEC 1000000000ULL

/* LABEL_MAC1 and LABEL_COOKIE: 8 bytes each, no terminating NUL hashed. */
static const char label_mac1[] = "mac1----";
static const char label_cookie[] = "cookie--";

enum {
	MACS_LEN = sizeof(struct wgx_msg_macs),
	SENDER_INDEX_OFF = sizeof(struct wgx_msg_header),
};

static bool has_macs(size_t len)
{
	return len == WGX_MSG_INITIATION_LEN || len == WGX_MSG_RESPONSE_LEN;
}

static const uint8_t *mac1_of(const uint8_t *msg, size_t len)
{
	return msg + len - MACS_LEN;
}

static const uint8_t *mac2_of(const uint8_t *msg, size_t len)
{
	return msg + len - MACS_LEN / 2;
}

/*
 * True once lifetime_s seconds have passed since birth. A clock that went
 * backwards wraps to a huge age: expired, which fails closed.
 */
static bool has_expired(uint64_t birth, uint64_t now, unsigned int lifetime_s)
{
	return now - birth >= (uint64_t)lifetime_s * NSEC_PER_SEC;
}

static void derive_key(uint8_t key[WGX_KEY_LEN], const char label[8],
		       const uint8_t pub[WGX_KEY_LEN])
{
	wgx_crypto_hash(key, label, 8, pub, WGX_KEY_LEN);
}

static void compute_mac1(uint8_t out[WGX_MAC_LEN], const uint8_t *msg,
			 size_t len, const uint8_t key[WGX_KEY_LEN])
{
	wgx_crypto_mac(out, key, WGX_KEY_LEN, msg, len - MACS_LEN);
}

static void compute_mac2(uint8_t out[WGX_MAC_LEN], const uint8_t *msg,
			 size_t len, const uint8_t cookie[WGX_COOKIE_LEN])
{
	wgx_crypto_mac(out, cookie, WGX_COOKIE_LEN, msg, len - MACS_LEN / 2);
}

static bool src_is_valid(const struct wgx_cookie_src *src)
{
	return src && (src->addr_len == 4 || src->addr_len == 16);
}

/* cookie = MAC(R_m, address bytes || be16 port), as the kernel hashes it. */
static void make_cookie(uint8_t cookie[WGX_COOKIE_LEN],
			const uint8_t secret[WGX_HASH_LEN],
			const struct wgx_cookie_src *src)
{
	uint8_t in[16 + 2];

	memcpy(in, src->addr, src->addr_len);
	in[src->addr_len] = (uint8_t)(src->port >> 8);
	in[src->addr_len + 1] = (uint8_t)src->port;
	wgx_crypto_mac(cookie, secret, WGX_HASH_LEN, in, src->addr_len + 2u);
}

static int src_from_in(struct wgx_cookie_src *src, const struct sockaddr *sa,
		       socklen_t len)
{
	struct sockaddr_in in;

	if (len < sizeof(in))
		return -EINVAL;
	memcpy(&in, sa, sizeof(in));
	memcpy(src->addr, &in.sin_addr, 4);
	src->addr_len = 4;
	src->port = ntohs(in.sin_port);
	return 0;
}

static int src_from_in6(struct wgx_cookie_src *src, const struct sockaddr *sa,
			socklen_t len)
{
	struct sockaddr_in6 in6;

	if (len < sizeof(in6))
		return -EINVAL;
	memcpy(&in6, sa, sizeof(in6));
	if (IN6_IS_ADDR_V4MAPPED(&in6.sin6_addr)) {
		memcpy(src->addr, &in6.sin6_addr.s6_addr[12], 4);
		src->addr_len = 4;
	} else {
		memcpy(src->addr, &in6.sin6_addr, 16);
		src->addr_len = 16;
	}
	src->port = ntohs(in6.sin6_port);
	return 0;
}

int wgx_cookie_src_from_sockaddr(struct wgx_cookie_src *src,
				 const struct sockaddr *sa, socklen_t len)
{
	memset(src, 0, sizeof(*src));
	if (!sa || len < sizeof(sa_family_t))
		return -EINVAL;
	switch (sa->sa_family) {
	case AF_INET:
		return src_from_in(src, sa, len);
	case AF_INET6:
		return src_from_in6(src, sa, len);
	default:
		return -EAFNOSUPPORT;
	}
}

void wgx_cookie_checker_init(struct wgx_cookie_checker *checker)
{
	wgx_crypto_wipe(checker, sizeof(*checker));
}

void wgx_cookie_checker_set_public_key(struct wgx_cookie_checker *checker,
				       const uint8_t pub[WGX_KEY_LEN])
{
	if (!pub) {
		wgx_crypto_wipe(checker->mac1_key, sizeof(checker->mac1_key));
		wgx_crypto_wipe(checker->cookie_key,
				sizeof(checker->cookie_key));
		checker->has_identity = false;
		return;
	}
	derive_key(checker->mac1_key, label_mac1, pub);
	derive_key(checker->cookie_key, label_cookie, pub);
	checker->has_identity = true;
}

void wgx_cookie_checker_wipe(struct wgx_cookie_checker *checker)
{
	wgx_crypto_wipe(checker, sizeof(*checker));
}

bool wgx_cookie_checker_mac1_key(const struct wgx_cookie_checker *checker,
				 uint8_t out[WGX_KEY_LEN])
{
	if (!checker->has_identity) {
		memset(out, 0, WGX_KEY_LEN);
		return false;
	}
	memcpy(out, checker->mac1_key, WGX_KEY_LEN);
	return true;
}

static bool secret_is_fresh(const struct wgx_cookie_checker *checker,
			    uint64_t now)
{
	return checker->has_secret && !has_expired(checker->secret_birth, now,
						   WGX_COOKIE_REFRESH_TIME);
}

enum wgx_cookie_mac_state wgx_cookie_validate(
	const struct wgx_cookie_checker *checker, const void *msg, size_t len,
	const struct wgx_cookie_src *src, bool under_load, uint64_t now)
{
	enum wgx_cookie_mac_state ret = WGX_COOKIE_INVALID_MAC;
	uint8_t computed[WGX_MAC_LEN], cookie[WGX_COOKIE_LEN];
	const uint8_t *m = msg;

	if (!checker->has_identity || !has_macs(len))
		return ret;
	if (under_load && !src_is_valid(src))
		return ret;

	/* mac1 first: it is cheap and proves the sender knows our key. */
	compute_mac1(computed, m, len, checker->mac1_key);
	if (!wgx_crypto_equal(computed, mac1_of(m, len), WGX_MAC_LEN))
		goto out;
	ret = WGX_COOKIE_VALID_MAC_BUT_NO_COOKIE;
	if (!under_load || !secret_is_fresh(checker, now))
		goto out;

	/* mac2 proves the sender can receive at its source address. */
	make_cookie(cookie, checker->secret, src);
	compute_mac2(computed, m, len, cookie);
	if (wgx_crypto_equal(computed, mac2_of(m, len), WGX_MAC_LEN))
		ret = WGX_COOKIE_VALID_MAC_WITH_COOKIE;
out:
	wgx_crypto_wipe(computed, sizeof(computed));
	wgx_crypto_wipe(cookie, sizeof(cookie));
	return ret;
}

int wgx_cookie_create_reply(struct wgx_cookie_checker *checker,
			    struct wgx_msg_cookie_reply *reply, const void *msg,
			    size_t len, const struct wgx_cookie_src *src,
			    uint64_t now)
{
	uint8_t cookie[WGX_COOKIE_LEN];
	const uint8_t *m = msg;
	uint32_t sender_index;

	if (!checker->has_identity)
		return -ENOKEY;
	if (!has_macs(len) || !src_is_valid(src))
		return -EINVAL;

	if (!secret_is_fresh(checker, now)) {
		wgx_crypto_random(checker->secret, sizeof(checker->secret));
		checker->secret_birth = now;
		checker->has_secret = true;
	}
	make_cookie(cookie, checker->secret, src);

	memset(&reply->header, 0, sizeof(reply->header));
	reply->header.type = WGX_MSG_COOKIE_REPLY;
	memcpy(&sender_index, m + SENDER_INDEX_OFF, sizeof(sender_index));
	reply->receiver_index = sender_index;
	wgx_crypto_random(reply->nonce, sizeof(reply->nonce));
	/* The answered mac1 as ad binds the reply to that one message. */
	wgx_crypto_xaead_seal(reply->encrypted_cookie, cookie, sizeof(cookie),
			      mac1_of(m, len), WGX_MAC_LEN, reply->nonce,
			      checker->cookie_key);
	wgx_crypto_wipe(cookie, sizeof(cookie));
	return 0;
}

void wgx_cookie_maker_init(struct wgx_cookie_maker *maker,
			   const uint8_t peer_pub[WGX_KEY_LEN])
{
	wgx_crypto_wipe(maker, sizeof(*maker));
	derive_key(maker->mac1_key, label_mac1, peer_pub);
	derive_key(maker->cookie_key, label_cookie, peer_pub);
}

void wgx_cookie_maker_wipe(struct wgx_cookie_maker *maker)
{
	wgx_crypto_wipe(maker, sizeof(*maker));
}

static bool cookie_is_fresh(const struct wgx_cookie_maker *maker, uint64_t now)
{
	/* Stop early so a cookie never outlives the secret it came from. */
	return maker->has_cookie &&
	       !has_expired(maker->cookie_birth, now,
			    WGX_COOKIE_REFRESH_TIME -
				    WGX_COOKIE_SECRET_LATENCY);
}

int wgx_cookie_add_macs(struct wgx_cookie_maker *maker, void *msg, size_t len,
			uint64_t now)
{
	uint8_t *m = msg, *mac1, *mac2;

	if (!has_macs(len))
		return -EINVAL;
	mac1 = m + len - MACS_LEN;
	mac2 = m + len - MACS_LEN / 2;

	compute_mac1(mac1, m, len, maker->mac1_key);
	memcpy(maker->last_mac1, mac1, WGX_MAC_LEN);
	memcpy(&maker->last_sender_index, m + SENDER_INDEX_OFF,
	       sizeof(maker->last_sender_index));
	maker->has_sent_mac1 = true;

	if (cookie_is_fresh(maker, now))
		compute_mac2(mac2, m, len, maker->cookie);
	else
		memset(mac2, 0, WGX_MAC_LEN);
	return 0;
}

bool wgx_cookie_consume_reply(struct wgx_cookie_maker *maker,
			      const struct wgx_msg_cookie_reply *reply,
			      uint64_t now)
{
	uint8_t cookie[WGX_COOKIE_LEN];
	bool ok;

	if (!maker->has_sent_mac1 ||
	    reply->header.type != WGX_MSG_COOKIE_REPLY ||
	    !wgx_crypto_is_zero(reply->header.reserved,
				sizeof(reply->header.reserved)) ||
	    reply->receiver_index != maker->last_sender_index)
		return false;

	ok = wgx_crypto_xaead_open(cookie, reply->encrypted_cookie,
				   sizeof(reply->encrypted_cookie),
				   maker->last_mac1, WGX_MAC_LEN, reply->nonce,
				   maker->cookie_key);
	if (ok) {
		memcpy(maker->cookie, cookie, sizeof(cookie));
		maker->cookie_birth = now;
		maker->has_cookie = true;
		/* One reply per mac1 sent: a replayed reply is refused. */
		maker->has_sent_mac1 = false;
	}
	wgx_crypto_wipe(cookie, sizeof(cookie));
	return ok;
}
