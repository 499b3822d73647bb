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

/* Permitted, raised only for a moment (harden.h says when). */
static const unsigned int on_demand[] = {
	CAP_SYS_ADMIN,
};

static const unsigned int teardown_xdp[] = {
	CAP_BPF,
};

/* The agent thread dropped what it does not need: raise and lower act. */
static bool dropped;

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
	size_t nt = xdp ? sizeof(teardown_xdp) / sizeof(teardown_xdp[0]) : 0;
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
		err = update(CAPNG_PERMITTED | CAPNG_BOUNDING_SET, on_demand,
			     sizeof(on_demand) / sizeof(on_demand[0]));
	if (!err)
		err = update(CAPNG_PERMITTED | CAPNG_BOUNDING_SET, teardown_xdp,
			     nt);
	/* The bounding set goes first, while CAP_SETPCAP is still ours. */
	if (!err && capng_apply(CAPNG_SELECT_BOTH) < 0)
		err = -EPERM;
	if (err)
		wgx_log_error("Couldn't drop capabilities: %s", strerror(-err));
	else
		dropped = true;
	return err;
}

/* Set or clear the effective bit of the permitted caps listed. */
static int set_effective(const unsigned int *caps, size_t n, bool on)
{
	capng_get_caps_process();
	for (size_t i = 0; i < n; i++) {
		if (capng_have_capability(CAPNG_PERMITTED, caps[i]) &&
		    capng_update(on ? CAPNG_ADD : CAPNG_DROP, CAPNG_EFFECTIVE,
				 caps[i]) < 0)
			return -EINVAL;
	}
	return capng_apply(CAPNG_SELECT_CAPS) < 0 ? -EPERM : 0;
}

int wgx_harden_raise_admin(void)
{
	if (!dropped)
		return 0;
	return set_effective(on_demand,
			     sizeof(on_demand) / sizeof(on_demand[0]), true);
}

void wgx_harden_lower_admin(void)
{
	if (dropped &&
	    set_effective(on_demand, sizeof(on_demand) / sizeof(on_demand[0]),
			  false) < 0)
		wgx_log_warn("Couldn't lower CAP_SYS_ADMIN again");
}

void wgx_harden_teardown(void)
{
	if (set_effective(on_demand, sizeof(on_demand) / sizeof(on_demand[0]),
			  true) < 0 ||
	    set_effective(teardown_xdp,
			  sizeof(teardown_xdp) / sizeof(teardown_xdp[0]),
			  true) < 0)
		wgx_log_debug("Couldn't raise the teardown capabilities: "
			      "detaching XDP may fail");
}

int wgx_harden_thread(void)
{
	capng_clear(CAPNG_SELECT_CAPS);
	return capng_apply(CAPNG_SELECT_CAPS) < 0 ? -EPERM : 0;
}
