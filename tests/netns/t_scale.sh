#!/usr/bin/env bash
# timeout: 300
# modes: auto
# workers: default
# 100,000 peers. wgxdp on A has 100,000 configured peers (random keys that
# nobody holds, one IPv4 /32 and one IPv6 /128 each, inside A's own
# subnets, so wg-quick's rule installs no route for them) and wireguard-go
# on B as one more. Attach; `show --json` lists every peer; wireguard-go
# pings A every 10 ms through the tunnel while a reload changes one peer's
# AllowedIPs and adds one: no echo is lost and the session is kept. A
# reload that changes nothing changes nothing. Prints the attach, show and
# reload times and the daemon's peak RSS (tools/bench/scale measures them
# properly).
#
#   netns wgx-<pid>-a                          netns wgx-<pid>-b
#   wgxdp wgx<pid>ta                           wireguard-go wgx<pid>tb
#     10.64.0.1/10 fd00:64::1/64   <=======>     10.127.0.2/10 fd00:64::ffff:2/64
#     + 100,000 peers in 10.65/16, 10.66/16
#   veth wgx<pid>va                            veth wgx<pid>vb
#     10.101.0.1/24 fd00:101::1/64  ---------    10.101.0.2/24 fd00:101::2/64
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

require_root_netns
require_tools wireguard-go wg jq ping
require_wgxdp

PEERS=${WGX_SCALE_PEERS:-100000}
CONFGEN=$(dirname "$WGXDP")/tests/netns/wgx_confgen
[ -x "$CONFGEN" ] || skip_all "$CONFGEN not built"

netns_pair || die "namespace pair with veth"
TUN_A=$(if_name ta) || die "names"
TUN_B=$(if_name tb) || die "names"
for k in a b c; do
	keygen "$k" || die "keygen"
done

CONF=$WGX_TMP/$TUN_A.conf
PEERS_FILE=$WGX_TMP/peers.conf
write_conf() {
	write_wgxdp_conf "$CONF" a "$PORT_A" "10.64.0.1/10, fd00:64::1/64" \
		"$(pubkey b)" "10.127.0.2/32, fd00:64::ffff:2/128" \
		"$UL4_B:$PORT_B" || return 1
	cat "$PEERS_FILE" >>"$CONF"
}
"$CONFGEN" "$PEERS" 10.65.0.0 fd00:64::1:0 >"$PEERS_FILE" ||
	die "generate $PEERS peers"
write_conf || die "config"

# wggo_b: wireguard-go on B, A as its peer.
wggo_b() {
	start_wggo "$NS_B" "$TUN_B" &&
		wg_setup "$NS_B" "$TUN_B" b "$PORT_B" &&
		wg_peer "$NS_B" "$TUN_B" "$(pubkey a)" \
			"10.64.0.0/10,fd00:64::/64" "$UL4_A:$PORT_A" &&
		tun_up "$NS_B" "$TUN_B" 10.127.0.2/10 fd00:64::ffff:2/64
}
wggo_b || die "wireguard-go on B"

T0=$(now_ms)
start_wgxdp "$NS_A" "$VETH_A" "$CONF" "$TUN_A" || die "attach with $PEERS peers"
info "attach with $((PEERS + 1)) peers: $(($(now_ms) - T0)) ms"
PID_A=${WGX_PID[$TUN_A]}

check "handshake with wireguard-go among them" \
	wait_handshake "$NS_B" "$TUN_B" 10.64.0.1 20

SHOW=$(tmpfile show.json)
# show_lists N: show --json lists N peers; prints how long it took.
show_lists() {
	local t0 n
	t0=$(now_ms)
	wgxdp_show "$NS_A" "$TUN_A" >"$SHOW" || return 1
	n=$(jq '.peers | length' "$SHOW")
	info "show --json: $n peers, $(stat -c %s "$SHOW") bytes," \
		"$(($(now_ms) - t0)) ms"
	[ "$n" -eq "$1" ]
}
check "show --json lists every peer" show_lists $((PEERS + 1))

# no_route_per_peer: the subnet route covers the peers: no route each.
no_route_per_peer() {
	local n
	n=$(ip -n "$NS_A" route show dev "$TUN_A" | wc -l)
	echo "routes on $TUN_A: $n"
	[ "$n" -lt 10 ]
}
check "no route per peer (the interface's subnet covers them)" \
	no_route_per_peer

# reload_timed: wgxdp reload, timed.
reload_timed() {
	local t0
	t0=$(now_ms)
	timeout 60 ip netns exec "$NS_A" "$WGXDP" reload "$VETH_A" || return 1
	info "reload: $(($(now_ms) - t0)) ms"
}

# peer_state FILE: the peers as show --json gave them (keys, allowed IPs,
# endpoints), one line each.
peer_state() {
	jq -c '.peers[] | [.public_key, .allowed_ips, .endpoint]' "$1"
}

HS0=$(latest_handshake "$NS_B" "$TUN_B")
BEFORE=$(tmpfile before.txt)
peer_state "$SHOW" >"$BEFORE"
check "a reload that changes nothing" reload_timed
# unchanged: every peer as it was.
unchanged() {
	wgxdp_show "$NS_A" "$TUN_A" >"$SHOW" || return 1
	peer_state "$SHOW" | cmp -s - "$BEFORE" ||
		{ echo "the peers changed"; return 1; }
}
check "... leaves every peer as it was" unchanged

PING_LOG=$(tmpfile ping.log)
spawn "$PING_LOG" ip netns exec "$NS_B" ping -n -q -i 0.01 -W 1 -c 500 \
	10.64.0.1
PING_PID=$SPAWNED
sleep 1
# One peer's AllowedIPs change, one peer is added.
sed -i '0,/^AllowedIPs = 10\.65\.0\.5\/32/s//AllowedIPs = 10.65.200.5\/32/' \
	"$PEERS_FILE"
cat >>"$PEERS_FILE" <<EOF

[Peer]
PublicKey = $(pubkey c)
AllowedIPs = 10.70.0.1/32
EOF
write_conf || die "config"
check "a reload that changes one peer and adds one" reload_timed
wait_until 20 eval "! proc_alive $PING_PID" || true

# no_loss: the 10 ms ping from wireguard-go lost nothing.
no_loss() {
	local loss
	loss=$(sed -n 's/.* \([0-9.]*\)% packet loss.*/\1/p' "$PING_LOG")
	info "ping every 10 ms across the reload: ${loss:-?}% lost;" \
		"$(sed -n 's/^rtt.* = //p' "$PING_LOG")"
	[ "${loss:-1}" = 0 ]
}
check "no ping lost across the reload" no_loss
# session_kept: wireguard-go's handshake with A is the one from before.
session_kept() {
	local hs
	hs=$(latest_handshake "$NS_B" "$TUN_B")
	echo "latest handshake: $HS0 -> $hs"
	[ "$hs" = "$HS0" ]
}
check "session kept" session_kept
check "show lists the added peer" show_lists $((PEERS + 2))
info "peak RSS: $(proc_hwm_kb "$PID_A") KiB"
finish
