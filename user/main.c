// SPDX-License-Identifier: MIT
/* The wgxdp command line: one function per subcommand. */
#include <stdio.h>
#include <string.h>

#include "crypto.h"

int main(int argc, char **argv)
{
	if (wgx_crypto_init() < 0) {
		fprintf(stderr, "wgxdp: couldn't initialise libsodium\n");
		return 1;
	}
	if (argc < 2 || !strcmp(argv[1], "help") ||
	    !strcmp(argv[1], "--help")) {
		printf("Usage: wgxdp <command> [arguments]\n");
		return argc < 2 ? 1 : 0;
	}
	fprintf(stderr, "wgxdp: unknown command '%s'\n", argv[1]);
	return 1;
}
