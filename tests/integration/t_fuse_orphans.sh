#!/bin/bash
# Unlinked open files on the FUSE mount (docs/fuse.md, "Unlinked open
# files"): after unlink, or a rename over it, of a file that is still
# open, its descriptors keep working (read, write, fsync, fstat with
# nlink 0, ftruncate) until the last close; then the file and its chunks
# go (ringfs-admin status: inode and chunk counts back). An unlink while
# other files are open frees the file at once; the orphans of a mount
# killed with -9 are freed once its session lease runs out; an orphan
# survives a metaserver restart (the mount reopens its session). The
# descriptor work is done by a python3 holder (skipped (77) without
# python3 or a usable FUSE).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fuselib.sh"

PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)
if [ -z "$PY" ]; then
	echo "SKIP t_fuse_orphans: no python3"
	exit 77
fi
C=$RFS_CHUNK_SIZE
# A short lease keeps the kill -9 and restart cases short.
LEASE_S=4
RFS_META_OPTS="${RFS_META_OPTS:-} --session-lease-ms=$((LEASE_S * 1000))"
WAIT_S=$((LEASE_S * 5)) # bound of every wait for the metaserver to free

RFS_CASES="fuse_orphans_mount fuse_orphans_unlink_open
fuse_orphans_rename_over fuse_orphans_unlink_closed
fuse_orphans_mount_killed fuse_orphans_meta_restart fuse_orphans_unmount"
fc_setup
rfs_cluster_start || rfs_abort "cluster did not start: $RFS_REASON"
W=$RFS_TMP/work
M1=$RFS_TMP/mnt1
M2=$RFS_TMP/mnt2
mkdir -p "$W"

# The holder: opens PATH read-write, then (MODE) unlinks it, renames SRC
# over it or leaves it; through the descriptor it checks the old bytes,
# fstat's nlink and size, a write past the end, fsync, ftruncate and a
# read back; writes READY, waits for GO, checks the bytes once more,
# closes. Any difference: a message on stderr and exit 1.
HOLDER=$W/holder.py
cat >"$HOLDER" <<'EOF'
import os, sys, time
mode, path, src, ready, go = sys.argv[1:6]

def die(msg):
    sys.stderr.write("holder: " + msg + "\n")
    sys.exit(1)

def read_all(fd):
    size = os.fstat(fd).st_size
    data = os.pread(fd, size + 1, 0)
    return data

fd = os.open(path, os.O_RDWR)
old = read_all(fd)
if mode == "unlink":
    os.unlink(path)
    want_nlink = 0
elif mode == "rename":
    os.rename(src, path)
    want_nlink = 0
else:
    want_nlink = 1
if mode != "none":
    if mode == "unlink" and os.path.exists(path):
        die("the name is still there after unlink")
    if read_all(fd) != old:
        die("old bytes differ after %s" % mode)
st = os.fstat(fd)
if st.st_nlink != want_nlink:
    die("fstat nlink %d, want %d" % (st.st_nlink, want_nlink))
extra = bytes((i * 7) % 251 for i in range(100000))
if os.pwrite(fd, extra, len(old)) != len(extra):
    die("short write")
os.fsync(fd)
want = old + extra
if read_all(fd) != want:
    die("bytes after write + fsync differ")
cut = len(want) - 12345
os.ftruncate(fd, cut)
want = want[:cut]
if os.fstat(fd).st_size != cut:
    die("size after ftruncate %d, want %d" % (os.fstat(fd).st_size, cut))
if read_all(fd) != want:
    die("bytes after ftruncate differ")
open(ready, "w").close()
deadline = time.time() + 300
while not os.path.exists(go):
    if time.time() > deadline:
        die("no go")
    time.sleep(0.05)
if read_all(fd) != want:
    die("bytes differ later")
if os.fstat(fd).st_nlink != want_nlink:
    die("nlink changed later")
os.close(fd)
EOF

# counts: "INODES CHUNKS" from ringfs-admin status.
counts() {
	RFS_OUT=$W/status.out RFS_ERR=$W/status.err rfs_admin status ||
		{ echo "? ?"; return 1; }
	echo "$(sed -n 's/^inodes: //p' "$W/status.out")" \
		"$(sed -n 's/^chunks: //p' "$W/status.out")"
}

# wait_counts WANT SECONDS: poll until counts gives WANT.
wait_counts() {
	local deadline=$((SECONDS + $2))
	while [ $SECONDS -lt $deadline ]; do
		[ "$(counts)" = "$1" ] && return 0
		sleep 0.2
	done
	return 1
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

# holder NAME MODE PATH [SRC]: start the holder in the background and
# wait until it has done its checks (HOLDER_PID[NAME]).
declare -A HOLDER_PID=()
holder() {
	local name=$1 mode=$2 path=$3 src=${4:--}
	rm -f "$W/$name.ready" "$W/$name.go"
	rfs_bg timeout -k 5 600 "$PY" "$HOLDER" "$mode" "$path" "$src" \
		"$W/$name.ready" "$W/$name.go" >"$W/$name.out" 2>&1
	HOLDER_PID[$name]=$RFS_BG_PID
	until [ -e "$W/$name.ready" ]; do
		if ! kill -0 "$RFS_BG_PID" 2>/dev/null; then
			wait "$RFS_BG_PID"
			fail "$name: holder exited $?: $(head -c 300 "$W/$name.out")"
			return 1
		fi
		sleep 0.05
	done
}

# release NAME: let the holder check once more and close; it must exit 0.
release() {
	local rc
	touch "$W/$1.go"
	wait "${HOLDER_PID[$1]}"
	rc=$?
	[ $rc -eq 0 ] && return 0
	fail "$1: holder exited $rc: $(head -c 300 "$W/$1.out")"
}

# make_file PATH SIZE: a file of SIZE random bytes, closed.
make_file() {
	head -c "$2" /dev/urandom >"$1" || fail "cannot write $1"
}

case_mount() {
	fc_mount m1 "$M1" || fail "mount 1 did not appear at $M1"
	fc_mount m2 "$M2" || fail "mount 2 did not appear at $M2"
	[ -z "$RFS_REASON" ]
}

case_unlink_open() {
	local base during
	base=$(counts)
	make_file "$M1/u" $((C * 5 / 2))
	holder u unlink "$M1/u" || return
	# the orphan and its chunks are still there, nameless
	during=$(counts)
	[ "$during" != "$base" ] ||
		fail "the open unlinked file is gone already ($during)"
	[ -e "$M2/u" ] && fail "another mount still sees the name"
	release u || return
	wait_counts "$base" "$WAIT_S" ||
		fail "not freed after the last close: $(counts), want $base"
	[ -z "$RFS_REASON" ]
}

case_rename_over() {
	local base
	base=$(counts)
	make_file "$M1/dst" $((C * 3 / 2))
	make_file "$M1/src" $((C / 2))
	cp "$M1/src" "$W/src.copy"
	holder r rename "$M1/dst" "$M1/src" || return
	cmp -s "$M1/dst" "$W/src.copy" || fail "dst does not hold src's bytes"
	release r || return
	# left: the renamed file only
	rm -f "$M1/dst"
	wait_counts "$base" "$WAIT_S" ||
		fail "not freed after the last close: $(counts), want $base"
	[ -z "$RFS_REASON" ]
}

# With another file open, the unlink carries the session, but a file
# not open here is released at once.
case_unlink_closed() {
	local base
	make_file "$M1/keep" 1000
	base=$(counts)
	make_file "$M1/gone" $((C * 2))
	holder k none "$M1/keep" || return
	rm "$M1/gone" || fail "rm failed"
	wait_counts "$base" "$WAIT_S" ||
		fail "an unlinked closed file was kept: $(counts), want $base"
	release k
	[ -z "$RFS_REASON" ]
}

case_mount_killed() {
	local base
	base=$(counts)
	make_file "$M2/k" $((C * 2))
	holder kk unlink "$M2/k" || return
	rfs_kill9 m2
	rfs_kill_tree "${HOLDER_PID[kk]}"
	rfs_reap "${HOLDER_PID[kk]}"
	[ "$(counts)" != "$base" ] ||
		fail "the orphan went before the session lease ran out"
	wait_counts "$base" "$WAIT_S" ||
		fail "the dead mount's orphan was not freed: $(counts), want $base"
	grep -q 'unlinked open files of an ended session' \
		"$RFS_TMP/logs/meta.log" || fail "no drop_orphans logged"
	fusermount3 -u "$M2" 2>/dev/null || fusermount3 -uz "$M2" 2>/dev/null
	fc_wait_mounted "$M2" no || fail "dead mount still at $M2"
	FC_MOUNTS=${FC_MOUNTS/ $M2/}
	FC_NAMES=${FC_NAMES/ m2/}
	[ -z "$RFS_REASON" ]
}

# The mount reopens its session under the same id after the restart, so
# the orphan outlives the grace period; it goes at the last close.
case_meta_restart() {
	local base
	base=$(counts)
	make_file "$M1/m" $((C * 2))
	holder mr unlink "$M1/m" || return
	rfs_stop meta 10 >/dev/null
	rfs_meta_start || { fail "metaserver did not restart"; return; }
	sleep $((LEASE_S * 2 + 1)) # grace over, the upkeep ran
	[ "$(counts)" != "$base" ] || fail "the orphan went with the restart"
	grep -q 'lock session reopened' "$RFS_TMP/logs/meta.log" ||
		fail "the mount did not reopen its session"
	release mr || return
	wait_counts "$base" "$WAIT_S" ||
		fail "not freed after the last close: $(counts), want $base"
	[ -z "$RFS_REASON" ]
}

case_unmount() {
	fc_umount m1 "$M1"
}

rfs_case fuse_orphans_mount case_mount
rfs_case fuse_orphans_unlink_open case_unlink_open
rfs_case fuse_orphans_rename_over case_rename_over
rfs_case fuse_orphans_unlink_closed case_unlink_closed
rfs_case fuse_orphans_mount_killed case_mount_killed
rfs_case fuse_orphans_meta_restart case_meta_restart
rfs_case fuse_orphans_unmount case_unmount
fc_finish
