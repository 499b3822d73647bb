// SPDX-License-Identifier: MIT
/*
 * The socket packet I/O: one UDP socket per address family and worker,
 * bound to the underlay interface and the listen port with SO_REUSEPORT,
 * so the kernel spreads peers (by 4-tuple) over the workers.
 *
 * Receive: recvmmsg, each message possibly a run of datagrams the kernel
 * coalesced (UDP_GRO), split into the batch's datagrams in place.
 * Send: sendmmsg, runs of same-size datagrams to one endpoint, back to
 * back in memory, in one message with UDP_SEGMENT (UDP GSO).
 */
#include "datapath/pktio_socket.h"

#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "device/peer.h"
#include "util/log.h"

enum {
	/* Datagrams per UDP_SEGMENT send: UDP_MAX_SEGMENTS of older kernels. */
	GSO_MAX_SEGS = 64,
	/* UDP payload limit of one GSO send (65535 - IPv4 - UDP headers). */
	GSO_MAX_BYTES = 65507,
	/* Waits for room in the socket's send buffer before giving up. */
	SEND_WAITS = 10,
	SEND_WAIT_MS = 100,
};

struct sock_io {
	struct wgx_pktio io;
	int fd4, fd6;
	unsigned int offloads; /* enum wgx_dp_offload: the UDP ones */
	/* GSO usable on this socket: cleared for good when the kernel says
	 * it cannot checksum for it (EIO). Senders race on it harmlessly. */
	_Atomic bool gso;
	_Atomic unsigned int *pool_offloads; /* shown by `wgxdp show` */
	int stop_fd;
	/* recvmmsg state, reused by every batch (owner only). */
	struct mmsghdr rmsg[WGX_RX_MSGS];
	struct iovec riov[WGX_RX_MSGS];
	uint8_t rctrl[WGX_RX_MSGS][CMSG_SPACE(sizeof(int))];
	int next_fd; /* which family to read first, alternating */
	/* sendmmsg state; any worker may send, so each send builds its own
	 * on the stack of send_fd's caller (struct send_plan). */
};

/* ---- sockets ------------------------------------------------------------ */

static int open_socket(int family, const struct wgx_socket_opts *o,
		       uint16_t port)
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
	/* Every worker binds the same port; the kernel spreads the peers. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0)
		goto fail;
	if (o->fwmark && setsockopt(fd, SOL_SOCKET, SO_MARK, &o->fwmark,
				    sizeof(o->fwmark)) < 0)
		goto fail;
	if (o->iface && setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, o->iface,
				   (socklen_t)strlen(o->iface)) < 0)
		goto fail;
	if (bind(fd, &a.sa, wgx_sockaddr_len(&a)) < 0)
		goto fail;
	return fd;
fail:
	err = -errno;
	close(fd);
	return err;
}

/* Keep only the UDP offloads this socket has. */
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

/* ---- receive ------------------------------------------------------------ */

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

/* Messages 0..n-1 land in buffers nbuf.. and sources nsrc.. of b. */
static void recv_prepare(struct sock_io *s, struct wgx_rx_batch *b,
			 unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		struct msghdr *mh = &s->rmsg[i].msg_hdr;

		s->riov[i] = (struct iovec){ b->buf[b->nbuf + i], WGX_RX_BUF };
		memset(mh, 0, sizeof(*mh));
		mh->msg_iov = &s->riov[i];
		mh->msg_iovlen = 1;
		mh->msg_name = &b->src[b->nsrc + i];
		mh->msg_namelen = sizeof(b->src[0]);
		mh->msg_control = s->rctrl[i];
		mh->msg_controllen = sizeof(s->rctrl[i]);
	}
}

/* Split message m (in buffer buf, from source src) into datagrams. */
static void split_message(struct sock_io *s, struct wgx_rx_batch *b,
			  unsigned int m, uint8_t *buf, uint16_t src)
{
	struct msghdr *mh = &s->rmsg[m].msg_hdr;
	size_t len = s->rmsg[m].msg_len, size, off;

	/* An empty or truncated datagram is one too: it is counted. */
	if (!len || (mh->msg_flags & MSG_TRUNC)) {
		b->d[b->n++] = (struct wgx_rx_dgram){ .data = buf,
						      .len = 0,
						      .src = src };
		return;
	}
	size = gro_size(mh, len);
	for (off = 0; off < len && b->n < WGX_RX_MAX; off += size)
		b->d[b->n++] = (struct wgx_rx_dgram){
			.data = buf + off,
			.len = (uint32_t)(len - off < size ? len - off : size),
			.src = src,
		};
}

static unsigned int min3(unsigned int a, unsigned int b, unsigned int c)
{
	unsigned int m = a < b ? a : b;

	return m < c ? m : c;
}

static int recv_fd(struct sock_io *s, int fd, struct wgx_rx_batch *b)
{
	/* A GRO run holds 64 datagrams at most: never overflow the batch. */
	unsigned int room = min3((WGX_RX_MAX - b->n) / 64,
				 WGX_RX_MSGS - b->nbuf, WGX_RX_MAX - b->nsrc);
	int n;

	if (fd < 0 || !room)
		return 0;
	recv_prepare(s, b, room);
	n = recvmmsg(fd, s->rmsg, room, MSG_DONTWAIT, NULL);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
	for (unsigned int m = 0; m < (unsigned int)n; m++)
		split_message(s, b, m, b->buf[b->nbuf + m],
			      (uint16_t)(b->nsrc + m));
	b->nbuf += (unsigned int)n;
	b->nsrc += (unsigned int)n;
	return n;
}

static int sock_recv(struct wgx_pktio *io, struct wgx_rx_batch *b)
{
	struct sock_io *s = (struct sock_io *)io;
	int first = s->next_fd ? s->fd6 : s->fd4;
	int second = s->next_fd ? s->fd4 : s->fd6;
	int err;

	s->next_fd ^= 1;
	err = recv_fd(s, first, b);
	if (err >= 0)
		err = recv_fd(s, second, b);
	/* An error after some datagrams arrived waits for the next call. */
	return b->n ? (int)b->n : err;
}

/* ---- send --------------------------------------------------------------- */

/* One sendmmsg message per datagram or GSO run. */
struct send_plan {
	struct mmsghdr mm[WGX_TX_MAX];
	struct iovec iov[WGX_TX_MAX];
	uint8_t ctrl[WGX_TX_MAX][CMSG_SPACE(sizeof(uint16_t))];
	unsigned int first[WGX_TX_MAX], count[WGX_TX_MAX];
	unsigned int n;
};

/* Datagrams i.. that can leave as one GSO send: back to back in memory,
 * one endpoint, one size (the last may be shorter). */
static unsigned int gso_run(struct sock_io *s, const struct wgx_tx_send *t,
			    unsigned int i)
{
	const struct wgx_tx_dgram *a = &t->d[i];
	size_t total = a->wire;
	unsigned int j = i + 1;

	if (!atomic_load_explicit(&s->gso, memory_order_relaxed))
		return 1;
	for (; j < t->n && j - i < GSO_MAX_SEGS; j++) {
		const struct wgx_tx_dgram *b = &t->d[j], *prev = &t->d[j - 1];

		if (b->wire > a->wire || prev->wire != a->wire ||
		    b->p != prev->p + prev->wire ||
		    total + b->wire > GSO_MAX_BYTES ||
		    !wgx_sockaddr_equal(&b->to, &a->to))
			break;
		total += b->wire;
	}
	return j - i;
}

static void plan_message(struct send_plan *pl, const struct wgx_tx_send *t,
			 unsigned int first, unsigned int count)
{
	const struct wgx_tx_dgram *a = &t->d[first];
	unsigned int k = pl->n++;
	struct msghdr *mh = &pl->mm[k].msg_hdr;
	size_t total = 0;

	for (unsigned int i = first; i < first + count; i++)
		total += t->d[i].wire;
	pl->iov[k] = (struct iovec){ a->p, total };
	memset(mh, 0, sizeof(*mh));
	mh->msg_iov = &pl->iov[k];
	mh->msg_iovlen = 1;
	mh->msg_name = (void *)&a->to;
	mh->msg_namelen = wgx_sockaddr_len(&a->to);
	pl->first[k] = first;
	pl->count[k] = count;
	if (count > 1) {
		struct cmsghdr *cm;
		uint16_t size = (uint16_t)a->wire;

		mh->msg_control = pl->ctrl[k];
		mh->msg_controllen = sizeof(pl->ctrl[k]);
		cm = CMSG_FIRSTHDR(mh);
		cm->cmsg_level = SOL_UDP;
		cm->cmsg_type = UDP_SEGMENT;
		cm->cmsg_len = CMSG_LEN(sizeof(size));
		memcpy(CMSG_DATA(cm), &size, sizeof(size));
	}
}

static void count_message(const struct send_plan *pl,
			  const struct wgx_tx_send *t, unsigned int k,
			  bool sent, struct wgx_pktio_result *r)
{
	for (unsigned int i = 0; i < pl->count[k]; i++) {
		uint32_t wire = t->d[pl->first[k] + i].wire;

		if (sent) {
			r->sent++;
			r->sent_bytes += wire;
		} else {
			r->failed++;
			r->failed_bytes += wire;
		}
	}
}

/* Send message k's datagrams one by one (its GSO send was refused). */
static void send_split(int fd, const struct send_plan *pl,
		       const struct wgx_tx_send *t, unsigned int k,
		       struct wgx_pktio_result *r)
{
	for (unsigned int i = 0; i < pl->count[k]; i++) {
		const struct wgx_tx_dgram *d = &t->d[pl->first[k] + i];
		bool ok = sendto(fd, d->p, d->wire, 0, &d->to.sa,
				 wgx_sockaddr_len(&d->to)) >= 0;

		if (ok) {
			r->sent++;
			r->sent_bytes += d->wire;
		} else {
			r->failed++;
			r->failed_bytes += d->wire;
		}
	}
}

/* Wait (bounded) until fd can take more, or the datapath stops. */
static bool wait_writable(struct sock_io *s, int fd)
{
	struct pollfd pfd[2] = { { .fd = fd, .events = POLLOUT },
				 { .fd = s->stop_fd, .events = POLLIN } };

	return poll(pfd, s->stop_fd >= 0 ? 2 : 1, SEND_WAIT_MS) > 0 &&
	       (pfd[0].revents & POLLOUT) && !pfd[1].revents;
}

/*
 * A kernel refuses a UDP_SEGMENT send with EIO when the device cannot
 * checksum for it: no GSO on this socket from then on. EMSGSIZE and
 * EINVAL concern this send only (a path MTU, from any ICMP, below the
 * segment size; too many segments): its datagrams go one by one and GSO
 * stays on, so one spoofed "fragmentation needed" cannot turn it off for
 * every peer.
 */
static void gso_refused(struct sock_io *s, int err)
{
	if (err != EIO)
		return;
	if (!atomic_exchange(&s->gso, false))
		return;
	if (s->pool_offloads)
		atomic_fetch_and(s->pool_offloads,
				 ~(unsigned int)WGX_DP_UDP_GSO);
	wgx_log_warn("UDP GSO refused by the kernel (%s): sending datagrams "
		     "one by one",
		     strerror(err));
}

/* Send messages [from, to) of one address family. */
static void send_fd(struct sock_io *s, int fd, struct send_plan *pl,
		    const struct wgx_tx_send *t, unsigned int from,
		    unsigned int to, struct wgx_pktio_result *r)
{
	unsigned int done = from, waits = 0;

	while (done < to) {
		int n = -1, err = EAFNOSUPPORT;

		if (fd >= 0) {
			n = sendmmsg(fd, pl->mm + done, to - done, 0);
			err = errno;
		}
		if (n > 0) {
			for (int k = 0; k < n; k++)
				count_message(pl, t, done + (unsigned int)k,
					      true, r);
			done += (unsigned int)n;
			continue;
		}
		if (err == EINTR)
			continue;
		if ((err == EAGAIN || err == ENOBUFS) && waits++ < SEND_WAITS &&
		    wait_writable(s, fd))
			continue;
		if (pl->count[done] > 1 &&
		    (err == EIO || err == EINVAL || err == EMSGSIZE)) {
			gso_refused(s, err);
			r->refused++;
			r->refused_bytes += pl->iov[done].iov_len;
			send_split(fd, pl, t, done++, r);
			continue;
		}
		/* Count the first failure and skip it. */
		count_message(pl, t, done++, false, r);
	}
}

static void sock_send(struct wgx_pktio *io, const struct wgx_tx_send *t,
		      struct wgx_pktio_result *r)
{
	struct sock_io *s = (struct sock_io *)io;
	/* Too big for the stack of a thread; one per thread is enough. */
	static __thread struct send_plan plan;
	struct send_plan *pl = &plan;
	unsigned int k = 0;

	pl->n = 0;
	for (unsigned int i = 0; i < t->n;) {
		unsigned int run = gso_run(s, t, i);

		plan_message(pl, t, i, run);
		i += run;
	}
	/* Consecutive messages of one family go in one sendmmsg. */
	while (k < pl->n) {
		unsigned int end = k + 1;
		bool v6 = t->d[pl->first[k]].to.sa.sa_family == AF_INET6;

		while (end < pl->n &&
		       (t->d[pl->first[end]].to.sa.sa_family == AF_INET6) == v6)
			end++;
		send_fd(s, v6 ? s->fd6 : s->fd4, pl, t, k, end, r);
		k = end;
	}
}

static int sock_send_one(struct wgx_pktio *io, const union wgx_sockaddr *to,
			 const void *buf, size_t len)
{
	struct sock_io *s = (struct sock_io *)io;
	int fd = to->sa.sa_family == AF_INET6 ? s->fd6 : s->fd4;

	if (fd < 0)
		return -EAFNOSUPPORT;
	if (sendto(fd, buf, len, 0, &to->sa, wgx_sockaddr_len(to)) < 0)
		return -errno;
	return 0;
}

static unsigned int sock_poll_fds(struct wgx_pktio *io, struct pollfd *pfd,
				  unsigned int max)
{
	struct sock_io *s = (struct sock_io *)io;
	unsigned int n = 0;

	if (s->fd4 >= 0 && n < max)
		pfd[n++] = (struct pollfd){ .fd = s->fd4, .events = POLLIN };
	if (s->fd6 >= 0 && n < max)
		pfd[n++] = (struct pollfd){ .fd = s->fd6, .events = POLLIN };
	return n;
}

static void sock_destroy(struct wgx_pktio *io)
{
	struct sock_io *s = (struct sock_io *)io;

	if (s->fd4 >= 0)
		close(s->fd4);
	if (s->fd6 >= 0)
		close(s->fd6);
	free(s);
}

static const struct wgx_pktio_ops sock_ops = {
	.name = "socket",
	.recv = sock_recv,
	.send = sock_send,
	.send_one = sock_send_one,
	.poll_fds = sock_poll_fds,
	.destroy = sock_destroy,
};

int wgx_pktio_socket_open(const struct wgx_socket_opts *o, uint16_t port,
			  int stop_fd, _Atomic unsigned int *pool_offloads,
			  struct wgx_pktio **out, uint16_t *bound)
{
	struct sock_io *s = calloc(1, sizeof(*s));
	const char *on = o->iface ? o->iface : "any interface";
	int err;

	*out = NULL;
	if (!s)
		return -ENOMEM;
	s->io.ops = &sock_ops;
	s->io.needs_buffers = true;
	s->stop_fd = stop_fd;
	s->pool_offloads = pool_offloads;
	s->fd6 = -1;
	s->fd4 = open_socket(AF_INET, o, port);
	if (s->fd4 < 0) {
		err = s->fd4;
		wgx_log_error("Couldn't bind UDP port %u on %s: %s", port, on,
			      strerror(-err));
		free(s);
		return err;
	}
	port = bound_port(s->fd4);
	s->fd6 = open_socket(AF_INET6, o, port);
	if (s->fd6 == -EAFNOSUPPORT) {
		s->fd6 = -1;
	} else if (s->fd6 < 0) {
		err = s->fd6;
		wgx_log_error("Couldn't bind UDP port %u (IPv6) on %s: %s",
			      port, on, strerror(-err));
		s->fd6 = -1;
		sock_destroy(&s->io);
		return err;
	}
	s->offloads = udp_offloads(s->fd6, udp_offloads(s->fd4, o->offloads));
	atomic_init(&s->gso, (s->offloads & WGX_DP_UDP_GSO) != 0);
	*bound = port;
	*out = &s->io;
	return 0;
}

unsigned int wgx_pktio_socket_offloads(const struct wgx_pktio *io)
{
	const struct sock_io *s = (const struct sock_io *)io;

	return s->offloads;
}

bool wgx_pktio_socket_has_ipv6(const struct wgx_pktio *io)
{
	const struct sock_io *s = (const struct sock_io *)io;

	return s->fd6 >= 0;
}
