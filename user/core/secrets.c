// SPDX-License-Identifier: MIT
#include "core/secrets.h"

#include <pthread.h>
#include <string.h>

static const char *const names[WGX_SECRET_KINDS] = {
	[WGX_SECRET_KEYPAIR] = "keypairs",
	[WGX_SECRET_HANDSHAKE] = "handshakes",
	[WGX_SECRET_PEER] = "peers",
};

static struct wgx_secmem_pool pools[WGX_SECRET_KINDS];
static bool ready[WGX_SECRET_KINDS];
static pthread_mutex_t setup = PTHREAD_MUTEX_INITIALIZER;

static struct wgx_secmem_pool *pool_for(enum wgx_secret_kind kind, size_t size)
{
	struct wgx_secmem_pool *pool = NULL;

	pthread_mutex_lock(&setup);
	if (ready[kind] ||
	    wgx_secmem_pool_init(&pools[kind], size, names[kind]) == 0) {
		ready[kind] = true;
		pool = &pools[kind];
	}
	pthread_mutex_unlock(&setup);
	return pool;
}

void *wgx_secret_alloc(enum wgx_secret_kind kind, size_t size)
{
	struct wgx_secmem_pool *pool = pool_for(kind, size);

	return pool ? wgx_secmem_alloc(pool) : NULL;
}

void wgx_secret_free(enum wgx_secret_kind kind, void *obj)
{
	if (obj)
		wgx_secmem_free(&pools[kind], obj);
}

void wgx_secret_stats(enum wgx_secret_kind kind, struct wgx_secmem_stats *out)
{
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&setup);
	if (ready[kind])
		wgx_secmem_pool_stats(&pools[kind], out);
	pthread_mutex_unlock(&setup);
}
