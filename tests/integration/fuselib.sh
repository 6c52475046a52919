#!/bin/bash
# fuselib.sh: shared helpers of the FUSE case files, sourced after lib.sh.
# fc_setup skips the file (77) when FUSE is unusable, then runs rfs_setup
# and installs a trap that unmounts every fc_mount'ed directory before the
# daemons stop, whatever happened.

RFS_MOUNT_BIN=$RFS_BUILDDIR/fuse-client/ringfs-mount
FUSE_WAIT=15 # seconds for a mount to appear or go away

# fuse_usable: why FUSE cannot be used here (nothing when it can).
fuse_usable() {
	[ -x "$RFS_MOUNT_BIN" ] || { echo "no $RFS_MOUNT_BIN"; return; }
	[ -c /dev/fuse ] || { echo "no /dev/fuse"; return; }
	[ -r /dev/fuse ] && [ -w /dev/fuse ] ||
		{ echo "/dev/fuse not accessible"; return; }
	command -v fusermount3 >/dev/null 2>&1 || echo "no fusermount3"
}
# Unmount before the harness stops the daemons, whatever happened.
FC_MOUNTS=
FC_NAMES= # daemon names of the mounts fc_mount started
fc_cleanup() {
	local rc=$? m
	for m in $FC_MOUNTS; do
		fusermount3 -u "$m" 2>/dev/null || fusermount3 -uz "$m" 2>/dev/null
	done
	(exit $rc)
	rfs_cleanup
}

# fc_is_mounted DIR: a ringfs FUSE mount is at DIR.
fc_is_mounted() {
	awk -v d="$1" '$2 == d && $3 == "fuse.ringfs" { f = 1 } END { exit !f }' \
		/proc/mounts
}

# fc_wait_mounted DIR YES|NO: poll until DIR is (not) mounted.
fc_wait_mounted() {
	local i
	for i in $(seq 1 $((FUSE_WAIT * 10))); do
		if fc_is_mounted "$1"; then
			[ "$2" = yes ] && return 0
		else
			[ "$2" = no ] && return 0
		fi
		sleep 0.1
	done
	return 1
}

# fc_mount NAME DIR [OPTS...]: ringfs-mount in the foreground as daemon
# NAME (log in logs/NAME.log), waiting until the mount shows.
fc_mount() {
	local name=$1 dir=$2
	shift 2
	mkdir -p "$dir"
	FC_MOUNTS="$FC_MOUNTS $dir"
	FC_NAMES="$FC_NAMES $name"
	rfs_spawn "$name" "$RFS_MOUNT_BIN" -f -o log_level=info "$@" \
		"127.0.0.1:${RFS_PORT[meta]}" "$dir"
	fc_wait_mounted "$dir" yes && rfs_is_running "$name"
}

# fc_umount NAME DIR: fusermount3 -u, then the process must exit 0.
fc_umount() {
	local name=$1 dir=$2
	rfs_run fusermount3 -u "$dir" ||
		{ fail "fusermount3 -u rc=$RFS_RC: $(rfs_err_tail)"; return 1; }
	fc_wait_mounted "$dir" no || { fail "$dir still mounted"; return 1; }
	# it exits by itself once the kernel ends the session
	for _ in $(seq 1 $((FUSE_WAIT * 10))); do
		rfs_is_running "$name" || break
		sleep 0.1
	done
	if rfs_is_running "$name"; then
		rfs_stop "$name" 1
		fail "$name did not exit after the unmount"
		return 1
	fi
	rfs_stop "$name" 1 || { fail "$name exited with status" \
		"$RFS_STOP_STATUS after the unmount"; return 1; }
	FC_MOUNTS=${FC_MOUNTS/ $dir/}
	FC_NAMES=${FC_NAMES/ $name/}
}

# fc_check_clean_exit: rfs_check_clean_exit, but the mounts still running
# (fc_mount'ed, not fc_umount'ed) get their SIGTERM first, while the
# daemons they may talk to on the way out are still up.
fc_check_clean_exit() {
	local name
	for name in $FC_NAMES; do
		rfs_is_running "$name" || continue # rfs_check_clean_exit says so
		rfs_stop "$name" 10
		case $? in
		1) fail "$name exited with status $RFS_STOP_STATUS after SIGTERM" ;;
		2) fail "$name ignored SIGTERM for 10s" ;;
		esac
	done
	rfs_check_clean_exit
}

# fc_finish: rfs_finish of a FUSE case file (mounts stopped first).
fc_finish() {
	rfs_case "${RFS_FILE_NAME#t_}_clean_exit" fc_check_clean_exit
	[ $RFS_ANY_FAILED -eq 0 ] && exit 0
	exit 1
}

# tsha FILE: the SHA-256 of FILE (on a mount) read under timeout(1), so a
# hung read fails the case instead of the whole file; "unreadable(rc=N)"
# when the read fails or hangs (N=124).
tsha() {
	local out
	out=$(timeout -k 5 "$RFS_CMD_TIMEOUT" sha256sum "$1" 2>/dev/null) ||
		{ echo "unreadable(rc=$?)"; return 1; }
	echo "${out%% *}"
}

# tcat FILE: cat FILE under timeout(1) (stderr too).
tcat() {
	timeout -k 5 "$RFS_CMD_TIMEOUT" cat "$1" 2>&1
}

# tree_state DIR: one line per entry under DIR (sorted): path, type, mode,
# and size + links + SHA-256 for files, target for symlinks (mtimes are
# compared apart: only the ones set with touch -d are the same).
tree_state() {
	(cd "$1" && find . -mindepth 1 | LC_ALL=C sort | while read -r p; do
		if [ -L "$p" ]; then
			echo "$p link $(readlink "$p")"
		elif [ -d "$p" ]; then
			echo "$p dir $(stat -c %a "$p")"
		else
			echo "$p file $(stat -c '%s %a %h' "$p") $(sha "$p")"
		fi
	done)
}


# fc_setup: skip when FUSE is unusable, else rfs_setup + the unmount trap.
fc_setup() {
	local why
	why=$(fuse_usable)
	[ -z "$why" ] || { echo "SKIP $RFS_FILE_NAME: $why"; exit 77; }
	rfs_setup
	trap fc_cleanup EXIT
}
