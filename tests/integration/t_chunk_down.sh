#!/bin/bash
# A chunk server killed with kill -9: reads still succeed from the other
# replica (same SHA-256), status shows it down after the down timeout, new
# files can still be written, and it comes back up when restarted.
. "$(dirname "$0")/lib.sh"

RFS_CASES="chunk_down_get chunk_down_status chunk_down_get_after_down
chunk_down_put chunk_down_rejoin"
rfs_setup
rfs_cluster_start || rfs_abort "cluster did not start: $RFS_REASON"
W=$RFS_TMP/work
C=$RFS_CHUNK_SIZE

rfs_cli mkdir /cd || rfs_abort "mkdir /cd failed: $(rfs_err_tail)"
rand_file "$W/f" $((C * 21 / 2))
rand_file "$W/g" $((C * 3))
for f in f g; do
	rfs_cli put "$W/$f" "/cd/$f" || rfs_abort "put /cd/$f failed: $(rfs_err_tail)"
done

# The victim: the server holding the most replicas of /cd/f, so that the
# read has to fall back for many chunks.
ids=$(rfs_placement_chunks /cd/f) || rfs_abort "placement /cd/f failed: $(rfs_err_tail)"
VICTIM=cs1
best=-1
for n in $(seq 1 $RFS_NSERVERS); do
	k=0
	for id in $ids; do
		[ -n "$(rfs_replica_files "cs$n" "$id")" ] && k=$((k + 1))
	done
	[ $k -gt $best ] && best=$k && VICTIM=cs$n
done
rfs_log "victim $VICTIM holds $best replicas of /cd/f"

# get_ok REMOTE LOCAL_SRC: get REMOTE and compare it with LOCAL_SRC.
get_ok() {
	rm -f "$W/got"
	rfs_cli get "$1" "$W/got" ||
		{ fail "get $1 rc=$RFS_RC: $(rfs_err_tail)"; return; }
	[ "$(sha "$W/got")" = "$(sha "$2")" ] || fail "get $1: SHA-256 differs"
}

case_get() {
	[ "$best" -gt 0 ] || { fail "$VICTIM holds no replica of /cd/f on disk"; return; }
	rfs_kill9 "$VICTIM"
	get_ok /cd/f "$W/f" && get_ok /cd/g "$W/g"
}

case_status() {
	rfs_wait_state "$VICTIM" down 30 || fail "status does not show $VICTIM" \
		"down 30s after kill -9 (shows '$(rfs_status_state "$VICTIM")')"
	[ "$(rfs_up_count)" -eq $((RFS_NSERVERS - 1)) ] ||
		fail "status shows $(rfs_up_count) servers up, want $((RFS_NSERVERS - 1))"
	[ -z "$RFS_REASON" ]
}

case_get_after_down() {
	get_ok /cd/f "$W/f" && get_ok /cd/g "$W/g"
}

case_put() {
	rand_file "$W/h" $((C * 2 + 12345))
	rfs_cli put "$W/h" /cd/h ||
		{ fail "put with $VICTIM down rc=$RFS_RC: $(rfs_err_tail)"; return; }
	get_ok /cd/h "$W/h"
}

case_rejoin() {
	rfs_chunk_start "${VICTIM#cs}" ||
		{ fail "$VICTIM did not restart"; return; }
	rfs_wait_state "$VICTIM" up 30 ||
		fail "status does not show $VICTIM up again after restart"
	get_ok /cd/f "$W/f"
}

rfs_case chunk_down_get case_get
rfs_case chunk_down_status case_status
rfs_case chunk_down_get_after_down case_get_after_down
rfs_case chunk_down_put case_put
rfs_case chunk_down_rejoin case_rejoin
rfs_finish
