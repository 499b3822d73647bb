/* SPDX-License-Identifier: MIT */
/*
 * How a shared structure (the index table, AllowedIPs, a keypair set)
 * gives back an object it has unlinked: freed at once when nobody else
 * reads the structure (tests, tools), or handed to the device's deferred
 * reclamation when workers may still be reading it (device/reclaim.h).
 * The structures stay pure: they never know which.
 */
#ifndef WGX_RETIRE_H
#define WGX_RETIRE_H

#include <stddef.h>

typedef void (*wgx_free_fn)(void *obj);

struct wgx_retire {
	/* NULL: free at once. */
	void (*defer)(void *ctx, wgx_free_fn fn, void *obj);
	void *ctx;
};

static inline void wgx_retire(const struct wgx_retire *r, wgx_free_fn fn,
			      void *obj)
{
	if (!obj)
		return;
	if (r && r->defer)
		r->defer(r->ctx, fn, obj);
	else
		fn(obj);
}

#endif
