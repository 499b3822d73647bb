// SPDX-License-Identifier: MIT
/*
 * The config parser: any bytes as a config file, with host names going to
 * a resolver that knows only *.example (no DNS), and the parse flags taken
 * from the input's length. Whatever the input, a parse either yields a
 * config or messages, and no message holds 16 characters in a row of a
 * PrivateKey or PresharedKey value of the input that look like a piece of
 * a key (unless the same text is also somewhere else in the input).
 */
#include "fuzz.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <errno.h>
#include <netdb.h>
#include <strings.h>

#include "agent/config.h"
#include "core/crypto.h"

static int resolve(void *ctx, const char *host, uint16_t port,
		   union wgx_sockaddr *out)
{
	size_t n = strlen(host);

	(void)ctx;
	if (n < 8 || strcmp(host + n - 8, ".example"))
		return EAI_NONAME;
	memset(out, 0, sizeof(*out));
	out->in4.sin_family = AF_INET;
	out->in4.sin_port = htons(port);
	out->in4.sin_addr.s_addr = htonl(0xc0000200u | (uint32_t)(n & 0xff));
	return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	FUZZ_ASSERT(wgx_crypto_init() == 0);
	return 0;
}

/*
 * The value of a line that starts (after blanks, or after a section
 * header on the same line) with PrivateKey or PresharedKey, whatever
 * separates them: what a user meant as a key.
 */
static const char *key_value(const char *line, const char *end, size_t *len)
{
	static const char *const names[] = { "privatekey", "presharedkey" };
	const char *at = line;

	while (at < end && strchr(" \t\r\v\f", *at))
		at++;
	if (at < end && *at == '[') {
		const char *close = memchr(at, ']', (size_t)(end - at));

		if (!close)
			return NULL;
		for (at = close + 1; at < end && strchr(" \t", *at); at++)
			;
	}
	for (size_t k = 0; k < 2; k++) {
		size_t n = strlen(names[k]);
		const char *v = at + n;

		if ((size_t)(end - at) < n || strncasecmp(at, names[k], n))
			continue;
		while (v < end && strchr(" \t=:", *v))
			v++;
		*len = (size_t)(end - v);
		return v;
	}
	return NULL;
}

/*
 * Whether piece (16 bytes) is what a window of a base64 key looks like:
 * base64 only, letters and digits or '+' '/' both (about 96% of a random
 * key's windows). Pieces of words, as in the key names a message lists,
 * are not.
 */
static bool keylike(const char *piece)
{
	bool letter = false, other = false;

	for (size_t i = 0; i < 16; i++) {
		char c = piece[i];

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))
			letter = true;
		else if ((c >= '0' && c <= '9') || c == '+' || c == '/')
			other = true;
		else
			return false;
	}
	return letter && other;
}

/* Whether piece (16 bytes) occurs in text more than once. */
static bool repeated(const char *text, size_t size, const char *piece)
{
	const char *at = memmem(text, size, piece, 16);

	return at && memmem(at + 1, size - (size_t)(at + 1 - text), piece, 16);
}

static void check_messages(const char *text, size_t size,
			   const struct wgx_config_errors *errs)
{
	const char *end = text + size, *line, *nl;

	for (line = text; line < end; line = nl + 1) {
		size_t len = 0;
		const char *v;

		nl = memchr(line, '\n', (size_t)(end - line));
		if (!nl)
			nl = end;
		v = key_value(line, nl, &len);
		for (size_t i = 0; v && i + 16 <= len; i++) {
			char piece[17];

			memcpy(piece, v + i, 16);
			piece[16] = '\0';
			/* Text that is also elsewhere may be quoted there. */
			if (!keylike(piece) || repeated(text, size, piece))
				continue;
			for (size_t m = 0; m < errs->n; m++) {
				if (strstr(errs->msgs[m].text, piece))
					fprintf(stderr, "\"%s\" in \"%s\"\n",
						piece, errs->msgs[m].text);
				FUZZ_ASSERT(!strstr(errs->msgs[m].text, piece));
			}
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wgx_config_opts opts = { .flags = (unsigned int)size & 3,
					.resolve = resolve };
	struct wgx_config_errors errs = { 0 };
	struct wgx_config *cfg = NULL;
	int ret;

	if (size > 1 << 16)
		return 0;
	ret = wgx_config_parse_buf("fuzz.conf", (const char *)data, size, &opts,
				   &cfg, &errs);
	FUZZ_ASSERT(ret == 0 ? cfg != NULL : cfg == NULL);
	FUZZ_ASSERT(ret == 0 || ret == -EINVAL || ret == -ENOMEM);
	FUZZ_ASSERT(ret != -EINVAL || errs.n_errors > 0);
	check_messages((const char *)data, size, &errs);
	if (cfg) {
		char line[256];

		FUZZ_ASSERT(wgx_config_summary(cfg, line, sizeof(line)) > 0);
		wgx_config_drop_peers(cfg);
	}
	wgx_config_free(cfg);
	wgx_config_errors_free(&errs);
	return 0;
}
