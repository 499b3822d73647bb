// SPDX-License-Identifier: MIT
/*
 * The socket datapath: one UDP socket per address family bound to the
 * underlay interface, one receive thread (UDP -> decrypt -> TUN) and one
 * send thread (TUN -> encrypt -> UDP). Each thread works in batches: one
 * read lock of the device per batch, and at most one wake-up of the agent
 * per batch, only for events that need it now.
 *
 * Offloads (each optional, datapath.h) cut the per-packet system calls:
 *   send:    a TSO/USO super-packet read from a vnet-header TUN is cut into
 *            MTU-sized packets (gso.h) straight into the send area, sealed
 *            in place, and runs of same-size datagrams to one endpoint
 *            leave in one sendmsg with UDP_SEGMENT (UDP GSO);
 *   receive: one recvmsg returns a run of datagrams the kernel coalesced
 *            (UDP_GRO), each decrypted in place, and consecutive TCP
 *            segments of one flow go back to the TUN as one super-packet
 *            (gso.h, wgx_gro_*).
 * Counters are summed per batch and added to the device's once.
 */
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/eventfd.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/crypto.h"
#include "datapath/datapath.h"
#include "device/device.h"
#include "device/rcu.h"
#include "datapath/gso.h"
#include "datapath/icmp.h"
#include "datapath/ippkt.h"
#include "util/log.h"
#include "core/transport.h"

enum {
	/* recvmmsg messages per call; each may hold a GRO run. */
	RX_MSGS = 32,
	/* The largest UDP payload, so a GRO run is never truncated. */
	RX_BUF = 65536,
	/* Datagrams decrypted before the batch is written out. */
	RX_DGRAMS = 1024,
	/* Segments merged into one TUN write at most. */
	RX_GRO_SEGS = 64,
	/* TUN reads per batch, and the area they go to. */
	TX_READS = 64,
	TX_AREA = 1 << 20,
	/* One TUN read: a virtio header and a 64 KiB super-packet. */
	TX_READ_MAX = WGX_VNET_HDR_LEN + 65536,
	/* Packets sealed before they are sent. */
	TX_PKTS = 256,
	/* Datagrams per UDP_SEGMENT send: UDP_MAX_SEGMENTS of older kernels. */
	GSO_MAX_SEGS = 64,
	/* UDP payload limit of one GSO send (65535 - IPv4 - UDP headers). */
	GSO_MAX_BYTES = 65507,
	/* A thread idle this long wipes the keys its crypto context holds. */
	IDLE_MS = 1000,
	ICMP_PER_SECOND = 100,
	/* Events the agent must see at once; the rest wait for its tick. */
	URGENT_EVENTS = WGX_EV_WANT_HANDSHAKE | WGX_EV_KEY_CONFIRMED |
			WGX_EV_LASTMINUTE_REKEY,
};

struct rx_ctx;
struct tx_ctx;

struct sock_dp {
	struct wgx_datapath dp;
	int fd4, fd6, tun_fd, stop_fd;
	unsigned int offloads; /* usable ones; fixed once the threads run */
	pthread_t rx, tx;
	bool rx_started, tx_started;
	/* Allocated before the threads start, so a thread cannot fail. */
	struct rx_ctx *rxc;
	struct tx_ctx *txc;
	/* ICMP errors sent back into the TUN: a token bucket (TX thread). */
	uint64_t icmp_tokens, icmp_last_ns;
};

/* Counters of one batch, added to the device's in one go. */
struct tally {
	uint64_t pkts[WGX_STAT_COUNT];
	uint64_t bytes[WGX_STAT_COUNT];
	/* Bytes for one peer, flushed when another comes or the batch ends,
	 * always under the read lock (the peer may go once it is dropped). */
	struct wgx_peer *peer;
	uint64_t peer_bytes;
	/* The peer whose last_sent_ns / last_received_ns this batch set. */
	struct wgx_peer *stamped;
	bool rx;
};

static void tally(struct tally *t, enum wgx_stat_id id, uint64_t bytes)
{
	t->pkts[id]++;
	t->bytes[id] += bytes;
}

static void tally_peer_flush(struct tally *t)
{
	if (!t->peer)
		return;
	atomic_fetch_add_explicit(t->rx ? &t->peer->rx_bytes
					: &t->peer->tx_bytes,
				  t->peer_bytes, memory_order_relaxed);
	t->peer = NULL;
	t->peer_bytes = 0;
}

static void tally_peer(struct tally *t, struct wgx_peer *p, uint64_t bytes)
{
	if (t->peer != p)
		tally_peer_flush(t);
	t->peer = p;
	t->peer_bytes += bytes;
}

/*
 * When data last went out or came in, for the agent to order the events
 * (device.c). The time is the batch's, so once per peer and batch does,
 * before the events are raised; after the lock was dropped the peer may
 * be another at the same address, so the caller forgets it then.
 */
static void tally_stamp(struct tally *t, struct wgx_peer *p, uint64_t now)
{
	if (t->stamped == p)
		return;
	atomic_store_explicit(t->rx ? &p->last_received_ns : &p->last_sent_ns,
			      now, memory_order_relaxed);
	t->stamped = p;
}

static void tally_flush(struct tally *t, struct wgx_stats *s)
{
	for (int id = 0; id < WGX_STAT_COUNT; id++) {
		if (!t->pkts[id])
			continue;
		atomic_fetch_add_explicit(&s->packets[id], t->pkts[id],
					  memory_order_relaxed);
		atomic_fetch_add_explicit(&s->bytes[id], t->bytes[id],
					  memory_order_relaxed);
		t->pkts[id] = t->bytes[id] = 0;
	}
}

static void raise_event(struct wgx_peer *p, unsigned int ev, bool *wake)
{
	if (wgx_peer_raise(p, ev) && (ev & URGENT_EVENTS))
		*wake = true;
}

/*
 * A keypair that wants a rekey says so on every packet until the new
 * session exists; ask the agent at most once a second, not per batch.
 */
static bool rekey_ask_due(struct wgx_keypair *kp, uint64_t now)
{
	uint64_t last =
		atomic_load_explicit(&kp->rekey_asked_ns, memory_order_relaxed);

	if (last && now - last < 1000000000ULL)
		return false;
	return atomic_compare_exchange_strong(&kp->rekey_asked_ns, &last, now);
}

/* Buffers that held plaintext are wiped before they are freed. */
static void free_wiped(void *p, size_t len)
{
	if (!p)
		return;
	wgx_crypto_wipe(p, len);
	free(p);
}

/* Wait for input as an offline RCU reader: a sleeping thread holds no
 * pointer and must not hold up the agent's grace periods. */
static int sleep_on(struct pollfd *pfd, nfds_t n)
{
	int ret;

	wgx_rcu_offline();
	ret = poll(pfd, n, IDLE_MS);
	wgx_rcu_online();
	return ret;
}

/* ---- receive ---------------------------------------------------------- */

/* One decrypted datagram waiting to be written to the TUN. */
struct rx_pkt {
	uint8_t *
		p; /* the inner packet; WGX_DATA_HEADER_LEN free bytes before */
	uint32_t len;
};

struct rx_ctx {
	struct wgx_aead *aead;
	struct mmsghdr msg[RX_MSGS];
	struct iovec iov[RX_MSGS];
	union wgx_sockaddr addr[RX_MSGS];
	uint8_t ctrl[RX_MSGS][CMSG_SPACE(sizeof(int))];
	uint8_t *buf[RX_MSGS];
	struct rx_pkt pkt[RX_DGRAMS];
	unsigned int npkt;
	struct iovec wiov[RX_GRO_SEGS];
	struct tally t;
	/* The last receiver index found; forgotten when the lock is. */
	struct wgx_index_entry last;
	bool tun_gro; /* merge TCP segments on TUN writes */
	/* Endpoint already set for this peer from this message. */
	struct wgx_peer *ep_peer;
	int ep_msg;
	bool wake;
};

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

/* Cryptokey routing, inbound: the inner source must belong to the peer. */
static bool source_allowed(struct wgx_device *dev, struct wgx_peer *p,
			   const uint8_t *pkt)
{
	if ((pkt[0] >> 4) == 4)
		return wgx_allowedips_lookup(&dev->allowedips, AF_INET,
					     pkt + 12) == p;
	return wgx_allowedips_lookup(&dev->allowedips, AF_INET6, pkt + 8) == p;
}

/* open() failures that happen after the tag and the replay check passed. */
static bool inner_error(int err)
{
	return err == -EPROTONOSUPPORT || err == -EOVERFLOW;
}

/* A message from p verified: roaming, byte count, events. */
static void rx_authenticated(struct rx_ctx *c, struct wgx_peer *p,
			     struct wgx_keypair *kp, int m, size_t len,
			     uint64_t now)
{
	union wgx_sockaddr cur;
	bool has;

	/* Roaming, once per peer and message (a GRO run has one source);
	 * compare first, so the common case takes no write. */
	if (c->ep_peer != p || c->ep_msg != m) {
		wgx_peer_get_endpoint(p, &cur, &has);
		if (!has || !wgx_sockaddr_equal(&cur, &c->addr[m]))
			wgx_peer_set_endpoint(p, &c->addr[m]);
		c->ep_peer = p;
		c->ep_msg = m;
	}
	tally_peer(&c->t, p, len);
	raise_event(p, WGX_EV_AUTH_RECEIVED | WGX_EV_TRAVERSAL, &c->wake);
	if (kp == p->keypairs.next) {
		atomic_store(&p->confirmed, kp);
		raise_event(p, WGX_EV_KEY_CONFIRMED, &c->wake);
	}
	if (kp == p->keypairs.current && wgx_transport_rekey_on_recv(kp, now) &&
	    rekey_ask_due(kp, now))
		raise_event(p, WGX_EV_LASTMINUTE_REKEY, &c->wake);
}

/* Decrypt one data message in place; returns the inner length or 0. */
static int rx_data(struct sock_dp *s, struct rx_ctx *c, uint8_t *buf,
		   size_t len, int m, uint64_t now)
{
	struct wgx_device *dev = s->dp.dev;
	uint8_t *out = buf + WGX_DATA_HEADER_LEN;
	struct wgx_index_entry *e = &c->last;
	struct wgx_keypair *kp;
	struct wgx_peer *p;
	uint32_t index;
	int n;

	/* Datagrams of a GRO run sit at any offset: no aligned loads. */
	memcpy(&index, buf + 4, sizeof(index));
	index = le32toh(index);
	/* A run is one session: the previous answer holds under the lock. */
	if ((!e->index || e->index != index) &&
	    !wgx_index_lookup(dev->indices, index, WGX_INDEX_KEYPAIR, e)) {
		e->index = 0;
		tally(&c->t, WGX_STAT_DROP_UNKNOWN_INDEX, len);
		return 0;
	}
	kp = e->ptr;
	p = e->owner;
	n = wgx_transport_open(c->aead, kp, buf, len, out, len, now);
	if (n < 0 && !inner_error(n)) {
		tally(&c->t, open_error_stat(n), len);
		return 0;
	}
	/* Authenticated and not a replay: now it may move the endpoint. */
	rx_authenticated(c, p, kp, m, len, now);
	if (n == 0) {
		tally(&c->t, WGX_STAT_RX_KEEPALIVE, len);
		return 0;
	}
	/* Data, even if unusable, counts for the timers (as the kernel). */
	tally_stamp(&c->t, p, now);
	raise_event(p, WGX_EV_DATA_RECEIVED, &c->wake);
	if (n < 0) {
		tally(&c->t, open_error_stat(n), len);
		return 0;
	}
	if (!source_allowed(dev, p, out)) {
		tally(&c->t, WGX_STAT_DROP_ALLOWEDIPS, len);
		return 0;
	}
	tally(&c->t, WGX_STAT_RX_DATA, len);
	return n;
}

static void rx_one(struct sock_dp *s, struct rx_ctx *c, uint8_t *buf,
		   size_t len, int m, uint64_t now)
{
	struct wgx_device *dev = s->dp.dev;
	int n;

	if (len < 4 || buf[1] || buf[2] || buf[3]) {
		tally(&c->t, WGX_STAT_DROP_MALFORMED, len);
	} else if (buf[0] == WGX_MSG_DATA && len >= WGX_MSG_DATA_MIN_LEN) {
		n = rx_data(s, c, buf, len, m, now);
		if (n > 0)
			c->pkt[c->npkt++] =
				(struct rx_pkt){ .p = buf + WGX_DATA_HEADER_LEN,
						 .len = (uint32_t)n };
	} else if (handshake_size_ok(buf[0], len)) {
		wgx_device_queue_handshake(dev, buf, len, &c->addr[m]);
		c->wake = true;
	} else {
		tally(&c->t, WGX_STAT_DROP_MALFORMED, len);
	}
}

static void tun_write_failed(struct tally *t, const struct rx_pkt *pk,
			     unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		tally(t, WGX_STAT_DROP_TUN_ERROR, pk[i].len);
}

/* Write n packets one by one, each after a zero virtio header. */
static void rx_write_each(struct sock_dp *s, struct rx_ctx *c,
			  struct rx_pkt *pk, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		uint8_t *hdr = pk[i].p - WGX_VNET_HDR_LEN;

		memset(hdr, 0, WGX_VNET_HDR_LEN);
		if (write(s->tun_fd, hdr, pk[i].len + WGX_VNET_HDR_LEN) < 0)
			tun_write_failed(&c->t, &pk[i], 1);
	}
}

/*
 * Write pkt[0..] to the TUN, merging what follows the first into it when
 * it can; returns how many packets went. The virtio header goes into the
 * free bytes before the first packet. A kernel that refuses a merged
 * write gets the head's header back and every packet alone, and no more
 * merges from this thread.
 */
static unsigned int rx_write_vnet(struct sock_dp *s, struct rx_ctx *c,
				  struct rx_pkt *pk, unsigned int avail)
{
	uint8_t *hdr = pk[0].p - WGX_VNET_HDR_LEN;
	uint8_t saved[WGX_GRO_HDR_MAX];
	struct wgx_vnet_hdr vh = { 0 };
	unsigned int n = 1;
	struct wgx_gro g;

	c->wiov[0] = (struct iovec){ hdr, pk[0].len + WGX_VNET_HDR_LEN };
	if (c->tun_gro && avail > 1 && wgx_gro_start(&g, pk[0].p, pk[0].len)) {
		while (n < avail &&
		       wgx_gro_append(&g, pk[n].p, pk[n].len, RX_GRO_SEGS)) {
			c->wiov[n] = (struct iovec){ pk[n].p + g.hdr_len,
						     pk[n].len - g.hdr_len };
			n++;
		}
		memcpy(saved, pk[0].p, g.hdr_len);
		wgx_gro_finish(&g, &vh);
	}
	memcpy(hdr, &vh, sizeof(vh));
	if (writev(s->tun_fd, c->wiov, (int)n) >= 0)
		return n;
	if (n > 1 && errno == EINVAL) {
		wgx_log_warn("TUN refused a merged TCP write: writing "
			     "segments one by one");
		c->tun_gro = false;
		memcpy(pk[0].p, saved, g.hdr_len);
		rx_write_each(s, c, pk, n);
		return n;
	}
	tun_write_failed(&c->t, pk, n);
	return n;
}

/* Deliver what was decrypted: wake the agent first, so a key
 * confirmation beats the reply it causes. */
static void rx_deliver(struct sock_dp *s, struct rx_ctx *c)
{
	struct wgx_device *dev = s->dp.dev;
	unsigned int i = 0;

	if (c->wake)
		wgx_device_wake(dev);
	c->wake = false;
	while (i < c->npkt) {
		if (s->offloads & WGX_DP_TUN_VNET) {
			i += rx_write_vnet(s, c, &c->pkt[i], c->npkt - i);
			continue;
		}
		if (write(s->tun_fd, c->pkt[i].p, c->pkt[i].len) < 0)
			tun_write_failed(&c->t, &c->pkt[i], 1);
		i++;
	}
	c->npkt = 0;
	tally_flush(&c->t, &dev->stats);
}

/* The size of each datagram of a GRO run, or len for a lone one. */
static size_t gro_size(struct msghdr *mh, size_t len)
{
	struct cmsghdr *cm;
	int size;

	for (cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level != SOL_UDP || cm->cmsg_type != UDP_GRO)
			continue;
		memcpy(&size, CMSG_DATA(cm), sizeof(size));
		if (size > 0 && (size_t)size < len)
			return (size_t)size;
	}
	return len;
}

/* The per-batch lock of the device's state (the index table needs none). */
static void rx_lock(struct wgx_device *dev, struct rx_ctx *c)
{
	pthread_rwlock_rdlock(&dev->lock);
	c->ep_peer = NULL;
	c->t.stamped = NULL;
	c->last.index = 0;
}

static void rx_unlock(struct wgx_device *dev, struct rx_ctx *c)
{
	tally_peer_flush(&c->t);
	pthread_rwlock_unlock(&dev->lock);
}

static void rx_batch(struct sock_dp *s, struct rx_ctx *c, int count)
{
	struct wgx_device *dev = s->dp.dev;
	uint64_t now = wgx_now();

	rx_lock(dev, c);
	for (int m = 0; m < count; m++) {
		struct msghdr *mh = &c->msg[m].msg_hdr;
		size_t len = c->msg[m].msg_len, size, off;

		/* An empty datagram is one too: split nothing, count it. */
		if (!len || (mh->msg_flags & MSG_TRUNC)) {
			tally(&c->t, WGX_STAT_DROP_MALFORMED, len);
			continue;
		}
		size = gro_size(mh, len);
		for (off = 0; off < len; off += size) {
			if (c->npkt == RX_DGRAMS) {
				rx_unlock(dev, c);
				rx_deliver(s, c);
				rx_lock(dev, c);
			}
			rx_one(s, c, c->buf[m] + off,
			       len - off < size ? len - off : size, m, now);
		}
	}
	rx_unlock(dev, c);
	rx_deliver(s, c);
}

static void rx_prepare(struct rx_ctx *c)
{
	for (int i = 0; i < RX_MSGS; i++) {
		struct msghdr *mh = &c->msg[i].msg_hdr;

		c->iov[i] = (struct iovec){ c->buf[i], RX_BUF };
		memset(mh, 0, sizeof(*mh));
		mh->msg_iov = &c->iov[i];
		mh->msg_iovlen = 1;
		mh->msg_name = &c->addr[i];
		mh->msg_namelen = sizeof(c->addr[i]);
		mh->msg_control = c->ctrl[i];
		mh->msg_controllen = sizeof(c->ctrl[i]);
	}
}

static void drain_socket(struct sock_dp *s, struct rx_ctx *c, int fd)
{
	for (int rounds = 0; rounds < 16; rounds++) {
		int n;

		rx_prepare(c);
		n = recvmmsg(fd, c->msg, RX_MSGS, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return;
		rx_batch(s, c, n);
		if (n < RX_MSGS)
			return;
	}
}

static void rx_free(struct rx_ctx *c)
{
	if (!c)
		return;
	for (int i = 0; i < RX_MSGS; i++)
		free_wiped(c->buf[i], RX_BUF);
	wgx_aead_free(c->aead);
	free(c);
}

static struct rx_ctx *rx_new(bool tun_gro)
{
	struct rx_ctx *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->t.rx = true;
	c->tun_gro = tun_gro;
	c->aead = wgx_aead_new(WGX_AEAD_DEFAULT);
	for (int i = 0; i < RX_MSGS; i++) {
		c->buf[i] = malloc(RX_BUF);
		if (!c->buf[i])
			break;
	}
	if (!c->aead || !c->buf[RX_MSGS - 1]) {
		rx_free(c);
		return NULL;
	}
	return c;
}

static void *rx_thread(void *arg)
{
	struct sock_dp *s = arg;
	struct pollfd pfd[3] = { { .fd = s->stop_fd, .events = POLLIN },
				 { .fd = s->fd4, .events = POLLIN },
				 { .fd = s->fd6, .events = POLLIN } };

	wgx_rcu_register();
	for (;;) {
		int n = sleep_on(pfd, 3);

		if (n < 0 && errno != EINTR)
			break;
		if (n == 0) {
			/* Idle: no key should linger in the crypto context. */
			wgx_aead_forget(s->rxc->aead);
			continue;
		}
		if (pfd[0].revents)
			break;
		for (int i = 1; i < 3; i++)
			if (pfd[i].revents & POLLIN)
				drain_socket(s, s->rxc, pfd[i].fd);
		wgx_rcu_quiescent();
	}
	wgx_rcu_unregister();
	return NULL;
}

/* ---- send ------------------------------------------------------------- */

/* One packet in the send area: sealed (wire > 0) or dropped. */
struct tx_pkt {
	uint8_t *p; /* the data message; the inner packet was at p + 16 */
	uint32_t wire;
	uint32_t inner; /* inner length, for an ICMP answer */
	bool icmp;	/* dropped for want of a route: answer it */
	union wgx_sockaddr to;
};

struct tx_ctx {
	struct wgx_aead *aead;
	uint8_t *area; /* what the TUN reads went to */
	size_t area_len;
	uint32_t rd_off[TX_READS], rd_len[TX_READS];
	unsigned int nrd;
	uint8_t *out; /* the send area */
	size_t out_cap, out_used;
	struct tx_pkt pkt[TX_PKTS];
	unsigned int npkt;
	/* sendmmsg: one message per datagram or GSO run. */
	struct mmsghdr mm[TX_PKTS];
	struct iovec iov[TX_PKTS];
	uint8_t ctrl[TX_PKTS][CMSG_SPACE(sizeof(uint16_t))];
	unsigned int mm_first[TX_PKTS], mm_count[TX_PKTS];
	struct tally t;
	bool wake;
	bool gso; /* UDP GSO usable: cleared for good if the kernel refuses */
};

/* At most ICMP_PER_SECOND errors into the TUN, with a burst of as many. */
static bool icmp_allowed(struct sock_dp *s, uint64_t now)
{
	const uint64_t cost = 1000000000ULL / ICMP_PER_SECOND;
	const uint64_t max = cost * ICMP_PER_SECOND;

	s->icmp_tokens += now - s->icmp_last_ns;
	if (s->icmp_tokens > max)
		s->icmp_tokens = max;
	s->icmp_last_ns = now;
	if (s->icmp_tokens < cost)
		return false;
	s->icmp_tokens -= cost;
	return true;
}

static void tx_icmp(struct sock_dp *s, const uint8_t *pkt, size_t len)
{
	struct wgx_device *dev = s->dp.dev;
	const uint8_t *from = NULL;
	uint8_t buf[WGX_VNET_HDR_LEN + 1280] = { 0 };
	size_t hdr = (s->offloads & WGX_DP_TUN_VNET) ? WGX_VNET_HDR_LEN : 0;
	int n;

	if (!icmp_allowed(s, wgx_now()))
		return;
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
	if (n > 0 && write(s->tun_fd, buf, hdr + (size_t)n) < 0)
		wgx_stats_add(&dev->stats, WGX_STAT_DROP_TUN_ERROR,
			      (uint64_t)n);
}

/*
 * Route, stage or seal the inner packet at p + 16 in place; returns the
 * wire length or 0. cap is the room at p.
 */
static int tx_one(struct sock_dp *s, struct tx_ctx *c, uint8_t *p, size_t len,
		  size_t cap, struct tx_pkt *tp, uint64_t now)
{
	struct wgx_device *dev = s->dp.dev;
	const uint8_t *pkt = p + WGX_DATA_HEADER_LEN;
	struct wgx_keypair *kp;
	struct wgx_peer *peer;
	struct wgx_ippkt_info info;
	bool has;
	int n;

	if (wgx_ippkt_parse(pkt, len, &info) < 0) {
		tally(&c->t, WGX_STAT_DROP_MALFORMED, len);
		return 0;
	}
	peer = wgx_allowedips_lookup(&dev->allowedips, info.family, info.daddr);
	if (!peer) {
		tally(&c->t, WGX_STAT_DROP_NO_ROUTE, len);
		tp->icmp = true;
		return 0;
	}
	wgx_peer_get_endpoint(peer, &tp->to, &has);
	if (!has) {
		tally(&c->t, WGX_STAT_DROP_NO_ENDPOINT, len);
		tp->icmp = true;
		return 0;
	}
	kp = wgx_keypairs_send_keypair(&peer->keypairs, now);
	n = kp ? wgx_transport_seal(c->aead, kp, pkt, len, dev->mtu, p, cap,
				    now)
	       : -ENOKEY;
	if (n == -EMSGSIZE) {
		tally(&c->t, WGX_STAT_DROP_MALFORMED, len);
		return 0;
	}
	if (n < 0) {
		/* No usable session: wait for the handshake. */
		if (!wgx_peer_stage(peer, pkt, len))
			tally(&c->t, WGX_STAT_DROP_STAGED_OVERFLOW, len);
		tally(&c->t, WGX_STAT_STAGED, len);
		raise_event(peer, WGX_EV_WANT_HANDSHAKE, &c->wake);
		return 0;
	}
	tally_peer(&c->t, peer, (uint64_t)n);
	tally_stamp(&c->t, peer, now);
	raise_event(peer,
		    WGX_EV_DATA_SENT | WGX_EV_AUTH_SENT | WGX_EV_TRAVERSAL,
		    &c->wake);
	if (wgx_transport_rekey_on_send(kp, now) && rekey_ask_due(kp, now))
		raise_event(peer, WGX_EV_WANT_HANDSHAKE, &c->wake);
	return n;
}

/* Packets i.. that can leave as one GSO send: back to back in the area,
 * one endpoint, one size (the last may be shorter). */
static unsigned int gso_run(const struct tx_ctx *c, unsigned int i)
{
	const struct tx_pkt *a = &c->pkt[i];
	size_t total = a->wire;
	unsigned int j = i + 1;

	if (!c->gso)
		return 1;
	for (; j < c->npkt && j - i < GSO_MAX_SEGS; j++) {
		const struct tx_pkt *b = &c->pkt[j], *prev = &c->pkt[j - 1];

		if (!b->wire || b->wire > a->wire || prev->wire != a->wire ||
		    b->p != prev->p + prev->wire ||
		    total + b->wire > GSO_MAX_BYTES ||
		    !wgx_sockaddr_equal(&b->to, &a->to))
			break;
		total += b->wire;
	}
	return j - i;
}

/* One sendmmsg message for packets first..first+count-1. */
static void tx_message(struct tx_ctx *c, unsigned int k, unsigned int first,
		       unsigned int count)
{
	struct tx_pkt *a = &c->pkt[first];
	struct msghdr *mh = &c->mm[k].msg_hdr;
	size_t total = 0;

	for (unsigned int i = first; i < first + count; i++)
		total += c->pkt[i].wire;
	c->iov[k] = (struct iovec){ a->p, total };
	memset(mh, 0, sizeof(*mh));
	mh->msg_iov = &c->iov[k];
	mh->msg_iovlen = 1;
	mh->msg_name = &a->to;
	mh->msg_namelen = wgx_sockaddr_len(&a->to);
	c->mm_first[k] = first;
	c->mm_count[k] = count;
	if (count > 1) {
		struct cmsghdr *cm;
		uint16_t size = (uint16_t)a->wire;

		mh->msg_control = c->ctrl[k];
		mh->msg_controllen = sizeof(c->ctrl[k]);
		cm = CMSG_FIRSTHDR(mh);
		cm->cmsg_level = SOL_UDP;
		cm->cmsg_type = UDP_SEGMENT;
		cm->cmsg_len = CMSG_LEN(sizeof(size));
		memcpy(CMSG_DATA(cm), &size, sizeof(size));
	}
}

static void tx_count(struct tx_ctx *c, unsigned int k, enum wgx_stat_id id)
{
	for (unsigned int i = 0; i < c->mm_count[k]; i++)
		tally(&c->t, id, c->pkt[c->mm_first[k] + i].wire);
}

/* Wait (bounded) until fd can take more, or the datapath stops. */
static bool wait_writable(struct sock_dp *s, int fd)
{
	struct pollfd pfd[2] = { { .fd = fd, .events = POLLOUT },
				 { .fd = s->stop_fd, .events = POLLIN } };

	return poll(pfd, 2, 100) > 0 && (pfd[0].revents & POLLOUT) &&
	       !pfd[1].revents;
}

/* Send message k's datagrams one by one (GSO refused). */
static void tx_split(struct tx_ctx *c, int fd, unsigned int k)
{
	for (unsigned int i = 0; i < c->mm_count[k]; i++) {
		struct tx_pkt *tp = &c->pkt[c->mm_first[k] + i];

		if (sendto(fd, tp->p, tp->wire, 0, &tp->to.sa,
			   wgx_sockaddr_len(&tp->to)) < 0)
			tally(&c->t, WGX_STAT_DROP_SEND_ERROR, tp->wire);
		else
			tally(&c->t, WGX_STAT_TX_DATA, tp->wire);
	}
}

/*
 * How a kernel says no to a UDP_SEGMENT send: EIO (no checksum offload on
 * older kernels), EINVAL (a segment over the route's MTU, too many
 * segments), EMSGSIZE (the same with don't-fragment).
 */
static bool gso_refusal(int err)
{
	return err == EIO || err == EINVAL || err == EMSGSIZE;
}

static void gso_refused(struct sock_dp *s, struct tx_ctx *c, int err)
{
	c->gso = false;
	atomic_fetch_and(&s->dp.offloads, ~(unsigned int)WGX_DP_UDP_GSO);
	wgx_log_warn("UDP GSO refused by the kernel (%s): sending datagrams "
		     "one by one",
		     strerror(err));
}

/* Send messages mm[from..to) of one address family. */
static void tx_send_fd(struct sock_dp *s, struct tx_ctx *c, int fd,
		       unsigned int from, unsigned int to)
{
	unsigned int done = from, waits = 0;

	while (done < to) {
		int r = -1, err = EAFNOSUPPORT;

		if (c->mm_count[done] > 1 && !c->gso) {
			tx_split(c, fd, done++);
			continue;
		}
		if (fd >= 0) {
			r = sendmmsg(fd, c->mm + done, to - done, 0);
			err = errno;
		}
		if (r > 0) {
			for (int k = 0; k < r; k++)
				tx_count(c, done + (unsigned int)k,
					 WGX_STAT_TX_DATA);
			done += (unsigned int)r;
			continue;
		}
		if (err == EINTR)
			continue;
		if ((err == EAGAIN || err == ENOBUFS) && waits++ < 10 &&
		    wait_writable(s, fd))
			continue;
		if (c->mm_count[done] > 1 && gso_refusal(err)) {
			gso_refused(s, c, err);
			continue;
		}
		/* Count the first failure and skip it. */
		tx_count(c, done++, WGX_STAT_DROP_SEND_ERROR);
	}
}

static void tx_send(struct sock_dp *s, struct tx_ctx *c)
{
	unsigned int n = 0, k = 0;

	for (unsigned int i = 0; i < c->npkt;) {
		unsigned int run;

		if (!c->pkt[i].wire) {
			i++;
			continue;
		}
		run = gso_run(c, i);
		tx_message(c, n++, i, run);
		i += run;
	}
	/* Consecutive messages of one family go in one sendmmsg. */
	while (k < n) {
		unsigned int end = k + 1;
		bool v6 = c->pkt[c->mm_first[k]].to.sa.sa_family == AF_INET6;

		while (end < n && (c->pkt[c->mm_first[end]].to.sa.sa_family ==
				   AF_INET6) == v6)
			end++;
		tx_send_fd(s, c, v6 ? s->fd6 : s->fd4, k, end);
		k = end;
	}
}

/* Send what was sealed, answer what had no route, empty the area. */
static void tx_flush(struct sock_dp *s, struct tx_ctx *c)
{
	struct wgx_device *dev = s->dp.dev;

	tx_send(s, c);
	for (unsigned int i = 0; i < c->npkt; i++)
		if (c->pkt[i].icmp)
			tx_icmp(s, c->pkt[i].p + WGX_DATA_HEADER_LEN,
				c->pkt[i].inner);
	if (c->wake)
		wgx_device_wake(dev);
	c->wake = false;
	c->npkt = 0;
	c->out_used = 0;
	tally_flush(&c->t, &dev->stats);
}

/* Cut, place and seal the segments of one packet read from the TUN. */
static void tx_packet(struct sock_dp *s, struct tx_ctx *c, uint8_t *rd,
		      size_t len, uint64_t now)
{
	static const struct wgx_vnet_hdr none;
	struct wgx_device *dev = s->dp.dev;
	const struct wgx_vnet_hdr *vh = &none;
	struct wgx_vnet_hdr copy;
	struct wgx_gso g;
	int nsegs;

	if (s->offloads & WGX_DP_TUN_VNET) {
		if (len < WGX_VNET_HDR_LEN) {
			tally(&c->t, WGX_STAT_DROP_MALFORMED, len);
			return;
		}
		memcpy(&copy, rd, sizeof(copy));
		vh = &copy;
		rd += WGX_VNET_HDR_LEN;
		len -= WGX_VNET_HDR_LEN;
	}
	nsegs = wgx_gso_prepare(&g, vh, rd, len);
	if (nsegs < 0) {
		tally(&c->t, WGX_STAT_DROP_MALFORMED, len);
		return;
	}
	for (unsigned int i = 0; i < (unsigned int)nsegs; i++) {
		size_t sl = wgx_gso_seg_len(&g, i), room = sl + 48;
		struct tx_pkt *tp;
		uint8_t *p;
		int wire;

		if (sl > dev->mtu) {
			tally(&c->t, WGX_STAT_DROP_MALFORMED, sl);
			continue;
		}
		if (c->npkt == TX_PKTS || c->out_used + room > c->out_cap) {
			/* Full: send what is sealed, outside the lock. */
			tally_peer_flush(&c->t);
			pthread_rwlock_unlock(&dev->lock);
			tx_flush(s, c);
			pthread_rwlock_rdlock(&dev->lock);
			c->t.stamped = NULL;
		}
		tp = &c->pkt[c->npkt++];
		p = c->out + c->out_used;
		*tp = (struct tx_pkt){ .p = p, .inner = (uint32_t)sl };
		wgx_gso_write(&g, i, p + WGX_DATA_HEADER_LEN);
		wire = tx_one(s, c, p, sl, c->out_cap - c->out_used, tp, now);
		tp->wire = wire > 0 ? (uint32_t)wire : 0;
		/* A packet to answer keeps its bytes until the answer. */
		c->out_used += wire > 0	  ? (size_t)wire
			       : tp->icmp ? WGX_DATA_HEADER_LEN + sl
					  : 0;
	}
}

static void tx_batch(struct sock_dp *s, struct tx_ctx *c)
{
	struct wgx_device *dev = s->dp.dev;
	uint64_t now = wgx_now();

	pthread_rwlock_rdlock(&dev->lock);
	c->t.stamped = NULL;
	for (unsigned int r = 0; r < c->nrd; r++)
		tx_packet(s, c, c->area + c->rd_off[r], c->rd_len[r], now);
	tally_peer_flush(&c->t);
	pthread_rwlock_unlock(&dev->lock);
	tx_flush(s, c);
}

/* Read what the TUN has, up to a batch. */
static unsigned int tx_read(struct sock_dp *s, struct tx_ctx *c)
{
	size_t used = 0, max = (s->offloads & WGX_DP_TUN_VNET)
				       ? TX_READ_MAX
				       : s->dp.dev->mtu + 64u;

	c->nrd = 0;
	while (c->nrd < TX_READS && c->area_len - used >= max) {
		ssize_t n = read(s->tun_fd, c->area + used, max);

		if (n <= 0)
			break;
		c->rd_off[c->nrd] = (uint32_t)used;
		c->rd_len[c->nrd++] = (uint32_t)n;
		/* Keep the next read 16-byte aligned. */
		used += ((size_t)n + 15) & ~(size_t)15;
	}
	return c->nrd;
}

static void tx_free(struct tx_ctx *c)
{
	if (!c)
		return;
	free_wiped(c->area, c->area_len);
	free_wiped(c->out, c->out_cap);
	wgx_aead_free(c->aead);
	free(c);
}

static struct tx_ctx *tx_new(uint32_t mtu, bool gso)
{
	struct tx_ctx *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->gso = gso;
	c->aead = wgx_aead_new(WGX_AEAD_DEFAULT);
	c->area_len = TX_AREA;
	c->area = malloc(c->area_len);
	/* Room for a full batch of full-size packets. */
	c->out_cap = (size_t)TX_PKTS * (mtu + 64u);
	c->out = malloc(c->out_cap);
	if (!c->aead || !c->area || !c->out) {
		tx_free(c);
		return NULL;
	}
	return c;
}

static void *tx_thread(void *arg)
{
	struct sock_dp *s = arg;
	struct pollfd pfd[2] = { { .fd = s->stop_fd, .events = POLLIN },
				 { .fd = s->tun_fd, .events = POLLIN } };

	wgx_rcu_register();
	for (;;) {
		int n = sleep_on(pfd, 2);

		if (n < 0 && errno != EINTR)
			break;
		if (n == 0) {
			wgx_aead_forget(s->txc->aead);
			continue;
		}
		if (pfd[0].revents)
			break;
		if (tx_read(s, s->txc))
			tx_batch(s, s->txc);
		wgx_rcu_quiescent();
	}
	wgx_rcu_unregister();
	return NULL;
}

/* ---- sockets ---------------------------------------------------------- */

static int open_socket(int family, const char *iface, uint16_t port,
		       uint32_t fwmark)
{
	union wgx_sockaddr a;
	int fd, one = 1, size = 4 << 20, err;

	fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	memset(&a, 0, sizeof(a));
	if (family == AF_INET6) {
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		a.in6.sin6_family = AF_INET6;
		a.in6.sin6_port = htons(port);
	} else {
		a.in4.sin_family = AF_INET;
		a.in4.sin_port = htons(port);
	}
	/* Bigger buffers absorb bursts between two batches. */
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size));
	if (fwmark &&
	    setsockopt(fd, SOL_SOCKET, SO_MARK, &fwmark, sizeof(fwmark)) < 0)
		goto fail;
	if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, iface,
		       (socklen_t)strlen(iface)) < 0)
		goto fail;
	if (bind(fd, &a.sa, wgx_sockaddr_len(&a)) < 0)
		goto fail;
	return fd;
fail:
	err = -errno;
	close(fd);
	return err;
}

/* Keep only the UDP offloads every open socket has. */
static unsigned int udp_offloads(int fd, unsigned int want)
{
	int one = 1, size;
	socklen_t len = sizeof(size);

	if (fd < 0)
		return want;
	/* Kernels with UDP_SEGMENT (4.18) answer for it. */
	if (getsockopt(fd, SOL_UDP, UDP_SEGMENT, &size, &len) < 0)
		want &= ~(unsigned int)WGX_DP_UDP_GSO;
	if ((want & WGX_DP_UDP_GRO) &&
	    setsockopt(fd, SOL_UDP, UDP_GRO, &one, sizeof(one)) < 0)
		want &= ~(unsigned int)WGX_DP_UDP_GRO;
	return want;
}

static uint16_t bound_port(int fd)
{
	union wgx_sockaddr a;
	socklen_t len = sizeof(a);

	if (getsockname(fd, &a.sa, &len) < 0)
		return 0;
	return ntohs(a.sa.sa_family == AF_INET6 ? a.in6.sin6_port
						: a.in4.sin_port);
}

static int sock_send(struct wgx_datapath *dp, const union wgx_sockaddr *to,
		     const void *buf, size_t len)
{
	struct sock_dp *s = (struct sock_dp *)dp;
	int fd = to->sa.sa_family == AF_INET6 ? s->fd6 : s->fd4;

	if (fd < 0)
		return -EAFNOSUPPORT;
	if (sendto(fd, buf, len, 0, &to->sa, wgx_sockaddr_len(to)) < 0)
		return -errno;
	return 0;
}

static void sock_destroy(struct wgx_datapath *dp)
{
	struct sock_dp *s = (struct sock_dp *)dp;
	uint64_t one = 1;

	if (s->stop_fd >= 0 && write(s->stop_fd, &one, sizeof(one)) < 0)
		wgx_log_warn("Couldn't signal the datapath threads: %s",
			     strerror(errno));
	if (s->rx_started)
		pthread_join(s->rx, NULL);
	if (s->tx_started)
		pthread_join(s->tx, NULL);
	if (s->fd4 >= 0)
		close(s->fd4);
	if (s->fd6 >= 0)
		close(s->fd6);
	if (s->stop_fd >= 0)
		close(s->stop_fd);
	rx_free(s->rxc);
	tx_free(s->txc);
	free(s);
}

static const struct wgx_datapath_ops sock_ops = {
	.name = "socket",
	.send = sock_send,
	.destroy = sock_destroy,
};

static int open_sockets(struct sock_dp *s, const struct wgx_socket_opts *o)
{
	char names[64];
	int port = o->port;

	s->fd4 = open_socket(AF_INET, o->iface, (uint16_t)port, o->fwmark);
	if (s->fd4 < 0) {
		wgx_log_error("Couldn't bind UDP port %u on %s: %s", o->port,
			      o->iface, strerror(-s->fd4));
		return s->fd4;
	}
	port = bound_port(s->fd4);
	s->fd6 = open_socket(AF_INET6, o->iface, (uint16_t)port, o->fwmark);
	if (s->fd6 == -EAFNOSUPPORT) {
		wgx_log_info("IPv6 unavailable: IPv4 underlay only");
	} else if (s->fd6 < 0) {
		wgx_log_error("Couldn't bind UDP port %d (IPv6) on %s: %s",
			      port, o->iface, strerror(-s->fd6));
		return s->fd6;
	}
	s->dp.port = (uint16_t)port;
	s->offloads = udp_offloads(s->fd6, udp_offloads(s->fd4, s->offloads));
	atomic_store(&s->dp.offloads, s->offloads);
	wgx_dp_socket_format_offloads(s->offloads, names, sizeof(names));
	wgx_log_info("socket datapath offloads: %s", names);
	return 0;
}

static const struct {
	const char *name;
	unsigned int bits;
} offload_names[] = {
	{ "tun", WGX_DP_TUN_VNET },    { "tun-gro", WGX_DP_TUN_GRO },
	{ "udp-gso", WGX_DP_UDP_GSO }, { "udp-gro", WGX_DP_UDP_GRO },
	{ "all", WGX_DP_OFFLOAD_ALL }, { "none", 0 },
};

enum {
	N_OFFLOAD_NAMES = sizeof(offload_names) / sizeof(offload_names[0])
};

int wgx_dp_socket_parse_offloads(const char *s, unsigned int *out)
{
	unsigned int bits = 0;

	do {
		size_t len = strcspn(s, ","), i;

		for (i = 0; i < N_OFFLOAD_NAMES; i++)
			if (strlen(offload_names[i].name) == len &&
			    !strncmp(s, offload_names[i].name, len))
				break;
		if (i == N_OFFLOAD_NAMES)
			return -EINVAL;
		bits |= offload_names[i].bits;
		s += len;
	} while (*s++ == ',');
	*out = bits;
	return 0;
}

void wgx_dp_socket_format_offloads(unsigned int bits, char *buf, size_t len)
{
	size_t used = 0;

	if (!len)
		return;
	buf[0] = '\0';
	/* The single-bit names come first in the table. */
	for (size_t i = 0; i < N_OFFLOAD_NAMES; i++) {
		unsigned int b = offload_names[i].bits;

		if (!b || (b & (b - 1)) || !(bits & b))
			continue;
		used += (size_t)snprintf(buf + used, len - used, "%s%s",
					 used ? " " : "",
					 offload_names[i].name);
		if (used >= len)
			return;
	}
	if (!used)
		snprintf(buf, len, "none");
}

static unsigned int tun_offloads(unsigned int want)
{
	/* Merging needs the virtio header to describe the merge. */
	if (!(want & WGX_DP_TUN_VNET))
		want &= ~(unsigned int)WGX_DP_TUN_GRO;
	return want;
}

int wgx_dp_socket_create(struct wgx_device *dev,
			 const struct wgx_socket_opts *o,
			 struct wgx_datapath **out)
{
	struct sock_dp *s = calloc(1, sizeof(*s));
	int err;

	*out = NULL;
	if (!s)
		return -ENOMEM;
	s->dp.ops = &sock_ops;
	s->dp.dev = dev;
	s->fd4 = s->fd6 = -1;
	s->tun_fd = o->tun_fd;
	s->offloads = tun_offloads(o->offloads & WGX_DP_OFFLOAD_ALL);
	s->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (s->stop_fd < 0) {
		err = -errno;
		goto fail;
	}
	err = open_sockets(s, o);
	if (err)
		goto fail;
	s->rxc = rx_new(s->offloads & WGX_DP_TUN_GRO);
	s->txc = tx_new(dev->mtu, s->offloads & WGX_DP_UDP_GSO);
	if (!s->rxc || !s->txc) {
		wgx_log_error("Couldn't allocate datapath buffers");
		err = -ENOMEM;
		goto fail;
	}
	dev->dp = &s->dp;
	err = -pthread_create(&s->rx, NULL, rx_thread, s);
	if (err)
		goto fail;
	s->rx_started = true;
	err = -pthread_create(&s->tx, NULL, tx_thread, s);
	if (err)
		goto fail;
	s->tx_started = true;
	/* Named for top and perf. */
	pthread_setname_np(s->rx, "wgxdp-rx");
	pthread_setname_np(s->tx, "wgxdp-tx");
	*out = &s->dp;
	return 0;
fail:
	dev->dp = NULL;
	sock_destroy(&s->dp);
	return err;
}
