// SPDX-License-Identifier: MIT
/*
 * mkostemp() makes the temporary file 0600 from the first instant; the
 * target's owner goes on before its mode (chown clears set-id bits); the
 * rename is the one step that makes the new text visible, and renameat2
 * with RENAME_NOREPLACE makes creating a new file just as atomic without
 * ever replacing one that appeared in the meantime.
 */
#include "util/atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int fail(struct wgx_atomic_opts *o, enum wgx_atomic_step step, int err)
{
	o->failed = step;
	return err;
}

/* "DIR/.NAME.XXXXXX" beside path; the directory of path in dir. */
static int temp_name(const char *path, char *tmp, size_t size, char *dir,
		     size_t dsize)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	size_t dlen = slash ? (size_t)(slash - path) : 0;
	int n;

	if (!*base)
		return -EISDIR;
	if (dlen + 2 > dsize)
		return -ENAMETOOLONG;
	if (!slash) {
		strcpy(dir, ".");
	} else if (!dlen) {
		strcpy(dir, "/");
	} else {
		memcpy(dir, path, dlen);
		dir[dlen] = '\0';
	}
	n = snprintf(tmp, size, "%s/.%s.XXXXXX", dir, base);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* So that the rename itself survives a crash. */
static void sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return;
	fsync(fd);
	close(fd);
}

struct target {
	bool replace;
	uid_t uid;
	gid_t gid;
	mode_t mode;
};

static int put(const char *path, const void *data, size_t len,
	       const struct target *t, struct wgx_atomic_opts *o)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	int fd, err;

	o->failed = WGX_ATOMIC_OK;
	err = temp_name(path, tmp, sizeof(tmp), dir, sizeof(dir));
	if (err)
		return fail(o, WGX_ATOMIC_CREATE, err);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return fail(o, WGX_ATOMIC_CREATE, -errno);
	err = write_all(fd, data, len);
	if (err) {
		fail(o, WGX_ATOMIC_WRITE, err);
		goto out;
	}
	if (fsync(fd) < 0) {
		err = fail(o, WGX_ATOMIC_SYNC, -errno);
		goto out;
	}
	/* Root keeps the owner; anyone else can only own it themselves. */
	if (t->replace && (t->uid != geteuid() || t->gid != getegid()) &&
	    fchown(fd, t->uid, t->gid) < 0) {
		err = fail(o, WGX_ATOMIC_OWNER, -errno);
		goto out;
	}
	if (fchmod(fd, t->mode) < 0) {
		err = fail(o, WGX_ATOMIC_OWNER, -errno);
		goto out;
	}
	if (o->fail_before_rename) {
		err = fail(o, WGX_ATOMIC_RENAME, -EIO);
		goto out;
	}
	if (t->replace)
		err = rename(tmp, path) < 0 ? -errno : 0;
	else
		err = renameat2(AT_FDCWD, tmp, AT_FDCWD, path,
				RENAME_NOREPLACE) < 0
			      ? -errno
			      : 0;
	if (err)
		fail(o, WGX_ATOMIC_RENAME, err);
out:
	close(fd);
	if (err)
		unlink(tmp);
	else
		sync_dir(dir);
	return err;
}

int wgx_atomic_file_replace(const char *path, const void *data, size_t len,
			    struct wgx_atomic_opts *opts)
{
	struct target t = { .replace = true };
	struct stat st;

	opts->failed = WGX_ATOMIC_OK;
	if (lstat(path, &st) < 0)
		return fail(opts, WGX_ATOMIC_STAT, -errno);
	if (!S_ISREG(st.st_mode))
		return fail(opts, WGX_ATOMIC_STAT,
			    S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL);
	t.uid = st.st_uid;
	t.gid = st.st_gid;
	t.mode = st.st_mode & 07777;
	return put(path, data, len, &t, opts);
}

int wgx_atomic_file_create(const char *path, const void *data, size_t len,
			   unsigned int mode, struct wgx_atomic_opts *opts)
{
	struct target t = { .mode = (mode_t)mode & 07777 };

	return put(path, data, len, &t, opts);
}

const char *wgx_atomic_step_name(enum wgx_atomic_step step)
{
	switch (step) {
	case WGX_ATOMIC_OK:
		return "nothing";
	case WGX_ATOMIC_STAT:
		return "looking at the file";
	case WGX_ATOMIC_CREATE:
		return "creating the temporary file";
	case WGX_ATOMIC_WRITE:
		return "writing the temporary file";
	case WGX_ATOMIC_SYNC:
		return "flushing the temporary file to disk";
	case WGX_ATOMIC_OWNER:
		return "giving the new file the old one's owner and mode";
	case WGX_ATOMIC_RENAME:
		return "renaming the new file into place";
	}
	return "?";
}
