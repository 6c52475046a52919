#!/bin/bash
# Metadata round trips of the FUSE client, counted on the metaserver's
# /metrics: a readdirplus page is one readdir request that carries every
# entry's attributes (no getattr per entry), with attributes as the files
# have them; a listing read to its end costs no extra request to learn that
# nothing follows; a listing resumed from an offset sees each entry once.
# Each count is taken on a fresh second mount, so the kernel has nothing
# cached. Namespace changes bring their directory's new attributes along:
# creates and unlinks cost no getattr of the directory, and the directory
# attributes the mount shows stay those the metaserver has. After the
# kernel forgets its entries, stats of every file in a directory cost a
# listing or two, not a lookup each, and show every change made through
# the same mount. Skipped (77) when /dev/fuse or fusermount3 is not usable.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fuselib.sh"

RFS_CASES="fuse_meta_mount fuse_meta_make fuse_meta_readdirplus_attrs
fuse_meta_readdirplus_one_trip fuse_meta_readdir_eof fuse_meta_readdir_resume
fuse_meta_changes_no_dir_getattr fuse_meta_dir_attrs_follow_changes
fuse_meta_setattr_with_commit fuse_meta_name_cache fuse_meta_unmount"
fc_setup
rfs_cluster_start || rfs_abort "cluster did not start: $RFS_REASON"
M=$RFS_TMP/mnt
M2=$RFS_TMP/mnt2
M3=$RFS_TMP/mnt3
NCHANGES=200
NFILES=300
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)

# meta_count ROUTE: requests the metaserver served on ROUTE so far.
meta_count() {
	curl -s --max-time "$RFS_CURL_TIMEOUT" \
		"http://127.0.0.1:${RFS_PORT[meta]}/metrics" |
		awk -v r="route=\"$1\"" 'index($0, r) { print $NF; exit }'
}

# counts_now: "readdir getattr lookup" request counts.
counts_now() {
	echo "$(meta_count readdir) $(meta_count getattr) $(meta_count lookup)"
}

# A directory of NFILES files of distinct sizes and modes, a subdirectory
# and a symlink, made through the first mount.
case_make() {
	local i
	umask 022
	mkdir -p "$M/big" "$M/small" || { fail "mkdir"; return; }
	for i in $(seq 1 $NFILES); do
		head -c "$i" /dev/zero >"$M/big/f$i" || { fail "write f$i"; return; }
	done
	chmod 0600 "$M/big/f7" && chmod 0751 "$M/big/f8" &&
		mkdir "$M/big/sub" && ln -s target "$M/big/sym" &&
		: >"$M/small/a" && : >"$M/small/b" || fail "setup"
	[ -z "$RFS_REASON" ]
}

# Sizes, modes and types from the readdirplus attributes match the files.
case_readdirplus_attrs() {
	local out want
	fc_mount m2 "$M2" || { fail "second mount"; return; }
	out=$(cd "$M2/big" && ls -ln --time-style=+ . | awk 'NR > 1 {
		print $1, ($1 ~ /^d/ ? "-" : $5), $NF }' | sort)
	want=$(
		for i in $(seq 1 $NFILES); do
			m=-rw-r--r--
			[ "$i" = 7 ] && m=-rw-------
			[ "$i" = 8 ] && m=-rwxr-x--x
			echo "$m $i f$i"
		done
		echo "drwxr-xr-x - sub"
		echo "lrwxrwxrwx 6 target"
	)
	want=$(echo "$want" | sort)
	[ "$out" = "$want" ] || fail "ls -l differs: $(diff <(echo "$want") \
		<(echo "$out") | head -5 | tr '\n' '|')"
	fc_umount m2 "$M2"
	[ -z "$RFS_REASON" ]
}

# ls -l of NFILES + 2 entries on a cold mount: a few readdir requests, not
# a getattr or lookup per entry.
case_readdirplus_one_trip() {
	local before after rd ga lk
	fc_mount m2 "$M2" || { fail "second mount"; return; }
	stat "$M2/big" >/dev/null || { fail "stat big"; return; }
	read -r -a before <<<"$(counts_now)"
	[ "$(ls -l "$M2/big" | wc -l)" = $((NFILES + 3)) ] ||
		fail "ls -l lists $(ls -l "$M2/big" | wc -l) lines"
	read -r -a after <<<"$(counts_now)"
	rd=$((after[0] - before[0]))
	ga=$((after[1] - before[1]))
	lk=$((after[2] - before[2]))
	rfs_log "ls -l of $((NFILES + 2)) entries: readdir=$rd getattr=$ga lookup=$lk"
	[ "$rd" -ge 1 ] && [ "$rd" -le 8 ] || fail "$rd readdir requests"
	[ $((ga + lk)) -le 8 ] ||
		fail "$ga getattr + $lk lookup requests for one ls -l"
	fc_umount m2 "$M2"
	[ -z "$RFS_REASON" ]
}

# A small directory listed whole on a cold mount, twice (the kernel may
# use readdirplus the first time, readdir the next): one readdir request
# each.
case_readdir_eof() {
	local before after n
	fc_mount m2 "$M2" || { fail "second mount"; return; }
	stat "$M2/small" >/dev/null || { fail "stat small"; return; }
	for n in 1 2; do
		read -r -a before <<<"$(counts_now)"
		[ "$(ls -a "$M2/small" | tr '\n' ' ')" = ". .. a b " ] ||
			fail "listing $n: $(ls -a "$M2/small" | tr '\n' ' ')"
		read -r -a after <<<"$(counts_now)"
		[ $((after[0] - before[0])) = 1 ] ||
			fail "listing $n: $((after[0] - before[0])) readdir requests"
	done
	fc_umount m2 "$M2"
	[ -z "$RFS_REASON" ]
}

# Reading a listing in small steps (telldir/seekdir through Python's
# scandir on a reopened directory is not possible: use getdents64 with a
# tiny buffer) still gives every entry exactly once.
case_readdir_resume() {
	rfs_run "$PY" -c '
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
SYS_getdents64 = 217
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECTORY)
buf = ctypes.create_string_buffer(96)
names = []
while True:
    n = libc.syscall(SYS_getdents64, fd, buf, len(buf))
    if n < 0:
        sys.exit("getdents64: errno %d" % ctypes.get_errno())
    if n == 0:
        break
    off = 0
    while off < n:
        reclen = int.from_bytes(buf.raw[off + 16:off + 18], "little")
        name = buf.raw[off + 19:off + reclen].split(b"\0", 1)[0]
        names.append(name.decode())
        off += reclen
os.close(fd)
want = sorted(["."] + [".."] + os.listdir(sys.argv[1]))
if sorted(names) != want or len(names) != len(set(names)):
    sys.exit("got %d names (%d distinct), want %d" %
             (len(names), len(set(names)), len(want)))
' "$M/big" || fail "$(rfs_err_tail)"
	[ -z "$RFS_REASON" ]
}

# NCHANGES creates and unlinks in one directory: no getattr request (the
# directory's attributes come with each change). Long cache times on this
# mount, so no other attribute expires meanwhile.
case_changes_no_dir_getattr() {
	local before after ga
	fc_mount m2 "$M2" -o attr_timeout=60,entry_timeout=60 ||
		{ fail "second mount"; return; }
	mkdir "$M2/churn" && stat "$M2/churn" >/dev/null || { fail "mkdir"; return; }
	read -r -a before <<<"$(counts_now)"
	rfs_run "$PY" -c '
import os, sys
d, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    open("%s/f%d" % (d, i), "w").close()
for i in range(n):
    os.unlink("%s/f%d" % (d, i))
' "$M2/churn" "$NCHANGES" || { fail "$(rfs_err_tail)"; return; }
	read -r -a after <<<"$(counts_now)"
	ga=$((after[1] - before[1]))
	rfs_log "$NCHANGES creates + $NCHANGES unlinks: getattr=$ga"
	[ "$ga" = 0 ] || fail "$ga getattr requests"
	rmdir "$M2/churn" || fail "rmdir"
	fc_umount m2 "$M2"
	[ -z "$RFS_REASON" ]
}

# A directory's mode, nlink, owner and times seen through the mount, right
# after each change made through it, equal those a mount without any
# attribute cache fetches from the metaserver.
case_dir_attrs_follow_changes() {
	fc_mount m3 "$M3" -o attr_timeout=0,entry_timeout=0 ||
		{ fail "uncached mount"; return; }
	mkdir "$M/attrs" || { fail "mkdir"; return; }
	rfs_run "$PY" -c '
import os, sys
m, ref = sys.argv[1] + "/attrs", sys.argv[2] + "/attrs"
def key(p):
    s = os.stat(p)
    return (oct(s.st_mode), s.st_nlink, s.st_uid, s.st_gid,
            s.st_mtime_ns, s.st_ctime_ns)
def check(what, nlink):
    got, want = key(m), key(ref)
    if got != want or got[1] != nlink:
        sys.exit("%s: mount %s, metaserver %s, nlink want %d"
                 % (what, got, want, nlink))
check("start", 2)
for i in range(3):
    open("%s/f%d" % (m, i), "w").close()
    check("create %d" % i, 2)
os.mkdir(m + "/s1"); check("mkdir s1", 3)
os.mkdir(m + "/s2"); check("mkdir s2", 4)
os.rmdir(m + "/s1"); check("rmdir s1", 3)
os.chmod(m, 0o700); check("chmod 0700", 3)
os.rename(m + "/s2", m + "/s3"); check("rename", 3)
# a pipelined unlink: its times are exact once a listing waited for it
os.unlink(m + "/f0"); os.listdir(m); check("unlink", 3)
os.symlink("t", m + "/l"); check("symlink", 3)
os.link(m + "/f1", m + "/h"); check("link", 3)
os.rmdir(m + "/s3"); check("rmdir s3", 2)
os.chmod(m, 0o755); check("chmod 0755", 2)
' "$M" "$M3" || fail "$(rfs_err_tail)"
	fc_umount m3 "$M3"
	[ -z "$RFS_REASON" ]
}

# tar's way of making a file: create, write, futimens, fchown, fchmod,
# close. The three setattrs travel with the data's commit (no setattr
# request); fstat before the close already shows them; a mount without
# attribute cache sees them after it. A setattr before a later write does
# not win over that write's mtime, and one on a file buffered across a
# chunk boundary (sent on its own after the commits) lands too.
case_setattr_with_commit() {
	local before after
	fc_mount m3 "$M3" -o attr_timeout=0,entry_timeout=0 ||
		{ fail "uncached mount"; return; }
	mkdir "$M/tar" || { fail "mkdir"; return; }
	before=$(meta_count setattr)
	rfs_run "$PY" -c '
import os, sys, time
m, ref, big = sys.argv[1] + "/tar", sys.argv[2] + "/tar", int(sys.argv[3])
def make(name, size, t):
    fd = os.open(m + "/" + name, os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o600)
    os.write(fd, b"x" * size)
    os.utime(fd, ns=(t, t))
    os.fchown(fd, 1234, 5678)
    os.fchmod(fd, 0o640)
    s = os.fstat(fd)
    got = (s.st_size, oct(s.st_mode), s.st_uid, s.st_gid, s.st_mtime_ns)
    want = (size, oct(0o100640), 1234, 5678, t)
    if got != want:
        sys.exit("%s: fstat before close %s, want %s" % (name, got, want))
    os.close(fd)
    return want
wants = {}
for i in range(20):
    wants["f%d" % i] = make("f%d" % i, 100 + i, (1000000000 + i) * 10**9 + i)
wants["big"] = make("big", big + 10, 1500000000 * 10**9)
for name, want in wants.items():
    s = os.stat(ref + "/" + name)
    got = (s.st_size, oct(s.st_mode), s.st_uid, s.st_gid, s.st_mtime_ns)
    if got != want:
        sys.exit("%s: uncached mount %s, want %s" % (name, got, want))
fd = os.open(m + "/later", os.O_CREAT | os.O_WRONLY, 0o644)
os.write(fd, b"a")
os.utime(fd, ns=(10**9, 10**9))
t0 = time.time_ns() - 60 * 10**9
os.write(fd, b"b")
os.close(fd)
if os.stat(ref + "/later").st_mtime_ns < t0:
    sys.exit("a write after utime kept the utime mtime")
' "$M" "$M3" "$RFS_CHUNK_SIZE" || fail "$(rfs_err_tail)"
	after=$(meta_count setattr)
	# only the big file, buffered across a chunk boundary, sends one
	rfs_log "setattr requests: $((after - before))"
	[ "$((after - before))" = 1 ] || fail "$((after - before)) setattr requests, want 1"
	rm -rf "$M/tar"
	fc_umount m3 "$M3"
	[ -z "$RFS_REASON" ]
}

# forget_dentries: make the kernel forget its cached names and inodes
# (needs root, as the mounts do).
forget_dentries() {
	sync && echo 2 >/proc/sys/vm/drop_caches 2>/dev/null
}

# stat_all DIR: "name ino mode nlink uid gid size mtime ctime" per entry
# of DIR's listing on the uncached mount, each stat'ed in DIR.
stat_all() {
	rfs_run "$PY" -c '
import os, sys
d, names = sys.argv[1], sorted(os.listdir(sys.argv[2]))
for n in names:
    s = os.lstat(d + "/" + n)
    print(n, s.st_ino, oct(s.st_mode), s.st_nlink, s.st_uid, s.st_gid,
          s.st_size, s.st_mtime_ns, s.st_ctime_ns)
' "$1" "$M3/big" && cat "$RFS_TMP/cmd.out"
}

# With long cache times, a cold stat of every file costs a listing, not a
# lookup per file; then changes made through the same mount (data, mode,
# times, size, rename, unlink, link) all show after the kernel forgets
# its entries again: every attribute equals an uncached mount's.
case_name_cache() {
	local before after lk rd i want got
	fc_mount m2 "$M2" -o attr_timeout=30,entry_timeout=30 ||
		{ fail "second mount"; return; }
	fc_mount m3 "$M3" -o attr_timeout=0,entry_timeout=0 ||
		{ fail "uncached mount"; return; }
	forget_dentries || { fail "drop_caches: not writable"; return; }
	read -r -a before <<<"$(counts_now)"
	for i in $(seq 1 $NFILES); do
		[ "$(stat -c %s "$M2/big/f$i")" = "$i" ] ||
			{ fail "f$i: size $(stat -c %s "$M2/big/f$i")"; return; }
	done
	read -r -a after <<<"$(counts_now)"
	rd=$((after[0] - before[0]))
	lk=$((after[2] - before[2]))
	rfs_log "stat of $NFILES files, cold: readdir=$rd lookup=$lk"
	[ "$lk" -le 4 ] || fail "$lk lookup requests"
	[ "$rd" -ge 1 ] && [ "$rd" -le 4 ] || fail "$rd readdir requests"
	printf 'hello' >>"$M2/big/f10" && chmod 0700 "$M2/big/f11" &&
		mv "$M2/big/f12" "$M2/big/f12.moved" && rm "$M2/big/f13" &&
		ln "$M2/big/f14" "$M2/big/f14.link" &&
		truncate -s 0 "$M2/big/f15" &&
		touch -d @1000000000 "$M2/big/f16" ||
		{ fail "changes through the cached mount"; return; }
	forget_dentries
	want=$(stat_all "$M3/big") && got=$(stat_all "$M2/big") ||
		{ fail "stat: $(rfs_err_tail)"; return; }
	[ "$got" = "$want" ] || fail "cached mount differs: $(diff \
		<(echo "$want") <(echo "$got") | head -6 | tr '\n' '|')"
	[ -e "$M2/big/f13" ] && fail "f13 still there"
	[ "$(stat -c %s.%h "$M2/big/f10")" = 15.1 ] || fail "f10 size"
	[ "$(stat -c %h "$M2/big/f14")" = 2 ] || fail "f14 nlink"
	fc_umount m3 "$M3"
	fc_umount m2 "$M2"
	[ -z "$RFS_REASON" ]
}

rfs_case fuse_meta_mount fc_mount m1 "$M"
rfs_case fuse_meta_make case_make
rfs_case fuse_meta_readdirplus_attrs case_readdirplus_attrs
rfs_case fuse_meta_readdirplus_one_trip case_readdirplus_one_trip
rfs_case fuse_meta_readdir_eof case_readdir_eof
rfs_case fuse_meta_readdir_resume case_readdir_resume
rfs_case fuse_meta_changes_no_dir_getattr case_changes_no_dir_getattr
rfs_case fuse_meta_dir_attrs_follow_changes case_dir_attrs_follow_changes
rfs_case fuse_meta_setattr_with_commit case_setattr_with_commit
rfs_case fuse_meta_name_cache case_name_cache
rfs_case fuse_meta_unmount fc_umount m1 "$M"
rfs_finish
