/* SPDX-License-Identifier: MIT */
/*
 * The receiver-index table: the random 32-bit indices this device hands to
 * peers (sender_index of our handshake messages), mapped to what they name
 * now: a handshake in progress or, once the session began, the keypair that
 * inherited the index. Data messages and handshake responses carry one of
 * these indices; this table is how they find their state without trying
 * keys.
 *
 * Indices are uniformly random, unique within one table, and never 0 (0
 * marks "none" and is a miss on lookup). One table per device, no global
 * state.
 *
 * One writer thread (the agent) and any number of lock-free readers (the
 * workers): a chained hash whose links are published with release stores
 * and read with acquire loads. An entry never changes once it is
 * reachable: replace links a new node in place of the old one. Unlinked
 * nodes (and a bucket array outgrown by the table) are handed to the
 * table's retire hook (core/retire.h), which frees them once no reader
 * can still be walking them; without a hook they are freed at once, which
 * is right only when nobody reads concurrently.
 */
#ifndef WGX_INDEX_H
#define WGX_INDEX_H

#include <stdbool.h>
#include <stdint.h>

#include "core/retire.h"

enum wgx_index_type {
	WGX_INDEX_HANDSHAKE = 1 << 0,
	WGX_INDEX_KEYPAIR = 1 << 1,
};

struct wgx_index_entry {
	uint32_t index;
	/* One enum wgx_index_type bit. */
	uint32_t type;
	/* struct wgx_handshake * or struct wgx_keypair *, by type. */
	void *ptr;
	/* The peer both belong to; opaque here. */
	void *owner;
};

struct wgx_index_table;

/*
 * Told of every change, synchronously and before the call that made it
 * returns: present is true for an insert or replace (e describes the entry
 * it makes), false before a removal. The XDP datapath mirrors indices into
 * its sessions map this way, so an index is in the map before the
 * handshake message that announces it can leave. A negative errno for an
 * insert or replace refuses it: the table is left as it was and the call
 * returns that error (the handshake is then abandoned, rather than
 * announcing an index the XDP program would drop data for).
 */
typedef int (*wgx_index_observer_fn)(void *ctx, const struct wgx_index_entry *e,
				     bool present);

struct wgx_index_table *wgx_index_new(void);
void wgx_index_free(struct wgx_index_table *t);

/* Retire hook for unlinked nodes; NULL frees them at once. */
void wgx_index_set_retire(struct wgx_index_table *t,
			  const struct wgx_retire *retire);
/*
 * Size the bucket array for n entries now, so that inserts up to n never
 * rebuild it. 0 or -ENOMEM.
 */
int wgx_index_reserve(struct wgx_index_table *t, uint32_t n);

/*
 * Map a fresh random index to ptr; *index receives it. 0, -ENOMEM or the
 * observer's error.
 */
int wgx_index_insert(struct wgx_index_table *t, enum wgx_index_type type,
		     void *ptr, void *owner, uint32_t *index);
/*
 * Map a chosen index (tests reproducing fixed vectors). -EINVAL for 0,
 * -EEXIST when taken, -ENOMEM, or the observer's error.
 */
int wgx_index_insert_at(struct wgx_index_table *t, uint32_t index,
			enum wgx_index_type type, void *ptr, void *owner);
/*
 * Point an existing index at something else, keeping index and owner: the
 * handshake hands its index to the keypair it produced. 0, -ENOENT,
 * -ENOMEM or the observer's error (the old mapping then stays).
 */
int wgx_index_replace(struct wgx_index_table *t, uint32_t index,
		      enum wgx_index_type type, void *ptr);
/* 0 or -ENOENT. */
int wgx_index_remove(struct wgx_index_table *t, uint32_t index);
/*
 * Find index among entries whose type is in type_mask; copies the entry to
 * *out (may be NULL) and returns true on a hit. Any thread; a worker must
 * be an RCU reader (device/rcu.h) and drop what it found by its next
 * quiescent state.
 */
bool wgx_index_lookup(const struct wgx_index_table *t, uint32_t index,
		      uint32_t type_mask, struct wgx_index_entry *out);
uint32_t wgx_index_count(const struct wgx_index_table *t);
/* One observer per table; NULL removes it. */
void wgx_index_set_observer(struct wgx_index_table *t, wgx_index_observer_fn fn,
			    void *ctx);

#endif
