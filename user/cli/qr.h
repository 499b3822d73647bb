/* SPDX-License-Identifier: MIT */
/*
 * A QR code in the terminal (libqrencode), for a phone's WireGuard app to
 * scan a client config: two rows of modules per line of UTF-8 half
 * blocks, light modules drawn, so it reads on a dark terminal as on paper.
 */
#ifndef WGX_QR_H
#define WGX_QR_H

#include <stdio.h>

/*
 * Print text as a QR code. The encoded modules are wiped before they are
 * freed (text is a private key's config). 0, -EINVAL (too long for a QR
 * code), -ENOMEM or -EIO.
 */
int wgx_cli_qr_print(FILE *out, const char *text);

#endif
