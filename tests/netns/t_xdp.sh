#!/usr/bin/env bash
# timeout: 300
# modes: auto
# The XDP classifier in front of wgxdp's socket datapath, against the
# kernel: attach in auto (skb on veth), native and skb mode; in each,
# full-size traffic both ways, the sessions map, floods of unknown-index
# and malformed messages dropped in XDP while the tunnel keeps working;
# a killed daemon's program leaves the interface with it (a bpf_link of
# the daemon): frames it would drop reach a plain UDP socket on the port,
# and the stale pins are reclaimed by the next attach; detach leaves
# nothing; the sessions map follows the live sessions across
# rekeys (time knob: REKEY_AFTER_TIME 6 s, REJECT_AFTER_TIME 9 s).
# Runtime: about 1 minute (2 on a loaded machine).
#
#   netns wgx-<pid>-a                          netns wgx-<pid>-b
#   wgxdp wgx<pid>ta                           wireguard-go wgx<pid>tb
#     10.201.0.1/24 fd00:201::1/64  <=======>    (wgxdp for the rekey part)
#   veth wgx<pid>va  XDP under test            veth wgx<pid>vb
#     10.101.0.1/24 :51820          ---------    10.101.0.2/24 :51821
#                                                build/bench/wgx_flood sends
#                                                its floods from here to
#                                                10.101.0.1:51820
#
# Where the pins are: a daemon started by `ip netns exec` (the harness
# default) sits in a mount namespace of its own whose /sys is the
# namespace's sysfs; the loader mounts a private bpffs there. A later
# `ip netns exec NS bpftool ...` gets a fresh mount namespace and sees an
# empty /sys/fs/bpf, so this test reads the pins through the daemon's own
# mount namespace (`nsenter -t PID -m`); they vanish with the daemon.
# Started with `nsenter --net` (WGX_WGXDP_NSENTER=1), the daemon keeps the
# host's mounts: pins at /sys/fs/bpf/wgxdp/<veth> for everyone, surviving
# a kill -9 until the next attach or detach reclaims them. Both are
# checked. Where libxdp's dispatcher can run, the program would stay in it
# after a kill -9 (its links are pinned by design); not on this kernel.
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

require_root_netns
require_wgxdp
require_tools wireguard-go wg jq socat ping ss bpftool nsenter

BUILD=$(dirname "$WGXDP")
FLOOD=$BUILD/bench/wgx_flood
RXIDX=$BUILD/tests/netns/wgx_rxidx
for f in "$FLOOD" "$RXIDX"; do
	[ -x "$f" ] || die "$f is not built (run make)"
done
PIN_ROOT=/sys/fs/bpf/wgxdp
BURST=10000

netns_pair || die "namespace pair with veth"
# Pins of an nsenter-started daemon live in the host's bpffs: remove them
# whatever happens.
on_exit rm -rf "$PIN_ROOT/$VETH_A" "$PIN_ROOT/$VETH_B"

# ------------------------------------------------------------- helpers

# pins_exec TUN CMD...: CMD in the mount namespace of TUN's daemon, where
# its pins are (see the top).
pins_exec() {
	local pid=${WGX_PID[$1]:-}
	shift
	[ -n "$pid" ] || {
		echo "no daemon pid" >&2
		return 1
	}
	nsenter -t "$pid" -m "$@"
}

# sessions TUN UL: TUN's sessions map as JSON lines {index, peer, slot},
# from bpftool's BTF-formatted dump (fails when the fields are missing).
sessions() {
	pins_exec "$1" bpftool -j map dump pinned "$PIN_ROOT/$2/sessions" |
		jq -ec '.[] | .formatted |
			{index: .key.index_le, peer: .value.peer_id,
			 slot: .value.slot} |
			select(.index != null and .peer != null and
			       .slot != null)'
}

# section NS TUN NAME: the "NAME:" block of `wgxdp show` text as
# "counter packets" lines ("xdp counters" or "counters", the socket side).
section() {
	timeout 10 ip netns exec "$1" "$WGXDP" show "$2" </dev/null |
		awk -v s="$3:" '$0 == s { on = 1; next }
			on && NF == 0 { exit }
			on { sub(/:$/, "", $1); print $1, $2 }'
}

# get FILE NAME: a counter from a section dump, 0 when absent.
get() { awk -v n="$2" '$1 == n { v = $2 } END { print v + 0 }' "$1"; }

# xdp_link NS IF: "MODE ID NAME" of the XDP program on IF from
# `ip -d link show` (MODE: xdp = native, xdpgeneric = skb), or nothing.
xdp_link() {
	ip -n "$1" -d link show "$2" | awk '
		NR == 1 { for (i = 1; i <= NF; i++)
				if ($i ~ /^xdp(generic|offload|multi)?$/) m = $i }
		/prog\/xdp id/ { for (i = 1; i <= NF; i++) {
				if ($i == "id") id = $(i + 1)
				if ($i == "name") nm = $(i + 1) } }
		END { if (m != "") print m, id, nm }'
}

mode_word() {
	case $1 in
	native) echo xdp ;;
	skb) echo xdpgeneric ;;
	esac
}

# link_has_xdp NS IF WANT(native|skb): ip -d link and ip -j agree.
link_has_xdp() {
	local got jmode want=$3 m id nm
	got=$(xdp_link "$1" "$2")
	echo "ip -d link: ${got:-no XDP}"
	read -r m id nm <<<"$got"
	[ "$m" = "$(mode_word "$want")" ] || return 1
	[[ $id =~ ^[0-9]+$ ]] || return 1
	# libxdp may put a dispatcher in front of wgx_xdp
	[ "$nm" = wgx_xdp ] || [ "$nm" = xdp_dispatcher ] || return 1
	jmode=$(ip -n "$1" -j -d link show "$2" | jq '.[0].xdp.mode')
	# IFLA_XDP_ATTACHED: 1 driver (native), 2 skb (generic)
	case $want in
	native) [ "$jmode" = 1 ] ;;
	skb) [ "$jmode" = 2 ] ;;
	esac || {
		echo "ip -j: xdp.mode $jmode"
		return 1
	}
}

no_xdp() {
	local got
	got=$(xdp_link "$1" "$2")
	[ -z "$got" ] || {
		echo "still on $2: $got"
		return 1
	}
	! ip -n "$1" -d link show "$2" | grep -q 'prog/xdp'
}

show_mode_is() {
	local got
	got=$(wgxdp_show "$1" "$2" | jq -r '.mode')
	echo "show --json mode: $got"
	[ "$got" = "$3" ]
}

attach_said() {
	grep -q "attached to $2 (mode $3)" "$WGX_TMP/wgxdp-$1.log" || {
		cat "$WGX_TMP/wgxdp-$1.log"
		echo "no 'attached to $2 (mode $3)' message"
		return 1
	}
}

ping_df() {
	ip netns exec "$1" ping -n -q -c 3 -i 0.2 -W 1 -w 5 -M "do" -s 1392 "$2"
}

# ping_done PID OUT N: the background ping PID ended with all N answered.
ping_done() {
	wait_until 30 eval "! proc_alive $1" || return 1
	wait "$1"
	local rc=$?
	cat "$2"
	[ "$rc" -eq 0 ] && grep -q " $3 received" "$2"
}

# flood KIND COUNT [ARGS...]: wgx_flood from B to A's listen port; its
# report in $WGX_TMP/flood.out.
flood() {
	local kind=$1 count=$2
	shift 2
	timeout 60 ip netns exec "$NS_B" "$FLOOD" --kind "$kind" \
		--count "$count" --duration 30 "$@" "$UL4_A" "$PORT_A" \
		>"$WGX_TMP/flood.out" || return 1
	info "wgx_flood $kind: $(cat "$WGX_TMP/flood.out")"
}

flood_sent() { awk '{ print $2 }' "$WGX_TMP/flood.out"; }

# in_range NAME VALUE LO HI
in_range() {
	echo "$1 = $2 (want $3..$4)"
	[ "$2" -ge "$3" ] && [ "$2" -le "$4" ]
}

# The socket side's receive-path drops (the transmit-path ones, such as
# drop_no_route for the TUN's own IPv6 chatter, move on their own).
RX_DROPS="drop_malformed drop_unknown_index drop_bad_tag drop_bad_counter
drop_replay drop_expired_key drop_bad_inner drop_allowedips
drop_handshake_invalid drop_handshake_ratelimit drop_handshake_queue_full"

# socket_drops_same BEFORE AFTER: no receive-path drop counter of the
# socket side moved.
socket_drops_same() {
	local c moved=
	for c in $RX_DROPS; do
		[ "$(get "$1" "$c")" = "$(get "$2" "$c")" ] ||
			moved+=" $c $(get "$1" "$c")->$(get "$2" "$c")"
	done
	[ -z "$moved" ] || {
		echo "socket-side drops moved:$moved"
		return 1
	}
}

# ---------------------------------------------- the peer's index in the map

# index_in_map TUN UL SNIFF_NS SNIFF_IF PORT: the receiver index of a data
# message to PORT seen on SNIFF_IF is in TUN's sessions map (dumped just
# before or just after the capture, so a rotation between the two does
# not count against it).
index_in_map() {
	local idx before after
	before=$(sessions "$1" "$2") || return 1
	idx=$(ip netns exec "$3" "$RXIDX" "$4" "$5" 3) || return 1
	after=$(sessions "$1" "$2") || return 1
	printf '%s\n%s\n' "$before" "$after" |
		jq -se --argjson i "$idx" 'any(.[]; .index == $i)' >/dev/null || {
		echo "index $idx not in the map: $before $after"
		return 1
	}
	echo "index $idx in the map"
}

# ---------------------------------------------------------------- modes

# xsks_are NS TUN N: show --json lists N AF_XDP sockets.
xsks_are() {
	local n
	n=$(wgxdp_show "$1" "$2" | jq '.xsks | length')
	echo "AF_XDP sockets: $n"
	[ "$n" = "$3" ]
}

# check_mode MODE WANT: wgxdp (attach --mode MODE, expecting WANT) against
# wireguard-go.
check_mode() {
	local mode=$1 want=$2 m pingpid f0 f1 s0 s1
	local n=$mode
	[ "$mode" = "$want" ] || n="$mode=$want"
	m=$(cleanup_mark)
	WGX_WGXDP_ARGS="--mode $mode" tunnel_pair wgxdp wggo ||
		die "$mode: wgxdp <-> wireguard-go"
	check "$n: attach says mode $want" attach_said "$TUN_A" "$VETH_A" "$want"
	[ "$mode" = auto ] &&
		check "$n: attach says why auto chose $want" grep -q \
			"^wgxdp: auto: veth: generic XDP in front of the UDP" \
			"$WGX_TMP/wgxdp-$TUN_A.log"
	[ "$mode" = auto ] ||
		check "$n: attach says what $mode costs on veth" grep -q \
			"^wgxdp: note: on veth this mode carried less TCP" \
			"$WGX_TMP/wgxdp-$TUN_A.log"
	check "$n: ip link shows the $want program" \
		link_has_xdp "$NS_A" "$VETH_A" "$want"
	check "$n: show --json mode $want" show_mode_is "$NS_A" "$TUN_A" "$want"
	if [ "$mode" = auto ]; then
		check "$n: no AF_XDP sockets (auto on veth)" xsks_are "$NS_A" \
			"$TUN_A" 0
	else
		check "$n: an AF_XDP socket on the veth's queue" xsks_are \
			"$NS_A" "$TUN_A" 1
	fi
	check "$n: handshake" wait_handshake "$NS_A" "$TUN_A" "$IN4_B" 10
	check "$n: ping 1392 B DF A->B" ping_df "$NS_A" "$IN4_B"
	check "$n: ping 1392 B DF B->A" ping_df "$NS_B" "$IN4_A"
	check "$n: TCP 50 MiB B->A sha256" \
		tcp_transfer "$NS_A" "$IN4_A" "$NS_B" 50
	check "$n: TCP 50 MiB A->B sha256" \
		tcp_transfer "$NS_B" "$IN4_B" "$NS_A" 50

	# Pings A->B make B send data to A while the map is read.
	spawn "$WGX_TMP/ping.out" ip netns exec "$NS_A" ping -q -c 25 -i 0.2 \
		"$IN4_B"
	pingpid=$SPAWNED
	check "$n: sessions map has index_le, peer_id, slot" \
		eval "sessions $TUN_A $VETH_A | grep -q ."
	check "$n: sessions map holds the index wireguard-go sends with" \
		index_in_map "$TUN_A" "$VETH_A" "$NS_B" "$VETH_B" "$PORT_A"
	stop_pid "$pingpid"

	# Unknown indices at 5,000/s for 2 s, while 20 pings cross the tunnel.
	f0=$(tmpfile xdp0) f1=$(tmpfile xdp1) s0=$(tmpfile sock0) s1=$(tmpfile sock1)
	section "$NS_A" "$TUN_A" "xdp counters" >"$f0"
	section "$NS_A" "$TUN_A" counters >"$s0"
	spawn "$WGX_TMP/ping.out" ip netns exec "$NS_A" ping -n -q -c 20 \
		-i 0.1 -W 1 -w 10 "$IN4_B"
	pingpid=$SPAWNED
	check "$n: flood of $BURST unknown indices sent" \
		flood unknown-index "$BURST" --rate 5000
	check "$n: ping through the tunnel during the flood" \
		ping_done "$pingpid" "$WGX_TMP/ping.out" 20
	section "$NS_A" "$TUN_A" "xdp counters" >"$f1"
	section "$NS_A" "$TUN_A" counters >"$s1"
	check "$n: XDP drop_unknown_index rose by ~$BURST" in_range \
		drop_unknown_index \
		$(($(get "$f1" drop_unknown_index) - $(get "$f0" drop_unknown_index))) \
		$((BURST * 99 / 100)) "$(flood_sent)"
	check "$n: XDP let through only the pings' data" in_range \
		"pass_data + redirect_xsk" \
		$(($(get "$f1" pass_data) + $(get "$f1" redirect_xsk) - \
			$(get "$f0" pass_data) - $(get "$f0" redirect_xsk))) 20 60
	check "$n: socket side saw none of the flood" \
		socket_drops_same "$s0" "$s1"

	# The same burst unpaced (one core's worth, ~300k/s): veth may drop
	# a few before XDP when its ring is full, never the socket side.
	section "$NS_A" "$TUN_A" "xdp counters" >"$f0"
	section "$NS_A" "$TUN_A" counters >"$s0"
	check "$n: unpaced burst of $BURST unknown indices sent" \
		flood unknown-index "$BURST"
	section "$NS_A" "$TUN_A" "xdp counters" >"$f1"
	section "$NS_A" "$TUN_A" counters >"$s1"
	check "$n: XDP dropped the unpaced burst" in_range drop_unknown_index \
		$(($(get "$f1" drop_unknown_index) - $(get "$f0" drop_unknown_index))) \
		$((BURST * 95 / 100)) "$(flood_sent)"
	check "$n: socket side saw none of the unpaced burst" \
		socket_drops_same "$s0" "$s1"

	# Malformed messages (wrong sizes, reserved bytes, types) at full speed.
	section "$NS_A" "$TUN_A" "xdp counters" >"$f0"
	section "$NS_A" "$TUN_A" counters >"$s0"
	check "$n: flood of 5000 malformed messages sent" flood malformed 5000
	section "$NS_A" "$TUN_A" "xdp counters" >"$f1"
	section "$NS_A" "$TUN_A" counters >"$s1"
	check "$n: XDP drop_malformed rose by ~5000" in_range drop_malformed \
		$(($(get "$f1" drop_malformed) - $(get "$f0" drop_malformed))) \
		4950 "$(flood_sent)"
	check "$n: socket side saw none of the malformed flood" \
		socket_drops_same "$s0" "$s1"
	check "$n: ping after the floods" ping_ok "$NS_A" "$IN4_B"

	cleanup_to "$m"
	check "$n: detach leaves no XDP program" no_xdp "$NS_A" "$VETH_A"
}

check_mode auto skb
check_mode native native
check_mode skb skb

# ------------------------------------------------ kill -9 and stale reclaim

prog_id() { xdp_link "$1" "$2" | awk '{ print $2 }'; }

# no_prog_left OLD: the dead daemon's program (OLD) is off the interface.
no_prog_left() {
	local now
	now=$(prog_id "$NS_A" "$VETH_A")
	echo "program on $VETH_A: ${now:-none} (before the kill: $1)"
	[ -n "$1" ] && [ -z "$now" ]
}

# port_open_to_all: with the daemon dead, data messages to unknown
# indices (what the program drops) reach a plain UDP socket bound to the
# port: no program that nobody owns filters it any more.
port_open_to_all() {
	local got=$WGX_TMP/after-kill.udp pid n sent
	: >"$got"
	spawn "$WGX_TMP/after-kill.log" timeout 20 ip netns exec "$NS_A" \
		socat -u "UDP4-RECV:$PORT_A,bind=$UL4_A" "OPEN:$got,append"
	pid=$SPAWNED
	wait_listen "$NS_A" "$PORT_A" udp || return 1
	flood unknown-index 200 --rate 2000 || return 1
	sent=$(awk '{ print $4 }' "$WGX_TMP/flood.out")
	# (wireguard-go's retried initiations, 148 bytes each, add a little)
	wait_until 5 eval "[ \$(stat -c %s $got) -ge $((sent * 9 / 10)) ]"
	n=$(stat -c %s "$got")
	stop_pid "$pid"
	echo "a plain socket on :$PORT_A got $n of the burst's $sent bytes"
	# A program left behind would drop every one of them; on a busy
	# machine socat has been seen to miss 17% (its socket's buffer).
	[ "$n" -ge $((sent / 2)) ]
}

fresh_ns_sees_no_pins() {
	! ip netns exec "$NS_A" test -e "$PIN_ROOT/$VETH_A/sessions" &&
		! test -e "$PIN_ROOT/$VETH_A" &&
		pins_exec "$TUN_A" test -e "$PIN_ROOT/$VETH_A/sessions"
}

host_sees_pins() {
	local f
	for f in sessions stats xsks config local_addrs deny xsk_queues prog; do
		test -e "$PIN_ROOT/$VETH_A/$f" || {
			echo "no $PIN_ROOT/$VETH_A/$f"
			return 1
		}
	done
	bpftool -j map dump pinned "$PIN_ROOT/$VETH_A/sessions" |
		jq -e 'length > 0' >/dev/null
}

reattached() {
	test -S "/run/wgxdp/$TUN_A.sock" &&
		[ "$(wgxdp_show "$NS_A" "$TUN_A" | jq -r .mode)" = skb ] # auto
}

# log_has FILE TEXT
log_has() {
	grep -qF -- "$2" "$1" || {
		cat "$1"
		echo "no '$2' in the log"
		return 1
	}
}

new_prog() {
	local now
	now=$(prog_id "$NS_A" "$VETH_A")
	echo "program now ${now:-none}, stale was $1"
	[ -n "$now" ] && [ "$now" != "$1" ] &&
		! bpftool prog show id "$1" >/dev/null 2>&1
}

detach_fg() {
	timeout 15 ip netns exec "$NS_A" "$WGXDP" detach "$VETH_A" &&
		wait_until 10 eval "! proc_alive $1"
}

# check_stale HOW: HOW is netns (ip netns exec: private pins, gone with
# the daemon) or nsenter (host bpffs: pins outlive it).
check_stale() {
	local how=$1 m old pid fg log in_ns
	m=$(cleanup_mark)
	in_ns=(ip netns exec "$NS_A")
	if [ "$how" = nsenter ]; then
		in_ns=(nsenter "--net=/run/netns/$NS_A")
		WGX_WGXDP_NSENTER=1 WGX_WGXDP_ARGS="--mode auto" \
			tunnel_pair wgxdp wggo || die "$how: tunnel"
	else
		WGX_WGXDP_ARGS="--mode auto" tunnel_pair wgxdp wggo ||
			die "$how: tunnel"
	fi
	check "$how: handshake" wait_handshake "$NS_A" "$TUN_A" "$IN4_B" 10
	if [ "$how" = nsenter ]; then
		check "$how: pins in the host bpffs" host_sees_pins
	else
		check "$how: pins only in the daemon's mount namespace" \
			fresh_ns_sees_no_pins
	fi
	old=$(prog_id "$NS_A" "$VETH_A")
	pid=${WGX_PID[$TUN_A]}
	kill -KILL "$pid"
	# All its threads (proc_alive looks at each): the last one to exit
	# drops the pid file's lock, and until then the instance is alive.
	check "$how: daemon killed" wait_until 10 eval "! proc_alive $pid"
	check "$how: its program left $VETH_A with it" no_prog_left "$old"
	check "$how: frames it dropped reach a plain socket on the port" \
		port_open_to_all
	[ "$how" = nsenter ] &&
		check "$how: stale pins left in the host bpffs" host_sees_pins

	# Again, in the foreground so the loader's messages reach its log.
	log=$(tmpfile "wgxdp-fg-$how.log")
	spawn "$log" "${in_ns[@]}" "$WGXDP" attach "$VETH_A" \
		--config "$WGX_TMP/$TUN_A.conf" --name "$TUN_A" --mode auto \
		--foreground
	fg=$SPAWNED
	check "$how: attach again comes up" wait_until 15 reattached
	WGX_PID[$TUN_A]=$fg
	[ "$how" = nsenter ] &&
		check "$how: attach says it removed the stale pins" \
			log_has "$log" "Removed stale pins $PIN_ROOT/$VETH_A"
	check "$how: a new program is attached, the old one is gone" \
		new_prog "$old"
	check "$how: tunnel works after the re-attach" ping_ok "$NS_A" "$IN4_B"
	check "$how: detach" detach_fg "$fg"
	unset "WGX_ATTACHED[$TUN_A]"
	check "$how: no XDP program after detach" no_xdp "$NS_A" "$VETH_A"
	check "$how: no pins after detach" eval "! test -e $PIN_ROOT/$VETH_A"
	cleanup_to "$m"
}

check_stale netns
check_stale nsenter

# ----------------------------------------------- sessions map across rekeys

# sent_sample SIDE T TUN UL SNIFF_NS SNIFF_IF PORT: one "sent" line (see
# sample_rekey), with index_in_map's words after it when it fails.
sent_sample() {
	local side=$1 t=$2 out
	shift 2
	if out=$(index_in_map "$@" 2>&1); then
		echo "sent $side $t - 1"
	else
		echo "sent $side $t - 0 ${out//$'\n'/ }"
	fi
}

# sample_rekey SECONDS OUT: sessions maps of both sides and the indices
# each side sends with, for SECONDS. Lines: "map SIDE T_MS INDEX PEER
# SLOT" and "sent SIDE T_MS INDEX 1|0" (1: in the receiver's map).
sample_rekey() {
	local end=$(($(now_ms) + $1 * 1000)) t side
	while [ "$(now_ms)" -lt "$end" ]; do
		t=$(now_ms)
		for side in a b; do
			if [ $side = a ]; then
				sessions "$TUN_A" "$VETH_A"
			else
				sessions "$TUN_B" "$VETH_B"
			fi | jq -r --arg s $side --arg t "$t" \
				'"map \($s) \($t) \(.index) \(.peer) \(.slot)"'
		done
		# B's index to A (seen leaving B), then A's index to B.
		sent_sample b "$t" "$TUN_A" "$VETH_A" "$NS_B" "$VETH_B" "$PORT_A"
		sent_sample a "$t" "$TUN_B" "$VETH_B" "$NS_A" "$VETH_A" "$PORT_B"
	done >"$2"
}

# Per side: most entries any peer had at once, distinct indices, the
# longest an index was seen, and whether the first sample's indices are
# gone from the last.
rekey_summary() {
	awk -v side="$2" '
		$1 == "map" && $2 == side {
			n[$3 " " $5]++; t = $3; idx = $4
			if (!(idx in first)) first[idx] = t
			last[idx] = t
			if (t0 == "") t0 = t
			if (t == t0) early[idx] = 1
			at[t " " idx] = 1; tmax = t }
		END {
			for (k in n) if (n[k] > most) most = n[k]
			for (i in first) {
				d++
				if (last[i] - first[i] > life) life = last[i] - first[i]
			}
			for (i in early) if ((tmax " " i) in at) stay++
			printf "%d %d %d %d\n", most, d, life, stay
		}' "$1"
}

rekey_map_ok() {
	local most distinct life_ms early_left
	read -r most distinct life_ms early_left < <(rekey_summary "$1" "$2")
	info "rekey side $2: at most $most entries per peer, $distinct" \
		"indices, longest seen ${life_ms} ms, $early_left of the first" \
		"sample's indices still there at the end"
	# current, previous, next and one handshake at most
	[ "$most" -ge 1 ] && [ "$most" -le 4 ] || return 1
	# at least three sessions over 20 s of 6 s rekeys
	[ "$distinct" -ge 3 ] || return 1
	# an index lives about two rekey intervals; 2 x REJECT_AFTER_TIME
	# (18 s) is the bound
	[ "$life_ms" -lt 18000 ] || return 1
	[ "$early_left" -eq 0 ]
}

sent_indices_ok() {
	local n bad
	n=$(awk -v s="$2" '$1 == "sent" && $2 == s' "$1" | wc -l)
	bad=$(awk -v s="$2" '$1 == "sent" && $2 == s && $5 == 0' "$1" | wc -l)
	awk -v s="$2" '$1 == "sent" && $2 == s && $5 == 0' "$1"
	info "rekey side $2 sent with an index in the peer's map:" \
		"$((n - bad)) of $n samples"
	[ "$n" -ge 10 ] && [ "$bad" -eq 0 ]
}

no_unknown_index() {
	local a b
	a=$(wgxdp_counter "$NS_A" "$TUN_A" drop_unknown_index)
	b=$(wgxdp_counter "$NS_B" "$TUN_B" drop_unknown_index)
	echo "drop_unknown_index: A $a, B $b"
	[ "$a" = 0 ] && [ "$b" = 0 ]
}

m=$(cleanup_mark)
WGXDP_TEST_TIMERS=1 WGXDP_TEST_TIME_SCALE=20 WGX_WGXDP_ARGS="--mode auto" \
	tunnel_pair wgxdp wgxdp || die "rekey: wgxdp <-> wgxdp"
check "rekey: handshake" wait_handshake "$NS_A" "$TUN_A" "$IN4_B" 10
spawn "$WGX_TMP/rekey-ping.out" ip netns exec "$NS_A" ping -n -q -c 110 \
	-i 0.2 -W 2 -w 40 "$IN4_B"
rping=$SPAWNED
SAMPLES=$(tmpfile rekey.samples)
sample_rekey 20 "$SAMPLES"
check "rekey: every ping answered" \
	ping_done "$rping" "$WGX_TMP/rekey-ping.out" 110
check "rekey: A's sessions map follows the live sessions" \
	rekey_map_ok "$SAMPLES" a
check "rekey: B's sessions map follows the live sessions" \
	rekey_map_ok "$SAMPLES" b
check "rekey: B sends with an index in A's map" sent_indices_ok "$SAMPLES" b
check "rekey: A sends with an index in B's map" sent_indices_ok "$SAMPLES" a
check "rekey: no data message hit an unknown index" no_unknown_index
cleanup_to "$m"

finish
