// SPDX-License-Identifier: MIT
#include "fake_pktio.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct fake_io {
	struct wgx_pktio io;
	struct fake_net *net;
	unsigned int w;
};

int fake_net_init(struct fake_net *net)
{
	memset(net, 0, sizeof(*net));
	pthread_mutex_init(&net->lock, NULL);
	net->sent = calloc(FAKE_QUEUE, sizeof(*net->sent));
	for (int i = 0; i < 8; i++) {
		net->queue[i] = calloc(FAKE_QUEUE, sizeof(*net->queue[i]));
		net->efd[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	}
	net->per_recv = WGX_RX_MSGS;
	return net->sent && net->queue[7] ? 0 : -ENOMEM;
}

void fake_net_free(struct fake_net *net)
{
	free(net->sent);
	for (int i = 0; i < 8; i++) {
		free(net->queue[i]);
		close(net->efd[i]);
	}
	pthread_mutex_destroy(&net->lock);
}

void fake_net_push(struct fake_net *net, unsigned int w,
		   const union wgx_sockaddr *from, const void *data, size_t len)
{
	struct fake_dgram *d;
	uint64_t one = 1;

	pthread_mutex_lock(&net->lock);
	if (net->tail[w] < FAKE_QUEUE && len <= FAKE_MAX_DGRAM) {
		d = &net->queue[w][net->tail[w]++];
		d->addr = *from;
		d->len = (uint16_t)len;
		memcpy(d->data, data, len);
	}
	pthread_mutex_unlock(&net->lock);
	if (write(net->efd[w], &one, sizeof(one)) < 0) {
		/* Saturated: readable anyway. */
	}
}

void fake_net_set_per_recv(struct fake_net *net, unsigned int n)
{
	pthread_mutex_lock(&net->lock);
	net->per_recv = n;
	pthread_mutex_unlock(&net->lock);
}

unsigned int fake_net_sent(struct fake_net *net)
{
	unsigned int n;

	pthread_mutex_lock(&net->lock);
	n = net->n_sent;
	pthread_mutex_unlock(&net->lock);
	return n;
}

unsigned int fake_net_pending(struct fake_net *net)
{
	unsigned int n = 0;

	pthread_mutex_lock(&net->lock);
	for (int i = 0; i < 8; i++)
		n += net->tail[i] - net->head[i];
	pthread_mutex_unlock(&net->lock);
	return n;
}

static int fake_recv(struct wgx_pktio *io, struct wgx_rx_batch *b)
{
	struct fake_io *f = (struct fake_io *)io;
	struct fake_net *net = f->net;
	unsigned int w = f->w;
	uint64_t count;

	/* Drained before the queue is looked at: a later push sets it. */
	if (read(net->efd[w], &count, sizeof(count)) < 0) {
		/* Nothing signalled. */
	}
	pthread_mutex_lock(&net->lock);
	while (b->nbuf < net->per_recv && b->nbuf < WGX_RX_MSGS &&
	       net->head[w] < net->tail[w]) {
		struct fake_dgram *d = &net->queue[w][net->head[w]++];
		unsigned int m = b->nbuf++, src = b->nsrc++;

		memcpy(b->buf[m], d->data, d->len);
		b->src[src] = d->addr;
		b->d[b->n++] = (struct wgx_rx_dgram){ .data = b->buf[m],
						      .len = d->len,
						      .src = (uint16_t)src };
	}
	/* More than one batch waits: keep it readable. */
	if (net->head[w] < net->tail[w]) {
		count = 1;
		if (write(net->efd[w], &count, sizeof(count)) < 0) {
			/* Saturated: readable anyway. */
		}
	}
	pthread_mutex_unlock(&net->lock);
	return (int)b->n;
}

static void fake_send(struct wgx_pktio *io, const struct wgx_tx_send *s,
		      struct wgx_pktio_result *r)
{
	struct fake_io *f = (struct fake_io *)io;
	struct fake_net *net = f->net;

	pthread_mutex_lock(&net->lock);
	for (unsigned int i = 0; i < s->n; i++) {
		struct fake_dgram *d;

		if (net->n_sent == FAKE_QUEUE ||
		    s->d[i].wire > FAKE_MAX_DGRAM) {
			r->failed++;
			r->failed_bytes += s->d[i].wire;
			continue;
		}
		d = &net->sent[net->n_sent++];
		d->addr = s->d[i].to;
		d->len = (uint16_t)s->d[i].wire;
		memcpy(d->data, s->d[i].p, s->d[i].wire);
		r->sent++;
		r->sent_bytes += s->d[i].wire;
	}
	pthread_mutex_unlock(&net->lock);
}

static int fake_send_one(struct wgx_pktio *io, const union wgx_sockaddr *to,
			 const void *buf, size_t len)
{
	struct wgx_tx_send s = { .n = 1 };
	struct wgx_pktio_result r = { 0 };

	s.d[0] = (struct wgx_tx_dgram){ .p = (uint8_t *)buf,
					.wire = (uint32_t)len,
					.to = *to };
	fake_send(io, &s, &r);
	return r.sent ? 0 : -ENOBUFS;
}

static unsigned int fake_poll_fds(struct wgx_pktio *io, struct pollfd *pfd,
				  unsigned int max)
{
	struct fake_io *f = (struct fake_io *)io;

	if (!max)
		return 0;
	pfd[0] = (struct pollfd){ .fd = f->net->efd[f->w], .events = POLLIN };
	return 1;
}

static void fake_destroy(struct wgx_pktio *io)
{
	free(io);
}

static const struct wgx_pktio_ops fake_ops = {
	.name = "fake",
	.recv = fake_recv,
	.send = fake_send,
	.send_one = fake_send_one,
	.poll_fds = fake_poll_fds,
	.destroy = fake_destroy,
};

int fake_net_make_io(void *ctx, unsigned int worker, struct wgx_pktio **out)
{
	struct fake_io *f = calloc(1, sizeof(*f));

	if (!f)
		return -ENOMEM;
	f->io.ops = &fake_ops;
	f->io.needs_buffers = true;
	f->net = ctx;
	f->w = worker;
	*out = &f->io;
	return 0;
}
