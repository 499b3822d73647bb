// SPDX-License-Identifier: MIT
/* TUN creation and wg-quick style addresses and routes. */
#include "agent/tunnel.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

int wgx_tunnel_check_config(const struct wgx_config *cfg, char *why, size_t len)
{
	if (cfg->table == WGX_CONFIG_TABLE_NAME) {
		snprintf(why, len,
			 "Table = %s: route tables by name are not supported "
			 "(use a number, auto or off)",
			 cfg->table_name ? cfg->table_name : "?");
		return -EINVAL;
	}
	if (cfg->table == WGX_CONFIG_TABLE_OFF)
		return 0;
	for (size_t i = 0; i < cfg->n_peers; i++) {
		const struct wgx_config_peer *p = &cfg->peers[i];

		for (size_t k = 0; k < p->n_allowed_ips; k++) {
			if (p->allowed_ips[k].cidr)
				continue;
			snprintf(why, len,
				 "peer line %u: AllowedIPs %s/0 would route "
				 "everything through the tunnel, which needs "
				 "wg-quick's policy routing (not supported "
				 "yet); set Table = off and route by hand",
				 p->line,
				 p->allowed_ips[k].family == AF_INET ? "0.0.0.0"
								     : "::");
			return -EINVAL;
		}
	}
	return 0;
}

static int add_addresses(struct wgx_tunnel *t, const struct wgx_config *cfg)
{
	for (size_t i = 0; i < cfg->n_addresses; i++) {
		const struct wgx_config_prefix *a = &cfg->addresses[i];
		struct wgx_nl_addr na = { .ifindex = t->tun.ifindex,
					  .family = (uint8_t)a->family,
					  .prefix = a->cidr };
		char text[64];
		int err;

		memcpy(na.addr, a->addr.bytes, a->family == AF_INET ? 4 : 16);
		err = wgx_nl_addr_add(&t->nl, &na);
		if (err && err != -EEXIST) {
			wgx_config_prefix_format(a, text, sizeof(text));
			wgx_log_error("Couldn't add address %s to %s: %s", text,
				      t->tun.name, strerror(-err));
			return err;
		}
	}
	return 0;
}

static bool route_equal(const struct wgx_nl_route *a,
			const struct wgx_nl_route *b)
{
	return a->family == b->family && a->prefix == b->prefix &&
	       !memcmp(a->dst, b->dst, a->family == AF_INET ? 4 : 16);
}

static bool route_in_config(const struct wgx_nl_route *r,
			    const struct wgx_config *cfg)
{
	for (size_t i = 0; i < cfg->n_peers; i++) {
		const struct wgx_config_peer *p = &cfg->peers[i];

		for (size_t k = 0; k < p->n_allowed_ips; k++) {
			const struct wgx_config_prefix *a = &p->allowed_ips[k];
			struct wgx_nl_route c = { .family = (uint8_t)a->family,
						  .prefix = a->cidr };

			memcpy(c.dst, a->addr.bytes, 16);
			if (route_equal(r, &c))
				return true;
		}
	}
	return false;
}

static bool route_installed(const struct wgx_tunnel *t,
			    const struct wgx_nl_route *r)
{
	for (size_t i = 0; i < t->n_installed; i++)
		if (route_equal(&t->installed[i], r))
			return true;
	return false;
}

static int remember_route(struct wgx_tunnel *t, const struct wgx_nl_route *r)
{
	if (t->n_installed == t->cap_installed) {
		size_t cap = t->cap_installed ? 2 * t->cap_installed : 16;
		struct wgx_nl_route *n =
			realloc(t->installed, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		t->installed = n;
		t->cap_installed = cap;
	}
	t->installed[t->n_installed++] = *r;
	return 0;
}

static int add_route(struct wgx_tunnel *t, const struct wgx_config_prefix *a)
{
	struct wgx_nl_route r = { .family = (uint8_t)a->family,
				  .prefix = a->cidr,
				  .ifindex = t->tun.ifindex,
				  .table = t->table };
	char text[64];
	int err;

	memcpy(r.dst, a->addr.bytes, 16);
	if (route_installed(t, &r))
		return 0;
	err = wgx_nl_route_add(&t->nl, &r, WGX_NL_ROUTE_ADD);
	wgx_config_prefix_format(a, text, sizeof(text));
	if (err == -EEXIST) {
		/* Like wg-quick: a prefix already routed is left alone. */
		wgx_log_debug("route %s already exists, left alone", text);
		return 0;
	}
	if (err) {
		wgx_log_error("Couldn't add route %s dev %s: %s", text,
			      t->tun.name, strerror(-err));
		return err;
	}
	return remember_route(t, &r);
}

int wgx_tunnel_sync_routes(struct wgx_tunnel *t, const struct wgx_config *cfg)
{
	size_t i = 0;

	if (!t->routes)
		return 0;
	while (i < t->n_installed) {
		if (route_in_config(&t->installed[i], cfg)) {
			i++;
			continue;
		}
		wgx_nl_route_del(&t->nl, &t->installed[i]);
		t->installed[i] = t->installed[--t->n_installed];
	}
	for (i = 0; i < cfg->n_peers; i++) {
		const struct wgx_config_peer *p = &cfg->peers[i];

		for (size_t k = 0; k < p->n_allowed_ips; k++) {
			int err = add_route(t, &p->allowed_ips[k]);

			if (err)
				return err;
		}
	}
	return 0;
}

/* With the offloads if asked and the kernel has them, else without. */
static int create_tun(struct wgx_tunnel *t, const char *name,
		      unsigned int queues, bool offload)
{
	int err = -EINVAL;

	if (offload) {
		err = wgx_tun_create(&t->tun, name, queues,
				     WGX_TUN_RECLAIM | WGX_TUN_VNET_HDR);
		if (err != -EINVAL)
			return err;
		wgx_log_warn("TUN offloads unavailable, going without");
	}
	return wgx_tun_create(&t->tun, name, queues, WGX_TUN_RECLAIM);
}

int wgx_tunnel_open(struct wgx_tunnel *t, const char *name,
		    const struct wgx_config *cfg, unsigned int queues,
		    bool offload)
{
	int err;

	memset(t, 0, sizeof(*t));
	t->mtu = cfg->mtu ? cfg->mtu : 1420;
	t->routes = cfg->table != WGX_CONFIG_TABLE_OFF;
	t->table = cfg->table == WGX_CONFIG_TABLE_ID ? cfg->table_id : 0;
	err = wgx_nl_open(&t->nl);
	if (err) {
		wgx_log_error("Couldn't open rtnetlink: %s", strerror(-err));
		return err;
	}
	err = create_tun(t, name, queues, offload);
	if (err) {
		wgx_log_error("Couldn't create TUN %s: %s", name,
			      err == -EEXIST  ? "an interface of that name "
						"exists and is not ours"
			      : err == -EBUSY ? "a TUN of that name is in use"
					      : strerror(-err));
		goto fail_nl;
	}
	if (t->tun.reclaimed)
		wgx_log_warn("reclaimed stale TUN %s", name);
	err = wgx_nl_link_set_mtu(&t->nl, t->tun.ifindex, t->mtu);
	if (!err)
		err = wgx_nl_link_set_up(&t->nl, t->tun.ifindex, true);
	if (err) {
		wgx_log_error("Couldn't configure %s: %s", name,
			      strerror(-err));
		goto fail;
	}
	/* Addresses after "up": taking a link down drops IPv6 addresses. */
	err = add_addresses(t, cfg);
	if (!err)
		err = wgx_tunnel_sync_routes(t, cfg);
	if (err)
		goto fail;
	return 0;
fail:
	wgx_tun_close(&t->tun);
	free(t->installed);
	t->installed = NULL;
	t->n_installed = t->cap_installed = 0;
fail_nl:
	wgx_nl_close(&t->nl);
	return err;
}

void wgx_tunnel_close(struct wgx_tunnel *t)
{
	wgx_tun_close(&t->tun);
	wgx_nl_close(&t->nl);
	free(t->installed);
	t->installed = NULL;
	t->n_installed = t->cap_installed = 0;
}
