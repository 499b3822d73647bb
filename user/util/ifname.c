// SPDX-License-Identifier: MIT
/* Interface names: the kernel's rules, checked up front for a clear error. */
#include "util/ifname.h"

#include <errno.h>
#include <net/if.h>
#include <string.h>

static const char *ifname_problem(const char *name)
{
	size_t len;

	if (!name || !*name)
		return "is empty";
	len = strnlen(name, IFNAMSIZ);
	if (len >= IFNAMSIZ)
		return "is longer than 15 characters";
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return "is '.' or '..'";
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		/* Bytes >= 0x80 are allowed: the kernel takes any byte. */
		if (*p == '/')
			return "contains '/'";
		if (*p == ':')
			return "contains ':' (alias syntax)";
		if (*p == '%')
			return "contains '%' (the kernel would pick the name)";
		/* The kernel's isspace() also counts Latin-1 NBSP (0xa0). */
		if (*p == ' ' || (*p >= '\t' && *p <= '\r') || *p == 0xa0)
			return "contains whitespace";
		if (*p < 0x20 || *p == 0x7f)
			return "contains a control character";
	}
	return NULL;
}

int wgx_ifname_check(const char *name, const char **why)
{
	const char *problem = ifname_problem(name);

	if (why)
		*why = problem;
	return problem ? -EINVAL : 0;
}
