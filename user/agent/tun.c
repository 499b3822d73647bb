// SPDX-License-Identifier: MIT
/*
 * TUN creation: classify whatever holds the name through netlink, then
 * open the queues with TUNSETIFF. The first queue uses IFF_TUN_EXCL so a
 * device that appears between the probe and the ioctl is refused, never
 * silently joined.
 */
#include "agent/tun.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "util/ifname.h"
#include "agent/netlink.h"

static enum wgx_tun_state link_state(const struct wgx_nl_link *l)
{
	bool attached;

	if (strcmp(l->kind, "tun"))
		return WGX_TUN_FOREIGN;
	/* Kernels before 4.19 gave no details; /sys is no help in another
	 * namespace, so call it busy: never delete what we cannot read. */
	if (!l->tun.present)
		return WGX_TUN_BUSY;
	if (l->tun.type != IFF_TUN)
		return WGX_TUN_FOREIGN;
	/* Queue counts exist for multi-queue only; a single-queue TUN has
	 * carrier exactly while its fd is attached. */
	if (l->tun.multi_queue)
		attached = l->tun.queues + l->tun.disabled_queues > 0;
	else
		attached = l->carrier;
	return attached ? WGX_TUN_BUSY : WGX_TUN_STALE;
}

/* Probe on an open handle; also returns the link's ifindex in *ifindex. */
static int probe(struct wgx_nl *nl, const char *name, enum wgx_tun_state *state,
		 int *ifindex)
{
	struct wgx_nl_link l;
	int r = wgx_nl_link_get(nl, 0, name, &l);

	*ifindex = 0;
	if (r == -ENODEV) {
		*state = WGX_TUN_ABSENT;
		return 0;
	}
	if (r < 0)
		return r;
	*state = link_state(&l);
	*ifindex = l.ifindex;
	return 0;
}

int wgx_tun_probe(const char *name, enum wgx_tun_state *state)
{
	struct wgx_nl nl;
	int ifindex, r;

	if (wgx_ifname_check(name, NULL) < 0)
		return -EINVAL;
	r = wgx_nl_open(&nl);
	if (r < 0)
		return r;
	r = probe(&nl, name, state, &ifindex);
	wgx_nl_close(&nl);
	return r;
}

const char *wgx_tun_state_name(enum wgx_tun_state state)
{
	switch (state) {
	case WGX_TUN_ABSENT:
		return "absent";
	case WGX_TUN_STALE:
		return "stale TUN (no process attached)";
	case WGX_TUN_BUSY:
		return "TUN in use";
	case WGX_TUN_FOREIGN:
		return "not a TUN";
	}
	return "?";
}

bool wgx_tun_exists(const char *name)
{
	return wgx_nl_link_exists(name);
}

int wgx_tun_is_tun(const char *name)
{
	struct wgx_nl nl;
	struct wgx_nl_link l;
	int r;

	if (wgx_ifname_check(name, NULL) < 0)
		return -ENODEV;
	r = wgx_nl_open(&nl);
	if (r < 0)
		return r;
	r = wgx_nl_link_get(&nl, 0, name, &l);
	wgx_nl_close(&nl);
	if (r < 0)
		return r;
	return !strcmp(l.kind, "tun") &&
	       (!l.tun.present || l.tun.type == IFF_TUN);
}

int wgx_tun_delete(const char *name)
{
	struct wgx_nl nl;
	struct wgx_nl_link l;
	int r;

	if (wgx_ifname_check(name, NULL) < 0)
		return -ENODEV;
	r = wgx_nl_open(&nl);
	if (r < 0)
		return r;
	r = wgx_nl_link_get(&nl, 0, name, &l);
	if (!r && strcmp(l.kind, "tun"))
		r = -EMEDIUMTYPE;
	if (!r)
		r = wgx_nl_link_del(&nl, l.ifindex);
	wgx_nl_close(&nl);
	return r;
}

/* One queue fd attached to name. */
static int queue_open(const char *name, unsigned int flags)
{
	struct ifreq ifr;
	int fd, r;

	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, name, strlen(name));
	/* A 16-bit field: IFF_TUN_EXCL is its top bit. */
	ifr.ifr_flags = (short)(uint16_t)flags;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

/* Make the name free for us, or say why it is not. */
static int claim_name(struct wgx_tun *t, const char *name, unsigned int flags)
{
	enum wgx_tun_state state;
	struct wgx_nl nl;
	int ifindex, r;

	r = wgx_nl_open(&nl);
	if (r < 0)
		return r;
	r = probe(&nl, name, &state, &ifindex);
	if (r < 0)
		goto out;
	switch (state) {
	case WGX_TUN_ABSENT:
		break;
	case WGX_TUN_STALE:
		if (!(flags & WGX_TUN_RECLAIM)) {
			r = -EEXIST;
			break;
		}
		r = wgx_nl_link_del(&nl, ifindex);
		/* Gone already (someone else removed it): fine too. */
		if (r == -ENODEV)
			r = 0;
		t->reclaimed = !r;
		break;
	case WGX_TUN_BUSY:
		r = -EBUSY;
		break;
	case WGX_TUN_FOREIGN:
		r = -EEXIST;
		break;
	}
out:
	wgx_nl_close(&nl);
	return r;
}

#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#define TUN_F_USO6 0x40
#endif

/* Little-endian headers, then the offloads: with USO, else without. */
static int set_offloads(struct wgx_tun *t)
{
	static const unsigned int tries[] = {
		TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN |
			TUN_F_USO4 | TUN_F_USO6,
		TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN,
	};
	int le = 1, err = -EINVAL;

	for (unsigned int q = 0; q < t->queues; q++)
		if (ioctl(t->fds[q], TUNSETVNETLE, &le) < 0)
			return -errno;
	for (size_t i = 0; i < sizeof(tries) / sizeof(tries[0]); i++) {
		/* Offloads are the device's: one queue sets them for all. */
		if (ioctl(t->fds[0], TUNSETOFFLOAD, tries[i]) == 0) {
			t->offloads = tries[i];
			t->vnet_hdr = true;
			return 0;
		}
		err = -errno;
	}
	return err;
}

static int open_queues(struct wgx_tun *t, unsigned int flags)
{
	unsigned int tflags = IFF_TUN | IFF_NO_PI;

	if (t->queues > 1 || (flags & WGX_TUN_MULTI_QUEUE))
		tflags |= IFF_MULTI_QUEUE;
	if (flags & WGX_TUN_VNET_HDR)
		tflags |= IFF_VNET_HDR;
	for (unsigned int q = 0; q < t->queues; q++) {
		int fd =
			queue_open(t->name, q ? tflags : tflags | IFF_TUN_EXCL);

		/* EXCL failing means someone took the name since the probe. */
		if (!q && fd == -EBUSY)
			fd = -EEXIST;
		if (fd < 0)
			return fd;
		t->fds[q] = fd;
	}
	return (flags & WGX_TUN_VNET_HDR) ? set_offloads(t) : 0;
}

int wgx_tun_create(struct wgx_tun *t, const char *name, unsigned int queues,
		   unsigned int flags)
{
	int r;

	memset(t, 0, sizeof(*t));
	if (wgx_ifname_check(name, NULL) < 0 || !queues ||
	    queues > WGX_TUN_MAX_QUEUES)
		return -EINVAL;
	memcpy(t->name, name, strlen(name) + 1);
	t->fds = malloc(queues * sizeof(*t->fds));
	if (!t->fds)
		return -ENOMEM;
	for (unsigned int q = 0; q < queues; q++)
		t->fds[q] = -1;
	t->queues = queues;
	r = claim_name(t, name, flags);
	if (!r)
		r = open_queues(t, flags);
	if (!r) {
		t->ifindex = wgx_nl_link_index(name);
		r = t->ifindex < 0 ? t->ifindex : 0;
	}
	if (r < 0)
		wgx_tun_close(t);
	return r;
}

void wgx_tun_close(struct wgx_tun *t)
{
	for (unsigned int q = 0; t->fds && q < t->queues; q++)
		if (t->fds[q] >= 0)
			close(t->fds[q]);
	free(t->fds);
	t->fds = NULL;
	t->queues = 0;
	t->ifindex = 0;
	t->vnet_hdr = false;
	t->offloads = 0;
}
