#!/usr/bin/env bash
# timeout: 400
# Offloads of the socket datapath (datapath.h): TUN TSO/USO and checksum
# offload, TCP segments merged on TUN writes, UDP GSO sends and UDP GRO
# receives. Whatever each side uses, data must arrive intact, against
# wgxdp and wireguard-go alike:
#
#   run  A (client side)             B (server side)          underlay
#   1    wgxdp, all offloads         wgxdp, all offloads      IPv4
#   2    wgxdp, all                  wgxdp, none              IPv6
#   3    wgxdp, none                 wgxdp, all               IPv4
#   4    wgxdp, all                  wireguard-go             IPv4
#   5    wireguard-go                wgxdp, all               IPv6
#   6    wgxdp, all, over a veth of MTU 1400: a 1452-byte datagram needs
#        fragments, which UDP GSO refuses (EMSGSIZE or EINVAL); wgxdp
#        sends that batch one datagram at a time and keeps UDP GSO for
#        the rest (only EIO turns it off)               wgxdp, all  IPv4
#
# Every run: TCP 20 MiB A->B over inner IPv4 and B->A over inner IPv6,
# compared by SHA-256; pings both ways; a burst of UDP_SEGMENT datagrams
# from A (one USO super-packet per send for a USO-capable TUN) checked
# datagram by datagram at B; no malformed, send or TUN-write drops in any
# wgxdp. Run 1 also proves the offloads were used: fewer TUN reads and
# UDP sends than data packets.
#
#   netns wgx-<pid>-a                          netns wgx-<pid>-b
#   wgxdp | wireguard-go wgx<pid>ta            wgxdp | wireguard-go wgx<pid>tb
#     10.201.0.1/24 fd00:201::1/64  <=======>    10.201.0.2/24 fd00:201::2/64
#   veth wgx<pid>va                            veth wgx<pid>vb
#     10.101.0.1/24 fd00:101::1/64  ---------    10.101.0.2/24 fd00:101::2/64
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

require_root_netns
require_tools wireguard-go wg jq socat ping ss nstat
require_wgxdp
UDP_GSO=$(dirname "$WGXDP")/tests/netns/udp_gso
[ -x "$UDP_GSO" ] || skip_all "missing $UDP_GSO (make builds it)"

XFER_MB=20

# side KIND OFFLOADS NS UL TUN KEY PORT IN4 IN6 PEER_PUB ALLOWED ENDPOINT:
# one end of the tunnel; OFFLOADS is WGXDP_OFFLOADS for wgxdp.
side() {
	local kind=$1 off=$2
	shift 2
	WGXDP_OFFLOADS=$off tunnel_side "$kind" "$@"
}

# setup KIND_A OFF_A KIND_B OFF_B UL [small-mtu]: the topology for one run.
setup() {
	local ka=$1 oa=$2 kb=$3 ob=$4 ul=$5 ea eb
	netns_pair || return 1
	if [ "${6:-}" = small-mtu ]; then
		ip -n "$NS_A" link set "$VETH_A" mtu 1400 &&
			ip -n "$NS_B" link set "$VETH_B" mtu 1400 || return 1
	fi
	TUN_A=$(if_name ta) && TUN_B=$(if_name tb) || return 1
	keygen a && keygen b || return 1
	if [ "$ul" = 6 ]; then
		ea="[$UL6_A]:$PORT_A" eb="[$UL6_B]:$PORT_B"
	else
		ea="$UL4_A:$PORT_A" eb="$UL4_B:$PORT_B"
	fi
	side "$ka" "$oa" "$NS_A" "$VETH_A" "$TUN_A" a "$PORT_A" \
		"$IN4_A/$IN4_LEN" "$IN6_A/$IN6_LEN" "$(pubkey b)" \
		"$IN4_B/32,$IN6_B/128" "$eb" || return 1
	side "$kb" "$ob" "$NS_B" "$VETH_B" "$TUN_B" b "$PORT_B" \
		"$IN4_B/$IN4_LEN" "$IN6_B/$IN6_LEN" "$(pubkey a)" \
		"$IN4_A/32,$IN6_A/128" "$ea" || return 1
	wait_handshake "$NS_A" "$TUN_A" "$IN4_B" 10
}

# uso_burst: 50 sends of 40 x 1200-byte datagrams from A to B: every
# datagram that arrives is intact, and at least half arrive (UDP may
# lose some when a busy machine stalls a thread for tens of ms).
uso_burst() {
	local log pid n=0 got
	log=$(tmpfile uso.log)
	spawn "$log" timeout 30 ip netns exec "$NS_B" "$UDP_GSO" recv 5301 \
		2000 3000
	pid=$SPAWNED
	wait_until 5 grep -q listening "$log" || return 1
	ip netns exec "$NS_A" "$UDP_GSO" send "$IN4_B" 5301 1200 40 50 ||
		return 1
	while proc_alive "$pid" && [ "$n" -lt 100 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	got=$(awk '/^received/ { print $2, $4 }' "$log")
	echo "USO burst: received bad = $got (of 2000)"
	read -r n bad <<<"$got"
	[ "${bad:-1}" = 0 ] && [ "${n:-0}" -ge 1000 ]
}

# no_drops TUN NS: wgxdp counted no malformed, send or TUN-write drop.
no_drops() {
	local ns=$1 tun=$2 c v bad=
	for c in drop_malformed drop_send_error drop_tun_error drop_bad_inner; do
		v=$(wgxdp_counter "$ns" "$tun" "$c") || return 1
		[ "$v" = 0 ] || bad="$bad $c=$v"
	done
	[ -z "$bad" ] || { echo "drops:$bad" >&2; return 1; }
}

# offloads_used: in A, fewer TUN reads than data packets (TSO) and fewer
# UDP sends than data packets (GSO); in B, fewer TUN writes (merge).
offloads_used() {
	local sent tunrd udpout rcvd tunwr
	sent=$(wgxdp_counter "$NS_A" "$TUN_A" tx_data)
	rcvd=$(wgxdp_counter "$NS_B" "$TUN_B" rx_data)
	tunrd=$(ip -n "$NS_A" -j -s link show "$TUN_A" | jq '.[0].stats64.tx.packets')
	tunwr=$(ip -n "$NS_B" -j -s link show "$TUN_B" | jq '.[0].stats64.rx.packets')
	udpout=$(ip netns exec "$NS_A" nstat -az UdpOutDatagrams |
		awk '$1 == "UdpOutDatagrams" { print $2 }')
	echo "A: $sent data packets from $tunrd TUN reads in $udpout UDP sends;" \
		"B: $rcvd data packets in $tunwr TUN writes"
	[ "$tunrd" -lt $((sent / 4)) ] && [ "$udpout" -lt $((sent / 4)) ] &&
		[ "$tunwr" -lt $((rcvd / 4)) ]
}

# offloads_are NS TUN WANT: what `wgxdp show` says the datapath uses.
offloads_are() {
	local got
	got=$(wgxdp_show "$1" "$2" | jq -r .offloads) || return 1
	[ "$got" = "$3" ] || { echo "offloads: '$got', expected '$3'" >&2; return 1; }
}

# run N KIND_A OFF_A KIND_B OFF_B UL [small-mtu]
run() {
	local n=$1 mark
	shift
	mark=$(cleanup_mark)
	info "run $n: A $1 ($2), B $3 ($4), IPv$5 underlay ${6:-}"
	if ! setup "$@"; then
		fail "run $n: setup" "tunnel did not come up"
		cleanup_to "$mark"
		return
	fi
	check "run $n: ping IPv4 A->B" ping_ok "$NS_A" "$IN4_B"
	check "run $n: ping IPv6 B->A" ping_ok "$NS_B" "$IN6_A"
	check "run $n: TCP $XFER_MB MiB A->B inner IPv4" \
		tcp_transfer "$NS_B" "$IN4_B" "$NS_A" "$XFER_MB"
	check "run $n: TCP $XFER_MB MiB B->A inner IPv6" \
		tcp_transfer "$NS_A" "$IN6_A" "$NS_B" "$XFER_MB" 5002
	check "run $n: UDP_SEGMENT burst A->B intact" uso_burst
	[ "$1" = wgxdp ] && check "run $n: no drops in A" no_drops "$NS_A" "$TUN_A"
	[ "$3" = wgxdp ] && check "run $n: no drops in B" no_drops "$NS_B" "$TUN_B"
	if [ "$n" = 1 ]; then
		check "run 1: offloads in use" offloads_used
		check "run 1: A shows every offload" offloads_are "$NS_A" \
			"$TUN_A" "tun tun-gro udp-gso udp-gro"
	fi
	[ "$n" = 2 ] && check "run 2: B shows no offloads" \
		offloads_are "$NS_B" "$TUN_B" none
	if [ "$n" = 6 ]; then
		check "run 6: A's GSO sends were refused and resent" \
			counter_positive "$NS_A" "$TUN_A" tx_gso_refused
		check "run 6: A keeps UDP GSO after a refusal" \
			offloads_are "$NS_A" "$TUN_A" \
			"tun tun-gro udp-gso udp-gro"
	fi
	cleanup_to "$mark"
}

# counter_positive NS TUN NAME: the wgxdp counter NAME is above 0.
counter_positive() {
	local v
	v=$(wgxdp_counter "$1" "$2" "$3")
	echo "$3 = $v"
	[ "$v" -gt 0 ]
}

run 1 wgxdp all wgxdp all 4
run 2 wgxdp all wgxdp none 6
run 3 wgxdp none wgxdp all 4
run 4 wgxdp all wggo - 4
run 5 wggo - wgxdp all 6
run 6 wgxdp all wgxdp all 4 small-mtu
finish
