#!/usr/bin/env bash
# timeout: 180
# modes: auto
# workers: default
# Malformed UAPI requests against a running wgxdp (`wgxdp up`), each on
# its own: every one is answered errno=-N (wireguard-go's numbers: -22
# EINVAL, -71 EPROTO; beyond it -90 EMSGSIZE for a line past 512 bytes
# and -110 ETIMEDOUT for a client that stops mid-request), and none
# changes anything: the configuration (`wg show dump`) is compared before
# and after, and traffic with B goes on. Then the server under load: a
# client stalled mid-request, more idle clients than it serves at once,
# and 100 `wg show` at once, while a ping runs through the tunnel; and a
# `wg setconf` of 5,000 peers that must not cost the ping a packet.
# Runs in about 40 s.
#
#   netns ...-a                          netns ...-b
#   wgxdp up wgx<pid>ta  --- veth ---    wireguard-go wgx<pid>tb
#     10.201.0.1/24                        10.201.0.2/24
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

require_root_netns
require_tools wireguard-go wg jq ping socat
require_wgxdp

netns_pair || die "namespaces"
{ TUN_A=$(if_name ta) && TUN_B=$(if_name tb); } || die "names"
{ keygen a && keygen b && keygen c; } || die "keys"
SOCK=/var/run/wireguard/$TUN_A.sock

start_up() {
	register wgxdp "$NS_A" - "$TUN_A"
	register if "$TUN_A"
	on_exit stop_up
	timeout 30 ip netns exec "$NS_A" "$WGXDP" up "$TUN_A" \
		>>"$WGX_TMP/up.log" 2>&1 </dev/null {WGX_OUT}>&- || return 1
	PID_A=$(head -n 1 "/run/wgxdp/$TUN_A.pid")
}

stop_up() {
	ip -n "$NS_A" link del "$TUN_A" 2>/dev/null
	[ -n "${PID_A:-}" ] || return 0
	wait_until 5 eval "! proc_alive $PID_A" 2>/dev/null || stop_pid "$PID_A"
}

start_up || die "wgxdp up"
ip netns exec "$NS_A" wg set "$TUN_A" private-key "$(keyfile a)" \
	listen-port "$PORT_A" peer "$(pubkey b)" \
	allowed-ips "$IN4_B/32" endpoint "$UL4_B:$PORT_B" || die "A's config"
tun_up "$NS_A" "$TUN_A" "$IN4_A/$IN4_LEN" || die "A's address"
setup_b() {
	start_wggo "$NS_B" "$TUN_B" && wg_setup "$NS_B" "$TUN_B" b "$PORT_B" &&
		wg_peer "$NS_B" "$TUN_B" "$(pubkey a)" "$IN4_A/32" \
			"$UL4_A:$PORT_A" &&
		tun_up "$NS_B" "$TUN_B" "$IN4_B/$IN4_LEN"
}
setup_b || die "B"
check "traffic A -> B to start with" ping_ok "$NS_A" "$IN4_B"

hex() { base64 -d <<<"$1" | od -An -tx1 -v | tr -d ' \n'; }
HB=$(hex "$(pubkey b)") HC=$(hex "$(pubkey c)")

dump() { ip netns exec "$NS_A" wg show "$TUN_A" dump | cut -f1-4,8; }
BEFORE=$(dump)

# send: stdin to the socket; the answer on stdout.
send() {
	timeout 20 ip netns exec "$NS_A" socat -t 8 - "UNIX-CONNECT:$SOCK"
}

# refused WANT TEXT: TEXT (with \n escapes) is answered "errno=WANT",
# and the configuration is what it was.
refused() {
	local want=$1 got
	got=$(printf '%b' "$2" | send | head -n 1)
	[ "$got" = "errno=$want" ] || { echo "answer '$got', want errno=$want"; return 1; }
	unchanged
}

unchanged() {
	local now
	now=$(dump)
	[ "$now" = "$BEFORE" ] ||
		{ printf 'was:\n%s\nnow:\n%s\n' "$BEFORE" "$now"; return 1; }
}

check "unknown device key: -22" refused -22 'set=1\nbogus=1\n\n'
check "unknown peer key: -22" \
	refused -22 "set=1\npublic_key=$HB\nbogus=1\n\n"
check "get's keys in a set: -22" \
	refused -22 "set=1\npublic_key=$HB\nrx_bytes=0\n\n"
check "bad hex key: -22" refused -22 "set=1\npublic_key=${HB:0:63}x\n\n"
check "short hex key: -22" refused -22 "set=1\npublic_key=${HB:0:62}\n\n"
check "bad hex pre-shared key: -22" \
	refused -22 "set=1\npublic_key=$HB\npreshared_key=nothex\n\n"
check "bad endpoint: -22" \
	refused -22 "set=1\npublic_key=$HB\nendpoint=host.example:1\n\n"
check "bad allowed_ip: -22" \
	refused -22 "set=1\npublic_key=$HB\nallowed_ip=10.0.0.0/33\n\n"
check "bad number: -22" refused -22 'set=1\nlisten_port=70000\n\n'
check "replace_peers=yes: -22" refused -22 'set=1\nreplace_peers=yes\n\n'
# Valid lines before the bad one: the set is refused whole.
check "device key after a peer: -22, the lines before not applied" \
	refused -22 "set=1\nlisten_port=5555\npublic_key=$HB\npersistent_keepalive_interval=9\npublic_key=$HC\nallowed_ip=10.9.0.0/16\nfwmark=3\n\n"
check "peer key before any peer: -22" \
	refused -22 'set=1\nallowed_ip=10.9.0.0/16\n\n'
check "a line without '=': -71" \
	refused -71 "set=1\nreplace_peers=true\nnonsense\n\n"
check "a control byte: -71" refused -71 'set=1\nlisten_port=\t1\n\n'
check "a NUL byte: -71" refused -71 'set=1\nlisten_port=1\0\n\n'
check "unknown operation: -71" refused -71 'delete=1\n\n'
check "get with a trailing line: -22" refused -22 'get=1\nx=1\n\n'
check "request without its blank line (client shut its side): -71" \
	refused -71 "set=1\nreplace_peers=true\n"

# A line of 1 MB, then the rest of a request that would remove B.
long_line() {
	local got
	got=$({
		printf 'set=1\nreplace_peers=true\nlisten_port='
		head -c 1000000 /dev/zero | tr '\0' '7'
		printf '\n\n'
	} | send | head -n 1)
	[ "$got" = "errno=-90" ] || { echo "answer '$got'"; return 1; }
	unchanged
}
check "a 1 MB line: -90" long_line
check "traffic A -> B after the malformed requests" ping_ok "$NS_A" "$IN4_B"

# ---- the server under load ----------------------------------------------

# A ping through the tunnel during what follows: no packet may be lost.
PINGLOG=$(tmpfile ping.log)
spawn "$PINGLOG" ip netns exec "$NS_A" ping -n -i 0.05 -W 1 "$IN4_B"
PING_PID=$SPAWNED

# A client that stops mid-request is answered -110 after 5 s and cut off;
# meanwhile wg is served.
stalled() {
	local out=$WGX_TMP/stalled.out t0 t1 pid
	t0=$(now_ms)
	{
		printf 'set=1\npublic_key=%s\nremove=true\n' "$HB"
		sleep 9
	} | timeout 20 ip netns exec "$NS_A" socat -t 1 - \
		"UNIX-CONNECT:$SOCK" >"$out" &
	pid=$!
	sleep 1
	ip netns exec "$NS_A" wg show "$TUN_A" >/dev/null ||
		{ echo "wg show while a client stalls failed"; return 1; }
	wait_until 10 grep -q errno "$out" || return 1
	t1=$(now_ms)
	[ "$(head -n 1 "$out")" = "errno=-110" ] ||
		{ echo "answer '$(cat "$out")'"; return 1; }
	[ $((t1 - t0)) -lt 8000 ] ||
		{ echo "answered after $((t1 - t0)) ms"; return 1; }
	wait "$pid"
	unchanged
}
check "a client stalled mid-request: -110 within 5 s, wg served meanwhile" \
	stalled

# More idle clients than are served at once: wg still gets its answer
# (idle ones are dropped after 5 s; others wait in the backlog).
idle_crowd() {
	local i pids=() t0 t1
	for ((i = 0; i < 80; i++)); do
		timeout 15 ip netns exec "$NS_A" socat -u OPEN:/dev/null,ignoreeof \
			"UNIX-CONNECT:$SOCK" >/dev/null 2>&1 &
		pids+=($!)
	done
	sleep 0.5
	t0=$(now_ms)
	timeout 15 ip netns exec "$NS_A" wg show "$TUN_A" >/dev/null ||
		{ echo "wg show failed behind 80 idle clients"; return 1; }
	t1=$(now_ms)
	info "wg show behind 80 idle clients: $((t1 - t0)) ms"
	for i in "${pids[@]}"; do
		kill "$i" 2>/dev/null
		wait "$i" 2>/dev/null
	done
	unchanged
}
check "80 idle clients: wg show still answered" idle_crowd

many_at_once() {
	local i ok=0 dir=$WGX_TMP/many pids=()
	mkdir -p "$dir"
	for ((i = 0; i < 100; i++)); do
		timeout 20 ip netns exec "$NS_A" wg show "$TUN_A" dump \
			>"$dir/$i" 2>&1 &
		pids+=($!)
	done
	for i in "${pids[@]}"; do
		wait "$i"
	done
	for ((i = 0; i < 100; i++)); do
		[ "$(cut -f1-4,8 "$dir/$i")" = "$BEFORE" ] && ok=$((ok + 1))
	done
	[ "$ok" -eq 100 ] || { echo "$ok of 100 answered right"; return 1; }
}
check "100 wg show at once, all answered" many_at_once

# 5,000 peers in one setconf (B among them), while the ping runs.
big_setconf() {
	local f=$WGX_TMP/big.conf i n
	{
		printf '[Interface]\nPrivateKey = %s\nListenPort = %s\n' \
			"$(cat "$(keyfile a)")" "$PORT_A"
		printf '[Peer]\nPublicKey = %s\nAllowedIPs = %s/32\nEndpoint = %s\n' \
			"$(pubkey b)" "$IN4_B" "$UL4_B:$PORT_B"
		for ((i = 0; i < 5000; i++)); do
			printf '[Peer]\nPublicKey = %s\nAllowedIPs = 10.%d.%d.0/24\n' \
				"$(head -c 32 /dev/urandom | base64)" \
				$((100 + i / 256)) $((i % 256))
		done
	} >"$f"
	t0=$(now_ms)
	ip netns exec "$NS_A" wg setconf "$TUN_A" "$f" || return 1
	info "setconf of 5,001 peers: $(($(now_ms) - t0)) ms"
	n=$(ip netns exec "$NS_A" wg show "$TUN_A" peers | wc -l)
	[ "$n" -eq 5001 ] || { echo "$n peers"; return 1; }
}
check "setconf of 5,001 peers" big_setconf

ping_clean() {
	local sent got
	sleep 1
	# SIGINT: ping prints its summary (ip netns exec exec'd it).
	kill -INT "$PING_PID" 2>/dev/null
	wait_until 5 eval "! proc_alive $PING_PID" || return 1
	sent=$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' "$PINGLOG")
	got=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$PINGLOG")
	info "ping during the load: $got of $sent"
	[ -n "$sent" ] && [ "$sent" -gt 50 ] && [ "$got" = "$sent" ]
}
check "the ping lost nothing meanwhile" ping_clean
check "the daemon is the one from the start" proc_alive "$PID_A"

finish
