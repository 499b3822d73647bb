// SPDX-License-Identifier: MIT
#include "device/stats.h"

static const char *const names[] = {
#define WGX_STAT_NAME(id, name) name,
	WGX_STATS_LIST(WGX_STAT_NAME)
#undef WGX_STAT_NAME
};

const char *wgx_stats_name(enum wgx_stat_id id)
{
	return (unsigned int)id < WGX_STAT_COUNT ? names[id] : "unknown";
}
