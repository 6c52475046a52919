#!/bin/bash
# The FUSE client's data path (issue 4): truncates to odd sizes (inside a
# 64 KiB CRC block, across chunks, shrinking and growing) followed by reads
# and by writes past the end (the gap must read as zeros), through the
# mount and through the CLI; the kernel page cache kept across opens of an
# unchanged file and dropped when another mount changed it; sequential
# reads (read-ahead across chunk boundaries) of files of many chunks, also
# interleaved with writes; sparse files larger than one layout window;
# durability: chunk data reaches the disk at fsync (O_SYNC, -o sync_close:
# at write, at close), not at every PUT, and a new file's first chunk
# needs no lease request of its own.
# Skipped (77) when /dev/fuse or fusermount3 is not usable.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fuselib.sh"

C=$RFS_CHUNK_SIZE
B=65536
RFS_CASES="fuse_data_mount fuse_data_truncate_odd fuse_data_keep_cache
fuse_data_sequential fuse_data_read_during_write fuse_data_sparse_windows
fuse_data_durability fuse_data_sync_close fuse_data_clean_exit"
fc_setup
rfs_cluster_start || rfs_abort "cluster did not start: $RFS_REASON"
W=$RFS_TMP/work
M=$RFS_TMP/mnt
M2=$RFS_TMP/mnt2
M3=$RFS_TMP/mnt3
L=$W/local
mkdir -p "$L"

# same PATH_ON_MOUNT LOCAL: identical bytes (read through the mount).
same() {
	[ "$(tsha "$1")" = "$(sha "$2")" ]
}

# cached_pages FILE: pages of FILE in the page cache (fincore opens it,
# so this is what an open left there).
cached_pages() {
	timeout -k 5 "$RFS_CMD_TIMEOUT" fincore -nb -o PAGES "$1" 2>/dev/null |
		tr -d ' '
}

case_mount() {
	fc_mount m1 "$M" || { fail "mount did not appear at $M"; return; }
	fc_mount m2 "$M2" || fail "second mount did not appear at $M2"
}

# The file, then each step applied to it on the mount and on a local copy;
# after each the two must agree (mount and CLI).
case_truncate_odd() {
	local f=$M/t l=$L/t s
	rand_file "$l" $((3 * C + C / 2))
	cp "$l" "$f" || { fail "cp to the mount failed"; return; }
	for s in $((2 * C + B + 12345)) $((2 * C + 7)) $((C + B - 1)) \
		$((C + 5 * B + 1)) 70001 $((3 * C + 333)) 1 0 $((B + 17)); do
		truncate -s "$s" "$f" && truncate -s "$s" "$l" ||
			{ fail "truncate -s $s failed"; return; }
		same "$f" "$l" || { fail "after truncate -s $s: content differs"; return; }
		# a write past the end: the gap reads as zeros
		head -c 3000 /dev/urandom >"$W/piece"
		dd if="$W/piece" of="$f" bs=1 seek=$((s + B + 99)) conv=notrunc status=none &&
			dd if="$W/piece" of="$l" bs=1 seek=$((s + B + 99)) conv=notrunc status=none ||
			{ fail "write past $s failed"; return; }
		same "$f" "$l" || { fail "write past the end after truncate -s $s: differs"; return; }
		# and a write inside the cut block
		dd if="$W/piece" of="$f" bs=1 seek=$((s / 2)) count=100 conv=notrunc status=none &&
			dd if="$W/piece" of="$l" bs=1 seek=$((s / 2)) count=100 conv=notrunc status=none ||
			{ fail "write inside after truncate -s $s failed"; return; }
		same "$f" "$l" || { fail "write inside after truncate -s $s: differs"; return; }
	done
	rfs_cli get /t "$W/t.got" || { fail "ringfs get: $(rfs_err_tail)"; return; }
	cmp -s "$W/t.got" "$l" || fail "ringfs get of the truncated file differs"
	# another mount sees the same
	same "$M2/t" "$l" || fail "second mount reads other bytes"
}

case_keep_cache() {
	local f=$M/kc n
	rand_file "$L/kc" $((2 * C + 1000))
	cp "$L/kc" "$f" || { fail "cp failed"; return; }
	tsha "$f" >/dev/null
	# unchanged since the last close: the pages stay
	n=$(cached_pages "$f")
	[ "${n:-0}" -gt 0 ] 2>/dev/null ||
		{ fail "no cached pages kept at a reopen of an unchanged file ($n)"; return; }
	same "$f" "$L/kc" || { fail "cached read differs"; return; }
	# another mount changes it (same size): the next open drops them
	rand_file "$L/kc" $((2 * C + 1000))
	dd if="$L/kc" of="$M2/kc" bs=1M conv=notrunc status=none ||
		{ fail "write on the second mount failed"; return; }
	n=$(cached_pages "$f")
	[ "$n" = 0 ] || { fail "$n pages still cached after another mount's write"; return; }
	same "$f" "$L/kc" || { fail "the first mount does not see the new data"; return; }
	# a change through this mount keeps the cache right too
	dd if=/dev/urandom of="$L/kc" bs=4096 count=2 seek=3 conv=notrunc status=none
	dd if="$L/kc" of="$f" bs=4096 count=2 skip=3 seek=3 conv=notrunc status=none
	same "$f" "$L/kc" || fail "own write not seen"
	same "$M2/kc" "$L/kc" || fail "own write not seen by the second mount"
}

# Sequential reads with several request sizes of a file of many chunks
# (its end not on a block), each on a fresh page cache.
case_sequential() {
	local f=$M/seq bs
	rand_file "$L/seq" $((21 * C + 4321))
	cp "$L/seq" "$f" || { fail "cp failed"; return; }
	for bs in 4k 128k 1M 3M; do
		echo 3 >/proc/sys/vm/drop_caches 2>/dev/null
		timeout -k 5 "$RFS_CMD_TIMEOUT" dd if="$f" of="$W/seq.got" bs=$bs \
			status=none || { fail "dd bs=$bs failed"; return; }
		cmp -s "$W/seq.got" "$L/seq" || { fail "dd bs=$bs read other bytes"; return; }
	done
	# a reader that jumps around between sequential runs
	for off in 17 3 9 0 20; do
		timeout -k 5 "$RFS_CMD_TIMEOUT" dd if="$f" of="$W/seq.part" bs=1M \
			skip="$off" count=2 iflag=direct status=none ||
			{ fail "direct read at ${off}M failed"; return; }
		dd if="$L/seq" of="$W/seq.want" bs=1M skip="$off" count=2 status=none
		cmp -s "$W/seq.part" "$W/seq.want" || { fail "direct read at ${off}M differs"; return; }
	done
}

# One reader goes through the file sequentially (read-ahead running) while
# writes land ahead of it: it must read the new bytes.
case_read_during_write() {
	local f=$M/rw
	rand_file "$L/rw" $((12 * C))
	cp "$L/rw" "$f" || { fail "cp failed"; return; }
	head -c $((C + 777)) /dev/urandom >"$W/rw.piece"
	exec 7<"$f"
	timeout -k 5 "$RFS_CMD_TIMEOUT" dd of="$W/rw.a" bs=1M count=4 iflag=direct status=none <&7
	dd if="$W/rw.piece" of="$f" bs=1M seek=6 conv=notrunc status=none
	dd if="$W/rw.piece" of="$L/rw" bs=1M seek=6 conv=notrunc status=none
	timeout -k 5 "$RFS_CMD_TIMEOUT" dd of="$W/rw.b" bs=1M iflag=direct status=none <&7
	exec 7<&-
	cat "$W/rw.a" "$W/rw.b" >"$W/rw.got"
	cmp -s "$W/rw.got" "$L/rw" || fail "the reader missed a write made ahead of it"
}

# A sparse file longer than one layout window (256 chunks): data at both
# ends and in the middle, holes between.
case_sparse_windows() {
	local f=$M/sparse size=$((300 * C + 99)) at
	truncate -s $size "$f" && truncate -s $size "$L/sparse" ||
		{ fail "truncate failed"; return; }
	for at in 0 $((C - 5)) $((150 * C + 3)) $((256 * C - 1)) $((300 * C - 20)); do
		head -c 40000 /dev/urandom >"$W/sp.piece"
		dd if="$W/sp.piece" of="$f" bs=1 seek=$at conv=notrunc status=none &&
			dd if="$W/sp.piece" of="$L/sparse" bs=1 seek=$at conv=notrunc status=none ||
			{ fail "write at $at failed"; return; }
	done
	echo 3 >/proc/sys/vm/drop_caches 2>/dev/null
	same "$f" "$L/sparse" || { fail "sparse file differs"; return; }
	# the far end on its own, with a fresh layout (another mount)
	timeout -k 5 "$RFS_CMD_TIMEOUT" dd if="$M2/sparse" of="$W/sp.tail" bs=1M skip=298 status=none ||
		{ fail "tail read failed"; return; }
	dd if="$L/sparse" of="$W/sp.want" bs=1M skip=298 status=none
	cmp -s "$W/sp.tail" "$W/sp.want" || fail "tail of the sparse file differs"
}

# cs_syncs: POST /v1/sync requests all chunk servers answered so far.
cs_syncs() {
	local n sum=0 v
	for n in $(seq 1 $RFS_NSERVERS); do
		v=$(curl -s --max-time "$RFS_CURL_TIMEOUT" \
			"http://127.0.0.1:${RFS_PORT[cs$n]}/metrics" |
			awk '/^ringfs_chunk_requests_total\{op="sync"\}/ { print $NF }')
		sum=$((sum + ${v:-0}))
	done
	echo "$sum"
}

# meta_route NAME: requests of that route the metaserver received.
meta_route() {
	local v
	v=$(curl -s --max-time "$RFS_CURL_TIMEOUT" \
		"http://127.0.0.1:${RFS_PORT[meta]}/metrics" |
		awk -v r="route=\"$1\"" 'index($0, r) { print $NF; exit }')
	echo "${v:-0}"
}

# A new small file: its chunk goes out unsynced under the lease the
# create took (no lease request); fsync, fdatasync and O_SYNC writes sync
# the chunk servers; the data reads back.
case_durability() {
	local s0 s1 l0 l1 c0 c1
	mkdir -p "$M/dur" || { fail "mkdir on the mount failed"; return; }
	rand_file "$L/dur1" 4096
	rand_file "$L/dur2" $((C + 5000))
	s0=$(cs_syncs) l0=$(meta_route lease) c0=$(meta_route commit)
	cp "$L/dur1" "$M/dur/a" || { fail "cp to the mount failed"; return; }
	s1=$(cs_syncs) l1=$(meta_route lease) c1=$(meta_route commit)
	[ "$s1" = "$s0" ] || fail "close of a new file synced ($s0 -> $s1 syncs)"
	[ "$l1" = "$l0" ] || fail "new file's first chunk took a lease ($l0 -> $l1)"
	[ "$c1" -gt "$c0" ] || fail "nothing was committed ($c0 -> $c1)"
	dd if="$L/dur2" of="$M/dur/b" bs=1M conv=fsync status=none ||
		{ fail "dd conv=fsync failed"; return; }
	s0=$(cs_syncs)
	[ "$s0" -gt "$s1" ] || fail "fsync sent no sync to the chunk servers"
	dd if="$L/dur1" of="$M/dur/c" bs=4k conv=fdatasync status=none ||
		{ fail "dd conv=fdatasync failed"; return; }
	s1=$(cs_syncs)
	[ "$s1" -gt "$s0" ] || fail "fdatasync sent no sync"
	dd if="$L/dur1" of="$M/dur/d" bs=4k oflag=sync status=none ||
		{ fail "dd oflag=sync failed"; return; }
	s0=$(cs_syncs)
	[ "$s0" -gt "$s1" ] || fail "an O_SYNC write sent no sync"
	# an fsync with nothing written since the last one: nothing to sync
	timeout -k 5 "$RFS_CMD_TIMEOUT" python3 -c 'import os, sys
fd = os.open(sys.argv[1], os.O_RDWR); os.fsync(fd); os.close(fd)' "$M/dur/d" ||
		fail "fsync of an unchanged file failed"
	s1=$(cs_syncs)
	[ "$s1" = "$s0" ] || fail "fsync of a synced file synced again"
	same "$M/dur/a" "$L/dur1" && same "$M/dur/b" "$L/dur2" &&
		same "$M/dur/c" "$L/dur1" && same "$M/dur/d" "$L/dur1" ||
		{ fail "content differs"; return; }
	rfs_cli get /dur/b "$W/dur.b" && cmp -s "$W/dur.b" "$L/dur2" ||
		fail "CLI get of the fsynced file differs"
}

# -o sync_close: close() alone syncs.
case_sync_close() {
	local s0 s1
	fc_mount m3 "$M3" -o sync_close || { fail "mount with -o sync_close"; return; }
	s0=$(cs_syncs)
	cp "$L/dur1" "$M3/dur/e" || { fail "cp to the mount failed"; return; }
	s1=$(cs_syncs)
	[ "$s1" -gt "$s0" ] || fail "close with -o sync_close sent no sync"
	same "$M/dur/e" "$L/dur1" || fail "content differs on the other mount"
	fc_umount m3 "$M3" || fail "unmount of the sync_close mount failed"
}

rfs_case fuse_data_mount case_mount
rfs_case fuse_data_truncate_odd case_truncate_odd
rfs_case fuse_data_keep_cache case_keep_cache
rfs_case fuse_data_sequential case_sequential
rfs_case fuse_data_read_during_write case_read_during_write
rfs_case fuse_data_sparse_windows case_sparse_windows
rfs_case fuse_data_durability case_durability
rfs_case fuse_data_sync_close case_sync_close
fc_finish
