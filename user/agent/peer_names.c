// SPDX-License-Identifier: MIT
/* Sorted by key: one bisection per peer when 100,000 peers are labelled. */
#include "agent/peer_names.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/config.h"
#include "core/crypto.h"

static int cmp_name(const void *a, const void *b)
{
	return memcmp(a, b, WGX_KEY_LEN);
}

int wgx_peer_names_from_text(struct wgx_peer_names *t, const char *buf,
			     size_t len)
{
	struct wgx_config_section *sec;
	struct wgx_peer_name *v;
	size_t nsec, n = 0;
	int err = wgx_config_edit_scan(buf, len, &sec, &nsec);

	if (err)
		return err;
	v = calloc(nsec ? nsec : 1, sizeof(*v));
	if (!v) {
		free(sec);
		return -ENOMEM;
	}
	for (size_t i = 0; i < nsec; i++) {
		if (!sec[i].peer || !sec[i].name[0] ||
		    !wgx_key_from_base64(v[n].key, sec[i].public_key))
			continue;
		memcpy(v[n].name, sec[i].name, sizeof(v[n].name));
		n++;
	}
	free(sec);
	qsort(v, n, sizeof(*v), cmp_name);
	free(t->v);
	t->v = v;
	t->n = n;
	return 0;
}

int wgx_peer_names_load(struct wgx_peer_names *t, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), err = 0;
	size_t len = 0;
	struct stat st;
	char *buf = NULL;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		err = -errno;
	else if (st.st_size > WGX_CONFIG_MAX_FILE)
		err = -EFBIG;
	else if (!(buf = malloc((size_t)st.st_size + 1)))
		err = -ENOMEM;
	while (!err && len < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + len, (size_t)st.st_size - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (!err)
		err = wgx_peer_names_from_text(t, buf, len);
	/* The file holds the private key. */
	if (buf)
		wgx_crypto_wipe(buf, (size_t)st.st_size + 1);
	free(buf);
	return err;
}

const char *wgx_peer_names_find(const struct wgx_peer_names *t,
				const uint8_t key[WGX_KEY_LEN])
{
	const struct wgx_peer_name *e;

	if (!t || !t->n)
		return NULL;
	e = bsearch(key, t->v, t->n, sizeof(*t->v), cmp_name);
	return e ? e->name : NULL;
}

void wgx_peer_names_free(struct wgx_peer_names *t)
{
	free(t->v);
	t->v = NULL;
	t->n = 0;
}
