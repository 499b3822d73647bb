// SPDX-License-Identifier: MIT
/*
 * The config file as text (config_edit), the address pool (addr_pool) and
 * the agent's names for peers (peer_names): sections and their extents,
 * names in both spellings, removal that takes a section's comments and
 * leaves its neighbours', next free addresses in IPv4 and IPv6, full
 * subnets, taken and reserved addresses.
 */
#include "test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "agent/addr_pool.h"
#include "agent/config.h"
#include "agent/config_edit.h"
#include "agent/peer_names.h"
#include "core/crypto.h"
#include "core/key.h"

static const char K1[] = "HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw=";
static const char K2[] = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=";
static const char K3[] = "TrMvSoP4jYQlY6RIzBgbssQqY3vxI2Pi+y71lOWWXX0=";

static struct wgx_config_section *scan(const char *text, size_t *n)
{
	struct wgx_config_section *s = NULL;

	CHECK(wgx_config_edit_scan(text, strlen(text), &s, n) == 0);
	return s;
}

static void test_sections(void)
{
	static const char text[] =
		"# top comment\n"
		"[Interface]\n"
		"PrivateKey = x\n"
		"\n"
		"### Client alice\n"
		"[Peer]\n"
		"PublicKey = HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw=\n"
		"\n"
		"[ peer ]  # spaced\n"
		"  # Name =  bob  \n"
		"Public Key = xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg= # "
		"k\n"
		"# Name = later\n"
		"\n"
		"[Peer]\n"
		"# Name = bad/name\n"
		"PublicKey = TrMvSoP4jYQlY6RIzBgbssQqY3vxI2Pi+y71lOWWXX0=";
	size_t n = 0;
	struct wgx_config_section *s = scan(text, &n);

	CHECK(n == 4);
	if (n != 4)
		goto out;
	CHECK(!s[0].peer && s[0].line == 2 && s[0].start == 0);
	/* alice: the blank line and the comment above belong to her. */
	CHECK(s[1].peer && s[1].line == 6);
	CHECK(!strcmp(text + s[1].start, text + s[0].end));
	CHECK(!strncmp(text + s[1].start, "\n### Client alice\n", 18));
	CHECK(!strcmp(s[1].name, "alice"));
	CHECK(!strcmp(s[1].public_key, K1));
	CHECK(s[1].end == s[2].start);
	CHECK(!strcmp(s[2].name, "bob")); /* the first name line counts */
	CHECK(!strcmp(s[2].public_key, K2));
	CHECK(s[3].bad_name && !s[3].name[0]);
	CHECK(!strcmp(s[3].public_key, K3));
	CHECK(s[3].end == strlen(text));
	CHECK(wgx_config_edit_find(s, n, "BOB") == &s[2]);
	CHECK(wgx_config_edit_find(s, n, "alice") == &s[1]);
	CHECK(wgx_config_edit_find(s, n, "carol") == NULL);
out:
	free(s);
}

/* Removing [start, end) of the middle peer keeps the others whole. */
static void test_remove_middle(void)
{
	static const char text[] =
		"[Interface]\nPrivateKey = x\n\n"
		"[Peer]\n# Name = a\nPublicKey = A\n\n"
		"# about b\n[Peer]\n# Name = b\nPublicKey = B\n\n"
		"[Peer]\n# Name = c\nPublicKey = C\n";
	static const char want[] = "[Interface]\nPrivateKey = x\n\n"
				   "[Peer]\n# Name = a\nPublicKey = A\n\n"
				   "[Peer]\n# Name = c\nPublicKey = C\n";
	char out[sizeof(text)];
	size_t n = 0;
	struct wgx_config_section *s = scan(text, &n);
	const struct wgx_config_section *b = wgx_config_edit_find(s, n, "b");

	CHECK(b != NULL);
	if (b) {
		memcpy(out, text, b->start);
		strcpy(out + b->start, text + b->end);
		CHECK(!strcmp(out, want));
	}
	free(s);
}

static void test_separator(void)
{
	char sep[3];

	CHECK(wgx_config_edit_separator("", 0, sep) == 0 && !sep[0]);
	CHECK(wgx_config_edit_separator("a", 1, sep) == 2 &&
	      !strcmp(sep, "\n\n"));
	CHECK(wgx_config_edit_separator("a\n", 2, sep) == 1 &&
	      !strcmp(sep, "\n"));
	CHECK(wgx_config_edit_separator("a\n\n", 3, sep) == 0);
}

static void test_names(void)
{
	const char *why;

	CHECK(!wgx_config_edit_name_check("alice", &why));
	CHECK(!wgx_config_edit_name_check("a.b-c_d=e+f", &why));
	CHECK(!wgx_config_edit_name_check("fifteen-chars15", &why));
	CHECK(wgx_config_edit_name_check("sixteen-chars-16", &why) == -EINVAL);
	CHECK(wgx_config_edit_name_check("", &why) == -EINVAL);
	CHECK(wgx_config_edit_name_check(".hidden", &why) == -EINVAL);
	CHECK(wgx_config_edit_name_check("-opt", &why) == -EINVAL);
	CHECK(wgx_config_edit_name_check("a/b", &why) == -EINVAL);
	CHECK(wgx_config_edit_name_check("a b", &why) == -EINVAL);
	CHECK(wgx_config_edit_name_check("a\nb", &why) == -EINVAL && why);
}

static void test_peer_names(void)
{
	char text[1024];
	struct wgx_peer_names t = { 0 };
	uint8_t k[WGX_KEY_LEN];

	snprintf(text, sizeof(text),
		 "[Interface]\nPrivateKey = x\n[Peer]\n# Name = one\n"
		 "PublicKey = %s\n[Peer]\nPublicKey = %s\n"
		 "### Client three\n[Peer]\nPublicKey = %s\n",
		 K1, K2, K3);
	CHECK(wgx_peer_names_from_text(&t, text, strlen(text)) == 0);
	CHECK(t.n == 2);
	CHECK(wgx_key_from_base64(k, K1));
	CHECK(wgx_peer_names_find(&t, k) &&
	      !strcmp(wgx_peer_names_find(&t, k), "one"));
	CHECK(wgx_key_from_base64(k, K2));
	CHECK(wgx_peer_names_find(&t, k) == NULL);
	CHECK(wgx_key_from_base64(k, K3));
	CHECK(wgx_peer_names_find(&t, k) &&
	      !strcmp(wgx_peer_names_find(&t, k), "three"));
	wgx_peer_names_free(&t);
	CHECK(wgx_peer_names_find(&t, k) == NULL);
}

/* ---- addr_pool -------------------------------------------------------- */

static struct wgx_config *parse(const char *addresses, const char *peers)
{
	struct wgx_config_opts opts = { .flags = WGX_CONFIG_NO_RESOLVE };
	struct wgx_config *cfg = NULL;
	char text[2048];
	const char *keys[] = { K1, K2, K3 };
	int n = snprintf(text, sizeof(text), "[Interface]\nAddress = %s\n",
			 addresses);

	/* peers: AllowedIPs of up to three peers, separated by '|'. */
	for (int i = 0; peers && *peers && i < 3; i++) {
		size_t len = strcspn(peers, "|");

		n += snprintf(text + n, sizeof(text) - (size_t)n,
			      "[Peer]\nPublicKey = %s\nAllowedIPs = %.*s\n",
			      keys[i], (int)len, peers);
		peers += len + (peers[len] == '|');
	}
	CHECK(wgx_config_parse_buf("t", text, (size_t)n, &opts, &cfg, NULL) ==
	      0);
	return cfg;
}

static bool next_is(const struct wgx_config *cfg, int family, const char *want)
{
	struct wgx_config_prefix out;
	char text[64];
	const struct wgx_config_prefix *sub = wgx_addr_pool_subnet(cfg, family);

	if (!sub || wgx_addr_pool_next(cfg, sub, &out))
		return false;
	wgx_config_prefix_format(&out, text, sizeof(text));
	if (strcmp(text, want))
		fprintf(stderr, "    next: %s, wanted %s\n", text, want);
	return !strcmp(text, want);
}

static int next_err(const struct wgx_config *cfg, int family)
{
	struct wgx_config_prefix out;

	return wgx_addr_pool_next(cfg, wgx_addr_pool_subnet(cfg, family), &out);
}

static void test_pool_next(void)
{
	struct wgx_config *c;

	c = parse("10.0.0.1/24, fd00::1/64", NULL);
	CHECK(c && next_is(c, AF_INET, "10.0.0.2/32"));
	CHECK(c && next_is(c, AF_INET6, "fd00::2/128"));
	wgx_config_free(c);
	/* Holes are filled first; prefixes inside the subnet take ranges. */
	c = parse("10.0.0.1/24, fd00::1/64",
		  "10.0.0.2/32, fd00::2/128|10.0.0.4/30|10.0.0.3/32");
	CHECK(c && next_is(c, AF_INET, "10.0.0.8/32"));
	CHECK(c && next_is(c, AF_INET6, "fd00::3/128"));
	wgx_config_free(c);
	/* A wider prefix (a default route) takes nothing. */
	c = parse("10.0.0.1/24", "0.0.0.0/0|10.0.0.0/16");
	CHECK(c && next_is(c, AF_INET, "10.0.0.2/32"));
	wgx_config_free(c);
	/* The interface not at .1. */
	c = parse("192.168.7.200/24", "192.168.7.1/32");
	CHECK(c && next_is(c, AF_INET, "192.168.7.2/32"));
	wgx_config_free(c);
	/* /30: .1 and .2 are the hosts; /31: both addresses. */
	c = parse("10.0.0.1/30", NULL);
	CHECK(c && next_is(c, AF_INET, "10.0.0.2/32"));
	wgx_config_free(c);
	c = parse("10.0.0.1/30", "10.0.0.2/32");
	CHECK(c && next_err(c, AF_INET) == -ENOSPC);
	wgx_config_free(c);
	c = parse("10.0.0.0/31", NULL);
	CHECK(c && next_is(c, AF_INET, "10.0.0.1/32"));
	wgx_config_free(c);
	c = parse("10.0.0.1/32", NULL);
	CHECK(c && next_err(c, AF_INET) == -ENOSPC);
	wgx_config_free(c);
	/* The top of IPv6 and a full /126. */
	c = parse("fd00::1/126", "fd00::2/127");
	CHECK(c && next_err(c, AF_INET6) == -ENOSPC);
	wgx_config_free(c);
	c = parse("::1/0", NULL);
	CHECK(c && next_is(c, AF_INET6, "::2/128"));
	wgx_config_free(c);
}

static void test_pool_check(void)
{
	struct wgx_config *c =
		parse("10.0.0.1/24, fd00::1/64", "10.0.0.5/32|10.0.0.16/28");
	struct wgx_config_prefix a = { .family = AF_INET, .cidr = 32 };
	long owner;

	if (!c)
		return;
	inet_pton(AF_INET, "10.0.0.9", &a.addr.v4);
	CHECK(wgx_addr_pool_check(c, &a, &owner) == 0);
	inet_pton(AF_INET, "10.0.0.5", &a.addr.v4);
	CHECK(wgx_addr_pool_check(c, &a, &owner) == -EEXIST && owner == 0);
	inet_pton(AF_INET, "10.0.0.20", &a.addr.v4);
	CHECK(wgx_addr_pool_check(c, &a, &owner) == -EEXIST && owner == 1);
	inet_pton(AF_INET, "10.0.0.1", &a.addr.v4);
	CHECK(wgx_addr_pool_check(c, &a, &owner) == -EEXIST && owner == -1);
	inet_pton(AF_INET, "10.0.0.0", &a.addr.v4);
	CHECK(wgx_addr_pool_check(c, &a, &owner) == -EADDRNOTAVAIL);
	inet_pton(AF_INET, "10.0.0.255", &a.addr.v4);
	CHECK(wgx_addr_pool_check(c, &a, &owner) == -EADDRNOTAVAIL);
	inet_pton(AF_INET, "10.0.1.1", &a.addr.v4);
	CHECK(wgx_addr_pool_check(c, &a, &owner) == -ERANGE);
	a.family = AF_INET6;
	a.cidr = 128;
	inet_pton(AF_INET6, "fd00::", &a.addr.v6);
	CHECK(wgx_addr_pool_check(c, &a, &owner) == -EADDRNOTAVAIL);
	inet_pton(AF_INET6, "fd00::ffff", &a.addr.v6);
	CHECK(wgx_addr_pool_check(c, &a, &owner) == 0);
	wgx_config_free(c);
}

static const struct wgx_test config_edit_tests[] = {
	{ "config_edit: sections, leads, names, keys", test_sections },
	{ "config_edit: removing a peer keeps its neighbours",
	  test_remove_middle },
	{ "config_edit: one blank line before an appended section",
	  test_separator },
	{ "config_edit: peer names", test_names },
	{ "peer_names: labels from # Name and ### Client", test_peer_names },
	{ "addr_pool: the next free address", test_pool_next },
	{ "addr_pool: taken, reserved and foreign addresses", test_pool_check },
};
WGX_SUITE(config_edit_tests)
