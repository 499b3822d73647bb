// SPDX-License-Identifier: MIT
/*
 * Two ways onto an interface. Where the kernel can run libxdp's
 * multi-program dispatcher (our probe, bpf/wgxdp_probe.bpf.c, replaces a
 * global function the way the dispatcher's slots are replaced), libxdp
 * builds or extends it, so other XDP programs can share the interface.
 * Everywhere else our program is attached alone through a bpf_link that
 * this process owns: when the process ends, kill -9 included, the kernel
 * detaches it, so a dead daemon's program never goes on dropping traffic
 * for the port. (libxdp's own fallback, a netlink attachment, would
 * outlive the process.) The dispatcher path cannot give that guarantee:
 * libxdp attaches the dispatcher by netlink and holds each program in it
 * by a link pinned in bpffs, by design, so that several processes share
 * it; a crashed instance's program stays there until the next attach or
 * detach reclaims it. We never replace what is there except a foreign
 * program the caller asked us (force) to remove, and our own stale one.
 *
 * Maps are pinned by us after the attach, never through libbpf's pin_path
 * at load time: libbpf would silently reuse an old pin, and a stale map
 * must never end up under a new program.
 */
#include "agent/loader.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/if_link.h>
#include <linux/magic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/types.h>
#include <unistd.h>
#include <xdp/libxdp.h>

#include "util/ifname.h"
#include "util/log.h"
#include "wgxdp.skel.h"
#include "wgxdp_probe.skel.h"

static const char *const stat_names[WGX_XDP_STAT_COUNT] = {
#define WGX_LOADER_STAT_NAME(id, name) [WGX_XDP_STAT_##id] = name,
	WGX_XDP_STATS_LIST(WGX_LOADER_STAT_NAME)
#undef WGX_LOADER_STAT_NAME
};

/* The contract of each map: its name in the object and its pin, type and
 * sizes. value_size 0: any unsigned integer (local_addrs holds "1"). */
static const struct map_spec {
	const char *obj_name;
	const char *pin_name;
	enum bpf_map_type type;
	uint32_t key_size;
	uint32_t value_size;
} map_specs[WGX_LOADER_MAP_COUNT] = {
	[WGX_LOADER_MAP_SESSIONS] = { "wgx_sessions", "sessions",
				      BPF_MAP_TYPE_HASH,
				      sizeof(struct wgx_session_key),
				      sizeof(struct wgx_session_value) },
	[WGX_LOADER_MAP_STATS] = { "wgx_stats", "stats",
				   BPF_MAP_TYPE_PERCPU_ARRAY, sizeof(uint32_t),
				   sizeof(struct wgx_xdp_counter) },
	[WGX_LOADER_MAP_XSKS] = { "wgx_xsks", "xsks", BPF_MAP_TYPE_XSKMAP,
				  sizeof(uint32_t), sizeof(uint32_t) },
	[WGX_LOADER_MAP_CONFIG] = { "wgx_config", "config", BPF_MAP_TYPE_ARRAY,
				    sizeof(uint32_t),
				    sizeof(struct wgx_xdp_config) },
	[WGX_LOADER_MAP_LOCAL_ADDRS] = { "wgx_local_addrs", "local_addrs",
					 BPF_MAP_TYPE_HASH,
					 sizeof(struct wgx_addr_key), 0 },
	[WGX_LOADER_MAP_DENY] = { "wgx_deny", "deny", BPF_MAP_TYPE_LRU_HASH,
				  sizeof(struct wgx_addr_key),
				  sizeof(struct wgx_deny_value) },
	[WGX_LOADER_MAP_XSK_QUEUES] = { "wgx_xsk_queues", "xsk_queues",
					BPF_MAP_TYPE_ARRAY, sizeof(uint32_t),
					sizeof(struct wgx_xsk_queue) },
	[WGX_LOADER_MAP_RX_HORIZON] = { "wgx_rx_horizon", "rx_horizon",
					BPF_MAP_TYPE_LRU_HASH,
					sizeof(struct wgx_session_key),
					sizeof(struct wgx_rx_horizon) },
};

static const char *const mode_names[] = {
	[WGX_LOADER_MODE_AUTO] = "auto",
	[WGX_LOADER_MODE_NATIVE] = "native",
	[WGX_LOADER_MODE_SKB] = "skb",
};

const char *wgx_loader_mode_name(enum wgx_loader_mode mode)
{
	if ((unsigned int)mode >= sizeof(mode_names) / sizeof(mode_names[0]))
		return "unknown";
	return mode_names[mode];
}

int wgx_loader_mode_parse(const char *name, enum wgx_loader_mode *mode)
{
	for (unsigned int i = 0; name && i < 3; i++) {
		if (!strcmp(name, mode_names[i])) {
			*mode = (enum wgx_loader_mode)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *wgx_loader_map_name(enum wgx_loader_map map)
{
	if ((unsigned int)map >= WGX_LOADER_MAP_COUNT)
		return NULL;
	return map_specs[map].pin_name;
}

const char *wgx_loader_stat_name(unsigned int id)
{
	return id < WGX_XDP_STAT_COUNT ? stat_names[id] : NULL;
}

/* ---- libbpf and libxdp messages ---- */

/*
 * Both libraries print to stderr by default. Their messages go to our
 * debug log instead; two are kept to explain a failure in our own words:
 * the kernel's extended ACK ("Kernel error message: ...") and libxdp's
 * reason for not using its dispatcher.
 */
static char kernel_msg[160];
static char dispatcher_msg[160];

static void lib_message(const char *fmt, va_list ap)
{
	static const char kern[] = "Kernel error message: ";
	char buf[WGX_LOG_MSG_MAX];
	size_t len;
	const char *p, *k;

	vsnprintf(buf, sizeof(buf), fmt, ap);
	len = strlen(buf);
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
		buf[--len] = '\0';
	p = buf;
	while (*p == ' ')
		p++;
	if (!*p)
		return;
	wgx_log_debug("%s", p); /* "libbpf: ..." or "libxdp: ..." */
	if ((k = strstr(p, kern)))
		snprintf(kernel_msg, sizeof(kernel_msg), "%s",
			 k + sizeof(kern) - 1);
	else if (strstr(p, "ispatcher") &&
		 (strstr(p, "failed") || strstr(p, "Can't")))
		snprintf(dispatcher_msg, sizeof(dispatcher_msg), "%s", p);
}

static int libbpf_message(enum libbpf_print_level level, const char *fmt,
			  va_list ap)
{
	/* libbpf's debug chatter costs a format each; skip it unless asked */
	if (level == LIBBPF_DEBUG && wgx_log_get_level() < WGX_LOG_DEBUG)
		return 0;
	lib_message(fmt, ap);
	return 0;
}

static int libxdp_message(enum libxdp_print_level level, const char *fmt,
			  va_list ap)
{
	if (level == LIBXDP_DEBUG && wgx_log_get_level() < WGX_LOG_DEBUG)
		return 0;
	lib_message(fmt, ap);
	return 0;
}

static void route_lib_logs(void)
{
	static bool done;

	if (done)
		return;
	done = true;
	libbpf_set_print(libbpf_message);
	libxdp_set_print(libxdp_message);
}

/* ---- paths and bpffs ---- */

/*
 * The classifier compiled into this binary by its bpftool skeleton, as a
 * path libxdp can open: an in-memory file written once per process, so
 * the program needs no object file on disk and cannot pick up a stale one.
 */
static int embedded_obj(char *buf, size_t len)
{
	static int fd = -1;
	size_t size = 0;
	const void *bytes = wgxdp__elf_bytes(&size);

	if (fd < 0) {
		int m = memfd_create(WGX_LOADER_OBJ_NAME, MFD_CLOEXEC);

		if (m < 0)
			return -errno;
		if (write(m, bytes, size) != (ssize_t)size) {
			close(m);
			return -EIO;
		}
		fd = m;
	}
	if ((size_t)snprintf(buf, len, "/proc/self/fd/%d", fd) >= len)
		return -ENAMETOOLONG;
	return 0;
}

int wgx_loader_default_obj(char *buf, size_t len)
{
	const char *env = getenv(WGX_LOADER_OBJ_ENV);
	int err;

	if (env && *env) {
		if ((size_t)snprintf(buf, len, "%s", env) >= len)
			return -ENAMETOOLONG;
		return 0;
	}
	err = embedded_obj(buf, len);
	if (err)
		wgx_log_error("Couldn't load the built-in XDP object: %s",
			      strerror(-err));
	return err;
}

static int check_iface(const char *iface, const char *what)
{
	const char *why = "is missing";

	if (iface && !wgx_ifname_check(iface, &why))
		return 0;
	wgx_log_error("Couldn't %s: interface name '%s' %s", what,
		      iface ? iface : "", why);
	return -EINVAL;
}

int wgx_loader_pin_dir(const char *iface, char *buf, size_t len)
{
	if (!iface || wgx_ifname_check(iface, NULL))
		return -EINVAL;
	if ((size_t)snprintf(buf, len, "%s/%s", WGX_PIN_ROOT, iface) >= len)
		return -ENAMETOOLONG;
	return 0;
}

static int pin_path(const char *dir, const char *name, char *buf, size_t len)
{
	if ((size_t)snprintf(buf, len, "%s/%s", dir, name) >= len)
		return -ENAMETOOLONG;
	return 0;
}

static bool is_bpffs(const char *path)
{
	struct statfs st;

	return !statfs(path, &st) && st.f_type == BPF_FS_MAGIC;
}

int wgx_loader_bpffs_ensure(void)
{
	if (is_bpffs(WGX_LOADER_BPFFS))
		return 0;
	/* Not mounted at boot on some systems, and `ip netns exec` gives a
	 * fresh /sys without it. */
	if (mount("bpf", WGX_LOADER_BPFFS, "bpf", 0, "mode=0700")) {
		int err = -errno;

		wgx_log_error("Couldn't mount bpffs at %s: %s",
			      WGX_LOADER_BPFFS, strerror(-err));
		return err;
	}
	/* Debug: under `ip netns exec` this happens on every command (a
	 * fresh /sys each time) and would add a line to each message. */
	wgx_log_debug("Mounted bpffs at %s", WGX_LOADER_BPFFS);
	return 0;
}

/* ---- pins ---- */

static int mkdir_private(const char *path)
{
	if (mkdir(path, 0700) && errno != EEXIST) {
		int err = -errno;

		wgx_log_error("Couldn't create %s: %s", path, strerror(-err));
		return err;
	}
	return 0;
}

static int pin_one(int fd, const char *dir, const char *name)
{
	char path[WGX_LOADER_PATH_MAX + 32];
	int err = pin_path(dir, name, path, sizeof(path));

	if (!err && bpf_obj_pin(fd, path))
		err = -errno;
	if (err)
		wgx_log_error("Couldn't pin %s: %s", path, strerror(-err));
	return err;
}

static int pin_all(const struct wgx_loader *ld, int prog_fd)
{
	int err = mkdir_private(WGX_PIN_ROOT);

	if (!err)
		err = mkdir_private(ld->pin_dir);
	for (int i = 0; !err && i < WGX_LOADER_MAP_COUNT; i++)
		err = pin_one(ld->map_fd[i], ld->pin_dir,
			      map_specs[i].pin_name);
	if (!err)
		err = pin_one(prog_fd, ld->pin_dir, WGX_LOADER_PROG_PIN);
	return err;
}

static int unlink_pin(const char *dir, const char *name)
{
	char path[WGX_LOADER_PATH_MAX + 32];

	if (pin_path(dir, name, path, sizeof(path)) ||
	    (unlink(path) && errno != ENOENT)) {
		wgx_log_warn("Couldn't remove pin %s: %s", path,
			     strerror(errno));
		return -errno;
	}
	return 0;
}

/* Remove our pins and the directory; what is not ours stays. */
static int unpin_all(const char *dir)
{
	int err = 0;

	/* every pin is tried; the last failure is returned */
	for (int i = 0; i <= WGX_LOADER_MAP_COUNT; i++) {
		int e = unlink_pin(dir, i < WGX_LOADER_MAP_COUNT
						? map_specs[i].pin_name
						: WGX_LOADER_PROG_PIN);

		if (e)
			err = e;
	}
	if (rmdir(dir) && errno != ENOENT) {
		err = -errno;
		wgx_log_warn("Couldn't remove %s: %s", dir, strerror(-err));
	}
	/* WGX_PIN_ROOT stays: removing it could race with another
	 * instance's mkdir of its own directory below it. */
	return err;
}

static bool dir_exists(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISDIR(st.st_mode);
}

/* ---- what is on an interface ---- */

static enum wgx_loader_mode from_xdp_mode(enum xdp_attach_mode m)
{
	return m == XDP_MODE_SKB ? WGX_LOADER_MODE_SKB : WGX_LOADER_MODE_NATIVE;
}

static enum xdp_attach_mode to_xdp_mode(enum wgx_loader_mode m)
{
	return m == WGX_LOADER_MODE_SKB ? XDP_MODE_SKB : XDP_MODE_NATIVE;
}

static bool is_ours(const struct xdp_program *p)
{
	const char *name = xdp_program__name(p);

	return name && !strcmp(name, WGX_XDP_PROG_NAME);
}

/* The interface's programs as libxdp sees them; NULL when none. */
static struct xdp_multiprog *get_multiprog(int ifindex, int *err)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);
	long e = libxdp_get_error(mp);

	*err = 0;
	if (!e && mp)
		return mp;
	/* ENOENT: nothing attached (libxdp's way to say so) */
	if (e && e != -ENOENT)
		*err = (int)e;
	return NULL;
}

static void fill_status(struct xdp_multiprog *mp, struct wgx_loader_status *st)
{
	struct xdp_program *top = xdp_multiprog__main_prog(mp);
	struct xdp_program *p = NULL;

	if (xdp_multiprog__hw_prog(mp))
		st->foreign = true; /* we never offload */
	if (!top)
		return;
	st->prog_id = xdp_program__id(top);
	snprintf(st->prog_name, sizeof(st->prog_name), "%s",
		 xdp_program__name(top) ?: "");
	st->mode = from_xdp_mode(xdp_multiprog__attach_mode(mp));
	st->dispatcher = !xdp_multiprog__is_legacy(mp);
	if (!st->dispatcher) {
		if (is_ours(top))
			st->ours_id = st->prog_id;
		else
			st->foreign = true;
		return;
	}
	while ((p = xdp_multiprog__next_prog(p, mp))) {
		if (is_ours(p))
			st->ours_id = xdp_program__id(p);
		else
			st->foreign = true;
	}
}

static int query_ifindex(int ifindex, const char *iface,
			 struct wgx_loader_status *st)
{
	struct xdp_multiprog *mp;
	char dir[WGX_LOADER_PATH_MAX];
	int err;

	memset(st, 0, sizeof(*st));
	err = wgx_loader_pin_dir(iface, dir, sizeof(dir));
	if (err)
		return err;
	st->pinned = dir_exists(dir);
	if (!ifindex)
		return 0;
	mp = get_multiprog(ifindex, &err);
	if (err) {
		wgx_log_error("Couldn't query the XDP programs of %s: %s",
			      iface, strerror(-err));
		return err;
	}
	if (mp) {
		fill_status(mp, st);
		xdp_multiprog__close(mp);
	}
	return 0;
}

static int iface_index(const char *iface, const char *what)
{
	unsigned int ifindex = if_nametoindex(iface);

	if (!ifindex)
		wgx_log_error("Couldn't %s: no interface %s", what, iface);
	return (int)ifindex;
}

int wgx_loader_query(const char *iface, struct wgx_loader_status *st)
{
	int ifindex, err;

	err = check_iface(iface, "query XDP");
	if (err)
		return err;
	route_lib_logs();
	ifindex = iface_index(iface, "query XDP");
	if (!ifindex)
		return -ENODEV;
	/* libxdp reads a dispatcher's programs from its pins in bpffs */
	err = wgx_loader_bpffs_ensure();
	return err ?: query_ifindex(ifindex, iface, st);
}

/*
 * libxdp before 1.4.1 leaks the descriptor it opens by id for the program
 * on the interface in every xdp_multiprog__get_from_ifindex() (it keeps
 * a dup and never closes the original). Once a stale or foreign program
 * is off the interface nothing of ours owns a descriptor of it (only
 * called then, never for our own program), so close whatever refers to it:
 * otherwise a reclaimed stale (or a replaced foreign) program stays
 * loaded, detached, for as long as this process lives.
 */
static void drop_prog_fds(uint32_t id)
{
	char path[64], line[64];
	struct dirent *de;
	DIR *d;

	d = opendir("/proc/self/fd");
	if (!d)
		return;
	while ((de = readdir(d))) {
		int fd = atoi(de->d_name);
		unsigned int got = 0;
		FILE *f;

		if (fd <= STDERR_FILENO || fd == dirfd(d))
			continue;
		snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
		f = fopen(path, "re");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "prog_id: %u", &got) == 1)
				break;
		fclose(f);
		if (got == id)
			close(fd);
	}
	closedir(d);
}

/* ---- removing programs ---- */

/*
 * Take the program with id (id 0: any named wgx_xdp) off ifindex: the
 * program alone, or its slot in the dispatcher. *gone gets its id; 0 when
 * it was not there.
 */
/*
 * The bpf_link that holds program prog_id on ifindex, as a descriptor of
 * ours; -ENOENT when it was attached otherwise (netlink).
 */
static int find_link(int ifindex, uint32_t prog_id)
{
	uint32_t id = 0;

	while (!bpf_link_get_next_id(id, &id)) {
		struct bpf_link_info info;
		uint32_t len = sizeof(info);
		int fd = bpf_link_get_fd_by_id(id);

		if (fd < 0)
			continue; /* gone meanwhile */
		memset(&info, 0, sizeof(info));
		if (!bpf_obj_get_info_by_fd(fd, &info, &len) &&
		    info.type == BPF_LINK_TYPE_XDP &&
		    info.xdp.ifindex == (uint32_t)ifindex &&
		    info.prog_id == prog_id)
			return fd;
		close(fd);
	}
	return -ENOENT;
}

/* A program alone on the interface: through its link if it has one (a
 * netlink detach cannot remove a link's program), else by netlink. */
static int remove_single(int ifindex, struct xdp_multiprog *mp, uint32_t id)
{
	int fd = find_link(ifindex, id), err;

	if (fd < 0)
		return xdp_multiprog__detach(mp);
	err = bpf_link_detach(fd) ? -errno : 0;
	close(fd);
	return err;
}

static int remove_prog(int ifindex, const char *iface, uint32_t id,
		       uint32_t *gone)
{
	struct xdp_multiprog *mp;
	struct xdp_program *top, *p = NULL;
	int err;

	*gone = 0;
	mp = get_multiprog(ifindex, &err);
	if (!mp)
		return err;
	top = xdp_multiprog__main_prog(mp);
	if (xdp_multiprog__is_legacy(mp)) {
		if (top && (id ? xdp_program__id(top) == id : is_ours(top))) {
			*gone = xdp_program__id(top);
			err = remove_single(ifindex, mp, *gone);
		}
		goto out;
	}
	while ((p = xdp_multiprog__next_prog(p, mp))) {
		if (id ? xdp_program__id(p) == id : is_ours(p)) {
			*gone = xdp_program__id(p);
			err = xdp_program__detach(
				p, ifindex, xdp_multiprog__attach_mode(mp), 0);
			break;
		}
	}
out:
	if (err)
		wgx_log_error("Couldn't detach XDP program %u from %s: %s",
			      *gone, iface, strerror(-err));
	xdp_multiprog__close(mp);
	return err;
}

/* Detach every program from ifindex (force over a foreign one). */
static int remove_foreign(int ifindex, const struct wgx_loader_status *st,
			  const char *iface)
{
	struct xdp_multiprog *mp;
	int err;

	mp = get_multiprog(ifindex, &err);
	if (!mp)
		return err;
	wgx_log_warn("Replacing XDP program '%s' (id %u) on %s, as forced",
		     st->prog_name, st->prog_id, iface);
	err = xdp_multiprog__is_legacy(mp)
		      ? remove_single(ifindex, mp, st->prog_id)
		      : xdp_multiprog__detach(mp);
	if (err)
		wgx_log_error("Couldn't detach XDP program '%s' from %s: %s",
			      st->prog_name, iface, strerror(-err));
	xdp_multiprog__close(mp);
	if (!err)
		drop_prog_fds(st->prog_id);
	return err;
}

static int reclaim(int ifindex, const char *iface)
{
	char dir[WGX_LOADER_PATH_MAX];
	uint32_t gone = 0;
	int err = 0, found = 0;

	if (ifindex) {
		err = remove_prog(ifindex, iface, 0, &gone);
		if (err)
			return err;
	}
	if (gone) {
		drop_prog_fds(gone);
		wgx_log_warn("Removed stale wgxdp XDP program (id %u) from %s: "
			     "its instance is gone",
			     gone, iface);
		found = 1;
	}
	err = wgx_loader_pin_dir(iface, dir, sizeof(dir));
	if (!err && dir_exists(dir)) {
		err = unpin_all(dir);
		if (!err)
			wgx_log_warn("Removed stale pins %s", dir);
		found = 1;
	}
	return err ?: found;
}

int wgx_loader_reclaim(const char *iface)
{
	int err = check_iface(iface, "reclaim XDP");

	if (err)
		return err;
	route_lib_logs();
	err = wgx_loader_bpffs_ensure();
	/* The interface may be gone; its pins may not. */
	return err ?: reclaim((int)if_nametoindex(iface), iface);
}

/* ---- attaching ---- */

static int take_down(struct wgx_loader *ld);

static void loader_reset(struct wgx_loader *ld)
{
	memset(ld, 0, sizeof(*ld));
	for (int i = 0; i < WGX_LOADER_MAP_COUNT; i++)
		ld->map_fd[i] = -1;
	ld->link_fd = -1;
}

static int check_map(struct bpf_object *obj, const struct map_spec *spec,
		     const char *path)
{
	struct bpf_map *map = bpf_object__find_map_by_name(obj, spec->obj_name);
	uint32_t vs;

	if (!map) {
		wgx_log_error("Couldn't use %s: it has no map %s", path,
			      spec->obj_name);
		return -ENOENT;
	}
	vs = bpf_map__value_size(map);
	if (bpf_map__type(map) != spec->type ||
	    bpf_map__key_size(map) != spec->key_size ||
	    (spec->value_size ? vs != spec->value_size
			      : vs != 1 && vs != 2 && vs != 4 && vs != 8)) {
		wgx_log_error("Couldn't use %s: map %s is not what wgx_bpf.h "
			      "says (type %d, key %u, value %u bytes)",
			      path, spec->obj_name, bpf_map__type(map),
			      bpf_map__key_size(map), vs);
		return -EPROTO;
	}
	/* Pins are ours to place (see the top of this file). */
	return bpf_map__set_pin_path(map, NULL);
}

uint32_t wgx_loader_sessions_for_peers(size_t peers)
{
	/* Four indices per peer, twice over for peers added later. */
	uint64_t want = (uint64_t)peers * 8, n = WGX_XDP_MAX_SESSIONS;

	while (n < want && n < WGX_XDP_SESSIONS_LIMIT)
		n *= 2;
	return (uint32_t)n;
}

uint32_t wgx_loader_horizons_for_peers(size_t peers)
{
	uint64_t n = (uint64_t)peers * 4;

	if (n < 1024)
		return 1024;
	return n > WGX_XDP_MAX_HORIZONS ? WGX_XDP_MAX_HORIZONS : (uint32_t)n;
}

/* Map name in the object gets max entries (0: as the object says). */
static int size_map(struct bpf_object *obj, const char *name, uint32_t max)
{
	struct bpf_map *map = bpf_object__find_map_by_name(obj, name);
	int err;

	if (!max || !map)
		return 0;
	err = bpf_map__set_max_entries(map, max);
	if (err)
		wgx_log_error("Couldn't size map %s for %u entries: %s", name,
			      max, strerror(-err));
	return err;
}

static struct xdp_program *open_prog(const char *path,
				     const struct wgx_loader_opts *o, int *err)
{
	struct xdp_program_opts opts;
	struct xdp_program *prog;
	struct bpf_object *obj;

	/* DECLARE_LIBXDP_OPTS spelled out (cppcheck cannot expand it) */
	memset(&opts, 0, sizeof(opts));
	opts.sz = sizeof(opts);
	opts.open_filename = path;
	opts.prog_name = WGX_XDP_PROG_NAME;
	prog = xdp_program__create(&opts);

	*err = (int)libxdp_get_error(prog);
	if (*err || !prog) {
		*err = *err ?: -EINVAL;
		wgx_log_error("Couldn't open XDP object %s (program %s): %s",
			      path, WGX_XDP_PROG_NAME, strerror(-*err));
		return NULL;
	}
	obj = xdp_program__bpf_obj(prog);
	for (int i = 0; !*err && i < WGX_LOADER_MAP_COUNT; i++)
		*err = check_map(obj, &map_specs[i], path);
	/* The sessions map allocates entries as they are used. */
	if (!*err)
		*err = size_map(obj, "wgx_sessions", o->max_sessions);
	if (!*err)
		*err = size_map(obj, "wgx_rx_horizon", o->max_horizons);
	if (*err) {
		xdp_program__close(prog);
		return NULL;
	}
	return prog;
}

static const char *mode_failure(int err, enum wgx_loader_mode mode)
{
	if (mode == WGX_LOADER_MODE_NATIVE && err == -EOPNOTSUPP)
		return "the driver has no native XDP support";
	if (err == -EEXIST || err == -EBUSY)
		return "another XDP program is attached";
	return strerror(-err);
}

static void log_attach_failure(const struct wgx_loader_opts *opts,
			       enum wgx_loader_mode mode, int err)
{
	char why[WGX_LOG_MSG_MAX / 2];

	snprintf(why, sizeof(why), "%s%s%s%s", mode_failure(err, mode),
		 kernel_msg[0] ? " (kernel: " : "", kernel_msg,
		 kernel_msg[0] ? ")" : "");
	bool skb_first = opts->auto_first == WGX_LOADER_MODE_SKB;
	enum wgx_loader_mode first =
		skb_first ? WGX_LOADER_MODE_SKB : WGX_LOADER_MODE_NATIVE;

	if (opts->mode == WGX_LOADER_MODE_AUTO && mode == first)
		wgx_log_info("%s XDP is not available on %s: %s; trying %s "
			     "mode",
			     skb_first ? "Generic" : "Native", opts->iface, why,
			     skb_first ? "native" : "skb");
	else
		wgx_log_error("Couldn't attach XDP to %s in %s mode: %s",
			      opts->iface, wgx_loader_mode_name(mode), why);
}

/*
 * Can libxdp's dispatcher run here? Our probe does what the dispatcher
 * needs: an XDP program with a global function, and an extension program
 * that replaces it, attached. 0, or -errno with the reason in why.
 */
static int probe_dispatcher(char *why, size_t len)
{
	struct wgxdp_probe *host = NULL, *ext = NULL;
	struct bpf_link *link = NULL;
	const char *step = "load the probe";
	int err, host_fd;

	host = wgxdp_probe__open();
	err = host ? 0 : -errno;
	if (!err)
		err = bpf_program__set_autoload(host->progs.wgx_probe_ext,
						false);
	if (!err)
		err = wgxdp_probe__load(host);
	if (!err) {
		step = "load an extension program";
		ext = wgxdp_probe__open();
		err = ext ? 0 : -errno;
	}
	if (!err) {
		host_fd = bpf_program__fd(host->progs.wgx_probe);
		err = bpf_program__set_autoload(ext->progs.wgx_probe, false);
		if (!err)
			err = bpf_program__set_attach_target(
				ext->progs.wgx_probe_ext, host_fd,
				"wgx_probe_slot");
		if (!err)
			err = wgxdp_probe__load(ext);
	}
	if (!err) {
		step = "attach an extension program";
		link = bpf_program__attach_freplace(ext->progs.wgx_probe_ext,
						    host_fd, "wgx_probe_slot");
		err = (int)libbpf_get_error(link);
		if (err)
			link = NULL;
	}
	if (err)
		snprintf(why, len, "couldn't %s: %s", step, strerror(-err));
	bpf_link__destroy(link);
	wgxdp_probe__destroy(ext);
	wgxdp_probe__destroy(host);
	return err;
}

/* The link's mode, never left to the kernel's choice. */
static uint32_t link_flags(enum wgx_loader_mode mode)
{
	return mode == WGX_LOADER_MODE_SKB ? XDP_FLAGS_SKB_MODE
					   : XDP_FLAGS_DRV_MODE;
}

/*
 * Our program alone, through a bpf_link owned by this process: load the
 * object libxdp opened (libxdp only loads at attach) and link it.
 */
static int link_attach(struct xdp_program *prog, int ifindex,
		       enum wgx_loader_mode mode, int *link_fd)
{
	struct bpf_object *obj = xdp_program__bpf_obj(prog);
	struct bpf_program *p;
	LIBBPF_OPTS(bpf_link_create_opts, lo);
	int err;

	lo.flags = link_flags(mode);
	err = bpf_object__load(obj);
	if (err)
		return err;
	p = bpf_object__find_program_by_name(obj, WGX_XDP_PROG_NAME);
	if (!p)
		return -ENOENT;
	*link_fd = bpf_link_create(bpf_program__fd(p), ifindex, BPF_XDP, &lo);
	if (*link_fd < 0) {
		err = -errno;
		wgx_log_debug("bpf_link_create(XDP, %s mode): %s",
			      wgx_loader_mode_name(mode), strerror(-err));
		*link_fd = -1;
		return err;
	}
	return 0;
}

/* The loaded program's descriptor, whichever way it was attached. */
static int prog_fd_of(struct xdp_program *prog)
{
	struct bpf_program *p = bpf_object__find_program_by_name(
		xdp_program__bpf_obj(prog), WGX_XDP_PROG_NAME);

	return p ? bpf_program__fd(p) : -1;
}

static uint32_t prog_id_of(int fd)
{
	struct bpf_prog_info info;
	uint32_t len = sizeof(info);

	memset(&info, 0, sizeof(info));
	return fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &len) ? info.id
								   : 0;
}

/* One attempt in one mode, with a fresh copy of the object each time: a
 * failed attempt may leave its copy loaded in a form the next cannot use. */
static int attach_mode(struct wgx_loader *ld,
		       const struct wgx_loader_opts *opts, const char *path,
		       enum wgx_loader_mode mode, bool dispatcher,
		       struct xdp_program **out, bool *opened)
{
	struct xdp_program *prog;
	int err;

	*out = NULL;
	prog = open_prog(path, opts, &err);
	*opened = prog != NULL;
	if (!prog)
		return err;
	kernel_msg[0] = '\0';
	if (dispatcher)
		err = xdp_program__attach(prog, ld->ifindex, to_xdp_mode(mode),
					  0);
	else
		err = link_attach(prog, ld->ifindex, mode, &ld->link_fd);
	if (err) {
		log_attach_failure(opts, mode, err);
		xdp_program__close(prog);
		/* libxdp's "raced with another attach" */
		return err == -EAGAIN ? -EBUSY : err;
	}
	*out = prog;
	return 0;
}

static int take_maps(struct wgx_loader *ld, struct xdp_program *prog)
{
	struct bpf_object *obj = xdp_program__bpf_obj(prog);

	for (int i = 0; i < WGX_LOADER_MAP_COUNT; i++) {
		struct bpf_map *map = bpf_object__find_map_by_name(
			obj, map_specs[i].obj_name);
		int fd = map ? bpf_map__fd(map) : -1;

		/* Our own copies: the libxdp program is closed after attach. */
		ld->map_fd[i] = fd < 0 ? -1 : fcntl(fd, F_DUPFD_CLOEXEC, 3);
		if (ld->map_fd[i] < 0) {
			int err = fd < 0 ? -EBADF : -errno;

			wgx_log_error("Couldn't get map %s: %s",
				      map_specs[i].obj_name, strerror(-err));
			return err;
		}
	}
	return 0;
}

static void close_maps(struct wgx_loader *ld)
{
	for (int i = 0; i < WGX_LOADER_MAP_COUNT; i++) {
		if (ld->map_fd[i] >= 0)
			close(ld->map_fd[i]);
		ld->map_fd[i] = -1;
	}
}

static void report_attach(const struct wgx_loader *ld, const char *why)
{
	if (ld->dispatcher)
		wgx_log_info("Attached %s (id %u) to %s in %s mode through "
			     "libxdp's dispatcher",
			     WGX_XDP_PROG_NAME, ld->prog_id, ld->iface,
			     wgx_loader_mode_name(ld->mode));
	else
		wgx_log_info("Attached %s (id %u) to %s in %s mode as a single "
			     "program through a bpf_link of this process%s%s%s",
			     WGX_XDP_PROG_NAME, ld->prog_id, ld->iface,
			     wgx_loader_mode_name(ld->mode), why[0] ? " (" : "",
			     why, why[0] ? ")" : "");
}

/* Hold the maps, pin everything, say what we got. */
static int finish_attach(struct wgx_loader *ld, struct xdp_program *prog,
			 const char *why)
{
	struct wgx_loader_status st;
	int err, fd = prog_fd_of(prog);

	ld->prog_id = prog_id_of(fd);
	ld->active = true;
	err = take_maps(ld, prog);
	if (!err)
		err = pin_all(ld, fd);
	if (!err)
		err = query_ifindex(ld->ifindex, ld->iface, &st);
	if (!err && st.ours_id != ld->prog_id) {
		wgx_log_error("Couldn't find %s on %s after attaching it",
			      WGX_XDP_PROG_NAME, ld->iface);
		err = -ENOENT;
	}
	if (err)
		return err;
	ld->dispatcher = st.dispatcher;
	report_attach(ld, why);
	return 0;
}

/*
 * libxdp chose its netlink fallback after all (a reason our probe did not
 * see): move the program to a bpf_link, so it does not outlive us.
 */
static int relink(struct wgx_loader *ld, struct xdp_program *prog)
{
	uint32_t gone = 0;
	int err = remove_prog(ld->ifindex, ld->iface, ld->prog_id, &gone);
	LIBBPF_OPTS(bpf_link_create_opts, lo);

	if (err)
		return err;
	lo.flags = link_flags(ld->mode);
	ld->link_fd =
		bpf_link_create(prog_fd_of(prog), ld->ifindex, BPF_XDP, &lo);
	if (ld->link_fd < 0) {
		err = -errno;
		ld->link_fd = -1;
		wgx_log_error("Couldn't attach %s to %s through a bpf_link: %s",
			      WGX_XDP_PROG_NAME, ld->iface, strerror(-err));
		return err;
	}
	wgx_log_info("libxdp attached %s without its dispatcher (%s): moved "
		     "it to a bpf_link of this process",
		     WGX_XDP_PROG_NAME,
		     dispatcher_msg[0] ? dispatcher_msg : "no reason given");
	return 0;
}

/* What is already on the interface decides whether we may go on. */
static int clear_the_way(const struct wgx_loader_opts *opts, int ifindex,
			 bool *has_dispatcher)
{
	struct wgx_loader_status st;
	int err = query_ifindex(ifindex, opts->iface, &st);

	if (!err && (st.ours_id || st.pinned)) {
		if (!opts->reclaim_stale) {
			wgx_log_error("Couldn't attach XDP to %s: wgxdp's "
				      "program or pins are already there",
				      opts->iface);
			return -EBUSY;
		}
		err = reclaim(ifindex, opts->iface);
		if (err > 0)
			err = query_ifindex(ifindex, opts->iface, &st);
	}
	*has_dispatcher = err >= 0 && st.dispatcher;
	/* A dispatcher is shared, never replaced. */
	if (err < 0 || !st.foreign || st.dispatcher)
		return err < 0 ? err : 0;
	if (!opts->force) {
		wgx_log_error("Couldn't attach XDP to %s: XDP program '%s' "
			      "(id %u) is already attached; use --force to "
			      "replace it",
			      opts->iface, st.prog_name, st.prog_id);
		return -EEXIST;
	}
	return remove_foreign(ifindex, &st, opts->iface);
}

static int attach_modes(struct wgx_loader *ld,
			const struct wgx_loader_opts *opts, const char *path,
			bool dispatcher, struct xdp_program **prog)
{
	enum wgx_loader_mode order[] = { WGX_LOADER_MODE_NATIVE,
					 WGX_LOADER_MODE_SKB };
	bool opened = true;

	if (opts->auto_first == WGX_LOADER_MODE_SKB) {
		order[0] = WGX_LOADER_MODE_SKB;
		order[1] = WGX_LOADER_MODE_NATIVE;
	}
	int err = -EINVAL;

	for (unsigned int i = 0; opened && i < 2; i++) {
		if (opts->mode != WGX_LOADER_MODE_AUTO &&
		    opts->mode != order[i])
			continue;
		err = attach_mode(ld, opts, path, order[i], dispatcher, prog,
				  &opened);
		if (!err) {
			ld->mode = order[i];
			return 0;
		}
	}
	/* A bad object is not a reason to try skb mode. */
	if (opened && opts->mode == WGX_LOADER_MODE_AUTO)
		wgx_log_error("Couldn't attach XDP to %s in native or skb mode",
			      opts->iface);
	return err;
}

/* The dispatcher where it already is or where it can run; else a link. */
static bool use_dispatcher(bool has_dispatcher, char *why, size_t len)
{
	why[0] = '\0';
	if (has_dispatcher)
		return true;
	if (probe_dispatcher(why, len) == 0)
		return true;
	wgx_log_debug("libxdp's dispatcher cannot run here: %s", why);
	return false;
}

int wgx_loader_attach(struct wgx_loader *ld, const struct wgx_loader_opts *opts)
{
	char path[PATH_MAX], why[160];
	struct xdp_program *prog = NULL;
	struct wgx_loader_status st;
	bool has_dispatcher = false, dispatcher = false;
	int err;

	loader_reset(ld);
	err = check_iface(opts->iface, "attach XDP");
	if (err)
		return err;
	if ((unsigned int)opts->mode > WGX_LOADER_MODE_SKB)
		return -EINVAL;
	snprintf(ld->iface, sizeof(ld->iface), "%s", opts->iface);
	route_lib_logs();
	dispatcher_msg[0] = why[0] = '\0';
	ld->ifindex = iface_index(opts->iface, "attach XDP");
	if (!ld->ifindex)
		return -ENODEV;
	if (opts->obj_path)
		snprintf(path, sizeof(path), "%s", opts->obj_path);
	else
		err = wgx_loader_default_obj(path, sizeof(path));
	if (!err)
		err = wgx_loader_pin_dir(ld->iface, ld->pin_dir,
					 sizeof(ld->pin_dir));
	if (!err)
		err = wgx_loader_bpffs_ensure();
	if (!err)
		err = clear_the_way(opts, ld->ifindex, &has_dispatcher);
	if (!err) {
		dispatcher = use_dispatcher(has_dispatcher, why, sizeof(why));
		err = attach_modes(ld, opts, path, dispatcher, &prog);
	}
	if (!err && dispatcher) {
		ld->prog_id = prog_id_of(prog_fd_of(prog));
		err = query_ifindex(ld->ifindex, ld->iface, &st);
		if (!err && !st.dispatcher)
			err = relink(ld, prog);
	}
	if (!err)
		err = finish_attach(ld, prog, why);
	ld->max_sessions =
		opts->max_sessions ? opts->max_sessions : WGX_XDP_MAX_SESSIONS;
	if (err && prog)
		take_down(ld); /* ld->prog_id names what to undo */
	xdp_program__close(prog);
	if (err)
		loader_reset(ld);
	return err;
}

/* ---- detaching and pins ---- */

void wgx_loader_close(struct wgx_loader *ld)
{
	if (ld->link_fd >= 0)
		close(ld->link_fd);
	ld->link_fd = -1;
	if (!ld->active)
		return;
	close_maps(ld);
	ld->active = false;
}

/* Our program off the interface, maps closed, pins removed. */
static int take_down(struct wgx_loader *ld)
{
	uint32_t gone = 0;
	int err = 0, err2;

	/* Our own link: detach it, which works even where a copy of the
	 * descriptor lives on in a child. */
	if (ld->link_fd >= 0 && !bpf_link_detach(ld->link_fd)) {
		gone = ld->prog_id;
	} else if (ld->prog_id &&
		   if_nametoindex(ld->iface) == (unsigned)ld->ifindex) {
		/* The interface may have been deleted, and our program with
		 * it. */
		err = remove_prog(ld->ifindex, ld->iface, ld->prog_id, &gone);
	}
	if (!err && !gone)
		wgx_log_debug("XDP program %u was no longer on %s", ld->prog_id,
			      ld->iface);
	wgx_loader_close(ld);
	err2 = unpin_all(ld->pin_dir);
	return err ? err : err2;
}

int wgx_loader_detach(struct wgx_loader *ld)
{
	int err;

	if (!ld->active)
		return 0;
	route_lib_logs();
	err = take_down(ld);
	if (!err)
		wgx_log_info("Detached %s from %s", WGX_XDP_PROG_NAME,
			     ld->iface);
	return err;
}

static int open_pin(const char *dir, const char *name)
{
	char path[WGX_LOADER_PATH_MAX + 32];
	int fd = -1;

	if (!pin_path(dir, name, path, sizeof(path)))
		fd = bpf_obj_get(path);
	if (fd < 0)
		wgx_log_error("Couldn't open pin %s: %s", path,
			      strerror(errno));
	return fd < 0 ? -errno : fd;
}

static int pinned_prog_id(const char *dir, uint32_t *id)
{
	struct bpf_prog_info info;
	uint32_t len = sizeof(info);
	int fd = open_pin(dir, WGX_LOADER_PROG_PIN), err = 0;

	if (fd < 0)
		return fd;
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		err = -errno;
	close(fd);
	*id = info.id;
	return err;
}

int wgx_loader_open_pinned(struct wgx_loader *ld, const char *iface)
{
	struct wgx_loader_status st;
	int err;

	loader_reset(ld);
	err = check_iface(iface, "open XDP pins");
	if (err)
		return err;
	route_lib_logs();
	snprintf(ld->iface, sizeof(ld->iface), "%s", iface);
	ld->ifindex = (int)if_nametoindex(iface);
	err = wgx_loader_pin_dir(iface, ld->pin_dir, sizeof(ld->pin_dir));
	ld->active = true;
	for (int i = 0; !err && i < WGX_LOADER_MAP_COUNT; i++) {
		ld->map_fd[i] = open_pin(ld->pin_dir, map_specs[i].pin_name);
		err = ld->map_fd[i] < 0 ? ld->map_fd[i] : 0;
	}
	if (!err)
		err = pinned_prog_id(ld->pin_dir, &ld->prog_id);
	if (!err && ld->ifindex && !query_ifindex(ld->ifindex, iface, &st) &&
	    st.ours_id == ld->prog_id) {
		ld->mode = st.mode;
		ld->dispatcher = st.dispatcher;
	}
	if (err) {
		close_maps(ld);
		loader_reset(ld);
	}
	return err;
}

int wgx_loader_map_fd(const struct wgx_loader *ld, enum wgx_loader_map map)
{
	if (!ld->active || (unsigned int)map >= WGX_LOADER_MAP_COUNT)
		return -EBADF;
	return ld->map_fd[map];
}

/* ---- map access ---- */

static int map_fd(const struct wgx_loader *ld, enum wgx_loader_map map,
		  const char *what)
{
	int fd = wgx_loader_map_fd(ld, map);

	if (fd < 0)
		wgx_log_error("Couldn't %s: the XDP maps are not open", what);
	return fd;
}

static int map_error(const char *what, const char *map)
{
	int err = -errno;

	wgx_log_error("Couldn't %s in map %s: %s", what, map, strerror(-err));
	return err;
}

int wgx_loader_set_config(struct wgx_loader *ld,
			  const struct wgx_xdp_config *cfg)
{
	uint32_t key = 0;
	int fd = map_fd(ld, WGX_LOADER_MAP_CONFIG, "set the XDP config");

	if (fd < 0)
		return fd;
	if (bpf_map_update_elem(fd, &key, cfg, BPF_ANY))
		return map_error("set the XDP config", "config");
	return 0;
}

/*
 * A horizon left under index by an earlier session (a worker's late
 * publication) must not judge a new one: its counters start again at 0.
 * Best effort: the map is LRU, and no entry only means no judgement.
 */
static void forget_horizon(struct wgx_loader *ld,
			   const struct wgx_session_key *key)
{
	int fd = wgx_loader_map_fd(ld, WGX_LOADER_MAP_RX_HORIZON);

	if (fd >= 0)
		(void)bpf_map_delete_elem(fd, key);
}

int wgx_loader_session_add(struct wgx_loader *ld, uint32_t index,
			   uint32_t peer_id, uint8_t slot)
{
	struct wgx_session_key key = { .index_le = htole32(index) };
	struct wgx_session_value val = { .peer_id = peer_id, .slot = slot };
	struct wgx_session_value old;
	int fd;

	if (slot > WGX_SLOT_NEXT) {
		wgx_log_error("Couldn't add session %08x: slot %u is not a "
			      "keypair slot",
			      index, slot);
		return -EINVAL;
	}
	fd = map_fd(ld, WGX_LOADER_MAP_SESSIONS, "add a session");
	if (fd < 0)
		return fd;
	/* A new session (not a keypair moving to another slot) starts
	 * without a horizon. */
	if (bpf_map_lookup_elem(fd, &key, &old))
		forget_horizon(ld, &key);
	if (bpf_map_update_elem(fd, &key, &val, BPF_ANY)) {
		int err = -errno;

		if (err != -E2BIG && err != -ENOMEM)
			return map_error("add a session", "sessions");
		wgx_log_error("The XDP sessions map is full (%u entries): "
			      "this handshake is abandoned. Detach and attach "
			      "again to size it for the peers configured now",
			      ld->max_sessions);
		return err;
	}
	return 0;
}

int wgx_loader_session_del(struct wgx_loader *ld, uint32_t index)
{
	struct wgx_session_key key = { .index_le = htole32(index) };
	int fd = map_fd(ld, WGX_LOADER_MAP_SESSIONS, "remove a session");

	if (fd < 0)
		return fd;
	forget_horizon(ld, &key);
	if (bpf_map_delete_elem(fd, &key))
		return errno == ENOENT
			       ? -ENOENT
			       : map_error("remove a session", "sessions");
	return 0;
}

int wgx_loader_addr_key(int af, const void *addr, struct wgx_addr_key *key)
{
	memset(key, 0, sizeof(*key));
	if (af == AF_INET) {
		key->family = 4;
		memcpy(key->addr, addr, 4);
	} else if (af == AF_INET6) {
		key->family = 6;
		memcpy(key->addr, addr, 16);
	} else {
		return -EAFNOSUPPORT;
	}
	return 0;
}

static bool addr_key_valid(const struct wgx_addr_key *k)
{
	static const uint8_t zero[16];

	if (k->reserved[0] || k->reserved[1] || k->reserved[2])
		return false;
	if (k->family == 4)
		return !memcmp(k->addr + 4, zero, 12);
	return k->family == 6;
}

static bool addr_in(const struct wgx_addr_key *k,
		    const struct wgx_addr_key *keys, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!memcmp(k, &keys[i], sizeof(*k)))
			return true;
	return false;
}

/* "1" in the width the program chose for the value. */
static int local_value(int fd, uint8_t one[8])
{
	const uint8_t u8 = 1;
	const uint16_t u16 = 1;
	const uint32_t u32 = 1;
	const uint64_t u64 = 1;
	struct bpf_map_info info;
	uint32_t len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	switch (info.value_size) {
	case 1:
		memcpy(one, &u8, 1);
		break;
	case 2:
		memcpy(one, &u16, 2);
		break;
	case 4:
		memcpy(one, &u32, 4);
		break;
	case 8:
		memcpy(one, &u64, 8);
		break;
	default:
		return -EPROTO;
	}
	return 0;
}

/* Remove every key not in keys[0..n). The old keys are collected first:
 * deleting while walking a hash map can restart or skip the walk. */
static int prune_addrs(int fd, const struct wgx_addr_key *keys, size_t n)
{
	struct wgx_addr_key old[WGX_XDP_MAX_LOCAL_ADDRS], k, *prev = NULL;
	size_t nold = 0;

	while (nold < WGX_XDP_MAX_LOCAL_ADDRS &&
	       !bpf_map_get_next_key(fd, prev, &k)) {
		old[nold] = k;
		prev = &old[nold++];
	}
	if (errno != ENOENT && nold < WGX_XDP_MAX_LOCAL_ADDRS)
		return map_error("list the local addresses", "local_addrs");
	for (size_t i = 0; i < nold; i++) {
		if (addr_in(&old[i], keys, n))
			continue;
		if (bpf_map_delete_elem(fd, &old[i]) && errno != ENOENT)
			return map_error("remove a local address",
					 "local_addrs");
	}
	return 0;
}

static int check_addrs(const struct wgx_addr_key *keys, size_t n)
{
	if (n > WGX_XDP_MAX_LOCAL_ADDRS) {
		wgx_log_error("Couldn't set the local addresses: %zu is more "
			      "than %d",
			      n, WGX_XDP_MAX_LOCAL_ADDRS);
		return -E2BIG;
	}
	for (size_t i = 0; i < n; i++) {
		if (!addr_key_valid(&keys[i])) {
			wgx_log_error(
				"Couldn't set the local addresses: "
				"address %zu is not a clean IPv4/IPv6 key",
				i);
			return -EINVAL;
		}
	}
	return 0;
}

int wgx_loader_set_local_addrs(struct wgx_loader *ld,
			       const struct wgx_addr_key *keys, size_t n)
{
	uint8_t one[8] = { 0 };
	int fd, err;

	err = check_addrs(keys, n);
	if (err)
		return err;
	fd = map_fd(ld, WGX_LOADER_MAP_LOCAL_ADDRS, "set the local addresses");
	if (fd < 0)
		return fd;
	err = local_value(fd, one);
	if (err) {
		wgx_log_error("Couldn't read map local_addrs: %s",
			      strerror(-err));
		return err;
	}
	for (size_t i = 0; i < n; i++)
		if (bpf_map_update_elem(fd, &keys[i], one, BPF_ANY))
			return map_error("add a local address", "local_addrs");
	return prune_addrs(fd, keys, n);
}

int wgx_loader_deny(struct wgx_loader *ld, const struct wgx_addr_key *key,
		    uint64_t until_ns)
{
	struct wgx_deny_value val = { .until_ns = until_ns };
	int fd = map_fd(ld, WGX_LOADER_MAP_DENY, "deny a source");

	if (fd < 0)
		return fd;
	if (!addr_key_valid(key)) {
		wgx_log_error("Couldn't deny a source: not a clean IPv4/IPv6 "
			      "key");
		return -EINVAL;
	}
	if (bpf_map_update_elem(fd, key, &val, BPF_ANY))
		return map_error("deny a source", "deny");
	return 0;
}

int wgx_loader_read_stats(struct wgx_loader *ld,
			  struct wgx_xdp_counter out[WGX_XDP_STAT_COUNT])
{
	int fd = map_fd(ld, WGX_LOADER_MAP_STATS, "read the XDP counters");
	int ncpu = libbpf_num_possible_cpus();
	struct wgx_xdp_counter *per_cpu;
	int err = 0;

	if (fd < 0)
		return fd;
	if (ncpu <= 0) {
		wgx_log_error("Couldn't count the possible CPUs: %s",
			      strerror(-ncpu));
		return ncpu ?: -EINVAL;
	}
	per_cpu = calloc((size_t)ncpu, sizeof(*per_cpu));
	if (!per_cpu)
		return -ENOMEM;
	memset(out, 0, sizeof(*out) * WGX_XDP_STAT_COUNT);
	for (uint32_t id = 0; !err && id < WGX_XDP_STAT_COUNT; id++) {
		if (bpf_map_lookup_elem(fd, &id, per_cpu)) {
			err = map_error("read a counter", "stats");
			break;
		}
		for (int c = 0; c < ncpu; c++) {
			out[id].packets += per_cpu[c].packets;
			out[id].bytes += per_cpu[c].bytes;
		}
	}
	free(per_cpu);
	return err;
}
