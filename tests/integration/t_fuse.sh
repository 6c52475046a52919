#!/bin/bash
# The FUSE client: mount the test cluster with ringfs-mount and check that
# files written with ordinary tools read back identically (through the
# mount, through the CLI and through a second mount), that namespace
# operations behave like on a local directory, and that unmounting is
# clean. Skipped (77) when /dev/fuse or fusermount3 is not usable.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fuselib.sh"

C=$RFS_CHUNK_SIZE
# name:size, on and next to the chunk boundaries
SIZES="size_0:0 size_1:1 size_chunk_minus_1:$((C - 1))
size_chunk_plus_1:$((C + 1)) size_5_5_chunks:$((C * 11 / 2))"
RFS_CASES="fuse_mount fuse_write_size_0 fuse_write_size_1
fuse_write_size_chunk_minus_1 fuse_write_size_chunk_plus_1
fuse_write_size_5_5_chunks fuse_cli_put_read fuse_namespace fuse_errors
fuse_xattr fuse_overwrite_middle fuse_append fuse_large_write
fuse_concurrent fuse_second_mount fuse_tar
fuse_daemon_mode fuse_unmount"
fc_setup
rfs_cluster_start || rfs_abort "cluster did not start: $RFS_REASON"
W=$RFS_TMP/work
M=$RFS_TMP/mnt
M2=$RFS_TMP/mnt2
L=$W/local
mkdir -p "$L"

case_mount() {
	fc_mount m1 "$M" || { fail "mount did not appear at $M"; return; }
	rfs_run stat -f "$M" || fail "statfs rc=$RFS_RC: $(rfs_err_tail)"
	rfs_run ls -la "$M" || fail "ls rc=$RFS_RC: $(rfs_err_tail)"
	[ "$(stat -c %i "$M")" = 1 ] || fail "root inode is not 1"
	[ -z "$RFS_REASON" ]
}

# case_write NAME SIZE: write a random file through the mount (dd for odd
# sizes, cp otherwise); the mount, the CLI and the local copy must agree.
case_write() {
	local name=$1 size=$2 want
	rand_file "$L/$name" "$size"
	want=$(sha "$L/$name")
	if [ $((size % 2)) -eq 1 ]; then
		rfs_run dd if="$L/$name" of="$M/$name" bs=64k status=none
	else
		rfs_run cp "$L/$name" "$M/$name"
	fi
	[ "$RFS_RC" -eq 0 ] || { fail "write rc=$RFS_RC: $(rfs_err_tail)"; return; }
	[ "$(stat -c %s "$M/$name")" = "$size" ] ||
		fail "size $(stat -c %s "$M/$name"), want $size"
	[ "$(sha "$M/$name")" = "$want" ] || fail "read back through the mount differs"
	rfs_cli get "/$name" "$W/$name.got" ||
		{ fail "ringfs get rc=$RFS_RC: $(rfs_err_tail)"; return; }
	[ "$(sha "$W/$name.got")" = "$want" ] || fail "ringfs get differs"
	[ -z "$RFS_REASON" ]
}

case_cli_put_read() {
	rand_file "$W/put.src" $((C * 3 + 77))
	rfs_cli put "$W/put.src" /put || { fail "put rc=$RFS_RC"; return; }
	[ "$(sha "$M/put")" = "$(sha "$W/put.src")" ] ||
		fail "file put by the CLI reads differently through the mount"
	[ -z "$RFS_REASON" ]
}

# The same operations on the mount and on a local directory.
ns_ops() {
	set -e
	cd "$1"
	mkdir -p ns/a/b/c ns/gone
	rmdir ns/gone
	head -c 5000 "$L/size_5_5_chunks" >ns/a/f
	cp "$L/size_chunk_plus_1" ns/a/b/big
	mv ns/a/b/big ns/a/moved
	mv ns/a/b/c ns/c2
	echo hello >ns/del && rm ns/del
	ln -s a/f ns/sym
	ln ns/a/f ns/hard
	chmod 640 ns/a/f
	chmod 750 ns/a
	truncate -s 100000 ns/a/moved
	truncate -s 10 ns/hard
	: >ns/empty
	touch -d '2020-01-02 03:04:05' ns/empty ns/a/moved
	mv -T ns/c2 ns/c3
}

case_namespace() {
	local a b
	rfs_run bash -c "$(declare -f ns_ops); L='$L'; ns_ops '$M'" ||
		{ fail "ops on the mount rc=$RFS_RC: $(rfs_err_tail)"; return; }
	mkdir -p "$W/nsl"
	rfs_run bash -c "$(declare -f ns_ops); L='$L'; ns_ops '$W/nsl'" ||
		{ fail "local ops rc=$RFS_RC: $(rfs_err_tail)"; return; }
	a=$(tree_state "$M/ns")
	b=$(tree_state "$W/nsl/ns")
	[ "$a" = "$b" ] || fail "mount and local differ: $(diff <(echo "$b") \
		<(echo "$a") | tr '\n' '|' | cut -c1-400)"
	rfs_run cat "$M/ns/sym" || fail "cat through the symlink rc=$RFS_RC"
	a=$(cd "$M/ns" && stat -c '%n %Y' empty a/moved)
	b=$(cd "$W/nsl/ns" && stat -c '%n %Y' empty a/moved)
	[ "$a" = "$b" ] || fail "mtimes set by touch -d differ: $a vs $b"
	[ -z "$RFS_REASON" ]
}

case_errors() {
	mkdir "$M/ns" 2>"$W/err" && fail "mkdir of an existing dir succeeded"
	grep -q 'File exists' "$W/err" || fail "mkdir: $(cat "$W/err")"
	rmdir "$M/ns" 2>"$W/err" && fail "rmdir of a non-empty dir succeeded"
	grep -q 'not empty' "$W/err" || fail "rmdir: $(cat "$W/err")"
	cat "$M/nonexistent" 2>"$W/err" && fail "cat of a missing file succeeded"
	grep -q 'No such file' "$W/err" || fail "cat: $(cat "$W/err")"
	mknod "$M/fifo" p 2>/dev/null && fail "mknod of a fifo succeeded"
	rfs_run bash -c "set -o noclobber; echo x >'$M/ns/a/f'" &&
		fail "O_EXCL create of an existing file succeeded"
	[ -z "$RFS_REASON" ]
}

case_xattr() {
	if command -v setfattr >/dev/null && command -v getfattr >/dev/null; then
		setfattr -n user.color -v blue "$M/ns/a/f" || fail "setfattr"
		[ "$(getfattr --only-values -n user.color "$M/ns/a/f")" = blue ] ||
			fail "getfattr value differs"
		setfattr -x user.color "$M/ns/a/f" || fail "setfattr -x"
		getfattr -n user.color "$M/ns/a/f" 2>/dev/null &&
			fail "removed xattr still readable"
	elif command -v python3 >/dev/null; then
		rfs_run python3 - "$M/ns/a/f" <<-'EOF' ||
			import errno, os, sys
			p = sys.argv[1]
			os.setxattr(p, "user.color", b"blue")
			assert os.getxattr(p, "user.color") == b"blue"
			assert "user.color" in os.listxattr(p)
			try:
			    os.setxattr(p, "user.color", b"x", os.XATTR_CREATE)
			    sys.exit("XATTR_CREATE over an existing name succeeded")
			except OSError as e:
			    assert e.errno == errno.EEXIST, e
			os.removexattr(p, "user.color")
			try:
			    os.getxattr(p, "user.color")
			    sys.exit("removed xattr still readable")
			except OSError as e:
			    assert e.errno == errno.ENODATA, e
		EOF
			fail "xattr checks rc=$RFS_RC: $(rfs_err_tail)"
	else
		rfs_log "no setfattr or python3: xattr case not run"
	fi
	[ -z "$RFS_REASON" ]
}

# dd conv=notrunc across a chunk boundary and inside a chunk.
case_overwrite_middle() {
	local f
	cp "$L/size_5_5_chunks" "$M/ow" || { fail "cp to the mount"; return; }
	cp "$L/size_5_5_chunks" "$L/ow"
	head -c 5000 /dev/urandom >"$W/patch"
	for f in "$M/ow" "$L/ow"; do
		# 1000-byte blocks: one write straddles the first chunk boundary,
		# one lands inside chunk 3
		dd if="$W/patch" of="$f" bs=1000 seek=$(((C - 2000) / 1000)) \
			conv=notrunc status=none &&
			dd if="$W/patch" of="$f" bs=1000 seek=$((C * 3 / 1000 + 7)) \
				conv=notrunc status=none ||
			{ fail "dd into $f"; return; }
	done
	[ "$(sha "$M/ow")" = "$(sha "$L/ow")" ] || fail "mount differs from local"
	rfs_cli get /ow "$W/ow.got" || { fail "get rc=$RFS_RC"; return; }
	[ "$(sha "$W/ow.got")" = "$(sha "$L/ow")" ] || fail "ringfs get differs"
	[ -z "$RFS_REASON" ]
}

case_append() {
	local f
	for f in "$M/ap" "$L/ap"; do
		head -c 1000 "$L/size_5_5_chunks" >"$f"
		head -c $((C + 5)) "$L/size_chunk_plus_1" >>"$f"
		echo tail >>"$f"
	done
	[ "$(sha "$M/ap")" = "$(sha "$L/ap")" ] || fail "appended file differs"
	[ -z "$RFS_REASON" ]
}

# More than one write buffer (8 chunks of 1 MiB), from a chunk boundary
# and from an unaligned offset into an existing file.
case_large_write() {
	rand_file "$L/large" $((C * 20 + 12345))
	rfs_run dd if="$L/large" of="$M/large" bs=1M status=none ||
		{ fail "dd rc=$RFS_RC: $(rfs_err_tail)"; return; }
	[ "$(sha "$M/large")" = "$(sha "$L/large")" ] || fail "large file differs"
	rfs_cli get /large "$W/large.got" || { fail "get rc=$RFS_RC"; return; }
	[ "$(sha "$W/large.got")" = "$(sha "$L/large")" ] ||
		fail "ringfs get of the large file differs"
	# 12 MB from offset 500000, 100000-byte writes
	head -c 12000000 /dev/urandom >"$W/mid"
	cp "$L/large" "$L/large2" && cp "$L/large" "$M/large2" ||
		{ fail "cp"; return; }
	for f in "$M/large2" "$L/large2"; do
		dd if="$W/mid" of="$f" bs=100000 seek=5 conv=notrunc status=none ||
			{ fail "dd into $f"; return; }
	done
	[ "$(sha "$M/large2")" = "$(sha "$L/large2")" ] ||
		fail "unaligned overwrite differs"
	[ -z "$RFS_REASON" ]
}

# Writers in parallel: four files, and four writers to different chunks
# of one file.
case_concurrent() {
	local i pids=
	for i in 0 1 2 3; do
		cp "$L/size_5_5_chunks" "$M/par$i" &
		pids="$pids $!"
	done
	rand_file "$W/one" $((C * 8))
	: >"$M/one"
	for i in 0 1 2 3; do
		dd if="$W/one" of="$M/one" bs=$((C / 4)) skip=$((i * 8)) \
			seek=$((i * 8)) count=8 conv=notrunc status=none &
		pids="$pids $!"
	done
	for i in $pids; do
		wait "$i" || fail "a writer failed"
	done
	for i in 0 1 2 3; do
		[ "$(sha "$M/par$i")" = "$(sha "$L/size_5_5_chunks")" ] ||
			fail "par$i differs"
	done
	[ "$(sha "$M/one")" = "$(sha "$W/one")" ] ||
		fail "file written by four writers differs"
	[ -z "$RFS_REASON" ]
}

# Close-to-open between two mounts of one cluster.
case_second_mount() {
	fc_mount m2 "$M2" || { fail "second mount did not appear"; return; }
	cp "$L/size_chunk_plus_1" "$M/cto" || { fail "cp rc=$?"; return; }
	[ "$(sha "$M2/cto")" = "$(sha "$L/size_chunk_plus_1")" ] ||
		fail "new file differs on the second mount"
	# same size, new content: the second mount must not serve its cache
	head -c $((C + 1)) /dev/urandom >"$W/cto2"
	cp "$W/cto2" "$M/cto"
	[ "$(sha "$M2/cto")" = "$(sha "$W/cto2")" ] ||
		fail "rewritten file differs on the second mount"
	# a longer file: the open drops the stale size the second mount holds
	stat "$M2/cto" >/dev/null
	cat "$L/size_1" >>"$M/cto"
	cat "$L/size_1" >>"$W/cto2"
	[ "$(sha "$M2/cto")" = "$(sha "$W/cto2")" ] ||
		fail "appended file differs on the second mount"
	fc_umount m2 "$M2"
	[ -z "$RFS_REASON" ]
}

case_tar() {
	tar -C /usr/include -cf "$W/src.tar" linux 2>/dev/null ||
		{ fail "cannot make the tarball"; return; }
	mkdir -p "$M/tar" "$W/tarl"
	rfs_run tar -C "$M/tar" -xf "$W/src.tar" ||
		{ fail "tar -x on the mount rc=$RFS_RC: $(rfs_err_tail)"; return; }
	tar -C "$W/tarl" -xf "$W/src.tar"
	rfs_run diff -r "$W/tarl" "$M/tar" ||
		fail "diff -r: $(head -c 300 "$RFS_TMP/cmd.out")"
	[ -z "$RFS_REASON" ]
}

case_daemon_mode() {
	local d=$RFS_TMP/mnt3 pid
	mkdir -p "$d"
	FC_MOUNTS="$FC_MOUNTS $d"
	# an address list (commas escaped in the fsname option)
	rfs_run "$RFS_MOUNT_BIN" "127.0.0.1:${RFS_PORT[meta]},127.0.0.1:1" "$d" ||
		{ fail "ringfs-mount rc=$RFS_RC: $(rfs_err_tail)"; return; }
	fc_is_mounted "$d" || { fail "not mounted after ringfs-mount returned"; return; }
	[ "$(sha "$d/size_1")" = "$(sha "$L/size_1")" ] || fail "read differs"
	pid=$(pgrep -f -- "ringfs-mount .* $d\$")
	rfs_run fusermount3 -u "$d" || fail "fusermount3 -u rc=$RFS_RC"
	for _ in $(seq 1 50); do
		[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && fail "daemon still runs"
	FC_MOUNTS=${FC_MOUNTS/ $d/}
	rfs_run "$RFS_MOUNT_BIN" -f -o meta_retry=1 127.0.0.1:1 "$d" &&
		fail "mount of an unreachable metaserver succeeded"
	[ -z "$RFS_REASON" ]
}

# SIGTERM unmounts cleanly; then mount again and stop with fusermount3.
case_unmount() {
	rfs_stop m1 10 || { fail "SIGTERM: exit status $RFS_STOP_STATUS"; return; }
	fc_wait_mounted "$M" no || { fail "still mounted after SIGTERM"; return; }
	fc_mount m1 "$M" || { fail "remount did not appear"; return; }
	[ "$(sha "$M/size_5_5_chunks")" = "$(sha "$L/size_5_5_chunks")" ] ||
		fail "file differs after remount"
	fc_umount m1 "$M"
	[ -z "$RFS_REASON" ]
}

rfs_case fuse_mount case_mount
for entry in $SIZES; do
	rfs_case "fuse_write_${entry%%:*}" case_write "${entry%%:*}" "${entry#*:}"
done
rfs_case fuse_cli_put_read case_cli_put_read
rfs_case fuse_namespace case_namespace
rfs_case fuse_errors case_errors
rfs_case fuse_xattr case_xattr
rfs_case fuse_overwrite_middle case_overwrite_middle
rfs_case fuse_append case_append
rfs_case fuse_large_write case_large_write
rfs_case fuse_concurrent case_concurrent
rfs_case fuse_second_mount case_second_mount
rfs_case fuse_tar case_tar
rfs_case fuse_daemon_mode case_daemon_mode
rfs_case fuse_unmount case_unmount
rfs_finish
