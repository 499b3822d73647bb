/* SPDX-License-Identifier: MIT */
/*
 * Writing a file so that a crash, a full disk or any other failure leaves
 * either the old file or the new one, never a mix: the text goes to a
 * temporary file in the same directory (created 0600, so key text is
 * never readable by others, not even for a moment), is flushed to disk,
 * and is then renamed over the target; the directory is synced after.
 */
#ifndef WGX_ATOMIC_FILE_H
#define WGX_ATOMIC_FILE_H

#include <stdbool.h>
#include <stddef.h>

enum wgx_atomic_step {
	WGX_ATOMIC_OK,
	WGX_ATOMIC_STAT,   /* the target (replace) */
	WGX_ATOMIC_CREATE, /* the temporary file */
	WGX_ATOMIC_WRITE,
	WGX_ATOMIC_SYNC,
	WGX_ATOMIC_OWNER, /* the target's owner and mode onto the new file */
	WGX_ATOMIC_RENAME,
};

struct wgx_atomic_opts {
	/*
	 * Tests only: fail with -EIO after the new text is written and
	 * synced, just before the rename (the CLI allows it only with
	 * WGXDP_TEST_TIMERS=1).
	 */
	bool fail_before_rename;
	/* Out: the step that failed, for the message. */
	enum wgx_atomic_step failed;
};

/*
 * Replace the regular file at path (a real path, not a symlink) with data,
 * keeping its owner and permission bits. 0, or -errno with opts->failed
 * set; the old file is then untouched and no temporary file is left.
 */
int wgx_atomic_file_replace(const char *path, const void *data, size_t len,
			    struct wgx_atomic_opts *opts);

/*
 * Create path with data and mode, failing with -EEXIST when it exists
 * (never overwritten). Same guarantees as replace.
 */
int wgx_atomic_file_create(const char *path, const void *data, size_t len,
			   unsigned int mode, struct wgx_atomic_opts *opts);

/* What opts->failed names, e.g. "writing the temporary file". */
const char *wgx_atomic_step_name(enum wgx_atomic_step step);

#endif
