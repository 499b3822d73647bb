// SPDX-License-Identifier: MIT
/* Key generation and derivation for the command line, as wg(8) does it. */
#include "cli/cli_keys.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "core/crypto.h"
#include "core/key.h"

/* wg's text, so scripts that grep for it keep working. */
static void warn_world_readable(FILE *out, FILE *err)
{
	int fd = fileno(out);
	struct stat st;

	if (fd >= 0 && !fstat(fd, &st) && S_ISREG(st.st_mode) &&
	    (st.st_mode & S_IRWXO))
		fputs("Warning: writing to world accessible file.\n"
		      "Consider setting the umask to 077 and trying again.\n",
		      err);
}

/* wg does not check; a key lost to a full disk should not look written. */
static int put_key(const uint8_t key[WGX_KEY_LEN], FILE *out, FILE *err)
{
	char b64[WGX_KEY_BASE64_LEN + 2];
	int ret = 0;

	wgx_key_to_base64(b64, key);
	b64[WGX_KEY_BASE64_LEN] = '\n';
	b64[WGX_KEY_BASE64_LEN + 1] = '\0';
	if (fputs(b64, out) == EOF || fflush(out) == EOF || ferror(out)) {
		fprintf(err, "wgxdp: cannot write the key: %s\n",
			strerror(errno));
		ret = 1;
	}
	wgx_crypto_wipe(b64, sizeof(b64));
	return ret;
}

static int generate(FILE *out, FILE *err, bool clamp)
{
	uint8_t key[WGX_KEY_LEN];
	int ret;

	warn_world_readable(out, err);
	wgx_crypto_random(key, sizeof(key));
	if (clamp)
		wgx_crypto_dh_clamp(key);
	ret = put_key(key, out, err);
	wgx_crypto_wipe(key, sizeof(key));
	return ret;
}

int wgx_cli_keys_genkey(FILE *out, FILE *err)
{
	return generate(out, err, true);
}

int wgx_cli_keys_genpsk(FILE *out, FILE *err)
{
	return generate(out, err, false);
}

static bool is_space(int c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

int wgx_cli_keys_pubkey(FILE *in, FILE *out, FILE *err)
{
	char b64[WGX_KEY_BASE64_LEN + 1];
	uint8_t key[WGX_KEY_LEN], pub[WGX_KEY_LEN];
	int c, ret = 1;

	/* Like wg: exactly 44 characters, then only whitespace or NULs. */
	if (fread(b64, 1, WGX_KEY_BASE64_LEN, in) != WGX_KEY_BASE64_LEN)
		goto bad;
	b64[WGX_KEY_BASE64_LEN] = '\0';
	while ((c = getc(in)) != EOF) {
		if (c && !is_space(c)) {
			fputs("wgxdp: Trailing characters found after key\n",
			      err);
			goto out;
		}
	}
	if (!wgx_key_from_base64(key, b64))
		goto bad;
	/* X25519 clamps the scalar itself, so unclamped keys work too. */
	wgx_crypto_dh_public(pub, key);
	ret = put_key(pub, out, err);
	goto out;
bad:
	fputs("wgxdp: Key is not the correct length or format\n", err);
out:
	wgx_crypto_wipe(b64, sizeof(b64));
	wgx_crypto_wipe(key, sizeof(key));
	return ret;
}
