// SPDX-License-Identifier: MIT
/* Interface name validation: the kernel's rules plus '%' and controls. */
#include "test.h"

#include <errno.h>

#include "util/ifname.h"

static void check_bad(const char *name, const char *want_why)
{
	const char *why = NULL;

	CHECK(wgx_ifname_check(name, &why) == -EINVAL);
	CHECK(why && !strcmp(why, want_why));
	CHECK(wgx_ifname_check(name, NULL) == -EINVAL);
}

static void test_ifname_valid(void)
{
	static const char *const good[] = {
		"wg0",	  "eth0",	    "a", "enp3s0f1", "br-lan.5",
		"x_y-z@", "012345678901234"
	};
	const char *why = "unset";

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		why = "unset";
		CHECK(wgx_ifname_check(good[i], &why) == 0);
		CHECK(why == NULL);
	}
	/* The kernel accepts any byte >= 0x80 except its NBSP. */
	CHECK(wgx_ifname_check("w\xc3\xa9g", NULL) == 0);
	CHECK(wgx_ifname_check("...", NULL) == 0);
}

static void test_ifname_empty_and_long(void)
{
	check_bad(NULL, "is empty");
	check_bad("", "is empty");
	check_bad("0123456789abcdef", "is longer than 15 characters");
	check_bad("a-very-long-interface-name-indeed",
		  "is longer than 15 characters");
}

static void test_ifname_dots(void)
{
	check_bad(".", "is '.' or '..'");
	check_bad("..", "is '.' or '..'");
}

static void test_ifname_bad_chars(void)
{
	check_bad("a/b", "contains '/'");
	check_bad("/", "contains '/'");
	check_bad("eth0:1", "contains ':' (alias syntax)");
	check_bad("wg%d", "contains '%' (the kernel would pick the name)");
	check_bad("wg 0", "contains whitespace");
	check_bad("wg0\n", "contains whitespace");
	check_bad("\twg0", "contains whitespace");
	check_bad("wg\v0", "contains whitespace");
	check_bad("wg\xa0", "contains whitespace");
	check_bad("wg\x01", "contains a control character");
	check_bad("wg\x1b[0m", "contains a control character");
	check_bad("wg\x7f", "contains a control character");
}

static const struct wgx_test ifname_tests[] = {
	{ "ifname: valid names accepted", test_ifname_valid },
	{ "ifname: empty and over-long names rejected",
	  test_ifname_empty_and_long },
	{ "ifname: '.' and '..' rejected", test_ifname_dots },
	{ "ifname: '/', ':', '%', whitespace, controls rejected",
	  test_ifname_bad_chars },
};

WGX_SUITE(ifname_tests)
