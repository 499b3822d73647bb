// SPDX-License-Identifier: MIT
/*
 * A table of metric families, each with the number of samples it has in
 * a snapshot and a function that writes sample i. The reader walks the
 * table: a family's HELP and TYPE lines, then its samples, as many whole
 * lines as the buffer takes, resuming where it stopped. Families with no
 * sample (no XDP program, no workers) are left out.
 */
#include "agent/metrics.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/key.h"
#include "util/version.h"

/* One counter of the device: a label value and its packets and bytes. */
struct counter {
	const char *label; /* a reason, a verdict, a counter name */
	const char *layer; /* "xdp" or "datapath": drops only */
	uint64_t packets, bytes;
};

struct mpeer {
	uint8_t raw[WGX_KEY_LEN];
	/* Encoded by the reader, once: the snapshot only copies. */
	char key[WGX_KEY_BASE64_LEN + 1];
	char name[WGX_PEER_NAME_MAX + 1];
	uint64_t rx_bytes, tx_bytes, rx_packets, tx_packets;
	uint64_t handshake_sec, handshakes;
};

enum {
	MAX_COUNTERS = WGX_STAT_COUNT + WGX_XDP_STAT_COUNT,
};

struct wgx_metrics {
	char tun[32], iface[32], mode[16];
	uint64_t peers, sessions, hsq, staged;
	struct counter xdp[WGX_XDP_STAT_COUNT];
	size_t nxdp;
	struct counter drops[MAX_COUNTERS];
	size_t ndrops;
	struct counter dp[WGX_STAT_COUNT];
	size_t ndp;
	struct counter events[WGX_STAT_COUNT];
	size_t nevents;
	struct wgx_dp_worker_info workers[WGX_WORKERS_MAX];
	unsigned int nworkers;
	struct mpeer *peer;
	size_t npeers;
	/* Where the reader is. */
	size_t family, item;
	bool header_done;
};

/* ---- label values ----------------------------------------------------- */

/* The text format's escapes for label values: \\, \" and \n. */
static void escape(char *out, size_t size, const char *s)
{
	size_t n = 0;

	for (; *s && n + 3 < size; s++) {
		if (*s == '\\' || *s == '"') {
			out[n++] = '\\';
			out[n++] = *s;
		} else if (*s == '\n') {
			out[n++] = '\\';
			out[n++] = 'n';
		} else {
			out[n++] = *s;
		}
	}
	out[n] = '\0';
}

/* ---- samples ---------------------------------------------------------- */

typedef size_t (*items_fn)(const struct wgx_metrics *m);
typedef int (*sample_fn)(const struct wgx_metrics *m, size_t i,
			 const char *name, char *buf, size_t len);

struct family {
	const char *name;
	const char *type;
	const char *help;
	items_fn items;
	sample_fn sample;
};

static size_t one(const struct wgx_metrics *m)
{
	(void)m;
	return 1;
}

static size_t n_xdp(const struct wgx_metrics *m)
{
	return m->nxdp;
}

static size_t n_drops(const struct wgx_metrics *m)
{
	return m->ndrops;
}

static size_t n_dp(const struct wgx_metrics *m)
{
	return m->ndp;
}

static size_t n_events(const struct wgx_metrics *m)
{
	return m->nevents;
}

static size_t n_workers(const struct wgx_metrics *m)
{
	return m->nworkers;
}

static size_t n_batches(const struct wgx_metrics *m)
{
	return 2 * (size_t)m->nworkers;
}

static size_t n_peers(const struct wgx_metrics *m)
{
	return m->npeers;
}

/* Append to the line of n bytes at buf, unless it is already cut. */
__attribute__((format(printf, 4, 5))) static int more(char *buf, size_t len,
						      int n, const char *fmt,
						      ...)
{
	va_list ap;
	int k;

	if (n < 0 || (size_t)n >= len)
		return n;
	va_start(ap, fmt);
	k = vsnprintf(buf + n, len - (size_t)n, fmt, ap);
	va_end(ap);
	return k < 0 ? k : n + k;
}

/* "NAME{interface="TUN"" : every sample starts so. */
static int head(const struct wgx_metrics *m, const char *name, char *buf,
		size_t len)
{
	return snprintf(buf, len, "%s{interface=\"%s\"", name, m->tun);
}

static int device_value(const struct wgx_metrics *m, const char *name,
			char *buf, size_t len, uint64_t v)
{
	int n = head(m, name, buf, len);

	return more(buf, len, n, "} %llu\n", (unsigned long long)v);
}

static int s_info(const struct wgx_metrics *m, size_t i, const char *name,
		  char *buf, size_t len)
{
	char version[64], iface[64];
	int n = head(m, name, buf, len);

	(void)i;
	escape(version, sizeof(version), wgx_version());
	escape(iface, sizeof(iface), m->iface);
	return more(buf, len, n,
		    ",underlay=\"%s\",mode=\"%s\",version=\"%s\"} 1\n", iface,
		    m->mode, version);
}

static int s_peers(const struct wgx_metrics *m, size_t i, const char *name,
		   char *buf, size_t len)
{
	(void)i;
	return device_value(m, name, buf, len, m->peers);
}

static int s_sessions(const struct wgx_metrics *m, size_t i, const char *name,
		      char *buf, size_t len)
{
	(void)i;
	return device_value(m, name, buf, len, m->sessions);
}

static int s_hsq(const struct wgx_metrics *m, size_t i, const char *name,
		 char *buf, size_t len)
{
	(void)i;
	return device_value(m, name, buf, len, m->hsq);
}

static int s_staged(const struct wgx_metrics *m, size_t i, const char *name,
		    char *buf, size_t len)
{
	(void)i;
	return device_value(m, name, buf, len, m->staged);
}

static int labelled(const struct wgx_metrics *m, const char *name, char *buf,
		    size_t len, const char *label, const struct counter *c,
		    uint64_t v)
{
	int n = head(m, name, buf, len);

	if (c->layer)
		n = more(buf, len, n, ",layer=\"%s\"", c->layer);
	return more(buf, len, n, ",%s=\"%s\"} %llu\n", label, c->label,
		    (unsigned long long)v);
}

static int s_xdp_packets(const struct wgx_metrics *m, size_t i,
			 const char *name, char *buf, size_t len)
{
	return labelled(m, name, buf, len, "verdict", &m->xdp[i],
			m->xdp[i].packets);
}

static int s_xdp_bytes(const struct wgx_metrics *m, size_t i, const char *name,
		       char *buf, size_t len)
{
	return labelled(m, name, buf, len, "verdict", &m->xdp[i],
			m->xdp[i].bytes);
}

static int s_drop_packets(const struct wgx_metrics *m, size_t i,
			  const char *name, char *buf, size_t len)
{
	return labelled(m, name, buf, len, "reason", &m->drops[i],
			m->drops[i].packets);
}

static int s_drop_bytes(const struct wgx_metrics *m, size_t i, const char *name,
			char *buf, size_t len)
{
	return labelled(m, name, buf, len, "reason", &m->drops[i],
			m->drops[i].bytes);
}

static int s_dp_packets(const struct wgx_metrics *m, size_t i, const char *name,
			char *buf, size_t len)
{
	return labelled(m, name, buf, len, "counter", &m->dp[i],
			m->dp[i].packets);
}

static int s_dp_bytes(const struct wgx_metrics *m, size_t i, const char *name,
		      char *buf, size_t len)
{
	return labelled(m, name, buf, len, "counter", &m->dp[i],
			m->dp[i].bytes);
}

static int s_events(const struct wgx_metrics *m, size_t i, const char *name,
		    char *buf, size_t len)
{
	return labelled(m, name, buf, len, "event", &m->events[i],
			m->events[i].packets);
}

static int worker(const struct wgx_metrics *m, const char *name, char *buf,
		  size_t len, size_t w, const char *extra, uint64_t v)
{
	int n = head(m, name, buf, len);

	return more(buf, len, n, ",worker=\"%zu\"%s} %llu\n", w, extra,
		    (unsigned long long)v);
}

static int s_worker_rx(const struct wgx_metrics *m, size_t i, const char *name,
		       char *buf, size_t len)
{
	return worker(m, name, buf, len, i, "", m->workers[i].rx_packets);
}

static int s_worker_tx(const struct wgx_metrics *m, size_t i, const char *name,
		       char *buf, size_t len)
{
	return worker(m, name, buf, len, i, "", m->workers[i].tx_packets);
}

static int s_worker_batches(const struct wgx_metrics *m, size_t i,
			    const char *name, char *buf, size_t len)
{
	const struct wgx_dp_worker_info *w = &m->workers[i / 2];

	return worker(m, name, buf, len, i / 2,
		      i % 2 ? ",ring=\"other\"" : ",ring=\"own\"",
		      i % 2 ? w->batches_helped : w->batches_own);
}

static int peer_sample(const struct wgx_metrics *m, size_t i, const char *name,
		       char *buf, size_t len, uint64_t v)
{
	struct mpeer *p = &m->peer[i];
	int n = head(m, name, buf, len);

	if (!p->key[0])
		wgx_key_to_base64(p->key, p->raw);
	n = more(buf, len, n, ",public_key=\"%s\"", p->key);
	if (p->name[0])
		n = more(buf, len, n, ",name=\"%s\"", p->name);
	return more(buf, len, n, "} %llu\n", (unsigned long long)v);
}

#define PEER_SAMPLE(fn, field)                                                 \
	static int fn(const struct wgx_metrics *m, size_t i, const char *name, \
		      char *buf, size_t len)                                   \
	{                                                                      \
		return peer_sample(m, i, name, buf, len, m->peer[i].field);    \
	}

PEER_SAMPLE(s_peer_rx_bytes, rx_bytes)
PEER_SAMPLE(s_peer_tx_bytes, tx_bytes)
PEER_SAMPLE(s_peer_rx_packets, rx_packets)
PEER_SAMPLE(s_peer_tx_packets, tx_packets)
PEER_SAMPLE(s_peer_handshake, handshake_sec)
PEER_SAMPLE(s_peer_handshakes, handshakes)

static const struct family families[] = {
	{ "wgxdp_info", "gauge",
	  "The instance: its underlay, datapath mode and wgxdp version.", one,
	  s_info },
	{ "wgxdp_peers", "gauge", "Peers configured.", one, s_peers },
	{ "wgxdp_sessions", "gauge",
	  "Session keypairs alive (current, previous and next of every peer).",
	  one, s_sessions },
	{ "wgxdp_handshake_queue_length", "gauge",
	  "Handshake messages waiting for the agent.", one, s_hsq },
	{ "wgxdp_staged_packets", "gauge",
	  "Packets waiting for a handshake to complete.", one, s_staged },
	{ "wgxdp_xdp_packets_total", "counter",
	  "Packets the XDP program gave each verdict.", n_xdp, s_xdp_packets },
	{ "wgxdp_xdp_bytes_total", "counter",
	  "Bytes the XDP program gave each verdict.", n_xdp, s_xdp_bytes },
	{ "wgxdp_dropped_packets_total", "counter",
	  "Packets dropped, by layer (xdp, datapath) and reason.", n_drops,
	  s_drop_packets },
	{ "wgxdp_dropped_bytes_total", "counter",
	  "Bytes dropped, by layer (xdp, datapath) and reason.", n_drops,
	  s_drop_bytes },
	{ "wgxdp_datapath_packets_total", "counter",
	  "Packets the datapath received (rx_*) and sent (tx_*), by kind.",
	  n_dp, s_dp_packets },
	{ "wgxdp_datapath_bytes_total", "counter",
	  "Bytes the datapath received (rx_*) and sent (tx_*), by kind.", n_dp,
	  s_dp_bytes },
	{ "wgxdp_events_total", "counter",
	  "Other datapath events: packets staged, handshakes given up, keys "
	  "wiped.",
	  n_events, s_events },
	{ "wgxdp_worker_received_packets_total", "counter",
	  "Packets each crypto worker received.", n_workers, s_worker_rx },
	{ "wgxdp_worker_sent_packets_total", "counter",
	  "Packets each crypto worker sent.", n_workers, s_worker_tx },
	{ "wgxdp_worker_batches_total", "counter",
	  "Batches each worker did the crypto of, from its own ring or "
	  "another's.",
	  n_batches, s_worker_batches },
	{ "wgxdp_peer_receive_bytes_total", "counter",
	  "Bytes received from the peer (UDP payload).", n_peers,
	  s_peer_rx_bytes },
	{ "wgxdp_peer_transmit_bytes_total", "counter",
	  "Bytes sent to the peer (UDP payload).", n_peers, s_peer_tx_bytes },
	{ "wgxdp_peer_receive_packets_total", "counter",
	  "Datagrams received from the peer.", n_peers, s_peer_rx_packets },
	{ "wgxdp_peer_transmit_packets_total", "counter",
	  "Datagrams sent to the peer.", n_peers, s_peer_tx_packets },
	{ "wgxdp_peer_latest_handshake_seconds", "gauge",
	  "Unix time of the latest completed handshake (0: never).", n_peers,
	  s_peer_handshake },
	{ "wgxdp_peer_handshakes_total", "counter",
	  "Handshakes completed with the peer.", n_peers, s_peer_handshakes },
};

#define N_FAMILIES (sizeof(families) / sizeof(families[0]))

/* ---- snapshot --------------------------------------------------------- */

static unsigned int keypairs(const struct wgx_peer *p)
{
	return (wgx_keypairs_current(&p->keypairs) != NULL) +
	       (wgx_keypairs_previous(&p->keypairs) != NULL) +
	       (wgx_keypairs_next(&p->keypairs) != NULL);
}

static void snap_peers(struct wgx_metrics *m,
		       const struct wgx_metrics_source *src)
{
	struct wgx_peer *p;
	size_t i = 0;

	wgx_peers_for_each(&src->dev->peers, p)
	{
		struct mpeer *o = &m->peer[i++];
		const char *name =
			wgx_peer_names_find(src->names, p->public_key);

		memcpy(o->raw, p->public_key, WGX_KEY_LEN);
		if (name)
			escape(o->name, sizeof(o->name), name);
		o->rx_bytes = atomic_load(&p->rx_bytes);
		o->tx_bytes = atomic_load(&p->tx_bytes);
		o->rx_packets = atomic_load(&p->rx_packets);
		o->tx_packets = atomic_load(&p->tx_packets);
		o->handshake_sec = p->last_handshake_sec;
		o->handshakes = p->handshakes;
		m->sessions += keypairs(p);
		m->staged += wgx_peer_staged(p);
	}
	m->npeers = i;
}

static bool starts(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

/* The datapath's counters, sorted into drops, traffic and events. */
static void snap_stats(struct wgx_metrics *m,
		       const struct wgx_metrics_source *src)
{
	uint64_t packets[WGX_STAT_COUNT], bytes[WGX_STAT_COUNT];

	for (int i = 0; i < WGX_STAT_COUNT; i++) {
		packets[i] = atomic_load(&src->dev->stats.packets[i]);
		bytes[i] = atomic_load(&src->dev->stats.bytes[i]);
	}
	if (src->dp)
		wgx_dp_add_stats(src->dp, packets, bytes);
	for (int i = 0; i < WGX_STAT_COUNT; i++) {
		const char *name = wgx_stats_name(i);
		struct counter c = { name, NULL, packets[i], bytes[i] };

		if (starts(name, "drop_")) {
			c.label = name + 5;
			c.layer = "datapath";
			m->drops[m->ndrops++] = c;
		} else if (starts(name, "rx_") || starts(name, "tx_")) {
			m->dp[m->ndp++] = c;
		} else {
			m->events[m->nevents++] = c;
		}
	}
}

static void snap_xdp(struct wgx_metrics *m,
		     const struct wgx_metrics_source *src)
{
	struct wgx_xdp_counter x[WGX_XDP_STAT_COUNT];

	if (!src->xdp || wgx_xdp_counters(src->xdp, x))
		return;
	for (int i = 0; i < WGX_XDP_STAT_COUNT; i++) {
		const char *name = wgx_loader_stat_name(i);

		m->xdp[m->nxdp++] = (struct counter){ name, NULL, x[i].packets,
						      x[i].bytes };
		if (starts(name, "drop_"))
			m->drops[m->ndrops++] =
				(struct counter){ name + 5, "xdp", x[i].packets,
						  x[i].bytes };
	}
}

int wgx_metrics_snapshot(const struct wgx_metrics_source *src,
			 struct wgx_metrics **out)
{
	struct wgx_metrics *m = calloc(1, sizeof(*m));
	size_t n = src->dev->peers.count;

	if (!m)
		return -ENOMEM;
	m->peer = calloc(n ? n : 1, sizeof(*m->peer));
	if (!m->peer) {
		free(m);
		return -ENOMEM;
	}
	escape(m->tun, sizeof(m->tun), src->tun);
	escape(m->iface, sizeof(m->iface), src->iface ? src->iface : "");
	escape(m->mode, sizeof(m->mode), src->mode ? src->mode : "");
	m->peers = n;
	snap_peers(m, src);
	snap_stats(m, src);
	snap_xdp(m, src);
	m->nworkers = src->dp ? wgx_dp_workers(src->dp) : 0;
	if (m->nworkers > WGX_WORKERS_MAX)
		m->nworkers = WGX_WORKERS_MAX;
	for (unsigned int i = 0; i < m->nworkers; i++)
		wgx_dp_worker_info(src->dp, i, &m->workers[i]);
	pthread_mutex_lock(&src->dev->hsq.lock);
	m->hsq = src->dev->hsq.count;
	pthread_mutex_unlock(&src->dev->hsq.lock);
	*out = m;
	return 0;
}

void wgx_metrics_free(struct wgx_metrics *m)
{
	if (!m)
		return;
	free(m->peer);
	free(m);
}

/* ---- reading ---------------------------------------------------------- */

/*
 * Copy a line of n bytes from line to buf + *off if it fits whole: true
 * when it did. A line cut short (never, with the bounded names here) is
 * dropped rather than sent broken.
 */
static bool put_line(char *buf, size_t len, size_t *off, const char *line,
		     int n)
{
	if (n < 0 || n >= WGX_METRICS_LINE_MAX)
		return true;
	if ((size_t)n > len - *off)
		return false;
	memcpy(buf + *off, line, (size_t)n);
	*off += (size_t)n;
	return true;
}

size_t wgx_metrics_read(struct wgx_metrics *m, char *buf, size_t len)
{
	char line[WGX_METRICS_LINE_MAX];
	size_t off = 0;

	while (m->family < N_FAMILIES) {
		const struct family *f = &families[m->family];
		size_t items = f->items(m);
		int n;

		if (!items || m->item >= items) {
			m->family++;
			m->item = 0;
			m->header_done = false;
			continue;
		}
		if (!m->header_done) {
			n = snprintf(line, sizeof(line),
				     "# HELP %s %s\n# TYPE %s %s\n", f->name,
				     f->help, f->name, f->type);
			if (!put_line(buf, len, &off, line, n))
				return off;
			m->header_done = true;
		}
		for (; m->item < items; m->item++) {
			n = f->sample(m, m->item, f->name, line, sizeof(line));
			if (!put_line(buf, len, &off, line, n))
				return off;
		}
	}
	return off;
}

int wgx_metrics_reply(const struct wgx_metrics_source *src,
		      struct wgx_control_reply *r)
{
	struct wgx_metrics *m;
	char buf[64 << 10];
	size_t n;
	int err = wgx_metrics_snapshot(src, &m);

	if (err)
		return err;
	while (!err && (n = wgx_metrics_read(m, buf, sizeof(buf))))
		err = wgx_control_reply_write(r, buf, n);
	wgx_metrics_free(m);
	return err;
}
