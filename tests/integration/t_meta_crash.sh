#!/bin/bash
# kill -9 of the metaserver during a loop of mkdir/put: a background loop
# records every acknowledged operation (exit code 0); the metaserver is
# killed after a random short delay and restarted on the same dir and
# ports; every acknowledged mkdir and put must exist afterwards, files with
# their exact content.
. "$(dirname "$0")/lib.sh"

RFS_CASES="meta_crash_restart meta_crash_acked_mkdirs meta_crash_acked_puts
meta_crash_serves"
rfs_setup
rfs_cluster_start || rfs_abort "cluster did not start: $RFS_REASON"
W=$RFS_TMP/work
C=$RFS_CHUNK_SIZE

# Four source files the loop cycles through: tiny, one block, one chunk
# and a bit, two chunks and a bit.
SRC_SIZES="100 65536 $((C + 7)) $((2 * C + 4096))"
i=0
for s in $SRC_SIZES; do
	rand_file "$W/src$i" "$s"
	i=$((i + 1))
done
rfs_cli mkdir /mc || rfs_abort "mkdir /mc failed: $(rfs_err_tail)"
ACKED=$W/acked
STOP=$W/stop
: >"$ACKED"

# op_loop P: mkdir /mc/PdI and put srcI%4 as /mc/PfI until told to stop;
# append "mkdir PATH" / "put PATH SRC" to $ACKED for each op that exited 0.
op_loop() {
	local p=$1 n=0 RFS_OUT=$W/loop$1.out RFS_ERR=$W/loop$1.err
	local RFS_CMD_TIMEOUT=60
	while [ ! -e "$STOP" ] && [ $n -lt 5000 ]; do
		n=$((n + 1))
		rfs_cli mkdir "/mc/${p}d$n" && echo "mkdir /mc/${p}d$n" >>"$ACKED"
		rfs_cli put "$W/src$((n % 4))" "/mc/${p}f$n" &&
			echo "put /mc/${p}f$n $W/src$((n % 4))" >>"$ACKED"
		# Do not spin while the metaserver is down.
		[ $RFS_RC -eq 0 ] || sleep 0.2
	done
}

# wait_acked N TIMEOUT: wait until N operations were acknowledged.
wait_acked() {
	local deadline=$((SECONDS + $2))
	while [ $SECONDS -lt $deadline ]; do
		[ "$(wc -l <"$ACKED")" -ge "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

BEFORE=0
case_restart() {
	local delay_ms p
	# Two loops, so that operations are in flight concurrently.
	LOOPS=
	for p in a b; do
		rfs_bg op_loop $p
		LOOPS="$LOOPS $RFS_BG_PID"
	done
	wait_acked 4 60 || { fail "the loops got no 4 ops acknowledged in 60s:" \
		"$(tail -n 2 "$W/loopa.err" | tr '\n' ' ')"; return; }
	delay_ms=$((RANDOM % 1500))
	sleep "$((delay_ms / 1000)).$(printf '%03d' $((delay_ms % 1000)))"
	rfs_kill9 meta
	BEFORE=$(wc -l <"$ACKED")
	rfs_log "metaserver killed after ${delay_ms} ms extra, $BEFORE ops acked"
	sleep 0.5
	rfs_meta_start || { fail "metaserver did not restart after kill -9"; return; }
	rfs_wait_up $RFS_NSERVERS ||
		fail "chunk servers not all up again after the metaserver restart"
	# Let the loop get a few more ops through the new metaserver.
	wait_acked $((BEFORE + 4)) 60 ||
		fail "no ops acknowledged after the restart"
	touch "$STOP"
	local deadline=$((SECONDS + 150)) pid
	for pid in $LOOPS; do
		while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do
			sleep 0.2
		done
		kill -0 "$pid" 2>/dev/null && fail "an op loop did not stop"
		rfs_kill_tree "$pid"
		rfs_reap "$pid"
	done
	rfs_log "$(wc -l <"$ACKED") ops acknowledged in all"
	[ -z "$RFS_REASON" ]
}

case_mkdirs() {
	local op path missing=0 total=0
	while read -r op path _; do
		[ "$op" = mkdir ] || continue
		total=$((total + 1))
		if ! rfs_cli stat "$path" || ! grep -qi dir "$RFS_TMP/cmd.out"; then
			missing=$((missing + 1))
			[ $missing -le 3 ] && fail "acknowledged mkdir $path is gone" \
				"(stat rc=$RFS_RC: $(rfs_err_tail))"
		fi
	done <"$ACKED"
	[ $total -gt 0 ] || fail "no mkdir was acknowledged"
	[ $missing -eq 0 ] || fail "$missing of $total acknowledged mkdirs lost"
	[ -z "$RFS_REASON" ]
}

case_puts() {
	local op path src bad=0 total=0
	while read -r op path src; do
		[ "$op" = put ] || continue
		total=$((total + 1))
		if ! rfs_cli cat "$path"; then
			bad=$((bad + 1))
			[ $bad -le 3 ] && fail "acknowledged put $path:" \
				"cat rc=$RFS_RC: $(rfs_err_tail)"
		elif [ "$(sha "$RFS_TMP/cmd.out")" != "$(sha "$src")" ]; then
			bad=$((bad + 1))
			[ $bad -le 3 ] && fail "acknowledged put $path: content differs" \
				"($(fsize "$RFS_TMP/cmd.out") bytes, want $(fsize "$src"))"
		fi
	done <"$ACKED"
	[ $total -gt 0 ] || fail "no put was acknowledged"
	[ $bad -eq 0 ] || fail "$bad of $total acknowledged puts lost or wrong"
	[ -z "$RFS_REASON" ]
}

case_serves() {
	rfs_cli put "$W/src3" /mc/after ||
		{ fail "put after restart rc=$RFS_RC: $(rfs_err_tail)"; return; }
	rfs_cli cat /mc/after || { fail "cat rc=$RFS_RC: $(rfs_err_tail)"; return; }
	[ "$(sha "$RFS_TMP/cmd.out")" = "$(sha "$W/src3")" ] ||
		fail "content differs"
}

rfs_case meta_crash_restart case_restart
rfs_case meta_crash_acked_mkdirs case_mkdirs
rfs_case meta_crash_acked_puts case_puts
rfs_case meta_crash_serves case_serves
rfs_finish
