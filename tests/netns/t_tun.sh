#!/usr/bin/env bash
# modes: auto
# workers: default
# TUN creation and the rtnetlink client (user/agent/tun.c, user/agent/netlink.c) against
# the real kernel: build/tests/netns/tun_test runs inside a private network
# namespace and creates, configures and removes its interfaces there.
# Then the routes the agent gives a tunnel (user/agent/tunnel.c), as
# wg-quick would: build/tests/netns/tunnel_routes opens wgxr0 with one
# config and syncs it to the next ones (attach, then reloads), while `ip
# route` and `ip monitor route` check what the kernel got; last, 20,000
# prefixes at once (times printed, not asserted).
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
#   |  wgxr0   TUN by tunnel_routes, 10.70.0.1/16 fd70::1/64,  |
#   |          peers' routes 10.71-10.76.x, fd71::/64, ...     |
#   |          (then 10,000 peers: 10.0.x.y/32, fd90::x/128)   |
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
names='wgxt0|wgxd[01]|wgxtap0|wgxst[0-9]|wgxmq[0-9]|wgxq0|wgxv0|wgxr0'
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
rbin=$build/tests/netns/tunnel_routes

pass() { echo "PASS tun: $*"; }
fail() {
	echo "FAIL tun: $*"
	failed=1
}

cleanup() {
	[ -n "${mon_pid:-}" ] && kill "$mon_pid" 2>/dev/null
	[ -n "${tmp:-}" ] && rm -rf "$tmp"
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
for b in "$bin" "$rbin"; do
	if [ ! -x "$b" ]; then
		fail "$b not built (run make)"
		exit 1
	fi
done

trap cleanup EXIT
tmp=$(mktemp -d "/tmp/wgx-tun-$$.XXXXXX") || exit 1
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

# ---------------------------------------------------------------- routes

rt=wgxr0
b64=ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/

# key_of N: $key, a distinct valid public key for peer N (1 .. 2^24 - 1),
# made without a fork: N's three bytes, then 29 fixed ones.
key_of() {
	local n=$1
	key=${b64:n >> 18 & 63:1}${b64:n >> 12 & 63:1}${b64:n >> 6 & 63:1}
	key+=${b64:n & 63:1}d2d4ZHAgdHVubmVsX3JvdXRlcyB0ZXN0IHBlZXA=
}

# conf NAME ADDRESSES [TABLE] < PEERS: a config file $tmp/NAME.conf, one
# [Peer] per line of stdin (its AllowedIPs).
conf() {
	local f=$tmp/$1.conf n=0 line key
	{
		printf '[Interface]\nAddress = %s\n' "$2"
		[ -n "${3:-}" ] && printf 'Table = %s\n' "$3"
		while IFS= read -r line; do
			n=$((n + 1))
			key_of "$n"
			printf '[Peer]\nPublicKey = %s\nAllowedIPs = %s\n' \
				"$key" "$line"
		done
	} >"$f"
}

# ours [TABLE]: the routes through $rt that we added (proto boot, which
# `ip route` does not print), one destination a line, sorted.
ours() {
	local t=${1:-main}
	{
		ip -n "$ns" -4 route show table "$t" dev "$rt" proto boot
		ip -n "$ns" -6 route show table "$t" dev "$rt" proto boot
	} | awk '{ print $1 }' | sort
}

# expect_routes WHAT [TABLE] <<<"DESTINATIONS": ours are exactly these.
expect_routes() {
	local want got
	want=$(tr -s '[:space:]' '\n' | grep . | sort)
	got=$(ours "${2:-main}")
	if [ "$want" = "$got" ]; then
		pass "$1"
	else
		fail "$1"
		echo "    want: $(echo "$want" | tr '\n' ' ')" >&2
		echo "    got:  $(echo "$got" | tr '\n' ' ')" >&2
	fi
}

# events: $ev, the route events of our routes since the last call, in
# order, as "+DST " (added) and "-DST " (deleted). ip monitor writes each
# one as it comes; give it a moment to catch up.
mon_seen=0
events() {
	local i lines
	for ((i = 0; i < 20; i++)); do
		lines=$(grep -c . "$tmp/monitor")
		[ "$lines" -gt "$mon_seen" ] && [ "$i" -ge 3 ] && break
		sleep 0.05
	done
	lines=$(grep -c . "$tmp/monitor")
	ev=$(sed -n "$((mon_seen + 1)),${lines}p" "$tmp/monitor" |
		grep " dev $rt " | grep -v ' proto ' |
		awk '$1 == "Deleted" { printf "-%s ", $2; next }
		     { printf "+%s ", $1 }')
	mon_seen=$lines
}

# expect_events WHAT "EVENTS": the events since the last call are these.
expect_events() {
	events
	if [ "$ev" = "$2 " ]; then
		pass "$1"
	else
		fail "$1"
		echo "    want: $2" >&2
		echo "    got:  $ev" >&2
	fi
}

# routes_start CONFIG...: tunnel_routes in the namespace on $rt;
# routes_step WHAT waits for its answer to a step and prints the step's
# time; routes_next starts the next step (or, after the last, closes).
routes_start() {
	coproc RT { timeout 300 ip netns exec "$ns" "$rbin" "$rt" "$@" \
		2>"$tmp/routes.err"; }
}
routes_step() {
	local line
	if ! read -r -t 120 line <&"${RT[0]}"; then
		fail "$1: no answer from tunnel_routes"
		sed 's/^/    /' "$tmp/routes.err" >&2
		return 1
	fi
	case $line in
	ok\ *) echo "# $1: ${line##* } ms" ;;
	*)
		fail "$1: $line"
		sed 's/^/    /' "$tmp/routes.err" >&2
		return 1
		;;
	esac
}
routes_next() { echo >&"${RT[1]}"; }
# routes_stop WHAT: end tunnel_routes; its TUN must be gone (bounded).
routes_stop() {
	local pid=$RT_PID i
	# shellcheck disable=SC1083,SC2093 # closes the coprocess's stdin
	exec {RT[1]}>&-
	wait "$pid" || fail "$1: tunnel_routes exited with an error"
	for ((i = 0; i < 50; i++)); do
		ip -n "$ns" link show "$rt" >/dev/null 2>&1 || return 0
		sleep 0.1
	done
	fail "$1: $rt still there after tunnel_routes ended"
}

ip netns exec "$ns" ip monitor route >"$tmp/monitor" 2>/dev/null &
mon_pid=$!
sleep 0.2

# Address 10.70.0.1/16 and fd70::1/64: their subnet routes cover 10.70.x
# and fd70::/64, so those prefixes get no route of ours.
addr='10.70.0.1/16, fd70::1/64'
base='10.70.5.2/32, fd70::5:2/128
10.71.0.0/24, fd71::/64
10.70.9.0/24'
conf a "$addr" <<<"$base
10.72.1.1/32"
conf b "$addr" <<<"$base
10.73.0.0/16, fd73::/48"
conf c "$addr" <<<"$base
10.73.0.0/16, fd73::/48
10.74.1.1/32
10.75.0.0/16, 10.75.1.1/32
10.71.0.0/17"
conf d "$addr" <<<"$base
10.73.0.0/16, fd73::/48
10.74.1.1/32
10.75.1.1/32
10.71.0.0/17"

routes_start "$tmp"/{a,b,c,d,d}.conf
if routes_step "attach"; then
	expect_routes "covered prefixes get no route, the others do" \
		<<<"10.71.0.0/24 10.72.1.1 fd71::/64"
	expect_events "routes added longest prefix first, as wg-quick does" \
		"+fd71::/64 +10.72.1.1 +10.71.0.0/24"
	if ip -n "$ns" -4 route show dev "$rt" proto kernel |
		grep -q '^10.70.0.0/16 ' &&
		ip -n "$ns" -6 route show dev "$rt" | grep -q '^fd70::/64 '; then
		pass "the Address subnet routes are the kernel's"
	else
		fail "the Address subnet routes are the kernel's"
	fi
	routes_next
fi
if routes_step "reload: a peer replaced"; then
	expect_routes "reload: routes follow the config" \
		<<<"10.71.0.0/24 10.73.0.0/16 fd71::/64 fd73::/48"
	expect_events "reload: exactly the difference is removed and added" \
		"-10.72.1.1 +fd73::/48 +10.73.0.0/16"
	# A route someone else put on the TUN covers like the subnet ones.
	ip -n "$ns" route add 10.74.0.0/16 dev "$rt" proto static
	events
	routes_next
fi
if routes_step "reload: covered, shorter and longer prefixes added"; then
	# 10.74.1.1 is covered by 10.74.0.0/16. wg-quick would add both
	# 10.75.0.0/16 and 10.75.1.1 (longest first: neither covers the other
	# when it is added), and a fresh up keeps 10.71.0.0/24 under the new
	# 10.71.0.0/17 too.
	expect_routes "reload: a new covering prefix leaves longer ones routed" \
		<<<"10.71.0.0/17 10.71.0.0/24 10.73.0.0/16 10.75.0.0/16 10.75.1.1
		fd71::/64 fd73::/48"
	expect_events "reload: only the new routes are added" \
		"+10.75.1.1 +10.71.0.0/17 +10.75.0.0/16"
	ip -n "$ns" route del 10.74.0.0/16 dev "$rt" proto static
	events
	routes_next
fi
if routes_step "reload: covering routes removed"; then
	expect_routes "reload: prefixes that lost their cover get a route" \
		<<<"10.71.0.0/17 10.71.0.0/24 10.73.0.0/16 10.74.1.1 10.75.1.1
		fd71::/64 fd73::/48"
	expect_events "reload: exactly the difference is removed and added" \
		"-10.75.0.0/16 +10.74.1.1"
	# One of ours removed behind the agent's back.
	ip -n "$ns" route del 10.73.0.0/16 dev "$rt"
	events
	routes_next
fi
if routes_step "reload: same config"; then
	expect_events "reload: a route removed behind our back comes back" \
		"+10.73.0.0/16"
	if ip -n "$ns" -4 route show dev "$rt" proto kernel |
		grep -q '^10.70.0.0/16 '; then
		pass "reload: the Address subnet route is left alone"
	else
		fail "reload: the Address subnet route is left alone"
	fi
	routes_next
fi
routes_stop "main table"

# Table = 100: wg-quick adds every prefix there without looking.
conf t "$addr" 100 <<<'10.70.5.2/32, fd70::5:2/128
10.76.0.0/16'
routes_start "$tmp/t.conf"
if routes_step "Table = 100"; then
	expect_routes "Table = 100: every prefix routed there, covered or not" \
		100 <<<"10.70.5.2 10.76.0.0/16 fd70::5:2"
	expect_routes "Table = 100: no route of ours in main" <<<""
	routes_next
fi
routes_stop "Table = 100"

# A prefix already routed through another device: `ip route add` fails
# with EEXIST (wg-quick would stop there); it is left alone, the other
# routes of the batch go in, and a reload never removes it.
ip -n "$ns" link set lo up
ip -n "$ns" route add 10.77.0.0/16 dev lo
conf e1 "$addr" <<<'10.77.1.0/24
10.77.0.0/16
10.78.0.0/16'
conf e2 "$addr" <<<'10.78.0.0/16'
routes_start "$tmp"/e{1,2}.conf
if routes_step "a prefix routed elsewhere"; then
	expect_routes "a prefix routed elsewhere is left alone, the rest added" \
		<<<"10.77.1.0/24 10.78.0.0/16"
	routes_next
fi
if routes_step "reload: the prefix routed elsewhere dropped"; then
	expect_routes "reload: routes follow the config" <<<"10.78.0.0/16"
	if ip -n "$ns" route show 10.77.0.0/16 | grep -q 'dev lo'; then
		pass "reload: a route that is not ours stays"
	else
		fail "reload: a route that is not ours stays"
	fi
	routes_next
fi
routes_stop "routed elsewhere"

# Scale: 10,000 peers of one /32 and one /128 each, then half of them
# replaced; then the same prefixes all covered by the Address subnets.
kill "$mon_pid" 2>/dev/null
wait "$mon_pid" 2>/dev/null
mon_pid=
peers() {
	local i
	for ((i = $1; i < $2; i++)); do
		printf '10.0.%d.%d/32, fd90::%x/128\n' $((i >> 8 & 255)) \
			$((i & 255)) "$i"
	done
}
count() { ours | grep -c .; }
peers 1 10001 | conf s1 '192.168.90.1/24, fd91::1/64'
peers 5001 15001 | conf s2 '192.168.90.1/24, fd91::1/64'
peers 1 10001 | conf s3 '10.0.0.1/8, fd90::1/16'
routes_start "$tmp"/s{1,2}.conf
if routes_step "scale: 20,000 prefixes installed"; then
	n=$(count)
	if [ "$n" -eq 20000 ]; then
		pass "scale: 20,000 prefixes get 20,000 routes"
	else
		fail "scale: 20,000 prefixes get $n routes"
	fi
	routes_next
fi
if routes_step "scale: reload, half the peers replaced"; then
	# Peer 5000 (10.0.19.136, fd90::1388) went, peer 15000 came.
	n=$(count)
	if [ "$n" -eq 20000 ] && ! ours | grep -qx '10.0.19.136' &&
		ours | grep -qx 'fd90::3a98'; then
		pass "scale: reload leaves exactly the new config's routes"
	else
		fail "scale: reload leaves $n routes, not the new config's 20,000"
	fi
	routes_next
fi
routes_stop "scale"
routes_start "$tmp/s3.conf"
if routes_step "scale: 20,000 covered prefixes"; then
	n=$(count)
	if [ "$n" -eq 0 ]; then
		pass "scale: 20,000 covered prefixes get no route"
	else
		fail "scale: 20,000 covered prefixes get $n routes"
	fi
	routes_next
fi
routes_stop "scale, covered"

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
