// SPDX-License-Identifier: MIT
/*
 * Runtime files of an instance. Liveness is the OFD lock on <TUN>.pid:
 * F_OFD_GETLK tests it without taking it (a probe must never make a
 * concurrent claim fail), and the lock lives as long as the open file
 * description, so it survives fork() and dies with the last holder, even
 * on kill -9.
 */
#include "agent/instance.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"

enum {
	RECORD_MAX = 256,
	SUFFIX_MAX = 5, /* ".sock" */
};

static char rundir[sizeof(((struct sockaddr_un *)0)->sun_path)] =
	WGX_INSTANCE_RUNDIR;

/* ---- names and paths ---- */

int wgx_instance_set_rundir(const char *dir)
{
	if (!dir)
		dir = WGX_INSTANCE_RUNDIR;
	if (!*dir)
		return -EINVAL;
	if (strlen(dir) + 1 + WGX_INSTANCE_NAME_MAX + SUFFIX_MAX >=
	    sizeof(rundir))
		return -ENAMETOOLONG;
	snprintf(rundir, sizeof(rundir), "%s", dir);
	return 0;
}

const char *wgx_instance_rundir(void)
{
	return rundir;
}

bool wgx_instance_name_valid(const char *name)
{
	size_t len = name ? strlen(name) : 0;

	if (!len || len >= WGX_INSTANCE_NAME_MAX)
		return false;
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		/* The kernel refuses '/', ':' and whitespace; we also keep
		 * control and non-ASCII bytes out of paths and messages. */
		if (c <= 0x20 || c >= 0x7f || c == '/' || c == ':')
			return false;
	}
	return true;
}

static int make_path(const char *tun, const char *suffix, char *buf, size_t len)
{
	int n;

	if (!wgx_instance_name_valid(tun))
		return -EINVAL;
	n = snprintf(buf, len, "%s/%s%s", rundir, tun, suffix);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int wgx_instance_sock_path(const char *tun, char *buf, size_t len)
{
	return make_path(tun, ".sock", buf, len);
}

int wgx_instance_pid_path(const char *tun, char *buf, size_t len)
{
	return make_path(tun, ".pid", buf, len);
}

/* "wg0.pid" -> "wg0" when the stem is a valid name and the suffix fits. */
static bool name_with_suffix(const char *file, const char *suffix,
			     char tun[WGX_INSTANCE_NAME_MAX])
{
	size_t len = strlen(file), slen = strlen(suffix);

	if (len <= slen || strcmp(file + len - slen, suffix) ||
	    len - slen >= WGX_INSTANCE_NAME_MAX)
		return false;
	memcpy(tun, file, len - slen);
	tun[len - slen] = '\0';
	return wgx_instance_name_valid(tun);
}

int wgx_instance_netns_self(struct wgx_netns *ns)
{
	struct stat st;

	if (stat("/proc/self/ns/net", &st) < 0) {
		wgx_log_error("Couldn't identify network namespace: %s",
			      strerror(errno));
		return -errno;
	}
	ns->dev = st.st_dev;
	ns->ino = st.st_ino;
	return 0;
}

bool wgx_instance_netns_equal(const struct wgx_netns *a,
			      const struct wgx_netns *b)
{
	return a->dev == b->dev && a->ino == b->ino;
}

/* ---- the runtime directory ---- */

int wgx_instance_rundir_prepare(bool create)
{
	struct stat st;

	if (create && mkdir(rundir, 0700) == 0) {
		/* mkdir() honours the umask; be exact. */
		if (chmod(rundir, 0700) < 0)
			goto err;
	} else if (create && errno != EEXIST) {
		goto err;
	}
	if (lstat(rundir, &st) < 0) {
		if (errno == ENOENT && !create)
			return -ENOENT;
		goto err;
	}
	if (!S_ISDIR(st.st_mode)) {
		wgx_log_error("Couldn't use runtime directory %s: "
			      "not a directory",
			      rundir);
		return -ENOTDIR;
	}
	/* Whoever can write here could plant sockets the CLI trusts. */
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		wgx_log_error("Couldn't use runtime directory %s: "
			      "owned by uid %u, not root",
			      rundir, (unsigned int)st.st_uid);
		return -EPERM;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		wgx_log_error("Couldn't use runtime directory %s: "
			      "group or world writable (mode %04o)",
			      rundir, (unsigned int)(st.st_mode & 07777));
		return -EPERM;
	}
	return 0;
err:
	wgx_log_error("Couldn't prepare runtime directory %s: %s", rundir,
		      strerror(errno));
	return -errno;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000,
			       .tv_nsec = (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Open and flock the directory; the fd (>= 0) is the lock, or -errno. */
static int dir_lock(void)
{
	int fd = open(rundir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	/* Holders keep it for microseconds; never block forever on one
	 * that was stopped mid-claim. */
	for (int waited = 0; flock(fd, LOCK_EX | LOCK_NB) < 0; waited += 10) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			int err = -errno;

			close(fd);
			return err;
		}
		if (waited >= WGX_INSTANCE_LOCK_MS) {
			close(fd);
			wgx_log_error("Couldn't lock runtime directory %s: "
				      "held too long by another wgxdp",
				      rundir);
			return -ETIMEDOUT;
		}
		sleep_ms(10);
	}
	return fd;
}

static void dir_unlock(int fd)
{
	if (fd >= 0)
		close(fd); /* releases the flock */
}

/* A DIR stream over dfd's directory from the start, leaving dfd usable. */
static DIR *dir_stream(int dfd)
{
	int fd = dup(dfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;

	if (!d) {
		int err = errno;

		if (fd >= 0)
			close(fd);
		errno = err;
		return NULL;
	}
	rewinddir(d); /* the dup shares dfd's offset */
	return d;
}

/* ---- pidfiles ---- */

static struct flock whole_file(short type)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET };

	return fl;
}

/* true when some open file description holds a lock on fd's file. */
static int pidfile_locked(int fd)
{
	struct flock fl = whole_file(F_WRLCK);

	if (fcntl(fd, F_OFD_GETLK, &fl) < 0)
		return -errno;
	return fl.l_type != F_UNLCK;
}

/* Parse "<pid>\niface=X\nnetns=D:I\n"; missing fields stay zero. */
static void parse_record(const char *text, struct wgx_instance_info *info)
{
	const char *line = text;
	char *end;
	long pid = strtol(text, &end, 10);

	if (end != text && pid > 0 && pid <= INT_MAX)
		info->pid = (pid_t)pid;
	while ((line = strchr(line, '\n')) != NULL) {
		line++;
		if (!strncmp(line, "iface=", 6))
			sscanf(line + 6, "%15[^\n]", info->iface);
		else if (!strncmp(line, "netns=", 6))
			sscanf(line + 6, "%" SCNu64 ":%" SCNu64,
			       &info->netns.dev, &info->netns.ino);
	}
	if (!wgx_instance_name_valid(info->iface))
		info->iface[0] = '\0';
}

static int read_record(int fd, struct wgx_instance_info *info)
{
	char text[RECORD_MAX];
	ssize_t n = pread(fd, text, sizeof(text) - 1, 0);

	if (n < 0)
		return -errno;
	text[n] = '\0';
	parse_record(text, info);
	return (int)n;
}

static int write_record(int fd, const struct wgx_instance_info *info)
{
	char text[RECORD_MAX];
	int n = snprintf(text, sizeof(text),
			 "%d\niface=%s\nnetns=%" PRIu64 ":%" PRIu64 "\n",
			 (int)info->pid, info->iface, info->netns.dev,
			 info->netns.ino);

	if (ftruncate(fd, 0) < 0)
		return -errno;
	errno = 0;
	if (pwrite(fd, text, (size_t)n, 0) != n)
		return errno ? -errno : -EIO;
	return 0;
}

static void unlink_at(int dfd, const char *tun, const char *suffix)
{
	char name[WGX_INSTANCE_NAME_MAX + SUFFIX_MAX + 1];

	snprintf(name, sizeof(name), "%s%s", tun, suffix);
	if (unlinkat(dfd, name, 0) < 0 && errno != ENOENT)
		wgx_log_warn("Couldn't remove %s/%s: %s", rundir, name,
			     strerror(errno));
}

static void report_stale(const char *tun, const struct wgx_instance_info *old)
{
	if (old->pid)
		wgx_log_warn("Removing stale instance %s (pid %d%s%s exited "
			     "without cleaning up)",
			     tun, (int)old->pid, old->iface[0] ? " on " : "",
			     old->iface);
	else
		wgx_log_warn("Removing stale instance files of %s", tun);
}

/*
 * Under the directory lock: refuse when another live instance in ns
 * already runs on iface. Pidfile records make this decidable before the
 * other daemon even answers on its socket.
 */
static int check_iface_free(int dfd, const char *tun, const char *iface,
			    const struct wgx_netns *ns)
{
	DIR *d = dir_stream(dfd);
	struct dirent *e;
	int ret = 0;

	if (!d)
		return -errno;
	while (!ret && (e = readdir(d)) != NULL) {
		struct wgx_instance_info other = { 0 };
		char name[WGX_INSTANCE_NAME_MAX];
		int fd;

		if (!name_with_suffix(e->d_name, ".pid", name) ||
		    !strcmp(name, tun))
			continue;
		fd = openat(dfd, e->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (pidfile_locked(fd) == 1 && read_record(fd, &other) >= 0 &&
		    !strcmp(other.iface, iface) &&
		    wgx_instance_netns_equal(&other.netns, ns)) {
			wgx_log_error("Couldn't claim %s: %s already carries "
				      "instance %s (pid %d)",
				      tun, iface, name, (int)other.pid);
			ret = -EBUSY;
		}
		close(fd);
	}
	closedir(d);
	return ret;
}

static int refuse_live(int fd, const char *tun, const struct wgx_netns *ns)
{
	struct wgx_instance_info other = { 0 };

	read_record(fd, &other);
	wgx_log_error(
		"Couldn't claim %s: instance already running "
		"(pid %d%s%s)%s",
		tun, (int)other.pid, other.iface[0] ? " on " : "", other.iface,
		other.netns.ino && !wgx_instance_netns_equal(&other.netns, ns)
			? " in another network namespace"
			: "");
	return -EEXIST;
}

/* Open, lock and fill <tun>.pid under the directory lock. */
static int claim_locked(struct wgx_instance *inst, int dfd)
{
	struct wgx_instance_info old = { 0 };
	struct flock fl = whole_file(F_WRLCK);
	char name[WGX_INSTANCE_NAME_MAX + SUFFIX_MAX + 1];
	struct stat st;
	int fd, ret;

	snprintf(name, sizeof(name), "%s.pid", inst->info.tun);
	fd = openat(dfd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		ret = errno ? -errno : -EINVAL;
		goto err;
	}
	if (fcntl(fd, F_OFD_SETLK, &fl) < 0) {
		ret = errno == EAGAIN || errno == EACCES
			      ? refuse_live(fd, inst->info.tun,
					    &inst->info.netns)
			      : -errno;
		goto err;
	}
	ret = read_record(fd, &old);
	if (ret > 0)
		report_stale(inst->info.tun, &old);
	/* We hold <tun>.pid: any <tun>.sock left is a dead daemon's. */
	unlink_at(dfd, inst->info.tun, ".sock");
	ret = write_record(fd, &inst->info);
	if (ret)
		goto err;
	inst->pid_fd = fd;
	return 0;
err:
	close(fd);
	return ret;
}

static int claim_error(const char *tun, int err)
{
	/* The specific refusals were logged where they were found. */
	if (err != -EEXIST && err != -EBUSY && err != -ETIMEDOUT)
		wgx_log_error("Couldn't claim instance %s: %s", tun,
			      strerror(-err));
	return err;
}

int wgx_instance_claim(struct wgx_instance *inst, const char *tun,
		       const char *iface)
{
	struct wgx_instance_info *info = &inst->info;
	int dfd, ret;

	memset(inst, 0, sizeof(*inst));
	inst->pid_fd = -1;
	if (!wgx_instance_name_valid(tun) || !wgx_instance_name_valid(iface)) {
		wgx_log_error("Couldn't claim instance: invalid interface "
			      "name '%s'",
			      wgx_instance_name_valid(tun) ? iface : tun);
		return -EINVAL;
	}
	snprintf(info->tun, sizeof(info->tun), "%s", tun);
	snprintf(info->iface, sizeof(info->iface), "%s", iface);
	info->pid = getpid();
	ret = wgx_instance_netns_self(&info->netns);
	if (!ret)
		ret = wgx_instance_rundir_prepare(true);
	if (!ret)
		ret = make_path(tun, ".pid", inst->pid_path,
				sizeof(inst->pid_path));
	if (!ret)
		ret = make_path(tun, ".sock", info->sock_path,
				sizeof(info->sock_path));
	if (ret)
		return ret;
	dfd = dir_lock();
	if (dfd < 0)
		return claim_error(tun, dfd);
	ret = claim_locked(inst, dfd);
	if (!ret) {
		ret = check_iface_free(dfd, tun, iface, &info->netns);
		if (ret) {
			unlink_at(dfd, tun, ".pid");
			close(inst->pid_fd);
			inst->pid_fd = -1;
		}
	}
	dir_unlock(dfd);
	return ret ? claim_error(tun, ret) : 0;
}

int wgx_instance_update_pid(struct wgx_instance *inst)
{
	if (inst->pid_fd < 0)
		return -EBADF;
	inst->info.pid = getpid();
	return write_record(inst->pid_fd, &inst->info);
}

void wgx_instance_disown(struct wgx_instance *inst)
{
	if (inst->pid_fd >= 0)
		close(inst->pid_fd);
	inst->pid_fd = -1;
}

void wgx_instance_release(struct wgx_instance *inst)
{
	struct stat mine, there;
	char name[WGX_INSTANCE_NAME_MAX + SUFFIX_MAX + 1];
	int dfd;

	if (inst->pid_fd < 0)
		return;
	/* Best effort: without the directory lock, still clean up. */
	dfd = dir_lock();
	snprintf(name, sizeof(name), "%s.pid", inst->info.tun);
	if (dfd >= 0 && !fstat(inst->pid_fd, &mine) &&
	    !fstatat(dfd, name, &there, AT_SYMLINK_NOFOLLOW) &&
	    mine.st_dev == there.st_dev && mine.st_ino == there.st_ino) {
		unlink_at(dfd, inst->info.tun, ".sock");
		unlink_at(dfd, inst->info.tun, ".pid");
	} else if (dfd < 0) {
		unlink(inst->info.sock_path);
		unlink(inst->pid_path);
	}
	close(inst->pid_fd);
	inst->pid_fd = -1;
	dir_unlock(dfd);
}

/* ---- identity ---- */

int wgx_instance_identity(const struct wgx_instance *inst,
			  struct wgx_control_reply *reply)
{
	const struct wgx_instance_info *i = &inst->info;

	return wgx_control_reply_printf(
		reply,
		"tun=%s\niface=%s\n"
		"netns=%" PRIu64 ":%" PRIu64 "\npid=%d\n",
		i->tun, i->iface, i->netns.dev, i->netns.ino, (int)getpid());
}

static int parse_field(struct wgx_instance_info *info, const char *key,
		       const char *val, unsigned int *seen)
{
	char *end;

	if (!strcmp(key, "tun") || !strcmp(key, "iface")) {
		char *dst = key[0] == 't' ? info->tun : info->iface;

		if (!wgx_instance_name_valid(val))
			return -EPROTO;
		snprintf(dst, WGX_INSTANCE_NAME_MAX, "%s", val);
		*seen |= key[0] == 't' ? 1 : 2;
	} else if (!strcmp(key, "netns")) {
		if (sscanf(val, "%" SCNu64 ":%" SCNu64, &info->netns.dev,
			   &info->netns.ino) != 2)
			return -EPROTO;
		*seen |= 4;
	} else if (!strcmp(key, "pid")) {
		long pid = strtol(val, &end, 10);

		if (end == val || *end || pid <= 0 || pid > INT_MAX)
			return -EPROTO;
		info->pid = (pid_t)pid;
		*seen |= 8;
	}
	return 0;
}

int wgx_instance_identity_parse(const char *text,
				struct wgx_instance_info *info)
{
	unsigned int seen = 0;
	char line[128];

	memset(info, 0, sizeof(*info));
	while (text && *text) {
		const char *nl = strchr(text, '\n');
		size_t len = nl ? (size_t)(nl - text) : strlen(text);
		char *eq;

		if (len >= sizeof(line))
			return -EPROTO;
		memcpy(line, text, len);
		line[len] = '\0';
		text += len + (nl ? 1 : 0);
		eq = strchr(line, '=');
		if (!eq)
			continue;
		*eq = '\0';
		if (parse_field(info, line, eq + 1, &seen))
			return -EPROTO;
	}
	if (seen != 15)
		return -EPROTO;
	return make_path(info->tun, ".sock", info->sock_path,
			 sizeof(info->sock_path));
}

/* ---- CLI side ---- */

int wgx_instance_state(const char *tun, pid_t *pid)
{
	struct wgx_instance_info rec = { 0 };
	char path[sizeof(rundir) + WGX_INSTANCE_NAME_MAX + SUFFIX_MAX];
	int fd, ret;

	ret = make_path(tun, ".pid", path, sizeof(path));
	if (ret)
		return ret;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? WGX_INSTANCE_ABSENT : -errno;
	ret = pidfile_locked(fd);
	read_record(fd, &rec);
	close(fd);
	if (pid)
		*pid = rec.pid;
	if (ret < 0)
		return ret;
	return ret ? WGX_INSTANCE_LIVE : WGX_INSTANCE_STALE;
}

/* Under the directory lock: remove <tun>.pid and .sock when unlocked. */
static int reap_pidfile(int dfd, const char *file, const char *tun)
{
	struct wgx_instance_info old = { 0 };
	struct flock fl = whole_file(F_WRLCK);
	int fd = openat(dfd, file, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	int reaped = 0;

	if (fd < 0)
		return 0;
	/* Taking the lock (not testing it) proves nobody holds it. */
	if (fcntl(fd, F_OFD_SETLK, &fl) == 0) {
		read_record(fd, &old);
		report_stale(tun, &old);
		unlink_at(dfd, tun, ".sock");
		unlink_at(dfd, tun, ".pid");
		reaped = 1;
	}
	close(fd);
	return reaped;
}

/* A socket with no pidfile and no listener is left over: remove it. */
static int reap_socket(int dfd, const char *file, const char *tun)
{
	struct wgx_control_response resp;
	char path[sizeof(rundir) + WGX_INSTANCE_NAME_MAX + SUFFIX_MAX];
	char pidname[WGX_INSTANCE_NAME_MAX + SUFFIX_MAX + 1];
	struct stat st;
	int ret;

	snprintf(pidname, sizeof(pidname), "%s.pid", tun);
	if (!fstatat(dfd, pidname, &st, AT_SYMLINK_NOFOLLOW) ||
	    make_path(tun, ".sock", path, sizeof(path)))
		return 0;
	ret = wgx_control_call(path, "identity", WGX_INSTANCE_PROBE_MS, &resp);
	wgx_control_response_free(&resp);
	if (ret != -ECONNREFUSED)
		return 0;
	wgx_log_warn("Removing stale control socket %s/%s", rundir, file);
	unlink_at(dfd, tun, ".sock");
	return 1;
}

int wgx_instance_reap(void)
{
	struct dirent *e;
	int dfd, count = 0, ret;
	DIR *d;

	ret = wgx_instance_rundir_prepare(false);
	if (ret)
		return ret == -ENOENT ? 0 : ret;
	dfd = dir_lock();
	if (dfd < 0)
		return dfd;
	d = dir_stream(dfd);
	if (!d) {
		ret = -errno;
		dir_unlock(dfd);
		return ret;
	}
	while ((e = readdir(d)) != NULL) {
		char tun[WGX_INSTANCE_NAME_MAX];

		if (name_with_suffix(e->d_name, ".pid", tun))
			count += reap_pidfile(dfd, e->d_name, tun);
		else if (name_with_suffix(e->d_name, ".sock", tun))
			count += reap_socket(dfd, e->d_name, tun);
	}
	closedir(d);
	dir_unlock(dfd);
	return count;
}

/* Ask TUN who it is. 0, -ECONNREFUSED / -ENOENT (nobody), or -errno. */
static int probe(const char *tun, struct wgx_instance_info *info)
{
	struct wgx_control_response resp;
	char path[sizeof(rundir) + WGX_INSTANCE_NAME_MAX + SUFFIX_MAX];
	int ret;

	ret = make_path(tun, ".sock", path, sizeof(path));
	if (ret)
		return ret;
	ret = wgx_control_call(path, "identity", WGX_INSTANCE_PROBE_MS, &resp);
	if (ret == -ENOENT || ret == -ECONNREFUSED) {
		wgx_log_debug("Skipping %s: no daemon listening", path);
	} else if (ret) {
		wgx_log_warn("Couldn't query instance %s: %s", tun, resp.error);
	} else {
		ret = wgx_instance_identity_parse(resp.payload, info);
		if (!ret && strcmp(info->tun, tun))
			ret = -EPROTO;
		if (ret)
			wgx_log_warn("Couldn't query instance %s: "
				     "malformed identity",
				     tun);
	}
	wgx_control_response_free(&resp);
	return ret;
}

static int cmp_info(const void *a, const void *b)
{
	return strcmp(((const struct wgx_instance_info *)a)->tun,
		      ((const struct wgx_instance_info *)b)->tun);
}

static int list_add(struct wgx_instance_info **list, size_t *count, size_t *cap,
		    const struct wgx_instance_info *info)
{
	if (*count == *cap) {
		size_t ncap = *cap ? *cap * 2 : 8;
		struct wgx_instance_info *p =
			reallocarray(*list, ncap, sizeof(**list));

		if (!p)
			return -ENOMEM;
		*list = p;
		*cap = ncap;
	}
	(*list)[(*count)++] = *info;
	return 0;
}

int wgx_instance_list(struct wgx_instance_info **list, size_t *count)
{
	struct wgx_netns self;
	size_t cap = 0;
	struct dirent *e;
	int ret;
	DIR *d;

	*list = NULL;
	*count = 0;
	ret = wgx_instance_netns_self(&self);
	if (!ret)
		ret = wgx_instance_rundir_prepare(false);
	if (ret)
		return ret == -ENOENT ? 0 : ret;
	d = opendir(rundir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while (!ret && (e = readdir(d)) != NULL) {
		struct wgx_instance_info info;
		char tun[WGX_INSTANCE_NAME_MAX];

		if (!name_with_suffix(e->d_name, ".sock", tun) ||
		    probe(tun, &info))
			continue;
		if (!wgx_instance_netns_equal(&info.netns, &self))
			continue;
		ret = list_add(list, count, &cap, &info);
	}
	closedir(d);
	if (ret) {
		free(*list);
		*list = NULL;
		*count = 0;
		return ret;
	}
	if (*count > 1)
		qsort(*list, *count, sizeof(**list), cmp_info);
	return 0;
}

int wgx_instance_find_iface(const char *iface, struct wgx_instance_info *info)
{
	struct wgx_instance_info *list;
	size_t count;
	int ret;

	if (!wgx_instance_name_valid(iface))
		return -EINVAL;
	ret = wgx_instance_list(&list, &count);
	if (ret)
		return ret;
	ret = -ENOENT;
	for (size_t i = 0; i < count; i++) {
		if (!strcmp(list[i].iface, iface)) {
			*info = list[i];
			ret = 0;
			break;
		}
	}
	free(list);
	return ret;
}

int wgx_instance_find_tun(const char *tun, struct wgx_instance_info *info)
{
	struct wgx_netns self;
	int ret;

	if (!wgx_instance_name_valid(tun))
		return -EINVAL;
	ret = wgx_instance_netns_self(&self);
	if (ret)
		return ret;
	ret = probe(tun, info);
	if (ret == -ECONNREFUSED)
		return -ENOENT;
	if (ret)
		return ret;
	if (!wgx_instance_netns_equal(&info->netns, &self)) {
		wgx_log_debug("Instance %s lives in another network namespace",
			      tun);
		return -ENOENT;
	}
	return 0;
}

int wgx_instance_wait_exit(const char *tun, int timeout_ms)
{
	for (int waited = 0;; waited += 20) {
		int state = wgx_instance_state(tun, NULL);

		if (state < 0)
			return state;
		if (state != WGX_INSTANCE_LIVE)
			return 0;
		if (waited >= timeout_ms)
			return -ETIMEDOUT;
		sleep_ms(20);
	}
}
