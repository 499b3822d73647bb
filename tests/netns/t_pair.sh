#!/usr/bin/env bash
# timeout: 180
# wgxdp against wgxdp: both ends of the tunnel are wgxdp. Ping, a
# hash-checked TCP transfer both ways, then ~30 s of traffic with protocol
# time divided by 20 (WGXDP_TEST_TIMERS=1 WGXDP_TEST_TIME_SCALE=20:
# REKEY_AFTER_TIME is 6 s), during which both sides must rekey several
# times without a stall. Also: the time knob is refused without
# WGXDP_TEST_TIMERS=1, and such a refused attach leaves nothing behind.
# Runs in about 40 s.
#
#   netns wgx-<pid>-a                          netns wgx-<pid>-b
#   wgxdp wgx<pid>ta                           wgxdp wgx<pid>tb
#     10.201.0.1/24 fd00:201::1/64  <=======>    10.201.0.2/24 fd00:201::2/64
#   veth wgx<pid>va                            veth wgx<pid>vb
#     10.101.0.1/24 fd00:101::1/64  ---------    10.101.0.2/24 fd00:101::2/64
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

require_root_netns
require_tools wg iperf3 jq socat ping ss
require_wgxdp

SCALE=20
TRAFFIC_S=30

netns_pair || die "namespace pair with veth"

# ---- the knob without its guard: refused, nothing left behind.

TUN_K=$(if_name tk) || die "name"
keygen k || die "keygen"
CONF_K=$(tmpfile "$TUN_K.conf")
write_wgxdp_conf "$CONF_K" k 51899 "10.203.0.1/24" || die "config"
register wgxdp "$NS_A" "$VETH_A" "$TUN_K"
register if "$TUN_K"
KNOB_OUT=$(tmpfile knob.out)

knob_refused() {
	if ip netns exec "$NS_A" env -u WGXDP_TEST_TIMERS \
		WGXDP_TEST_TIME_SCALE="$SCALE" timeout 30 "$WGXDP" attach \
		"$VETH_A" --config "$CONF_K" --name "$TUN_K" --mode socket \
		>"$KNOB_OUT" 2>&1 </dev/null; then
		cat "$KNOB_OUT"
		echo "attach with WGXDP_TEST_TIME_SCALE alone succeeded"
		return 1
	fi
	cat "$KNOB_OUT"
	grep -q 'WGXDP_TEST_TIMERS' "$KNOB_OUT" ||
		{ echo "the message does not name WGXDP_TEST_TIMERS"; return 1; }
}

check "time knob without WGXDP_TEST_TIMERS=1: refused with a message" \
	knob_refused
check "refused attach left nothing behind" wgxdp_gone "$NS_A" "$TUN_K"

# ---- the tunnel, both ends with the knob.

export WGXDP_TEST_TIMERS=1 WGXDP_TEST_TIME_SCALE=$SCALE
tunnel_pair wgxdp wgxdp || die "wgxdp <-> wgxdp tunnel"
unset WGXDP_TEST_TIMERS WGXDP_TEST_TIME_SCALE

check "handshake A->B" wait_handshake "$NS_A" "$TUN_A" "$IN4_B" 10
check "handshake seen by B" has_handshake "$NS_B" "$TUN_B"
check "ping IPv4 A->B" ping_ok "$NS_A" "$IN4_B"
check "ping IPv4 B->A" ping_ok "$NS_B" "$IN4_A"
check "ping IPv6 A->B" ping_ok "$NS_A" "$IN6_B"
check "ping IPv6 B->A" ping_ok "$NS_B" "$IN6_A"
check "TCP 10 MiB A->B sha256" tcp_transfer "$NS_B" "$IN4_B" "$NS_A" 10
check "TCP 10 MiB B->A IPv6 sha256" tcp_transfer "$NS_A" "$IN6_A" "$NS_B" 10

# ---- rekeys under traffic.

hs_counts() {
	printf '%s %s %s %s\n' \
		"$(wgxdp_counter "$NS_A" "$TUN_A" tx_handshake)" \
		"$(wgxdp_counter "$NS_A" "$TUN_A" rx_handshake)" \
		"$(wgxdp_counter "$NS_B" "$TUN_B" tx_handshake)" \
		"$(wgxdp_counter "$NS_B" "$TUN_B" rx_handshake)"
}

IPERF=$(tmpfile rekey.json)
PING_LOG=$(tmpfile rekey-ping.log)
read -r A_TX0 A_RX0 B_TX0 B_RX0 < <(hs_counts)
# A ping every 0.1 s from B beside an iperf3 stream A -> B, paced at
# 50 Mbit/s so that the stream does not fill the queues: a lost ping
# then means a rekey went wrong, not a full buffer.
spawn "$PING_LOG" ip netns exec "$NS_B" ping -n -q -i 0.1 -W 1 \
	-c $((TRAFFIC_S * 10)) "$IN4_A"
PING_PID=$SPAWNED
iperf_run "$NS_B" "$NS_A" "$IN4_B" "$IPERF" "$TRAFFIC_S" -i 1 -b 50M
IPERF_RC=$?
wait_until 15 eval "! proc_alive $PING_PID" || true
read -r A_TX1 A_RX1 B_TX1 B_RX1 < <(hs_counts)
info "handshake messages during ${TRAFFIC_S}s: A tx +$((A_TX1 - A_TX0))" \
	"rx +$((A_RX1 - A_RX0)), B tx +$((B_TX1 - B_TX0)) rx +$((B_RX1 - B_RX0))"

# rose NAME BEFORE AFTER: at least 4 more. The key in use is at most
# REKEY_AFTER_TIME (6 s) old when the traffic starts and each rekey
# follows the last by 6 s and a round trip, so 30 s hold four (each side
# sends and receives one message per handshake). Were the send-side rule
# not scaled, only the receive-side one (8.25 s) would fire: often 3.
rose() {
	[ $(($3 - $2)) -ge 4 ] ||
		{ echo "$1 rose by $(($3 - $2)), expected >= 4"; return 1; }
}

check "A tx_handshake rose several times" rose "A tx_handshake" "$A_TX0" "$A_TX1"
check "A rx_handshake rose several times" rose "A rx_handshake" "$A_RX0" "$A_RX1"
check "B tx_handshake rose several times" rose "B tx_handshake" "$B_TX0" "$B_TX1"
check "B rx_handshake rose several times" rose "B rx_handshake" "$B_RX0" "$B_RX1"

# no_stall: iperf3 ran and every 1 s interval the receiver saw bytes. On
# a loaded machine iperf3 at times comes back without the server's report:
# then the sender's intervals (a stalled tunnel stalls TCP's sender too).
no_stall() {
	local bytes
	[ "$IPERF_RC" -eq 0 ] || { echo "iperf3 failed"; return 1; }
	jq -e '.server_output_json.intervals' "$IPERF" >/dev/null 2>&1 ||
		info "no server report from iperf3: the sender's intervals"
	bytes=$(jq -r '(.server_output_json.intervals // .intervals)[].sum |
		select(.seconds >= 0.5) | .bytes' "$IPERF") || return 1
	info "iperf3 receiver bytes per 1 s interval:" "$(echo "$bytes" | xargs)"
	[ "$(wc -w <<<"$bytes")" -ge $((TRAFFIC_S - 1)) ] ||
		{ echo "only $(wc -w <<<"$bytes") intervals"; return 1; }
	for b in $bytes; do
		[ "$b" -gt 0 ] || { echo "an interval with 0 bytes: a stall"; return 1; }
	done
}
check "iperf3 A->B through the rekeys: no interval without data" no_stall

# ping_loss_ok: the background ping lost at most 2% of its packets.
ping_loss_ok() {
	local loss
	loss=$(sed -n 's/.* \([0-9.]*\)% packet loss.*/\1/p' "$PING_LOG")
	info "ping B->A every 0.1 s during the rekeys: ${loss:-?}% lost"
	[ -n "$loss" ] || { cat "$PING_LOG"; echo "no ping summary"; return 1; }
	awk -v l="$loss" 'BEGIN { exit !(l <= 2) }' ||
		{ echo "ping lost $loss% (> 2%)"; return 1; }
}
check "ping B->A through the rekeys: few losses" ping_loss_ok
check "ping IPv4 A->B after the rekeys" ping_ok "$NS_A" "$IN4_B"

finish
