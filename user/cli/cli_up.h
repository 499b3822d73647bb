/* SPDX-License-Identifier: MIT */
/* up: the drop-in for `wireguard-go IFNAME`; returns the exit status. */
#ifndef WGX_CLI_UP_H
#define WGX_CLI_UP_H

int wgx_cli_up(int argc, char **argv);

#endif
