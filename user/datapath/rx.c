// SPDX-License-Identifier: MIT
/*
 * Receive: datagrams to inner packets. Only fill reads published state
 * (the index table); the keypair and peer it finds travel with the batch,
 * kept alive past the filler's quiescent state by the reclaim barrier
 * (device/reclaim.h). The replay window moves only in finish, which runs
 * for one ring at a time in order, under the keypair's replay lock (two
 * rings may hold packets of one keypair when a peer roams).
 */
#include "datapath/rx.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/crypto.h"
#include "core/transport.h"
#include "datapath/gso.h"
#include "datapath/horizon.h"
#include "util/log.h"
#include "util/plainbuf.h"

/*
 * The buffers are decrypted in place: plaintext. One locked, non-dumpable
 * mapping per batch (util/plainbuf.h), cut in WGX_RX_MSGS pieces.
 */
struct wgx_rx_job *wgx_rx_job_new(const struct wgx_pktio *io)
{
	struct wgx_rx_job *j = calloc(1, sizeof(*j));
	uint8_t *area;

	if (!j || !io->needs_buffers)
		return j;
	area = wgx_plainbuf_alloc((size_t)WGX_RX_MSGS * WGX_RX_BUF);
	if (!area) {
		free(j);
		return NULL;
	}
	for (int i = 0; i < WGX_RX_MSGS; i++)
		j->b.buf[i] = area + (size_t)i * WGX_RX_BUF;
	return j;
}

void wgx_rx_job_free(struct wgx_rx_job *j)
{
	if (!j)
		return;
	/* Wiped as it is unmapped. */
	wgx_plainbuf_free(j->b.buf[0], (size_t)WGX_RX_MSGS * WGX_RX_BUF);
	free(j);
}

/* ---- fill ------------------------------------------------------------- */

static enum wgx_stat_id open_error_stat(int err)
{
	switch (err) {
	case -EBADMSG:
		return WGX_STAT_DROP_BAD_TAG;
	case -EALREADY:
	case -ERANGE:
		return WGX_STAT_DROP_REPLAY;
	case -EKEYEXPIRED:
	case -EKEYREJECTED:
		return WGX_STAT_DROP_EXPIRED_KEY;
	case -EPROTONOSUPPORT:
	case -EOVERFLOW:
		return WGX_STAT_DROP_BAD_INNER;
	default:
		return WGX_STAT_DROP_MALFORMED;
	}
}

static bool handshake_size_ok(uint8_t type, size_t len)
{
	return (type == WGX_MSG_INITIATION && len == WGX_MSG_INITIATION_LEN) ||
	       (type == WGX_MSG_RESPONSE && len == WGX_MSG_RESPONSE_LEN) ||
	       (type == WGX_MSG_COOKIE_REPLY &&
		len == WGX_MSG_COOKIE_REPLY_LEN);
}

/* A data message: its keypair, and whatever can be refused undecrypted. */
static void classify_data(struct wgx_worker *w, struct wgx_rx_batch *b,
			  struct wgx_rx_dgram *d, struct wgx_index_entry *last,
			  struct wgx_tally *t, uint64_t now)
{
	uint64_t counter;
	uint32_t index;
	int err;

	/* Datagrams of a GRO run sit at any offset: no aligned loads. */
	memcpy(&index, d->data + 4, sizeof(index));
	index = le32toh(index);
	memcpy(&counter, d->data + 8, sizeof(counter));
	/* A run is one session: the previous answer holds in this batch. */
	if (last->index != index &&
	    !wgx_index_lookup(w->dev->indices, index, WGX_INDEX_KEYPAIR,
			      last)) {
		last->index = 0;
		wgx_tally(t, WGX_STAT_DROP_UNKNOWN_INDEX, d->len);
		return;
	}
	/* As the XDP program judges it (socket mode has no XDP): a counter
	 * no session reaches costs no decryption. */
	if (le64toh(counter) >= WGX_COUNTER_LIMIT) {
		wgx_tally(t, WGX_STAT_DROP_BAD_COUNTER, d->len);
		return;
	}
	err = wgx_transport_open_check(last->ptr, d->data, d->len, now);
	if (err) {
		wgx_tally(t, open_error_stat(err), d->len);
		return;
	}
	d->kp = last->ptr;
	d->peer = last->owner;
	d->state = WGX_RX_DATA;
	(void)b;
}

int wgx_rx_fill(struct wgx_worker *w, struct wgx_rx_job *j)
{
	struct wgx_rx_batch *b = &j->b;
	struct wgx_index_entry last = { 0 };
	struct wgx_tally t = { 0 };
	uint64_t now = wgx_now();
	bool wake = false;
	int n;

	if (b->io && b->io->ops->recycle)
		b->io->ops->recycle(b->io, b);
	b->io = w->io;
	b->n = b->nsrc = b->nbuf = 0;
	n = w->io->ops->recv(w->io, b);
	if (n <= 0)
		return n;
	for (unsigned int i = 0; i < b->n; i++) {
		struct wgx_rx_dgram *d = &b->d[i];
		const uint8_t *m = d->data;

		d->state = WGX_RX_DROPPED;
		d->kp = NULL;
		d->peer = NULL;
		if (d->len < 4 || m[1] || m[2] || m[3]) {
			wgx_tally(&t, WGX_STAT_DROP_MALFORMED, d->len);
		} else if (m[0] == WGX_MSG_DATA &&
			   d->len >= WGX_MSG_DATA_MIN_LEN) {
			classify_data(w, b, d, &last, &t, now);
		} else if (handshake_size_ok(m[0], d->len)) {
			wgx_device_queue_handshake(w->dev, m, d->len,
						   &b->src[d->src]);
			d->state = WGX_RX_CONSUMED;
			wake = true;
		} else {
			wgx_tally(&t, WGX_STAT_DROP_MALFORMED, d->len);
		}
	}
	if (wake)
		wgx_device_wake(w->dev);
	wgx_worker_tally_flush(w, &t);
	return n;
}

/* ---- decrypt ---------------------------------------------------------- */

void wgx_rx_decrypt(struct wgx_worker *w, struct wgx_rx_job *j)
{
	struct wgx_rx_batch *b = &j->b;

	for (unsigned int i = 0; i < b->n; i++) {
		struct wgx_rx_dgram *d = &b->d[i];

		if (d->state != WGX_RX_DATA)
			continue;
		d->state =
			wgx_transport_decrypt(w->aead, d->kp, d->data, d->len)
				? WGX_RX_TAG_OK
				: WGX_RX_TAG_BAD;
	}
}

/* ---- finish ----------------------------------------------------------- */

/* What finish remembers across the datagrams of one batch. */
struct finish_state {
	struct wgx_tally t;
	struct wgx_keypair *locked; /* whose replay lock is held */
	struct wgx_peer *bytes_peer;
	uint64_t peer_bytes, peer_packets;
	struct wgx_peer *stamped;
	struct wgx_peer *ep_peer; /* endpoint checked for this source */
	unsigned int ep_src;
	unsigned int npkt;
	bool wake;
	uint64_t now;
};

static void peer_bytes_flush(struct finish_state *f)
{
	if (!f->bytes_peer)
		return;
	atomic_fetch_add_explicit(&f->bytes_peer->rx_bytes, f->peer_bytes,
				  memory_order_relaxed);
	atomic_fetch_add_explicit(&f->bytes_peer->rx_packets, f->peer_packets,
				  memory_order_relaxed);
	f->bytes_peer = NULL;
	f->peer_bytes = 0;
	f->peer_packets = 0;
}

static void replay_lock(struct finish_state *f, struct wgx_keypair *kp)
{
	if (f->locked == kp)
		return;
	if (f->locked)
		wgx_keypair_replay_unlock(f->locked);
	wgx_keypair_replay_lock(kp);
	f->locked = kp;
}

/* A message from p verified and is not a replay: roaming, bytes, events. */
static void authenticated(struct wgx_worker *w, struct finish_state *f,
			  const struct wgx_rx_batch *b,
			  const struct wgx_rx_dgram *d)
{
	struct wgx_peer *p = d->peer;
	struct wgx_keypair *kp = d->kp;

	/* Roaming, once per peer and source (a GRO run has one source). */
	if (f->ep_peer != p || f->ep_src != d->src) {
		wgx_peer_set_endpoint(p, &b->src[d->src]);
		f->ep_peer = p;
		f->ep_src = d->src;
	}
	if (f->bytes_peer != p)
		peer_bytes_flush(f);
	f->bytes_peer = p;
	f->peer_bytes += d->len;
	f->peer_packets++;
	wgx_worker_raise(w, p, WGX_EV_AUTH_RECEIVED | WGX_EV_TRAVERSAL,
			 &f->wake);
	if (kp == wgx_keypairs_next(&p->keypairs)) {
		atomic_store(&p->confirmed, kp);
		wgx_worker_raise(w, p, WGX_EV_KEY_CONFIRMED, &f->wake);
	}
	if (kp == wgx_keypairs_current(&p->keypairs) &&
	    wgx_transport_rekey_on_recv(kp, f->now) &&
	    wgx_transport_rekey_ask_due(kp, f->now))
		wgx_worker_raise(w, p, WGX_EV_LASTMINUTE_REKEY, &f->wake);
}

/*
 * Where kp's counter stands, for XDP (datapath/horizon.h), when due; kp's
 * replay lock is held. Only while the index still names kp: a publication
 * late from a retired keypair must not judge a new session that drew the
 * same index after the agent cleared its entry.
 */
static void publish_horizon(struct wgx_worker *w, struct finish_state *f,
			    struct wgx_keypair *kp)
{
	struct wgx_index_entry e;
	int fd = w->dev->rx_horizon_fd;

	if (fd < 0 || !wgx_horizon_due(kp, f->now))
		return;
	if (!wgx_index_lookup(w->dev->indices, kp->local_index,
			      WGX_INDEX_KEYPAIR, &e) ||
	    e.ptr != kp)
		return;
	if (wgx_horizon_publish(fd, kp, f->now) < 0)
		wgx_tally(&f->t, WGX_STAT_XDP_HORIZON_FAILED, 0);
}

/* Cryptokey routing, inbound: the inner source must belong to the peer. */
static bool source_allowed(struct wgx_device *dev, struct wgx_peer *p,
			   const uint8_t *pkt)
{
	if ((pkt[0] >> 4) == 4)
		return wgx_allowedips_lookup(&dev->allowedips, AF_INET,
					     pkt + 12) == p;
	return wgx_allowedips_lookup(&dev->allowedips, AF_INET6, pkt + 8) == p;
}

/* open_finish failures that still count as data for the timers. */
static bool inner_error(int err)
{
	return err == -EPROTONOSUPPORT || err == -EOVERFLOW;
}

static void finish_one(struct wgx_worker *w, struct finish_state *f,
		       const struct wgx_rx_batch *b,
		       const struct wgx_rx_dgram *d)
{
	struct wgx_peer *p = d->peer;
	int n;

	replay_lock(f, d->kp);
	n = wgx_transport_open_finish(d->kp, d->data, d->len);
	if (n < 0 && !inner_error(n)) {
		wgx_tally(&f->t, open_error_stat(n), d->len);
		return;
	}
	publish_horizon(w, f, d->kp);
	authenticated(w, f, b, d);
	if (n == 0) {
		wgx_tally(&f->t, WGX_STAT_RX_KEEPALIVE, d->len);
		return;
	}
	/* Data, even if unusable, counts for the timers (as the kernel). */
	if (f->stamped != p) {
		atomic_store_explicit(&p->last_received_ns, f->now,
				      memory_order_relaxed);
		f->stamped = p;
	}
	wgx_worker_raise(w, p, WGX_EV_DATA_RECEIVED, &f->wake);
	if (n < 0) {
		wgx_tally(&f->t, open_error_stat(n), d->len);
		return;
	}
	if (!source_allowed(w->dev, p, d->data + WGX_DATA_HEADER_LEN)) {
		wgx_tally(&f->t, WGX_STAT_DROP_ALLOWEDIPS, d->len);
		return;
	}
	wgx_tally(&f->t, WGX_STAT_RX_DATA, d->len);
	w->tun_out[f->npkt++] =
		(struct wgx_tun_pkt){ .p = d->data + WGX_DATA_HEADER_LEN,
				      .len = (uint32_t)n };
}

static void tun_failed(struct wgx_tally *t, const struct wgx_tun_pkt *pk,
		       unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		wgx_tally(t, WGX_STAT_DROP_TUN_ERROR, pk[i].len);
}

/* Write n packets one by one, each after a zero virtio header. */
static void tun_write_each(struct wgx_worker *w, struct wgx_tally *t,
			   struct wgx_tun_pkt *pk, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		uint8_t *hdr = pk[i].p - WGX_VNET_HDR_LEN;

		memset(hdr, 0, WGX_VNET_HDR_LEN);
		if (write(w->tun_fd, hdr, pk[i].len + WGX_VNET_HDR_LEN) < 0)
			tun_failed(t, &pk[i], 1);
	}
}

/*
 * Write pk[0..] to the TUN, merging what follows the first into it when
 * it can; returns how many packets went. The virtio header goes into the
 * free bytes before the first packet. A kernel that refuses a merged
 * write gets the head's header back and every packet alone, and no more
 * merges from this worker.
 */
static unsigned int tun_write_vnet(struct wgx_worker *w, struct wgx_tally *t,
				   struct wgx_tun_pkt *pk, unsigned int avail)
{
	uint8_t *hdr = pk[0].p - WGX_VNET_HDR_LEN;
	uint8_t saved[WGX_GRO_HDR_MAX];
	struct wgx_vnet_hdr vh = { 0 };
	unsigned int n = 1;
	struct wgx_gro g;

	w->wiov[0] = (struct iovec){ hdr, pk[0].len + WGX_VNET_HDR_LEN };
	if (w->tun_gro && avail > 1 && wgx_gro_start(&g, pk[0].p, pk[0].len)) {
		while (n < avail && wgx_gro_append(&g, pk[n].p, pk[n].len,
						   WGX_TUN_GRO_SEGS)) {
			w->wiov[n] = (struct iovec){ pk[n].p + g.hdr_len,
						     pk[n].len - g.hdr_len };
			n++;
		}
		memcpy(saved, pk[0].p, g.hdr_len);
		wgx_gro_finish(&g, &vh);
	}
	memcpy(hdr, &vh, sizeof(vh));
	if (writev(w->tun_fd, w->wiov, (int)n) >= 0)
		return n;
	if (n > 1 && errno == EINVAL) {
		wgx_log_warn("TUN refused a merged TCP write: writing "
			     "segments one by one");
		w->tun_gro = false;
		memcpy(pk[0].p, saved, g.hdr_len);
		tun_write_each(w, t, pk, n);
		return n;
	}
	tun_failed(t, pk, n);
	return n;
}

static void tun_write(struct wgx_worker *w, struct wgx_tally *t,
		      struct wgx_tun_pkt *pk, unsigned int n)
{
	unsigned int i = 0;

	while (i < n) {
		if (w->tun_vnet) {
			i += tun_write_vnet(w, t, &pk[i], n - i);
			continue;
		}
		if (write(w->tun_fd, pk[i].p, pk[i].len) < 0)
			tun_failed(t, &pk[i], 1);
		i++;
	}
}

void wgx_rx_finish(struct wgx_worker *w, struct wgx_rx_job *j)
{
	struct wgx_rx_batch *b = &j->b;
	struct finish_state f = { .now = wgx_now(), .ep_src = ~0u };

	for (unsigned int i = 0; i < b->n; i++) {
		const struct wgx_rx_dgram *d = &b->d[i];

		if (d->state == WGX_RX_TAG_BAD)
			wgx_tally(&f.t, WGX_STAT_DROP_BAD_TAG, d->len);
		else if (d->state == WGX_RX_TAG_OK)
			finish_one(w, &f, b, d);
	}
	if (f.locked)
		wgx_keypair_replay_unlock(f.locked);
	peer_bytes_flush(&f);
	/* Wake the agent first, so a key confirmation beats the reply it
	 * causes. */
	if (f.wake)
		wgx_device_wake(w->dev);
	tun_write(w, &f.t, w->tun_out, f.npkt);
	wgx_worker_tally_flush(w, &f.t);
}
