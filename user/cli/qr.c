// SPDX-License-Identifier: MIT
/*
 * Error correction level L, as qrencode(1) and wg-quick users' scripts use
 * it: the densest code, which a client config of ~300 bytes needs to stay
 * small enough for a terminal.
 */
#include "cli/qr.h"

#include <errno.h>
#include <qrencode.h>
#include <stdbool.h>

#include "core/crypto.h"

enum {
	QUIET_ZONE = 2, /* modules of light margin, as qrencode -t UTF8 */
};

/* Module (x, y) is dark; the quiet zone around the code is light. */
static bool dark(const QRcode *qr, int x, int y)
{
	if (x < 0 || y < 0 || x >= qr->width || y >= qr->width)
		return false;
	return qr->data[y * qr->width + x] & 1;
}

int wgx_cli_qr_print(FILE *out, const char *text)
{
	/* Light top and bottom, top only, bottom only, neither. */
	static const char *const cell[4] = { "\u2588", "\u2580", "\u2584",
					     " " };
	QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_L, QR_MODE_8, 1);
	int ret = 0;

	if (!qr)
		return errno == ERANGE ? -EINVAL : -ENOMEM;
	for (int y = -QUIET_ZONE; y < qr->width + QUIET_ZONE; y += 2) {
		for (int x = -QUIET_ZONE; x < qr->width + QUIET_ZONE; x++) {
			int top = dark(qr, x, y), bottom = dark(qr, x, y + 1);

			fputs(cell[top * 2 + bottom], out);
		}
		fputc('\n', out);
	}
	if (fflush(out) == EOF || ferror(out))
		ret = -EIO;
	wgx_crypto_wipe(qr->data, (size_t)qr->width * (size_t)qr->width);
	QRcode_free(qr);
	return ret;
}
