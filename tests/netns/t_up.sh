#!/usr/bin/env bash
# timeout: 180
# modes: auto
# workers: default
# `wgxdp up` as wireguard-go: configured by wg alone, outer packets
# marked by `wg set fwmark`, any MTU up to 64 KiB (jumbo and 60,000-byte
# pings through, the daemon's memory bounded), the TUN moved to another
# namespace (as the kernel's own WireGuard selftest does) still served
# by the daemon and its sockets where they started, its MTU followed
# there, and its deletion there ending the daemon. Then the underlay:
# --underlay and WGXDP_UNDERLAY put XDP on it, `auto` takes the default
# route's interface; and what `up` refuses. Runs in about 30 s.
#
#   netns ...-c (later)     netns ...-a                  netns ...-b
#   wgx<pid>ta moved here   wgxdp up wgx<pid>ta  -veth-  wireguard-go
#   10.201.0.1/24           (sockets stay here)           wgx<pid>tb
#                           10.101.0.1                    10.201.0.2/24
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

require_root_netns
require_tools wireguard-go wg jq ping
require_wgxdp

netns_pair || die "namespaces"
NS_C=$(ns_name c)
ns_create "$NS_C" || die "namespace c"
{ TUN_A=$(if_name ta) && TUN_B=$(if_name tb) && TUN_U=$(if_name tu); } ||
	die "names"
{ keygen a && keygen b; } || die "keys"
declare -A UP_NS=()

# start_up NS TUN [ARGS...]: `wgxdp up` (env WGXDP_UNDERLAY passes).
start_up() {
	local ns=$1 tun=$2
	shift 2
	register wgxdp "$ns" - "$tun"
	register if "$tun"
	UP_NS[$tun]=$ns
	on_exit stop_up "$tun"
	timeout 30 ip netns exec "$ns" "$WGXDP" up "$tun" "$@" \
		>>"$WGX_TMP/up-$tun.log" 2>&1 </dev/null {WGX_OUT}>&- ||
		{ tail -n 3 "$WGX_TMP/up-$tun.log" >&2; return 1; }
	WGX_PID[$tun]=$(head -n 1 "/run/wgxdp/$tun.pid" 2>/dev/null)
}

# stop_up TUN: delete the interface wherever it is; the daemon follows.
stop_up() {
	local pid=${WGX_PID[$1]:-} ns
	for ns in "${UP_NS[$1]:-}" "$NS_A" "$NS_C"; do
		[ -n "$ns" ] && ip -n "$ns" link del "$1" 2>/dev/null
	done
	[ -n "$pid" ] || return 0
	wait_until 5 eval "! proc_alive $pid" 2>/dev/null || stop_pid "$pid"
	unset "WGX_PID[$1]"
}

setup_b() {
	start_wggo "$NS_B" "$TUN_B" && wg_setup "$NS_B" "$TUN_B" b "$PORT_B" &&
		wg_peer "$NS_B" "$TUN_B" "$(pubkey a)" "$IN4_A/32" \
			"$UL4_A:$PORT_A" &&
		tun_up "$NS_B" "$TUN_B" "$IN4_B/$IN4_LEN"
}

configure_a() {
	ip netns exec "$NS_A" wg set "$TUN_A" private-key "$(keyfile a)" \
		listen-port "$PORT_A" peer "$(pubkey b)" allowed-ips "$IN4_B/32" \
		endpoint "$UL4_B:$PORT_B" &&
		tun_up "$NS_A" "$TUN_A" "$IN4_A/$IN4_LEN"
}

check "up" start_up "$NS_A" "$TUN_A"
setup_b || die "B"
check "configured by wg alone" configure_a
check "traffic A -> B" ping_ok "$NS_A" "$IN4_B"

# ---- fwmark: outer packets carry it -------------------------------------

# A rule sends packets marked 0x77 to a blackhole: with the mark set the
# tunnel goes dark, without it it comes back.
marked() {
	ip -n "$NS_A" rule add fwmark 0x77 table 77 priority 100 &&
		ip -n "$NS_A" route add blackhole default table 77 || return 1
	ip netns exec "$NS_A" wg set "$TUN_A" fwmark 0x77 || return 1
	if ping_ok "$NS_A" "$IN4_B" 2 >/dev/null 2>&1; then
		echo "marked packets were not caught by the rule"
		return 1
	fi
	ip netns exec "$NS_A" wg set "$TUN_A" fwmark 0 &&
		ping_ok "$NS_A" "$IN4_B"
}
check "wg set fwmark marks the outer packets" marked
ip -n "$NS_A" rule del fwmark 0x77 table 77 2>/dev/null

# ---- MTU up to 64 KiB ------------------------------------------------------

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
RSS0=$(rss_kb "${WGX_PID[$TUN_A]}")

mtu_both() {
	ip -n "$NS_A" link set "$TUN_A" mtu "$1" &&
		ip -n "$NS_B" link set "$TUN_B" mtu "$1"
}

# big_ping SIZE: one echo of SIZE bytes of payload, not fragmented inside
# the tunnel (the outer UDP is, over the 1500-byte veth).
big_ping() {
	ip netns exec "$NS_A" ping -n -q -c 1 -W 1 -M "do" -s "$1" "$IN4_B"
}

# Both daemons follow a new MTU within a second or two (a loaded machine
# takes longer): retried for up to 10 s.
mtu_ping() {
	mtu_both "$1" && wait_until 10 big_ping "$2"
}

# At an MTU of 64 KiB a send area sized from the MTU alone would take
# 25 MiB per batch (four per worker): the daemon must stay far below.
rss_bounded() {
	local rss
	rss=$(rss_kb "${WGX_PID[$TUN_A]}") || return 1
	info "RSS $RSS0 kB at MTU 1420, $rss kB at 65535"
	[ $((rss - RSS0)) -lt 65536 ]
}

back_to_1420() {
	mtu_both 1420 && wait_until 10 ping_ok "$NS_A" "$IN4_B"
}

check "MTU 9000: 8,900-byte pings" mtu_ping 9000 8900
check "MTU 65535: 60,000-byte pings" mtu_ping 65535 60000
check "MTU 65535: the daemon's memory stays bounded" rss_bounded
check "MTU back to 1420: traffic" back_to_1420

# ---- moved to another namespace ------------------------------------------

move() {
	ip -n "$NS_A" link set "$TUN_A" netns "$NS_C" &&
		UP_NS[$TUN_A]=$NS_C &&
		tun_up "$NS_C" "$TUN_A" "$IN4_A/$IN4_LEN"
}
check "the TUN moves to another namespace" move
check "from there, traffic through the daemon's sockets here" \
	ping_ok "$NS_C" "$IN4_B"
wg_there() {
	ip netns exec "$NS_C" wg show "$TUN_A" | grep -q "latest handshake"
}

big_ping_there() {
	ip netns exec "$NS_C" ping -n -q -c 1 -W 1 -M "do" -s 8000 "$IN4_B"
}

# No netlink event crosses namespaces: the daemon looks at the TUN every
# second. Retried for up to 10 s.
mtu_there() {
	ip -n "$NS_C" link set "$TUN_A" mtu 9000 &&
		ip -n "$NS_B" link set "$TUN_B" mtu 9000 &&
		wait_until 10 big_ping_there
}

check "wg there sees it" wg_there
check "its MTU changed there is followed: 8,000-byte pings" mtu_there
deleted_there() {
	local pid=${WGX_PID[$TUN_A]}
	ip -n "$NS_C" link del "$TUN_A" &&
		wait_until 5 eval "! proc_alive $pid" &&
		wait_until 2 test ! -e "/var/run/wireguard/$TUN_A.sock"
}
check "deleted there: the daemon ends within 5 s, its socket too" \
	deleted_there

# ---- the underlay -----------------------------------------------------------

underlay_env() {
	WGXDP_UNDERLAY=$VETH_A start_up "$NS_A" "$TUN_U" || return 1
	wgxdp_show "$NS_A" "$TUN_U" |
		jq -e --arg u "$VETH_A" '.underlay == $u and .mode != "socket"'
}
check "WGXDP_UNDERLAY: XDP on that interface" underlay_env
traffic_u() {
	ip netns exec "$NS_A" wg set "$TUN_U" private-key "$(keyfile a)" \
		listen-port "$PORT_A" peer "$(pubkey b)" allowed-ips "$IN4_B/32" \
		endpoint "$UL4_B:$PORT_B" &&
		tun_up "$NS_A" "$TUN_U" "$IN4_A/$IN4_LEN" &&
		ping_ok "$NS_A" "$IN4_B" &&
		[ "$(wgxdp_counter "$NS_A" "$TUN_U" pass_handshake)" -gt 0 ]
}
check "with XDP: traffic, handshakes seen by the classifier" traffic_u
stop_up "$TUN_U"

refuses() {
	local out
	if out=$(ip netns exec "$NS_A" "$WGXDP" up "$@" 2>&1 </dev/null); then
		echo "up $* succeeded"
		return 1
	fi
	echo "$out"
	grep -q "$1" <<<"$out" || grep -q "up:" <<<"$out"
}
check "up refuses an existing interface" refuses "$VETH_A"
check "up refuses a bad name" refuses "bad/name"
check "up refuses --mode native without an underlay" \
	refuses "$TUN_U" --mode native
check "up --underlay auto without a default route: refused" \
	refuses "$TUN_U" --underlay auto
auto_underlay() {
	ip -n "$NS_A" route add default via "$UL4_B" &&
		start_up "$NS_A" "$TUN_U" --underlay auto &&
		wgxdp_show "$NS_A" "$TUN_U" |
		jq -e --arg u "$VETH_A" '.underlay == $u'
}

# Only A's tunnels of the test exist: the refused ones made nothing.
nothing_left() {
	[ "$(ip -n "$NS_A" -o link show type tun | wc -l)" -eq 1 ]
}

check "up --underlay auto: the default route's interface" auto_underlay
check "nothing of the refused ones is left" nothing_left

finish
