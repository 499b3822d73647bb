// SPDX-License-Identifier: MIT
/* Only this file sees WGX_VERSION, so a new commit rebuilds one object. */
#include "util/version.h"

#ifndef WGX_VERSION
#define WGX_VERSION "unknown"
#endif

const char *wgx_version(void)
{
	return WGX_VERSION;
}
