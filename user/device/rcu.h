/* SPDX-License-Identifier: MIT */
/*
 * Read-copy-update for the state the agent publishes to the workers
 * (peers, the receiver-index table, AllowedIPs, keypairs): liburcu's QSBR
 * flavour, whose read side costs nothing. A worker registers once, stays
 * "online" while it handles packets, reports a quiescent state between
 * batches (it then holds no pointer into shared state) and goes "offline"
 * while it sleeps in poll(). The agent unpublishes an object, waits for a
 * grace period (every online worker passed a quiescent state) and only
 * then frees it (reclaim.h), so a worker never takes a lock the agent
 * holds and the agent never frees what a worker still reads.
 *
 * Pointers are published and read with C11 atomics (release/acquire), not
 * liburcu's macros, so ThreadSanitizer sees them. liburcu's own grace
 * period machinery is invisible to it; the annotations below tell it that
 * a quiescent state "releases" everything the worker read before, and a
 * completed grace period "acquires" all of it.
 */
#ifndef WGX_RCU_H
#define WGX_RCU_H

#include <stdbool.h>

/* Every thread that reads published state, once, before its first read. */
void wgx_rcu_register(void);
void wgx_rcu_unregister(void);

/* Between batches: this thread holds no pointer into published state. */
void wgx_rcu_quiescent(void);
/* Around a sleep: an offline thread does not hold up grace periods. */
void wgx_rcu_offline(void);
void wgx_rcu_online(void);

/*
 * Wait until every registered, online thread has passed a quiescent state
 * (the writer side; the caller need not be registered). What was
 * unpublished before the call is unreachable afterwards.
 */
void wgx_rcu_synchronize(void);

#endif
