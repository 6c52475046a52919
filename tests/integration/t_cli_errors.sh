#!/bin/bash
# CLI error handling: --help on every subcommand; get of a missing file;
# put into a missing directory; a put that fails half way leaves no visible
# file; no metaserver -> clear error, non-zero exit, bounded time.
. "$(dirname "$0")/lib.sh"

RFS_CASES="cli_help cli_get_missing cli_put_missing_dir cli_failed_put_no_half_file
cli_meta_down"
rfs_setup
rfs_cluster_start || rfs_abort "cluster did not start: $RFS_REASON"
W=$RFS_TMP/work
C=$RFS_CHUNK_SIZE

rfs_cli mkdir /ce || rfs_abort "mkdir /ce failed: $(rfs_err_tail)"
rand_file "$W/f" $((C * 3 + 5))
rfs_cli put "$W/f" /ce/existing || rfs_abort "put failed: $(rfs_err_tail)"

case_help() {
	local sub
	for sub in put get cat ls stat mkdir rm mv; do
		rfs_run "$RFS_CLI_BIN" "$sub" --help ||
			{ fail "ringfs $sub --help rc=$RFS_RC"; continue; }
		cat "$RFS_TMP/cmd.out" "$RFS_TMP/cmd.err" | grep -q "$sub" ||
			fail "ringfs $sub --help does not print its usage"
	done
	rfs_run "$RFS_CLI_BIN" --help || fail "ringfs --help rc=$RFS_RC"
	for sub in status placement; do
		rfs_run "$RFS_ADMIN_BIN" "$sub" --help ||
			{ fail "ringfs-admin $sub --help rc=$RFS_RC"; continue; }
		cat "$RFS_TMP/cmd.out" "$RFS_TMP/cmd.err" | grep -q "$sub" ||
			fail "ringfs-admin $sub --help does not print its usage"
	done
	rfs_run "$RFS_CLI_BIN" -m "127.0.0.1:${RFS_PORT[meta]}" frobnicate &&
		fail "an unknown subcommand exited 0"
	[ -s "$RFS_TMP/cmd.err" ] || fail "an unknown subcommand printed nothing on stderr"
	[ -z "$RFS_REASON" ]
}

case_get_missing() {
	rfs_cli get /ce/missing "$W/out" && { fail "get of a missing file exited 0"; return; }
	[ $RFS_RC -eq 124 ] && { fail "get of a missing file timed out"; return; }
	grep -qiE 'no such file|not found|ENOENT|does not exist' "$RFS_TMP/cmd.err" ||
		fail "unclear message for a missing file: '$(rfs_err_tail)'"
	grep -q /ce/missing "$RFS_TMP/cmd.err" ||
		fail "the message does not name the path: '$(rfs_err_tail)'"
	[ -e "$W/out" ] && fail "get of a missing file created the local file"
	rfs_cli cat /ce/missing && fail "cat of a missing file exited 0"
	[ -z "$RFS_REASON" ]
}

case_put_missing_dir() {
	rfs_cli ls / || { fail "ls / rc=$RFS_RC"; return; }
	cp "$RFS_TMP/cmd.out" "$W/root.before"
	rfs_cli put "$W/f" /nodir/f && { fail "put into a missing directory exited 0"; return; }
	[ $RFS_RC -eq 124 ] && { fail "put into a missing directory timed out"; return; }
	[ -s "$RFS_TMP/cmd.err" ] || fail "put into a missing directory printed no message"
	rfs_cli ls / || { fail "ls / rc=$RFS_RC"; return; }
	cmp -s "$W/root.before" "$RFS_TMP/cmd.out" ||
		fail "failed put changed ls /: '$(tr '\n' ' ' <"$RFS_TMP/cmd.out")'"
	rfs_cli put "$W/nonexistent-local" /ce/x &&
		fail "put of a missing local file exited 0"
	rfs_cli stat /ce/x && fail "put of a missing local file created /ce/x"
	[ -z "$RFS_REASON" ]
}

# put_in_background REMOTE: start a put of $W/big; sets PUT_PID, the
# result goes to $W/bg.rc and $W/bg.err.
put_in_background() {
	(
		RFS_OUT=$W/bg.out RFS_ERR=$W/bg.err rfs_cli put "$W/big" "$1"
		echo "$RFS_RC" >"$W/bg.rc"
	) &
	PUT_PID=$!
	RFS_EXTRA_PIDS="$RFS_EXTRA_PIDS $PUT_PID"
}

case_failed_put_no_half_file() {
	local n deadline seen=0
	rfs_cli ls -l /ce || { fail "ls rc=$RFS_RC"; return; }
	cp "$RFS_TMP/cmd.out" "$W/ce.before"
	# Kill every chunk server while a 64 MiB put is under way: the put
	# must fail and neither the file nor its temp file may stay visible.
	rand_file "$W/big" $((64 * C))
	rm -f "$W/bg.rc"
	put_in_background /ce/half
	deadline=$((SECONDS + 60))
	while [ $SECONDS -lt $deadline ] && [ ! -e "$W/bg.rc" ]; do
		RFS_OUT=$W/poll.out rfs_cli ls /ce
		grep -q half "$W/poll.out" && { seen=1; break; }
		sleep 0.05
	done
	for n in $(seq 1 $RFS_NSERVERS); do
		rfs_kill9 "cs$n"
	done
	deadline=$((SECONDS + RFS_CMD_TIMEOUT + 10))
	while [ $SECONDS -lt $deadline ] && [ ! -e "$W/bg.rc" ]; do
		sleep 0.2
	done
	[ -e "$W/bg.rc" ] || { fail "the put did not end"; return; }
	rfs_log "temp file seen during the put: $seen; put rc=$(cat "$W/bg.rc")"
	if [ "$(cat "$W/bg.rc")" = 0 ]; then
		# It finished before the kill: then it must be whole.
		rfs_cli cat /ce/half &&
			[ "$(sha "$RFS_TMP/cmd.out")" = "$(sha "$W/big")" ] ||
			fail "put exited 0 but /ce/half is not the file"
		return
	fi
	[ "$(cat "$W/bg.rc")" = 124 ] && fail "the put hung until its timeout"
	[ -s "$W/bg.err" ] || fail "failed put printed no message"
	rfs_cli ls -l /ce || { fail "ls rc=$RFS_RC"; return; }
	cmp -s "$W/ce.before" "$RFS_TMP/cmd.out" ||
		fail "failed put left a visible entry: ls -l /ce shows" \
			"'$(tr '\n' ' ' <"$RFS_TMP/cmd.out")'"
	rfs_cli stat /ce/half && fail "failed put left /ce/half"
	# With every chunk server already gone a new put fails the same way.
	rfs_cli put "$W/f" /ce/half2 && fail "put with no chunk server exited 0"
	[ $RFS_RC -eq 124 ] && fail "put with no chunk server timed out"
	rfs_cli ls -l /ce || { fail "ls rc=$RFS_RC"; return; }
	cmp -s "$W/ce.before" "$RFS_TMP/cmd.out" ||
		fail "put with no chunk server left a visible entry: ls -l /ce" \
			"shows '$(tr '\n' ' ' <"$RFS_TMP/cmd.out")'"
	[ -z "$RFS_REASON" ]
}

case_meta_down() {
	local port start
	rfs_free_port port
	start=$SECONDS
	RFS_CMD_TIMEOUT=60 rfs_run "$RFS_CLI_BIN" -m "127.0.0.1:$port" ls / &&
		{ fail "ls with no metaserver exited 0"; return; }
	[ $RFS_RC -eq 124 ] && { fail "ls with no metaserver hung for 60s"; return; }
	[ -s "$RFS_TMP/cmd.err" ] || fail "no message when the metaserver is down"
	grep -qiE "127\.0\.0\.1:$port|connect|refused|unreachable|metaserver" \
		"$RFS_TMP/cmd.err" || fail "unclear message: '$(rfs_err_tail)'"
	rfs_log "ls with no metaserver failed after $((SECONDS - start))s"
	# The real metaserver killed: same for get and put.
	rfs_kill9 meta
	rfs_cli get /ce/existing "$W/g" && fail "get with the metaserver dead exited 0"
	[ $RFS_RC -eq 124 ] && fail "get with the metaserver dead timed out"
	rfs_cli put "$W/f" /ce/y && fail "put with the metaserver dead exited 0"
	[ $RFS_RC -eq 124 ] && fail "put with the metaserver dead timed out"
	[ -z "$RFS_REASON" ]
}

rfs_case cli_help case_help
rfs_case cli_get_missing case_get_missing
rfs_case cli_put_missing_dir case_put_missing_dir
rfs_case cli_failed_put_no_half_file case_failed_put_no_half_file
rfs_case cli_meta_down case_meta_down
rfs_finish
