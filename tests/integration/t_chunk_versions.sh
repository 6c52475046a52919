#!/bin/bash
# Older chunk versions stay until the metaserver calls them stale.
#
# A writer that dies between its PUTs and its commit leaves every replica
# with a version the metaserver never heard of; the committed version must
# stay readable. The test plays that writer with curl: a lease, then the
# bytes of another file's chunk (with their CRCs, taken from a GET) PUT as
# the new version to every leased replica, no commit. Then:
#  - uncommitted_keeps_committed: ringfs get still returns the committed
#    bytes, also after the chunk servers' quick inventories ran;
#  - range_update_on_committed_base: a range update based on the committed
#    version (what the next writer's lease names) is accepted and leaves
#    the uncommitted one alone;
#  - commit_then_gc: once a newer version is committed, get returns it and
#    the older files are deleted within a few heartbeats (not the 60 s
#    full inventory), their disk space given back.
. "$(dirname "$0")/lib.sh"

RFS_CASES="uncommitted_keeps_committed range_update_on_committed_base commit_then_gc"
rfs_setup
rfs_cluster_start || rfs_abort "cluster did not start: $RFS_REASON"
W=$RFS_TMP/work
LEN=300000
GC_WAIT=60 # seconds; quick inventories come every few heartbeats (2 s)

META=http://127.0.0.1:${RFS_PORT[meta]}

# json_str KEY FILE / json_num KEY FILE: the first "KEY":"..." / "KEY":N.
json_str() { grep -o "\"$1\":\"[^\"]*\"" "$2" | head -1 | cut -d'"' -f4; }
json_num() { grep -o "\"$1\":[0-9]*" "$2" | head -1 | cut -d: -f2; }

# meta_post PATH JSON: POST to the metaserver; the status code on stdout.
meta_post() {
	rfs_http POST "$META$1" -H 'Content-Type: application/json' \
		--data-binary "$2"
}

# ino_of PATH: the inode (16 hex digits) of a remote path.
ino_of() {
	local b64
	b64=$(printf '%s' "$1" | base64 -w0)
	[ "$(meta_post /v1/ns/resolve "{\"op\":\"resolve\",\"data\":\"$b64\"}")" = 200 ] ||
		return 1
	json_str ino "$RFS_TMP/http.body"
}

# port_of SERVER: its HTTP port.
port_of() { echo "${RFS_PORT[$1]}"; }

# files_of SERVER CHUNK VERSION: that version's replica (or undo) files.
files_of() {
	find "$RFS_TMP/$1/chunks" -type f \
		-name "$2_$(printf '%08x' "$3")*" ! -name '*.tmp.*' 2>/dev/null
}

# used_sum: bytes the chunk servers say they use, summed (from /health).
used_sum() {
	local n sum=0 u
	for n in $(seq 1 $RFS_NSERVERS); do
		[ "$(rfs_http GET "http://127.0.0.1:$(port_of "cs$n")/health")" = 200 ] ||
			return 1
		u=$(json_num used "$RFS_TMP/http.body")
		sum=$((sum + ${u:-0}))
	done
	echo "$sum"
}

# meta_inventories: inventories the metaserver received so far.
meta_inventories() {
	curl -s --max-time "$RFS_CURL_TIMEOUT" "$META/metrics" |
		awk '/route="inventory"/ { print $NF; exit }'
}

rfs_cli mkdir /v || rfs_abort "mkdir /v failed: $(rfs_err_tail)"
rand_file "$W/a" $LEN
rand_file "$W/b" $LEN
rfs_cli put "$W/a" /v/a || rfs_abort "put /v/a failed: $(rfs_err_tail)"
rfs_cli put "$W/b" /v/b || rfs_abort "put /v/b failed: $(rfs_err_tail)"
IDA=$(rfs_placement_chunks /v/a) || rfs_abort "placement /v/a: $(rfs_err_tail)"
IDB=$(rfs_placement_chunks /v/b) || rfs_abort "placement /v/b: $(rfs_err_tail)"
INO=$(ino_of /v/a) || rfs_abort "resolve /v/a failed"
# B's bytes and their CRCs, straight from one of its replicas.
HB=$(rfs_holders "$IDB" | cut -d' ' -f1)
curl -s --max-time "$RFS_CURL_TIMEOUT" -D "$W/bh" -o "$W/bdata" \
	"http://127.0.0.1:$(port_of "$HB")/v1/chunk/$IDB?version=1" ||
	rfs_abort "GET of /v/b's chunk failed"
CRC=$(grep -i '^x-ringfs-crc32c:' "$W/bh" | cut -d' ' -f2 | tr -d '\r')
[ -n "$CRC" ] && cmp -s "$W/bdata" "$W/b" ||
	rfs_abort "GET of /v/b's chunk gave other bytes or no CRCs"

# The dying writer: lease version V2 of /v/a's chunk, PUT B's bytes.
[ "$(meta_post /v1/chunk/lease "{\"op\":\"lease\",\"ino\":\"$INO\",\"index\":0}")" = 200 ] ||
	rfs_abort "lease failed: $(cat "$RFS_TMP/http.body")"
cp "$RFS_TMP/http.body" "$W/lease"
V2=$(json_num version "$W/lease")
[ "$(json_str chunk_id "$W/lease")" = "$IDA" ] && [ "$V2" = 2 ] ||
	rfs_abort "unexpected lease: $(cat "$W/lease")"
ADDRS=$(grep -o '"addr":"[^"]*"' "$W/lease" | cut -d'"' -f4)
IDS=$(grep -o '"id":"[^"]*"' "$W/lease" | cut -d'"' -f4)
for a in $ADDRS; do
	st=$(rfs_http PUT "http://$a/v1/chunk/$IDA?version=$V2" \
		-H "X-Ringfs-Crc32c: $CRC" --data-binary "@$W/bdata")
	[ "$st" = 201 ] || rfs_abort "PUT v$V2 to $a: $st $(cat "$RFS_TMP/http.body")"
done

case_uncommitted_keeps_committed() {
	local s start n
	n=$(echo $IDS | wc -w)
	for s in $IDS; do
		[ -n "$(files_of "$s" "$IDA" 1)" ] && [ -n "$(files_of "$s" "$IDA" 2)" ] ||
			{ fail "$s does not hold both versions: $(ls -R "$RFS_TMP/$s/chunks" | tr '\n' ' ')"; return; }
	done
	rfs_cli get /v/a "$W/got1" || { fail "get: $(rfs_err_tail)"; return; }
	cmp -s "$W/got1" "$W/a" || { fail "get /v/a is not the committed data"; return; }
	# Let every chunk server send its quick inventory (twice, as it does
	# while the newest version stays uncommitted): nothing may go.
	start=$(meta_inventories)
	for _ in $(seq 1 $((GC_WAIT * 5))); do
		[ "$(meta_inventories)" -ge $((start + 2 * n)) ] 2>/dev/null && break
		sleep 0.2
	done
	for s in $IDS; do
		[ -n "$(files_of "$s" "$IDA" 1)" ] ||
			{ fail "v1 deleted from $s while v2 is uncommitted"; return; }
	done
	rm -f "$W/got1"
	rfs_cli get /v/a "$W/got1" || { fail "get after inventories: $(rfs_err_tail)"; return; }
	cmp -s "$W/got1" "$W/a" || fail "get /v/a changed after inventories"
}

# A range update of version 3 on base 1 (as the next writer's lease says),
# 64 KiB of B at offset 64 KiB: accepted although 2 is the newest held.
case_range_update_on_committed_base() {
	local a st
	dd if="$W/bdata" of="$W/piece" bs=65536 skip=1 count=1 status=none
	PCRC=$(echo "$CRC" | cut -d, -f2)
	for a in $ADDRS; do
		st=$(rfs_http PUT "http://$a/v1/chunk/$IDA?version=3&offset=65536&base=1&base_length=$LEN" \
			-H "X-Ringfs-Crc32c: $PCRC" --data-binary "@$W/piece")
		[ "$st" = 201 ] || { fail "range PUT v3 to $a: $st $(cat "$RFS_TMP/http.body")"; return; }
		for v in 1 2 3; do
			st=$(rfs_http GET "http://$a/v1/chunk/$IDA?version=$v")
			[ "$st" = 200 ] || { fail "GET v$v from $a: $st"; return; }
			cp "$RFS_TMP/http.body" "$W/v$v"
		done
		cmp -s "$W/v1" "$W/a" && cmp -s "$W/v2" "$W/b" ||
			{ fail "$a: v1 or v2 changed by the update"; return; }
		cp "$W/a" "$W/want3"
		dd if="$W/piece" of="$W/want3" bs=65536 seek=1 conv=notrunc status=none
		cmp -s "$W/v3" "$W/want3" || { fail "$a: v3 is not v1 with the piece"; return; }
	done
}

case_commit_then_gc() {
	local reps="" s used0 used1 deadline left
	for s in $IDS; do
		reps="$reps{\"id\":\"$s\",\"addr\":\"\",\"up\":false},"
	done
	used0=$(used_sum) || { fail "cannot read /health"; return; }
	[ "$(meta_post /v1/chunk/commit "{\"op\":\"commit\",\"ino\":\"$INO\",\"index\":0,\"chunk_id\":\"$IDA\",\"version\":$V2,\"length\":$LEN,\"replicas\":[${reps%,}]}")" = 200 ] ||
		{ fail "commit failed: $(cat "$RFS_TMP/http.body")"; return; }
	rfs_cli get /v/a "$W/got2" || { fail "get: $(rfs_err_tail)"; return; }
	cmp -s "$W/got2" "$W/b" || { fail "get /v/a is not the committed v2"; return; }
	# Version 1 goes; version 3 (newer, never committed) stays.
	deadline=$((SECONDS + GC_WAIT))
	while [ $SECONDS -lt $deadline ]; do
		left=
		for s in $IDS; do
			[ -n "$(files_of "$s" "$IDA" 1)" ] && left="$left $s"
		done
		[ -z "$left" ] && break
		sleep 0.5
	done
	[ -z "$left" ] || { fail "v1 still on$left ${GC_WAIT}s after the commit"; return; }
	for s in $IDS; do
		[ -n "$(files_of "$s" "$IDA" 2)" ] && [ -n "$(files_of "$s" "$IDA" 3)" ] ||
			{ fail "$s lost v2 or v3"; return; }
	done
	used1=$(used_sum) || { fail "cannot read /health"; return; }
	[ "$used1" -le $((used0 - 2 * LEN)) ] ||
		fail "used bytes $used0 -> $used1: v1's space not given back"
}

rfs_case uncommitted_keeps_committed case_uncommitted_keeps_committed
rfs_case range_update_on_committed_base case_range_update_on_committed_base
rfs_case commit_then_gc case_commit_then_gc
rfs_finish
