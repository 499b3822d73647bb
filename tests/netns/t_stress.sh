#!/usr/bin/env bash
# timeout: 300
# modes: auto
# workers: default
# Many workers under churn: wgxdp against wgxdp, each end with 4 workers
# (more than this machine has cores, so they preempt each other in every
# window), protocol time divided by 20 (a rekey every 6 s). Eight TCP
# streams A -> B for 20 s while A's configuration is reloaded every second
# (a peer with AllowedIPs added, then removed again) and B's every 2 s;
# then a hash-checked transfer each way. With a ThreadSanitizer build of
# wgxdp (`make tsan` runs this test with one) a data race report fails it:
# reports go to files under the test's directory (TSAN_OPTIONS log_path).
#
#   netns wgx-<pid>-a                          netns wgx-<pid>-b
#   wgxdp wgx<pid>ta (--workers 4)             wgxdp wgx<pid>tb (--workers 4)
#     10.201.0.1/24 fd00:201::1/64  <=======>    10.201.0.2/24 fd00:201::2/64
#   veth wgx<pid>va                            veth wgx<pid>vb
#     10.101.0.1/24 fd00:101::1/64  ---------    10.101.0.2/24 fd00:101::2/64
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

require_root_netns
require_tools wg iperf3 jq socat ping ss
require_wgxdp

TRAFFIC_S=20
RELOADS_A=20
RELOADS_B=10
STREAMS=8

netns_pair || die "namespace pair with veth"

TSAN_DIR=$(tmpfile tsan)
mkdir -p "$TSAN_DIR" || die "tsan dir"
export TSAN_OPTIONS="log_path=$TSAN_DIR/report halt_on_error=0 exitcode=66"
export WGXDP_TEST_TIMERS=1 WGXDP_TEST_TIME_SCALE=20
WGX_WGXDP_ARGS="--workers 4" tunnel_pair wgxdp wgxdp ||
	die "wgxdp <-> wgxdp tunnel with 4 workers each"
unset WGXDP_TEST_TIMERS WGXDP_TEST_TIME_SCALE

check "handshake A->B" wait_handshake "$NS_A" "$TUN_A" "$IN4_B" 20
# workers_shown NS TUN N: show --json lists N workers.
workers_shown() {
	local n
	n=$(wgxdp_show "$1" "$2" | jq '.workers | length')
	echo "workers: $n"
	[ "$n" = "$3" ]
}
check "show lists 4 workers" workers_shown "$NS_A" "$TUN_A" 4

CONF_A=$WGX_TMP/$TUN_A.conf
CONF_B=$WGX_TMP/$TUN_B.conf
{ cp "$CONF_A" "$CONF_A.base" && cp "$CONF_B" "$CONF_B.base"; } ||
	die "copies"
keygen extra || die "keygen"

# churn NS UL CONF COUNT PERIOD: COUNT reloads, PERIOD s apart, that add
# then remove a peer (and its /24 of AllowedIPs). Prints the failures.
churn() {
	local ns=$1 ul=$2 conf=$3 n=$4 period=$5 i bad=0
	for ((i = 0; i < n; i++)); do
		if [ $((i % 2)) -eq 0 ]; then
			cp "$conf.base" "$conf.new"
			wgxdp_conf_add_peer "$conf.new" "$(pubkey extra)" \
				"10.250.$i.0/24"
			mv "$conf.new" "$conf"
		else
			cp "$conf.base" "$conf"
		fi
		timeout 15 ip netns exec "$ns" "$WGXDP" reload "$ul" \
			>/dev/null 2>&1 || bad=$((bad + 1))
		sleep "$period"
	done
	echo "$bad"
}

CHURN_A=$(tmpfile churn-a)
CHURN_B=$(tmpfile churn-b)
read -r A_TX0 < <(wgxdp_counter "$NS_A" "$TUN_A" tx_handshake)
spawn "$CHURN_A" churn "$NS_A" "$VETH_A" "$CONF_A" "$RELOADS_A" 1
CHURN_A_PID=$SPAWNED
spawn "$CHURN_B" churn "$NS_B" "$VETH_B" "$CONF_B" "$RELOADS_B" 2
CHURN_B_PID=$SPAWNED
IPERF=$(tmpfile stress.json)
iperf_run "$NS_B" "$NS_A" "$IN4_B" "$IPERF" "$TRAFFIC_S" -i 1 -P "$STREAMS"
IPERF_RC=$?
wait_until 60 eval "! proc_alive $CHURN_A_PID && ! proc_alive $CHURN_B_PID" ||
	fail "the reload loops did not finish"
read -r A_TX1 < <(wgxdp_counter "$NS_A" "$TUN_A" tx_handshake)

# streams_ok: iperf3 ran and no 1 s interval went without data.
streams_ok() {
	[ "$IPERF_RC" -eq 0 ] || { echo "iperf3 failed"; return 1; }
	iperf_every_interval_moved "$IPERF" $((TRAFFIC_S - 1))
}

# no_failures FILE: the reload loop that wrote FILE counted none.
no_failures() {
	local n
	n=$(cat "$1")
	echo "failed reloads: ${n:-?}"
	[ "$n" = 0 ]
}

# rekeyed: A sent at least two initiations during the traffic.
rekeyed() {
	echo "A tx_handshake: $A_TX0 -> $A_TX1"
	[ $((A_TX1 - A_TX0)) -ge 2 ]
}

check "$STREAMS TCP streams through churn and rekeys" streams_ok
info "TCP, $STREAMS streams: $(iperf_tcp_bps "$IPERF" |
	awk '{ printf "%.2f Gbit/s", $1 / 1e9 }') while reloading"
check "every reload of A succeeded" no_failures "$CHURN_A"
check "every reload of B succeeded" no_failures "$CHURN_B"
check "A rekeyed during the traffic" rekeyed
check "daemon A alive" proc_alive "${WGX_PID[$TUN_A]}"
check "daemon B alive" proc_alive "${WGX_PID[$TUN_B]}"
check "TCP 10 MiB A->B sha256" tcp_transfer "$NS_B" "$IN4_B" "$NS_A" 10
check "TCP 10 MiB B->A IPv6 sha256" tcp_transfer "$NS_A" "$IN6_A" "$NS_B" 10

stop_wgxdp "$NS_A" "$VETH_A" "$TUN_A"
stop_wgxdp "$NS_B" "$VETH_B" "$TUN_B"

# no_race_reports: the daemons (if built with ThreadSanitizer) found none.
no_race_reports() {
	local f n=0
	for f in "$TSAN_DIR"/report*; do
		[ -e "$f" ] || continue
		n=$((n + 1))
		head -n 40 "$f"
	done
	[ "$n" -eq 0 ]
}
check "no ThreadSanitizer report" no_race_reports
finish
