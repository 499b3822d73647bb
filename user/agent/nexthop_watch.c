// SPDX-License-Identifier: MIT
/*
 * One request socket, asked one thing at a time and read until the
 * answer with our sequence number (bounded reads, a receive timeout), and
 * one socket subscribed to the neighbour, route and rule groups, read
 * without blocking from the agent's loop (rtnetlink(7)).
 */
#include "agent/nexthop_watch.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/fib_rules.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "util/log.h"

enum {
	BUF_SIZE = 1 << 16,
	/* Asks answered per poll: the rest wait for the next loop turn. */
	ASKS_PER_POLL = 4 * WGX_NH_ASKS,
	/* Datagrams read for one answer before giving up. */
	READS_PER_ANSWER = 8,
	/* Notifications read per wake-up (the rest wake the loop again). */
	READS_PER_EVENT = 64,
	/* Kernel buffer for notifications: a burst of route changes. */
	EVENTS_RCVBUF = 4 << 20,
	/* NUD_VALID in the kernel: states whose lladdr can be used. */
	NUD_USABLE = NUD_PERMANENT | NUD_NOARP | NUD_REACHABLE | NUD_PROBE |
		     NUD_STALE | NUD_DELAY,
};

static size_t addr_len(uint8_t family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

/* ---- parsing ------------------------------------------------------------ */

struct route_attrs {
	const struct nlattr *oif, *gateway, *prefsrc, *via;
};

static int route_attr(const struct nlattr *a, void *ctx)
{
	struct route_attrs *r = ctx;

	switch (mnl_attr_get_type(a)) {
	case RTA_OIF:
		if (mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
			r->oif = a;
		break;
	case RTA_GATEWAY:
		r->gateway = a;
		break;
	case RTA_PREFSRC:
		r->prefsrc = a;
		break;
	case RTA_VIA:
		r->via = a;
		break;
	}
	return MNL_CB_OK;
}

/* An address attribute of the right size for family into out. */
static bool attr_addr(const struct nlattr *a, uint8_t family, uint8_t *out)
{
	size_t n = addr_len(family);

	if (!a || !n || mnl_attr_get_payload_len(a) != n)
		return false;
	memset(out, 0, 16);
	memcpy(out, mnl_attr_get_payload(a), n);
	return true;
}

/*
 * The answer to a lookup of dst: out of the underlay (with a source and
 * a next hop: the gateway, or dst itself on the link), elsewhere, or
 * something we leave to the socket (a gateway of another family, no
 * source, a local or unreachable type).
 */
static int route_parse(const struct nlmsghdr *nh, int ifindex,
		       const struct wgx_nh_addr *dst, struct wgx_nh_route *out)
{
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nh);
	struct route_attrs at = { 0 };

	memset(out, 0, sizeof(*out));
	if (nh->nlmsg_type != RTM_NEWROUTE)
		return 0;
	if (mnl_nlmsg_get_payload_len(nh) < sizeof(*rtm) ||
	    mnl_attr_parse(nh, sizeof(*rtm), route_attr, &at) < 0)
		return -EBADMSG;
	out->state = WGX_NH_UNROUTED;
	if (rtm->rtm_type == RTN_LOCAL) {
		out->state = WGX_NH_ELSEWHERE;
		return 1;
	}
	if (rtm->rtm_type != RTN_UNICAST || !at.oif)
		return 1;
	if ((int)mnl_attr_get_u32(at.oif) != ifindex) {
		out->state = WGX_NH_ELSEWHERE;
		return 1;
	}
	if (at.via || !attr_addr(at.prefsrc, rtm->rtm_family, out->src))
		return 1;
	out->next.family = rtm->rtm_family;
	if (!attr_addr(at.gateway, rtm->rtm_family, out->next.addr)) {
		if (!dst)
			return 1;
		out->next = *dst;
	}
	out->state = WGX_NH_HERE;
	return 1;
}

int wgx_nhw_route_parse(const struct nlmsghdr *nh, int ifindex,
			struct wgx_nh_route *out)
{
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nh);
	struct wgx_nh_addr dst = { 0 };
	const struct nlattr *a;

	if (nh->nlmsg_type != RTM_NEWROUTE ||
	    mnl_nlmsg_get_payload_len(nh) < sizeof(*rtm))
		return route_parse(nh, ifindex, NULL, out);
	mnl_attr_for_each(a, nh, sizeof(*rtm))
	{
		if (mnl_attr_get_type(a) == RTA_DST &&
		    attr_addr(a, rtm->rtm_family, dst.addr))
			dst.family = rtm->rtm_family;
	}
	return route_parse(nh, ifindex, dst.family ? &dst : NULL, out);
}

struct neigh_attrs {
	const struct nlattr *dst, *lladdr;
};

static int neigh_attr(const struct nlattr *a, void *ctx)
{
	struct neigh_attrs *n = ctx;

	if (mnl_attr_get_type(a) == NDA_DST)
		n->dst = a;
	else if (mnl_attr_get_type(a) == NDA_LLADDR)
		n->lladdr = a;
	return MNL_CB_OK;
}

int wgx_nhw_neigh_parse(const struct nlmsghdr *nh, int *ifindex,
			struct wgx_nh_addr *a, uint8_t mac[6], bool *valid)
{
	const struct ndmsg *ndm = mnl_nlmsg_get_payload(nh);
	struct neigh_attrs at = { 0 };

	*valid = false;
	if (nh->nlmsg_type != RTM_NEWNEIGH && nh->nlmsg_type != RTM_DELNEIGH)
		return 0;
	if (mnl_nlmsg_get_payload_len(nh) < sizeof(*ndm) ||
	    mnl_attr_parse(nh, sizeof(*ndm), neigh_attr, &at) < 0)
		return -EBADMSG;
	memset(a, 0, sizeof(*a));
	a->family = ndm->ndm_family;
	if (!attr_addr(at.dst, ndm->ndm_family, a->addr))
		return 0;
	*ifindex = ndm->ndm_ifindex;
	if (nh->nlmsg_type == RTM_NEWNEIGH && (ndm->ndm_state & NUD_USABLE) &&
	    at.lladdr && mnl_attr_get_payload_len(at.lladdr) == 6) {
		memcpy(mac, mnl_attr_get_payload(at.lladdr), 6);
		*valid = true;
	}
	return 1;
}

/* ---- requests ----------------------------------------------------------- */

/*
 * Send the request in w->buf and read until its answer: the first
 * message with its sequence number goes to fn. 0, or -errno (the
 * kernel's, for an NLMSG_ERROR: -ENETUNREACH, -ENOENT, ...).
 */
static int ask_kernel(struct wgx_nhw *w, struct nlmsghdr *req,
		      int (*fn)(struct wgx_nhw *w, const struct nlmsghdr *nh,
				void *ctx),
		      void *ctx)
{
	uint32_t portid = mnl_socket_get_portid(w->req);

	if (mnl_socket_sendto(w->req, req, req->nlmsg_len) < 0)
		return -errno;
	for (int i = 0; i < READS_PER_ANSWER; i++) {
		ssize_t n = mnl_socket_recvfrom(w->req, w->buf, BUF_SIZE);
		const struct nlmsghdr *nh = (const struct nlmsghdr *)w->buf;
		int left = (int)n;

		if (n < 0)
			return -errno;
		for (; mnl_nlmsg_ok(nh, left); nh = mnl_nlmsg_next(nh, &left)) {
			if (nh->nlmsg_seq != req->nlmsg_seq ||
			    nh->nlmsg_pid != portid)
				continue; /* an old answer we gave up on */
			if (nh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e =
					mnl_nlmsg_get_payload(nh);

				return e->error ? e->error : -ENOENT;
			}
			return fn(w, nh, ctx);
		}
	}
	return -ETIMEDOUT;
}

static struct nlmsghdr *request(struct wgx_nhw *w, uint16_t type, void **extra,
				size_t extra_len)
{
	struct nlmsghdr *nh = mnl_nlmsg_put_header(w->buf);

	nh->nlmsg_type = type;
	nh->nlmsg_flags = NLM_F_REQUEST;
	nh->nlmsg_seq = ++w->seq;
	*extra = mnl_nlmsg_put_extra_header(nh, extra_len);
	return nh;
}

static int got_route(struct wgx_nhw *w, const struct nlmsghdr *nh, void *ctx)
{
	void **c = ctx;

	return route_parse(nh, w->ifindex, c[0], c[1]) < 0 ? -EBADMSG : 0;
}

/* The kernel's route to a, as our sockets would get it (FwMark). */
static int lookup_route(struct wgx_nhw *w, const struct wgx_nh_addr *a,
			struct wgx_nh_route *out)
{
	void *c[2] = { (void *)a, out };
	struct rtmsg *rtm;
	struct nlmsghdr *nh =
		request(w, RTM_GETROUTE, (void **)&rtm, sizeof(*rtm));

	rtm->rtm_family = a->family;
	rtm->rtm_dst_len = (uint8_t)(addr_len(a->family) * 8);
	mnl_attr_put(nh, RTA_DST, addr_len(a->family), a->addr);
	if (w->fwmark)
		mnl_attr_put_u32(nh, RTA_MARK, w->fwmark);
	return ask_kernel(w, nh, got_route, c);
}

static int got_neigh(struct wgx_nhw *w, const struct nlmsghdr *nh, void *ctx)
{
	struct wgx_nh_addr a;
	uint8_t mac[6];
	bool valid;
	int ifindex = 0, r = wgx_nhw_neigh_parse(nh, &ifindex, &a, mac, &valid);

	(void)ctx;
	if (r < 0)
		return r;
	if (r > 0 && ifindex == w->ifindex)
		wgx_nh_neigh_update(w->t, &a, valid ? mac : NULL);
	return 0;
}

/* The kernel's neighbour entry for n on the underlay, if it has one. */
static void lookup_neigh(struct wgx_nhw *w, const struct wgx_nh_addr *a)
{
	struct ndmsg *ndm;
	struct nlmsghdr *nh =
		request(w, RTM_GETNEIGH, (void **)&ndm, sizeof(*ndm));

	ndm->ndm_family = a->family;
	ndm->ndm_ifindex = w->ifindex;
	mnl_attr_put(nh, NDA_DST, addr_len(a->family), a->addr);
	/* -ENOENT: none yet; the socket's traffic makes the kernel look. */
	ask_kernel(w, nh, got_neigh, NULL);
}

static void neigh_again(void *ctx, struct wgx_nh_neigh *n)
{
	lookup_neigh(ctx, &n->addr);
}

/* Resolve endpoint a and publish the answer. */
static void resolve(struct wgx_nhw *w, const struct wgx_nh_addr *a)
{
	struct wgx_nh_route r = { 0 };
	struct wgx_nh_neigh *fresh = NULL;
	int err = lookup_route(w, a, &r);

	if (err) {
		/* No route (yet): the socket says what is wrong. */
		memset(&r, 0, sizeof(r));
		r.state = WGX_NH_UNROUTED;
	}
	if (wgx_nh_set(w->t, a, &r, &fresh) < 0)
		return; /* out of memory: the socket keeps sending */
	w->resolved++;
	if (fresh)
		lookup_neigh(w, &fresh->addr);
}

void wgx_nhw_poll(struct wgx_nhw *w)
{
	struct wgx_nh_addr asks[WGX_NH_ASKS];
	unsigned int done = 0;

	while (done < ASKS_PER_POLL) {
		size_t n = wgx_nh_take_asks(w->t, asks, WGX_NH_ASKS);

		if (!n)
			return;
		for (size_t i = 0; i < n; i++, done++) {
			const struct wgx_nh_entry *e =
				wgx_nh_lookup(w->t, &asks[i]);

			/* Asked twice, or answered since: nothing to do. */
			if (e && e->gen == atomic_load(&w->t->gen))
				continue;
			resolve(w, &asks[i]);
		}
	}
}

/* ---- notifications ------------------------------------------------------ */

/* A route through our own TUN: the peers' AllowedIPs, by the thousand. */
static bool route_of_tun(const struct wgx_nhw *w, const struct nlmsghdr *nh)
{
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nh);
	struct route_attrs at = { 0 };

	if (w->skip_ifindex <= 0 ||
	    mnl_nlmsg_get_payload_len(nh) < sizeof(*rtm))
		return false;
	mnl_attr_parse(nh, sizeof(*rtm), route_attr, &at);
	return at.oif && (int)mnl_attr_get_u32(at.oif) == w->skip_ifindex;
}

/* One notification datagram; true when routes or rules changed. */
static bool apply_events(struct wgx_nhw *w, const void *buf, int left)
{
	const struct nlmsghdr *nh = buf;
	bool routes = false;

	for (; mnl_nlmsg_ok(nh, left); nh = mnl_nlmsg_next(nh, &left)) {
		switch (nh->nlmsg_type) {
		case RTM_NEWNEIGH:
		case RTM_DELNEIGH:
			w->neigh_events++;
			got_neigh(w, nh, NULL);
			break;
		case RTM_NEWROUTE:
		case RTM_DELROUTE:
			if (route_of_tun(w, nh))
				break;
			/* fall through */
		case RTM_NEWRULE:
		case RTM_DELRULE:
			w->route_events++;
			routes = true;
			break;
		}
	}
	return routes;
}

void wgx_nhw_read(struct wgx_nhw *w)
{
	bool routes = false;

	for (int i = 0; i < READS_PER_EVENT; i++) {
		ssize_t n = recv(w->fd, w->buf, BUF_SIZE, MSG_DONTWAIT);

		if (n < 0 && errno == ENOBUFS) {
			/* Lost notifications: look at everything again. */
			wgx_log_warn("next hops: netlink notifications lost; "
				     "looking up every neighbour again");
			routes = true;
			wgx_nh_for_each_neigh(w->t, neigh_again, w);
			continue;
		}
		if (n <= 0)
			break;
		routes |= apply_events(w, w->buf, (int)n);
	}
	/* One bump for a burst: each entry in use asks once. */
	if (routes)
		wgx_nh_routes_changed(w->t);
}

void wgx_nhw_set_fwmark(struct wgx_nhw *w, uint32_t fwmark)
{
	if (w->fwmark == fwmark)
		return;
	w->fwmark = fwmark;
	wgx_nh_routes_changed(w->t);
}

/* ---- set-up ------------------------------------------------------------- */

static int open_events(struct wgx_nhw *w)
{
	static const unsigned int groups[] = {
		RTNLGRP_NEIGH,	   RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE,
		RTNLGRP_IPV4_RULE, RTNLGRP_IPV6_RULE,
	};
	int size = EVENTS_RCVBUF;

	w->events =
		mnl_socket_open2(NETLINK_ROUTE, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (!w->events || mnl_socket_bind(w->events, 0, MNL_SOCKET_AUTOPID))
		return -errno;
	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
		if (mnl_socket_setsockopt(w->events, NETLINK_ADD_MEMBERSHIP,
					  (void *)&groups[i],
					  sizeof(groups[i])) < 0)
			return -errno;
	w->fd = mnl_socket_get_fd(w->events);
	if (setsockopt(w->fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)))
		setsockopt(w->fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	return 0;
}

static int open_requests(struct wgx_nhw *w)
{
	struct timeval tv = { .tv_sec = 1 };

	w->req = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!w->req || mnl_socket_bind(w->req, 0, MNL_SOCKET_AUTOPID))
		return -errno;
	/* The agent never waits long for an answer. */
	return setsockopt(mnl_socket_get_fd(w->req), SOL_SOCKET, SO_RCVTIMEO,
			  &tv, sizeof(tv))
		       ? -errno
		       : 0;
}

int wgx_nhw_open(struct wgx_nhw *w, struct wgx_nh_table *t, int ifindex,
		 int skip_ifindex, uint32_t fwmark)
{
	int err;

	memset(w, 0, sizeof(*w));
	w->fd = -1;
	w->t = t;
	w->ifindex = ifindex;
	w->skip_ifindex = skip_ifindex;
	w->fwmark = fwmark;
	w->seq = (uint32_t)time(NULL);
	w->buf = malloc(BUF_SIZE);
	err = w->buf ? open_requests(w) : -ENOMEM;
	if (!err)
		err = open_events(w);
	if (err) {
		wgx_log_error("Couldn't open netlink for the next hops: %s",
			      strerror(-err));
		wgx_nhw_close(w);
	}
	return err;
}

void wgx_nhw_close(struct wgx_nhw *w)
{
	if (w->req)
		mnl_socket_close(w->req);
	if (w->events)
		mnl_socket_close(w->events);
	free(w->buf);
	w->req = w->events = NULL;
	w->buf = NULL;
	w->fd = -1;
}
