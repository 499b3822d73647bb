// SPDX-License-Identifier: MIT
/* ICMP / ICMPv6 "no route to host" answers; see icmp.h. */
#include "datapath/icmp.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "datapath/ippkt.h"

enum {
	ICMP_HDR_LEN = 8, /* type, code, checksum, 4 unused bytes */
	IP4_ANSWER_HDRS = WGX_IPPKT_IP4_HDR_LEN + ICMP_HDR_LEN,
	IP6_ANSWER_HDRS = WGX_IPPKT_IP6_HDR_LEN + ICMP_HDR_LEN,
	PROTO_ICMP = 1,
	PROTO_ICMPV6 = 58,
	/* IPv6 extension headers skipped on the way to the upper layer. */
	PROTO_HOPOPTS = 0,
	PROTO_ROUTING = 43,
	PROTO_FRAGMENT = 44,
	PROTO_AH = 51,
	PROTO_DSTOPTS = 60,
	IP4_DF = 0x4000,
	IP4_FRAG_OFFSET = 0x1fff,
	IP6_FRAG_OFFSET = 0xfff8,
	/* RFC 1812 4.3.2.5: the original TOS, precedence internetwork control. */
	IP4_TOS_MASK = 0x1e,
	IP4_PREC_INTERNETCONTROL = 0xc0,
	/* Highest ICMP type Linux knows; it treats higher ones as errors. */
	ICMP4_MAX_KNOWN_TYPE = 18,
	/* RFC 4443 2.1: types 0-127 are errors, 128-255 informational. */
	ICMP6_INFO_MIN = 128,
};

static inline uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline size_t min_size(size_t a, size_t b)
{
	return a < b ? a : b;
}

/* A single host: not 0/8, loopback, multicast, class E or broadcast. */
static bool ip4_unicast(const uint8_t *a)
{
	return a[0] != 0 && a[0] != 127 && a[0] < 224;
}

/* A single host: not ::, ::1 or ff00::/8. */
static bool ip6_unicast(const uint8_t *a)
{
	static const uint8_t zero[15];

	if (a[0] == 0xff)
		return false;
	return memcmp(a, zero, sizeof(zero)) != 0 || a[15] > 1;
}

static bool icmp4_is_error(uint8_t type)
{
	switch (type) {
	case 3:	 /* destination unreachable */
	case 4:	 /* source quench */
	case 5:	 /* redirect */
	case 11: /* time exceeded */
	case 12: /* parameter problem */
		return true;
	default:
		return type > ICMP4_MAX_KNOWN_TYPE;
	}
}

static int check4(const uint8_t *p, const struct wgx_ippkt_info *in)
{
	if (get_be16(p + 6) & IP4_FRAG_OFFSET)
		return -EPERM;
	if (!ip4_unicast(in->saddr) || !ip4_unicast(in->daddr))
		return -EPERM;
	if (in->proto == PROTO_ICMP &&
	    (in->tot_len <= in->hdr_len || icmp4_is_error(p[in->hdr_len])))
		return -EPERM;
	return 0;
}

/*
 * The offset of the upper-layer header past IPv6 extension headers, with
 * its protocol in *proto; -1 when it cannot be told: a fragment other than
 * the first, or an extension header whose first bytes are missing (as
 * Linux's ipv6_skip_exthdr()). The offset returned may lie at or past tot.
 * Each step advances at least 8 bytes, so the walk ends.
 */
static long upper_layer6(const uint8_t *p, size_t tot, uint8_t *proto)
{
	size_t off = WGX_IPPKT_IP6_HDR_LEN, len;
	uint8_t next = p[6];

	for (;;) {
		switch (next) {
		case PROTO_HOPOPTS:
		case PROTO_ROUTING:
		case PROTO_DSTOPTS:
			if (off + 2 > tot)
				return -1;
			len = ((size_t)p[off + 1] + 1) * 8;
			break;
		case PROTO_FRAGMENT:
			if (off + 8 > tot ||
			    (get_be16(p + off + 2) & IP6_FRAG_OFFSET))
				return -1;
			len = 8;
			break;
		case PROTO_AH:
			if (off + 2 > tot)
				return -1;
			len = ((size_t)p[off + 1] + 2) * 4;
			break;
		default:
			*proto = next;
			return (long)off;
		}
		next = p[off];
		off += len;
	}
}

static int check6(const uint8_t *p, const struct wgx_ippkt_info *in)
{
	uint8_t proto = 0;
	long off;

	if (!ip6_unicast(in->saddr) || !ip6_unicast(in->daddr))
		return -EPERM;
	/* Like Linux, answer what cannot be identified as an ICMPv6 error. */
	off = upper_layer6(p, in->tot_len, &proto);
	if (off < 0 || proto != PROTO_ICMPV6)
		return 0;
	if ((size_t)off >= in->tot_len || p[off] < ICMP6_INFO_MIN)
		return -EPERM;
	return 0;
}

/*
 * Addresses and TOS are copied before the quote is moved into place, so out
 * may overlap orig.
 */
static int build4(const uint8_t *orig, const struct wgx_ippkt_info *in,
		  const uint8_t *src_addr, uint8_t *out, size_t out_cap)
{
	size_t quote =
		min_size(in->tot_len, WGX_ICMP4_MAX_LEN - IP4_ANSWER_HDRS);
	size_t n = IP4_ANSWER_HDRS + quote;
	uint8_t src[4], dst[4], tos = orig[1];
	uint16_t csum;
	int err;

	if (src_addr && !ip4_unicast(src_addr))
		return -EINVAL;
	err = check4(orig, in);
	if (err)
		return err;
	if (out_cap < n)
		return -ENOSPC;
	memcpy(src, src_addr ? src_addr : in->daddr, 4);
	memcpy(dst, in->saddr, 4);

	memmove(out + IP4_ANSWER_HDRS, orig, quote);
	out[0] = 0x45;
	out[1] = (tos & IP4_TOS_MASK) | IP4_PREC_INTERNETCONTROL;
	put_be16(out + 2, (uint16_t)n);
	put_be16(out + 4, 0);
	put_be16(out + 6, IP4_DF);
	out[8] = WGX_ICMP_TTL;
	out[9] = PROTO_ICMP;
	put_be16(out + 10, 0);
	memcpy(out + WGX_IPPKT_IP4_SADDR, src, 4);
	memcpy(out + WGX_IPPKT_IP4_DADDR, dst, 4);

	out += WGX_IPPKT_IP4_HDR_LEN;
	out[0] = WGX_ICMP4_DEST_UNREACH;
	out[1] = WGX_ICMP4_HOST_UNREACH;
	memset(out + 2, 0, 6);
	csum = wgx_ippkt_csum(out, ICMP_HDR_LEN + quote);
	memcpy(out + 2, &csum, 2);

	out -= WGX_IPPKT_IP4_HDR_LEN;
	csum = wgx_ippkt_csum(out, WGX_IPPKT_IP4_HDR_LEN);
	memcpy(out + 10, &csum, 2);
	return (int)n;
}

/* RFC 8200 8.1: source, destination, upper-layer length, next header. */
static uint16_t icmp6_csum(const uint8_t *ip6, size_t icmp_len)
{
	uint8_t tail[8] = { 0 };
	uint32_t sum;

	tail[0] = (uint8_t)(icmp_len >> 24);
	tail[1] = (uint8_t)(icmp_len >> 16);
	tail[2] = (uint8_t)(icmp_len >> 8);
	tail[3] = (uint8_t)icmp_len;
	tail[7] = PROTO_ICMPV6;
	sum = wgx_ippkt_csum_partial(ip6 + WGX_IPPKT_IP6_SADDR, 32, 0);
	sum = wgx_ippkt_csum_partial(tail, sizeof(tail), sum);
	sum = wgx_ippkt_csum_partial(ip6 + WGX_IPPKT_IP6_HDR_LEN, icmp_len,
				     sum);
	return wgx_ippkt_csum_fold(sum);
}

static int build6(const uint8_t *orig, const struct wgx_ippkt_info *in,
		  const uint8_t *src_addr, uint8_t *out, size_t out_cap)
{
	size_t quote =
		min_size(in->tot_len, WGX_ICMP6_MAX_LEN - IP6_ANSWER_HDRS);
	size_t n = IP6_ANSWER_HDRS + quote;
	uint8_t src[16], dst[16];
	uint16_t csum;
	int err;

	if (src_addr && !ip6_unicast(src_addr))
		return -EINVAL;
	err = check6(orig, in);
	if (err)
		return err;
	if (out_cap < n)
		return -ENOSPC;
	memcpy(src, src_addr ? src_addr : in->daddr, 16);
	memcpy(dst, in->saddr, 16);

	memmove(out + IP6_ANSWER_HDRS, orig, quote);
	/* Version 6, traffic class 0, flow label 0. */
	memset(out, 0, 4);
	out[0] = 0x60;
	put_be16(out + 4, (uint16_t)(ICMP_HDR_LEN + quote));
	out[6] = PROTO_ICMPV6;
	out[7] = WGX_ICMP_TTL;
	memcpy(out + WGX_IPPKT_IP6_SADDR, src, 16);
	memcpy(out + WGX_IPPKT_IP6_DADDR, dst, 16);

	out[40] = WGX_ICMP6_DEST_UNREACH;
	out[41] = WGX_ICMP6_ADDR_UNREACH;
	memset(out + 42, 0, 6);
	csum = icmp6_csum(out, ICMP_HDR_LEN + quote);
	memcpy(out + 42, &csum, 2);
	return (int)n;
}

int wgx_icmp_unreachable(const uint8_t *orig, size_t orig_len,
			 const uint8_t *src_addr, uint8_t *out, size_t out_cap)
{
	struct wgx_ippkt_info in;

	if (!orig || !out || wgx_ippkt_parse_trim(orig, orig_len, &in))
		return -EINVAL;
	if (in.family == AF_INET)
		return build4(orig, &in, src_addr, out, out_cap);
	return build6(orig, &in, src_addr, out, out_cap);
}
