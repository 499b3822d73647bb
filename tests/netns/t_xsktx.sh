#!/usr/bin/env bash
# timeout: 240
# modes: auto
# workers: default
# AF_XDP transmit (attach --tx): sealed data messages leave through the
# workers' AF_XDP TX rings, in frames wgxdp builds (Ethernet, IPv4 or
# IPv6, UDP with full checksums) for the next hop the kernel's routes and
# neighbours name, against wireguard-go (which checks every checksum the
# kernel checks on its side):
#   - a bad --tx, and --tx xsk without AF_XDP sockets, are refused with
#     what to do; --tx auto on veth takes the socket (measured faster
#     there: docs/performance.md) and says why;
#   - --tx xsk, native, IPv4 underlay: attach and show say AF_XDP; TCP
#     transfers both ways hash-checked;
#     tx_xsk counts most of the data messages and the TX ring's socket
#     its frames;
#   - the endpoint routed out of another interface: traffic goes on
#     through the UDP socket (tx_socket_other_iface counts it); the route
#     gone, it moves back to AF_XDP TX;
#   - the endpoint moved to an address whose MAC nobody knows yet: the
#     socket sends (tx_socket_no_nexthop), then AF_XDP TX takes over;
#   - --tx xsk, skb mode, IPv6 underlay: a hash-checked transfer, most of
#     it through the TX ring;
#   - wgxdp to wgxdp, both on AF_XDP TX: a hash-checked transfer, the
#     data and the acknowledgements through the TX rings;
#   - --tx socket: no TX ring, nothing through AF_XDP, the data arrives.
# (AF_XDP TX bypasses AF_PACKET taps on the sending side: the proofs are
# wgxdp's counters and what wireguard-go decrypted.)
#
#   netns wgx-<pid>-a                       netns wgx-<pid>-b
#   wgxdp wgx<pid>ta  10.201.0.1 <=======>  wireguard-go wgx<pid>tb 10.201.0.2
#   veth wgx<pid>va   10.101.0.1 --------   veth wgx<pid>vb 10.101.0.2
#     (2 queues: a socket for each of A's 2 workers)
#   veth wgx<pid>wa   10.102.0.1 --------   veth wgx<pid>wb 10.102.0.2
#                     (the other interface, for the route test)
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

require_root_netns
require_wgxdp
require_tools wireguard-go wg jq socat ping

XFER_MB=16

# counter NAME: A's counter NAME (packets).
counter() { wgxdp_counter "$NS_A" "$TUN_A" "$1"; }

# refused EXPECT ARGS...: attach ARGS fails, saying EXPECT.
refused() {
	local expect=$1 out
	shift
	out=$(timeout 20 ip netns exec "$NS_A" "$WGXDP" attach "$VETH_A" \
		--config "$WGX_TMP/bad.conf" --name "$(if_name tx)" \
		--foreground "$@" 2>&1 </dev/null {WGX_OUT}>&-) &&
		{ echo "attach $* succeeded"; return 1; }
	echo "said: $(tail -n 1 <<<"$out")"
	grep -qF -- "$expect" <<<"$out"
}

# tx_path NS TUN WANT: show --json names WANT as the transmit path, with
# a reason, and the AF_XDP sockets' tx flags agree.
tx_path() {
	local s
	s=$(wgxdp_show "$1" "$2") || return 1
	echo "tx $(jq -c '[.tx, .tx_why, [.xsks[].tx]]' <<<"$s")"
	jq -e --arg w "$3" '.tx == $w and (.tx_why | length > 0)' \
		<<<"$s" >/dev/null || return 1
	if [ "$3" = xsk ]; then
		jq -e '[.xsks[] | select(.tx)] | length >= 1' <<<"$s" >/dev/null
	else
		jq -e 'all(.xsks[]; .tx | not)' <<<"$s" >/dev/null
	fi
}

# auto_on_veth: --tx auto (the default) chose the path docs/performance.md
# measured faster on veth, and says so.
auto_on_veth() {
	tx_path "$NS_A" "$TUN_A" socket &&
		wgxdp_show "$NS_A" "$TUN_A" | jq -e '.tx_why | test("veth")' \
			>/dev/null
}

# attach_said TUN WANT: attach's own words name the transmit path.
attach_said() {
	grep -E "transmits through $2" "$WGX_TMP/wgxdp-$1.log"
}

# xsk_most PCT: tx_xsk is at least PCT% of the data messages sent
# (tx_data), and the TX ring's socket counted as many frames.
xsk_most() {
	local s x d f
	s=$(wgxdp_show "$NS_A" "$TUN_A") || return 1
	x=$(jq '.counters.tx_xsk' <<<"$s")
	d=$(jq '.counters.tx_data' <<<"$s")
	f=$(jq '[.xsks[].tx_packets] | add' <<<"$s")
	echo "tx_xsk $x of tx_data $d; TX ring frames $f;" \
		"fallbacks $(jq -c '.counters | with_entries(select(.key |
			test("^tx_socket_[a-z_]*[a-z]$")))' <<<"$s")"
	[ "$x" -gt 1000 ] && [ $((x * 100)) -ge $(($1 * d)) ] &&
		[ "$f" -ge "$x" ]
}

# grows NAME CMD...: counter NAME grows while CMD runs (and CMD passes).
grows() {
	local name=$1 before after
	shift
	before=$(counter "$name")
	"$@" || return 1
	after=$(counter "$name")
	echo "$name $before -> $after"
	[ "$after" -gt "$before" ]
}

# other_iface_on / _off: route B's underlay address out of the second
# veth (B answers from there too: wireguard-go follows A's new source).
other_iface_on() {
	ip -n "$NS_A" route add "$UL4_B/32" via 10.102.0.2 dev "$VETH_A2"
}
other_iface_off() { ip -n "$NS_A" route del "$UL4_B/32" via 10.102.0.2; }

# endpoint_moved: A's peer moves to B's second address on the same veth,
# one A has never sent to nor heard from: no next hop is known for it
# until the kernel resolves it (on the socket's first send) or a frame
# from it comes in.
endpoint_moved() {
	local conf=$WGX_TMP/$TUN_A.conf
	ip -n "$NS_B" addr add 10.101.0.3/24 dev "$VETH_B" &&
		sed -i "s/^Endpoint = .*/Endpoint = 10.101.0.3:$PORT_B/" \
			"$conf" &&
		grep -q "10.101.0.3" "$conf" &&
		ip netns exec "$NS_A" "$WGXDP" reload "$VETH_A" \
			</dev/null {WGX_OUT}>&-
}

second_veth() {
	VETH_A2=$(if_name wa) && VETH_B2=$(if_name wb) || return 1
	veth_create "$NS_A" "$VETH_A2" "$NS_B" "$VETH_B2" &&
		addr_add "$NS_A" "$VETH_A2" 10.102.0.1/24 &&
		addr_add "$NS_B" "$VETH_B2" 10.102.0.2/24 || return 1
	# B receives A's datagrams to 10.101.0.2 on its second veth.
	ip netns exec "$NS_B" sysctl -qw net.ipv4.conf.all.rp_filter=0 \
		"net.ipv4.conf.$VETH_B2.rp_filter=0"
}

none_through_xsk() {
	local x
	x=$(counter tx_xsk)
	echo "tx_xsk $x"
	[ "$x" = 0 ]
}

b_through_xsk() {
	local x
	x=$(wgxdp_counter "$NS_B" "$TUN_B" tx_xsk)
	echo "B: tx_xsk $x"
	[ "$x" -gt 100 ]
}

pings() { ping_ok "$NS_A" "$IN4_B" 10; }

# ---- bad input

mark=$(cleanup_mark)
netns_pair || die "veth pair"
keygen bad
write_wgxdp_conf "$WGX_TMP/bad.conf" bad 51999 10.209.0.1/24 ||
	die "config"
check "a bad --tx is refused" \
	refused "unknown --tx 'fast' (use auto, socket or xsk)" --tx fast
check "--tx xsk without AF_XDP sockets is refused" \
	refused "--tx xsk needs AF_XDP sockets" --mode socket --tx xsk
TUN_A=$(if_name ta)
start_wgxdp "$NS_A" "$VETH_A" "$WGX_TMP/bad.conf" "$TUN_A" --mode native ||
	die "attach with --tx auto"
check "--tx auto on veth: the socket, measured faster there" \
	auto_on_veth
stop_wgxdp "$NS_A" "$VETH_A" "$TUN_A"
cleanup_to "$mark"

# ---- --tx xsk, native, IPv4 underlay

mark=$(cleanup_mark)
WGX_PAIR_QUEUES=2 netns_pair || die "veth pair with 2 queues"
second_veth || die "second veth pair"
WGX_WGXDP_ARGS="--mode native --workers 2 --tx xsk" \
	tunnel_pair wgxdp wggo || die "native tunnel to wireguard-go"
t="native, IPv4"
check "$t: attach says AF_XDP transmit" attach_said "$TUN_A" AF_XDP
check "$t: show says AF_XDP transmit" tx_path "$NS_A" "$TUN_A" xsk
check "$t: handshake" wait_handshake "$NS_A" "$TUN_A" "$IN4_B" 10
check "$t: pings" pings
check "$t: ${XFER_MB} MiB A -> B, hash-checked" \
	tcp_transfer "$NS_B" "$IN4_B" "$NS_A" "$XFER_MB"
check "$t: ${XFER_MB} MiB B -> A, hash-checked" \
	tcp_transfer "$NS_A" "$IN4_A" "$NS_B" "$XFER_MB"
check "$t: most data left through AF_XDP TX" xsk_most 95
other_iface_on || die "route through the second veth"
check "$t: route out of another interface: the socket sends" \
	grows tx_socket_other_iface pings
check "$t: ... and the data still arrives" \
	tcp_transfer "$NS_B" "$IN4_B" "$NS_A" 2
other_iface_off || die "route removed"
check "$t: route back: AF_XDP TX again" grows tx_xsk pings
endpoint_moved || die "endpoint moved"
check "$t: new endpoint, next hop unknown: the socket sends" \
	grows tx_socket_no_nexthop pings
check "$t: next hop resolved: AF_XDP TX again" grows tx_xsk pings
cleanup_to "$mark"

# ---- --tx xsk, skb mode, IPv6 underlay

mark=$(cleanup_mark)
netns_pair || die "veth pair"
WGX_WGXDP_ARGS="--mode skb --workers 1 --tx xsk" \
	tunnel_pair wgxdp wggo 6 || die "skb tunnel to wireguard-go"
t="skb, IPv6"
check "$t: handshake" wait_handshake "$NS_A" "$TUN_A" "$IN4_B" 10
check "$t: ${XFER_MB} MiB A -> B, hash-checked" \
	tcp_transfer "$NS_B" "$IN6_B" "$NS_A" "$XFER_MB"
check "$t: most data left through AF_XDP TX" xsk_most 95
cleanup_to "$mark"

# ---- wgxdp to wgxdp, both on AF_XDP TX

mark=$(cleanup_mark)
netns_pair || die "veth pair"
WGX_WGXDP_ARGS="--mode native --workers 1 --tx xsk" \
	tunnel_pair wgxdp wgxdp || die "tunnel wgxdp to wgxdp"
t="wgxdp to wgxdp"
check "$t: handshake" wait_handshake "$NS_A" "$TUN_A" "$IN4_B" 10
check "$t: ${XFER_MB} MiB A -> B, hash-checked" \
	tcp_transfer "$NS_B" "$IN4_B" "$NS_A" "$XFER_MB"
check "$t: most data left A through AF_XDP TX" xsk_most 95
check "$t: B's acknowledgements left through AF_XDP TX" b_through_xsk
cleanup_to "$mark"

# ---- --tx socket

mark=$(cleanup_mark)
netns_pair || die "veth pair"
WGX_WGXDP_ARGS="--mode native --workers 1 --tx socket" \
	tunnel_pair wgxdp wggo || die "tunnel with --tx socket"
t="--tx socket"
check "$t: attach says socket" attach_said "$TUN_A" socket
check "$t: show says socket, no TX ring" tx_path "$NS_A" "$TUN_A" socket
check "$t: handshake" wait_handshake "$NS_A" "$TUN_A" "$IN4_B" 10
check "$t: 4 MiB A -> B, hash-checked" \
	tcp_transfer "$NS_B" "$IN4_B" "$NS_A" 4
check "$t: nothing through AF_XDP TX" none_through_xsk
cleanup_to "$mark"
finish
