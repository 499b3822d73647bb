#!/usr/bin/env bash
# timeout: 120
# modes: auto
# workers: default
# The running daemon, seen from outside (util/harden.h, util/plainbuf.h,
# agent/resolve.h):
# - capabilities: its main (agent) thread keeps only CAP_NET_ADMIN,
#   CAP_NET_BIND_SERVICE and CAP_IPC_LOCK effective, and with XDP
#   CAP_NET_RAW (new AF_XDP sockets); the permitted and bounding sets add
#   CAP_SYS_ADMIN (raised for a moment to follow a moved TUN, and for the
#   teardown) and, only with XDP, CAP_BPF (for the teardown); no_new_privs is set; every other thread (the workers) has
#   no capability at all;
# - no core dumps: a core size limit of 0, and not dumpable: root without
#   CAP_SYS_PTRACE cannot open its /proc/PID/mem, while it can open that
#   of a sleep started alike (dumpable, same uid);
# - the workers' plaintext buffers are locked mappings marked "dd";
# - a reload whose peer endpoint is a host name that resolves 3 s late
#   (WGXDP_TEST_RESOLVE_DELAY_MS) does not stall the agent: `show` answers
#   within 1 s meanwhile, pings flow, and the new endpoint comes after.
#
#   netns wgx-<pid>-a                          netns wgx-<pid>-b
#   wgxdp wgx<pid>ta                           wireguard-go wgx<pid>tb
#     10.201.0.1/24 fd00:201::1/64  <=======>    10.201.0.2/24 fd00:201::2/64
#   veth wgx<pid>va                            veth wgx<pid>vb
#     10.101.0.1/24 fd00:101::1/64  ---------    10.101.0.2/24 fd00:101::2/64
#   /etc/netns/wgx-<pid>-a/hosts: peer-b.wgx.test -> fd00:101::2
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

require_root_netns
require_tools wireguard-go wg jq ping capsh
require_wgxdp

netns_pair || die "namespace pair with veth"
# `ip netns exec` puts /etc/netns/NS/hosts over /etc/hosts for the daemon.
HOSTS_DIR=/etc/netns/$NS_A
mkdir -p "$HOSTS_DIR" || die "mkdir $HOSTS_DIR"
on_exit rm -rf "$HOSTS_DIR"
printf '%s peer-b.wgx.test\n' "$UL6_B" >"$HOSTS_DIR/hosts"
export WGXDP_TEST_TIMERS=1 WGXDP_TEST_RESOLVE_DELAY_MS=3000
tunnel_pair wgxdp wggo || die "wgxdp <-> wireguard-go tunnel"
unset WGXDP_TEST_TIMERS WGXDP_TEST_RESOLVE_DELAY_MS
PID_A=${WGX_PID[$TUN_A]}
CONF_A=$WGX_TMP/$TUN_A.conf

works() {
	wait_handshake "$NS_A" "$TUN_A" "$IN4_B" 10 && ping_ok "$NS_A" "$IN4_B"
}
check "tunnel works" works

# status_hex PATH FIELD: a capability mask of a status file, as a number.
status_hex() {
	printf '%d' "0x$(awk -v f="$2:" '$1 == f { print $2 }' "$1")"
}

KEPT=$(((1 << 12) | (1 << 10) | (1 << 14))) # NET_ADMIN, BIND, IPC_LOCK
ADMIN=$((1 << 21))                           # SYS_ADMIN, for moments
BPF=$((1 << 39))                             # BPF, with XDP
RAW=$((1 << 13))                             # NET_RAW, with XDP

caps_agent() {
	local st=/proc/$PID_A/status mode want_eff want_prm
	mode=$(wgxdp_show "$NS_A" "$TUN_A" | jq -r .mode)
	want_eff=$KEPT want_prm=$((KEPT | ADMIN))
	if [ "$mode" != socket ]; then
		want_eff=$((KEPT | RAW))
		want_prm=$((KEPT | RAW | ADMIN | BPF))
	fi
	echo "mode $mode; $(grep -E '^(Cap|NoNewPrivs)' "$st" | tr '\n' ' ')"
	[ "$(status_hex "$st" CapEff)" -eq "$want_eff" ] &&
		[ "$(status_hex "$st" CapPrm)" -eq "$want_prm" ] &&
		[ "$(status_hex "$st" CapBnd)" -eq "$want_prm" ] &&
		[ "$(status_hex "$st" CapInh)" -eq 0 ] &&
		[ "$(awk '$1 == "NoNewPrivs:" { print $2 }' "$st")" = 1 ]
}

caps_workers() {
	local t n=0
	for t in /proc/"$PID_A"/task/*; do
		[ "${t##*/}" = "$PID_A" ] && continue
		n=$((n + 1))
		if [ "$(status_hex "$t/status" CapEff)" -ne 0 ] ||
			[ "$(status_hex "$t/status" CapPrm)" -ne 0 ]; then
			echo "thread ${t##*/}: $(grep CapEff "$t/status")"
			return 1
		fi
	done
	echo "$n threads besides the agent"
	[ "$n" -ge 1 ]
}

check "agent thread: only NET_ADMIN, NET_BIND_SERVICE, IPC_LOCK" caps_agent
check "worker threads: no capability" caps_workers

no_core() {
	grep -E '^Max core file size +0 +0 ' "/proc/$PID_A/limits"
}

# As root without CAP_SYS_PTRACE, /proc/PID/mem (ptrace's attach check)
# opens only for a dumpable process of the same uid whose capabilities are
# no more than the reader's: a sleep started alike (the control) opens,
# ours must not.
not_dumpable() {
	# shellcheck disable=SC2016 # expanded by the inner shell
	capsh --drop=cap_sys_ptrace -- -c '
		sleep 30 & ctl=$!
		{ exec 3</proc/$ctl/mem; } 2>/dev/null ||
			{ echo "control: a dumpable sleep is closed"; exit 2; }
		exec 3<&-
		kill $ctl
		if { exec 3</proc/$1/mem; } 2>/dev/null; then
			echo "wgxdp /proc/PID/mem opens: dumpable"
			exit 1
		fi' sh "$PID_A"
}

check "core size limit 0" no_core
check "not dumpable (a sleep, the control, is)" not_dumpable

# locked_buffers: at least 2 MiB a worker (4 receive batches of 1 MiB, 4
# send areas of 1 MiB, ...) in mappings locked whole and "dd" (adjacent
# ones merge, so sizes are summed).
locked_buffers() {
	local kb workers
	workers=$(($(find "/proc/$PID_A/task" -mindepth 1 -maxdepth 1 | wc -l) - 1))
	kb=$(awk '
		/^[0-9a-f]+-[0-9a-f]+ / { size = 0; locked = 0; next }
		/^Size:/ { size = $2 }
		/^Locked:/ { locked = $2 }
		/^VmFlags:/ {
			if (locked == size && / dd/ && / lo/)
				kb += size
		}
		END { print kb + 0 }' "/proc/$PID_A/smaps")
	echo "$kb KiB locked and not dumped, $workers workers"
	[ "$kb" -ge $((workers * 8192)) ]
}
check "plaintext buffers: locked, not dumped" locked_buffers

# ---- a reload that waits for DNS does not stall the agent

endpoint_of_b() {
	wgxdp_show "$NS_A" "$TUN_A" | jq -r '.peers[0].endpoint'
}

endpoint_is() { [ "$(endpoint_of_b)" = "$1" ]; }

slow_reload() {
	local t0 t1 worst=0 out ep
	sed -i "s/^Endpoint = .*/Endpoint = peer-b.wgx.test:$PORT_B/" "$CONF_A"
	t0=$(now_ms)
	out=$(timeout 10 ip netns exec "$NS_A" "$WGXDP" reload "$VETH_A") ||
		{ echo "reload failed: $out"; return 1; }
	t1=$(now_ms)
	echo "reload answered in $((t1 - t0)) ms: $out"
	[ $((t1 - t0)) -lt 1000 ] || return 1
	grep -q "resolving 1 endpoint host name" <<<"$out" || return 1
	# While the name resolves: show answers fast, traffic flows.
	for _ in 1 2 3 4 5; do
		t0=$(now_ms)
		ep=$(endpoint_of_b) || return 1
		t1=$(now_ms)
		[ $((t1 - t0)) -gt "$worst" ] && worst=$((t1 - t0))
		sleep 0.2
	done
	echo "show during resolution: worst $worst ms, endpoint $ep"
	[ "$worst" -lt 1000 ] || return 1
	[ "$ep" = "$UL4_B:$PORT_B" ] ||
		{ echo "endpoint changed before the name resolved"; return 1; }
	ping_ok "$NS_A" "$IN4_B" || return 1
	wait_until 10 endpoint_is "[$UL6_B]:$PORT_B" ||
		{ echo "endpoint now $(endpoint_of_b)"; return 1; }
}
check "reload with a slow host name: agent answers, applies it later" \
	slow_reload
check "tunnel works over the resolved endpoint" ping_ok "$NS_A" "$IN4_B"

bad_name() {
	local out
	sed -i "s/^Endpoint = .*/Endpoint = nx.wgx.test:$PORT_B/" "$CONF_A"
	out=$(timeout 10 ip netns exec "$NS_A" "$WGXDP" reload "$VETH_A") ||
		return 1
	sleep 4
	[ "$(endpoint_of_b)" = "[$UL6_B]:$PORT_B" ] ||
		{ echo "endpoint changed to $(endpoint_of_b)"; return 1; }
	ping_ok "$NS_A" "$IN4_B"
}
check "reload with a name that does not resolve: nothing changes" bad_name

finish
