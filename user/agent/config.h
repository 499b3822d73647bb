/* SPDX-License-Identifier: MIT */
/*
 * The wg(8) / wg-quick(8) configuration file, parsed into struct wgx_config.
 *
 * Syntax, as wg and wg-quick read it:
 * - "[Interface]" and "[Peer]" sections, names and keys case-insensitive;
 *   "Key = Value" lines; '#' starts a comment anywhere on a line; blank
 *   lines are skipped; CRLF line ends work (CR is whitespace).
 * - wg's own keys (PrivateKey, ListenPort, FwMark, PublicKey, PresharedKey,
 *   AllowedIPs, Endpoint, PersistentKeepalive) have every whitespace
 *   character of the line removed first, as wg does, so "Allowed IPs = a, b"
 *   is AllowedIPs "a,b". wg-quick's keys (Address, DNS, MTU, Table, SaveConfig,
 *   PreUp, PostUp, PreDown, PostDown) are trimmed at both ends only; the
 *   four hooks keep everything after the first '=' verbatim, '#' included,
 *   as wg-quick does. Address and DNS split on commas and whitespace.
 * - Values: ListenPort 0-65535 (0 = random); FwMark "off" or 0-0xffffffff
 *   in decimal or 0x-hex; PersistentKeepalive "off" or 0-65535; AllowedIPs
 *   and Address "IP[/prefix]" (no prefix: /32 or /128); Endpoint
 *   "host:port" or "[IPv6]:port" (wg splits at the last ':' without
 *   brackets); Table "off", "auto", a number or a table name; SaveConfig
 *   true/false.
 *
 * Where wgxdp differs from wg/wg-quick, on purpose:
 * - Every problem is collected (wg stops at the first) and any error
 *   rejects the whole file. Messages read "FILE:LINE: what (what to do)";
 *   warnings "FILE:LINE: warning: ...". No message holds a key or a part
 *   of one: PrivateKey, PresharedKey and PublicKey values are never
 *   quoted, "PrivateKey <key>" or "PrivateKey: <key>" is reported by the
 *   key's name alone, and any other text that may be key material (a
 *   run of 16 base64 characters of mixed kinds in a value; anything in a
 *   key or section name but letters, digits, spaces, '-', '_' and
 *   brackets) is replaced by "(text not shown: it may hold a key)".
 * - Two [Peer] sections with the same PublicKey are an error (wg merges).
 * - A peer with the interface's own public key is dropped with a warning
 *   (the kernel ignores it silently).
 * - AllowedIPs with host bits set are masked with a warning (wg warns, the
 *   kernel masks); a prefix given to two peers stays with the later one,
 *   with a warning (the kernel moves it silently).
 * - A single-valued key given twice: the last wins (as in wg), with a
 *   warning. A second [Interface] section gets a warning too.
 * - Ports are numbers only (wg also takes /etc/services names); an Endpoint
 *   port of 0 is refused. "+"/"-" AllowedIPs prefixes (incremental updates
 *   in newer wg) are refused: a config file states the whole set.
 * - Host names are resolved once (first getaddrinfo result, no retries; wg
 *   retries and honours WG_ENDPOINT_RESOLUTION_RETRIES).
 * - Empty values of wg's keys are errors (wg: "Line unrecognized"); an
 *   empty MTU or Table resets it and an empty Address or DNS adds nothing,
 *   as in wg-quick; an empty SaveConfig is an error.
 * - A NUL byte refuses the line (wg silently truncates it).
 * - MTU must be 576-65535 (wg-quick passes anything to ip-link), and at
 *   least 1280 when an IPv6 Address is given (Linux turns IPv6 off below).
 *   DNS servers must be IP addresses (an entry of digits and dots, or with
 *   a ':', is a server as in wg-quick; anything else a search domain).
 * - An all-zero PrivateKey means "no key" to the kernel: a warning, and the
 *   key counts as absent. Section headers are matched after removing
 *   whitespace ("[ Peer ]" works; wg-quick only trims).
 */
#ifndef WGX_CONFIG_H
#define WGX_CONFIG_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/key.h"
#include "util/sockaddr.h"

/* An address with a prefix length: Address keeps host bits, AllowedIPs not. */
struct wgx_config_prefix {
	sa_family_t family; /* AF_INET or AF_INET6 */
	uint8_t cidr;
	union {
		struct in_addr v4;
		struct in6_addr v6;
		uint8_t bytes[16];
	} addr;
};

struct wgx_config_endpoint {
	char *text;    /* as written, whitespace removed; NULL: no Endpoint */
	bool resolved; /* false only with WGX_CONFIG_NO_RESOLVE */
	unsigned int line; /* of the Endpoint line, for messages */
	union wgx_sockaddr addr;
};

struct wgx_config_strv {
	char **v;
	size_t n;
};

struct wgx_config_peer {
	uint8_t public_key[WGX_KEY_LEN];
	uint8_t *preshared_key; /* NULL: none; else in sodium_malloc memory */
	struct wgx_config_prefix *allowed_ips;
	size_t n_allowed_ips;
	struct wgx_config_endpoint endpoint;
	uint16_t persistent_keepalive; /* seconds; 0 = off */
	unsigned int line;	       /* of its [Peer] header, for messages */
};

enum wgx_config_table {
	WGX_CONFIG_TABLE_AUTO, /* also when Table is absent */
	WGX_CONFIG_TABLE_OFF,
	WGX_CONFIG_TABLE_ID,
	WGX_CONFIG_TABLE_NAME,
};

enum wgx_config_hook {
	WGX_CONFIG_PRE_UP,
	WGX_CONFIG_POST_UP,
	WGX_CONFIG_PRE_DOWN,
	WGX_CONFIG_POST_DOWN,
	WGX_CONFIG_HOOKS,
};

/* Bits of wgx_config.has: which optional [Interface] keys were given. */
enum wgx_config_has {
	WGX_CONFIG_HAS_LISTEN_PORT = 1 << 0,
	WGX_CONFIG_HAS_FWMARK = 1 << 1,
	WGX_CONFIG_HAS_MTU = 1 << 2,
	WGX_CONFIG_HAS_TABLE = 1 << 3,
	WGX_CONFIG_HAS_SAVE_CONFIG = 1 << 4,
};

struct wgx_config_secrets;

struct wgx_config {
	char *source;	      /* file name, or the name given to parse_buf */
	uint8_t *private_key; /* clamped; NULL: none; sodium_malloc memory */
	uint8_t public_key[WGX_KEY_LEN]; /* of private_key, when set */
	unsigned int has;		 /* enum wgx_config_has */
	uint16_t listen_port;		 /* 0 = random */
	uint32_t fwmark;		 /* 0 = off */
	uint32_t mtu; /* 0 = not given (wg-quick derives one) */
	struct wgx_config_prefix *addresses;
	size_t n_addresses;
	struct wgx_config_strv dns_servers;
	struct wgx_config_strv dns_search;
	enum wgx_config_table table;
	uint32_t table_id; /* WGX_CONFIG_TABLE_ID */
	char *table_name;  /* the Table value as written; NULL: absent */
	struct wgx_config_strv hooks[WGX_CONFIG_HOOKS]; /* verbatim */
	bool save_config;
	struct wgx_config_peer *peers;
	size_t n_peers;
	struct wgx_config_secrets *secrets; /* owns the keys' memory */
};

/* One message: "FILE:LINE: what is wrong (what to do)". */
struct wgx_config_msg {
	char *text;
	unsigned int line; /* 0: about the whole file */
	bool warning;
};

enum wgx_config_limits {
	WGX_CONFIG_MAX_MSGS = 1000,	/* kept; later ones are only counted */
	WGX_CONFIG_MAX_FILE = 64 << 20, /* bytes */
};

/* Zero-initialise before parsing; sorted by line after a parse. */
struct wgx_config_errors {
	struct wgx_config_msg *msgs;
	size_t n;
	size_t n_errors; /* all errors, including ones not kept */
	size_t n_warnings;
	size_t n_dropped; /* messages past WGX_CONFIG_MAX_MSGS */
};

/*
 * Resolves a host name that is not a numeric address: fill out with the
 * address and port, return 0 or an EAI_* code (reported with
 * gai_strerror()). Tests inject one so they never touch DNS.
 */
typedef int (*wgx_config_resolve_fn)(void *ctx, const char *host, uint16_t port,
				     union wgx_sockaddr *out);

enum wgx_config_flags {
	/* [Interface] must have a (non-zero) PrivateKey: check, attach. */
	WGX_CONFIG_NEED_PRIVATE_KEY = 1 << 0,
	/* Leave host-name endpoints unresolved (resolved = false). */
	WGX_CONFIG_NO_RESOLVE = 1 << 1,
};

struct wgx_config_opts {
	unsigned int flags;	       /* enum wgx_config_flags */
	wgx_config_resolve_fn resolve; /* NULL: getaddrinfo() */
	void *resolve_ctx;
};

/*
 * Parse a file or a buffer (len bytes; a NUL byte refuses its line). Call
 * wgx_crypto_init() first: keys go to sodium_malloc'd memory (a page per
 * 127 keys, mlocked where the limit allows).
 * opts and errs may be NULL. Returns 0 with *out set, or -EINVAL when an
 * error was found (every one is in errs), -ENOMEM, or -errno when the file
 * cannot be read (also in errs); *out is NULL on failure. The file buffer
 * is wiped before it is freed.
 */
int wgx_config_parse_file(const char *path, const struct wgx_config_opts *opts,
			  struct wgx_config **out,
			  struct wgx_config_errors *errs);
int wgx_config_parse_buf(const char *name, const char *buf, size_t len,
			 const struct wgx_config_opts *opts,
			 struct wgx_config **out,
			 struct wgx_config_errors *errs);

/*
 * Forget the [Peer] sections (wiping their keys) and keep the
 * [Interface]: what a running instance still compares a reload against,
 * once the peers are the device's.
 */
void wgx_config_drop_peers(struct wgx_config *cfg);
/* Wipes and frees every key; NULL is fine. */
void wgx_config_free(struct wgx_config *cfg);
void wgx_config_errors_free(struct wgx_config_errors *errs);

/* Endpoints a WGX_CONFIG_NO_RESOLVE parse left unresolved. */
size_t wgx_config_unresolved(const struct wgx_config *cfg);

/*
 * Resolve them now with opts->resolve (opts NULL or no resolver:
 * getaddrinfo), as the parse would have: failures are added to errs
 * ("FILE:LINE: Endpoint ...: cannot resolve ..."). 0, -EINVAL when one
 * failed, or -ENOMEM. Blocks as long as the resolver does: the agent
 * calls it off its thread (agent/resolve.h).
 */
int wgx_config_resolve(struct wgx_config *cfg,
		       const struct wgx_config_opts *opts,
		       struct wgx_config_errors *errs);

/* Total AllowedIPs over all peers. */
size_t wgx_config_count_allowed_ips(const struct wgx_config *cfg);

/*
 * One line, no newline: "public key K, listen port N, P peers, A allowed
 * IPs". Returns the length it needed (like snprintf), or -EINVAL.
 */
int wgx_config_summary(const struct wgx_config *cfg, char *buf, size_t size);

/* "10.0.0.0/24", "fd00::/64"; returns as snprintf does, or -EINVAL. */
int wgx_config_prefix_format(const struct wgx_config_prefix *p, char *buf,
			     size_t size);

#endif
