// SPDX-License-Identifier: MIT
/*
 * The transport AEAD's back ends (OpenSSL, libsodium, intel-ipsec-mb where
 * built with it, and "auto", which switches between them by size):
 * identical bytes at every size up to 65535 and in place, on each of the
 * library's code paths this CPU runs, RFC 8439 A.5, tampering (refused
 * and wiped), wrong counter or key, empty plaintext, batches with mixed
 * keys, sizes and bad entries, forgetting keys, and choosing a back end
 * by name.
 */
#include "test.h"

#include <errno.h>
#include <stdlib.h>

#include "core/aead.h"

/* Built with intel-ipsec-mb: then it must serve this CPU too. */
static bool built_with_ipsecmb(void)
{
#ifdef WGX_HAVE_IPSECMB
	return true;
#else
	return false;
#endif
}

static const enum wgx_aead_backend backends[] = {
	WGX_AEAD_OPENSSL,
	WGX_AEAD_SODIUM,
#ifdef WGX_HAVE_IPSECMB
	WGX_AEAD_IPSECMB,
#endif
	WGX_AEAD_AUTO,
};
enum {
	NB = sizeof(backends) / sizeof(backends[0]),
	BIG = 65535,
};

static bool open_all(struct wgx_aead *a[NB])
{
	bool ok = true;

	for (int i = 0; i < NB; i++) {
		a[i] = wgx_aead_new(backends[i]);
		CHECK(a[i] != NULL);
		ok = ok && a[i];
	}
	return ok;
}

static void free_all(struct wgx_aead *a[NB])
{
	for (int i = 0; i < NB; i++)
		wgx_aead_free(a[i]);
}

static uint64_t random_u64(void)
{
	return (uint64_t)wgx_crypto_random_u32() << 32 |
	       wgx_crypto_random_u32();
}

/* Whether auto changes back end between len - 1 and len. */
static bool auto_switches(const struct wgx_aead *au, size_t len)
{
	return len && wgx_aead_backend_for(au, len) !=
			      wgx_aead_backend_for(au, len - 1);
}

/* Sizes worth trying: all small ones, a spread, and auto's switch points. */
static bool interesting(const struct wgx_aead *au, size_t len)
{
	return len <= 300 || len % 97 == 0 || auto_switches(au, len) ||
	       auto_switches(au, len + 1) || len == 1420 || len == 1500;
}

/*
 * Seal len random bytes on every context in a[] (NULL ones skipped):
 * identical messages, which each context opens; then the same in place.
 */
static void agree(struct wgx_aead *const *a, int n, size_t len)
{
	static uint8_t pt[BIG], ct[BIG + 16], ref[BIG + 16], buf[BIG + 16];
	uint64_t counter = random_u64();
	uint8_t key[32];
	int first = -1;

	wgx_crypto_random(key, sizeof(key));
	wgx_crypto_random(pt, len);
	for (int i = 0; i < n; i++) {
		if (!a[i])
			continue;
		CHECK(wgx_aead_seal(a[i], ct, pt, len, counter, key) == 0);
		if (first < 0) {
			first = i;
			memcpy(ref, ct, len + 16);
		}
		CHECK_MEM(ct, ref, len + 16);
		memcpy(buf, pt, len);
		CHECK(wgx_aead_seal(a[i], buf, buf, len, counter, key) == 0);
		CHECK_MEM(buf, ref, len + 16);
	}
	for (int i = 0; i < n; i++) {
		if (!a[i])
			continue;
		memset(buf, 0, len);
		CHECK(wgx_aead_open(a[i], buf, ref, len + 16, counter, key));
		CHECK_MEM(buf, pt, len);
		memcpy(buf, ref, len + 16);
		CHECK(wgx_aead_open(a[i], buf, buf, len + 16, counter, key));
		CHECK_MEM(buf, pt, len);
		/* The tag is left where it was. */
		CHECK_MEM(buf + len, ref + len, 16);
	}
}

/* Random keys, counters and lengths up to 1500: all seal alike. */
static void test_backends_agree(void)
{
	struct wgx_aead *a[NB];

	if (!open_all(a))
		goto out;
	for (size_t len = 0; len <= 1500; len++)
		if (interesting(a[NB - 1], len))
			agree(a, NB, len);
out:
	free_all(a);
}

/* Random sizes over the whole range, the ends included. */
static void test_backends_agree_any_size(void)
{
	struct wgx_aead *a[NB];

	if (!open_all(a))
		goto out;
	agree(a, NB, 0);
	agree(a, NB, BIG);
	for (int k = 0; k < 60; k++)
		agree(a, NB, wgx_crypto_random_below(BIG + 1));
out:
	free_all(a);
}

/*
 * What this CPU offers for each of intel-ipsec-mb's code paths (the
 * library's own test, roughly): where it does, the path must work.
 */
static bool cpu_runs(const char *arch)
{
	__builtin_cpu_init();
	if (!__builtin_cpu_supports("sse4.2") || !__builtin_cpu_supports("aes"))
		return false;
	if (!strcmp(arch, "sse"))
		return true;
	if (!__builtin_cpu_supports("avx"))
		return false;
	if (!strcmp(arch, "avx"))
		return true;
	if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("bmi2"))
		return false;
	if (!strcmp(arch, "avx2"))
		return true;
	return __builtin_cpu_supports("avx512f") &&
	       __builtin_cpu_supports("avx512dq") &&
	       __builtin_cpu_supports("avx512cd") &&
	       __builtin_cpu_supports("avx512bw") &&
	       __builtin_cpu_supports("avx512vl");
}

/*
 * Each of the library's code paths against libsodium and OpenSSL, in
 * place too, and a bad tag: the paths of other CPUs are reachable here.
 */
static void test_ipsecmb_paths(void)
{
	static const char *const archs[] = { "sse", "avx", "avx2", "avx512" };
	static const size_t lens[] = { 0,  1,	15,  16,  17,	63,  64,
				       65, 255, 256, 257, 1420, 4096 };
	struct wgx_aead *a[3];

	if (!built_with_ipsecmb()) {
		CHECK(wgx_aead_ipsecmb_set_arch("avx2") == -ENODEV);
		CHECK(wgx_aead_new(WGX_AEAD_IPSECMB) == NULL);
		return;
	}
	a[0] = wgx_aead_new(WGX_AEAD_SODIUM);
	a[1] = wgx_aead_new(WGX_AEAD_OPENSSL);
	CHECK(a[0] && a[1]);
	for (size_t k = 0; a[0] && a[1] && k < 4; k++) {
		uint8_t key[32], msg[100 + 16], out[100];

		CHECK(wgx_aead_ipsecmb_set_arch(archs[k]) == 0);
		a[2] = wgx_aead_new(WGX_AEAD_IPSECMB);
		CHECK(wgx_aead_ipsecmb_set_arch("auto") == 0);
		CHECK((a[2] != NULL) == cpu_runs(archs[k]));
		if (!a[2])
			continue;
		CHECK(!strcmp(wgx_aead_ipsecmb_arch(a[2]), archs[k]));
		for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
			agree(a, 3, lens[i]);
		for (int i = 0; i < 20; i++)
			agree(a, 3, wgx_crypto_random_below(BIG + 1));
		wgx_crypto_random(key, sizeof(key));
		wgx_crypto_random(out, sizeof(out));
		CHECK(wgx_aead_seal(a[2], msg, out, 100, 9, key) == 0);
		msg[100 + 15] ^= 1;
		memset(out, 0xee, sizeof(out));
		CHECK(!wgx_aead_open(a[2], out, msg, sizeof(msg), 9, key));
		CHECK(wgx_crypto_is_zero(out, sizeof(out)));
		wgx_aead_free(a[2]);
	}
	wgx_aead_free(a[0]);
	wgx_aead_free(a[1]);
}

/* RFC 8439 appendix A.5: nonce 000000000102030405060708, with AAD. */
static const char a5_key[] =
	"1c9240a5eb55d38af333888604f6b5f0473917c1402b80099dca5cbc207075c0";
static const char a5_ad[] = "f33388860000000000004e91";
static const char a5_ct[] =
	"64a0861575861af460f062c79be643bd5e805cfd345cf389f108670ac76c8cb2"
	"4c6cfc18755d43eea09ee94e382d26b0bdb7b73c321b0100d4f03b7f355894cf"
	"332f830e710b97ce98c8a84abd0b948114ad176e008d33bd60f982b1ff37c855"
	"9797a06ef4f0ef61c186324e2b3506383606907b6a7c02b0f9f6157b53c867e4"
	"b9166c767b804d46a59b5216cde7a4e99040c5a40433225ee282a1b0a06c523e"
	"af4534d7f83fa1155b0047718cbc546a0d072b04b3564eea1b422273f548271a"
	"0bb2316053fa76991955ebd63159434ecebb4e466dae5a1073a6727627097a10"
	"49e617d91d361094fa68f0ff77987130305beaba2eda04df997b714d6c6f2c29"
	"a6ad5cb4022b02709b"
	"eead9d67890cbb22392336fea1851f38";
static const char a5_pt[] =
	"496e7465726e65742d4472616674732061726520647261667420646f63756d656e"
	"74732076616c696420666f722061206d6178696d756d206f6620736978206d6f6e"
	"74687320616e64206d617920626520757064617465642c207265706c616365642c"
	"206f72206f62736f6c65746564206279206f7468657220646f63756d656e747320"
	"617420616e792074696d652e20497420697320696e617070726f70726961746520"
	"746f2075736520496e7465726e65742d447261667473206173207265666572656e"
	"6365206d6174657269616c206f7220746f2063697465207468656d206f74686572"
	"207468616e206173202fe2809c776f726b20696e2070726f67726573732e2fe280"
	"9d";

static void test_rfc8439_a5(void)
{
	const uint64_t counter = 0x0807060504030201ULL;
	uint8_t key[32], ad[12], msg[265 + 16], pt[265], got[265 + 16];
	struct wgx_aead *a[NB];

	CHECK(wgx_hex_decode(key, 32, a5_key));
	CHECK(wgx_hex_decode(ad, 12, a5_ad));
	CHECK(wgx_hex_decode(msg, sizeof(msg), a5_ct));
	CHECK(wgx_hex_decode(pt, sizeof(pt), a5_pt));
	if (!open_all(a))
		goto out;
	for (int i = 0; i < NB; i++) {
		memset(got, 0, sizeof(got));
		CHECK(wgx_aead_open_ad(a[i], got, msg, sizeof(msg), ad, 12,
				       counter, key));
		CHECK_MEM(got, pt, sizeof(pt));
		memset(got, 0, sizeof(got));
		CHECK(wgx_aead_seal_ad(a[i], got, pt, sizeof(pt), ad, 12,
				       counter, key) == 0);
		CHECK_MEM(got, msg, sizeof(msg));
		/* Without the AAD the tag cannot match. */
		CHECK(!wgx_aead_open(a[i], got, msg, sizeof(msg), counter,
				     key));
		CHECK(wgx_crypto_is_zero(got, sizeof(pt)));
		/* Nor with the AAD one byte short. */
		CHECK(!wgx_aead_open_ad(a[i], got, msg, sizeof(msg), ad, 11,
					counter, key));
	}
out:
	free_all(a);
}

/* Every single-bit flip of a short message, tag included, is refused. */
static void test_tamper(void)
{
	uint8_t key[32], pt[5] = { 'h', 'e', 'l', 'l', 'o' }, msg[5 + 16];
	uint8_t out[5];
	struct wgx_aead *a[NB];

	if (!open_all(a))
		goto out;
	wgx_crypto_random(key, sizeof(key));
	for (int i = 0; i < NB; i++) {
		int accepted = 0, leaked = 0;

		CHECK(wgx_aead_seal(a[i], msg, pt, sizeof(pt), 3, key) == 0);
		for (size_t bit = 0; bit < sizeof(msg) * 8; bit++) {
			msg[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			memset(out, 0xee, sizeof(out));
			accepted += wgx_aead_open(a[i], out, msg, sizeof(msg),
						  3, key);
			/* No forged plaintext is left behind either. */
			leaked += !wgx_crypto_is_zero(out, sizeof(out));
			msg[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		}
		CHECK(accepted == 0);
		CHECK(leaked == 0);
		CHECK(wgx_aead_open(a[i], out, msg, sizeof(msg), 3, key));
		CHECK_MEM(out, pt, sizeof(pt));
		/* One byte short. */
		CHECK(!wgx_aead_open(a[i], out, msg, sizeof(msg) - 1, 3, key));
	}
out:
	free_all(a);
}

/* A forged full-size packet, in place: nothing of it is left. */
static void test_tamper_in_place(void)
{
	static uint8_t buf[1420 + 16];
	uint8_t key[32];
	struct wgx_aead *a[NB];

	if (!open_all(a))
		goto out;
	wgx_crypto_random(key, sizeof(key));
	for (int i = 0; i < NB; i++) {
		wgx_crypto_random(buf, 1420);
		CHECK(wgx_aead_seal(a[i], buf, buf, 1420, 5, key) == 0);
		buf[700] ^= 4;
		CHECK(!wgx_aead_open(a[i], buf, buf, sizeof(buf), 5, key));
		CHECK(wgx_crypto_is_zero(buf, 1420));
	}
out:
	free_all(a);
}

static void test_wrong_counter_or_key(void)
{
	uint8_t key[32], other[32], pt[64], msg[64 + 16], out[64];
	struct wgx_aead *a[NB];

	if (!open_all(a))
		goto out;
	wgx_crypto_random(key, sizeof(key));
	memcpy(other, key, sizeof(key));
	other[31] ^= 1;
	wgx_crypto_random(pt, sizeof(pt));
	for (int i = 0; i < NB; i++) {
		CHECK(wgx_aead_seal(a[i], msg, pt, sizeof(pt), 1000, key) == 0);
		CHECK(!wgx_aead_open(a[i], out, msg, sizeof(msg), 999, key));
		CHECK(!wgx_aead_open(a[i], out, msg, sizeof(msg), 1001, key));
		CHECK(!wgx_aead_open(a[i], out, msg, sizeof(msg),
				     1000 | 1ULL << 32, key));
		CHECK(!wgx_aead_open(a[i], out, msg, sizeof(msg), 1000, other));
		/* The context is not left broken by a failure. */
		CHECK(wgx_aead_open(a[i], out, msg, sizeof(msg), 1000, key));
		CHECK_MEM(out, pt, sizeof(pt));
	}
out:
	free_all(a);
}

/* A keepalive: no plaintext, just a tag. */
static void test_empty(void)
{
	uint8_t key[32], tag[NB][16], out[1] = { 0x42 };
	struct wgx_aead *a[NB];

	if (!open_all(a))
		goto out;
	wgx_crypto_random(key, sizeof(key));
	for (int i = 0; i < NB; i++) {
		CHECK(wgx_aead_seal(a[i], tag[i], NULL, 0, 1, key) == 0);
		CHECK(!wgx_crypto_is_zero(tag[i], 16));
	}
	for (int i = 1; i < NB; i++)
		CHECK_MEM(tag[0], tag[i], 16);
	for (int i = 0; i < NB; i++) {
		CHECK(wgx_aead_open(a[i], out, tag[i], 16, 1, key));
		CHECK(out[0] == 0x42);
		CHECK(!wgx_aead_open(a[i], out, tag[i], 16, 2, key));
		CHECK(!wgx_aead_open(a[i], out, tag[i], 15, 1, key));
		CHECK(!wgx_aead_open(a[i], out, tag[i], 0, 1, key));
		tag[i][15] ^= 0x80;
		CHECK(!wgx_aead_open(a[i], out, tag[i], 16, 1, key));
	}
out:
	free_all(a);
}

/* What one batch test works on: 64 messages with their own buffers. */
struct batch {
	uint8_t key[WGX_AEAD_BATCH_MAX][32];
	uint8_t pt[WGX_AEAD_BATCH_MAX][3000];
	uint8_t ct[WGX_AEAD_BATCH_MAX][3000 + 16];
	uint8_t buf[WGX_AEAD_BATCH_MAX][3000 + 16];
	size_t len[WGX_AEAD_BATCH_MAX];
	uint64_t counter[WGX_AEAD_BATCH_MAX];
	struct wgx_aead_op ops[WGX_AEAD_BATCH_MAX];
};

/* Random messages: eight keys, sizes 0..2999 with auto's ends mixed in. */
static void batch_fill(struct batch *b, struct wgx_aead *ref)
{
	for (int i = 0; i < WGX_AEAD_BATCH_MAX; i++) {
		if (i < 8)
			wgx_crypto_random(b->key[i], 32);
		else
			memcpy(b->key[i], b->key[i % 8], 32);
		b->len[i] = i % 4 == 0 ? (size_t)i * 16
				       : wgx_crypto_random_below(3000);
		b->counter[i] = random_u64();
		wgx_crypto_random(b->pt[i], b->len[i]);
		CHECK(wgx_aead_seal(ref, b->ct[i], b->pt[i], b->len[i],
				    b->counter[i], b->key[i]) == 0);
	}
}

/*
 * Seal batches (half in place) on every back end: each message as the
 * single call makes it.
 */
static void test_batch_seal(void)
{
	static struct batch b;
	struct wgx_aead *a[NB];

	if (!open_all(a))
		goto out;
	batch_fill(&b, a[1]);
	for (int k = 0; k < NB; k++) {
		for (int i = 0; i < WGX_AEAD_BATCH_MAX; i++) {
			struct wgx_aead_op *op = &b.ops[i];

			memcpy(b.buf[i], b.pt[i], b.len[i]);
			*op = (struct wgx_aead_op){
				.dst = b.buf[i],
				.src = i % 2 ? b.buf[i] : b.pt[i],
				.len = b.len[i],
				.counter = b.counter[i],
				.key = b.key[i],
				.err = 12345,
			};
		}
		CHECK(wgx_aead_seal_batch(a[k], b.ops, WGX_AEAD_BATCH_MAX) ==
		      WGX_AEAD_BATCH_MAX);
		for (int i = 0; i < WGX_AEAD_BATCH_MAX; i++) {
			CHECK(b.ops[i].err == 0);
			CHECK_MEM(b.buf[i], b.ct[i], b.len[i] + 16);
		}
	}
out:
	free_all(a);
}

/*
 * Open batches mixing good messages with forged, mis-keyed, replayed
 * counter and too short ones: the good ones open, the others fail with
 * dst wiped, whatever their place in the batch.
 */
static void test_batch_open_mixed(void)
{
	static struct batch b;
	struct wgx_aead *a[NB];

	if (!open_all(a))
		goto out;
	batch_fill(&b, a[0]);
	for (int k = 0; k < NB; k++) {
		int bad = 0;

		for (int i = 0; i < WGX_AEAD_BATCH_MAX; i++) {
			struct wgx_aead_op *op = &b.ops[i];
			size_t len = b.len[i] + 16;
			int what = (i + k) % 6;

			memcpy(b.buf[i], b.ct[i], len);
			*op = (struct wgx_aead_op){
				.dst = b.buf[i],
				.src = i % 3 ? b.buf[i] : b.ct[i],
				.len = len,
				.counter = b.counter[i],
				.key = b.key[i],
			};
			if (what == 1) /* forged ciphertext or tag */
				b.buf[i]
				     [wgx_crypto_random_below((uint32_t)len)] ^=
					0x20;
			else if (what == 3) /* another session's key */
				op->key = b.key[(i + 1) % 8];
			else if (what == 5) /* another counter */
				op->counter++;
			if (what == 1 && op->src == b.ct[i])
				op->src = b.buf[i];
			bad += what % 2;
		}
		b.ops[7].len = 15; /* not even a tag */
		bad += (7 + k) % 6 % 2 == 0;
		CHECK(wgx_aead_open_batch(a[k], b.ops, WGX_AEAD_BATCH_MAX) ==
		      WGX_AEAD_BATCH_MAX - bad);
		for (int i = 0; i < WGX_AEAD_BATCH_MAX; i++) {
			bool good = (i + k) % 6 % 2 == 0 && i != 7;

			CHECK(b.ops[i].err == (good ? 0 : -EBADMSG));
			if (good)
				CHECK_MEM(b.buf[i], b.pt[i], b.len[i]);
			else if (i != 7)
				CHECK(wgx_crypto_is_zero(b.buf[i], b.len[i]));
		}
	}
out:
	free_all(a);
}

/* Empty and oversized batches, and one message too long to seal. */
static void test_batch_limits(void)
{
	static struct wgx_aead_op ops[WGX_AEAD_BATCH_MAX + 1];
	uint8_t key[32] = { 1 }, buf[16 + 16] = { 0 };
	struct wgx_aead *a[NB];

	if (!open_all(a))
		goto out;
	for (int k = 0; k < NB; k++) {
		for (int i = 0; i <= WGX_AEAD_BATCH_MAX; i++)
			ops[i] = (struct wgx_aead_op){ .dst = buf,
						       .src = buf,
						       .len = 16,
						       .counter = 1,
						       .key = key,
						       .err = 99 };
		CHECK(wgx_aead_seal_batch(a[k], ops, 0) == 0);
		CHECK(wgx_aead_open_batch(a[k], ops, 0) == 0);
		CHECK(wgx_aead_seal_batch(a[k], ops, WGX_AEAD_BATCH_MAX + 1) ==
		      -EINVAL);
		CHECK(wgx_aead_open_batch(a[k], ops, WGX_AEAD_BATCH_MAX + 1) ==
		      -EINVAL);
		/* Nothing was touched. */
		CHECK(ops[0].err == 99 && ops[WGX_AEAD_BATCH_MAX].err == 99);
		ops[1].len = (size_t)1 << 31;
		CHECK(wgx_aead_seal_batch(a[k], ops, 2) == 1);
		CHECK(ops[0].err == 0 && ops[1].err == -EMSGSIZE);
		ops[0].len = 32;
		CHECK(wgx_aead_open_batch(a[k], ops, 1) == 1);
		CHECK(ops[0].err == 0);
	}
out:
	free_all(a);
}

/* After forget() (used or not, twice), every context works as before. */
static void test_forget(void)
{
	uint8_t key[32], pt[1420], msg[1420 + 16], out[1420];
	struct wgx_aead *a[NB];

	if (!open_all(a))
		goto out;
	wgx_crypto_random(key, sizeof(key));
	wgx_crypto_random(pt, sizeof(pt));
	for (int i = 0; i < NB; i++) {
		wgx_aead_forget(a[i]);
		for (size_t len = 64; len <= 1420; len += 1356) {
			CHECK(wgx_aead_seal(a[i], msg, pt, len, 7, key) == 0);
			wgx_aead_forget(a[i]);
			wgx_aead_forget(a[i]);
			CHECK(wgx_aead_open(a[i], out, msg, len + 16, 7, key));
			CHECK_MEM(out, pt, len);
			wgx_aead_forget(a[i]);
		}
	}
out:
	free_all(a);
	wgx_aead_forget(NULL);
}

/*
 * auto: intel-ipsec-mb's AVX-512 code at every size; without the
 * library, libsodium for small messages and OpenSSL for large ones.
 */
static void test_auto_choice(void)
{
	struct wgx_aead *a = wgx_aead_new(WGX_AEAD_AUTO);
	const char *arch;

	CHECK(a != NULL);
	if (!a)
		return;
	arch = wgx_aead_ipsecmb_arch(a);
#ifdef WGX_HAVE_IPSECMB
	CHECK(arch != NULL);
#endif
	if (arch && !strcmp(arch, "avx512")) {
		for (size_t len = 0; len <= BIG; len += 61)
			CHECK(wgx_aead_backend_for(a, len) == WGX_AEAD_IPSECMB);
	} else if (!arch) {
		CHECK(wgx_aead_backend_for(a, 64) == WGX_AEAD_SODIUM);
		CHECK(wgx_aead_backend_for(a, 1420) == WGX_AEAD_OPENSSL);
	}
	wgx_aead_free(a);
	/* A single back end is its own choice. */
	a = wgx_aead_new(WGX_AEAD_SODIUM);
	CHECK(a && wgx_aead_backend_for(a, 1420) == WGX_AEAD_SODIUM);
	CHECK(a && wgx_aead_ipsecmb_arch(a) == NULL);
	wgx_aead_free(a);
}

static void test_names(void)
{
	enum wgx_aead_backend b = WGX_AEAD_SODIUM;
	struct wgx_aead *a;

	CHECK(WGX_AEAD_DEFAULT == WGX_AEAD_AUTO);
	CHECK(wgx_aead_backend_parse("openssl", &b) == 0);
	CHECK(b == WGX_AEAD_OPENSSL);
	CHECK(wgx_aead_backend_parse("sodium", &b) == 0);
	CHECK(b == WGX_AEAD_SODIUM);
	CHECK(wgx_aead_backend_parse("ipsecmb", &b) == 0);
	CHECK(b == WGX_AEAD_IPSECMB);
	CHECK(wgx_aead_backend_parse("auto", &b) == 0);
	CHECK(b == WGX_AEAD_AUTO);
	CHECK(wgx_aead_backend_parse("sodium", &b) == 0);
	CHECK(wgx_aead_backend_parse("OpenSSL", &b) == -EINVAL);
	CHECK(wgx_aead_backend_parse("libsodium", &b) == -EINVAL);
	CHECK(wgx_aead_backend_parse("intel-ipsec-mb", &b) == -EINVAL);
	CHECK(wgx_aead_backend_parse("", &b) == -EINVAL);
	CHECK(wgx_aead_backend_parse("openssl ", &b) == -EINVAL);
	CHECK(wgx_aead_backend_parse(NULL, &b) == -EINVAL);
	CHECK(b == WGX_AEAD_SODIUM);
	CHECK(!strcmp(wgx_aead_backend_name(WGX_AEAD_SODIUM), "sodium"));
	CHECK(!strcmp(wgx_aead_backend_name(WGX_AEAD_IPSECMB), "ipsecmb"));
	CHECK(!strcmp(wgx_aead_backend_name((enum wgx_aead_backend)7),
		      "unknown"));
	CHECK(wgx_aead_new((enum wgx_aead_backend)7) == NULL);
	CHECK(wgx_aead_ipsecmb_set_arch("avx3") == -EINVAL);
	CHECK(wgx_aead_ipsecmb_set_arch("AVX2") == -EINVAL);
	CHECK(wgx_aead_ipsecmb_set_arch(NULL) == -EINVAL);
	a = wgx_aead_new(WGX_AEAD_DEFAULT);
	CHECK(a && !strcmp(wgx_aead_name(a), "auto"));
	wgx_aead_free(a);
	a = wgx_aead_new(WGX_AEAD_OPENSSL);
	CHECK(a && !strcmp(wgx_aead_name(a), "openssl"));
	wgx_aead_free(a);
	a = wgx_aead_new(WGX_AEAD_SODIUM);
	CHECK(a && !strcmp(wgx_aead_name(a), "sodium"));
	wgx_aead_free(a);
	a = wgx_aead_new(WGX_AEAD_IPSECMB);
#ifdef WGX_HAVE_IPSECMB
	CHECK(a && !strcmp(wgx_aead_name(a), "ipsecmb"));
#else
	CHECK(a == NULL);
#endif
	wgx_aead_free(a);
	wgx_aead_free(NULL);
}

static const struct wgx_test aead_tests[] = {
	{ "aead: back ends produce identical bytes", test_backends_agree },
	{ "aead: identical bytes at random sizes to 65535, in place",
	  test_backends_agree_any_size },
	{ "aead: every intel-ipsec-mb code path this CPU runs",
	  test_ipsecmb_paths },
	{ "aead: RFC 8439 A.5 on every back end", test_rfc8439_a5 },
	{ "aead: every bit flip is refused and wiped", test_tamper },
	{ "aead: a forged packet opened in place is wiped",
	  test_tamper_in_place },
	{ "aead: wrong counter or key is refused", test_wrong_counter_or_key },
	{ "aead: zero-length plaintext", test_empty },
	{ "aead: batch seal with mixed keys, sizes, in place",
	  test_batch_seal },
	{ "aead: batch open with good and bad entries mixed",
	  test_batch_open_mixed },
	{ "aead: batch limits", test_batch_limits },
	{ "aead: forget() leaves working contexts", test_forget },
	{ "aead: auto's choice per size", test_auto_choice },
	{ "aead: back end names, parsing and default", test_names },
};
WGX_SUITE(aead_tests)
