// SPDX-License-Identifier: MIT
/*
 * The config parser: one pass over the lines, each key dispatched through
 * key_defs[], then the checks that need the whole file (missing and
 * duplicate keys, the peer with our own key, AllowedIPs given to two
 * peers). Nothing is fatal but running out of memory, so `check` can print
 * every problem at once. config.h lists where this differs from wg(8).
 */
#include "agent/config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

enum section {
	SEC_NONE,
	SEC_INTERFACE,
	SEC_PEER,
	SEC_UNKNOWN
};

/* How a value is cut out of its line (see config.h). */
enum value_kind {
	VAL_WG,
	VAL_QUICK,
	VAL_HOOK
};

/* Single-valued keys, to warn when one is given twice. */
enum slot {
	SLOT_PRIVATE_KEY,
	SLOT_LISTEN_PORT,
	SLOT_FWMARK,
	SLOT_MTU,
	SLOT_TABLE,
	SLOT_SAVE_CONFIG,
	SLOT_PUBLIC_KEY,
	SLOT_PRESHARED_KEY,
	SLOT_ENDPOINT,
	SLOT_KEEPALIVE,
	N_SLOTS,
	SLOT_MULTI = N_SLOTS, /* repeatable: values add up */
};

enum priv_state {
	PRIV_NONE,
	PRIV_OK,
	PRIV_BAD,
	PRIV_ZERO
};

enum {
	QUOTE_CHARS = 48, /* of a value quoted in a message */
	QUOTE_SIZE = QUOTE_CHARS * 4 + 8,
	KEYLIKE_RUN = 16,   /* base64 characters: maybe part of a key */
	NAME_RUN_MAX = 24,  /* letters and digits in a row in a name */
	KEYLIKE_DIGITS = 8, /* a run this long with a digit in it */
	KEY_NAME_MAX = 32,
	SECRETS_PER_CHUNK = 127, /* one page with the header */
	MIN_MTU = 576,
	MIN_MTU_IPV6 = 1280,
};

/* Key memory: sodium_malloc'd chunks, so keys never move once handed out. */
struct wgx_config_secrets {
	struct wgx_config_secrets *next;
	size_t used;
	uint8_t key[SECRETS_PER_CHUNK][WGX_KEY_LEN];
};

/* What the parser remembers about a peer beyond struct wgx_config_peer. */
struct peer_state {
	unsigned int key_line; /* of a valid PublicKey; 0: none */
	bool key_bad;
	unsigned int seen[N_SLOTS];
};

struct parser {
	struct wgx_config *cfg;
	struct wgx_config_errors *errs;
	struct wgx_config_opts opts;
	unsigned int line;
	enum section section;
	unsigned int iface_line; /* first [Interface] header; 0: none */
	unsigned int iface_seen[N_SLOTS];
	enum priv_state priv;
	uint8_t *priv_slot;
	unsigned int mtu_line;
	struct peer_state *peer_st; /* parallel to cfg->peers */
	size_t n_errors;
	bool oom;
};

struct key_def {
	const char *name;
	enum section section;
	enum value_kind kind;
	enum slot slot;
	void (*parse)(struct parser *p, char *value, int arg);
	int arg;
};

static bool is_space(char c)
{
	/* wg's set, and bash's [[:space:]] in the C locale. */
	return c == ' ' || (c >= '\t' && c <= '\r');
}

/* What a message says instead of text that may hold a key. */
#define NOT_SHOWN "(text not shown: it may hold a key)"

/* Removes every whitespace character in place (what wg does to a line). */
static char *squeeze(char *s)
{
	char *w = s;

	for (char *r = s; *r; r++)
		if (!is_space(*r))
			*w++ = *r;
	*w = '\0';
	return s;
}

static char *trim(char *s)
{
	size_t len;

	while (is_space(*s))
		s++;
	len = strlen(s);
	while (len && is_space(s[len - 1]))
		s[--len] = '\0';
	return s;
}

/*
 * A base64 character. A key is 43 of them and '='; one pasted where it
 * does not belong must not come back in a message (they go to terminals,
 * control clients and syslog), whole or in part.
 */
static bool is_b64(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '+' || c == '/';
}

/*
 * Whether s holds what may be a key or part of one: a run of KEYLIKE_RUN
 * or more base64 characters that mixes two of upper case, lower case,
 * digits and '+' or '/'. Port numbers, addresses, host names and table
 * names do not look like that; 16 random base64 characters do, all but
 * about one time in a million.
 */
static bool looks_like_key(const char *s)
{
	while (*s) {
		unsigned int classes = 0;
		size_t n = 0;

		for (; is_b64(*s); s++, n++)
			classes |= (*s >= 'A' && *s <= 'Z')   ? 1
				   : (*s >= 'a' && *s <= 'z') ? 2
				   : (*s >= '0' && *s <= '9') ? 4
							      : 8;
		if (n >= KEYLIKE_RUN && __builtin_popcount(classes) >= 2)
			return true;
		if (*s)
			s++;
	}
	return false;
}

/* 'text' for a message: at most QUOTE_CHARS, other bytes as \xNN. */
static const char *quote_raw(char buf[QUOTE_SIZE], const char *s)
{
	size_t o = 0, i;

	buf[o++] = '\'';
	for (i = 0; i < QUOTE_CHARS && s[i]; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c < 0x7f)
			buf[o++] = (char)c;
		else
			o += (size_t)snprintf(buf + o, 5, "\\x%02x", c);
	}
	if (s[i])
		o += (size_t)snprintf(buf + o, 4, "...");
	buf[o++] = '\'';
	buf[o] = '\0';
	return buf;
}

/*
 * A value as written, unless it may hold key material. The test is on the
 * text as shown, escapes included ("\x16" joins the run it precedes).
 */
static const char *quote(char buf[QUOTE_SIZE], const char *s)
{
	quote_raw(buf, s);
	return looks_like_key(buf) ? NOT_SHOWN : buf;
}

/*
 * A name (a key, a section, a line that is neither) is quoted only when
 * it looks like one, as shown: letters, digits, spaces, '-', '_', '.',
 * brackets and escapes, no run of letters and digits longer than any key
 * name and no long run with digits in it. Anything else may be a key
 * pasted without its name, and is not shown.
 */
static const char *quote_name(char buf[QUOTE_SIZE], const char *s)
{
	size_t run = 0;
	bool digit = false;

	quote_raw(buf, s);
	for (const char *c = buf; *c; c++) {
		if (is_b64(*c) && *c != '+' && *c != '/') {
			run++;
			digit |= *c >= '0' && *c <= '9';
			if (run > NAME_RUN_MAX ||
			    (digit && run >= KEYLIKE_DIGITS))
				return NOT_SHOWN;
			continue;
		}
		run = 0;
		digit = false;
		if (!strchr(" -_.[]\\'", *c))
			return NOT_SHOWN;
	}
	return buf;
}

/* Decimal or hex digits only (no sign, no space), at most max. */
static bool parse_uint(const char *s, unsigned int base, uint64_t max,
		       uint64_t *out)
{
	uint64_t n = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		unsigned int d;

		if (*s >= '0' && *s <= '9')
			d = (unsigned int)(*s - '0');
		else if (base == 16 && (*s | 32) >= 'a' && (*s | 32) <= 'f')
			d = (unsigned int)((*s | 32) - 'a' + 10);
		else
			return false;
		if (n > (max - d) / base)
			return false;
		n = n * base + d;
	}
	*out = n;
	return true;
}

static void msg_insert(struct parser *p, char *text, unsigned int line,
		       bool warning)
{
	struct wgx_config_errors *e = p->errs;
	struct wgx_config_msg *v;
	size_t i;

	v = reallocarray(e->msgs, e->n + 1, sizeof(*v));
	if (!v) {
		p->oom = true;
		free(text);
		return;
	}
	e->msgs = v;
	/* Keep the list sorted by line; equal lines stay in report order. */
	for (i = e->n; i > 0 && v[i - 1].line > line; i--)
		v[i] = v[i - 1];
	v[i] = (struct wgx_config_msg){ text, line, warning };
	e->n++;
}

__attribute__((format(printf, 4, 5))) static void report(struct parser *p,
							 unsigned int line,
							 bool warning,
							 const char *fmt, ...)
{
	char *what = NULL, *text = NULL;
	va_list ap;
	int n;

	if (!warning)
		p->n_errors++;
	if (!p->errs)
		return;
	if (warning)
		p->errs->n_warnings++;
	else
		p->errs->n_errors++;
	if (p->errs->n >= WGX_CONFIG_MAX_MSGS) {
		p->errs->n_dropped++;
		return;
	}
	va_start(ap, fmt);
	n = vasprintf(&what, fmt, ap);
	va_end(ap);
	if (n < 0 || (line ? asprintf(&text, "%s:%u: %s%s", p->cfg->source,
				      line, warning ? "warning: " : "", what)
			   : asprintf(&text, "%s: %s%s", p->cfg->source,
				      warning ? "warning: " : "", what)) < 0) {
		if (n >= 0)
			free(what);
		p->oom = true;
		return;
	}
	free(what);
	msg_insert(p, text, line, warning);
}

#define line_error(p, ...) report(p, (p)->line, false, __VA_ARGS__)
#define line_warn(p, ...)  report(p, (p)->line, true, __VA_ARGS__)

/* Room for element n: capacity doubles at powers of two from 4. */
static void *grow(struct parser *p, void *v, size_t n, size_t size)
{
	void *nv;

	if (n && (n < 4 || (n & (n - 1))))
		return v;
	nv = reallocarray(v, n ? 2 * n : 4, size);
	if (!nv)
		p->oom = true;
	return nv;
}

static uint8_t *secret_alloc(struct parser *p)
{
	struct wgx_config_secrets *s = p->cfg->secrets;

	if (!s || s->used == SECRETS_PER_CHUNK) {
		s = sodium_malloc(sizeof(*s));
		if (!s) {
			p->oom = true;
			return NULL;
		}
		s->next = p->cfg->secrets;
		s->used = 0;
		p->cfg->secrets = s;
	}
	return s->key[s->used++];
}

static void strv_push(struct parser *p, struct wgx_config_strv *sv,
		      const char *s)
{
	char **v = grow(p, sv->v, sv->n, sizeof(*v));
	char *dup;

	if (!v)
		return;
	sv->v = v;
	dup = strdup(s);
	if (!dup) {
		p->oom = true;
		return;
	}
	v[sv->n++] = dup;
}

static void strv_free(struct wgx_config_strv *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = 0;
}

static struct wgx_config_peer *cur_peer(struct parser *p)
{
	return &p->cfg->peers[p->cfg->n_peers - 1];
}

static struct peer_state *cur_state(struct parser *p)
{
	return &p->peer_st[p->cfg->n_peers - 1];
}

/* "IP" or "IP/prefix" into out; NULL, or what is wrong with it. */
static const char *parse_prefix(const char *tok, struct wgx_config_prefix *out)
{
	const char *slash = strchr(tok, '/');
	size_t len = slash ? (size_t)(slash - tok) : strlen(tok);
	char ip[INET6_ADDRSTRLEN];
	uint64_t cidr, max;

	memset(out, 0, sizeof(*out));
	if (!len)
		return "the address is missing";
	if (len >= sizeof(ip))
		return "not an IP address";
	memcpy(ip, tok, len);
	ip[len] = '\0';
	out->family = memchr(ip, ':', len) ? AF_INET6 : AF_INET;
	max = out->family == AF_INET ? 32 : 128;
	if (inet_pton(out->family, ip, &out->addr) != 1)
		return out->family == AF_INET ? "not an IPv4 address"
					      : "not an IPv6 address";
	if (!slash)
		cidr = max;
	else if (!parse_uint(slash + 1, 10, max, &cidr))
		return out->family == AF_INET
			       ? "the prefix length must be 0-32"
			       : "the prefix length must be 0-128";
	out->cidr = (uint8_t)cidr;
	return NULL;
}

/* Clears host bits; true if there were any. */
static bool mask_prefix(struct wgx_config_prefix *pfx)
{
	size_t bytes = pfx->family == AF_INET ? 4 : 16;
	bool changed = false;

	for (size_t i = 0; i < bytes; i++) {
		unsigned int bits = pfx->cidr > 8 * i ? pfx->cidr - 8 * i : 0;
		uint8_t mask = bits >= 8 ? 0xff : (uint8_t)(0xff00 >> bits);

		changed |= (pfx->addr.bytes[i] & ~mask) != 0;
		pfx->addr.bytes[i] &= mask;
	}
	return changed;
}

/* ---- [Interface] ---- */

static void parse_private_key(struct parser *p, char *v, int arg)
{
	const char *why;

	(void)arg;
	if (!p->priv_slot && !(p->priv_slot = secret_alloc(p)))
		return;
	if (!wgx_key_from_base64(p->priv_slot, v)) {
		/* Never echo a private key, not even a broken one. */
		why = wgx_key_base64_error(v);
		line_error(p,
			   "PrivateKey is not a valid key: %s (a key is 44 "
			   "characters of base64, as 'wgxdp genkey' prints)",
			   why ? why : "invalid");
		p->priv = PRIV_BAD;
		return;
	}
	if (wgx_crypto_is_zero(p->priv_slot, WGX_KEY_LEN)) {
		line_warn(p, "PrivateKey is all zeros, which means no key "
			     "(generate one with 'wgxdp genkey')");
		p->priv = PRIV_ZERO;
		return;
	}
	/* The kernel clamps on set and `wg showconf` prints it clamped. */
	wgx_crypto_dh_clamp(p->priv_slot);
	wgx_crypto_dh_public(p->cfg->public_key, p->priv_slot);
	p->priv = PRIV_OK;
}

static void parse_listen_port(struct parser *p, char *v, int arg)
{
	char q[QUOTE_SIZE];
	uint64_t n;

	(void)arg;
	if (!parse_uint(v, 10, UINT16_MAX, &n)) {
		line_error(
			p,
			"ListenPort %s is not a port number 0-65535 (0 or no "
			"ListenPort picks a random port)",
			quote(q, v));
		return;
	}
	p->cfg->listen_port = (uint16_t)n;
	p->cfg->has |= WGX_CONFIG_HAS_LISTEN_PORT;
}

static void parse_fwmark(struct parser *p, char *v, int arg)
{
	char q[QUOTE_SIZE];
	uint64_t n = 0;
	bool ok;

	(void)arg;
	if (!strcasecmp(v, "off"))
		ok = true;
	else if (v[0] == '0' && v[1] == 'x' && v[2])
		ok = parse_uint(v + 2, 16, UINT32_MAX, &n);
	else
		ok = parse_uint(v, 10, UINT32_MAX, &n);
	if (!ok) {
		line_error(p,
			   "FwMark %s is neither off nor a number 0-0xffffffff "
			   "(write decimal or 0x-hex)",
			   quote(q, v));
		return;
	}
	p->cfg->fwmark = (uint32_t)n;
	p->cfg->has |= WGX_CONFIG_HAS_FWMARK;
}

/* wg-quick splits Address and DNS on commas, then on whitespace. */
static char *next_token(char **s)
{
	char *tok;

	*s += strspn(*s, ", \t\n\v\f\r");
	if (!**s)
		return NULL;
	tok = *s;
	*s += strcspn(*s, ", \t\n\v\f\r");
	if (**s)
		*(*s)++ = '\0';
	return tok;
}

static void parse_address(struct parser *p, char *v, int arg)
{
	struct wgx_config *cfg = p->cfg;
	struct wgx_config_prefix pfx, *a;
	char q[QUOTE_SIZE];
	const char *why;
	char *tok;

	(void)arg;
	while ((tok = next_token(&v))) {
		why = parse_prefix(tok, &pfx);
		if (why) {
			line_error(p,
				   "Address %s: %s (write IP/prefix, e.g. "
				   "10.0.0.1/24 or fd00::1/64)",
				   quote(q, tok), why);
			continue;
		}
		a = grow(p, cfg->addresses, cfg->n_addresses, sizeof(*a));
		if (!a)
			return;
		cfg->addresses = a;
		a[cfg->n_addresses++] = pfx;
	}
}

static bool dns_server_ok(const char *s)
{
	const char *pct = strchr(s, '%');
	char ip[INET6_ADDRSTRLEN];
	struct in6_addr a6;
	struct in_addr a4;
	size_t len;

	if (!strchr(s, ':'))
		return inet_pton(AF_INET, s, &a4) == 1;
	/* fe80::1%eth0: a link-local server with its zone. */
	len = pct ? (size_t)(pct - s) : strlen(s);
	if (len >= sizeof(ip) || (pct && !pct[1]))
		return false;
	memcpy(ip, s, len);
	ip[len] = '\0';
	return inet_pton(AF_INET6, ip, &a6) == 1;
}

static void parse_dns(struct parser *p, char *v, int arg)
{
	char q[QUOTE_SIZE];
	char *tok;

	(void)arg;
	while ((tok = next_token(&v))) {
		/* wg-quick's rule: digits and dots, or a ':', is a server. */
		if (strspn(tok, "0123456789.") == strlen(tok) ||
		    strchr(tok, ':')) {
			if (dns_server_ok(tok))
				strv_push(p, &p->cfg->dns_servers, tok);
			else
				line_error(p,
					   "DNS server %s is not an IP address "
					   "(DNS takes server addresses and "
					   "search domains)",
					   quote(q, tok));
		} else {
			strv_push(p, &p->cfg->dns_search, tok);
		}
	}
}

static void parse_mtu(struct parser *p, char *v, int arg)
{
	char q[QUOTE_SIZE];
	uint64_t n;

	(void)arg;
	p->mtu_line = p->line;
	if (!*v) {
		/* wg-quick: an empty MTU means "work it out". */
		p->cfg->mtu = 0;
		p->cfg->has &= ~(unsigned int)WGX_CONFIG_HAS_MTU;
		return;
	}
	if (!parse_uint(v, 10, UINT16_MAX, &n) || n < MIN_MTU) {
		line_error(p,
			   "MTU %s is not a number 576-65535 (1420 suits most "
			   "links; leave MTU out for the automatic value)",
			   quote(q, v));
		return;
	}
	p->cfg->mtu = (uint32_t)n;
	p->cfg->has |= WGX_CONFIG_HAS_MTU;
}

static bool table_name_ok(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

static void parse_table(struct parser *p, char *v, int arg)
{
	struct wgx_config *cfg = p->cfg;
	char q[QUOTE_SIZE];
	uint64_t n = 0;

	(void)arg;
	free(cfg->table_name);
	cfg->table_name = NULL;
	cfg->table = WGX_CONFIG_TABLE_AUTO;
	cfg->has &= ~(unsigned int)WGX_CONFIG_HAS_TABLE;
	if (!*v)
		return;
	/* Case-sensitive, as wg-quick compares after nocasematch is off. */
	if (!strcmp(v, "off"))
		cfg->table = WGX_CONFIG_TABLE_OFF;
	else if (!strcmp(v, "auto"))
		cfg->table = WGX_CONFIG_TABLE_AUTO;
	else if (parse_uint(v, 10, UINT32_MAX, &n))
		cfg->table = WGX_CONFIG_TABLE_ID;
	else if (table_name_ok(v) && !looks_like_key(v))
		cfg->table =
			WGX_CONFIG_TABLE_NAME; /* later messages quote it */
	else {
		line_error(
			p,
			"Table %s is not off, auto, a number or a table name "
			"(see ip-route(8))",
			quote(q, v));
		return;
	}
	cfg->table_id = (uint32_t)n;
	cfg->table_name = strdup(v);
	if (!cfg->table_name)
		p->oom = true;
	cfg->has |= WGX_CONFIG_HAS_TABLE;
}

static void parse_save_config(struct parser *p, char *v, int arg)
{
	char q[QUOTE_SIZE];

	(void)arg;
	if (!strcasecmp(v, "true"))
		p->cfg->save_config = true;
	else if (!strcasecmp(v, "false"))
		p->cfg->save_config = false;
	else {
		line_error(p,
			   "SaveConfig %s is neither true nor false (write "
			   "SaveConfig = true or SaveConfig = false)",
			   quote(q, v));
		return;
	}
	p->cfg->has |= WGX_CONFIG_HAS_SAVE_CONFIG;
}

static void parse_hook(struct parser *p, char *v, int arg)
{
	strv_push(p, &p->cfg->hooks[arg], v);
}

/* ---- [Peer] ---- */

static void parse_public_key(struct parser *p, char *v, int arg)
{
	struct peer_state *st = cur_state(p);
	const char *why;

	(void)arg;
	if (!wgx_key_from_base64(cur_peer(p)->public_key, v)) {
		/* Not quoted either: it may be a private key by mistake. */
		why = wgx_key_base64_error(v);
		line_error(p,
			   "PublicKey is not a valid key: %s (use the peer's "
			   "'wgxdp pubkey' or 'wg pubkey' output)",
			   why ? why : "invalid");
		st->key_bad = true;
		st->key_line = 0;
		return;
	}
	st->key_bad = false;
	st->key_line = p->line;
}

static void parse_preshared_key(struct parser *p, char *v, int arg)
{
	struct wgx_config_peer *peer = cur_peer(p);
	const char *why;

	(void)arg;
	if (!peer->preshared_key && !(peer->preshared_key = secret_alloc(p)))
		return;
	if (!wgx_key_from_base64(peer->preshared_key, v)) {
		why = wgx_key_base64_error(v);
		line_error(p,
			   "PresharedKey is not a valid key: %s (generate one "
			   "with "
			   "'wgxdp genpsk')",
			   why ? why : "invalid");
	}
}

static void add_allowed_ip(struct parser *p, char *tok)
{
	struct wgx_config_peer *peer = cur_peer(p);
	struct wgx_config_prefix pfx, *a;
	char q[QUOTE_SIZE], fixed[INET6_ADDRSTRLEN + 8];
	const char *why;

	if (tok[0] == '+' || tok[0] == '-') {
		line_error(
			p,
			"AllowedIPs %s: a leading '+' or '-' is for 'wg set', "
			"not config files (remove it)",
			quote(q, tok));
		return;
	}
	why = parse_prefix(tok, &pfx);
	if (why) {
		line_error(
			p,
			"AllowedIPs %s: %s (write IP/prefix, e.g. 10.0.0.0/24 "
			"or fd00::/64)",
			quote(q, tok), why);
		return;
	}
	if (mask_prefix(&pfx)) {
		wgx_config_prefix_format(&pfx, fixed, sizeof(fixed));
		line_warn(
			p,
			"AllowedIPs %s has host bits set; using %s (write the "
			"network address)",
			quote(q, tok), fixed);
	}
	a = grow(p, peer->allowed_ips, peer->n_allowed_ips, sizeof(*a));
	if (!a)
		return;
	peer->allowed_ips = a;
	a[peer->n_allowed_ips++] = pfx;
}

static void parse_allowed_ips(struct parser *p, char *v, int arg)
{
	char *tok;

	(void)arg;
	/* Like wg: every comma separates, so ",," and a trailing ',' fail. */
	while ((tok = strsep(&v, ",")))
		add_allowed_ip(p, tok);
}

static int resolve_getaddrinfo(void *ctx, const char *host, uint16_t port,
			       union wgx_sockaddr *out)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC,
				  .ai_socktype = SOCK_DGRAM,
				  .ai_protocol = IPPROTO_UDP },
			*res, *ai;
	int rc;

	(void)ctx;
	rc = getaddrinfo(host, NULL, &hints, &res);
	if (rc)
		return rc;
	rc = EAI_FAMILY;
	for (ai = res; ai && rc; ai = ai->ai_next) {
		if (ai->ai_family == AF_INET &&
		    ai->ai_addrlen == sizeof(out->in4)) {
			memcpy(&out->in4, ai->ai_addr, sizeof(out->in4));
			out->in4.sin_port = htons(port);
			rc = 0;
		} else if (ai->ai_family == AF_INET6 &&
			   ai->ai_addrlen == sizeof(out->in6)) {
			memcpy(&out->in6, ai->ai_addr, sizeof(out->in6));
			out->in6.sin6_port = htons(port);
			rc = 0;
		}
	}
	freeaddrinfo(res);
	return rc;
}

/* Numeric addresses never reach the resolver. */
static int endpoint_address(struct parser *p, const char *host, uint16_t port,
			    struct wgx_config_endpoint *ep)
{
	union wgx_sockaddr *sa = &ep->addr;

	memset(sa, 0, sizeof(*sa));
	ep->resolved = true;
	if (inet_pton(AF_INET, host, &sa->in4.sin_addr) == 1) {
		sa->in4.sin_family = AF_INET;
		sa->in4.sin_port = htons(port);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &sa->in6.sin6_addr) == 1) {
		sa->in6.sin6_family = AF_INET6;
		sa->in6.sin6_port = htons(port);
		return 0;
	}
	if (p->opts.flags & WGX_CONFIG_NO_RESOLVE) {
		ep->resolved = false;
		return 0;
	}
	return p->opts.resolve(p->opts.resolve_ctx, host, port, sa);
}

/* Splits like wg: "[v6]:port", else at the last ':'. */
static const char *split_endpoint(char *v, char **host, char **port)
{
	char *close;

	if (v[0] == '[') {
		close = strchr(v, ']');
		if (!close)
			return "has no ']' after the IPv6 address (write "
			       "[IPv6]:port)";
		*close = '\0';
		*host = v + 1;
		*port = close + 1;
		if (**port != ':' || !(*port)[1])
			return "has no port (write [IPv6]:port)";
		(*port)++;
		return NULL;
	}
	*port = strrchr(v, ':');
	if (!*port || !(*port)[1])
		return "has no port (write host:port, or [IPv6]:port)";
	*(*port)++ = '\0';
	*host = v;
	return NULL;
}

static void parse_endpoint(struct parser *p, char *v, int arg)
{
	struct wgx_config_peer *peer = cur_peer(p);
	struct wgx_config_endpoint ep = { 0 };
	char q[QUOTE_SIZE], qh[QUOTE_SIZE];
	char *host = NULL, *port = NULL;
	const char *why, *qv;
	uint64_t n;
	int rc;

	(void)arg;
	qv = quote(q, v);
	ep.line = p->line;
	ep.text = strdup(v);
	if (!ep.text) {
		p->oom = true;
		return;
	}
	why = split_endpoint(v, &host, &port);
	if (!why && !*host)
		why = "has no host (write host:port, or [IPv6]:port)";
	if (!why && (!parse_uint(port, 10, UINT16_MAX, &n) || !n))
		why = "has a port that is not a number 1-65535 (ports are "
		      "numbers, not service names)";
	if (why) {
		line_error(p, "Endpoint %s %s", qv, why);
		free(ep.text);
		return;
	}
	rc = endpoint_address(p, host, (uint16_t)n, &ep);
	if (rc) {
		line_error(p,
			   "Endpoint %s: cannot resolve %s: %s (check the "
			   "name, or "
			   "write an IP address)",
			   qv, quote(qh, host), gai_strerror(rc));
		free(ep.text);
		return;
	}
	free(peer->endpoint.text);
	peer->endpoint = ep;
}

static void parse_keepalive(struct parser *p, char *v, int arg)
{
	char q[QUOTE_SIZE];
	uint64_t n = 0;

	(void)arg;
	if (strcasecmp(v, "off") && !parse_uint(v, 10, UINT16_MAX, &n)) {
		line_error(
			p,
			"PersistentKeepalive %s is neither off nor a number of "
			"seconds 0-65535 (25 is usual behind NAT)",
			quote(q, v));
		return;
	}
	cur_peer(p)->persistent_keepalive = (uint16_t)n;
}

static const struct key_def key_defs[] = {
	{ "PrivateKey", SEC_INTERFACE, VAL_WG, SLOT_PRIVATE_KEY,
	  parse_private_key },
	{ "ListenPort", SEC_INTERFACE, VAL_WG, SLOT_LISTEN_PORT,
	  parse_listen_port },
	{ "FwMark", SEC_INTERFACE, VAL_WG, SLOT_FWMARK, parse_fwmark },
	{ "Address", SEC_INTERFACE, VAL_QUICK, SLOT_MULTI, parse_address },
	{ "DNS", SEC_INTERFACE, VAL_QUICK, SLOT_MULTI, parse_dns },
	{ "MTU", SEC_INTERFACE, VAL_QUICK, SLOT_MTU, parse_mtu },
	{ "Table", SEC_INTERFACE, VAL_QUICK, SLOT_TABLE, parse_table },
	{ "PreUp", SEC_INTERFACE, VAL_HOOK, SLOT_MULTI, parse_hook,
	  WGX_CONFIG_PRE_UP },
	{ "PostUp", SEC_INTERFACE, VAL_HOOK, SLOT_MULTI, parse_hook,
	  WGX_CONFIG_POST_UP },
	{ "PreDown", SEC_INTERFACE, VAL_HOOK, SLOT_MULTI, parse_hook,
	  WGX_CONFIG_PRE_DOWN },
	{ "PostDown", SEC_INTERFACE, VAL_HOOK, SLOT_MULTI, parse_hook,
	  WGX_CONFIG_POST_DOWN },
	{ "SaveConfig", SEC_INTERFACE, VAL_QUICK, SLOT_SAVE_CONFIG,
	  parse_save_config },
	{ "PublicKey", SEC_PEER, VAL_WG, SLOT_PUBLIC_KEY, parse_public_key },
	{ "PresharedKey", SEC_PEER, VAL_WG, SLOT_PRESHARED_KEY,
	  parse_preshared_key },
	{ "AllowedIPs", SEC_PEER, VAL_WG, SLOT_MULTI, parse_allowed_ips },
	{ "Endpoint", SEC_PEER, VAL_WG, SLOT_ENDPOINT, parse_endpoint },
	{ "PersistentKeepalive", SEC_PEER, VAL_WG, SLOT_KEEPALIVE,
	  parse_keepalive },
};

static const char *section_name(enum section s)
{
	return s == SEC_PEER ? "[Peer]" : "[Interface]";
}

/* Copies s without its whitespace (all of it, or only at the ends). */
static bool key_copy(char buf[KEY_NAME_MAX], const char *s, bool all)
{
	size_t o = 0;

	s += strspn(s, " \t\n\v\f\r");
	for (; *s; s++) {
		if (all && is_space(*s))
			continue;
		if (o + 1 >= KEY_NAME_MAX)
			return false;
		buf[o++] = *s;
	}
	while (o && is_space(buf[o - 1]))
		o--;
	buf[o] = '\0';
	return true;
}

/* wg's keys match with all whitespace removed, wg-quick's when trimmed. */
static const struct key_def *find_key(const char *raw_key)
{
	char squeezed[KEY_NAME_MAX], trimmed[KEY_NAME_MAX];
	bool have_sq = key_copy(squeezed, raw_key, true);
	bool have_tr = key_copy(trimmed, raw_key, false);

	for (size_t i = 0; i < sizeof(key_defs) / sizeof(key_defs[0]); i++) {
		const struct key_def *d = &key_defs[i];

		if (d->kind == VAL_WG
			    ? have_sq && !strcasecmp(squeezed, d->name)
			    : have_tr && !strcasecmp(trimmed, d->name))
			return d;
	}
	return NULL;
}

static void unknown_key(struct parser *p, char *raw_key)
{
	char q[QUOTE_SIZE], list[256] = "";
	size_t o = 0;

	for (size_t i = 0; i < sizeof(key_defs) / sizeof(key_defs[0]); i++)
		if (key_defs[i].section == p->section)
			o += (size_t)snprintf(list + o, sizeof(list) - o,
					      "%s%s", o ? ", " : "",
					      key_defs[i].name);
	line_error(p, "unknown key %s in %s (known there: %s)",
		   quote_name(q, trim(raw_key)), section_name(p->section),
		   list);
}

/*
 * "PrivateKey <key>", "PrivateKey: <key>", "PrivateKey<key>": a known key,
 * then its value without '='. The message names the key in our own words,
 * since the rest of the line may be a key.
 */
static bool missing_equals(struct parser *p, const char *text)
{
	text += strspn(text, " \t\n\v\f\r");
	for (size_t i = 0; i < sizeof(key_defs) / sizeof(key_defs[0]); i++) {
		const char *name = key_defs[i].name;
		enum slot slot = key_defs[i].slot;
		size_t n = strlen(name);

		/* A secret's name with anything after it: the key, glued. */
		if (strncasecmp(text, name, n) || !text[n] ||
		    !(is_space(text[n]) || text[n] == ':' ||
		      slot == SLOT_PRIVATE_KEY || slot == SLOT_PRESHARED_KEY))
			continue;
		line_error(p,
			   "%s is not followed by '=' (write %s = <value>; "
			   "the line is not shown: it may hold a key)",
			   name, name);
		return true;
	}
	return false;
}

static void add_peer(struct parser *p)
{
	struct wgx_config *cfg = p->cfg;
	struct wgx_config_peer *peers;
	struct peer_state *st;

	peers = grow(p, cfg->peers, cfg->n_peers, sizeof(*peers));
	if (!peers) {
		p->section = SEC_UNKNOWN;
		return;
	}
	cfg->peers = peers;
	st = grow(p, p->peer_st, cfg->n_peers, sizeof(*st));
	if (!st) {
		p->section = SEC_UNKNOWN;
		return;
	}
	p->peer_st = st;
	memset(&peers[cfg->n_peers], 0, sizeof(*peers));
	memset(&st[cfg->n_peers], 0, sizeof(*st));
	peers[cfg->n_peers].line = p->line;
	cfg->n_peers++;
	p->section = SEC_PEER;
}

static void section_header(struct parser *p, const char *s)
{
	char q[QUOTE_SIZE];

	/* "[Interface] PrivateKey = ...": the header, then a key line. */
	if ((!strncasecmp(s, "[Interface]", 11) && s[11]) ||
	    (!strncasecmp(s, "[Peer]", 6) && s[6])) {
		line_error(p,
			   "%s has more text after it on its line (put a "
			   "section header on a line of its own; the rest is "
			   "not shown: it may hold a key)",
			   s[1] == 'P' || s[1] == 'p' ? "[Peer]"
						      : "[Interface]");
		s = s[1] == 'P' || s[1] == 'p' ? "[Peer]" : "[Interface]";
	}
	if (!strcasecmp(s, "[Interface]")) {
		if (p->iface_line)
			line_warn(
				p,
				"another [Interface] section (the first is at "
				"line %u); its keys apply to the same "
				"interface "
				"(merge the two)",
				p->iface_line);
		else
			p->iface_line = p->line;
		p->section = SEC_INTERFACE;
	} else if (!strcasecmp(s, "[Peer]")) {
		add_peer(p);
	} else {
		line_error(p,
			   "unknown section %s (a config has [Interface] and "
			   "[Peer] sections)",
			   quote_name(q, s));
		/* Its keys would each be an error; this one says it all. */
		p->section = SEC_UNKNOWN;
	}
}

static void note_repeat(struct parser *p, const struct key_def *d)
{
	unsigned int *seen =
		p->section == SEC_PEER ? cur_state(p)->seen : p->iface_seen;

	if (d->slot == SLOT_MULTI)
		return;
	if (seen[d->slot])
		line_warn(p,
			  "%s is given again (first at line %u); the last one "
			  "wins (remove the other)",
			  d->name, seen[d->slot]);
	seen[d->slot] = p->line;
}

/* One "Key = Value" line; raw is NUL-terminated and ours to modify. */
static void parse_key_line(struct parser *p, char *raw, size_t stripped_len,
			   char *eq)
{
	const struct key_def *d;
	char q[QUOTE_SIZE];
	char *value = eq + 1;

	*eq = '\0';
	d = find_key(raw);
	if (p->section == SEC_UNKNOWN)
		return;
	if (!d && missing_equals(p, trim(raw)))
		return;
	if (p->section == SEC_NONE) {
		line_error(p,
			   "%s is outside a section (put it under [Interface] "
			   "or [Peer])",
			   quote_name(q, trim(raw)));
		return;
	}
	if (!d || d->section != p->section) {
		if (d)
			line_error(
				p,
				"%s belongs in %s, not in %s (move it there)",
				d->name, section_name(d->section),
				section_name(p->section));
		else
			unknown_key(p, raw);
		return;
	}
	if (d->kind == VAL_HOOK) {
		value = trim(value); /* '#' and all: wg-quick keeps it */
	} else {
		raw[stripped_len] = '\0';
		value = d->kind == VAL_WG ? squeeze(value) : trim(value);
	}
	if (d->kind == VAL_WG && !*value) {
		line_error(
			p,
			"%s has an empty value (give one or remove the line)",
			d->name);
		return;
	}
	note_repeat(p, d);
	d->parse(p, value, d->arg);
}

static void parse_line(struct parser *p, char *raw)
{
	size_t stripped_len = strcspn(raw, "#");
	char *eq = memchr(raw, '=', stripped_len);
	char q[QUOTE_SIZE];
	char *s = raw + strspn(raw, " \t\n\v\f\r");

	if (s - raw >= (ptrdiff_t)stripped_len) /* blank or a comment */
		return;
	if (*s == '[') {
		raw[stripped_len] = '\0';
		section_header(p, squeeze(raw));
		return;
	}
	if (!eq) {
		raw[stripped_len] = '\0';
		if (missing_equals(p, trim(raw)))
			return;
		line_error(
			p,
			"%s is not a Key = Value line (fix it, or comment it "
			"out with '#')",
			quote_name(q, trim(raw)));
		return;
	}
	parse_key_line(p, raw, stripped_len, eq);
}

static void parse_lines(struct parser *p, const char *buf, size_t len)
{
	char *line = NULL, *bigger;
	size_t cap = 0, off = 0;

	while (off < len && !p->oom) {
		const char *start = buf + off;
		const char *nl = memchr(start, '\n', len - off);
		size_t n = nl ? (size_t)(nl - start) : len - off;

		off += n + (nl ? 1 : 0);
		p->line++;
		if (memchr(start, '\0', n)) {
			line_error(p, "the line has a NUL byte (remove it)");
			continue;
		}
		if (n + 1 > cap) {
			/* Not realloc: the old copy may hold key text. */
			bigger = malloc(n + 1);
			if (!bigger) {
				p->oom = true;
				break;
			}
			sodium_memzero(line, cap);
			free(line);
			line = bigger;
			cap = n + 1;
		}
		memcpy(line, start, n);
		line[n] = '\0';
		parse_line(p, line);
		sodium_memzero(line, n + 1);
	}
	free(line);
}

/* ---- checks over the whole file ---- */

static void check_peer_keys(struct parser *p)
{
	for (size_t i = 0; i < p->cfg->n_peers; i++)
		if (!p->peer_st[i].key_line && !p->peer_st[i].key_bad)
			report(p, p->cfg->peers[i].line, false,
			       "[Peer] has no PublicKey (add PublicKey = "
			       "<the peer's public key>)");
}

static void peer_release(struct wgx_config_peer *peer)
{
	free(peer->allowed_ips);
	free(peer->endpoint.text);
	if (peer->preshared_key)
		sodium_memzero(peer->preshared_key, WGX_KEY_LEN);
	memset(peer, 0, sizeof(*peer));
}

static void drop_peer(struct parser *p, size_t i)
{
	struct wgx_config *cfg = p->cfg;
	size_t rest = cfg->n_peers - i - 1;

	peer_release(&cfg->peers[i]);
	memmove(&cfg->peers[i], &cfg->peers[i + 1], rest * sizeof(*cfg->peers));
	memmove(&p->peer_st[i], &p->peer_st[i + 1], rest * sizeof(*p->peer_st));
	cfg->n_peers--;
}

/* The kernel silently ignores a peer with the device's own public key. */
static void drop_own_peer(struct parser *p)
{
	struct wgx_config *cfg = p->cfg;

	if (p->priv != PRIV_OK)
		return;
	for (size_t i = cfg->n_peers; i-- > 0;) {
		if (!p->peer_st[i].key_line ||
		    memcmp(cfg->peers[i].public_key, cfg->public_key,
			   WGX_KEY_LEN))
			continue;
		report(p, p->peer_st[i].key_line, true,
		       "this PublicKey is the interface's own public key; the "
		       "peer is ignored, as wg does (remove the [Peer] "
		       "section)");
		drop_peer(p, i);
	}
}

static int cmp_peer_key(const void *a, const void *b)
{
	const struct wgx_config_peer *pa =
		*(const struct wgx_config_peer *const *)a;
	const struct wgx_config_peer *pb =
		*(const struct wgx_config_peer *const *)b;
	int c = memcmp(pa->public_key, pb->public_key, WGX_KEY_LEN);

	if (c)
		return c;
	return pa < pb ? -1 : pa > pb;
}

/* Sorting by key finds duplicates in O(n log n) for big peer lists. */
static void check_duplicate_peers(struct parser *p)
{
	struct wgx_config *cfg = p->cfg;
	struct wgx_config_peer **v;
	char b64[WGX_KEY_BASE64_LEN + 1];
	size_t n = 0, i, first;

	v = calloc(cfg->n_peers + 1, sizeof(*v));
	if (!v) {
		p->oom = true;
		return;
	}
	for (i = 0; i < cfg->n_peers; i++)
		if (p->peer_st[i].key_line)
			v[n++] = &cfg->peers[i];
	qsort(v, n, sizeof(*v), cmp_peer_key);
	for (i = 1, first = 0; i < n; i++) {
		if (memcmp(v[first]->public_key, v[i]->public_key,
			   WGX_KEY_LEN)) {
			first = i;
			continue;
		}
		wgx_key_to_base64(b64, v[i]->public_key);
		report(p, p->peer_st[v[i] - cfg->peers].key_line, false,
		       "peer %s is defined twice (first in the [Peer] at line "
		       "%u); merge the two [Peer] sections",
		       b64, v[first]->line);
	}
	free(v);
}

struct ip_ref {
	struct wgx_config_prefix *pfx;
	size_t peer;
};

static int cmp_ip_ref(const void *a, const void *b)
{
	const struct ip_ref *x = a, *y = b;
	int c;

	if (x->pfx->family != y->pfx->family)
		return x->pfx->family < y->pfx->family ? -1 : 1;
	if (x->pfx->cidr != y->pfx->cidr)
		return x->pfx->cidr < y->pfx->cidr ? -1 : 1;
	c = memcmp(x->pfx->addr.bytes, y->pfx->addr.bytes, 16);
	if (c)
		return c;
	/* Same prefix: file order (peer, then position in the peer). */
	if (x->peer != y->peer)
		return x->peer < y->peer ? -1 : 1;
	return x->pfx < y->pfx ? -1 : x->pfx > y->pfx;
}

static void drop_marked_ips(struct wgx_config_peer *peer)
{
	size_t w = 0;

	for (size_t r = 0; r < peer->n_allowed_ips; r++)
		if (peer->allowed_ips[r].family != AF_UNSPEC)
			peer->allowed_ips[w++] = peer->allowed_ips[r];
	peer->n_allowed_ips = w;
}

/*
 * The kernel gives a prefix to the last peer that names it. Do the same,
 * so the agent sees one owner per prefix, and say so when peers differ.
 */
static void share_allowed_ips(struct parser *p)
{
	struct wgx_config *cfg = p->cfg;
	size_t n = wgx_config_count_allowed_ips(cfg), k = 0, i, j;
	struct ip_ref *v = calloc(n + 1, sizeof(*v));
	char text[INET6_ADDRSTRLEN + 8];

	if (!v) {
		p->oom = true;
		return;
	}
	for (i = 0; i < cfg->n_peers; i++)
		for (j = 0; j < cfg->peers[i].n_allowed_ips; j++)
			v[k++] = (struct ip_ref){ &cfg->peers[i].allowed_ips[j],
						  i };
	qsort(v, n, sizeof(*v), cmp_ip_ref);
	for (i = 0; i + 1 < n; i++) {
		const struct ip_ref *keep = &v[i + 1];

		if (v[i].pfx->family != keep->pfx->family ||
		    v[i].pfx->cidr != keep->pfx->cidr ||
		    memcmp(v[i].pfx->addr.bytes, keep->pfx->addr.bytes, 16))
			continue;
		if (v[i].peer != keep->peer) {
			wgx_config_prefix_format(v[i].pfx, text, sizeof(text));
			report(p, cfg->peers[keep->peer].line, true,
			       "AllowedIPs %s is also in the peer at line %u; "
			       "this later peer gets it, as with wg",
			       text, cfg->peers[v[i].peer].line);
		}
		/* Marked, not removed yet: v still points into the arrays. */
		v[i].pfx->family = AF_UNSPEC;
	}
	free(v);
	for (i = 0; i < cfg->n_peers; i++)
		drop_marked_ips(&cfg->peers[i]);
}

static void check_mtu(struct parser *p)
{
	const struct wgx_config *cfg = p->cfg;
	bool v6 = false;

	for (size_t i = 0; i < cfg->n_addresses; i++)
		v6 |= cfg->addresses[i].family == AF_INET6;
	if (v6 && (cfg->has & WGX_CONFIG_HAS_MTU) && cfg->mtu < MIN_MTU_IPV6)
		report(p, p->mtu_line, false,
		       "MTU %u is below 1280, the minimum for IPv6, and "
		       "Address has an IPv6 address (raise MTU to 1280 or "
		       "more)",
		       cfg->mtu);
}

static void check_private_key(struct parser *p)
{
	unsigned int line = p->iface_line ? p->iface_line : 1;

	if (!(p->opts.flags & WGX_CONFIG_NEED_PRIVATE_KEY))
		return;
	if (!p->iface_line)
		report(p, line, false,
		       "no [Interface] section (add one with PrivateKey = "
		       "<output of 'wgxdp genkey'>)");
	else if (p->priv == PRIV_NONE)
		report(p, line, false,
		       "[Interface] has no PrivateKey (add PrivateKey = "
		       "<output of 'wgxdp genkey'>)");
	else if (p->priv == PRIV_ZERO)
		report(p, line, false,
		       "[Interface] has no usable PrivateKey: it is all zeros "
		       "(use the output of 'wgxdp genkey')");
}

static void finish(struct parser *p)
{
	check_peer_keys(p);
	drop_own_peer(p);
	check_duplicate_peers(p);
	if (!p->oom)
		share_allowed_ips(p);
	check_mtu(p);
	check_private_key(p);
}

int wgx_config_parse_buf(const char *name, const char *buf, size_t len,
			 const struct wgx_config_opts *opts,
			 struct wgx_config **out,
			 struct wgx_config_errors *errs)
{
	struct parser p = { .errs = errs };
	int ret;

	*out = NULL;
	if (opts)
		p.opts = *opts;
	if (!p.opts.resolve)
		p.opts.resolve = resolve_getaddrinfo;
	p.cfg = calloc(1, sizeof(*p.cfg));
	if (!p.cfg)
		return -ENOMEM;
	p.cfg->source = strdup(name ? name : "(config)");
	if (!p.cfg->source) {
		free(p.cfg);
		return -ENOMEM;
	}
	parse_lines(&p, buf, len);
	if (!p.oom)
		finish(&p);
	ret = p.oom ? -ENOMEM : p.n_errors ? -EINVAL : 0;
	if (p.priv == PRIV_OK)
		p.cfg->private_key = p.priv_slot;
	else if (p.priv_slot)
		sodium_memzero(p.priv_slot, WGX_KEY_LEN);
	free(p.peer_st);
	if (ret) {
		wgx_config_free(p.cfg);
		return ret;
	}
	*out = p.cfg;
	return 0;
}

/* Grows by copying so no stale copy of key text is left to the heap. */
static int read_all(int fd, char **out, size_t *out_len)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap), *bigger;
	ssize_t n;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		if (len == cap) {
			if (cap >= WGX_CONFIG_MAX_FILE) {
				sodium_memzero(buf, len);
				free(buf);
				return -EFBIG;
			}
			bigger = malloc(2 * cap);
			if (!bigger) {
				sodium_memzero(buf, len);
				free(buf);
				return -ENOMEM;
			}
			memcpy(bigger, buf, len);
			sodium_memzero(buf, len);
			free(buf);
			buf = bigger;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	if (n < 0) {
		n = -errno;
		sodium_memzero(buf, len);
		free(buf);
		return (int)n;
	}
	*out = buf;
	*out_len = len;
	return 0;
}

/* wg-quick warns when the file and its folder are both world accessible. */
static void warn_world_access(struct parser *p, const char *path,
			      const struct stat *st)
{
	const char *slash = strrchr(path, '/');
	char *dir =
		slash ? strndup(path, (size_t)(slash - path + 1)) : strdup(".");
	struct stat dst;

	if (!dir)
		return;
	if (S_ISREG(st->st_mode) && !stat(dir, &dst) &&
	    (st->st_mode & dst.st_mode & S_IRWXO))
		report(p, 0, true,
		       "the file is world accessible (chmod 600 it: it can "
		       "hold keys)");
	free(dir);
}

static const char *read_hint(int err)
{
	switch (err) {
	case -ENOENT:
		return "check the path";
	case -EACCES:
	case -EPERM:
		return "check its permissions, or run as root";
	case -EISDIR:
		return "give a file, not a directory";
	case -EFBIG:
		return "a config is at most 64 MiB";
	default:
		return "check the file";
	}
}

int wgx_config_parse_file(const char *path, const struct wgx_config_opts *opts,
			  struct wgx_config **out,
			  struct wgx_config_errors *errs)
{
	struct wgx_config dummy = { .source = (char *)path };
	struct parser p = { .cfg = &dummy, .errs = errs };
	char *buf = NULL;
	size_t len = 0;
	struct stat st;
	int fd, ret;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
	} else if (fstat(fd, &st)) {
		ret = -errno;
	} else if (S_ISDIR(st.st_mode)) {
		ret = -EISDIR;
	} else {
		warn_world_access(&p, path, &st);
		ret = read_all(fd, &buf, &len);
	}
	if (fd >= 0)
		close(fd);
	if (ret) {
		report(&p, 0, false, "cannot read: %s (%s)", strerror(-ret),
		       read_hint(ret));
		return ret;
	}
	ret = wgx_config_parse_buf(path, buf, len, opts, out, errs);
	sodium_memzero(buf, len);
	free(buf);
	return ret;
}

void wgx_config_drop_peers(struct wgx_config *cfg)
{
	for (size_t i = 0; i < cfg->n_peers; i++)
		peer_release(&cfg->peers[i]);
	free(cfg->peers);
	cfg->peers = NULL;
	cfg->n_peers = 0;
}

void wgx_config_free(struct wgx_config *cfg)
{
	struct wgx_config_secrets *s, *next;

	if (!cfg)
		return;
	for (size_t i = 0; i < cfg->n_peers; i++)
		peer_release(&cfg->peers[i]);
	free(cfg->peers);
	free(cfg->addresses);
	strv_free(&cfg->dns_servers);
	strv_free(&cfg->dns_search);
	for (int h = 0; h < WGX_CONFIG_HOOKS; h++)
		strv_free(&cfg->hooks[h]);
	free(cfg->table_name);
	free(cfg->source);
	for (s = cfg->secrets; s; s = next) {
		next = s->next;
		sodium_memzero(s, sizeof(*s));
		sodium_free(s);
	}
	free(cfg);
}

void wgx_config_errors_free(struct wgx_config_errors *errs)
{
	if (!errs)
		return;
	for (size_t i = 0; i < errs->n; i++)
		free(errs->msgs[i].text);
	free(errs->msgs);
	memset(errs, 0, sizeof(*errs));
}

size_t wgx_config_unresolved(const struct wgx_config *cfg)
{
	size_t n = 0;

	for (size_t i = 0; i < cfg->n_peers; i++)
		n += cfg->peers[i].endpoint.text &&
		     !cfg->peers[i].endpoint.resolved;
	return n;
}

/* One endpoint the parse checked but left unresolved. */
static void resolve_one(struct parser *p, struct wgx_config_endpoint *ep)
{
	char q[QUOTE_SIZE], qh[QUOTE_SIZE];
	char *copy = strdup(ep->text), *host = NULL, *port = NULL;
	uint64_t n = 0;
	int rc;

	if (!copy) {
		p->oom = true;
		return;
	}
	p->line = ep->line;
	if (split_endpoint(copy, &host, &port) ||
	    !parse_uint(port, 10, UINT16_MAX, &n))
		rc = EAI_NONAME; /* the parse let it through: not reached */
	else
		rc = endpoint_address(p, host, (uint16_t)n, ep);
	if (rc) {
		ep->resolved = false;
		line_error(p,
			   "Endpoint %s: cannot resolve %s: %s (check the "
			   "name, or write an IP address)",
			   quote(q, ep->text),
			   quote(qh, host ? host : ep->text), gai_strerror(rc));
	}
	free(copy);
}

int wgx_config_resolve(struct wgx_config *cfg,
		       const struct wgx_config_opts *opts,
		       struct wgx_config_errors *errs)
{
	struct parser p = { .cfg = cfg, .errs = errs };

	if (opts)
		p.opts = *opts;
	p.opts.flags &= ~(unsigned int)WGX_CONFIG_NO_RESOLVE;
	if (!p.opts.resolve)
		p.opts.resolve = resolve_getaddrinfo;
	for (size_t i = 0; i < cfg->n_peers && !p.oom; i++) {
		struct wgx_config_endpoint *ep = &cfg->peers[i].endpoint;

		if (ep->text && !ep->resolved)
			resolve_one(&p, ep);
	}
	return p.oom ? -ENOMEM : p.n_errors ? -EINVAL : 0;
}

size_t wgx_config_count_allowed_ips(const struct wgx_config *cfg)
{
	size_t n = 0;

	for (size_t i = 0; i < cfg->n_peers; i++)
		n += cfg->peers[i].n_allowed_ips;
	return n;
}

int wgx_config_summary(const struct wgx_config *cfg, char *buf, size_t size)
{
	char key[WGX_KEY_BASE64_LEN + 1] = "", port[8] = "random";
	size_t ips;

	if (!cfg || (!buf && size))
		return -EINVAL;
	ips = wgx_config_count_allowed_ips(cfg);
	if (cfg->private_key)
		wgx_key_to_base64(key, cfg->public_key);
	if (cfg->listen_port)
		snprintf(port, sizeof(port), "%u", cfg->listen_port);
	return snprintf(buf, size,
			"%s%s, listen port %s, %zu peer%s, %zu allowed IP%s",
			cfg->private_key ? "public key " : "no private key",
			key, port, cfg->n_peers, cfg->n_peers == 1 ? "" : "s",
			ips, ips == 1 ? "" : "s");
}

int wgx_config_prefix_format(const struct wgx_config_prefix *p, char *buf,
			     size_t size)
{
	char ip[INET6_ADDRSTRLEN];

	if (!inet_ntop(p->family, &p->addr, ip, sizeof(ip)))
		return -EINVAL;
	return snprintf(buf, size, "%s/%u", ip, p->cidr);
}
