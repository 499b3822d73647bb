/* SPDX-License-Identifier: MIT */
/*
 * The intel-ipsec-mb back end of the transport AEAD, private to aead.c:
 * one multi-buffer manager (IMB_MGR) per context. Built only with
 * WGX_HAVE_IPSECMB (x86-64 with the library); without it every context
 * creation fails and aead.c does without.
 */
#ifndef WGX_AEAD_IPSECMB_H
#define WGX_AEAD_IPSECMB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/aead.h"

/* The library's code paths, the order it prefers them in. */
enum wgx_ipsecmb_arch {
	WGX_IPSECMB_AUTO, /* the library's choice for this CPU */
	WGX_IPSECMB_SSE,
	WGX_IPSECMB_AVX,
	WGX_IPSECMB_AVX2,
	WGX_IPSECMB_AVX512,
};

struct wgx_ipsecmb;

/*
 * NULL without the library, out of memory, or when this CPU cannot run
 * the code path wgx_ipsecmb_set_arch() asked for (by default the
 * library's own choice; none on CPUs it does not serve).
 */
struct wgx_ipsecmb *wgx_ipsecmb_new(void);
void wgx_ipsecmb_free(struct wgx_ipsecmb *mb);
void wgx_ipsecmb_forget(struct wgx_ipsecmb *mb);
enum wgx_ipsecmb_arch wgx_ipsecmb_arch(const struct wgx_ipsecmb *mb);
/* For contexts created from now on; -ENODEV without the library. */
int wgx_ipsecmb_set_arch(enum wgx_ipsecmb_arch arch);

/*
 * As wgx_aead_seal_ad() and wgx_aead_open_ad() with clen the ciphertext's
 * length, after aead.c checked the lengths. open does not wipe dst on a
 * bad tag: aead.c does, for every back end.
 */
int wgx_ipsecmb_seal(struct wgx_ipsecmb *mb, uint8_t *dst, const uint8_t *src,
		     size_t len, const uint8_t *ad, size_t ad_len,
		     uint64_t counter, const uint8_t key[32]);
bool wgx_ipsecmb_open(struct wgx_ipsecmb *mb, uint8_t *dst, const uint8_t *src,
		      size_t clen, const uint8_t *ad, size_t ad_len,
		      uint64_t counter, const uint8_t key[32]);
#endif
