#!/usr/bin/env bash
# timeout: 240
# workers: default
# Onboarding: `wgxdp peer add` three times against a running wgxdp; each
# client comes up with wireguard-go in its own namespace from nothing but
# the generated file (`wg-quick strip` for wg, its Address and AllowedIPs
# for ip), and pings and moves data through the tunnel. Addresses are the
# next free ones (IPv4 and IPv6) or --ip; the endpoint is --endpoint or
# the instance's underlay address. The server file keeps its owner and
# mode, the client files are 0600. Three adds at once get three distinct
# addresses. `peer remove` cuts exactly that client, live. A full subnet,
# a duplicate name or address are clear errors; a fault between write and
# rename (the test knob, a full file system, a read-only one) leaves the
# old file intact and no temporary or client file behind. Runs in about
# 35 s.
#
#                       netns wgx-<pid>-seg: bridge wgx<pid>br
#        +--------------+----------------+----------------+
#   netns ...-s     netns ...-c1      netns ...-c2     netns ...-c3
#   veth 10.105.0.1 veth 10.105.0.2   veth 10.105.0.3  veth 10.105.0.4
#   wgxdp wgx<pid>ts   wireguard-go wgx<pid>c1, c2, c3 (the peer names)
#     10.85.0.1/24       .2 / ::2        .3 / ::3        .10 / ::4
#     fd00:85::1/64      (from the files that peer add wrote)
# shellcheck disable=SC2016 # check ... eval '...' expands when it runs
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

require_root_netns
require_tools wireguard-go wg wg-quick jq ping socat unshare sha256sum
require_wgxdp

UL_S=10.105.0.1
VPN_S=10.85.0.1 VPN6_S=fd00:85::1
PORT_S=51820

segment() {
	local i
	NS_SEG=$(ns_name seg) NS_S=$(ns_name s)
	BR=$(if_name br) && IF_S=$(if_name s) || return 1
	bridge_create "$NS_SEG" "$BR" && ns_create "$NS_S" &&
		bridge_join "$NS_S" "$IF_S" "$NS_SEG" "$BR" "$(if_name bs)" \
			"$UL_S/24" || return 1
	for i in 1 2 3; do
		ns_create "$(ns_name "c$i")" &&
			bridge_join "$(ns_name "c$i")" "$(if_name "e$i")" \
				"$NS_SEG" "$BR" "$(if_name "b$i")" \
				"10.105.0.$((i + 1))/24" || return 1
	done
	wait_until 10 nsx "$(ns_name c1)" ping -c 1 -W 1 "$UL_S"
}

segment || die "bridge segment"
TUN_S=$(if_name ts) || die "names"
C1=$(if_name c1) C2=$(if_name c2) C3=$(if_name c3)
keygen s || die "keys"
CONF=$(tmpfile "$TUN_S.conf")
write_wgxdp_conf "$CONF" s "$PORT_S" "$VPN_S/24, $VPN6_S/64" || die "config"
# Not root's: the owner and mode must survive every rewrite.
{ chown 0:65534 "$CONF" && chmod 0640 "$CONF"; } || die "chown"
start_wgxdp "$NS_S" "$IF_S" "$CONF" "$TUN_S" || die "wgxdp on S"

peer() { timeout 30 ip netns exec "$NS_S" "$WGXDP" peer "$@"; }
sha() { sha256sum <"$1" | cut -d' ' -f1; }

# add NAME ARGS...: peer add, checking that stdout is the client path.
add() {
	local name=$1 out
	shift
	out=$(peer add "$name" --config "$CONF" "$@") || return 1
	[ "$out" = "$WGX_TMP/$name.conf" ] || {
		echo "printed '$out', wanted $WGX_TMP/$name.conf"
		return 1
	}
}

check "peer add c1 (next free addresses, --endpoint)" \
	add "$C1" --endpoint "$UL_S:$PORT_S"
check "peer add c2 (endpoint from the running instance)" add "$C2"
check "peer add c3 (--ip, and an endpoint without port)" \
	add "$C3" --ip 10.85.0.10 --endpoint "$UL_S"

field() { # field FILE KEY: the value of KEY = ... in FILE
	sed -n "s/^$2 = //p" "$1"
}
is() {
	[ "$1" = "$2" ] || {
		echo "got '$1', wanted '$2'"
		return 1
	}
}
check "c1 got 10.85.0.2 and fd00:85::2" \
	is "$(field "$WGX_TMP/$C1.conf" Address)" "10.85.0.2/32, fd00:85::2/128"
check "c2 got 10.85.0.3 and fd00:85::3" \
	is "$(field "$WGX_TMP/$C2.conf" Address)" "10.85.0.3/32, fd00:85::3/128"
check "c3 got --ip 10.85.0.10 and fd00:85::4" \
	is "$(field "$WGX_TMP/$C3.conf" Address)" "10.85.0.10/32, fd00:85::4/128"
check "c2's endpoint is the underlay address and ListenPort" \
	is "$(field "$WGX_TMP/$C2.conf" Endpoint)" "$UL_S:$PORT_S"
check "c3's endpoint took the ListenPort" \
	is "$(field "$WGX_TMP/$C3.conf" Endpoint)" "$UL_S:$PORT_S"
check "the client files are 0600" eval \
	'[ "$(stat -c %a "$WGX_TMP/$C1.conf" "$WGX_TMP/$C2.conf" \
	    "$WGX_TMP/$C3.conf" | sort -u)" = 600 ]'
check "the server file kept owner and mode (0:65534 0640)" \
	is "$(stat -c '%u:%g %a' "$CONF")" "0:65534 640"
check "the server file names each peer" eval \
	'[ "$(grep -c "^# Name = " "$CONF")" = 3 ]'
check "wgxdp check accepts the server file" "$WGXDP" check "$CONF"
check "peer list shows the three" eval \
	'[ "$(peer list --config "$CONF" | awk "NR > 1 { print \$1 }" |
	     tr "\n" " ")" = "$C1 $C2 $C3 " ]'
check "the running instance has the three peers" eval \
	'[ "$(wgxdp_show "$NS_S" "$TUN_S" | jq ".peers | length")" = 3 ]'

# client_up NS NAME FILE: wireguard-go NAME in NS, configured from FILE
# as wg-quick would: wg setconf with the stripped file, the Address, the
# AllowedIPs routed into it.
client_up() {
	local ns=$1 name=$2 file=$3 a
	start_wggo "$ns" "$name" || return 1
	ip netns exec "$ns" wg setconf "$name" <(wg-quick strip "$file") ||
		return 1
	for a in $(field "$file" Address | tr ',' ' '); do
		addr_add "$ns" "$name" "$a" || return 1
	done
	ip -n "$ns" link set "$name" up || return 1
	for a in $(field "$file" AllowedIPs | tr ',' ' '); do
		ip -n "$ns" route add "$a" dev "$name" || return 1
	done
}
for i in 1 2 3; do
	n=C$i
	check "client c$i up from its file with wireguard-go" \
		client_up "$(ns_name "c$i")" "${!n}" "$WGX_TMP/${!n}.conf"
done
for i in 1 2 3; do
	check "c$i pings the server through the tunnel" \
		ping_ok "$(ns_name "c$i")" "$VPN_S" 3
	check "c$i pings the server over IPv6" \
		ping_ok "$(ns_name "c$i")" "$VPN6_S" 3
done
check "c1 moves 2 MiB to the server" \
	tcp_transfer "$NS_S" "$VPN_S" "$(ns_name c1)" 2
check "c3 moves 1 MiB to the server over IPv6" \
	tcp_transfer "$NS_S" "$VPN6_S" "$(ns_name c3)" 1

# ---- three adds at once: the directory lock orders them

parallel_adds() {
	local i pids=() bad=0
	for i in 1 2 3; do
		peer add "p$i" --config "$CONF" --endpoint "$UL_S" \
			>"$WGX_TMP/p$i.out" 2>&1 &
		pids+=($!)
	done
	for i in "${pids[@]}"; do
		wait "$i" || bad=1
	done
	[ "$bad" = 0 ] || { cat "$WGX_TMP"/p?.out; return 1; }
	[ "$(cat "$WGX_TMP"/p?.conf | grep '^Address' | sort -u | wc -l)" = 3 ]
}
check "three peer adds at once get three distinct addresses" parallel_adds
check "and all six peers are in the file and live" eval \
	'[ "$(grep -c "^\[Peer\]" "$CONF")" = 6 ] &&
	 [ "$(wgxdp_show "$NS_S" "$TUN_S" | jq ".peers | length")" = 6 ]'
for i in 1 2 3; do
	peer remove "p$i" --config "$CONF" >/dev/null 2>&1 ||
		fail "remove p$i" "failed"
done
check "removing them leaves the three clients" eval \
	'[ "$(grep -c "^\[Peer\]" "$CONF")" = 3 ] && [ ! -e "$WGX_TMP/p1.conf" ]'

# ---- remove c2: exactly that client is cut

C2_PUB=$(wg pubkey < <(field "$WGX_TMP/$C2.conf" PrivateKey))
check "peer remove c2" peer remove "$C2" --config "$CONF"
check "c2 is gone from the file" eval "! grep -qF '$C2_PUB' '$CONF'"
check "c2's client file is removed with it" test ! -e "$WGX_TMP/$C2.conf"
check "c2 is gone from the running instance" eval \
	'! wgxdp_show "$NS_S" "$TUN_S" | jq -e --arg k "$C2_PUB" \
	   ".peers[] | select(.public_key == \$k)" >/dev/null'
check "c2 can no longer reach the server" eval \
	'! ip netns exec "$(ns_name c2)" ping -n -q -c 3 -i 0.3 -W 1 "$VPN_S"'
check "c1 still reaches the server" ping_ok "$(ns_name c1)" "$VPN_S" 3
check "c3 still reaches the server" ping_ok "$(ns_name c3)" "$VPN_S" 3
check "owner and mode kept after the removal" \
	is "$(stat -c '%u:%g %a' "$CONF")" "0:65534 640"

# ---- mistakes: a clear error, nothing changed

refused() { # refused PATTERN ARGS...: peer ARGS fails saying PATTERN
	local pat=$1 before out rc
	shift
	before=$(sha "$CONF")
	out=$(peer "$@" 2>&1)
	rc=$?
	echo "$out"
	[ "$rc" -ne 0 ] && grep -q -- "$pat" <<<"$out" &&
		[ "$(sha "$CONF")" = "$before" ]
}
check "a duplicate name is refused" refused "already has a peer named" \
	add "$C1" --config "$CONF" --endpoint "$UL_S"
check "a duplicate address is refused" refused "already used by peer $C1" \
	add x1 --config "$CONF" --ip 10.85.0.2 --endpoint "$UL_S"
check "the server's own address is refused" refused "interface's own" \
	add x1 --config "$CONF" --ip "$VPN6_S" --endpoint "$UL_S"
check "an address outside the subnets is refused" refused "in none of" \
	add x1 --config "$CONF" --ip 10.99.0.1 --endpoint "$UL_S"
check "a bad name is refused" refused "bad name" \
	add "../x" --config "$CONF" --endpoint "$UL_S"
check "removing an unknown name is refused" refused "has no peer named" \
	remove nobody --config "$CONF"

SMALL=$(tmpfile small.conf)
write_wgxdp_conf "$SMALL" s 51830 "10.86.0.1/30" || die "small config"
check "a /30 has room for one peer" peer add f1 --config "$SMALL" \
	--endpoint "$UL_S"
full() {
	local before out
	before=$(sha "$SMALL")
	out=$(peer add f2 --config "$SMALL" --endpoint "$UL_S" 2>&1)
	echo "$out"
	grep -q "no free IPv4 address is left in .* 10.86.0.1/30" <<<"$out" &&
		[ "$(sha "$SMALL")" = "$before" ] && [ ! -e "$WGX_TMP/f2.conf" ]
}
check "a full subnet is a clear error" full

# ---- faults between write and rename leave the old file intact

# no_litter DIR: no temporary file and no client file x9 in DIR.
no_litter() {
	local left
	left=$(find "$1" -maxdepth 1 \( -name '.*.conf.*' -o -name 'x9.conf' \))
	[ -z "$left" ] || {
		echo "left behind: $left"
		return 1
	}
}
knob() {
	local before out rc
	before=$(sha "$CONF")
	out=$(WGXDP_TEST_TIMERS=1 WGXDP_TEST_FAIL_RENAME=1 \
		ip netns exec "$NS_S" "$WGXDP" peer add x9 --config "$CONF" \
		--endpoint "$UL_S" 2>&1)
	rc=$?
	echo "$out"
	[ "$rc" -ne 0 ] && grep -q "it is unchanged" <<<"$out" &&
		[ "$(sha "$CONF")" = "$before" ] && no_litter "$WGX_TMP"
}
knob_refused() {
	local out rc
	out=$(WGXDP_TEST_FAIL_RENAME=1 "$WGXDP" peer add x9 --config "$CONF" \
		--endpoint "$UL_S" 2>&1)
	rc=$?
	echo "$out"
	[ "$rc" -ne 0 ] &&
		grep -q "refused without WGXDP_TEST_TIMERS=1" <<<"$out" &&
		no_litter "$WGX_TMP"
}
check "the test knob is refused without WGXDP_TEST_TIMERS=1" knob_refused
check "a failure just before the rename leaves the file intact" knob
check "the knob's failed remove leaves the file intact" eval \
	'before=$(sha "$CONF");
	 ! WGXDP_TEST_TIMERS=1 WGXDP_TEST_FAIL_RENAME=1 "$WGXDP" peer remove \
	   "$C1" --config "$CONF" && [ "$(sha "$CONF")" = "$before" ] &&
	 [ -e "$WGX_TMP/$C1.conf" ]'

# A file system of its own, in a private mount namespace: filled up,
# then read-only.
FSDIR=$(tmpfile fs) OUTDIR=$(tmpfile out)
mkdir -p "$FSDIR" "$OUTDIR" || die "dirs"
fs_fault() { # fs_fault full|ro: peer add against a file on that fs
	unshare -m bash -c '
		set -u
		mount --make-rprivate / &&
		mount -t tmpfs -o size=64k,mode=0700 none "$1" || exit 2
		cp "$2" "$1/wg0.conf"
		before=$(sha256sum <"$1/wg0.conf")
		if [ "$3" = full ]; then
			dd if=/dev/zero of="$1/fill" bs=4k 2>/dev/null
		else
			mount -o remount,ro "$1" || exit 2
		fi
		out=$("$4" peer add x9 --config "$1/wg0.conf" \
			--endpoint 192.0.2.1 --out "$5" 2>&1)
		rc=$?
		echo "$out"
		[ "$rc" -ne 0 ] || exit 1
		grep -q "$6" <<<"$out" || exit 1
		[ "$(sha256sum <"$1/wg0.conf")" = "$before" ] || exit 1
		left=$(find "$1" "$5" -name ".wg0.conf.*" -o -name x9.conf)
		[ -z "$left" ] || { echo "left: $left"; exit 1; }
	' fs "$FSDIR" "$CONF" "$1" "$WGXDP" "$OUTDIR" "$2"
}
check "a full file system leaves the file intact, no client file" \
	fs_fault full "No space left on device"
check "a read-only file system leaves the file intact" \
	fs_fault ro "Read-only file system"

finish
