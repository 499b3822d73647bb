#!/usr/bin/env bash
# timeout: 180
# Live reconfiguration: `wgxdp reload IFACE` and SIGHUP to the daemon add
# and remove a peer (C) while another peer's (B) iperf3 stream runs. B's
# session must survive every reload (same latest_handshake, no empty
# iperf3 interval); a removed C is gone from show, its routes are gone and
# its old session no longer decrypts; a broken config is refused with
# file:line and changes nothing. At the end a new ListenPort: N's sockets
# move to it, and B follows N there. Runs in about 50 s.
#
#                      netns wgx-<pid>-seg: bridge wgx<pid>br
#                  +--------------+----------------+
#            wgx<pid>bn      wgx<pid>bb       wgx<pid>bc
#                  |              |                |
#   netns ...-n    |  netns ...-b |   netns ...-c  |
#   veth wgx<pid>n |  veth wgx<pid>b    veth wgx<pid>c
#     10.103.0.1   |    10.103.0.2      10.103.0.3   (/24)
#   wgxdp wgx<pid>tn    wireguard-go wgx<pid>tb  wireguard-go wgx<pid>tc
#     10.78.0.1/24        10.78.0.2/24             10.78.0.3/24
#     peer B: .2/32       peer N: 10.78.0.0/24     10.79.3.1/24 (behind C)
#     peer C (added and   (endpoint N)             peer N: 10.78.0.0/24
#     removed): .3/32,                             (endpoint N)
#     10.79.3.0/24
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

require_root_netns
require_tools wireguard-go wg iperf3 jq ping ss
require_wgxdp

UL_N=10.103.0.1 UL_B=10.103.0.2 UL_C=10.103.0.3
VPN_N=10.78.0.1 VPN_B=10.78.0.2 VPN_C=10.78.0.3 NET_C=10.79.3.0/24
LAN_C=10.79.3.1
PORT_N=51820 PORT_B=51821 PORT_C=51822
STREAM_S=40

segment() {
	NS_SEG=$(ns_name seg) NS_N=$(ns_name n) NS_B=$(ns_name b)
	NS_C=$(ns_name c)
	BR=$(if_name br) && IF_N=$(if_name n) && IF_B=$(if_name b) &&
		IF_C=$(if_name c) || return 1
	bridge_create "$NS_SEG" "$BR" && ns_create "$NS_N" &&
		ns_create "$NS_B" && ns_create "$NS_C" || return 1
	bridge_join "$NS_N" "$IF_N" "$NS_SEG" "$BR" "$(if_name bn)" \
		"$UL_N/24" &&
		bridge_join "$NS_B" "$IF_B" "$NS_SEG" "$BR" "$(if_name bb)" \
			"$UL_B/24" &&
		bridge_join "$NS_C" "$IF_C" "$NS_SEG" "$BR" "$(if_name bc)" \
			"$UL_C/24" || return 1
	wait_until 10 nsx "$NS_B" ping -c 1 -W 1 "$UL_N" &&
		wait_until 10 nsx "$NS_C" ping -c 1 -W 1 "$UL_N"
}

# wggo_peer NS TUN KEY PORT ADDR/LEN...: a wireguard-go node whose only
# peer is N.
wggo_peer() {
	local ns=$1 tun=$2 key=$3 port=$4
	shift 4
	start_wggo "$ns" "$tun" && wg_setup "$ns" "$tun" "$key" "$port" &&
		wg_peer "$ns" "$tun" "$(pubkey n)" 10.78.0.0/24 \
			"$UL_N:$PORT_N" &&
		tun_up "$ns" "$tun" "$@"
}

# write_conf with|without|broken: N's config with B, with or without C;
# "broken" is the config with C plus a line no parser accepts, so any
# partial application would show.
write_conf() {
	local tmp=$CONF.new
	write_wgxdp_conf "$tmp" n "${LISTEN_N:-$PORT_N}" "$VPN_N/24" \
		"$(pubkey b)" "$VPN_B/32" "$UL_B:$PORT_B" || return 1
	if [ "$1" != without ]; then
		wgxdp_conf_add_peer "$tmp" "$(pubkey c)" "$VPN_C/32, $NET_C" \
			"$UL_C:$PORT_C" || return 1
	fi
	[ "$1" != broken ] || echo "Bogus = 1" >>"$tmp"
	# In place, as an editor would save it (the daemon keeps the path).
	cat "$tmp" >"$CONF" && rm -f "$tmp"
}

segment || die "bridge segment with N, B, C"
{ TUN_N=$(if_name tn) && TUN_B=$(if_name tb) && TUN_C=$(if_name tc); } ||
	die "names"
{ keygen n && keygen b && keygen c; } || die "keys"
CONF=$(tmpfile "$TUN_N.conf")
write_conf without || die "config"
start_wgxdp "$NS_N" "$IF_N" "$CONF" "$TUN_N" || die "wgxdp on N"
wggo_peer "$NS_B" "$TUN_B" b "$PORT_B" "$VPN_B/24" || die "wireguard-go B"
wggo_peer "$NS_C" "$TUN_C" c "$PORT_C" "$VPN_C/24" "$LAN_C/24" ||
	die "wireguard-go C"

# ---- helpers reading N's state

show_n() { wgxdp_show "$NS_N" "$TUN_N"; }

# peer_field PUB FIELD: FIELD of that peer in N's show ("" if absent).
peer_field() {
	show_n | jq -r --arg k "$1" --arg f "$2" \
		'.peers[] | select(.public_key == $k) | .[$f] | tostring'
}

listed() { [ -n "$(peer_field "$(pubkey "$1")" public_key)" ]; }
not_listed() {
	local out
	out=$(show_n) || return 1
	! jq -e --arg k "$(pubkey "$1")" \
		'.peers[] | select(.public_key == $k)' <<<"$out" >/dev/null
}

# state_n: what a reload may change, normalised: peers (key, allowed IPs,
# endpoint), the TUN's addresses and routes.
state_n() {
	show_n | jq -S '[.peers[] | {public_key, allowed_ips, endpoint}] |
		sort_by(.public_key)' &&
		ip -n "$NS_N" -br addr show dev "$TUN_N" &&
		ip -n "$NS_N" route show dev "$TUN_N" | sort
}

counter_n() { wgxdp_counter "$NS_N" "$TUN_N" "$1"; }

daemon_pid() { head -n 1 "/run/wgxdp/$TUN_N.pid"; }

# ---- B's session and stream

check "handshake B -> N" wait_handshake "$NS_B" "$TUN_B" "$VPN_N" 10
check "ping B -> N" ping_ok "$NS_B" "$VPN_N"
check "show lists B only" eval 'listed b && not_listed c'

B_HS=$(peer_field "$(pubkey b)" latest_handshake)
info "N's latest handshake with B: $B_HS"

# b_kept: B's session on N is the one from before (same handshake time,
# as seen by N and by B), and its byte counts still grow.
B_RX=0
b_kept() {
	local hs rx
	hs=$(peer_field "$(pubkey b)" latest_handshake)
	rx=$(peer_field "$(pubkey b)" rx_bytes)
	[ "$hs" = "$B_HS" ] ||
		{ echo "B's latest_handshake changed: $B_HS -> $hs"; return 1; }
	[ "${rx:-0}" -gt "$B_RX" ] ||
		{ echo "B's rx_bytes did not grow: $B_RX -> $rx"; return 1; }
	B_RX=$rx
}

IPERF=$(tmpfile stream.json)
spawn "$(tmpfile iperf-server.log)" timeout $((STREAM_S + 40)) \
	ip netns exec "$NS_N" iperf3 -s -1 -J -p 5201
wait_listen "$NS_N" 5201 || die "iperf3 server on N"
# Paced (20 Mbit/s): a stall shows as an interval with no bytes, not as
# a dip under a saturated link.
spawn "$(tmpfile iperf-client.log)" timeout $((STREAM_S + 30)) \
	ip netns exec "$NS_B" iperf3 -c "$VPN_N" -p 5201 -t "$STREAM_S" \
	-i 1 -b 20M -J --get-server-output --connect-timeout 5000 \
	--logfile "$IPERF"
STREAM_PID=$SPAWNED
wait_until 5 eval "[ \$(peer_field $(pubkey b) rx_bytes) -gt 100000 ]" ||
	die "B's stream did not start"
sleep 1

# ---- 1: add C with `wgxdp reload`

# reload_cli: `wgxdp reload IFACE` on N succeeds.
reload_cli() {
	timeout 15 ip netns exec "$NS_N" "$WGXDP" reload "$IF_N"
}

# sighup: SIGHUP to the pid on the first line of the pidfile.
sighup() {
	local pid
	pid=$(daemon_pid) && [ -n "$pid" ] && kill -HUP "$pid"
}

route_to() { [ -n "$(ip -n "$NS_N" route show "$1" dev "$TUN_N")" ]; }
no_route_to() { ! route_to "$1"; }

# c_works: N and C handshake (N initiates: C's old tries are long
# forgotten or its keys stale) and ping both ways, also the LAN behind C.
c_works() {
	ping_ok "$NS_N" "$VPN_C" 5 &&
		ping_ok "$NS_C" "$VPN_N" &&
		ping_ok "$NS_N" "$LAN_C" &&
		[ "$(peer_field "$(pubkey c)" latest_handshake)" -gt 0 ]
}

# c_gone: C's address and LAN are unreachable from N, C's packets (with
# the keys of its old session) are dropped as an unknown index, and no
# ping goes through either way.
c_gone() {
	local u0 u1
	u0=$(counter_n drop_unknown_index)
	if nsx "$NS_C" ping -n -q -c 3 -i 0.2 -W 1 "$VPN_N"; then
		echo "C still reaches N"
		return 1
	fi
	if nsx "$NS_N" ping -n -q -c 2 -i 0.2 -W 1 "$VPN_C" ||
		nsx "$NS_N" ping -n -q -c 1 -W 1 "$LAN_C"; then
		echo "N still reaches C"
		return 1
	fi
	u1=$(counter_n drop_unknown_index)
	info "N drop_unknown_index $u0 -> $u1 while C pinged"
	[ "$u1" -ge $((u0 + 3)) ] || {
		echo "C's packets were not dropped as unknown index"
		return 1
	}
}

check "reload (CLI) adding C: exit 0" eval 'write_conf with && reload_cli'
check "show lists C after the reload" listed c
check "route to C's LAN ($NET_C) added" route_to "$NET_C"
check "C works: handshake, ping both ways, LAN behind C" c_works
check "B's session kept and flowing across the reload" b_kept

# ---- 2: remove C with SIGHUP

check "SIGHUP after removing C from the file" eval 'write_conf without && sighup'
check "show no longer lists C" wait_until 5 not_listed c
check "route to C's LAN removed" no_route_to "$NET_C"
check "C unreachable, its old session rejected" c_gone
check "B's session kept and flowing across SIGHUP" b_kept

# ---- 3: add C again with SIGHUP, remove it with `wgxdp reload`

check "SIGHUP after adding C back" eval 'write_conf with && sighup'
check "show lists C again" wait_until 5 listed c
check "C works again (new handshake from N)" c_works
check "reload (CLI) removing C: exit 0" eval 'write_conf without && reload_cli'
check "show no longer lists C (CLI reload)" not_listed c
check "route to C's LAN removed (CLI reload)" no_route_to "$NET_C"
check "C unreachable again" c_gone
check "B's session kept and flowing" b_kept

# ---- 4: a broken config changes nothing

BEFORE=$(tmpfile state.before)
state_n >"$BEFORE" || die "N's state"
RELOAD_ERR=$(tmpfile reload.err)

# reload_refused: non-zero, and the message names the file and line.
reload_refused() {
	if timeout 15 ip netns exec "$NS_N" "$WGXDP" reload "$IF_N" \
		2>"$RELOAD_ERR"; then
		echo "reload of a broken config succeeded"
		return 1
	fi
	info "reload said: $(cat "$RELOAD_ERR")"
	grep -Eq "$(basename "$CONF"):[0-9]+:.*Bogus" "$RELOAD_ERR" || {
		echo "the message does not point at the bad line"
		return 1
	}
}

# unchanged: peers, addresses and routes as before, daemon alive.
unchanged() {
	local now
	now=$(tmpfile state.now)
	state_n >"$now" || return 1
	diff "$BEFORE" "$now" || { echo "N's state changed"; return 1; }
	proc_alive "$(daemon_pid)" || { echo "the daemon is gone"; return 1; }
}

check "reload (CLI) of a broken config: refused with file:line" \
	eval 'write_conf broken && reload_refused'
check "broken config (CLI): nothing changed" unchanged
# SIGHUP has no one to answer: give the daemon a moment to have read it.
check "SIGHUP with a broken config" eval 'sighup && sleep 1'
check "broken config (SIGHUP): nothing changed, daemon alive" unchanged
check "B's session kept and flowing across the refused reloads" b_kept
write_conf without || die "config"

# ---- the stream

check "B's stream still running after the last reload" \
	proc_alive "$STREAM_PID"

stream_ok() {
	local bytes b rc=0
	wait_until $((STREAM_S + 20)) eval "! proc_alive $STREAM_PID" ||
		return 1
	wait "$STREAM_PID" || rc=$?
	[ "$rc" -eq 0 ] ||
		{ cat "$IPERF"; echo "iperf3 exited with $rc"; return 1; }
	# No server report from a loaded iperf3: the sender's intervals.
	bytes=$(jq -r '(.server_output_json.intervals // .intervals)[].sum |
		select(.seconds >= 0.5) | .bytes' "$IPERF") || return 1
	info "B -> N receiver bytes per 1 s:" "$(echo "$bytes" | xargs)"
	[ "$(wc -w <<<"$bytes")" -ge $((STREAM_S - 1)) ] ||
		{ echo "only $(wc -w <<<"$bytes") intervals"; return 1; }
	for b in $bytes; do
		[ "$b" -gt 0 ] || { echo "an interval without data: a stall"; return 1; }
	done
}
check "B's stream: every 1 s interval carried data" stream_ok
check "B's session never renewed during the test" b_kept
check "ping B -> N at the end" ping_ok "$NS_B" "$VPN_N"

# ---- 5: a new ListenPort moves N's sockets; B follows N there

LISTEN_N=51830
# listens_on PORT: N's wgxdp has a UDP socket on PORT, and show says so.
listens_on() {
	local shown
	shown=$(show_n | jq -r .listen_port)
	echo "show: listen_port $shown"
	[ "$shown" = "$1" ] &&
		ip netns exec "$NS_N" ss -Hlun "sport = :$1" | grep -q .
}
# not_listening PORT: no socket of N's is on PORT any more.
not_listening() {
	! ip netns exec "$NS_N" ss -Hlun "sport = :$1" | grep -q .
}
check "reload with a new ListenPort" eval 'write_conf without && reload_cli'
check "N listens on the new port" listens_on "$LISTEN_N"
check "and no longer on the old one" not_listening "$PORT_N"
# N speaks first: B learns N's new endpoint from it (roaming).
check "ping N -> B from the new port" ping_ok "$NS_N" "$VPN_B"
check "ping B -> N to the new port" ping_ok "$NS_B" "$VPN_N"

finish
