# shellcheck shell=bash
# shellcheck disable=SC2153 # lib.sh, sourced first, sets UL*_A and UL*_B
# Floods from a third namespace, for tests/netns/t_flood.sh and
# tools/bench/flood. Source it after lib.sh; do not run it.
#
#   netns $NS_A (responder under attack)        netns $NS_B (legitimate peer)
#   wgxdp | wireguard-go  $TUN_A  $IN4_A  <====> wireguard-go  $TUN_B  $IN4_B
#   $VETH_A $UL4_A $UL6_A (XDP here)             $VETH_B $UL4_B $UL6_B
#          \                                       /
#           +------ bridge $BR in netns $NS_S ----+
#          /
#   netns $NS_C (attacker): $VETH_C $UL4_C $UL6_C, build/bench/wgx_flood;
#   it also answers for $SPOOF4 and $SPOOF6 (routes back to C), so
#   floods from forged addresses there cost A what they would on a LAN
#
# netns_trio builds the namespaces; tunnel_pair (lib.sh) then makes the
# tunnel between A and B as over netns_pair.

UL4_C=10.101.0.3 UL6_C=fd00:101::3
# Forged sources for --spoof: a /16 and a /48 that belong to nobody here.
SPOOF4=10.77.0.0/16 SPOOF6=fd00:77::/48

# netns_trio: A, B and C on one bridge in S, addresses as in the picture.
netns_trio() {
	NS_A=$(ns_name a) NS_B=$(ns_name b) NS_C=$(ns_name c)
	NS_S=$(ns_name s)
	VETH_A=$(if_name va) && VETH_B=$(if_name vb) &&
		VETH_C=$(if_name vc) && BR=$(if_name br) || return 1
	bridge_create "$NS_S" "$BR" && ns_create "$NS_A" &&
		ns_create "$NS_B" && ns_create "$NS_C" || return 1
	bridge_join "$NS_A" "$VETH_A" "$NS_S" "$BR" "$(if_name pa)" \
		"$UL4_A/$UL4_LEN" "$UL6_A/$UL6_LEN" &&
		bridge_join "$NS_B" "$VETH_B" "$NS_S" "$BR" "$(if_name pb)" \
			"$UL4_B/$UL4_LEN" "$UL6_B/$UL6_LEN" &&
		bridge_join "$NS_C" "$VETH_C" "$NS_S" "$BR" "$(if_name pc)" \
			"$UL4_C/$UL4_LEN" "$UL6_C/$UL6_LEN" || return 1
	# Answers to forged sources go to C (and die there), as they would
	# go somewhere on a real network.
	ip -n "$NS_A" route add "$SPOOF4" via "$UL4_C" &&
		ip -n "$NS_A" -6 route add "$SPOOF6" via "$UL6_C" || return 1
	# The bridge would drop frames C sends from addresses it does not
	# hold only if filtering were on: it is not (no br_netfilter here).
	wait_until 5 nsx "$NS_A" ping -c 1 -W 1 "$UL4_B" &&
		wait_until 5 nsx "$NS_C" ping -c 1 -W 1 "$UL4_A"
}

# flood_start LOG KIND SECONDS [ARGS...]: wgx_flood in C against A's
# listen port, in the background ($SPAWNED); its report in LOG.
flood_start() {
	local log=$1 kind=$2 secs=$3
	shift 3
	spawn "$log" timeout $((secs + 10)) ip netns exec "$NS_C" "$FLOOD" \
		--kind "$kind" --duration "$secs" "$@" "$UL4_A" "$PORT_A"
}

# flood_rate LOG: the flooder's send rate (pkt/s) from its report.
flood_rate() { sed -n 's/.*: \([0-9]*\) pkt\/s.*/\1/p' "$1"; }

# fresh_handshake NS TUN PEER_PUB ENDPOINT ALLOWED DST TIMEOUT_S: make the
# wireguard-go in NS forget its peer (remove and add it again: no session,
# no cookie), then time how long a ping to DST takes to come back through
# the new handshake. Prints milliseconds; fails after TIMEOUT_S.
fresh_handshake() {
	local ns=$1 tun=$2 pub=$3 ep=$4 allowed=$5 dst=$6 t=$7 t0 t1
	ip netns exec "$ns" wg set "$tun" peer "$pub" remove || return 1
	wg_peer "$ns" "$tun" "$pub" "$allowed" "$ep" || return 1
	t0=$(now_ms)
	ip netns exec "$ns" ping -n -q -c 1 -i 0.2 -W 1 -w "$t" "$dst" \
		>/dev/null 2>&1 || return 1
	t1=$(now_ms)
	echo $((t1 - t0))
}

# handshake_series N OUT NS TUN PEER_PUB ENDPOINT ALLOWED DST TIMEOUT_S:
# N fresh handshakes one after the other; one line per attempt in OUT,
# milliseconds or "fail". Each attempt waits 0.1 s first, the first too
# (the last handshake may be a moment old): wireguard-go rounds its TAI64N
# timestamps down to about 16 ms, and a responder rejects an initiation
# whose timestamp is not newer than the last one (replay protection), as
# well as a second within 20 ms (1/INITIATIONS_PER_SECOND).
handshake_series() {
	local n=$1 out=$2 i ms
	shift 2
	: >"$out"
	for ((i = 0; i < n; i++)); do
		sleep 0.1
		if ms=$(fresh_handshake "$@"); then
			echo "$ms" >>"$out"
		else
			echo fail >>"$out"
		fi
	done
}

# series_stats OUT: "n median max fails" of a series (max over the ones
# that completed).
series_stats() {
	sort -n "$1" | awk '
		$1 == "fail" { f++; next }
		{ v[n++] = $1 }
		END {
			med = -1; max = -1
			if (n % 2) med = v[(n - 1) / 2]
			else if (n) med = (v[n / 2 - 1] + v[n / 2]) / 2
			if (n) max = v[n - 1]
			printf "%d %d %d %d\n", n + f, med, max, f
		}'
}
