/* SPDX-License-Identifier: MIT */
/*
 * Configuration in small steps (agent thread): add, remove or change one
 * peer, one allowed IP, an endpoint, a keepalive, a pre-shared key, the
 * private key. Each step costs what it changes, never a walk over every
 * peer (but the private key, which invalidates every session). A reload
 * is the difference between the running device and a configuration,
 * applied whole or not at all.
 */
#ifndef WGX_PEER_CONFIG_H
#define WGX_PEER_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "agent/config.h"
#include "device/device.h"

/* A new peer with this key (none with it may exist). 0 or -ENOMEM. */
int wgx_peer_config_add(struct wgx_device *dev,
			const uint8_t public_key[WGX_KEY_LEN],
			const uint8_t *psk, struct wgx_peer **out);
void wgx_peer_config_remove(struct wgx_device *dev, struct wgx_peer *p);
/* NULL: no pre-shared key. */
void wgx_peer_config_set_psk(struct wgx_device *dev, struct wgx_peer *p,
			     const uint8_t *psk);
/* NULL: forget it (a roaming peer teaches us a new one). */
void wgx_peer_config_set_endpoint(struct wgx_device *dev, struct wgx_peer *p,
				  const union wgx_sockaddr *ep);
/* Seconds, 0: off. */
void wgx_peer_config_set_keepalive(struct wgx_device *dev, struct wgx_peer *p,
				   uint16_t seconds);
/* Adding a prefix another peer holds moves it, as WireGuard does. */
int wgx_peer_config_allowed_ip_add(struct wgx_device *dev, struct wgx_peer *p,
				   const struct wgx_config_prefix *a);
/* -ENOENT when p does not hold exactly this prefix. */
int wgx_peer_config_allowed_ip_remove(struct wgx_device *dev,
				      struct wgx_peer *p,
				      const struct wgx_config_prefix *a);
/* NULL: none. A new key ends every session (each peer's DH is redone). */
void wgx_peer_config_set_private_key(struct wgx_device *dev,
				     const uint8_t *private_key);

/* What a reload changed. */
struct wgx_peer_config_stats {
	size_t peers_added, peers_removed, peers_changed;
	size_t allowed_ips_added, allowed_ips_removed;
	bool private_key_changed;
};

/*
 * Make the device's identity and peers what cfg says (the [Interface]
 * private key and every [Peer]), changing only what differs. On error
 * (-ENOMEM) nothing has changed; stats (may be NULL) says what did.
 */
int wgx_peer_config_apply(struct wgx_device *dev, const struct wgx_config *cfg,
			  struct wgx_peer_config_stats *stats);

/* ---- a batch of steps (a UAPI set) --------------------------------------
 *
 * The steps of one change, in the order the request gave them, with the
 * meaning the cross-platform UAPI (and wireguard-go) gives each line:
 * device steps first, then per peer a WGX_STEP_PEER followed by what
 * changes about that peer. Applied as one transaction: the outcome is
 * what running the steps one by one would leave, but what the workers
 * see moves from the old state to the new one without a gap, and a
 * failure (-ENOMEM) leaves the device as it was.
 *
 * Where the result differs from wireguard-go's, on purpose: a peer that
 * the batch removes (WGX_STEP_REPLACE_PEERS, WGX_STEP_REMOVE) and names
 * again is kept, not made anew: its configuration starts over (no
 * pre-shared key, no keepalive, no allowed IPs, its endpoint as learned,
 * not configured) but its sessions, counters and learned endpoint stay,
 * so `wg setconf` does not break every tunnel that it leaves in place.
 */
enum wgx_step_kind {
	WGX_STEP_PRIVATE_KEY, /* key (NULL: none); drops a peer with its key */
	WGX_STEP_LISTEN_PORT, /* u.port: the caller's (sockets) */
	WGX_STEP_FWMARK,      /* u.fwmark: the caller's (sockets) */
	WGX_STEP_REPLACE_PEERS, /* every peer goes, unless named again */
	/* u.public_key: the next steps' peer, created if absent ... */
	WGX_STEP_PEER,
	/* ... unless the same peer's steps hold this: then only if present */
	WGX_STEP_UPDATE_ONLY,
	WGX_STEP_REMOVE,    /* the peer goes; its next steps do nothing */
	WGX_STEP_PSK,	    /* key (NULL: none) */
	WGX_STEP_ENDPOINT,  /* u.endpoint */
	WGX_STEP_KEEPALIVE, /* u.seconds, 0: off */
	WGX_STEP_REPLACE_ALLOWED_IPS, /* the peer's allowed IPs go */
	WGX_STEP_ALLOWED_IP_ADD,      /* u.prefix, moved from any holder */
	WGX_STEP_ALLOWED_IP_REMOVE,   /* u.prefix, if this peer holds it */
};

struct wgx_step {
	uint8_t kind; /* enum wgx_step_kind */
	/* PRIVATE_KEY, PSK: WGX_KEY_LEN bytes of the batch's secret memory. */
	const uint8_t *key;
	union {
		uint8_t public_key[WGX_KEY_LEN];
		uint16_t port;
		uint16_t seconds;
		uint32_t fwmark;
		union wgx_sockaddr endpoint;
		struct wgx_config_prefix prefix; /* host bits clear */
	} u;
};

struct wgx_step_secrets;

struct wgx_steps {
	struct wgx_step *v;
	size_t n, cap;
	struct wgx_step_secrets *secrets; /* the keys' locked memory */
};

/* Zero-initialise a batch; free it (wiping every key) when done. */
void wgx_steps_free(struct wgx_steps *s);
/* Append a step (its key, if any, set by wgx_steps_key): NULL on -ENOMEM. */
struct wgx_step *wgx_steps_push(struct wgx_steps *s, enum wgx_step_kind kind);
/* Room for one key in the batch's secret memory, zeroed; NULL on -ENOMEM. */
uint8_t *wgx_steps_key(struct wgx_steps *s);

/* What the caller does beside the peers: the last port and mark asked. */
struct wgx_steps_summary {
	bool has_listen_port, has_fwmark;
	uint16_t listen_port;
	uint32_t fwmark;
};
void wgx_steps_summarize(const struct wgx_steps *s,
			 struct wgx_steps_summary *out);

/* A batch under way: prepared (undoable), then committed or aborted. */
struct wgx_peer_txn;

/*
 * Everything in the batch that can fail: work out the outcome, create the
 * new peers and give them and the others the allowed IPs they gain. A
 * failure (-ENOMEM) is undone before returning. O(what the batch names),
 * plus every peer's prefixes when it replaces them all.
 */
int wgx_peer_config_prepare(struct wgx_device *dev,
			    const struct wgx_steps *steps,
			    struct wgx_peer_txn **out);
/* The rest, which cannot fail: keys, endpoints, keepalives, removals. */
void wgx_peer_config_commit(struct wgx_device *dev, struct wgx_peer_txn *t,
			    struct wgx_peer_config_stats *stats);
/* Undo what prepare did (e.g. the sockets the batch asks for failed). */
void wgx_peer_config_abort(struct wgx_device *dev, struct wgx_peer_txn *t);

#endif
