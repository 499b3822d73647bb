// SPDX-License-Identifier: MIT
/*
 * The socket datapath: one UDP socket per address family bound to the
 * underlay interface, one receive thread (UDP -> decrypt -> TUN) and one
 * send thread (TUN -> encrypt -> UDP). Each thread works in batches:
 * recvmmsg/sendmmsg, one read lock of the device per batch, and at most
 * one wake-up of the agent per batch, only for events that need it now.
 */
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "crypto.h"
#include "datapath.h"
#include "device.h"
#include "icmp.h"
#include "ippkt.h"
#include "log.h"
#include "transport.h"

enum {
	BATCH = 64,
	/* A thread idle this long wipes the keys its crypto context holds. */
	IDLE_MS = 1000,
	ICMP_PER_SECOND = 100,
	/* Datagrams up to jumbo frames, even when our own MTU is smaller. */
	MIN_BUFFER = 9000 + 128,
	/* Events the agent must see at once; the rest wait for its tick. */
	URGENT_EVENTS = WGX_EV_WANT_HANDSHAKE | WGX_EV_KEY_CONFIRMED |
			WGX_EV_LASTMINUTE_REKEY,
};

struct batch;

struct sock_dp {
	struct wgx_datapath dp;
	int fd4, fd6, tun_fd, stop_fd;
	size_t bufsz;
	pthread_t rx, tx;
	bool rx_started, tx_started;
	/* Allocated before the threads start, so a thread cannot fail. */
	struct batch *rx_batch, *tx_batch;
	struct wgx_aead *rx_aead, *tx_aead;
	/* ICMP errors sent back into the TUN: a token bucket (TX thread). */
	uint64_t icmp_tokens, icmp_last_ns;
};

struct batch {
	struct mmsghdr msg[BATCH];
	struct iovec iov[BATCH];
	union wgx_sockaddr addr[BATCH];
	int len[BATCH]; /* result per packet: >0 to deliver */
	uint8_t *buf[BATCH];
	uint8_t *out[BATCH];
};

static int batch_init(struct batch *b, size_t bufsz)
{
	memset(b, 0, sizeof(*b));
	for (int i = 0; i < BATCH; i++) {
		b->buf[i] = malloc(bufsz);
		b->out[i] = malloc(bufsz);
		if (!b->buf[i] || !b->out[i])
			return -ENOMEM;
	}
	return 0;
}

static void batch_free(struct batch *b, size_t bufsz);

static struct batch *new_batch(size_t bufsz)
{
	struct batch *b = malloc(sizeof(*b));

	if (b && batch_init(b, bufsz) < 0) {
		batch_free(b, bufsz);
		free(b);
		b = NULL;
	}
	return b;
}

static void free_batch(struct batch *b, size_t bufsz)
{
	if (!b)
		return;
	batch_free(b, bufsz);
	free(b);
}

static void batch_free(struct batch *b, size_t bufsz)
{
	for (int i = 0; i < BATCH; i++) {
		/* The buffers held plaintext. */
		if (b->out[i])
			wgx_crypto_wipe(b->out[i], bufsz);
		if (b->buf[i])
			wgx_crypto_wipe(b->buf[i], bufsz);
		free(b->buf[i]);
		free(b->out[i]);
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

/* ---- receive ---------------------------------------------------------- */

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

static void authenticated(struct wgx_peer *p, struct wgx_keypair *kp,
			  const union wgx_sockaddr *src, size_t len,
			  uint64_t now, bool *wake)
{
	union wgx_sockaddr cur;
	bool has;

	/* Roaming: compare first, so the common case takes no write. */
	wgx_peer_get_endpoint(p, &cur, &has);
	if (!has || !wgx_sockaddr_equal(&cur, src))
		wgx_peer_set_endpoint(p, src);
	atomic_fetch_add_explicit(&p->rx_bytes, len, memory_order_relaxed);
	raise_event(p, WGX_EV_AUTH_RECEIVED | WGX_EV_TRAVERSAL, wake);
	if (kp == p->keypairs.next) {
		atomic_store(&p->confirmed, kp);
		raise_event(p, WGX_EV_KEY_CONFIRMED, wake);
	}
	if (kp == p->keypairs.current && wgx_transport_rekey_on_recv(kp, now) &&
	    rekey_ask_due(kp, now))
		raise_event(p, WGX_EV_LASTMINUTE_REKEY, wake);
}

/* Decrypt one data message; returns the inner length to deliver or 0. */
static int rx_data(struct sock_dp *s, struct wgx_aead *aead, uint8_t *buf,
		   size_t len, const union wgx_sockaddr *src, uint8_t *out,
		   uint64_t now, bool *wake)
{
	struct wgx_device *dev = s->dp.dev;
	struct wgx_index_entry e;
	struct wgx_keypair *kp;
	struct wgx_peer *p;
	int n;

	if (!wgx_index_lookup(dev->indices, le32toh(*(uint32_t *)(buf + 4)),
			      WGX_INDEX_KEYPAIR, &e)) {
		wgx_stats_add(&dev->stats, WGX_STAT_DROP_UNKNOWN_INDEX, len);
		return 0;
	}
	kp = e.ptr;
	p = e.owner;
	n = wgx_transport_open(aead, kp, buf, len, out, s->bufsz, now);
	if (n < 0 && !inner_error(n)) {
		wgx_stats_add(&dev->stats, open_error_stat(n), len);
		return 0;
	}
	/* Authenticated and not a replay: now it may move the endpoint. */
	authenticated(p, kp, src, len, now, wake);
	if (n == 0) {
		wgx_stats_add(&dev->stats, WGX_STAT_RX_KEEPALIVE, len);
		return 0;
	}
	/* Data, even if unusable, counts for the timers (as the kernel). */
	atomic_store_explicit(&p->last_received_ns, now, memory_order_relaxed);
	raise_event(p, WGX_EV_DATA_RECEIVED, wake);
	if (n < 0) {
		wgx_stats_add(&dev->stats, open_error_stat(n), len);
		return 0;
	}
	if (!source_allowed(dev, p, out)) {
		wgx_stats_add(&dev->stats, WGX_STAT_DROP_ALLOWEDIPS, len);
		return 0;
	}
	wgx_stats_add(&dev->stats, WGX_STAT_RX_DATA, len);
	return n;
}

static void rx_batch(struct sock_dp *s, struct wgx_aead *aead, struct batch *b,
		     int count)
{
	struct wgx_device *dev = s->dp.dev;
	uint64_t now = wgx_now();
	bool wake = false;

	pthread_rwlock_rdlock(&dev->lock);
	wgx_index_read_lock(dev->indices);
	for (int i = 0; i < count; i++) {
		uint8_t *buf = b->buf[i];
		size_t len = b->msg[i].msg_len;

		b->len[i] = 0;
		if (len < 4 || buf[1] || buf[2] || buf[3] ||
		    (b->msg[i].msg_hdr.msg_flags & MSG_TRUNC)) {
			wgx_stats_add(&dev->stats, WGX_STAT_DROP_MALFORMED,
				      len);
		} else if (buf[0] == WGX_MSG_DATA &&
			   len >= WGX_MSG_DATA_MIN_LEN) {
			b->len[i] = rx_data(s, aead, buf, len, &b->addr[i],
					    b->out[i], now, &wake);
		} else if (handshake_size_ok(buf[0], len)) {
			wgx_device_queue_handshake(dev, buf, len, &b->addr[i]);
			wake = true;
		} else {
			wgx_stats_add(&dev->stats, WGX_STAT_DROP_MALFORMED,
				      len);
		}
	}
	wgx_index_read_unlock(dev->indices);
	pthread_rwlock_unlock(&dev->lock);
	/* Before delivery: a key confirmation must beat the reply it causes. */
	if (wake)
		wgx_device_wake(dev);
	for (int i = 0; i < count; i++) {
		if (b->len[i] > 0 &&
		    write(s->tun_fd, b->out[i], (size_t)b->len[i]) < 0)
			wgx_stats_add(&dev->stats, WGX_STAT_DROP_TUN_ERROR,
				      (uint64_t)b->len[i]);
	}
}

static void rx_prepare(struct batch *b, size_t bufsz)
{
	for (int i = 0; i < BATCH; i++) {
		b->iov[i].iov_base = b->buf[i];
		b->iov[i].iov_len = bufsz;
		memset(&b->msg[i].msg_hdr, 0, sizeof(b->msg[i].msg_hdr));
		b->msg[i].msg_hdr.msg_iov = &b->iov[i];
		b->msg[i].msg_hdr.msg_iovlen = 1;
		b->msg[i].msg_hdr.msg_name = &b->addr[i];
		b->msg[i].msg_hdr.msg_namelen = sizeof(b->addr[i]);
	}
}

static void drain_socket(struct sock_dp *s, struct wgx_aead *aead,
			 struct batch *b, int fd)
{
	for (int rounds = 0; rounds < 16; rounds++) {
		int n;

		rx_prepare(b, s->bufsz);
		n = recvmmsg(fd, b->msg, BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return;
		rx_batch(s, aead, b, n);
		if (n < BATCH)
			return;
	}
}

static void *rx_thread(void *arg)
{
	struct sock_dp *s = arg;
	struct pollfd pfd[3] = { { .fd = s->stop_fd, .events = POLLIN },
				 { .fd = s->fd4, .events = POLLIN },
				 { .fd = s->fd6, .events = POLLIN } };

	for (;;) {
		int n = poll(pfd, 3, IDLE_MS);

		if (n < 0 && errno != EINTR)
			break;
		if (n == 0) {
			/* Idle: no key should linger in the crypto context. */
			wgx_aead_forget(s->rx_aead);
			continue;
		}
		if (pfd[0].revents)
			break;
		for (int i = 1; i < 3; i++)
			if (pfd[i].revents & POLLIN)
				drain_socket(s, s->rx_aead, s->rx_batch,
					     pfd[i].fd);
	}
	return NULL;
}

/* ---- send ------------------------------------------------------------- */

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
	uint8_t out[1280];
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
	n = wgx_icmp_unreachable(pkt, len, from, out, sizeof(out));
	if (n > 0 && write(s->tun_fd, out, (size_t)n) < 0)
		wgx_stats_add(&dev->stats, WGX_STAT_DROP_TUN_ERROR,
			      (uint64_t)n);
}

/* Route, stage or seal one packet; returns the wire length or 0. */
static int tx_one(struct sock_dp *s, struct wgx_aead *aead, const uint8_t *pkt,
		  size_t len, uint8_t *out, union wgx_sockaddr *to,
		  uint64_t now, bool *wake, bool *icmp)
{
	struct wgx_device *dev = s->dp.dev;
	struct wgx_keypair *kp;
	struct wgx_peer *p;
	struct wgx_ippkt_info info;
	bool has;
	int n;

	if (wgx_ippkt_parse(pkt, len, &info) < 0) {
		wgx_stats_add(&dev->stats, WGX_STAT_DROP_MALFORMED, len);
		return 0;
	}
	p = wgx_allowedips_lookup(&dev->allowedips, info.family, info.daddr);
	if (!p) {
		wgx_stats_add(&dev->stats, WGX_STAT_DROP_NO_ROUTE, len);
		*icmp = true;
		return 0;
	}
	wgx_peer_get_endpoint(p, to, &has);
	if (!has) {
		wgx_stats_add(&dev->stats, WGX_STAT_DROP_NO_ENDPOINT, len);
		*icmp = true;
		return 0;
	}
	kp = wgx_keypairs_send_keypair(&p->keypairs, now);
	n = kp ? wgx_transport_seal(aead, kp, pkt, len, dev->mtu, out, s->bufsz,
				    now)
	       : -ENOKEY;
	if (n == -EMSGSIZE) {
		wgx_stats_add(&dev->stats, WGX_STAT_DROP_MALFORMED, len);
		return 0;
	}
	if (n < 0) {
		/* No usable session: wait for the handshake. */
		if (!wgx_peer_stage(p, pkt, len))
			wgx_stats_add(&dev->stats,
				      WGX_STAT_DROP_STAGED_OVERFLOW, len);
		wgx_stats_add(&dev->stats, WGX_STAT_STAGED, len);
		raise_event(p, WGX_EV_WANT_HANDSHAKE, wake);
		return 0;
	}
	atomic_fetch_add_explicit(&p->tx_bytes, (uint64_t)n,
				  memory_order_relaxed);
	atomic_store_explicit(&p->last_sent_ns, now, memory_order_relaxed);
	raise_event(p, WGX_EV_DATA_SENT | WGX_EV_AUTH_SENT | WGX_EV_TRAVERSAL,
		    wake);
	if (wgx_transport_rekey_on_send(kp, now) && rekey_ask_due(kp, now))
		raise_event(p, WGX_EV_WANT_HANDSHAKE, wake);
	return n;
}

static void tx_send(struct sock_dp *s, struct batch *b, int count)
{
	struct wgx_device *dev = s->dp.dev;
	struct mmsghdr m4[BATCH], m6[BATCH];
	int n4 = 0, n6 = 0;

	for (int i = 0; i < count; i++) {
		struct mmsghdr *m;

		if (b->len[i] <= 0)
			continue;
		m = b->addr[i].sa.sa_family == AF_INET6 ? &m6[n6++] : &m4[n4++];
		memset(m, 0, sizeof(*m));
		b->iov[i].iov_base = b->out[i];
		b->iov[i].iov_len = (size_t)b->len[i];
		m->msg_hdr.msg_iov = &b->iov[i];
		m->msg_hdr.msg_iovlen = 1;
		m->msg_hdr.msg_name = &b->addr[i];
		m->msg_hdr.msg_namelen = wgx_sockaddr_len(&b->addr[i]);
	}
	for (int fam = 0; fam < 2; fam++) {
		struct mmsghdr *m = fam ? m6 : m4;
		int total = fam ? n6 : n4, fd = fam ? s->fd6 : s->fd4, done = 0;

		while (done < total) {
			int r = fd < 0 ? -1
				       : sendmmsg(fd, m + done,
						  (unsigned int)(total - done),
						  0);

			if (r <= 0) {
				/* Count the first failure and skip it. */
				wgx_stats_add(&dev->stats,
					      WGX_STAT_DROP_SEND_ERROR, 0);
				r = 1;
			} else {
				for (int k = 0; k < r; k++)
					wgx_stats_add(&dev->stats,
						      WGX_STAT_TX_DATA,
						      m[done + k].msg_len);
			}
			done += r;
		}
	}
}

static int tx_read(struct sock_dp *s, struct batch *b)
{
	int count = 0;

	while (count < BATCH) {
		ssize_t n = read(s->tun_fd, b->buf[count], s->bufsz);

		if (n <= 0)
			break;
		b->len[count++] = (int)n;
	}
	return count;
}

static void tx_batch(struct sock_dp *s, struct wgx_aead *aead, struct batch *b,
		     int count)
{
	struct wgx_device *dev = s->dp.dev;
	uint64_t now = wgx_now();
	bool wake = false, icmp[BATCH] = { false };
	int inner_len[BATCH];

	pthread_rwlock_rdlock(&dev->lock);
	for (int i = 0; i < count; i++) {
		inner_len[i] = b->len[i];
		b->len[i] =
			tx_one(s, aead, b->buf[i], (size_t)inner_len[i],
			       b->out[i], &b->addr[i], now, &wake, &icmp[i]);
	}
	pthread_rwlock_unlock(&dev->lock);
	tx_send(s, b, count);
	for (int i = 0; i < count; i++)
		if (icmp[i])
			tx_icmp(s, b->buf[i], (size_t)inner_len[i]);
	if (wake)
		wgx_device_wake(dev);
}

static void *tx_thread(void *arg)
{
	struct sock_dp *s = arg;
	struct pollfd pfd[2] = { { .fd = s->stop_fd, .events = POLLIN },
				 { .fd = s->tun_fd, .events = POLLIN } };

	for (;;) {
		int count, n = poll(pfd, 2, IDLE_MS);

		if (n < 0 && errno != EINTR)
			break;
		if (n == 0) {
			wgx_aead_forget(s->tx_aead);
			continue;
		}
		if (pfd[0].revents)
			break;
		count = tx_read(s, s->tx_batch);
		if (count)
			tx_batch(s, s->tx_aead, s->tx_batch, count);
	}
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
	free_batch(s->rx_batch, s->bufsz);
	free_batch(s->tx_batch, s->bufsz);
	wgx_aead_free(s->rx_aead);
	wgx_aead_free(s->tx_aead);
	free(s);
}

static const struct wgx_datapath_ops sock_ops = {
	.name = "socket",
	.send = sock_send,
	.destroy = sock_destroy,
};

static int open_sockets(struct sock_dp *s, const struct wgx_socket_opts *o)
{
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
	return 0;
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
	/* A full inner packet, the data header and tag, and slack. */
	s->bufsz = dev->mtu + 128 > MIN_BUFFER ? dev->mtu + 128 : MIN_BUFFER;
	s->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (s->stop_fd < 0) {
		err = -errno;
		goto fail;
	}
	s->rx_batch = new_batch(s->bufsz);
	s->tx_batch = new_batch(s->bufsz);
	s->rx_aead = wgx_aead_new(WGX_AEAD_DEFAULT);
	s->tx_aead = wgx_aead_new(WGX_AEAD_DEFAULT);
	if (!s->rx_batch || !s->tx_batch || !s->rx_aead || !s->tx_aead) {
		wgx_log_error("Couldn't allocate datapath buffers");
		err = -ENOMEM;
		goto fail;
	}
	err = open_sockets(s, o);
	if (err)
		goto fail;
	dev->dp = &s->dp;
	err = -pthread_create(&s->rx, NULL, rx_thread, s);
	if (err)
		goto fail;
	s->rx_started = true;
	err = -pthread_create(&s->tx, NULL, tx_thread, s);
	if (err)
		goto fail;
	s->tx_started = true;
	*out = &s->dp;
	return 0;
fail:
	dev->dp = NULL;
	sock_destroy(&s->dp);
	return err;
}
