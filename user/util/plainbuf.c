// SPDX-License-Identifier: MIT
#include "util/plainbuf.h"

#include <errno.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "util/log.h"

static _Atomic uint64_t mapped, refused;
static atomic_bool warned;

static size_t round_up(size_t len)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	return (len + page - 1) / page * page;
}

void *wgx_plainbuf_alloc(size_t len)
{
	size_t size;
	void *p;

	if (!len)
		return NULL;
	size = round_up(len);
	p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	/* Dumps and children first: those never fail on a fresh mapping. */
	madvise(p, size, MADV_DONTDUMP);
	madvise(p, size, MADV_WIPEONFORK);
	if (mlock(p, size) < 0) {
		if (!atomic_exchange(&warned, true))
			wgx_log_warn("Couldn't lock packet buffers in memory "
				     "(%s): plaintext may reach swap (raise "
				     "RLIMIT_MEMLOCK or run with "
				     "CAP_IPC_LOCK)",
				     strerror(errno));
		atomic_fetch_add(&refused, 1);
	}
	atomic_fetch_add(&mapped, size);
	return p;
}

void wgx_plainbuf_free(void *buf, size_t len)
{
	size_t size;

	if (!buf)
		return;
	size = round_up(len);
	sodium_memzero(buf, size);
	/* Unmapping unlocks it too. */
	munmap(buf, size);
	atomic_fetch_sub(&mapped, size);
}

void wgx_plainbuf_stats(struct wgx_plainbuf_stats *out)
{
	out->bytes_mapped = atomic_load(&mapped);
	out->lock_refused = atomic_load(&refused);
}
