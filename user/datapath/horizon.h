/* SPDX-License-Identifier: MIT */
/*
 * The receive horizon the workers publish for the XDP program (rx_horizon
 * in wgx_bpf.h): where a keypair's receive counter stands, after the first
 * message that authenticated and then every WGX_HORIZON_STEP counters, so
 * XDP can drop bad tags whose counters the session cannot accept without
 * decrypting them. One system call per step: noise against the datapath.
 * Both calls run under the keypair's replay lock.
 */
#ifndef WGX_HORIZON_H
#define WGX_HORIZON_H

#include <stdbool.h>

#include "core/keypair.h"

/* Whether kp's window moved far enough since its last publication. */
bool wgx_horizon_due(const struct wgx_keypair *kp);

/*
 * Writes kp's horizon into the map map_fd (an rx_horizon map). A failed
 * write is not retried before the next step: the XDP side widens a stale
 * horizon with time, so a lost publication costs protection, not traffic.
 * 0 or -errno.
 */
int wgx_horizon_publish(int map_fd, struct wgx_keypair *kp);

#endif
