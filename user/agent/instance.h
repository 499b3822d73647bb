/* SPDX-License-Identifier: MIT */
/*
 * One running tunnel = one instance, named after its TUN interface. Its
 * runtime files live in /run/wgxdp, which `ip netns exec` shares between
 * namespaces, so every path carries the TUN name:
 *
 *   <TUN>.pid   the daemon's pid, then "iface=<IFACE>" and
 *               "netns=<dev>:<ino>"; locked (an OFD write lock) for the
 *               daemon's whole life, so "live" means "locked", whatever
 *               pid numbers have been reused since
 *   <TUN>.sock  the control socket (control.h), mode 0600
 *
 * A pidfile nobody holds locked is stale (crash, kill -9): the next claim
 * of that TUN, or wgx_instance_reap(), removes it and its socket and says
 * so. Claims, reaps and releases serialise on a flock of the directory, so
 * they never race each other's unlink and create.
 *
 * The CLI finds instances through their control sockets: it asks each one
 * "identity" and keeps those whose network namespace (st_dev and st_ino of
 * /proc/self/ns/net) is its own, so an instance on "eth0" in another
 * namespace is never taken for the one on this namespace's "eth0".
 */
#ifndef WGX_INSTANCE_H
#define WGX_INSTANCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/un.h>

#include "agent/control.h"

#define WGX_INSTANCE_RUNDIR "/run/wgxdp"

enum {
	WGX_INSTANCE_NAME_MAX = 16, /* IFNAMSIZ: 15 characters and the NUL */
	/* How long discovery waits for one instance to say who it is. */
	WGX_INSTANCE_PROBE_MS = 2000,
	/* How long a claim or reap waits for the directory lock. */
	WGX_INSTANCE_LOCK_MS = 3000,
};

enum wgx_instance_state {
	WGX_INSTANCE_ABSENT, /* no pidfile */
	WGX_INSTANCE_STALE,  /* a pidfile nobody holds */
	WGX_INSTANCE_LIVE,   /* a pidfile locked by a running daemon */
};

/* A network namespace, as the kernel identifies it. */
struct wgx_netns {
	uint64_t dev;
	uint64_t ino;
};

/* Who an instance is, as its identity answer or its pidfile says. */
struct wgx_instance_info {
	char tun[WGX_INSTANCE_NAME_MAX];
	char iface[WGX_INSTANCE_NAME_MAX];
	struct wgx_netns netns;
	pid_t pid;
	/* Where to send control requests (wgx_control_call). */
	char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

/* The daemon's hold on its runtime files. */
struct wgx_instance {
	struct wgx_instance_info info;
	int pid_fd; /* holds the lock; -1 when not claimed */
	char pid_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

/*
 * The runtime directory, /run/wgxdp unless set (tests use a temporary
 * one; NULL restores the default). -ENAMETOOLONG when socket paths under
 * dir would not fit in sun_path.
 */
int wgx_instance_set_rundir(const char *dir);
const char *wgx_instance_rundir(void);
/*
 * Check the runtime directory: a real directory owned by root (or by us),
 * not group or world writable. With create, make it 0700 when missing.
 * 0, -ENOENT (missing, !create), or -errno with the reason logged.
 */
int wgx_instance_rundir_prepare(bool create);

/* An interface name the kernel would take (dev_valid_name). */
bool wgx_instance_name_valid(const char *name);
/* The caller's network namespace. */
int wgx_instance_netns_self(struct wgx_netns *ns);
bool wgx_instance_netns_equal(const struct wgx_netns *a,
			      const struct wgx_netns *b);
int wgx_instance_sock_path(const char *tun, char *buf, size_t len);
int wgx_instance_pid_path(const char *tun, char *buf, size_t len);

/*
 * Daemon side. Claim TUN for an instance on IFACE in the caller's
 * namespace: create the runtime directory if needed, lock <TUN>.pid and
 * write the record, reclaiming a stale pidfile and socket with a warning.
 * -EEXIST when TUN is live (in any namespace), -EBUSY when a live instance
 * in this namespace already runs on IFACE; the reason is logged. The lock
 * is shared across fork(): claim in the CLI before daemonizing, so errors
 * and the stale-reclaim warning reach the terminal, then call
 * wgx_instance_update_pid() in the daemon and wgx_instance_disown() in the
 * parent.
 */
int wgx_instance_claim(struct wgx_instance *inst, const char *tun,
		       const char *iface);
int wgx_instance_update_pid(struct wgx_instance *inst);
/*
 * Drop this process's hold without touching the files: the CLI parent
 * after the daemon it forked took over (the daemon's copy keeps the lock).
 */
void wgx_instance_disown(struct wgx_instance *inst);
/*
 * Remove <TUN>.sock and <TUN>.pid and drop the lock. Close the control
 * server first. Safe on an unclaimed (zeroed, pid_fd -1) instance.
 */
void wgx_instance_release(struct wgx_instance *inst);
/* The payload of the "identity" control command. */
int wgx_instance_identity(const struct wgx_instance *inst,
			  struct wgx_control_reply *reply);
/* Parse an identity payload (key=value lines; unknown keys ignored). */
int wgx_instance_identity_parse(const char *text,
				struct wgx_instance_info *info);

/*
 * CLI side. State of TUN from its pidfile lock alone (pid from the file,
 * may be NULL): enum wgx_instance_state, or -errno.
 */
int wgx_instance_state(const char *tun, pid_t *pid);
/*
 * Remove every stale pidfile with its socket, and sockets nobody listens
 * on that have no pidfile, logging each. Number removed, or -errno.
 */
int wgx_instance_reap(void);
/*
 * All instances that answer "identity" and live in the caller's network
 * namespace, sorted by TUN. Sockets with no listener are skipped, as are
 * instances that do not answer within WGX_INSTANCE_PROBE_MS (warned).
 * *list is malloc'd (NULL when *count is 0); free() it. 0 or -errno.
 */
int wgx_instance_list(struct wgx_instance_info **list, size_t *count);
/* The instance on IFACE / named TUN in the caller's namespace; -ENOENT. */
int wgx_instance_find_iface(const char *iface, struct wgx_instance_info *info);
int wgx_instance_find_tun(const char *tun, struct wgx_instance_info *info);
/* Wait until TUN is no longer live: 0, or -ETIMEDOUT. */
int wgx_instance_wait_exit(const char *tun, int timeout_ms);

#endif
