/* SPDX-License-Identifier: MIT */
/*
 * What the libFuzzer harnesses share: the test vectors (flattened by the
 * Makefile to "path=value" lines under $WGX_VECTORS, build/vectors by
 * default) and a fixed clock. A harness aborts at start-up when a vector
 * it needs is missing: a fuzzer that silently runs on zero keys finds
 * nothing.
 */
#ifndef WGX_FUZZ_H
#define WGX_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A fixed CLOCK_BOOTTIME for every harness: 1000 s after boot. */
#define FUZZ_NOW (1000ULL * 1000000000ULL)

static inline int fuzz_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* The value of path in vectors file name, hex-decoded into out; its length. */
static inline size_t fuzz_vec(const char *name, const char *path, uint8_t *out,
			      size_t max)
{
	const char *dir = getenv("WGX_VECTORS");
	char file[512], line[4096];
	size_t plen = strlen(path), n = 0;
	FILE *f;

	snprintf(file, sizeof(file), "%s/%s.txt", dir ? dir : "build/vectors",
		 name);
	f = fopen(file, "r");
	if (!f) {
		fprintf(stderr, "fuzz: cannot open %s (set WGX_VECTORS)\n",
			file);
		abort();
	}
	while (fgets(line, sizeof(line), f)) {
		const char *v = line + plen + 1;

		if (strncmp(line, path, plen) || line[plen] != '=')
			continue;
		while (n < max && fuzz_hexval(v[0]) >= 0 &&
		       fuzz_hexval(v[1]) >= 0) {
			out[n++] = (uint8_t)(fuzz_hexval(v[0]) << 4 |
					     fuzz_hexval(v[1]));
			v += 2;
		}
		fclose(f);
		return n;
	}
	fclose(f);
	fprintf(stderr, "fuzz: %s has no %s\n", file, path);
	abort();
}

static inline uint32_t fuzz_vec_u32(const char *name, const char *path)
{
	const char *dir = getenv("WGX_VECTORS");
	char file[512], line[4096];
	size_t plen = strlen(path);
	FILE *f;

	snprintf(file, sizeof(file), "%s/%s.txt", dir ? dir : "build/vectors",
		 name);
	f = fopen(file, "r");
	while (f && fgets(line, sizeof(line), f)) {
		if (!strncmp(line, path, plen) && line[plen] == '=') {
			fclose(f);
			return (uint32_t)strtoul(line + plen + 1, NULL, 10);
		}
	}
	if (f)
		fclose(f);
	fprintf(stderr, "fuzz: no %s in %s\n", path, name);
	abort();
}

/* A check that must hold whatever the input: a crash libFuzzer reports. */
#define FUZZ_ASSERT(cond)                                                      \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__,     \
				#cond);                                        \
			abort();                                               \
		}                                                              \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#endif
