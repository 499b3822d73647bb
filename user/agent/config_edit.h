/* SPDX-License-Identifier: MIT */
/*
 * A config file as text, for the tools that edit it (`wgxdp peer`): where
 * each section starts and ends, and the name given to a [Peer]. Edits are
 * made on the text, so every other line, comment and blank line of the
 * file stays as the operator wrote it; the parser (config.h) then checks
 * the result.
 *
 * A peer's name is a comment line that wg, wg-quick and the parser all
 * ignore, anywhere in its section (peer add writes it right after the
 * header):
 *
 *   [Peer]
 *   # Name = alice
 *
 * A "### Client alice" line directly above the header (what the
 * wireguard-install scripts write) names the peer too, when the section
 * has no "# Name =" line.
 *
 * A section's text runs from its lead (the comment lines directly above
 * its header and the blank lines above those) to the next section's lead,
 * so removing it takes its comments along and leaves its neighbours'.
 */
#ifndef WGX_CONFIG_EDIT_H
#define WGX_CONFIG_EDIT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/key.h"

enum {
	/*
	 * A name is also the client's file name: wg-quick takes
	 * "NAME.conf" as the interface NAME, at most 15 characters.
	 */
	WGX_PEER_NAME_MAX = 15,
};

struct wgx_config_section {
	size_t start;  /* of its lead: the text removing it takes */
	size_t end;    /* the next section's start, or the end of the text */
	size_t header; /* of its header line */
	unsigned int line; /* of its header line, 1-based */
	bool peer;	   /* [Peer]; else [Interface] (or unknown) */
	/* Its name ("" for none): valid by wgx_config_edit_name_check(). */
	char name[WGX_PEER_NAME_MAX + 1];
	/* A name line whose value is not a valid name (then name is ""). */
	bool bad_name;
	/* The PublicKey text, whitespace removed; "" when none. */
	char public_key[WGX_KEY_BASE64_LEN + 1];
};

/*
 * The sections of buf (len bytes), in order; *out is malloc'd (NULL when
 * there is none). Text above the first header belongs to no section.
 * 0 or -ENOMEM.
 */
int wgx_config_edit_scan(const char *buf, size_t len,
			 struct wgx_config_section **out, size_t *n);

/*
 * Is name a peer name: 1 to WGX_PEER_NAME_MAX characters of letters,
 * digits, '_', '.', '-', '=' and '+' (what wg-quick accepts for an
 * interface), not starting with '.' or '-'. 0, or -EINVAL with *why.
 */
int wgx_config_edit_name_check(const char *name, const char **why);

/* The peer section named name (compared case-insensitively), or NULL. */
const struct wgx_config_section *wgx_config_edit_find(
	const struct wgx_config_section *s, size_t n, const char *name);

/*
 * How many bytes to insert before a new section appended at the end of
 * buf so that it is separated by exactly one blank line ("\n\n" after
 * text that lacks a final newline, "\n" after one, "" after a blank line
 * or for an empty file); the separator is written to sep (3 bytes).
 */
size_t wgx_config_edit_separator(const char *buf, size_t len, char sep[3]);

#endif
