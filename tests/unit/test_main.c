// SPDX-License-Identifier: MIT
/*
 * Runs every registered suite, or those whose test names contain argv[1],
 * and ends with the "N passed, N failed" line the CI reads.
 */
#include "test.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/crypto.h"

int wgx_test_failures;
static struct wgx_suite *suites;

void wgx_test_register(struct wgx_suite *suite)
{
	suite->next = suites;
	suites = suite;
}

void wgx_test_fail(const char *file, int line, const char *what)
{
	wgx_test_failures++;
	fprintf(stderr, "    %s:%d: CHECK(%s) failed\n", file, line, what);
}

struct vec_file {
	char name[64];
	char *text;
	struct vec_file *next;
};

static struct vec_file *vec_files;

static char *read_whole(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	long len;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0) {
		buf = calloc(1, (size_t)len + 1);
		if (buf && fread(buf, 1, (size_t)len, f) != (size_t)len) {
			free(buf);
			buf = NULL;
		}
	}
	fclose(f);
	return buf;
}

static const char *vec_text(const char *file)
{
	const char *dir = getenv("WGX_VECTORS");
	struct vec_file *v;
	char path[512];

	for (v = vec_files; v; v = v->next)
		if (!strcmp(v->name, file))
			return v->text;
	snprintf(path, sizeof(path), "%s/%s.txt", dir ? dir : "build/vectors",
		 file);
	v = calloc(1, sizeof(*v));
	if (!v)
		return NULL;
	snprintf(v->name, sizeof(v->name), "%s", file);
	v->text = read_whole(path);
	if (!v->text) {
		fprintf(stderr, "    cannot read vectors %s: %s\n", path,
			strerror(errno));
		free(v);
		return NULL;
	}
	v->next = vec_files;
	vec_files = v;
	return v->text;
}

const char *wgx_vec_get(const char *file, const char *path)
{
	static char value[8192];
	const char *text = vec_text(file);
	size_t plen = strlen(path);
	const char *line;

	for (line = text; line && *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);

		if (len > plen && !strncmp(line, path, plen) &&
		    line[plen] == '=') {
			len -= plen + 1;
			if (len >= sizeof(value))
				len = sizeof(value) - 1;
			memcpy(value, line + plen + 1, len);
			value[len] = '\0';
			return value;
		}
		line = end ? end + 1 : NULL;
	}
	fprintf(stderr, "    vector %s: %s missing\n", file, path);
	wgx_test_failures++;
	return NULL;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

long wgx_hex_decode_any(uint8_t *out, size_t max, const char *hex)
{
	size_t n = strlen(hex), i;

	if (n % 2 || n / 2 > max)
		return -1;
	for (i = 0; i < n / 2; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return (long)(n / 2);
}

bool wgx_hex_decode(uint8_t *out, size_t len, const char *hex)
{
	return hex && strlen(hex) == 2 * len &&
	       wgx_hex_decode_any(out, len, hex) == (long)len;
}

long wgx_vec_hex(const char *file, const char *path, uint8_t *out, size_t max)
{
	const char *hex = wgx_vec_get(file, path);
	long n = hex ? wgx_hex_decode_any(out, max, hex) : -1;

	if (hex && n < 0) {
		fprintf(stderr,
			"    vector %s: %s is not hex of <= %zu bytes\n", file,
			path, max);
		wgx_test_failures++;
	}
	return n;
}

int main(int argc, char **argv)
{
	const char *filter = argc > 1 ? argv[1] : NULL;
	unsigned int passed = 0, failed = 0;
	struct wgx_suite *s;

	if (wgx_crypto_init() < 0) {
		fprintf(stderr, "Couldn't initialise crypto\n");
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (s = suites; s; s = s->next) {
		for (size_t i = 0; i < s->count; i++) {
			const struct wgx_test *t = &s->tests[i];

			if (filter && !strstr(t->name, filter))
				continue;
			wgx_test_failures = 0;
			t->fn();
			printf("%s %s\n", wgx_test_failures ? "FAIL" : "PASS",
			       t->name);
			if (wgx_test_failures)
				failed++;
			else
				passed++;
		}
	}
	printf("%u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}
