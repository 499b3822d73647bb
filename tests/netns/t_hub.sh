#!/usr/bin/env bash
# timeout: 180
# Hub and spoke, the layout of the usual WireGuard set-up guides: the hub
# (wgxdp) has one [Peer] per spoke with that spoke's /32 and /128; each
# spoke has only the hub as peer, with the whole VPN subnet as AllowedIPs.
# Spoke-to-spoke traffic enters the hub's TUN and leaves by the same TUN
# (IP forwarding on in the hub's namespace). A spoke that forges the other
# spoke's inner address gets nothing through. Runs in about 20 s.
#
#                      netns wgx-<pid>-seg: bridge wgx<pid>br
#                  +--------------+----------------+
#            wgx<pid>bh      wgx<pid>b1       wgx<pid>b2
#                  |              |                |
#   netns ...-hub  |  netns ...-s1|  netns ...-s2  |
#   veth wgx<pid>h |  veth wgx<pid>s1  veth wgx<pid>s2
#     10.102.0.1   |    10.102.0.2     10.102.0.3 (/24, fd00:102::1-3/64)
#   wgxdp wgx<pid>th   wgxdp wgx<pid>t1   wireguard-go wgx<pid>t2
#     10.77.0.1/24       10.77.0.2/24       10.77.0.3/24
#     fd00:77::1/64      fd00:77::2/64      fd00:77::3/64
#     peers: s1 .2/32,   peer: hub          peer: hub
#            s2 .3/32    10.77.0.0/24       10.77.0.0/24
#     ip_forward=1       (endpoint hub)     (endpoint hub)
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

require_root_netns
require_tools wireguard-go wg jq socat ping ss
require_wgxdp

UL_HUB=10.102.0.1 UL_S1=10.102.0.2 UL_S2=10.102.0.3
UL6_HUB=fd00:102::1 UL6_S1=fd00:102::2 UL6_S2=fd00:102::3
VPN_HUB=10.77.0.1 VPN_S1=10.77.0.2 VPN_S2=10.77.0.3
VPN6_HUB=fd00:77::1 VPN6_S1=fd00:77::2 VPN6_S2=fd00:77::3
PORT_HUB=51820 PORT_S1=51821 PORT_S2=51822

segment() {
	NS_SEG=$(ns_name seg) NS_HUB=$(ns_name hub)
	NS_S1=$(ns_name s1) NS_S2=$(ns_name s2)
	BR=$(if_name br) && IF_HUB=$(if_name h) && IF_S1=$(if_name s1) &&
		IF_S2=$(if_name s2) || return 1
	bridge_create "$NS_SEG" "$BR" && ns_create "$NS_HUB" &&
		ns_create "$NS_S1" && ns_create "$NS_S2" || return 1
	bridge_join "$NS_HUB" "$IF_HUB" "$NS_SEG" "$BR" "$(if_name bh)" \
		"$UL_HUB/24" "$UL6_HUB/64" &&
		bridge_join "$NS_S1" "$IF_S1" "$NS_SEG" "$BR" "$(if_name b1)" \
			"$UL_S1/24" "$UL6_S1/64" &&
		bridge_join "$NS_S2" "$IF_S2" "$NS_SEG" "$BR" "$(if_name b2)" \
			"$UL_S2/24" "$UL6_S2/64" || return 1
	ip netns exec "$NS_HUB" sysctl -qw net.ipv4.ip_forward=1 \
		net.ipv6.conf.all.forwarding=1 || return 1
	wait_until 10 nsx "$NS_S1" ping -c 1 -W 1 "$UL_HUB" &&
		wait_until 10 nsx "$NS_S2" ping -c 1 -W 1 "$UL_HUB"
}

tunnels() {
	local conf
	TUN_HUB=$(if_name th) && TUN_S1=$(if_name t1) &&
		TUN_S2=$(if_name t2) || return 1
	keygen hub && keygen s1 && keygen s2 || return 1
	# The hub knows no endpoint: it learns each spoke's from its
	# handshake, as in the guides.
	conf=$(tmpfile hub.conf)
	write_wgxdp_conf "$conf" hub "$PORT_HUB" \
		"$VPN_HUB/24, $VPN6_HUB/64" &&
		wgxdp_conf_add_peer "$conf" "$(pubkey s1)" \
			"$VPN_S1/32, $VPN6_S1/128" &&
		wgxdp_conf_add_peer "$conf" "$(pubkey s2)" \
			"$VPN_S2/32, $VPN6_S2/128" &&
		start_wgxdp "$NS_HUB" "$IF_HUB" "$conf" "$TUN_HUB" || return 1
	conf=$(tmpfile s1.conf)
	write_wgxdp_conf "$conf" s1 "$PORT_S1" "$VPN_S1/24, $VPN6_S1/64" \
		"$(pubkey hub)" "10.77.0.0/24, fd00:77::/64" \
		"$UL_HUB:$PORT_HUB" 25 &&
		start_wgxdp "$NS_S1" "$IF_S1" "$conf" "$TUN_S1" || return 1
	start_wggo "$NS_S2" "$TUN_S2" &&
		wg_setup "$NS_S2" "$TUN_S2" s2 "$PORT_S2" &&
		wg_peer "$NS_S2" "$TUN_S2" "$(pubkey hub)" \
			"10.77.0.0/24,fd00:77::/64" "$UL_HUB:$PORT_HUB" 25 &&
		tun_up "$NS_S2" "$TUN_S2" "$VPN_S2/24" "$VPN6_S2/64"
}

segment || die "bridge segment with hub, spoke1, spoke2"
tunnels || die "hub (wgxdp), spoke1 (wgxdp), spoke2 (wireguard-go)"

# hub_peer_hs PUB: the hub's latest_handshake for that peer is set.
hub_peer_hs() {
	local t
	t=$(wgxdp_show "$NS_HUB" "$TUN_HUB" | jq -r --arg k "$1" \
		'.peers[] | select(.public_key == $k) | .latest_handshake')
	[ "${t:-0}" -gt 0 ] || {
		echo "hub: no handshake with peer $1"
		return 1
	}
}

check "handshake spoke1 (wgxdp) -> hub" \
	wait_handshake "$NS_S1" "$TUN_S1" "$VPN_HUB" 10
check "handshake spoke2 (wireguard-go) -> hub" \
	wait_handshake "$NS_S2" "$TUN_S2" "$VPN_HUB" 10
check "hub has a session with spoke1" hub_peer_hs "$(pubkey s1)"
check "hub has a session with spoke2" hub_peer_hs "$(pubkey s2)"

check "ping spoke1 -> hub IPv4" ping_ok "$NS_S1" "$VPN_HUB"
check "ping spoke2 -> hub IPv4" ping_ok "$NS_S2" "$VPN_HUB"
check "ping spoke1 -> hub IPv6" ping_ok "$NS_S1" "$VPN6_HUB"
check "ping spoke2 -> hub IPv6" ping_ok "$NS_S2" "$VPN6_HUB"
check "ping hub -> spoke1 (learned endpoint)" ping_ok "$NS_HUB" "$VPN_S1"
check "ping hub -> spoke2 (learned endpoint)" ping_ok "$NS_HUB" "$VPN_S2"

# tun_stat NS TUN rx|tx: the kernel's packet count of the TUN. Packets
# wgxdp writes into the TUN are its rx, those it reads out are its tx.
tun_stat() {
	ip -n "$1" -j -s link show "$2" | jq -r ".[0].stats64.$3.packets"
}

# via_hub NS DST COUNT: COUNT pings from NS to DST all answered, and the
# hub's TUN took each request and reply in and sent it back out (at least
# 2 * COUNT each way), as did the hub's datapath (rx_data, tx_data).
via_hub() {
	local ns=$1 dst=$2 n=$3 r0 t0 r1 t1 d0 e0 d1 e1
	r0=$(tun_stat "$NS_HUB" "$TUN_HUB" rx) t0=$(tun_stat "$NS_HUB" "$TUN_HUB" tx)
	d0=$(wgxdp_counter "$NS_HUB" "$TUN_HUB" rx_data)
	e0=$(wgxdp_counter "$NS_HUB" "$TUN_HUB" tx_data)
	ping_ok "$ns" "$dst" "$n" || return 1
	r1=$(tun_stat "$NS_HUB" "$TUN_HUB" rx) t1=$(tun_stat "$NS_HUB" "$TUN_HUB" tx)
	d1=$(wgxdp_counter "$NS_HUB" "$TUN_HUB" rx_data)
	e1=$(wgxdp_counter "$NS_HUB" "$TUN_HUB" tx_data)
	info "$ns -> $dst: hub TUN rx +$((r1 - r0)) tx +$((t1 - t0));" \
		"rx_data +$((d1 - d0)) tx_data +$((e1 - e0))"
	{ [ $((r1 - r0)) -ge $((2 * n)) ] && [ $((t1 - t0)) -ge $((2 * n)) ] &&
		[ $((d1 - d0)) -ge $((2 * n)) ] &&
		[ $((e1 - e0)) -ge $((2 * n)) ]; } || {
		echo "fewer than $((2 * n)) packets each way through the hub"
		return 1
	}
}

check "ping spoke1 -> spoke2 IPv4 through the hub's TUN" \
	via_hub "$NS_S1" "$VPN_S2" 10
check "ping spoke2 -> spoke1 IPv4 through the hub's TUN" \
	via_hub "$NS_S2" "$VPN_S1" 10
check "ping spoke1 -> spoke2 IPv6 through the hub's TUN" \
	via_hub "$NS_S1" "$VPN6_S2" 10
check "ping spoke2 -> spoke1 IPv6 through the hub's TUN" \
	via_hub "$NS_S2" "$VPN6_S1" 10
check "TCP 4 MiB spoke1 -> spoke2 sha256" \
	tcp_transfer "$NS_S2" "$VPN_S2" "$NS_S1" 4
check "TCP 4 MiB spoke2 -> spoke1 sha256" \
	tcp_transfer "$NS_S1" "$VPN_S1" "$NS_S2" 4
check "TCP 2 MiB spoke1 -> spoke2 IPv6 sha256" \
	tcp_transfer "$NS_S2" "$VPN6_S2" "$NS_S1" 2

# ---- forgery: spoke1 sends with spoke2's inner address as its source.

RECV4=$(tmpfile udp4.got) RECV6=$(tmpfile udp6.got)
: >"$RECV4"
: >"$RECV6"
spawn "$(tmpfile udp4.log)" timeout 120 ip netns exec "$NS_HUB" \
	socat -u "UDP4-RECV:6000,bind=$VPN_HUB" "OPEN:$RECV4,append"
spawn "$(tmpfile udp6.log)" timeout 120 ip netns exec "$NS_HUB" \
	socat -u "UDP6-RECV:6000,bind=[$VPN6_HUB]" "OPEN:$RECV6,append"
wait_listen "$NS_HUB" 6000 udp || die "UDP receivers on the hub"

# udp_send NS SRC DST WORD: one datagram WORD from SRC to DST:6000.
udp_send() {
	local fam=4 dst=$3 src=$2
	[[ $dst == *:* ]] && fam=6 dst="[$dst]" src="[$src]"
	echo "$4" | ip netns exec "$1" socat -u - \
		"UDP$fam-SENDTO:$dst:6000,bind=$src"
}

# control FILE NS SRC DST: a datagram from spoke1's own address arrives,
# so the receiver works and a missing forged one means a drop.
control() {
	udp_send "$2" "$3" "$4" genuine &&
		wait_until 5 grep -q genuine "$1"
}

check "hub receives spoke1's genuine UDP (IPv4)" \
	control "$RECV4" "$NS_S1" "$VPN_S1" "$VPN_HUB"
check "hub receives spoke1's genuine UDP (IPv6)" \
	control "$RECV6" "$NS_S1" "$VPN6_S1" "$VPN6_HUB"

# forge FILE SRC DST: from spoke1, 5 datagrams and 3 pings with spoke2's
# address SRC (added to spoke1's TUN) to the hub: none delivered, none
# answered, and the hub's drop_allowedips grows by at least 8.
forge() {
	local got=$1 src=$2 dst=$3 len=32 d0 d1 i
	[[ $src == *:* ]] && len=128
	d0=$(wgxdp_counter "$NS_HUB" "$TUN_HUB" drop_allowedips)
	addr_add "$NS_S1" "$TUN_S1" "$src/$len" || return 1
	for i in 1 2 3 4 5; do
		udp_send "$NS_S1" "$src" "$dst" "forged$i" || return 1
	done
	if nsx "$NS_S1" ping -n -q -c 3 -i 0.2 -W 1 -I "$src" "$dst"; then
		echo "a ping from the forged source $src was answered"
		return 1
	fi
	wait_until 5 eval "[ \$(wgxdp_counter $NS_HUB $TUN_HUB \
		drop_allowedips) -ge $((d0 + 8)) ]"
	d1=$(wgxdp_counter "$NS_HUB" "$TUN_HUB" drop_allowedips)
	ip -n "$NS_S1" addr del "$src/$len" dev "$TUN_S1" || return 1
	info "forged $src: hub drop_allowedips $d0 -> $d1"
	if grep -q forged "$got"; then
		echo "the hub delivered a datagram with the forged source $src"
		return 1
	fi
	[ "$d1" -ge $((d0 + 8)) ] ||
		{ echo "drop_allowedips rose by $((d1 - d0)), expected >= 8"; return 1; }
}

check "forged IPv4 source from spoke1: nothing delivered, drop_allowedips" \
	forge "$RECV4" "$VPN_S2" "$VPN_HUB"
check "forged IPv6 source from spoke1: nothing delivered, drop_allowedips" \
	forge "$RECV6" "$VPN6_S2" "$VPN6_HUB"
check "spoke1 <-> spoke2 still work after the forgery" \
	via_hub "$NS_S1" "$VPN_S2" 5

finish
