# shellcheck shell=bash
# Helpers for the wgxdp integration tests (tests/netns/t_*.sh) and the
# tunnel benchmark (tools/bench/tunnel). Source it; do not run it.
#
# The standard topology (netns_pair + tunnel_pair):
#
#   netns $NS_A                                  netns $NS_B
#   +--------------------------+                 +--------------------------+
#   | $TUN_A  $IN4_A  $IN6_A   |   WireGuard     | $TUN_B  $IN4_B  $IN6_B   |
#   |   (wireguard-go | wgxdp) | <=============> |   (wireguard-go | wgxdp) |
#   | $VETH_A $UL4_A  $UL6_A   |------ veth -----| $VETH_B $UL4_B  $UL6_B   |
#   +--------------------------+                 +--------------------------+
#
# Every name carries the PID of the sourcing script ($WGX_ID), because
# /var/run/wireguard/<if>.sock is shared by all namespaces. Everything the
# helpers create is (1) undone by one cleanup trap, in reverse order, and
# (2) written to a registry ($WGX_RUN_DIR/registry when tests/netns/run
# drives us) so the runner can prove nothing was left behind.
#
# Results are lines starting with "PASS ", "FAIL " or "SKIP "; anything
# else a test prints must not start with those words ("# " is the habit).

set -u -o pipefail

WGX_PREFIX=wgx
WGX_ID=$$
WGX_TEST=${WGX_TEST:-$(basename "$0" .sh)}
WGX_TEST=${WGX_TEST#t_}
WGXDP=${WGXDP:-}
WGX_NFAIL=0
WGX_NPASS=0
WGX_CLEANUP=()
WGX_CLEANING=
declare -gA WGX_PID=()
declare -gA WGX_ATTACHED=()

# Addresses of the standard topology. Only ever used inside namespaces the
# test created, so every test may use the same ones.
UL4_A=10.101.0.1 UL4_B=10.101.0.2 UL4_LEN=24
UL6_A=fd00:101::1 UL6_B=fd00:101::2 UL6_LEN=64
IN4_A=10.201.0.1 IN4_B=10.201.0.2 IN4_LEN=24
IN6_A=fd00:201::1 IN6_B=fd00:201::2 IN6_LEN=64
PORT_A=51820 PORT_B=51821

# ---------------------------------------------------------------- reporting

# info MSG: a diagnostic line, shown even from inside check (which hides
# the output of a passing assertion).
exec {WGX_OUT}>&1
info() { printf '# %s\n' "$*" >&"$WGX_OUT"; }

pass() {
	WGX_NPASS=$((WGX_NPASS + 1))
	printf 'PASS %s: %s\n' "$WGX_TEST" "$1"
}

fail() {
	WGX_NFAIL=$((WGX_NFAIL + 1))
	printf 'FAIL %s: %s: %s\n' "$WGX_TEST" "$1" "${2:-failed}"
}

skip() { printf 'SKIP %s: %s: %s\n' "$WGX_TEST" "$1" "${2:-skipped}"; }

# die REASON: a setup step failed; report it and end the test (the trap
# cleans up).
die() {
	fail setup "$*"
	exit 1
}

# skip_all REASON: the whole test cannot run here.
skip_all() {
	skip all "$*"
	exit 0
}

# check NAME CMD...: run CMD as one assertion. Its output is shown (as
# "# " lines) only when it fails; the last line becomes the reason.
# CMD runs in this shell (not a subshell), so what it registers for
# cleanup and the pids it records survive.
check() {
	local name=$1 out=$WGX_TMP/check.out rc reason
	shift
	"$@" >"$out" 2>&1 </dev/null
	rc=$?
	if [ "$rc" -eq 0 ]; then
		pass "$name"
		return 0
	fi
	reason=$(tail -n 1 "$out")
	sed 's/^/# /' "$out"
	fail "$name" "${reason:-exit status $rc}"
	return 1
}

# finish: the test's last line; its exit status says whether all passed.
finish() {
	[ "$WGX_NFAIL" -eq 0 ] || exit 1
	[ "$WGX_NPASS" -gt 0 ] || die "no assertion ran"
	exit 0
}

# require_tools TOOL...: skip the whole test when a tool is missing.
require_tools() {
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || skip_all "missing tool: $t"
	done
}

require_root_netns() {
	[ "$(id -u)" -eq 0 ] || skip_all "needs root"
	ip netns list >/dev/null 2>&1 || skip_all "ip netns unusable"
}

# ------------------------------------------------------ cleanup and registry

# on_exit CMD...: run CMD at exit; commands run in reverse order.
on_exit() {
	WGX_CLEANUP+=("$(printf '%q ' "$@")")
}

# register KIND NAME [EXTRA...]: tell the runner what we are about to
# create. Written BEFORE creating it, so a killed test leaves a trace.
register() {
	printf '%s\n' "$*" >>"$WGX_REGISTRY"
}

cleanup() {
	[ -n "$WGX_CLEANING" ] && return
	WGX_CLEANING=1
	trap '' INT TERM
	set +e
	[ "$WGX_NFAIL" -gt 0 ] && dump_logs
	local i
	for ((i = ${#WGX_CLEANUP[@]} - 1; i >= 0; i--)); do
		eval "${WGX_CLEANUP[i]}" || true
	done
	WGX_CLEANUP=()
	# A failure found while cleaning up (a detach that failed) must show
	# in the exit status too.
	[ "$WGX_NFAIL" -eq 0 ] || exit 1
}

# cleanup_mark / cleanup_to MARK: undo (in reverse) only what was
# registered after the mark, e.g. to tear a topology down mid-test:
#   m=$(cleanup_mark); netns_pair; ...; cleanup_to "$m"
cleanup_mark() { echo "${#WGX_CLEANUP[@]}"; }

cleanup_to() {
	local i
	for ((i = ${#WGX_CLEANUP[@]} - 1; i >= $1; i--)); do
		eval "${WGX_CLEANUP[i]}" || true
		unset "WGX_CLEANUP[i]"
	done
}

# dump_logs: show the tail of every daemon log to explain a failure.
dump_logs() {
	local f
	for f in "$WGX_TMP"/*.log; do
		[ -s "$f" ] || continue
		info "---- last lines of $(basename "$f")"
		tail -n 20 "$f" | sed 's/^/#   /'
	done
}

trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

WGX_TMP=$(mktemp -d "/tmp/$WGX_PREFIX-$WGX_ID.XXXXXX") ||
	{ echo "FAIL $WGX_TEST: setup: mktemp failed"; exit 1; }
on_exit rm -rf "$WGX_TMP"
WGX_REGISTRY=${WGX_RUN_DIR:+$WGX_RUN_DIR/registry}
WGX_REGISTRY=${WGX_REGISTRY:-$WGX_TMP/registry}
register id "$WGX_ID" "$WGX_TEST"
register tmp "$WGX_TMP"

# tmpfile NAME: path of a file in the test's private temp directory.
tmpfile() { printf '%s/%s\n' "$WGX_TMP" "$1"; }

# ------------------------------------------------------------------ names

# ns_name TAG: a namespace name unique to this test ("wgx-<pid>-TAG").
ns_name() { printf '%s-%s-%s\n' "$WGX_PREFIX" "$WGX_ID" "$1"; }

# if_name TAG: an interface name unique to this test ("wgx<pid>TAG"),
# at most IFNAMSIZ-1 = 15 characters.
if_name() {
	local n="$WGX_PREFIX$WGX_ID$1"
	if [ "${#n}" -gt 15 ]; then
		echo "if_name: '$n' is longer than 15 characters" >&2
		return 1
	fi
	printf '%s\n' "$n"
}

# ---------------------------------------------------------- time and procs

now_ms() {
	local t=${EPOCHREALTIME/./}
	echo $((10#$t / 1000))
}

# wait_until TIMEOUT_S CMD...: poll CMD (output hidden) every 0.1 s until it
# succeeds; fail with a message after TIMEOUT_S seconds.
wait_until() {
	local timeout=$1 deadline
	shift
	deadline=$(($(now_ms) + timeout * 1000))
	while :; do
		"$@" >/dev/null 2>&1 && return 0
		if [ "$(now_ms)" -ge "$deadline" ]; then
			echo "timed out after ${timeout}s waiting for: $*" >&2
			return 1
		fi
		sleep 0.1
	done
}

# proc_alive PID: some thread of the process exists and is not a zombie
# (or dead). All threads count: after SIGKILL the main thread turns
# zombie at once while others may still be exiting and holding the
# process's files, locks and sockets.
proc_alive() {
	local t st
	for t in "/proc/$1/task/"*/stat; do
		st=$(cat "$t" 2>/dev/null) || continue
		st=${st##*) }
		case ${st%% *} in
		Z | X) ;;
		*) return 0 ;;
		esac
	done
	return 1
}

# stop_pid PID [TIMEOUT_S]: SIGTERM, then SIGKILL after TIMEOUT_S (5);
# reaps it if it is our child.
stop_pid() {
	local pid=$1 t=${2:-5}
	if proc_alive "$pid"; then
		kill -TERM "$pid" 2>/dev/null
		if ! wait_until "$t" eval "! proc_alive $pid" 2>/dev/null; then
			echo "# pid $pid ignored SIGTERM for ${t}s, killing" >&2
			kill -KILL "$pid" 2>/dev/null
			wait_until 5 eval "! proc_alive $pid"
		fi
	fi
	wait "$pid" 2>/dev/null
	return 0
}

# spawn LOG CMD...: start CMD in the background (stdout+stderr to LOG);
# its pid is left in $SPAWNED and it is stopped at exit.
SPAWNED=
spawn() {
	local log=$1
	shift
	"$@" >"$log" 2>&1 </dev/null {WGX_OUT}>&- &
	SPAWNED=$!
	register pid "$SPAWNED" "$(proc_start "$SPAWNED")" "$1"
	on_exit stop_pid "$SPAWNED"
}

# proc_start PID: start time in ticks since boot; with the pid it names
# one process for good (pids are recycled).
proc_start() {
	local st
	st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	st=${st##*) }
	awk '{ print $20 }' <<<"$st"
}

# proc_cpu_ticks PID: utime + stime of every thread, in clock ticks.
proc_cpu_ticks() {
	local st
	st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	st=${st##*) }
	# after "comm) ": state is field 3, utime field 14, stime field 15
	awk '{ print $12 + $13 }' <<<"$st"
}

# proc_hwm_kb PID: peak resident set size (VmHWM) in kB.
proc_hwm_kb() {
	awk '/^VmHWM:/ { print $2 }' "/proc/$1/status" 2>/dev/null | grep .
}

# --------------------------------------------------------------- namespaces

# ns_create NAME: a namespace with lo up, deleted at exit.
ns_create() {
	register netns "$1"
	ip netns add "$1" || return 1
	on_exit ns_delete "$1"
	ip -n "$1" link set lo up
}

# ns_delete NAME: stop what still runs inside, then delete the namespace.
ns_delete() {
	local pid
	ip netns list 2>/dev/null | grep -q "^$1\( \|$\)" || return 0
	for pid in $(ip netns pids "$1" 2>/dev/null); do
		stop_pid "$pid" 2
	done
	ip netns del "$1"
}

nsx() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}

# veth_create NS_A IF_A NS_B IF_B [QUEUES]: a veth pair across two
# namespaces, up; with QUEUES RX and TX queues each side (default one).
veth_create() {
	local q=()
	[ -z "${5:-}" ] || q=(numtxqueues "$5" numrxqueues "$5")
	register if "$2"
	register if "$4"
	ip link add "$2" netns "$1" "${q[@]}" type veth peer name "$4" \
		netns "$3" "${q[@]}" &&
		ip -n "$1" link set "$2" up &&
		ip -n "$3" link set "$4" up
}

# addr_add NS IF ADDR/LEN...: IPv6 addresses get nodad so they work at once.
addr_add() {
	local ns=$1 dev=$2 a
	shift 2
	for a in "$@"; do
		case $a in
		*:*) ip -n "$ns" addr add "$a" dev "$dev" nodad || return 1 ;;
		*) ip -n "$ns" addr add "$a" dev "$dev" || return 1 ;;
		esac
	done
}

# netns_pair [UL4_A UL4_B UL6_A UL6_B]: two namespaces ($NS_A, $NS_B) joined
# by a veth ($VETH_A, $VETH_B) with the given addresses (no length;
# /$UL4_LEN and /$UL6_LEN are used). WGX_PAIR_QUEUES=N gives the veth N
# RX and TX queues each side (an AF_XDP socket per queue).
netns_pair() {
	UL4_A=${1:-$UL4_A} UL4_B=${2:-$UL4_B}
	UL6_A=${3:-$UL6_A} UL6_B=${4:-$UL6_B}
	NS_A=$(ns_name a) NS_B=$(ns_name b)
	VETH_A=$(if_name va) && VETH_B=$(if_name vb) || return 1
	ns_create "$NS_A" && ns_create "$NS_B" &&
		veth_create "$NS_A" "$VETH_A" "$NS_B" "$VETH_B" \
			"${WGX_PAIR_QUEUES:-}" &&
		addr_add "$NS_A" "$VETH_A" "$UL4_A/$UL4_LEN" "$UL6_A/$UL6_LEN" &&
		addr_add "$NS_B" "$VETH_B" "$UL4_B/$UL4_LEN" "$UL6_B/$UL6_LEN" &&
		wait_until 5 nsx "$NS_A" ping -c 1 -W 1 "$UL4_B"
}

# bridge_create NS BR: a namespace NS holding a Linux bridge BR, up: a
# shared segment (hub and spoke, several peers on one LAN).
bridge_create() {
	ns_create "$1" || return 1
	register if "$2"
	ip -n "$1" link add "$2" type bridge && ip -n "$1" link set "$2" up
}

# bridge_join NS IF BR_NS BR BR_IF ADDR/LEN...: NS joins the segment by a
# veth (IF in NS, BR_IF enslaved to BR in BR_NS) with the addresses.
bridge_join() {
	local ns=$1 dev=$2 brns=$3 br=$4 brif=$5
	shift 5
	veth_create "$ns" "$dev" "$brns" "$brif" &&
		ip -n "$brns" link set "$brif" master "$br" &&
		addr_add "$ns" "$dev" "$@"
}

# veth_csum_off NS IF: sockets sending over IF then compute full UDP/TCP
# checksums instead of leaving partial ones (checksum offload), so the XDP
# program on the peer veth sees frames with valid checksums.
veth_csum_off() {
	command -v ethtool >/dev/null || {
		echo "veth_csum_off: ethtool not installed" >&2
		return 1
	}
	ip netns exec "$1" ethtool -K "$2" tx off >/dev/null
}

# -------------------------------------------------------------------- keys

# keygen NAME: a private key in $WGX_TMP/NAME.key (0600) and its public key
# in $WGX_TMP/NAME.pub.
keygen() {
	local k=$WGX_TMP/$1
	(umask 077 && wg genkey >"$k.key") && wg pubkey <"$k.key" >"$k.pub"
}

keyfile() { printf '%s/%s.key\n' "$WGX_TMP" "$1"; }
pubkey() { cat "$WGX_TMP/$1.pub"; }

# ------------------------------------------------------------ wireguard-go

# start_wggo NS TUN: wireguard-go in the foreground of a background job;
# pid in ${WGX_PID[TUN]}; log in $WGX_TMP/wggo-TUN.log; stopped at exit.
# Set WGX_WGGO_LOG=debug for a verbose log.
start_wggo() {
	local ns=$1 tun=$2
	register if "$tun"
	spawn "$WGX_TMP/wggo-$tun.log" ip netns exec "$ns" env \
		WG_PROCESS_FOREGROUND=1 LOG_LEVEL="${WGX_WGGO_LOG:-error}" \
		wireguard-go "$tun"
	WGX_PID[$tun]=$SPAWNED
	on_exit stop_wggo "$tun"
	wait_until 5 test -S "/var/run/wireguard/$tun.sock" || return 1
	wait_until 5 ip -n "$ns" link show "$tun"
}

# stop_wggo TUN: stop it; wireguard-go removes its socket on SIGTERM, and
# we remove it (the name is ours) if it had to be killed.
stop_wggo() {
	local tun=$1 pid=${WGX_PID[$1]:-}
	[ -n "$pid" ] || return 0
	stop_pid "$pid"
	unset "WGX_PID[$tun]"
	wait_until 2 test ! -e "/var/run/wireguard/$tun.sock" ||
		rm -f "/var/run/wireguard/$tun.sock"
}

# wg_setup NS TUN KEYNAME PORT: private key and listen port.
wg_setup() {
	ip netns exec "$1" wg set "$2" private-key "$(keyfile "$3")" \
		listen-port "$4"
}

# wg_peer NS TUN PUBKEY ALLOWED_IPS [ENDPOINT [KEEPALIVE]]
wg_peer() {
	local args=(peer "$3" allowed-ips "$4")
	[ -n "${5:-}" ] && args+=(endpoint "$5")
	[ -n "${6:-}" ] && args+=(persistent-keepalive "$6")
	ip netns exec "$1" wg set "$2" "${args[@]}"
}

# tun_up NS TUN ADDR/LEN...: addresses (IPv6 nodad) and link up.
tun_up() {
	local ns=$1 tun=$2
	shift 2
	addr_add "$ns" "$tun" "$@" && ip -n "$ns" link set "$tun" up
}

# route_add NS TUN PREFIX: route a prefix into the tunnel.
route_add() { ip -n "$1" route add "$3" dev "$2"; }

# ------------------------------------------------------------------- wgxdp

# wgxdp_has_attach: the binary implements "attach" (so the wgxdp rows
# and tests can run).
wgxdp_has_attach() {
	local usage
	[ -n "$WGXDP" ] && [ -x "$WGXDP" ] || return 1
	# Not a pipe: under pipefail, the usage's exit status 1 would count.
	usage=$("$WGXDP" attach --help 2>&1 </dev/null)
	grep -q -- '--config' <<<"$usage"
}

# require_wgxdp: skip the whole test unless $WGXDP implements "attach".
require_wgxdp() {
	wgxdp_has_attach || skip_all "${WGXDP:-wgxdp} has no 'attach'"
}

# write_wgxdp_conf FILE KEYNAME PORT ADDRESSES [PEER_PUB ALLOWED [ENDPOINT
# [KEEPALIVE]]]: a wg-quick style file (0600). ADDRESSES is comma-separated.
write_wgxdp_conf() {
	local f=$1
	(
		umask 077
		printf '[Interface]\nPrivateKey = %s\nListenPort = %s\n' \
			"$(cat "$(keyfile "$2")")" "$3"
		printf 'Address = %s\n' "$4"
	) >"$f" || return 1
	[ -z "${5:-}" ] || wgxdp_conf_add_peer "$f" "$5" "$6" "${7:-}" "${8:-}"
}

# wgxdp_conf_add_peer FILE PUB ALLOWED [ENDPOINT [KEEPALIVE]]
wgxdp_conf_add_peer() {
	{
		printf '\n[Peer]\nPublicKey = %s\nAllowedIPs = %s\n' "$2" "$3"
		[ -z "${4:-}" ] || printf 'Endpoint = %s\n' "$4"
		[ -z "${5:-}" ] || printf 'PersistentKeepalive = %s\n' "$5"
	} >>"$1"
}

# start_wgxdp NS UNDERLAY_IF CONF TUN [EXTRA...]: "wgxdp attach" in NS
# (--mode $WGX_MODE, default auto, unless EXTRA has a --mode; the runner
# sets WGX_MODE from WGX_MODES; likewise --workers $WGX_WORKERS when the
# runner sets it from WGX_WORKER_COUNTS); returns once the daemon says the
# tunnel is up. Daemon pid (from /run/wgxdp/TUN.pid) in ${WGX_PID[TUN]}.
# Detached at exit.
#
# Where its bpffs pins go: under `ip netns exec` (the default) /sys is the
# namespace's own sysfs with no bpffs on it, so the daemon mounts a
# private one that only its process tree sees: inspect the pins with
# `nsenter -t PID -m bpftool ...`; they vanish with the daemon. With
# WGX_WGXDP_NSENTER=1 it runs under `nsenter --net=/run/netns/NS`,
# keeping this shell's mounts: the pins land in the host's bpffs at
# /sys/fs/bpf/wgxdp/UNDERLAY_IF and outlive a killed daemon.
start_wgxdp() {
	local ns=$1 ul=$2 conf=$3 tun=$4 log
	shift 4
	local extra=("$@") in_ns=(ip netns exec "$ns")
	[[ " ${extra[*]} " == *" --mode "* ]] ||
		extra+=(--mode "${WGX_MODE:-auto}")
	[ -z "${WGX_WORKERS:-}" ] || [[ " ${extra[*]} " == *" --workers "* ]] ||
		extra+=(--workers "$WGX_WORKERS")
	[ -n "${WGX_WGXDP_NSENTER:-}" ] && in_ns=(nsenter "--net=/run/netns/$ns")
	log="$WGX_TMP/wgxdp-$tun.log"
	register wgxdp "$ns" "$ul" "$tun"
	register if "$tun"
	on_exit stop_wgxdp "$ns" "$ul" "$tun"
	if ! timeout 30 "${in_ns[@]}" "$WGXDP" attach "$ul" \
		--config "$conf" --name "$tun" "${extra[@]}" \
		>>"$log" 2>&1 </dev/null {WGX_OUT}>&-; then
		tail -n 5 "$log" >&2
		return 1
	fi
	WGX_ATTACHED[$tun]=1
	WGX_PID[$tun]=$(head -n 1 "/run/wgxdp/$tun.pid" 2>/dev/null)
	ip -n "$ns" link show "$tun" >/dev/null
}

# xsk_counts NS TUN: TUN's AF_XDP sockets and its XDP data verdicts, as
# "SOCKETS REDIRECT_XSK PASS_DATA PASS_LARGE".
xsk_counts() {
	wgxdp_show "$1" "$2" | jq -r '"\(.xsks | length)
		\(.counters.redirect_xsk // 0) \(.counters.pass_data // 0)
		\(.counters.pass_large // 0)"' | tr '\n' ' '
	echo
}

# xsk_share_check NS TUN: where TUN's workers have AF_XDP sockets, the share of
# the data packets XDP found a session for that went to them
# (redirect_xsk against pass_data) is at least WGX_XSK_SHARE percent (95;
# a test that sends data around the sockets on purpose sets it lower).
# GSO super-packets seen by generic XDP (pass_large) are not counted: no
# AF_XDP frame holds one, they go to the UDP socket by design. Fewer than
# 100 data packets decide nothing.
xsk_share_check() {
	local n rx pd pl min=${WGX_XSK_SHARE:-95}
	read -r n rx pd pl < <(xsk_counts "$1" "$2") || return 0
	[ "${n:-0}" -gt 0 ] || return 0
	[ $((rx + pd)) -ge 100 ] || return 0
	if [ $((rx * 100)) -ge $((min * (rx + pd))) ]; then
		pass "$2: AF_XDP took $rx of $((rx + pd)) data packets (min $min%; $pl GSO super-packets to the socket)"
	else
		fail "$2: AF_XDP share" "$rx of $((rx + pd)) data packets, under $min% ($pl GSO super-packets to the socket)"
	fi
}

# stop_wgxdp NS UNDERLAY_IF TUN: "wgxdp detach"; after a successful attach,
# a failed detach or a daemon that outlives it is a test failure. A daemon
# still running is then killed by its pid. Before it, xsk_share_check.
stop_wgxdp() {
	local ns=$1 ul=$2 tun=$3 pid ok=1
	local attached=${WGX_ATTACHED[$tun]:-}
	pid=$(head -n 1 "/run/wgxdp/$tun.pid" 2>/dev/null)
	pid=${pid:-${WGX_PID[$tun]:-}}
	[ -z "$attached" ] || xsk_share_check "$ns" "$tun"
	timeout 15 ip netns exec "$ns" "$WGXDP" detach "$ul" \
		>>"$WGX_TMP/wgxdp-$tun.log" 2>&1 </dev/null {WGX_OUT}>&- || ok=
	[ -n "$attached" ] && [ -z "$ok" ] &&
		fail cleanup "wgxdp detach $ul failed"
	if [ -n "$pid" ] && ! wait_until 5 eval "! proc_alive $pid" 2>/dev/null; then
		[ -n "$attached" ] &&
			fail cleanup "wgxdp $tun still running after detach"
		stop_pid "$pid"
	fi
	unset "WGX_PID[$tun]" "WGX_ATTACHED[$tun]"
	return 0
}

# wgxdp_gone NS TUN: nothing of a wgxdp instance TUN is left: no TUN
# interface in NS, no /run/wgxdp/TUN.pid or .sock, no process started
# with "--name TUN". Says what is left.
wgxdp_gone() {
	local p left=0
	if ip -n "$1" link show "$2" >/dev/null 2>&1; then
		echo "TUN $2 still exists"
		left=1
	fi
	for p in "/run/wgxdp/$2.pid" "/run/wgxdp/$2.sock"; do
		[ -e "$p" ] && { echo "$p still exists"; left=1; }
	done
	for p in /proc/[0-9]*; do
		tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -q -- "--name $2 " &&
			{ echo "process ${p#/proc/} still runs"; left=1; }
	done
	return "$left"
}

# wgxdp_show NS [TUN]: "wgxdp show [TUN] --json" run in NS.
wgxdp_show() {
	timeout 10 ip netns exec "$1" "$WGXDP" show ${2:+"$2"} --json \
		</dev/null {WGX_OUT}>&-
}

# wgxdp_counter NS TUN NAME: one of TUN's XDP counters ("0" when absent).
# Accepts one object, several, or an array of them.
wgxdp_counter() {
	wgxdp_show "$1" "$2" | jq -s -r --arg t "$2" --arg n "$3" \
		'[.[] | if type == "array" then .[] else . end |
		  select(.interface == $t)][0].counters[$n] // 0'
}

# wgxdp_peer NS TUN FIELD: FIELD of TUN's first peer (e.g.
# latest_handshake, rx_bytes, endpoint).
wgxdp_peer() {
	wgxdp_show "$1" "$2" | jq -s -r --arg t "$2" --arg f "$3" \
		'[.[] | if type == "array" then .[] else . end |
		  select(.interface == $t)][0].peers[0][$f]'
}

# ----------------------------------------------------------------- tunnels

# tunnel_pair KIND_A KIND_B [4|6]: over netns_pair, a tunnel between
# $TUN_A and $TUN_B; KIND is wggo or wgxdp; the endpoints use the IPv4
# (default) or IPv6 underlay. Inner addresses $IN4_x/$IN6_x. Set
# WGX_WGXDP_ARGS for extra "attach" arguments (e.g. --mode native).
tunnel_pair() {
	local ka=$1 kb=$2 fam=${3:-4} ea eb
	TUN_A=$(if_name ta) && TUN_B=$(if_name tb) || return 1
	keygen a && keygen b || return 1
	if [ "$fam" = 6 ]; then
		ea="[$UL6_A]:$PORT_A" eb="[$UL6_B]:$PORT_B"
	else
		ea="$UL4_A:$PORT_A" eb="$UL4_B:$PORT_B"
	fi
	tunnel_side "$ka" "$NS_A" "$VETH_A" "$TUN_A" a "$PORT_A" \
		"$IN4_A/$IN4_LEN" "$IN6_A/$IN6_LEN" "$(pubkey b)" \
		"$IN4_B/32,$IN6_B/128" "$eb" || return 1
	tunnel_side "$kb" "$NS_B" "$VETH_B" "$TUN_B" b "$PORT_B" \
		"$IN4_B/$IN4_LEN" "$IN6_B/$IN6_LEN" "$(pubkey a)" \
		"$IN4_A/32,$IN6_A/128" "$ea"
}

# tunnel_side KIND NS UL TUN KEY PORT IN4 IN6 PEER_PUB ALLOWED ENDPOINT
tunnel_side() {
	local kind=$1 ns=$2 ul=$3 tun=$4 key=$5 port=$6 in4=$7 in6=$8
	local ppub=$9 allowed=${10} ep=${11} conf
	case $kind in
	wggo)
		start_wggo "$ns" "$tun" &&
			wg_setup "$ns" "$tun" "$key" "$port" &&
			wg_peer "$ns" "$tun" "$ppub" "$allowed" "$ep" &&
			tun_up "$ns" "$tun" "$in4" "$in6"
		;;
	wgxdp)
		conf=$WGX_TMP/$tun.conf
		# wgxdp applies Address itself, as wg-quick does.
		write_wgxdp_conf "$conf" "$key" "$port" "$in4, $in6" \
			"$ppub" "$allowed" "$ep" || return 1
		# shellcheck disable=SC2086 # WGX_WGXDP_ARGS is a word list
		start_wgxdp "$ns" "$ul" "$conf" "$tun" ${WGX_WGXDP_ARGS:-}
		;;
	*)
		echo "tunnel_side: unknown kind '$kind'" >&2
		return 1
		;;
	esac
}

# latest_handshake NS TUN: newest handshake time (unix s) of any peer,
# through the UAPI socket (wireguard-go and wgxdp both serve it).
latest_handshake() {
	# wgxdp has no UAPI socket yet: ask its own show for its tunnels.
	if [ -S "/run/wgxdp/$2.sock" ]; then
		ip netns exec "$1" "$WGXDP" show "$2" --json |
			jq '[.peers[].latest_handshake] | max // 0'
		return
	fi
	ip netns exec "$1" wg show "$2" latest-handshakes |
		awk 'BEGIN { t = 0 } $2 > t { t = $2 } END { print t }'
}

has_handshake() { [ "$(latest_handshake "$1" "$2")" -gt 0 ]; }

# wait_handshake NS TUN PEER_ADDR [TIMEOUT_S]: poke the tunnel with one
# ping towards PEER_ADDR, then wait for a completed handshake.
wait_handshake() {
	ip netns exec "$1" ping -c 1 -W 1 "$3" >/dev/null 2>&1
	wait_until "${4:-10}" has_handshake "$1" "$2"
}

# ------------------------------------------------------------------ traffic

# ping_ok NS DST [COUNT]: COUNT (3) echo replies, 0.2 s apart, all within
# COUNT/5 + 5 s.
ping_ok() {
	local n=${3:-3}
	ip netns exec "$1" ping -n -q -c "$n" -i 0.2 -W 1 -w $((n / 5 + 5)) "$2"
}

# ping_rtt_ms NS DST COUNT INTERVAL_S: average RTT in ms ("" on failure).
ping_rtt_ms() {
	ip netns exec "$1" ping -n -q -c "$3" -i "$4" -W 1 \
		-w $(($3 * 2 / 10 + 10)) "$2" |
		awk -F/ '/^rtt|^round-trip/ { print $5 }'
}

# wait_listen NS PORT [tcp|udp]: something listens on PORT in NS.
wait_listen() {
	local opt=-Hltn
	[ "${3:-tcp}" = udp ] && opt=-Hlun
	wait_until 5 eval "ip netns exec $1 ss $opt 'sport = :$2' | grep -q ."
}

# sock_addr ADDR PORT: socat's address for an IPv4 or IPv6 peer.
sock_addr() {
	case $1 in
	*:*) printf 'TCP6:[%s]:%s\n' "$1" "$2" ;;
	*) printf 'TCP4:%s:%s\n' "$1" "$2" ;;
	esac
}

# tcp_transfer NS_SRV ADDR NS_CLI MB [PORT]: send MB MiB of random bytes
# from NS_CLI to ADDR:PORT (5001) in NS_SRV with socat, and compare
# SHA-256 digests of what was sent and what arrived.
tcp_transfer() {
	local nss=$1 addr=$2 nsc=$3 mb=$4 port=${5:-5001}
	local src got lst srvpid sent recv
	src=$WGX_TMP/xfer.sent got=$WGX_TMP/xfer.got lst=TCP4-LISTEN
	[[ $addr == *:* ]] && lst=TCP6-LISTEN
	head -c "$((mb * 1024 * 1024))" /dev/urandom >"$src" || return 1
	sent=$(sha256sum <"$src") sent=${sent%% *}
	spawn "$WGX_TMP/xfer-server.log" timeout 60 ip netns exec "$nss" \
		socat -u "$lst:$port,reuseaddr" "CREATE:$got"
	srvpid=$SPAWNED
	wait_listen "$nss" "$port" || return 1
	timeout 60 ip netns exec "$nsc" socat -u "OPEN:$src,rdonly" \
		"$(sock_addr "$addr" "$port"),connect-timeout=5" || {
		echo "tcp_transfer: client failed" >&2
		return 1
	}
	wait_until 30 eval "! proc_alive $srvpid" || return 1
	recv=$(sha256sum <"$got") recv=${recv%% *}
	rm -f "$src" "$got"
	if [ "$sent" != "$recv" ]; then
		echo "tcp_transfer: digest mismatch: sent $sent, received $recv" >&2
		return 1
	fi
}

# iperf_run NS_SRV NS_CLI DST OUT SECONDS [iperf3 client args...]: one
# iperf3 test, JSON of the client (with the server's output inside) in OUT.
iperf_run() {
	local nss=$1 nsc=$2 dst=$3 out=$4 secs=$5 port=5201
	shift 5
	spawn "$out.server" timeout $((secs + 30)) \
		ip netns exec "$nss" iperf3 -s -1 -J -p "$port"
	wait_listen "$nss" "$port" || return 1
	timeout $((secs + 20)) ip netns exec "$nsc" iperf3 -c "$dst" \
		-p "$port" -t "$secs" -J --get-server-output \
		--connect-timeout 5000 "$@" >"$out" 2>"$out.err"
	local rc=$?
	stop_pid "$SPAWNED" 5
	[ "$rc" -eq 0 ] || {
		cat "$out.err" >&2
		echo "iperf3 failed: $(jq -r '.error // empty' "$out" 2>/dev/null)" >&2
		return 1
	}
}

# iperf_tcp_bps OUT: receiver-side TCP throughput in bit/s.
# iperf_every_interval_moved OUT MIN: in iperf3's JSON output OUT, the
# receiver (the server) got bytes in every full 1 s interval, and there
# were at least MIN of them: the stream never stalled.
iperf_every_interval_moved() {
	local n
	# The server's 1 s intervals; a last one of a fraction of a second
	# (the stream's tail) may rightly be empty and does not count. When a
	# loaded machine's iperf3 brings no server report, the sender's (a
	# stalled tunnel stalls TCP's sender too).
	local ivs='def ivs: [(.server_output_json.intervals // .intervals)[].sum |
		select(.seconds >= 0.5)];'
	jq -r "$ivs"' ivs[] | "interval \(.start) \(.bytes)"' "$1"
	n=$(jq "$ivs"' ivs | length' "$1")
	[ "${n:-0}" -ge "$2" ] || {
		echo "only ${n:-0} full intervals"
		return 1
	}
	info "smallest 1 s interval: $(jq -r "$ivs"' ivs | min_by(.bytes) |
		"\(.bytes) bytes at \(.start | floor) s"' "$1")"
	jq -e "$ivs"' ivs | all(.bytes > 0)' "$1" >/dev/null || {
		echo "an interval received nothing: the stream stalled"
		return 1
	}
}

iperf_tcp_bps() { jq -e '.end.sum_received.bits_per_second' "$1"; }

# iperf_tcp_bytes OUT: bytes the receiver got.
iperf_tcp_bytes() { jq -e '.end.sum_received.bytes' "$1"; }

# iperf_udp_stats OUT: receiver side of a UDP test: "bit/s pkt/s loss%"
# (bit/s of payload; "packets" counts lost ones too).
iperf_udp_stats() {
	jq -er '(.end.sum_received // .server_output_json.end.sum) as $s |
		($s.packets - $s.lost_packets) as $got |
		"\($s.bytes * 8 / $s.seconds) \($got / $s.seconds) \($s.lost_percent)"' "$1"
}
