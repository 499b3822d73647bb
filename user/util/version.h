/* SPDX-License-Identifier: MIT */
/*
 * The version of this build: what `wgxdp --version` prints and the
 * metrics' wgxdp_info carries. The Makefile sets it (WGX_VERSION, with the
 * git commit when built from a checkout).
 */
#ifndef WGX_VERSION_H
#define WGX_VERSION_H

const char *wgx_version(void);

#endif
