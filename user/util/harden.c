// SPDX-License-Identifier: MIT
/* What the daemon gives up once it runs (harden.h says what and why). */
#include "util/harden.h"

#include <cap-ng.h>
#include <errno.h>
#include <linux/capability.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "util/log.h"

static const unsigned int kept[] = {
	CAP_NET_ADMIN,
	CAP_NET_BIND_SERVICE,
	CAP_IPC_LOCK,
};

/* With XDP: a new worker pool opens new AF_XDP sockets. */
static const unsigned int kept_xdp[] = {
	CAP_NET_RAW,
};

static const unsigned int teardown[] = {
	CAP_SYS_ADMIN,
	CAP_BPF,
};

int wgx_harden_no_dumps(void)
{
	struct rlimit none = { 0, 0 };

	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 ||
	    setrlimit(RLIMIT_CORE, &none) < 0) {
		int err = -errno;

		wgx_log_error("Couldn't turn core dumps off: %s",
			      strerror(-err));
		return err;
	}
	return 0;
}

static int update(unsigned int type, const unsigned int *caps, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (capng_update(CAPNG_ADD, type, caps[i]) < 0)
			return -EINVAL;
	return 0;
}

int wgx_harden_drop_caps(bool xdp)
{
	size_t nk = sizeof(kept) / sizeof(kept[0]);
	size_t nt = xdp ? sizeof(teardown) / sizeof(teardown[0]) : 0;
	int err;

	/* Nothing the daemon runs may gain privileges back by exec. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		err = -errno;
		wgx_log_error("Couldn't set no_new_privs: %s", strerror(-err));
		return err;
	}
	capng_clear(CAPNG_SELECT_BOTH);
	err = update(CAPNG_EFFECTIVE | CAPNG_PERMITTED | CAPNG_BOUNDING_SET,
		     kept, nk);
	if (!err && xdp)
		err = update(CAPNG_EFFECTIVE | CAPNG_PERMITTED |
				     CAPNG_BOUNDING_SET,
			     kept_xdp, sizeof(kept_xdp) / sizeof(kept_xdp[0]));
	if (!err)
		err = update(CAPNG_PERMITTED | CAPNG_BOUNDING_SET, teardown,
			     nt);
	/* The bounding set goes first, while CAP_SETPCAP is still ours. */
	if (!err && capng_apply(CAPNG_SELECT_BOTH) < 0)
		err = -EPERM;
	if (err)
		wgx_log_error("Couldn't drop capabilities: %s", strerror(-err));
	return err;
}

void wgx_harden_teardown(void)
{
	capng_get_caps_process();
	if (update(CAPNG_EFFECTIVE, teardown,
		   sizeof(teardown) / sizeof(teardown[0])) < 0 ||
	    capng_apply(CAPNG_SELECT_CAPS) < 0)
		wgx_log_debug("Couldn't raise the teardown capabilities: "
			      "detaching XDP may fail");
}

int wgx_harden_thread(void)
{
	capng_clear(CAPNG_SELECT_CAPS);
	return capng_apply(CAPNG_SELECT_CAPS) < 0 ? -EPERM : 0;
}
