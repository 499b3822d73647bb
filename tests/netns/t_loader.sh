#!/usr/bin/env bash
# timeout: 120
# workers: default
# modes: auto
# The XDP loader (user/agent/loader.c) against the kernel: attach in each mode,
# pins, map access, foreign programs, stale reclaim after kill -9, detach.
# Where libxdp's dispatcher cannot run (here: the kernel refuses extension
# programs), the program is attached through a bpf_link of the process
# that attached it: it leaves the interface with that process, kill -9
# included, and only the pins remain. Each attach below is a holder
# process (`attach --hold`), as the daemon is.
# build/tests/netns/loader_test_drv drives it; the program is the stand-in
# build/tests/bpf/loader_test.bpf.o (program wgx_xdp with the real maps,
# counting every frame as pass_other); loader_foreign.bpf.o plays somebody
# else's program.
#
#   netns wgx-<pid>-a                          netns wgx-<pid>-b
#   veth wgx<pid>va  10.101.0.1/24 ----------- veth wgx<pid>vb 10.101.0.2/24
#     XDP under test (native works on veth)      pings va for the counters
#   bridge wgx<pid>br: no native XDP, so auto must fall back to skb
#
# IPv6 is off in both namespaces so nothing but our pings crosses the veth
# and the counters start at exactly zero.
#
# The driver runs under `nsenter --net=/run/netns/NS`: it keeps this
# shell's mounts, so the pins land in the host's bpffs at
# /sys/fs/bpf/wgxdp/<IFACE>/ where bpftool and the runner's leak check
# see them. One check runs under `ip netns exec` instead, whose private
# /sys has no bpffs: there the loader mounts its own, visible to that
# process tree only.
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

require_root_netns
require_tools bpftool jq nsenter ping ip

build=$(dirname "${WGXDP:-$(dirname "$0")/../../build/wgxdp}")
DRV=$build/tests/netns/loader_test_drv
OBJ=$build/tests/bpf/loader_test.bpf.o
FOREIGN=$build/tests/bpf/loader_foreign.bpf.o
for f in "$DRV" "$OBJ" "$FOREIGN"; do
	[ -e "$f" ] || die "$f is not built (run make)"
done

NS_A=$(ns_name a) NS_B=$(ns_name b)
VETH_A=$(if_name va) VETH_B=$(if_name vb) BR=$(if_name br) ||
	die "interface names"
PINS=/sys/fs/bpf/wgxdp

# Pins live in the host's bpffs, outside the namespaces: remove ours
# whatever happens (after the namespaces are gone, as on_exit runs last
# first).
on_exit rm -rf "$PINS/$VETH_A" "$PINS/$BR"

no_ipv6() {
	ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1
}

setup() {
	ns_create "$NS_A" && ns_create "$NS_B" &&
		no_ipv6 "$NS_A" && no_ipv6 "$NS_B" &&
		veth_create "$NS_A" "$VETH_A" "$NS_B" "$VETH_B" &&
		addr_add "$NS_A" "$VETH_A" "$UL4_A/$UL4_LEN" &&
		addr_add "$NS_B" "$VETH_B" "$UL4_B/$UL4_LEN" &&
		register if "$BR" &&
		ip -n "$NS_A" link add "$BR" type bridge &&
		ip -n "$NS_A" link set "$BR" up &&
		wait_until 5 nsx "$NS_A" ping -c 1 -W 1 "$UL4_B"
}
setup || die "namespaces, veth and bridge"

# ---------------------------------------------------------------- helpers

OUT=$(tmpfile drv.out)
ERR=$(tmpfile drv.err)

# drv ARGS...: the driver in NS_A; stdout in $OUT, stderr in $ERR (and
# both shown when a check fails).
drv() {
	nsenter --net="/run/netns/$NS_A" "$DRV" "$@" >"$OUT" 2>"$ERR"
	local rc=$?
	cat "$OUT" "$ERR"
	return "$rc"
}

# field KEY: a "key=value" line of the last driver output.
field() { sed -n "s/^$1=//p" "$OUT"; }

said() {
	grep -qF -- "$1" "$ERR" || {
		echo "the loader did not say: $1"
		return 1
	}
}

# xdp IFACE JQ: a field of the interface's XDP state as `ip -d -j` shows it
# (mode 1: native, 2: skb; prog.name).
xdp() {
	ip -n "$NS_A" -d -j link show dev "$1" | jq -r ".[0].xdp$2 // empty"
}

# xdp_is IFACE MODE NAME: the attached program and mode, from the kernel.
xdp_is() {
	local want=$2 mode name
	mode=$(xdp "$1" .mode) name=$(xdp "$1" .prog.name)
	case $2 in native) want=1 ;; skb) want=2 ;; esac
	if [ "$mode" != "$want" ] || [ "$name" != "$3" ]; then
		echo "$1 carries '$name' in XDP mode '$mode'; want '$3' in $2"
		return 1
	fi
}

no_xdp() {
	local name
	name=$(xdp "$1" .prog.name)
	[ -z "$name" ] || {
		echo "$1 still carries XDP program '$name'"
		return 1
	}
}

pins_present() {
	local p
	for p in sessions stats xsks config local_addrs deny xsk_queues \
		rx_horizon prog; do
		[ -e "$PINS/$1/$p" ] || {
			echo "missing pin $PINS/$1/$p"
			return 1
		}
	done
}

no_pins() {
	[ ! -e "$PINS/$1" ] || {
		echo "$PINS/$1 is still there:" "$PINS/$1"/*
		return 1
	}
}

# The attached program as the kernel names it: ours alone, or libxdp's
# dispatcher holding ours.
expected_prog() {
	if [ "$(field dispatcher)" = 1 ]; then
		echo xdp_dispatcher
	else
		echo wgx_xdp
	fi
}

HOLD_LOG=$(tmpfile hold.log)
HOLDER=

# hold IFACE MODE [ARGS...]: an attach that stays, like the daemon; its
# pid in $HOLDER, its output in $OUT and $ERR as drv leaves them.
hold() {
	local ifc=$1
	shift
	: >"$HOLD_LOG"
	spawn "$HOLD_LOG" nsenter --net="/run/netns/$NS_A" "$DRV" attach \
		"$ifc" "$@" --obj "$OBJ" --hold
	HOLDER=$SPAWNED
	wait_until 10 eval "grep -qx ready $HOLD_LOG || ! proc_alive $HOLDER"
	cp "$HOLD_LOG" "$OUT"
	cp "$HOLD_LOG" "$ERR"
	cat "$HOLD_LOG"
	grep -qx ready "$HOLD_LOG"
}

# release: the holder detaches on SIGTERM and exits 0.
release() {
	local pid=$HOLDER
	[ -n "$pid" ] || return 0
	HOLDER=
	kill -TERM "$pid"
	wait_until 5 eval "! proc_alive $pid" || return 1
	wait "$pid" || { echo "holder exited $?"; return 1; }
}

attach_ok() { # IFACE MODE WANT_MODE [ARGS...]
	local ifc=$1 mode=$2 want=$3
	shift 3
	hold "$ifc" "$mode" "$@" || return 1
	[ "$(field mode)" = "$want" ] || {
		echo "attach $mode got mode '$(field mode)', want $want"
		return 1
	}
	xdp_is "$ifc" "$want" "$(expected_prog)" && pins_present "$ifc"
}

# detach_ok IFACE: another process detaches (through the pins), then the
# holder lets go.
detach_ok() {
	drv detach "$1" && no_xdp "$1" && no_pins "$1" && release
}

# linked IFACE: the program on IFACE is held by a bpf_link of the holder
# (bpftool's view of the links), or we went through the dispatcher.
linked() {
	local id
	[ "$(field dispatcher)" = 1 ] && return 0
	[ "$(field link)" = 1 ] || { echo "not attached through a link"; return 1; }
	id=$(field prog_id)
	xdp_is "$1" native wgx_xdp || return 1
	# (bpftool 7.1 does not print a link's ifindex; the id is unique)
	bpftool -j link show | jq -e --argjson p "$id" \
		'any(.[]; .type == "xdp" and .prog_id == $p)' >/dev/null ||
		{ echo "bpftool shows no xdp link for prog $id"; return 1; }
	local fd found=
	for fd in "/proc/$HOLDER/fd/"*; do
		[ "$(readlink "$fd")" = anon_inode:bpf_link ] && found=1
	done
	[ -n "$found" ] ||
		{ echo "the holder has no bpf_link descriptor"; return 1; }
}

# ------------------------------------------------------- attach and maps

native_attach() {
	attach_ok "$VETH_A" native native || return 1
	if [ "$(field dispatcher)" = 1 ]; then
		info "path: libxdp's dispatcher ($(grep Attached "$ERR"))"
	else
		info "path: single program ($(grep Attached "$ERR"))"
	fi
}
check "native attach on veth (kernel reports native)" native_attach
check "the program is held by the holder's bpf_link" linked "$VETH_A"

# counter NAME: "packets bytes" of one counter, read through the pins.
counter() {
	drv stats "$VETH_A" >/dev/null || return 1
	awk -v s="$1" '$1 == s { print $2, $3; found = 1 } END { exit !found }' \
		"$OUT"
}

counters_zero() {
	local c
	c=$(counter pass_other) || return 1
	[ "$c" = "0 0" ] || { echo "pass_other is '$c' at attach"; return 1; }
}
check "counters start at zero" counters_zero

pings_counted() {
	local pkts bytes
	nsx "$NS_B" ping -c 3 -i 0.2 -W 1 "$UL4_A" || return 1
	read -r pkts bytes < <(counter pass_other) || return 1
	# three echo requests at least (ARP adds more); 98 bytes each
	if [ "$pkts" -lt 3 ] || [ "$bytes" -lt $((3 * 98)) ]; then
		echo "pass_other is $pkts packets, $bytes bytes after 3 pings"
		return 1
	fi
}
check "counters summed over CPUs count pings" pings_counted

session_dump() {
	drv session-add "$VETH_A" 0x01020304 7 1 || return 1
	local dump
	dump=$(bpftool -j map dump pinned "$PINS/$VETH_A/sessions") || return 1
	echo "$dump"
	# the key as the wire has it: little-endian 0x01020304
	jq -e 'length == 1 and .[0].formatted.key.index_le == 16909060 and
		.[0].formatted.value.peer_id == 7 and
		.[0].formatted.value.slot == 1' <<<"$dump" >/dev/null ||
		{ echo "sessions dump is not the inserted entry"; return 1; }
	# the plain dump too (no grep -q in a pipe: pipefail and SIGPIPE)
	dump=$(bpftool map dump pinned "$PINS/$VETH_A/sessions") || return 1
	grep -q '"peer_id": 7' <<<"$dump" ||
		{ echo "plain dump has no peer_id field"; return 1; }
}
check "session insert: bpftool dump shows field names" session_dump

session_delete() {
	drv session-del "$VETH_A" 0x01020304 || return 1
	[ "$(bpftool -j map dump pinned "$PINS/$VETH_A/sessions" | jq length)" = 0 ] ||
		{ echo "session still in the map"; return 1; }
	! drv session-del "$VETH_A" 0x01020304 && said "No such file"
}
check "session delete, twice is ENOENT" session_delete

KEY_HEX=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1eff
config_set() {
	drv config "$VETH_A" 51820 1 "$KEY_HEX" || return 1
	bpftool -j map dump pinned "$PINS/$VETH_A/config" |
		jq -e '.[0].formatted.value | .listen_port == 51820 and
			.flags == 1 and .mac1_key[1] == 1 and
			.mac1_key[31] == 255' ||
		{ echo "config map does not hold what was set"; return 1; }
	! drv config "$VETH_A" 51820 1 0001 || {
		echo "a short key was taken"
		return 1
	}
}
check "config: port, flags, mac1 key" config_set

deny_set() {
	drv deny "$VETH_A" 192.0.2.9 5000 &&
		drv deny "$VETH_A" 2001:db8:1:2:3:4:5:6 5000 || return 1
	bpftool -j map dump pinned "$PINS/$VETH_A/deny" |
		jq -e 'length == 2 and
			([.[].formatted.key.addr[8:] | add] | max) == 0 and
			all(.[]; .formatted.value.until_ns > 0)' ||
		{ echo "deny map does not hold /32 and /64 keys"; return 1; }
}
check "deny: an IPv4 /32 and an IPv6 /64 with an end time" deny_set

addr_families() {
	bpftool -j map dump pinned "$PINS/$VETH_A/local_addrs" |
		jq -c '[.[].formatted.key.family] | sort'
}

local_addrs() {
	drv addrs "$VETH_A" 10.101.0.1 fd00:101::1 192.0.2.7 || return 1
	[ "$(addr_families)" = "[4,4,6]" ] ||
		{ echo "local_addrs: $(addr_families), want [4,4,6]"; return 1; }
	drv addrs "$VETH_A" fd00:101::1 || return 1
	[ "$(addr_families)" = "[6]" ] ||
		{ echo "after replace: $(addr_families), want [6]"; return 1; }
	drv addrs "$VETH_A" || return 1
	[ "$(addr_families)" = "[]" ] ||
		{ echo "after clearing: $(addr_families)"; return 1; }
}
check "local_addrs replaced as a set" local_addrs

check "detach removes program and pins" detach_ok "$VETH_A"

# ------------------------------------------------------------------ modes

skb_veth() { attach_ok "$VETH_A" skb skb && detach_ok "$VETH_A"; }
check "skb mode on veth" skb_veth

auto_veth() { attach_ok "$VETH_A" auto native && detach_ok "$VETH_A"; }
check "auto (no policy given) lands on native on veth" auto_veth

native_refused() {
	! drv attach "$BR" native --obj "$OBJ" || {
		echo "native attach on a bridge succeeded"
		return 1
	}
	said "in native mode: the driver has no native XDP support" &&
		no_xdp "$BR" && no_pins "$BR"
}
check "native refused where the driver has none, clearly" native_refused

auto_bridge() {
	attach_ok "$BR" auto skb && said "trying skb mode" && detach_ok "$BR"
}
check "auto falls back to skb without native support" auto_bridge

# ------------------------------------------------------- foreign programs

foreign_attach() {
	ip -n "$NS_A" link set dev "$VETH_A" xdpdrv obj "$FOREIGN" sec xdp
}
check "a foreign program is attached (ip link)" foreign_attach

foreign_refused() {
	! drv attach "$VETH_A" auto --obj "$OBJ" || {
		echo "attach over a foreign program succeeded"
		return 1
	}
	said "XDP program 'foreign_xdp'" && said "use --force" &&
		xdp_is "$VETH_A" native foreign_xdp && no_pins "$VETH_A"
}
check "foreign program refused without force" foreign_refused

foreign_forced() {
	attach_ok "$VETH_A" auto native --force &&
		said "Replacing XDP program 'foreign_xdp'" &&
		detach_ok "$VETH_A"
}
check "foreign program replaced with force" foreign_forced

# ------------------------------------------------------------ stale state

# after_owner: what a dead owner leaves on VETH_A: the pins always; the
# program only inside libxdp's dispatcher (its links are pinned there).
after_owner() {
	pins_present "$VETH_A" || return 1
	if [ "$STALE_DISPATCHER" = 1 ]; then
		xdp_is "$VETH_A" native xdp_dispatcher
	else
		no_xdp "$VETH_A"
	fi
}

crash() {
	hold "$VETH_A" native || return 1
	STALE_ID=$(field prog_id) STALE_DISPATCHER=$(field dispatcher)
	HOLDER_PID=$HOLDER HOLDER=
	kill -KILL "$HOLDER_PID"
	wait_until 5 eval "! proc_alive $HOLDER_PID" || return 1
	wait "$HOLDER_PID" 2>/dev/null
	after_owner
}
check "kill -9: the program goes with its owner, the pins stay" crash

# Nothing of the dead owner's program filters the interface: no link
# holds it, the interface has no XDP program. (t_xdp.sh sends frames the
# real program would drop to the port after a kill -9.)
nothing_filters() {
	[ "$STALE_DISPATCHER" = 1 ] && return 0
	bpftool -j link show | jq -e --argjson p "$STALE_ID" \
		'all(.[]; .prog_id != $p)' >/dev/null ||
		{ echo "a link still holds program $STALE_ID"; return 1; }
	no_xdp "$VETH_A"
}
check "kill -9: no link or attachment of the dead owner's program is left" \
	nothing_filters

stale_refused() {
	! drv attach "$VETH_A" native --obj "$OBJ" || {
		echo "attach over stale state without reclaim succeeded"
		return 1
	}
	said "wgxdp's program or pins are already there" && after_owner
}
check "stale state is kept unless the caller says reclaim" stale_refused

stale_reclaimed() {
	attach_ok "$VETH_A" native native --reclaim || return 1
	said "Removed stale pins $PINS/$VETH_A" || return 1
	if [ "$STALE_DISPATCHER" = 1 ]; then
		said "Removed stale wgxdp XDP program (id $STALE_ID)" ||
			return 1
	fi
	[ "$(field prog_id)" != "$STALE_ID" ] ||
		{ echo "still the stale program $STALE_ID"; return 1; }
	detach_ok "$VETH_A"
}
check "a new attach reclaims the stale state with a message" \
	stale_reclaimed

reclaim_alone() {
	crash || return 1
	drv reclaim "$VETH_A" && [ "$(field reclaimed)" = 1 ] &&
		said "Removed stale pins $PINS/$VETH_A" &&
		no_xdp "$VETH_A" && no_pins "$VETH_A" || return 1
	drv reclaim "$VETH_A" && [ "$(field reclaimed)" = 0 ]
}
check "reclaim (the detach path) removes stale state, then finds none" \
	reclaim_alone

# An attach that exits at once (no --hold) leaves no program behind
# unless it went into the dispatcher.
exit_unlinks() {
	drv attach "$VETH_A" native --obj "$OBJ" || return 1
	STALE_DISPATCHER=$(field dispatcher)
	after_owner || return 1
	drv reclaim "$VETH_A" && no_xdp "$VETH_A" && no_pins "$VETH_A"
}
check "a process that exits takes its program along" exit_unlinks

live_detach() {
	hold "$VETH_A" native || return 1
	pins_present "$VETH_A" || return 1
	release || return 1
	no_xdp "$VETH_A" && no_pins "$VETH_A"
}
check "the owner detaches on SIGTERM" live_detach

# -------------------------------------------------------- a private bpffs

# `ip netns exec` remounts /sys: no bpffs there until the loader mounts
# one, private to that process tree, so the host sees no pins. (-v: the
# loader says it mounted one at debug level.)
private_bpffs() {
	# shellcheck disable=SC2016 # the inner bash expands them
	nsx "$NS_A" bash -c '
		[ "$(stat -f -c %T /sys/fs/bpf)" != bpf_fs ] ||
			{ echo "bpffs already mounted"; exit 1; }
		"$1" -v attach "$2" skb --obj "$3" || exit 1
		[ "$(stat -f -c %T /sys/fs/bpf)" = bpf_fs ] &&
			test -e "/sys/fs/bpf/wgxdp/$2/sessions" ||
			{ echo "no private bpffs with pins"; exit 1; }
		"$1" detach "$2" && test ! -e "/sys/fs/bpf/wgxdp/$2"
	' _ "$DRV" "$VETH_A" "$OBJ" >"$ERR" 2>&1 || {
		cat "$ERR"
		return 1
	}
	cat "$ERR"
	said "Mounted bpffs at /sys/fs/bpf" && no_xdp "$VETH_A" &&
		no_pins "$VETH_A"
}
check "under ip netns exec the loader mounts a private bpffs" private_bpffs

nothing_left() {
	no_xdp "$VETH_A" && no_xdp "$BR" && no_pins "$VETH_A" && no_pins "$BR"
}
check "no program or pin left" nothing_left

finish
