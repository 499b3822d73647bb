#!/usr/bin/env bash
# timeout: 150
# workers: default
# Metrics: `wgxdp metrics` and the HTTP endpoint of `attach --metrics`
# (on loopback inside the namespace) both pass a strict Prometheus text
# parser (build/tests/netns/prom_check, tests/netns/prom_check.c), which
# itself must refuse broken expositions. After traffic through the tunnel
# the per-peer byte counters agree with `show --json`, the peer is
# labelled with its "# Name =", packets and handshakes are counted. The
# HTTP server answers bad requests with their status, is not held up by
# a client that sends nothing, serves 40 clients at once, and `attach
# --metrics` on a port in use fails cleanly. Runs in about 30 s.
#
#   netns wgx-<pid>-a                          netns wgx-<pid>-b
#   wgxdp wgx<pid>ta   (peer "bob")            wireguard-go wgx<pid>tb
#     metrics on 127.0.0.1:9586 (loopback of a)
#     10.201.0.1/24 fd00:201::1/64  <=======>    10.201.0.2/24 fd00:201::2/64
#   veth wgx<pid>va                            veth wgx<pid>vb
#     10.101.0.1/24 fd00:101::1/64  ---------    10.101.0.2/24 fd00:101::2/64
# shellcheck disable=SC2016 # check ... eval '...' expands when it runs
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

require_root_netns
require_tools wireguard-go wg jq ping curl socat
require_wgxdp

PROM=$(dirname "$WGXDP")/tests/netns/prom_check
[ -x "$PROM" ] || die "no $PROM (make all builds it)"
MPORT=9586

# ---- the parser itself: broken expositions are refused

prom_refuses() { ! printf '%b' "$1" | "$PROM" >/dev/null; }
prom_takes() { printf '%b' "$1" | "$PROM" >/dev/null; }
check "parser takes a good exposition" prom_takes \
	'# HELP a_total x\n# TYPE a_total counter\na_total{l="v"} 1\n'
check "parser refuses a sample without TYPE" prom_refuses 'a 1\n'
check "parser refuses a second HELP" prom_refuses \
	'# HELP a x\n# HELP a y\n# TYPE a gauge\na 1\n'
check "parser refuses split families" prom_refuses \
	'# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\na{x="1"} 2\n'
check "parser refuses a bad escape" prom_refuses \
	'# TYPE a gauge\na{l="\\q"} 1\n'
check "parser refuses a duplicate series" prom_refuses \
	'# TYPE a gauge\na{l="1"} 1\na{l="1"} 2\n'
check "parser refuses a counter without _total" prom_refuses \
	'# TYPE a counter\na 1\n'
check "parser refuses a negative counter" prom_refuses \
	'# TYPE a_total counter\na_total -1\n'
check "parser refuses a bad value" prom_refuses '# TYPE a gauge\na 1x\n'
check "parser refuses a missing newline" prom_refuses '# TYPE a gauge\na 1'

# ---- the tunnel: wgxdp in A (peer named bob), wireguard-go in B

netns_pair || die "namespace pair with veth"
{ TUN_A=$(if_name ta) && TUN_B=$(if_name tb); } || die "names"
{ keygen a && keygen b; } || die "keys"
CONF_A=$(tmpfile "$TUN_A.conf")
write_wgxdp_conf "$CONF_A" a "$PORT_A" "$IN4_A/$IN4_LEN, $IN6_A/$IN6_LEN" \
	"$(pubkey b)" "$IN4_B/32,$IN6_B/128" "$UL4_B:$PORT_B" || die "config"
sed -i 's/^\[Peer\]$/[Peer]\n# Name = bob/' "$CONF_A"
tunnel_side wggo "$NS_B" "$VETH_B" "$TUN_B" b "$PORT_B" "$IN4_B/$IN4_LEN" \
	"$IN6_B/$IN6_LEN" "$(pubkey a)" "$IN4_A/32,$IN6_A/128" \
	"$UL4_A:$PORT_A" || die "wireguard-go in B"
start_wgxdp "$NS_A" "$VETH_A" "$CONF_A" "$TUN_A" \
	--metrics "127.0.0.1:$MPORT" || die "wgxdp attach --metrics"

metrics_cli() { timeout 10 ip netns exec "$NS_A" "$WGXDP" metrics "$@"; }
http() { timeout 10 ip netns exec "$NS_A" curl -sS "$@"; }
metrics_http() { http -f "http://127.0.0.1:$MPORT/metrics"; }

# value NAME LABELS: the value of one sample in the parsed (canonical)
# exposition $M, labels sorted as prom_check prints them.
value() { awk -v k="$1{$2}" '$1 == k { print $2 }' <<<"$M"; }

parsed() { "$1" "${@:2}" | "$PROM"; }

check "wgxdp metrics TUN passes the strict parser" parsed metrics_cli "$TUN_A"
check "wgxdp metrics (all instances) passes the strict parser" \
	parsed metrics_cli
check "GET /metrics passes the strict parser" parsed metrics_http

# ---- traffic, then the counters against show --json

check "ping through the tunnel" ping_ok "$NS_A" "$IN4_B" 5
check "ping over IPv6 through the tunnel" ping_ok "$NS_A" "$IN6_B" 3
check "transfer 2 MiB through the tunnel" \
	tcp_transfer "$NS_B" "$IN4_B" "$NS_A" 2

# quiet_read: metrics, show --json, metrics again, until the two metric
# reads agree (nothing moved in between): then $M and $SHOW are one view.
quiet_read() {
	local m1 m2 i
	for i in $(seq 1 30); do
		m1=$(metrics_cli "$TUN_A" | "$PROM") || return 1
		SHOW=$(wgxdp_show "$NS_A" "$TUN_A") || return 1
		m2=$(metrics_cli "$TUN_A" | "$PROM") || return 1
		[ "$m1" = "$m2" ] && { M=$m1; return 0; }
		sleep 0.3
	done
	echo "the metrics kept moving for 9 s"
	return 1
}
quiet_read || die "a quiet read of metrics and show"

B_PUB=$(pubkey b)
PEER="interface=\"$TUN_A\",name=\"bob\",public_key=\"$B_PUB\""
show_peer() { jq -r --arg k "$B_PUB" ".peers[] | select(.public_key == \$k) | .$1" <<<"$SHOW"; }

equal() {
	if [ "$1" != "$2" ] || [ -z "$1" ]; then
		echo "metrics say '$1', show says '$2'"
		return 1
	fi
}
at_least() {
	if [ -z "$1" ] || [ "$1" -lt "$2" ]; then
		echo "'$1' is not >= $2"
		return 1
	fi
}

check "receive bytes agree with show --json" equal \
	"$(value wgxdp_peer_receive_bytes_total "$PEER")" "$(show_peer rx_bytes)"
check "transmit bytes agree with show --json" equal \
	"$(value wgxdp_peer_transmit_bytes_total "$PEER")" "$(show_peer tx_bytes)"
check "latest handshake agrees with show --json" equal \
	"$(value wgxdp_peer_latest_handshake_seconds "$PEER")" \
	"$(show_peer latest_handshake)"
check "2 MiB moved: transmit bytes over 2 MiB" at_least \
	"$(value wgxdp_peer_transmit_bytes_total "$PEER")" 2097152
check "datagrams counted both ways" at_least \
	"$(value wgxdp_peer_receive_packets_total "$PEER")" 8
check "datagrams sent counted" at_least \
	"$(value wgxdp_peer_transmit_packets_total "$PEER")" 1500
check "a handshake counted" at_least \
	"$(value wgxdp_peer_handshakes_total "$PEER")" 1
check "one peer, at least one session" eval \
	'[ "$(value wgxdp_peers "interface=\"$TUN_A\"")" = 1 ] &&
	 at_least "$(value wgxdp_sessions "interface=\"$TUN_A\"")" 1'
check "the workers' counters add up to traffic" eval \
	'at_least "$(awk "/^wgxdp_worker_received_packets_total/ { s += \$2 }
		END { print s + 0 }" <<<"$M")" 100'
check "info names the underlay and mode" eval \
	'grep -q "^wgxdp_info{interface=\"$TUN_A\",mode=\"$(jq -r .mode <<<"$SHOW")\",underlay=\"$VETH_A\",version=" <<<"$M"'
if [ "$(jq -r .mode <<<"$SHOW")" != socket ]; then
	# Known sessions' data goes to the AF_XDP sockets (redirect_xsk), or
	# to the UDP sockets where there are none (pass_data, pass_large).
	xdp_data() {
		local v n sum=0
		for v in redirect_xsk pass_data pass_large; do
			n=$(value wgxdp_xdp_packets_total \
				"interface=\"$TUN_A\",verdict=\"$v\"")
			sum=$((sum + ${n:-0}))
		done
		echo "$sum"
	}
	check "XDP verdicts: data to the workers' sockets" at_least \
		"$(xdp_data)" 100
	check "drops by layer and reason" eval \
		'[ -n "$(value wgxdp_dropped_packets_total "interface=\"$TUN_A\",layer=\"xdp\",reason=\"unknown_index\"")" ]'
else
	skip "XDP verdicts" "socket mode has no XDP program"
fi

# ---- HTTP

status() {
	ip netns exec "$NS_A" curl -s -o /dev/null -w '%{http_code}' "$@"
}
raw() { # raw REQUEST: send bytes, print the status line
	printf '%b' "$1" | timeout 8 ip netns exec "$NS_A" \
		socat -t 6 - "TCP4:127.0.0.1:$MPORT" | head -n 1 | tr -d '\r'
}
expect_status() {
	local got
	got=$("${@:2}")
	[[ $got == *"$1"* ]] || {
		echo "wanted $1, got '$got'"
		return 1
	}
}

check "content type is the text format 0.0.4" eval \
	'http -I "http://127.0.0.1:$MPORT/metrics" |
	 grep -qi "^content-type: text/plain; version=0.0.4"'
check "HEAD answers 200 with no body" eval \
	'[ -z "$(http -f --head -s -o - "http://127.0.0.1:$MPORT/metrics" |
	   sed -n "/^\r$/,\$p" | tail -n +2)" ]'
check "HTTP/1.0 works" eval \
	'http -f --http1.0 "http://127.0.0.1:$MPORT/metrics" | "$PROM" >/dev/null'
check "a query string is ignored" eval \
	'http -f "http://127.0.0.1:$MPORT/metrics?x=1" | "$PROM" >/dev/null'
check "unknown path: 404" expect_status 404 \
	status "http://127.0.0.1:$MPORT/nope"
check "POST: 405" expect_status 405 \
	status -X POST "http://127.0.0.1:$MPORT/metrics"
check "garbage: 400" expect_status " 400 " raw 'hello there\r\n\r\n'
check "no target: 400" expect_status " 400 " raw 'GET\r\n\r\n'
check "HTTP/2.0 in the request line: 505" expect_status " 505 " \
	raw 'GET /metrics HTTP/2.0\r\n\r\n'
check "a folded header: 400" expect_status " 400 " \
	raw 'GET /metrics HTTP/1.1\r\nHost: x\r\n y\r\n\r\n'
check "a 9 KiB request head: 431" expect_status " 431 " \
	raw "GET /metrics HTTP/1.1\r\nX: $(head -c 9000 /dev/zero | tr '\0' a)\r\n\r\n"

# A client that connects and sends nothing holds neither the server nor
# the agent: others are served, the tunnel and show keep working, and the
# silent one is dropped after its 5 s.
SILENT_LOG=$(tmpfile silent.log)
spawn "$SILENT_LOG" ip netns exec "$NS_A" socat -T 20 \
	"TCP4:127.0.0.1:$MPORT" SYSTEM:'sleep 20'
SILENT=$SPAWNED
sleep 0.5
check "served while a silent client is connected" eval \
	'metrics_http | "$PROM" >/dev/null'
check "show answers while a silent client is connected" \
	wgxdp_show "$NS_A" "$TUN_A"
check "the tunnel works while a silent client is connected" \
	ping_ok "$NS_A" "$IN4_B" 3
check "the silent client is dropped after 5 s" \
	wait_until 10 eval "! proc_alive $SILENT"

many() {
	local i pids=() bad=0
	for i in $(seq 1 40); do
		metrics_http >"$WGX_TMP/many.$i" 2>&1 &
		pids+=($!)
	done
	for i in "${!pids[@]}"; do
		wait "${pids[$i]}" || bad=$((bad + 1))
	done
	for i in $(seq 1 40); do
		"$PROM" "$WGX_TMP/many.$i" >/dev/null || bad=$((bad + 1))
	done
	[ "$bad" -eq 0 ] || echo "$bad of 40 clients failed"
	[ "$bad" -eq 0 ]
}
check "40 clients at once all get a valid exposition" many

# ---- bad input to the commands

bad_cli() { # bad_cli PATTERN CMD...: fails, says PATTERN, prints nothing
	local out err rc
	out=$(ip netns exec "$NS_A" "$@" 2>"$WGX_TMP/bad.err")
	rc=$?
	err=$(cat "$WGX_TMP/bad.err")
	if [ "$rc" -eq 0 ] || [ -n "$out" ] || ! grep -q -- "$1" <<<"$err"; then
		echo "rc=$rc out='$out' err='$err'"
		return 1
	fi
}
bad_cli_p() { local p=$1; shift; bad_cli "$p" "$@"; }
check "metrics: unknown tunnel" bad_cli_p "no wgxdp instance" \
	"$WGXDP" metrics nosuch0
check "metrics: two arguments" bad_cli_p "unexpected argument" \
	"$WGXDP" metrics "$TUN_A" x
check "metrics: an option" bad_cli_p "unknown option" \
	"$WGXDP" metrics --bogus
check "metrics: a bad name" bad_cli_p "bad tunnel name" \
	"$WGXDP" metrics "a/b"

# attach --metrics on a port taken: fails, leaves nothing behind.
{ VETH_2=$(if_name v2) && VETH_W=$(if_name w2) && TUN_2=$(if_name t2); } ||
	die "names"
veth_create "$NS_A" "$VETH_2" "$NS_B" "$VETH_W" || die "spare veth"
CONF_2=$(tmpfile "$TUN_2.conf")
write_wgxdp_conf "$CONF_2" a 51899 "10.77.0.1/24" || die "config 2"
attach_taken() {
	local out rc
	out=$(timeout 30 ip netns exec "$NS_A" "$WGXDP" attach "$VETH_2" \
		--config "$CONF_2" --name "$TUN_2" --metrics "127.0.0.1:$MPORT" \
		--mode socket 2>&1)
	rc=$?
	echo "$out"
	[ "$rc" -ne 0 ] && grep -q "Couldn't serve metrics on 127.0.0.1:$MPORT" <<<"$out"
}
register wgxdp "$NS_A" "$VETH_2" "$TUN_2"
register if "$TUN_2"
check "attach --metrics on a port in use fails with the reason" attach_taken
check "and leaves nothing behind" wait_until 10 wgxdp_gone "$NS_A" "$TUN_2"
check "the first instance still serves metrics" eval \
	'metrics_http | "$PROM" >/dev/null'

finish
