#!/usr/bin/env bash
# Roaming: wireguard-go's underlay address changes under a TCP stream into
# wgxdp; wgxdp follows it to the new endpoint (the source of the next
# authenticated packet) and the stream goes on. Once over the IPv4
# underlay, once over IPv6 (runtime about 25 s).
#
# An 8 s iperf3 stream runs from B (wireguard-go) to A (wgxdp). About 3 s
# in, B's veth gets a new address in the same subnet ($NEW4/$NEW6, so A
# reaches it with no new route) and loses the old one, so wireguard-go's
# packets leave from the new one. The stream must complete with data
# received in every 1 s interval, wgxdp must show the new endpoint, and
# wgxdp must reach B there (the old address is gone).
#
#   netns wgx-<pid>-a                          netns wgx-<pid>-b
#   wgxdp wgx<pid>ta (socket mode)             wireguard-go wgx<pid>tb
#     10.201.0.1/24 fd00:201::1/64  <=======>    10.201.0.2/24 fd00:201::2/64
#   veth wgx<pid>va                            veth wgx<pid>vb
#     10.101.0.1/24 fd00:101::1/64  ---------    10.101.0.2/24 fd00:101::2/64
#                                                then 10.101.0.3/24 or
#                                                fd00:101::3/64 instead
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

require_root_netns
require_tools wireguard-go wg iperf3 jq ping ss
require_wgxdp

NEW4=10.101.0.3 NEW6=fd00:101::3
SECS=8
MOVE_AFTER=3

wgxdp_handshaken() {
	[ "$(wgxdp_peer "$NS_A" "$TUN_A" latest_handshake)" -gt 0 ]
}

handshake() {
	nsx "$NS_A" ping -n -c 1 -W 1 "$IN4_B" >/dev/null 2>&1
	wait_until 10 wgxdp_handshaken
}

endpoint_is() {
	local got
	got=$(wgxdp_peer "$NS_A" "$TUN_A" endpoint)
	[ "$got" = "$1" ] || {
		echo "wgxdp endpoint '$got', expected '$1'"
		return 1
	}
}

# move_b OLD NEW LEN: B's veth swaps its underlay address (run in the
# background by the test, after a delay).
#
# wireguard-go (Linux, sticky sockets) sends with the source address it
# last received on (IP_PKTINFO) and forgets it only when sendmsg fails
# with EINVAL. For IPv4 this kernel answers a vanished source with
# ENETUNREACH instead, so the installed wireguard-go would keep failing
# and never send from the new address; re-setting the peer's endpoint
# (unchanged) is what clears its remembered source. IPv6 needs no help.
move_b() {
	# Deleting an IPv4 primary address takes the secondaries of its
	# subnet with it, the new one included, unless they are promoted.
	nsx "$NS_B" sysctl -qw \
		"net.ipv4.conf.$VETH_B.promote_secondaries=1" || return 1
	sleep "$MOVE_AFTER" &&
		addr_add "$NS_B" "$VETH_B" "$2/$3" &&
		ip -n "$NS_B" addr del "$1/$3" dev "$VETH_B" || return 1
	if [[ $1 != *:* ]]; then
		nsx "$NS_B" wg set "$TUN_B" peer "$(pubkey a)" \
			endpoint "$UL4_A:$PORT_A" || return 1
	fi
	echo "moved at $(date +%s.%N)"
}

# b_addrs: B's underlay addresses, one a line.
b_addrs() {
	ip -n "$NS_B" -j addr show dev "$VETH_B" |
		jq -r '.[0].addr_info[].local'
}

# moved PID LOG OLD NEW: the mover finished in time, and B has NEW, not OLD.
moved() {
	local addrs
	wait_until 5 eval "! proc_alive $1" || return 1
	grep -q moved "$2" || {
		echo "the address change failed"
		return 1
	}
	addrs=$(b_addrs) || return 1
	if ! grep -qx "$4" <<<"$addrs" || grep -qx "$3" <<<"$addrs"; then
		echo "B's addresses: $addrs"
		return 1
	fi
}


# roam FAMILY: one run over the IPv4 or IPv6 underlay.
roam() {
	local f=$1 mark old new len ep_old ep_new out mover dst=$IN4_A
	mark=$(cleanup_mark)
	info "---- roaming over the IPv$f underlay"
	netns_pair || die "namespace pair with veth"
	tunnel_pair wgxdp wggo "$f" || die "wgxdp <-> wireguard-go tunnel"
	if [ "$f" = 6 ]; then
		old=$UL6_B new=$NEW6 len=$UL6_LEN
		ep_old="[$old]:$PORT_B" ep_new="[$new]:$PORT_B"
	else
		old=$UL4_B new=$NEW4 len=$UL4_LEN
		ep_old="$old:$PORT_B" ep_new="$new:$PORT_B"
	fi
	check "IPv$f handshake" handshake
	check "IPv$f endpoint before: $ep_old" endpoint_is "$ep_old"

	out=$(tmpfile "iperf$f.json")
	spawn "$(tmpfile "move$f.log")" move_b "$old" "$new" "$len"
	mover=$SPAWNED
	check "IPv$f iperf3 ${SECS}s B->A across the move" \
		iperf_run "$NS_A" "$NS_B" "$dst" "$out" "$SECS"
	check "IPv$f B's address moved during the stream" \
		moved "$mover" "$(tmpfile "move$f.log")" "$old" "$new"
	check "IPv$f no stall: data in every interval" \
		iperf_every_interval_moved "$out" "$SECS"
	check "IPv$f wgxdp shows the new endpoint $ep_new" endpoint_is "$ep_new"
	check "IPv$f wgxdp reaches B at its new address" \
		ping_ok "$NS_A" "$IN4_B"
	cleanup_to "$mark"
}

roam 4
roam 6

finish
