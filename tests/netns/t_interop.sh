#!/usr/bin/env bash
# timeout: 300
# Interoperability: wgxdp against the real wireguard-go, in four runs that
# cover every dimension both ways (runtime about 60 s):
#
#   run  initiator  PresharedKey  underlay  bulk data (TCP 50 MiB, iperf3)
#   1    wgxdp      no            IPv4      IPv4 inside, wgxdp -> wggo
#   2    wggo       yes           IPv4      IPv6 inside, wgxdp -> wggo
#   3    wgxdp      yes           IPv6      IPv6 inside, wggo -> wgxdp
#   4    wggo       no            IPv6      IPv4 inside, wggo -> wgxdp
#
# (iperf3 runs the other way round from the TCP transfer.) The initiator is
# the only side with an Endpoint, so the handshake can only start there.
# Every run also pings both ways over both inner families, sends full-size
# packets (inner 1420 bytes = MTU, DF) both ways and checks that 1421 bytes
# fail locally, and checks what `wgxdp show --json` and `wg show` report.
#
#   netns wgx-<pid>-a                          netns wgx-<pid>-b
#   wgxdp wgx<pid>ta (socket mode)             wireguard-go wgx<pid>tb
#     10.201.0.1/24 fd00:201::1/64  <=======>    10.201.0.2/24 fd00:201::2/64
#   veth wgx<pid>va                            veth wgx<pid>vb
#     10.101.0.1/24 fd00:101::1/64  ---------    10.101.0.2/24 fd00:101::2/64
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

require_root_netns
require_tools wireguard-go wg iperf3 jq socat ping ss
require_wgxdp

XFER_MB=50
MTU=1420

# setup ROLE PSK UL: the topology with wgxdp in A and wireguard-go in B.
# ROLE init: only wgxdp knows an Endpoint; resp: only wireguard-go does.
# PSK yes|no. UL 4|6: the underlay family of the endpoints.
setup() {
	local role=$1 psk=$2 ul=$3 ea eb conf
	netns_pair || return 1
	TUN_A=$(if_name ta) && TUN_B=$(if_name tb) || return 1
	keygen a && keygen b || return 1
	if [ "$ul" = 6 ]; then
		ea="[$UL6_A]:$PORT_A" eb="[$UL6_B]:$PORT_B"
	else
		ea="$UL4_A:$PORT_A" eb="$UL4_B:$PORT_B"
	fi
	EP_OF_B=$eb
	[ "$role" = init ] && ea= || eb=
	conf=$(tmpfile "$TUN_A.conf")
	write_wgxdp_conf "$conf" a "$PORT_A" \
		"$IN4_A/$IN4_LEN, $IN6_A/$IN6_LEN" "$(pubkey b)" \
		"$IN4_B/32, $IN6_B/128" "$eb" || return 1
	if [ "$psk" = yes ]; then
		(umask 077 && wg genpsk >"$(tmpfile psk)") &&
			printf 'PresharedKey = %s\n' "$(cat "$(tmpfile psk)")" \
				>>"$conf" || return 1
	fi
	start_wgxdp "$NS_A" "$VETH_A" "$conf" "$TUN_A" || return 1
	start_wggo "$NS_B" "$TUN_B" &&
		wg_setup "$NS_B" "$TUN_B" b "$PORT_B" &&
		wg_peer "$NS_B" "$TUN_B" "$(pubkey a)" "$IN4_A/32,$IN6_A/128" \
			"$ea" || return 1
	if [ "$psk" = yes ]; then
		nsx "$NS_B" wg set "$TUN_B" peer "$(pubkey a)" \
			preshared-key "$(tmpfile psk)" || return 1
	fi
	tun_up "$NS_B" "$TUN_B" "$IN4_B/$IN4_LEN" "$IN6_B/$IN6_LEN"
}

# wgxdp_handshaken: wgxdp's peer has a completed handshake (wgxdp has no
# UAPI socket yet, so `wg show` cannot ask it).
wgxdp_handshaken() {
	[ "$(wgxdp_peer "$NS_A" "$TUN_A" latest_handshake)" -gt 0 ]
}

# handshake_from NS DST: the initiator (in NS) pings once; both sides then
# report a completed handshake.
handshake_from() {
	nsx "$1" ping -n -c 1 -W 1 "$2" >/dev/null 2>&1
	wait_until 10 wgxdp_handshaken || {
		echo "wgxdp show: no latest_handshake"
		return 1
	}
	wait_until 5 has_handshake "$NS_B" "$TUN_B" || {
		echo "wg show: wireguard-go reports no handshake"
		return 1
	}
}

# psk_state NS TUN: what wireguard-go holds as the peer's preshared key.
psk_state() {
	nsx "$1" wg show "$2" preshared-keys | awk '{ print $2 }'
}

# show_fresh: wgxdp's latest_handshake is within 30 s of now, as is
# wireguard-go's.
show_fresh() {
	local t now
	now=$(date +%s)
	t=$(wgxdp_peer "$NS_A" "$TUN_A" latest_handshake)
	if [ "$t" -le $((now - 30)) ] || [ "$t" -gt $((now + 1)) ]; then
		echo "wgxdp latest_handshake $t, now $now"
		return 1
	fi
	t=$(latest_handshake "$NS_B" "$TUN_B")
	if [ "$t" -le $((now - 30)) ] || [ "$t" -gt $((now + 1)) ]; then
		echo "wg show latest handshake $t, now $now"
		return 1
	fi
}

# endpoint_is WANT: wgxdp's peer endpoint (configured or learnt).
endpoint_is() {
	local got
	got=$(wgxdp_peer "$NS_A" "$TUN_A" endpoint)
	[ "$got" = "$1" ] || {
		echo "wgxdp endpoint '$got', expected '$1'"
		return 1
	}
}

# counter_pos NAME: wgxdp's counter NAME is above zero.
counter_pos() {
	local n
	n=$(wgxdp_counter "$NS_A" "$TUN_A" "$1")
	[ "$n" -gt 0 ] || {
		echo "counter $1 is $n"
		return 1
	}
}

# mtu_is NS TUN: the tunnel interface has the MTU the sizes below assume.
mtu_is() {
	local m
	m=$(ip -n "$1" -o link show "$2" | sed -n 's/.* mtu \([0-9]*\) .*/\1/p')
	[ "$m" = "$MTU" ] || {
		echo "$2 has mtu '$m', expected $MTU"
		return 1
	}
}

# payload FAMILY EXTRA: ping payload making the inner packet MTU + EXTRA
# bytes (IPv4 header 20 + ICMP 8; IPv6 header 40 + ICMPv6 8).
payload() {
	if [ "$1" = 4 ]; then
		echo $((MTU + $2 - 28))
	else
		echo $((MTU + $2 - 48))
	fi
}

# ping_full NS DST FAMILY: three echoes with an inner packet of exactly
# the MTU, DF set (IPv6 never fragments on the way either).
ping_full() {
	nsx "$1" ping -n -q -M 'do' -s "$(payload "$3" 0)" -c 3 -i 0.2 -W 2 \
		-w 8 "$2"
}

# ping_over NS DST FAMILY: one byte more must fail before it leaves the
# host, with EMSGSIZE ("message too long"), not by timing out.
ping_over() {
	local out rc
	out=$(nsx "$1" ping -n -M 'do' -s "$(payload "$3" 1)" -c 1 -W 2 \
		"$2" 2>&1)
	rc=$?
	echo "$out"
	[ "$rc" -ne 0 ] || {
		echo "ping with an inner packet of $((MTU + 1)) bytes succeeded"
		return 1
	}
	grep -qi 'message too long' <<<"$out" || {
		echo "no local 'message too long' error"
		return 1
	}
}

# peer_bytes FIELD: wgxdp's rx_bytes or tx_bytes of its peer.
peer_bytes() { wgxdp_peer "$NS_A" "$TUN_A" "$1"; }

# grew_by FIELD BEFORE MIN: FIELD rose by at least MIN bytes.
grew_by() {
	local now
	now=$(peer_bytes "$1")
	[ $((now - $2)) -ge "$3" ] || {
		echo "$1 went from $2 to $now, expected at least +$3"
		return 1
	}
}

# iperf_nonzero NS_SRV NS_CLI DST: 3 s of TCP; more than 1 Mbit/s arrive.
iperf_nonzero() {
	local out bps
	out=$(tmpfile iperf.json)
	iperf_run "$1" "$2" "$3" "$out" 3 || return 1
	bps=$(iperf_tcp_bps "$out") || return 1
	info "iperf3 TCP $3: $(awk -v b="$bps" \
		'BEGIN { printf "%.1f Mbit/s", b / 1e6 }')"
	awk -v b="$bps" 'BEGIN { exit !(b > 1e6) }' ||
		{ echo "throughput $bps bit/s is not above 1 Mbit/s"; return 1; }
}

# run_case ROLE PSK UL INNER DIR: one run of the matrix. DIR: "out" sends
# the bulk TCP from wgxdp to wireguard-go, "in" the other way.
run_case() {
	local role=$1 psk=$2 ul=$3 inner=$4 dir=$5 mark tag start
	local dst_a dst_b rx0 tx0
	start=$(now_ms)
	tag="[wgxdp $role, psk $psk, ul IPv$ul, in IPv$inner]"
	info "---- $tag"
	mark=$(cleanup_mark)
	setup "$role" "$psk" "$ul" || {
		fail "$tag setup" "topology or tunnels"
		cleanup_to "$mark"
		return
	}
	if [ "$inner" = 4 ]; then
		dst_a=$IN4_A dst_b=$IN4_B
	else
		dst_a=$IN6_A dst_b=$IN6_B
	fi

	if [ "$role" = init ]; then
		check "$tag handshake started by wgxdp" \
			handshake_from "$NS_A" "$IN4_B"
	else
		check "$tag wgxdp has no endpoint before the handshake" \
			endpoint_is null
		check "$tag handshake started by wireguard-go" \
			handshake_from "$NS_B" "$IN4_A"
	fi
	if [ "$psk" = yes ]; then
		check "$tag wireguard-go holds the preshared key" \
			test "$(psk_state "$NS_B" "$TUN_B")" = "$(cat "$(tmpfile psk)")"
	fi
	check "$tag show: endpoint is wireguard-go's" endpoint_is "$EP_OF_B"
	check "$tag show + wg show: latest handshake is fresh" show_fresh
	check "$tag counters: handshakes sent and received" \
		eval "counter_pos tx_handshake && counter_pos rx_handshake"

	check "$tag ping IPv4 wgxdp->wggo" ping_ok "$NS_A" "$IN4_B"
	check "$tag ping IPv4 wggo->wgxdp" ping_ok "$NS_B" "$IN4_A"
	check "$tag ping IPv6 wgxdp->wggo" ping_ok "$NS_A" "$IN6_B"
	check "$tag ping IPv6 wggo->wgxdp" ping_ok "$NS_B" "$IN6_A"

	check "$tag both tunnels have mtu $MTU" \
		eval "mtu_is $NS_A $TUN_A && mtu_is $NS_B $TUN_B"
	local f
	for f in 4 6; do
		local a b
		[ "$f" = 4 ] && a=$IN4_A b=$IN4_B || a=$IN6_A b=$IN6_B
		check "$tag IPv$f inner $MTU bytes DF wgxdp->wggo" \
			ping_full "$NS_A" "$b" "$f"
		check "$tag IPv$f inner $MTU bytes DF wggo->wgxdp" \
			ping_full "$NS_B" "$a" "$f"
		check "$tag IPv$f inner $((MTU + 1)) bytes fails locally on wgxdp" \
			ping_over "$NS_A" "$b" "$f"
		check "$tag IPv$f inner $((MTU + 1)) bytes fails locally on wggo" \
			ping_over "$NS_B" "$a" "$f"
	done

	rx0=$(peer_bytes rx_bytes) tx0=$(peer_bytes tx_bytes)
	local mib=$((XFER_MB * 1024 * 1024))
	if [ "$dir" = out ]; then
		check "$tag TCP $XFER_MB MiB wgxdp->wggo sha256" \
			tcp_transfer "$NS_B" "$dst_b" "$NS_A" "$XFER_MB"
		check "$tag show: tx_bytes grew by the transfer" \
			grew_by tx_bytes "$tx0" "$mib"
		check "$tag show: rx_bytes grew (acks)" grew_by rx_bytes "$rx0" 1
		check "$tag iperf3 3 s wggo->wgxdp" \
			iperf_nonzero "$NS_A" "$NS_B" "$dst_a"
	else
		check "$tag TCP $XFER_MB MiB wggo->wgxdp sha256" \
			tcp_transfer "$NS_A" "$dst_a" "$NS_B" "$XFER_MB"
		check "$tag show: rx_bytes grew by the transfer" \
			grew_by rx_bytes "$rx0" "$mib"
		check "$tag show: tx_bytes grew (acks)" grew_by tx_bytes "$tx0" 1
		check "$tag iperf3 3 s wgxdp->wggo" \
			iperf_nonzero "$NS_B" "$NS_A" "$dst_b"
	fi
	check "$tag counters: data both ways" \
		eval "counter_pos tx_data && counter_pos rx_data"
	cleanup_to "$mark"
	info "$tag took $((($(now_ms) - start) / 1000)) s"
}

run_case init no 4 4 out
run_case resp yes 4 6 out
run_case init yes 6 6 in
run_case resp no 6 4 in

finish
