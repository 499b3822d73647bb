// SPDX-License-Identifier: MIT
/* TUN creation and wg-quick style addresses and routes. */
#include "agent/tunnel.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/rtnetlink.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/harden.h"
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
	(void)why;
	(void)len;
	return 0;
}

/* The /0 prefixes of cfg, by family: bit 0 IPv4, bit 1 IPv6. */
static unsigned int default_routes(const struct wgx_config *cfg)
{
	unsigned int fams = 0;

	for (size_t i = 0; i < cfg->n_peers; i++) {
		const struct wgx_config_peer *p = &cfg->peers[i];

		for (size_t k = 0; k < p->n_allowed_ips; k++)
			if (!p->allowed_ips[k].cidr)
				fams |= p->allowed_ips[k].family == AF_INET ? 1
									    : 2;
	}
	return fams;
}

bool wgx_tunnel_needs_policy(const struct wgx_config *cfg)
{
	return cfg->table == WGX_CONFIG_TABLE_AUTO && default_routes(cfg);
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

/* Flags of an entry of t->installed during a sync. */
enum {
	R_WANT = 1 << 0, /* the config wants a route for it */
	R_SEEN = 1 << 1, /* the kernel has it */
	R_ADD = 1 << 2,	 /* to be (re)added */
	R_DROP = 1 << 3, /* no longer ours */
};

enum {
	/* Routes handed to the netlink batch calls at a time. */
	CHUNK = 1024,
	/* Failures logged one by one per sync; the rest are counted. */
	LOG_FAILURES = 5,
	DUMP_TRIES = 4,
};

struct sync {
	struct wgx_tunnel *t;
	/* Routes of the table through the TUN that are not ours. */
	struct wgx_prefix_set foreign;
	struct wgx_nl_route chunk[CHUNK];
	struct wgx_prefix_slot *slots[CHUNK];
	int err[CHUNK];
	size_t n;
	size_t added, removed, covered, existing, failed;
	int first_err;
};

static void route_text(const struct wgx_prefix *p, char *buf, size_t size)
{
	struct wgx_config_prefix c = { .family = p->family, .cidr = p->len };

	memcpy(c.addr.bytes, p->addr, sizeof(p->addr));
	wgx_config_prefix_format(&c, buf, size);
}

/* What the kernel gives a route added without one, as ours are. */
static uint32_t default_metric(int family)
{
	return family == AF_INET6 ? 1024 : 0;
}

/* A route the kernel reported: one of ours, or one that may cover. */
static int on_route(void *ctx, const struct wgx_nl_route *r)
{
	struct sync *s = ctx;
	struct wgx_prefix_slot *mine;
	struct wgx_prefix p;
	bool added;

	if (wgx_prefix_make(&p, r->family, r->dst, r->prefix) < 0)
		return 0;
	mine = wgx_prefix_set_find(&s->t->installed, &p);
	if (mine && r->protocol == RTPROT_BOOT &&
	    r->metric == default_metric(r->family)) {
		mine->flags |= R_SEEN;
		return 0;
	}
	return wgx_prefix_set_add(&s->foreign, &p, &added) ? 0 : -ENOMEM;
}

static void clear_flags(struct wgx_prefix_set *set)
{
	for (size_t i = 0; i < set->cap; i++)
		set->slots[i].flags = 0;
}

/* What is on the TUN now: ours marked R_SEEN, the rest in s->foreign. */
static int read_routes(struct sync *s)
{
	struct wgx_tunnel *t = s->t;
	int err = -EINTR;

	for (int i = 0; i < DUMP_TRIES && err == -EINTR; i++) {
		wgx_prefix_set_free(&s->foreign);
		clear_flags(&t->installed);
		err = wgx_nl_route_dump(&t->nl, AF_UNSPEC, t->table,
					t->tun.ifindex, on_route, s);
	}
	if (err)
		wgx_log_error("Couldn't list the routes of %s: %s", t->tun.name,
			      strerror(-err));
	return err;
}

/*
 * Mark the config's prefixes R_WANT (adding the new ones to t->installed),
 * except those a route that is not ours already covers: with Table auto
 * one holding the prefix, as `ip route show dev TUN match PREFIX`
 * finds it; with a table given, the same prefix (which wg-quick would
 * fail to add).
 */
static int want_config(struct sync *s, const struct wgx_config *cfg)
{
	struct wgx_tunnel *t = s->t;

	for (size_t i = 0; i < cfg->n_peers; i++) {
		const struct wgx_config_peer *peer = &cfg->peers[i];

		for (size_t k = 0; k < peer->n_allowed_ips; k++) {
			const struct wgx_config_prefix *a =
				&peer->allowed_ips[k];
			struct wgx_prefix_slot *slot;
			struct wgx_prefix p;
			bool added, covered;

			/* Table = auto: a /0 is routed by policy instead. */
			if (!a->cidr && !t->table)
				continue;
			if (wgx_prefix_make(&p, a->family, a->addr.bytes,
					    a->cidr) < 0)
				return -EINVAL;
			covered = t->table ? !!wgx_prefix_set_find(&s->foreign,
								   &p)
					   : wgx_prefix_set_covers(&s->foreign,
								   &p);
			if (covered) {
				s->covered++;
				continue;
			}
			slot = wgx_prefix_set_add(&t->installed, &p, &added);
			if (!slot)
				return -ENOMEM;
			slot->flags |= R_WANT;
		}
	}
	return 0;
}

/* Send the chunk (adds or deletes) and record each route's fate. */
static void flush(struct sync *s, bool add)
{
	struct wgx_tunnel *t = s->t;
	char text[64];
	int rc;

	if (!s->n)
		return;
	if (add)
		rc = wgx_nl_route_add_batch(&t->nl, s->chunk, s->n,
					    WGX_NL_ROUTE_ADD, s->err);
	else
		rc = wgx_nl_route_del_batch(&t->nl, s->chunk, s->n, s->err);
	if (rc)
		wgx_log_error("Couldn't %s routes on %s: %s (the next reload "
			      "checks them)",
			      add ? "add" : "remove", t->tun.name,
			      strerror(-rc));
	for (size_t i = 0; i < s->n; i++) {
		struct wgx_prefix_slot *slot = s->slots[i];
		int err = s->err[i];

		if (rc && err == rc) {
			/* No answer: the route may or may not be there. It
			 * stays ours; the next sync's dump will tell. */
			if (!s->first_err)
				s->first_err = err;
			continue;
		}
		if (!add && (!err || err == -ESRCH)) {
			/* Gone already is as good as removed. */
			slot->flags |= R_DROP;
			s->removed++;
			continue;
		}
		if (add && !err) {
			s->added++;
			continue;
		}
		if (add && err == -EEXIST) {
			/* Like wg-quick: a prefix already routed (by
			 * someone else, since) is left alone, not ours. */
			slot->flags |= R_DROP;
			s->existing++;
			continue;
		}
		/* A route that failed to go stays ours: the next sync
		 * tries again. One that failed to come is not ours. */
		if (add)
			slot->flags |= R_DROP;
		if (!s->first_err)
			s->first_err = err;
		if (s->failed++ >= LOG_FAILURES)
			continue;
		route_text(&slot->p, text, sizeof(text));
		wgx_log_error("Couldn't %s route %s dev %s: %s",
			      add ? "add" : "remove", text, t->tun.name,
			      strerror(-err));
	}
	s->n = 0;
}

static void queue(struct sync *s, struct wgx_prefix_slot *slot, bool add)
{
	struct wgx_nl_route *r = &s->chunk[s->n];

	memset(r, 0, sizeof(*r));
	r->family = slot->p.family;
	r->prefix = slot->p.len;
	memcpy(r->dst, slot->p.addr, sizeof(r->dst));
	r->ifindex = s->t->tun.ifindex;
	r->table = s->t->table;
	if (!add) {
		/* Only ours: never a route of the same prefix with another
		 * protocol or metric (the kernel's subnet route). */
		r->protocol = RTPROT_BOOT;
		r->metric = default_metric(r->family);
	}
	s->slots[s->n++] = slot;
	if (s->n == CHUNK)
		flush(s, add);
}

/* Removes ours the config no longer wants; marks what must be added. */
static void remove_unwanted(struct sync *s)
{
	struct wgx_prefix_set *set = &s->t->installed;

	for (size_t i = 0; i < set->cap; i++) {
		struct wgx_prefix_slot *slot = &set->slots[i];

		if (!slot->p.family)
			continue;
		if (!(slot->flags & R_WANT)) {
			if (slot->flags & R_SEEN)
				queue(s, slot, false);
			else /* someone removed it already */
				slot->flags |= R_DROP;
		} else if (!(slot->flags & R_SEEN)) {
			/* New, or ours but removed behind our back. */
			slot->flags |= R_ADD;
		}
	}
	flush(s, false);
}

/*
 * Adds what is marked R_ADD, longest prefixes first, as wg-quick does
 * (`sort -nr -k 2 -t /` over `wg show allowed-ips`): a counting sort by
 * length.
 */
static int add_wanted(struct sync *s)
{
	struct wgx_prefix_set *set = &s->t->installed;
	size_t count[129] = { 0 }, start[130];
	uint32_t *order;
	size_t n = 0;

	for (size_t i = 0; i < set->cap; i++)
		if (set->slots[i].flags & R_ADD) {
			count[set->slots[i].p.len]++;
			n++;
		}
	if (!n)
		return 0;
	order = malloc(n * sizeof(*order));
	if (!order)
		return -ENOMEM;
	start[128] = 0;
	for (int len = 128; len > 0; len--)
		start[len - 1] = start[len] + count[len];
	for (size_t i = 0; i < set->cap; i++)
		if (set->slots[i].flags & R_ADD)
			order[start[set->slots[i].p.len]++] = (uint32_t)i;
	for (size_t i = 0; i < n; i++)
		queue(s, &set->slots[order[i]], true);
	flush(s, true);
	free(order);
	return 0;
}

static bool still_ours(const struct wgx_prefix_slot *slot, void *ctx)
{
	(void)ctx;
	return slot->p.family && !(slot->flags & R_DROP);
}

int wgx_tunnel_sync_routes(struct wgx_tunnel *t, const struct wgx_config *cfg)
{
	struct sync *s;
	int err;

	if (!t->routes)
		return 0;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->t = t;
	wgx_prefix_set_init(&s->foreign);
	/* Grown as routes are added: covered prefixes cost no memory. */
	err = read_routes(s);
	if (!err)
		err = want_config(s, cfg);
	if (!err) {
		remove_unwanted(s);
		err = add_wanted(s);
	}
	if (err == -ENOMEM)
		wgx_log_error("Couldn't sync the routes of %s: out of memory",
			      t->tun.name);
	/* Whatever happened, t->installed holds exactly the routes we own. */
	if (err)
		for (size_t i = 0; i < t->installed.cap; i++)
			if ((t->installed.slots[i].flags & R_WANT) &&
			    !(t->installed.slots[i].flags & R_SEEN))
				t->installed.slots[i].flags |= R_DROP;
	wgx_prefix_set_filter(&t->installed, still_ours, NULL);
	clear_flags(&t->installed);
	if (s->failed > LOG_FAILURES)
		wgx_log_error("... and %zu more route failures on %s",
			      s->failed - LOG_FAILURES, t->tun.name);
	wgx_log_debug("routes on %s: %zu added, %zu removed, %zu covered by "
		      "a route already there, %zu existed; %zu ours",
		      t->tun.name, s->added, s->removed, s->covered,
		      s->existing, t->installed.n);
	if (!err)
		err = s->first_err;
	wgx_prefix_set_free(&s->foreign);
	free(s);
	return err;
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
	t->watch_fd = t->watch_nl = -1;
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
	wgx_prefix_set_free(&t->installed);
fail_nl:
	wgx_nl_close(&t->nl);
	return err;
}

int wgx_tunnel_open_bare(struct wgx_tunnel *t, const char *name,
			 unsigned int queues, bool offload)
{
	int err;

	memset(t, 0, sizeof(*t));
	t->watch_fd = t->watch_nl = -1;
	t->mtu = 1420;
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
		wgx_nl_close(&t->nl);
		return err;
	}
	err = wgx_nl_link_set_mtu(&t->nl, t->tun.ifindex, t->mtu);
	if (err) {
		wgx_log_error("Couldn't set the MTU of %s: %s", name,
			      strerror(-err));
		wgx_tunnel_close(t);
	}
	return err;
}

static void unwatch(struct wgx_tunnel *t)
{
	if (t->watch_nl >= 0)
		close(t->watch_nl);
	if (t->watch_fd >= 0)
		close(t->watch_fd);
	t->watch_fd = t->watch_nl = -1;
}

void wgx_tunnel_close(struct wgx_tunnel *t)
{
	wgx_tunnel_policy_clear(t);
	unwatch(t);
	wgx_tun_close(&t->tun);
	wgx_nl_close(&t->nl);
	wgx_prefix_set_free(&t->installed);
}

/* ---- following the TUN ---------------------------------------------------- */

/*
 * A link watch in the network namespace nsfd: this thread enters it for
 * the socket() call only (a netlink socket belongs to the namespace it
 * was made in for good) and comes back.
 */
static int watch_in_netns(int nsfd)
{
	int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	int fd, err;

	if (self < 0)
		return -errno;
	/* setns() needs CAP_SYS_ADMIN, which the agent keeps for this. */
	wgx_harden_raise_admin();
	if (setns(nsfd, CLONE_NEWNET) < 0) {
		err = -errno;
		wgx_harden_lower_admin();
		close(self);
		return err;
	}
	fd = wgx_nl_link_watch_open();
	if (setns(self, CLONE_NEWNET) < 0) {
		/* Every later socket would be made there: cannot go on. */
		wgx_log_error("Couldn't return to our network namespace: %s",
			      strerror(errno));
		abort();
	}
	wgx_harden_lower_admin();
	close(self);
	return fd;
}

/* Watch the namespace the TUN lives in now (nsfd, inode ino). */
static int rewatch(struct wgx_tunnel *t, int nsfd, uint64_t ino)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int fd = watch_in_netns(nsfd);

	if (fd < 0)
		return fd;
	if (t->watch_nl >= 0) {
		epoll_ctl(t->watch_fd, EPOLL_CTL_DEL, t->watch_nl, NULL);
		close(t->watch_nl);
	}
	t->watch_nl = fd;
	t->watch_ns = ino;
	if (epoll_ctl(t->watch_fd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	return 0;
}

/* Where the TUN lives: rewatch there if it moved. 0 or -errno. */
static int follow(struct wgx_tunnel *t)
{
	int nsfd = ioctl(t->tun.fds[0], TUNGETDEVNETNS);
	struct stat st;
	int err = 0;

	if (nsfd < 0)
		return -errno;
	if (fstat(nsfd, &st) < 0)
		err = -errno;
	else if ((uint64_t)st.st_ino != t->watch_ns) {
		if (t->watch_ns)
			wgx_log_info("%s moved to another network namespace: "
				     "following it",
				     t->tun.name);
		err = rewatch(t, nsfd, (uint64_t)st.st_ino);
	}
	close(nsfd);
	return err;
}

int wgx_tunnel_watch(struct wgx_tunnel *t)
{
	int err;

	t->watch_fd = epoll_create1(EPOLL_CLOEXEC);
	if (t->watch_fd < 0)
		return -errno;
	err = follow(t);
	if (err) {
		wgx_log_error("Couldn't watch %s: %s", t->tun.name,
			      strerror(-err));
		unwatch(t);
	}
	return err;
}

enum wgx_tunnel_change wgx_tunnel_check(struct wgx_tunnel *t)
{
	struct ifreq ifr = { 0 }, q;
	struct epoll_event ev;
	int err;

	/* Events only say "look": drain them, then ask. */
	while (t->watch_fd >= 0 && epoll_wait(t->watch_fd, &ev, 1, 0) > 0 &&
	       wgx_nl_watch_drain(t->watch_nl) > 0)
		;
	if (ioctl(t->tun.fds[0], TUNGETIFF, &ifr) < 0)
		return errno == EBADFD ? WGX_TUNNEL_GONE : WGX_TUNNEL_SAME;
	if (t->watch_fd < 0)
		return WGX_TUNNEL_SAME;
	err = follow(t);
	if (err)
		wgx_log_warn("Couldn't follow %s: %s", t->tun.name,
			     strerror(-err));
	if (t->watch_nl < 0)
		return WGX_TUNNEL_SAME;
	/* Any socket asks in its own namespace: the watch is in the TUN's. */
	memset(&q, 0, sizeof(q));
	memcpy(q.ifr_name, ifr.ifr_name, sizeof(q.ifr_name) - 1);
	if (ioctl(t->watch_nl, SIOCGIFMTU, &q) < 0 || q.ifr_mtu <= 0 ||
	    (uint32_t)q.ifr_mtu == t->mtu)
		return WGX_TUNNEL_SAME;
	t->mtu = (uint32_t)q.ifr_mtu;
	return WGX_TUNNEL_MTU;
}

/* ---- wg-quick's policy routing for /0 ------------------------------------ */

enum {
	/* wg-quick's first table when FwMark is unset. */
	POLICY_FIRST_TABLE = 51820,
	POLICY_TABLE_TRIES = 1000,
};

/* Whether table holds any route (wg-quick skips such tables). */
static int table_used(struct wgx_tunnel *t, uint32_t table)
{
	int n = wgx_nl_route_list(&t->nl, AF_UNSPEC, table, NULL, 0);

	return n < 0 ? n : n > 0;
}

static int pick_table(struct wgx_tunnel *t, uint32_t *out)
{
	for (uint32_t table = POLICY_FIRST_TABLE;
	     table < POLICY_FIRST_TABLE + POLICY_TABLE_TRIES; table++) {
		int used = table_used(t, table);

		if (used < 0)
			return used;
		if (!used) {
			*out = table;
			return 0;
		}
	}
	return -ENOSPC;
}

static void policy_rules(const struct wgx_tunnel *t, int family,
			 struct wgx_nl_rule *mark, struct wgx_nl_rule *main)
{
	*mark = (struct wgx_nl_rule){ .family = (uint8_t)family,
				      .table = t->policy.table,
				      .fwmark = t->policy.table,
				      .invert = true,
				      .suppress_len = -1 };
	*main = (struct wgx_nl_rule){ .family = (uint8_t)family,
				      .table = RT_TABLE_MAIN,
				      .suppress_len = 0 };
}

/*
 * The default route in the table and the two rules, for one family; what
 * was added is recorded in bits (1: route, 2: mark rule, 4: main rule).
 */
static int policy_family(struct wgx_tunnel *t, int family, uint8_t *bits)
{
	struct wgx_nl_route r = { .family = (uint8_t)family,
				  .ifindex = t->tun.ifindex,
				  .table = t->policy.table };
	struct wgx_nl_rule mark, main;
	int err;

	policy_rules(t, family, &mark, &main);
	err = wgx_nl_route_add(&t->nl, &r, WGX_NL_ROUTE_ADD);
	if (!err) {
		*bits |= 1;
		err = wgx_nl_rule_add(&t->nl, &mark);
	}
	if (!err) {
		*bits |= 2;
		err = wgx_nl_rule_add(&t->nl, &main);
		/* Another tunnel's identical rule serves us as well. */
		if (!err)
			*bits |= 4;
		else if (err == -EEXIST)
			err = 0;
	}
	if (err)
		wgx_log_error("Couldn't route %s/0 through %s by policy "
			      "(table %u): %s%s%s",
			      family == AF_INET ? "0.0.0.0" : "::", t->tun.name,
			      t->policy.table, strerror(-err),
			      t->nl.err_msg[0] ? ": " : "", t->nl.err_msg);
	return err;
}

static void policy_family_clear(struct wgx_tunnel *t, int family, uint8_t bits)
{
	struct wgx_nl_route r = { .family = (uint8_t)family,
				  .ifindex = t->tun.ifindex,
				  .table = t->policy.table };
	struct wgx_nl_rule mark, main;

	policy_rules(t, family, &mark, &main);
	/* Gone already when the TUN went first: that is fine. */
	if (bits & 1)
		wgx_nl_route_del(&t->nl, &r);
	if ((bits & 2) && wgx_nl_rule_del(&t->nl, &mark))
		wgx_log_warn("Couldn't remove the rule 'not fwmark %u table "
			     "%u' of %s",
			     t->policy.table, t->policy.table, t->tun.name);
	if ((bits & 4) && wgx_nl_rule_del(&t->nl, &main))
		wgx_log_warn("Couldn't remove the rule 'table main "
			     "suppress_prefixlength 0' of %s",
			     t->tun.name);
}

/* As wg-quick: reverse path checks then see the mark of a reply. */
static void src_valid_mark(void)
{
	int fd = open("/proc/sys/net/ipv4/conf/all/src_valid_mark",
		      O_WRONLY | O_CLOEXEC);

	if (fd < 0 || write(fd, "1", 1) != 1)
		wgx_log_warn("Couldn't set net.ipv4.conf.all.src_valid_mark=1: "
			     "%s",
			     strerror(errno));
	if (fd >= 0)
		close(fd);
}

int wgx_tunnel_policy_set(struct wgx_tunnel *t, const struct wgx_config *cfg,
			  uint32_t *fwmark)
{
	unsigned int fams = default_routes(cfg);
	int err = 0;

	if (!t->routes || !fams)
		return 0;
	t->policy.table = cfg->fwmark;
	if (!t->policy.table)
		err = pick_table(t, &t->policy.table);
	if (err) {
		wgx_log_error("Couldn't find a free routing table for %s's "
			      "/0: %s",
			      t->tun.name, strerror(-err));
		return err;
	}
	if (fams & 1) {
		err = policy_family(t, AF_INET, &t->policy.v4);
		if (!err)
			src_valid_mark();
	}
	if (!err && (fams & 2))
		err = policy_family(t, AF_INET6, &t->policy.v6);
	if (err) {
		wgx_tunnel_policy_clear(t);
		return err;
	}
	*fwmark = t->policy.table;
	wgx_log_info("%s: /0 routed through table %u (fwmark %u), as "
		     "wg-quick does",
		     t->tun.name, *fwmark, *fwmark);
	return 0;
}

int wgx_tunnel_policy_sync(struct wgx_tunnel *t, const struct wgx_config *cfg,
			   uint32_t *fwmark)
{
	unsigned int want = wgx_tunnel_needs_policy(cfg) && t->routes
				    ? default_routes(cfg)
				    : 0;
	unsigned int have = (t->policy.v4 ? 1 : 0) | (t->policy.v6 ? 2 : 0);

	if (want && want == have &&
	    (!cfg->fwmark || cfg->fwmark == t->policy.table)) {
		*fwmark = t->policy.table;
		return 0;
	}
	wgx_tunnel_policy_clear(t);
	return want ? wgx_tunnel_policy_set(t, cfg, fwmark) : 0;
}

void wgx_tunnel_policy_clear(struct wgx_tunnel *t)
{
	if (t->policy.v4)
		policy_family_clear(t, AF_INET, t->policy.v4);
	if (t->policy.v6)
		policy_family_clear(t, AF_INET6, t->policy.v6);
	memset(&t->policy, 0, sizeof(t->policy));
}
