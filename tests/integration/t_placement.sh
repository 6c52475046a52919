#!/bin/bash
# Placement: every chunk of a file is stored on exactly the ring's R target
# servers. Checked three ways that must agree: ringfs-admin placement (all
# chunks ok, none misplaced), the replica files in each chunk server's data
# dir, each chunk server's inventory (GET /v1/chunks), and the ring
# recomputed here in the shell from its specification.
. "$(dirname "$0")/lib.sh"

RFS_CASES="placement_admin placement_on_disk placement_inventory"
rfs_setup
rfs_cluster_start || rfs_abort "cluster did not start: $RFS_REASON"
W=$RFS_TMP/work
C=$RFS_CHUNK_SIZE

# Files and their chunk counts: one chunk, a partial last chunk, many.
FILES="one:$((C / 3)) three:$((2 * C + 1)) eleven:$((C * 21 / 2))"
rfs_cli mkdir /pl || rfs_abort "mkdir /pl failed: $(rfs_err_tail)"
for f in $FILES; do
	rand_file "$W/${f%%:*}" "${f#*:}"
	rfs_cli put "$W/${f%%:*}" "/pl/${f%%:*}" ||
		rfs_abort "put /pl/${f%%:*} failed: $(rfs_err_tail)"
done

# chunk_count SIZE: chunks of a file of SIZE bytes.
chunk_count() {
	echo $((($1 + C - 1) / C))
}

case_admin() {
	local f name ids n id st reps tg
	for f in $FILES; do
		name=${f%%:*}
		ids=$(rfs_placement_chunks "/pl/$name") ||
			{ fail "placement /pl/$name rc=$RFS_RC: $(rfs_err_tail)"; continue; }
		n=$(echo "$ids" | grep -c .)
		[ "$n" -eq "$(chunk_count "${f#*:}")" ] ||
			fail "placement /pl/$name lists $n chunks, want $(chunk_count "${f#*:}")"
		for id in $ids; do
			st=$(rfs_placement_field "$id" 7)
			reps=$(rfs_placement_field "$id" 5)
			tg=$(rfs_placement_field "$id" 6)
			[ "$st" = ok ] || fail "chunk $id of /pl/$name: status '$st'" \
				"(replicas $reps, targets $tg)"
			echo "$reps" | grep -q ':down' &&
				fail "chunk $id of /pl/$name: a replica is down ($reps)"
			[ "$(echo "$reps" | tr ',' '\n' | grep -c .)" -eq $RFS_GOAL ] ||
				fail "chunk $id of /pl/$name: $reps is not $RFS_GOAL replicas"
		done
	done
	[ -z "$RFS_REASON" ]
}

case_on_disk() {
	local f name ids id want have listed targets
	for f in $FILES; do
		name=${f%%:*}
		ids=$(rfs_placement_chunks "/pl/$name") ||
			{ fail "placement /pl/$name rc=$RFS_RC"; continue; }
		[ -n "$ids" ] || { fail "no chunk ids for /pl/$name"; continue; }
		# shellcheck disable=SC2086
		rfs_ring_targets_many $ids
		for id in $ids; do
			want=$(rfs_ring_targets "$id")
			have=$(rfs_holders "$id")
			[ "$have" = "$want" ] || fail "chunk $id of /pl/$name:" \
				"replica files on [$have], ring targets [$want]"
			listed=$(rfs_servers_of "$(rfs_placement_field "$id" 5)")
			[ "$listed" = "$want" ] || fail "chunk $id of /pl/$name:" \
				"placement lists replicas [$listed], ring targets [$want]"
			targets=$(rfs_servers_of "$(rfs_placement_field "$id" 6)")
			[ "$targets" = "$want" ] || fail "chunk $id of /pl/$name:" \
				"ringfs-admin computes targets [$targets], the shell [$want]"
		done
	done
	[ -z "$RFS_REASON" ]
}

case_inventory() {
	local f name ids id n want have code
	for n in $(seq 1 $RFS_NSERVERS); do
		code=$(rfs_http GET "http://127.0.0.1:${RFS_PORT[cs$n]}/v1/chunks")
		[ "$code" = 200 ] ||
			{ fail "GET /v1/chunks on cs$n: HTTP $code"; return; }
		cp "$RFS_TMP/http.body" "$RFS_TMP/inv.cs$n"
	done
	for f in $FILES; do
		name=${f%%:*}
		ids=$(rfs_placement_chunks "/pl/$name") || { fail "placement rc=$RFS_RC"; continue; }
		for id in $ids; do
			want=$(rfs_ring_targets "$id")
			have=
			for n in $(seq 1 $RFS_NSERVERS); do
				grep -q "$id" "$RFS_TMP/inv.cs$n" && have="$have cs$n"
			done
			have=${have# }
			[ "$have" = "$want" ] || fail "chunk $id of /pl/$name:" \
				"inventories list it on [$have], ring targets [$want]"
		done
	done
	[ -z "$RFS_REASON" ]
}

rfs_case placement_admin case_admin
rfs_case placement_on_disk case_on_disk
rfs_case placement_inventory case_inventory
rfs_finish
