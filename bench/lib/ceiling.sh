# bench/lib/ceiling.sh -- the FUSE transport ceiling: bench/ceiling/
# fuse-ceiling.c, a FUSE file system whose one 4 GiB read-only file "big"
# is answered from memory. Only the read workloads run on it.

bn_ceiling_up() {
	local bin=$WORK/bin/fuse-ceiling mnt=$WORK/mnt/ceiling
	mkdir -p "$WORK/bin" "$mnt"
	# shellcheck disable=SC2046
	cc -O2 -Wall -o "$bin" "$RFS_TOP/bench/ceiling/fuse-ceiling.c" \
		$(pkg-config --cflags --libs fuse3) 2>"$WORK/logs/ceiling-build.log" || {
		bn_log "ceiling: build failed; see $WORK/logs/ceiling-build.log"
		return 1
	}
	"$bin" -f "$mnt" >"$WORK/logs/ceiling.log" 2>&1 7>&- 8>&- 9>&- &
	local pid=$!
	bn_reg pid "$pid"
	bn_reg mount "$mnt"
	bn_wait_for 10 mountpoint -q "$mnt" || {
		bn_log "ceiling: mount failed; see $WORK/logs/ceiling.log"
		return 1
	}
	TDIR[ceiling]=$mnt
	SRV_PIDS[ceiling]=
	CLI_PIDS[ceiling]=$pid
	VERSION[ceiling]="fuse-ceiling (libfuse $(pkg-config --modversion fuse3))"
}
