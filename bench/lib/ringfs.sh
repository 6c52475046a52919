# bench/lib/ringfs.sh -- the ringfs target: 1 metaserver + 3 chunk servers
# on 127.0.0.1, goal 2, data under $WORK/ringfs, mounted with ringfs-mount
# at $WORK/mnt/ringfs. It is scripts/quickstart, pointed at the bench's
# build, data and mount dirs and at ports of its own.

RFS_BENCH_META_PORT=${RFS_BENCH_META_PORT:-19400}
RFS_BENCH_CHUNK_PORT=${RFS_BENCH_CHUNK_PORT:-19500}
RFS_BENCH_META=127.0.0.1:$RFS_BENCH_META_PORT

# bn_ringfs_qs ARGS...: scripts/quickstart with the bench's dirs and ports.
bn_ringfs_qs() {
	RINGFS_BUILD=$BUILD RINGFS_DATA=$WORK/ringfs RINGFS_MNT=$WORK/mnt/ringfs \
		RINGFS_META_PORT=$RFS_BENCH_META_PORT \
		RINGFS_CHUNK_PORT=$RFS_BENCH_CHUNK_PORT RINGFS_GOAL=2 \
		"$RFS_TOP/scripts/quickstart" "$@" >>"$WORK/logs/ringfs-quickstart.log" 2>&1 7>&- 8>&- 9>&-
}

# bn_ringfs_ports_free: none of the ports the cluster wants is taken.
bn_ringfs_ports_free() {
	local p
	for p in $RFS_BENCH_META_PORT $((RFS_BENCH_META_PORT + 1)) \
		$RFS_BENCH_CHUNK_PORT $((RFS_BENCH_CHUNK_PORT + 1)) $((RFS_BENCH_CHUNK_PORT + 2)); do
		if ss -Hltn "sport = :$p" | grep -q .; then
			bn_log "ringfs: port $p is in use (set RFS_BENCH_META_PORT / RFS_BENCH_CHUNK_PORT)"
			return 1
		fi
	done
}

bn_ringfs_up() {
	bn_ringfs_ports_free || return 1
	mkdir -p "$WORK/ringfs" "$WORK/mnt/ringfs"
	bn_reg hook bn_ringfs_down
	bn_ringfs_qs start || {
		bn_log "ringfs: quickstart failed; see $WORK/logs/ringfs-quickstart.log"
		return 1
	}
	mountpoint -q "$WORK/mnt/ringfs" || {
		bn_log "ringfs: not mounted; see $WORK/ringfs/logs/mount.log"
		return 1
	}
	TDIR[ringfs]=$WORK/mnt/ringfs
	SRV_PIDS[ringfs]=$(cat "$WORK"/ringfs/run/chunk*.pid "$WORK/ringfs/run/meta.pid" | tr '\n' ' ')
	CLI_PIDS[ringfs]=$(cat "$WORK/ringfs/run/mount.pid")
	local src rev
	src=$(sed -n 's/^abs_top_srcdir = //p' "$BUILD/Makefile" 2>/dev/null)
	rev=$(git -C "${src:-$RFS_TOP}" describe --always --dirty 2>/dev/null || echo "not a git tree")
	VERSION[ringfs]="$("$BUILD/tools/ringfs" --version 2>/dev/null | head -1), built from ${src:-?} ($rev)"
}

bn_ringfs_down() {
	[ -d "$WORK/ringfs/run" ] || return 0
	bn_ringfs_qs stop
	bn_unmount "$WORK/mnt/ringfs"
}
