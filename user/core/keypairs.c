// SPDX-License-Identifier: MIT
/*
 * The current/previous/next rotation of a peer's keypairs. The slot moves
 * follow the kernel's add_new_keypair and received_with_keypair, except
 * that an initiator's new session frees a pending next instead of keeping
 * it as previous: an unconfirmed keypair is never worth keeping alive.
 */
#include "core/keypairs.h"
#include "core/timers.h"

#include <sodium.h>
#include <stdatomic.h>
#include <stddef.h>

#include "wgx_wire.h"

enum {
	NSEC_PER_SEC = 1000000000,
};

void wgx_keypairs_init(struct wgx_keypairs *kps,
		       struct wgx_index_table *indices)
{
	kps->current = NULL;
	kps->previous = NULL;
	kps->next = NULL;
	kps->spare = NULL;
	kps->indices = indices;
}

struct wgx_keypair *wgx_keypairs_alloc(struct wgx_keypairs *kps)
{
	struct wgx_keypair *kp = kps->spare;

	if (kp) {
		/* Zeroed when it was released. */
		kps->spare = NULL;
		return kp;
	}
	kp = sodium_malloc(sizeof(*kp));
	if (kp)
		sodium_memzero(kp, sizeof(*kp));
	return kp;
}

void wgx_keypairs_free(struct wgx_keypairs *kps, struct wgx_keypair *kp)
{
	if (!kp)
		return;
	if (kps->indices && kp->local_index)
		wgx_index_remove(kps->indices, kp->local_index);
	/* sodium_free wipes too; zero first so the intent does not hinge on it. */
	sodium_memzero(kp, sizeof(*kp));
	if (!kps->spare)
		kps->spare = kp;
	else
		sodium_free(kp);
}

void wgx_keypairs_install(struct wgx_keypairs *kps, struct wgx_keypair *kp)
{
	if (kp->initiator) {
		wgx_keypairs_free(kps, kps->next);
		kps->next = NULL;
		wgx_keypairs_free(kps, kps->previous);
		kps->previous = kps->current;
		kps->current = kp;
	} else {
		wgx_keypairs_free(kps, kps->next);
		kps->next = kp;
		wgx_keypairs_free(kps, kps->previous);
		kps->previous = NULL;
	}
}

bool wgx_keypairs_confirm(struct wgx_keypairs *kps, struct wgx_keypair *kp)
{
	if (!kp || kp != kps->next)
		return false;
	wgx_keypairs_free(kps, kps->previous);
	kps->previous = kps->current;
	kps->current = kp;
	kps->next = NULL;
	return true;
}

bool wgx_keypairs_usable(const struct wgx_keypair *kp, uint64_t now_ns)
{
	uint64_t counter;

	if (!kp)
		return false;
	/* Expired at exactly REJECT_AFTER_TIME, as the kernel's birthdate test. */
	if (now_ns >= kp->birth_ns &&
	    now_ns - kp->birth_ns >= wgx_timers_seconds(WGX_REJECT_AFTER_TIME))
		return false;
	counter = atomic_load_explicit(&kp->send_counter, memory_order_relaxed);
	return counter < WGX_REJECT_AFTER_MESSAGES;
}

struct wgx_keypair *wgx_keypairs_send_keypair(const struct wgx_keypairs *kps,
					      uint64_t now_ns)
{
	return wgx_keypairs_usable(kps->current, now_ns) ? kps->current : NULL;
}

static unsigned int expire_slot(struct wgx_keypairs *kps,
				struct wgx_keypair **slot, uint64_t now_ns)
{
	if (!*slot || wgx_keypairs_usable(*slot, now_ns))
		return 0;
	wgx_keypairs_free(kps, *slot);
	*slot = NULL;
	return 1;
}

unsigned int wgx_keypairs_expire(struct wgx_keypairs *kps, uint64_t now_ns)
{
	return expire_slot(kps, &kps->current, now_ns) +
	       expire_slot(kps, &kps->previous, now_ns) +
	       expire_slot(kps, &kps->next, now_ns);
}

void wgx_keypairs_clear(struct wgx_keypairs *kps)
{
	wgx_keypairs_free(kps, kps->current);
	wgx_keypairs_free(kps, kps->previous);
	wgx_keypairs_free(kps, kps->next);
	kps->current = NULL;
	kps->previous = NULL;
	kps->next = NULL;
	if (kps->spare)
		sodium_free(kps->spare);
	kps->spare = NULL;
}
