// SPDX-License-Identifier: MIT
/*
 * rtnetlink through libmnl: its socket, its message and attribute builders,
 * its iterators and attribute parsers. One piece stays ours: the loop that
 * matches answers to requests. libmnl's mnl_cb_run() returns at the first
 * message flagged NLM_F_DUMP_INTR, leaving the rest of the datagram (often
 * the NLMSG_DONE) unread, so the next read would wait for an end that
 * already went by; and an exchange here may be a batch of requests whose
 * acks are collected one by one, by sequence number.
 */
#include "agent/netlink.h"

#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/fib_rules.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#ifndef NETLINK_GET_STRICT_CHK
#define NETLINK_GET_STRICT_CHK 12
#endif

enum {
	/*
	 * The kernel fills a dump datagram up to the size of our largest
	 * read, capped at 32 KiB; single answers here (a TUN link, an ack)
	 * are a few hundred bytes. A bigger one fails with -EMSGSIZE.
	 */
	NL_BUF_SIZE = 32768,
	NL_REQ_SIZE = 512,
	/* A kernel reply is immediate; this only bounds a lost one. */
	NL_TIMEOUT_SEC = 5,
	/* A dump interrupted by a concurrent change is retried this often. */
	NL_DUMP_TRIES = 4,
	/*
	 * Requests per sendmsg. Only the last of a batch asks for an ack; the
	 * others answer only when they fail (measured: acking each one saves
	 * little over one sendmsg per route, this a fifth of the CPU time).
	 * The kernel runs the whole batch before we read anything, so all
	 * its answers (about 1.3 KiB of receive buffer each) must fit the
	 * receive buffer: 64 fit even the default 208 KiB.
	 */
	NL_BATCH = 64,
	NL_ROUTE_MSG_MAX = 128,
	NL_TX_SIZE = NL_BATCH * NL_ROUTE_MSG_MAX,
	NL_RCVBUF = 1 << 20,
};

typedef int (*nl_parse_fn)(const struct nlmsghdr *nh, void *ctx);

/* Requests seq .. seq + n - 1 and what came back for them. */
struct nl_exchange {
	uint32_t seq;
	size_t n;
	bool done; /* the last request got its answer */
	int *err;  /* per request */
	nl_parse_fn parse;
	void *ctx;
	int parse_err;
	bool intr; /* a dump saw NLM_F_DUMP_INTR */
};

static size_t addr_len(uint8_t family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

static int errno_or(int fallback)
{
	return errno ? -errno : fallback;
}

/* Copies an attribute's bytes as a NUL-terminated string. */
static void attr_str(const struct nlattr *a, char *out, size_t size)
{
	size_t n = mnl_attr_get_payload_len(a);

	if (n >= size)
		n = size - 1;
	memcpy(out, mnl_attr_get_payload(a), n);
	out[n] = '\0';
}

int wgx_nl_open(struct wgx_nl *nl)
{
	struct timeval tv = { .tv_sec = NL_TIMEOUT_SEC };
	int one = 1, rcvbuf = NL_RCVBUF, r;

	memset(nl, 0, sizeof(*nl));
	nl->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl->sock)
		return errno_or(-ENOMEM);
	/* Extended ACKs carry the kernel's reason; capped ACKs stay small. */
	mnl_socket_setsockopt(nl->sock, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(nl->sock, NETLINK_CAP_ACK, &one, sizeof(one));
	/* Dumps filtered by the kernel (table, device); older kernels
	 * refuse the option and we filter here, as we do anyway. */
	mnl_socket_setsockopt(nl->sock, NETLINK_GET_STRICT_CHK, &one,
			      sizeof(one));
	/* Room for a batch's acks; capped by net.core.rmem_max. */
	setsockopt(mnl_socket_get_fd(nl->sock), SOL_SOCKET, SO_RCVBUF, &rcvbuf,
		   sizeof(rcvbuf));
	if (setsockopt(mnl_socket_get_fd(nl->sock), SOL_SOCKET, SO_RCVTIMEO,
		       &tv, sizeof(tv)) < 0 ||
	    mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		r = errno_or(-EIO);
		goto out;
	}
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->buf = malloc(NL_BUF_SIZE);
	nl->tx = malloc(NL_TX_SIZE + NL_ROUTE_MSG_MAX);
	if (!nl->buf || !nl->tx) {
		r = -ENOMEM;
		goto out;
	}
	return 0;
out:
	wgx_nl_close(nl);
	return r;
}

void wgx_nl_close(struct wgx_nl *nl)
{
	if (nl->sock)
		mnl_socket_close(nl->sock);
	free(nl->buf);
	free(nl->tx);
	nl->sock = NULL;
	nl->buf = nl->tx = NULL;
}

/* ---- answers ---- */

static int ack_attr(const struct nlattr *a, void *ctx)
{
	const struct nlattr **msg = ctx;

	if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG &&
	    mnl_attr_get_payload_len(a))
		*msg = a;
	return MNL_CB_OK;
}

int wgx_nl_ack_parse(const struct nlmsghdr *nh, char *msg, size_t size)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nh);
	const struct nlattr *text = NULL;
	size_t off = sizeof(*e);

	if (size)
		msg[0] = '\0';
	if (nh->nlmsg_type == NLMSG_DONE) {
		/* A failed dump ends with the error as an int after DONE. */
		if (mnl_nlmsg_get_payload_len(nh) < sizeof(int))
			return 0;
		return *(const int *)mnl_nlmsg_get_payload(nh);
	}
	if (nh->nlmsg_type != NLMSG_ERROR ||
	    mnl_nlmsg_get_payload_len(nh) < sizeof(*e))
		return -EBADMSG;
	if (!e->error)
		return 0;
	if ((nh->nlmsg_flags & NLM_F_ACK_TLVS) && size) {
		/* Without NLM_F_CAPPED the request's payload is echoed first. */
		if (!(nh->nlmsg_flags & NLM_F_CAPPED))
			off += e->msg.nlmsg_len < MNL_NLMSG_HDRLEN
				       ? 0
				       : MNL_ALIGN(e->msg.nlmsg_len -
						   MNL_NLMSG_HDRLEN);
		if (off < mnl_nlmsg_get_payload_len(nh) &&
		    mnl_attr_parse(nh, off, ack_attr, &text) >= 0 && text)
			attr_str(text, msg, size);
	}
	return e->error > 0 ? -EPROTO : e->error;
}

/* One datagram: data messages to the parser, acks to their request. */
static void nl_datagram(struct wgx_nl *nl, struct nl_exchange *x,
			const void *buf, size_t len)
{
	const struct nlmsghdr *nh = buf;
	int left = len > INT32_MAX ? INT32_MAX : (int)len;

	for (; mnl_nlmsg_ok(nh, left); nh = mnl_nlmsg_next(nh, &left)) {
		uint32_t i = nh->nlmsg_seq - x->seq;
		char text[sizeof(nl->err_msg)];
		int r;

		/* A late answer to an earlier, abandoned request. */
		if (!mnl_nlmsg_portid_ok(nh, nl->portid) || i >= x->n)
			continue;
		if (nh->nlmsg_flags & NLM_F_DUMP_INTR)
			x->intr = true;
		switch (nh->nlmsg_type) {
		case NLMSG_ERROR:
		case NLMSG_DONE:
			r = wgx_nl_ack_parse(nh, text, sizeof(text));
			if (r > 0)
				r = -EPROTO;
			if (text[0])
				memcpy(nl->err_msg, text, sizeof(text));
			if (x->err[i] == 1)
				x->err[i] = r;
			/* Answers come in request order: the last one's
			 * ends the exchange. */
			if (i == x->n - 1)
				x->done = true;
			break;
		case NLMSG_NOOP:
		case NLMSG_OVERRUN:
			break;
		default:
			r = x->parse ? x->parse(nh, x->ctx) : 0;
			if (r < 0 && !x->parse_err)
				x->parse_err = r;
		}
	}
}

/*
 * Read until the last request of x has its answer. Everything is read
 * even after a parser fails, so the next exchange never sees this one's
 * leftovers.
 */
static int nl_collect(struct wgx_nl *nl, struct nl_exchange *x)
{
	while (!x->done) {
		ssize_t n = mnl_socket_recvfrom(nl->sock, nl->buf, NL_BUF_SIZE);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return -ETIMEDOUT;
		/* libmnl says ENOSPC for a datagram cut by our buffer. */
		if (n < 0)
			return errno == ENOSPC ? -EMSGSIZE : errno_or(-EIO);
		nl_datagram(nl, x, nl->buf, (size_t)n);
	}
	return 0;
}

/*
 * Send len bytes holding x->n requests (numbered from x->seq) of which
 * only the last must ask for an ack, and collect: a request with no
 * answer by the time the last one is answered succeeded.
 */
static int nl_exchange(struct wgx_nl *nl, struct nl_exchange *x,
		       const void *buf, size_t len)
{
	int r;

	for (size_t i = 0; i < x->n; i++)
		x->err[i] = 1; /* not answered yet */
	x->done = false;
	if (!nl->sock)
		r = -EBADF;
	else if (mnl_socket_sendto(nl->sock, buf, len) < 0)
		r = errno_or(-EIO);
	else
		r = nl_collect(nl, x);
	for (size_t i = 0; i < x->n; i++)
		if (x->err[i] == 1)
			x->err[i] = r;
	return r;
}

static struct nlmsghdr *req_start(struct wgx_nl *nl, void *buf, uint16_t type,
				  uint16_t flags)
{
	struct nlmsghdr *nh = mnl_nlmsg_put_header(buf);

	nh->nlmsg_type = type;
	nh->nlmsg_flags = NLM_F_REQUEST | flags;
	nh->nlmsg_seq = ++nl->seq;
	nh->nlmsg_pid = nl->portid;
	return nh;
}

/* One request and its answer; data messages go to fn. */
static int nl_talk(struct wgx_nl *nl, struct nlmsghdr *nh, nl_parse_fn fn,
		   void *ctx)
{
	int err;
	struct nl_exchange x = { .seq = nh->nlmsg_seq,
				 .n = 1,
				 .err = &err,
				 .parse = fn,
				 .ctx = ctx };
	int r;

	nl->err_msg[0] = '\0';
	r = nl_exchange(nl, &x, nh, nh->nlmsg_len);
	if (r)
		return r;
	if (x.parse_err)
		return x.parse_err;
	return !err && x.intr ? -EINTR : err;
}

/* A dump, retried while a concurrent change interrupts it. */
static int nl_dump(struct wgx_nl *nl, struct nlmsghdr *nh, nl_parse_fn fn,
		   void *ctx, void (*reset)(void *ctx))
{
	int r = -EINTR;

	for (int i = 0; i < NL_DUMP_TRIES && r == -EINTR; i++) {
		reset(ctx);
		nh->nlmsg_seq = ++nl->seq;
		r = nl_talk(nl, nh, fn, ctx);
	}
	return r;
}

/* ---- links ---- */

int wgx_nl_link_index(const char *name)
{
	unsigned int idx;

	if (!name || strnlen(name, IFNAMSIZ) >= IFNAMSIZ)
		return -ENODEV;
	idx = if_nametoindex(name);
	return idx ? (int)idx : -ENODEV;
}

bool wgx_nl_link_exists(const char *name)
{
	return wgx_nl_link_index(name) > 0;
}

static int tun_attr(const struct nlattr *a, void *ctx)
{
	struct wgx_nl_tun_info *t = ctx;
	uint16_t type = mnl_attr_get_type(a);

	/* libmnl's validation wants the exact size of the type. */
	if (type == IFLA_TUN_NUM_QUEUES ||
	    type == IFLA_TUN_NUM_DISABLED_QUEUES) {
		if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
			return MNL_CB_OK;
		if (type == IFLA_TUN_NUM_QUEUES)
			t->queues = mnl_attr_get_u32(a);
		else
			t->disabled_queues = mnl_attr_get_u32(a);
		return MNL_CB_OK;
	}
	if (mnl_attr_validate(a, MNL_TYPE_U8) < 0)
		return MNL_CB_OK;
	switch (type) {
	case IFLA_TUN_TYPE:
		t->type = mnl_attr_get_u8(a);
		break;
	case IFLA_TUN_PI:
		t->pi = mnl_attr_get_u8(a);
		break;
	case IFLA_TUN_VNET_HDR:
		t->vnet_hdr = mnl_attr_get_u8(a);
		break;
	case IFLA_TUN_PERSIST:
		t->persist = mnl_attr_get_u8(a);
		break;
	case IFLA_TUN_MULTI_QUEUE:
		t->multi_queue = mnl_attr_get_u8(a);
		break;
	}
	return MNL_CB_OK;
}

static int linkinfo_attr(const struct nlattr *a, void *ctx)
{
	struct wgx_nl_link *l = ctx;

	if (mnl_attr_get_type(a) == IFLA_INFO_KIND) {
		attr_str(a, l->kind, sizeof(l->kind));
	} else if (mnl_attr_get_type(a) == IFLA_INFO_DATA) {
		/* The kind comes first, so we know how to read the data. */
		if (strcmp(l->kind, "tun"))
			return MNL_CB_OK;
		l->tun.present = true;
		mnl_attr_parse_nested(a, tun_attr, &l->tun);
	}
	return MNL_CB_OK;
}

static int link_attr(const struct nlattr *a, void *ctx)
{
	struct wgx_nl_link *l = ctx;

	switch (mnl_attr_get_type(a)) {
	case IFLA_IFNAME:
		attr_str(a, l->name, sizeof(l->name));
		break;
	case IFLA_MTU:
		if (mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
			l->mtu = mnl_attr_get_u32(a);
		break;
	case IFLA_CARRIER:
		if (mnl_attr_validate(a, MNL_TYPE_U8) >= 0)
			l->carrier = mnl_attr_get_u8(a);
		break;
	case IFLA_LINKINFO:
		mnl_attr_parse_nested(a, linkinfo_attr, l);
		break;
	}
	return MNL_CB_OK;
}

int wgx_nl_link_parse(const struct nlmsghdr *nh, struct wgx_nl_link *out)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nh);

	if (nh->nlmsg_type != RTM_NEWLINK)
		return 0;
	if (mnl_nlmsg_get_payload_len(nh) < sizeof(*ifi))
		return -EBADMSG;
	memset(out, 0, sizeof(*out));
	out->ifindex = ifi->ifi_index;
	out->flags = ifi->ifi_flags;
	mnl_attr_parse(nh, sizeof(*ifi), link_attr, out);
	return 1;
}

static int link_get_parse(const struct nlmsghdr *nh, void *ctx)
{
	int r = wgx_nl_link_parse(nh, ctx);

	return r < 0 ? r : 0;
}

int wgx_nl_link_get(struct wgx_nl *nl, int ifindex, const char *name,
		    struct wgx_nl_link *out)
{
	char buf[NL_REQ_SIZE] __attribute__((aligned(NLMSG_ALIGNTO)));
	struct nlmsghdr *nh = req_start(nl, buf, RTM_GETLINK, NLM_F_ACK);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nh, sizeof(*ifi));
	int r;

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	if (!ifindex) {
		if (!name || strnlen(name, IFNAMSIZ) >= IFNAMSIZ)
			return -ENODEV;
		mnl_attr_put_strz(nh, IFLA_IFNAME, name);
	}
	memset(out, 0, sizeof(*out));
	r = nl_talk(nl, nh, link_get_parse, out);
	if (!r && !out->ifindex)
		r = -ENODEV;
	return r;
}

static int link_change(struct wgx_nl *nl, uint16_t type, int ifindex,
		       uint32_t change, uint32_t flags, uint16_t attr,
		       uint32_t value)
{
	char buf[NL_REQ_SIZE] __attribute__((aligned(NLMSG_ALIGNTO)));
	struct nlmsghdr *nh;
	struct ifinfomsg *ifi;

	if (ifindex <= 0)
		return -ENODEV;
	nh = req_start(nl, buf, type, NLM_F_ACK);
	ifi = mnl_nlmsg_put_extra_header(nh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	ifi->ifi_change = change;
	ifi->ifi_flags = flags;
	if (attr)
		mnl_attr_put_u32(nh, attr, value);
	return nl_talk(nl, nh, NULL, NULL);
}

int wgx_nl_link_set_mtu(struct wgx_nl *nl, int ifindex, uint32_t mtu)
{
	return link_change(nl, RTM_NEWLINK, ifindex, 0, 0, IFLA_MTU, mtu);
}

int wgx_nl_link_set_up(struct wgx_nl *nl, int ifindex, bool up)
{
	return link_change(nl, RTM_NEWLINK, ifindex, IFF_UP, up ? IFF_UP : 0, 0,
			   0);
}

int wgx_nl_link_del(struct wgx_nl *nl, int ifindex)
{
	return link_change(nl, RTM_DELLINK, ifindex, 0, 0, 0, 0);
}

/* ---- addresses ---- */

static int addr_request(struct wgx_nl *nl, uint16_t type, uint16_t flags,
			const struct wgx_nl_addr *a)
{
	char buf[NL_REQ_SIZE] __attribute__((aligned(NLMSG_ALIGNTO)));
	size_t len = addr_len(a->family);
	struct nlmsghdr *nh;
	struct ifaddrmsg *ifa;

	if (!len || a->prefix > len * 8)
		return -EINVAL;
	if (a->ifindex <= 0)
		return -ENODEV;
	nh = req_start(nl, buf, type, NLM_F_ACK | flags);
	ifa = mnl_nlmsg_put_extra_header(nh, sizeof(*ifa));
	ifa->ifa_family = a->family;
	ifa->ifa_prefixlen = a->prefix;
	ifa->ifa_index = (uint32_t)a->ifindex;
	if (type == RTM_NEWADDR && a->family == AF_INET6)
		ifa->ifa_flags = IFA_F_NODAD;
	/* IFA_LOCAL is the address itself; IFA_ADDRESS the peer, here the
	 * same, as `ip address add` sends for a non point-to-point address. */
	mnl_attr_put(nh, IFA_LOCAL, len, a->addr);
	mnl_attr_put(nh, IFA_ADDRESS, len, a->addr);
	return nl_talk(nl, nh, NULL, NULL);
}

int wgx_nl_addr_add(struct wgx_nl *nl, const struct wgx_nl_addr *a)
{
	return addr_request(nl, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, a);
}

int wgx_nl_addr_del(struct wgx_nl *nl, const struct wgx_nl_addr *a)
{
	return addr_request(nl, RTM_DELADDR, 0, a);
}

struct addr_parsed {
	struct wgx_nl_addr a;
	const struct nlattr *local, *address;
	bool bad;
};

static int addr_attr(const struct nlattr *at, void *ctx)
{
	struct addr_parsed *p = ctx;

	switch (mnl_attr_get_type(at)) {
	case IFA_LOCAL:
	case IFA_ADDRESS:
		if (mnl_attr_get_payload_len(at) != addr_len(p->a.family)) {
			p->bad = true;
			return MNL_CB_ERROR;
		}
		if (mnl_attr_get_type(at) == IFA_LOCAL)
			p->local = at;
		else
			p->address = at;
		break;
	case IFA_FLAGS:
		/* The full 32-bit flags; ifa_flags holds only the low 8. */
		if (mnl_attr_validate(at, MNL_TYPE_U32) >= 0)
			p->a.flags = mnl_attr_get_u32(at);
		break;
	}
	return MNL_CB_OK;
}

/*
 * One RTM_NEWADDR/RTM_DELADDR into out: 1 when it is an IPv4/IPv6 address,
 * 0 when it is something else to skip, -EBADMSG when malformed.
 */
static int addr_from_msg(const struct nlmsghdr *nh, struct wgx_nl_addr *out)
{
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nh);
	const struct nlattr *use;
	struct addr_parsed p;

	if (nh->nlmsg_type != RTM_NEWADDR && nh->nlmsg_type != RTM_DELADDR)
		return 0;
	if (mnl_nlmsg_get_payload_len(nh) < sizeof(*ifa))
		return -EBADMSG;
	if (!addr_len(ifa->ifa_family))
		return 0;
	memset(&p, 0, sizeof(p));
	p.a.ifindex = (int)ifa->ifa_index;
	p.a.family = ifa->ifa_family;
	p.a.prefix = ifa->ifa_prefixlen;
	p.a.scope = ifa->ifa_scope;
	p.a.flags = ifa->ifa_flags;
	mnl_attr_parse(nh, sizeof(*ifa), addr_attr, &p);
	/* On a point-to-point link IFA_ADDRESS is the peer: prefer LOCAL. */
	use = p.local ? p.local : p.address;
	if (p.bad || !use)
		return -EBADMSG;
	memcpy(p.a.addr, mnl_attr_get_payload(use), addr_len(p.a.family));
	*out = p.a;
	return 1;
}

struct addr_list_ctx {
	int ifindex, family;
	struct wgx_nl_addr *out;
	size_t max, count;
};

static void addr_list_reset(void *ctx)
{
	((struct addr_list_ctx *)ctx)->count = 0;
}

static int addr_list_parse(const struct nlmsghdr *nh, void *ctx)
{
	struct addr_list_ctx *c = ctx;
	struct wgx_nl_addr a;
	int r = addr_from_msg(nh, &a);

	if (r <= 0)
		return r;
	if (c->ifindex && a.ifindex != c->ifindex)
		return 0;
	if (c->family != AF_UNSPEC && a.family != c->family)
		return 0;
	if (c->count < c->max)
		c->out[c->count] = a;
	c->count++;
	return 0;
}

int wgx_nl_addr_list(struct wgx_nl *nl, int ifindex, int family,
		     struct wgx_nl_addr *out, size_t max)
{
	char buf[NL_REQ_SIZE] __attribute__((aligned(NLMSG_ALIGNTO)));
	struct addr_list_ctx c = { ifindex, family, out, max, 0 };
	struct nlmsghdr *nh;
	struct ifaddrmsg *ifa;
	int r;

	if (family != AF_UNSPEC && !addr_len((uint8_t)family))
		return -EAFNOSUPPORT;
	nh = req_start(nl, buf, RTM_GETADDR, NLM_F_DUMP);
	ifa = mnl_nlmsg_put_extra_header(nh, sizeof(*ifa));
	ifa->ifa_family = (uint8_t)family;
	/* With strict checking the kernel sends only this device's. */
	ifa->ifa_index = ifindex > 0 ? (uint32_t)ifindex : 0;
	r = nl_dump(nl, nh, addr_list_parse, &c, addr_list_reset);
	return r < 0 ? r : (int)c.count;
}

/* ---- routes ---- */

static uint32_t route_table(uint32_t table)
{
	return table ? table : RT_TABLE_MAIN;
}

/* Tables past 255 only fit in RTA_TABLE; it is always sent as well. */
static uint8_t rtm_table(uint32_t table)
{
	return table < 256 ? (uint8_t)table : RT_TABLE_UNSPEC;
}

int wgx_nl_route_msg(void *buf, size_t size, uint16_t type, uint16_t flags,
		     const struct wgx_nl_route *r)
{
	size_t len = addr_len(r->family);
	struct nlmsghdr *nh;
	struct rtmsg *rtm;
	uint8_t dst[16];
	bool ok = true;

	if (!len || r->prefix > len * 8)
		return -EINVAL;
	if (r->ifindex <= 0)
		return -ENODEV;
	if (size < MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(*rtm)))
		return -EMSGSIZE;
	nh = mnl_nlmsg_put_header(buf);
	nh->nlmsg_type = type;
	nh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	rtm = mnl_nlmsg_put_extra_header(nh, sizeof(*rtm));
	rtm->rtm_family = r->family;
	rtm->rtm_dst_len = r->prefix;
	rtm->rtm_table = rtm_table(route_table(r->table));
	rtm->rtm_type = RTN_UNICAST;
	if (type == RTM_NEWROUTE) {
		/* What `ip route add P dev D` sends: a link-scope route. */
		rtm->rtm_protocol = r->protocol ? r->protocol : RTPROT_BOOT;
		rtm->rtm_scope = RT_SCOPE_LINK;
	} else {
		/* Wildcards (but a protocol given): any scope. */
		rtm->rtm_protocol = r->protocol;
		rtm->rtm_scope = RT_SCOPE_NOWHERE;
	}
	/* The kernel refuses a destination with host bits set. */
	memcpy(dst, r->dst, sizeof(dst));
	for (unsigned int bit = r->prefix; bit < 128; bit++)
		dst[bit / 8] &= (uint8_t) ~(0x80u >> (bit % 8));
	if (r->prefix)
		ok = mnl_attr_put_check(nh, size, RTA_DST, len, dst);
	ok = ok &&
	     mnl_attr_put_u32_check(nh, size, RTA_OIF, (uint32_t)r->ifindex);
	ok = ok &&
	     mnl_attr_put_u32_check(nh, size, RTA_TABLE, route_table(r->table));
	if (r->metric)
		ok = ok &&
		     mnl_attr_put_u32_check(nh, size, RTA_PRIORITY, r->metric);
	return ok ? (int)nh->nlmsg_len : -EMSGSIZE;
}

/* n route requests of one kind, NL_BATCH to a sendmsg. */
static int route_batch(struct wgx_nl *nl, uint16_t type, uint16_t flags,
		       const struct wgx_nl_route *r, size_t n, int *err)
{
	struct mnl_nlmsg_batch *b;
	int first = 0;

	b = mnl_nlmsg_batch_start(nl->tx, NL_TX_SIZE);
	if (!b)
		return -ENOMEM;
	nl->err_msg[0] = '\0';
	for (size_t done = 0; done < n;) {
		struct nl_exchange x = { .seq = nl->seq + 1,
					 .err = err + done };
		struct nlmsghdr *last = NULL;
		int rc;

		/* Requests refused before the kernel get no sequence number. */
		for (; done + x.n < n && x.n < NL_BATCH; x.n++) {
			struct nlmsghdr *nh = mnl_nlmsg_batch_current(b);
			int len = wgx_nl_route_msg(nh, NL_ROUTE_MSG_MAX, type,
						   flags, &r[done + x.n]);

			if (len < 0)
				break;
			nh->nlmsg_seq = ++nl->seq;
			nh->nlmsg_pid = nl->portid;
			nh->nlmsg_flags &= ~NLM_F_ACK;
			last = nh;
			mnl_nlmsg_batch_next(b);
		}
		if (x.n) {
			/* The last one is answered whatever happens. */
			last->nlmsg_flags |= NLM_F_ACK;
			rc = nl_exchange(nl, &x, mnl_nlmsg_batch_head(b),
					 mnl_nlmsg_batch_size(b));
			mnl_nlmsg_batch_reset(b);
			if (rc && !first)
				first = rc;
			done += x.n;
		}
		if (done < n && x.n < NL_BATCH) {
			/* The request that stopped the batch: refused here. */
			err[done] = wgx_nl_route_msg(nl->buf, NL_ROUTE_MSG_MAX,
						     type, flags, &r[done]);
			done++;
		}
	}
	mnl_nlmsg_batch_stop(b);
	return first;
}

static uint16_t add_flags(enum wgx_nl_route_mode mode)
{
	return NLM_F_CREATE |
	       (mode == WGX_NL_ROUTE_REPLACE ? NLM_F_REPLACE : NLM_F_EXCL);
}

int wgx_nl_route_add_batch(struct wgx_nl *nl, const struct wgx_nl_route *r,
			   size_t n, enum wgx_nl_route_mode mode, int *err)
{
	return route_batch(nl, RTM_NEWROUTE, add_flags(mode), r, n, err);
}

int wgx_nl_route_del_batch(struct wgx_nl *nl, const struct wgx_nl_route *r,
			   size_t n, int *err)
{
	return route_batch(nl, RTM_DELROUTE, 0, r, n, err);
}

/* One request through the batch path: same framing, same answers. */
static int route_one(struct wgx_nl *nl, uint16_t type, uint16_t flags,
		     const struct wgx_nl_route *r)
{
	int err = 0, rc = route_batch(nl, type, flags, r, 1, &err);

	return rc ? rc : err;
}

int wgx_nl_route_add(struct wgx_nl *nl, const struct wgx_nl_route *r,
		     enum wgx_nl_route_mode mode)
{
	return route_one(nl, RTM_NEWROUTE, add_flags(mode), r);
}

int wgx_nl_route_del(struct wgx_nl *nl, const struct wgx_nl_route *r)
{
	return route_one(nl, RTM_DELROUTE, 0, r);
}

static int route_attr(const struct nlattr *a, void *ctx)
{
	struct wgx_nl_route *r = ctx;

	switch (mnl_attr_get_type(a)) {
	case RTA_DST:
		if (mnl_attr_get_payload_len(a) != addr_len(r->family))
			return MNL_CB_ERROR;
		memcpy(r->dst, mnl_attr_get_payload(a), addr_len(r->family));
		break;
	case RTA_OIF:
		if (mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
			r->ifindex = (int)mnl_attr_get_u32(a);
		break;
	case RTA_TABLE:
		if (mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
			r->table = mnl_attr_get_u32(a);
		break;
	case RTA_PRIORITY:
		if (mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
			r->metric = mnl_attr_get_u32(a);
		break;
	}
	return MNL_CB_OK;
}

int wgx_nl_route_parse(const struct nlmsghdr *nh, struct wgx_nl_route *out)
{
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nh);

	if (nh->nlmsg_type != RTM_NEWROUTE)
		return 0;
	if (mnl_nlmsg_get_payload_len(nh) < sizeof(*rtm))
		return -EBADMSG;
	if (!addr_len(rtm->rtm_family))
		return 0;
	memset(out, 0, sizeof(*out));
	out->family = rtm->rtm_family;
	out->prefix = rtm->rtm_dst_len;
	out->table = rtm->rtm_table;
	out->protocol = rtm->rtm_protocol;
	out->type = rtm->rtm_type;
	if (out->prefix > addr_len(out->family) * 8 ||
	    mnl_attr_parse(nh, sizeof(*rtm), route_attr, out) < 0)
		return -EBADMSG;
	return 1;
}

struct route_dump_ctx {
	int family, ifindex;
	uint32_t table;
	wgx_nl_route_cb cb;
	void *ctx;
};

static int route_dump_parse(const struct nlmsghdr *nh, void *ctx)
{
	struct route_dump_ctx *c = ctx;
	struct wgx_nl_route r;
	int err = wgx_nl_route_parse(nh, &r);

	/* Filtered here too: kernels without strict checking send all. */
	if (err <= 0 || r.table != c->table ||
	    (c->family != AF_UNSPEC && r.family != c->family) ||
	    (c->ifindex && r.ifindex != c->ifindex))
		return err;
	return c->cb(c->ctx, &r);
}

static int route_dump_req(struct wgx_nl *nl, void *buf, int family,
			  uint32_t table, int ifindex, struct nlmsghdr **out)
{
	struct nlmsghdr *nh;
	struct rtmsg *rtm;

	if (family != AF_UNSPEC && !addr_len((uint8_t)family))
		return -EAFNOSUPPORT;
	nh = req_start(nl, buf, RTM_GETROUTE, NLM_F_DUMP);
	rtm = mnl_nlmsg_put_extra_header(nh, sizeof(*rtm));
	rtm->rtm_family = (uint8_t)family;
	rtm->rtm_table = rtm_table(table);
	mnl_attr_put_u32(nh, RTA_TABLE, table);
	if (ifindex > 0)
		mnl_attr_put_u32(nh, RTA_OIF, (uint32_t)ifindex);
	*out = nh;
	return 0;
}

int wgx_nl_route_dump(struct wgx_nl *nl, int family, uint32_t table,
		      int ifindex, wgx_nl_route_cb cb, void *ctx)
{
	char buf[NL_REQ_SIZE] __attribute__((aligned(NLMSG_ALIGNTO)));
	struct route_dump_ctx c = { family, ifindex, route_table(table), cb,
				    ctx };
	struct nlmsghdr *nh;
	int r = route_dump_req(nl, buf, family, c.table, ifindex, &nh);

	if (r)
		return r;
	r = nl_talk(nl, nh, route_dump_parse, &c);
	/* Strict checking: "FIB table does not exist" means no routes. */
	return r == -ENOENT ? 0 : r;
}

struct route_list_ctx {
	struct wgx_nl_route *out;
	size_t max, count;
};

static int route_list_add(void *ctx, const struct wgx_nl_route *r)
{
	struct route_list_ctx *c = ctx;

	if (r->type != RTN_UNICAST)
		return 0;
	if (c->count < c->max)
		c->out[c->count] = *r;
	c->count++;
	return 0;
}

static void route_list_reset(void *ctx)
{
	((struct route_list_ctx *)ctx)->count = 0;
}

int wgx_nl_route_list(struct wgx_nl *nl, int family, uint32_t table,
		      struct wgx_nl_route *out, size_t max)
{
	struct route_list_ctx c = { out, max, 0 };
	int r = -EINTR;

	for (int i = 0; i < NL_DUMP_TRIES && r == -EINTR; i++) {
		route_list_reset(&c);
		r = wgx_nl_route_dump(nl, family, table, 0, route_list_add, &c);
	}
	return r < 0 ? r : (int)c.count;
}

/* ---- address events ---- */

/* ---- rules ---- */

int wgx_nl_rule_msg(void *buf, size_t size, uint16_t type, uint16_t flags,
		    const struct wgx_nl_rule *r)
{
	uint32_t table = route_table(r->table);
	struct fib_rule_hdr *frh;
	struct nlmsghdr *nh;
	bool ok = true;

	if (r->family != AF_INET && r->family != AF_INET6)
		return -EINVAL;
	if (size < MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(*frh)))
		return -EMSGSIZE;
	nh = mnl_nlmsg_put_header(buf);
	nh->nlmsg_type = type;
	nh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	frh = mnl_nlmsg_put_extra_header(nh, sizeof(*frh));
	frh->family = r->family;
	frh->table = rtm_table(table);
	frh->action = FR_ACT_TO_TBL;
	if (r->invert)
		frh->flags |= FIB_RULE_INVERT;
	ok = mnl_attr_put_u32_check(nh, size, FRA_TABLE, table);
	if (r->fwmark)
		ok = ok &&
		     mnl_attr_put_u32_check(nh, size, FRA_FWMARK, r->fwmark) &&
		     mnl_attr_put_u32_check(nh, size, FRA_FWMASK, UINT32_MAX);
	if (r->suppress_len >= 0)
		ok = ok &&
		     mnl_attr_put_u32_check(nh, size, FRA_SUPPRESS_PREFIXLEN,
					    (uint32_t)r->suppress_len);
	return ok ? (int)nh->nlmsg_len : -EMSGSIZE;
}

static int rule_request(struct wgx_nl *nl, uint16_t type, uint16_t flags,
			const struct wgx_nl_rule *r)
{
	char buf[NL_REQ_SIZE] __attribute__((aligned(NLMSG_ALIGNTO)));
	struct nlmsghdr *nh;
	int len = wgx_nl_rule_msg(buf, sizeof(buf), type, flags, r);

	if (len < 0)
		return len;
	nh = (struct nlmsghdr *)buf;
	nh->nlmsg_seq = ++nl->seq;
	nh->nlmsg_pid = nl->portid;
	return nl_talk(nl, nh, NULL, NULL);
}

int wgx_nl_rule_add(struct wgx_nl *nl, const struct wgx_nl_rule *r)
{
	/* NLM_F_EXCL: the kernel refuses an identical rule (-EEXIST). */
	return rule_request(nl, RTM_NEWRULE, NLM_F_CREATE | NLM_F_EXCL, r);
}

int wgx_nl_rule_del(struct wgx_nl *nl, const struct wgx_nl_rule *r)
{
	return rule_request(nl, RTM_DELRULE, 0, r);
}

struct rule_count {
	const struct wgx_nl_rule *want;
	int n;
};

struct rule_seen {
	uint32_t table, fwmark, suppress;
	bool has_suppress;
};

static int rule_attr(const struct nlattr *a, void *ctx)
{
	struct rule_seen *s = ctx;

	if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
		return MNL_CB_OK;
	switch (mnl_attr_get_type(a)) {
	case FRA_TABLE:
		s->table = mnl_attr_get_u32(a);
		break;
	case FRA_FWMARK:
		s->fwmark = mnl_attr_get_u32(a);
		break;
	case FRA_SUPPRESS_PREFIXLEN:
		s->suppress = mnl_attr_get_u32(a);
		s->has_suppress = true;
		break;
	default:
		break;
	}
	return MNL_CB_OK;
}

static int rule_count_parse(const struct nlmsghdr *nh, void *ctx)
{
	struct rule_count *c = ctx;
	const struct wgx_nl_rule *w = c->want;
	const struct fib_rule_hdr *frh = mnl_nlmsg_get_payload(nh);
	struct rule_seen s = { 0 };
	bool suppress;

	if (nh->nlmsg_type != RTM_NEWRULE ||
	    nh->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(*frh) ||
	    frh->family != w->family)
		return 0;
	s.table = frh->table;
	mnl_attr_parse(nh, sizeof(*frh), rule_attr, &s);
	/* "none" is reported as 0xffffffff by the kernel. */
	suppress = s.has_suppress && s.suppress != UINT32_MAX;
	if (s.table == route_table(w->table) && s.fwmark == w->fwmark &&
	    !!(frh->flags & FIB_RULE_INVERT) == w->invert &&
	    suppress == (w->suppress_len >= 0) &&
	    (!suppress || s.suppress == (uint32_t)w->suppress_len))
		c->n++;
	return 0;
}

static void rule_count_reset(void *ctx)
{
	((struct rule_count *)ctx)->n = 0;
}

int wgx_nl_rule_count(struct wgx_nl *nl, const struct wgx_nl_rule *r)
{
	char buf[NL_REQ_SIZE] __attribute__((aligned(NLMSG_ALIGNTO)));
	struct rule_count c = { .want = r };
	struct nlmsghdr *nh = req_start(nl, buf, RTM_GETRULE, NLM_F_DUMP);
	struct fib_rule_hdr *frh = mnl_nlmsg_put_extra_header(nh, sizeof(*frh));
	int err;

	frh->family = r->family;
	err = nl_dump(nl, nh, rule_count_parse, &c, rule_count_reset);
	return err < 0 ? err : c.n;
}

/* ---- watches ---- */

static int watch_open(unsigned int groups)
{
	struct mnl_socket *s =
		mnl_socket_open2(NETLINK_ROUTE, SOCK_NONBLOCK | SOCK_CLOEXEC);
	int fd = -1;

	if (!s)
		return errno_or(-ENOMEM);
	if (mnl_socket_bind(s, groups, MNL_SOCKET_AUTOPID) < 0) {
		fd = errno_or(-EIO);
		mnl_socket_close(s);
		return fd;
	}
	/*
	 * The caller's epoll owns a plain fd; libmnl's handle cannot give
	 * its fd away, so hand out a duplicate and drop the handle.
	 */
	fd = fcntl(mnl_socket_get_fd(s), F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		fd = errno_or(-EIO);
	mnl_socket_close(s);
	return fd;
}

int wgx_nl_addr_watch_open(void)
{
	return watch_open(RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR);
}

int wgx_nl_link_watch_open(void)
{
	return watch_open(RTMGRP_LINK);
}

int wgx_nl_watch_drain(int fd)
{
	char buf[8192];
	int n = 0;

	for (;;) {
		ssize_t r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			return n;
		/* Overflow: events were lost, which only says "look". */
		if (r < 0 && errno == ENOBUFS) {
			n++;
			continue;
		}
		if (r <= 0)
			return r < 0 ? -errno : n;
		n++;
	}
}

int wgx_nl_addr_parse(const void *buf, size_t len, wgx_nl_addr_cb cb, void *ctx)
{
	const struct nlmsghdr *nh = buf;
	/* Signed: a cut last message ends the loop with bytes left. */
	int left = len > INT32_MAX ? INT32_MAX : (int)len;
	int events = 0;

	for (; mnl_nlmsg_ok(nh, left); nh = mnl_nlmsg_next(nh, &left)) {
		struct wgx_nl_addr a;
		int r = addr_from_msg(nh, &a);

		if (r < 0)
			return r;
		if (!r)
			continue;
		cb(ctx, nh->nlmsg_type == RTM_NEWADDR, &a);
		events++;
	}
	/* Trailing bytes that do not form a message: a cut datagram. */
	return left > 0 ? -EBADMSG : events;
}

int wgx_nl_addr_watch_read(int fd, wgx_nl_addr_cb cb, void *ctx)
{
	/* Address notifications are one small message per datagram. */
	char buf[8192] __attribute__((aligned(NLMSG_ALIGNTO)));
	int events = 0;

	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_TRUNC);
		int r;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN ? events : -errno;
		if ((size_t)n > sizeof(buf))
			return -EMSGSIZE;
		r = wgx_nl_addr_parse(buf, (size_t)n, cb, ctx);
		if (r < 0)
			return r;
		events += r;
	}
}
