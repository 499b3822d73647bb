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

#endif
