// SPDX-License-Identifier: MIT
/*
 * The UAPI: the parser alone (every key, every malformed input, bytes in
 * any pieces), the "get" answer of a real device, and a set applied as
 * one transaction with the meaning wireguard-go gives each line.
 */
#include "test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "agent/peer_config.h"
#include "agent/uapi.h"
#include "core/crypto.h"
#include "core/key.h"

/* ---- helpers ------------------------------------------------------------ */

struct keys {
	uint8_t priv[32], pub[32];
	uint8_t peer[4][32];
	char priv_hex[65], pub_hex[65], peer_hex[4][65];
};

static void make_keys(struct keys *k)
{
	uint8_t scratch[32];

	wgx_crypto_dh_generate(k->priv, k->pub);
	wgx_key_to_hex(k->priv_hex, k->priv);
	wgx_key_to_hex(k->pub_hex, k->pub);
	for (int i = 0; i < 4; i++) {
		wgx_crypto_dh_generate(scratch, k->peer[i]);
		wgx_key_to_hex(k->peer_hex[i], k->peer[i]);
	}
	wgx_crypto_wipe(scratch, sizeof(scratch));
}

/* Parse text (NUL-terminated) as one request; the parser stays filled. */
static int parse(struct wgx_uapi_parser *p, const char *text)
{
	wgx_uapi_parser_init(p);
	return wgx_uapi_parse(p, text, strlen(text), NULL);
}

static int parse_err(const char *text)
{
	struct wgx_uapi_parser p;
	int err = parse(&p, text);

	wgx_uapi_parser_free(&p);
	return err;
}

static const char *hex_a =
	"1111111111111111111111111111111111111111111111111111111111111111";

static struct wgx_peer *owner_of(struct wgx_device *dev, const char *ip)
{
	uint8_t a[16];

	if (inet_pton(AF_INET, ip, a) == 1)
		return wgx_allowedips_lookup(&dev->allowedips, AF_INET, a);
	inet_pton(AF_INET6, ip, a);
	return wgx_allowedips_lookup(&dev->allowedips, AF_INET6, a);
}

/* Parse a set and apply it to dev as the agent does (prepare, commit). */
static int apply(struct wgx_device *dev, const char *text,
		 struct wgx_peer_config_stats *st)
{
	struct wgx_uapi_parser p;
	struct wgx_peer_txn *t;
	int err = parse(&p, text);

	if (!err)
		err = wgx_peer_config_prepare(dev, &p.steps, &t);
	if (!err)
		wgx_peer_config_commit(dev, t, st);
	wgx_uapi_parser_free(&p);
	return err;
}

/* printf into a static buffer. */
__attribute__((format(printf, 1, 2))) static const char *fmt(const char *f, ...)
{
	static char buf[8192];
	va_list ap;

	va_start(ap, f);
	vsnprintf(buf, sizeof(buf), f, ap);
	va_end(ap);
	return buf;
}

/* ---- the parser --------------------------------------------------------- */

static void test_get_request(void)
{
	struct wgx_uapi_parser p;

	CHECK(parse(&p, "get=1\n\n") == 0);
	CHECK(p.op == WGX_UAPI_OP_GET && p.done && !p.close);
	CHECK(p.steps.n == 0);
	wgx_uapi_parser_free(&p);
}

static void test_set_every_key(void)
{
	struct wgx_uapi_parser p;
	struct keys k;
	const struct wgx_step *s;
	uint8_t clamped[32];

	make_keys(&k);
	CHECK(parse(&p, fmt("set=1\nprivate_key=%s\nlisten_port=51820\n"
			    "fwmark=4294967295\nreplace_peers=true\n"
			    "public_key=%s\nupdate_only=true\n"
			    "preshared_key=%s\nendpoint=[fd00::1]:51821\n"
			    "persistent_keepalive_interval=25\n"
			    "replace_allowed_ips=true\n"
			    "allowed_ip=10.0.0.1/24\n"
			    "allowed_ip=-fd00::1/64\nprotocol_version=1\n"
			    "public_key=%s\nremove=true\n"
			    "endpoint=192.0.2.1:0\n\n",
			    k.priv_hex, k.peer_hex[0], hex_a, k.peer_hex[1])) ==
	      0);
	CHECK(p.op == WGX_UAPI_OP_SET && p.steps.n == 15);
	if (p.steps.n != 15)
		goto out;
	s = p.steps.v;
	memcpy(clamped, k.priv, 32);
	wgx_crypto_dh_clamp(clamped);
	CHECK(s[0].kind == WGX_STEP_PRIVATE_KEY && s[0].key &&
	      !memcmp(s[0].key, clamped, 32));
	CHECK(s[1].kind == WGX_STEP_LISTEN_PORT && s[1].u.port == 51820);
	CHECK(s[2].kind == WGX_STEP_FWMARK && s[2].u.fwmark == UINT32_MAX);
	CHECK(s[3].kind == WGX_STEP_REPLACE_PEERS);
	CHECK(s[4].kind == WGX_STEP_PEER &&
	      !memcmp(s[4].u.public_key, k.peer[0], 32));
	CHECK(s[5].kind == WGX_STEP_UPDATE_ONLY);
	CHECK(s[6].kind == WGX_STEP_PSK && s[6].key && s[6].key[0] == 0x11);
	CHECK(s[7].kind == WGX_STEP_ENDPOINT &&
	      s[7].u.endpoint.sa.sa_family == AF_INET6 &&
	      ntohs(s[7].u.endpoint.in6.sin6_port) == 51821);
	CHECK(s[8].kind == WGX_STEP_KEEPALIVE && s[8].u.seconds == 25);
	CHECK(s[9].kind == WGX_STEP_REPLACE_ALLOWED_IPS);
	/* Host bits are cleared, as the kernel and wireguard-go do. */
	CHECK(s[10].kind == WGX_STEP_ALLOWED_IP_ADD &&
	      s[10].u.prefix.family == AF_INET && s[10].u.prefix.cidr == 24 &&
	      s[10].u.prefix.addr.bytes[3] == 0);
	CHECK(s[11].kind == WGX_STEP_ALLOWED_IP_REMOVE &&
	      s[11].u.prefix.family == AF_INET6 && s[11].u.prefix.cidr == 64);
	CHECK(s[12].kind == WGX_STEP_PEER);
	CHECK(s[13].kind == WGX_STEP_REMOVE);
	CHECK(s[14].kind == WGX_STEP_ENDPOINT &&
	      s[14].u.endpoint.sa.sa_family == AF_INET);
out:
	wgx_uapi_parser_free(&p);
}

/* All-zero keys mean "none"; upper-case hex is taken. */
static void test_zero_keys(void)
{
	struct wgx_uapi_parser p;
	char zero[65], upper[65];

	memset(zero, '0', 64);
	zero[64] = '\0';
	for (int i = 0; i < 64; i++)
		upper[i] = "0123456789ABCDEF"[i % 16];
	upper[64] = '\0';
	CHECK(parse(&p, fmt("set=1\nprivate_key=%s\npublic_key=%s\n"
			    "preshared_key=%s\n\n",
			    zero, upper, zero)) == 0);
	CHECK(p.steps.n == 3 && !p.steps.v[0].key && !p.steps.v[2].key);
	wgx_uapi_parser_free(&p);
}

struct bad_case {
	const char *what;
	const char *text;
	int err;
};

/* Each malformed request, and the errno wireguard-go (or we) answer. */
static void test_malformed(void)
{
	static const struct bad_case cases[] = {
		{ "unknown device key", "set=1\nfoo=1\n\n", -EINVAL },
		{ "unknown peer key", "set=1\npublic_key=%s\nfoo=bar\n\n",
		  -EINVAL },
		{ "get's keys are not set's",
		  "set=1\npublic_key=%s\nrx_bytes=1\n\n", -EINVAL },
		{ "device key after a peer",
		  "set=1\npublic_key=%s\nlisten_port=1\n\n", -EINVAL },
		{ "peer key before any peer",
		  "set=1\nallowed_ip=10.0.0.0/8\n\n", -EINVAL },
		{ "line without =", "set=1\nlisten_port\n\n", -EPROTO },
		{ "short hex", "set=1\npublic_key=abc\n\n", -EINVAL },
		{ "63 hex digits",
		  "set=1\npublic_key="
		  "111111111111111111111111111111111111111111111111111111111111"
		  "111\n\n",
		  -EINVAL },
		{ "non-hex digit",
		  "set=1\nprivate_key="
		  "g11111111111111111111111111111111111111111111111111111111111"
		  "1"
		  "111\n\n",
		  -EINVAL },
		{ "bad psk", "set=1\npublic_key=%s\npreshared_key=zz\n\n",
		  -EINVAL },
		{ "port too big", "set=1\nlisten_port=65536\n\n", -EINVAL },
		{ "port empty", "set=1\nlisten_port=\n\n", -EINVAL },
		{ "port signed", "set=1\nlisten_port=+5\n\n", -EINVAL },
		{ "fwmark negative", "set=1\nfwmark=-1\n\n", -EINVAL },
		{ "fwmark hex", "set=1\nfwmark=0x10\n\n", -EINVAL },
		{ "replace_peers=false", "set=1\nreplace_peers=false\n\n",
		  -EINVAL },
		{ "remove=1", "set=1\npublic_key=%s\nremove=1\n\n", -EINVAL },
		{ "update_only=yes",
		  "set=1\npublic_key=%s\nupdate_only=yes\n\n", -EINVAL },
		{ "keepalive word",
		  "set=1\npublic_key=%s\npersistent_keepalive_interval=x\n\n",
		  -EINVAL },
		{ "keepalive too big",
		  "set=1\npublic_key=%s\npersistent_keepalive_interval="
		  "65536\n\n",
		  -EINVAL },
		{ "protocol_version=2",
		  "set=1\npublic_key=%s\nprotocol_version=2\n\n", -EINVAL },
		{ "endpoint without port",
		  "set=1\npublic_key=%s\nendpoint=192.0.2.1\n\n", -EINVAL },
		{ "endpoint host name",
		  "set=1\npublic_key=%s\nendpoint=example.com:1\n\n", -EINVAL },
		{ "endpoint v6 without brackets",
		  "set=1\npublic_key=%s\nendpoint=fd00::1:51820\n\n", -EINVAL },
		{ "endpoint v4 in brackets",
		  "set=1\npublic_key=%s\nendpoint=[192.0.2.1]:1\n\n", -EINVAL },
		{ "endpoint port too big",
		  "set=1\npublic_key=%s\nendpoint=192.0.2.1:65536\n\n",
		  -EINVAL },
		{ "allowed_ip without length",
		  "set=1\npublic_key=%s\nallowed_ip=10.0.0.1\n\n", -EINVAL },
		{ "allowed_ip /33",
		  "set=1\npublic_key=%s\nallowed_ip=10.0.0.0/33\n\n", -EINVAL },
		{ "allowed_ip /129",
		  "set=1\npublic_key=%s\nallowed_ip=fd00::/129\n\n", -EINVAL },
		{ "allowed_ip dash alone",
		  "set=1\npublic_key=%s\nallowed_ip=-\n\n", -EINVAL },
		{ "allowed_ip leading zero octet",
		  "set=1\npublic_key=%s\nallowed_ip=010.0.0.0/8\n\n", -EINVAL },
		{ "tab in a line", "set=1\nlisten_port=\t1\n\n", -EPROTO },
		{ "carriage return", "set=1\r\nlisten_port=1\n\n", -EPROTO },
		{ "unknown operation", "put=1\n\n", -EPROTO },
		{ "blank first line", "\n", -EPROTO },
		{ "get with a trailing line", "get=1\nx=1\n\n", -EINVAL },
		{ "set without its blank line", "set=1\nlisten_port=1\n",
		  -EPROTO },
		{ "cut mid-line", "set=1\nlisten_po", -EPROTO },
		{ "get without its blank line", "get=1\n", -EPROTO },
	};
	struct keys k;

	make_keys(&k);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int err = parse_err(fmt(cases[i].text, k.peer_hex[0]));

		if (err != cases[i].err) {
			fprintf(stderr, "  %s: got %d, want %d\n",
				cases[i].what, err, cases[i].err);
			CHECK(err == cases[i].err);
		}
	}
}

/* A NUL in a line is refused (wg never sends one). */
static void test_nul_byte(void)
{
	static const char text[] = "set=1\nlisten_port=1\0\n\n";
	struct wgx_uapi_parser p;

	wgx_uapi_parser_init(&p);
	CHECK(wgx_uapi_parse(&p, text, sizeof(text) - 1, NULL) == -EPROTO);
	wgx_uapi_parser_free(&p);
}

/* A 1 MB line: -EMSGSIZE, read to the end, nothing kept of it. */
static void test_long_line(void)
{
	size_t n = 1 << 20;
	char *buf = malloc(n + 64);
	struct wgx_uapi_parser p;
	size_t used = 0;
	int len;

	CHECK(buf != NULL);
	if (!buf)
		return;
	len = snprintf(buf, 64, "set=1\nlisten_port=");
	memset(buf + len, '1', n);
	memcpy(buf + len + n, "\n\nget=1\n\n", 9);
	wgx_uapi_parser_init(&p);
	CHECK(wgx_uapi_parse(&p, buf, (size_t)len + n + 9, &used) == -EMSGSIZE);
	/* The request ends at its blank line; the next is not taken. */
	CHECK(used == (size_t)len + n + 2);
	CHECK(p.close && p.steps.n == 0);
	wgx_uapi_parser_free(&p);
	/* An operation line that long is answered at once. */
	memset(buf, 'x', n);
	wgx_uapi_parser_init(&p);
	CHECK(wgx_uapi_parse(&p, buf, n, &used) == -EMSGSIZE);
	CHECK(used <= WGX_UAPI_LINE_MAX + 1 && p.close);
	wgx_uapi_parser_free(&p);
	free(buf);
}

/* Bytes one at a time give what one buffer gives; requests follow. */
static void test_pieces(void)
{
	struct wgx_uapi_parser p;
	struct keys k;
	const char *text;
	size_t len, i, used = 0;

	make_keys(&k);
	text = fmt("set=1\npublic_key=%s\nallowed_ip=10.1.0.0/16\n\n"
		   "get=1\n\n",
		   k.peer_hex[0]);
	len = strlen(text);
	wgx_uapi_parser_init(&p);
	for (i = 0; i < len && !p.done; i++)
		used += wgx_uapi_parser_feed(&p, text + i, 1);
	CHECK(p.done && !p.err && p.op == WGX_UAPI_OP_SET);
	CHECK(p.steps.n == 2 && used == len - 7);
	wgx_uapi_parser_reset(&p);
	used += wgx_uapi_parser_feed(&p, text + used, len - used);
	CHECK(p.done && !p.err && p.op == WGX_UAPI_OP_GET && used == len);
	wgx_uapi_parser_reset(&p);
	/* Between requests, an end is no request at all. */
	CHECK(!wgx_uapi_parser_eof(&p));
	wgx_uapi_parser_free(&p);
}

/* After an error the rest of the request is dropped, then it answers. */
static void test_error_drains(void)
{
	static const char text[] = "set=1\nbogus\nlisten_port=1\n\nget=1\n\n";
	struct wgx_uapi_parser p;
	size_t used;

	wgx_uapi_parser_init(&p);
	used = wgx_uapi_parser_feed(&p, text, sizeof(text) - 1);
	CHECK(p.done && p.err == -EPROTO && p.close);
	CHECK(used == sizeof(text) - 1 - 7);
	CHECK(strstr(p.why, "line 2") != NULL);
	wgx_uapi_parser_free(&p);
}

/* Error messages never quote a key. */
static void test_why_has_no_key(void)
{
	struct wgx_uapi_parser p;
	char key[80];

	memset(key, 'a', 63);
	key[63] = 'z';
	key[64] = '\0';
	CHECK(parse(&p, fmt("set=1\nprivate_key=%s\n\n", key)) == -EINVAL);
	CHECK(!strstr(p.why, "aaaa"));
	wgx_uapi_parser_free(&p);
	/* A key pasted where a key name, an endpoint or a prefix goes (the
	 * fuzzer found the key name quoted). */
	static const char *const misplaced[] = {
		"set=1\nprivate_key%s=1\n\n",
		"set=1\npublic_key=%s\nendpoint=%s\n\n",
		"set=1\npublic_key=%s\nallowed_ip=%s\n\n",
		"set=1\npublic_key=%s\nx%s=1\n\n",
	};
	static const char hex[] = "0123456789abcdef0123456789abcdef0123456789"
				  "abcdef0123456789abcdef";

	for (size_t i = 0; i < sizeof(misplaced) / sizeof(misplaced[0]); i++) {
		CHECK(parse(&p, fmt(misplaced[i], hex, hex)) == -EINVAL);
		CHECK(!strstr(p.why, "0123456789abcdef"));
		CHECK(strstr(p.why, "not shown") != NULL);
		wgx_uapi_parser_free(&p);
	}
}

/* ---- get ---------------------------------------------------------------- */

static void test_get_answer(void)
{
	struct wgx_uapi_buf b = { 0 };
	struct wgx_device *dev = NULL;
	struct keys k;
	char *text;

	make_keys(&k);
	CHECK(wgx_device_new(&dev) == 0);
	if (!dev)
		return;
	CHECK(apply(dev,
		    fmt("set=1\nprivate_key=%s\npublic_key=%s\n"
			"preshared_key=%s\nendpoint=192.0.2.7:51820\n"
			"persistent_keepalive_interval=25\n"
			"allowed_ip=10.0.0.0/24\nallowed_ip=fd00::/64\n"
			"public_key=%s\n\n",
			k.priv_hex, k.peer_hex[0], hex_a, k.peer_hex[1]),
		    NULL) == 0);
	{
		struct wgx_uapi_view v = { .dev = dev,
					   .listen_port = 51820,
					   .fwmark = 7 };

		CHECK(wgx_uapi_get(&v, &b) == 0);
	}
	text = strndup(b.data, b.len);
	CHECK(text != NULL);
	if (!text)
		goto out;
	CHECK(!strncmp(text,
		       fmt("private_key=%s\nlisten_port=51820\n"
			   "fwmark=7\npublic_key=%s\npreshared_key=%s\n"
			   "protocol_version=1\n"
			   "endpoint=192.0.2.7:51820\n"
			   "last_handshake_time_sec=0\n"
			   "last_handshake_time_nsec=0\ntx_bytes=0\n"
			   "rx_bytes=0\n"
			   "persistent_keepalive_interval=25\n"
			   "allowed_ip=10.0.0.0/24\n"
			   "allowed_ip=fd00::/64\npublic_key=%s\n",
			   k.priv_hex, k.peer_hex[0], hex_a, k.peer_hex[1]),
		       strlen(fmt("private_key=%s\n", k.priv_hex)) + 10));
	CHECK(strstr(text, fmt("allowed_ip=10.0.0.0/24\nallowed_ip=fd00::/64\n"
			       "public_key=%s\npreshared_key=%064d\n",
			       k.peer_hex[1], 0)) != NULL);
	CHECK(b.len > 9 && !memcmp(b.data + b.len - 9, "errno=0\n\n", 9));
	/* What get says, a set takes back (as `wg showconf | wg setconf`). */
	free(text);
out:
	wgx_uapi_buf_free(&b);
	CHECK(b.data == NULL);
	wgx_device_free(dev);
}

/* ---- set as one transaction --------------------------------------------- */

static void test_set_creates_and_updates(void)
{
	struct wgx_peer_config_stats st;
	struct wgx_device *dev = NULL;
	struct wgx_peer *p;
	union wgx_sockaddr ep;
	struct keys k;
	bool has;

	make_keys(&k);
	CHECK(wgx_device_new(&dev) == 0);
	if (!dev)
		return;
	CHECK(apply(dev,
		    fmt("set=1\nprivate_key=%s\npublic_key=%s\n"
			"endpoint=[fd00::9]:4\nallowed_ip=10.1.0.0/16\n\n",
			k.priv_hex, k.peer_hex[0]),
		    &st) == 0);
	p = wgx_device_find_peer(dev, k.peer[0]);
	CHECK(p && st.peers_added == 1 && st.allowed_ips_added == 1);
	CHECK(st.private_key_changed && dev->identity->has_identity);
	CHECK(p && owner_of(dev, "10.1.2.3") == p);
	if (p) {
		wgx_peer_get_endpoint(p, &ep, &has);
		CHECK(has && ep.sa.sa_family == AF_INET6 &&
		      p->configured_endpoint);
	}
	/* update_only: the known peer changes, the unknown one is not made. */
	CHECK(apply(dev,
		    fmt("set=1\npublic_key=%s\nupdate_only=true\n"
			"persistent_keepalive_interval=9\n"
			"public_key=%s\nupdate_only=true\n"
			"allowed_ip=10.2.0.0/16\n\n",
			k.peer_hex[0], k.peer_hex[1]),
		    &st) == 0);
	CHECK(dev->peers.count == 1 && p && p->persistent_keepalive == 9);
	CHECK(!wgx_device_find_peer(dev, k.peer[1]) &&
	      !owner_of(dev, "10.2.0.1"));
	/* remove: gone, and what follows in its lines is ignored. */
	CHECK(apply(dev,
		    fmt("set=1\npublic_key=%s\nremove=true\n"
			"allowed_ip=10.3.0.0/16\n\n",
			k.peer_hex[0]),
		    &st) == 0);
	CHECK(dev->peers.count == 0 && st.peers_removed == 1);
	CHECK(!owner_of(dev, "10.1.2.3") && !owner_of(dev, "10.3.0.1"));
	wgx_device_free(dev);
}

/* replace_allowed_ips keeps what stays (no gap), drops the rest. */
static void test_replace_allowed_ips(void)
{
	struct wgx_peer_config_stats st;
	struct wgx_device *dev = NULL;
	struct wgx_peer *p;
	struct keys k;

	make_keys(&k);
	CHECK(wgx_device_new(&dev) == 0);
	if (!dev)
		return;
	CHECK(apply(dev,
		    fmt("set=1\npublic_key=%s\nallowed_ip=10.1.0.0/16\n"
			"allowed_ip=10.2.0.0/16\n\n",
			k.peer_hex[0]),
		    NULL) == 0);
	p = wgx_device_find_peer(dev, k.peer[0]);
	CHECK(apply(dev,
		    fmt("set=1\npublic_key=%s\nallowed_ip=10.9.0.0/16\n"
			"replace_allowed_ips=true\nallowed_ip=10.2.0.0/16\n"
			"allowed_ip=10.3.0.0/16\n\n",
			k.peer_hex[0]),
		    &st) == 0);
	/* 10.2 stayed put: neither added nor removed. */
	CHECK(st.allowed_ips_added == 1 && st.allowed_ips_removed == 1);
	CHECK(p && owner_of(dev, "10.2.0.1") == p &&
	      owner_of(dev, "10.3.0.1") == p);
	CHECK(!owner_of(dev, "10.1.0.1") && !owner_of(dev, "10.9.0.1"));
	CHECK(wgx_allowedips_count(&dev->allowedips) == 2);
	wgx_device_free(dev);
}

/* allowed_ip=-P: only the peer's own; after a move, from everyone. */
static void test_remove_one_allowed_ip(void)
{
	struct wgx_device *dev = NULL;
	struct wgx_peer *a, *b;
	struct keys k;

	make_keys(&k);
	CHECK(wgx_device_new(&dev) == 0);
	if (!dev)
		return;
	CHECK(apply(dev,
		    fmt("set=1\npublic_key=%s\nallowed_ip=10.1.0.0/16\n"
			"allowed_ip=10.5.0.0/16\npublic_key=%s\n"
			"allowed_ip=10.2.0.0/16\n\n",
			k.peer_hex[0], k.peer_hex[1]),
		    NULL) == 0);
	a = wgx_device_find_peer(dev, k.peer[0]);
	b = wgx_device_find_peer(dev, k.peer[1]);
	/* b cannot remove a's prefix; a can. */
	CHECK(apply(dev,
		    fmt("set=1\npublic_key=%s\nallowed_ip=-10.1.0.0/16\n"
			"public_key=%s\nallowed_ip=-10.5.0.0/16\n\n",
			k.peer_hex[1], k.peer_hex[0]),
		    NULL) == 0);
	CHECK(a && owner_of(dev, "10.1.0.1") == a);
	CHECK(!owner_of(dev, "10.5.0.1"));
	/* Moved to b then removed from b: a no longer has it either. */
	CHECK(apply(dev,
		    fmt("set=1\npublic_key=%s\nallowed_ip=10.1.0.0/16\n"
			"allowed_ip=-10.1.0.0/16\n\n",
			k.peer_hex[1]),
		    NULL) == 0);
	CHECK(!owner_of(dev, "10.1.0.1"));
	CHECK(b && owner_of(dev, "10.2.0.1") == b);
	wgx_device_free(dev);
}

/* replace_peers: named peers stay the same objects, others go. */
static void test_replace_peers(void)
{
	struct wgx_peer_config_stats st;
	struct wgx_device *dev = NULL;
	struct wgx_peer *a;
	struct keys k;

	make_keys(&k);
	CHECK(wgx_device_new(&dev) == 0);
	if (!dev)
		return;
	CHECK(apply(dev,
		    fmt("set=1\npublic_key=%s\npreshared_key=%s\n"
			"persistent_keepalive_interval=5\n"
			"allowed_ip=10.1.0.0/16\nallowed_ip=10.7.0.0/16\n"
			"public_key=%s\nallowed_ip=10.2.0.0/16\n\n",
			k.peer_hex[0], hex_a, k.peer_hex[1]),
		    NULL) == 0);
	a = wgx_device_find_peer(dev, k.peer[0]);
	CHECK(apply(dev,
		    fmt("set=1\nreplace_peers=true\npublic_key=%s\n"
			"allowed_ip=10.1.0.0/16\npublic_key=%s\n"
			"allowed_ip=10.3.0.0/16\n\n",
			k.peer_hex[0], k.peer_hex[2]),
		    &st) == 0);
	CHECK(dev->peers.count == 2 && st.peers_removed == 1 &&
	      st.peers_added == 1);
	/* Same peer (sessions kept), but its configuration started over. */
	CHECK(a && wgx_device_find_peer(dev, k.peer[0]) == a);
	CHECK(a && a->persistent_keepalive == 0 &&
	      wgx_crypto_is_zero(a->handshake->preshared_key, 32));
	CHECK(a && owner_of(dev, "10.1.0.1") == a &&
	      !owner_of(dev, "10.7.0.1"));
	CHECK(!wgx_device_find_peer(dev, k.peer[1]) &&
	      !owner_of(dev, "10.2.0.1"));
	CHECK(owner_of(dev, "10.3.0.1") ==
	      wgx_device_find_peer(dev, k.peer[2]));
	wgx_device_free(dev);
}

/* A private key equal to a peer's removes it; its lines are ignored. */
static void test_own_key(void)
{
	struct wgx_device *dev = NULL;
	struct keys k;

	make_keys(&k);
	CHECK(wgx_device_new(&dev) == 0);
	if (!dev)
		return;
	CHECK(apply(dev,
		    fmt("set=1\npublic_key=%s\nallowed_ip=10.1.0.0/16\n\n",
			k.pub_hex),
		    NULL) == 0);
	CHECK(dev->peers.count == 1);
	CHECK(apply(dev,
		    fmt("set=1\nprivate_key=%s\npublic_key=%s\n"
			"allowed_ip=10.2.0.0/16\n\n",
			k.priv_hex, k.pub_hex),
		    NULL) == 0);
	CHECK(dev->peers.count == 0 && !owner_of(dev, "10.1.0.1") &&
	      !owner_of(dev, "10.2.0.1"));
	wgx_device_free(dev);
}

/* Prepare then abort: the device is as it was, prefix moves included. */
static void test_abort_undoes(void)
{
	struct wgx_uapi_parser p;
	struct wgx_device *dev = NULL;
	struct wgx_peer_txn *t = NULL;
	struct wgx_peer *a;
	struct keys k;

	make_keys(&k);
	CHECK(wgx_device_new(&dev) == 0);
	if (!dev)
		return;
	CHECK(apply(dev,
		    fmt("set=1\npublic_key=%s\nallowed_ip=10.1.0.0/16\n\n",
			k.peer_hex[0]),
		    NULL) == 0);
	a = wgx_device_find_peer(dev, k.peer[0]);
	CHECK(parse(&p, fmt("set=1\npublic_key=%s\nallowed_ip=10.1.0.0/16\n"
			    "allowed_ip=10.4.0.0/16\npublic_key=%s\n"
			    "remove=true\n\n",
			    k.peer_hex[1], k.peer_hex[0])) == 0);
	CHECK(wgx_peer_config_prepare(dev, &p.steps, &t) == 0);
	wgx_peer_config_abort(dev, t);
	CHECK(dev->peers.count == 1 &&
	      wgx_device_find_peer(dev, k.peer[0]) == a);
	CHECK(!wgx_device_find_peer(dev, k.peer[1]));
	CHECK(a && owner_of(dev, "10.1.0.1") == a &&
	      !owner_of(dev, "10.4.0.1"));
	CHECK(wgx_allowedips_count(&dev->allowedips) == 1);
	wgx_uapi_parser_free(&p);
	wgx_device_free(dev);
}

/* A peer removed and named again in one set keeps its object. */
static void test_remove_then_add(void)
{
	struct wgx_device *dev = NULL;
	struct wgx_peer *a;
	struct keys k;

	make_keys(&k);
	CHECK(wgx_device_new(&dev) == 0);
	if (!dev)
		return;
	CHECK(apply(dev,
		    fmt("set=1\npublic_key=%s\nallowed_ip=10.1.0.0/16\n"
			"persistent_keepalive_interval=7\n\n",
			k.peer_hex[0]),
		    NULL) == 0);
	a = wgx_device_find_peer(dev, k.peer[0]);
	CHECK(apply(dev,
		    fmt("set=1\npublic_key=%s\nremove=true\npublic_key=%s\n"
			"allowed_ip=10.2.0.0/16\n\n",
			k.peer_hex[0], k.peer_hex[0]),
		    NULL) == 0);
	CHECK(a && wgx_device_find_peer(dev, k.peer[0]) == a);
	CHECK(a && a->persistent_keepalive == 0 && !owner_of(dev, "10.1.0.1") &&
	      owner_of(dev, "10.2.0.1") == a);
	wgx_device_free(dev);
}

/* wg show lists a peer's prefixes in the order the set gave them. */
static void test_prefix_order(void)
{
	struct wgx_uapi_buf b = { 0 };
	struct wgx_device *dev = NULL;
	struct wgx_uapi_view v;
	struct keys k;
	char *text;

	make_keys(&k);
	CHECK(wgx_device_new(&dev) == 0);
	if (!dev)
		return;
	CHECK(apply(dev,
		    fmt("set=1\npublic_key=%s\nallowed_ip=10.9.0.0/16\n"
			"allowed_ip=::/0\nallowed_ip=0.0.0.0/0\n"
			"allowed_ip=10.1.0.0/16\n\n",
			k.peer_hex[0]),
		    NULL) == 0);
	v = (struct wgx_uapi_view){ .dev = dev };
	CHECK(wgx_uapi_get(&v, &b) == 0);
	text = b.data ? strndup(b.data, b.len) : NULL;
	CHECK(text && strstr(text, "allowed_ip=10.9.0.0/16\nallowed_ip=::/0\n"
				   "allowed_ip=0.0.0.0/0\n"
				   "allowed_ip=10.1.0.0/16\n"));
	free(text);
	wgx_uapi_buf_free(&b);
	wgx_device_free(dev);
}

static const struct wgx_test uapi_tests[] = {
	{ "uapi: get=1", test_get_request },
	{ "uapi: set with every key", test_set_every_key },
	{ "uapi: zero keys mean none", test_zero_keys },
	{ "uapi: malformed requests and their errno", test_malformed },
	{ "uapi: a NUL byte", test_nul_byte },
	{ "uapi: a 1 MB line", test_long_line },
	{ "uapi: bytes in pieces, requests in a row", test_pieces },
	{ "uapi: an error drains its request", test_error_drains },
	{ "uapi: messages never quote a key", test_why_has_no_key },
	{ "uapi: the get answer", test_get_answer },
	{ "uapi: set creates, updates, removes", test_set_creates_and_updates },
	{ "uapi: replace_allowed_ips", test_replace_allowed_ips },
	{ "uapi: allowed_ip=-prefix", test_remove_one_allowed_ip },
	{ "uapi: replace_peers keeps named peers", test_replace_peers },
	{ "uapi: our own key", test_own_key },
	{ "uapi: abort undoes prepare", test_abort_undoes },
	{ "uapi: removed and named again", test_remove_then_add },
	{ "uapi: prefixes listed in the order given", test_prefix_order },
};
WGX_SUITE(uapi_tests)
