#!/bin/bash
# The FUSE client's read-ahead option (issue 5): -o readahead=auto (the
# default: the prefetch threads stay off once the kernel's own read-ahead
# is raised, as root), -o readahead=BYTES (threads on, window BYTES) and
# -o readahead=0 (no threads) all read files of many chunks back exactly,
# sequentially with several request sizes, with jumps, and while writes
# land ahead of the reader; bad values are refused before mounting. The
# block cache of small reads (-o block_cache): 4 KiB random reads are
# exact with it on and off, also after the file changed through this
# mount and through another one (reopened: close-to-open).
# Skipped (77) when /dev/fuse or fusermount3 is not usable.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fuselib.sh"

C=$RFS_CHUNK_SIZE
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)
RFS_CASES="fuse_readahead_bad_values fuse_readahead_auto fuse_readahead_window
fuse_readahead_off fuse_readahead_block_cache"
fc_setup
rfs_cluster_start || rfs_abort "cluster did not start: $RFS_REASON"
W=$RFS_TMP/work
M=$RFS_TMP/mnt
L=$W/local
mkdir -p "$L" "$M"

# mount_log NAME: what mount NAME logged since it started.
mount_log() {
	tail -n +"$((${RFS_LOGSTART[$1]:-0} + 1))" "$RFS_TMP/logs/$1.log"
}

# wait_log NAME REGEX: poll (a few seconds) until mount NAME logged REGEX.
wait_log() {
	for _ in $(seq 1 50); do
		mount_log "$1" | grep -qE "$2" && return 0
		sleep 0.1
	done
	return 1
}

# check_reads DIR NAME: the file written once through the first mount
# reads back exactly through the mount at DIR: sequentially with several
# request sizes on a cold page cache, in jumps, and while a write lands
# ahead of the reader.
check_reads() {
	local d=$1 f=$1/seq bs off
	for bs in 4k 128k 1M 3M; do
		echo 3 >/proc/sys/vm/drop_caches 2>/dev/null
		timeout -k 5 "$RFS_CMD_TIMEOUT" dd if="$f" of="$W/got" bs=$bs \
			status=none || { fail "$2: dd bs=$bs failed"; return 1; }
		cmp -s "$W/got" "$L/seq" || { fail "$2: dd bs=$bs read other bytes"; return 1; }
	done
	for off in 17 3 9 0 20 21; do
		timeout -k 5 "$RFS_CMD_TIMEOUT" dd if="$f" of="$W/part" bs=1M \
			skip="$off" count=2 iflag=direct status=none ||
			{ fail "$2: direct read at ${off}M failed"; return 1; }
		dd if="$L/seq" of="$W/want" bs=1M skip="$off" count=2 status=none
		cmp -s "$W/part" "$W/want" || { fail "$2: direct read at ${off}M differs"; return 1; }
	done
	# a sequential reader (read-ahead running) and a write ahead of it
	exec 7<"$f"
	timeout -k 5 "$RFS_CMD_TIMEOUT" dd of="$W/a" bs=1M count=4 iflag=direct status=none <&7
	head -c $((C + 777)) /dev/urandom >"$W/piece"
	dd if="$W/piece" of="$f" bs=1M seek=8 conv=notrunc status=none
	dd if="$W/piece" of="$L/seq" bs=1M seek=8 conv=notrunc status=none
	timeout -k 5 "$RFS_CMD_TIMEOUT" dd of="$W/b" bs=1M iflag=direct status=none <&7
	exec 7<&-
	cat "$W/a" "$W/b" >"$W/got"
	cmp -s "$W/got" "$L/seq" || { fail "$2: the reader missed a write ahead of it"; return 1; }
}

# mount_with NAME OPTS CHECK_REGEX: mount at $M with OPTS, the log line
# telling how read-ahead runs must show up at the first open, the reads
# must be exact; unmounted again.
mount_with() {
	local name=$1 opts=$2 re=$3
	fc_mount "$name" "$M" $opts || { fail "$name: mount did not appear"; return 1; }
	cat "$M/seq" >/dev/null || fail "$name: first read failed"
	wait_log "$name" "$re" || fail "$name: no log line matching '$re'"
	check_reads "$M" "$name"
	fc_umount "$name" "$M"
	[ -z "$RFS_REASON" ]
}

case_bad_values() {
	local v
	for v in -1 1X 65M 100G abc 8MB ""; do
		rfs_run "$RFS_MOUNT_BIN" -f -o "readahead=$v" \
			"127.0.0.1:${RFS_PORT[meta]}" "$M"
		[ "$RFS_RC" -eq 2 ] || { fail "readahead=$v: rc=$RFS_RC, want 2"; continue; }
		grep -q "bad readahead" "$RFS_TMP/cmd.err" ||
			fail "readahead=$v: no message naming the option"
		fc_is_mounted "$M" && fail "readahead=$v: mounted anyway"
	done
	for v in -1 2G abc 8MB; do
		rfs_run "$RFS_MOUNT_BIN" -f -o "block_cache=$v" \
			"127.0.0.1:${RFS_PORT[meta]}" "$M"
		[ "$RFS_RC" -eq 2 ] || { fail "block_cache=$v: rc=$RFS_RC, want 2"; continue; }
		grep -q "bad block_cache" "$RFS_TMP/cmd.err" ||
			fail "block_cache=$v: no message naming the option"
		fc_is_mounted "$M" && fail "block_cache=$v: mounted anyway"
	done
	rfs_run "$RFS_MOUNT_BIN" --help
	grep -q "readahead=BYTES" "$RFS_TMP/cmd.out" || fail "--help does not list readahead"
	grep -q "block_cache=BYTES" "$RFS_TMP/cmd.out" || fail "--help does not list block_cache"
	[ -z "$RFS_REASON" ]
}

# The default: threads started in auto mode; as root the kernel's
# read-ahead is raised and they stay off.
case_auto() {
	rand_file "$L/seq" $((23 * C + 4321))
	fc_mount m0 "$M" || { fail "mount did not appear"; return; }
	cp "$L/seq" "$M/seq" || { fail "cp to the mount failed"; return; }
	fc_umount m0 "$M" || return
	if [ "$(id -u)" = 0 ]; then
		mount_with m1 "" "kernel read-ahead raised\" kib=[0-9]+ threads=off"
	else
		mount_with m1 "" "read-ahead threads started.*readahead=auto"
	fi
}

case_window() {
	mount_with m2 "-o readahead=16M" "read-ahead threads started.*readahead=16777216" &&
		mount_with m3 "-o readahead=300k" "read-ahead threads started.*readahead=307200"
}

case_off() {
	mount_with m4 "-o readahead=0" "read-ahead threads off"
}

# rand_reads MOUNT_FILE LOCAL_FILE SEED: 400 reads of 1..4096 bytes at
# random offsets (O_DIRECT is not used: the block cache sits under the
# kernel's page cache, so drop that first) match the local copy.
rand_reads() {
	echo 3 >/proc/sys/vm/drop_caches 2>/dev/null
	rfs_run "$PY" -c '
import os, random, sys
m, l, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
r = random.Random(seed)
fm, fl = os.open(m, os.O_RDONLY), os.open(l, os.O_RDONLY)
size = os.fstat(fl).st_size
for i in range(400):
    n = r.randint(1, 4096)
    off = r.randrange(0, size)
    if os.pread(fm, n, off) != os.pread(fl, n, off):
        sys.exit("read %d of %d bytes at %d differs" % (i, n, off))
' "$1" "$2" "$3"
}

# Random small reads with the block cache (1M) and without, before and
# after a rewrite of part of the file through this mount, and after one
# through a second mount.
case_block_cache() {
	local opts m2=$RFS_TMP/mnt2
	for opts in "-o block_cache=1M" "-o block_cache=0"; do
		fc_mount bc "$M" $opts || { fail "mount $opts"; return; }
		rand_reads "$M/seq" "$L/seq" 1 || fail "$opts: $(rfs_err_tail)"
		head -c $((3 * C)) /dev/urandom >"$W/piece"
		dd if="$W/piece" of="$M/seq" bs=64k seek=5 conv=notrunc status=none
		dd if="$W/piece" of="$L/seq" bs=64k seek=5 conv=notrunc status=none
		rand_reads "$M/seq" "$L/seq" 2 || fail "$opts after a write: $(rfs_err_tail)"
		mkdir -p "$m2"
		fc_mount bc2 "$m2" || { fail "second mount"; fc_umount bc "$M"; return; }
		head -c $((2 * C + 99)) /dev/urandom >"$W/piece"
		dd if="$W/piece" of="$m2/seq" bs=4k seek=3 conv=notrunc status=none
		dd if="$W/piece" of="$L/seq" bs=4k seek=3 conv=notrunc status=none
		fc_umount bc2 "$m2"
		rand_reads "$M/seq" "$L/seq" 3 ||
			fail "$opts after another mount's write: $(rfs_err_tail)"
		fc_umount bc "$M"
	done
	[ -z "$RFS_REASON" ]
}

rfs_case fuse_readahead_bad_values case_bad_values
rfs_case fuse_readahead_auto case_auto
rfs_case fuse_readahead_window case_window
rfs_case fuse_readahead_off case_off
rfs_case fuse_readahead_block_cache case_block_cache
fc_finish
