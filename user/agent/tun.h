/* SPDX-License-Identifier: MIT */
/*
 * The TUN device the tunnel's inner packets go through: IFF_TUN (layer 3,
 * no Ethernet header) with IFF_NO_PI (every read and write is exactly one
 * IP packet), one non-blocking, close-on-exec fd per queue so each worker
 * owns one. Several queues use IFF_MULTI_QUEUE: the kernel spreads
 * outgoing flows over the queues.
 *
 * The device is not persistent: the kernel removes it when the last queue
 * fd is closed, so an instance that exits or crashes takes its TUN (with
 * its addresses and routes) along. A leftover TUN of the same name is then
 * either persistent with no process attached (made by `ip tuntap add`, or by
 * a tool that set TUNSETPERSIST): "stale", which create can reclaim; or held
 * by a live process: "busy", never touched.
 *
 * Addresses, MTU, routes and up/down are set through netlink.h with
 * t->ifindex.
 */
#ifndef WGX_TUN_H
#define WGX_TUN_H

#include <net/if.h>
#include <stdbool.h>

enum {
	/* The kernel's limit on queues per TUN (MAX_TAP_QUEUES). */
	WGX_TUN_MAX_QUEUES = 256,
};

enum wgx_tun_flag {
	/* Multi-queue even with one queue. More than one implies it. */
	WGX_TUN_MULTI_QUEUE = 1 << 0,
	/* Delete a stale TUN of the same name first (t->reclaimed says so). */
	WGX_TUN_RECLAIM = 1 << 1,
	/*
	 * IFF_VNET_HDR: every read and write starts with a struct
	 * virtio_net_hdr (10 bytes, little-endian: TUNSETVNETLE), and the
	 * offloads in t->offloads are on (TUNSETOFFLOAD), so a read may
	 * return a 64 KiB TCP or UDP super-packet to cut (gso.h). Asks for
	 * TUN_F_CSUM | TSO4 | TSO6 | TSO_ECN and USO4 | USO6 where the
	 * kernel has them (6.2 on); a kernel refusing all of them fails the
	 * create (-EINVAL) so the caller can go without.
	 */
	WGX_TUN_VNET_HDR = 1 << 2,
};

enum wgx_tun_state {
	WGX_TUN_ABSENT,	 /* no interface has the name */
	WGX_TUN_STALE,	 /* a TUN with no queue attached (persistent) */
	WGX_TUN_BUSY,	 /* a TUN some process has a queue fd of */
	WGX_TUN_FOREIGN, /* not a TUN: another kind, or a TAP */
};

struct wgx_tun {
	char name[IFNAMSIZ];
	int ifindex;
	unsigned int queues;
	int *fds;	       /* queues fds, index = queue */
	bool reclaimed;	       /* create deleted a stale TUN of this name */
	bool vnet_hdr;	       /* WGX_TUN_VNET_HDR is on */
	unsigned int offloads; /* TUN_F_* the kernel accepted */
};

/*
 * Create TUN name with queues queue fds (1..WGX_TUN_MAX_QUEUES). Errors:
 * -EINVAL bad name or count, -EEXIST an interface of that name exists and
 * is not a TUN we may take (another kind, a TAP, or a stale TUN without
 * WGX_TUN_RECLAIM), -EBUSY a TUN of that name is in use; other -errno
 * from the kernel (-EPERM without CAP_NET_ADMIN, -ENOENT without
 * /dev/net/tun, -EINVAL for WGX_TUN_VNET_HDR it cannot do).
 */
int wgx_tun_create(struct wgx_tun *t, const char *name, unsigned int queues,
		   unsigned int flags);
/* Close every queue fd; the kernel then removes the device. */
void wgx_tun_close(struct wgx_tun *t);

/*
 * Classify the interface called name, from netlink (so it works in any
 * network namespace, whatever /sys is mounted). 0 or -errno.
 */
int wgx_tun_probe(const char *name, enum wgx_tun_state *state);
const char *wgx_tun_state_name(enum wgx_tun_state state);
/* An interface of any kind has this name. */
bool wgx_tun_exists(const char *name);
/* 1 when name is a TUN (not a TAP), 0 when another kind, -ENODEV if none. */
int wgx_tun_is_tun(const char *name);
/*
 * Delete the TUN called name, attached or not: -ENODEV when absent,
 * -EMEDIUMTYPE when the interface is not a TUN (it is left alone).
 */
int wgx_tun_delete(const char *name);

#endif
