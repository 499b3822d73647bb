// SPDX-License-Identifier: MIT
/*
 * The config parser: good files read into the right fields, and a table of
 * bad ones, each with the message (file, line, what) it must produce. Host
 * names go through an injected resolver, so nothing here touches DNS.
 */
#include "test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/config.h"
#include "core/crypto.h"

/* wg(8)'s example private key and its public key; two peers; a PSK. */
#define PRIV	"yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk="
#define OWN_PUB "HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw="
#define PEER1	"xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg="
#define PEER2	"Q9FjT3mzuL8AJnzV03DDX7vPqSbxhiHkzqZbNgNDvHw="
#define PSK	"sj6aZnhZErgCLNi2EVZyh0N5/5y+orjBTogfxjjDSqU="
#define IFACE	"[Interface]\nPrivateKey = " PRIV "\n"

static int resolver_calls;

/* vpn.example.com and v6.example.com exist; nothing else does. */
static int fake_resolve(void *ctx, const char *host, uint16_t port,
			union wgx_sockaddr *out)
{
	(void)ctx;
	resolver_calls++;
	memset(out, 0, sizeof(*out));
	if (!strcmp(host, "vpn.example.com")) {
		out->in4.sin_family = AF_INET;
		out->in4.sin_port = htons(port);
		inet_pton(AF_INET, "192.0.2.7", &out->in4.sin_addr);
		return 0;
	}
	if (!strcmp(host, "v6.example.com")) {
		out->in6.sin6_family = AF_INET6;
		out->in6.sin6_port = htons(port);
		inet_pton(AF_INET6, "2001:db8::7", &out->in6.sin6_addr);
		return 0;
	}
	return EAI_NONAME;
}

static int parse_len(const char *text, size_t len, unsigned int flags,
		     struct wgx_config **cfg, struct wgx_config_errors *errs)
{
	struct wgx_config_opts opts = { .flags = flags,
					.resolve = fake_resolve };

	return wgx_config_parse_buf("t.conf", text, len, &opts, cfg, errs);
}

static int parse(const char *text, unsigned int flags, struct wgx_config **cfg,
		 struct wgx_config_errors *errs)
{
	return parse_len(text, strlen(text), flags, cfg, errs);
}

static bool has_msg(const struct wgx_config_errors *errs, const char *want)
{
	for (size_t i = 0; i < errs->n; i++)
		if (strstr(errs->msgs[i].text, want))
			return true;
	fprintf(stderr, "    no message contains \"%s\"; got:\n", want);
	for (size_t i = 0; i < errs->n; i++)
		fprintf(stderr, "      %s\n", errs->msgs[i].text);
	return false;
}

static bool key_is(const uint8_t *key, const char *b64)
{
	char got[WGX_KEY_BASE64_LEN + 1];

	if (!key)
		return false;
	wgx_key_to_base64(got, key);
	return !strcmp(got, b64);
}

static bool prefix_is(const struct wgx_config_prefix *p, const char *want)
{
	char got[64];

	return wgx_config_prefix_format(p, got, sizeof(got)) > 0 &&
	       !strcmp(got, want);
}

static bool endpoint_is(const struct wgx_config_endpoint *ep, const char *ip,
			uint16_t port)
{
	char got[INET6_ADDRSTRLEN] = "";
	const void *a = ep->addr.sa.sa_family == AF_INET
				? (const void *)&ep->addr.in4.sin_addr
				: (const void *)&ep->addr.in6.sin6_addr;
	uint16_t p = ep->addr.sa.sa_family == AF_INET ? ep->addr.in4.sin_port
						      : ep->addr.in6.sin6_port;

	return ep->resolved &&
	       inet_ntop(ep->addr.sa.sa_family, a, got, sizeof(got)) &&
	       !strcmp(got, ip) && ntohs(p) == port;
}

static void test_interface_keys(void)
{
	static const char text[] =
		"# a full [Interface]\n"
		"[Interface]\n"
		"PrivateKey = " PRIV "\n"
		"ListenPort = 51820\n"
		"FwMark = 0x1234abcd\n"
		"Address = 10.0.0.1/24, fd00::1/64\n"
		"Address = 10.9.0.1\n"
		"DNS = 1.1.1.1, 2606:4700::1111 example.com,corp.example\n"
		"MTU = 1420\n"
		"Table = 1234\n"
		"PreUp = echo pre-up\n"
		"PostUp = iptables -A FORWARD -i %i -j ACCEPT; echo a=b # "
		"kept\n"
		"PostUp = echo second\n"
		"PreDown = echo pre-down\n"
		"PostDown = echo post-down\n"
		"SaveConfig = true\n";
	struct wgx_config_errors errs = { 0 };
	struct wgx_config *c = NULL;

	CHECK(parse(text, WGX_CONFIG_NEED_PRIVATE_KEY, &c, &errs) == 0);
	CHECK(errs.n == 0);
	if (!c)
		return;
	CHECK(key_is(c->private_key, PRIV));
	CHECK(key_is(c->public_key, OWN_PUB));
	CHECK(c->has == (WGX_CONFIG_HAS_LISTEN_PORT | WGX_CONFIG_HAS_FWMARK |
			 WGX_CONFIG_HAS_MTU | WGX_CONFIG_HAS_TABLE |
			 WGX_CONFIG_HAS_SAVE_CONFIG));
	CHECK(c->listen_port == 51820);
	CHECK(c->fwmark == 0x1234abcd);
	CHECK(c->n_addresses == 3);
	if (c->n_addresses == 3) {
		CHECK(prefix_is(&c->addresses[0], "10.0.0.1/24"));
		CHECK(prefix_is(&c->addresses[1], "fd00::1/64"));
		CHECK(prefix_is(&c->addresses[2], "10.9.0.1/32"));
	}
	CHECK(c->dns_servers.n == 2 && c->dns_search.n == 2);
	if (c->dns_servers.n == 2 && c->dns_search.n == 2) {
		CHECK(!strcmp(c->dns_servers.v[0], "1.1.1.1"));
		CHECK(!strcmp(c->dns_servers.v[1], "2606:4700::1111"));
		CHECK(!strcmp(c->dns_search.v[0], "example.com"));
		CHECK(!strcmp(c->dns_search.v[1], "corp.example"));
	}
	CHECK(c->mtu == 1420);
	CHECK(c->table == WGX_CONFIG_TABLE_ID && c->table_id == 1234);
	CHECK(c->table_name && !strcmp(c->table_name, "1234"));
	CHECK(c->hooks[WGX_CONFIG_PRE_UP].n == 1);
	CHECK(c->hooks[WGX_CONFIG_POST_UP].n == 2);
	CHECK(c->hooks[WGX_CONFIG_PRE_DOWN].n == 1);
	CHECK(c->hooks[WGX_CONFIG_POST_DOWN].n == 1);
	if (c->hooks[WGX_CONFIG_POST_UP].n == 2) {
		/* wg-quick keeps '#' and '=' in hooks. */
		CHECK(!strcmp(c->hooks[WGX_CONFIG_POST_UP].v[0],
			      "iptables -A FORWARD -i %i -j ACCEPT; echo a=b "
			      "# kept"));
		CHECK(!strcmp(c->hooks[WGX_CONFIG_POST_UP].v[1],
			      "echo second"));
	}
	CHECK(c->save_config);
	CHECK(c->n_peers == 0);
	wgx_config_free(c);
	wgx_config_errors_free(&errs);
}

static void test_peer_keys(void)
{
	static const char text[] =
		IFACE "[Peer]\n"
		      "PublicKey = " PEER1 "\n"
		      "PresharedKey = " PSK "\n"
		      "AllowedIPs = 10.0.0.2/32, fd00::2/128\n"
		      "AllowedIPs = 192.168.0.0/16\n"
		      "Endpoint = 192.0.2.1:51820\n"
		      "PersistentKeepalive = 25\n"
		      "[Peer]\n"
		      "PublicKey = " PEER2 "\n"
		      "Endpoint = [2001:db8::1]:4500\n"
		      "AllowedIPs = 0.0.0.0/0, ::/0\n"
		      "PersistentKeepalive = off\n";
	struct wgx_config_errors errs = { 0 };
	struct wgx_config *c = NULL;
	const struct wgx_config_peer *p;

	resolver_calls = 0;
	CHECK(parse(text, WGX_CONFIG_NEED_PRIVATE_KEY, &c, &errs) == 0);
	CHECK(errs.n == 0);
	CHECK(resolver_calls == 0); /* numeric endpoints need no resolver */
	if (!c || c->n_peers != 2) {
		CHECK(c && c->n_peers == 2);
		wgx_config_free(c);
		return;
	}
	p = &c->peers[0];
	CHECK(key_is(p->public_key, PEER1));
	CHECK(key_is(p->preshared_key, PSK));
	CHECK(p->n_allowed_ips == 3);
	if (p->n_allowed_ips == 3) {
		CHECK(prefix_is(&p->allowed_ips[0], "10.0.0.2/32"));
		CHECK(prefix_is(&p->allowed_ips[1], "fd00::2/128"));
		CHECK(prefix_is(&p->allowed_ips[2], "192.168.0.0/16"));
	}
	CHECK(endpoint_is(&p->endpoint, "192.0.2.1", 51820));
	CHECK(!strcmp(p->endpoint.text, "192.0.2.1:51820"));
	CHECK(p->persistent_keepalive == 25);
	CHECK(p->line == 3);
	p = &c->peers[1];
	CHECK(key_is(p->public_key, PEER2));
	CHECK(p->preshared_key == NULL);
	CHECK(endpoint_is(&p->endpoint, "2001:db8::1", 4500));
	CHECK(!strcmp(p->endpoint.text, "[2001:db8::1]:4500"));
	CHECK(p->n_allowed_ips == 2);
	CHECK(p->persistent_keepalive == 0);
	CHECK(p->line == 10);
	CHECK(wgx_config_count_allowed_ips(c) == 5);
	wgx_config_free(c);
	wgx_config_errors_free(&errs);
}

static void test_endpoint_forms(void)
{
	static const char text[] = IFACE "[Peer]\nPublicKey = " PEER1 "\n"
					 "Endpoint = vpn.example.com:51820\n"
					 "[Peer]\nPublicKey = " PEER2 "\n"
					 "Endpoint = [v6.example.com]:443\n"
					 "[Peer]\nPublicKey = " OWN_PUB "\n";
	/* wg splits an unbracketed endpoint at the last ':'. */
	static const char bare_v6[] = IFACE "[Peer]\nPublicKey = " PEER1 "\n"
					    "Endpoint = ::1:51820\n"
					    "[Peer]\nPublicKey = " PEER2 "\n"
					    "Endpoint = [192.0.2.9]:7\n";
	struct wgx_config_errors errs = { 0 };
	struct wgx_config *c = NULL;

	resolver_calls = 0;
	CHECK(parse(text, 0, &c, &errs) == 0);
	CHECK(resolver_calls == 2);
	/* The third peer has our own key: dropped, with a warning. */
	CHECK(c && c->n_peers == 2);
	CHECK(has_msg(&errs, "t.conf:10: warning: this PublicKey is the "
			     "interface's own public key"));
	if (c && c->n_peers == 2) {
		CHECK(endpoint_is(&c->peers[0].endpoint, "192.0.2.7", 51820));
		CHECK(!strcmp(c->peers[0].endpoint.text,
			      "vpn.example.com:51820"));
		CHECK(endpoint_is(&c->peers[1].endpoint, "2001:db8::7", 443));
	}
	wgx_config_free(c);
	wgx_config_errors_free(&errs);

	c = NULL;
	resolver_calls = 0;
	CHECK(parse(text, WGX_CONFIG_NO_RESOLVE, &c, &errs) == 0);
	CHECK(resolver_calls == 0);
	CHECK(c && c->n_peers == 2 && !c->peers[0].endpoint.resolved &&
	      !strcmp(c->peers[0].endpoint.text, "vpn.example.com:51820"));
	wgx_config_free(c);
	wgx_config_errors_free(&errs);

	c = NULL;
	CHECK(parse(bare_v6, 0, &c, &errs) == 0);
	CHECK(resolver_calls == 0);
	CHECK(c && c->n_peers == 2);
	if (c && c->n_peers == 2) {
		CHECK(endpoint_is(&c->peers[0].endpoint, "::1", 51820));
		CHECK(endpoint_is(&c->peers[1].endpoint, "192.0.2.9", 7));
	}
	wgx_config_free(c);
	wgx_config_errors_free(&errs);
}

static void test_syntax_like_wg(void)
{
	/* Case, whitespace anywhere in wg's keys, comments, tabs, CRLF. */
	static const char text[] =
		"\n   \n# comment\n\t# indented comment\n"
		"[INTERFACE] # trailing comment\r\n"
		"privatekey=" PRIV "\r\n"
		"  Listen Port\t=\t 5 1 8 2 0  # spaces inside, as wg allows\n"
		"fwmark = OFF\n"
		"mtu = 1280\r\n"
		"postup = echo crlf\r\n"
		"[ peer ]\n"
		"PUBLICKEY = " PEER1 "\n"
		"Allowed IPs = 10.0.0.0 / 8 ,fd00::/8\n"
		"ENDPOINT = [ fd00::1 ] : 51820\n"
		"persistentkeepalive=OFF\n";
	struct wgx_config_errors errs = { 0 };
	struct wgx_config *c = NULL;

	CHECK(parse(text, WGX_CONFIG_NEED_PRIVATE_KEY, &c, &errs) == 0);
	CHECK(errs.n == 0);
	if (!c)
		return;
	CHECK(key_is(c->private_key, PRIV));
	CHECK(c->listen_port == 51820);
	CHECK(c->fwmark == 0 && (c->has & WGX_CONFIG_HAS_FWMARK));
	CHECK(c->mtu == 1280);
	CHECK(c->hooks[WGX_CONFIG_POST_UP].n == 1 &&
	      !strcmp(c->hooks[WGX_CONFIG_POST_UP].v[0], "echo crlf"));
	CHECK(c->n_peers == 1 && c->peers[0].n_allowed_ips == 2);
	CHECK(c->n_peers == 1 &&
	      endpoint_is(&c->peers[0].endpoint, "fd00::1", 51820));
	wgx_config_free(c);
	wgx_config_errors_free(&errs);
}

static void test_other_values(void)
{
	static const char text[] = "[Interface]\n"
				   "ListenPort = 0\n"
				   "FwMark = 4294967295\n"
				   "Table = off\n"
				   "SaveConfig = False\n"
				   "MTU = 576\n"
				   "DNS =\n"
				   "Address = \n"
				   "PostUp =\n"
				   "[Interface]\n"
				   "[Peer]\n"
				   "PublicKey = " PEER1 "\n"
				   "PersistentKeepalive = 65535\n";
	struct wgx_config_errors errs = { 0 };
	struct wgx_config *c = NULL;
	char line[256];

	CHECK(parse(text, 0, &c, &errs) == 0);
	CHECK(has_msg(&errs, "t.conf:10: warning: another [Interface] "
			     "section (the first is at line 1)"));
	if (!c)
		return;
	CHECK(c->private_key == NULL);
	CHECK(c->listen_port == 0 && (c->has & WGX_CONFIG_HAS_LISTEN_PORT));
	CHECK(c->fwmark == 0xffffffffu);
	CHECK(c->table == WGX_CONFIG_TABLE_OFF);
	CHECK(!c->save_config && (c->has & WGX_CONFIG_HAS_SAVE_CONFIG));
	CHECK(c->mtu == 576);
	CHECK(c->dns_servers.n == 0 && c->n_addresses == 0);
	CHECK(c->hooks[WGX_CONFIG_POST_UP].n == 1 &&
	      !strcmp(c->hooks[WGX_CONFIG_POST_UP].v[0], ""));
	CHECK(c->peers[0].persistent_keepalive == 65535);
	CHECK(wgx_config_summary(c, line, sizeof(line)) > 0);
	CHECK(!strcmp(line, "no private key, listen port random, 1 peer, 0 "
			    "allowed IPs"));
	wgx_config_free(c);
	wgx_config_errors_free(&errs);
}

static void test_table_forms(void)
{
	static const struct {
		const char *value;
		enum wgx_config_table table;
		bool has;
	} cases[] = {
		{ "auto", WGX_CONFIG_TABLE_AUTO, true },
		{ "off", WGX_CONFIG_TABLE_OFF, true },
		{ "main", WGX_CONFIG_TABLE_NAME, true },
		{ "Off", WGX_CONFIG_TABLE_NAME, true }, /* wg-quick: a name */
		{ "", WGX_CONFIG_TABLE_AUTO, false },
		{ "4294967295", WGX_CONFIG_TABLE_ID, true },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct wgx_config_errors errs = { 0 };
		struct wgx_config *c = NULL;
		char text[128];

		snprintf(text, sizeof(text),
			 "[Interface]\nTable = 7\nTable = %s\n",
			 cases[i].value);
		CHECK(parse(text, 0, &c, &errs) == 0);
		CHECK(c && c->table == cases[i].table);
		CHECK(c && !!(c->has & WGX_CONFIG_HAS_TABLE) == cases[i].has);
		CHECK(c &&
		      (cases[i].has ? c->table_name && !strcmp(c->table_name,
							       cases[i].value)
				    : !c->table_name));
		wgx_config_free(c);
		wgx_config_errors_free(&errs);
	}
}

static void test_host_bits_masked(void)
{
	static const char text[] = "[Peer]\nPublicKey = " PEER1 "\n"
				   "AllowedIPs = 10.1.2.3/8, fd00::1:2/100, "
				   "10.0.0.1/32\n";
	struct wgx_config_errors errs = { 0 };
	struct wgx_config *c = NULL;

	CHECK(parse(text, 0, &c, &errs) == 0);
	CHECK(errs.n_warnings == 2 && errs.n_errors == 0);
	CHECK(has_msg(&errs, "t.conf:3: warning: AllowedIPs '10.1.2.3/8' has "
			     "host bits set; using 10.0.0.0/8"));
	CHECK(has_msg(&errs, "t.conf:3: warning: AllowedIPs 'fd00::1:2/100' "
			     "has host bits set; using fd00::/100"));
	CHECK(c && c->peers[0].n_allowed_ips == 3);
	if (c && c->peers[0].n_allowed_ips == 3) {
		CHECK(prefix_is(&c->peers[0].allowed_ips[0], "10.0.0.0/8"));
		CHECK(prefix_is(&c->peers[0].allowed_ips[1], "fd00::/100"));
		CHECK(prefix_is(&c->peers[0].allowed_ips[2], "10.0.0.1/32"));
	}
	wgx_config_free(c);
	wgx_config_errors_free(&errs);
}

/* The kernel gives a prefix to the last peer naming it; so do we. */
static void test_shared_prefix_moves(void)
{
	static const char text[] = "[Peer]\nPublicKey = " PEER1 "\n"
				   "AllowedIPs = 10.0.0.0/24, 10.0.1.0/24\n"
				   "AllowedIPs = 10.0.1.0/24\n"
				   "[Peer]\nPublicKey = " PEER2 "\n"
				   "AllowedIPs = 10.0.0.0/24\n";
	struct wgx_config_errors errs = { 0 };
	struct wgx_config *c = NULL;

	CHECK(parse(text, 0, &c, &errs) == 0);
	CHECK(errs.n_warnings == 1);
	CHECK(has_msg(&errs, "t.conf:5: warning: AllowedIPs 10.0.0.0/24 is "
			     "also in the peer at line 1"));
	CHECK(c && c->n_peers == 2);
	if (c && c->n_peers == 2) {
		/* In-peer duplicate folded, shared one moved to peer 2. */
		CHECK(c->peers[0].n_allowed_ips == 1 &&
		      prefix_is(&c->peers[0].allowed_ips[0], "10.0.1.0/24"));
		CHECK(c->peers[1].n_allowed_ips == 1 &&
		      prefix_is(&c->peers[1].allowed_ips[0], "10.0.0.0/24"));
	}
	wgx_config_free(c);
	wgx_config_errors_free(&errs);
}

static void test_repeated_key_last_wins(void)
{
	static const char text[] = "[Interface]\nListenPort = 1\n"
				   "ListenPort = 2\n"
				   "[Peer]\nPublicKey = " PEER1 "\n"
				   "PersistentKeepalive = 5\n"
				   "PersistentKeepalive = 6\n";
	struct wgx_config_errors errs = { 0 };
	struct wgx_config *c = NULL;

	CHECK(parse(text, 0, &c, &errs) == 0);
	CHECK(has_msg(&errs, "t.conf:3: warning: ListenPort is given again "
			     "(first at line 2); the last one wins"));
	CHECK(has_msg(&errs, "t.conf:7: warning: PersistentKeepalive is "
			     "given again (first at line 6)"));
	CHECK(c && c->listen_port == 2 &&
	      c->peers[0].persistent_keepalive == 6);
	wgx_config_free(c);
	wgx_config_errors_free(&errs);
}

/* The kernel clamps a private key when it is set; so do we. */
static void test_private_key_clamped(void)
{
	static const char text[] = "[Interface]\nPrivateKey = " PSK "\n";
	uint8_t want[WGX_KEY_LEN], pub[WGX_KEY_LEN];
	struct wgx_config_errors errs = { 0 };
	struct wgx_config *c = NULL;

	CHECK(wgx_key_from_base64(want, PSK));
	CHECK((want[0] & 7) || (want[31] & 0xc0) != 0x40); /* unclamped */
	wgx_crypto_dh_clamp(want);
	wgx_crypto_dh_public(pub, want);
	CHECK(parse(text, WGX_CONFIG_NEED_PRIVATE_KEY, &c, &errs) == 0);
	CHECK(c && c->private_key &&
	      !memcmp(c->private_key, want, WGX_KEY_LEN));
	CHECK(c && !memcmp(c->public_key, pub, WGX_KEY_LEN));
	wgx_config_free(c);
	wgx_config_errors_free(&errs);
}

static void test_zero_private_key(void)
{
	static const char text[] =
		"[Interface]\nPrivateKey = "
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
	struct wgx_config_errors errs = { 0 };
	struct wgx_config *c = NULL;

	CHECK(parse(text, 0, &c, &errs) == 0);
	CHECK(c && c->private_key == NULL);
	CHECK(has_msg(&errs, "t.conf:2: warning: PrivateKey is all zeros"));
	wgx_config_free(c);
	wgx_config_errors_free(&errs);
	CHECK(parse(text, WGX_CONFIG_NEED_PRIVATE_KEY, &c, &errs) == -EINVAL);
	CHECK(c == NULL);
	CHECK(has_msg(&errs, "t.conf:1: [Interface] has no usable PrivateKey"));
	wgx_config_errors_free(&errs);
}

static void test_long_lines(void)
{
	size_t n = 3000, cap = 64 + n * 20, o;
	struct wgx_config_errors errs = { 0 };
	struct wgx_config *c = NULL;
	char *text = malloc(cap);

	if (!text) {
		CHECK(text != NULL);
		return;
	}
	o = (size_t)snprintf(text, cap,
			     "[Peer]\nPublicKey=%s\nAllowedIPs=", PEER1);
	for (size_t i = 0; i < n; i++)
		o += (size_t)snprintf(text + o, cap - o, "%s10.%zu.%zu.0/24",
				      i ? "," : "", i / 256, i % 256);
	CHECK(parse(text, 0, &c, &errs) == 0);
	CHECK(c && c->peers[0].n_allowed_ips == n);
	wgx_config_free(c);
	wgx_config_errors_free(&errs);
	/* A very long unknown key is no key name: not quoted. */
	memset(text, 'K', 10000);
	memcpy(text, "[Peer]\n", 7);
	snprintf(text + 10000, cap - 10000, " = 1\n");
	CHECK(parse(text, 0, &c, &errs) == -EINVAL);
	CHECK(has_msg(&errs, "t.conf:2: unknown key (text not shown: it may "
			     "hold a key) in [Peer]"));
	wgx_config_errors_free(&errs);
	/* A long one made of words is quoted, cut short. */
	memset(text, 0, cap);
	memcpy(text, "[Peer]\n", 7);
	for (size_t i = 0; i < 100; i++)
		memcpy(text + 7 + 6 * i, "Kkkkk ", 6);
	strcat(text, "= 1\n");
	CHECK(parse(text, 0, &c, &errs) == -EINVAL);
	CHECK(has_msg(&errs, "t.conf:2: unknown key 'Kkkkk Kkkkk"));
	CHECK(has_msg(&errs, "Kkkkk ...' in [Peer]"));
	wgx_config_errors_free(&errs);
	free(text);
}

/* Enough peers with PSKs to need several chunks of key memory. */
static void test_many_peers(void)
{
	size_t n = 300, cap = n * 200, o = 0;
	struct wgx_config_errors errs = { 0 };
	struct wgx_config *c = NULL;
	char *text = malloc(cap), b64[WGX_KEY_BASE64_LEN + 1];
	uint8_t key[WGX_KEY_LEN] = { 0 };

	if (!text) {
		CHECK(text != NULL);
		return;
	}
	o = (size_t)snprintf(text, cap, IFACE);
	for (size_t i = 0; i < n; i++) {
		key[0] = (uint8_t)i;
		key[1] = (uint8_t)(i >> 8);
		wgx_key_to_base64(b64, key);
		o += (size_t)snprintf(text + o, cap - o,
				      "[Peer]\nPublicKey=%s\nPresharedKey=%s\n"
				      "AllowedIPs=10.%zu.%zu.0/24\n",
				      b64, b64, i / 256, i % 256);
	}
	CHECK(parse(text, WGX_CONFIG_NEED_PRIVATE_KEY, &c, &errs) == 0);
	CHECK(c && c->n_peers == n && wgx_config_count_allowed_ips(c) == n);
	for (size_t i = 0; c && i < c->n_peers; i++) {
		key[0] = (uint8_t)i;
		key[1] = (uint8_t)(i >> 8);
		CHECK(!memcmp(c->peers[i].preshared_key, key, WGX_KEY_LEN));
	}
	wgx_config_free(c);
	wgx_config_errors_free(&errs);
	free(text);
}

static void test_summary_and_format(void)
{
	static const char text[] = IFACE "ListenPort = 51820\n"
					 "[Peer]\nPublicKey = " PEER1 "\n"
					 "AllowedIPs = 10.0.0.2/32\n";
	struct wgx_config_errors errs = { 0 };
	struct wgx_config *c = NULL;
	char line[256], small[8];

	CHECK(parse(text, WGX_CONFIG_NEED_PRIVATE_KEY, &c, &errs) == 0);
	if (!c)
		return;
	CHECK(wgx_config_summary(c, line, sizeof(line)) > 0);
	CHECK(!strcmp(line, "public key " OWN_PUB ", listen port 51820, 1 "
			    "peer, 1 allowed IP"));
	/* Like snprintf: the length needed, truncated text. */
	CHECK(wgx_config_summary(c, small, sizeof(small)) == (int)strlen(line));
	CHECK(!strcmp(small, "public "));
	CHECK(wgx_config_summary(NULL, line, sizeof(line)) == -EINVAL);
	wgx_config_free(c);
	wgx_config_errors_free(&errs);
}

static void test_non_utf8_kept(void)
{
	static const char text[] = "[Interface]\nPostUp = echo \xff\xfe\n"
				   "DNS = caf\xc3\xa9.example\n";
	struct wgx_config_errors errs = { 0 };
	struct wgx_config *c = NULL;

	CHECK(parse(text, 0, &c, &errs) == 0);
	CHECK(c && !strcmp(c->hooks[WGX_CONFIG_POST_UP].v[0], "echo \xff\xfe"));
	CHECK(c && !strcmp(c->dns_search.v[0], "caf\xc3\xa9.example"));
	wgx_config_free(c);
	wgx_config_errors_free(&errs);
}

static void test_empty_input(void)
{
	struct wgx_config_errors errs = { 0 };
	struct wgx_config *c = NULL;

	CHECK(parse("", 0, &c, &errs) == 0);
	CHECK(c && c->n_peers == 0 && !c->private_key);
	wgx_config_free(c);
	CHECK(parse("", WGX_CONFIG_NEED_PRIVATE_KEY, &c, &errs) == -EINVAL);
	CHECK(has_msg(&errs, "t.conf:1: no [Interface] section"));
	wgx_config_errors_free(&errs);
	/* errs may be NULL: the result still says what happened. */
	CHECK(parse("x", 0, &c, NULL) == -EINVAL && c == NULL);
}

#define NUL_LINE "[Interface]\nListen\0Port = 1\n[Peer]\n"

struct bad_case {
	const char *text;
	const char *want; /* a substring of one message */
	unsigned int flags;
	size_t len;	    /* 0: strlen(text) */
	const char *secret; /* a key the input holds in pieces */
};

/* PRIV without its '=', and cut in two as a line wrap would. */
#define PRIV_NOPAD "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk"
#define PSK_NOPAD  "sj6aZnhZErgCLNi2EVZyh0N5/5y+orjBTogfxjjDSqU"
#define PRIV_HEAD  "yAnz5TF+lXXJte14tji3z"
#define PRIV_TAIL  "lMNq+hd2rYUIgJBgB3fBmk="
#define NOT_SHOWN  "(text not shown: it may hold a key)"

static const struct bad_case bad_cases[] = {
	/* Structure. */
	{ "ListenPort = 1\n", "t.conf:1: 'ListenPort' is outside a section" },
	{ "\n\nPrivateKey = " PRIV "\n", "t.conf:3: 'PrivateKey' is outside" },
	{ "[Interface]\nFoo = 1\n",
	  "t.conf:2: unknown key 'Foo' in [Interface] (known there: "
	  "PrivateKey, ListenPort" },
	{ "[Peer]\nPublicKey = " PEER1 "\nWeight = 1\n",
	  "t.conf:3: unknown key 'Weight' in [Peer]" },
	{ "[Peer]\nPublicKey = " PEER1 "\nListenPort = 1\n",
	  "t.conf:3: ListenPort belongs in [Interface], not in [Peer]" },
	{ "[Interface]\nEndpoint = 1.2.3.4:5\n",
	  "t.conf:2: Endpoint belongs in [Peer], not in [Interface]" },
	{ "[Interface]\nPost Up = x\n", "t.conf:2: unknown key 'Post Up'" },
	{ "[Peers]\nPublicKey = " PEER1 "\n",
	  "t.conf:1: unknown section '[Peers]' (a config has [Interface] "
	  "and [Peer] sections)" },
	{ "[Interface\n", "t.conf:1: unknown section '[Interface'" },
	{ "[Interface]\nPrivateKey\n",
	  "t.conf:2: 'PrivateKey' is not a Key = Value line" },
	{ "[Interface]\ngarbage line # note\n",
	  "t.conf:2: 'garbage line' is not a Key = Value line" },
	{ "[Interface]\nListenPort # = 5\n",
	  "t.conf:2: 'ListenPort' is not a Key = Value line" },
	{ NUL_LINE, "t.conf:2: the line has a NUL byte", 0,
	  sizeof(NUL_LINE) - 1 },
	{ "[Interface]\n\xff\xfe = 1\n", "t.conf:2: unknown key '\\xff\\xfe'" },
	/* Keys where they do not belong: never echoed, whole or in part. */
	{ "[Interface]\nPrivateKey " PRIV "\n",
	  "t.conf:2: PrivateKey is not followed by '=' (write PrivateKey = "
	  "<value>; the line is not shown: it may hold a key)" },
	{ "[Interface]\nPrivateKey: " PRIV "\n",
	  "t.conf:2: PrivateKey is not followed by '='" },
	{ "[Interface]\nPrivateKey:" PRIV "\n",
	  "t.conf:2: PrivateKey is not followed by '='" },
	{ "[Interface]\n  privatekey\t" PRIV_NOPAD "\n",
	  "t.conf:2: PrivateKey is not followed by '='" },
	{ "PrivateKey " PRIV "\n", "t.conf:1: PrivateKey is not followed" },
	{ "[Peer]\nPublicKey = " PEER1 "\nPresharedKey " PSK "\n",
	  "t.conf:3: PresharedKey is not followed by '='" },
	{ "[Peer]\nPublicKey = " PEER1 "\nPresharedKey: " PSK "\n",
	  "t.conf:3: PresharedKey is not followed by '='" },
	{ "[Interface]\n" PRIV "\n", "t.conf:2: unknown key " NOT_SHOWN },
	{ "[Interface]\nPrivateKey" PRIV "\n",
	  "t.conf:2: PrivateKey is not followed by '='" },
	{ "[Peer]\npresharedKEY" PSK_NOPAD "\n",
	  "t.conf:2: PresharedKey is not followed by '='" },
	{ "[Peer]\nPresharedKeyPersistentKeepalive = 1\n",
	  "t.conf:2: PresharedKey is not followed by '='" },
	{ "[Interface]\nPrivateKey = " PRIV_HEAD "\n" PRIV_TAIL "\n",
	  "t.conf:3: unknown key " NOT_SHOWN, 0, 0, PRIV },
	{ "[Interface]\nPrivateKey = " PRIV_HEAD "\n" PRIV_TAIL "\n",
	  "t.conf:2: PrivateKey is not a valid key: too short", 0, 0, PRIV },
	{ "[Interface] PrivateKey = " PRIV "\n",
	  "t.conf:1: [Interface] has more text after it on its line" },
	{ "[Peer] PresharedKey = " PSK "\n",
	  "t.conf:1: [Peer] has more text after it on its line" },
	{ "[" PRIV "]\n", "t.conf:1: unknown section " NOT_SHOWN },
	{ "[Interface]\nListenPort = " PRIV "\n",
	  "t.conf:2: ListenPort " NOT_SHOWN " is not a port number" },
	{ "[Interface]\nFwMark = " PSK "\n", "t.conf:2: FwMark " NOT_SHOWN },
	{ "[Interface]\nMTU = " PRIV "\n", "t.conf:2: MTU " NOT_SHOWN },
	{ "[Interface]\nTable = " PRIV "\n", "t.conf:2: Table " NOT_SHOWN },
	{ "[Interface]\nSaveConfig = " PSK "\n",
	  "t.conf:2: SaveConfig " NOT_SHOWN },
	{ "[Interface]\nAddress = " PRIV "\n",
	  "t.conf:2: Address " NOT_SHOWN ": not an IPv4 address" },
	{ "[Interface]\nDNS = " PRIV ":1\n",
	  "t.conf:2: DNS server " NOT_SHOWN },
	{ "[Peer]\nPublicKey = " PRIV_NOPAD "\n",
	  "t.conf:2: PublicKey is not a valid key: too short" },
	{ "[Peer]\nPublicKey = " PEER1 "\nAllowedIPs = " PSK "\n",
	  "t.conf:3: AllowedIPs " NOT_SHOWN ": not an IPv4 address" },
	{ "[Peer]\nPublicKey = " PEER1 "\nEndpoint = " PRIV ":51820\n",
	  "t.conf:3: Endpoint " NOT_SHOWN ": cannot resolve " NOT_SHOWN },
	{ "[Peer]\nPublicKey = " PEER1 "\nEndpoint = " PSK "\n",
	  "t.conf:3: Endpoint " NOT_SHOWN " has no port" },
	{ "[Peer]\nPublicKey = " PEER1 "\nPersistentKeepalive = " PSK "\n",
	  "t.conf:3: PersistentKeepalive " NOT_SHOWN },
	{ "[Peer]\nPublicKey = " PEER1 "\nPrivateKey = " PRIV "\n",
	  "t.conf:3: PrivateKey belongs in [Interface], not in [Peer]" },
	{ "[Interface]\nPresharedKey = " PSK "\n",
	  "t.conf:2: PresharedKey belongs in [Peer], not in [Interface]" },
	/* Empty values of wg's keys. */
	{ "[Interface]\nPrivateKey =\n",
	  "t.conf:2: PrivateKey has an empty value" },
	{ "[Interface]\nListenPort = # none\n",
	  "t.conf:2: ListenPort has an empty value" },
	{ "[Peer]\nPublicKey = " PEER1 "\nAllowedIPs = \n",
	  "t.conf:3: AllowedIPs has an empty value" },
	{ "[Peer]\nPublicKey = " PEER1 "\nEndpoint=\n",
	  "t.conf:3: Endpoint has an empty value" },
	{ "[Interface]\nSaveConfig =\n", "t.conf:2: SaveConfig '' is neither" },
	/* Keys. */
	{ "[Interface]\nPrivateKey = abc\n",
	  "t.conf:2: PrivateKey is not a valid key: too short" },
	{ "[Interface]\nPrivateKey = "
	  "yAnz5TF-lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=\n",
	  "t.conf:2: PrivateKey is not a valid key: a character is not "
	  "base64" },
	{ "[Interface]\nPrivateKey = "
	  "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmn=\n",
	  "t.conf:2: PrivateKey is not a valid key: non-canonical" },
	{ "[Peer]\nPublicKey = " PEER1 "A\n",
	  "t.conf:2: PublicKey is not a valid key: too long" },
	{ "[Peer]\nPublicKey = " PEER1 "\nPresharedKey = " PEER1 "x\n",
	  "t.conf:3: PresharedKey is not a valid key: too long" },
	/* Numbers. */
	{ "[Interface]\nListenPort = 65536\n",
	  "t.conf:2: ListenPort '65536' is not a port number 0-65535" },
	{ "[Interface]\nListenPort = -1\n", "t.conf:2: ListenPort '-1'" },
	{ "[Interface]\nListenPort = 0x10\n", "t.conf:2: ListenPort '0x10'" },
	{ "[Interface]\nListenPort = wireguard\n",
	  "t.conf:2: ListenPort 'wireguard'" },
	{ "[Interface]\nListenPort = 99999999999999999999999\n",
	  "t.conf:2: ListenPort '99999999999999999999999'" },
	{ "[Interface]\nFwMark = 4294967296\n",
	  "t.conf:2: FwMark '4294967296' is neither off nor a number" },
	{ "[Interface]\nFwMark = 0x\n", "t.conf:2: FwMark '0x'" },
	{ "[Interface]\nFwMark = 0X10\n", "t.conf:2: FwMark '0X10'" },
	{ "[Interface]\nFwMark = 0x100000000\n", "t.conf:2: FwMark" },
	{ "[Interface]\nFwMark = on\n", "t.conf:2: FwMark 'on'" },
	{ "[Peer]\nPublicKey = " PEER1 "\nPersistentKeepalive = 65536\n",
	  "t.conf:3: PersistentKeepalive '65536' is neither off nor a number" },
	{ "[Peer]\nPublicKey = " PEER1 "\nPersistentKeepalive = on\n",
	  "t.conf:3: PersistentKeepalive 'on'" },
	{ "[Interface]\nMTU = 575\n",
	  "t.conf:2: MTU '575' is not a number 576-65535" },
	{ "[Interface]\nMTU = 65536\n", "t.conf:2: MTU '65536'" },
	{ "[Interface]\nMTU = 1420 bytes\n", "t.conf:2: MTU '1420 bytes'" },
	{ "[Interface]\nAddress = fd00::1/64\nMTU = 1279\n",
	  "t.conf:3: MTU 1279 is below 1280, the minimum for IPv6" },
	{ "[Interface]\nSaveConfig = yes\n",
	  "t.conf:2: SaveConfig 'yes' is neither true nor false" },
	{ "[Interface]\nTable = main table\n",
	  "t.conf:2: Table 'main table' is not off, auto, a number or a "
	  "table name" },
	/* Addresses. */
	{ "[Peer]\nPublicKey = " PEER1 "\nAllowedIPs = 10.0.0.0/33\n",
	  "t.conf:3: AllowedIPs '10.0.0.0/33': the prefix length must be "
	  "0-32" },
	{ "[Peer]\nPublicKey = " PEER1 "\nAllowedIPs = fd00::/129\n",
	  "t.conf:3: AllowedIPs 'fd00::/129': the prefix length must be "
	  "0-128" },
	{ "[Peer]\nPublicKey = " PEER1 "\nAllowedIPs = 10.0.0.256/32\n",
	  "t.conf:3: AllowedIPs '10.0.0.256/32': not an IPv4 address" },
	{ "[Peer]\nPublicKey = " PEER1 "\nAllowedIPs = 10.0.0/24\n",
	  "t.conf:3: AllowedIPs '10.0.0/24': not an IPv4 address" },
	{ "[Peer]\nPublicKey = " PEER1 "\nAllowedIPs = fd00::g/64\n",
	  "t.conf:3: AllowedIPs 'fd00::g/64': not an IPv6 address" },
	{ "[Peer]\nPublicKey = " PEER1 "\nAllowedIPs = 10.0.0.0/\n",
	  "t.conf:3: AllowedIPs '10.0.0.0/': the prefix length must be" },
	{ "[Peer]\nPublicKey = " PEER1 "\nAllowedIPs = /8\n",
	  "t.conf:3: AllowedIPs '/8': the address is missing" },
	{ "[Peer]\nPublicKey = " PEER1 "\nAllowedIPs = 10.0.0.0/8x\n",
	  "t.conf:3: AllowedIPs '10.0.0.0/8x'" },
	{ "[Peer]\nPublicKey = " PEER1 "\nAllowedIPs = 10.0.0.0/8,\n",
	  "t.conf:3: AllowedIPs '': the address is missing" },
	{ "[Peer]\nPublicKey = " PEER1 "\nAllowedIPs = 10.0.0.0/8,,::/0\n",
	  "t.conf:3: AllowedIPs ''" },
	{ "[Peer]\nPublicKey = " PEER1 "\nAllowedIPs = +10.0.0.0/8\n",
	  "t.conf:3: AllowedIPs '+10.0.0.0/8': a leading '+' or '-' is for "
	  "'wg set'" },
	{ "[Interface]\nAddress = 10.0.0.1/24, bogus\n",
	  "t.conf:2: Address 'bogus': not an IPv4 address" },
	{ "[Interface]\nAddress = 10.0.0.1/40\n",
	  "t.conf:2: Address '10.0.0.1/40': the prefix length must be 0-32" },
	{ "[Interface]\nDNS = 1.2.3\n",
	  "t.conf:2: DNS server '1.2.3' is not an IP address" },
	{ "[Interface]\nDNS = fd00::zz\n", "t.conf:2: DNS server 'fd00::zz'" },
	{ "[Interface]\nDNS = fe80::1%\n", "t.conf:2: DNS server 'fe80::1%'" },
	/* Endpoints. */
	{ "[Peer]\nPublicKey = " PEER1 "\nEndpoint = 192.0.2.1\n",
	  "t.conf:3: Endpoint '192.0.2.1' has no port" },
	{ "[Peer]\nPublicKey = " PEER1 "\nEndpoint = 192.0.2.1:\n",
	  "t.conf:3: Endpoint '192.0.2.1:' has no port" },
	{ "[Peer]\nPublicKey = " PEER1 "\nEndpoint = :51820\n",
	  "t.conf:3: Endpoint ':51820' has no host" },
	{ "[Peer]\nPublicKey = " PEER1 "\nEndpoint = [::1:51820\n",
	  "t.conf:3: Endpoint '[::1:51820' has no ']'" },
	{ "[Peer]\nPublicKey = " PEER1 "\nEndpoint = [::1]51820\n",
	  "t.conf:3: Endpoint '[::1]51820' has no port" },
	{ "[Peer]\nPublicKey = " PEER1 "\nEndpoint = [::1]:\n",
	  "t.conf:3: Endpoint '[::1]:' has no port" },
	{ "[Peer]\nPublicKey = " PEER1 "\nEndpoint = []:1\n",
	  "t.conf:3: Endpoint '[]:1' has no host" },
	{ "[Peer]\nPublicKey = " PEER1 "\nEndpoint = 192.0.2.1:0\n",
	  "t.conf:3: Endpoint '192.0.2.1:0' has a port that is not a number "
	  "1-65535" },
	{ "[Peer]\nPublicKey = " PEER1 "\nEndpoint = 192.0.2.1:65536\n",
	  "t.conf:3: Endpoint '192.0.2.1:65536' has a port" },
	{ "[Peer]\nPublicKey = " PEER1 "\nEndpoint = 192.0.2.1:https\n",
	  "t.conf:3: Endpoint '192.0.2.1:https' has a port" },
	{ "[Peer]\nPublicKey = " PEER1 "\nEndpoint = nx.example.com:1\n",
	  "t.conf:3: Endpoint 'nx.example.com:1': cannot resolve "
	  "'nx.example.com'" },
	/* Whole-file checks. */
	{ "[Peer]\nAllowedIPs = 10.0.0.0/8\n",
	  "t.conf:1: [Peer] has no PublicKey" },
	{ "[Peer]\nPublicKey = " PEER1 "\n[Peer]\nPublicKey = " PEER2
	  "\n[Peer]\n\nPublicKey = " PEER1 "\n",
	  "t.conf:7: peer " PEER1 " is defined twice (first in the [Peer] at "
	  "line 1)" },
	{ "[Peer]\nPublicKey = " PEER1 "\n", "t.conf:1: no [Interface] section",
	  WGX_CONFIG_NEED_PRIVATE_KEY },
	{ "#\n[Interface]\nListenPort = 1\n",
	  "t.conf:2: [Interface] has no PrivateKey",
	  WGX_CONFIG_NEED_PRIVATE_KEY },
};

static void test_bad_table(void)
{
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *b = &bad_cases[i];
		struct wgx_config_errors errs = { 0 };
		struct wgx_config *c = (struct wgx_config *)&errs;
		size_t len = b->len ? b->len : strlen(b->text);
		int ret = parse_len(b->text, len, b->flags, &c, &errs);

		if (ret != -EINVAL || c || !errs.n_errors) {
			fprintf(stderr, "    case %zu (%s): ret %d\n", i,
				b->want, ret);
			CHECK(ret == -EINVAL && c == NULL && errs.n_errors);
		}
		if (!has_msg(&errs, b->want))
			CHECK(!"expected message");
		wgx_config_free(c == (struct wgx_config *)&errs ? NULL : c);
		wgx_config_errors_free(&errs);
	}
}

/* Whether msg holds any 8 characters in a row of secret[0..len). */
static bool leaks(const char *msg, const char *secret, size_t len)
{
	char piece[9];

	for (size_t i = 0; i + 8 <= len; i++) {
		memcpy(piece, secret + i, 8);
		piece[8] = '\0';
		if (strstr(msg, piece)) {
			fprintf(stderr, "    \"%s\" leaks \"%s\"\n", msg,
				piece);
			return true;
		}
	}
	return false;
}

/* Whatever follows PrivateKey or PresharedKey on a line of text. */
static bool leaks_key_values(const char *msg, const char *text, size_t len)
{
	static const char *const names[] = { "privatekey", "presharedkey" };
	const char *end = text + len, *line, *nl;

	for (line = text; line < end; line = nl + 1) {
		char low[512] = "";
		size_t n;

		nl = memchr(line, '\n', (size_t)(end - line));
		if (!nl)
			nl = end;
		n = (size_t)(nl - line) < sizeof(low) - 1 ? (size_t)(nl - line)
							  : sizeof(low) - 1;
		for (size_t i = 0; i < n; i++)
			low[i] = (char)(line[i] |
					(line[i] >= 'A' && line[i] <= 'Z' ? 32
									  : 0));
		for (size_t k = 0; k < 2; k++) {
			const char *at = strstr(low, names[k]);
			size_t off;

			if (!at)
				continue;
			off = (size_t)(at - low) + strlen(names[k]);
			off += strspn(low + off, " \t=:");
			if (leaks(msg, line + off, strcspn(low + off, "#\r")))
				return true;
		}
	}
	return false;
}

/*
 * Every message of the table against every key its input holds: the
 * values of PrivateKey and PresharedKey lines, PRIV and PSK wherever they
 * are, and a key the case names; no 8 characters of one may appear.
 */
static void test_bad_table_no_key_text(void)
{
	static const char *const keys[] = { PRIV, PRIV_NOPAD, PSK };
	size_t scanned = 0;

	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *b = &bad_cases[i];
		struct wgx_config_errors errs = { 0 };
		struct wgx_config *c = NULL;
		size_t len = b->len ? b->len : strlen(b->text);

		parse_len(b->text, len, b->flags, &c, &errs);
		wgx_config_free(c);
		for (size_t m = 0; m < errs.n; m++) {
			const char *msg = errs.msgs[m].text;

			scanned++;
			CHECK(!leaks_key_values(msg, b->text, len));
			for (size_t k = 0; k < 3; k++)
				if (memmem(b->text, len, keys[k],
					   strlen(keys[k])))
					CHECK(!leaks(msg, keys[k],
						     strlen(keys[k])));
			if (b->secret)
				CHECK(!leaks(msg, b->secret,
					     strlen(b->secret)));
		}
		wgx_config_errors_free(&errs);
	}
	CHECK(scanned >= sizeof(bad_cases) / sizeof(bad_cases[0]));
}

/* Secret key text, valid or not, never appears in a message. */
static void test_secrets_not_echoed(void)
{
	static const char text[] =
		"[Interface]\nPrivateKey = SECRETzz5TF+lXXJte14tji3zlMNq+hd2\n"
		"[Peer]\nPublicKey = " PEER1 "\n"
		"PresharedKey = SECRETzzhZErgCLNi2EVZyh0N5/5y+orjBTogfxjjDSq\n";
	struct wgx_config_errors errs = { 0 };
	struct wgx_config *c = NULL;

	CHECK(parse(text, 0, &c, &errs) == -EINVAL);
	CHECK(errs.n_errors == 2);
	for (size_t i = 0; i < errs.n; i++)
		CHECK(!strstr(errs.msgs[i].text, "SECRET"));
	wgx_config_errors_free(&errs);
}

/* Every problem is reported, in line order, not only the first. */
static void test_all_errors_collected(void)
{
	static const char text[] = "[Peer]\n"
				   "AllowedIPs = 1.2.3.4/40\n"
				   "[Interface]\n"
				   "ListenPort = x\n"
				   "FwMark = y\n"
				   "Nope = 1\n"
				   "[Peer]\n"
				   "PublicKey = " PEER1 "\n"
				   "Endpoint = z\n";
	static const char *const want[] = {
		"t.conf:1: [Peer] has no PublicKey",
		"t.conf:2: AllowedIPs '1.2.3.4/40'",
		"t.conf:4: ListenPort 'x'",
		"t.conf:5: FwMark 'y'",
		"t.conf:6: unknown key 'Nope'",
		"t.conf:9: Endpoint 'z' has no port",
	};
	struct wgx_config_errors errs = { 0 };
	struct wgx_config *c = NULL;

	CHECK(parse(text, 0, &c, &errs) == -EINVAL);
	CHECK(errs.n_errors == 6 && errs.n == 6);
	for (size_t i = 0; i < errs.n && i < 6; i++)
		CHECK(!strncmp(errs.msgs[i].text, want[i], strlen(want[i])));
	wgx_config_errors_free(&errs);
}

static void test_message_cap(void)
{
	size_t n = WGX_CONFIG_MAX_MSGS + 500;
	char *text = malloc(n * 2 + 1);
	struct wgx_config_errors errs = { 0 };
	struct wgx_config *c = NULL;

	if (!text) {
		CHECK(text != NULL);
		return;
	}
	for (size_t i = 0; i < n; i++)
		memcpy(text + 2 * i, "x\n", 2);
	text[2 * n] = '\0';
	CHECK(parse(text, 0, &c, &errs) == -EINVAL);
	CHECK(errs.n == WGX_CONFIG_MAX_MSGS);
	CHECK(errs.n_errors == n && errs.n_dropped == 500);
	wgx_config_errors_free(&errs);
	free(text);
}

static char *write_temp(const char *text, mode_t mode)
{
	char *path = strdup("/tmp/wgx-test-XXXXXX");
	int fd;

	if (!path)
		return NULL;
	fd = mkstemp(path);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text) ||
	    fchmod(fd, mode)) {
		if (fd >= 0)
			close(fd);
		free(path);
		return NULL;
	}
	close(fd);
	return path;
}

static void test_parse_file(void)
{
	struct wgx_config_errors errs = { 0 };
	struct wgx_config *c = NULL;
	char *path = write_temp(IFACE "[Peer]\nPublicKey = " PEER1 "\n", 0600);
	char want[128];

	CHECK(path != NULL);
	if (!path)
		return;
	CHECK(wgx_config_parse_file(path, NULL, &c, &errs) == 0);
	CHECK(errs.n == 0);
	CHECK(c && !strcmp(c->source, path) && c->n_peers == 1);
	wgx_config_free(c);
	/* /tmp is world accessible, so a 0644 file there is too. */
	CHECK(chmod(path, 0644) == 0);
	CHECK(wgx_config_parse_file(path, NULL, &c, &errs) == 0);
	snprintf(want, sizeof(want),
		 "%s: warning: the file is world "
		 "accessible",
		 path);
	CHECK(has_msg(&errs, want));
	wgx_config_free(c);
	wgx_config_errors_free(&errs);
	unlink(path);
	CHECK(wgx_config_parse_file(path, NULL, &c, &errs) == -ENOENT);
	CHECK(c == NULL);
	snprintf(want, sizeof(want), "%s: cannot read: ", path);
	CHECK(has_msg(&errs, want));
	CHECK(has_msg(&errs, "(check the path)"));
	wgx_config_errors_free(&errs);
	free(path);
	CHECK(wgx_config_parse_file("/", NULL, &c, &errs) == -EISDIR);
	CHECK(has_msg(&errs, "/: cannot read: Is a directory"));
	wgx_config_errors_free(&errs);
}

static void test_prefix_format(void)
{
	struct wgx_config_prefix p = { .family = AF_INET6, .cidr = 64 };
	char buf[64];

	inet_pton(AF_INET6, "2001:db8::", &p.addr.v6);
	CHECK(wgx_config_prefix_format(&p, buf, sizeof(buf)) == 13);
	CHECK(!strcmp(buf, "2001:db8::/64"));
	p.family = AF_UNSPEC;
	CHECK(wgx_config_prefix_format(&p, buf, sizeof(buf)) == -EINVAL);
}

static const struct wgx_test config_tests[] = {
	{ "config: every [Interface] key", test_interface_keys },
	{ "config: every [Peer] key, repeated AllowedIPs", test_peer_keys },
	{ "config: endpoints via injected resolver, v6 brackets, own key",
	  test_endpoint_forms },
	{ "config: case, whitespace, comments, CRLF like wg",
	  test_syntax_like_wg },
	{ "config: off, zero, empty wg-quick values, second [Interface]",
	  test_other_values },
	{ "config: Table off/auto/number/name", test_table_forms },
	{ "config: AllowedIPs host bits masked with a warning",
	  test_host_bits_masked },
	{ "config: a prefix on two peers goes to the later one",
	  test_shared_prefix_moves },
	{ "config: a repeated key warns, the last wins",
	  test_repeated_key_last_wins },
	{ "config: private key clamped, public key derived",
	  test_private_key_clamped },
	{ "config: all-zero private key is no key", test_zero_private_key },
	{ "config: very long lines", test_long_lines },
	{ "config: 300 peers with preshared keys", test_many_peers },
	{ "config: summary line", test_summary_and_format },
	{ "config: non-UTF-8 bytes kept in hooks and domains",
	  test_non_utf8_kept },
	{ "config: empty input", test_empty_input },
	{ "config: bad configs give FILE:LINE messages", test_bad_table },
	{ "config: secret key text is never echoed", test_secrets_not_echoed },
	{ "config: no message of the bad table holds 8 characters of a key",
	  test_bad_table_no_key_text },
	{ "config: all errors collected, in line order",
	  test_all_errors_collected },
	{ "config: messages capped, errors still counted", test_message_cap },
	{ "config: parse_file, unreadable files, world access",
	  test_parse_file },
	{ "config: prefix formatting", test_prefix_format },
};
WGX_SUITE(config_tests)
