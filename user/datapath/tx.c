// SPDX-License-Identifier: MIT
/*
 * Send: TUN packets to sealed datagrams. Fill reads published state
 * (AllowedIPs, the peer's endpoint and keypairs) and claims each
 * segment's counter, so nonces follow the order packets left the TUN
 * queue; seal only computes; finish does what must happen in order.
 */
#include "datapath/tx.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/crypto.h"
#include "core/transport.h"
#include "datapath/icmp.h"
#include "datapath/ippkt.h"
#include "util/plainbuf.h"

/* The fallback reasons count in stats of the same order. */
_Static_assert(WGX_STAT_TX_SOCKET_OTHER_IFACE - WGX_STAT_TX_SOCKET_NO_NEXTHOP ==
			       WGX_TX_FB_OTHER_IFACE &&
		       WGX_STAT_TX_SOCKET_RING_FULL -
				       WGX_STAT_TX_SOCKET_NO_NEXTHOP ==
			       WGX_TX_FB_RING_FULL &&
		       WGX_STAT_TX_SOCKET_TOO_BIG -
				       WGX_STAT_TX_SOCKET_NO_NEXTHOP ==
			       WGX_TX_FB_TOO_BIG,
	       "fallback reasons and their stats in the same order");

enum {
	/* One TUN read: a virtio header and a 64 KiB super-packet. */
	READ_MAX = WGX_VNET_HDR_LEN + 65536,
	ICMP_PER_SECOND = 100,
	/*
	 * What a batch's send area needs beyond its reads at most, per
	 * segment: a super-packet's headers copied into each segment, the
	 * data header, padding and tag. Longer headers (IPv6 extensions)
	 * only make a read wait for the next batch: fits() counts exactly.
	 */
	SEG_EXTRA = 256,
};

/*
 * A full batch of full-size packets, but never more than a batch's reads
 * can become: at an MTU of 64 KiB the first bound would be 25 MiB a job.
 */
static size_t out_cap_for(uint32_t mtu)
{
	size_t full = (size_t)WGX_TX_MAX * (mtu + 64u);
	size_t most = (size_t)WGX_TX_AREA + (size_t)WGX_TX_MAX * SEG_EXTRA;

	return full < most ? full : most;
}

struct wgx_tx_job *wgx_tx_job_new(uint32_t mtu)
{
	struct wgx_tx_job *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	/* TUN reads are plaintext, and so is the send area until sealed:
	 * locked, non-dumpable mappings (util/plainbuf.h). */
	j->area = wgx_plainbuf_alloc(WGX_TX_AREA);
	j->out_cap = out_cap_for(mtu);
	j->out = wgx_plainbuf_alloc(j->out_cap);
	if (!j->area || !j->out) {
		wgx_tx_job_free(j);
		return NULL;
	}
	return j;
}

void wgx_tx_job_free(struct wgx_tx_job *j)
{
	if (!j)
		return;
	/* Wiped as they are unmapped. */
	wgx_plainbuf_free(j->area, WGX_TX_AREA);
	wgx_plainbuf_free(j->out, j->out_cap);
	free(j);
}

/* ---- fill ------------------------------------------------------------- */

struct fill_state {
	struct wgx_tally t;
	uint64_t now;
	bool wake;
};

/* The packet of read r, after any virtio header. */
static uint8_t *read_pkt(const struct wgx_tx_job *j,
			 const struct wgx_tx_read *r)
{
	return j->area + r->off;
}

static void drop_read(struct fill_state *f, struct wgx_tx_read *r,
		      enum wgx_stat_id why)
{
	r->verdict = WGX_TX_DROP;
	wgx_tally(&f->t, why, r->len);
}

/* No session: every segment waits for the handshake. */
static void stage_read(struct wgx_worker *w, struct fill_state *f,
		       struct wgx_tx_read *r)
{
	uint8_t *seg = w->seg_scratch;

	r->verdict = WGX_TX_STAGED;
	for (unsigned int i = 0; i < r->gso.nsegs; i++) {
		size_t sl = wgx_gso_seg_len(&r->gso, i);

		wgx_gso_write(&r->gso, i, seg);
		if (!wgx_peer_stage(r->peer, seg, sl))
			wgx_tally(&f->t, WGX_STAT_DROP_STAGED_OVERFLOW, sl);
		wgx_tally(&f->t, WGX_STAT_STAGED, sl);
	}
	wgx_crypto_wipe(seg, WGX_SEG_SCRATCH);
	wgx_worker_raise(w, r->peer, WGX_EV_WANT_HANDSHAKE, &f->wake);
}

/*
 * Claim a counter and a place in the send area for each segment; on a
 * refusal (the keypair just expired) the batch is left as it was, and
 * the counters taken are never used.
 */
static bool plan_segments(struct wgx_tx_job *j, struct wgx_tx_read *r,
			  uint16_t ri, uint32_t mtu, uint64_t now)
{
	unsigned int nseg = j->nseg;
	size_t used = j->out_used;

	for (unsigned int i = 0; i < r->gso.nsegs; i++) {
		size_t sl = wgx_gso_seg_len(&r->gso, i);
		uint64_t counter;

		if (wgx_transport_seal_claim(r->kp, now, &counter)) {
			j->nseg = nseg;
			j->out_used = used;
			return false;
		}
		j->seg[j->nseg++] = (struct wgx_tx_seg){
			.off = (uint32_t)j->out_used,
			.read = ri,
			.index = (uint16_t)i,
			.counter = counter,
		};
		j->out_used += wgx_transport_wire_len(sl, mtu);
	}
	return true;
}

/* Route read r and decide what becomes of it. */
static void plan_read(struct wgx_worker *w, struct wgx_tx_job *j,
		      struct fill_state *f, unsigned int ri)
{
	struct wgx_tx_read *r = &j->rd[ri];
	uint32_t mtu = w->dev->mtu;
	struct wgx_ippkt_info info;
	size_t first;
	bool has;

	if (wgx_ippkt_parse(read_pkt(j, r), r->len, &info) < 0)
		return drop_read(f, r, WGX_STAT_DROP_MALFORMED);
	first = wgx_gso_seg_len(&r->gso, 0);
	if (first > mtu)
		return drop_read(f, r, WGX_STAT_DROP_MALFORMED);
	r->peer = wgx_allowedips_lookup(&w->dev->allowedips, info.family,
					info.daddr);
	if (!r->peer) {
		r->verdict = WGX_TX_ICMP;
		wgx_tally(&f->t, WGX_STAT_DROP_NO_ROUTE, r->len);
		return;
	}
	wgx_peer_get_endpoint(r->peer, &r->to, &has);
	if (!has) {
		r->verdict = WGX_TX_ICMP;
		wgx_tally(&f->t, WGX_STAT_DROP_NO_ENDPOINT, r->len);
		return;
	}
	r->kp = wgx_keypairs_send_keypair(&r->peer->keypairs, f->now);
	if (!r->kp || !plan_segments(j, r, (uint16_t)ri, mtu, f->now))
		return stage_read(w, f, r);
	r->verdict = WGX_TX_SEAL;
}

/* Check the virtio header and plan the super-packet; -EINVAL to drop. */
static int prepare_read(struct wgx_worker *w, struct wgx_tx_job *j,
			struct wgx_tx_read *r, uint32_t off, uint32_t n)
{
	static const struct wgx_vnet_hdr none;
	const struct wgx_vnet_hdr *vh = &none;
	struct wgx_vnet_hdr copy;

	r->off = off;
	r->len = n;
	if (w->tun_vnet) {
		if (n < WGX_VNET_HDR_LEN)
			return -EINVAL;
		memcpy(&copy, j->area + off, sizeof(copy));
		vh = &copy;
		r->off += WGX_VNET_HDR_LEN;
		r->len -= WGX_VNET_HDR_LEN;
	}
	return wgx_gso_prepare(&r->gso, vh, j->area + r->off, r->len);
}

/*
 * Room for one more read in this batch: the area takes any read, enough
 * segments are left, and the send area has room for a good part of them
 * (a read that turns out bigger waits for the next batch: fits()).
 */
static bool room_for_read(const struct wgx_tx_job *j, size_t used,
			  size_t max_read, uint32_t mtu)
{
	size_t reserve = (size_t)WGX_TX_SEG_RESERVE * (mtu + 64u);

	if (reserve > j->out_cap / 4)
		reserve = j->out_cap / 4;
	return j->nrd < WGX_TX_READS && WGX_TX_AREA - used >= max_read &&
	       WGX_TX_MAX - j->nseg >= WGX_TX_SEG_RESERVE &&
	       j->out_cap - j->out_used >= reserve;
}

/* The send area read r's segments take once sealed. */
static size_t read_wire(const struct wgx_tx_read *r, uint32_t mtu)
{
	size_t n = 0;

	for (unsigned int i = 0; i < r->gso.nsegs; i++)
		n += wgx_transport_wire_len(wgx_gso_seg_len(&r->gso, i), mtu);
	return n;
}

/* A read that does not fit waits in the worker's carry buffer. */
static bool fits(const struct wgx_tx_job *j, const struct wgx_tx_read *r,
		 uint32_t mtu)
{
	return j->nseg + r->gso.nsegs <= WGX_TX_MAX &&
	       j->out_used + read_wire(r, mtu) <= j->out_cap;
}

/* Take one read of n bytes at off into the batch (or carry it). */
static void take_read(struct wgx_worker *w, struct wgx_tx_job *j,
		      struct fill_state *f, uint32_t off, uint32_t n)
{
	struct wgx_tx_read *r = &j->rd[j->nrd];
	uint32_t mtu = w->dev->mtu;

	if (prepare_read(w, j, r, off, n) < 0) {
		wgx_tally(&f->t, WGX_STAT_DROP_MALFORMED, n);
		return;
	}
	if (!fits(j, r, mtu)) {
		if (!j->nseg) {
			/* More segments than a batch holds: never sendable. */
			wgx_tally(&f->t, WGX_STAT_DROP_MALFORMED, n);
			return;
		}
		memcpy(w->carry, j->area + off, n);
		w->carry_len = n;
		return;
	}
	j->nrd++;
	plan_read(w, j, f, j->nrd - 1);
}

int wgx_tx_fill(struct wgx_worker *w, struct wgx_tx_job *j)
{
	size_t max = w->tun_vnet ? READ_MAX : w->dev->mtu + 64u, used = 0;
	struct fill_state f = { .now = wgx_now() };
	uint32_t mtu = w->dev->mtu;
	unsigned int reads = 0;

	/* What the carry buffer takes: an IP packet is at most 64 KiB. */
	if (max > WGX_TUN_READ_MAX)
		max = WGX_TUN_READ_MAX;
	j->nrd = j->nseg = 0;
	j->out_used = 0;
	if (w->carry_len) {
		uint32_t n = w->carry_len;

		memcpy(j->area, w->carry, n);
		w->carry_len = 0;
		used = ((size_t)n + 15) & ~(size_t)15;
		take_read(w, j, &f, 0, n);
		reads++;
	}
	while (!w->carry_len && room_for_read(j, used, max, mtu)) {
		ssize_t n = read(w->tun_fd, j->area + used, max);

		if (n <= 0)
			break;
		take_read(w, j, &f, (uint32_t)used, (uint32_t)n);
		/* Keep the next read 16-byte aligned. */
		used += ((size_t)n + 15) & ~(size_t)15;
		reads++;
	}
	if (f.wake)
		wgx_device_wake(w->dev);
	wgx_worker_tally_flush(w, &f.t);
	return (int)reads;
}

/* ---- seal ------------------------------------------------------------- */

void wgx_tx_seal(struct wgx_worker *w, struct wgx_tx_job *j)
{
	uint32_t mtu = w->dev->mtu;

	for (unsigned int i = 0; i < j->nseg; i++) {
		struct wgx_tx_seg *s = &j->seg[i];
		const struct wgx_tx_read *r = &j->rd[s->read];
		size_t sl = wgx_gso_seg_len(&r->gso, s->index);
		uint8_t *p = j->out + s->off;
		int wire;

		wgx_gso_write(&r->gso, s->index, p + WGX_DATA_HEADER_LEN);
		wire = wgx_transport_seal_at(w->aead, r->kp, s->counter,
					     p + WGX_DATA_HEADER_LEN, sl, mtu,
					     p, j->out_cap - s->off);
		s->wire = wire > 0 ? (uint32_t)wire : 0;
	}
}

/* ---- finish ----------------------------------------------------------- */

/* At most ICMP_PER_SECOND errors into the TUN, with a burst of as many. */
static bool icmp_allowed(struct wgx_worker *w, uint64_t now)
{
	const uint64_t cost = 1000000000ULL / ICMP_PER_SECOND;
	const uint64_t max = cost * ICMP_PER_SECOND;

	w->icmp_tokens += now - w->icmp_last_ns;
	if (w->icmp_tokens > max)
		w->icmp_tokens = max;
	w->icmp_last_ns = now;
	if (w->icmp_tokens < cost)
		return false;
	w->icmp_tokens -= cost;
	return true;
}

/* Answer read r's first segment: it had no route or no endpoint. */
static void send_icmp(struct wgx_worker *w, struct wgx_tally *t,
		      const struct wgx_tx_read *r, uint64_t now)
{
	struct wgx_device *dev = w->dev;
	const uint8_t *from = NULL, *pkt = w->seg_scratch;
	uint8_t buf[WGX_VNET_HDR_LEN + 1280] = { 0 };
	size_t hdr = w->tun_vnet ? WGX_VNET_HDR_LEN : 0;
	size_t len = wgx_gso_seg_len(&r->gso, 0);
	int n;

	if (!icmp_allowed(w, now))
		return;
	wgx_gso_write(&r->gso, 0, w->seg_scratch);
	/*
	 * IPv4 keeps from = NULL, the unreachable destination itself: Linux
	 * drops an IPv4 packet arriving on an interface with one of the
	 * host's own addresses as its source (a martian, unless accept_local
	 * is set), so an answer from the TUN's address never reached the
	 * sender. IPv6 input has no such check.
	 */
	if ((pkt[0] >> 4) == 6 && dev->has_tun_addr6)
		from = dev->tun_addr6;
	n = wgx_icmp_unreachable(pkt, len, from, buf + hdr, 1280);
	wgx_crypto_wipe(w->seg_scratch, len);
	if (n > 0 && write(w->tun_fd, buf, hdr + (size_t)n) < 0)
		wgx_tally(t, WGX_STAT_DROP_TUN_ERROR, (uint64_t)n);
}

/* Per peer and batch: bytes, when data last left, events, rekey. */
static void account_read(struct wgx_worker *w, const struct wgx_tx_job *j,
			 unsigned int ri, uint64_t bytes, uint64_t packets,
			 uint64_t now, bool *wake)
{
	const struct wgx_tx_read *r = &j->rd[ri];
	struct wgx_peer *p = r->peer;

	atomic_fetch_add_explicit(&p->tx_bytes, bytes, memory_order_relaxed);
	atomic_fetch_add_explicit(&p->tx_packets, packets,
				  memory_order_relaxed);
	atomic_store_explicit(&p->last_sent_ns, now, memory_order_relaxed);
	wgx_worker_raise(w, p,
			 WGX_EV_DATA_SENT | WGX_EV_AUTH_SENT | WGX_EV_TRAVERSAL,
			 wake);
	if (wgx_transport_rekey_on_send(r->kp, now) &&
	    wgx_transport_rekey_ask_due(r->kp, now))
		wgx_worker_raise(w, p, WGX_EV_WANT_HANDSHAKE, wake);
}

void wgx_tx_finish(struct wgx_worker *w, struct wgx_tx_job *j)
{
	struct wgx_pktio_result res = { 0 };
	struct wgx_tally t = { 0 };
	uint64_t now = wgx_now(), bytes = 0, packets = 0;
	unsigned int last_read = ~0u;
	bool wake = false;

	j->send.n = 0;
	for (unsigned int i = 0; i < j->nseg; i++) {
		const struct wgx_tx_seg *s = &j->seg[i];

		if (s->read != last_read) {
			if (last_read != ~0u && bytes)
				account_read(w, j, last_read, bytes, packets,
					     now, &wake);
			last_read = s->read;
			bytes = 0;
			packets = 0;
		}
		if (!s->wire) {
			wgx_tally(&t, WGX_STAT_DROP_MALFORMED, 0);
			continue;
		}
		bytes += s->wire;
		packets++;
		j->send.d[j->send.n++] = (struct wgx_tx_dgram){
			.p = j->out + s->off,
			.wire = s->wire,
			.to = j->rd[s->read].to,
		};
	}
	if (last_read != ~0u && bytes)
		account_read(w, j, last_read, bytes, packets, now, &wake);
	if (j->send.n)
		w->io->ops->send(w->io, &j->send, &res);
	t.pkts[WGX_STAT_TX_DATA] += res.sent;
	t.bytes[WGX_STAT_TX_DATA] += res.sent_bytes;
	t.pkts[WGX_STAT_DROP_SEND_ERROR] += res.failed;
	t.bytes[WGX_STAT_DROP_SEND_ERROR] += res.failed_bytes;
	t.pkts[WGX_STAT_TX_GSO_REFUSED] += res.refused;
	t.bytes[WGX_STAT_TX_GSO_REFUSED] += res.refused_bytes;
	t.pkts[WGX_STAT_TX_XSK] += res.xsk;
	t.bytes[WGX_STAT_TX_XSK] += res.xsk_bytes;
	for (int k = 0; k < WGX_TX_FB_COUNT; k++) {
		t.pkts[WGX_STAT_TX_SOCKET_NO_NEXTHOP + k] += res.fallback[k];
		t.bytes[WGX_STAT_TX_SOCKET_NO_NEXTHOP + k] +=
			res.fallback_bytes[k];
	}
	for (unsigned int i = 0; i < j->nrd; i++)
		if (j->rd[i].verdict == WGX_TX_ICMP)
			send_icmp(w, &t, &j->rd[i], now);
	if (wake)
		wgx_device_wake(w->dev);
	wgx_worker_tally_flush(w, &t);
}
