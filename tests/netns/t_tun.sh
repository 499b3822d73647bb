#!/usr/bin/env bash
# modes: auto
# workers: default
# TUN creation and the rtnetlink client (user/datapath/tun.c, user/agent/netlink.c) against
# the real kernel: build/tests/netns/tun_test runs inside a private network
# namespace and creates, configures and removes its interfaces there.
#
#   namespace wgx-tun-<pid>
#   +----------------------------------------------------------+
#   |  lo                                                      |
#   |  wgxt0   TUN  10.77.0.1/24  fd77::1/64  mtu 1420         |
#   |          routes 10.78.0.0/16, fd78::/48 (main),          |
#   |          10.80.1.0/24, fd80::/64 (table 100)             |
#   |  wgxd0   dummy (or veth wgxd0/wgxd1): a name that is     |
#   |          taken but not a TUN                             |
#   |  wgxtap0 TAP, wgxst0-2 stale TUNs, wgxmq0-1 multi-queue  |
#   |  wgxv0   TUN, IFF_VNET_HDR + offloads, 10.79.0.1/24      |
#   +----------------------------------------------------------+
#
# The only packet sent goes from the namespace into its own wgxt0.
#
# Usage: tests/netns/t_tun.sh [BUILD_DIR | path/to/build/wgxdp]
# Prints PASS/FAIL/SKIP lines (details on stderr); exits non-zero on any
# failure. Needs root.
set -u
ns=wgx-tun-$$
timeout_s=${WGX_TUN_TIMEOUT:-60}
names='wgxt0|wgxd[01]|wgxtap0|wgxst[0-9]|wgxmq[0-9]|wgxq0|wgxv0'
failed=0

# The build directory: $WGX_BUILD, the argument (a directory, or the wgxdp
# binary inside one), else build/ at the top of the repository.
build=${WGX_BUILD:-}
if [ -z "$build" ] && [ -n "${1:-}" ]; then
	if [ -d "$1" ]; then
		build=$1
	else
		build=$(dirname "$1")
	fi
fi
if [ -n "$build" ]; then
	build=$(cd "$build" 2>/dev/null && pwd) || build=/nonexistent
fi
cd "$(dirname "$0")/../.." || exit 1
build=${build:-build}
bin=$build/tests/netns/tun_test

pass() { echo "PASS tun: $*"; }
fail() {
	echo "FAIL tun: $*"
	failed=1
}

cleanup() {
	if ip netns list 2>/dev/null | grep -qw "$ns"; then
		timeout 10 ip netns del "$ns" 2>/dev/null
	fi
}

# Our interface names in the namespace this script runs in.
outside_links() {
	ip -o link show 2>/dev/null | grep -cE "^[0-9]+: ($names)[:@]"
}

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP tun: needs root"
	exit 0
fi
if [ ! -c /dev/net/tun ]; then
	echo "SKIP tun: no /dev/net/tun"
	exit 0
fi
if [ ! -x "$bin" ]; then
	fail "$bin not built (run make)"
	exit 1
fi

trap cleanup EXIT
before=$(outside_links)
if ! timeout 10 ip netns add "$ns"; then
	fail "couldn't create namespace $ns"
	exit 1
fi

# Relay PASS/FAIL/SKIP lines, CHECK details to stderr, keep the summary.
shopt -s lastpipe
summary=
fails_seen=0
timeout "$timeout_s" ip netns exec "$ns" "$bin" 2>&1 | while IFS= read -r line; do
	case $line in
	PASS\ * | SKIP\ *) echo "$line" ;;
	FAIL\ *)
		echo "$line"
		fails_seen=$((fails_seen + 1))
		;;
	[0-9]*" passed, "*" failed"*) summary=$line ;;
	*) echo "$line" >&2 ;;
	esac
done
rc=${PIPESTATUS[0]}

[ "$fails_seen" -eq 0 ] || failed=1
if [ "$rc" -eq 124 ]; then
	fail "tun_test timed out after ${timeout_s}s"
elif [ -z "$summary" ]; then
	fail "tun_test ended (status $rc) without a summary line"
elif [ "$rc" -ne 0 ] && [ "$fails_seen" -eq 0 ]; then
	fail "tun_test exited with status $rc and no failed test"
fi

cleanup
if ip netns list 2>/dev/null | grep -qw "$ns"; then
	fail "namespace $ns left behind"
else
	pass "namespace removed"
fi
if [ "$(outside_links)" -gt "$before" ]; then
	fail "interfaces created outside the namespace"
else
	pass "nothing created outside the namespace"
fi
exit "$failed"
