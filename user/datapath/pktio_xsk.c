// SPDX-License-Identifier: MIT
/*
 * One UMEM per socket, frames of 4 KiB, all of them on the fill ring at
 * first. A receive batch borrows the frames its datagrams sit in (they
 * are decrypted in place there) and the owner hands them back to the
 * fill ring when it fills that batch again (recycle), so a frame is
 * never copied and never freed. A batch takes at most FRAMES_PER_BATCH
 * frames, so with four batches in flight three quarters of the frames
 * stay on the fill ring.
 *
 * The frames hold whole Ethernet frames; frame.h finds the datagrams.
 *
 * Transmit has frames of its own behind the receive frames (so the fill
 * ring never waits for a send), on a free list: a sealed datagram is
 * copied into one behind the headers frame.h builds, the frame goes on
 * the TX ring, and comes back through the completion ring once the
 * kernel is done with it. Only the worker that owns the I/O sends on it.
 */
#include "datapath/pktio_xsk.h"

#include <dirent.h>
#include <errno.h>
#include <linux/ethtool.h>
#include <linux/if_xdp.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <xdp/xsk.h>

#include <bpf/bpf.h>

#include "core/crypto.h"
#include "datapath/frame.h"
#include "device/nexthop.h"
#include "wgx_bpf.h"
#include "util/log.h"

enum {
	FRAME_SIZE = WGX_XDP_XSK_FRAME,
	FRAMES = 4096, /* receive: every one on the fill ring at first */
	RING_SIZE = 4096,
	/* Frames one receive batch may hold. */
	FRAMES_PER_BATCH = 256,
	/* Transmit frames (and TX ring slots): two full send batches. */
	TX_FRAMES = 1024,
	/* Copy mode moves at most 32 frames per kick (the kernel's batch). */
	KICK_FRAMES = 32,
	/* A send buffer for the frames in flight in copy mode. */
	TX_SNDBUF = 8 << 20,
};

struct xsk_q {
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct xsk_ring_prod fill;
	struct xsk_ring_cons comp;
	struct xsk_ring_cons rx;
	struct xsk_ring_prod tx; /* with tx_on only */
	uint8_t *area;
	size_t area_size;
	unsigned int queue;
	bool zerocopy;
	bool tx_on;
	uint64_t rx_packets;
	uint64_t fill_short; /* times the fill ring had no room to refill */
	uint64_t tx_packets;
	/* Transmit frames not in the TX or completion ring. */
	uint64_t tx_free[TX_FRAMES];
	unsigned int n_free;
	uint16_t ip_id;
};

struct xsk_io {
	struct wgx_pktio io;
	struct wgx_pktio *sock; /* handshakes, passed data, fallback sends */
	/* Generic XDP: a frame may be a GSO or GRO run of datagrams. */
	bool runs;
	struct xsk_q q[WGX_XSK_PER_WORKER];
	unsigned int nq;
	unsigned int next_q; /* which queue to read first, in turn */
	/* Transmit: on q[0], to the next hops nh knows. */
	struct wgx_xsk_tx tx;
	uint8_t mac[6];		 /* the underlay's */
	uint32_t mtu;		 /* the underlay's */
	struct wgx_tx_send rest; /* what goes to the socket instead */
};

static const struct wgx_pktio_ops xsk_ops;

bool wgx_pktio_is_xsk(const struct wgx_pktio *io)
{
	return io && io->ops == &xsk_ops;
}

/* ---- receive ------------------------------------------------------------ */

/* The source index for this frame: the previous one if it is the same. */
static uint16_t add_source(struct wgx_rx_batch *b, const union wgx_sockaddr *s)
{
	if (b->nsrc && wgx_sockaddr_equal(&b->src[b->nsrc - 1], s))
		return (uint16_t)(b->nsrc - 1);
	b->src[b->nsrc] = *s;
	return (uint16_t)b->nsrc++;
}

/*
 * add_source, and for each new source the Ethernet address it came
 * from: the next hop back to it while the kernel knows none (nexthop.h).
 */
static uint16_t add_source_learn(struct xsk_io *x, struct wgx_rx_batch *b,
				 const union wgx_sockaddr *s, const uint8_t *f)
{
	unsigned int before = b->nsrc;
	uint16_t i = add_source(b, s);

	if (x->tx.on && b->nsrc != before)
		wgx_nh_learn(x->tx.nh, s, f + 6);
	return i;
}

/* The fill ring wants a kick in copy mode and on some drivers. */
static void kick_fill(struct xsk_q *q)
{
	if (xsk_ring_prod__needs_wakeup(&q->fill))
		recvfrom(xsk_socket__fd(q->xsk), NULL, 0, MSG_DONTWAIT, NULL,
			 NULL);
}

/* One datagram, or each of a run's (frame.h), into the batch. */
static void add_datagrams(struct xsk_io *x, struct wgx_rx_batch *b, uint8_t *p,
			  uint32_t len, uint16_t src)
{
	while (len && b->n < WGX_RX_MAX) {
		uint32_t one = x->runs ? wgx_frame_run_first(p, len) : len;

		b->d[b->n++] = (struct wgx_rx_dgram){ .data = p,
						      .len = one,
						      .src = src };
		p += one;
		len -= one;
	}
}

static void recv_queue(struct xsk_io *x, struct xsk_q *q,
		       struct wgx_rx_batch *b)
{
	unsigned int room = FRAMES_PER_BATCH - b->nlent, n, i;
	uint32_t idx = 0;

	if (room > WGX_RX_MAX - b->n)
		room = WGX_RX_MAX - b->n;
	if (room > WGX_RX_MAX - b->nsrc)
		room = WGX_RX_MAX - b->nsrc;
	n = room ? xsk_ring_cons__peek(&q->rx, room, &idx) : 0;
	for (i = 0; i < n; i++) {
		const struct xdp_desc *d =
			xsk_ring_cons__rx_desc(&q->rx, idx + i);
		uint64_t addr = xsk_umem__add_offset_to_addr(d->addr);
		uint8_t *f = xsk_umem__get_data(q->area, addr), *payload;
		union wgx_sockaddr src;
		uint32_t plen;

		/* Lent: the owner gives it back (the queue in the top bits). */
		b->lent[b->nlent++] = (uint64_t)(q - x->q) << 56 |
				      (addr & ~(uint64_t)(FRAME_SIZE - 1));
		if (!wgx_frame_udp_payload(f, d->len, &payload, &plen, &src)) {
			/* Counted as malformed by the classifier. */
			b->d[b->n++] =
				(struct wgx_rx_dgram){ .data = f, .len = 0 };
			continue;
		}
		add_datagrams(x, b, payload, plen,
			      add_source_learn(x, b, &src, f));
	}
	if (n) {
		xsk_ring_cons__release(&q->rx, n);
		/* One writer; show reads it whole. */
		__atomic_store_n(&q->rx_packets, q->rx_packets + n,
				 __ATOMIC_RELAXED);
	}
}

static int xsk_recv(struct wgx_pktio *io, struct wgx_rx_batch *b)
{
	struct xsk_io *x = (struct xsk_io *)io;
	int err;

	for (unsigned int k = 0; k < x->nq; k++)
		recv_queue(x, &x->q[(x->next_q + k) % x->nq], b);
	x->next_q = x->nq ? (x->next_q + 1) % x->nq : 0;
	/* Then what the stack passed on: handshakes, data of other queues. */
	err = x->sock->ops->recv(x->sock, b);
	return b->n ? (int)b->n : err;
}

static void xsk_recycle(struct wgx_pktio *io, struct wgx_rx_batch *b)
{
	struct xsk_io *x = (struct xsk_io *)io;
	unsigned int done = 0;

	while (done < b->nlent) {
		unsigned int qi = (unsigned int)(b->lent[done] >> 56), run = 0;
		struct xsk_q *q = &x->q[qi];
		uint32_t idx;

		/* A run of frames of one queue, in one reservation. */
		while (done + run < b->nlent &&
		       (unsigned int)(b->lent[done + run] >> 56) == qi)
			run++;
		if (xsk_ring_prod__reserve(&q->fill, run, &idx) != run) {
			/* Cannot happen: every frame came off this ring. */
			__atomic_store_n(&q->fill_short, q->fill_short + 1,
					 __ATOMIC_RELAXED);
			done += run;
			continue;
		}
		for (unsigned int i = 0; i < run; i++)
			*xsk_ring_prod__fill_addr(&q->fill, idx + i) =
				b->lent[done + i] & ((1ULL << 56) - 1);
		xsk_ring_prod__submit(&q->fill, run);
		kick_fill(q);
		done += run;
	}
	b->nlent = 0;
	if (x->sock->ops->recycle)
		x->sock->ops->recycle(x->sock, b);
}

/* ---- send --------------------------------------------------------------- */

/* Frames the kernel is done with back on the free list. */
static void reap_completions(struct xsk_q *q)
{
	uint32_t idx;
	unsigned int n = xsk_ring_cons__peek(&q->comp, TX_FRAMES, &idx);

	for (unsigned int i = 0; i < n && q->n_free < TX_FRAMES; i++)
		q->tx_free[q->n_free++] =
			*xsk_ring_cons__comp_addr(&q->comp, idx + i);
	if (n)
		xsk_ring_cons__release(&q->comp, n);
}

/*
 * Make the kernel send what the TX ring holds. Zero-copy drivers need a
 * kick only when they ask (need_wakeup); copy mode sends in the kick
 * itself, KICK_FRAMES at a time, answering EAGAIN while more wait (or the
 * send buffer is full) and EBUSY for a frame the device dropped.
 */
static void kick_tx(struct xsk_q *q, unsigned int n)
{
	int fd = xsk_socket__fd(q->xsk);

	if (q->zerocopy) {
		if (xsk_ring_prod__needs_wakeup(&q->tx))
			sendto(fd, NULL, 0, MSG_DONTWAIT, NULL, 0);
		return;
	}
	for (unsigned int i = 0; i < n / KICK_FRAMES + 4; i++)
		if (sendto(fd, NULL, 0, MSG_DONTWAIT, NULL, 0) >= 0 ||
		    (errno != EAGAIN && errno != EBUSY))
			return;
}

/* Where datagrams to `to` go: a frame route, or why the socket. */
static int route_to(struct xsk_io *x, const union wgx_sockaddr *to,
		    struct wgx_frame_route *r)
{
	enum wgx_nh_verdict v = wgx_nh_next(x->tx.nh, to, r->dst_mac, &r->src);

	if (v == WGX_NH_OTHER_IFACE)
		return WGX_TX_FB_OTHER_IFACE;
	if (v != WGX_NH_SEND)
		return WGX_TX_FB_NO_NEXTHOP;
	memcpy(r->src_mac, x->mac, 6);
	if (to->sa.sa_family == AF_INET)
		r->src.in4.sin_port = htons(x->tx.port);
	else
		r->src.in6.sin6_port = htons(x->tx.port);
	r->dst = *to;
	return -1;
}

/* One datagram into a frame on the TX ring; a fallback reason, or -1. */
static int put_frame(struct xsk_io *x, struct xsk_q *q,
		     const struct wgx_tx_dgram *d,
		     const struct wgx_frame_route *r)
{
	uint32_t hl = wgx_frame_udp_hdr_len(r), len, idx;
	struct xdp_desc *desc;
	uint8_t *f;
	uint64_t addr;

	if (hl - 14 + d->wire > x->mtu || hl + d->wire > FRAME_SIZE)
		return WGX_TX_FB_TOO_BIG;
	if (!q->n_free || xsk_ring_prod__reserve(&q->tx, 1, &idx) != 1)
		return WGX_TX_FB_RING_FULL;
	addr = q->tx_free[--q->n_free];
	f = xsk_umem__get_data(q->area, addr);
	memcpy(f + hl, d->p, d->wire);
	len = wgx_frame_udp_build(f, r, d->wire, q->ip_id++);
	desc = xsk_ring_prod__tx_desc(&q->tx, idx);
	desc->addr = addr;
	desc->len = len;
	desc->options = 0;
	return -1;
}

static void fall_back(struct xsk_io *x, const struct wgx_tx_dgram *d, int why,
		      struct wgx_pktio_result *res)
{
	x->rest.d[x->rest.n++] = *d;
	res->fallback[why]++;
	res->fallback_bytes[why] += d->wire;
}

/*
 * Every datagram whose next hop is known into TX frames, in order; the
 * rest (in order too) through the socket afterwards. One endpoint's
 * datagrams run together, so each run looks its next hop up once.
 */
static void xsk_send(struct wgx_pktio *io, const struct wgx_tx_send *s,
		     struct wgx_pktio_result *res)
{
	struct xsk_io *x = (struct xsk_io *)io;
	struct xsk_q *q = &x->q[0];
	struct wgx_frame_route r;
	unsigned int queued = 0;
	uint64_t bytes = 0;
	int why = WGX_TX_FB_NO_NEXTHOP;

	if (!x->tx.on || !x->nq)
		return x->sock->ops->send(x->sock, s, res);
	reap_completions(q);
	x->rest.n = 0;
	for (unsigned int i = 0; i < s->n; i++) {
		const struct wgx_tx_dgram *d = &s->d[i];
		int put;

		if (!i || !wgx_sockaddr_equal(&d->to, &s->d[i - 1].to))
			why = route_to(x, &d->to, &r);
		put = why < 0 ? put_frame(x, q, d, &r) : why;
		if (put >= 0) {
			fall_back(x, d, put, res);
			continue;
		}
		queued++;
		bytes += d->wire;
	}
	if (queued) {
		xsk_ring_prod__submit(&q->tx, queued);
		kick_tx(q, queued);
		res->xsk += queued;
		res->xsk_bytes += bytes;
		res->sent += queued;
		res->sent_bytes += bytes;
		__atomic_store_n(&q->tx_packets, q->tx_packets + queued,
				 __ATOMIC_RELAXED);
	}
	if (x->rest.n)
		x->sock->ops->send(x->sock, &x->rest, res);
}

/* ---- the rest: the UDP sockets' ------------------------------------------ */

static int xsk_send_one(struct wgx_pktio *io, const union wgx_sockaddr *to,
			const void *buf, size_t len)
{
	struct xsk_io *x = (struct xsk_io *)io;

	return x->sock->ops->send_one(x->sock, to, buf, len);
}

static unsigned int xsk_poll_fds(struct wgx_pktio *io, struct pollfd *pfd,
				 unsigned int max)
{
	struct xsk_io *x = (struct xsk_io *)io;
	unsigned int n = 0;

	for (unsigned int i = 0; i < x->nq && n < max; i++)
		pfd[n++] = (struct pollfd){ .fd = xsk_socket__fd(x->q[i].xsk),
					    .events = POLLIN };
	return n + x->sock->ops->poll_fds(x->sock, pfd + n, max - n);
}

static void queue_close(struct xsk_q *q)
{
	if (q->xsk)
		xsk_socket__delete(q->xsk);
	if (q->umem)
		xsk_umem__delete(q->umem);
	if (q->area) {
		/* Frames held decrypted packets. */
		wgx_crypto_wipe(q->area, q->area_size);
		munmap(q->area, q->area_size);
	}
	memset(q, 0, sizeof(*q));
}

static void xsk_destroy(struct wgx_pktio *io)
{
	struct xsk_io *x = (struct xsk_io *)io;

	for (unsigned int i = 0; i < x->nq; i++)
		queue_close(&x->q[i]);
	x->sock->ops->destroy(x->sock);
	free(x);
}

static const struct wgx_pktio_ops xsk_ops = {
	.name = "af_xdp",
	.recv = xsk_recv,
	.recycle = xsk_recycle,
	.send = xsk_send,
	.send_one = xsk_send_one,
	.poll_fds = xsk_poll_fds,
	.destroy = xsk_destroy,
};

/* ---- set-up ------------------------------------------------------------- */

static int fill_all(struct xsk_q *q)
{
	uint32_t idx;

	if (xsk_ring_prod__reserve(&q->fill, FRAMES, &idx) != FRAMES)
		return -ENOSPC;
	for (uint32_t i = 0; i < FRAMES; i++)
		*xsk_ring_prod__fill_addr(&q->fill, idx + i) =
			(uint64_t)i * FRAME_SIZE;
	xsk_ring_prod__submit(&q->fill, FRAMES);
	return 0;
}

/* The transmit frames, after the receive frames, all free at first. */
static void tx_frames_init(struct xsk_q *q)
{
	for (unsigned int i = 0; i < TX_FRAMES; i++)
		q->tx_free[i] = (uint64_t)(FRAMES + i) * FRAME_SIZE;
	q->n_free = TX_FRAMES;
}

/*
 * Copy mode holds a frame's skb until the peer is done with it, against
 * the socket's send buffer: room for every TX frame (root may force it).
 */
static void grow_sndbuf(struct xsk_q *q)
{
	int size = TX_SNDBUF, fd = xsk_socket__fd(q->xsk);

	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)))
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
}

/* Zero-copy where the driver offers it, copy mode otherwise (veth). */
static int bind_socket(struct xsk_q *q, const char *iface)
{
	struct xsk_socket_config cfg = {
		.rx_size = RING_SIZE,
		.tx_size = q->tx_on ? TX_FRAMES : 0,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.bind_flags = XDP_ZEROCOPY | XDP_USE_NEED_WAKEUP,
	};
	struct xsk_ring_prod *tx = q->tx_on ? &q->tx : NULL;
	int err;

	err = xsk_socket__create(&q->xsk, iface, q->queue, q->umem, &q->rx, tx,
				 &cfg);
	q->zerocopy = !err;
	if (err) {
		cfg.bind_flags = XDP_COPY | XDP_USE_NEED_WAKEUP;
		q->xsk = NULL;
		err = xsk_socket__create(&q->xsk, iface, q->queue, q->umem,
					 &q->rx, tx, &cfg);
	}
	if (!err && q->tx_on) {
		tx_frames_init(q);
		grow_sndbuf(q);
	}
	return err;
}

static int queue_open(struct xsk_q *q, const char *iface, unsigned int queue,
		      bool tx)
{
	struct xsk_umem_config ucfg = {
		.fill_size = RING_SIZE,
		.comp_size = RING_SIZE,
		.frame_size = FRAME_SIZE,
		.frame_headroom = 0,
	};
	size_t size = (size_t)(FRAMES + (tx ? TX_FRAMES : 0)) * FRAME_SIZE;
	int err;

	q->queue = queue;
	q->tx_on = tx;
	q->area_size = size;
	q->area = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (q->area == MAP_FAILED) {
		q->area = NULL;
		return -errno;
	}
	/* Decrypted packets live here: keep them out of core dumps. */
	madvise(q->area, size, MADV_DONTDUMP);
	err = xsk_umem__create(&q->umem, q->area, size, &q->fill, &q->comp,
			       &ucfg);
	if (!err)
		err = bind_socket(q, iface);
	if (!err)
		err = fill_all(q);
	return err;
}

/* The underlay's MAC and MTU, for the frames we build. */
static int link_info(struct xsk_io *x, const char *iface)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), err = 0;

	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", iface);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
		err = -errno;
	else
		memcpy(x->mac, ifr.ifr_hwaddr.sa_data, 6);
	if (!err && ioctl(fd, SIOCGIFMTU, &ifr) < 0)
		err = -errno;
	else if (!err)
		x->mtu = (uint32_t)ifr.ifr_mtu;
	close(fd);
	return err;
}

int wgx_pktio_xsk_open(struct wgx_pktio *sock, const char *iface,
		       const unsigned int *queues, unsigned int nq, bool runs,
		       const struct wgx_xsk_tx *tx, struct wgx_pktio **out)
{
	struct xsk_io *x = calloc(1, sizeof(*x));
	int err = 0;

	*out = NULL;
	if (!x) {
		sock->ops->destroy(sock);
		return -ENOMEM;
	}
	x->io.ops = &xsk_ops;
	x->io.needs_buffers = true;
	x->sock = sock;
	x->runs = runs;
	if (tx && tx->on) {
		x->tx = *tx;
		err = link_info(x, iface);
		if (err)
			wgx_log_error("Couldn't read %s's MAC and MTU: %s",
				      iface, strerror(-err));
	}
	/* Only the first socket transmits. */
	for (unsigned int i = 0; !err && i < nq && i < WGX_XSK_PER_WORKER;
	     i++) {
		err = queue_open(&x->q[i], iface, queues[i], x->tx.on && !i);
		if (err) {
			wgx_log_error("Couldn't open an AF_XDP socket on %s "
				      "queue %u: %s",
				      iface, queues[i], strerror(-err));
			queue_close(&x->q[i]);
			break;
		}
		x->nq++;
	}
	if (err) {
		xsk_destroy(&x->io);
		return err;
	}
	*out = &x->io;
	return 0;
}

int wgx_pktio_xsk_register(struct wgx_pktio *io, int xsks_map_fd)
{
	struct xsk_io *x = (struct xsk_io *)io;

	if (!wgx_pktio_is_xsk(io))
		return 0;
	for (unsigned int i = 0; i < x->nq; i++) {
		uint32_t key = x->q[i].queue;
		int fd = xsk_socket__fd(x->q[i].xsk);

		if (bpf_map_update_elem(xsks_map_fd, &key, &fd, BPF_ANY))
			return -errno;
	}
	return 0;
}

unsigned int wgx_pktio_xsk_count(const struct wgx_pktio *io)
{
	return wgx_pktio_is_xsk(io) ? ((const struct xsk_io *)io)->nq : 0;
}

void wgx_pktio_xsk_info(struct wgx_pktio *io, unsigned int i,
			struct wgx_xsk_info *out)
{
	struct xsk_io *x = (struct xsk_io *)io;
	struct xdp_statistics st = { 0 };
	socklen_t len = sizeof(st);
	struct xsk_q *q = &x->q[i];

	memset(out, 0, sizeof(*out));
	out->queue = q->queue;
	out->zerocopy = q->zerocopy;
	/* A plain read: show may be a few packets behind the worker. */
	out->rx_packets = __atomic_load_n(&q->rx_packets, __ATOMIC_RELAXED);
	if (getsockopt(xsk_socket__fd(q->xsk), SOL_XDP, XDP_STATISTICS, &st,
		       &len) == 0) {
		out->rx_dropped = st.rx_dropped;
		out->rx_invalid_descs = st.rx_invalid_descs;
		out->rx_ring_full = st.rx_ring_full;
		out->fill_ring_empty = st.rx_fill_ring_empty_descs;
	}
	out->fill_ring_empty +=
		__atomic_load_n(&q->fill_short, __ATOMIC_RELAXED);
	out->tx = q->tx_on;
	out->tx_packets = __atomic_load_n(&q->tx_packets, __ATOMIC_RELAXED);
	out->tx_invalid_descs = st.tx_invalid_descs;
	out->tx_ring_empty = st.tx_ring_empty_descs;
}

/* ---- queues ------------------------------------------------------------- */

static unsigned int sysfs_rx_queues(const char *iface)
{
	char path[64];
	unsigned int n = 0;
	struct dirent *e;
	DIR *d;

	snprintf(path, sizeof(path), "/sys/class/net/%s/queues", iface);
	d = opendir(path);
	if (!d)
		return 0;
	while ((e = readdir(d)))
		if (!strncmp(e->d_name, "rx-", 3))
			n++;
	closedir(d);
	return n;
}

unsigned int wgx_xsk_rx_queues(const char *iface)
{
	struct ethtool_channels ch = { .cmd = ETHTOOL_GCHANNELS };
	struct ifreq ifr = { 0 };
	unsigned int n = 0;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", iface);
	ifr.ifr_data = (void *)&ch;
	if (fd >= 0 && ioctl(fd, SIOCETHTOOL, &ifr) == 0)
		n = ch.rx_count + ch.combined_count;
	if (fd >= 0)
		close(fd);
	if (!n)
		n = sysfs_rx_queues(iface);
	return n ? n : 1;
}
