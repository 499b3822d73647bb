/* SPDX-License-Identifier: MIT */
/*
 * Inner (tunnelled) IP packets: the raw IPv4 or IPv6 packets a TUN device
 * opened with IFF_NO_PI hands out and takes back. The first nibble is the
 * version; nothing precedes the IP header.
 *
 * parse() checks what the datapath relies on before it trusts any header
 * field: a whole header, version 4 or 6, a sane IPv4 IHL, and a stated
 * length that fits the buffer. Outbound (read from the TUN) a buffer is
 * exactly one packet, so parse() wants the stated length to equal len.
 * Inbound the decrypted plaintext carries zero padding up to a multiple of
 * 16 (protocol.md, "Transport data"), so parse_trim() accepts len >= the
 * stated length and reports the length to trim to.
 *
 * Neither reads a byte beyond buf + len. Addresses are reported as pointers
 * into buf (network byte order), valid as long as buf is.
 *
 * The checksum helpers implement RFC 1071: a one's complement sum of 16-bit
 * words, which is byte-order independent (RFC 1071 section 2(B)), so words
 * are summed as they lie in memory and the result is stored as is.
 */
#ifndef WGX_IPPKT_H
#define WGX_IPPKT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

enum {
	WGX_IPPKT_IP4_HDR_LEN = 20, /* without options */
	WGX_IPPKT_IP4_HDR_MAX = 60, /* IHL 15 */
	WGX_IPPKT_IP6_HDR_LEN = 40,
	/* Offsets of the addresses inside the fixed headers. */
	WGX_IPPKT_IP4_SADDR = 12,
	WGX_IPPKT_IP4_DADDR = 16,
	WGX_IPPKT_IP6_SADDR = 8,
	WGX_IPPKT_IP6_DADDR = 24,
};

struct wgx_ippkt_info {
	/* Source and destination address inside buf: addr_len bytes each. */
	const uint8_t *saddr;
	const uint8_t *daddr;
	/* AF_INET or AF_INET6, as wgx_allowedips_lookup() takes it. */
	int family;
	/* 4 or 16. */
	uint8_t addr_len;
	/* IPv4 protocol, or the IPv6 next header (before extension headers). */
	uint8_t proto;
	/* IPv4: IHL * 4, options included; IPv6: 40 (fixed header only). */
	uint16_t hdr_len;
	/* IPv4 total length; IPv6 payload length + 40. */
	uint32_t tot_len;
};

/*
 * A packet read from the TUN: 0, or -EINVAL when len is below the fixed
 * header, the version is not 4 or 6, the IHL is below 5 or reaches past len,
 * or the stated length is below the header or differs from len.
 */
int wgx_ippkt_parse(const uint8_t *buf, size_t len, struct wgx_ippkt_info *out);

/*
 * A decrypted, zero-padded plaintext: as parse(), except that len may
 * exceed the stated length. out->tot_len is what the packet is trimmed to
 * before it is written to the TUN.
 */
int wgx_ippkt_parse_trim(const uint8_t *buf, size_t len,
			 struct wgx_ippkt_info *out);

/*
 * Cheap address access without a full parse, for the AllowedIPs lookups:
 * the destination of an outbound packet picks its peer, the source of a
 * decrypted one must belong to the peer that sent it. Both check only that
 * the version is 4 or 6 and the fixed header is there; *family receives
 * AF_INET or AF_INET6. NULL (and *family untouched) otherwise.
 */
static inline const uint8_t *wgx_ippkt_addr_at(const uint8_t *buf, size_t len,
					       int *family, size_t off4,
					       size_t off6)
{
	if (len >= WGX_IPPKT_IP4_HDR_LEN && buf[0] >> 4 == 4) {
		*family = AF_INET;
		return buf + off4;
	}
	if (len >= WGX_IPPKT_IP6_HDR_LEN && buf[0] >> 4 == 6) {
		*family = AF_INET6;
		return buf + off6;
	}
	return NULL;
}

static inline const uint8_t *wgx_ippkt_daddr(const uint8_t *buf, size_t len,
					     int *family)
{
	return wgx_ippkt_addr_at(buf, len, family, WGX_IPPKT_IP4_DADDR,
				 WGX_IPPKT_IP6_DADDR);
}

static inline const uint8_t *wgx_ippkt_saddr(const uint8_t *buf, size_t len,
					     int *family)
{
	return wgx_ippkt_addr_at(buf, len, family, WGX_IPPKT_IP4_SADDR,
				 WGX_IPPKT_IP6_SADDR);
}

/*
 * RFC 1071 one's complement sum of len bytes added to sum, not yet folded
 * or complemented: chain calls to checksum data in pieces (a pseudo-header,
 * then the message). Every piece but the last must have an even length.
 */
uint32_t wgx_ippkt_csum_partial(const void *buf, size_t len, uint32_t sum);

/* Fold a partial sum to 16 bits and complement it: the checksum field. */
static inline uint16_t wgx_ippkt_csum_fold(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/*
 * The Internet checksum of buf, in network byte order: memcpy it into the
 * checksum field. Over data that holds a correct checksum it returns 0.
 */
static inline uint16_t wgx_ippkt_csum(const void *buf, size_t len)
{
	return wgx_ippkt_csum_fold(wgx_ippkt_csum_partial(buf, len, 0));
}

#endif
