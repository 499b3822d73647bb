// SPDX-License-Identifier: MIT
/*
 * Where an OpenSSL ChaCha20-Poly1305 context keeps its copy of the key,
 * with OpenSSL's secure heap turned on: does the secure heap take it?
 *
 * Turns the secure heap on (CRYPTO_secure_malloc_init), makes the OpenSSL
 * back end's context (core/aead.c) and seals one packet with a known key,
 * then searches every writable private mapping of the process for the
 * key's 32 bytes and says, for each copy: whether it lies in the secure
 * heap (CRYPTO_secure_allocated), and whether its mapping is locked and
 * excluded from core dumps (/proc/self/smaps). Also prints how many bytes
 * of the secure heap are in use before and after.
 *
 *   secheap            prints the copies; exit 0
 */
#include <openssl/crypto.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/aead.h"
#include "core/crypto.h"

struct region {
	unsigned long lo, hi;
	bool locked, dontdump;
	char name[128];
};

static int load_regions(struct region *r, int max)
{
	char line[512];
	int n = -1;
	FILE *f = fopen("/proc/self/smaps", "re");

	while (f && fgets(line, sizeof(line), f)) {
		unsigned long lo, hi, locked;
		char perms[8], path[128] = "";

		if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %127s", &lo, &hi,
			   perms, path) >= 3 &&
		    strchr(line, '-') < strchr(line, ' ')) {
			if (n + 1 >= max)
				break;
			n++;
			r[n] = (struct region){ lo, hi, false, false, "" };
			snprintf(r[n].name, sizeof(r[n].name), "%s%s", perms,
				 *path ? path : "");
			continue;
		}
		if (n < 0)
			continue;
		if (sscanf(line, "Locked: %lu", &locked) == 1)
			r[n].locked = locked > 0;
		if (!strncmp(line, "VmFlags:", 8))
			r[n].dontdump = strstr(line, " dd") != NULL;
	}
	if (f)
		fclose(f);
	return n + 1;
}

int main(void)
{
	static struct region r[4096];
	uint8_t key[32], pt[64] = { 0 }, ct[64 + 16];
	size_t before, after;
	struct wgx_aead *a;
	int n, copies = 0;

	if (wgx_crypto_init() || !CRYPTO_secure_malloc_init(1 << 20, 64)) {
		fprintf(stderr, "secheap: couldn't set up\n");
		return 1;
	}
	before = CRYPTO_secure_used();
	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(0xa0 + i * 7);
	a = wgx_aead_new(WGX_AEAD_OPENSSL);
	if (!a || wgx_aead_seal(a, ct, pt, sizeof(pt), 1, key)) {
		fprintf(stderr, "secheap: couldn't seal\n");
		return 1;
	}
	after = CRYPTO_secure_used();
	printf("secure heap: %zu bytes in use before the context, %zu after\n",
	       before, after);
	n = load_regions(r, 4096);
	for (int i = 0; i < n; i++) {
		const uint8_t *p = (const uint8_t *)r[i].lo;

		if (r[i].name[0] != 'r' || r[i].name[1] != 'w' ||
		    r[i].name[3] != 'p' || strstr(r[i].name, "[v"))
			continue;
		for (; p + sizeof(key) <= (const uint8_t *)r[i].hi; p += 4) {
			/* The caller's own copy on this stack is not news. */
			if (p == key || memcmp(p, key, sizeof(key)))
				continue;
			copies++;
			printf("key copy at %p (%s): secure heap %s, mapping "
			       "%s, %s\n",
			       (const void *)p, r[i].name,
			       CRYPTO_secure_allocated(p) ? "yes" : "no",
			       r[i].locked ? "locked" : "not locked",
			       r[i].dontdump ? "not dumped" : "dumped");
		}
	}
	printf("%d copies of the key outside the caller's buffer\n", copies);
	wgx_aead_free(a);
	return 0;
}
