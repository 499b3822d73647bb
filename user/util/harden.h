/* SPDX-License-Identifier: MIT */
/*
 * What the daemon gives up once it runs: core dumps, and every capability
 * it no longer needs after set-up (libcap-ng). Capabilities belong to
 * threads: the agent thread drops its own here, each worker drops all of
 * its own as it starts (wgx_harden_thread), and threads started later
 * inherit the agent's reduced set.
 *
 * Kept, effective, while the daemon runs:
 *   CAP_NET_ADMIN         reload re-routes (rtnetlink), a new ListenPort or
 *                         FwMark makes new sockets (SO_MARK, SO_RCVBUFFORCE);
 *                         at exit the TUN is deleted and XDP detached
 *   CAP_NET_BIND_SERVICE  a reload may move ListenPort below 1024
 *   CAP_IPC_LOCK          new peers' keys (secmem) and a new worker pool's
 *                         packet buffers (plainbuf) are mlock()ed past
 *                         RLIMIT_MEMLOCK
 * Kept, effective, only with XDP:
 *   CAP_NET_RAW           a new worker pool (new ListenPort, FwMark or MTU)
 *                         opens new AF_XDP sockets
 * Kept permitted but not effective, raised for a moment where needed:
 *   CAP_SYS_ADMIN         following a TUN moved to another network
 *                         namespace (setns() there for a netlink socket,
 *                         and back), and the teardown
 *   CAP_BPF               only with XDP, for the teardown alone: libxdp
 *                         takes our program off the interface by id
 *                         (BPF_PROG_GET_FD_BY_ID needs CAP_SYS_ADMIN too)
 *                         and may rebuild its dispatcher (a program load)
 * Everything else goes from the effective, permitted and bounding sets,
 * and no_new_privs is set. The XDP maps are updated through descriptors
 * opened during set-up: since Linux 5.19 that needs no capability.
 */
#ifndef WGX_HARDEN_H
#define WGX_HARDEN_H

#include <stdbool.h>

/* Core dumps off: PR_SET_DUMPABLE 0 and RLIMIT_CORE 0. 0 or -errno. */
int wgx_harden_no_dumps(void);

/*
 * The agent thread, after set-up: keep what the list above keeps (the
 * CAP_NET_RAW and CAP_BPF only when xdp). 0 or -errno (nothing may have changed).
 */
int wgx_harden_drop_caps(bool xdp);

/* The agent thread, before the teardown: raise the teardown pair. */
void wgx_harden_teardown(void);

/*
 * The agent thread, around a setns(): CAP_SYS_ADMIN effective, then not
 * again. Before wgx_harden_drop_caps both do nothing (all is effective).
 * Raise: 0 or -errno.
 */
int wgx_harden_raise_admin(void);
void wgx_harden_lower_admin(void);

/* The calling thread gives up every capability (workers). 0 or -errno. */
int wgx_harden_thread(void);

#endif
