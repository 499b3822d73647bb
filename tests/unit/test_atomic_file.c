// SPDX-License-Identifier: MIT
/*
 * Atomic file writes (util/atomic_file) and the terminal QR code
 * (cli/qr): a replace keeps the mode, fails whole (the old text stays, no
 * temporary file is left) when told to fail before the rename or when the
 * target is not a file; a create never replaces; the QR code drawn in
 * half blocks reads back as libqrencode's own modules.
 */
#include "test.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <qrencode.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/qr.h"
#include "util/atomic_file.h"

static char dir[64];

static bool make_dir(void)
{
	snprintf(dir, sizeof(dir), "/tmp/wgx-atomic.XXXXXX");
	return mkdtemp(dir) != NULL;
}

/* Entries of dir other than . and .. */
static int entries(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	if (d)
		closedir(d);
	return n;
}

static bool content_is(const char *path, const char *want)
{
	char buf[256] = "";
	int fd = open(path, O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

	if (fd >= 0)
		close(fd);
	return n >= 0 && !strcmp(buf, want);
}

static void rm_dir(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[64 + 256 + 2];

	while (d && (e = readdir(d))) {
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			unlink(p);
	}
	if (d)
		closedir(d);
	rmdir(dir);
}

static void test_replace(void)
{
	struct wgx_atomic_opts o = { 0 };
	char path[128];
	struct stat st;

	if (!make_dir()) {
		CHECK(!"mkdtemp");
		return;
	}
	snprintf(path, sizeof(path), "%s/wg0.conf", dir);
	CHECK(wgx_atomic_file_create(path, "old\n", 4, 0640, &o) == 0);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0640);
	CHECK(wgx_atomic_file_create(path, "x", 1, 0600, &o) == -EEXIST);
	CHECK(o.failed == WGX_ATOMIC_RENAME && content_is(path, "old\n"));
	o.fail_before_rename = true;
	CHECK(wgx_atomic_file_replace(path, "new\n", 4, &o) == -EIO);
	CHECK(o.failed == WGX_ATOMIC_RENAME);
	CHECK(content_is(path, "old\n") && entries() == 1);
	o.fail_before_rename = false;
	CHECK(wgx_atomic_file_replace(path, "new\n", 4, &o) == 0);
	CHECK(content_is(path, "new\n") && entries() == 1);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0640);
	CHECK(wgx_atomic_file_replace(dir, "x", 1, &o) == -EISDIR);
	snprintf(path, sizeof(path), "%s/missing", dir);
	CHECK(wgx_atomic_file_replace(path, "x", 1, &o) == -ENOENT &&
	      o.failed == WGX_ATOMIC_STAT);
	CHECK(entries() == 1);
	CHECK(strcmp(wgx_atomic_step_name(WGX_ATOMIC_WRITE), "?"));
	rm_dir();
}

/* Read the half-block drawing back into modules and compare. */
static void test_qr(void)
{
	static const char text[] = "[Interface]\nPrivateKey = test\n";
	QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_L, QR_MODE_8, 1);
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	int w, bad = 0, rows = 0;
	const char *p;

	CHECK(qr && f);
	if (!qr || !f)
		return;
	CHECK(wgx_cli_qr_print(f, text) == 0);
	fclose(f);
	w = qr->width + 4;
	p = out;
	for (int y = 0; y < w; y += 2, rows++) {
		for (int x = 0; x < w; x++) {
			/* Light top / bottom, as drawn. */
			bool top, bottom;
			int mx = x - 2, my = y - 2;

			if (!strncmp(p, "\u2588", 3)) {
				top = bottom = true;
				p += 3;
			} else if (!strncmp(p, "\u2580", 3)) {
				top = true, bottom = false;
				p += 3;
			} else if (!strncmp(p, "\u2584", 3)) {
				top = false, bottom = true;
				p += 3;
			} else {
				top = bottom = false;
				p += 1;
			}
			for (int k = 0; k < 2; k++) {
				int yy = my + k;
				bool light = k ? bottom : top;
				bool dark = mx >= 0 && yy >= 0 &&
					    mx < qr->width && yy < qr->width &&
					    (qr->data[yy * qr->width + mx] & 1);

				bad += light == dark;
			}
		}
		bad += *p++ != '\n';
	}
	CHECK(bad == 0 && *p == '\0' && rows == (w + 1) / 2);
	QRcode_free(qr);
	free(out);
	/* Too long for any QR code. */
	f = open_memstream(&out, &len);
	{
		char *huge = malloc(8000);

		if (huge) {
			memset(huge, 'x', 7999);
			huge[7999] = '\0';
			CHECK(wgx_cli_qr_print(f, huge) == -EINVAL);
			free(huge);
		}
	}
	fclose(f);
	free(out);
}

static const struct wgx_test atomic_file_tests[] = {
	{ "atomic_file: replace and create, whole or not at all",
	  test_replace },
	{ "qr: the drawing reads back as the code's modules", test_qr },
};
WGX_SUITE(atomic_file_tests)
