// SPDX-License-Identifier: MIT
/*
 * Data messages, after the kernel's send.c/receive.c: pad, claim a
 * counter, seal; check the header, decrypt, only then consult the replay
 * window, and trim the padding by the inner IP header's own length.
 */
#include "core/transport.h"
#include "core/timers.h"

#include <errno.h>
#include <string.h>

enum {
	PADDING_MULTIPLE = 16,
	MAX_INNER = 65535,
	IPV4_HEADER_LEN = 20,
	IPV6_HEADER_LEN = 40,
};

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t get_le64(const uint8_t *p)
{
	return (uint64_t)get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

/* The kernel's wg_birthdate_has_expired(): expired once birth + s <= now. */
static bool older_than(const struct wgx_keypair *kp, uint64_t seconds,
		       uint64_t now_ns)
{
	/* Protocol time, which a test build may shrink (timers.h). */
	return kp->birth_ns + wgx_timers_seconds((unsigned int)seconds) <=
	       now_ns;
}

size_t wgx_transport_wire_len(size_t len, uint32_t mtu)
{
	size_t padded = (len + PADDING_MULTIPLE - 1) & ~(size_t)15;

	/* A full-size packet is not rounded past the MTU. */
	if (padded > mtu && len <= mtu)
		padded = mtu;
	return WGX_DATA_HEADER_LEN + padded + WGX_TAG_LEN;
}

/*
 * Claim the next counter without ever moving past REJECT_AFTER_MESSAGES:
 * a fetch-add would keep counting on refused sends and, 2^13 refusals
 * later, wrap to 0 and reuse nonces.
 */
static bool claim_counter(struct wgx_keypair *kp, uint64_t *counter)
{
	uint64_t c =
		atomic_load_explicit(&kp->send_counter, memory_order_relaxed);

	do {
		if (c >= WGX_REJECT_AFTER_MESSAGES)
			return false;
	} while (!atomic_compare_exchange_weak_explicit(
		&kp->send_counter, &c, c + 1, memory_order_relaxed,
		memory_order_relaxed));
	*counter = c;
	return true;
}

int wgx_transport_seal_claim(struct wgx_keypair *kp, uint64_t now_ns,
			     uint64_t *counter)
{
	if (older_than(kp, WGX_REJECT_AFTER_TIME, now_ns))
		return -EKEYEXPIRED;
	if (!claim_counter(kp, counter))
		return -EKEYREJECTED;
	return 0;
}

int wgx_transport_seal_at(struct wgx_aead *aead, const struct wgx_keypair *kp,
			  uint64_t counter, const uint8_t *inner, size_t len,
			  uint32_t mtu, uint8_t *out, size_t out_cap)
{
	uint8_t *payload = out + WGX_DATA_HEADER_LEN;
	size_t wire, padded;

	if (len > mtu || mtu > MAX_INNER)
		return -EMSGSIZE;
	wire = wgx_transport_wire_len(len, mtu);
	if (out_cap < wire)
		return -ENOBUFS;
	put_le32(out, WGX_MSG_DATA);
	put_le32(out + 4, kp->remote_index);
	put_le64(out + 8, counter);
	padded = wire - WGX_DATA_HEADER_LEN - WGX_TAG_LEN;
	if (inner != payload && len)
		memmove(payload, inner, len);
	memset(payload + len, 0, padded - len);
	if (wgx_aead_seal(aead, payload, payload, padded, counter,
			  kp->send_key) < 0)
		return -EIO;
	return (int)wire;
}

int wgx_transport_seal(struct wgx_aead *aead, struct wgx_keypair *kp,
		       const uint8_t *inner, size_t len, uint32_t mtu,
		       uint8_t *out, size_t out_cap, uint64_t now_ns)
{
	uint64_t counter;
	int ret;

	if (len > mtu || mtu > MAX_INNER)
		return -EMSGSIZE;
	if (out_cap < wgx_transport_wire_len(len, mtu))
		return -ENOBUFS;
	ret = wgx_transport_seal_claim(kp, now_ns, &counter);
	if (ret)
		return ret;
	return wgx_transport_seal_at(aead, kp, counter, inner, len, mtu, out,
				     out_cap);
}

/* Inner length by the IP header, as the kernel trims; or a drop reason. */
static int inner_len(const uint8_t *p, size_t len)
{
	size_t stated;

	if (len >= IPV4_HEADER_LEN && p[0] >> 4 == 4) {
		stated = (size_t)p[2] << 8 | p[3];
		if (stated < IPV4_HEADER_LEN)
			return -EOVERFLOW;
	} else if (len >= IPV6_HEADER_LEN && p[0] >> 4 == 6) {
		stated = ((size_t)p[4] << 8 | p[5]) + IPV6_HEADER_LEN;
	} else {
		return -EPROTONOSUPPORT;
	}
	if (stated > len)
		return -EOVERFLOW;
	return (int)stated;
}

int wgx_transport_open_check(const struct wgx_keypair *kp, const uint8_t *msg,
			     size_t len, uint64_t now_ns)
{
	if (len < WGX_MSG_DATA_MIN_LEN)
		return -EINVAL;
	/* The whole first word, so non-zero reserved bytes are refused too. */
	if (get_le32(msg) != WGX_MSG_DATA)
		return -EPROTO;
	if (get_le32(msg + 4) != kp->local_index)
		return -ENOKEY;
	if (older_than(kp, WGX_REJECT_AFTER_TIME, now_ns))
		return -EKEYEXPIRED;
	if (get_le64(msg + 8) >= WGX_REJECT_AFTER_MESSAGES)
		return -ERANGE;
	return 0;
}

bool wgx_transport_decrypt(struct wgx_aead *aead, const struct wgx_keypair *kp,
			   uint8_t *msg, size_t len)
{
	return wgx_aead_open(
		aead, msg + WGX_DATA_HEADER_LEN, msg + WGX_DATA_HEADER_LEN,
		len - WGX_DATA_HEADER_LEN, get_le64(msg + 8), kp->recv_key);
}

int wgx_transport_open_finish(struct wgx_keypair *kp, const uint8_t *msg,
			      size_t len)
{
	size_t plain_len = len - WGX_MSG_DATA_MIN_LEN;

	/* replay.next is one past the highest counter accepted. */
	if (kp->replay.next >= WGX_REJECT_AFTER_MESSAGES)
		return -EKEYREJECTED;
	if (!wgx_replay_check(&kp->replay, get_le64(msg + 8)))
		return -EALREADY;
	if (!plain_len)
		return 0;
	return inner_len(msg + WGX_DATA_HEADER_LEN, plain_len);
}

int wgx_transport_open(struct wgx_aead *aead, struct wgx_keypair *kp,
		       const uint8_t *msg, size_t len, uint8_t *out,
		       size_t out_cap, uint64_t now_ns)
{
	size_t plain_len;
	uint64_t counter;
	int ret;

	ret = wgx_transport_open_check(kp, msg, len, now_ns);
	if (ret < 0)
		return ret;
	if (kp->replay.next >= WGX_REJECT_AFTER_MESSAGES)
		return -EKEYREJECTED;
	plain_len = len - WGX_MSG_DATA_MIN_LEN;
	if (out_cap < plain_len)
		return -ENOBUFS;
	counter = get_le64(msg + 8);
	if (!wgx_aead_open(aead, out, msg + WGX_DATA_HEADER_LEN,
			   len - WGX_DATA_HEADER_LEN, counter, kp->recv_key))
		return -EBADMSG;
	if (!wgx_replay_check(&kp->replay, counter))
		return -EALREADY;
	if (!plain_len)
		return 0;
	return inner_len(out, plain_len);
}

bool wgx_transport_rekey_on_send(const struct wgx_keypair *kp, uint64_t now_ns)
{
	uint64_t next =
		atomic_load_explicit(&kp->send_counter, memory_order_relaxed);

	return next > WGX_REKEY_AFTER_MESSAGES ||
	       (kp->initiator && older_than(kp, WGX_REKEY_AFTER_TIME, now_ns));
}

bool wgx_transport_rekey_on_recv(const struct wgx_keypair *kp, uint64_t now_ns)
{
	return kp->initiator &&
	       older_than(kp,
			  WGX_REJECT_AFTER_TIME - WGX_KEEPALIVE_TIMEOUT -
				  WGX_REKEY_TIMEOUT,
			  now_ns);
}

bool wgx_transport_rekey_ask_due(struct wgx_keypair *kp, uint64_t now_ns)
{
	uint64_t last =
		atomic_load_explicit(&kp->rekey_asked_ns, memory_order_relaxed);

	if (last && now_ns - last < 1000000000ULL)
		return false;
	return atomic_compare_exchange_strong(&kp->rekey_asked_ns, &last,
					      now_ns);
}
