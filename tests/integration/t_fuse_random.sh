#!/bin/bash
# The random-operation test of the FUSE client: fsrandom (fsrandom.c) runs
# the same seeded random operations (create, write at random offsets around
# chunk boundaries, truncate, rename, link, unlink, mkdir, rmdir, chmod,
# xattrs, symlink, reads, several descriptors) on the mount and on a local
# directory, and compares every result and the state of the touched paths
# after every step, the whole trees every 50 steps and at the end. It is
# first run local against local (a difference there is a bug of the
# tester), and once with a damaged local tree (it must notice).
# The seeded runs keep every file a descriptor holds open linked
# (--no-orphans); the fuse_random_orphans_N runs go without that
# restriction (POSIX: an unlinked file stays usable through its open
# descriptors; docs/fuse.md, "Unlinked open files").
# Skipped (77) when /dev/fuse or fusermount3 is not usable.
#
# RFS_RANDOM_SEEDS (default "1 2 3"), RFS_RANDOM_ORPHAN_SEEDS (default
# "99") and RFS_RANDOM_OPS (default 800 per seed) choose the runs; a
# failure prints the seed and step to rerun with
#   fsrandom [--no-orphans] --seed N --ops STEP MOUNT_DIR LOCAL_DIR
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fuselib.sh"

SEEDS=${RFS_RANDOM_SEEDS:-1 2 3}
OPS=${RFS_RANDOM_OPS:-800}
FSRANDOM=$RFS_BUILDDIR/tests/integration/fsrandom
RFS_CASES="fuse_random_selftest fuse_random_selftest_detects fuse_random_mount"
for s in $SEEDS; do
	RFS_CASES="$RFS_CASES fuse_random_seed_$s"
done
ORPHAN_SEEDS=${RFS_RANDOM_ORPHAN_SEEDS:-99}
for s in $ORPHAN_SEEDS; do
	RFS_CASES="$RFS_CASES fuse_random_orphans_$s"
done
RFS_CASES="$RFS_CASES fuse_random_cli_agrees fuse_random_remount
fuse_random_clean_exit"
fc_setup
W=$RFS_TMP/work
M=$RFS_TMP/mnt
# fsrandom is built with the daemons; build it if only they were made.
[ -x "$FSRANDOM" ] || make -s -C "$RFS_BUILDDIR" tests/integration/fsrandom \
	>/dev/null 2>&1 || rfs_abort "no $FSRANDOM (make tests/integration/fsrandom)"
rfs_cluster_start || rfs_abort "cluster did not start: $RFS_REASON"
AGREED= # the trees of the runs that passed: s1 s2 ...

# fsr_run SEED OPS DIR_A DIR_B [ARGS...]: run fsrandom (a long timeout: it
# does thousands of operations).
fsr_run() {
	local seed=$1 ops=$2 a=$3 b=$4
	shift 4
	mkdir -p "$b"
	rfs_run mkdir -p "$a" || return
	RFS_CMD_TIMEOUT=600 rfs_run "$FSRANDOM" --seed "$seed" --ops "$ops" \
		"$@" "$a" "$b"
}

# The tester itself, local against local: no difference may show.
case_selftest() {
	fsr_run 11 3000 "$W/self/a" "$W/self/b" ||
		{ fail "local vs local rc=$RFS_RC: $(rfs_err_tail)"; return; }
	grep -qE '^3000 ops, [0-9]+ checks$' "$RFS_TMP/cmd.out" ||
		fail "unexpected output: $(head -c 200 "$RFS_TMP/cmd.out")"
	[ -z "$RFS_REASON" ]
}

# ... and with the local B damaged after step 150 it must stop there.
case_selftest_detects() {
	fsr_run 12 400 "$W/dmg/a" "$W/dmg/b" --corrupt-at 150 &&
		{ fail "a damaged tree went unnoticed"; return; }
	[ "$RFS_RC" -eq 1 ] || { fail "rc=$RFS_RC, want 1: $(rfs_err_tail)"; return; }
	grep -q '^fsrandom: seed 12 step 150 op ' "$RFS_TMP/cmd.err" ||
		fail "the report does not name seed 12 step 150: $(rfs_err_tail)"
	[ -z "$RFS_REASON" ]
}

case_mount() {
	fc_mount m1 "$M" || fail "mount did not appear at $M"
}

# case_seed SEED [ARGS...]: fsrandom on the mount and a local directory.
case_seed() {
	local seed=$1
	shift
	fc_is_mounted "$M" || { fail "not mounted"; return; }
	fsr_run "$seed" "$OPS" "$M/s$seed" "$W/s$seed" "$@" ||
		fail "mount vs local rc=$RFS_RC: $(grep -v '^ ' "$RFS_TMP/cmd.err" |
			tail -n 2 | tr '\n' ' ' | cut -c1-500)"
	rfs_is_running m1 || fail "ringfs-mount died"
	[ -z "$RFS_REASON" ] && AGREED="$AGREED s$seed"
	[ -z "$RFS_REASON" ]
}

# What the mount left behind is what another client reads: every regular
# file of the local trees where the run passed, fetched with ringfs get.
case_cli_agrees() {
	local s p n=0
	for s in $AGREED; do
		while IFS= read -r -d '' p; do
			p=${p#"$W"/}
			rfs_cli get "/$p" "$W/got" ||
				{ fail "ringfs get /$p rc=$RFS_RC: $(rfs_err_tail)"; return; }
			cmp -s "$W/got" "$W/$p" || fail "ringfs get /$p differs"
			n=$((n + 1))
		done < <(find "$W/$s" -type f -print0)
	done
	rfs_log "$n files compared through the CLI"
	[ -z "$RFS_REASON" ]
}

# A fresh mount (no kernel or client cache) shows the same trees (fsrandom
# with no ops only compares).
case_remount() {
	local s
	fc_umount m1 "$M" || return
	fc_mount m1 "$M" || { fail "remount did not appear"; return; }
	for s in $AGREED; do
		fsr_run 0 0 "$M/$s" "$W/$s" ||
			fail "$s after remount: $(rfs_err_tail)"
	done
	fc_umount m1 "$M"
	[ -z "$RFS_REASON" ]
}

rfs_case fuse_random_selftest case_selftest
rfs_case fuse_random_selftest_detects case_selftest_detects
rfs_case fuse_random_mount case_mount
for s in $SEEDS; do
	rfs_case "fuse_random_seed_$s" case_seed "$s" --no-orphans
done
for s in $ORPHAN_SEEDS; do
	rfs_case "fuse_random_orphans_$s" case_seed "$s"
done
rfs_case fuse_random_cli_agrees case_cli_agrees
rfs_case fuse_random_remount case_remount
fc_finish
