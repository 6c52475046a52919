#!/bin/bash
# put/get round trips at the chunk boundaries and for a 200 MiB file
# (compared by SHA-256), then cat, ls -l, stat, mkdir -p, rm -r and mv.
. "$(dirname "$0")/lib.sh"

C=$RFS_CHUNK_SIZE
# name:size; every size that sits on or next to a chunk boundary.
SIZES="size_0:0 size_1:1 size_chunk_minus_1:$((C - 1)) size_chunk:$C
size_chunk_plus_1:$((C + 1)) size_10_5_chunks:$((C * 21 / 2))"
BIG_SIZE=$((200 * 1024 * 1024))
RFS_CASES="roundtrip_size_0 roundtrip_size_1 roundtrip_size_chunk_minus_1
roundtrip_size_chunk roundtrip_size_chunk_plus_1 roundtrip_size_10_5_chunks
roundtrip_200MiB cat ls_l stat mkdir_p rm_r mv_file mv_dir"

rfs_setup
rfs_cluster_start || rfs_abort "cluster did not start: $RFS_REASON"
W=$RFS_TMP/work
rfs_cli mkdir /rt || rfs_abort "mkdir /rt failed: $(rfs_err_tail)"

# roundtrip NAME SIZE: put a random file of SIZE bytes as /rt/NAME, get it
# back, compare SHA-256 and size; stat must report the size.
roundtrip() {
	local name=$1 size=$2 src=$W/$1.src got=$W/$1.got
	rand_file "$src" "$size"
	rfs_cli put "$src" "/rt/$name" ||
		{ fail "put rc=$RFS_RC: $(rfs_err_tail)"; return; }
	rfs_cli get "/rt/$name" "$got" ||
		{ fail "get rc=$RFS_RC: $(rfs_err_tail)"; return; }
	[ -f "$got" ] || { fail "get created no file"; return; }
	[ "$(fsize "$got")" -eq "$size" ] ||
		fail "got $(fsize "$got") bytes, want $size"
	[ "$(sha "$got")" = "$(sha "$src")" ] || fail "SHA-256 differs"
	rfs_cli stat "/rt/$name" || { fail "stat rc=$RFS_RC"; return; }
	out_has_token "$size" || fail "stat does not show size $size:" \
		"$(tr '\n' ' ' <"$RFS_TMP/cmd.out" | cut -c1-200)"
	[ -z "$RFS_REASON" ]
}

case_big() {
	local src=$W/big.src got=$W/big.got
	rand_file "$src" $BIG_SIZE
	# Allow slow (sanitizer) builds more than the default per command.
	RFS_CMD_TIMEOUT=300 rfs_cli put "$src" /rt/big ||
		{ fail "put rc=$RFS_RC: $(rfs_err_tail)"; return; }
	RFS_CMD_TIMEOUT=300 rfs_cli get /rt/big "$got" ||
		{ fail "get rc=$RFS_RC: $(rfs_err_tail)"; return; }
	[ "$(sha "$got")" = "$(sha "$src")" ] || fail "SHA-256 differs" \
		"($(fsize "$got") bytes back of $BIG_SIZE)"
	rm -f "$src" "$got"
	[ -z "$RFS_REASON" ]
}

case_cat() {
	local n
	for n in size_chunk_plus_1 size_0 size_10_5_chunks; do
		rfs_cli cat "/rt/$n" ||
			{ fail "cat /rt/$n rc=$RFS_RC: $(rfs_err_tail)"; return; }
		[ "$(sha "$RFS_TMP/cmd.out")" = "$(sha "$W/$n.src")" ] ||
			fail "cat /rt/$n: output differs from what was put"
	done
	[ -z "$RFS_REASON" ]
}

case_ls_l() {
	local entry name size line
	rfs_cli ls /rt || { fail "ls rc=$RFS_RC: $(rfs_err_tail)"; return; }
	for entry in $SIZES big; do
		name=${entry%%:*}
		out_has_token "$name" || fail "ls /rt does not list $name"
	done
	[ "$(wc -w <"$RFS_TMP/cmd.out")" -eq 7 ] ||
		fail "ls /rt lists $(wc -w <"$RFS_TMP/cmd.out") words, want 7"
	rfs_cli ls -l /rt || { fail "ls -l rc=$RFS_RC: $(rfs_err_tail)"; return; }
	for entry in $SIZES big:$BIG_SIZE; do
		name=${entry%%:*}
		size=${entry#*:}
		line=$(out_line_with "$name")
		[ -n "$line" ] || { fail "ls -l /rt does not list $name"; continue; }
		echo "$line" | grep -qE "(^|[[:space:]])$size([[:space:]]|$)" ||
			fail "ls -l line of $name lacks its size $size: $line"
		echo "$line" | grep -qE '^-' ||
			fail "ls -l line of $name does not start with the '-' type: $line"
	done
	[ -z "$RFS_REASON" ]
}

case_stat() {
	rfs_cli stat /rt/size_1 || { fail "stat rc=$RFS_RC"; return; }
	grep -qiE 'regular|file' "$RFS_TMP/cmd.out" ||
		fail "stat of a file does not say it is a regular file"
	rfs_cli stat /rt || { fail "stat /rt rc=$RFS_RC"; return; }
	grep -qi 'dir' "$RFS_TMP/cmd.out" ||
		fail "stat of a directory does not say it is a directory"
	rfs_cli stat /rt/nonexistent && fail "stat of a missing path succeeded"
	[ -z "$RFS_REASON" ]
}

case_mkdir_p() {
	rfs_cli mkdir -p /p1/p2/p3 ||
		{ fail "mkdir -p rc=$RFS_RC: $(rfs_err_tail)"; return; }
	rfs_cli ls /p1/p2 || { fail "ls /p1/p2 rc=$RFS_RC"; return; }
	out_has_token p3 || fail "ls /p1/p2 does not list p3"
	rfs_cli mkdir -p /p1/p2/p3 || fail "mkdir -p of an existing dir failed"
	rfs_cli mkdir /p1/p2/p3 && fail "mkdir of an existing dir succeeded"
	rfs_cli mkdir /q1/q2 && fail "mkdir without -p of a missing parent succeeded"
	rfs_cli stat /q1 && fail "mkdir without -p created the parent /q1"
	rfs_cli mkdir -p /rt/size_1/x &&
		fail "mkdir -p below a regular file succeeded"
	[ -z "$RFS_REASON" ]
}

case_rm_r() {
	rfs_cli mkdir -p /r1/r2/r3 || { fail "mkdir -p rc=$RFS_RC"; return; }
	rfs_cli put "$W/size_chunk_plus_1.src" /r1/r2/r3/f ||
		{ fail "put rc=$RFS_RC: $(rfs_err_tail)"; return; }
	rfs_cli put "$W/size_1.src" /r1/g || { fail "put rc=$RFS_RC"; return; }
	rfs_cli rm /r1 && fail "rm without -r of a non-empty directory succeeded"
	rfs_cli stat /r1/r2/r3/f || fail "rm without -r removed something"
	rfs_cli rm /r1/g || fail "rm of a file rc=$RFS_RC: $(rfs_err_tail)"
	rfs_cli stat /r1/g && fail "rm of a file left it"
	rfs_cli rm -r /r1 || { fail "rm -r rc=$RFS_RC: $(rfs_err_tail)"; return; }
	rfs_cli stat /r1 && fail "rm -r left /r1"
	rfs_cli ls / || { fail "ls / rc=$RFS_RC"; return; }
	out_has_token r1 && fail "ls / still lists r1"
	rfs_cli rm /r1 && fail "rm of a missing path succeeded"
	[ -z "$RFS_REASON" ]
}

case_mv_file() {
	local want
	want=$(sha "$W/size_chunk.src")
	rfs_cli mv /rt/size_chunk /rt/moved ||
		{ fail "mv rc=$RFS_RC: $(rfs_err_tail)"; return; }
	rfs_cli stat /rt/size_chunk && fail "mv left the source name"
	rfs_cli cat /rt/moved || { fail "cat after mv rc=$RFS_RC"; return; }
	[ "$(sha "$RFS_TMP/cmd.out")" = "$want" ] || fail "content changed by mv"
	# Replacing an existing file, as rename(2).
	rfs_cli mv /rt/moved /rt/size_1 ||
		{ fail "mv over a file rc=$RFS_RC: $(rfs_err_tail)"; return; }
	rfs_cli cat /rt/size_1 || { fail "cat rc=$RFS_RC"; return; }
	[ "$(sha "$RFS_TMP/cmd.out")" = "$want" ] ||
		fail "mv over an existing file did not replace it"
	rfs_cli mv /rt/nonexistent /rt/x && fail "mv of a missing file succeeded"
	[ -z "$RFS_REASON" ]
}

case_mv_dir() {
	rfs_cli mkdir -p /m1/sub || { fail "mkdir -p rc=$RFS_RC"; return; }
	rfs_cli put "$W/size_chunk_plus_1.src" /m1/sub/f ||
		{ fail "put rc=$RFS_RC"; return; }
	rfs_cli mv /m1 /m2 || { fail "mv dir rc=$RFS_RC: $(rfs_err_tail)"; return; }
	rfs_cli stat /m1 && fail "mv left /m1"
	rfs_cli cat /m2/sub/f || { fail "cat /m2/sub/f rc=$RFS_RC"; return; }
	[ "$(sha "$RFS_TMP/cmd.out")" = "$(sha "$W/size_chunk_plus_1.src")" ] ||
		fail "file content changed by moving its directory"
	rfs_cli mv /m2 /m2/sub/inside &&
		fail "moving a directory into its own subtree succeeded"
	rfs_cli stat /m2/sub || fail "failed mv into own subtree damaged /m2"
	[ -z "$RFS_REASON" ]
}

for entry in $SIZES; do
	rfs_case "roundtrip_${entry%%:*}" roundtrip "${entry%%:*}" "${entry#*:}"
done
rfs_case roundtrip_200MiB case_big
rfs_case cat case_cat
rfs_case ls_l case_ls_l
rfs_case stat case_stat
rfs_case mkdir_p case_mkdir_p
rfs_case rm_r case_rm_r
rfs_case mv_file case_mv_file
rfs_case mv_dir case_mv_dir
rfs_finish
