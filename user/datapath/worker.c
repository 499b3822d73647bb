// SPDX-License-Identifier: MIT
/*
 * The worker threads and the pool that owns them. Everything a worker
 * touches per packet is its own (I/O, TUN queue, AEAD context, counters)
 * or the batch it claimed; workers meet only on the rings' atomics and the
 * idle mask, a few times per batch.
 */
#include "datapath/worker.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/crypto.h"
#include "datapath/pktio_socket.h"
#include "datapath/pktio_xsk.h"
#include "datapath/rx.h"
#include "datapath/tx.h"
#include "device/rcu.h"
#include "util/harden.h"
#include "util/log.h"
#include "util/plainbuf.h"

enum {
	/* A worker idle this long wipes the keys its AEAD context holds. */
	IDLE_MS = 1000,
	POLL_MAX = 8,
};

/* ---- helping each other ------------------------------------------------- */

void wgx_pool_kick(struct wgx_pool *pool, const struct wgx_worker *from)
{
	uint64_t mask = atomic_load(&pool->idle_mask), one = 1, bit;
	unsigned int i;

	mask &= ~(one << from->id);
	while (mask) {
		i = (unsigned int)__builtin_ctzll(mask);
		bit = one << i;
		/* Clearing the bit claims the right to wake it, once. */
		if (atomic_fetch_and(&pool->idle_mask, ~bit) & bit) {
			if (write(pool->w[i].wake_fd, &one, sizeof(one)) < 0) {
				/* Saturated: it is awake anyway. */
			}
			return;
		}
		mask &= ~bit;
	}
}

static bool anything_claimable(const struct wgx_pool *pool)
{
	for (unsigned int i = 0; i < pool->n; i++)
		if (wgx_ring_claimable(&pool->w[i].rx_ring) ||
		    wgx_ring_claimable(&pool->w[i].tx_ring))
			return true;
	return false;
}

/* ---- the loop ----------------------------------------------------------- */

static void finish_rx(void *ctx, void *batch)
{
	wgx_rx_finish(ctx, batch);
}

static void finish_tx(void *ctx, void *batch)
{
	wgx_tx_finish(ctx, batch);
}

/* Room and input: fill one receive batch. */
static bool fill_rx(struct wgx_worker *w)
{
	struct wgx_rx_job *j = wgx_ring_next_free(&w->rx_ring);
	int n;

	if (!j)
		return false;
	n = wgx_rx_fill(w, j);
	if (n < 0) {
		wgx_log_debug("worker %u: receive failed: %s", w->id,
			      strerror(-n));
		return false;
	}
	if (!n)
		return false;
	wgx_ring_produce(&w->rx_ring);
	return true;
}

static bool fill_tx(struct wgx_worker *w)
{
	struct wgx_tx_job *j = wgx_ring_next_free(&w->tx_ring);

	if (!j || wgx_tx_fill(w, j) <= 0)
		return false;
	wgx_ring_produce(&w->tx_ring);
	return true;
}

/* Claim one batch from v's rings and do its crypto. */
static bool work_on(struct wgx_worker *w, struct wgx_worker *v, bool rx_first)
{
	for (int k = 0; k < 2; k++) {
		bool rx = (k == 0) == rx_first;
		struct wgx_ring *r = rx ? &v->rx_ring : &v->tx_ring;
		uint64_t seq;
		void *b = wgx_ring_claim(r, &seq);

		if (!b)
			continue;
		if (rx)
			wgx_rx_decrypt(w, b);
		else
			wgx_tx_seal(w, b);
		wgx_worker_count(v == w ? &w->batches_own : &w->batches_helped,
				 1);
		wgx_ring_done(r, seq, rx ? finish_rx : finish_tx, w);
		return true;
	}
	return false;
}

/* One batch of crypto from any ring: our own first, then the others'. */
static bool work_one(struct wgx_worker *w, bool rx_first)
{
	struct wgx_pool *pool = w->pool;

	for (unsigned int k = 0; k < pool->n; k++)
		if (work_on(w, &pool->w[(w->id + k) % pool->n], rx_first))
			return true;
	return false;
}

/* Sleep until input, a kick, or the stop; false to stop. */
static bool sleep_worker(struct wgx_worker *w)
{
	struct wgx_pool *pool = w->pool;
	struct pollfd pfd[POLL_MAX];
	uint64_t bit = (uint64_t)1 << w->id, count;
	unsigned int n = 0;
	int ret;

	pfd[n++] = (struct pollfd){ .fd = pool->stop_fd, .events = POLLIN };
	pfd[n++] = (struct pollfd){ .fd = w->wake_fd, .events = POLLIN };
	pfd[n++] = (struct pollfd){ .fd = w->tun_fd, .events = POLLIN };
	n += w->io->ops->poll_fds(w->io, pfd + n, POLL_MAX - n);
	atomic_fetch_or(&pool->idle_mask, bit);
	/* Work queued before the bit was visible would find no one. */
	if (anything_claimable(pool)) {
		atomic_fetch_and(&pool->idle_mask, ~bit);
		return true;
	}
	wgx_rcu_offline();
	ret = poll(pfd, n, IDLE_MS);
	wgx_rcu_online();
	atomic_fetch_and(&pool->idle_mask, ~bit);
	if (ret > 0 && pfd[0].revents)
		return false;
	if (ret > 0 && (pfd[1].revents & POLLIN) &&
	    read(w->wake_fd, &count, sizeof(count)) < 0) {
		/* Already drained. */
	}
	if (ret == 0)
		/* Idle: no key should linger in the crypto context. */
		wgx_aead_forget(w->aead);
	return true;
}

static void *worker_main(void *arg)
{
	struct wgx_worker *w = arg;
	bool rx_first = true;

	/* Workers move packets through descriptors they were given: they
	 * need no capability at all (util/harden.h). */
	if (wgx_harden_thread() < 0)
		wgx_log_debug("worker %u: couldn't drop capabilities", w->id);
	wgx_rcu_register();
	for (;;) {
		bool busy = false;

		/* Fill while there is room: helpers take what we cannot. */
		for (int i = 0; i < WGX_WORKER_BATCHES; i++) {
			bool filled = fill_rx(w);

			filled |= fill_tx(w);
			if (!filled)
				break;
			busy = true;
			if (wgx_ring_claimable(&w->rx_ring) +
				    wgx_ring_claimable(&w->tx_ring) >
			    1)
				wgx_pool_kick(w->pool, w);
		}
		while (work_one(w, rx_first)) {
			busy = true;
			rx_first = !rx_first;
		}
		wgx_rcu_quiescent();
		if (!busy && !sleep_worker(w))
			break;
	}
	wgx_rcu_unregister();
	return NULL;
}

/* ---- the pool ----------------------------------------------------------- */

static void worker_release(struct wgx_worker *w)
{
	for (int i = 0; i < WGX_WORKER_BATCHES; i++) {
		wgx_rx_job_free(w->rx_job[i]);
		wgx_tx_job_free(w->tx_job[i]);
	}
	if (w->io)
		w->io->ops->destroy(w->io);
	wgx_aead_free(w->aead);
	if (w->wake_fd >= 0)
		close(w->wake_fd);
	/* Wiped as they are unmapped. */
	wgx_plainbuf_free(w->seg_scratch, WGX_SEG_SCRATCH);
	wgx_plainbuf_free(w->carry, WGX_TUN_READ_MAX);
}

static void pool_stop(struct wgx_pool *pool)
{
	uint64_t one = 1;

	if (pool->stop_fd >= 0 && write(pool->stop_fd, &one, sizeof(one)) < 0)
		wgx_log_warn("Couldn't signal the workers: %s",
			     strerror(errno));
	for (unsigned int i = 0; i < pool->n; i++)
		if (pool->w[i].started)
			pthread_join(pool->w[i].thread, NULL);
}

static void pool_destroy(struct wgx_datapath *dp)
{
	struct wgx_pool *pool = (struct wgx_pool *)dp;

	pool_stop(pool);
	/* No reader is left: what waited for the workers can go now, and
	 * no later generation is measured against these rings. */
	wgx_reclaim_set_barrier(&pool->dev->reclaim, NULL);
	wgx_reclaim_flush(&pool->dev->reclaim);
	for (unsigned int i = 0; i < pool->n; i++)
		worker_release(&pool->w[i]);
	if (pool->stop_fd >= 0)
		close(pool->stop_fd);
	free(pool->w);
	free(pool);
}

static int pool_send(struct wgx_datapath *dp, const union wgx_sockaddr *to,
		     const void *buf, size_t len)
{
	struct wgx_pool *pool = (struct wgx_pool *)dp;
	struct wgx_pktio *io = pool->w[0].io;

	return io->ops->send_one(io, to, buf, len);
}

static const struct wgx_datapath_ops pool_ops = {
	.name = "workers",
	.send = pool_send,
	.destroy = pool_destroy,
};

/* The reclaim barrier (device/reclaim.h): every ring's position. */
static unsigned int barrier_snapshot(void *ctx, uint64_t *seq, unsigned int max)
{
	struct wgx_pool *pool = ctx;
	unsigned int n = 0;

	for (unsigned int i = 0; i < pool->n && n + 2 <= max; i++) {
		seq[n++] = wgx_ring_produced(&pool->w[i].rx_ring);
		seq[n++] = wgx_ring_produced(&pool->w[i].tx_ring);
	}
	return n;
}

static bool barrier_passed(void *ctx, const uint64_t *seq, unsigned int n)
{
	struct wgx_pool *pool = ctx;

	for (unsigned int i = 0; i < pool->n && 2 * i + 1 < n; i++)
		if (wgx_ring_finished(&pool->w[i].rx_ring) < seq[2 * i] ||
		    wgx_ring_finished(&pool->w[i].tx_ring) < seq[2 * i + 1])
			return false;
	return true;
}

/* Worker i's AF_XDP sockets: its share of the interface's RX queues. */
static int open_xsks(struct wgx_pool *pool, const struct wgx_socket_opts *o,
		     unsigned int i)
{
	unsigned int queues[WGX_XSK_PER_WORKER], nq = 0;
	struct wgx_worker *w = &pool->w[i];
	struct wgx_xsk_tx tx = { .on = o->xsk_tx,
				 .nh = &pool->dev->nexthops,
				 .port = pool->dp.port };

	for (unsigned int q = i; q < pool->rx_queues && nq < WGX_XSK_PER_WORKER;
	     q += pool->n)
		queues[nq++] = q;
	if (!nq)
		return 0;
	return wgx_pktio_xsk_open(w->io, o->iface, queues, nq, o->xsk_generic,
				  &tx, &w->io);
}

static int open_io(struct wgx_pool *pool, const struct wgx_socket_opts *o,
		   unsigned int i)
{
	struct wgx_worker *w = &pool->w[i];
	uint16_t bound = pool->dp.port;
	int err;

	if (o->make_io)
		return o->make_io(o->make_io_ctx, i, &w->io);
	err = wgx_pktio_socket_open(o, i ? pool->dp.port : o->port,
				    pool->stop_fd, &pool->dp.offloads, &w->io,
				    &bound);
	if (err)
		return err;
	if (!i) {
		pool->dp.port = bound;
		pool->offloads &= wgx_pktio_socket_offloads(w->io) |
				  WGX_DP_TUN_VNET | WGX_DP_TUN_GRO;
		if (!wgx_pktio_socket_has_ipv6(w->io))
			wgx_log_info("IPv6 unavailable: IPv4 underlay only");
	}
	if (o->xsk) {
		err = open_xsks(pool, o, i);
		if (err)
			w->io = NULL; /* destroyed with the sockets */
	}
	return err;
}

static int worker_setup(struct wgx_pool *pool, const struct wgx_socket_opts *o,
			unsigned int i)
{
	struct wgx_worker *w = &pool->w[i];
	void *rx[WGX_WORKER_BATCHES], *tx[WGX_WORKER_BATCHES];
	int err;

	w->pool = pool;
	w->dev = pool->dev;
	w->id = i;
	w->tun_fd = o->tun_fds[i];
	w->tun_vnet = pool->offloads & WGX_DP_TUN_VNET;
	w->tun_gro = pool->offloads & WGX_DP_TUN_GRO;
	err = open_io(pool, o, i);
	if (err)
		return err;
	w->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	w->aead = wgx_aead_new(WGX_AEAD_DEFAULT);
	/* Plaintext segments and reads: locked, never dumped. */
	w->seg_scratch = wgx_plainbuf_alloc(WGX_SEG_SCRATCH);
	w->carry = wgx_plainbuf_alloc(WGX_TUN_READ_MAX);
	if (w->wake_fd < 0 || !w->aead || !w->seg_scratch || !w->carry)
		return -ENOMEM;
	for (int k = 0; k < WGX_WORKER_BATCHES; k++) {
		w->rx_job[k] = wgx_rx_job_new(w->io);
		w->tx_job[k] = wgx_tx_job_new(pool->dev->mtu);
		if (!w->rx_job[k] || !w->tx_job[k])
			return -ENOMEM;
		rx[k] = w->rx_job[k];
		tx[k] = w->tx_job[k];
	}
	wgx_ring_init(&w->rx_ring, WGX_WORKER_BATCHES, rx);
	wgx_ring_init(&w->tx_ring, WGX_WORKER_BATCHES, tx);
	return 0;
}

static int pool_start(struct wgx_pool *pool)
{
	for (unsigned int i = 0; i < pool->n; i++) {
		struct wgx_worker *w = &pool->w[i];
		char name[16];
		int err = -pthread_create(&w->thread, NULL, worker_main, w);

		if (err) {
			wgx_log_error("Couldn't start worker %u: %s", i,
				      strerror(-err));
			return err;
		}
		w->started = true;
		/* Named for top and perf. */
		snprintf(name, sizeof(name), "wgxdp-w%u", i % 100);
		pthread_setname_np(w->thread, name);
	}
	return 0;
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
	struct wgx_reclaim_barrier barrier = { barrier_snapshot, barrier_passed,
					       NULL };
	struct wgx_pool *pool;
	char names[64];
	int err = -ENOMEM;

	*out = NULL;
	if (!o->workers || o->workers > WGX_WORKERS_MAX)
		return -EINVAL;
	pool = calloc(1, sizeof(*pool));
	if (!pool)
		return -ENOMEM;
	pool->dp.ops = &pool_ops;
	pool->dp.dev = dev;
	pool->dev = dev;
	pool->n = o->workers;
	pool->offloads = tun_offloads(o->offloads & WGX_DP_OFFLOAD_ALL);
	pool->rx_queues = o->xsk && o->iface ? wgx_xsk_rx_queues(o->iface) : 0;
	pool->stop_fd = eventfd(0, EFD_CLOEXEC);
	pool->w = calloc(pool->n, sizeof(*pool->w));
	if (pool->stop_fd < 0 || !pool->w)
		goto fail;
	for (unsigned int i = 0; i < pool->n; i++)
		pool->w[i].wake_fd = -1;
	for (unsigned int i = 0; i < pool->n; i++) {
		err = worker_setup(pool, o, i);
		if (err) {
			if (err == -ENOMEM)
				wgx_log_error("Couldn't allocate worker %u's "
					      "buffers",
					      i);
			goto fail;
		}
	}
	atomic_store(&pool->dp.offloads, pool->offloads);
	wgx_dp_socket_format_offloads(pool->offloads, names, sizeof(names));
	wgx_log_info("%u workers; offloads: %s%s%s", pool->n, names,
		     o->xsk ? "; AF_XDP on every RX queue" : "",
		     o->xsk && o->xsk_tx ? ", AF_XDP transmit" : "");
	barrier.ctx = pool;
	wgx_reclaim_set_barrier(&dev->reclaim, &barrier);
	dev->dp = &pool->dp;
	err = pool_start(pool);
	if (err)
		goto fail;
	*out = &pool->dp;
	return 0;
fail:
	dev->dp = NULL;
	pool_destroy(&pool->dp);
	return err;
}

/* ---- what the agent reads ----------------------------------------------- */

unsigned int wgx_dp_workers(const struct wgx_datapath *dp)
{
	return ((const struct wgx_pool *)dp)->n;
}

void wgx_dp_worker_info(const struct wgx_datapath *dp, unsigned int i,
			struct wgx_dp_worker_info *out)
{
	const struct wgx_pool *pool = (const struct wgx_pool *)dp;
	const struct wgx_worker *w = &pool->w[i];

	out->rx_packets = atomic_load(&w->stats.packets[WGX_STAT_RX_DATA]);
	out->tx_packets = atomic_load(&w->stats.packets[WGX_STAT_TX_DATA]);
	out->batches_own = atomic_load(&w->batches_own);
	out->batches_helped = atomic_load(&w->batches_helped);
}

int wgx_dp_register_xsks(struct wgx_datapath *dp, int xsks_map_fd)
{
	struct wgx_pool *pool = (struct wgx_pool *)dp;

	for (unsigned int i = 0; i < pool->n; i++) {
		int err = wgx_pktio_xsk_register(pool->w[i].io, xsks_map_fd);

		if (err)
			return err;
	}
	return 0;
}

unsigned int wgx_dp_xsks(const struct wgx_datapath *dp)
{
	const struct wgx_pool *pool = (const struct wgx_pool *)dp;
	unsigned int n = 0;

	for (unsigned int i = 0; i < pool->n; i++)
		n += wgx_pktio_xsk_count(pool->w[i].io);
	return n;
}

void wgx_dp_xsk_info(const struct wgx_datapath *dp, unsigned int i,
		     struct wgx_dp_xsk_info *out)
{
	const struct wgx_pool *pool = (const struct wgx_pool *)dp;

	memset(out, 0, sizeof(*out));
	for (unsigned int w = 0; w < pool->n; w++) {
		unsigned int n = wgx_pktio_xsk_count(pool->w[w].io);
		struct wgx_xsk_info x;

		if (i >= n) {
			i -= n;
			continue;
		}
		wgx_pktio_xsk_info(pool->w[w].io, i, &x);
		*out = (struct wgx_dp_xsk_info){
			.worker = w,
			.queue = x.queue,
			.zerocopy = x.zerocopy,
			.rx_packets = x.rx_packets,
			.rx_dropped = x.rx_dropped,
			.rx_invalid_descs = x.rx_invalid_descs,
			.rx_ring_full = x.rx_ring_full,
			.fill_ring_empty = x.fill_ring_empty,
			.tx = x.tx,
			.tx_packets = x.tx_packets,
			.tx_invalid_descs = x.tx_invalid_descs,
			.tx_ring_empty = x.tx_ring_empty,
		};
		return;
	}
}

void wgx_dp_add_stats(const struct wgx_datapath *dp,
		      uint64_t packets[WGX_STAT_COUNT],
		      uint64_t bytes[WGX_STAT_COUNT])
{
	const struct wgx_pool *pool = (const struct wgx_pool *)dp;

	for (unsigned int i = 0; i < pool->n; i++) {
		for (int id = 0; id < WGX_STAT_COUNT; id++) {
			packets[id] +=
				atomic_load(&pool->w[i].stats.packets[id]);
			bytes[id] += atomic_load(&pool->w[i].stats.bytes[id]);
		}
	}
}

/* ---- offload names -------------------------------------------------------- */

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
