// SPDX-License-Identifier: MIT
/*
 * Every family starts with its "# HELP" line and every sample carries an
 * interface label (metrics.h), so merging is grouping blocks by family
 * name, in the order families first appear.
 */
#include "cli/cli_metrics.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/control.h"
#include "agent/instance.h"
#include "util/ifname.h"

static int fail(const char *what, const char *arg)
{
	fprintf(stderr, "wgxdp: metrics: %s%s%s\n", what, arg ? " " : "",
		arg ? arg : "");
	return 1;
}

/* One family's lines in one text: [start, end); head is HELP + TYPE. */
struct block {
	const char *name; /* points into the text, ends at a space */
	size_t name_len;
	const char *start, *samples, *end;
};

struct family {
	const char *name;
	size_t name_len;
	const char *head; /* HELP and TYPE lines of its first text */
	size_t head_len;
	size_t nblocks;
};

static const char *line_end(const char *p, const char *end)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));

	return nl ? nl + 1 : end;
}

/* The blocks of one text; -EPROTO when it does not start with HELP. */
static int split(const char *text, struct block **out, size_t *n)
{
	const char *p = text, *end = text + strlen(text);
	struct block *v = NULL;
	size_t count = 0;

	while (p < end) {
		const char *next = line_end(p, end);

		if (!strncmp(p, "# HELP ", 7)) {
			struct block *bigger =
				realloc(v, (count + 1) * sizeof(*v));

			if (!bigger) {
				free(v);
				return -ENOMEM;
			}
			v = bigger;
			v[count].name = p + 7;
			v[count].name_len = strcspn(p + 7, " \n");
			v[count].start = p;
			v[count].samples = next;
			if (next < end && !strncmp(next, "# TYPE ", 7))
				v[count].samples = line_end(next, end);
			v[count].end = end;
			if (count)
				v[count - 1].end = p;
			count++;
		} else if (!count) {
			free(v);
			return -EPROTO;
		}
		p = next;
	}
	*out = v;
	*n = count;
	return 0;
}

int wgx_cli_metrics_merge(const char *const *texts, size_t n, char **out,
			  size_t *len)
{
	struct block **blocks = calloc(n ? n : 1, sizeof(*blocks));
	size_t *nblocks = calloc(n ? n : 1, sizeof(*nblocks));
	struct family *fam = NULL;
	size_t nfam = 0, total = 0, off = 0;
	char *buf = NULL;
	int err = blocks && nblocks ? 0 : -ENOMEM;

	for (size_t t = 0; !err && t < n; t++) {
		err = split(texts[t], &blocks[t], &nblocks[t]);
		total += strlen(texts[t]);
		for (size_t b = 0; !err && b < nblocks[t]; b++) {
			const struct block *bl = &blocks[t][b];
			size_t f;

			for (f = 0; f < nfam; f++)
				if (fam[f].name_len == bl->name_len &&
				    !memcmp(fam[f].name, bl->name,
					    bl->name_len))
					break;
			if (f < nfam)
				continue;
			struct family *bigger =
				realloc(fam, (nfam + 1) * sizeof(*fam));
			if (!bigger) {
				err = -ENOMEM;
				break;
			}
			fam = bigger;
			fam[nfam++] = (struct family){
				bl->name, bl->name_len, bl->start,
				(size_t)(bl->samples - bl->start), 0
			};
		}
	}
	if (!err && !(buf = malloc(total + 1)))
		err = -ENOMEM;
	for (size_t f = 0; !err && f < nfam; f++) {
		memcpy(buf + off, fam[f].head, fam[f].head_len);
		off += fam[f].head_len;
		for (size_t t = 0; t < n; t++) {
			for (size_t b = 0; b < nblocks[t]; b++) {
				const struct block *bl = &blocks[t][b];

				if (bl->name_len != fam[f].name_len ||
				    memcmp(bl->name, fam[f].name, bl->name_len))
					continue;
				memcpy(buf + off, bl->samples,
				       (size_t)(bl->end - bl->samples));
				off += (size_t)(bl->end - bl->samples);
			}
		}
	}
	for (size_t t = 0; blocks && t < n; t++)
		free(blocks[t]);
	free(blocks);
	free(nblocks);
	free(fam);
	if (err) {
		free(buf);
		return err;
	}
	buf[off] = '\0';
	*out = buf;
	*len = off;
	return 0;
}

static int fetch(const struct wgx_instance_info *info, char **text)
{
	struct wgx_control_response resp = { 0 };
	int err = wgx_control_call(info->sock_path, "metrics", 0, &resp);

	if (err) {
		fprintf(stderr, "wgxdp: metrics %s: %s\n", info->tun,
			resp.error[0] ? resp.error : strerror(-err));
		wgx_control_response_free(&resp);
		return err;
	}
	*text = resp.payload;
	return 0;
}

static int all(void)
{
	struct wgx_instance_info *list = NULL;
	size_t n = 0, got = 0, len;
	char **texts, *merged;
	int rc = 0, err = wgx_instance_list(&list, &n);

	if (err && err != -ENOENT)
		return fail("can't list instances:", strerror(-err));
	texts = calloc(n ? n : 1, sizeof(*texts));
	if (!texts) {
		free(list);
		return fail("out of memory", NULL);
	}
	for (size_t i = 0; i < n; i++) {
		if (fetch(&list[i], &texts[got]))
			rc = 1;
		else
			got++;
	}
	err = wgx_cli_metrics_merge((const char *const *)texts, got, &merged,
				    &len);
	if (err)
		rc = fail("can't merge the instances' metrics:",
			  strerror(-err));
	else if (fwrite(merged, 1, len, stdout) != len || fflush(stdout))
		rc = fail("can't write:", strerror(errno));
	if (!err)
		free(merged);
	for (size_t i = 0; i < got; i++)
		free(texts[i]);
	free(texts);
	free(list);
	return rc;
}

int wgx_cli_metrics(int argc, char **argv)
{
	struct wgx_instance_info info;
	const char *why = NULL;
	char *text;
	size_t len;
	int rc = 0;

	if (argc == 2 && !strcmp(argv[1], "--help")) {
		printf("Usage: wgxdp metrics [TUN]\n");
		return 0;
	}
	if (argc > 2)
		return fail("unexpected argument", argv[2]);
	if (argc == 1)
		return all();
	if (argv[1][0] == '-')
		return fail("unknown option", argv[1]);
	if (wgx_ifname_check(argv[1], &why) < 0) {
		fprintf(stderr, "wgxdp: metrics: bad tunnel name '%s': %s\n",
			argv[1], why ? why : "invalid");
		return 1;
	}
	if (wgx_instance_find_tun(argv[1], &info) < 0 &&
	    wgx_instance_find_iface(argv[1], &info) < 0)
		return fail("no wgxdp instance in this network namespace is "
			    "named",
			    argv[1]);
	if (fetch(&info, &text))
		return 1;
	len = strlen(text);
	if (fwrite(text, 1, len, stdout) != len || fflush(stdout))
		rc = fail("can't write:", strerror(errno));
	free(text);
	return rc;
}
