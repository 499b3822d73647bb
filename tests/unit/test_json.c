// SPDX-License-Identifier: MIT
/* The JSON writer: escaping, UTF-8 hygiene, nesting, misuse. */
#include "test.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "util/json.h"

/* One string value rendered compactly. */
static void check_string(const char *in, size_t len, const char *want)
{
	struct wgx_json j;

	wgx_json_init(&j, false);
	wgx_json_string_len(&j, in, len);
	CHECK(wgx_json_finish(&j) == 0);
	CHECK(!strcmp(wgx_json_str(&j), want));
	if (strcmp(wgx_json_str(&j), want))
		fprintf(stderr, "    got %s want %s\n", wgx_json_str(&j), want);
	wgx_json_free(&j);
}

#define STR(lit, want) check_string(lit, sizeof(lit) - 1, want)

static void test_json_escaping(void)
{
	STR("plain", "\"plain\"");
	STR("", "\"\"");
	STR("a\"b\\c", "\"a\\\"b\\\\c\"");
	STR("\n\t\r\b\f", "\"\\n\\t\\r\\b\\f\"");
	STR("\x01\x1f", "\"\\u0001\\u001f\"");
	STR("nul\0x", "\"nul\\u0000x\"");
	/* Solidus and DEL need no escape. */
	STR("/\x7f", "\"/\x7f\"");
	STR("10.0.0.1:51820", "\"10.0.0.1:51820\"");
}

static void test_json_utf8(void)
{
	/* Valid sequences of every length pass through unchanged. */
	STR("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
	    "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
	/* Invalid bytes become U+FFFD, one per byte. */
	STR("a\xff"
	    "b",
	    "\"a\\ufffdb\"");
	STR("\xc3", "\"\\ufffd\"");			  /* truncated */
	STR("\xc0\xaf", "\"\\ufffd\\ufffd\"");		  /* overlong '/' */
	STR("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\""); /* surrogate */
	STR("\xf4\x90\x80\x80",
	    "\"\\ufffd\\ufffd\\ufffd\\ufffd\""); /* >10FFFF */
	STR("\xe2\x82", "\"\\ufffd\\ufffd\"");
}

static void build_instance(struct wgx_json *j)
{
	wgx_json_object_begin(j);
	wgx_json_kv_string(j, "interface", "wg0");
	wgx_json_kv_uint(j, "listen_port", 51820);
	wgx_json_key(j, "peers");
	wgx_json_array_begin(j);
	wgx_json_object_begin(j);
	wgx_json_key(j, "allowed_ips");
	wgx_json_array_begin(j);
	wgx_json_string(j, "10.0.0.2/32");
	wgx_json_string(j, "fd00::2/128");
	wgx_json_array_end(j);
	wgx_json_kv_int(j, "latest_handshake", 0);
	wgx_json_kv_bool(j, "up", true);
	wgx_json_object_end(j);
	wgx_json_array_end(j);
	wgx_json_key(j, "counters");
	wgx_json_object_begin(j);
	wgx_json_object_end(j);
	wgx_json_key(j, "none");
	wgx_json_array_begin(j);
	wgx_json_array_end(j);
	wgx_json_object_end(j);
}

static void test_json_nesting_compact(void)
{
	struct wgx_json j;

	wgx_json_init(&j, false);
	build_instance(&j);
	CHECK(wgx_json_finish(&j) == 0);
	CHECK(!strcmp(wgx_json_str(&j),
		      "{\"interface\":\"wg0\",\"listen_port\":51820,"
		      "\"peers\":[{\"allowed_ips\":[\"10.0.0.2/32\","
		      "\"fd00::2/128\"],\"latest_handshake\":0,\"up\":true}],"
		      "\"counters\":{},\"none\":[]}"));
	wgx_json_free(&j);
}

static void test_json_nesting_pretty(void)
{
	struct wgx_json j;

	wgx_json_init(&j, true);
	build_instance(&j);
	CHECK(wgx_json_finish(&j) == 0);
	CHECK(!strcmp(wgx_json_str(&j), "{\n"
					"  \"interface\": \"wg0\",\n"
					"  \"listen_port\": 51820,\n"
					"  \"peers\": [\n"
					"    {\n"
					"      \"allowed_ips\": [\n"
					"        \"10.0.0.2/32\",\n"
					"        \"fd00::2/128\"\n"
					"      ],\n"
					"      \"latest_handshake\": 0,\n"
					"      \"up\": true\n"
					"    }\n"
					"  ],\n"
					"  \"counters\": {},\n"
					"  \"none\": []\n"
					"}\n"));
	wgx_json_free(&j);
}

static void test_json_scalars(void)
{
	struct wgx_json j;

	wgx_json_init(&j, false);
	wgx_json_array_begin(&j);
	wgx_json_int(&j, INT64_MIN);
	wgx_json_int(&j, INT64_MAX);
	wgx_json_uint(&j, UINT64_MAX);
	wgx_json_int(&j, -1);
	wgx_json_bool(&j, false);
	wgx_json_null(&j);
	wgx_json_string(&j, NULL);
	wgx_json_array_end(&j);
	CHECK(wgx_json_finish(&j) == 0);
	CHECK(!strcmp(wgx_json_str(&j),
		      "[-9223372036854775808,9223372036854775807,"
		      "18446744073709551615,-1,false,null,null]"));
	wgx_json_free(&j);
}

static void test_json_key_escaped(void)
{
	struct wgx_json j;

	wgx_json_init(&j, false);
	wgx_json_object_begin(&j);
	wgx_json_kv_string(&j, "a\"b", "c");
	wgx_json_object_end(&j);
	CHECK(wgx_json_finish(&j) == 0);
	CHECK(!strcmp(wgx_json_str(&j), "{\"a\\\"b\":\"c\"}"));
	wgx_json_free(&j);
}

static void test_json_several_roots(void)
{
	struct wgx_json j;

	wgx_json_init(&j, false);
	wgx_json_object_begin(&j);
	wgx_json_object_end(&j);
	wgx_json_object_begin(&j);
	wgx_json_kv_int(&j, "n", 2);
	wgx_json_object_end(&j);
	CHECK(wgx_json_finish(&j) == 0);
	CHECK(!strcmp(wgx_json_str(&j), "{}\n{\"n\":2}"));
	wgx_json_free(&j);
	wgx_json_init(&j, true);
	wgx_json_object_begin(&j);
	wgx_json_object_end(&j);
	wgx_json_int(&j, 3);
	CHECK(wgx_json_finish(&j) == 0);
	CHECK(!strcmp(wgx_json_str(&j), "{}\n3\n"));
	wgx_json_free(&j);
}

/* Each misuse must be reported by finish(), never crash or print junk. */
static void test_json_misuse(void)
{
	struct wgx_json j;

	wgx_json_init(&j, false); /* value without a key */
	wgx_json_object_begin(&j);
	wgx_json_int(&j, 1);
	wgx_json_object_end(&j);
	CHECK(wgx_json_finish(&j) == -EINVAL);
	wgx_json_free(&j);

	wgx_json_init(&j, false); /* key inside an array */
	wgx_json_array_begin(&j);
	wgx_json_key(&j, "k");
	CHECK(wgx_json_finish(&j) == -EINVAL);
	wgx_json_free(&j);

	wgx_json_init(&j, false); /* key at top level */
	wgx_json_key(&j, "k");
	CHECK(wgx_json_finish(&j) == -EINVAL);
	wgx_json_free(&j);

	wgx_json_init(&j, false); /* two keys in a row */
	wgx_json_object_begin(&j);
	wgx_json_key(&j, "a");
	wgx_json_key(&j, "b");
	CHECK(wgx_json_finish(&j) == -EINVAL);
	wgx_json_free(&j);

	wgx_json_init(&j, false); /* key left without value */
	wgx_json_object_begin(&j);
	wgx_json_key(&j, "a");
	wgx_json_object_end(&j);
	CHECK(wgx_json_finish(&j) == -EINVAL);
	wgx_json_free(&j);

	wgx_json_init(&j, false); /* mismatched close */
	wgx_json_array_begin(&j);
	wgx_json_object_end(&j);
	CHECK(wgx_json_finish(&j) == -EINVAL);
	wgx_json_free(&j);

	wgx_json_init(&j, false); /* close with nothing open */
	wgx_json_array_end(&j);
	CHECK(wgx_json_finish(&j) == -EINVAL);
	wgx_json_free(&j);

	wgx_json_init(&j, false); /* unclosed */
	wgx_json_object_begin(&j);
	CHECK(wgx_json_finish(&j) == -EINVAL);
	wgx_json_free(&j);

	wgx_json_init(&j, false); /* NULL key */
	wgx_json_object_begin(&j);
	wgx_json_key(&j, NULL);
	CHECK(wgx_json_finish(&j) == -EINVAL);
	wgx_json_free(&j);
}

static void test_json_depth_limit(void)
{
	struct wgx_json j;
	int i;

	wgx_json_init(&j, false);
	for (i = 0; i < WGX_JSON_MAX_DEPTH; i++)
		wgx_json_array_begin(&j);
	for (i = 0; i < WGX_JSON_MAX_DEPTH; i++)
		wgx_json_array_end(&j);
	CHECK(wgx_json_finish(&j) == 0);
	CHECK(j.len == 2 * WGX_JSON_MAX_DEPTH);
	wgx_json_free(&j);

	wgx_json_init(&j, false);
	for (i = 0; i <= WGX_JSON_MAX_DEPTH; i++)
		wgx_json_array_begin(&j);
	CHECK(wgx_json_finish(&j) == -E2BIG);
	wgx_json_free(&j);
}

static void test_json_file(void)
{
	struct wgx_json j, b;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	CHECK(f != NULL);
	if (!f)
		return;
	wgx_json_init_file(&j, f, true);
	build_instance(&j);
	CHECK(wgx_json_finish(&j) == 0);
	CHECK(!strcmp(wgx_json_str(&j), "")); /* nothing kept in memory */
	fclose(f);
	wgx_json_init(&b, true);
	build_instance(&b);
	CHECK(wgx_json_finish(&b) == 0);
	CHECK(text && !strcmp(text, wgx_json_str(&b)));
	wgx_json_free(&b);
	free(text);
}

static void test_json_file_error(void)
{
	struct wgx_json j;
	FILE *f = fopen("/dev/full", "w");

	if (!f) {
		CHECK(errno == ENOENT); /* no /dev/full: nothing to test */
		return;
	}
	wgx_json_init_file(&j, f, false);
	wgx_json_string(&j, "lost");
	CHECK(wgx_json_finish(&j) == -EIO);
	fclose(f);
}

/* The text can be handed over whole; the writer is empty afterwards. */
static void test_json_take(void)
{
	struct wgx_json j;
	size_t len, cap;
	char *text;

	wgx_json_init(&j, false);
	wgx_json_object_begin(&j);
	wgx_json_kv_uint(&j, "a", 1);
	wgx_json_object_end(&j);
	CHECK(wgx_json_finish(&j) == 0);
	text = wgx_json_take(&j, &len, &cap);
	CHECK(text && !strcmp(text, "{\"a\":1}") && len == 7 && cap > len);
	CHECK(wgx_json_take(&j, &len, &cap) == NULL && len == 0);
	free(text);
	wgx_json_free(&j);
}

static const struct wgx_test json_tests[] = {
	{ "json: take hands the text over", test_json_take },
	{ "json: string escaping", test_json_escaping },
	{ "json: UTF-8 kept, invalid bytes replaced", test_json_utf8 },
	{ "json: nesting, compact", test_json_nesting_compact },
	{ "json: nesting, pretty", test_json_nesting_pretty },
	{ "json: integers, booleans, null", test_json_scalars },
	{ "json: keys are escaped", test_json_key_escaped },
	{ "json: several top-level values", test_json_several_roots },
	{ "json: misuse is reported", test_json_misuse },
	{ "json: nesting depth limit", test_json_depth_limit },
	{ "json: FILE output matches buffer", test_json_file },
	{ "json: FILE write error reported", test_json_file_error },
};
WGX_SUITE(json_tests)
