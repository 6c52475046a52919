#!/bin/bash
# Faults under the FUSE mount: a chunk server killed (kill -9) during a
# large sequential write and another during a large sequential read -> the
# application sees no error and the data is intact (goal 2: every chunk
# has another replica); the metaserver stopped while the mount is idle ->
# operations fail with EIO or ETIMEDOUT once the bounded retry time
# (-o meta_retry) is over, the mount process survives and works again once
# the metaserver is back; an operation started while the metaserver is
# down succeeds when it comes back within the retry time. Every
# application command runs under timeout(1), so a hang is a failure.
# Skipped (77) when /dev/fuse or fusermount3 is not usable.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fuselib.sh"

C=$RFS_CHUNK_SIZE
NCHUNKS=48 # size of the big files, in chunks
RETRY=5 # meta_retry of the first mount, seconds
RFS_CASES="fuse_faults_mount fuse_faults_kill_during_write
fuse_faults_kill_during_read fuse_faults_meta_down
fuse_faults_meta_back_in_time fuse_faults_clean_exit"
fc_setup
rfs_cluster_start || rfs_abort "cluster did not start: $RFS_REASON"
W=$RFS_TMP/work
M=$RFS_TMP/mnt
M2=$RFS_TMP/mnt2

# slow_cat SRC: SRC to stdout one chunk at a time with a pause between
# (so the copy is still under way when a server is killed); the number of
# chunks sent so far goes to $W/progress.
slow_cat() {
	local i
	for i in $(seq 0 $((NCHUNKS - 1))); do
		dd if="$1" bs="$C" skip="$i" count=1 status=none || return 1
		echo $((i + 1)) >"$W/progress"
		sleep 0.05
	done
}

# slow_sink DEST: stdin to DEST one chunk at a time with a pause between;
# bytes so far go to $W/progress.
slow_sink() {
	local n=0 s
	: >"$1"
	while :; do
		head -c "$C" >>"$1" || return 1
		s=$(stat -c %s "$1")
		[ "$s" -gt "$n" ] || return 0
		n=$s
		echo $((n / C)) >"$W/progress"
		sleep 0.05
	done
}

# wait_progress N: poll until N chunks went through (or the job ended).
wait_progress() {
	local deadline=$((SECONDS + RFS_CMD_TIMEOUT)) n
	while [ $SECONDS -lt $deadline ]; do
		n=$(cat "$W/progress" 2>/dev/null)
		[ "${n:-0}" -ge "$1" ] 2>/dev/null && return 0
		kill -0 "$RFS_BG_PID" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

# run_job SCRIPT: run a bash script (pipefail) in the background under
# timeout; its exit status goes to $W/job.rc, its stderr to $W/job.err.
run_job() {
	rm -f "$W/progress" "$W/job.rc"
	printf '%s\n' "$1" >"$W/job.sh"
	rfs_bg bash -c "timeout -k 5 $RFS_CMD_TIMEOUT bash -o pipefail \
		'$W/job.sh' 2>'$W/job.err'; echo \$? >'$W/job.rc'"
}

# job_wait: wait for the job; its exit status goes to JOB_RC (255: none).
job_wait() {
	rfs_reap "$RFS_BG_PID"
	JOB_RC=$(cat "$W/job.rc" 2>/dev/null || echo 255)
}

# restart_server N: start csN again on its dir and wait until all are up.
restart_server() {
	rfs_chunk_start "$1" || { fail "cs$1 did not restart"; return 1; }
	rfs_wait_up $RFS_NSERVERS ||
		{ fail "status did not show all servers up again"; return 1; }
}

case_mount() {
	fc_mount m1 "$M" -o meta_retry=$RETRY || fail "mount did not appear at $M"
}

# cs1 killed while dd writes a 48-chunk file through one descriptor.
case_kill_during_write() {
	local got
	rand_file "$W/wsrc" $((C * NCHUNKS))
	run_job "$(declare -f slow_cat); NCHUNKS=$NCHUNKS C=$C W=$W; \
		slow_cat $W/wsrc | dd of=$M/wbig bs=$C iflag=fullblock status=none"
	wait_progress 12 || { fail "the write did not get going: $(head -c 200 \
		"$W/job.err")"; return; }
	rfs_kill9 cs1
	kill -0 "$RFS_BG_PID" 2>/dev/null ||
		fail "the copy was over before cs1 was killed"
	job_wait
	[ "$JOB_RC" = 0 ] || fail "the writer saw an error (rc=$JOB_RC): $(head -c 300 \
		"$W/job.err" | tr '\n' ' ')"
	got=$(tsha "$M/wbig")
	[ "$got" = "$(sha "$W/wsrc")" ] ||
		fail "file written during the kill differs through the mount ($got)"
	rfs_cli get /wbig "$W/wbig.got" && cmp -s "$W/wbig.got" "$W/wsrc" ||
		fail "file written during the kill differs through ringfs get (rc=$RFS_RC)"
	restart_server 1 || return
	rfs_cli get /wbig "$W/wbig.got2" && cmp -s "$W/wbig.got2" "$W/wsrc" ||
		fail "file differs through ringfs get after cs1 is back (rc=$RFS_RC)"
	[ -z "$RFS_REASON" ]
}

# cs2 killed while dd reads a 48-chunk file through one descriptor (the
# reader is slowed down by a slow consumer).
case_kill_during_read() {
	local got
	rand_file "$W/rsrc" $((C * NCHUNKS))
	rfs_run cp "$W/rsrc" "$M/rbig" ||
		{ fail "cp to the mount rc=$RFS_RC: $(rfs_err_tail)"; return; }
	run_job "$(declare -f slow_sink); C=$C W=$W; \
		dd if=$M/rbig bs=$C status=none | slow_sink $W/rout"
	wait_progress 12 || { fail "the read did not get going: $(head -c 200 \
		"$W/job.err")"; return; }
	rfs_kill9 cs2
	kill -0 "$RFS_BG_PID" 2>/dev/null ||
		fail "the copy was over before cs2 was killed"
	job_wait
	[ "$JOB_RC" = 0 ] || fail "the reader saw an error (rc=$JOB_RC): $(head -c 300 \
		"$W/job.err" | tr '\n' ' ')"
	cmp -s "$W/rout" "$W/rsrc" || fail "data read during the kill differs" \
		"($(stat -c %s "$W/rout") of $((C * NCHUNKS)) bytes)"
	got=$(tsha "$M/rbig")
	[ "$got" = "$(sha "$W/rsrc")" ] ||
		fail "a second read with cs2 down differs ($got)"
	restart_server 2 || return
	got=$(tsha "$M/rbig")
	[ "$got" = "$(sha "$W/rsrc")" ] ||
		fail "a read after cs2 is back differs ($got)"
	[ -z "$RFS_REASON" ]
}

# expect_meta_error WHAT CMD...: CMD must fail (not hang) with EIO or
# ETIMEDOUT after having retried about RETRY seconds.
expect_meta_error() {
	local what=$1 start
	shift
	start=$SECONDS
	RFS_CMD_TIMEOUT=$((RETRY + 60)) rfs_run "$@"
	case $RFS_RC in
	0) fail "$what succeeded without a metaserver"; return 1 ;;
	124 | 137) fail "$what hung (killed after $((RETRY + 60))s)"; return 1 ;;
	esac
	grep -qE 'Input/output error|Connection timed out' "$RFS_TMP/cmd.err" ||
		fail "$what: not EIO/ETIMEDOUT: $(rfs_err_tail)"
	[ $((SECONDS - start)) -ge $((RETRY - 1)) ] ||
		fail "$what failed after $((SECONDS - start))s, before meta_retry=$RETRY"
}

# The metaserver stopped while the mount is idle.
case_meta_down() {
	echo idle >"$W/idle"
	rfs_run cp "$W/idle" "$M/idle" && rfs_run mkdir "$M/dir" ||
		{ fail "cannot write on the mount rc=$RFS_RC"; return; }
	rfs_stop meta 10 || { fail "metaserver did not stop"; return; }
	sleep 2 # past the kernel's attribute and entry cache (1 s)
	expect_meta_error "mkdir" mkdir "$M/down"
	expect_meta_error "stat" stat "$M/idle"
	expect_meta_error "ls" ls "$M/dir"
	rfs_is_running m1 || fail "ringfs-mount died"
	fc_is_mounted "$M" || fail "the mount went away"
	rfs_meta_start || { fail "metaserver did not restart"; return; }
	rfs_wait_up $RFS_NSERVERS || { fail "servers not up again"; return; }
	rfs_run mkdir "$M/after" || fail "mkdir after the restart rc=$RFS_RC: $(rfs_err_tail)"
	[ "$(tcat "$M/idle")" = idle ] || fail "file unreadable after the restart"
	rand_file "$W/after" $((C * 2 + 1))
	rfs_run cp "$W/after" "$M/after/f" &&
		[ "$(tsha "$M/after/f")" = "$(sha "$W/after")" ] ||
		fail "write after the restart: rc=$RFS_RC $(rfs_err_tail)"
	[ -z "$RFS_REASON" ]
}

# A second mount with a long retry: a mkdir issued while the metaserver is
# down completes once it is back.
case_meta_back_in_time() {
	fc_mount m2 "$M2" -o meta_retry=120 || { fail "second mount did not appear"; return; }
	rfs_stop meta 10 || { fail "metaserver did not stop"; return; }
	sleep 2 # past the kernel's entry cache
	run_job "mkdir $M2/during && echo x >$M2/during/f"
	sleep 2
	kill -0 "$RFS_BG_PID" 2>/dev/null ||
		fail "mkdir did not wait for the metaserver"
	rfs_meta_start || { fail "metaserver did not restart"; return; }
	job_wait
	[ "$JOB_RC" = 0 ] || fail "op retried across the restart failed (rc=$JOB_RC):" \
		"$(head -c 200 "$W/job.err")"
	[ "$(tcat "$M/during/f")" = x ] || fail "its file is not visible"
	rfs_wait_up $RFS_NSERVERS || fail "servers not up again"
	fc_umount m2 "$M2"
	[ -z "$RFS_REASON" ]
}

rfs_case fuse_faults_mount case_mount
rfs_case fuse_faults_kill_during_write case_kill_during_write
rfs_case fuse_faults_kill_during_read case_kill_during_read
rfs_case fuse_faults_meta_down case_meta_down
rfs_case fuse_faults_meta_back_in_time case_meta_back_in_time
fc_finish
