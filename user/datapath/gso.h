/* SPDX-License-Identifier: MIT */
/*
 * Segmentation and coalescing of inner packets for a TUN opened with
 * IFF_VNET_HDR (tun.h, WGX_TUN_VNET_HDR). Every read and write then starts
 * with a struct wgx_vnet_hdr (the kernel's struct virtio_net_hdr, 10 bytes,
 * little-endian once TUNSETVNETLE is set), and the kernel may hand out TCP
 * (TSO) and UDP (USO) "super-packets" of up to 64 KiB with a partial
 * checksum, trusting us to cut them.
 *
 * Outbound: wgx_gso_prepare() checks a super-packet against its header and
 * plans its segments; wgx_gso_write() produces segment i as the kernel's
 * software GSO would (tcp_gso_segment(), __udp_gso_segment()): the headers
 * copied, IPv4 total length, ID (+1 per segment) and header checksum, IPv6
 * payload length, TCP sequence number (+MSS per segment), FIN and PSH on
 * the last segment only, CWR on the first only, UDP length, and a full
 * TCP/UDP checksum. A packet without GSO whose header asks for a checksum
 * (NEEDS_CSUM) gets the partial checksum at csum_start/csum_offset
 * completed. The header's hdr_len is not trusted (the kernel fills it with
 * the linear length, not the header length); headers are measured.
 *
 * Inbound: wgx_gro_start/append/finish merge consecutive TCP segments of
 * one flow (decrypted packets) into one super-packet for a single write, as
 * the kernel's GRO does: same addresses, ports, ACK, window, options and
 * IP fields, back-to-back sequence numbers, every segment but the last of
 * the same size, only ACK (and PSH on the last), and each segment's own
 * checksum verified first (the merged packet is written with NEEDS_CSUM,
 * which the kernel takes as already verified).
 *
 * Pure: no system calls, no allocation; nothing is read past pkt + len.
 */
#ifndef WGX_GSO_H
#define WGX_GSO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* struct virtio_net_hdr as a TUN with IFF_VNET_HDR uses it (little-endian). */
struct wgx_vnet_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
};

enum {
	WGX_VNET_HDR_LEN = 10,
	/* flags */
	WGX_VNET_F_NEEDS_CSUM = 1,
	WGX_VNET_F_DATA_VALID = 2,
	/* gso_type */
	WGX_VNET_GSO_NONE = 0,
	WGX_VNET_GSO_TCPV4 = 1,
	WGX_VNET_GSO_TCPV6 = 4,
	WGX_VNET_GSO_UDP_L4 = 5,
	WGX_VNET_GSO_ECN = 0x80,
	/* Largest IP packet either direction handles (16-bit lengths). */
	WGX_GSO_MAX_LEN = 65535,
	/* Longest header a merge rewrites: IPv6 and TCP with options. */
	WGX_GRO_HDR_MAX = 40 + 60,
};

_Static_assert(sizeof(struct wgx_vnet_hdr) == WGX_VNET_HDR_LEN,
	       "virtio_net_hdr is 10 bytes");

enum wgx_gso_kind {
	WGX_GSO_KIND_NONE, /* one packet, maybe a checksum to complete */
	WGX_GSO_KIND_TCP,
	WGX_GSO_KIND_UDP,
};

/* A planned super-packet; filled by wgx_gso_prepare(). */
struct wgx_gso {
	const uint8_t *pkt;
	size_t len;
	enum wgx_gso_kind kind;
	bool ipv6;
	bool csum; /* KIND_NONE: complete the checksum below */
	uint16_t csum_start, csum_offset;
	uint16_t l4_off;  /* transport header */
	uint16_t hdr_len; /* every header, copied into each segment */
	uint16_t mss;	  /* payload bytes of every segment but the last */
	unsigned int nsegs;
};

/*
 * Check the super-packet pkt (len bytes, after the header vh) and plan it.
 * Returns the number of segments (1 for a packet without GSO), or -EINVAL
 * for a header that does not match the packet: an unknown GSO type, GSO
 * without NEEDS_CSUM or with a gso_size of 0, a GSO type of the other IP
 * version, csum_start/csum_offset not at the TCP or UDP checksum (or past
 * the packet), a bad or truncated IP or transport header, an IP length
 * that is not len, or a fragment. A packet without GSO and without
 * NEEDS_CSUM is not looked at (the caller parses it as any other).
 */
int wgx_gso_prepare(struct wgx_gso *g, const struct wgx_vnet_hdr *vh,
		    const uint8_t *pkt, size_t len);

/* Length of segment i (i < g->nsegs). */
size_t wgx_gso_seg_len(const struct wgx_gso *g, unsigned int i);

/* Write segment i (wgx_gso_seg_len() bytes) to out; out must not overlap. */
void wgx_gso_write(const struct wgx_gso *g, unsigned int i, uint8_t *out);

/* A run of TCP segments being merged; the head packet is rewritten. */
struct wgx_gro {
	uint8_t *head;
	size_t total; /* length of the merged packet */
	uint16_t l4_off, hdr_len, mss;
	uint32_t next_seq;
	uint16_t next_id;
	unsigned int count;
	bool ipv6, closed, push;
};

/*
 * Start a run with pkt (len bytes, its exact IP length). false when pkt
 * cannot be merged with anything (not TCP, flags other than ACK/PSH, no
 * payload, IP options or extension headers, a fragment, a bad checksum):
 * write it alone, as it is.
 */
bool wgx_gro_start(struct wgx_gro *g, uint8_t *pkt, size_t len);

/*
 * Add pkt to the run if it continues it. true: its payload, pkt +
 * g->hdr_len for len - g->hdr_len bytes, follows the run's data. The merge
 * never grows past WGX_GSO_MAX_LEN nor past max_count segments.
 */
bool wgx_gro_append(struct wgx_gro *g, const uint8_t *pkt, size_t len,
		    unsigned int max_count);

/*
 * Close the run: for more than one segment, rewrite the head's IP length
 * and checksum, its PSH flag and its TCP checksum field (the pseudo-header
 * sum, as NEEDS_CSUM wants), and describe the super-packet in vh; for one,
 * a zero vh and the packet untouched.
 */
void wgx_gro_finish(struct wgx_gro *g, struct wgx_vnet_hdr *vh);

#endif
