#!/bin/bash
# Cluster-wide locks: two ringfs-mount processes on the same cluster see
# each other's flock and fcntl locks (exclusion, shared read locks,
# disjoint ranges, F_GETLK, blocking F_SETLKW and flock, EINTR), a close
# releases a process's POSIX locks, the locks of a mount killed with -9
# are freed once its session lease runs out, and a lock held across a
# metaserver restart is reclaimed. The probe is tests/integration/lockprobe
# (one process per lock owner). Skipped (77) without a usable FUSE.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fuselib.sh"

LP=$RFS_BUILDDIR/tests/integration/lockprobe
if [ ! -x "$LP" ]; then
	echo "SKIP t_fuse_locks: no $LP (make check builds it)"
	exit 77
fi
# A short lease keeps the expiry and grace-period cases short.
LEASE_S=4
RFS_META_OPTS="${RFS_META_OPTS:-} --session-lease-ms=$((LEASE_S * 1000))"
WAIT_S=$((LEASE_S * 5)) # bound of every wait for a lock to come free

RFS_CASES="locks_mount locks_flock_exclusion locks_flock_blocking
locks_many_waiters locks_fcntl_ranges locks_close_releases locks_getlk locks_setlkw
locks_interrupt locks_mount_killed locks_meta_restart locks_malformed
locks_unmount"
fc_setup
rfs_cluster_start || rfs_abort "cluster did not start: $RFS_REASON"
W=$RFS_TMP/work
M1=$RFS_TMP/mnt1
M2=$RFS_TMP/mnt2

# probe NAME FILE CMD...: run lockprobe in the foreground (output in
# $W/NAME.out); returns its exit status (0 ok, 3 busy, 4 EINTR).
probe() {
	local name=$1
	shift
	timeout -k 5 $((WAIT_S * 3)) "$LP" "$@" >"$W/$name.out" 2>&1
}

# expect_probe WANT NAME FILE CMD...: probe, failing the case unless its
# status is WANT.
expect_probe() {
	local want=$1 rc
	shift
	probe "$@"
	rc=$?
	[ "$rc" -eq "$want" ] && return 0
	fail "$1: lockprobe ${*:3} exited $rc, want $want" \
		"($(tr '\n' ' ' <"$W/$1.out" | cut -c1-200))"
}

# wait_file PATH SECONDS: poll until PATH exists.
wait_file() {
	local deadline=$((SECONDS + $2))
	while [ $SECONDS -lt $deadline ]; do
		[ -e "$1" ] && return 0
		sleep 0.05
	done
	return 1
}

# holder NAME FILE CMD...: a background probe that runs CMD..., then
# holds its locks until `release NAME` (HOLDER_PID[NAME]).
declare -A HOLDER_PID=()
holder() {
	local name=$1 file=$2
	shift 2
	rm -f "$W/$name.ready" "$W/$name.go"
	rfs_bg probe "$name" "$file" "$@" touch "$W/$name.ready" \
		waitfor "$W/$name.go"
	HOLDER_PID[$name]=$RFS_BG_PID
	wait_file "$W/$name.ready" 20 && return 0
	fail "$name: the holder did not get its locks" \
		"($(tr '\n' ' ' <"$W/$name.out" | cut -c1-200))"
}

# release NAME: let the holder exit (closing its file) and reap it.
release() {
	touch "$W/$1.go"
	wait "${HOLDER_PID[$1]}" ||
		fail "$1: holder exited $? ($(tr '\n' ' ' <"$W/$1.out"))"
}

case_mount() {
	fc_mount m1 "$M1" || { fail "mount 1 did not appear"; return; }
	fc_mount m2 "$M2" || { fail "mount 2 did not appear"; return; }
	for f in flock flock2 many ranges close getlk wait intr kill restart; do
		: >"$M1/$f" || { fail "cannot create $f"; return; }
	done
	# A metaserver grants no new lock during the grace period after its
	# start: wait until one is granted.
	local deadline=$((SECONDS + WAIT_S))
	until probe grace "$M2/flock" fcntl wr 0 1; do
		[ $SECONDS -lt $deadline ] ||
			{ fail "no lock granted ${WAIT_S}s after start"; return; }
		sleep 0.2
	done
}

case_flock_exclusion() {
	holder fx "$M1/flock" flock ex || return
	expect_probe 3 f_ex "$M2/flock" flock ex nb
	expect_probe 3 f_sh "$M2/flock" flock sh nb
	# flock and fcntl locks are independent
	expect_probe 0 f_fcntl "$M2/flock" fcntl wr 0 0
	release fx
	expect_probe 0 f_after "$M2/flock" flock ex nb
	# shared locks are shared; an explicit unlock frees the file
	holder fs "$M1/flock" flock sh || return
	expect_probe 0 f_sh2 "$M2/flock" flock sh nb
	expect_probe 3 f_ex2 "$M2/flock" flock ex nb
	release fs
	holder fu "$M1/flock" flock ex flock un || return
	expect_probe 0 f_unlocked "$M2/flock" flock ex nb
	release fu
	[ -z "$RFS_REASON" ]
}

case_flock_blocking() {
	holder fb "$M1/flock2" flock ex || return
	rm -f "$W/fb2.got"
	rfs_bg probe fb2 "$M2/flock2" alarm $((WAIT_S * 2)) flock ex \
		touch "$W/fb2.got"
	local waiter=$RFS_BG_PID
	sleep 1
	[ ! -e "$W/fb2.got" ] || fail "flock ex granted while held elsewhere"
	release fb
	wait_file "$W/fb2.got" "$WAIT_S" ||
		fail "blocked flock not granted after release"
	wait "$waiter" || fail "waiter exited $?: $(tr '\n' ' ' <"$W/fb2.out")"
	[ -z "$RFS_REASON" ]
}

# More blocked waiters than the mount has worker threads (10): waiting
# must not hold a worker, or the holder's close could not be served.
WAITERS=16
case_many_waiters() {
	local i pids=
	holder mw "$M1/many" flock ex || return
	for i in $(seq 1 $WAITERS); do
		rm -f "$W/mw.$i"
		rfs_bg probe "mw$i" "$M1/many" alarm $((WAIT_S * 6)) flock ex \
			touch "$W/mw.$i"
		pids="$pids $RFS_BG_PID"
	done
	sleep 1
	[ -z "$(ls "$W"/mw.[0-9]* 2>/dev/null)" ] ||
		fail "a waiter got the lock while it was held"
	release mw
	for i in $(seq 1 $WAITERS); do
		wait_file "$W/mw.$i" $((WAIT_S * 5)) ||
			{ fail "waiter $i never got the lock"; break; }
	done
	for i in $pids; do
		wait "$i" || fail "a waiter exited $?"
	done
	[ -z "$RFS_REASON" ]
}

case_fcntl_ranges() {
	holder fr "$M1/ranges" fcntl wr 0 100 fcntl rd 1000 100 || return
	expect_probe 3 r_overlap "$M2/ranges" fcntl wr 50 10
	expect_probe 3 r_rd_on_wr "$M2/ranges" fcntl rd 99 1
	expect_probe 0 r_disjoint "$M2/ranges" fcntl wr 100 900
	expect_probe 0 r_shared "$M2/ranges" fcntl rd 1000 100
	expect_probe 3 r_wr_on_rd "$M2/ranges" fcntl wr 1050 1
	expect_probe 0 r_after_eof "$M2/ranges" fcntl wr 1100 0
	# another process of the same mount is another owner too
	expect_probe 3 r_same_mount "$M1/ranges" fcntl wr 0 1
	release fr
	expect_probe 0 r_after "$M2/ranges" fcntl wr 0 0
	[ -z "$RFS_REASON" ]
}

case_close_releases() {
	# lock through one descriptor, close another one of the same file:
	# POSIX releases all of the process's locks on the file
	holder cr "$M1/close" fcntl wr 0 10 reopen close || return
	expect_probe 0 c_after "$M2/close" fcntl wr 0 10
	release cr
	[ -z "$RFS_REASON" ]
}

case_getlk() {
	holder gl "$M1/getlk" fcntl wr 100 50 || return
	probe g1 "$M2/getlk" getlk rd 0 0 || fail "getlk rc=$?"
	grep -qx "getlk: wr 100 50" "$W/g1.out" ||
		fail "getlk saw '$(grep getlk "$W/g1.out")', want wr 100 50"
	probe g2 "$M2/getlk" getlk wr 0 100 || fail "getlk rc=$?"
	grep -qx "getlk: unlocked" "$W/g2.out" ||
		fail "getlk of 0..99 saw '$(grep getlk "$W/g2.out")'"
	release gl
	probe g3 "$M2/getlk" getlk wr 0 0 || fail "getlk rc=$?"
	grep -qx "getlk: unlocked" "$W/g3.out" ||
		fail "getlk after release saw '$(grep getlk "$W/g3.out")'"
	[ -z "$RFS_REASON" ]
}

case_setlkw() {
	holder sw "$M1/wait" fcntl wr 0 100 || return
	rm -f "$W/sw2.got"
	rfs_bg probe sw2 "$M2/wait" alarm $((WAIT_S * 2)) fcntl wr 50 10 wait \
		touch "$W/sw2.got"
	local waiter=$RFS_BG_PID
	sleep 1
	[ ! -e "$W/sw2.got" ] || fail "F_SETLKW granted while held elsewhere"
	release sw
	wait_file "$W/sw2.got" "$WAIT_S" ||
		fail "blocked F_SETLKW not granted after release"
	wait "$waiter" || fail "waiter exited $?: $(tr '\n' ' ' <"$W/sw2.out")"
	[ -z "$RFS_REASON" ]
}

case_interrupt() {
	holder in "$M1/intr" fcntl wr 0 0 flock ex || return
	expect_probe 4 i_setlkw "$M2/intr" alarm 1 fcntl wr 0 1 wait
	expect_probe 4 i_flock "$M2/intr" alarm 1 flock ex
	release in
	expect_probe 0 i_after "$M2/intr" fcntl wr 0 1 flock ex nb
	[ -z "$RFS_REASON" ]
}

case_mount_killed() {
	holder kh "$M1/kill" fcntl wr 0 0 flock ex || return
	rfs_kill9 m1
	rfs_kill_tree "${HOLDER_PID[kh]}"
	rfs_reap "${HOLDER_PID[kh]}"
	# the dead mount's session still holds the locks until its lease ends
	expect_probe 3 k_held "$M2/kill" fcntl wr 0 1
	expect_probe 0 k_freed "$M2/kill" alarm $((WAIT_S * 2)) \
		fcntl wr 0 1 wait flock ex
	fusermount3 -u "$M1" 2>/dev/null || fusermount3 -uz "$M1" 2>/dev/null
	fc_wait_mounted "$M1" no || fail "dead mount still at $M1"
	fc_mount m1 "$M1" || fail "remount after kill -9 did not appear"
	[ -z "$RFS_REASON" ]
}

case_meta_restart() {
	local deadline
	holder rh "$M1/restart" fcntl wr 0 100 || return
	rfs_stop meta 10 >/dev/null
	rfs_meta_start || { fail "metaserver did not restart"; return; }
	# during the grace period nothing new is granted, and afterwards the
	# lock mount 1 reclaimed is still its own
	expect_probe 3 m_grace "$M2/restart" fcntl wr 0 1
	deadline=$((SECONDS + WAIT_S * 2))
	until probe m_free "$M2/restart" fcntl wr 200 1; do
		[ $SECONDS -lt $deadline ] ||
			{ fail "no lock granted after the restart"; break; }
		sleep 0.2
	done
	expect_probe 3 m_reclaimed "$M2/restart" fcntl wr 0 1
	probe m_getlk "$M2/restart" getlk wr 0 0
	grep -qx "getlk: wr 0 100" "$W/m_getlk.out" ||
		fail "getlk after restart saw '$(grep getlk "$W/m_getlk.out")'"
	release rh
	expect_probe 0 m_after "$M2/restart" fcntl wr 0 1
	grep -q 'lock reclaim refused' "$RFS_TMP/logs/meta.log" &&
		fail "the metaserver refused a reclaim"
	[ -z "$RFS_REASON" ]
}

# meta_post PATH BODY WANT_STATUS WANT_ERROR: POST a lock route with curl.
meta_post() {
	local got
	got=$(rfs_http POST "http://127.0.0.1:${RFS_PORT[meta]}$1" \
		-H 'Content-Type: application/json' --data-binary "$2")
	[ "$got" = "$3" ] && grep -q "\"error\":\"$4\"" "$RFS_TMP/http.body" &&
		return 0
	fail "POST $1 $2: $got $(head -c 200 "$RFS_TMP/http.body"), want $3 $4"
}

case_malformed() {
	local s=0123456789abcdef z=0000000000000000 eof=ffffffffffffffff
	local lock="\"ino\":\"000000000000002a\",\"owner\":\"$z\""
	meta_post /v1/lock "{\"session\":\"$s\",$lock,\"type\":\"wr\"}" 410 ESTALE
	meta_post /v1/lock "{\"session\":\"$s\",$lock,\"type\":\"ex\"}" 400 EPROTO
	meta_post /v1/lock "{\"session\":\"$s\",$lock,\"start\":\"$eof\",\"end\":\"$z\"}" \
		400 EPROTO
	meta_post /v1/lock "{$lock,\"type\":\"wr\"}" 400 EINVAL
	meta_post /v1/lock/test "{\"session\":\"$s\",$lock}" 410 ESTALE
	meta_post /v1/session/renew "{\"session\":\"$s\"}" 410 ESTALE
	meta_post /v1/session/renew "{}" 400 EINVAL
	meta_post /v1/session/close "[1]" 400 EPROTO
	# a real session: a flock lock must cover the whole file
	rfs_http POST "http://127.0.0.1:${RFS_PORT[meta]}/v1/session/open" \
		--data-binary '{}' >/dev/null
	s=$(sed -n 's/.*"session":"\([0-9a-f]*\)".*/\1/p' "$RFS_TMP/http.body")
	[ -n "$s" ] || { fail "session open: $(cat "$RFS_TMP/http.body")"; return; }
	meta_post /v1/lock "{\"session\":\"$s\",$lock,\"kind\":\"flock\",\"type\":\"wr\",\"end\":\"0000000000000009\"}" \
		400 EINVAL
	local close=http://127.0.0.1:${RFS_PORT[meta]}/v1/session/close
	[ "$(rfs_http POST "$close" --data-binary "{\"session\":\"$s\"}")" = 200 ] ||
		fail "session close: $(cat "$RFS_TMP/http.body")"
	[ "$(rfs_http POST "$close" --data-binary "{\"session\":\"$s\"}")" = 410 ] ||
		fail "a closed session is still known"
	[ -z "$RFS_REASON" ]
}

case_unmount() {
	local closed
	closed=$(grep -c 'lock session closed' "$RFS_TMP/logs/meta.log")
	fc_umount m1 "$M1" || return
	fc_umount m2 "$M2" || return
	# each mount closed its session on the way out
	[ "$(grep -c 'lock session closed' "$RFS_TMP/logs/meta.log")" -eq \
		$((closed + 2)) ] ||
		fail "the mounts did not close their lock sessions"
	[ -z "$RFS_REASON" ]
}

rfs_case locks_mount case_mount
rfs_case locks_flock_exclusion case_flock_exclusion
rfs_case locks_flock_blocking case_flock_blocking
rfs_case locks_many_waiters case_many_waiters
rfs_case locks_fcntl_ranges case_fcntl_ranges
rfs_case locks_close_releases case_close_releases
rfs_case locks_getlk case_getlk
rfs_case locks_setlkw case_setlkw
rfs_case locks_interrupt case_interrupt
rfs_case locks_mount_killed case_mount_killed
rfs_case locks_meta_restart case_meta_restart
rfs_case locks_malformed case_malformed
rfs_case locks_unmount case_unmount
rfs_finish
