/* SPDX-License-Identifier: MIT */
/*
 * The receive horizon the workers publish for the XDP program (rx_horizon
 * in wgx_bpf.h): where a keypair's receive counter stands, after the first
 * message that authenticated, then every WGX_HORIZON_STEP counters or,
 * for a slower session, once a WGX_HORIZON_PERIOD_NS when it moved, so
 * XDP can drop bad tags whose counters the session cannot accept without
 * decrypting them. A system call per step or period: noise against the
 * datapath. Both calls run under the keypair's replay lock.
 */
#ifndef WGX_HORIZON_H
#define WGX_HORIZON_H

#include <stdbool.h>
#include <stdint.h>

#include "core/keypair.h"

/* A slow session's publications at most this often (protocol time). It
 * bounds how far XDP's allowance grows in between (125 million a
 * second): about 2^27 counters past the horizon. */
#define WGX_HORIZON_PERIOD_NS 1000000000ULL

/* Whether kp's window moved far enough, or long enough ago, since its
 * last publication; now is protocol time (wgx_now). */
bool wgx_horizon_due(const struct wgx_keypair *kp, uint64_t now);

/*
 * Writes kp's horizon into the map map_fd (an rx_horizon map), stamped
 * with now (protocol time: CLOCK_BOOTTIME, the XDP program's clock, no
 * later than the present). A failed write is not
 * retried before the next step or period: the XDP side widens a stale
 * horizon with time, so a lost publication costs protection, not
 * traffic. 0 or -errno.
 */
int wgx_horizon_publish(int map_fd, struct wgx_keypair *kp, uint64_t now);

#endif
