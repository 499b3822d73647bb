/* SPDX-License-Identifier: MIT */
/*
 * mac1 of initiations and responses, checked in the driver: keyed
 * BLAKE2s-128 (RFC 7693) of the message up to mac1, under the key
 * HASH("mac1----" || our public key) that the agent puts in the config
 * map. Only a sender that knows our public key can make it, so a flood
 * without it is dropped here and costs the agent nothing. The key is
 * public (derived from a public key); no secret is involved.
 *
 * One BLAKE2s block is compressed by a subprogram with every round
 * unrolled (bounded, constant message schedule); an initiation takes
 * three blocks (the key block, 64 bytes, 52 bytes), a response two (the
 * key block, 60 bytes). Message bytes come in through
 * bpf_xdp_load_bytes(), so the frame layout does not matter. The state
 * and the block live in a per-CPU scratch map: on the stack they would
 * push the program past the verifier's 512 bytes for a call chain.
 *
 * The state after the key block depends on the key alone, so each CPU
 * keeps it with the key it came from and compresses the key block again
 * only when the config holds another key (a whole third of the work).
 * The cache is keyed by the key bytes, not by a version number: the
 * agent's update of the config entry may be read half-written, and a
 * state cached from a torn key is then simply recomputed next time.
 */
#ifndef WGX_MAC1_BPF_H
#define WGX_MAC1_BPF_H

#include "common.bpf.h"

enum wgx_b2s_consts {
	WGX_B2S_BLOCK = 64,
	WGX_B2S_WORDS = 16,
	/* Parameter block word 0: digest 16 bytes, key 32 bytes, fanout
	 * and depth 1. */
	WGX_B2S_PARAM0 = 0x01010000 | (WGX_KEY_LEN << 8) | WGX_MAC_LEN,
	/* What mac1 covers: everything before the two macs. */
	WGX_MAC1_INIT_COVER = WGX_MSG_INITIATION_LEN - 2 * WGX_MAC_LEN,
	WGX_MAC1_RESP_COVER = WGX_MSG_RESPONSE_LEN - 2 * WGX_MAC_LEN,
};

/* Scratch for one mac1 check on this CPU; XDP does not nest on a CPU. */
struct wgx_b2s_scratch {
	__u32 key[WGX_KEY_LEN / 4]; /* the key key_h was computed from */
	__u32 key_h[8];		    /* the state after the key block */
	__u32 key_set;		    /* key and key_h hold something */
	__u32 h[8];
	__u32 m[WGX_B2S_WORDS];
	__u32 mac[WGX_MAC_LEN / 4];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct wgx_b2s_scratch);
} wgx_b2s_scratch SEC(".maps");

#define WGX_B2S_IV0 0x6A09E667
#define WGX_B2S_IV1 0xBB67AE85
#define WGX_B2S_IV2 0x3C6EF372
#define WGX_B2S_IV3 0xA54FF53A
#define WGX_B2S_IV4 0x510E527F
#define WGX_B2S_IV5 0x9B05688C
#define WGX_B2S_IV6 0x1F83D9AB
#define WGX_B2S_IV7 0x5BE0CD19

#define WGX_ROTR32(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

#define WGX_B2S_G(a, b, c, d, x, y)                                            \
	do {                                                                   \
		v[a] = v[a] + v[b] + (x);                                      \
		v[d] = WGX_ROTR32(v[d] ^ v[a], 16);                            \
		v[c] = v[c] + v[d];                                            \
		v[b] = WGX_ROTR32(v[b] ^ v[c], 12);                            \
		v[a] = v[a] + v[b] + (y);                                      \
		v[d] = WGX_ROTR32(v[d] ^ v[a], 8);                             \
		v[c] = v[c] + v[d];                                            \
		v[b] = WGX_ROTR32(v[b] ^ v[c], 7);                             \
	} while (0)

/* One round over the message schedule s0..s15 (RFC 7693 section 3.2). */
#define WGX_B2S_ROUND(s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11, s12,   \
		      s13, s14, s15)                                           \
	do {                                                                   \
		WGX_B2S_G(0, 4, 8, 12, m[s0], m[s1]);                          \
		WGX_B2S_G(1, 5, 9, 13, m[s2], m[s3]);                          \
		WGX_B2S_G(2, 6, 10, 14, m[s4], m[s5]);                         \
		WGX_B2S_G(3, 7, 11, 15, m[s6], m[s7]);                         \
		WGX_B2S_G(0, 5, 10, 15, m[s8], m[s9]);                         \
		WGX_B2S_G(1, 6, 11, 12, m[s10], m[s11]);                       \
		WGX_B2S_G(2, 7, 8, 13, m[s12], m[s13]);                        \
		WGX_B2S_G(3, 4, 9, 14, m[s14], m[s15]);                        \
	} while (0)

/* The compression function F: h ^= the mix of block m at byte count t. */
static __noinline int wgx_b2s_compress(__u32 *h, const __u32 *m, __u32 t,
				       __u32 last)
{
	__u32 v[16];

	v[0] = h[0];
	v[1] = h[1];
	v[2] = h[2];
	v[3] = h[3];
	v[4] = h[4];
	v[5] = h[5];
	v[6] = h[6];
	v[7] = h[7];
	v[8] = WGX_B2S_IV0;
	v[9] = WGX_B2S_IV1;
	v[10] = WGX_B2S_IV2;
	v[11] = WGX_B2S_IV3;
	v[12] = WGX_B2S_IV4 ^ t; /* messages here are under 2^32 bytes */
	v[13] = WGX_B2S_IV5;
	v[14] = last ? ~WGX_B2S_IV6 : WGX_B2S_IV6;
	v[15] = WGX_B2S_IV7;

	WGX_B2S_ROUND(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
	WGX_B2S_ROUND(14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3);
	WGX_B2S_ROUND(11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4);
	WGX_B2S_ROUND(7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8);
	WGX_B2S_ROUND(9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13);
	WGX_B2S_ROUND(2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9);
	WGX_B2S_ROUND(12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11);
	WGX_B2S_ROUND(13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10);
	WGX_B2S_ROUND(6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5);
	WGX_B2S_ROUND(10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0);

	h[0] ^= v[0] ^ v[8];
	h[1] ^= v[1] ^ v[9];
	h[2] ^= v[2] ^ v[10];
	h[3] ^= v[3] ^ v[11];
	h[4] ^= v[4] ^ v[12];
	h[5] ^= v[5] ^ v[13];
	h[6] ^= v[6] ^ v[14];
	h[7] ^= v[7] ^ v[15];
	return 0;
}

/* BLAKE2s words are little-endian: n words between wire and CPU order. */
static __always_inline void wgx_b2s_words_le(__u32 *w, const int n)
{
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
	int i;

#pragma unroll
	for (i = 0; i < n; i++)
		w[i] = __builtin_bswap32(w[i]);
#else
	(void)w;
	(void)n;
#endif
}

static __always_inline bool wgx_b2s_same_key(const __u32 *a, const __u32 *b)
{
	return !((a[0] ^ b[0]) | (a[1] ^ b[1]) | (a[2] ^ b[2]) | (a[3] ^ b[3]) |
		 (a[4] ^ b[4]) | (a[5] ^ b[5]) | (a[6] ^ b[6]) | (a[7] ^ b[7]));
}

/*
 * true when the message of type 1 or 2 at byte off of the frame carries
 * the right mac1 for cfg->mac1_key. The caller checked its size.
 */
static __always_inline bool wgx_mac1_ok(struct xdp_md *ctx,
					const struct wgx_xdp_config *cfg,
					__u32 off, bool initiation)
{
	__u32 cover = initiation ? WGX_MAC1_INIT_COVER : WGX_MAC1_RESP_COVER;
	struct wgx_b2s_scratch *sc;
	__u32 zero = 0, *h, *m;

	sc = bpf_map_lookup_elem(&wgx_b2s_scratch, &zero);
	if (!sc)
		return true; /* cannot happen; never drop what is unchecked */
	h = sc->h;
	m = sc->m;

	__builtin_memcpy(m, cfg->mac1_key, WGX_KEY_LEN);
	if (!sc->key_set || !wgx_b2s_same_key(m, sc->key)) {
		/* The key, zero-padded to a block. */
		__builtin_memcpy(sc->key, m, WGX_KEY_LEN);
		__builtin_memset(m + WGX_KEY_LEN / 4, 0,
				 WGX_B2S_BLOCK - WGX_KEY_LEN);
		wgx_b2s_words_le(m, WGX_B2S_WORDS);
		h[0] = WGX_B2S_IV0 ^ WGX_B2S_PARAM0;
		h[1] = WGX_B2S_IV1;
		h[2] = WGX_B2S_IV2;
		h[3] = WGX_B2S_IV3;
		h[4] = WGX_B2S_IV4;
		h[5] = WGX_B2S_IV5;
		h[6] = WGX_B2S_IV6;
		h[7] = WGX_B2S_IV7;
		wgx_b2s_compress(h, m, WGX_B2S_BLOCK, 0);
		__builtin_memcpy(sc->key_h, h, sizeof(sc->key_h));
		sc->key_set = 1;
	} else {
		__builtin_memcpy(h, sc->key_h, sizeof(sc->key_h));
	}

	if (initiation) {
		if (bpf_xdp_load_bytes(ctx, off, m, WGX_B2S_BLOCK))
			return false;
		wgx_b2s_words_le(m, WGX_B2S_WORDS);
		wgx_b2s_compress(h, m, 2 * WGX_B2S_BLOCK, 0);
		__builtin_memset(sc->m, 0, sizeof(sc->m));
		if (bpf_xdp_load_bytes(ctx, off + WGX_B2S_BLOCK, m,
				       WGX_MAC1_INIT_COVER - WGX_B2S_BLOCK))
			return false;
	} else {
		__builtin_memset(sc->m, 0, sizeof(sc->m));
		if (bpf_xdp_load_bytes(ctx, off, m, WGX_MAC1_RESP_COVER))
			return false;
	}
	wgx_b2s_words_le(m, WGX_B2S_WORDS);
	wgx_b2s_compress(h, m, WGX_B2S_BLOCK + cover, 1);

	if (bpf_xdp_load_bytes(ctx, off + cover, sc->mac, sizeof(sc->mac)))
		return false;
	wgx_b2s_words_le(h, 4);
	/* mac1 proves no secret: no need for a constant-time compare. */
	return sc->mac[0] == h[0] && sc->mac[1] == h[1] && sc->mac[2] == h[2] &&
	       sc->mac[3] == h[3];
}

#endif
