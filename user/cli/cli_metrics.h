/* SPDX-License-Identifier: MIT */
/*
 * `wgxdp metrics [TUN]`: the Prometheus text of one instance, or of every
 * instance in this network namespace merged into one valid exposition
 * (each family's HELP and TYPE once, then every instance's samples).
 */
#ifndef WGX_CLI_METRICS_H
#define WGX_CLI_METRICS_H

#include <stddef.h>

/* argv[0] is "metrics". Returns the exit status. */
int wgx_cli_metrics(int argc, char **argv);

/*
 * Merge n expositions of the same program into one, malloc'd in *out.
 * 0, -ENOMEM, or -EPROTO when a text does not start with a family.
 */
int wgx_cli_metrics_merge(const char *const *texts, size_t n, char **out,
			  size_t *len);

#endif
