#!/usr/bin/env bash
# timeout: 120
# A daemon killed with SIGKILL leaves its pidfile and control socket in
# /run/wgxdp. The next `wgxdp attach` of that TUN reclaims them (and says
# so) and the tunnel works again with the same wireguard-go peer; a
# `detach` then leaves nothing. `wgxdp detach` after a crash also clears
# the leftovers, with a message. Runs in about 10 s.
#
#   netns wgx-<pid>-a                          netns wgx-<pid>-b
#   wgxdp wgx<pid>ta (killed, re-attached)     wireguard-go wgx<pid>tb
#     10.201.0.1/24 fd00:201::1/64  <=======>    10.201.0.2/24 fd00:201::2/64
#   veth wgx<pid>va                            veth wgx<pid>vb
#     10.101.0.1/24 fd00:101::1/64  ---------    10.101.0.2/24 fd00:101::2/64
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

require_root_netns
require_tools wireguard-go wg jq ping
require_wgxdp

netns_pair || die "namespace pair with veth"
tunnel_pair wgxdp wggo || die "wgxdp <-> wireguard-go tunnel"
CONF_A=$(tmpfile "$TUN_A.conf")
LOG_A=$(tmpfile "wgxdp-$TUN_A.log")

works() {
	wait_handshake "$NS_A" "$TUN_A" "$IN4_B" 10 &&
		ping_ok "$NS_A" "$IN4_B" && ping_ok "$NS_B" "$IN4_A" &&
		ping_ok "$NS_A" "$IN6_B"
}

check "tunnel works before the crash" works

# crash: SIGKILL the daemon (pid from the pidfile's first line) and wait
# for it to be gone; its pidfile and socket stay, its TUN goes with it.
crash() {
	local pid
	pid=$(head -n 1 "/run/wgxdp/$TUN_A.pid") && [ -n "$pid" ] || return 1
	proc_alive "$pid" || { echo "daemon $pid not running"; return 1; }
	kill -KILL "$pid" &&
		wait_until 5 eval "! proc_alive $pid" || return 1
	{ [ -e "/run/wgxdp/$TUN_A.pid" ] && [ -S "/run/wgxdp/$TUN_A.sock" ]; } ||
		{ echo "no stale pidfile and socket to reclaim"; return 1; }
	wait_until 5 eval "! ip -n $NS_A link show $TUN_A"
}

# show_hides_stale: show (text and JSON) in A exits 0 and lists nothing.
show_hides_stale() {
	local out
	out=$(ip netns exec "$NS_A" "$WGXDP" show) || return 1
	[ -z "$out" ] || { echo "show printed: $out"; return 1; }
	out=$(ip netns exec "$NS_A" "$WGXDP" show --json) || return 1
	[ "$(jq -c . <<<"$out")" = "[]" ] ||
		{ echo "show --json printed: $out"; return 1; }
}

# reattach: the same attach again; it must succeed and tell of the stale
# instance it removed.
reattach() {
	: >"$LOG_A"
	start_wgxdp "$NS_A" "$VETH_A" "$CONF_A" "$TUN_A" || return 1
	cat "$LOG_A"
	grep -qi "stale" "$LOG_A" ||
		{ echo "attach said nothing about the stale instance"; return 1; }
}

# detach_clean: `wgxdp detach` succeeds and nothing of the instance is
# left.
detach_clean() {
	local pid=${WGX_PID[$TUN_A]:-}
	timeout 15 ip netns exec "$NS_A" "$WGXDP" detach "$VETH_A" ||
		return 1
	unset "WGX_ATTACHED[$TUN_A]"
	[ -z "$pid" ] || wait_until 5 eval "! proc_alive $pid" ||
		{ echo "daemon $pid outlived detach"; return 1; }
	wgxdp_gone "$NS_A" "$TUN_A"
}

check "kill -9: daemon gone, TUN gone, pidfile and socket stale" crash
check "show after the crash: exit 0, lists nothing" show_hides_stale
check "attach again reclaims the stale files, with a message" reattach
check "tunnel works after the re-attach (new handshake)" works
check "detach leaves no TUN, no /run/wgxdp files, no daemon" detach_clean

# ---- a crash cleared by `detach` instead of `attach`

DETACH_OUT=$(tmpfile detach.out)

# detach_reaps: after a crash, detach removes the stale files and says
# so (it has nothing to stop, so it also says that).
detach_reaps() {
	timeout 15 ip netns exec "$NS_A" "$WGXDP" detach "$VETH_A" \
		>"$DETACH_OUT" 2>&1
	cat "$DETACH_OUT"
	grep -qi "stale" "$DETACH_OUT" ||
		{ echo "detach said nothing about the stale instance"; return 1; }
	wgxdp_gone "$NS_A" "$TUN_A"
}

check "attach once more" start_wgxdp "$NS_A" "$VETH_A" "$CONF_A" "$TUN_A"
check "tunnel works" works
check "kill -9 again" crash
unset "WGX_ATTACHED[$TUN_A]"
check "detach after the crash removes the stale files, with a message" \
	detach_reaps
# attach_fresh: attach succeeds and has nothing stale to report.
attach_fresh() {
	: >"$LOG_A"
	start_wgxdp "$NS_A" "$VETH_A" "$CONF_A" "$TUN_A" || return 1
	! grep -i stale "$LOG_A"
}
check "attach after that works without reclaiming anything" attach_fresh
check "tunnel works at the end" works

finish
