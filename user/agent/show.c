// SPDX-License-Identifier: MIT
/* Formatting of `wgxdp show`; runs on the agent thread. */
#include "agent/show.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "util/json.h"
#include "core/key.h"

struct aip_text {
	char *buf;
	size_t len, used;
	struct wgx_json *json;
};

static int aip_format(void *ctx, int family, const void *addr, uint8_t cidr)
{
	struct aip_text *t = ctx;
	char ip[INET6_ADDRSTRLEN], one[INET6_ADDRSTRLEN + 8];

	inet_ntop(family, addr, ip, sizeof(ip));
	snprintf(one, sizeof(one), "%s/%u", ip, cidr);
	if (t->json) {
		wgx_json_string(t->json, one);
		return 0;
	}
	if (t->used < t->len)
		t->used += (size_t)snprintf(t->buf + t->used, t->len - t->used,
					    "%s%s", t->used ? ", " : "", one);
	return 0;
}

static void human_bytes(uint64_t b, char *out, size_t len)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)b;
	int u = 0;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	if (u)
		snprintf(out, len, "%.2f %s", v, unit[u]);
	else
		snprintf(out, len, "%llu B", (unsigned long long)b);
}

static void ago(uint64_t sec, char *out, size_t len)
{
	time_t now = time(NULL);

	if (!sec)
		snprintf(out, len, "(none)");
	else
		snprintf(out, len, "%lld seconds ago",
			 (long long)(now - (time_t)sec));
}

static void text_peer(struct wgx_peer *p, struct wgx_control_reply *r)
{
	char key[WGX_KEY_BASE64_LEN + 1], ep[80], aips[4096] = "", rx[32],
						  tx[32], hs[48];
	struct aip_text t = { aips, sizeof(aips), 0, NULL };
	union wgx_sockaddr addr;
	bool has;

	wgx_key_to_base64(key, p->public_key);
	wgx_peer_get_endpoint(p, &addr, &has);
	if (has)
		wgx_sockaddr_format(&addr, ep, sizeof(ep));
	wgx_allowedips_walk(&p->dev->allowedips, p, aip_format, &t);
	human_bytes(atomic_load(&p->rx_bytes), rx, sizeof(rx));
	human_bytes(atomic_load(&p->tx_bytes), tx, sizeof(tx));
	ago(p->last_handshake_sec, hs, sizeof(hs));
	wgx_control_reply_printf(r, "\npeer: %s\n", key);
	if (has)
		wgx_control_reply_printf(r, "  endpoint: %s\n", ep);
	wgx_control_reply_printf(r, "  allowed ips: %s\n",
				 t.used ? aips : "(none)");
	wgx_control_reply_printf(r, "  latest handshake: %s\n", hs);
	wgx_control_reply_printf(r, "  transfer: %s received, %s sent\n", rx,
				 tx);
	if (p->persistent_keepalive)
		wgx_control_reply_printf(r,
					 "  persistent keepalive: every %u "
					 "seconds\n",
					 p->persistent_keepalive);
}

/* The agent's own counters and every worker's, added up. */
static void sum_stats(const struct wgx_device *dev,
		      const struct wgx_show_info *info,
		      uint64_t packets[WGX_STAT_COUNT],
		      uint64_t bytes[WGX_STAT_COUNT])
{
	for (int i = 0; i < WGX_STAT_COUNT; i++) {
		packets[i] = atomic_load(&dev->stats.packets[i]);
		bytes[i] = atomic_load(&dev->stats.bytes[i]);
	}
	if (info->dp)
		wgx_dp_add_stats(info->dp, packets, bytes);
}

static void text_workers(const struct wgx_show_info *info,
			 struct wgx_control_reply *r)
{
	unsigned int n = info->dp ? wgx_dp_workers(info->dp) : 0;

	if (!n)
		return;
	wgx_control_reply_printf(r, "\nworkers: %u\n", n);
	for (unsigned int i = 0; i < n; i++) {
		struct wgx_dp_worker_info w;

		wgx_dp_worker_info(info->dp, i, &w);
		wgx_control_reply_printf(
			r,
			"  worker %u: %llu packets received, %llu sent; "
			"%llu batches of its own, %llu of others\n",
			i, (unsigned long long)w.rx_packets,
			(unsigned long long)w.tx_packets,
			(unsigned long long)w.batches_own,
			(unsigned long long)w.batches_helped);
	}
}

static void text_xsks(const struct wgx_show_info *info,
		      struct wgx_control_reply *r)
{
	unsigned int n = info->dp ? wgx_dp_xsks(info->dp) : 0;

	if (!n)
		return;
	wgx_control_reply_printf(r, "\nAF_XDP sockets: %u\n", n);
	for (unsigned int i = 0; i < n; i++) {
		struct wgx_dp_xsk_info x;

		wgx_dp_xsk_info(info->dp, i, &x);
		wgx_control_reply_printf(
			r,
			"  queue %u: worker %u, %s; %llu received, %llu "
			"dropped, %llu invalid descriptors, %llu ring full, "
			"%llu fill ring empty\n",
			x.queue, x.worker, x.zerocopy ? "zero-copy" : "copy",
			(unsigned long long)x.rx_packets,
			(unsigned long long)x.rx_dropped,
			(unsigned long long)x.rx_invalid_descs,
			(unsigned long long)x.rx_ring_full,
			(unsigned long long)x.fill_ring_empty);
		if (x.tx)
			wgx_control_reply_printf(
				r,
				"    transmit: %llu sent, %llu invalid "
				"descriptors\n",
				(unsigned long long)x.tx_packets,
				(unsigned long long)x.tx_invalid_descs);
	}
}

static void json_xsks(struct wgx_json *j, const struct wgx_show_info *info)
{
	unsigned int n = info->dp ? wgx_dp_xsks(info->dp) : 0;

	wgx_json_key(j, "xsks");
	wgx_json_array_begin(j);
	for (unsigned int i = 0; i < n; i++) {
		struct wgx_dp_xsk_info x;

		wgx_dp_xsk_info(info->dp, i, &x);
		wgx_json_object_begin(j);
		wgx_json_kv_uint(j, "queue", x.queue);
		wgx_json_kv_uint(j, "worker", x.worker);
		wgx_json_kv_string(j, "mode",
				   x.zerocopy ? "zero-copy" : "copy");
		wgx_json_kv_uint(j, "rx_packets", x.rx_packets);
		wgx_json_kv_uint(j, "rx_dropped", x.rx_dropped);
		wgx_json_kv_uint(j, "rx_invalid_descs", x.rx_invalid_descs);
		wgx_json_kv_uint(j, "rx_ring_full", x.rx_ring_full);
		wgx_json_kv_uint(j, "fill_ring_empty", x.fill_ring_empty);
		wgx_json_kv_bool(j, "tx", x.tx);
		wgx_json_kv_uint(j, "tx_packets", x.tx_packets);
		wgx_json_kv_uint(j, "tx_invalid_descs", x.tx_invalid_descs);
		wgx_json_kv_uint(j, "tx_ring_empty", x.tx_ring_empty);
		wgx_json_object_end(j);
	}
	wgx_json_array_end(j);
}

static void json_workers(struct wgx_json *j, const struct wgx_show_info *info)
{
	unsigned int n = info->dp ? wgx_dp_workers(info->dp) : 0;

	wgx_json_key(j, "workers");
	wgx_json_array_begin(j);
	for (unsigned int i = 0; i < n; i++) {
		struct wgx_dp_worker_info w;

		wgx_dp_worker_info(info->dp, i, &w);
		wgx_json_object_begin(j);
		wgx_json_kv_uint(j, "rx_packets", w.rx_packets);
		wgx_json_kv_uint(j, "tx_packets", w.tx_packets);
		wgx_json_kv_uint(j, "batches_own", w.batches_own);
		wgx_json_kv_uint(j, "batches_helped", w.batches_helped);
		wgx_json_object_end(j);
	}
	wgx_json_array_end(j);
}

int wgx_show_text(struct wgx_device *dev, const struct wgx_show_info *info,
		  struct wgx_control_reply *r)
{
	uint64_t packets[WGX_STAT_COUNT], bytes[WGX_STAT_COUNT];
	char key[WGX_KEY_BASE64_LEN + 1] = "(none)";
	struct wgx_xdp_counter xdp[WGX_XDP_STAT_COUNT];
	struct wgx_peer *p;

	if (dev->identity->has_identity)
		wgx_key_to_base64(key, dev->identity->public_key);
	wgx_control_reply_printf(r,
				 "interface: %s\n  public key: %s\n"
				 "  listening port: %u\n  underlay: %s\n"
				 "  mode: %s\n  offloads: %s\n"
				 "  transmit: %s (%s)\n",
				 info->tun, key, info->listen_port, info->iface,
				 info->mode, info->offloads,
				 !strcmp(info->tx, "xsk") ? "AF_XDP" : "socket",
				 info->tx_why);
	wgx_peers_for_each(&dev->peers, p) text_peer(p, r);
	if (info->xdp && wgx_xdp_counters(info->xdp, xdp) == 0) {
		wgx_control_reply_printf(r, "\nxdp counters:\n");
		for (int i = 0; i < WGX_XDP_STAT_COUNT; i++)
			if (xdp[i].packets)
				wgx_control_reply_printf(
					r, "  %s: %llu packets, %llu bytes\n",
					wgx_loader_stat_name(i),
					(unsigned long long)xdp[i].packets,
					(unsigned long long)xdp[i].bytes);
	}
	text_workers(info, r);
	text_xsks(info, r);
	sum_stats(dev, info, packets, bytes);
	wgx_control_reply_printf(r, "\ncounters:\n");
	for (int i = 0; i < WGX_STAT_COUNT; i++)
		if (packets[i])
			wgx_control_reply_printf(
				r, "  %s: %llu packets, %llu bytes\n",
				wgx_stats_name(i),
				(unsigned long long)packets[i],
				(unsigned long long)bytes[i]);
	return r->err;
}

static void json_peer(struct wgx_json *j, struct wgx_peer *p)
{
	char key[WGX_KEY_BASE64_LEN + 1], ep[80];
	struct aip_text t = { NULL, 0, 0, j };
	union wgx_sockaddr addr;
	bool has;

	wgx_key_to_base64(key, p->public_key);
	wgx_peer_get_endpoint(p, &addr, &has);
	wgx_json_object_begin(j);
	wgx_json_kv_string(j, "public_key", key);
	wgx_json_key(j, "endpoint");
	if (has) {
		wgx_sockaddr_format(&addr, ep, sizeof(ep));
		wgx_json_string(j, ep);
	} else {
		wgx_json_null(j);
	}
	wgx_json_key(j, "allowed_ips");
	wgx_json_array_begin(j);
	wgx_allowedips_walk(&p->dev->allowedips, p, aip_format, &t);
	wgx_json_array_end(j);
	wgx_json_kv_uint(j, "latest_handshake", p->last_handshake_sec);
	wgx_json_kv_uint(j, "rx_bytes", atomic_load(&p->rx_bytes));
	wgx_json_kv_uint(j, "tx_bytes", atomic_load(&p->tx_bytes));
	wgx_json_kv_uint(j, "persistent_keepalive", p->persistent_keepalive);
	wgx_json_object_end(j);
}

static void json_counter(struct wgx_json *j, const char *name, uint64_t packets,
			 uint64_t bytes)
{
	char key[64];

	wgx_json_kv_uint(j, name, packets);
	snprintf(key, sizeof(key), "%s_bytes", name);
	wgx_json_kv_uint(j, key, bytes);
}

/*
 * One flat object (design.md). A reason both layers count (an unknown
 * index, a malformed message) is one counter: the packets dropped for
 * it, whichever layer dropped them.
 */
static void json_counters(struct wgx_json *j, struct wgx_device *dev,
			  const struct wgx_show_info *info)
{
	uint64_t all_packets[WGX_STAT_COUNT], all_bytes[WGX_STAT_COUNT];
	struct wgx_xdp_counter xdp[WGX_XDP_STAT_COUNT] = { 0 };
	bool merged[WGX_XDP_STAT_COUNT] = { false };
	bool have_xdp = info->xdp && wgx_xdp_counters(info->xdp, xdp) == 0;

	sum_stats(dev, info, all_packets, all_bytes);
	wgx_json_object_begin(j);
	for (int i = 0; i < WGX_STAT_COUNT; i++) {
		uint64_t packets = all_packets[i];
		uint64_t bytes = all_bytes[i];

		for (int k = 0; have_xdp && k < WGX_XDP_STAT_COUNT; k++) {
			if (strcmp(wgx_stats_name(i), wgx_loader_stat_name(k)))
				continue;
			packets += xdp[k].packets;
			bytes += xdp[k].bytes;
			merged[k] = true;
		}
		json_counter(j, wgx_stats_name(i), packets, bytes);
	}
	for (int k = 0; have_xdp && k < WGX_XDP_STAT_COUNT; k++)
		if (!merged[k])
			json_counter(j, wgx_loader_stat_name(k), xdp[k].packets,
				     xdp[k].bytes);
	wgx_json_object_end(j);
}

int wgx_show_json(struct wgx_device *dev, const struct wgx_show_info *info,
		  struct wgx_control_reply *r)
{
	char key[WGX_KEY_BASE64_LEN + 1];
	struct wgx_json j;
	struct wgx_peer *p;
	int err;

	wgx_json_init(&j, false);
	wgx_json_object_begin(&j);
	wgx_json_kv_string(&j, "interface", info->tun);
	wgx_json_kv_string(&j, "underlay", info->iface);
	wgx_json_kv_string(&j, "mode", info->mode);
	wgx_json_kv_string(&j, "offloads", info->offloads);
	wgx_json_kv_string(&j, "tx", info->tx);
	wgx_json_kv_string(&j, "tx_why", info->tx_why);
	wgx_json_key(&j, "public_key");
	if (dev->identity->has_identity) {
		wgx_key_to_base64(key, dev->identity->public_key);
		wgx_json_string(&j, key);
	} else {
		wgx_json_null(&j);
	}
	wgx_json_kv_uint(&j, "listen_port", info->listen_port);
	wgx_json_key(&j, "peers");
	wgx_json_array_begin(&j);
	wgx_peers_for_each(&dev->peers, p) json_peer(&j, p);
	wgx_json_array_end(&j);
	json_workers(&j, info);
	json_xsks(&j, info);
	wgx_json_key(&j, "counters");
	json_counters(&j, dev, info);
	wgx_json_object_end(&j);
	err = wgx_json_finish(&j);
	/* Handed over, not copied: 100,000 peers make 20 MiB of it. */
	if (!err) {
		size_t len, cap;
		char *text = wgx_json_take(&j, &len, &cap);

		err = text ? wgx_control_reply_adopt(r, text, len, cap)
			   : -ENOMEM;
	}
	if (!err)
		err = wgx_control_reply_write(r, "\n", 1);
	wgx_json_free(&j);
	return err;
}
