#!/bin/bash
# The FUSE client's POSIX corners: access, fallocate, lseek SEEK_DATA/
# SEEK_HOLE, readdirplus, fsyncdir, statfs, renameat2 flags, mknod;
# ownership and permission rules checked as unprivileged users (setpriv):
# EACCES/EPERM where Linux gives them, sticky and setgid directories,
# setuid/setgid cleared on write; the mount helper (with mount(8)'s argv,
# and through mount(8) itself with -t fuse.ringfs and an fstab line, in a
# private mount namespace whose /sbin holds the helper), daemon-mode
# logging to -o log_file, --help and --version.
# Skipped (77) when /dev/fuse or fusermount3 is not usable; the cases that
# need root or setpriv/unshare say so in their log line and pass vacuously
# when those are missing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fuselib.sh"

C=$RFS_CHUNK_SIZE
RFS_CASES="fuse_posix_mount fuse_posix_help_version fuse_posix_access
fuse_posix_fallocate fuse_posix_seek fuse_posix_readdirplus
fuse_posix_fsyncdir fuse_posix_statfs fuse_posix_rename_flags
fuse_posix_mknod fuse_posix_owner fuse_posix_eacces fuse_posix_chmod_chown
fuse_posix_sticky fuse_posix_setgid_dir fuse_posix_killpriv
fuse_posix_log_file fuse_posix_helper_argv fuse_posix_helper_mount8"
fc_setup
rfs_cluster_start || rfs_abort "cluster did not start: $RFS_REASON"
W=$RFS_TMP/work
M=$RFS_TMP/mnt
HELPER=$RFS_TESTDIR/../../fuse-client/mount.fuse.ringfs
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)
# test users: U1 and U2 own things, G1 is a group neither has by default
U1=4242
U2=4343
G1=5555
# other users must be able to reach the mount point: search (not read)
# permission on the temp dirs above it
chmod o+x "$RFS_TMP"
case $RFS_TMP in "${RFS_TMPROOT:-/nonexistent}"/*) chmod o+x "$RFS_TMPROOT" ;; esac

# can_switch_user: root with setpriv, so the user cases can run.
can_switch_user() {
	[ "$(id -u)" = 0 ] && command -v setpriv >/dev/null 2>&1
}

# $AS UID GID[,GROUP...] CMD...: CMD as that uid, gid and exactly those
# supplementary groups (none after the gid when not given). A script, so
# that rfs_run (timeout) can run it.
AS=$W/as_user
cat >"$AS" <<'EOF'
#!/bin/sh
uid=$1 gids=$2
shift 2
groups=${gids#*,}
if [ "$groups" = "$gids" ]; then
	exec setpriv --reuid="$uid" --regid="$gids" --clear-groups -- "$@"
fi
exec setpriv --reuid="$uid" --regid="${gids%%,*}" --groups="$groups" -- "$@"
EOF
chmod 0755 "$AS"

# py_as UID GIDS CODE ARGS...: python code as that user (rfs_run).
py_as() {
	local uid=$1 gids=$2 code=$3
	shift 3
	rfs_run "$AS" "$uid" "$gids" "$PY" -c "$code" "$@"
}

# expect_err WHAT RE CMD...: CMD must fail with RE (grep -E) in its stderr.
expect_err() {
	local what=$1 text=$2
	shift 2
	if rfs_run "$@"; then
		fail "$what succeeded"
	elif ! grep -qE "$text" "$RFS_TMP/cmd.err"; then
		fail "$what: want '$text', got: $(rfs_err_tail)"
	fi
}

# mode_of PATH: octal mode with the special bits (e.g. 2775).
mode_of() {
	stat -c %a "$1"
}

case_mount() {
	fc_mount m1 "$M" || { fail "mount did not appear at $M"; return; }
	if [ "$(id -u)" = 0 ]; then
		grep -E "^[^ ]+ $M fuse.ringfs [^ ]*allow_other" /proc/mounts \
			>/dev/null || fail "root mount without allow_other:" \
			"$(grep " $M " /proc/mounts)"
	fi
	mkdir -p "$M/pub" && chmod 0777 "$M/pub" || fail "mkdir pub"
	[ -z "$RFS_REASON" ]
}

case_help_version() {
	rfs_run "$RFS_MOUNT_BIN" --help || { fail "--help rc=$RFS_RC"; return; }
	for w in usage: log_file= log_level= meta_retry= allow_other; do
		grep -q -- "$w" "$RFS_TMP/cmd.out" || fail "--help lacks $w"
	done
	rfs_run "$RFS_MOUNT_BIN" --version || { fail "--version rc=$RFS_RC"; return; }
	grep -qE '^ringfs-mount [0-9].*libfuse 3' "$RFS_TMP/cmd.out" ||
		fail "--version: $(head -c 200 "$RFS_TMP/cmd.out")"
	rfs_run "$RFS_MOUNT_BIN" && fail "no arguments succeeded"
	[ "$RFS_RC" = 2 ] || fail "no arguments: rc=$RFS_RC, want 2"
	[ -z "$RFS_REASON" ]
}

# access(2) through the kernel's default_permissions checks: root may
# read/write anything but execute only with an x bit; users per bits.
case_access() {
	local code
	printf 'x' >"$M/acc_none" && chmod 0000 "$M/acc_none"
	printf 'x' >"$M/acc_x" && chmod 0744 "$M/acc_x"
	code='
import os, sys
want = {"none": (True, True, True, False), "x": (True, True, True, True)}
for n, (f, r, w, x) in want.items():
    p = sys.argv[1] + "/acc_" + n
    got = (os.access(p, os.F_OK), os.access(p, os.R_OK),
           os.access(p, os.W_OK), os.access(p, os.X_OK))
    if sys.argv[2] == "user":
        f, r, w, x = {"none": (True, False, False, False),
                      "x": (True, True, False, False)}[n]
    if got != (f, r, w, x):
        sys.exit("%s: F,R,W,X = %s, want %s" % (p, got, (f, r, w, x)))
if os.access(sys.argv[1] + "/acc_missing", os.F_OK):
    sys.exit("F_OK on a missing file")
'
	rfs_run "$PY" -c "$code" "$M" root || fail "root: $(rfs_err_tail)"
	if can_switch_user; then
		py_as $U1 $U1 "$code" "$M" user || fail "user: $(rfs_err_tail)"
	else
		rfs_log "not root or no setpriv: user access not checked"
	fi
	[ -z "$RFS_REASON" ]
}

case_fallocate() {
	local f=$M/falloc l=$W/falloc
	rand_file "$l" 3000
	cp "$l" "$f" || { fail "cp"; return; }
	# mode 0 past the end: longer, the new range reads as zeros
	rfs_run fallocate -o $((C - 100)) -l $((C + 200)) "$f" ||
		{ fail "fallocate rc=$RFS_RC: $(rfs_err_tail)"; return; }
	truncate -s $((2 * C + 100)) "$l"
	[ "$(fsize "$f")" = $((2 * C + 100)) ] || fail "size $(fsize "$f")"
	[ "$(sha "$f")" = "$(sha "$l")" ] || fail "content differs after fallocate"
	# inside the file: nothing changes
	rfs_run fallocate -o 10 -l 100 "$f" || fail "fallocate inside rc=$RFS_RC"
	[ "$(fsize "$f")" = $((2 * C + 100)) ] || fail "size changed by an inside fallocate"
	# KEEP_SIZE: accepted, size unchanged
	rfs_run fallocate -n -o $((3 * C)) -l 4096 "$f" ||
		fail "fallocate -n rc=$RFS_RC: $(rfs_err_tail)"
	[ "$(fsize "$f")" = $((2 * C + 100)) ] || fail "KEEP_SIZE changed the size"
	# (fallocate(1) words EOPNOTSUPP for punching as "keep size mode is
	# unsupported")
	expect_err "punch hole" "not supported|unsupported" fallocate -p -o 0 -l 100 "$f"
	expect_err "zero range" "not supported" fallocate -z -o 0 -l 100 "$f"
	expect_err "collapse range" "not supported" fallocate -c -o 0 -l $C "$f"
	[ "$(sha "$f")" = "$(sha "$l")" ] || fail "content changed by refused modes"
	rfs_run "$PY" -c '
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT, 0o644)
os.posix_fallocate(fd, 0, 5000)
os.close(fd)
assert os.stat(sys.argv[1]).st_size == 5000
assert open(sys.argv[1], "rb").read() == bytes(5000)
' "$M/falloc2" || fail "posix_fallocate: $(rfs_err_tail)"
	[ -z "$RFS_REASON" ]
}

# SEEK_DATA/SEEK_HOLE from the chunk layout: unwritten chunks and the
# unstored tail of a chunk are holes.
case_seek() {
	local f=$M/sparse
	rfs_run "$PY" -c '
import errno, os, sys
C = int(sys.argv[2])
p = sys.argv[1]
fd = os.open(p, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
os.ftruncate(fd, 5 * C)
os.pwrite(fd, b"d" * 1000, 2 * C + 100)   # chunk 2 holds [2C, 2C+1100)
os.close(fd)
fd = os.open(p, os.O_RDONLY)
def seek(off, wh):
    try:
        return os.lseek(fd, off, wh)
    except OSError as e:
        return errno.errorcode[e.errno]
D, H = os.SEEK_DATA, os.SEEK_HOLE
cases = [(0, D, 2 * C), (2 * C + 500, D, 2 * C + 500), (3 * C, D, "ENXIO"),
         (0, H, 0), (2 * C, H, 2 * C + 1100), (2 * C + 1100, H, 2 * C + 1100),
         (5 * C, D, "ENXIO"), (5 * C, H, "ENXIO"), (5 * C - 1, H, 5 * C - 1)]
for off, wh, want in cases:
    got = seek(off, wh)
    if got != want:
        sys.exit("lseek(%d, %s) = %s, want %s" %
                 (off, "DATA" if wh == D else "HOLE", got, want))
os.close(fd)
# a file written to its end: data everywhere, the hole is at the end
fd = os.open(p + ".full", os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
os.write(fd, b"x" * (C + 10))
# uncommitted data counts: lseek commits what this mount buffered
os.write(fd, b"y" * 10)
for off, wh, want in [(0, D, 0), (0, H, C + 20), (C + 5, D, C + 5)]:
    got = os.lseek(fd, off, wh)
    if got != want:
        sys.exit("full: lseek(%d, %d) = %s, want %s" % (off, wh, got, want))
os.close(fd)
' "$f" "$C" || fail "$(rfs_err_tail)"
	[ -z "$RFS_REASON" ]
}

# readdirplus: asked for by the kernel (seen in the -d request log of a
# second mount), entries and attributes as ls -l shows them locally, a
# directory of several kernel pages listed whole, and entries listed this
# way can be renamed and removed.
case_readdirplus() {
	local d=$M/rdp l=$W/rdp m2=$RFS_TMP/mnt2 i a b
	mkdir -p "$d" "$l"
	for i in $(seq 1 300); do
		printf -v n 'entry_with_a_rather_long_name_to_fill_pages_%04d' "$i"
		head -c "$i" /dev/zero >"$d/$n"
		head -c "$i" /dev/zero >"$l/$n"
	done
	mkdir "$d/sub" "$l/sub"
	ln -s target "$d/sym" && ln -s target "$l/sym"
	chmod 0600 "$d/sub" "$l/sub"
	fc_mount m2 "$m2" -d || { fail "second mount with -d"; return; }
	# type and mode, owner, size (not of directories), name or target
	a=$(cd "$m2/rdp" && ls -ln --time-style=+ . | awk 'NR > 1 {
		print $1, $3, $4, ($1 ~ /^d/ ? "-" : $5), $NF }')
	b=$(cd "$l" && ls -ln --time-style=+ . | awk 'NR > 1 {
		print $1, $3, $4, ($1 ~ /^d/ ? "-" : $5), $NF }')
	[ "$a" = "$b" ] || fail "ls -l differs: $(diff <(echo "$b") \
		<(echo "$a") | head -5 | tr '\n' '|')"
	grep -q READDIRPLUS "$RFS_TMP/logs/m2.log" ||
		fail "the kernel sent no READDIRPLUS"
	[ "$(find "$m2/rdp" -mindepth 1 | wc -l)" = 302 ] ||
		fail "find lists $(find "$m2/rdp" -mindepth 1 | wc -l) entries, want 302"
	mv "$m2/rdp/sym" "$m2/rdp/sym2" && rm "$m2/rdp/sym2" &&
		rm "$m2/rdp/entry_with_a_rather_long_name_to_fill_pages_0001" ||
		fail "rename/unlink after readdirplus"
	[ "$(ls "$m2/rdp" | wc -l)" = 300 ] || fail "300 entries expected"
	fc_umount m2 "$m2"
	[ -z "$RFS_REASON" ]
}

case_fsyncdir() {
	mkdir -p "$M/fsd" && : >"$M/fsd/f" || { fail "mkdir"; return; }
	rfs_run "$PY" -c '
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECTORY)
os.fsync(fd)
os.fdatasync(fd)
os.close(fd)
' "$M/fsd" || fail "fsync of a directory: $(rfs_err_tail)"
	[ -z "$RFS_REASON" ]
}

# statfs: 4 KiB blocks, the servers' capacity divided by the goal, free
# never above total, 255-byte names.
case_statfs() {
	local cap want
	rfs_admin status || { fail "status rc=$RFS_RC"; return; }
	cap=$(awk '$1 ~ /^cs[0-9]+$/ { s += $6 } END { printf "%.0f", s }' \
		"$RFS_TMP/cmd.out")
	want=$((cap / RFS_GOAL / 4096))
	read -r bs blocks bfree bavail files ffree namemax <<<"$(stat -f -c \
		'%S %b %f %a %c %d %l' "$M")"
	[ "$bs" = 4096 ] || fail "block size $bs"
	[ "$namemax" = 255 ] || fail "namemax $namemax"
	[ "$blocks" = "$want" ] || fail "blocks $blocks, want $want" \
		"(capacity $cap / goal $RFS_GOAL / 4096)"
	[ "$bfree" -le "$blocks" ] && [ "$bavail" -le "$bfree" ] ||
		fail "free $bfree / avail $bavail above total $blocks"
	[ "$ffree" -lt "$files" ] || fail "files $files, ffree $ffree"
	[ -z "$RFS_REASON" ]
}

case_rename_flags() {
	mkdir -p "$M/ren"
	rfs_run "$PY" -c '
import ctypes, errno, os, sys
libc = ctypes.CDLL(None, use_errno=True)
NOREPLACE, EXCHANGE, WHITEOUT = 1, 2, 4
def r2(a, b, flags):
    if libc.renameat2(-100, a.encode(), -100, b.encode(), flags) == 0:
        return 0
    return errno.errorcode[ctypes.get_errno()]
d = sys.argv[1]
def put(n, s):
    with open(os.path.join(d, n), "w") as f:
        f.write(s)
def get(n):
    with open(os.path.join(d, n)) as f:
        return f.read()
put("a", "A"); put("b", "B"); os.mkdir(os.path.join(d, "dir"))
p = lambda n: os.path.join(d, n)
checks = [
    (r2(p("a"), p("b"), NOREPLACE), "EEXIST"),
    (r2(p("a"), p("c"), NOREPLACE), 0),
    (r2(p("c"), p("b"), EXCHANGE), 0),
    (get("c") + get("b"), "BA"),
    (r2(p("c"), p("dir"), EXCHANGE), 0),
    (os.path.isdir(p("c")) and get("dir") == "B", True),
    (r2(p("b"), p("missing"), EXCHANGE), "ENOENT"),
    (r2(p("b"), p("x"), NOREPLACE | EXCHANGE), "EINVAL"),
    (r2(p("b"), p("x"), WHITEOUT), "EINVAL"),
]
for i, (got, want) in enumerate(checks):
    if got != want:
        sys.exit("check %d: %s, want %s" % (i, got, want))
' "$M/ren" || fail "$(rfs_err_tail)"
	[ -z "$RFS_REASON" ]
}

case_mknod() {
	rfs_run "$PY" -c '
import errno, os, stat, sys
d = sys.argv[1]
os.mknod(d + "/reg", stat.S_IFREG | 0o640)
st = os.lstat(d + "/reg")
assert stat.S_ISREG(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o640, st
try:
    os.mknod(d + "/reg", stat.S_IFREG | 0o640)
    sys.exit("mknod over an existing name succeeded")
except FileExistsError:
    pass
for name, mode in [("fifo", stat.S_IFIFO), ("sock", stat.S_IFSOCK),
                   ("chr", stat.S_IFCHR), ("blk", stat.S_IFBLK)]:
    try:
        os.mknod(d + "/" + name, mode | 0o644, os.makedev(1, 3))
        sys.exit("mknod of a %s succeeded" % name)
    except OSError as e:
        if e.errno != errno.EPERM:
            sys.exit("mknod %s: %s, want EPERM" % (name, e))
    assert not os.path.lexists(d + "/" + name)
' "$M" || fail "$(rfs_err_tail)"
	[ -z "$RFS_REASON" ]
}

# New entries belong to the caller's uid and gid.
case_owner() {
	can_switch_user || { rfs_log "not root or no setpriv: skipped"; return 0; }
	rfs_run "$AS" $U1 $U1 sh -c "echo x >'$M/pub/u1f' && mkdir '$M/pub/u1d' &&
		ln -s u1f '$M/pub/u1l'" || { fail "create as $U1: $(rfs_err_tail)"; return; }
	for p in u1f u1d; do
		[ "$(stat -c %u:%g "$M/pub/$p")" = "$U1:$U1" ] ||
			fail "$p owned by $(stat -c %u:%g "$M/pub/$p")"
	done
	[ "$(stat -c %u:%g "$M/pub/u1l")" = "$U1:$U1" ] || fail "symlink owner"
	[ "$(mode_of "$M/pub/u1f")" = 644 ] || fail "umask not applied"
	[ -z "$RFS_REASON" ]
}

# EACCES: another user's 0600 file, a 0755 directory of another user.
case_eacces() {
	can_switch_user || { rfs_log "not root or no setpriv: skipped"; return 0; }
	echo secret >"$M/pub/root600" && chmod 0600 "$M/pub/root600"
	echo open >"$M/pub/root644"
	mkdir -p "$M/pub/root755" && : >"$M/pub/root755/keep"
	expect_err "reading a 0600 file of root" "Permission denied" \
		"$AS" $U1 $U1 cat "$M/pub/root600"
	expect_err "writing a 0644 file of root" "Permission denied" \
		"$AS" $U1 $U1 sh -c "echo x >>'$M/pub/root644'"
	rfs_run "$AS" $U1 $U1 cat "$M/pub/root644" || fail "reading a 0644 file"
	expect_err "creating in a 0755 dir of root" "Permission denied" \
		"$AS" $U1 $U1 touch "$M/pub/root755/f"
	expect_err "removing from a 0755 dir of root" "Permission denied" \
		"$AS" $U1 $U1 rm -f "$M/pub/root755/keep"
	[ -e "$M/pub/root755/keep" ] || fail "the file was removed"
	chmod 0700 "$M/pub/root755"
	expect_err "listing a 0700 dir of root" "Permission denied" \
		"$AS" $U1 $U1 ls "$M/pub/root755"
	[ -z "$RFS_REASON" ]
}

# chmod by a non-owner and chown by a non-root are EPERM; chgrp to a
# group the owner is in works; chmod g+s by an owner outside the file's
# group drops the setgid bit.
case_chmod_chown() {
	can_switch_user || { rfs_log "not root or no setpriv: skipped"; return 0; }
	local f=$M/pub/cc
	echo x >"$f"
	expect_err "chmod of root's file" "Operation not permitted" \
		"$AS" $U1 $U1 chmod 0777 "$f"
	chown $U1:$U1 "$f" || { fail "root chown"; return; }
	expect_err "chown to another user" "Operation not permitted" \
		"$AS" $U1 $U1 chown $U2 "$f"
	expect_err "chgrp to a foreign group" "Operation not permitted" \
		"$AS" $U1 $U1 chgrp $G1 "$f"
	rfs_run "$AS" $U1 $U1,$G1 chgrp $G1 "$f" ||
		fail "chgrp to a supplementary group: $(rfs_err_tail)"
	[ "$(stat -c %g "$f")" = $G1 ] || fail "group $(stat -c %g "$f")"
	rfs_run "$AS" $U1 $U1 chmod 2755 "$f" || fail "owner chmod rc=$RFS_RC"
	[ "$(mode_of "$f")" = 755 ] ||
		fail "chmod g+s outside the group gave $(mode_of "$f"), want 755"
	rfs_run "$AS" $U1 $U1,$G1 chmod 2755 "$f" || fail "owner chmod rc=$RFS_RC"
	[ "$(mode_of "$f")" = 2755 ] || fail "chmod g+s in the group gave $(mode_of "$f")"
	[ -z "$RFS_REASON" ]
}

# Sticky directory (/tmp-like): only the file's owner, the directory's
# owner or root may remove or rename an entry.
case_sticky() {
	can_switch_user || { rfs_log "not root or no setpriv: skipped"; return 0; }
	local d=$M/sticky
	mkdir -p "$d" && chmod 1777 "$d"
	[ "$(mode_of "$d")" = 1777 ] || fail "mode $(mode_of "$d")"
	rfs_run "$AS" $U1 $U1 sh -c "echo a >'$d/a' && echo b >'$d/b' &&
		chmod 0666 '$d/a' '$d/b'" || { fail "create as $U1"; return; }
	expect_err "unlink of another user's file" "Operation not permitted" \
		"$AS" $U2 $U2 rm -f "$d/a"
	expect_err "rename of another user's file" "Operation not permitted" \
		"$AS" $U2 $U2 mv "$d/a" "$d/a2"
	rfs_run "$AS" $U2 $U2 sh -c "echo more >>'$d/a'" ||
		fail "writing a 0666 file in a sticky dir"
	rfs_run "$AS" $U1 $U1 rm "$d/a" || fail "owner unlink: $(rfs_err_tail)"
	chown $U2 "$d"
	rfs_run "$AS" $U2 $U2 rm -f "$d/b" ||
		fail "directory owner unlink: $(rfs_err_tail)"
	rfs_run "$AS" $U1 $U1 sh -c "echo c >'$d/c'"
	rm "$d/c" || fail "root unlink"
	[ -z "$(ls "$d")" ] || fail "left: $(ls "$d")"
	[ -z "$RFS_REASON" ]
}

# Setgid directory: new entries get its group, subdirectories its
# setgid bit, for root and users alike.
case_setgid_dir() {
	can_switch_user || { rfs_log "not root or no setpriv: skipped"; return 0; }
	local d=$M/sgid
	mkdir -p "$d" && chgrp $G1 "$d" && chmod 2775 "$d"
	[ "$(mode_of "$d")" = 2775 ] || { fail "mode $(mode_of "$d")"; return; }
	rfs_run "$AS" $U1 $U1,$G1 sh -c "echo x >'$d/f' && mkdir '$d/sub' &&
		mkdir '$d/sub/deeper' && ln -s f '$d/l'" ||
		{ fail "create as $U1: $(rfs_err_tail)"; return; }
	for p in f sub sub/deeper l; do
		[ "$(stat -c %u:%g "$d/$p")" = "$U1:$G1" ] ||
			fail "$p owned by $(stat -c %u:%g "$d/$p"), want $U1:$G1"
	done
	[ "$(mode_of "$d/f")" = 644 ] || fail "file mode $(mode_of "$d/f")"
	[ "$(mode_of "$d/sub")" = 2755 ] || fail "subdir mode $(mode_of "$d/sub")"
	[ "$(mode_of "$d/sub/deeper")" = 2755 ] ||
		fail "sub-subdir mode $(mode_of "$d/sub/deeper")"
	: >"$d/rootf" && mkdir "$d/rootd"
	[ "$(stat -c %g "$d/rootf")" = $G1 ] || fail "root's file group"
	[ "$(mode_of "$d/rootd")" = 2755 ] || fail "root's subdir mode"
	# a file moved in keeps its group
	rfs_run "$AS" $U1 $U1,$G1 sh -c "echo y >'$M/pub/mv_in' &&
		mv '$M/pub/mv_in' '$d/'" || fail "mv into the directory rc=$RFS_RC"
	[ "$(stat -c %g "$d/mv_in")" = $U1 ] || fail "moved-in file changed group"
	[ -z "$RFS_REASON" ]
}

# A write or truncate by a user clears setuid (and setgid when group
# executable); root's writes keep them (CAP_FSETID).
case_killpriv() {
	can_switch_user || { rfs_log "not root or no setpriv: skipped"; return 0; }
	local f=$M/pub/suid
	echo x >"$f" && chown $U1:$U1 "$f" && chmod 6777 "$f"
	rfs_run "$AS" $U2 $U2 sh -c "echo more >>'$f'" || fail "write rc=$RFS_RC"
	[ "$(mode_of "$f")" = 777 ] || fail "after a user's write: $(mode_of "$f")"
	chmod 6777 "$f"
	rfs_run "$AS" $U1 $U1 truncate -s 1 "$f" || fail "truncate rc=$RFS_RC"
	[ "$(mode_of "$f")" = 777 ] || fail "after the owner's truncate: $(mode_of "$f")"
	chmod 6767 "$f"
	rfs_run "$AS" $U2 $U2 sh -c "echo more >>'$f'" || fail "write rc=$RFS_RC"
	[ "$(mode_of "$f")" = 2767 ] ||
		fail "setgid without group x must stay: $(mode_of "$f")"
	chmod 4755 "$f"
	echo root >>"$f"
	[ "$(mode_of "$f")" = 4755 ] || fail "after root's write: $(mode_of "$f")"
	chown $U2 "$f"
	[ "$(mode_of "$f")" = 755 ] || fail "after chown: $(mode_of "$f")"
	[ -z "$RFS_REASON" ]
}

# wait_gone DIR: poll until no ringfs-mount serves DIR any more.
# no_sanitizer_report LOG: the daemon that logged to LOG reported nothing
# (sanitizer builds print leaks at exit, into its log file).
no_sanitizer_report() {
	! grep -qE "$RFS_SANITIZER_RE" "$1" 2>/dev/null ||
		fail "$(basename "$1"): $(grep -m1 -E "$RFS_SANITIZER_RE" "$1" |
			cut -c1-200)"
}

wait_gone() {
	for _ in $(seq 1 $((FUSE_WAIT * 10))); do
		pgrep -f -- "ringfs-mount .*$1\$" >/dev/null || return 0
		sleep 0.1
	done
	return 1
}

# Daemon mode logs to -o log_file: the mount and the unmount are there;
# a log file that cannot be opened fails before mounting.
case_log_file() {
	local d=$RFS_TMP/mnt_log log=$W/daemon.log
	mkdir -p "$d"
	FC_MOUNTS="$FC_MOUNTS $d"
	rfs_run "$RFS_MOUNT_BIN" -o log_file="$log",log_level=info \
		"127.0.0.1:${RFS_PORT[meta]}" "$d" ||
		{ fail "ringfs-mount rc=$RFS_RC: $(rfs_err_tail)"; return; }
	fc_is_mounted "$d" || { fail "not mounted"; return; }
	grep -q 'msg="mounted"' "$log" 2>/dev/null ||
		fail "no mounted line in the log file: $(tail -c 200 "$log")"
	rfs_run fusermount3 -u "$d" || fail "fusermount3 -u rc=$RFS_RC"
	for _ in $(seq 1 $((FUSE_WAIT * 10))); do
		grep -q 'msg="unmounted"' "$log" && break
		sleep 0.1
	done
	grep -q 'msg="unmounted".*status=0' "$log" ||
		fail "no unmounted line in the log file: $(tail -c 200 "$log")"
	wait_gone "$d" || fail "ringfs-mount still runs after the unmount"
	no_sanitizer_report "$log"
	FC_MOUNTS=${FC_MOUNTS/ $d/}
	rfs_run "$RFS_MOUNT_BIN" -o log_file=/nonexistent/dir/log \
		"127.0.0.1:${RFS_PORT[meta]}" "$d" && fail "bad log_file mounted"
	grep -q "cannot open log_file" "$RFS_TMP/cmd.err" ||
		fail "bad log_file: $(rfs_err_tail)"
	fc_is_mounted "$d" && { fusermount3 -u "$d"; fail "mounted anyway"; }
	[ -z "$RFS_REASON" ]
}

# The helper called as mount(8) calls it: SOURCE DIR -o OPTS -t TYPE. The
# options only mount(8) knows are dropped, the others reach ringfs-mount,
# which daemonises; -f (fake) mounts nothing.
case_helper_argv() {
	local d=$RFS_TMP/mnt_helper log=$W/helper.log
	mkdir -p "$d"
	FC_MOUNTS="$FC_MOUNTS $d"
	rfs_run env RINGFS_MOUNT="$RFS_MOUNT_BIN" "$HELPER" \
		"127.0.0.1:${RFS_PORT[meta]}" "$d" -fv -o rw,defaults ||
		fail "fake mount rc=$RFS_RC"
	fc_is_mounted "$d" && fail "-f (fake) mounted"
	rfs_run env RINGFS_MOUNT="$RFS_MOUNT_BIN" "$HELPER" \
		"127.0.0.1:${RFS_PORT[meta]}" "$d" -n -o \
		"rw,defaults,_netdev,noauto,nofail,user,x-systemd.automount,comment=x,allow_other,log_file=$log,log_level=info,attr_timeout=2" \
		-t fuse.ringfs ||
		{ fail "helper rc=$RFS_RC: $(rfs_err_tail)"; return; }
	fc_is_mounted "$d" || { fail "not mounted after the helper returned"; return; }
	grep -q 'msg="mounted"' "$log" || fail "log_file not passed on"
	if can_switch_user; then
		rfs_run "$AS" $U1 $U1 ls "$d/pub" ||
			fail "another user cannot enter the mount: $(rfs_err_tail)"
	fi
	[ "$(cat "$M/pub/root644" 2>/dev/null)" = "$(cat "$d/pub/root644")" ] ||
		fail "read through the helper's mount differs"
	rfs_run umount "$d" || fail "umount rc=$RFS_RC: $(rfs_err_tail)"
	fc_wait_mounted "$d" no || fail "still mounted"
	wait_gone "$d" || fail "ringfs-mount still runs after umount"
	no_sanitizer_report "$log"
	FC_MOUNTS=${FC_MOUNTS/ $d/}
	rfs_run env RINGFS_MOUNT="$RFS_MOUNT_BIN" "$HELPER" \
		"127.0.0.1:${RFS_PORT[meta]}" "$d" -o bogus_option &&
		{ fusermount3 -u "$d"; fail "an unknown option was accepted"; }
	fc_is_mounted "$d" && fail "mounted with an unknown option"
	[ -z "$RFS_REASON" ]
}

# mount(8) itself: `mount -t fuse.ringfs` and an fstab line, in a private
# mount namespace whose /sbin is a directory holding only the helper and
# ringfs-mount (mount(8) looks for /sbin/mount.fuse.ringfs, nowhere else).
case_helper_mount8() {
	command -v unshare >/dev/null && [ "$(id -u)" = 0 ] ||
		{ rfs_log "not root or no unshare: skipped"; return 0; }
	local sb=$W/sbin d=$RFS_TMP/mnt_m8 log=$W/m8.log left
	mkdir -p "$sb" "$d"
	ln -sf "$(readlink -f "$HELPER")" "$sb/mount.fuse.ringfs"
	ln -sf "$RFS_MOUNT_BIN" "$sb/ringfs-mount"
	printf '127.0.0.1:%s %s fuse.ringfs defaults,_netdev,log_file=%s,log_level=info 0 0\n' \
		"${RFS_PORT[meta]}" "$d" "$log" >"$W/fstab"
	rfs_run unshare -m --propagation private bash -c '
		set -e
		sb=$1 d=$2 src=$3 fstab=$4 sbin=$(readlink -f /sbin)
		mount --bind "$sb" "$sbin"
		check() {
			grep -q " $d fuse.ringfs " /proc/mounts
			[ "$(stat -c %i "$d")" = 1 ]
			ls "$d/pub" >/dev/null
			umount "$d"
			for _ in $(seq 1 150); do
				pgrep -f -- "ringfs-mount .*$d\$" >/dev/null || return 0
				sleep 0.1
			done
			echo "ringfs-mount still runs" >&2
			return 1
		}
		mount -t fuse.ringfs -o log_level=info "$src" "$d"
		check
		echo "mount -t fuse.ringfs: ok"
		mount -T "$fstab" "$d"
		check
		echo "fstab: ok"
	' _ "$sb" "$d" "127.0.0.1:${RFS_PORT[meta]}" "$W/fstab" ||
		fail "mount(8) rc=$RFS_RC: $(rfs_err_tail)"
	grep -q "fstab: ok" "$RFS_TMP/cmd.out" || fail "$(cat "$RFS_TMP/cmd.out")"
	grep -q 'msg="mounted"' "$log" || fail "fstab options not passed on"
	no_sanitizer_report "$log"
	# nothing may stay behind in the namespace
	left=$(pgrep -f -- "ringfs-mount .*$d\$")
	if [ -n "$left" ]; then
		kill $left
		fail "a mount daemon was left: $left"
	fi
	[ -z "$RFS_REASON" ]
}

rfs_case fuse_posix_mount case_mount
rfs_case fuse_posix_help_version case_help_version
rfs_case fuse_posix_access case_access
rfs_case fuse_posix_fallocate case_fallocate
rfs_case fuse_posix_seek case_seek
rfs_case fuse_posix_readdirplus case_readdirplus
rfs_case fuse_posix_fsyncdir case_fsyncdir
rfs_case fuse_posix_statfs case_statfs
rfs_case fuse_posix_rename_flags case_rename_flags
rfs_case fuse_posix_mknod case_mknod
rfs_case fuse_posix_owner case_owner
rfs_case fuse_posix_eacces case_eacces
rfs_case fuse_posix_chmod_chown case_chmod_chown
rfs_case fuse_posix_sticky case_sticky
rfs_case fuse_posix_setgid_dir case_setgid_dir
rfs_case fuse_posix_killpriv case_killpriv
rfs_case fuse_posix_log_file case_log_file
rfs_case fuse_posix_helper_argv case_helper_argv
rfs_case fuse_posix_helper_mount8 case_helper_mount8
rfs_case fuse_posix_unmount fc_umount m1 "$M"
rfs_finish
