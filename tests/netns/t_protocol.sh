#!/usr/bin/env bash
# timeout: 300
# Protocol behaviour of a running wgxdp, one topology per check (torn down
# before the next): cookies under load (wireguard-go and wgxdp initiators),
# the bounded queue before a handshake, ICMP unreachable for unrouted
# packets, handshake retry and give-up, passive and persistent keepalives,
# REJECT_AFTER_TIME expiry and the key wipe, full-size inner packets.
# Where real time would take minutes, the wgxdp side runs with the test
# knobs WGXDP_TEST_TIMERS=1 WGXDP_TEST_TIME_SCALE=N (every protocol
# duration divided by N); wireguard-go always runs in real time.
# Runtime: about 80 s (70-90 s measured, also under CPU load).
#
#   netns wgx-<pid>-a                          netns wgx-<pid>-b
#   wgxdp | wireguard-go wgx<pid>ta            wgxdp | wireguard-go wgx<pid>tb
#     10.201.0.1/24 fd00:201::1/64  <=======>    10.201.0.2/24 fd00:201::2/64
#   veth wgx<pid>va                            veth wgx<pid>vb
#     10.101.0.1/24 fd00:101::1/64  ---------    10.101.0.2/24 fd00:101::2/64
#
# Unrouted destination: 10.201.0.77 / fd00:201::77 (inside A's TUN prefix,
# owned by no peer). UDP sinks (socat) listen on port 9000 in either
# namespace; build/tests/netns/wgx_udp sends the UDP test traffic.
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

require_root_netns
require_tools wireguard-go wg jq ping socat
require_wgxdp
UDP=$(dirname "$WGXDP")/tests/netns/wgx_udp
[ -x "$UDP" ] || die "$UDP is not built (run make)"

NOROUTE4=10.201.0.77 NOROUTE6=fd00:201::77
SINK_PORT=9000
TEST_ENV=WGXDP_TEST_TIMERS=1

# ------------------------------------------------------------------ helpers

# pair KIND_A KIND_B: namespaces, keys and both sides of a tunnel. Per
# side (x = A or B): ENV_x, "VAR=value ..." for that wgxdp daemon;
# PK_x, its persistent keepalive; START_B=0 leaves B's daemon for later
# (side b).
pair() {
	KIND_A=$1 KIND_B=$2
	netns_pair || return 1
	TUN_A=$(if_name ta) && TUN_B=$(if_name tb) || return 1
	keygen a && keygen b || return 1
	side a || return 1
	[ "${START_B:-1}" = 0 ] || side b
}

# side a|b: start that side as KIND_A / KIND_B says.
side() {
	local ns ul tun port in4 in6 peer allowed ep kind env pk e conf
	if [ "$1" = a ]; then
		ns=$NS_A ul=$VETH_A tun=$TUN_A port=$PORT_A peer=b
		in4=$IN4_A/$IN4_LEN in6=$IN6_A/$IN6_LEN
		allowed=$IN4_B/32,$IN6_B/128 ep=$UL4_B:$PORT_B
		kind=$KIND_A env=${ENV_A:-} pk=${PK_A:-}
	else
		ns=$NS_B ul=$VETH_B tun=$TUN_B port=$PORT_B peer=a
		in4=$IN4_B/$IN4_LEN in6=$IN6_B/$IN6_LEN
		allowed=$IN4_A/32,$IN6_A/128 ep=$UL4_A:$PORT_A
		kind=$KIND_B env=${ENV_B:-} pk=${PK_B:-}
	fi
	if [ "$kind" = wggo ]; then
		start_wggo "$ns" "$tun" && wg_setup "$ns" "$tun" "$1" "$port" &&
			wg_peer "$ns" "$tun" "$(pubkey $peer)" "$allowed" \
				"$ep" "$pk" && tun_up "$ns" "$tun" "$in4" "$in6"
		return
	fi
	# The knobs reach only this daemon: exported for this call alone.
	for e in $env; do
		local -x "$e"
	done
	conf=$WGX_TMP/$tun.conf
	write_wgxdp_conf "$conf" "$1" "$port" "$in4, $in6" \
		"$(pubkey $peer)" "$allowed" "$ep" "$pk" &&
		start_wgxdp "$ns" "$ul" "$conf" "$tun"
}

# ctr a|b NAME: a wgxdp counter of side A or B.
ctr() {
	if [ "$1" = a ]; then
		wgxdp_counter "$NS_A" "$TUN_A" "$2"
	else
		wgxdp_counter "$NS_B" "$TUN_B" "$2"
	fi
}

# ctr_ge a|b NAME MIN
ctr_ge() {
	local v
	v=$(ctr "$1" "$2") || return 1
	[ "$v" -ge "$3" ]
}

# expect_ctr a|b NAME OP VALUE: assert a counter (OP as in test(1)).
expect_ctr() {
	local v
	v=$(ctr "$1" "$2") || return 1
	info "$1: $2 = $v (expected $3 $4)"
	test "$v" "$3" "$4" || {
		echo "side $1: $2 is $v, expected $3 $4"
		return 1
	}
}

# handshaken a|b: that side has completed a handshake.
handshaken() {
	if [ "$1" = a ]; then
		has_handshake "$NS_A" "$TUN_A"
	else
		has_handshake "$NS_B" "$TUN_B"
	fi
}

# handshake_via a|b DST TIMEOUT_S: one ping from that side to DST, then wait
# for its handshake.
handshake_via() {
	local ns=$NS_A
	[ "$1" = b ] && ns=$NS_B
	ip netns exec "$ns" ping -c 1 -W 1 "$2" >/dev/null 2>&1
	wait_until "$3" handshaken "$1"
}

# udp_to NS DST N COUNT: COUNT datagrams of N random bytes to DST:SINK_PORT.
udp_to() {
	local out
	out=$(timeout 60 ip netns exec "$1" "$UDP" random "$2" "$SINK_PORT" \
		"$3" "$4") || return 1
	[ "$out" = "sent $4" ] || {
		echo "wgx_udp: $out, expected sent $4"
		return 1
	}
}

# sink NS FILE: a UDP listener on SINK_PORT in NS appending what it gets
# to FILE (fixed-size datagrams make the file size a count).
sink() {
	: >"$2"
	spawn "$2.log" timeout 250 ip netns exec "$1" socat -u \
		"UDP4-RECV:$SINK_PORT" "OPEN:$2,append"
	wait_listen "$1" "$SINK_PORT" udp
}

file_size() { stat -c %s "$1"; }
nonempty() { [ -s "$1" ]; }

# in_range LO HI V: LO <= V <= HI.
in_range() { [ "$3" -ge "$1" ] && [ "$3" -le "$2" ]; }

# within MS_LO MS_HI ELAPSED_MS WHAT: an elapsed time in bounds.
within() {
	info "$4: $3 ms (expected $1..$2 ms)"
	in_range "$1" "$2" "$3" || {
		echo "$4 took $3 ms, expected $1..$2 ms"
		return 1
	}
}

# topology NAME: start a fresh one; the previous one is torn down.
MARK=
topology() {
	[ -n "$MARK" ] && cleanup_to "$MARK"
	MARK=$(cleanup_mark)
	unset ENV_A ENV_B PK_A PK_B START_B
	info "---- $1"
}

# ------------------------------------------------- cookies under load

topology "cookie: wireguard-go initiator, wgxdp responder under load"
ENV_B="$TEST_ENV WGXDP_TEST_UNDER_LOAD=1"
pair wggo wgxdp || die "wireguard-go A <-> wgxdp B (under load)"

# wireguard-go retries its initiation REKEY_TIMEOUT (5 s) after the cookie,
# now with mac2.
check "cookie: handshake wireguard-go -> wgxdp under load" \
	handshake_via a "$IN4_B" 20
check "cookie: wgxdp sent a cookie reply" expect_ctr b tx_cookie_reply -ge 1
check "cookie: wgxdp saw the retry with mac2" expect_ctr b rx_handshake -ge 2
check "cookie: ping A->B" ping_ok "$NS_A" "$IN4_B"
check "cookie: ping B->A" ping_ok "$NS_B" "$IN4_A"

topology "cookie: wgxdp initiator, wgxdp responder under load"
ENV_B="$TEST_ENV WGXDP_TEST_UNDER_LOAD=1"
pair wgxdp wgxdp || die "wgxdp A <-> wgxdp B (under load)"
check "cookie: handshake wgxdp -> wgxdp under load" \
	handshake_via a "$IN4_B" 20
check "cookie: responder sent a cookie reply" \
	expect_ctr b tx_cookie_reply -ge 1
check "cookie: initiator accepted the cookie reply" \
	expect_ctr a drop_handshake_invalid -eq 0
check "cookie: initiator retried (cookie reply, response)" \
	expect_ctr a rx_handshake -ge 2
check "cookie: ping A->B (wgxdp <-> wgxdp)" ping_ok "$NS_A" "$IN4_B"
check "cookie: ping B->A (wgxdp <-> wgxdp)" ping_ok "$NS_B" "$IN4_A"

# ------------------------------------------ the queue before a handshake

# A (wgxdp, time / 5: REKEY_TIMEOUT 1 s) gets 200 datagrams for B while
# B's daemon is not running: 128 wait, 72 push older ones out. When B
# comes up, A's next retry completes the handshake and the queue drains.
topology "staged queue: peer down, then up"
ENV_A="$TEST_ENV WGXDP_TEST_TIME_SCALE=5" START_B=0
pair wgxdp wgxdp || die "wgxdp A (B not started)"
SINK=$(tmpfile sink-queue)
sink "$NS_B" "$SINK" || die "UDP sink in B"
check "queue: 200 datagrams to the unreachable peer" \
	udp_to "$NS_A" "$IN4_B" 100 200
check "queue: all 200 staged" wait_until 5 ctr_ge a staged 200
check "queue: bounded at 128 (72 overflowed)" \
	expect_ctr a drop_staged_overflow -eq 72
check "queue: nothing sent before the handshake" expect_ctr a tx_data -eq 0
side b || die "wgxdp B"

queue_delivered() {
	local n prev=-1
	wait_until 10 nonempty "$SINK" || return 1
	# Settled: no growth for a second.
	while n=$(file_size "$SINK") && [ "$n" != "$prev" ]; do
		prev=$n
		sleep 1
	done
	info "queue: $((n / 100)) of 200 datagrams delivered after the handshake"
	if [ $((n % 100)) -ne 0 ] || ! in_range 100 12800 "$n"; then
		echo "$n bytes arrived: not 1..128 datagrams of 100 bytes"
		return 1
	fi
}
check "queue: 1..128 queued datagrams delivered once B is up" queue_delivered
check "queue: tunnel works afterwards" ping_ok "$NS_A" "$IN4_B"

# --------------------------------------- retry every REKEY_TIMEOUT, give up

# A (wgxdp, time / 10: REKEY_TIMEOUT 0.5 s, give-up after 18 retries,
# 100 s / 10 = 10 s) towards a B whose daemon never starts.
topology "handshake retry and give-up: peer never answers"
ENV_A="$TEST_ENV WGXDP_TEST_TIME_SCALE=10" START_B=0
pair wgxdp wgxdp || die "wgxdp A (B never started)"

check "give-up: 5 datagrams queued" udp_to "$NS_A" "$IN4_B" 64 5
T0=$(now_ms)

retry_rate() {
	local h1 h2
	sleep 1
	h1=$(ctr a tx_handshake) || return 1
	sleep 2
	h2=$(ctr a tx_handshake) || return 1
	info "give-up: $((h2 - h1)) initiations in 2 s (REKEY_TIMEOUT 0.5 s)"
	if [ "$h1" -lt 2 ] || ! in_range 3 5 $((h2 - h1)); then
		echo "initiations: $h1 after 1 s, +$((h2 - h1)) in the next 2 s"
		return 1
	fi
}
check "give-up: initiation retried every REKEY_TIMEOUT" retry_rate

gave_up() {
	wait_until 20 ctr_ge a handshake_gave_up 1 || return 1
	within 8500 12500 $(($(now_ms) - T0)) "give-up after"
}
check "give-up: handshake_gave_up after ~(90 + 10) s / 10" gave_up
check "give-up: 19 retries + the first initiation" \
	eval 'expect_ctr a tx_handshake -ge 18 && expect_ctr a tx_handshake -le 21'
check "give-up: the 5 queued datagrams dropped" \
	expect_ctr a drop_staged_gave_up -eq 5

no_more_initiations() {
	local h1 h2
	h1=$(ctr a tx_handshake) || return 1
	sleep 2
	h2=$(ctr a tx_handshake) || return 1
	[ "$h1" -eq "$h2" ] || {
		echo "$((h2 - h1)) initiations after giving up"
		return 1
	}
}
check "give-up: no initiation afterwards (4 x REKEY_TIMEOUT)" \
	no_more_initiations

new_traffic_initiates() {
	local h1
	h1=$(ctr a tx_handshake) || return 1
	udp_to "$NS_A" "$IN4_B" 64 1 || return 1
	wait_until 3 ctr_ge a tx_handshake $((h1 + 1))
}
check "give-up: new traffic starts a new handshake" new_traffic_initiates

# ------------------------------------------------------------ keepalives

# A (wgxdp, time / 5: KEEPALIVE_TIMEOUT 2 s) receives one datagram from
# B (wireguard-go) and sends nothing: one keepalive ~2 s later.
topology "passive keepalive"
ENV_A="$TEST_ENV WGXDP_TEST_TIME_SCALE=5"
pair wgxdp wggo || die "wgxdp A <-> wireguard-go B"
SINK=$(tmpfile sink-keepalive)
sink "$NS_A" "$SINK" || die "UDP sink in A"
check "keepalive: handshake" handshake_via a "$IN4_B" 10

passive_keepalive() {
	local k0 d0 r0 t0
	sleep 3 # the keepalive the handshake's ping may still cause
	k0=$(ctr a tx_keepalive) && d0=$(ctr a tx_data) &&
		r0=$(ctr a rx_data) || return 1
	udp_to "$NS_B" "$IN4_A" 64 1 || return 1
	t0=$(now_ms)
	wait_until 2 ctr_ge a rx_data $((r0 + 1)) || return 1
	sleep 1
	expect_ctr a tx_keepalive -eq "$k0" || return 1
	wait_until 4 ctr_ge a tx_keepalive $((k0 + 1)) || return 1
	within 1500 3500 $(($(now_ms) - t0)) "keepalive after" || return 1
	[ "$(file_size "$SINK")" -eq 64 ] || {
		echo "the datagram did not reach A's sink"
		return 1
	}
	expect_ctr a tx_data -eq "$d0"
}
check "keepalive: one keepalive KEEPALIVE_TIMEOUT after one-way data" \
	passive_keepalive

# A (wgxdp, time / 5) with PersistentKeepalive = 1: every 0.2 s while
# idle, and it starts the handshake by itself.
topology "persistent keepalive"
ENV_A="$TEST_ENV WGXDP_TEST_TIME_SCALE=5" PK_A=1
pair wgxdp wggo || die "wgxdp A (PersistentKeepalive = 1) <-> wireguard-go B"
check "persistent keepalive: handshake without traffic" \
	wait_until 10 handshaken a

persistent_rate() {
	local k1 k2
	sleep 0.5
	k1=$(ctr a tx_keepalive) || return 1
	sleep 2
	k2=$(ctr a tx_keepalive) || return 1
	info "persistent keepalive: $((k2 - k1)) keepalives in 2 s (every 0.2 s)"
	in_range 5 15 $((k2 - k1)) || {
		echo "$((k2 - k1)) keepalives in 2 s, expected about 10"
		return 1
	}
}
check "persistent keepalive: keeps going while idle" persistent_rate
check "persistent keepalive: no data sent" expect_ctr a tx_data -le 1

# ------------------------------------------- REJECT_AFTER_TIME and key wipe

# A (wgxdp, time / 30: REJECT_AFTER_TIME 6 s, key wipe 18 s) initiates
# to B (wireguard-go, real time: its session lasts 180 s), then both idle
# beyond 6 s. A's session must then be unusable both ways: B's next data
# message is dropped, and A's next packet waits for a new handshake.
topology "REJECT_AFTER_TIME expiry and key wipe"
ENV_A="$TEST_ENV WGXDP_TEST_TIME_SCALE=30"
pair wgxdp wggo || die "wgxdp A <-> wireguard-go B"
SINK=$(tmpfile sink-reject)
sink "$NS_A" "$SINK" || die "UDP sink in A"
check "reject: handshake" handshake_via a "$IN4_B" 10

# old_key_drops: B's messages A refused for want of a live keypair.
old_key_drops() {
	echo $(($(ctr a drop_unknown_index) + $(ctr a drop_expired_key)))
}

old_key_drops_ge() { [ "$(old_key_drops)" -ge "$1" ]; }

expired_for_rx() {
	local r0 o0
	sleep 7
	r0=$(ctr a rx_data) && o0=$(old_key_drops) || return 1
	udp_to "$NS_B" "$IN4_A" 64 1 || return 1
	wait_until 3 old_key_drops_ge $((o0 + 1)) || return 1
	sleep 0.3
	expect_ctr a rx_data -eq "$r0" || return 1
	[ ! -s "$SINK" ] || {
		echo "B's datagram reached A under the expired session"
		return 1
	}
}
check "reject: B's data under the expired session is dropped" expired_for_rx

session_expired() {
	local h0 s0 d0
	h0=$(ctr a tx_handshake) && s0=$(ctr a staged) &&
		d0=$(ctr a tx_data) || return 1
	ping_ok "$NS_A" "$IN4_B" 1 || return 1
	T1=$(now_ms)
	# Queued for a new session, not sent under the old one.
	expect_ctr a staged -ge $((s0 + 1)) &&
		expect_ctr a tx_handshake -ge $((h0 + 1)) &&
		expect_ctr a tx_data -ge $((d0 + 1))
}
check "reject: idle beyond REJECT_AFTER_TIME, new traffic needs a handshake" \
	session_expired

keys_wiped() {
	local t
	t=$((T1 + 12000 - $(now_ms)))
	[ "$t" -gt 0 ] && sleep "$((t / 1000)).$(printf %03d $((t % 1000)))"
	expect_ctr a keys_wiped -eq 0 || return 1
	wait_until 15 ctr_ge a keys_wiped 1 || return 1
	within 15000 23000 $(($(now_ms) - T1)) "key wipe after"
}
check "reject: keys wiped after 3 x REJECT_AFTER_TIME without a session" \
	keys_wiped
check "reject: tunnel works after the wipe" ping_ok "$NS_A" "$IN4_B"

# ------------------------------------------ unreachable and full-size packets

topology "wgxdp <-> wgxdp: unrouted destinations, full-size packets"
pair wgxdp wgxdp || die "wgxdp A <-> wgxdp B"
check "handshake wgxdp <-> wgxdp" handshake_via a "$IN4_B" 10

# ping_unreachable DST: one echo request answered by "unreachable" from
# wgxdp itself within a second.
ping_unreachable() {
	local out t0 ms
	t0=$(now_ms)
	out=$(ip netns exec "$NS_A" ping -n -c 1 -W 3 "$1" 2>&1)
	ms=$(($(now_ms) - t0))
	echo "$out"
	grep -q 'nreachable' <<<"$out" || {
		echo "no unreachable answer for $1"
		return 1
	}
	within 0 1500 "$ms" "unreachable answer for $1"
}

no_route_counted() {
	local n0
	n0=$(ctr a drop_no_route) || return 1
	ping_unreachable "$NOROUTE4" && ping_unreachable "$NOROUTE6" &&
		expect_ctr a drop_no_route -ge $((n0 + 2))
}
check "unreachable: ICMP/ICMPv6 host unreachable, drop_no_route" \
	no_route_counted

# ping_full NS DST SIZE: three echo requests of SIZE payload bytes that
# must not be fragmented (1392 + 28 = 1420 for IPv4, 1372 + 48 for IPv6).
ping_full() {
	ip netns exec "$1" ping -n -q -M "do" -s "$3" -c 3 -i 0.2 -W 1 -w 6 "$2"
}
check "full size: IPv4 1420-byte packets A->B" ping_full "$NS_A" "$IN4_B" 1392
check "full size: IPv4 1420-byte packets B->A" ping_full "$NS_B" "$IN4_A" 1392
check "full size: IPv6 1420-byte packets A->B" ping_full "$NS_A" "$IN6_B" 1372
check "full size: IPv6 1420-byte packets B->A" ping_full "$NS_B" "$IN6_A" 1372

# On the wire a 1420-byte packet is a 1452-byte data message: padding
# stops at the MTU (protocol.md). Captured leaving A: on B's veth, XDP
# may hand them to an AF_XDP socket, past any packet socket.
wire_size() {
	local f=$WGX_TMP/full.hex pid bad
	spawn "$f.log" ip netns exec "$NS_A" "$UDP" capture "$VETH_A" \
		"$PORT_B" 3 "$f" 10 to data
	pid=$SPAWNED
	wait_until 5 grep -q '^capturing' "$f.log" || return 1
	ping_full "$NS_A" "$IN4_B" 1392 || return 1
	wait_until 10 eval "! proc_alive $pid" || return 1
	[ "$(grep -c . "$f")" -eq 3 ] || {
		echo "captured $(grep -c . "$f") data messages, expected 3"
		return 1
	}
	bad=$(awk 'length($0) != 2 * 1452' "$f" | wc -l)
	[ "$bad" -eq 0 ] || {
		echo "$bad data messages are not 1452 bytes"
		return 1
	}
}
check "full size: 1452-byte data messages on the wire" wire_size

too_big() {
	! ip netns exec "$NS_A" ping -n -q -M "do" -s 1393 -c 1 -W 1 "$IN4_B"
}
check "full size: 1421 bytes do not fit the 1420 MTU" too_big

finish
