// SPDX-License-Identifier: MIT
/* Agent glue for the XDP classifier's maps. */
#include "agent/xdp.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"
#include "agent/netlink.h"
#include "agent/xdp_policy.h"

static uint8_t slot_of(const struct wgx_index_entry *e)
{
	const struct wgx_peer *p = e->owner;

	if (e->type == WGX_INDEX_HANDSHAKE)
		return WGX_SLOT_HANDSHAKE;
	if (e->ptr == p->keypairs.next)
		return WGX_SLOT_NEXT;
	if (e->ptr == p->keypairs.previous)
		return WGX_SLOT_PREVIOUS;
	return WGX_SLOT_CURRENT;
}

/*
 * Called inside every index change, so an index is in the map before the
 * handshake message that announces it is sent, and leaves it when its
 * keypair is retired or wiped.
 */
static int on_index(void *ctx, const struct wgx_index_entry *e, bool present)
{
	struct wgx_xdp *x = ctx;
	const struct wgx_peer *p = e->owner;

	if (present)
		return wgx_loader_session_add(&x->ld, e->index, p->id,
					      slot_of(e));
	wgx_loader_session_del(&x->ld, e->index);
	return 0;
}

void wgx_xdp_sync_peer(struct wgx_xdp *x, struct wgx_peer *p)
{
	struct wgx_keypair *kps[3] = { p->keypairs.current,
				       p->keypairs.previous, p->keypairs.next };
	const uint8_t slots[3] = { WGX_SLOT_CURRENT, WGX_SLOT_PREVIOUS,
				   WGX_SLOT_NEXT };

	if (!x->active)
		return;
	for (int i = 0; i < 3; i++)
		if (kps[i])
			wgx_loader_session_add(&x->ld, kps[i]->local_index,
					       p->id, slots[i]);
}

static int load_addresses(struct wgx_xdp *x)
{
	struct wgx_addr_key keys[WGX_XDP_MAX_LOCAL_ADDRS];
	struct wgx_nl_addr addrs[WGX_XDP_MAX_LOCAL_ADDRS];
	struct wgx_nl nl;
	size_t n = 0;
	int count, err;

	err = wgx_nl_open(&nl);
	if (err)
		return err;
	count = wgx_nl_addr_list(&nl, x->ld.ifindex, AF_UNSPEC, addrs,
				 WGX_XDP_MAX_LOCAL_ADDRS);
	wgx_nl_close(&nl);
	if (count < 0)
		return count;
	if (count > WGX_XDP_MAX_LOCAL_ADDRS) {
		wgx_log_warn("%s has %d addresses; XDP handles the first %d",
			     x->ld.iface, count, WGX_XDP_MAX_LOCAL_ADDRS);
		count = WGX_XDP_MAX_LOCAL_ADDRS;
	}
	for (int i = 0; i < count; i++)
		if (wgx_loader_addr_key(addrs[i].family, addrs[i].addr,
					&keys[n]) == 0)
			n++;
	return wgx_loader_set_local_addrs(&x->ld, keys, n);
}

static void ignore_event(void *ctx, bool added, const struct wgx_nl_addr *a)
{
	(void)ctx;
	(void)added;
	(void)a;
}

void wgx_xdp_addresses_changed(struct wgx_xdp *x)
{
	int err;

	/* Events only say "something changed": the list is the truth. */
	if (wgx_nl_addr_watch_read(x->addr_watch_fd, ignore_event, NULL) == 0)
		return;
	err = load_addresses(x);
	if (err)
		wgx_log_warn("Couldn't refresh %s's addresses for XDP: %s",
			     x->ld.iface, strerror(-err));
}

void wgx_xdp_set_port(struct wgx_xdp *x, uint16_t port)
{
	if (!x->active || x->cfg.listen_port == port)
		return;
	x->cfg.listen_port = port;
	wgx_loader_set_config(&x->ld, &x->cfg);
}

int wgx_xdp_xsks_map_fd(const struct wgx_xdp *x)
{
	return x->active ? x->ld.map_fd[WGX_LOADER_MAP_XSKS] : -1;
}

int wgx_xdp_set_xsk_queues(struct wgx_xdp *x, const struct wgx_xsk_queue *q,
			   unsigned int n)
{
	int fd = x->active ? x->ld.map_fd[WGX_LOADER_MAP_XSK_QUEUES] : -1;
	int first = 0;

	if (fd < 0)
		return 0;
	for (uint32_t i = 0; i < WGX_XDP_MAX_QUEUES; i++) {
		struct wgx_xsk_queue none = { 0 };
		const struct wgx_xsk_queue *v = i < n ? &q[i] : &none;

		if (bpf_map_update_elem(fd, &i, v, BPF_ANY) < 0 && !first)
			first = -errno;
	}
	return first;
}

/* The mac1 key follows our identity (a reload may change the key). */
static void sync_mac1(struct wgx_xdp *x)
{
	struct wgx_xdp_config cfg = x->cfg;

	cfg.flags &= (uint16_t)~WGX_XDP_MAC1;
	if (wgx_cookie_checker_mac1_key(&x->dev->cookie_checker, cfg.mac1_key))
		cfg.flags |= WGX_XDP_MAC1;
	if (!memcmp(&cfg, &x->cfg, sizeof(cfg)))
		return;
	if (wgx_loader_set_config(&x->ld, &cfg) == 0)
		x->cfg = cfg;
}

/* The deny map's clock (bpf_ktime_get_boot_ns). */
static uint64_t boot_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/*
 * Sources the agent saw exceed the mac2 rate limit: they own their
 * address (they answered a cookie there) and flood anyway, so XDP drops
 * their initiations and responses for a while. A spoofer can never get
 * another host in here: it does not receive that host's cookies.
 */
static void push_offenders(struct wgx_xdp *x)
{
	struct wgx_ratelimit_key key;
	uint64_t until = 0;

	while (wgx_ratelimit_take_offender(x->dev->ratelimit, &key)) {
		struct wgx_addr_key k;
		uint8_t addr[16];
		unsigned int len = wgx_ratelimit_key_addr(&key, addr);

		if (!until)
			until = boot_ns() + WGX_XDP_DENY_NS;
		if (wgx_loader_addr_key(len == 4 ? AF_INET : AF_INET6, addr,
					&k) ||
		    wgx_loader_deny(&x->ld, &k, until))
			continue;
		x->denied++;
		wgx_log_debug("XDP denies handshakes from a source for %u ms",
			      (unsigned int)(WGX_XDP_DENY_NS / 1000000));
	}
}

void wgx_xdp_sync(struct wgx_xdp *x)
{
	if (!x->active)
		return;
	sync_mac1(x);
	push_offenders(x);
}

int wgx_xdp_counters(struct wgx_xdp *x,
		     struct wgx_xdp_counter out[WGX_XDP_STAT_COUNT])
{
	if (!x->active)
		return -ENODEV;
	return wgx_loader_read_stats(&x->ld, out);
}

const char *wgx_xdp_mode_name(const struct wgx_xdp *x)
{
	return x->active ? wgx_loader_mode_name(x->ld.mode) : "socket";
}

/* The policy for IFACE's kind of interface (xdp_policy.h). */
static void iface_policy(const char *iface, struct wgx_xdp_policy *p)
{
	char driver[32] = "";

	if (wgx_xdp_iface_driver(iface, driver, sizeof(driver)) < 0)
		driver[0] = '\0'; /* unknown: the default policy */
	wgx_xdp_policy_for_driver(driver, p);
}

/* --mode auto: which XDP mode first on this kind of interface, and why. */
static void auto_policy(const char *iface, struct wgx_loader_opts *lo,
			struct wgx_xdp *x)
{
	struct wgx_xdp_policy p;

	iface_policy(iface, &p);
	lo->auto_first = p.first;
	x->auto_why = p.why;
	x->auto_xsk = p.xsk;
}

/* --mode native or skb: what that costs here against auto, if measured. */
static void explicit_cost(const char *iface, struct wgx_xdp *x)
{
	struct wgx_xdp_policy p;

	iface_policy(iface, &p);
	x->explicit_cost = p.explicit_cost;
}

int wgx_xdp_start(struct wgx_xdp *x, struct wgx_device *dev,
		  const struct wgx_xdp_opts *o)
{
	/* The CLI holds the instance claim: no live owner of IFACE here. */
	struct wgx_loader_opts lo = {
		.iface = o->iface,
		.mode = o->mode,
		.force = o->force,
		.reclaim_stale = true,
		.max_sessions = wgx_loader_sessions_for_peers(o->peers),
		.max_horizons = wgx_loader_horizons_for_peers(o->peers)
	};
	int err;

	memset(x, 0, sizeof(*x));
	x->addr_watch_fd = -1;
	x->dev = dev;
	if (o->mode == WGX_LOADER_MODE_AUTO)
		auto_policy(o->iface, &lo, x);
	err = wgx_loader_attach(&x->ld, &lo);
	if (err)
		return err;
	x->active = true;
	if (o->mode != WGX_LOADER_MODE_AUTO)
		explicit_cost(o->iface, x);
	x->cfg = (struct wgx_xdp_config){ .listen_port = o->port };
	err = wgx_loader_set_config(&x->ld, &x->cfg);
	if (!err)
		sync_mac1(x);
	if (!err)
		err = load_addresses(x);
	if (err) {
		wgx_log_error("Couldn't fill the XDP maps: %s", strerror(-err));
		wgx_xdp_stop(x);
		return err;
	}
	x->addr_watch_fd = wgx_nl_addr_watch_open();
	if (x->addr_watch_fd < 0)
		wgx_log_warn("Couldn't watch %s's addresses: XDP keeps the "
			     "ones it has",
			     o->iface);
	wgx_index_set_observer(dev->indices, on_index, x);
	return 0;
}

void wgx_xdp_stop(struct wgx_xdp *x)
{
	if (x->dev)
		wgx_index_set_observer(x->dev->indices, NULL, NULL);
	if (x->addr_watch_fd >= 0)
		close(x->addr_watch_fd);
	x->addr_watch_fd = -1;
	if (x->active)
		wgx_loader_detach(&x->ld);
	x->active = false;
}
