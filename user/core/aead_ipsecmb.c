// SPDX-License-Identifier: MIT
/*
 * ChaCha20-Poly1305 through intel-ipsec-mb's job API. In v1.3 an AEAD job
 * is done when it is submitted (the AVX-512 code is single-buffer, with
 * an IFMA Poly1305 where the CPU has it), so one job slot is used at a
 * time and nothing is queued between calls. The library's direct API
 * (init, update, finalize on a context of ours) costs 1.8x as much per
 * 64-byte message.
 *
 * The library takes a pointer to the caller's key per job and copies
 * nothing out of it that outlives the call: built with SAFE_DATA
 * (required below) it clears the Poly1305 key and the keystream it puts
 * on its stack, and its vector registers (v1.3's source; no key,
 * Poly1305 key or keystream block was found in the 32 KiB of dead stack
 * below a call). What the manager keeps between calls is pointers to the
 * last job's key and buffers, which forget() clears by resetting it. The
 * manager's memory is ours (imb_set_pointers_mb_mgr) so that it can be
 * wiped before it is freed.
 */
#include "core/aead_ipsecmb.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#ifdef WGX_HAVE_IPSECMB

#include <intel-ipsec-mb.h>

struct wgx_ipsecmb {
	IMB_MGR *mgr;
	void *mem;
	size_t mem_len;
	enum wgx_ipsecmb_arch arch;
	/* Anything submitted since the manager was last reset. */
	bool used;
	/* The job's nonce, and the tag computed when opening. */
	uint8_t nonce[12];
	uint8_t tag[WGX_TAG_LEN];
};

static enum wgx_ipsecmb_arch wanted_arch = WGX_IPSECMB_AUTO;

int wgx_ipsecmb_set_arch(enum wgx_ipsecmb_arch arch)
{
	wanted_arch = arch;
	return 0;
}

/* RFC 8439 nonce as WireGuard builds it: 32 zero bits, then le64. */
static void counter_nonce(uint8_t nonce[12], uint64_t counter)
{
	memset(nonce, 0, 4);
	for (int i = 0; i < 8; i++)
		nonce[4 + i] = (uint8_t)(counter >> (8 * i));
}

/*
 * Run the wanted code path if this CPU has what it needs: the library's
 * init functions do not check, and the wrong one would fault on the
 * first instruction this CPU lacks.
 */
static enum wgx_ipsecmb_arch init_arch(IMB_MGR *m, enum wgx_ipsecmb_arch want)
{
	static const struct {
		uint64_t cpu;
		void (*init)(IMB_MGR *m);
	} paths[] = {
		[WGX_IPSECMB_SSE] = { IMB_CPUFLAGS_SSE, init_mb_mgr_sse },
		[WGX_IPSECMB_AVX] = { IMB_CPUFLAGS_AVX, init_mb_mgr_avx },
		[WGX_IPSECMB_AVX2] = { IMB_CPUFLAGS_AVX2, init_mb_mgr_avx2 },
		[WGX_IPSECMB_AVX512] = { IMB_CPUFLAGS_AVX512,
					 init_mb_mgr_avx512 },
	};
	IMB_ARCH got = IMB_ARCH_NONE;

	if (want == WGX_IPSECMB_AUTO) {
		init_mb_mgr_auto(m, &got);
		switch (got) {
		case IMB_ARCH_SSE:
			return WGX_IPSECMB_SSE;
		case IMB_ARCH_AVX:
			return WGX_IPSECMB_AVX;
		case IMB_ARCH_AVX2:
			return WGX_IPSECMB_AVX2;
		case IMB_ARCH_AVX512:
			return WGX_IPSECMB_AVX512;
		default:
			/* None, or the AES-NI emulation: not measured. */
			return WGX_IPSECMB_AUTO;
		}
	}
	if ((m->features & paths[want].cpu) != paths[want].cpu)
		return WGX_IPSECMB_AUTO;
	paths[want].init(m);
	return want;
}

/* Set the manager up from scratch in its memory: 0 or -ENODEV. */
static int mgr_reset(struct wgx_ipsecmb *mb, enum wgx_ipsecmb_arch want)
{
	uint64_t f;

	mb->mgr = imb_set_pointers_mb_mgr(mb->mem, 0, 1);
	if (!mb->mgr)
		return -ENODEV;
	mb->arch = init_arch(mb->mgr, want);
	mb->used = false;
	f = mb->mgr->features;
	/*
	 * Without SAFE_DATA the library leaves keystream and Poly1305 keys
	 * on its stack; a failed self-test means wrong results.
	 */
	if (mb->arch == WGX_IPSECMB_AUTO || imb_get_errno(mb->mgr) != 0 ||
	    !(f & IMB_FEATURE_SAFE_DATA) ||
	    ((f & IMB_FEATURE_SELF_TEST) && !(f & IMB_FEATURE_SELF_TEST_PASS)))
		return -ENODEV;
	return 0;
}

struct wgx_ipsecmb *wgx_ipsecmb_new(void)
{
	struct wgx_ipsecmb *mb = calloc(1, sizeof(*mb));

	if (!mb)
		return NULL;
	/* 64-byte aligned, as imb_get_mb_mgr_size() asks. */
	mb->mem_len = imb_get_mb_mgr_size();
	if (posix_memalign(&mb->mem, 64, mb->mem_len) != 0) {
		mb->mem = NULL;
		goto fail;
	}
	if (mgr_reset(mb, wanted_arch) < 0)
		goto fail;
	return mb;
fail:
	wgx_ipsecmb_free(mb);
	return NULL;
}

void wgx_ipsecmb_free(struct wgx_ipsecmb *mb)
{
	if (!mb)
		return;
	if (mb->mem) {
		sodium_memzero(mb->mem, mb->mem_len);
		free(mb->mem);
	}
	sodium_memzero(mb, sizeof(*mb));
	free(mb);
}

void wgx_ipsecmb_forget(struct wgx_ipsecmb *mb)
{
	if (!mb || !mb->used)
		return;
	/* The same code path again: it was set up before, so it still is. */
	(void)mgr_reset(mb, mb->arch);
	sodium_memzero(mb->tag, sizeof(mb->tag));
}

enum wgx_ipsecmb_arch wgx_ipsecmb_arch(const struct wgx_ipsecmb *mb)
{
	return mb->arch;
}

/* A job for one message; the tag goes to (or is computed into) tag. */
static void job_fill(IMB_JOB *job, bool seal, uint8_t *dst, const uint8_t *src,
		     size_t len, const uint8_t *ad, size_t ad_len,
		     const uint8_t nonce[12], const uint8_t key[32],
		     uint8_t tag[WGX_TAG_LEN])
{
	job->cipher_mode = IMB_CIPHER_CHACHA20_POLY1305;
	job->hash_alg = IMB_AUTH_CHACHA20_POLY1305;
	job->cipher_direction = seal ? IMB_DIR_ENCRYPT : IMB_DIR_DECRYPT;
	job->chain_order = seal ? IMB_ORDER_CIPHER_HASH : IMB_ORDER_HASH_CIPHER;
	job->enc_keys = key;
	job->dec_keys = key;
	job->key_len_in_bytes = IMB_KEY_256_BYTES;
	/* An empty message still needs valid pointers (no-check submit). */
	job->src = len ? src : tag;
	job->dst = len ? dst : tag;
	job->cipher_start_src_offset_in_bytes = 0;
	job->msg_len_to_cipher_in_bytes = len;
	job->hash_start_src_offset_in_bytes = 0;
	job->msg_len_to_hash_in_bytes = len;
	job->iv = nonce;
	job->iv_len_in_bytes = 12;
	job->auth_tag_output = tag;
	job->auth_tag_output_len_in_bytes = WGX_TAG_LEN;
	job->u.CHACHA20_POLY1305.aad = ad;
	job->u.CHACHA20_POLY1305.aad_len_in_bytes = ad_len;
	job->user_data = NULL;
}

/*
 * Submit without the library's argument checks (job_fill() sets every
 * field they look at, with lengths aead.c checked) and wait for the job.
 * It completes on submission in v1.3; should a later version queue it,
 * the queue is drained rather than the job left behind.
 */
static bool job_run(IMB_MGR *m, IMB_JOB *job)
{
	IMB_JOB *done = IMB_SUBMIT_JOB_NOCHECK(m);

	while (done && done != job)
		done = IMB_GET_COMPLETED_JOB(m);
	while (done != job) {
		done = IMB_FLUSH_JOB(m);
		if (!done)
			return false;
	}
	return job->status == IMB_STATUS_COMPLETED;
}

int wgx_ipsecmb_seal(struct wgx_ipsecmb *mb, uint8_t *dst, const uint8_t *src,
		     size_t len, const uint8_t *ad, size_t ad_len,
		     uint64_t counter, const uint8_t key[32])
{
	IMB_JOB *job = IMB_GET_NEXT_JOB(mb->mgr);

	mb->used = true;
	counter_nonce(mb->nonce, counter);
	job_fill(job, true, dst, src, len, ad, ad_len, mb->nonce, key,
		 dst + len);
	return job_run(mb->mgr, job) ? 0 : -EIO;
}

bool wgx_ipsecmb_open(struct wgx_ipsecmb *mb, uint8_t *dst, const uint8_t *src,
		      size_t clen, const uint8_t *ad, size_t ad_len,
		      uint64_t counter, const uint8_t key[32])
{
	IMB_JOB *job = IMB_GET_NEXT_JOB(mb->mgr);

	mb->used = true;
	counter_nonce(mb->nonce, counter);
	/*
	 * The library only computes the tag; the expected one stays at
	 * src + clen even in place, as only clen bytes are written.
	 */
	job_fill(job, false, dst, src, clen, ad, ad_len, mb->nonce, key,
		 mb->tag);
	return job_run(mb->mgr, job) &&
	       sodium_memcmp(mb->tag, src + clen, WGX_TAG_LEN) == 0;
}

#else /* !WGX_HAVE_IPSECMB */

struct wgx_ipsecmb {
	enum wgx_ipsecmb_arch arch;
};

int wgx_ipsecmb_set_arch(enum wgx_ipsecmb_arch arch)
{
	(void)arch;
	return -ENODEV;
}

struct wgx_ipsecmb *wgx_ipsecmb_new(void)
{
	return NULL;
}

void wgx_ipsecmb_free(struct wgx_ipsecmb *mb)
{
	(void)mb;
}

void wgx_ipsecmb_forget(struct wgx_ipsecmb *mb)
{
	(void)mb;
}

enum wgx_ipsecmb_arch wgx_ipsecmb_arch(const struct wgx_ipsecmb *mb)
{
	return mb->arch;
}

int wgx_ipsecmb_seal(struct wgx_ipsecmb *mb, uint8_t *dst, const uint8_t *src,
		     size_t len, const uint8_t *ad, size_t ad_len,
		     uint64_t counter, const uint8_t key[32])
{
	(void)mb, (void)dst, (void)src, (void)len, (void)ad, (void)ad_len;
	(void)counter, (void)key;
	return -EIO;
}

bool wgx_ipsecmb_open(struct wgx_ipsecmb *mb, uint8_t *dst, const uint8_t *src,
		      size_t clen, const uint8_t *ad, size_t ad_len,
		      uint64_t counter, const uint8_t key[32])
{
	(void)mb, (void)dst, (void)src, (void)clen, (void)ad, (void)ad_len;
	(void)counter, (void)key;
	return false;
}

#endif /* WGX_HAVE_IPSECMB */
