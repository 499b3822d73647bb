// SPDX-License-Identifier: MIT
/*
 * Addresses as 128-bit numbers (IPv4 in the low 32 bits), so one walk
 * serves both families: the taken ranges inside the subnet are sorted and
 * the first gap at or after the first usable host is the answer, in
 * O(n log n) for n peers' prefixes.
 */
#include "agent/addr_pool.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef unsigned __int128 u128;

struct range {
	u128 lo, hi;
};

static unsigned int bits(sa_family_t family)
{
	return family == AF_INET ? 32 : 128;
}

static u128 to_num(const struct wgx_config_prefix *p)
{
	unsigned int n = bits(p->family) / 8;
	u128 v = 0;

	for (unsigned int i = 0; i < n; i++)
		v = (v << 8) | p->addr.bytes[i];
	return v;
}

static void from_num(struct wgx_config_prefix *p, sa_family_t family, u128 v)
{
	unsigned int n = bits(family) / 8;

	memset(p, 0, sizeof(*p));
	p->family = family;
	p->cidr = (uint8_t)bits(family);
	for (unsigned int i = n; i-- > 0;) {
		p->addr.bytes[i] = (uint8_t)v;
		v >>= 8;
	}
}

/* The host bits of a prefix of cidr bits in a family of width w. */
static u128 host_mask(unsigned int w, unsigned int cidr)
{
	unsigned int h = w - cidr;

	return h >= 128 ? ~(u128)0 : ((u128)1 << h) - 1;
}

static struct range span(const struct wgx_config_prefix *p)
{
	u128 m = host_mask(bits(p->family), p->cidr);
	u128 lo = to_num(p) & ~m;

	return (struct range){ lo, lo | m };
}

/* The hosts of subnet that may be handed out. */
static struct range usable(const struct wgx_config_prefix *subnet)
{
	struct range r = span(subnet);

	if (subnet->family == AF_INET && subnet->cidr <= 30) {
		r.lo++; /* network */
		r.hi--; /* broadcast */
	} else if (subnet->family == AF_INET6 && subnet->cidr < 128) {
		r.lo++; /* subnet-router anycast */
	}
	return r;
}

bool wgx_addr_pool_contains(const struct wgx_config_prefix *prefix,
			    const struct wgx_config_prefix *addr)
{
	struct range r = span(prefix);
	u128 a = to_num(addr);

	return prefix->family == addr->family && a >= r.lo && a <= r.hi;
}

const struct wgx_config_prefix *wgx_addr_pool_subnet(
	const struct wgx_config *cfg, int family)
{
	for (size_t i = 0; i < cfg->n_addresses; i++)
		if (cfg->addresses[i].family == family)
			return &cfg->addresses[i];
	return NULL;
}

static int cmp_range(const void *a, const void *b)
{
	const struct range *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Does prefix p take addresses of subnet (see addr_pool.h)? */
static bool takes(const struct wgx_config_prefix *p,
		  const struct wgx_config_prefix *subnet)
{
	struct range a = span(p), s = span(subnet);

	return p->family == subnet->family && p->cidr >= subnet->cidr &&
	       a.hi >= s.lo && a.lo <= s.hi;
}

int wgx_addr_pool_next(const struct wgx_config *cfg,
		       const struct wgx_config_prefix *subnet,
		       struct wgx_config_prefix *out)
{
	struct range want = usable(subnet), *taken;
	size_t n = cfg->n_addresses, k = 0;
	u128 cand = want.lo;
	bool full = false;

	for (size_t i = 0; i < cfg->n_peers; i++)
		n += cfg->peers[i].n_allowed_ips;
	taken = calloc(n ? n : 1, sizeof(*taken));
	if (!taken)
		return -ENOMEM;
	for (size_t i = 0; i < cfg->n_addresses; i++)
		if (cfg->addresses[i].family == subnet->family)
			taken[k++] =
				(struct range){ to_num(&cfg->addresses[i]),
						to_num(&cfg->addresses[i]) };
	for (size_t i = 0; i < cfg->n_peers; i++)
		for (size_t j = 0; j < cfg->peers[i].n_allowed_ips; j++)
			if (takes(&cfg->peers[i].allowed_ips[j], subnet))
				taken[k++] =
					span(&cfg->peers[i].allowed_ips[j]);
	qsort(taken, k, sizeof(*taken), cmp_range);
	for (size_t i = 0; i < k && !full; i++) {
		if (taken[i].hi < cand)
			continue;
		if (taken[i].lo > cand)
			break;
		/* Compared, not incremented: the top of ::/0 would wrap. */
		if (taken[i].hi >= want.hi)
			full = true;
		else
			cand = taken[i].hi + 1;
	}
	free(taken);
	if (full || want.lo > want.hi || cand > want.hi)
		return -ENOSPC;
	from_num(out, subnet->family, cand);
	return 0;
}

int wgx_addr_pool_check(const struct wgx_config *cfg,
			const struct wgx_config_prefix *addr, long *owner)
{
	const struct wgx_config_prefix *subnet = NULL;
	struct range u;
	u128 a = to_num(addr);

	*owner = -1;
	for (size_t i = 0; i < cfg->n_addresses && !subnet; i++)
		if (wgx_addr_pool_contains(&cfg->addresses[i], addr))
			subnet = &cfg->addresses[i];
	if (!subnet)
		return -ERANGE;
	u = usable(subnet);
	if (a < u.lo || a > u.hi)
		return -EADDRNOTAVAIL;
	for (size_t i = 0; i < cfg->n_addresses; i++)
		if (cfg->addresses[i].family == addr->family &&
		    to_num(&cfg->addresses[i]) == a)
			return -EEXIST;
	for (size_t i = 0; i < cfg->n_peers; i++) {
		for (size_t j = 0; j < cfg->peers[i].n_allowed_ips; j++) {
			const struct wgx_config_prefix *p =
				&cfg->peers[i].allowed_ips[j];

			if (takes(p, subnet) &&
			    wgx_addr_pool_contains(p, addr)) {
				*owner = (long)i;
				return -EEXIST;
			}
		}
	}
	return 0;
}
