/* SPDX-License-Identifier: MIT */
/* attach, detach, show, reload: each returns the exit status. */
#ifndef WGX_CLI_TUNNEL_H
#define WGX_CLI_TUNNEL_H

int wgx_cli_attach(int argc, char **argv);
int wgx_cli_detach(int argc, char **argv);
int wgx_cli_show(int argc, char **argv);
int wgx_cli_reload(int argc, char **argv);

#endif
