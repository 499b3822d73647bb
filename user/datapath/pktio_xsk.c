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
#include "wgx_bpf.h"
#include "util/log.h"

enum {
	FRAME_SIZE = WGX_XDP_XSK_FRAME,
	FRAMES = 4096,
	RING_SIZE = 4096,
	/* Frames one receive batch may hold. */
	FRAMES_PER_BATCH = 256,
};

struct xsk_q {
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct xsk_ring_prod fill;
	struct xsk_ring_cons comp;
	struct xsk_ring_cons rx;
	uint8_t *area;
	unsigned int queue;
	bool zerocopy;
	uint64_t rx_packets;
	uint64_t fill_short; /* times the fill ring had no room to refill */
};

struct xsk_io {
	struct wgx_pktio io;
	struct wgx_pktio *sock; /* handshakes, passed data, every send */
	/* Generic XDP: a frame may be a GSO or GRO run of datagrams. */
	bool runs;
	struct xsk_q q[WGX_XSK_PER_WORKER];
	unsigned int nq;
	unsigned int next_q; /* which queue to read first, in turn */
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
		add_datagrams(x, b, payload, plen, add_source(b, &src));
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

/* ---- send, poll, the rest: the UDP sockets' ----------------------------- */

static void xsk_send(struct wgx_pktio *io, const struct wgx_tx_send *s,
		     struct wgx_pktio_result *r)
{
	struct xsk_io *x = (struct xsk_io *)io;

	x->sock->ops->send(x->sock, s, r);
}

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
		wgx_crypto_wipe(q->area, (size_t)FRAMES * FRAME_SIZE);
		munmap(q->area, (size_t)FRAMES * FRAME_SIZE);
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

/* Zero-copy where the driver offers it, copy mode otherwise (veth). */
static int bind_socket(struct xsk_q *q, const char *iface)
{
	struct xsk_socket_config cfg = {
		.rx_size = RING_SIZE,
		.tx_size = 0,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.bind_flags = XDP_ZEROCOPY | XDP_USE_NEED_WAKEUP,
	};
	int err;

	err = xsk_socket__create(&q->xsk, iface, q->queue, q->umem, &q->rx,
				 NULL, &cfg);
	q->zerocopy = !err;
	if (!err)
		return 0;
	cfg.bind_flags = XDP_COPY | XDP_USE_NEED_WAKEUP;
	q->xsk = NULL;
	return xsk_socket__create(&q->xsk, iface, q->queue, q->umem, &q->rx,
				  NULL, &cfg);
}

static int queue_open(struct xsk_q *q, const char *iface, unsigned int queue)
{
	struct xsk_umem_config ucfg = {
		.fill_size = RING_SIZE,
		.comp_size = RING_SIZE,
		.frame_size = FRAME_SIZE,
		.frame_headroom = 0,
	};
	size_t size = (size_t)FRAMES * FRAME_SIZE;
	int err;

	q->queue = queue;
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

int wgx_pktio_xsk_open(struct wgx_pktio *sock, const char *iface,
		       const unsigned int *queues, unsigned int nq, bool runs,
		       struct wgx_pktio **out)
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
	for (unsigned int i = 0; i < nq && i < WGX_XSK_PER_WORKER; i++) {
		err = queue_open(&x->q[i], iface, queues[i]);
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
