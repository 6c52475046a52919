#!/bin/bash
# Ordinary programs on the FUSE mount: tar of a real source tree onto the
# mount and back (contents, types, modes, link counts, symlink targets,
# mtimes), git (init, commit, gc, fsck, clone of a local repository), a C
# project cloned onto the mount, built there with make and run from there,
# and concurrent writers (different files; different parts of one file).
# Every command runs under timeout(1): a hang is a failure.
# Skipped (77) when /dev/fuse or fusermount3 is not usable.
#
# RFS_TAR_MAX_FILES (default 1500): how many entries of /usr/include the
# tar case takes (whole top-level directories, smallest first, plus the
# top-level files).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/fuselib.sh"

C=$RFS_CHUNK_SIZE
TAR_MAX=${RFS_TAR_MAX_FILES:-1500}
RFS_CASES="fuse_apps_mount fuse_apps_tar fuse_apps_git_init fuse_apps_git_clone_build
fuse_apps_concurrent_files fuse_apps_concurrent_one_file fuse_apps_clean_exit"
fc_setup
rfs_cluster_start || rfs_abort "cluster did not start: $RFS_REASON"
W=$RFS_TMP/work
M=$RFS_TMP/mnt
# git must not read the caller's configuration
export HOME=$W/home GIT_CONFIG_NOSYSTEM=1 GIT_AUTHOR_NAME=ringfs \
	GIT_AUTHOR_EMAIL=ringfs@example.invalid GIT_COMMITTER_NAME=ringfs \
	GIT_COMMITTER_EMAIL=ringfs@example.invalid
mkdir -p "$HOME"

# tree_list DIR: one sorted line per entry: path, type, mode, size and link
# count (not for directories), symlink target, mtime in whole seconds.
tree_list() {
	(cd "$1" && timeout -k 5 "$RFS_CMD_TIMEOUT" find . -mindepth 1 \
		-printf '%P\t%y\t%m\t%s\t%n\t%l\t%T@\n') |
		awk -F'\t' -v OFS='\t' '{
			if ($2 == "d") { $4 = "-"; $5 = "-" }
			sub(/\..*/, "", $7); print }' | LC_ALL=C sort
}

# tree_diff A B WHAT: fail with how many entries differ and the first ones.
tree_diff() {
	local d n
	d=$(diff <(tree_list "$1") <(tree_list "$2") | grep '^[<>]')
	[ -n "$d" ] || return 0
	n=$(grep -c '^<' <<<"$d")
	fail "$3: $n entries differ (< source, > copy; fields: path type mode" \
		"size links target mtime): $(head -n 4 <<<"$d" | tr '\n' '|' |
		cut -c1-500)"
}

# src_tree DIR: a bounded copy of /usr/include (top-level files and the
# smallest whole subdirectories up to TAR_MAX entries), plus entries
# /usr/include may lack: hard links, odd modes, an executable, an empty
# directory, names with spaces, a multi-chunk file, a sparse file.
src_tree() {
	local d=$1 n=0 cnt name names=()
	mkdir -p "$d/include"
	# entries under each top-level name of /usr/include, fewest first
	while read -r cnt name; do
		if [ -d "/usr/include/$name" ] && [ ! -L "/usr/include/$name" ]; then
			[ $((n + cnt)) -le "$TAR_MAX" ] || continue
		fi
		names+=("$name")
		n=$((n + cnt))
	done < <(cd /usr/include && find . -mindepth 1 | cut -d/ -f2 |
		LC_ALL=C sort | uniq -c | sort -n -s)
	tar -C /usr/include -cf - -- "${names[@]}" | tar -C "$d/include" -xpf - ||
		return 1
	mkdir -p "$d/extra/empty" "$d/extra/sp ace"
	rand_file "$d/extra/big" $((C * 3 + 4321))
	head -c 100 /dev/urandom >"$d/extra/sp ace/f"
	ln "$d/extra/big" "$d/extra/big.hardlink"
	ln -s ../include "$d/extra/inc"
	ln -s dangling "$d/extra/dangling"
	printf '#!/bin/sh\necho ran\n' >"$d/extra/run.sh"
	chmod 755 "$d/extra/run.sh"
	chmod 600 "$d/extra/sp ace/f"
	chmod 1777 "$d/extra/empty"
	truncate -s $((C * 2 + 7)) "$d/extra/sparse"
	printf x | dd of="$d/extra/sparse" bs=1 seek=$((C + 3)) conv=notrunc \
		status=none
	touch -d '2001-02-03 04:05:06' "$d/extra/sp ace/f" "$d/extra"
}

case_mount() {
	fc_mount m1 "$M" || fail "mount did not appear at $M"
}

case_tar() {
	src_tree "$W/src" || { fail "cannot copy /usr/include"; return; }
	rfs_log "tar: $(find "$W/src" | wc -l) entries, $(du -sm "$W/src" | cut -f1) MiB"
	mkdir -p "$W/back"
	rfs_run mkdir -p "$M/tar" || { fail "mkdir on the mount rc=$RFS_RC"; return; }
	rfs_run bash -o pipefail -c "tar -C '$W/src' -cf - . | tar -C '$M/tar' -xpf -" ||
		{ fail "tar onto the mount rc=$RFS_RC: $(rfs_err_tail)"; return; }
	rfs_run bash -o pipefail -c "tar -C '$M/tar' -cf - . | tar -C '$W/back' -xpf -" ||
		{ fail "tar from the mount rc=$RFS_RC: $(rfs_err_tail)"; return; }
	rfs_run diff -r --no-dereference "$W/src" "$M/tar" ||
		fail "diff -r source vs mount: $(head -c 300 "$RFS_TMP/cmd.out")"
	rfs_run diff -r --no-dereference "$W/src" "$W/back" ||
		fail "diff -r source vs copy back: $(head -c 300 "$RFS_TMP/cmd.out")"
	tree_diff "$W/src" "$M/tar" "metadata on the mount"
	tree_diff "$W/src" "$W/back" "metadata of the copy back"
	rfs_run "$M/tar/extra/run.sh" || fail "script on the mount rc=$RFS_RC"
	[ -z "$RFS_REASON" ]
}

# git on the mount: init, two commits, gc (packs, renames, unlinks), fsck.
case_git_init() {
	local r=$M/repo
	rfs_run git init -q "$r" || { fail "git init rc=$RFS_RC: $(rfs_err_tail)"; return; }
	mkdir -p "$W/gitsrc/sp ace"
	rand_file "$W/gitsrc/big" $((C * 3 + 5))
	echo hi >"$W/gitsrc/sp ace/f"
	printf 'line %s\n' $(seq 1 500) >"$W/gitsrc/text"
	rfs_run cp -a "$W/gitsrc/." "$r/" || { fail "cp into the repository"; return; }
	rfs_run git -C "$r" add -A && rfs_run git -C "$r" commit -q -m one ||
		{ fail "first commit rc=$RFS_RC: $(rfs_err_tail)"; return; }
	rfs_run sed -i 's/^line 7$/line seven/' "$r/text" &&
		rfs_run mv "$r/big" "$r/big.moved" || { fail "edits rc=$RFS_RC"; return; }
	rfs_run git -C "$r" add -A && rfs_run git -C "$r" commit -q -m two ||
		{ fail "second commit rc=$RFS_RC: $(rfs_err_tail)"; return; }
	rfs_run git -C "$r" fsck --full --strict ||
		fail "git fsck rc=$RFS_RC: $(rfs_err_tail)"
	rfs_run git -C "$r" gc -q --prune=now ||
		fail "git gc rc=$RFS_RC: $(rfs_err_tail)"
	rfs_run git -C "$r" fsck --full --strict ||
		fail "git fsck after gc rc=$RFS_RC: $(rfs_err_tail)"
	rfs_run git -C "$r" log --format=%s
	[ "$(tr '\n' ' ' <"$RFS_TMP/cmd.out")" = "two one " ] ||
		fail "git log: $(tr '\n' ' ' <"$RFS_TMP/cmd.out")"
	rfs_run git -C "$r" status --porcelain
	[ ! -s "$RFS_TMP/cmd.out" ] || fail "work tree not clean: $(head -c 200 "$RFS_TMP/cmd.out")"
	rfs_run git -C "$r" show HEAD:text
	cmp -s "$RFS_TMP/cmd.out" "$r/text" || fail "committed text differs"
	[ -z "$RFS_REASON" ]
}

# make_project DIR: a small C project in a local git repository.
make_project() {
	local d=$1
	mkdir -p "$d/src"
	cat >"$d/src/util.h" <<-'EOF'
		unsigned long fib(unsigned n);
	EOF
	cat >"$d/src/util.c" <<-'EOF'
		#include "util.h"
		unsigned long fib(unsigned n)
		{
			unsigned long a = 0, b = 1, t;
			while (n--) {
				t = a + b;
				a = b;
				b = t;
			}
			return a;
		}
	EOF
	cat >"$d/src/main.c" <<-'EOF'
		#include <stdio.h>
		#include "util.h"
		int main(void)
		{
			printf("fib(50)=%lu\n", fib(50));
			return 0;
		}
	EOF
	printf 'hello: src/main.o src/util.o\n\t$(CC) -o $@ $^\n' >"$d/Makefile"
	printf 'src/main.o src/util.o: src/util.h\n' >>"$d/Makefile"
	printf '*.o\n/hello\n' >"$d/.gitignore"
	git init -q "$d" && git -C "$d" add -A && git -C "$d" commit -q -m project
}

# git clone of a local repository onto the mount, then build and run there.
case_git_clone_build() {
	make_project "$W/proj" || { fail "cannot make the local project"; return; }
	rfs_run git clone -q "$W/proj" "$M/proj" ||
		{ fail "git clone rc=$RFS_RC: $(rfs_err_tail)"; return; }
	rfs_run git -C "$M/proj" fsck --full --strict ||
		fail "git fsck of the clone rc=$RFS_RC: $(rfs_err_tail)"
	rfs_run make -C "$M/proj" ||
		{ fail "make on the mount rc=$RFS_RC: $(rfs_err_tail)"; return; }
	rfs_run "$M/proj/hello" ||
		{ fail "running the binary from the mount rc=$RFS_RC: $(rfs_err_tail)"; return; }
	[ "$(cat "$RFS_TMP/cmd.out")" = "fib(50)=12586269025" ] ||
		fail "binary printed: $(head -c 100 "$RFS_TMP/cmd.out")"
	# a rebuild after a change: make sees the new mtime
	rfs_run sed -i 's/fib(50)/fib(60)/g' "$M/proj/src/main.c" ||
		{ fail "sed -i on the mount rc=$RFS_RC"; return; }
	rfs_run make -C "$M/proj" && rfs_run "$M/proj/hello" ||
		{ fail "rebuild rc=$RFS_RC: $(rfs_err_tail)"; return; }
	[ "$(cat "$RFS_TMP/cmd.out")" = "fib(60)=1548008755920" ] ||
		fail "rebuilt binary printed: $(head -c 100 "$RFS_TMP/cmd.out")"
	rfs_run git -C "$M/proj" status --porcelain
	[ "$(cat "$RFS_TMP/cmd.out")" = " M src/main.c" ] ||
		fail "git status: $(tr '\n' '|' <"$RFS_TMP/cmd.out" | cut -c1-200)"
	[ -z "$RFS_REASON" ]
}

# Six writers at once, each its own file (sizes and block sizes differ).
case_concurrent_files() {
	local i s p pids='' sizes="1 $((C - 1)) $((C + 1)) $((C * 3 + 333)) $((C * 5)) 77777"
	i=0
	for s in $sizes; do
		rand_file "$W/cf$i" "$s"
		timeout -k 5 "$RFS_CMD_TIMEOUT" dd if="$W/cf$i" of="$M/cf$i" \
			bs=$((4096 << i)) status=none 2>"$W/cf$i.err" &
		pids="$pids $!"
		i=$((i + 1))
	done
	i=0
	for p in $pids; do
		wait "$p" || fail "writer $i rc=$?: $(head -c 200 "$W/cf$i.err")"
		i=$((i + 1))
	done
	for i in $(seq 0 5); do
		[ "$(tsha "$M/cf$i")" = "$(sha "$W/cf$i")" ] ||
			fail "cf$i differs through the mount"
		rfs_cli get "/cf$i" "$W/cf$i.got" && cmp -s "$W/cf$i.got" "$W/cf$i" ||
			fail "cf$i differs through ringfs get"
	done
	[ -z "$RFS_REASON" ]
}

# writers DEST BS REGION_BLOCKS N SRC: N dd writers in parallel, writer k
# copies blocks [k*REGION, (k+1)*REGION) of SRC into DEST in place.
writers() {
	local dest=$1 bs=$2 region=$3 n=$4 src=$5 k pids='' rc=0
	for k in $(seq 0 $((n - 1))); do
		timeout -k 5 "$RFS_CMD_TIMEOUT" dd if="$src" of="$dest" bs="$bs" \
			skip=$((k * region)) seek=$((k * region)) count="$region" \
			conv=notrunc status=none &
		pids="$pids $!"
	done
	for k in $pids; do
		wait "$k" || rc=1
	done
	return $rc
}

# Writers to different parts of ONE file that exists already: whole
# chunks (64 KiB writes), then unaligned regions that share chunks
# (3000-byte writes, 1.5 MB regions: boundaries inside chunks).
case_concurrent_one_file() {
	rand_file "$W/base" $((C * 8))
	rand_file "$W/new" $((C * 8))
	rfs_run cp "$W/base" "$M/one" || { fail "cp to the mount"; return; }
	writers "$M/one" 65536 $((C * 2 / 65536)) 4 "$W/new" ||
		fail "a chunk-aligned writer failed"
	[ "$(tsha "$M/one")" = "$(sha "$W/new")" ] ||
		fail "chunk-aligned writers: file differs"
	cp "$W/base" "$W/one2"
	rfs_run cp "$W/base" "$M/one2" || { fail "cp to the mount"; return; }
	writers "$M/one2" 3000 500 5 "$W/new" || fail "an unaligned writer failed"
	writers "$W/one2" 3000 500 5 "$W/new"
	[ "$(tsha "$M/one2")" = "$(sha "$W/one2")" ] ||
		fail "unaligned writers: file differs through the mount"
	rfs_cli get /one2 "$W/one2.got" && cmp -s "$W/one2.got" "$W/one2" ||
		fail "unaligned writers: file differs through ringfs get"
	[ -z "$RFS_REASON" ]
}

rfs_case fuse_apps_mount case_mount
rfs_case fuse_apps_tar case_tar
if command -v git >/dev/null 2>&1; then
	rfs_case fuse_apps_git_init case_git_init
	rfs_case fuse_apps_git_clone_build case_git_clone_build
else
	rfs_log "no git: fuse_apps_git_init and fuse_apps_git_clone_build not run"
fi
rfs_case fuse_apps_concurrent_files case_concurrent_files
rfs_case fuse_apps_concurrent_one_file case_concurrent_one_file
fc_finish
