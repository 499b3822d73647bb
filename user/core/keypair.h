/* SPDX-License-Identifier: MIT */
/*
 * A transport keypair: what one completed handshake yields, and what the
 * datapath needs to move data. Created and wiped by the agent only (the
 * noise module's begin-session step); the datapath reads the keys in place
 * and never copies them out. Lives in sodium_malloc'd memory.
 */
#ifndef WGX_KEYPAIR_H
#define WGX_KEYPAIR_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/replay.h"
#include "wgx_wire.h"

struct wgx_keypair {
	uint8_t send_key[WGX_KEY_LEN];
	uint8_t recv_key[WGX_KEY_LEN];
	/* Next counter to send with; claimed with an atomic fetch-add. */
	_Atomic uint64_t send_counter;
	struct wgx_replay replay;
	/* Held while the replay window moves: receivers on several threads. */
	atomic_flag replay_lock;
	/* Under replay_lock: replay.next as last published for the XDP
	 * program (datapath/horizon.h), when (protocol time), and whether
	 * it was. */
	uint64_t horizon_next;
	uint64_t horizon_at;
	bool horizon_published;
	/* CLOCK_BOOTTIME nanoseconds at derivation: drives rekey/reject. */
	uint64_t birth_ns;
	/* The index we chose: peers put it in data messages sent to us. */
	uint32_t local_index;
	/* The index the peer chose: we put it in data messages we send. */
	uint32_t remote_index;
	bool initiator;
	/* Datapath: when it last asked the agent for a rekey (0: never). */
	_Atomic uint64_t rekey_asked_ns;
	/* Owning peer, opaque to the datapath. */
	void *peer;
};

/*
 * Serialise the replay window among the workers that finish packets of
 * this keypair (normally one: a peer's packets arrive on one socket).
 */
static inline void wgx_keypair_replay_lock(struct wgx_keypair *kp)
{
	while (atomic_flag_test_and_set_explicit(&kp->replay_lock,
						 memory_order_acquire))
		;
}

static inline void wgx_keypair_replay_unlock(struct wgx_keypair *kp)
{
	atomic_flag_clear_explicit(&kp->replay_lock, memory_order_release);
}

#endif
