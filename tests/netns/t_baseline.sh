#!/usr/bin/env bash
# timeout: 120
# workers: default
# modes: auto
# Baseline: wireguard-go <-> wireguard-go. Proves the harness and the peer
# every other test relies on, before any wgxdp code is involved.
#
#   netns wgx-<pid>-a                          netns wgx-<pid>-b
#   wireguard-go wgx<pid>ta                    wireguard-go wgx<pid>tb
#     10.201.0.1/24 fd00:201::1/64  <=======>    10.201.0.2/24 fd00:201::2/64
#   veth wgx<pid>va                            veth wgx<pid>vb
#     10.101.0.1/24 fd00:101::1/64  ---------    10.101.0.2/24 fd00:101::2/64
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

require_root_netns
require_tools wireguard-go wg iperf3 jq socat ping ss

netns_pair || die "namespace pair with veth"
tunnel_pair wggo wggo || die "wireguard-go tunnel"

check "handshake A->B" wait_handshake "$NS_A" "$TUN_A" "$IN4_B" 10
check "handshake seen by B" has_handshake "$NS_B" "$TUN_B"
check "ping IPv4 A->B" ping_ok "$NS_A" "$IN4_B"
check "ping IPv4 B->A" ping_ok "$NS_B" "$IN4_A"
check "ping IPv6 A->B" ping_ok "$NS_A" "$IN6_B"
check "ping IPv6 B->A" ping_ok "$NS_B" "$IN6_A"
check "TCP 10 MiB A->B sha256" tcp_transfer "$NS_B" "$IN4_B" "$NS_A" 10

# iperf3 for 3 s; assert a throughput above zero (any real tunnel moves
# far more than 1 Mbit/s).
iperf_nonzero() {
	local out bps
	out=$(tmpfile iperf.json)
	iperf_run "$NS_B" "$NS_A" "$IN4_B" "$out" 3 || return 1
	bps=$(iperf_tcp_bps "$out") || return 1
	info "iperf3 TCP over the tunnel: $(awk -v b="$bps" \
		'BEGIN { printf "%.1f Mbit/s", b / 1e6 }')"
	awk -v b="$bps" 'BEGIN { exit !(b > 1e6) }' ||
		{ echo "throughput $bps bit/s is not above 1 Mbit/s"; return 1; }
}
check "iperf3 TCP 3 s throughput" iperf_nonzero

finish
