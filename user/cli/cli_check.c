// SPDX-License-Identifier: MIT
/* The `check` subcommand: the config parser's verdict, printed. */
#include "cli/cli_check.h"

#include <errno.h>
#include <string.h>

static void print_messages(const char *path,
			   const struct wgx_config_errors *errs, FILE *err)
{
	for (size_t i = 0; i < errs->n; i++)
		fprintf(err, "%s\n", errs->msgs[i].text);
	if (errs->n_dropped)
		fprintf(err, "%s: %zu more messages not shown\n", path,
			errs->n_dropped);
}

int wgx_cli_check_file(const char *path, const struct wgx_config_opts *opts,
		       FILE *out, FILE *err)
{
	struct wgx_config_opts o = { 0 };
	struct wgx_config_errors errs = { 0 };
	struct wgx_config *cfg = NULL;
	char summary[256];
	int ret;

	if (opts)
		o = *opts;
	o.flags |= WGX_CONFIG_NEED_PRIVATE_KEY;
	ret = wgx_config_parse_file(path, &o, &cfg, &errs);
	print_messages(path, &errs, err);
	if (ret == -ENOMEM)
		fprintf(err, "wgxdp: out of memory reading %s\n", path);
	else if (ret == -EINVAL)
		fprintf(err, "%s: %zu error%s, not valid\n", path,
			errs.n_errors, errs.n_errors == 1 ? "" : "s");
	if (!ret) {
		wgx_config_summary(cfg, summary, sizeof(summary));
		fprintf(out, "%s: OK: %s\n", path, summary);
	}
	wgx_config_errors_free(&errs);
	wgx_config_free(cfg);
	return ret ? 1 : 0;
}
