/* SPDX-License-Identifier: MIT */
/*
 * `wgxdp peer add|list|remove`: onboarding in one command, in the manner
 * of the wireguard-install scripts, done safely:
 *
 * - add picks the next free address of each of the interface's subnets
 *   (or takes --ip), makes the peer's key pair and a preshared key, writes
 *   the client's config (0600, never over an existing file) and appends
 *   the peer to the server's file atomically (a temporary file, fsync,
 *   rename; the old file intact on any error, its owner and mode kept);
 * - every edit is made on the file's text, so the operator's comments and
 *   layout stay, and checked by the config parser before it is written;
 * - the running instance that uses the file (found through the control
 *   sockets) is told to reload it: a reload applies only the difference,
 *   so other peers' sessions are not disturbed;
 * - commands on one file are serialised by a lock on its directory;
 * - keys live in sodium memory and the file's text in wiped buffers;
 *   nothing secret reaches stdout but the client config's QR code, when
 *   --qr asks for it.
 */
#ifndef WGX_CLI_PEER_H
#define WGX_CLI_PEER_H

/* argv[0] is "peer". Returns the exit status. */
int wgx_cli_peer(int argc, char **argv);

#endif
