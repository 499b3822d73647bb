/* SPDX-License-Identifier: MIT */
/*
 * The XDP side of `wgxdp attach/detach`: load the XDP program (program
 * wgx_xdp, maps wgx_* from include/wgx_bpf.h) onto an interface through
 * libxdp, pin its maps under /sys/fs/bpf/wgxdp/<IFACE>/ with the plain
 * names of design.md (sessions, stats, xsks, config, local_addrs,
 * deny; the program itself as "prog"), and give the agent its map
 * accessors.
 *
 * libxdp shares the interface with other programs through its dispatcher
 * where the kernel allows it (a probe tries what the dispatcher needs);
 * where it does not, ours is attached alone through a bpf_link held by
 * this process, so the kernel takes it off the interface when the
 * process ends however it ends. ld->dispatcher says which. libxdp and
 * libbpf messages go to the debug log. Every call returns 0 or -errno and
 * logs "Couldn't X: reason".
 *
 * Instances: the caller (through instance.h) knows whether a live wgxdp
 * instance owns IFACE and refuses a second attach itself. The loader only
 * answers "what is on IFACE" (wgx_loader_query) and, when told that no
 * live instance owns it, removes our own stale program and pins left by a
 * crash (wgx_loader_reclaim, or attach with reclaim_stale). Pins are
 * found by IFACE name alone: shells that share a bpffs (nsenter --net
 * keeps the host's) see one set of pins for every namespace's "eth0";
 * `ip netns exec` remounts /sys, so there the loader mounts a private
 * bpffs that only that process tree sees.
 *
 * The first call routes libbpf's and libxdp's (process-wide) print
 * functions to our log. Not thread-safe: one owner (the CLI, the agent).
 */
#ifndef WGX_LOADER_H
#define WGX_LOADER_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wgx_bpf.h"

/* Where the object is looked for when no path is given: see
 * wgx_loader_default_obj(). */
#define WGX_LOADER_OBJ_ENV  "WGXDP_BPF_OBJ"
#define WGX_LOADER_OBJ_NAME "wgxdp.bpf.o"
#define WGX_LOADER_BPFFS    "/sys/fs/bpf"
#define WGX_LOADER_PROG_PIN "prog"

enum wgx_loader_mode {
	WGX_LOADER_MODE_AUTO,	/* native, else skb */
	WGX_LOADER_MODE_NATIVE, /* in the driver */
	WGX_LOADER_MODE_SKB,	/* generic XDP, any interface */
};

/* The maps, in the order of their pins. */
enum wgx_loader_map {
	WGX_LOADER_MAP_SESSIONS,
	WGX_LOADER_MAP_STATS,
	WGX_LOADER_MAP_XSKS,
	WGX_LOADER_MAP_CONFIG,
	WGX_LOADER_MAP_LOCAL_ADDRS,
	WGX_LOADER_MAP_DENY,
	WGX_LOADER_MAP_XSK_QUEUES,
	WGX_LOADER_MAP_RX_HORIZON,
	WGX_LOADER_MAP_COUNT,
};

enum {
	WGX_LOADER_PATH_MAX = 256,
};

struct wgx_loader_opts {
	const char *iface;
	const char *obj_path; /* NULL: wgx_loader_default_obj() */
	enum wgx_loader_mode mode;
	/* With mode auto: skb tries generic XDP first, anything else native
	 * (xdp_policy.h picks it per kind of interface). */
	enum wgx_loader_mode auto_first;
	/* Detach a foreign XDP program from IFACE first. */
	bool force;
	/*
	 * No live instance owns IFACE (the caller checked): remove our own
	 * program and pins left there by a crash. Without it they make
	 * attach fail with -EBUSY.
	 */
	bool reclaim_stale;
	/*
	 * Entries of the sessions map (0: WGX_XDP_MAX_SESSIONS): every
	 * receiver index in use, up to four per peer (three keypairs and a
	 * handshake). The map allocates entries as they come, so a large
	 * size costs nothing until it is used.
	 */
	uint32_t max_sessions;
	/*
	 * Entries of the rx_horizon map (0: WGX_XDP_MAX_HORIZONS). An LRU
	 * map is allocated whole (about 88 bytes an entry), so it is sized
	 * to the peers; beyond that it keeps the sessions used last.
	 */
	uint32_t max_horizons;
};

/* Sessions map entries for this many peers, with room to grow. */
uint32_t wgx_loader_sessions_for_peers(size_t peers);
/* rx_horizon entries for this many peers: four each, 1,024 to
 * WGX_XDP_MAX_HORIZONS. */
uint32_t wgx_loader_horizons_for_peers(size_t peers);

/* One attached (or pin-opened) program and its maps. */
struct wgx_loader {
	char iface[IF_NAMESIZE];
	int ifindex;
	enum wgx_loader_mode mode; /* what it got: native or skb */
	bool dispatcher;	   /* through libxdp's dispatcher */
	uint32_t prog_id;
	uint32_t max_sessions;		  /* the sessions map's size */
	int map_fd[WGX_LOADER_MAP_COUNT]; /* -1 when closed */
	/* Our program's bpf_link when attached alone (-1: none, or through
	 * the dispatcher): it goes with the last copy of this descriptor. */
	int link_fd;
	char pin_dir[WGX_LOADER_PATH_MAX];
	bool active; /* maps open; a zeroed loader is closed */
};

/* What sits on an interface. */
struct wgx_loader_status {
	uint32_t prog_id;	   /* the XDP program (dispatcher), 0: none */
	char prog_name[64];	   /* its name ("xdp_dispatcher", ...) */
	enum wgx_loader_mode mode; /* when prog_id != 0 */
	bool dispatcher;	   /* a libxdp dispatcher */
	uint32_t ours_id;	   /* our wgx_xdp there (maybe inside), 0: no */
	bool foreign;		   /* some other program is there */
	bool pinned;		   /* /sys/fs/bpf/wgxdp/IFACE exists */
};

const char *wgx_loader_mode_name(enum wgx_loader_mode mode);
/* "auto", "native" or "skb"; -EINVAL otherwise. */
int wgx_loader_mode_parse(const char *name, enum wgx_loader_mode *mode);
/* The plain pin name of a map ("sessions", ...). */
const char *wgx_loader_map_name(enum wgx_loader_map map);
/* "pass_other", ... for a stat id; NULL when out of range. */
const char *wgx_loader_stat_name(unsigned int id);

/*
 * The object to load when none is named: $WGXDP_BPF_OBJ (a test or a
 * developer's override), else the one built into the binary by its
 * bpftool skeleton (wgxdp.skel.h). -errno (logged) on failure.
 */
int wgx_loader_default_obj(char *buf, size_t len);
/* /sys/fs/bpf/wgxdp/<IFACE>; -EINVAL for a bad interface name. */
int wgx_loader_pin_dir(const char *iface, char *buf, size_t len);
/* Mount bpffs at /sys/fs/bpf unless it is there (statfs magic). */
int wgx_loader_bpffs_ensure(void);

/*
 * Load and attach in the requested mode, then pin. Refuses (-EEXIST) a
 * foreign legacy program unless force, and (-EBUSY) our own program or
 * pins unless reclaim_stale. With auto, a failure of both modes is
 * returned: the caller falls back to the socket datapath. On success ld
 * holds the map fds and says which mode and path it got.
 */
int wgx_loader_attach(struct wgx_loader *ld,
		      const struct wgx_loader_opts *opts);
/*
 * Remove our program from the interface (from the dispatcher, or the
 * program alone) and the pins, then close. Safe on a closed loader.
 */
int wgx_loader_detach(struct wgx_loader *ld);
/* Close the map fds and our link, leaving the pins in place (and the
 * program, unless this was its link's last holder). */
void wgx_loader_close(struct wgx_loader *ld);
/*
 * Open the maps of an attached instance from its pins; mode and
 * dispatcher are filled in when the pinned program is on IFACE. Detach
 * works on such a loader too.
 */
int wgx_loader_open_pinned(struct wgx_loader *ld, const char *iface);

/* What is attached to IFACE and whether our pins exist. */
int wgx_loader_query(const char *iface, struct wgx_loader_status *st);
/*
 * Remove our program and pins from IFACE, for a caller that knows no live
 * instance owns them; each removal is logged as a warning. 1 when
 * something was removed, 0 when there was nothing, or -errno.
 */
int wgx_loader_reclaim(const char *iface);

int wgx_loader_map_fd(const struct wgx_loader *ld, enum wgx_loader_map map);

/* Map access for the agent. */
int wgx_loader_set_config(struct wgx_loader *ld,
			  const struct wgx_xdp_config *cfg);
/* index in host order; stored as the wire has it (little-endian). */
int wgx_loader_session_add(struct wgx_loader *ld, uint32_t index,
			   uint32_t peer_id, uint8_t slot);
/* -ENOENT when index is not in the map. */
int wgx_loader_session_del(struct wgx_loader *ld, uint32_t index);
/* A local_addrs key from an AF_INET/AF_INET6 address (network order). */
int wgx_loader_addr_key(int af, const void *addr, struct wgx_addr_key *key);
/*
 * Make the local_addrs set exactly keys[0..n): the new ones are inserted
 * before the old ones are removed, so an address in both sets never
 * leaves the map. -E2BIG above WGX_XDP_MAX_LOCAL_ADDRS.
 */
int wgx_loader_set_local_addrs(struct wgx_loader *ld,
			       const struct wgx_addr_key *keys, size_t n);
/*
 * Drop initiations and responses from key's source (IPv6: a /64 key, the
 * low 8 bytes zero) until until_ns (CLOCK_BOOTTIME). The map is LRU: a
 * full one forgets the oldest entry. 0 or -errno.
 */
int wgx_loader_deny(struct wgx_loader *ld, const struct wgx_addr_key *key,
		    uint64_t until_ns);
/* Every stat summed over the possible CPUs. */
int wgx_loader_read_stats(struct wgx_loader *ld,
			  struct wgx_xdp_counter out[WGX_XDP_STAT_COUNT]);

#endif
