/* SPDX-License-Identifier: MIT */
/*
 * `wgxdp check FILE`: parse a config as attach will (PrivateKey required,
 * endpoints resolved) without touching interfaces, routes or BPF. Prints
 * "FILE: OK: <summary>" on out and returns 0, or prints every problem as
 * "FILE:LINE: ..." on err and returns 1. Warnings go to err either way.
 */
#ifndef WGX_CLI_CHECK_H
#define WGX_CLI_CHECK_H

#include <stdio.h>

#include "agent/config.h"

/* opts NULL: the defaults of `check` (getaddrinfo for host names). */
int wgx_cli_check_file(const char *path, const struct wgx_config_opts *opts,
		       FILE *out, FILE *err);

#endif
