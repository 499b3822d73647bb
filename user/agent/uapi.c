// SPDX-License-Identifier: MIT
/*
 * The UAPI line protocol. The parser takes bytes in any pieces, keeps one
 * line at a time (wiped once read: a line may hold a key) and turns each
 * into a step; an error switches it to dropping lines up to the request's
 * blank line. The "get" answer is sized first and written once into
 * memory that is wiped before it goes back.
 */
#include "agent/uapi.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "core/crypto.h"
#include "core/key.h"

enum parser_state {
	S_OP,	   /* the operation line */
	S_GET,	   /* after get=1: only the blank line may follow */
	S_SET,	   /* set=1's key=value lines */
	S_DISCARD, /* an error: drop lines up to the blank one */
	S_DONE,
};

void wgx_uapi_parser_init(struct wgx_uapi_parser *p)
{
	memset(p, 0, sizeof(*p));
	p->state = S_OP;
}

void wgx_uapi_parser_reset(struct wgx_uapi_parser *p)
{
	wgx_steps_free(&p->steps);
	wgx_crypto_wipe(p->line, sizeof(p->line));
	wgx_uapi_parser_init(p);
}

void wgx_uapi_parser_free(struct wgx_uapi_parser *p)
{
	wgx_uapi_parser_reset(p);
}

__attribute__((format(printf, 3, 4))) static void fail(
	struct wgx_uapi_parser *p, int err, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (p->err)
		return;
	p->err = err;
	n = snprintf(p->why, sizeof(p->why), "line %u: ", p->line_no);
	va_start(ap, fmt);
	vsnprintf(p->why + n, sizeof(p->why) - (size_t)n, fmt, ap);
	va_end(ap);
}

/* Decimal digits only (as Go's ParseUint base 10), at most max. */
static bool parse_num(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > max)
			return false;
	}
	*out = v;
	return true;
}

/*
 * A key into the batch's secret memory; zero_is_none turns an all-zero
 * key into NULL (none). False on bad hex; -ENOMEM is reported via fail.
 */
static bool parse_secret(struct wgx_uapi_parser *p, const char *v, bool clamp,
			 const uint8_t **out)
{
	uint8_t *k = wgx_steps_key(&p->steps);

	if (!k) {
		fail(p, -ENOMEM, "out of memory");
		return true;
	}
	if (!wgx_key_from_hex(k, v))
		return false;
	if (wgx_crypto_is_zero(k, WGX_KEY_LEN)) {
		*out = NULL;
		return true;
	}
	if (clamp)
		wgx_crypto_dh_clamp(k);
	*out = k;
	return true;
}

static struct wgx_step *push(struct wgx_uapi_parser *p, enum wgx_step_kind k)
{
	struct wgx_step *s = wgx_steps_push(&p->steps, k);

	if (!s)
		fail(p, -ENOMEM, "out of memory");
	return s;
}

static bool is_true(struct wgx_uapi_parser *p, const char *key, const char *v)
{
	if (!strcmp(v, "true"))
		return true;
	fail(p, -EINVAL, "%s takes only \"true\"", key);
	return false;
}

/* "IP:port", "[IPv6]:port" or "[IPv6%zone]:port", numeric only. */
static bool parse_endpoint(const char *v, union wgx_sockaddr *out)
{
	char host[INET6_ADDRSTRLEN + IFNAMSIZ + 2];
	const char *port, *end;
	bool bracket = v[0] == '[';
	char *zone;
	uint64_t n;
	size_t len;

	memset(out, 0, sizeof(*out));
	if (bracket) {
		end = strchr(v, ']');
		if (!end || end[1] != ':')
			return false;
		len = (size_t)(end - v - 1);
		port = end + 2;
		v++;
	} else {
		end = strrchr(v, ':');
		if (!end)
			return false;
		len = (size_t)(end - v);
		port = end + 1;
	}
	if (!len || len >= sizeof(host) || !parse_num(port, 65535, &n))
		return false;
	memcpy(host, v, len);
	host[len] = '\0';
	if (!bracket) {
		if (inet_pton(AF_INET, host, &out->in4.sin_addr) != 1)
			return false;
		out->in4.sin_family = AF_INET;
		out->in4.sin_port = htons((uint16_t)n);
		return true;
	}
	zone = strchr(host, '%');
	if (zone) {
		uint64_t idx;

		*zone++ = '\0';
		if (parse_num(zone, UINT32_MAX, &idx))
			out->in6.sin6_scope_id = (uint32_t)idx;
		else if (!(out->in6.sin6_scope_id = if_nametoindex(zone)))
			return false;
	}
	if (inet_pton(AF_INET6, host, &out->in6.sin6_addr) != 1)
		return false;
	out->in6.sin6_family = AF_INET6;
	out->in6.sin6_port = htons((uint16_t)n);
	/* A v4-mapped address is an IPv4 peer: send it over IPv4. */
	if (IN6_IS_ADDR_V4MAPPED(&out->in6.sin6_addr) && !zone) {
		struct sockaddr_in in4 = { .sin_family = AF_INET,
					   .sin_port = out->in6.sin6_port };

		memcpy(&in4.sin_addr, &out->in6.sin6_addr.s6_addr[12], 4);
		memset(out, 0, sizeof(*out));
		out->in4 = in4;
	}
	return true;
}

/* "IP/CIDR" (the length is required, as netip.ParsePrefix wants it). */
static bool parse_prefix(const char *v, struct wgx_config_prefix *out)
{
	const char *slash = strchr(v, '/');
	char ip[INET6_ADDRSTRLEN];
	size_t len = slash ? (size_t)(slash - v) : 0;
	uint64_t cidr;

	memset(out, 0, sizeof(*out));
	if (!len || len >= sizeof(ip) || strlen(slash + 1) > 3)
		return false;
	memcpy(ip, v, len);
	ip[len] = '\0';
	out->family = memchr(ip, ':', len) ? AF_INET6 : AF_INET;
	if (inet_pton(out->family, ip, out->addr.bytes) != 1 ||
	    !parse_num(slash + 1, out->family == AF_INET ? 32 : 128, &cidr))
		return false;
	out->cidr = (uint8_t)cidr;
	for (unsigned int i = 0; i < 16; i++) {
		unsigned int bits =
			cidr > 8 * i ? (unsigned int)cidr - 8 * i : 0;

		out->addr.bytes[i] &= bits >= 8 ? 0xff : (0xff00 >> bits);
	}
	return true;
}

/*
 * Text an error may quote: none with 16 hex digits in a row, which could
 * be a piece of a key pasted in the wrong place (a message goes to the
 * log and to the client).
 */
static const char *shown(const char *text)
{
	size_t run = 0;

	for (const char *c = text; *c; c++) {
		run = isxdigit((unsigned char)*c) ? run + 1 : 0;
		if (run >= 16)
			return "(not shown: it looks like part of a key)";
	}
	return text;
}

static void device_line(struct wgx_uapi_parser *p, const char *key,
			const char *v)
{
	struct wgx_step *s;
	const uint8_t *k = NULL;
	uint64_t n;

	if (!strcmp(key, "private_key")) {
		if (!parse_secret(p, v, true, &k))
			fail(p, -EINVAL, "private_key is not 64 hex digits");
		else if ((s = push(p, WGX_STEP_PRIVATE_KEY)))
			s->key = k;
	} else if (!strcmp(key, "listen_port")) {
		if (!parse_num(v, 65535, &n))
			fail(p, -EINVAL, "listen_port must be 0-65535");
		else if ((s = push(p, WGX_STEP_LISTEN_PORT)))
			s->u.port = (uint16_t)n;
	} else if (!strcmp(key, "fwmark")) {
		if (!parse_num(v, UINT32_MAX, &n))
			fail(p, -EINVAL, "fwmark must be 0-4294967295");
		else if ((s = push(p, WGX_STEP_FWMARK)))
			s->u.fwmark = (uint32_t)n;
	} else if (!strcmp(key, "replace_peers")) {
		if (is_true(p, key, v))
			push(p, WGX_STEP_REPLACE_PEERS);
	} else {
		fail(p, -EINVAL, "invalid UAPI device key '%.32s'", shown(key));
	}
}

static void peer_line(struct wgx_uapi_parser *p, const char *key, const char *v)
{
	struct wgx_config_prefix prefix;
	union wgx_sockaddr ep;
	struct wgx_step *s;
	const uint8_t *k = NULL;
	uint64_t n;

	if (!strcmp(key, "update_only") || !strcmp(key, "remove") ||
	    !strcmp(key, "replace_allowed_ips")) {
		if (is_true(p, key, v))
			push(p, key[0] == 'u'	? WGX_STEP_UPDATE_ONLY
				: key[2] == 'm' ? WGX_STEP_REMOVE
						: WGX_STEP_REPLACE_ALLOWED_IPS);
	} else if (!strcmp(key, "preshared_key")) {
		if (!parse_secret(p, v, false, &k))
			fail(p, -EINVAL, "preshared_key is not 64 hex digits");
		else if ((s = push(p, WGX_STEP_PSK)))
			s->key = k;
	} else if (!strcmp(key, "endpoint")) {
		if (!parse_endpoint(v, &ep))
			fail(p, -EINVAL,
			     "endpoint '%.64s' is not IP:port or [IPv6]:port",
			     shown(v));
		else if ((s = push(p, WGX_STEP_ENDPOINT)))
			s->u.endpoint = ep;
	} else if (!strcmp(key, "persistent_keepalive_interval")) {
		if (!parse_num(v, 65535, &n))
			fail(p, -EINVAL,
			     "persistent_keepalive_interval must be 0-65535");
		else if ((s = push(p, WGX_STEP_KEEPALIVE)))
			s->u.seconds = (uint16_t)n;
	} else if (!strcmp(key, "allowed_ip")) {
		bool del = v[0] == '-';

		if (!parse_prefix(v + del, &prefix))
			fail(p, -EINVAL, "allowed_ip '%.64s' is not IP/CIDR",
			     shown(v));
		else if ((s = push(p, del ? WGX_STEP_ALLOWED_IP_REMOVE
					  : WGX_STEP_ALLOWED_IP_ADD)))
			s->u.prefix = prefix;
	} else if (!strcmp(key, "protocol_version")) {
		if (strcmp(v, "1"))
			fail(p, -EINVAL, "protocol_version must be 1");
	} else {
		fail(p, -EINVAL, "invalid UAPI peer key '%.32s'", shown(key));
	}
}

static void set_line(struct wgx_uapi_parser *p, char *line)
{
	char *eq = strchr(line, '=');
	struct wgx_step *s;
	uint8_t key[WGX_KEY_LEN];

	if (!eq) {
		fail(p, -EPROTO, "a line without '='");
		return;
	}
	*eq = '\0';
	if (!strcmp(line, "public_key")) {
		p->in_peer = true;
		if (!wgx_key_from_hex(key, eq + 1))
			fail(p, -EINVAL, "public_key is not 64 hex digits");
		else if ((s = push(p, WGX_STEP_PEER)))
			memcpy(s->u.public_key, key, WGX_KEY_LEN);
	} else if (p->in_peer) {
		peer_line(p, line, eq + 1);
	} else {
		device_line(p, line, eq + 1);
	}
}

/* The request is complete: answer it (and close after an error). */
static void finish(struct wgx_uapi_parser *p)
{
	p->state = S_DONE;
	p->done = true;
	if (p->err)
		p->close = true;
}

/* A line ended (newline stripped); bad: not printable, too long. */
static void end_line(struct wgx_uapi_parser *p, bool bad, bool too_long)
{
	char *line = p->line;

	p->line_no++;
	switch (p->state) {
	case S_OP:
		if (!too_long && !bad && !strcmp(line, "get=1")) {
			p->op = WGX_UAPI_OP_GET;
			p->state = S_GET;
		} else if (!too_long && !bad && !strcmp(line, "set=1")) {
			p->op = WGX_UAPI_OP_SET;
			p->state = S_SET;
		} else {
			/* Not a request we can frame: answer, then close. */
			fail(p, -EPROTO, "unknown operation");
			finish(p);
		}
		return;
	case S_GET:
		if (!p->line_len) {
			finish(p);
			return;
		}
		fail(p, -EINVAL, "trailing line after get=1");
		p->state = S_DISCARD;
		return;
	case S_SET:
		if (!p->line_len) {
			finish(p);
			return;
		}
		if (too_long)
			fail(p, -EMSGSIZE, "longer than %d bytes",
			     WGX_UAPI_LINE_MAX);
		else if (bad)
			fail(p, -EPROTO, "a byte that is not printable ASCII");
		else
			set_line(p, line);
		if (p->err)
			p->state = S_DISCARD;
		return;
	case S_DISCARD:
		if (!p->line_len)
			finish(p);
		return;
	default:
		return;
	}
}

size_t wgx_uapi_parser_feed(struct wgx_uapi_parser *p, const char *buf,
			    size_t len)
{
	size_t i;

	for (i = 0; i < len && !p->done; i++) {
		unsigned char c = (unsigned char)buf[i];

		if (++p->bytes > WGX_UAPI_REQUEST_MAX) {
			fail(p, -EMSGSIZE, "request larger than %d MiB",
			     WGX_UAPI_REQUEST_MAX >> 20);
			finish(p);
			break;
		}
		if (c == '\n') {
			bool too_long = p->line_len > WGX_UAPI_LINE_MAX;
			bool bad = p->line_len <= WGX_UAPI_LINE_MAX &&
				   strlen(p->line) != p->line_len;

			end_line(p, bad, too_long);
			wgx_crypto_wipe(p->line, sizeof(p->line));
			p->line_len = 0;
			continue;
		}
		/* Unprintable bytes turn into NUL: the line is then bad. */
		if (p->line_len < WGX_UAPI_LINE_MAX)
			p->line[p->line_len] =
				c >= 0x20 && c <= 0x7e ? (char)c : '\0';
		p->line_len++;
		if (p->state == S_OP && p->line_len > WGX_UAPI_LINE_MAX) {
			fail(p, -EMSGSIZE, "operation line too long");
			finish(p);
		}
	}
	if (p->done) {
		wgx_crypto_wipe(p->line, sizeof(p->line));
		p->line_len = 0;
	}
	return i;
}

bool wgx_uapi_parser_eof(struct wgx_uapi_parser *p)
{
	if (p->done)
		return true;
	if (p->state == S_OP && !p->line_len && !p->bytes)
		return false;
	fail(p, -EPROTO, "the request ended before its blank line");
	finish(p);
	p->close = true;
	return true;
}

int wgx_uapi_parse(struct wgx_uapi_parser *p, const char *buf, size_t len,
		   size_t *used)
{
	size_t n = wgx_uapi_parser_feed(p, buf, len);

	if (used)
		*used = n;
	if (!p->done && !wgx_uapi_parser_eof(p))
		return -EPROTO; /* nothing at all */
	return p->err;
}

/* ---- answers ------------------------------------------------------------ */

int wgx_uapi_buf_reserve(struct wgx_uapi_buf *b, size_t room)
{
	size_t want, page = 4096;
	void *p;

	if (b->err)
		return b->err;
	if (room <= b->cap - b->len)
		return 0;
	want = (b->len + room + page - 1) & ~(page - 1);
	if (b->cap && want < 2 * b->cap)
		want = 2 * b->cap;
	if (!b->data)
		p = mmap(NULL, want, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	else /* moved, not copied: no stale copy of a key stays behind */
		p = mremap(b->data, b->cap, want, MREMAP_MAYMOVE);
	if (p == MAP_FAILED)
		return b->err = -ENOMEM;
	madvise(p, want, MADV_DONTDUMP);
	b->data = p;
	b->cap = want;
	return 0;
}

int wgx_uapi_buf_write(struct wgx_uapi_buf *b, const void *data, size_t len)
{
	int err = wgx_uapi_buf_reserve(b, len);

	if (err)
		return err;
	memcpy(b->data + b->len, data, len);
	b->len += len;
	return 0;
}

void wgx_uapi_buf_free(struct wgx_uapi_buf *b)
{
	if (b->data) {
		wgx_crypto_wipe(b->data, b->len);
		munmap(b->data, b->cap);
	}
	memset(b, 0, sizeof(*b));
}

__attribute__((format(printf, 2, 3))) static void put(struct wgx_uapi_buf *b,
						      const char *fmt, ...)
{
	size_t room = b->cap - b->len;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(b->data + b->len, room, fmt, ap);
	va_end(ap);
	/* Sized beforehand; a miss is a bug, never a short answer. */
	if (n < 0 || (size_t)n >= room)
		b->err = -EMSGSIZE;
	else
		b->len += (size_t)n;
}

static void put_key(struct wgx_uapi_buf *b, const char *name,
		    const uint8_t key[WGX_KEY_LEN])
{
	char hex[WGX_KEY_HEX_LEN + 1];

	wgx_key_to_hex(hex, key);
	put(b, "%s=%s\n", name, hex);
	wgx_crypto_wipe(hex, sizeof(hex));
}

static void put_endpoint(struct wgx_uapi_buf *b, const union wgx_sockaddr *a)
{
	char ip[INET6_ADDRSTRLEN], zone[IFNAMSIZ + 1] = "";

	if (a->sa.sa_family == AF_INET) {
		inet_ntop(AF_INET, &a->in4.sin_addr, ip, sizeof(ip));
		put(b, "endpoint=%s:%u\n", ip, ntohs(a->in4.sin_port));
		return;
	}
	if (a->sa.sa_family != AF_INET6)
		return;
	inet_ntop(AF_INET6, &a->in6.sin6_addr, ip, sizeof(ip));
	if (a->in6.sin6_scope_id &&
	    !if_indextoname(a->in6.sin6_scope_id, zone + 1))
		snprintf(zone + 1, sizeof(zone) - 1, "%u",
			 a->in6.sin6_scope_id);
	if (a->in6.sin6_scope_id)
		zone[0] = '%';
	put(b, "endpoint=[%s%s]:%u\n", ip, zone, ntohs(a->in6.sin6_port));
}

static int put_allowed_ip(void *ctx, int family, const void *addr, uint8_t cidr)
{
	struct wgx_uapi_buf *b = ctx;
	char ip[INET6_ADDRSTRLEN];

	inet_ntop(family, addr, ip, sizeof(ip));
	put(b, "allowed_ip=%s/%u\n", ip, cidr);
	return b->err;
}

static void put_peer(struct wgx_uapi_buf *b, struct wgx_peer *p)
{
	union wgx_sockaddr ep;
	bool has;

	put_key(b, "public_key", p->public_key);
	put_key(b, "preshared_key", p->handshake->preshared_key);
	put(b, "protocol_version=1\n");
	wgx_peer_get_endpoint(p, &ep, &has);
	if (has)
		put_endpoint(b, &ep);
	put(b,
	    "last_handshake_time_sec=%llu\nlast_handshake_time_nsec=%u\n"
	    "tx_bytes=%llu\nrx_bytes=%llu\n"
	    "persistent_keepalive_interval=%u\n",
	    (unsigned long long)p->last_handshake_sec, p->last_handshake_nsec,
	    (unsigned long long)atomic_load(&p->tx_bytes),
	    (unsigned long long)atomic_load(&p->rx_bytes),
	    p->persistent_keepalive);
	wgx_allowedips_walk(&p->dev->allowedips, p, put_allowed_ip, b);
}

enum {
	/* A peer's lines, allowed IPs aside, take at most 431 bytes. */
	PEER_MAX = 512,
	/* "allowed_ip=" (11), an address (45), "/128\n" (5). */
	ALLOWED_IP_MAX = 64,
	/* private_key (77), listen_port (18), fwmark (18), errno (9). */
	DEVICE_MAX = 128,
};

int wgx_uapi_get(const struct wgx_uapi_view *v, struct wgx_uapi_buf *out)
{
	struct wgx_device *dev = v->dev;
	struct wgx_peer *p;
	size_t size = DEVICE_MAX + dev->peers.count * PEER_MAX +
		      wgx_allowedips_count(&dev->allowedips) * ALLOWED_IP_MAX;
	int err = wgx_uapi_buf_reserve(out, size);

	if (err)
		return err;
	if (dev->identity->has_identity)
		put_key(out, "private_key", dev->identity->private_key);
	if (v->listen_port)
		put(out, "listen_port=%u\n", v->listen_port);
	if (v->fwmark)
		put(out, "fwmark=%u\n", v->fwmark);
	wgx_peers_for_each(&dev->peers, p)
	{
		put_peer(out, p);
		if (out->err)
			break;
	}
	put(out, "errno=0\n\n");
	return out->err;
}

int wgx_uapi_status(struct wgx_uapi_buf *out, int err)
{
	char line[32];
	int n = snprintf(line, sizeof(line), "errno=%d\n\n", err);

	return wgx_uapi_buf_write(out, line, (size_t)n);
}

int wgx_uapi_sock_path(const char *tun, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s.sock", WGX_UAPI_DIR, tun);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}
