/* SPDX-License-Identifier: MIT */
/*
 * A small rtnetlink client on libmnl: the links, addresses and routes that
 * `ip link`, `ip address` and `ip route` (and so wg-quick) manage, plus a
 * watch on address changes.
 *
 * Every call waits for the kernel's answer, so each returns 0 or the
 * kernel's own -errno (-EEXIST, -ESRCH, -ENODEV, -EINVAL, ...); when the
 * kernel explains a failure (extended ACK) the text is left in nl->err_msg
 * for the caller's message. Route changes also come in batches: many
 * requests per sendmsg, each result reported. A handle is not thread-safe:
 * one per thread, or one owner (the agent).
 *
 * Addresses are raw bytes in network order: 4 for AF_INET, 16 for AF_INET6.
 */
#ifndef WGX_NETLINK_H
#define WGX_NETLINK_H

#include <linux/netlink.h>
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mnl_socket;

struct wgx_nl {
	struct mnl_socket *sock; /* NULL: not open */
	uint32_t portid;
	uint32_t seq;
	char *buf; /* answers */
	char *tx;  /* a batch of requests */
	/* The kernel's explanation of the last failure, "" when none. */
	char err_msg[128];
};

/* What the kernel reports about a TUN/TAP device (IFLA_INFO_DATA). */
struct wgx_nl_tun_info {
	bool present;
	uint8_t type; /* IFF_TUN or IFF_TAP */
	bool pi, vnet_hdr, persist, multi_queue;
	/* Attached and detached queue fds; reported for multi-queue only. */
	uint32_t queues, disabled_queues;
};

struct wgx_nl_link {
	int ifindex;
	char name[IFNAMSIZ];
	uint32_t mtu;
	uint32_t flags; /* IFF_UP, IFF_RUNNING, IFF_POINTOPOINT, ... */
	/* A TUN has carrier exactly while a process has a queue attached. */
	bool carrier;
	char kind[16]; /* IFLA_INFO_KIND: "tun", "veth", "dummy"; "" if none */
	struct wgx_nl_tun_info tun;
};

struct wgx_nl_addr {
	int ifindex;
	uint8_t family; /* AF_INET or AF_INET6 */
	uint8_t prefix;
	uint8_t scope;	/* RT_SCOPE_*; filled in by listing and events */
	uint32_t flags; /* IFA_F_*; filled in by listing and events */
	uint8_t addr[16];
};

struct wgx_nl_route {
	uint8_t family;
	uint8_t prefix;
	uint8_t dst[16]; /* host bits are cleared before use */
	int ifindex;	 /* the route's device (RTA_OIF) */
	uint32_t table;	 /* 0 means main (RT_TABLE_MAIN, 254) */
	/*
	 * RTA_PRIORITY; 0 leaves the kernel default (IPv4 0, IPv6 1024). When
	 * deleting, 0 matches any metric.
	 */
	uint32_t metric;
	/*
	 * RTPROT_*: 0 adds RTPROT_BOOT (what `ip route add` gives) and, when
	 * deleting, matches any protocol, like metric.
	 */
	uint8_t protocol;
	uint8_t type; /* RTN_*, filled in by listing; adds are RTN_UNICAST */
};

/*
 * WGX_NL_ROUTE_ADD is `ip route add` (what wg-quick runs): NLM_F_EXCL, so an
 * existing route to the same prefix, table and metric fails with -EEXIST
 * and is left alone; the caller can say "route already exists".
 * WGX_NL_ROUTE_REPLACE is `ip route replace`: it takes over an existing
 * route (another device's included) or creates one.
 */
enum wgx_nl_route_mode {
	WGX_NL_ROUTE_ADD,
	WGX_NL_ROUTE_REPLACE,
};

int wgx_nl_open(struct wgx_nl *nl);
void wgx_nl_close(struct wgx_nl *nl);

/* Links. An index is > 0; a missing (or impossible) name is -ENODEV. */
int wgx_nl_link_index(const char *name);
bool wgx_nl_link_exists(const char *name);
/* Look up by ifindex, or by name when ifindex is 0. */
int wgx_nl_link_get(struct wgx_nl *nl, int ifindex, const char *name,
		    struct wgx_nl_link *out);
int wgx_nl_link_set_mtu(struct wgx_nl *nl, int ifindex, uint32_t mtu);
/*
 * Taking a link down makes the kernel drop its IPv6 addresses (unless
 * net.ipv6.conf.<dev>.keep_addr_on_down): add them after the last down.
 */
int wgx_nl_link_set_up(struct wgx_nl *nl, int ifindex, bool up);
int wgx_nl_link_del(struct wgx_nl *nl, int ifindex);

/*
 * Addresses (a->ifindex, family, prefix, addr; scope and flags are ignored).
 * Adding fails with -EEXIST when the address is already there. IPv6
 * addresses are added with IFA_F_NODAD: without it a new address is
 * "tentative" until Duplicate Address Detection ends (about a second, never
 * if an echoed probe makes DAD fail), and a tentative address cannot be
 * bound (EADDRNOTAVAIL) nor used as a source, so the tunnel would come up
 * unusable for a while. A tunnel address has no neighbours on its link to
 * collide with. (The kernel already skips DAD on NOARP devices such as a
 * TUN; the flag makes that a guarantee on any device.)
 */
int wgx_nl_addr_add(struct wgx_nl *nl, const struct wgx_nl_addr *a);
int wgx_nl_addr_del(struct wgx_nl *nl, const struct wgx_nl_addr *a);
/*
 * The addresses of ifindex (0: every interface) of family (AF_UNSPEC: both).
 * Fills up to max entries and returns how many exist, so a result > max
 * means "call again with more room"; or -errno.
 */
int wgx_nl_addr_list(struct wgx_nl *nl, int ifindex, int family,
		     struct wgx_nl_addr *out, size_t max);

/*
 * Device routes, as `ip route add PREFIX dev DEV [table T] [metric M]`
 * (protocol boot, scope link). Note the kernel's own prefix route for an
 * address (10.0.0.1/24 -> 10.0.0.0/24) makes adding that IPv4 prefix
 * -EEXIST, while for IPv6 it has metric 256 and a plain add (1024) succeeds
 * beside it; wg-quick skips any prefix already routed through the device.
 * A prefix of 0 is a default route; wg-quick's fwmark handling of /0 is the
 * caller's business.
 */
int wgx_nl_route_add(struct wgx_nl *nl, const struct wgx_nl_route *r,
		     enum wgx_nl_route_mode mode);
/* -ESRCH when no such route exists. */
int wgx_nl_route_del(struct wgx_nl *nl, const struct wgx_nl_route *r);
/*
 * Unicast routes of family (AF_UNSPEC: both) in table (0: main), with the
 * same return convention as wgx_nl_addr_list. Multipath routes show with
 * ifindex 0.
 */
int wgx_nl_route_list(struct wgx_nl *nl, int family, uint32_t table,
		      struct wgx_nl_route *out, size_t max);
/*
 * Every route of family (AF_UNSPEC: both) in table (0: main) whose device
 * is ifindex (0: any), whatever its type, one cb call each; a negative
 * return from cb becomes the result once the dump is read to its end. The
 * kernel filters by table and device where it can (NETLINK_GET_STRICT_CHK,
 * Linux 4.20), so a big table elsewhere costs little. -EINTR: the routes
 * changed during the dump and cb saw an inconsistent set; start over.
 */
typedef int (*wgx_nl_route_cb)(void *ctx, const struct wgx_nl_route *r);
int wgx_nl_route_dump(struct wgx_nl *nl, int family, uint32_t table,
		      int ifindex, wgx_nl_route_cb cb, void *ctx);
/*
 * n adds or deletes, as wgx_nl_route_add and wgx_nl_route_del do one, sent
 * 64 to a sendmsg; only the last of each batch asks for an ack, the others
 * answer when they fail. err[i] gets route i's own result. Returns 0 once
 * every batch is answered, or -errno when an exchange itself failed (its
 * requests without an answer then have that error too: they may or may
 * not have been applied).
 */
int wgx_nl_route_add_batch(struct wgx_nl *nl, const struct wgx_nl_route *r,
			   size_t n, enum wgx_nl_route_mode mode, int *err);
int wgx_nl_route_del_batch(struct wgx_nl *nl, const struct wgx_nl_route *r,
			   size_t n, int *err);

/*
 * Address changes. wgx_nl_addr_watch_open returns a non-blocking,
 * close-on-exec fd subscribed to IPv4 and IPv6 address events, for the
 * caller's epoll; the caller closes it. wgx_nl_addr_watch_read drains it,
 * calling cb once per added or removed address, and returns the number of
 * events (0 when nothing was pending) or -errno. -ENOBUFS means the kernel
 * dropped events because the socket overflowed: take a fresh
 * wgx_nl_addr_list, then keep reading.
 */
typedef void (*wgx_nl_addr_cb)(void *ctx, bool added,
			       const struct wgx_nl_addr *a);
int wgx_nl_addr_watch_open(void);
int wgx_nl_addr_watch_read(int fd, wgx_nl_addr_cb cb, void *ctx);
/*
 * Parse one received datagram: cb for each RTM_NEWADDR/RTM_DELADDR inside,
 * other messages skipped. Returns the number of events or -EBADMSG.
 */
int wgx_nl_addr_parse(const void *buf, size_t len, wgx_nl_addr_cb cb,
		      void *ctx);

/*
 * Policy routing rules, as `ip rule` makes them, for wg-quick's handling
 * of a /0 AllowedIPs (Table = auto): `ip rule add not fwmark M table M`
 * (fwmark M, invert, table M) and `ip rule add table main
 * suppress_prefixlength 0` (table 254, suppress_prefixlen 0). Adding
 * fails with -EEXIST when the same rule is there; deleting one that is
 * not there fails with -ENOENT.
 */
struct wgx_nl_rule {
	uint8_t family;	 /* AF_INET or AF_INET6 */
	uint32_t table;	 /* 0 means main */
	uint32_t fwmark; /* 0: none */
	bool invert; /* "not": the rule matches what the selector does not */
	int suppress_len; /* suppress_prefixlength; -1: none */
};
int wgx_nl_rule_add(struct wgx_nl *nl, const struct wgx_nl_rule *r);
int wgx_nl_rule_del(struct wgx_nl *nl, const struct wgx_nl_rule *r);
/*
 * Rules of family that match r exactly (table, fwmark, invert,
 * suppress_len): how many, or -errno.
 */
int wgx_nl_rule_count(struct wgx_nl *nl, const struct wgx_nl_rule *r);
int wgx_nl_rule_msg(void *buf, size_t size, uint16_t type, uint16_t flags,
		    const struct wgx_nl_rule *r);

/*
 * Link changes: a non-blocking, close-on-exec fd subscribed to link
 * events (RTM_NEWLINK, RTM_DELLINK) of the caller's network namespace,
 * for the caller's epoll; the caller closes it and drains it with
 * wgx_nl_watch_drain(), which returns the datagrams read (0: none
 * pending) or -errno.
 */
int wgx_nl_link_watch_open(void);
int wgx_nl_watch_drain(int fd);

/*
 * The framing underneath, for tests. wgx_nl_route_msg builds an
 * RTM_NEWROUTE or RTM_DELROUTE request (flags beside NLM_F_REQUEST and
 * NLM_F_ACK) in buf: its length, or -EINVAL, -ENODEV, -EMSGSIZE.
 * wgx_nl_route_parse and wgx_nl_link_parse read one RTM_NEWROUTE or
 * RTM_NEWLINK: 1 when out is filled, 0 for a message to skip (another
 * type or family), -EBADMSG. wgx_nl_ack_parse gives the result an
 * NLMSG_ERROR or NLMSG_DONE carries (0, -errno or -EBADMSG) and copies the
 * kernel's explanation, if any, into msg ("" otherwise).
 */
int wgx_nl_route_msg(void *buf, size_t size, uint16_t type, uint16_t flags,
		     const struct wgx_nl_route *r);
int wgx_nl_route_parse(const struct nlmsghdr *nh, struct wgx_nl_route *out);
int wgx_nl_link_parse(const struct nlmsghdr *nh, struct wgx_nl_link *out);
int wgx_nl_ack_parse(const struct nlmsghdr *nh, char *msg, size_t size);

#endif
