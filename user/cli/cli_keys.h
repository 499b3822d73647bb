/* SPDX-License-Identifier: MIT */
/*
 * `wgxdp genkey | genpsk | pubkey`: the same bytes on stdout as
 * `wg genkey | genpsk | pubkey` (44 base64 characters and a newline), the
 * same input rules for pubkey (exactly 44 characters, then only whitespace
 * or NUL bytes) and the same umask warning when the key goes to a regular
 * file others can read. Each returns the exit status: 0, or 1 with a
 * message on err and nothing on out.
 */
#ifndef WGX_CLI_KEYS_H
#define WGX_CLI_KEYS_H

#include <stdio.h>

int wgx_cli_keys_genkey(FILE *out, FILE *err);
int wgx_cli_keys_genpsk(FILE *out, FILE *err);
int wgx_cli_keys_pubkey(FILE *in, FILE *out, FILE *err);

#endif
