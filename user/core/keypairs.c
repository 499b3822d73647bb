// SPDX-License-Identifier: MIT
/*
 * The current/previous/next rotation of a peer's keypairs. The slot moves
 * follow the kernel's add_new_keypair and received_with_keypair, except
 * that an initiator's new session frees a pending next instead of keeping
 * it as previous: an unconfirmed keypair is never worth keeping alive.
 */
#include "core/keypairs.h"
#include "core/secrets.h"
#include "core/timers.h"

#include <stdatomic.h>
#include <stddef.h>

#include "wgx_wire.h"

enum {
	NSEC_PER_SEC = 1000000000,
};

#define publish(slot, v) __atomic_store_n(&(slot), (v), __ATOMIC_RELEASE)

void wgx_keypairs_init(struct wgx_keypairs *kps,
		       struct wgx_index_table *indices,
		       const struct wgx_retire *retire)
{
	publish(kps->current, NULL);
	publish(kps->previous, NULL);
	publish(kps->next, NULL);
	kps->indices = indices;
	kps->retire = retire;
}

struct wgx_keypair *wgx_keypairs_alloc(struct wgx_keypairs *kps)
{
	(void)kps;
	return wgx_secret_alloc(WGX_SECRET_KEYPAIR, sizeof(struct wgx_keypair));
}

/* The retire hook's end of a keypair: no worker can read it any more. */
static void keypair_destroy(void *obj)
{
	/* Wiped as it goes back to the pool. */
	wgx_secret_free(WGX_SECRET_KEYPAIR, obj);
}

void wgx_keypairs_free(struct wgx_keypairs *kps, struct wgx_keypair *kp)
{
	if (!kp)
		return;
	if (kps->indices && kp->local_index)
		wgx_index_remove(kps->indices, kp->local_index);
	wgx_retire(kps->retire, keypair_destroy, kp);
}

void wgx_keypairs_install(struct wgx_keypairs *kps, struct wgx_keypair *kp)
{
	struct wgx_keypair *old_next = kps->next, *old_prev = kps->previous;

	if (kp->initiator) {
		publish(kps->next, NULL);
		publish(kps->previous, kps->current);
		publish(kps->current, kp);
	} else {
		publish(kps->next, kp);
		publish(kps->previous, NULL);
	}
	wgx_keypairs_free(kps, old_next);
	wgx_keypairs_free(kps, old_prev);
}

bool wgx_keypairs_confirm(struct wgx_keypairs *kps, struct wgx_keypair *kp)
{
	struct wgx_keypair *old_prev = kps->previous;

	if (!kp || kp != kps->next)
		return false;
	publish(kps->previous, kps->current);
	publish(kps->current, kp);
	publish(kps->next, NULL);
	wgx_keypairs_free(kps, old_prev);
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
	struct wgx_keypair *kp = wgx_keypairs_current(kps);

	return wgx_keypairs_usable(kp, now_ns) ? kp : NULL;
}

static unsigned int expire_slot(struct wgx_keypairs *kps,
				struct wgx_keypair **slot, uint64_t now_ns)
{
	struct wgx_keypair *kp = *slot;

	if (!kp || wgx_keypairs_usable(kp, now_ns))
		return 0;
	publish(*slot, NULL);
	wgx_keypairs_free(kps, kp);
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
	struct wgx_keypair *cur = kps->current, *prev = kps->previous,
			   *next = kps->next;

	publish(kps->current, NULL);
	publish(kps->previous, NULL);
	publish(kps->next, NULL);
	wgx_keypairs_free(kps, cur);
	wgx_keypairs_free(kps, prev);
	wgx_keypairs_free(kps, next);
}
