#!/usr/bin/env bash
# Cryptokey routing in wgxdp, against wireguard-go (runtime about 10 s).
#
# Inbound: wireguard-go encrypts whatever its tunnel routes to wgxdp's
# address, whatever the source, so a second address on its tunnel
# interface ($SPOOF4/$SPOOF6, outside the AllowedIPs wgxdp gives that peer)
# makes authenticated packets with a wrong inner source. wgxdp must drop
# them (drop_allowedips) before its TUN: a UDP listener in A gets nothing,
# the TUN's RX count does not move, a ping from that address goes
# unanswered; from the peer's own address all of it still works.
#
# Outbound: a packet from A to an address inside A's tunnel subnet that no
# peer owns ($NOBODY4/$NOBODY6) is dropped (drop_no_route) and answered
# with ICMP unreachable: ping reports it, a TCP connect fails at once with
# EHOSTUNREACH ("No route to host").
#
#   netns wgx-<pid>-a                          netns wgx-<pid>-b
#   wgxdp wgx<pid>ta (socket mode)             wireguard-go wgx<pid>tb
#     10.201.0.1/24 fd00:201::1/64  <=======>    10.201.0.2/24 fd00:201::2/64
#     peer b: 10.201.0.2/32,                     + 10.201.0.3/24 fd00:201::3/64
#             fd00:201::2/128                      (the spoofed sources)
#     (10.201.0.99, fd00:201::99: no peer)
#   veth wgx<pid>va                            veth wgx<pid>vb
#     10.101.0.1/24 fd00:101::1/64  ---------    10.101.0.2/24 fd00:101::2/64
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

require_root_netns
require_tools wireguard-go wg jq socat ping ss
require_wgxdp

SPOOF4=10.201.0.3 SPOOF6=fd00:201::3
NOBODY4=10.201.0.99 NOBODY6=fd00:201::99
UDP4_PORT=5304 UDP6_PORT=5306

netns_pair || die "namespace pair with veth"
tunnel_pair wgxdp wggo || die "wgxdp <-> wireguard-go tunnel"

wgxdp_handshaken() {
	[ "$(wgxdp_peer "$NS_A" "$TUN_A" latest_handshake)" -gt 0 ]
}

handshake() {
	nsx "$NS_A" ping -n -c 1 -W 1 "$IN4_B" >/dev/null 2>&1
	wait_until 10 wgxdp_handshaken
}

counter() { wgxdp_counter "$NS_A" "$TUN_A" "$1"; }

# tun_rx: packets wgxdp has written into its TUN (the kernel's RX count).
tun_rx() {
	ip -n "$NS_A" -s -j link show dev "$TUN_A" |
		jq -e '.[0].stats64.rx.packets'
}

# udp_send SRC DST PORT MSG: one datagram from SRC (an address in B).
udp_send() {
	local src=$1 dst=$2 kind=UDP4
	[[ $2 == *:* ]] && kind=UDP6 src="[$1]" dst="[$2]"
	printf '%s\n' "$4" | nsx "$NS_B" socat -u - \
		"$kind-SENDTO:$dst:$3,bind=$src"
}

# spoof_send SRC DST PORT: five datagrams "spoofed-N".
spoof_send() {
	local i
	for i in 1 2 3 4 5; do
		udp_send "$1" "$2" "$3" "spoofed-$i" || return 1
	done
}

# got FILE MSG: the listener wrote a line MSG.
got() { grep -qx "$2" "$1"; }

# listen_udp PORT FAMILY FILE: every datagram to PORT in A, appended to FILE.
listen_udp() {
	: >"$3"
	spawn "$(tmpfile "udp$1.log")" ip netns exec "$NS_A" socat -u \
		"UDP$2-RECV:$1" "OPEN:$3,creat,append" || return 1
	wait_listen "$NS_A" "$1" udp
}

check "handshake started by wgxdp" handshake

# ---- inbound: a source outside the peer's AllowedIPs
check "second addresses on wireguard-go's tunnel" \
	addr_add "$NS_B" "$TUN_B" "$SPOOF4/$IN4_LEN" "$SPOOF6/$IN6_LEN"

# spoof_case FAMILY LEGIT SPOOF DST PORT
spoof_case() {
	local f=$1 legit=$2 spoof=$3 dst=$4 port=$5 file drop0 rx0 want
	file=$(tmpfile "udp$port.got")
	check "IPv$f UDP listener in A" listen_udp "$port" "$f" "$file" ||
		return
	check "IPv$f UDP from the peer's address arrives" \
		eval "udp_send $legit $dst $port legit-before &&
		      wait_until 5 got $file legit-before"

	drop0=$(counter drop_allowedips) rx0=$(tun_rx)
	check "IPv$f 5 UDP datagrams sent from $spoof" \
		spoof_send "$spoof" "$dst" "$port"
	check "IPv$f ping from $spoof gets no answer" \
		eval "! nsx $NS_B ping -n -c 3 -i 0.2 -W 1 -w 3 -I $spoof $dst"
	# Five datagrams and at least three echo requests.
	want=$((drop0 + 8))
	check "IPv$f drop_allowedips counts them (at least 8)" \
		wait_until 5 eval "[ \"\$(counter drop_allowedips)\" -ge $want ]"
	check "IPv$f nothing from $spoof reached the listener" \
		eval "! grep -q spoofed $file"
	check "IPv$f wgxdp's TUN received no packet meanwhile" \
		test "$(tun_rx)" = "$rx0"

	check "IPv$f UDP from the peer's address still arrives" \
		eval "udp_send $legit $dst $port legit-after &&
		      wait_until 5 got $file legit-after"
	# -I: with two addresses on the interface, the kernel might pick
	# the spoofed one as the source (it does for IPv6).
	check "IPv$f ping from the peer's address still works" \
		nsx "$NS_B" ping -n -q -c 3 -i 0.2 -W 1 -w 5 -I "$legit" "$dst"
}

spoof_case 4 "$IN4_B" "$SPOOF4" "$IN4_A" "$UDP4_PORT"
spoof_case 6 "$IN6_B" "$SPOOF6" "$IN6_A" "$UDP6_PORT"

# ---- outbound: a destination no peer owns

# ping_unreachable DST: ping fails and reports the ICMP unreachable.
ping_unreachable() {
	local out
	out=$(nsx "$NS_A" ping -n -c 2 -i 0.2 -W 1 -w 3 "$1" 2>&1)
	echo "$out"
	! grep -q ' 0% packet loss' <<<"$out" || {
		echo "ping to $1 was answered"
		return 1
	}
	grep -Eqi 'destination host unreachable|address unreachable' \
		<<<"$out" || {
		echo "ping to $1 saw no ICMP unreachable"
		return 1
	}
}

# connect_hostunreach DST: a TCP connect fails with EHOSTUNREACH, well
# before socat's 5 s connect timeout.
connect_hostunreach() {
	local out start took
	start=$(now_ms)
	out=$(nsx "$NS_A" socat -u - "$(sock_addr "$1" 80),connect-timeout=5" \
		</dev/null 2>&1)
	took=$(($(now_ms) - start))
	echo "$out"
	grep -q 'No route to host' <<<"$out" || {
		echo "connect to $1 did not fail with 'No route to host'"
		return 1
	}
	[ "$took" -lt 4000 ] || {
		echo "connect took $took ms"
		return 1
	}
}

for dst in "$NOBODY4" "$NOBODY6"; do
	n0=$(counter drop_no_route)
	check "ping $dst (no peer) reports unreachable" ping_unreachable "$dst"
	check "TCP connect to $dst fails with EHOSTUNREACH" \
		connect_hostunreach "$dst"
	# At least the first echo request and the SYN.
	check "drop_no_route counts the packets to $dst" \
		wait_until 5 eval "[ \"\$(counter drop_no_route)\" -ge $((n0 + 2)) ]"
done

check "ping IPv4 to the peer still works" ping_ok "$NS_A" "$IN4_B"
check "ping IPv6 to the peer still works" ping_ok "$NS_A" "$IN6_B"

finish
