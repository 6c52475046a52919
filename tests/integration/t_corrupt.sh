#!/bin/bash
# A corrupted replica byte: get still returns the right data (the client
# checks every 64 KiB block's CRC32C and falls back to the other replica)
# and says on stderr which replica was bad (server id or address).
#
# The client may prefer either replica, so each round corrupts one byte in
# every replica one server X holds (never both replicas of a chunk) and
# expects the get to be correct; a round in which the client touched a bad
# replica must name X. Whatever rule the client uses to pick a replica, some
# server's round makes it read a bad one, so at least one round must report.
. "$(dirname "$0")/lib.sh"

RFS_CASES="corrupt_get_correct corrupt_reported corrupt_cat_correct"
rfs_setup
rfs_cluster_start || rfs_abort "cluster did not start: $RFS_REASON"
W=$RFS_TMP/work
C=$RFS_CHUNK_SIZE

rfs_cli mkdir /cr || rfs_abort "mkdir /cr failed: $(rfs_err_tail)"
rand_file "$W/f" $((C * 8 - 1000))
rfs_cli put "$W/f" /cr/f || rfs_abort "put /cr/f failed: $(rfs_err_tail)"
ids=$(rfs_placement_chunks /cr/f) || rfs_abort "placement /cr/f failed: $(rfs_err_tail)"
WANT=$(sha "$W/f")
REPORTED=
GOT_BAD=
ROUNDS=0

# corrupt_server N: flip one byte (in the second 64 KiB block, so the
# file's header, if any, stays intact) in each replica of /cr/f on csN;
# records what it flipped in $W/flipped.
corrupt_server() {
	local id file
	: >"$W/flipped"
	for id in $ids; do
		for file in $(rfs_replica_files "cs$1" "$id"); do
			rfs_flip_byte "$file" $((RFS_REPLICA_DATA_OFFSET + 65536 + 77)) ||
				return 1
			echo "$file" >>"$W/flipped"
		done
	done
}

# restore: flip the same bytes back.
restore() {
	local file
	while read -r file; do
		rfs_flip_byte "$file" $((RFS_REPLICA_DATA_OFFSET + 65536 + 77))
	done <"$W/flipped"
}

# One round per server; stops at the first round the client reports.
run_rounds() {
	local n
	for n in $(seq 1 $RFS_NSERVERS); do
		corrupt_server "$n" || { GOT_BAD="cannot corrupt cs$n"; return; }
		[ -s "$W/flipped" ] || continue
		ROUNDS=$((ROUNDS + 1))
		rm -f "$W/got"
		if ! rfs_cli get /cr/f "$W/got"; then
			GOT_BAD="${GOT_BAD}get with cs$n corrupted rc=$RFS_RC: $(rfs_err_tail); "
		elif [ "$(sha "$W/got")" != "$WANT" ]; then
			GOT_BAD="${GOT_BAD}get with cs$n corrupted: SHA-256 differs; "
		fi
		cp "$RFS_TMP/cmd.err" "$W/err.cs$n"
		if grep -qE "(^|[^0-9A-Za-z])(cs$n|127\.0\.0\.1:${RFS_PORT[cs$n]})([^0-9]|$)" \
			"$W/err.cs$n"; then
			REPORTED=cs$n
			CORRUPTED=$n # stays corrupted for the cat case
			return
		fi
		restore
	done
}

case_get_correct() {
	run_rounds
	[ $ROUNDS -gt 0 ] || fail "no replica file of /cr/f found on disk"
	[ -z "$GOT_BAD" ] || fail "$GOT_BAD"
	[ -z "$RFS_REASON" ]
}

case_reported() {
	local n
	[ -n "$REPORTED" ] && return 0
	for n in $(seq 1 $RFS_NSERVERS); do
		[ -f "$W/err.cs$n" ] || continue
		fail "round cs$n: stderr does not name cs$n or" \
			"127.0.0.1:${RFS_PORT[cs$n]}: '$(tr '\n' ' ' <"$W/err.cs$n" | cut -c1-200)'"
	done
	[ -n "$RFS_REASON" ] || fail "no round ran"
}

case_cat_correct() {
	[ -n "$REPORTED" ] || { fail "skipped: no corrupted replica was read"; return; }
	rfs_cli cat /cr/f || { fail "cat rc=$RFS_RC: $(rfs_err_tail)"; return; }
	[ "$(sha "$RFS_TMP/cmd.out")" = "$WANT" ] ||
		fail "cat with a corrupted replica on cs$CORRUPTED: SHA-256 differs"
}

rfs_case corrupt_get_correct case_get_correct
rfs_case corrupt_reported case_reported
rfs_case corrupt_cat_correct case_cat_correct
rfs_finish
