// SPDX-License-Identifier: MIT
/* Endpoint and staged-packet helpers shared by the agent and datapath. */
#include "device/peer.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"

void wgx_peer_get_endpoint(struct wgx_peer *p, union wgx_sockaddr *out,
			   bool *has)
{
	pthread_spin_lock(&p->endpoint_lock);
	*out = p->endpoint;
	*has = p->has_endpoint;
	pthread_spin_unlock(&p->endpoint_lock);
}

bool wgx_peer_set_endpoint(struct wgx_peer *p, const union wgx_sockaddr *ep)
{
	bool changed;

	pthread_spin_lock(&p->endpoint_lock);
	changed = !p->has_endpoint || !wgx_sockaddr_equal(&p->endpoint, ep);
	if (changed) {
		memset(&p->endpoint, 0, sizeof(p->endpoint));
		memcpy(&p->endpoint, ep, wgx_sockaddr_len(ep));
		p->has_endpoint = true;
	}
	pthread_spin_unlock(&p->endpoint_lock);
	return changed;
}

bool wgx_peer_stage(struct wgx_peer *p, const uint8_t *pkt, size_t len)
{
	struct wgx_staged_pkt *s = malloc(sizeof(*s) + len), *old = NULL;

	if (!s)
		return false;
	s->len = (uint16_t)len;
	memcpy(s->data, pkt, len);
	pthread_mutex_lock(&p->staged_lock);
	if (p->staged_count == WGX_STAGED_MAX) {
		/* Full: the oldest packet makes room, as the kernel does. */
		old = p->staged[p->staged_head];
		p->staged_head = (p->staged_head + 1) % WGX_STAGED_MAX;
		p->staged_count--;
	}
	p->staged[(p->staged_head + p->staged_count) % WGX_STAGED_MAX] = s;
	p->staged_count++;
	pthread_mutex_unlock(&p->staged_lock);
	if (old) {
		wgx_crypto_wipe(old->data, old->len);
		free(old);
	}
	return !old;
}

struct wgx_staged_pkt *wgx_peer_unstage(struct wgx_peer *p)
{
	struct wgx_staged_pkt *s = NULL;

	pthread_mutex_lock(&p->staged_lock);
	if (p->staged_count) {
		s = p->staged[p->staged_head];
		p->staged[p->staged_head] = NULL;
		p->staged_head = (p->staged_head + 1) % WGX_STAGED_MAX;
		p->staged_count--;
	}
	pthread_mutex_unlock(&p->staged_lock);
	return s;
}

unsigned int wgx_peer_staged(struct wgx_peer *p)
{
	unsigned int n;

	pthread_mutex_lock(&p->staged_lock);
	n = p->staged_count;
	pthread_mutex_unlock(&p->staged_lock);
	return n;
}

unsigned int wgx_peer_purge_staged(struct wgx_peer *p)
{
	struct wgx_staged_pkt *s;
	unsigned int n = 0;

	while ((s = wgx_peer_unstage(p))) {
		n++;
		/* Staged packets are plaintext: never leave them in memory. */
		wgx_crypto_wipe(s->data, s->len);
		free(s);
	}
	return n;
}

socklen_t wgx_sockaddr_len(const union wgx_sockaddr *a)
{
	return a->sa.sa_family == AF_INET6 ? sizeof(a->in6) : sizeof(a->in4);
}

bool wgx_sockaddr_equal(const union wgx_sockaddr *a,
			const union wgx_sockaddr *b)
{
	if (a->sa.sa_family != b->sa.sa_family)
		return false;
	if (a->sa.sa_family == AF_INET)
		return a->in4.sin_port == b->in4.sin_port &&
		       a->in4.sin_addr.s_addr == b->in4.sin_addr.s_addr;
	if (a->sa.sa_family == AF_INET6)
		return a->in6.sin6_port == b->in6.sin6_port &&
		       !memcmp(&a->in6.sin6_addr, &b->in6.sin6_addr, 16) &&
		       a->in6.sin6_scope_id == b->in6.sin6_scope_id;
	return false;
}

void wgx_sockaddr_format(const union wgx_sockaddr *a, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	if (a->sa.sa_family == AF_INET) {
		inet_ntop(AF_INET, &a->in4.sin_addr, ip, sizeof(ip));
		snprintf(buf, len, "%s:%u", ip, ntohs(a->in4.sin_port));
	} else if (a->sa.sa_family == AF_INET6) {
		inet_ntop(AF_INET6, &a->in6.sin6_addr, ip, sizeof(ip));
		snprintf(buf, len, "[%s]:%u", ip, ntohs(a->in6.sin6_port));
	} else {
		snprintf(buf, len, "(none)");
	}
}
