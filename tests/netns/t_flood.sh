#!/usr/bin/env bash
# timeout: 300
# modes: auto
# Under attack from a third namespace (tests/netns/flood_lib.sh): wgxdp
# in A (XDP, in the mode that --mode auto picks on veth) with a
# wireguard-go peer in B; C floods A's listen port with
# build/bench/wgx_flood, each flood bounded in time.
#
#   handshake floods (initiations with a valid mac1 for A's public key):
#     - from C's own address, as fast as one core sends them
#     - from random forged sources (a /16)
#     - forging B's own address (2,000 a second)
#   while B makes fresh handshakes (it forgets A and pings again): each
#   completes with a median under 1 s and never over 5 s; the forged-B
#   flood may cost B one cookie round (5 s) at most, never more;
#   - a flooder that answers the cookie and floods with a valid mac2 ends
#     up in the XDP deny map (drop_denied) while B is unaffected;
#   - a flood without our public key (garbage mac1) never leaves XDP:
#     drop_bad_mac1 takes it, the agent sees none of it;
#   data floods (unknown receiver indices; B's live index with bad tags)
#     at 50,000 datagrams a second: a TCP stream B -> A (paced at 300
#     Mbit/s) keeps at least 80% of its goodput.
#
#   netns A: wgxdp  ===== netns B: wireguard-go
#        \                 /
#         bridge in netns S
#        /
#   netns C: wgx_flood
#
# Runtime: about 1 minute (55-60 s measured on 2 busy CPUs).
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/netns/flood_lib.sh
. "$(dirname "$0")/flood_lib.sh"

require_root_netns
require_wgxdp
require_tools wireguard-go wg jq ping iperf3 ss

BUILD=$(dirname "$WGXDP")
FLOOD=$BUILD/bench/wgx_flood
RXIDX=$BUILD/tests/netns/wgx_rxidx
for f in "$FLOOD" "$RXIDX"; do
	[ -x "$f" ] || die "$f is not built (run make)"
done

netns_trio || die "three namespaces on a bridge"
tunnel_pair wgxdp wggo || die "wgxdp A <-> wireguard-go B"
wait_handshake "$NS_B" "$TUN_B" "$IN4_A" 10 || die "first handshake"
PUB_A=$(pubkey a)

# ------------------------------------------------------------- helpers

# series NAME N: N fresh handshakes of B; stats in $STATS ("n median max
# fails").
series() {
	local out
	out=$(tmpfile "series-$1")
	handshake_series "$2" "$out" "$NS_B" "$TUN_B" "$PUB_A" \
		"$UL4_A:$PORT_A" "$IN4_A/32" "$IN4_A" 30
	STATS=$(series_stats "$out")
	info "$1: fresh handshakes (ms): $(tr '\n' ' ' <"$out")"
}

# handshakes_fast: every one completed, median < 1 s, none over 5 s.
handshakes_fast() {
	local n med max fails
	read -r n med max fails <<<"$STATS"
	echo "n=$n median=${med} ms max=${max} ms failed=$fails"
	[ "$fails" -eq 0 ] && [ "$med" -lt 1000 ] && [ "$max" -lt 5000 ]
}

# one_cookie_round_at_most: every one completed, none later than one
# cookie round (REKEY_TIMEOUT 5 s, jitter up to 1/3 s) and a second.
one_cookie_round_at_most() {
	local n med max fails
	read -r n med max fails <<<"$STATS"
	echo "n=$n median=${med} ms max=${max} ms failed=$fails"
	[ "$fails" -eq 0 ] && [ "$max" -lt 6500 ]
}

# ctr NAME: one of A's counters (socket side or XDP).
ctr() { wgxdp_counter "$NS_A" "$TUN_A" "$1"; }

# flood_ran LOG MIN_PPS: the flooder reported at least MIN_PPS.
flood_ran() {
	local r
	r=$(flood_rate "$1")
	cat "$1"
	[ -n "$r" ] && [ "$r" -ge "$2" ]
}

# counters: what A's agent and XDP did, for the diagnostics.
counters() {
	wgxdp_show "$NS_A" "$TUN_A" | jq -r '.counters |
		"rx_handshake \(.rx_handshake), tx_cookie_reply" +
		" \(.tx_cookie_reply), queue_full" +
		" \(.drop_handshake_queue_full), ratelimit" +
		" \(.drop_handshake_ratelimit), invalid" +
		" \(.drop_handshake_invalid); XDP pass_handshake" +
		" \(.pass_handshake), drop_bad_mac1 \(.drop_bad_mac1)," +
		" drop_denied \(.drop_denied)"'
}

# flooded NAME KIND SECONDS N [ARGS...]: B's fresh handshakes under a
# flood; the flooder is stopped after the series.
flooded() {
	local name=$1 kind=$2 secs=$3 n=$4 log
	shift 4
	log=$(tmpfile "flood-$name.log")
	flood_start "$log" "$kind" "$secs" "$@"
	FLOOD_PID=$SPAWNED
	sleep 1
	series "$name" "$n"
	stop_pid "$FLOOD_PID"
	FLOOD_LOG=$log
	info "$name: $(cat "$log")"
	info "$name: A's counters so far: $(counters)"
}

# ------------------------------------------------------ handshake floods

series "no flood" 3
check "no flood: fresh handshakes complete, median < 1 s" handshakes_fast

flooded mac1 initiation-mac1 60 6 --pubkey "$PUB_A"
check "mac1 flood from C: it ran at 20,000/s or more" \
	flood_ran "$FLOOD_LOG" 20000
check "mac1 flood from C: B's fresh handshakes median < 1 s, max < 5 s" \
	handshakes_fast

flooded spoofed initiation-mac1 60 6 --pubkey "$PUB_A" --spoof "$SPOOF4"
check "mac1 flood from forged /16 sources: it ran at 20,000/s or more" \
	flood_ran "$FLOOD_LOG" 20000
check "forged /16: B's fresh handshakes median < 1 s, max < 5 s" \
	handshakes_fast

flooded forged-b initiation-mac1 60 3 --pubkey "$PUB_A" --rate 2000 \
	--spoof "$UL4_B/32"
check "flood forging B's address: B pays one cookie round at most" \
	one_cookie_round_at_most

# A flooder that proves its address with the cookie and floods anyway.
denied_flood() {
	local d0 r0 d1 r1 log
	log=$(tmpfile flood-mac2.log)
	d0=$(ctr drop_denied) r0=$(ctr drop_handshake_ratelimit)
	timeout 30 ip netns exec "$NS_C" "$FLOOD" --kind initiation-mac2 \
		--pubkey "$PUB_A" --duration 5 "$UL4_A" "$PORT_A" >"$log" ||
		{ cat "$log"; return 1; }
	d1=$(ctr drop_denied) r1=$(ctr drop_handshake_ratelimit)
	info "mac2 flood: $(tr '\n' ' ' <"$log")"
	echo "drop_handshake_ratelimit +$((r1 - r0)), drop_denied +$((d1 - d0))"
	# The agent refused some, then XDP took most of the rest.
	[ $((r1 - r0)) -gt 0 ] && [ $((d1 - d0)) -gt $(($(flood_sent_of "$log") / 2)) ]
}
flood_sent_of() { awk '/^sent/ { print $2 }' "$1"; }
check "mac2 flood: rate-limited, then denied in XDP" denied_flood
series "after the mac2 flood" 3
check "after the mac2 flood: B's fresh handshakes median < 1 s" \
	handshakes_fast

# Garbage mac1: XDP drops all it sees, the agent sees none of it.
junk_in_xdp() {
	local b0 p0 h0 b1 p1 h1 log sent
	log=$(tmpfile flood-junk.log)
	b0=$(ctr drop_bad_mac1) p0=$(ctr pass_handshake) h0=$(ctr rx_handshake)
	# paced: unpaced, veth drops many before XDP sees them
	timeout 30 ip netns exec "$NS_C" "$FLOOD" --kind initiation \
		--count 200000 --rate 100000 --duration 10 "$UL4_A" \
		"$PORT_A" >"$log" || return 1
	b1=$(ctr drop_bad_mac1) p1=$(ctr pass_handshake) h1=$(ctr rx_handshake)
	sent=$(flood_sent_of "$log")
	info "junk flood: $(cat "$log")"
	echo "drop_bad_mac1 +$((b1 - b0)) of $sent;" \
		"pass_handshake +$((p1 - p0)); rx_handshake +$((h1 - h0))"
	# On a busy machine veth loses some before XDP (a quarter, once);
	# whatever XDP saw it dropped: B's own handshakes may pass a few.
	[ $((b1 - b0)) -ge $((sent / 2)) ] && [ $((p1 - p0)) -lt 20 ] &&
		[ $((h1 - h0)) -lt 20 ]
}
check "junk flood (bad mac1): dropped in XDP, never reaches the agent" \
	junk_in_xdp

# ----------------------------------------------------------- data floods

# goodput OUT: B -> A TCP for 5 s at most 300 Mbit/s, bit/s into $BPS.
# Paced: on a small shared machine an unpaced stream already takes every
# core, and then any other work (the flooder's own included) shows as
# lost goodput; tools/bench/flood measures unpaced streams.
goodput() {
	iperf_run "$NS_A" "$NS_B" "$IN4_A" "$1" 5 -b 300M &&
		BPS=$(iperf_tcp_bps "$1")
}

# data_flood NAME KIND [ARGS...]: goodput without and under a 50,000/s
# flood of KIND; tried twice on a busy machine, the better ratio counts.
data_flood() {
	local name=$1 kind=$2 try base fl ratio best=0 log fpid
	shift 2
	for try in 1 2; do
		goodput "$(tmpfile "$name-base.json")" || return 1
		base=$BPS
		log=$(tmpfile "flood-$name.log")
		flood_start "$log" "$kind" 9 --rate 50000 "$@"
		fpid=$SPAWNED # (iperf_run spawns too)
		sleep 1
		goodput "$(tmpfile "$name-flood.json")" || return 1
		fl=$BPS
		stop_pid "$fpid"
		# (half of it at least, on a machine others share)
		flood_ran "$log" 25000 >/dev/null ||
			{ cat "$log"; echo "the flood did not run"; return 1; }
		ratio=$(awk -v a="$fl" -v b="$base" 'BEGIN { printf "%d", 100 * a / b }')
		info "$name try $try: $(awk -v b="$base" 'BEGIN { printf "%.0f", b / 1e6 }') Mbit/s" \
			"-> $(awk -v b="$fl" 'BEGIN { printf "%.0f", b / 1e6 }') Mbit/s" \
			"under the flood ($ratio%); $(cat "$log")"
		[ "$ratio" -gt "$best" ] && best=$ratio
		[ "$best" -ge 80 ] && break
	done
	echo "best ratio $best%"
	[ "$best" -ge 80 ]
}

check "unknown-index flood at 50,000/s: B -> A keeps 80% of its goodput" \
	data_flood unknown unknown-index

# B's live index: what B sends to A with, seen on B's veth while B pings.
live_index() {
	spawn "$WGX_TMP/index-ping.out" ip netns exec "$NS_B" ping -n -q \
		-c 20 -i 0.2 "$IN4_A"
	INDEX=$(ip netns exec "$NS_B" "$RXIDX" "$VETH_B" "$PORT_A" 5)
	stop_pid "$SPAWNED"
	echo "index ${INDEX:-none}"
	[ -n "$INDEX" ]
}
check "B's live receiver index seen on the wire" live_index
# Counters below 2^32, as a live session could carry. XDP drops those
# outside the horizon A's workers published for B's session (nearly all:
# B's counter is far below 2^32 and moves by a few thousand a second);
# the few inside cost a decryption each and fail their tag.
bad_tags_dropped() {
	local b0 c0 b1 c1 tag bad
	b0=$(ctr drop_bad_tag) c0=$(ctr drop_bad_counter)
	data_flood bad-tag bad-tag-low --index "$INDEX" || return 1
	b1=$(ctr drop_bad_tag) c1=$(ctr drop_bad_counter)
	tag=$((b1 - b0)) bad=$((c1 - c0))
	echo "drop_bad_counter +$bad, drop_bad_tag +$tag"
	[ $((tag + bad)) -gt 100000 ] && [ "$bad" -ge $(((tag + bad) * 9 / 10)) ]
}
check "bad-tag flood on B's index at 50,000/s: 80% of the goodput kept" \
	bad_tags_dropped

# Random counters: 2^40 and above no session reaches, so they are
# dropped undecrypted (by XDP, or by the workers in socket mode), and
# none of them is a failed decryption.
bad_counters_dropped() {
	local b0 c0 b1 c1
	b0=$(ctr drop_bad_tag) c0=$(ctr drop_bad_counter)
	data_flood bad-counter bad-tag --index "$INDEX" || return 1
	b1=$(ctr drop_bad_tag) c1=$(ctr drop_bad_counter)
	echo "drop_bad_counter +$((c1 - c0)), drop_bad_tag +$((b1 - b0))"
	[ $((c1 - c0)) -gt 100000 ] && [ $((b1 - b0)) -lt 100 ]
}
check "random-counter flood on B's index: dropped undecrypted, 80% kept" \
	bad_counters_dropped

finish
