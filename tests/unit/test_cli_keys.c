// SPDX-License-Identifier: MIT
/* genkey/genpsk/pubkey through memory streams (tests/cli runs them vs wg). */
#include "test.h"

#include <stdio.h>
#include <stdlib.h>

#include "cli/cli_keys.h"
#include "core/crypto.h"
#include "core/key.h"

#define PRIV "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk="
#define PUB  "HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw="

struct run {
	int ret;
	char out[256];
	char err[256];
};

/* Runs pubkey on len bytes of input. */
static struct run pubkey(const char *in, size_t len)
{
	struct run r = { 0 };
	FILE *fin = fmemopen((void *)in, len ? len : 1, "r");
	FILE *fout = fmemopen(r.out, sizeof(r.out) - 1, "w");
	FILE *ferr = fmemopen(r.err, sizeof(r.err) - 1, "w");

	if (fin && !len)
		getc(fin); /* empty input: fmemopen needs a size of 1 */
	r.ret = fin && fout && ferr ? wgx_cli_keys_pubkey(fin, fout, ferr) : -1;
	if (fin)
		fclose(fin);
	if (fout)
		fclose(fout);
	if (ferr)
		fclose(ferr);
	return r;
}

static struct run generate(int (*fn)(FILE *, FILE *))
{
	struct run r = { 0 };
	FILE *fout = fmemopen(r.out, sizeof(r.out) - 1, "w");
	FILE *ferr = fmemopen(r.err, sizeof(r.err) - 1, "w");

	r.ret = fout && ferr ? fn(fout, ferr) : -1;
	if (fout)
		fclose(fout);
	if (ferr)
		fclose(ferr);
	return r;
}

static void test_pubkey_good(void)
{
	static const char *const inputs[] = {
		PRIV,
		PRIV "\n",
		PRIV "\r\n",
		PRIV " \t\n\n  ",
	};
	struct run r;

	for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		r = pubkey(inputs[i], strlen(inputs[i]));
		CHECK(r.ret == 0);
		CHECK(!strcmp(r.out, PUB "\n"));
		CHECK(r.err[0] == '\0');
	}
	/* wg also skips NUL bytes after the key. */
	r = pubkey(PRIV "\0\0\n", sizeof(PRIV) + 2);
	CHECK(r.ret == 0 && !strcmp(r.out, PUB "\n"));
}

static void test_pubkey_bad(void)
{
	static const char *const inputs[] = {
		"",
		"\n",
		"abc\n",
		PRIV "x\n",
		PRIV " x",
		" " PRIV,
		"yAnz5TF-lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=\n",
		"yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmn=\n",
		"yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmkA\n",
	};

	for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		struct run r = pubkey(inputs[i], strlen(inputs[i]));

		CHECK(r.ret == 1);
		CHECK(r.out[0] == '\0'); /* never a key */
		CHECK(!strncmp(r.err, "wgxdp: ", 7));
	}
	CHECK(strstr(pubkey(PRIV "x", 45).err, "Trailing characters"));
	CHECK(strstr(pubkey("abc", 3).err,
		     "Key is not the correct length or format"));
}

static void check_generated(const struct run *r, bool clamped)
{
	uint8_t k[WGX_KEY_LEN];
	char line[WGX_KEY_BASE64_LEN + 1];

	CHECK(r->ret == 0);
	CHECK(strlen(r->out) == WGX_KEY_BASE64_LEN + 1);
	CHECK(r->out[WGX_KEY_BASE64_LEN] == '\n');
	memcpy(line, r->out, WGX_KEY_BASE64_LEN);
	line[WGX_KEY_BASE64_LEN] = '\0';
	CHECK(wgx_key_from_base64(k, line));
	if (clamped)
		CHECK((k[0] & 7) == 0 && (k[31] & 0xc0) == 0x40);
	CHECK(r->err[0] == '\0'); /* a memory stream is no world file */
}

static void test_genkey_genpsk(void)
{
	struct run a = generate(wgx_cli_keys_genkey);
	struct run b = generate(wgx_cli_keys_genkey);
	bool unclamped = false;

	check_generated(&a, true);
	check_generated(&b, true);
	CHECK(strcmp(a.out, b.out) != 0);
	/* genpsk does not clamp: in 16 keys some low bits show up. */
	for (int i = 0; i < 16; i++) {
		struct run r = generate(wgx_cli_keys_genpsk);
		uint8_t k[WGX_KEY_LEN];

		check_generated(&r, false);
		r.out[WGX_KEY_BASE64_LEN] = '\0';
		if (wgx_key_from_base64(k, r.out))
			unclamped |= (k[0] & 7) || (k[31] & 0xc0) != 0x40;
	}
	CHECK(unclamped);
}

static void test_genkey_write_error(void)
{
	char tiny[8];
	struct run r = { 0 };
	FILE *fout = fmemopen(tiny, sizeof(tiny), "w");
	FILE *ferr = fmemopen(r.err, sizeof(r.err) - 1, "w");

	if (!fout || !ferr) {
		CHECK(fout && ferr);
		return;
	}
	setvbuf(fout, NULL, _IONBF, 0);
	r.ret = wgx_cli_keys_genkey(fout, ferr);
	fclose(fout);
	fclose(ferr);
	CHECK(r.ret == 1);
	CHECK(strstr(r.err, "cannot write the key") != NULL);
}

static const struct wgx_test cli_keys_tests[] = {
	{ "cli_keys: pubkey of wg(8)'s example key, trailing whitespace",
	  test_pubkey_good },
	{ "cli_keys: pubkey refuses bad input and prints no key",
	  test_pubkey_bad },
	{ "cli_keys: genkey clamped, genpsk not, both one base64 line",
	  test_genkey_genpsk },
	{ "cli_keys: a failed write is an error", test_genkey_write_error },
};
WGX_SUITE(cli_keys_tests)
