#!/usr/bin/env bash
# timeout: 180
# modes: auto
# workers: default
# wg-quick(8) runs wgxdp through the launcher:
# WG_QUICK_USERSPACE_IMPLEMENTATION=wgxdp-userspace wg-quick up FILE with
# AllowedIPs = 0.0.0.0/0, ::/0, so wg-quick sets up its fwmark policy
# routing through wg: everything goes through the tunnel (an address
# only B's tunnel has answers), `wg show` agrees with wireguard-go under
# the same wg-quick, and after `wg-quick down` the routes and rules are
# what they were. Then `attach` with the same /0 (Table = auto) sets up
# and removes the same policy routing itself. Runs in about 20 s.
#
#   netns ...-a                            netns ...-b
#   wg-quick: wgx<pid>q (wgxdp up)          wireguard-go wgx<pid>tb
#     10.201.0.1/24, 0.0.0.0/0 + ::/0 ----    10.201.0.2/24, 192.0.2.99/32
#   (10.101.0.1)            veth             (10.101.0.2)
#   netns ...-g: wg-quick with wireguard-go, the same file (no link)
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

require_root_netns
require_tools wireguard-go wg wg-quick jq ping nft
require_wgxdp
# With the module, wg-quick uses the kernel and never runs the launcher.
[ ! -e /sys/module/wireguard ] ||
	skip_all "the wireguard kernel module is loaded: wg-quick would use it"
LAUNCHER=$(dirname "$WGXDP")/wgxdp-userspace
[ -x "$LAUNCHER" ] || skip_all "no $LAUNCHER"

netns_pair || die "namespaces"
NS_G=$(ns_name g)
ns_create "$NS_G" || die "namespace g"
{
	TUN_Q=$(if_name q) && TUN_G=$(if_name g) && TUN_B=$(if_name tb) &&
		TUN_X=$(if_name x)
} || die "names"
{ keygen a && keygen b; } || die "keys"
FAR=192.0.2.99

setup_b() {
	start_wggo "$NS_B" "$TUN_B" && wg_setup "$NS_B" "$TUN_B" b "$PORT_B" &&
		wg_peer "$NS_B" "$TUN_B" "$(pubkey a)" "$IN4_A/32,$IN6_A/128" \
			"$UL4_A:$PORT_A" &&
		tun_up "$NS_B" "$TUN_B" "$IN4_B/$IN4_LEN" "$IN6_B/$IN6_LEN" \
			"$FAR/32"
}
setup_b || die "B"

# write_conf FILE: A's wg-quick file, everything through B.
write_conf() {
	(
		umask 077
		printf '[Interface]\nPrivateKey = %s\nListenPort = %s\n' \
			"$(cat "$(keyfile a)")" "$PORT_A"
		printf 'Address = %s, %s\n' "$IN4_A/$IN4_LEN" "$IN6_A/$IN6_LEN"
		printf '\n[Peer]\nPublicKey = %s\n' "$(pubkey b)"
		printf 'AllowedIPs = 0.0.0.0/0, ::/0\nEndpoint = %s\n' \
			"$UL4_B:$PORT_B"
	) >"$1"
}
DIR=$WGX_TMP/q
mkdir -p "$DIR" || die "dir"
CONF=$DIR/$TUN_Q.conf CONF_G=$DIR/$TUN_G.conf
write_conf "$CONF" || die "config"
cp -p "$CONF" "$CONF_G" || die "config for G"

# routing NS: every route (all tables) and rule, link-local churn aside.
routing() {
	{
		ip -n "$1" -4 rule show
		ip -n "$1" -6 rule show
		ip -n "$1" -4 route show table all
		ip -n "$1" -6 route show table all
	} | grep -v fe80 | sort
}

# wgq NS IMPL up|down [FILE]: wg-quick with that userspace
# implementation (on A's file unless FILE).
wgq() {
	PATH=$(dirname "$LAUNCHER"):$PATH WG_QUICK_USERSPACE_IMPLEMENTATION=$2 \
		timeout 60 ip netns exec "$1" wg-quick "$3" "${4:-$CONF}" \
		</dev/null {WGX_OUT}>&-
}

# The daemon `wg-quick up` started, ended at exit if still there.
reap_q() {
	local pid
	pid=$(head -n 1 "/run/wgxdp/$TUN_Q.pid" 2>/dev/null)
	ip -n "$NS_A" link del "$TUN_Q" 2>/dev/null
	[ -n "$pid" ] || return 0
	wait_until 5 eval "! proc_alive $pid" 2>/dev/null || stop_pid "$pid"
}
# wireguard-go under wg-quick in G: stopped by deleting its interface.
reap_g() {
	ip -n "$NS_G" link del "$TUN_G" 2>/dev/null
	wait_until 5 test ! -e "/var/run/wireguard/$TUN_G.sock" ||
		rm -f "/var/run/wireguard/$TUN_G.sock"
}
register wgxdp "$NS_A" - "$TUN_Q"
register if "$TUN_Q"
on_exit reap_q

# Link-local addresses settle (no DAD pending) before the snapshot.
wait_until 5 eval "[ -z \"\$(ip -n $NS_A -6 addr show tentative)\" ]"
BEFORE=$(routing "$NS_A")

q_up() {
	local out
	out=$(wgq "$NS_A" wgxdp-userspace up 2>&1) || { echo "$out"; return 1; }
	grep -q "wgxdp-userspace $TUN_Q" <<<"$out" ||
		{ echo "$out"; echo "wg-quick did not run the launcher"; return 1; }
}
check "wg-quick up runs wgxdp through the launcher" q_up

# policy TUN: wg-quick's rules for both families, the default route in
# table 51820 through TUN, and TUN's fwmark 51820.
policy() {
	local fam rules table
	for fam in -4 -6; do
		rules=$(ip -n "$NS_A" "$fam" rule show)
		table=$(ip -n "$NS_A" "$fam" route show table 51820)
		if ! grep -q "not from all fwmark 0xca6c lookup 51820" \
			<<<"$rules" ||
			! grep -q "lookup main suppress_prefixlength 0" \
				<<<"$rules" ||
			! grep -q "default dev $1" <<<"$table"; then
			printf '%s\n%s\n' "$rules" "$table"
			return 1
		fi
	done
	[ "$(ip netns exec "$NS_A" wg show "$1" fwmark)" = 0xca6c ]
}
check "fwmark policy routing in place, fwmark set through wg" policy "$TUN_Q"
check "traffic to B's tunnel address" ping_ok "$NS_A" "$IN4_B"
check "traffic over IPv6" ping_ok "$NS_A" "$IN6_B"
check "an address beyond B goes through the tunnel (0.0.0.0/0)" \
	ping_ok "$NS_A" "$FAR"

# The same file under wireguard-go: the same view through wg.
register if "$TUN_G"
on_exit reap_g
norm() {
	ip netns exec "$1" wg show "$2" dump |
		awk -F'\t' 'NR == 1 { print $1, $2, $3, $4; next }
			{ print $1, $2, $3, $4, $8 }'
}
same_as_wggo() {
	local a g
	wgq "$NS_G" wireguard-go up "$CONF_G" >"$WGX_TMP/wgq-g.log" 2>&1 ||
		{ cat "$WGX_TMP/wgq-g.log"; return 1; }
	a=$(norm "$NS_A" "$TUN_Q") && g=$(norm "$NS_G" "$TUN_G") || return 1
	[ "$a" = "$g" ] || { printf '%s\n---\n%s\n' "$a" "$g"; return 1; }
	# G has no veth: A's underlay routes aside, the same routing.
	a=$(routing "$NS_A" | grep -v "$VETH_A") &&
		g=$(routing "$NS_G" | sed "s/$TUN_G/$TUN_Q/g") || return 1
	[ "$a" = "$g" ] ||
		{ printf 'wgxdp:\n%s\nwireguard-go:\n%s\n' "$a" "$g"; return 1; }
}
check "wg show dump and the routing match wireguard-go's under wg-quick" \
	same_as_wggo
wgq "$NS_G" wireguard-go down "$CONF_G" >/dev/null 2>&1

q_down() {
	local pid
	pid=$(head -n 1 "/run/wgxdp/$TUN_Q.pid") || return 1
	wgq "$NS_A" wgxdp-userspace down >"$WGX_TMP/down.log" 2>&1 ||
		{ cat "$WGX_TMP/down.log"; return 1; }
	wait_until 5 eval "! proc_alive $pid" &&
		wait_until 2 test ! -e "/var/run/wireguard/$TUN_Q.sock"
}
check "wg-quick down: the interface and the daemon are gone" q_down

restored() {
	local now
	now=$(routing "$NS_A")
	[ "$now" = "$BEFORE" ] || { diff <(echo "$BEFORE") <(echo "$now"); return 1; }
	! ip netns exec "$NS_A" nft list tables | grep -q "wg-quick-$TUN_Q"
}
check "routes and rules as before wg-quick up" restored

# ---- attach with a /0 and Table = auto ---------------------------------------

CX=$(tmpfile "$TUN_X.conf")
write_wgxdp_conf "$CX" a "$PORT_A" "$IN4_A/$IN4_LEN, $IN6_A/$IN6_LEN" \
	"$(pubkey b)" "0.0.0.0/0, ::/0" "$UL4_B:$PORT_B" || die "attach config"
check "attach takes a /0 with Table = auto" \
	start_wgxdp "$NS_A" "$VETH_A" "$CX" "$TUN_X"
check "attach: the same policy routing, and the fwmark" policy "$TUN_X"
check "attach: an address beyond B through the tunnel" ping_ok "$NS_A" "$FAR"
check "attach: IPv6 too" ping_ok "$NS_A" "$IN6_B"
detached() {
	stop_wgxdp "$NS_A" "$VETH_A" "$TUN_X" && restored
}
check "detach: routes and rules as before" detached

finish
