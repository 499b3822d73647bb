#!/usr/bin/env bash
# timeout: 120
# workers: default
# The tunnel commands used wrongly: each mistake is a short error on
# stderr naming the problem (plus at most a "Usage:" hint, or one line per
# config error), nothing on stdout, a non-zero status, and no TUN, runtime
# file or daemon left behind. A live instance refuses a second attach and
# keeps working. Two instances in two namespaces, on interfaces with the
# same name, do not see or stop each other. Runs in 10 to 30 s.
#
#   netns wgx-<pid>-a                          netns wgx-<pid>-b
#   wgxdp wgx<pid>ta                           wireguard-go wgx<pid>tb
#     10.201.0.1/24 fd00:201::1/64  <=======>    10.201.0.2/24 fd00:201::2/64
#   veth wgx<pid>va                            veth wgx<pid>vb
#     10.101.0.1/24 fd00:101::1/64  ---------    10.101.0.2/24 fd00:101::2/64
#   veth wgx<pid>v2 (spare underlay) -- wgx<pid>w2 (in b)
#
#   netns wgx-<pid>-x                          netns wgx-<pid>-y
#   wgxdp wgx<pid>tx                           wgxdp wgx<pid>ty
#     10.204.0.1/24                 <=======>    10.204.0.2/24
#   veth wgx<pid>e  10.104.0.1/24   ---------  veth wgx<pid>e  10.104.0.2/24
#   (the same interface name on both sides)
# shellcheck source=tests/netns/lib.sh
. "$(dirname "$0")/lib.sh"

require_root_netns
require_tools wireguard-go wg jq ping
require_wgxdp

netns_pair || die "namespace pair with veth"
{ TUN_A=$(if_name ta) && TUN_B=$(if_name tb); } || die "names"
{ keygen a && keygen b; } || die "keys"
CONF_A=$(tmpfile "$TUN_A.conf")
write_wgxdp_conf "$CONF_A" a "$PORT_A" "$IN4_A/$IN4_LEN" "$(pubkey b)" \
	"$IN4_B/32" "$UL4_B:$PORT_B" || die "config"
tunnel_side wggo "$NS_B" "$VETH_B" "$TUN_B" b "$PORT_B" "$IN4_B/$IN4_LEN" \
	"$IN6_B/$IN6_LEN" "$(pubkey a)" "$IN4_A/32" "$UL4_A:$PORT_A" ||
	die "wireguard-go in B"
register wgxdp "$NS_A" "$VETH_A" "$TUN_A"
register if "$TUN_A"

OUT=$(tmpfile cli.out) ERR=$(tmpfile cli.err)

# wgx NS ARGS...: wgxdp ARGS in NS; stdout in $OUT, stderr in $ERR.
wgx() {
	local ns=$1
	shift
	timeout 30 ip netns exec "$ns" "$WGXDP" "$@" >"$OUT" 2>"$ERR" \
		</dev/null
}

# refused MAX PATTERN ARGS...: `wgxdp ARGS` in A fails, prints nothing on
# stdout and on stderr an error matching PATTERN (grep -E) in at most MAX
# lines besides a usage hint ("Usage:" and its indented lines, or "Run
# 'wgxdp help'"); afterwards nothing of $TUN_A exists.
refused() {
	local max=$1 pat=$2 rc=0 n
	shift 2
	wgx "$NS_A" "$@" || rc=$?
	sed 's/^/stderr: /' "$ERR"
	[ "$rc" -ne 0 ] || { echo "wgxdp $* exited 0"; return 1; }
	[ ! -s "$OUT" ] || { echo "wgxdp $* wrote to stdout"; return 1; }
	grep -Eq -- "$pat" "$ERR" ||
		{ echo "stderr does not match /$pat/"; return 1; }
	# Reclaiming what killed instances of other tests left is said too.
	n=$(grep -Ev "^(Usage: |Run 'wgxdp help'|[[:space:]])" "$ERR" |
		grep -Evc "^Warning: Removing stale instance ")
	{ [ "$n" -ge 1 ] && [ "$n" -le "$max" ]; } ||
		{ echo "$n error lines (expected 1 to $max)"; return 1; }
	wgxdp_gone "$NS_A" "$TUN_A"
}

ATT=(attach "$VETH_A" --name "$TUN_A")

# succeeds NS PATTERN ARGS...: `wgxdp ARGS` in NS exits 0 and its stdout
# matches PATTERN (grep -E).
succeeds() {
	local ns=$1 pat=$2
	shift 2
	wgx "$ns" "$@" || { cat "$ERR"; echo "wgxdp $* failed"; return 1; }
	grep -Eq -- "$pat" "$OUT" ||
		{ cat "$OUT"; echo "stdout does not match /$pat/"; return 1; }
}

# fails NS PATTERN ARGS...: `wgxdp ARGS` in NS exits non-zero and its
# stderr matches PATTERN.
fails() {
	local ns=$1 pat=$2
	shift 2
	! wgx "$ns" "$@" || { echo "wgxdp $* exited 0"; return 1; }
	grep -Eq -- "$pat" "$ERR" ||
		{ cat "$ERR"; echo "stderr does not match /$pat/"; return 1; }
}

# lists_only NS TUN...: show --json in NS lists exactly these TUNs.
lists_only() {
	local ns=$1 want
	shift
	want=[]
	[ $# -eq 0 ] || want=$(printf '%s\n' "$@" | jq -R . | jq -sc .)
	wgx "$ns" show --json || return 1
	[ "$(jq -c '[.[].interface]' "$OUT")" = "$want" ] ||
		{ cat "$OUT"; echo "show --json does not list exactly $want"; return 1; }
}

# show_silent: show in A exits 0 and prints nothing at all.
show_silent() {
	wgx "$NS_A" show || return 1
	[ ! -s "$OUT" ] && [ ! -s "$ERR" ]
}

# ---- no instance yet

check "show with no instance: exit 0, prints nothing" show_silent
check "show --json with no instance: []" lists_only "$NS_A"
check "attach --help: usage on stdout, exit 0" \
	succeeds "$NS_A" "^Usage: wgxdp attach" attach --help
check "attach without --config" refused 1 "--config FILE is required" \
	"${ATT[@]}"
check "config file missing" refused 1 \
	"can't read config .*absent\.conf: No such file" \
	"${ATT[@]}" --config "$WGX_TMP/absent.conf"
check "config under a directory that does not exist" refused 1 \
	"can't read config .*/nodir/x\.conf: No such file" \
	"${ATT[@]}" --config "$WGX_TMP/nodir/x.conf"
mkdir "$WGX_TMP/confdir" || die "mkdir"
check "config is a directory" refused 2 "confdir: .*[Dd]irectory" \
	"${ATT[@]}" --config "$WGX_TMP/confdir"
BIN=$(tmpfile binary.conf)
(umask 077 && printf 'PrivateKey\0\377\376\n' >"$BIN") || die "binary file"
check "config is not text" refused 3 "binary\.conf:1: .*NUL" \
	"${ATT[@]}" --config "$BIN"
BAD=$(tmpfile bad.conf)
(umask 077 && { cat "$CONF_A"; echo "Bogus = 1"; } >"$BAD") || die "bad config"
BAD_LINE=$(wc -l <"$BAD")
check "broken config: file:line of the bad key" refused 2 \
	"bad\.conf:$BAD_LINE: unknown key 'Bogus'" "${ATT[@]}" --config "$BAD"
check "interface name too long" refused 1 \
	"bad interface name 'abcdefghijklmnop': .*longer than 15" \
	attach abcdefghijklmnop --config "$CONF_A" --name "$TUN_A"
check "interface name with '/'" refused 1 \
	"bad interface name 'a/b': .*'/'" \
	attach a/b --config "$CONF_A" --name "$TUN_A"
check "tunnel name too long" refused 1 \
	"bad tunnel name '${TUN_A}xyzabcdefghij': .*longer than 15" \
	attach "$VETH_A" --config "$CONF_A" --name "${TUN_A}xyzabcdefghij"
check "tunnel name with '/'" refused 1 "bad tunnel name 'x/y': .*'/'" \
	attach "$VETH_A" --config "$CONF_A" --name x/y
check "interface that does not exist" refused 1 \
	"interface 'wgxnosuch0' does not exist" \
	attach wgxnosuch0 --config "$CONF_A" --name "$TUN_A"
check "unknown mode" refused 1 "unknown mode 'turbo'" \
	"${ATT[@]}" --config "$CONF_A" --mode turbo
# no_xdp_left: the failed native attach left no XDP program on lo.
no_xdp_left() {
	! ip -n "$NS_A" -d link show lo | grep -w xdp
}
check "--mode native where the driver has none (lo): refused, says why" \
	refused 1 "lo in native mode: .*no native XDP" \
	attach lo --config "$CONF_A" --name "$TUN_A" --mode native
check "no XDP program left on lo" no_xdp_left
check "the same attach again: the same reason, not 'already running'" \
	refused 1 "lo in native mode: .*no native XDP" \
	attach lo --config "$CONF_A" --name "$TUN_A" --mode native
check "attach: unknown option" refused 1 "bad option '--frobnicate'" \
	"${ATT[@]}" --config "$CONF_A" --frobnicate
check "attach: extra argument" refused 1 "unexpected argument 'extra'" \
	"${ATT[@]}" extra --config "$CONF_A"
check "detach with nothing attached" refused 1 \
	"nothing is attached to $VETH_A" detach "$VETH_A"
check "reload with nothing attached" refused 1 \
	"nothing is attached to $VETH_A" reload "$VETH_A"
check "show of an unknown TUN" refused 1 \
	"no wgxdp instance named wgxnosuch0" show wgxnosuch0
check "detach without IFACE" refused 1 "detach: missing IFACE" detach
check "detach: extra argument" refused 1 "unexpected argument 'extra'" \
	detach "$VETH_A" extra
check "reload without IFACE" refused 1 "reload: missing IFACE" reload
check "show: unknown option" refused 1 "unknown option '--yaml'" \
	show --yaml
check "show: extra argument" refused 1 "unexpected argument 'two'" \
	show one two
check "unknown command" refused 1 "unknown command 'attch'" attch "$VETH_A"

# ---- one live instance

check "attach" start_wgxdp "$NS_A" "$VETH_A" "$CONF_A" "$TUN_A"
PID_A=${WGX_PID[$TUN_A]:-}
works() { wait_handshake "$NS_A" "$TUN_A" "$IN4_B" 10 && ping_ok "$NS_A" "$IN4_B"; }
check "tunnel works" works

# twice MAX PATTERN ARGS...: like refused, but the live instance must
# be untouched: same daemon, still passing traffic.
twice() {
	local max=$1 pat=$2 rc=0
	shift 2
	wgx "$NS_A" "$@" || rc=$?
	sed 's/^/stderr: /' "$ERR"
	[ "$rc" -ne 0 ] || { echo "wgxdp $* exited 0"; return 1; }
	grep -Eq -- "$pat" "$ERR" ||
		{ echo "stderr does not match /$pat/"; return 1; }
	[ "$(grep -Evc '^(Usage: |[[:space:]])' "$ERR")" -le "$max" ] ||
		{ echo "more than $max error lines"; return 1; }
	a_untouched
}

# a_untouched: A's daemon is the first one and still passes traffic.
a_untouched() {
	{ [ "$(head -n 1 "/run/wgxdp/$TUN_A.pid")" = "$PID_A" ] &&
		proc_alive "$PID_A"; } ||
		{ echo "the first instance's daemon changed or died"; return 1; }
	ping_ok "$NS_A" "$IN4_B"
}

{ V2=$(if_name v2) && W2=$(if_name w2); } || die "names"
veth_create "$NS_A" "$V2" "$NS_B" "$W2" || die "spare veth"
TUN_2=$(if_name t2) || die "names"
register wgxdp "$NS_A" "$VETH_A" "$TUN_2"
register if "$TUN_2"

check "attach the same again: refused, first keeps working" twice 1 \
	"$TUN_A: instance already running" \
	attach "$VETH_A" --config "$CONF_A" --name "$TUN_A"
check "another TUN on the same interface: refused, first keeps working" \
	twice 1 "$VETH_A already carries instance $TUN_A" \
	attach "$VETH_A" --config "$CONF_A" --name "$TUN_2"
check "no trace of the refused second TUN" wgxdp_gone "$NS_A" "$TUN_2"
check "the same TUN on another interface: refused, first keeps working" \
	twice 1 "$TUN_A: instance already running" \
	attach "$V2" --config "$CONF_A" --name "$TUN_A"
check "show lists the one instance" lists_only "$NS_A" "$TUN_A"
check "show TUN (text) names it" \
	succeeds "$NS_A" "interface: $TUN_A" show "$TUN_A"

# ---- two namespaces, the same interface name, different TUNs

NS_X=$(ns_name x) NS_Y=$(ns_name y)
{ E=$(if_name e) && TUN_X=$(if_name tx) && TUN_Y=$(if_name ty); } ||
	die "names"
{ ns_create "$NS_X" && ns_create "$NS_Y"; } || die "namespaces x, y"
veth_create "$NS_X" "$E" "$NS_Y" "$E" || die "veth $E <-> $E"
{ addr_add "$NS_X" "$E" 10.104.0.1/24 &&
	addr_add "$NS_Y" "$E" 10.104.0.2/24; } || die "addresses"
{ keygen x && keygen y; } || die "keys"
CONF_X=$(tmpfile x.conf) CONF_Y=$(tmpfile y.conf)
{ write_wgxdp_conf "$CONF_X" x 51830 10.204.0.1/24 "$(pubkey y)" \
	10.204.0.2/32 10.104.0.2:51831 &&
	write_wgxdp_conf "$CONF_Y" y 51831 10.204.0.2/24 \
		"$(pubkey x)" 10.204.0.1/32 10.104.0.1:51830; } || die "configs"
check "attach on $E in x" start_wgxdp "$NS_X" "$E" "$CONF_X" "$TUN_X"
check "attach on $E in y" start_wgxdp "$NS_Y" "$E" "$CONF_Y" "$TUN_Y"
xy_works() {
	wait_handshake "$NS_X" "$TUN_X" 10.204.0.2 10 &&
		ping_ok "$NS_Y" 10.204.0.1
}
check "x <-> y tunnel works" xy_works
check "show in x lists only $TUN_X" lists_only "$NS_X" "$TUN_X"
check "show in y lists only $TUN_Y" lists_only "$NS_Y" "$TUN_Y"
check "show in a lists only $TUN_A" lists_only "$NS_A" "$TUN_A"
check "show in x of y's TUN: not found" \
	fails "$NS_X" "no wgxdp instance named $TUN_Y" show "$TUN_Y"
register wgxdp "$NS_X" "$E" "$TUN_Y"
check "y's TUN name again in x: refused, names the other namespace" \
	fails "$NS_X" "already running.*in another network namespace" \
	attach "$E" --config "$CONF_X" --name "$TUN_Y"
check "y still lists only its own after that" lists_only "$NS_Y" "$TUN_Y"

PID_Y=${WGX_PID[$TUN_Y]:-}
check "detach $E in x" succeeds "$NS_X" "detached $TUN_X" detach "$E"
unset "WGX_ATTACHED[$TUN_X]"
check "x's instance is gone" wgxdp_gone "$NS_X" "$TUN_X"
y_runs() {
	proc_alive "$PID_Y" || { echo "y's daemon $PID_Y is gone"; return 1; }
	ip -n "$NS_Y" link show "$TUN_Y" && lists_only "$NS_Y" "$TUN_Y"
}
check "y's instance still runs" y_runs
check "reload $E in y still reaches y's instance" wgx "$NS_Y" reload "$E"
check "x has nothing left to detach" \
	fails "$NS_X" "nothing is attached" detach "$E"
check "a's instance untouched by all this" a_untouched

finish
