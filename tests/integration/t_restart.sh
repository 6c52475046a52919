#!/bin/bash
# Restart of the whole cluster keeps all data: stop every daemon (SIGTERM,
# they must exit cleanly), start them again on the same dirs and ports, and
# every file reads back with its SHA-256; then the same after kill -9 of
# every daemon at once.
. "$(dirname "$0")/lib.sh"

RFS_CASES="restart_clean_shutdown restart_keeps_data restart_after_kill9
restart_writable"
rfs_setup
rfs_cluster_start || rfs_abort "cluster did not start: $RFS_REASON"
W=$RFS_TMP/work
C=$RFS_CHUNK_SIZE

# name:size of the files kept across restarts.
FILES="a:0 b:1 c:$((C - 1)) d:$((C * 5 + 333)) e:$((C * 2))"
rfs_cli mkdir -p /rs/sub/deeper || rfs_abort "mkdir -p failed: $(rfs_err_tail)"
for f in $FILES; do
	rand_file "$W/${f%%:*}" "${f#*:}"
	rfs_cli put "$W/${f%%:*}" "/rs/sub/${f%%:*}" ||
		rfs_abort "put /rs/sub/${f%%:*} failed: $(rfs_err_tail)"
done
rfs_cli ls -l /rs/sub || rfs_abort "ls -l failed: $(rfs_err_tail)"
cp "$RFS_TMP/cmd.out" "$W/ls.before"

# check_all: every file reads back with its SHA-256, the tree is intact.
check_all() {
	local f name
	for f in $FILES; do
		name=${f%%:*}
		rm -f "$W/got"
		if ! rfs_cli get "/rs/sub/$name" "$W/got"; then
			fail "get /rs/sub/$name rc=$RFS_RC: $(rfs_err_tail)"
		elif [ "$(sha "$W/got")" != "$(sha "$W/$name")" ]; then
			fail "/rs/sub/$name: SHA-256 differs"
		fi
	done
	rfs_cli stat /rs/sub/deeper || fail "directory /rs/sub/deeper lost"
	rfs_cli ls /rs/sub || { fail "ls rc=$RFS_RC"; return; }
	for f in $FILES deeper; do
		out_has_token "${f%%:*}" || fail "ls /rs/sub lost ${f%%:*}"
	done
	[ -z "$RFS_REASON" ]
}

case_clean_shutdown() {
	local name rc
	# Chunk servers first, the metaserver last, as an operator would.
	for name in cs1 cs2 cs3 meta; do
		rfs_stop "$name" 10
		rc=$?
		[ $rc -eq 2 ] && fail "$name ignored SIGTERM for 10s"
		[ $rc -eq 1 ] && fail "$name exited non-zero after SIGTERM" \
			"($(tail -n 1 "$RFS_TMP/logs/$name.log"))"
	done
	[ -z "$RFS_REASON" ]
}

case_keeps_data() {
	rfs_cluster_restart || return
	check_all
}

case_after_kill9() {
	local name
	rfs_cli put "$W/d" /rs/late || { fail "put rc=$RFS_RC: $(rfs_err_tail)"; return; }
	for name in meta cs1 cs2 cs3; do
		kill -9 "${RFS_PID[$name]}" 2>/dev/null
	done
	for name in meta cs1 cs2 cs3; do
		rfs_kill9 "$name"
	done
	rfs_cluster_restart || return
	check_all
	rfs_cli cat /rs/late || { fail "cat /rs/late rc=$RFS_RC: $(rfs_err_tail)"; return; }
	[ "$(sha "$RFS_TMP/cmd.out")" = "$(sha "$W/d")" ] ||
		fail "/rs/late (put just before kill -9): SHA-256 differs"
}

case_writable() {
	rfs_cli put "$W/e" /rs/new || { fail "put rc=$RFS_RC: $(rfs_err_tail)"; return; }
	rfs_cli cat /rs/new || { fail "cat rc=$RFS_RC"; return; }
	[ "$(sha "$RFS_TMP/cmd.out")" = "$(sha "$W/e")" ] || fail "content differs"
}

rfs_case restart_clean_shutdown case_clean_shutdown
rfs_case restart_keeps_data case_keeps_data
rfs_case restart_after_kill9 case_after_kill9
rfs_case restart_writable case_writable
rfs_finish
