/* SPDX-License-Identifier: MIT */
/*
 * The unit test runner: each test file ends with a {name, fn} table and
 * WGX_SUITE(table), which registers it at start-up so no shared list has to
 * be edited when a file is added. CHECK() reports file:line and keeps going.
 */
#ifndef WGX_TEST_H
#define WGX_TEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct wgx_test {
	const char *name;
	void (*fn)(void);
};

struct wgx_suite {
	const char *file;
	const struct wgx_test *tests;
	size_t count;
	struct wgx_suite *next;
};

void wgx_test_register(struct wgx_suite *suite);
void wgx_test_fail(const char *file, int line, const char *what);

/* Number of CHECK failures so far in the running test. */
extern int wgx_test_failures;

#define WGX_SUITE(table)                                                       \
	static struct wgx_suite wgx_suite_##table = {                          \
		__FILE__, table, sizeof(table) / sizeof(table[0]), NULL        \
	};                                                                     \
	__attribute__((constructor)) static void wgx_register_##table(void)    \
	{                                                                      \
		wgx_test_register(&wgx_suite_##table);                         \
	}

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond))                                                   \
			wgx_test_fail(__FILE__, __LINE__, #cond);              \
	} while (0)

#define CHECK_MEM(a, b, n) CHECK(memcmp((a), (b), (n)) == 0)

/*
 * Known-answer helpers. Vectors from shared/vectors/NAME.json are flattened by
 * the Makefile into "path=value" files under $WGX_VECTORS, e.g.
 * "cases.0.initiation=0100...". Lookups abort the test on a missing key.
 */
const char *wgx_vec_get(const char *file, const char *path);
/* Decode hex into out (exactly len bytes expected); false on mismatch. */
bool wgx_hex_decode(uint8_t *out, size_t len, const char *hex);
/* Decode a vector's hex value; returns its byte length, -1 when absent. */
long wgx_vec_hex(const char *file, const char *path, uint8_t *out, size_t max);
/* Decode a hex string of any length into out; returns length or -1. */
long wgx_hex_decode_any(uint8_t *out, size_t max, const char *hex);

#endif
