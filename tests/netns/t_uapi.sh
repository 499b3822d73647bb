#!/usr/bin/env bash
# timeout: 240
# modes: auto
# workers: default
# wg(8) drives wgxdp through the UAPI socket. `wgxdp up` on A (the drop-in
# for wireguard-go) gets every kind of `wg set`, then setconf, addconf,
# syncconf, and the same commands go to a wireguard-go (G) alone in its
# namespace: after each, `wg show dump` of the two must match, keys,
# times and counters aside. Traffic with B (wireguard-go) is checked
# before and after each change that must not disturb it, and B's session
# must survive setconf and syncconf (wgxdp keeps the sessions of the
# peers a set leaves in place). Then the same socket on an `attach`
# instance: its configuration, and a live change. Runs in about 10 s.
#
#   netns ...-a                      netns ...-b          netns ...-g
#   wgxdp up wgx<pid>ta              wireguard-go         wireguard-go
#     10.201.0.1/24  --- veth ---      wgx<pid>tb          wgx<pid>tg
#     (10.101.0.1)                    10.201.0.2/24       (no link: a
#                                      (10.101.0.2)        mirror of A's
#                                                          configuration)
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

require_root_netns
require_tools wireguard-go wg jq ping socat
require_wgxdp

# ---- helpers ------------------------------------------------------------

# start_up NS TUN [ARGS...]: `wgxdp up TUN` in NS; returns once ready.
# Stopped at exit by deleting the interface (as wg-quick does).
start_up() {
	local ns=$1 tun=$2
	shift 2
	register wgxdp "$ns" - "$tun"
	register if "$tun"
	on_exit stop_up "$ns" "$tun"
	timeout 30 ip netns exec "$ns" "$WGXDP" up "$tun" "$@" \
		>>"$WGX_TMP/up-$tun.log" 2>&1 </dev/null {WGX_OUT}>&- ||
		{ tail -n 5 "$WGX_TMP/up-$tun.log" >&2; return 1; }
	WGX_PID[$tun]=$(head -n 1 "/run/wgxdp/$tun.pid" 2>/dev/null)
}

# stop_up NS TUN: delete the interface; the daemon must follow.
stop_up() {
	local pid=${WGX_PID[$2]:-}
	ip -n "$1" link del "$2" 2>/dev/null
	[ -n "$pid" ] || return 0
	wait_until 5 eval "! proc_alive $pid" 2>/dev/null || stop_pid "$pid"
	unset "WGX_PID[$2]"
}

# keys.sed: every key of the test (public, private, pre-shared) to its
# name, so two devices' dumps compare.
keymap() {
	local n f=$WGX_TMP/keys.sed
	: >"$f"
	for n in a b c d; do
		printf 's#%s#PRIV_%s#g\ns#%s#PUB_%s#g\n' "$(cat "$(keyfile $n)")" \
			"$n" "$(pubkey $n)" "$n" >>"$f"
	done
	printf 's#%s#PSK#g\n' "$(cat "$PSK")" >>"$f"
}

# norm_dump NS TUN: `wg show dump`, keys named, handshake times and
# counters dropped, allowed IPs and peers sorted.
norm_dump() {
	local line f ips
	ip netns exec "$1" wg show "$2" dump | sed -f "$WGX_TMP/keys.sed" |
		while IFS=$'\t' read -r -a f; do
			if [ "${#f[@]}" -eq 4 ]; then
				echo "interface ${f[0]} ${f[1]} ${f[2]} ${f[3]}"
				continue
			fi
			ips=$(tr ',' '\n' <<<"${f[3]}" | sort | paste -sd,)
			line="peer ${f[0]} ${f[1]} ${f[2]} $ips ${f[7]}"
			echo "$line"
		done | sort
}

# same: A's and G's dumps match.
same() {
	local a g
	a=$(norm_dump "$NS_A" "$TUN_A") && g=$(norm_dump "$NS_G" "$TUN_G") ||
		return 1
	if [ "$a" != "$g" ]; then
		echo "wgxdp:"
		echo "$a"
		echo "wireguard-go:"
		echo "$g"
		echo "wg show dump differs"
		return 1
	fi
}

# both ARGS...: `wg ARGS` on A and on G, with @ standing for the
# interface; both must succeed, then their dumps must match.
both() {
	local x ns tun args
	for x in A G; do
		if [ "$x" = A ]; then
			ns=$NS_A tun=$TUN_A
		else
			ns=$NS_G tun=$TUN_G
		fi
		args=("${@//@/$tun}")
		ip netns exec "$ns" wg "${args[@]}" ||
			{ echo "wg ${args[*]} failed on $x"; return 1; }
	done
	same
}

# uapi NS TUN TEXT: TEXT (with \n escapes) to the UAPI socket; the
# answer.
uapi() {
	printf '%b' "$3" | timeout 10 ip netns exec "$1" socat -t 5 - \
		"UNIX-CONNECT:/var/run/wireguard/$2.sock"
}

hex() { base64 -d <<<"$1" | od -An -tx1 -v | tr -d ' \n'; }

ping_b() { ping_ok "$NS_A" "$IN4_B"; }

# hs_b: A's latest handshake with B (unix seconds, 0: none).
hs_b() {
	ip netns exec "$NS_A" wg show "$TUN_A" latest-handshakes |
		awk -v k="$(pubkey b)" '$1 == k { print $2 }'
}

# ---- set up -------------------------------------------------------------

netns_pair || die "namespaces"
NS_G=$(ns_name g)
ns_create "$NS_G" || die "namespace g"
{ TUN_A=$(if_name ta) && TUN_B=$(if_name tb) && TUN_G=$(if_name tg); } ||
	die "names"
{ keygen a && keygen b && keygen c && keygen d; } || die "keys"
PSK=$(tmpfile psk)
(umask 077 && wg genpsk >"$PSK") || die "psk"
keymap || die "key map"

check "wgxdp up returns once ready" start_up "$NS_A" "$TUN_A"
socket_mode() {
	[ "$(stat -c '%a %U' "/var/run/wireguard/$TUN_A.sock")" = "600 root" ]
}

bare() {
	local out
	out=$(ip netns exec "$NS_A" wg show "$TUN_A" dump) || return 1
	[ "$(cut -f1,2,4 <<<"$out")" = "$(printf '(none)\t(none)\toff')" ] &&
		! ip -n "$NS_A" addr show dev "$TUN_A" | grep -q inet &&
		[ -z "$(ip -n "$NS_A" route show dev "$TUN_A")" ] &&
		ip -n "$NS_A" link show "$TUN_A" | grep -q "state DOWN" &&
		ip -n "$NS_A" link show "$TUN_A" | grep -q "mtu 1420"
}

listed() {
	ip netns exec "$NS_A" wg show interfaces | grep -qw "$TUN_A"
}

check "the UAPI socket is root's, 0600" socket_mode
check "up: no key, no peer, no address, no route, link down" bare
check "wg show interfaces lists it" listed
start_wggo "$NS_G" "$TUN_G" || die "wireguard-go G"
start_wggo "$NS_B" "$TUN_B" || die "wireguard-go B"
setup_b() {
	wg_setup "$NS_B" "$TUN_B" b "$PORT_B" &&
		wg_peer "$NS_B" "$TUN_B" "$(pubkey a)" "$IN4_A/32,$IN6_A/128" \
			"$UL4_A:$PORT_A" &&
		tun_up "$NS_B" "$TUN_B" "$IN4_B/$IN4_LEN" "$IN6_B/$IN6_LEN"
}
setup_b || die "B"

# ---- wg set, one kind of change at a time -------------------------------

check "set private-key and listen-port" \
	both set @ private-key "$(keyfile a)" listen-port "$PORT_A"
tun_up "$NS_A" "$TUN_A" "$IN4_A/$IN4_LEN" "$IN6_A/$IN6_LEN" || die "A's addresses"
check "set peer: allowed-ips, endpoint" \
	both set @ peer "$(pubkey b)" allowed-ips "$IN4_B/32,$IN6_B/128" \
	endpoint "$UL4_B:$PORT_B"
check "traffic A -> B after the first set" ping_b
check "traffic over IPv6 too" ping_ok "$NS_A" "$IN6_B"
HS=$(hs_b)
# session_kept: A's handshake with B is still the one from the start.
session_kept() {
	local now
	now=$(hs_b)
	[ "$now" = "$HS" ] || { echo "B's handshake: $HS, now $now"; return 1; }
}
psk_both() {
	both set @ peer "$(pubkey b)" preshared-key "$PSK" &&
		ip netns exec "$NS_B" wg set "$TUN_B" peer "$(pubkey a)" \
			preshared-key "$PSK"
}
check "set peer: persistent-keepalive" \
	both set @ peer "$(pubkey b)" persistent-keepalive 25
check "set peer: preshared-key (B too)" psk_both
check "set peer C: allowed-ips, endpoint" \
	both set @ peer "$(pubkey c)" allowed-ips 10.9.0.0/16,fd09::/32 \
	endpoint 192.0.2.3:51999
check "set peer C: allowed-ips replaced" \
	both set @ peer "$(pubkey c)" allowed-ips 10.10.0.0/16,10.9.0.0/16
check "set peer C: allowed-ips emptied" \
	both set @ peer "$(pubkey c)" allowed-ips ""
check "set peer C: endpoint over IPv6" \
	both set @ peer "$(pubkey c)" endpoint "[fd00:9::3]:51998"
check "set fwmark" both set @ fwmark 0x1234
check "set fwmark off" both set @ fwmark 0
check "set peer C: remove" both set @ peer "$(pubkey c)" remove
check "traffic A -> B after the sets" ping_b
check "B's session survived every set" session_kept

# ---- whole configurations -----------------------------------------------

# conf FILE [PEER ALLOWED [ENDPOINT [KEEPALIVE]]]...: a wg(8) file with
# A's key and port.
conf() {
	local out=$1
	shift
	{
		printf '[Interface]\nPrivateKey = %s\nListenPort = %s\n' \
			"$(cat "$(keyfile a)")" "$PORT_A"
		while [ $# -ge 4 ]; do
			printf '\n[Peer]\nPublicKey = %s\nAllowedIPs = %s\n' \
				"$(pubkey "$1")" "$2"
			[ "$1" != b ] || printf 'PresharedKey = %s\n' "$(cat "$PSK")"
			[ -z "$3" ] || printf 'Endpoint = %s\n' "$3"
			[ -z "$4" ] || printf 'PersistentKeepalive = %s\n' "$4"
			shift 4
		done
	} >"$out"
}
C1=$(tmpfile c1.conf) C2=$(tmpfile c2.conf) C3=$(tmpfile c3.conf)
(
	umask 077
	conf "$C1" b "$IN4_B/32, $IN6_B/128" "$UL4_B:$PORT_B" 25 \
		d "10.12.0.0/16" "192.0.2.4:4" ""
	conf "$C2" c "10.11.0.0/16" "" 5
	conf "$C3" b "$IN4_B/32" "$UL4_B:$PORT_B" 10 \
		c "10.11.0.0/16, 10.13.0.0/16" "192.0.2.3:3" ""
) || die "config files"

check "setconf" both setconf @ "$C1"
check "traffic A -> B after setconf" ping_b
check "setconf kept B's session" session_kept
check "addconf" both addconf @ "$C2"
check "syncconf" both syncconf @ "$C3"
check "traffic A -> B after syncconf" ping_b
check "syncconf kept B's session" session_kept

# show_same WHAT: `wg show TUN WHAT` of A and G match, keys named.
show_same() {
	local a g
	a=$(ip netns exec "$NS_A" wg show "$TUN_A" "$1" |
		sed -f "$WGX_TMP/keys.sed" | sort) &&
		g=$(ip netns exec "$NS_G" wg show "$TUN_G" "$1" |
			sed -f "$WGX_TMP/keys.sed" | sort) || return 1
	[ "$a" = "$g" ] || { printf '%s\n---\n%s\n' "$a" "$g"; return 1; }
}

showconf_same() {
	local a g
	a=$(ip netns exec "$NS_A" wg showconf "$TUN_A" |
		sed -f "$WGX_TMP/keys.sed" | sort) &&
		g=$(ip netns exec "$NS_G" wg showconf "$TUN_G" |
			sed -f "$WGX_TMP/keys.sed" | sort) && [ "$a" = "$g" ]
}

round_trip() {
	local before
	ip netns exec "$NS_A" wg showconf "$TUN_A" >"$WGX_TMP/round.conf" &&
		before=$(norm_dump "$NS_A" "$TUN_A") &&
		ip netns exec "$NS_A" wg setconf "$TUN_A" "$WGX_TMP/round.conf" &&
		[ "$(norm_dump "$NS_A" "$TUN_A")" = "$before" ]
}

counted() {
	local t
	t=$(ip netns exec "$NS_A" wg show "$TUN_A" transfer |
		awk -v k="$(pubkey b)" '$1 == k { print $2, $3 }') || return 1
	[ "${t%% *}" -gt 0 ] && [ "${t##* }" -gt 0 ] && [ "$(hs_b)" -gt 0 ]
}

check "showconf matches wireguard-go's" showconf_same
check "showconf | setconf changes nothing" round_trip
for what in public-key private-key listen-port fwmark peers endpoints \
	allowed-ips persistent-keepalive preshared-keys; do
	check "wg show $what matches" show_same "$what"
done
check "transfer and handshake of B are counted" counted

# ---- single allowed IPs removed (allowed_ip=-, newer wg and wireguard-go)

# remove_one PREFIX: allowed_ip=-PREFIX for C; answers errno=0.
remove_one() {
	local out
	out=$(uapi "$NS_A" "$TUN_A" \
		"set=1\npublic_key=$(hex "$(pubkey c)")\nallowed_ip=-$1\n\n")
	[ "$out" = "errno=0" ] || { echo "answer: $out"; return 1; }
}

c_ips() {
	ip netns exec "$NS_A" wg show "$TUN_A" allowed-ips |
		awk -v k="$(pubkey c)" '$1 == k { $1 = ""; print }'
}

remove_own() {
	remove_one 10.13.0.0/16 && [ "$(c_ips)" = " 10.11.0.0/16" ]
}

remove_others() {
	local before
	before=$(norm_dump "$NS_A" "$TUN_A") && remove_one "$IN4_B/32" &&
		[ "$(norm_dump "$NS_A" "$TUN_A")" = "$before" ]
}

check "allowed_ip=-PREFIX removes just that prefix" remove_own
check "allowed_ip=- of a prefix another peer holds changes nothing" \
	remove_others
check "traffic A -> B after the removals" ping_b
# wireguard-go 0.0.20220316 predates allowed_ip=-: G gets the same result
# the old way.
ip netns exec "$NS_G" wg set "$TUN_G" peer "$(pubkey c)" \
	allowed-ips 10.11.0.0/16 || die "G's allowed IPs"

# ---- listen port moved: B follows ----------------------------------------

check "set listen-port to a new port" both set @ listen-port $((PORT_A + 10))
follow() {
	ip netns exec "$NS_B" wg set "$TUN_B" peer "$(pubkey a)" \
		endpoint "$UL4_A:$((PORT_A + 10))" && ping_b
}

# A set whose port is taken is refused whole: the peer it also removes
# stays.
port_in_use() {
	local before
	spawn "$WGX_TMP/hold.log" ip netns exec "$NS_A" socat -u \
		UDP4-RECV:51900 - || return 1
	wait_listen "$NS_A" 51900 udp && before=$(norm_dump "$NS_A" "$TUN_A") ||
		return 1
	if ip netns exec "$NS_A" wg set "$TUN_A" listen-port 51900 \
		peer "$(pubkey c)" remove 2>"$WGX_TMP/inuse.err"; then
		echo "the set was taken"
		return 1
	fi
	grep -q "Address already in use" "$WGX_TMP/inuse.err" &&
		[ "$(norm_dump "$NS_A" "$TUN_A")" = "$before" ] && ping_b
}

check "the sockets moved, traffic follows" follow
check "a port in use is refused, nothing changed" port_in_use

# ---- the end: deleting the interface ends the daemon ---------------------

gone() {
	local pid=${WGX_PID[$TUN_A]}
	ip -n "$NS_A" link del "$TUN_A" &&
		wait_until 5 eval "! proc_alive $pid" &&
		wait_until 2 test ! -e "/var/run/wireguard/$TUN_A.sock" &&
		[ ! -e "/run/wgxdp/$TUN_A.pid" ]
}
check "deleting the interface ends the daemon and its socket" gone

# ---- the same socket on an attach instance -------------------------------

CA=$(tmpfile "$TUN_A.conf")
write_wgxdp_conf "$CA" a "$PORT_A" "$IN4_A/$IN4_LEN, $IN6_A/$IN6_LEN" \
	"$(pubkey b)" "$IN4_B/32, $IN6_B/128" "$UL4_B:$PORT_B" 21 ||
	die "attach config"
ip netns exec "$NS_B" wg set "$TUN_B" peer "$(pubkey a)" \
	endpoint "$UL4_A:$PORT_A" preshared-key /dev/null || die "B back"
check "attach" start_wgxdp "$NS_A" "$VETH_A" "$CA" "$TUN_A"
attach_dump() {
	local d
	d=$(ip netns exec "$NS_A" wg show "$TUN_A" dump) || return 1
	[ "$(head -n 1 <<<"$d" | cut -f1-4)" = "$(printf '%s\t%s\t%s\toff' \
		"$(cat "$(keyfile a)")" "$(pubkey a)" "$PORT_A")" ] &&
		[ "$(tail -n 1 <<<"$d" | cut -f1-4,8)" = \
			"$(printf '%s\t(none)\t%s\t%s\t21' "$(pubkey b)" \
				"$UL4_B:$PORT_B" "$IN4_B/32,$IN6_B/128")" ]
}

attach_set() {
	ip netns exec "$NS_A" wg set "$TUN_A" peer "$(pubkey b)" \
		persistent-keepalive 7 &&
		wgxdp_show "$NS_A" "$TUN_A" |
		jq -e '.peers[0].persistent_keepalive == 7' && ping_b
}

attach_remove() {
	ip netns exec "$NS_A" wg set "$TUN_A" peer "$(pubkey b)" remove &&
		! ping_ok "$NS_A" "$IN4_B" 2
}

attach_reload() {
	ip netns exec "$NS_A" "$WGXDP" reload "$VETH_A" && ping_b
}

check "attach: wg show dump is the config" attach_dump
check "attach: traffic" ping_b
check "attach: wg set reaches the instance" attach_set
check "attach: wg set peer remove cuts B" attach_remove
check "attach: reload brings the file back" attach_reload

finish
