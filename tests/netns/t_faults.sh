#!/usr/bin/env bash
# timeout: 200
# modes: auto
# workers: default
# Faults, each timed: the tunnel must come back by itself, and the daemon
# must say what happened in its log (run in the foreground for that).
# - kill -9 of wgxdp during traffic, then attach: both ways ping again
#   within 5 s of attach returning;
# - wireguard-go restarts with the same keys: within one REKEY_TIMEOUT
#   plus jitter (5.333 s) of it being configured again;
# - the underlay goes down and up: "is down" / "is up again" lines, and
#   pings within 5 s of the link being up;
# - its address changes: "new address" / "lost address" lines, wireguard-go
#   roams to the new one, pings within 5 s;
# - its MTU drops below what a full tunnel packet needs: a line that says
#   so and what to do; small packets still pass, and full ones again once
#   the MTU is back.
#
#   netns wgx-<pid>-a                          netns wgx-<pid>-b
#   wgxdp wgx<pid>ta (--foreground)            wireguard-go wgx<pid>tb
#     10.201.0.1/24 fd00:201::1/64  <=======>    10.201.0.2/24 fd00:201::2/64
#   veth wgx<pid>va                            veth wgx<pid>vb
#     10.101.0.1/24 (later .11)     ---------    10.101.0.2/24
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

require_root_netns
require_tools wireguard-go wg jq ping
require_wgxdp

netns_pair || die "namespace pair with veth"
TUN_A=$(if_name ta) || die "names"
TUN_B=$(if_name tb) || die "names"
keygen a || die "keys"
keygen b || die "keys"
tunnel_side wggo "$NS_B" "$VETH_B" "$TUN_B" b "$PORT_B" \
	"$IN4_B/$IN4_LEN" "$IN6_B/$IN6_LEN" "$(pubkey a)" \
	"$IN4_A/32,$IN6_A/128" "$UL4_A:$PORT_A" || die "wireguard-go side"
CONF_A=$WGX_TMP/$TUN_A.conf
write_wgxdp_conf "$CONF_A" a "$PORT_A" "$IN4_A/$IN4_LEN, $IN6_A/$IN6_LEN" \
	"$(pubkey b)" "$IN4_B/32,$IN6_B/128" "$UL4_B:$PORT_B" ||
	die "wgxdp config"
LOG=$(tmpfile "wgxdp-fg.log")
: >"$LOG"

# start_fg: attach in the foreground (the log is the daemon's), return
# once its control socket answers; pid in FG.
FG=
start_fg() {
	register wgxdp "$NS_A" "$VETH_A" "$TUN_A"
	register if "$TUN_A"
	ip netns exec "$NS_A" "$WGXDP" attach "$VETH_A" --config "$CONF_A" \
		--name "$TUN_A" --mode "${WGX_MODE:-auto}" --foreground \
		>>"$LOG" 2>&1 </dev/null {WGX_OUT}>&- &
	FG=$!
	register pid "$FG" "$(proc_start "$FG")" "$WGXDP"
	WGX_PID[$TUN_A]=$FG
	WGX_ATTACHED[$TUN_A]=1
	wait_until 15 eval "ip netns exec $NS_A $WGXDP show $TUN_A"
}
on_exit stop_wgxdp "$NS_A" "$VETH_A" "$TUN_A"

# both_ways_within S: pings both ways succeed within S seconds; prints the
# time it took (ms since the call).
both_ways_within() {
	local t0 deadline ok_a='' ok_b=''
	t0=$(now_ms)
	deadline=$((t0 + $1 * 1000))
	while [ "$(now_ms)" -lt "$deadline" ]; do
		[ -n "$ok_a" ] || ip netns exec "$NS_A" ping -n -q -c 1 -W 0.3 \
			"$IN4_B" >/dev/null 2>&1 && ok_a=1
		[ -n "$ok_b" ] || ip netns exec "$NS_B" ping -n -q -c 1 -W 0.3 \
			"$IN4_A" >/dev/null 2>&1 && ok_b=1
		if [ -n "$ok_a" ] && [ -n "$ok_b" ]; then
			info "${WHAT:-}: both ways after $(($(now_ms) - t0)) ms"
			return 0
		fi
	done
	echo "after $1 s: A->B ${ok_a:-no}, B->A ${ok_b:-no}"
	return 1
}

log_has() { grep -q -- "$1" "$LOG" || { tail -n 5 "$LOG"; return 1; }; }

check "attach" start_fg
check "tunnel works" both_ways_within 10

# ---- kill -9 during traffic, then attach

crash_and_back() {
	local t0
	spawn "$WGX_TMP/flood.log" ip netns exec "$NS_B" ping -n -q -i 0.01 \
		-w 30 "$IN4_A"
	sleep 1
	kill -KILL "$FG" && wait_until 5 eval "! proc_alive $FG" || return 1
	unset "WGX_ATTACHED[$TUN_A]"
	wait_until 5 eval "! ip -n $NS_A link show $TUN_A" || return 1
	t0=$(now_ms)
	start_fg || return 1
	info "kill -9: attach took $(($(now_ms) - t0)) ms"
	WHAT="kill -9, from attach's return" both_ways_within 5
}
check "kill -9 during traffic, attach: back within 5 s" crash_and_back

# ---- the peer restarts with the same keys

peer_restart() {
	stop_wggo "$TUN_B"
	sleep 1
	start_wggo "$NS_B" "$TUN_B" && wg_setup "$NS_B" "$TUN_B" b "$PORT_B" &&
		wg_peer "$NS_B" "$TUN_B" "$(pubkey a)" "$IN4_A/32,$IN6_A/128" \
			"$UL4_A:$PORT_A" &&
		tun_up "$NS_B" "$TUN_B" "$IN4_B/$IN4_LEN" "$IN6_B/$IN6_LEN" ||
		return 1
	# REKEY_TIMEOUT (5 s) plus the most jitter (333 ms), rounded up.
	WHAT="peer restart, from its configuration" both_ways_within 6
}
check "wireguard-go restarts with the same keys: back within 5.3 s" \
	peer_restart

# ---- the underlay goes down and up

down_up() {
	ip -n "$NS_A" link set "$VETH_A" down || return 1
	wait_until 5 log_has "$VETH_A is down" || return 1
	ip netns exec "$NS_A" ping -n -q -c 1 -W 1 "$IN4_B" >/dev/null &&
		{ echo "a ping passed with the underlay down"; return 1; }
	sleep 1
	ip -n "$NS_A" link set "$VETH_A" up || return 1
	wait_until 5 log_has "$VETH_A is up again" || return 1
	WHAT="underlay down and up" both_ways_within 5
}
check "underlay down and up: said so, back within 5 s" down_up

# ---- the underlay's address changes

NEW4=10.101.0.11
readdress() {
	# Old one first: deleting a primary address takes its secondaries.
	ip -n "$NS_A" addr del "$UL4_A/$UL4_LEN" dev "$VETH_A" &&
		ip -n "$NS_A" addr add "$NEW4/$UL4_LEN" dev "$VETH_A" ||
		return 1
	wait_until 5 log_has "new address $NEW4" || return 1
	wait_until 5 log_has "lost address $UL4_A" || return 1
	WHAT="new underlay address" both_ways_within 5 || return 1
	ip netns exec "$NS_B" wg show "$TUN_B" endpoints | grep -q "$NEW4:" ||
		{ ip netns exec "$NS_B" wg show "$TUN_B" endpoints; return 1; }
}
check "underlay address changes: said so, peer roams, back within 5 s" \
	readdress

# ---- the underlay's MTU drops

big_ping() {
	ip netns exec "$NS_A" ping -n -q -c 2 -i 0.2 -W 1 -M "do" -s 1372 "$IN4_B"
}

mtu_drop() {
	big_ping >/dev/null || { echo "full-size ping failed before"; return 1; }
	ip -n "$NS_A" link set "$VETH_A" mtu 1300 || return 1
	wait_until 5 log_has "MTU is now 1300, below" || return 1
	ping_ok "$NS_A" "$IN4_B" || { echo "small pings fail"; return 1; }
	big_ping >/dev/null && { echo "a full-size ping passed"; return 1; }
	ip -n "$NS_A" link set "$VETH_A" mtu 1500 || return 1
	wait_until 5 log_has "MTU is now 1500" || return 1
	wait_until 5 big_ping
}
check "underlay MTU below the tunnel's: said so, full packets back after" \
	mtu_drop

info "daemon log: $(grep -ci underlay "$LOG") underlay lines"
grep -i underlay "$LOG" | sed 's/^/# /'
finish
