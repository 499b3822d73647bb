// SPDX-License-Identifier: MIT
/*
 * The UAPI request parser (agent/uapi.h): any bytes as what a client
 * writes to the socket, fed to the streaming parser in chunks whose size
 * the input's first byte picks, request after request, then once more
 * whole through wgx_uapi_parse. Whatever the input: the parser takes what
 * it is given until a request is done, every error is one wireguard-go or
 * uapi.h names, and no error text holds 16 hex digits in a row that the
 * input had (a piece of a key).
 */
#include "fuzz.h"

#include <errno.h>
#include <stdbool.h>

#include "agent/uapi.h"
#include "core/crypto.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* Keys go to libsodium's guarded memory. */
	FUZZ_ASSERT(wgx_crypto_init() == 0);
	return 0;
}

static bool hexdigit(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	       (c >= 'A' && c <= 'F');
}

static bool known_error(int err)
{
	return err == 0 || err == -EPROTO || err == -EINVAL ||
	       err == -EMSGSIZE || err == -ENOMEM;
}

/* No window of 16 hex digits of the input is in the error text. */
static void check_why(const struct wgx_uapi_parser *p, const char *in,
		      size_t size)
{
	size_t run = 0;

	FUZZ_ASSERT(memchr(p->why, '\0', sizeof(p->why)) != NULL);
	for (size_t i = 0; i < size; i++) {
		run = hexdigit(in[i]) ? run + 1 : 0;
		if (run >= 16)
			FUZZ_ASSERT(!memmem(p->why, strlen(p->why),
					    in + i + 1 - 16, 16));
	}
}

static void check_done(const struct wgx_uapi_parser *p, const char *in,
		       size_t size)
{
	FUZZ_ASSERT(known_error(p->err));
	FUZZ_ASSERT(p->err || p->op != WGX_UAPI_OP_NONE);
	check_why(p, in, size);
}

static void streamed(const char *in, size_t size)
{
	struct wgx_uapi_parser p;
	size_t off = 0, chunk = size ? (size_t)(in[0] & 15) + 1 : 1;

	wgx_uapi_parser_init(&p);
	while (off < size) {
		size_t n = size - off < chunk ? size - off : chunk;
		size_t used = wgx_uapi_parser_feed(&p, in + off, n);

		FUZZ_ASSERT(used <= n);
		off += used;
		if (!p.done) {
			/* Not done: it took all it was given. */
			FUZZ_ASSERT(used == n);
			continue;
		}
		check_done(&p, in, size);
		if (p.close)
			break;
		wgx_uapi_parser_reset(&p);
	}
	if (!p.done && wgx_uapi_parser_eof(&p)) {
		FUZZ_ASSERT(p.done && p.err != 0);
		check_done(&p, in, size);
	}
	wgx_uapi_parser_free(&p);
}

static void whole(const char *in, size_t size)
{
	struct wgx_uapi_parser p;
	size_t used = 0;
	int ret;

	wgx_uapi_parser_init(&p);
	ret = wgx_uapi_parse(&p, in, size, &used);
	FUZZ_ASSERT(known_error(ret));
	FUZZ_ASSERT(used <= size);
	check_why(&p, in, size);
	wgx_uapi_parser_free(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 1 << 16)
		return 0;
	streamed((const char *)data, size);
	whole((const char *)data, size);
	return 0;
}
