// SPDX-License-Identifier: MIT
/*
 * rtnetlink by hand: build one request in a stack buffer, send it, read
 * replies with our sequence number until the ACK (or NLMSG_DONE for a dump),
 * handing each data message to a parser. Replies are sized with
 * MSG_PEEK | MSG_TRUNC so a large dump message never gets cut.
 */
#include "agent/netlink.h"

#include <errno.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

enum {
	NL_BUF_SIZE = 32768,
	NL_REQ_SIZE = 512,
	/* A kernel reply is immediate; this only bounds a lost one. */
	NL_TIMEOUT_SEC = 5,
	/* A dump interrupted by a concurrent change is retried this often. */
	NL_DUMP_TRIES = 4,
};

struct nl_req {
	union {
		struct nlmsghdr nh;
		char buf[NL_REQ_SIZE];
	};
};

typedef int (*nl_parse_fn)(const struct nlmsghdr *nh, void *ctx);

static void *req_init(struct nl_req *req, uint16_t type, uint16_t flags,
		      size_t body)
{
	memset(req, 0, sizeof(*req));
	req->nh.nlmsg_len = NLMSG_LENGTH(body);
	req->nh.nlmsg_type = type;
	req->nh.nlmsg_flags = NLM_F_REQUEST | flags;
	return NLMSG_DATA(&req->nh);
}

static int attr_put(struct nl_req *req, uint16_t type, const void *data,
		    size_t len)
{
	size_t off = NLMSG_ALIGN(req->nh.nlmsg_len);
	struct rtattr *rta = (struct rtattr *)(req->buf + off);

	if (off + RTA_SPACE(len) > sizeof(req->buf))
		return -EMSGSIZE;
	rta->rta_type = type;
	rta->rta_len = RTA_LENGTH(len);
	memcpy(RTA_DATA(rta), data, len);
	req->nh.nlmsg_len = off + RTA_SPACE(len);
	return 0;
}

static int attr_put_u32(struct nl_req *req, uint16_t type, uint32_t v)
{
	return attr_put(req, type, &v, sizeof(v));
}

static size_t addr_len(uint8_t family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

/* Calls fn for each attribute in [start, start + len); stops on an error. */
static int attrs_walk(const void *start, size_t len,
		      int (*fn)(const struct rtattr *rta, void *ctx), void *ctx)
{
	const struct rtattr *rta = start;
	/* Signed on purpose: RTA_NEXT may step past the end on a cut
	 * message, and a negative length then stops RTA_OK. */
	int left = len > INT32_MAX ? INT32_MAX : (int)len;

	for (; RTA_OK(rta, left); rta = RTA_NEXT(rta, left)) {
		int r = fn(rta, ctx);

		if (r < 0)
			return r;
	}
	return 0;
}

int wgx_nl_open(struct wgx_nl *nl)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct timeval tv = { .tv_sec = NL_TIMEOUT_SEC };
	socklen_t sl = sizeof(sa);
	int one = 1, r;

	memset(nl, 0, sizeof(*nl));
	nl->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (nl->fd < 0)
		return -errno;
	/* Extended ACKs carry the kernel's reason; capped ACKs stay small. */
	setsockopt(nl->fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(nl->fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	if (setsockopt(nl->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    bind(nl->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockname(nl->fd, (struct sockaddr *)&sa, &sl) < 0) {
		r = -errno;
		goto out;
	}
	nl->portid = sa.nl_pid;
	nl->buf_size = NL_BUF_SIZE;
	nl->buf = malloc(nl->buf_size);
	if (!nl->buf) {
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
	if (nl->fd >= 0)
		close(nl->fd);
	free(nl->buf);
	nl->fd = -1;
	nl->buf = NULL;
	nl->buf_size = 0;
}

static void ack_msg(struct wgx_nl *nl, const struct nlmsghdr *nh,
		    const struct nlmsgerr *e)
{
	size_t off = NLMSG_LENGTH(sizeof(*e));
	const struct rtattr *rta;
	int left;

	if (!(nh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	/* Without NLM_F_CAPPED the request's payload is echoed first. */
	if (!(nh->nlmsg_flags & NLM_F_CAPPED))
		off += NLMSG_ALIGN(e->msg.nlmsg_len - NLMSG_HDRLEN);
	if (off >= nh->nlmsg_len)
		return;
	rta = (const struct rtattr *)((const char *)nh + off);
	left = (int)(nh->nlmsg_len - off);
	for (; RTA_OK(rta, left); rta = RTA_NEXT(rta, left)) {
		size_t n = RTA_PAYLOAD(rta);

		if (rta->rta_type != NLMSGERR_ATTR_MSG || !n)
			continue;
		if (n > sizeof(nl->err_msg))
			n = sizeof(nl->err_msg);
		memcpy(nl->err_msg, RTA_DATA(rta), n);
		nl->err_msg[n - 1] = '\0';
	}
}

/* The error an NLMSG_ERROR or NLMSG_DONE message carries (0: success). */
static int reply_error(struct wgx_nl *nl, const struct nlmsghdr *nh)
{
	const struct nlmsgerr *e = NLMSG_DATA(nh);

	if (nh->nlmsg_type == NLMSG_DONE) {
		/* A failed dump ends with the error as an int after DONE. */
		if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(int)))
			return 0;
		return *(const int *)NLMSG_DATA(nh);
	}
	if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
		return -EBADMSG;
	if (e->error)
		ack_msg(nl, nh, e);
	return e->error > 0 ? -EPROTO : e->error;
}

/* One datagram, grown into the buffer whatever its size. */
static ssize_t nl_recv(struct wgx_nl *nl)
{
	ssize_t n;

	for (;;) {
		n = recv(nl->fd, nl->buf, nl->buf_size, MSG_PEEK | MSG_TRUNC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		if ((size_t)n > nl->buf_size) {
			char *bigger = realloc(nl->buf, (size_t)n);

			if (!bigger)
				return -ENOMEM;
			nl->buf = bigger;
			nl->buf_size = (size_t)n;
		}
		n = recv(nl->fd, nl->buf, nl->buf_size, 0);
		if (n < 0 && errno == EINTR)
			continue;
		return n < 0 ? -errno : n;
	}
}

/*
 * Send req and read until its ACK or NLMSG_DONE, passing data messages to
 * fn. Everything is read even after fn fails, so the next request never
 * sees this one's leftovers.
 */
static int nl_talk(struct wgx_nl *nl, struct nl_req *req, nl_parse_fn fn,
		   void *ctx)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	int err = 0;
	bool intr = false;

	nl->err_msg[0] = '\0';
	req->nh.nlmsg_seq = ++nl->seq;
	req->nh.nlmsg_pid = nl->portid;
	if (sendto(nl->fd, req, req->nh.nlmsg_len, 0,
		   (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
		return -errno;
	for (;;) {
		ssize_t n = nl_recv(nl);
		const struct nlmsghdr *nh = (const struct nlmsghdr *)nl->buf;
		int left;

		if (n < 0)
			return (int)n;
		left = n > INT32_MAX ? INT32_MAX : (int)n;
		for (; NLMSG_OK(nh, left); nh = NLMSG_NEXT(nh, left)) {
			int r;

			if (nh->nlmsg_seq != nl->seq ||
			    nh->nlmsg_pid != nl->portid)
				continue;
			if (nh->nlmsg_flags & NLM_F_DUMP_INTR)
				intr = true;
			if (nh->nlmsg_type == NLMSG_ERROR ||
			    nh->nlmsg_type == NLMSG_DONE) {
				r = reply_error(nl, nh);
				if (!r && intr)
					r = -EINTR;
				return err ? err : r;
			}
			r = fn ? fn(nh, ctx) : 0;
			if (r < 0 && !err)
				err = r;
		}
	}
}

/* A dump, retried while a concurrent change interrupts it. */
static int nl_dump(struct wgx_nl *nl, struct nl_req *req, nl_parse_fn fn,
		   void *ctx, void (*reset)(void *ctx))
{
	int r = -EINTR;

	for (int i = 0; i < NL_DUMP_TRIES && r == -EINTR; i++) {
		reset(ctx);
		r = nl_talk(nl, req, fn, ctx);
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

static int tun_attr(const struct rtattr *rta, void *ctx)
{
	struct wgx_nl_tun_info *t = ctx;
	const uint8_t *u8 = RTA_DATA(rta);
	uint32_t u32 = 0;

	if (RTA_PAYLOAD(rta) < 1)
		return 0;
	if (RTA_PAYLOAD(rta) >= 4)
		memcpy(&u32, RTA_DATA(rta), 4);
	switch (rta->rta_type) {
	case IFLA_TUN_TYPE:
		t->type = *u8;
		break;
	case IFLA_TUN_PI:
		t->pi = *u8;
		break;
	case IFLA_TUN_VNET_HDR:
		t->vnet_hdr = *u8;
		break;
	case IFLA_TUN_PERSIST:
		t->persist = *u8;
		break;
	case IFLA_TUN_MULTI_QUEUE:
		t->multi_queue = *u8;
		break;
	case IFLA_TUN_NUM_QUEUES:
		t->queues = u32;
		break;
	case IFLA_TUN_NUM_DISABLED_QUEUES:
		t->disabled_queues = u32;
		break;
	}
	return 0;
}

static int linkinfo_attr(const struct rtattr *rta, void *ctx)
{
	struct wgx_nl_link *l = ctx;
	size_t n = RTA_PAYLOAD(rta);

	if (rta->rta_type == IFLA_INFO_KIND) {
		if (n >= sizeof(l->kind))
			n = sizeof(l->kind) - 1;
		memcpy(l->kind, RTA_DATA(rta), n);
		l->kind[n] = '\0';
	} else if (rta->rta_type == IFLA_INFO_DATA) {
		/* The kind comes first, so we know how to read the data. */
		if (strcmp(l->kind, "tun"))
			return 0;
		l->tun.present = true;
		return attrs_walk(RTA_DATA(rta), n, tun_attr, &l->tun);
	}
	return 0;
}

static int link_attr(const struct rtattr *rta, void *ctx)
{
	struct wgx_nl_link *l = ctx;
	size_t n = RTA_PAYLOAD(rta);

	switch (rta->rta_type) {
	case IFLA_IFNAME:
		if (n >= sizeof(l->name))
			n = sizeof(l->name) - 1;
		memcpy(l->name, RTA_DATA(rta), n);
		l->name[n] = '\0';
		break;
	case IFLA_MTU:
		if (n >= 4)
			memcpy(&l->mtu, RTA_DATA(rta), 4);
		break;
	case IFLA_CARRIER:
		if (n >= 1)
			l->carrier = *(const uint8_t *)RTA_DATA(rta);
		break;
	case IFLA_LINKINFO:
		return attrs_walk(RTA_DATA(rta), n, linkinfo_attr, l);
	}
	return 0;
}

static int link_parse(const struct nlmsghdr *nh, void *ctx)
{
	struct wgx_nl_link *l = ctx;
	const struct ifinfomsg *ifi = NLMSG_DATA(nh);

	if (nh->nlmsg_type != RTM_NEWLINK ||
	    nh->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)))
		return 0;
	memset(l, 0, sizeof(*l));
	l->ifindex = ifi->ifi_index;
	l->flags = ifi->ifi_flags;
	return attrs_walk(IFLA_RTA(ifi), IFLA_PAYLOAD(nh), link_attr, l);
}

int wgx_nl_link_get(struct wgx_nl *nl, int ifindex, const char *name,
		    struct wgx_nl_link *out)
{
	struct nl_req req;
	struct ifinfomsg *ifi =
		req_init(&req, RTM_GETLINK, NLM_F_ACK, sizeof(*ifi));
	int r;

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	if (!ifindex) {
		if (!name || strnlen(name, IFNAMSIZ) >= IFNAMSIZ)
			return -ENODEV;
		r = attr_put(&req, IFLA_IFNAME, name, strlen(name) + 1);
		if (r < 0)
			return r;
	}
	memset(out, 0, sizeof(*out));
	r = nl_talk(nl, &req, link_parse, out);
	if (!r && !out->ifindex)
		r = -ENODEV;
	return r;
}

static int link_change(struct wgx_nl *nl, int ifindex, uint32_t change,
		       uint32_t flags, int attr, uint32_t value)
{
	struct nl_req req;
	struct ifinfomsg *ifi =
		req_init(&req, RTM_NEWLINK, NLM_F_ACK, sizeof(*ifi));
	int r;

	if (ifindex <= 0)
		return -ENODEV;
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	ifi->ifi_change = change;
	ifi->ifi_flags = flags;
	if (attr) {
		r = attr_put_u32(&req, (uint16_t)attr, value);
		if (r < 0)
			return r;
	}
	return nl_talk(nl, &req, NULL, NULL);
}

int wgx_nl_link_set_mtu(struct wgx_nl *nl, int ifindex, uint32_t mtu)
{
	return link_change(nl, ifindex, 0, 0, IFLA_MTU, mtu);
}

int wgx_nl_link_set_up(struct wgx_nl *nl, int ifindex, bool up)
{
	return link_change(nl, ifindex, IFF_UP, up ? IFF_UP : 0, 0, 0);
}

int wgx_nl_link_del(struct wgx_nl *nl, int ifindex)
{
	struct nl_req req;
	struct ifinfomsg *ifi =
		req_init(&req, RTM_DELLINK, NLM_F_ACK, sizeof(*ifi));

	if (ifindex <= 0)
		return -ENODEV;
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	return nl_talk(nl, &req, NULL, NULL);
}

/* ---- addresses ---- */

static int addr_request(struct wgx_nl *nl, uint16_t type, uint16_t flags,
			const struct wgx_nl_addr *a)
{
	size_t len = addr_len(a->family);
	struct nl_req req;
	struct ifaddrmsg *ifa =
		req_init(&req, type, NLM_F_ACK | flags, sizeof(*ifa));
	int r;

	if (!len || a->prefix > len * 8)
		return -EINVAL;
	if (a->ifindex <= 0)
		return -ENODEV;
	ifa->ifa_family = a->family;
	ifa->ifa_prefixlen = a->prefix;
	ifa->ifa_index = (uint32_t)a->ifindex;
	if (type == RTM_NEWADDR && a->family == AF_INET6)
		ifa->ifa_flags = IFA_F_NODAD;
	/* IFA_LOCAL is the address itself; IFA_ADDRESS the peer, here the
	 * same, as `ip address add` sends for a non point-to-point address. */
	r = attr_put(&req, IFA_LOCAL, a->addr, len);
	if (!r)
		r = attr_put(&req, IFA_ADDRESS, a->addr, len);
	return r < 0 ? r : nl_talk(nl, &req, NULL, NULL);
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
	bool have_local, have_address;
	uint8_t local[16], address[16];
};

static int addr_attr(const struct rtattr *rta, void *ctx)
{
	struct addr_parsed *p = ctx;
	size_t len = addr_len(p->a.family);

	switch (rta->rta_type) {
	case IFA_LOCAL:
	case IFA_ADDRESS:
		if (RTA_PAYLOAD(rta) != len)
			return -EBADMSG;
		if (rta->rta_type == IFA_LOCAL) {
			memcpy(p->local, RTA_DATA(rta), len);
			p->have_local = true;
		} else {
			memcpy(p->address, RTA_DATA(rta), len);
			p->have_address = true;
		}
		break;
	case IFA_FLAGS:
		/* The full 32-bit flags; ifa_flags holds only the low 8. */
		if (RTA_PAYLOAD(rta) >= 4)
			memcpy(&p->a.flags, RTA_DATA(rta), 4);
		break;
	}
	return 0;
}

/*
 * One RTM_NEWADDR/RTM_DELADDR into out: 1 when it is an IPv4/IPv6 address,
 * 0 when it is something else to skip, -EBADMSG when malformed.
 */
static int addr_from_msg(const struct nlmsghdr *nh, struct wgx_nl_addr *out)
{
	const struct ifaddrmsg *ifa = NLMSG_DATA(nh);
	struct addr_parsed p;
	int r;

	if (nh->nlmsg_type != RTM_NEWADDR && nh->nlmsg_type != RTM_DELADDR)
		return 0;
	if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(*ifa)))
		return -EBADMSG;
	if (!addr_len(ifa->ifa_family))
		return 0;
	memset(&p, 0, sizeof(p));
	p.a.ifindex = (int)ifa->ifa_index;
	p.a.family = ifa->ifa_family;
	p.a.prefix = ifa->ifa_prefixlen;
	p.a.scope = ifa->ifa_scope;
	p.a.flags = ifa->ifa_flags;
	r = attrs_walk(IFA_RTA(ifa), IFA_PAYLOAD(nh), addr_attr, &p);
	if (r < 0)
		return r;
	/* On a point-to-point link IFA_ADDRESS is the peer: prefer LOCAL. */
	if (p.have_local)
		memcpy(p.a.addr, p.local, sizeof(p.a.addr));
	else if (p.have_address)
		memcpy(p.a.addr, p.address, sizeof(p.a.addr));
	else
		return -EBADMSG;
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
	struct addr_list_ctx c = { ifindex, family, out, max, 0 };
	struct nl_req req;
	struct ifaddrmsg *ifa =
		req_init(&req, RTM_GETADDR, NLM_F_DUMP, sizeof(*ifa));
	int r;

	if (family != AF_UNSPEC && !addr_len((uint8_t)family))
		return -EAFNOSUPPORT;
	ifa->ifa_family = (uint8_t)family;
	r = nl_dump(nl, &req, addr_list_parse, &c, addr_list_reset);
	return r < 0 ? r : (int)c.count;
}

/* ---- routes ---- */

static uint32_t route_table(const struct wgx_nl_route *r)
{
	return r->table ? r->table : RT_TABLE_MAIN;
}

/* dst with the bits beyond the prefix cleared, as the kernel requires. */
static void route_dst(const struct wgx_nl_route *r, uint8_t dst[16])
{
	memcpy(dst, r->dst, 16);
	for (unsigned int bit = r->prefix; bit < 128; bit++)
		dst[bit / 8] &= (uint8_t) ~(0x80u >> (bit % 8));
}

static int route_request(struct wgx_nl *nl, uint16_t type, uint16_t flags,
			 const struct wgx_nl_route *r)
{
	size_t len = addr_len(r->family);
	uint32_t table = route_table(r);
	struct nl_req req;
	struct rtmsg *rtm =
		req_init(&req, type, NLM_F_ACK | flags, sizeof(*rtm));
	uint8_t dst[16];
	int err = 0;

	if (!len || r->prefix > len * 8)
		return -EINVAL;
	if (r->ifindex <= 0)
		return -ENODEV;
	rtm->rtm_family = r->family;
	rtm->rtm_dst_len = r->prefix;
	/* Tables past 255 only fit in RTA_TABLE; send it always. */
	rtm->rtm_table = table < 256 ? (uint8_t)table : RT_TABLE_UNSPEC;
	rtm->rtm_type = RTN_UNICAST;
	if (type == RTM_NEWROUTE) {
		/* What `ip route add P dev D` sends: a link-scope route. */
		rtm->rtm_protocol = RTPROT_BOOT;
		rtm->rtm_scope = RT_SCOPE_LINK;
	} else {
		/* Wildcards: delete whatever protocol and scope it has. */
		rtm->rtm_protocol = RTPROT_UNSPEC;
		rtm->rtm_scope = RT_SCOPE_NOWHERE;
	}
	route_dst(r, dst);
	if (r->prefix)
		err = attr_put(&req, RTA_DST, dst, len);
	if (!err)
		err = attr_put_u32(&req, RTA_OIF, (uint32_t)r->ifindex);
	if (!err)
		err = attr_put_u32(&req, RTA_TABLE, table);
	if (!err && r->metric)
		err = attr_put_u32(&req, RTA_PRIORITY, r->metric);
	return err < 0 ? err : nl_talk(nl, &req, NULL, NULL);
}

int wgx_nl_route_add(struct wgx_nl *nl, const struct wgx_nl_route *r,
		     enum wgx_nl_route_mode mode)
{
	uint16_t flags = NLM_F_CREATE;

	flags |= mode == WGX_NL_ROUTE_REPLACE ? NLM_F_REPLACE : NLM_F_EXCL;
	return route_request(nl, RTM_NEWROUTE, flags, r);
}

int wgx_nl_route_del(struct wgx_nl *nl, const struct wgx_nl_route *r)
{
	return route_request(nl, RTM_DELROUTE, 0, r);
}

struct route_list_ctx {
	int family;
	uint32_t table;
	struct wgx_nl_route *out;
	size_t max, count;
};

static int route_attr(const struct rtattr *rta, void *ctx)
{
	struct wgx_nl_route *r = ctx;
	size_t n = RTA_PAYLOAD(rta);

	switch (rta->rta_type) {
	case RTA_DST:
		if (n != addr_len(r->family))
			return -EBADMSG;
		memcpy(r->dst, RTA_DATA(rta), n);
		break;
	case RTA_OIF:
		if (n >= 4)
			memcpy(&r->ifindex, RTA_DATA(rta), 4);
		break;
	case RTA_TABLE:
		if (n >= 4)
			memcpy(&r->table, RTA_DATA(rta), 4);
		break;
	case RTA_PRIORITY:
		if (n >= 4)
			memcpy(&r->metric, RTA_DATA(rta), 4);
		break;
	}
	return 0;
}

static void route_list_reset(void *ctx)
{
	((struct route_list_ctx *)ctx)->count = 0;
}

static int route_list_parse(const struct nlmsghdr *nh, void *ctx)
{
	struct route_list_ctx *c = ctx;
	const struct rtmsg *rtm = NLMSG_DATA(nh);
	struct wgx_nl_route r;
	int err;

	if (nh->nlmsg_type != RTM_NEWROUTE)
		return 0;
	if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(*rtm)))
		return -EBADMSG;
	if (!addr_len(rtm->rtm_family) || rtm->rtm_type != RTN_UNICAST ||
	    (c->family != AF_UNSPEC && rtm->rtm_family != c->family))
		return 0;
	memset(&r, 0, sizeof(r));
	r.family = rtm->rtm_family;
	r.prefix = rtm->rtm_dst_len;
	r.table = rtm->rtm_table;
	err = attrs_walk(RTM_RTA(rtm), RTM_PAYLOAD(nh), route_attr, &r);
	if (err < 0 || r.table != c->table)
		return err;
	if (c->count < c->max)
		c->out[c->count] = r;
	c->count++;
	return 0;
}

int wgx_nl_route_list(struct wgx_nl *nl, int family, uint32_t table,
		      struct wgx_nl_route *out, size_t max)
{
	struct route_list_ctx c = { family, table ? table : RT_TABLE_MAIN, out,
				    max, 0 };
	struct nl_req req;
	struct rtmsg *rtm =
		req_init(&req, RTM_GETROUTE, NLM_F_DUMP, sizeof(*rtm));
	int r;

	if (family != AF_UNSPEC && !addr_len((uint8_t)family))
		return -EAFNOSUPPORT;
	rtm->rtm_family = (uint8_t)family;
	r = nl_dump(nl, &req, route_list_parse, &c, route_list_reset);
	return r < 0 ? r : (int)c.count;
}

/* ---- address events ---- */

int wgx_nl_addr_watch_open(void)
{
	struct sockaddr_nl sa = {
		.nl_family = AF_NETLINK,
		.nl_groups = RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR,
	};
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
			NETLINK_ROUTE);

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	return fd;
}

int wgx_nl_addr_parse(const void *buf, size_t len, wgx_nl_addr_cb cb, void *ctx)
{
	const struct nlmsghdr *nh = buf;
	/* Signed, as in attrs_walk: a cut last message ends the loop. */
	int left = len > INT32_MAX ? INT32_MAX : (int)len;
	int events = 0;

	for (; NLMSG_OK(nh, left); nh = NLMSG_NEXT(nh, left)) {
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
