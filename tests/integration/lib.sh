# shellcheck shell=bash disable=SC2034
#
# lib.sh: the integration-test harness, sourced by every t_*.sh case file.
#
# It starts real daemons on 127.0.0.1 (1 metaserver, 3 chunk servers cs1..cs3
# in zones z1..z3, chunk size 1 MiB, goal 2) in a private temp dir on free
# ports, runs the client tools with a timeout, reports each case as
# "PASS name" or "FAIL name: reason", and always cleans up: every process it
# started is killed and reaped, the temp dir is removed, and when anything
# failed the daemon logs are first copied to
# $RFS_BUILDDIR/tests/integration/logs/<case>/ and their tails printed.
#
# Usage in a case file:
#   . "$(dirname "$0")/lib.sh"
#   rfs_setup                    # temp dir, traps; exits 77 if no binaries
#   rfs_cluster_start || rfs_abort "cluster did not start"
#   case_foo() { ...; [ "$a" = "$b" ] || { fail "a != b"; return; }; }
#   rfs_case foo case_foo
#   rfs_finish
#
# Nothing here sleeps for a fixed long time: every wait polls with a bounded
# timeout, every client command runs under timeout(1).

set -u

RFS_TESTDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${RFS_BUILDDIR:=$(cd "$RFS_TESTDIR/../.." && pwd)}"
RFS_META_BIN=$RFS_BUILDDIR/metaserver/ringfs-meta
RFS_CHUNK_BIN=$RFS_BUILDDIR/chunkserver/ringfs-chunk
RFS_CLI_BIN=$RFS_BUILDDIR/tools/ringfs
RFS_ADMIN_BIN=$RFS_BUILDDIR/tools/ringfs-admin
RFS_LOGROOT=$RFS_BUILDDIR/tests/integration/logs

RFS_CHUNK_SIZE=$((1024 * 1024))
RFS_GOAL=2
RFS_NSERVERS=3
RFS_RING_VNODES=2048 # per unit of weight, as RFS_RING_VNODES_PER_WEIGHT
RFS_CMD_TIMEOUT=${RFS_CMD_TIMEOUT:-120} # seconds, any client command
RFS_READY_TIMEOUT=${RFS_READY_TIMEOUT:-30} # seconds, daemon readiness
RFS_CURL_TIMEOUT=30
# Extra daemon options (word-split).
RFS_META_OPTS=${RFS_META_OPTS:-}
RFS_CHUNK_OPTS=${RFS_CHUNK_OPTS:-}

RFS_TMP=
RFS_FILE_NAME=$(basename "$0" .sh)
RFS_ANY_FAILED=0
RFS_REASON=
RFS_RC=0
RFS_USED_PORTS=" "
RFS_EXTRA_PIDS=
RFS_MARKS=
RFS_STOP_STATUS=0
# What a sanitizer or a crash prints (daemon logs, client stderr).
RFS_SANITIZER_RE='AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:|Assertion .* failed'
declare -A RFS_PID=()  # daemon name -> pid
declare -A RFS_PORT=() # daemon name -> HTTP port (meta, cs1..)
declare -A RFS_LOGSTART=() # daemon name -> log line count at last start
RFS_RAFT_PORT=0

# --- small helpers ------------------------------------------------------

# rfs_log MSG: progress line on stderr (kept out of the PASS/FAIL stream).
rfs_log() {
	echo "[$RFS_FILE_NAME +${SECONDS}s] $*" >&2
}

# sha FILE: its SHA-256 in hex.
sha() {
	sha256sum "$1" | cut -d' ' -f1
}

# fsize FILE: its size in bytes.
fsize() {
	stat -c %s "$1"
}

# rand_file PATH BYTES: a file of BYTES random bytes.
rand_file() {
	head -c "$2" /dev/urandom >"$1"
}

# fail REASON...: record why the current case failed; returns 1 so that
# `check || { fail "why"; return; }` ends the case.
fail() {
	if [ -n "$RFS_REASON" ]; then
		RFS_REASON="$RFS_REASON; $*"
	else
		RFS_REASON="$*"
	fi
	return 1
}

# rfs_err_tail: the last lines of the last command's stderr, on one line.
rfs_err_tail() {
	tail -n 3 "$RFS_TMP/cmd.err" 2>/dev/null | tr '\n' ' ' | cut -c1-300
}

# rfs_run CMD...: run CMD under timeout with stdout in $RFS_TMP/cmd.out and
# stderr in $RFS_TMP/cmd.err; sets and returns RFS_RC. Each command and its
# result is appended to logs/commands.log. RFS_OUT/RFS_ERR override the
# capture files (used by background loops).
rfs_run() {
	local out=${RFS_OUT:-$RFS_TMP/cmd.out} err=${RFS_ERR:-$RFS_TMP/cmd.err}
	timeout -k 5 "$RFS_CMD_TIMEOUT" "$@" >"$out" 2>"$err" </dev/null
	RFS_RC=$?
	{
		echo "$(date +%T.%N | cut -c1-12) + $* -> rc=$RFS_RC"
		tail -n 5 "$err" | sed 's/^/    stderr: /'
	} >>"$RFS_TMP/logs/commands.log" 2>/dev/null
	if grep -qE "$RFS_SANITIZER_RE" "$err" 2>/dev/null; then
		{
			echo "=== + $* -> rc=$RFS_RC"
			cat "$err"
		} >>"$RFS_TMP/logs/sanitizer.log"
	fi
	return $RFS_RC
}

# rfs_cli ARGS...: the ringfs CLI against the test metaserver.
rfs_cli() {
	rfs_run "$RFS_CLI_BIN" -m "127.0.0.1:${RFS_PORT[meta]}" "$@"
}

# rfs_admin ARGS...: ringfs-admin against the test metaserver.
rfs_admin() {
	rfs_run "$RFS_ADMIN_BIN" -m "127.0.0.1:${RFS_PORT[meta]}" "$@"
}

# rfs_http METHOD URL [curl args...]: one HTTP request with curl; the body
# goes to $RFS_TMP/http.body, the status code to stdout ("000" when no
# reply arrived).
rfs_http() {
	local method=$1 url=$2
	shift 2
	curl -s -o "$RFS_TMP/http.body" -w '%{http_code}' --max-time \
		"$RFS_CURL_TIMEOUT" -X "$method" "$@" "$url" 2>/dev/null
	true
}

# --- ports --------------------------------------------------------------

# rfs_port_is_free PORT: nobody listens on 127.0.0.1:PORT and this run has
# not handed it out.
rfs_port_is_free() {
	local p=$1
	case $RFS_USED_PORTS in *" $p "*) return 1 ;; esac
	if command -v ss >/dev/null 2>&1 &&
		[ -n "$(ss -Hltn "sport = :$p" 2>/dev/null)" ]; then
		return 1
	fi
	# A successful connect means something listens there.
	if timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$p" 2>/dev/null; then
		return 1
	fi
	return 0
}

# rfs_port_range: "LOW COUNT" of the ports to pick from: 20000-60000, but
# below the kernel's ephemeral range when that leaves enough room, so an
# outgoing connection cannot be holding the port when a daemon restarts.
rfs_port_range() {
	local lo=32768 hi
	read -r lo hi </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null
	if [ "${lo:-0}" -gt 22000 ] && [ "$lo" -le 60001 ]; then
		echo "20000 $((lo - 20000))"
	else
		echo "20000 40001"
	fi
}

# rfs_free_port VAR: set VAR to a free port and reserve it for this run.
rfs_free_port() {
	local p i base count
	read -r base count <<<"$(rfs_port_range)"
	for i in $(seq 1 200); do
		p=$((base + (RANDOM * 32768 + RANDOM) % count))
		if rfs_port_is_free "$p"; then
			RFS_USED_PORTS="$RFS_USED_PORTS$p "
			printf -v "$1" '%s' "$p"
			return 0
		fi
	done
	return 1
}

# --- processes ----------------------------------------------------------

# rfs_spawn NAME CMD...: start a daemon in the background, its output
# appended to logs/NAME.log; records its pid in RFS_PID[NAME].
rfs_spawn() {
	local name=$1
	shift
	RFS_LOGSTART[$name]=$(cat "$RFS_TMP/logs/$name.log" 2>/dev/null | wc -l)
	echo "=== $(date '+%F %T') start: $*" >>"$RFS_TMP/logs/$name.log"
	"$@" >>"$RFS_TMP/logs/$name.log" 2>&1 </dev/null &
	RFS_PID[$name]=$!
}

# rfs_is_running NAME: the daemon's process is alive (and not a zombie).
rfs_is_running() {
	local pid=${RFS_PID[$1]:-}
	[ -n "$pid" ] || return 1
	kill -0 "$pid" 2>/dev/null || return 1
	[ "$(ps -o stat= -p "$pid" 2>/dev/null | cut -c1)" != Z ]
}

# rfs_reap PID: wait for a child without the shell's "Killed" message.
rfs_reap() {
	{ wait "$1"; } 2>/dev/null
}

# rfs_kill9 NAME: kill -9 a daemon and reap it.
rfs_kill9() {
	local pid=${RFS_PID[$1]:-}
	[ -n "$pid" ] || return 0
	kill -9 "$pid" 2>/dev/null
	rfs_reap "$pid"
	echo "=== $(date '+%F %T') killed -9 by the test" >>"$RFS_TMP/logs/$1.log"
	unset "RFS_PID[$1]"
}

# rfs_stop NAME [GRACE]: SIGTERM, then SIGKILL after GRACE seconds (5).
# Returns 0 when it exited by itself with status 0, 1 when it exited with
# another status (in RFS_STOP_STATUS) and 2 when it had to be killed.
rfs_stop() {
	local name=$1 grace=${2:-5} pid=${RFS_PID[$1]:-} i rc
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	for i in $(seq 1 $((grace * 10))); do
		rfs_is_running "$name" || break
		sleep 0.1
	done
	if rfs_is_running "$name"; then
		kill -9 "$pid" 2>/dev/null
		rfs_reap "$pid"
		echo "=== $(date '+%F %T') did not exit ${grace}s after SIGTERM," \
			"killed" >>"$RFS_TMP/logs/$name.log"
		unset "RFS_PID[$name]"
		return 2
	fi
	{ wait "$pid"; } 2>/dev/null
	rc=$?
	RFS_STOP_STATUS=$rc
	echo "=== $(date '+%F %T') stopped, exit status $rc" \
		>>"$RFS_TMP/logs/$name.log"
	unset "RFS_PID[$name]"
	[ "$rc" -eq 0 ] && return 0
	return 1
}

# rfs_stop_all: stop every daemon (in parallel: TERM all, then wait).
rfs_stop_all() {
	local name i
	for name in "${!RFS_PID[@]}"; do
		kill -TERM "${RFS_PID[$name]}" 2>/dev/null
	done
	for i in $(seq 1 50); do
		local alive=0
		for name in "${!RFS_PID[@]}"; do
			rfs_is_running "$name" && alive=1
		done
		[ $alive -eq 0 ] && break
		sleep 0.1
	done
	for name in "${!RFS_PID[@]}"; do
		rfs_stop "$name" 1 >/dev/null
	done
}

# rfs_bg CMD...: run a helper function/command in the background; it is
# killed at cleanup if still running. Sets RFS_BG_PID.
rfs_bg() {
	"$@" &
	RFS_BG_PID=$!
	RFS_EXTRA_PIDS="$RFS_EXTRA_PIDS $RFS_BG_PID"
}

# --- readiness ----------------------------------------------------------

# rfs_wait_health NAME [TIMEOUT]: poll GET /health on the daemon's port
# until 200. Returns 0, 1 on timeout, 2 if the process died (check its log).
rfs_wait_health() {
	local name=$1 t=${2:-$RFS_READY_TIMEOUT} port=${RFS_PORT[$1]} deadline
	deadline=$((SECONDS + t))
	while [ $SECONDS -lt $deadline ]; do
		rfs_is_running "$name" || return 2
		[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 \
			"http://127.0.0.1:$port/health" 2>/dev/null)" = 200 ] &&
			return 0
		sleep 0.1
	done
	return 1
}

# rfs_status_state ID: the state ringfs-admin status shows for server ID
# ("up", "down", ...), empty if not listed. Runs ringfs-admin once.
rfs_status_state() {
	RFS_OUT=$RFS_TMP/status.out RFS_ERR=$RFS_TMP/status.err \
		rfs_admin status || return 1
	awk -v id="$1" '{
		for (i = 1; i <= NF; i++) if ($i == id) found = 1
		if (!found) next
		for (i = 1; i <= NF; i++) {
			s = tolower($i)
			if (s == "up" || s == "down" || s == "out" ||
			    s == "draining") { print s; exit }
		}
		found = 0
	}' "$RFS_TMP/status.out"
}

# rfs_up_count: how many of cs1..csN ringfs-admin status shows up.
rfs_up_count() {
	RFS_OUT=$RFS_TMP/status.out RFS_ERR=$RFS_TMP/status.err \
		rfs_admin status || { echo 0; return 1; }
	awk '{
		id = 0; up = 0
		for (i = 1; i <= NF; i++) {
			if ($i ~ /^cs[0-9]+$/) id = 1
			if (tolower($i) == "up") up = 1
		}
		if (id && up) n++
	} END { print n + 0 }' "$RFS_TMP/status.out"
}

# rfs_wait_up N [TIMEOUT]: poll ringfs-admin status until N servers are up.
rfs_wait_up() {
	local want=$1 t=${2:-$RFS_READY_TIMEOUT} deadline
	deadline=$((SECONDS + t))
	while [ $SECONDS -lt $deadline ]; do
		[ "$(rfs_up_count)" -ge "$want" ] 2>/dev/null && return 0
		sleep 0.2
	done
	return 1
}

# rfs_wait_state ID STATE [TIMEOUT]: poll until status shows ID in STATE.
rfs_wait_state() {
	local t=${3:-$RFS_READY_TIMEOUT} deadline
	deadline=$((SECONDS + t))
	while [ $SECONDS -lt $deadline ]; do
		[ "$(rfs_status_state "$1")" = "$2" ] && return 0
		sleep 0.5
	done
	return 1
}

# --- daemons ------------------------------------------------------------

# rfs_meta_format: format the metaserver's data dir (1 MiB chunks, goal 2)
# with its raft address (the initial raft configuration records it).
rfs_meta_format() {
	rm -rf "$RFS_TMP/meta"
	mkdir -p "$RFS_TMP/meta"
	rfs_run "$RFS_META_BIN" --format "$RFS_TMP/meta" --chunk-size=1M \
		--goal=$RFS_GOAL --raft-listen="127.0.0.1:$RFS_RAFT_PORT"
	cat "$RFS_TMP/cmd.out" "$RFS_TMP/cmd.err" >>"$RFS_TMP/logs/meta.log"
	return $RFS_RC
}

# rfs_addr_in_use NAME: the daemon's log since its last start says its
# address was taken.
rfs_addr_in_use() {
	tail -n +"$((${RFS_LOGSTART[$1]:-0} + 1))" "$RFS_TMP/logs/$1.log" |
		grep -qiE 'in use|EADDRINUSE'
}

# rfs_start_retry NAME new|same CMD...: spawn a daemon and wait for /health.
# If it dies because its port is taken, retry: on new ports ("new", the
# caller's ports are re-picked by RFS_REPICK) or, for a restart that must
# keep its ports, on the same ones a second later. Returns 0 or 1.
rfs_start_retry() {
	local name=$1 mode=$2 rc
	shift 2
	for _ in 1 2 3 4 5; do
		rfs_spawn "$name" "$@"
		rfs_wait_health "$name"
		rc=$?
		[ $rc -eq 0 ] && return 0
		rfs_stop "$name" 1 >/dev/null
		[ $rc -eq 2 ] && rfs_addr_in_use "$name" || return 1
		[ "$mode" = new ] && return 3
		sleep 1
	done
	return 1
}

# rfs_meta_start [new]: start the metaserver and wait for /health. "new":
# pick its ports and format its dir first (again on other ports if one
# turns out to be taken); otherwise restart it on its dir and ports.
rfs_meta_start() {
	local mode=${1:-same} rc
	for _ in 1 2 3 4 5; do
		if [ "$mode" = new ]; then
			rfs_free_port "RFS_PORT[meta]" || return 1
			rfs_free_port RFS_RAFT_PORT || return 1
			rfs_meta_format || { fail "ringfs-meta --format failed" \
				"(rc=$RFS_RC): $(rfs_err_tail)"; return 1; }
		fi
		rfs_start_retry meta "$mode" "$RFS_META_BIN" \
			--data-dir="$RFS_TMP/meta" \
			--listen="127.0.0.1:${RFS_PORT[meta]}" \
			--raft-listen="127.0.0.1:$RFS_RAFT_PORT" $RFS_META_OPTS
		rc=$?
		[ $rc -eq 3 ] || return $rc
	done
	return 1
}

# rfs_chunk_start N [new]: start chunk server csN (zone zN) like
# rfs_meta_start.
rfs_chunk_start() {
	local n=$1 name=cs$1 mode=${2:-same} rc
	mkdir -p "$RFS_TMP/$name"
	for _ in 1 2 3 4 5; do
		if [ "$mode" = new ]; then
			rfs_free_port "RFS_PORT[$name]" || return 1
		fi
		rfs_start_retry "$name" "$mode" "$RFS_CHUNK_BIN" \
			--data-dir="$RFS_TMP/$name" \
			--listen="127.0.0.1:${RFS_PORT[$name]}" \
			--meta="127.0.0.1:${RFS_PORT[meta]}" \
			--id="$name" --zone="z$n" $RFS_CHUNK_OPTS
		rc=$?
		[ $rc -eq 3 ] || return $rc
	done
	return 1
}

# rfs_cluster_start: format and start 1 metaserver + 3 chunk servers on new
# ports, wait until status shows all 3 up. Returns 0 or 1 (RFS_REASON
# says which step failed).
rfs_cluster_start() {
	local n
	rfs_meta_start new || { fail "metaserver did not become healthy"; return 1; }
	for n in $(seq 1 $RFS_NSERVERS); do
		rfs_chunk_start "$n" new || { fail "cs$n did not become healthy"; return 1; }
	done
	rfs_wait_up $RFS_NSERVERS || { fail "status did not show" \
		"$RFS_NSERVERS servers up within ${RFS_READY_TIMEOUT}s" \
		"(last: $(tr '\n' '|' <"$RFS_TMP/status.out" 2>/dev/null | cut -c1-300)" \
		"$(cat "$RFS_TMP/status.err" 2>/dev/null | tr '\n' ' ' | cut -c1-200))"; return 1; }
	return 0
}

# rfs_cluster_restart: start every daemon again on the same dirs and ports
# (after rfs_stop_all or kill -9) and wait until all servers are up.
rfs_cluster_restart() {
	local n
	rfs_meta_start || { fail "metaserver did not restart"; return 1; }
	for n in $(seq 1 $RFS_NSERVERS); do
		rfs_chunk_start "$n" || { fail "cs$n did not restart"; return 1; }
	done
	rfs_wait_up $RFS_NSERVERS || { fail "status did not show all" \
		"servers up after restart"; return 1; }
	return 0
}

# --- reporting and cleanup ----------------------------------------------

# rfs_mark_logs: remember how long every log is (a case starts).
rfs_mark_logs() {
	local f
	RFS_MARKS=
	for f in "$RFS_TMP"/logs/*.log; do
		[ -f "$f" ] && RFS_MARKS="$RFS_MARKS $(basename "$f")=$(wc -l <"$f")"
	done
}

# rfs_keep_logs NAME: copy the logs to logs/NAME/ under the build dir and
# print what each log got since the case started (its last lines).
rfs_keep_logs() {
	local dest=$RFS_LOGROOT/$1 f base from m
	mkdir -p "$dest" 2>/dev/null && cp -r "$RFS_TMP/logs/." "$dest/" 2>/dev/null
	echo "    logs kept in $dest"
	for f in "$RFS_TMP"/logs/*.log; do
		[ -f "$f" ] || continue
		base=$(basename "$f")
		from=0
		for m in ${RFS_MARKS:-}; do
			[ "${m%=*}" = "$base" ] && from=${m#*=}
		done
		[ "$(wc -l <"$f")" -gt "$from" ] || continue
		echo "    --- $base (last lines written during the case)"
		tail -n +"$((from + 1))" "$f" | tail -n 12 | cut -c1-240 |
			sed 's/^/    | /'
	done
}

# rfs_case NAME FUNC [ARGS...]: run one test case and print its result.
rfs_case() {
	local name=$1 rc
	shift
	RFS_REASON=
	rfs_log "case $name"
	rfs_mark_logs
	"$@"
	rc=$?
	if [ $rc -eq 0 ] && [ -z "$RFS_REASON" ]; then
		echo "PASS $name"
	else
		echo "FAIL $name: $(printf '%s' "${RFS_REASON:-returned $rc}" |
			tr '\n' ' ' | cut -c1-600)"
		RFS_ANY_FAILED=1
		rfs_keep_logs "$name"
	fi
	RFS_REASON=
}

# rfs_abort REASON: the cluster could not be set up; every case of this
# file (names given in RFS_CASES) fails with REASON.
rfs_abort() {
	local c
	for c in ${RFS_CASES:-$RFS_FILE_NAME}; do
		echo "FAIL $c: $*"
	done
	RFS_ANY_FAILED=1
	rfs_keep_logs "$RFS_FILE_NAME"
	exit 1
}

# rfs_kill_tree PID: kill -9 a process and all its descendants (frozen
# first so it cannot start new ones while they are listed).
rfs_kill_tree() {
	local c
	kill -STOP "$1" 2>/dev/null
	for c in $(pgrep -P "$1" 2>/dev/null); do
		rfs_kill_tree "$c"
	done
	kill -9 "$1" 2>/dev/null
}

rfs_cleanup() {
	local rc=$? pid
	trap - EXIT INT TERM
	for pid in $RFS_EXTRA_PIDS; do
		rfs_kill_tree "$pid"
		rfs_reap "$pid"
	done
	rfs_stop_all
	if [ $rc -ne 0 ] && [ $RFS_ANY_FAILED -eq 0 ] && [ -d "$RFS_TMP/logs" ]; then
		echo "FAIL $RFS_FILE_NAME: case file exited with status $rc"
		rfs_keep_logs "$RFS_FILE_NAME"
		rc=1
	fi
	[ -n "$RFS_TMP" ] && rm -rf "$RFS_TMP"
	exit $rc
}

# rfs_binaries_ok: every binary exists and executes (exit 126/127 mean it
# cannot run at all).
rfs_binaries_ok() {
	local b
	for b in "$RFS_META_BIN" "$RFS_CHUNK_BIN" "$RFS_CLI_BIN" "$RFS_ADMIN_BIN"; do
		[ -x "$b" ] || { echo "missing $b"; return 1; }
		timeout 10 "$b" --help >/dev/null 2>&1 </dev/null
		case $? in 126 | 127) echo "cannot execute $b"; return 1 ;; esac
	done
	return 0
}

# rfs_setup: check the binaries (exit 77 when they cannot run), make the
# temp dir and install the cleanup traps.
rfs_setup() {
	local why
	why=$(rfs_binaries_ok) || { echo "SKIP $RFS_FILE_NAME: $why"; exit 77; }
	RFS_TMP=$(mktemp -d "${RFS_TMPROOT:-${TMPDIR:-/tmp}}/ringfs-$RFS_FILE_NAME.XXXXXX") ||
		exit 99
	mkdir -p "$RFS_TMP/logs" "$RFS_TMP/work"
	trap rfs_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

# rfs_check_clean_exit: the last case of every file. Every daemon the test
# did not kill on purpose is still running, exits 0 within 10 s of SIGTERM
# (sanitizer builds report leaks here), and no log holds a sanitizer report
# or a failed assertion.
rfs_check_clean_exit() {
	local name f
	for name in "${!RFS_PID[@]}"; do
		rfs_is_running "$name" ||
			fail "$name died during the tests: $(grep -v '^===' \
				"$RFS_TMP/logs/$name.log" | tail -n 1 | cut -c1-200)"
	done
	for name in "${!RFS_PID[@]}"; do
		rfs_stop "$name" 10
		case $? in
		1) fail "$name exited with status $RFS_STOP_STATUS after SIGTERM" ;;
		2) fail "$name ignored SIGTERM for 10s" ;;
		esac
	done
	for f in "$RFS_TMP"/logs/*.log; do
		[ -f "$f" ] || continue
		grep -qE "$RFS_SANITIZER_RE" "$f" &&
			fail "$(basename "$f"): $(grep -m1 -E "$RFS_SANITIZER_RE" "$f" |
				cut -c1-200)"
	done
	[ -z "$RFS_REASON" ]
}

# rfs_finish: end of the case file: check that the daemons end cleanly,
# then exit 1 if any case failed.
rfs_finish() {
	rfs_case "${RFS_FILE_NAME#t_}_clean_exit" rfs_check_clean_exit
	[ $RFS_ANY_FAILED -eq 0 ] && exit 0
	exit 1
}

# --- output checks ------------------------------------------------------

# out_has_token WORD [FILE]: some whitespace-separated field of the last
# command's stdout (or FILE) is exactly WORD.
out_has_token() {
	awk -v w="$1" '{ for (i = 1; i <= NF; i++) if ($i == w) f = 1 }
		END { exit !f }' "${2:-$RFS_TMP/cmd.out}"
}

# out_line_with TOKEN [FILE]: print the first line of stdout having TOKEN
# as a field.
out_line_with() {
	awk -v w="$1" '{ for (i = 1; i <= NF; i++) if ($i == w) { print; exit } }' \
		"${2:-$RFS_TMP/cmd.out}"
}

# --- the ring, computed independently of the C code ---------------------
# Spec (docs/architecture.md, common/ring.h): member i owns weight *
# RFS_RING_VNODES (2048, RFS_RING_VNODES_PER_WEIGHT) points, point n
# = first 8 bytes (big-endian) of SHA-256("<id>#<n>"); a chunk's key = first
# 8 bytes of SHA-256 of the id as 8 big-endian bytes; replicas = first R
# distinct members clockwise from the key, new zones first, then any.

# rfs_ring_points: $RFS_TMP/ring.points, "point index id zone" sorted.
# One sha256sum over one small file per vnode (forks are the slow part).
rfs_ring_points() {
	local f=$RFS_TMP/ring.points d=$RFS_TMP/ring.vnodes i n
	[ -s "$f" ] && return 0
	mkdir -p "$d"
	for i in $(seq 1 $RFS_NSERVERS); do
		for n in $(seq 0 $((RFS_RING_VNODES - 1))); do
			printf 'cs%d#%d' "$i" "$n" >"$d/$i.$n"
		done
	done
	(cd "$d" && sha256sum -- *) |
		awk '{ split($2, a, "."); sub(/^\*/, "", a[1])
			printf "%s %d cs%d z%d\n", substr($1, 1, 16), a[1], a[1], a[1] }' |
		LC_ALL=C sort -k1,1 -k2,2n >"$f"
	rm -rf "$d"
}

# rfs_ring_targets_many CHUNK_ID_HEX16...: compute the targets of many
# chunks in one pass and add "id target1 target2" lines to
# $RFS_TMP/ring.targets (the cache rfs_ring_targets reads).
rfs_ring_targets_many() {
	local d=$RFS_TMP/ring.keys id
	[ $# -gt 0 ] || return 0
	rfs_ring_points
	mkdir -p "$d"
	for id in "$@"; do
		# The key hashes the id as 8 big-endian bytes.
		printf "$(printf '%s' "$id" | sed 's/../\\x&/g')" >"$d/$id"
	done
	(cd "$d" && sha256sum -- "$@") | awk '{ sub(/^\*/, "", $2)
		print "key", substr($1, 1, 16), $2 }' |
		cat - "$RFS_TMP/ring.points" | awk -v r=$RFS_GOAL '
	$1 == "key" { key[++nk] = "x" $2; kid[nk] = $3; next }
	{ p[++np] = "x" $1; id[np] = $3; zone[np] = $4 }
	END {
		for (k = 1; k <= nk; k++) {
			# first point at or after the key (binary search)
			lo = 1; hi = np + 1
			while (lo < hi) {
				mid = int((lo + hi) / 2)
				if (p[mid] < key[k]) lo = mid + 1; else hi = mid
			}
			start = lo > np ? 1 : lo
			split("", chosen); split("", zones); got = 0
			for (pass = 1; pass <= 2 && got < r; pass++)
				for (j = 0; j < np && got < r; j++) {
					i = (start - 1 + j) % np + 1
					if (id[i] in chosen) continue
					if (pass == 1 && zone[i] in zones) continue
					chosen[id[i]] = 1; zones[zone[i]] = 1; got++
				}
			out = ""
			for (n = 1; n <= 64; n++)
				if (("cs" n) in chosen) out = out " cs" n
			print kid[k] out
		}
	}' >>"$RFS_TMP/ring.targets"
	rm -rf "$d"
}

# rfs_ring_targets CHUNK_ID_HEX16: the R target server ids, sorted,
# space-separated.
rfs_ring_targets() {
	grep -q "^$1 " "$RFS_TMP/ring.targets" 2>/dev/null ||
		rfs_ring_targets_many "$1"
	grep -m1 "^$1 " "$RFS_TMP/ring.targets" | cut -d' ' -f2-
}

# --- chunk replicas on disk ---------------------------------------------

# rfs_replica_files SERVER CHUNK_ID_HEX16: the replica files of a chunk in
# the server's data dir. Layout (docs/formats.md, chunkserver/replica.h):
# DIR/chunks/<low byte of the id, 2 hex>/<16 hex id>_<8 hex version>;
# names with a suffix (.tmp.X, .updating, .corrupt) are not replicas.
rfs_replica_files() {
	find "$RFS_TMP/$1/chunks" -type f -name "$2_*" ! -name '*.*' 2>/dev/null
}

# rfs_holders CHUNK_ID_HEX16: the servers whose data dir holds a replica
# file of the chunk, sorted, space-separated.
rfs_holders() {
	local n out=
	for n in $(seq 1 $RFS_NSERVERS); do
		[ -n "$(rfs_replica_files "cs$n" "$1")" ] && out="$out cs$n"
	done
	echo "${out# }"
}

# rfs_placement_chunks PATH: run ringfs-admin placement PATH and print the
# chunk ids of its table (after the blank line: INDEX CHUNK_ID VERSION
# LENGTH REPLICAS TARGETS STATUS), one per line, in order.
rfs_placement_chunks() {
	RFS_OUT=$RFS_TMP/placement.out rfs_admin placement "$1" || return 1
	awk 'NF == 0 { table = 1; next } table { print $2 }' \
		"$RFS_TMP/placement.out" | grep -E '^[0-9a-f]{16}$'
}

# rfs_placement_field CHUNK_ID N: field N of that chunk's placement line
# (from the last rfs_placement_chunks).
rfs_placement_field() {
	awk -v id="$1" -v n="$2" 'NF == 0 { table = 1; next }
		table && $2 == id { print $n; exit }' "$RFS_TMP/placement.out"
}

# rfs_servers_of LIST: "cs3:up,cs1:up" or "cs1,cs3" -> "cs1 cs3" (sorted).
rfs_servers_of() {
	echo "$1" | tr ',' '\n' | sed 's/:.*//' | grep . | LC_ALL=C sort |
		tr '\n' ' ' | sed 's/ $//'
}

# Where a chunk's data starts inside its replica file: after two 8 KiB
# header slots (docs/formats.md, CS_REPLICA_DATA_OFFSET).
RFS_REPLICA_DATA_OFFSET=16384

# rfs_flip_byte FILE OFFSET: invert every bit of one byte in place.
rfs_flip_byte() {
	local b
	b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	[ -n "$b" ] || return 1
	printf "\\x$(printf '%02x' $((b ^ 255)))" |
		dd of="$1" bs=1 seek="$2" count=1 conv=notrunc status=none
}
