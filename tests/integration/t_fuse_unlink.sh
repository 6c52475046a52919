#!/bin/bash
# Pipelined unlink on the FUSE mount (docs/fuse.md, "Pipelined unlink"):
# rm -rf of a nested tree leaves nothing (the mount, the CLI and the
# metaserver's inode count agree); an unlink followed at once by a create
# of the same name works; unlinks of many files then rmdir of their
# directory succeeds; another mount sees the names gone once the first
# mount's ls (which waits for the queue) returned; and all of it again
# on a mount with -o sync_unlink. Skipped (77) without a usable FUSE or
# python3.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fuselib.sh"

PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)
if [ -z "$PY" ]; then
	echo "SKIP t_fuse_unlink: no python3"
	exit 77
fi

RFS_CASES="fuse_unlink_mount fuse_unlink_rmrf_tree fuse_unlink_then_create
fuse_unlink_many_then_rmdir fuse_unlink_other_mount_sees
fuse_unlink_sync_mount fuse_unlink_sync_rmrf_tree
fuse_unlink_sync_then_create fuse_unlink_sync_many_then_rmdir
fuse_unlink_unmount"
fc_setup
rfs_cluster_start || rfs_abort "cluster did not start: $RFS_REASON"
W=$RFS_TMP/work
M1=$RFS_TMP/mnt1
M2=$RFS_TMP/mnt2
M3=$RFS_TMP/mnt3
mkdir -p "$W"

# inodes: the metaserver's inode count (ringfs-admin status).
inodes() {
	RFS_OUT=$W/status.out RFS_ERR=$W/status.err rfs_admin status ||
		{ echo "?"; return 1; }
	sed -n 's/^inodes: //p' "$W/status.out"
}

# make_tree DIR: 3 x 4 directories, 25 small files in each (300 files).
make_tree() {
	local a b f
	for a in 1 2 3; do
		for b in 1 2 3 4; do
			mkdir -p "$1/a$a/b$b" || return 1
			for f in $(seq 1 25); do
				echo "$a$b$f" >"$1/a$a/b$b/f$f" || return 1
			done
		done
	done
}

# case_rmrf_tree MNT NAME: rm -rf of a 300-file tree through MNT.
case_rmrf_tree() {
	local m=$1 name=$2 before after
	before=$(inodes)
	make_tree "$m/$name" || { fail "make tree"; return; }
	[ "$(find "$m/$name" -type f | wc -l)" = 300 ] ||
		{ fail "tree incomplete"; return; }
	rm -rf "$m/$name" || { fail "rm -rf"; return; }
	[ ! -e "$m/$name" ] || fail "$name still there"
	ls -A "$m" | grep -qx "$name" && fail "ls still lists $name"
	rfs_cli ls / || { fail "ringfs ls rc=$RFS_RC"; return; }
	grep -qw "$name" "$RFS_TMP/cmd.out" && fail "ringfs ls lists $name"
	after=$(inodes)
	rfs_log "inodes before $before, after $after"
	[ "$before" = "$after" ] || fail "inodes $before -> $after"
	[ -z "$RFS_REASON" ]
}

# case_then_create MNT: unlink and create the same name at once, 50 times.
case_then_create() {
	rfs_run "$PY" -c '
import os, sys
p = sys.argv[1] + "/again"
for i in range(50):
    with open(p, "w") as f:
        f.write("a%d" % i)
    os.unlink(p)
    with open(p, "x") as f:
        f.write("b%d" % i)
    with open(p) as f:
        got = f.read()
    if got != "b%d" % i:
        sys.exit("round %d: read %r" % (i, got))
    os.unlink(p)
if os.path.exists(p):
    sys.exit("still there")
' "$1" || fail "$(rfs_err_tail)"
	[ -z "$RFS_REASON" ]
}

# case_many_then_rmdir MNT: 200 unlinks, then rmdir of their directory
# (no listing in between that would wait for them).
case_many_then_rmdir() {
	rfs_run "$PY" -c '
import os, sys
d = sys.argv[1] + "/many"
os.mkdir(d)
for i in range(200):
    open("%s/f%d" % (d, i), "w").close()
for i in range(200):
    os.unlink("%s/f%d" % (d, i))
os.rmdir(d)
' "$1" || fail "$(rfs_err_tail)"
	[ ! -e "$1/many" ] || fail "many still there"
	[ -z "$RFS_REASON" ]
}

# Names unlinked on the first mount are gone on a second one once an ls
# on the first (which waits for its queue) returned.
case_other_mount_sees() {
	local left
	fc_mount m2 "$M2" || { fail "second mount"; return; }
	mkdir "$M1/seen" || { fail "mkdir"; return; }
	rfs_run "$PY" -c '
import os, sys
d = sys.argv[1]
for i in range(100):
    open("%s/f%d" % (d, i), "w").close()
for i in range(100):
    os.unlink("%s/f%d" % (d, i))
' "$M1/seen" || { fail "$(rfs_err_tail)"; return; }
	left=$(ls -A "$M1/seen" | wc -l)
	[ "$left" = 0 ] || fail "$left names left on the first mount"
	left=$(ls -A "$M2/seen" | wc -l)
	[ "$left" = 0 ] || fail "$left names left on the second mount"
	rmdir "$M1/seen" || fail "rmdir"
	fc_umount m2 "$M2"
	[ -z "$RFS_REASON" ]
}

rfs_case fuse_unlink_mount fc_mount m1 "$M1"
rfs_case fuse_unlink_rmrf_tree case_rmrf_tree "$M1" tree1
rfs_case fuse_unlink_then_create case_then_create "$M1"
rfs_case fuse_unlink_many_then_rmdir case_many_then_rmdir "$M1"
rfs_case fuse_unlink_other_mount_sees case_other_mount_sees
rfs_case fuse_unlink_sync_mount fc_mount m3 "$M3" -o sync_unlink
rfs_case fuse_unlink_sync_rmrf_tree case_rmrf_tree "$M3" tree3
rfs_case fuse_unlink_sync_then_create case_then_create "$M3"
rfs_case fuse_unlink_sync_many_then_rmdir case_many_then_rmdir "$M3"
rfs_case fuse_unlink_unmount eval 'fc_umount m3 "$M3" && fc_umount m1 "$M1"'
rfs_finish
