# bench/lib/workloads.sh -- the workloads. Each wl_NAME TARGET DIR runs one
# bounded workload in DIR (a fresh directory on the target) and records its
# figures with bn_emit; it returns non-zero when something failed. The
# ceiling target has one read-only file, DIR/big: only the read parts run.
#
# Settings (set by bench/run): SIZE RAND_SIZE (bytes), RAND_SECS,
# META_DIRS, META_FILES, SMALL_SIZE, PHASE_TIMEOUT (s), TARBALL, CLI_SRC,
# REP (repeat number), and the per-target SRV_PIDS/CLI_PIDS arrays.

# bn_emit TARGET METRIC VALUE: one measurement of this repeat
bn_emit() {
	printf '%s %s %s %s\n' "$1" "$2" "$3" "$REP" >>"$WORK/results.txt"
	bn_log "    $1 $2 = $3"
}

# bn_timed CMD...: run CMD under the phase timeout; sets T_ELAPSED (s).
bn_timed() {
	local t0 t1 rc
	t0=$(bn_now)
	timeout "$PHASE_TIMEOUT" "$@"
	rc=$?
	t1=$(bn_now)
	T_ELAPSED=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.6f", b - a}')
	[ $rc -eq 124 ] && bn_log "    timed out after ${PHASE_TIMEOUT}s: $*"
	return $rc
}

# bn_div A B [FMT]: A / B
bn_div() { awk -v a="$1" -v b="$2" -v f="${3:-%.2f}" 'BEGIN {printf f, (b > 0 ? a / b : 0)}'; }

# bn_fio DIR NAME ARGS...: bounded fio run with JSON output in $WORK/fio/
bn_fio() {
	local dir=$1 name=$2
	shift 2
	mkdir -p "$WORK/fio"
	bn_timed fio --name="$name" --directory="$dir" --ioengine=psync \
		--group_reporting --output-format=json --output="$WORK/fio/$name.json" "$@" \
		>>"$WORK/logs/fio.log" 2>&1
}

# bn_fio_field NAME EXPR: python expression over fio's JSON "jobs" list
bn_fio_field() {
	python3 -c 'import json, sys
jobs = json.load(open(sys.argv[1]))["jobs"]
print(eval(sys.argv[2]))' "$WORK/fio/$1.json" "$2"
}

bn_fio_bytes() { bn_fio_field "$1" "sum(j['$2']['io_bytes'] for j in jobs)"; }

# bn_fio_mbps NAME RW: MB/s over fio's own run time (group_reporting: one
# entry for all jobs). fio's run time includes an end_fsync but not fio's
# own start-up (~0.7 s here), which a wall clock would add.
bn_fio_mbps() {
	bn_fio_field "$1" "'%.2f' % (sum(j['$2']['io_bytes'] for j in jobs) / max(max(j['$2']['runtime'] for j in jobs), 1) / 1000)"
}

# bn_cpu_start TARGET / bn_cpu_record TARGET METRIC BYTES: CPU time (ms)
# the target's server daemons and its client spent, per MB moved.
bn_cpu_start() {
	CPU0_SRV=$(bn_cpu_ticks ${SRV_PIDS[$1]})
	CPU0_CLI=$(bn_cpu_ticks ${CLI_PIDS[$1]})
}
# bn_cpu_per_mb TICKS HZ MB: CPU milliseconds per MB
bn_cpu_per_mb() { awk -v t="$1" -v hz="$2" -v mb="$3" 'BEGIN {printf "%.4f", (mb > 0 ? t * 1000 / hz / mb : 0)}'; }

# bn_mbps BYTES SECONDS: MB/s (MB = 10^6 bytes)
bn_mbps() { awk -v b="$1" -v s="$2" 'BEGIN {printf "%.2f", (s > 0 ? b / s / 1e6 : 0)}'; }

# ---------------------------------------------------------------- streaming
# wl_seq: one file of SIZE, 1 MiB writes, fsync at the end (wall clock
# includes the fsync); then, caches dropped, read it back.
wl_seq() {
	local t=$1 dir=$2 bytes
	if [ "$t" = ceiling ]; then
		bn_drop_caches
		bn_fio "$dir" seqr --filename=big --readonly --rw=read --bs=1M --size="$SIZE" || return 1
		bn_emit "$t" seq_read "$(bn_fio_mbps seqr read)"
		return 0
	fi
	bn_cpu_start "$t"
	bn_fio "$dir" seqw --filename=seq.dat --rw=write --bs=1M --size="$SIZE" --end_fsync=1 || return 1
	bytes=$(bn_fio_bytes seqw write)
	bn_emit "$t" seq_write "$(bn_fio_mbps seqw write)"
	bn_cpu_record "$t" seq_write "$bytes"
	bn_drop_caches
	bn_fio "$dir" seqr --filename=seq.dat --rw=read --bs=1M --size="$SIZE" || return 1
	bn_emit "$t" seq_read "$(bn_fio_mbps seqr read)"
	rm -f "$dir/seq.dat"
}

# bn_cpu_record TARGET METRIC BYTES: emit METRIC_srv_cpu / METRIC_client_cpu
bn_cpu_record() {
	local t=$1 m=$2 mb hz
	mb=$(bn_div "$3" 1000000 %.3f)
	hz=$(getconf CLK_TCK)
	if [ -n "${SRV_PIDS[$t]}" ]; then
		bn_emit "$t" "${m}_srv_cpu" \
			"$(bn_cpu_per_mb $(($(bn_cpu_ticks ${SRV_PIDS[$t]}) - CPU0_SRV)) "$hz" "$mb")"
	fi
	if [ -n "${CLI_PIDS[$t]}" ]; then
		bn_emit "$t" "${m}_client_cpu" \
			"$(bn_cpu_per_mb $(($(bn_cpu_ticks ${CLI_PIDS[$t]}) - CPU0_CLI)) "$hz" "$mb")"
	fi
}

# wl_par: 4 files of SIZE/4 written by 4 parallel jobs (fsync at the end of
# each), then read back by 4 jobs after dropping caches.
wl_par() {
	local t=$1 dir=$2 each=$(($SIZE / 4)) files=()
	if [ "$t" = ceiling ]; then
		bn_drop_caches
		bn_fio "$dir" parr --filename=big --readonly --rw=read --bs=1M --numjobs=4 \
			--size="$each" --offset_increment="$each" || return 1
		bn_emit "$t" par_read "$(bn_fio_mbps parr read)"
		return 0
	fi
	# the read jobs must find the files the write jobs made: same names
	bn_fio "$dir" parw --filename_format='par.$jobnum' --rw=write --bs=1M \
		--numjobs=4 --size="$each" --end_fsync=1 || return 1
	bn_emit "$t" par_write "$(bn_fio_mbps parw write)"
	bn_drop_caches
	bn_fio "$dir" parr --filename_format='par.$jobnum' --rw=read --bs=1M \
		--numjobs=4 --size="$each" || return 1
	bn_emit "$t" par_read "$(bn_fio_mbps parr read)"
	files=("$dir"/par.*)
	rm -f "${files[@]}"
}

# wl_rand: 4 KiB random reads, 1 job, queue depth 1, RAND_SECS seconds over
# a RAND_SIZE file laid out first (caches dropped after). Buffered reads:
# the page cache warms up during the run, as it would for an application.
wl_rand() {
	local t=$1 dir=$2 file=rand.dat ro=
	if [ "$t" = ceiling ]; then
		file=big
		ro=--readonly
	else
		bn_fio "$dir" randlay --filename=$file --rw=write --bs=1M \
			--size="$RAND_SIZE" --end_fsync=1 || return 1
	fi
	bn_drop_caches
	bn_fio "$dir" randr --filename=$file $ro --rw=randread --bs=4k \
		--size="$RAND_SIZE" --time_based --runtime="$RAND_SECS" \
		--randrepeat=1 || return 1
	bn_emit "$t" rand_read_4k "$(bn_fio_field randr "'%.0f' % sum(j['read']['iops'] for j in jobs)")"
	[ "$t" = ceiling ] || rm -f "$dir/rand.dat"
}

# ---------------------------------------------------------------- metadata
# wl_meta: META_DIRS x META_FILES files of SMALL_SIZE bytes: create, stat,
# readdir, unlink, each phase timed on its own (caches dropped before the
# stat, readdir and unlink phases).
wl_meta() {
	local t=$1 dir=$2 phase out
	for phase in create stat readdir unlink; do
		[ "$phase" = create ] || bn_drop_caches
		out=$(timeout "$PHASE_TIMEOUT" python3 "$RFS_TOP/bench/lib/smallfiles.py" \
			"$phase" "$dir/meta" "$META_DIRS" "$META_FILES" "$SMALL_SIZE" \
			2>>"$WORK/logs/meta.log") || {
			bn_log "    meta $phase failed; see $WORK/logs/meta.log"
			return 1
		}
		# shellcheck disable=SC2086
		bn_emit "$t" "meta_$phase" "$(bn_div $out %.1f)"
	done
}

# ---------------------------------------------------------------- untar
# wl_untar: extract TARBALL (its bytes already in the page cache), syncfs,
# then rm -rf the tree (caches dropped before).
wl_untar() {
	local t=$1 dir=$2
	mkdir -p "$dir/src" || return 1
	cat "$TARBALL" >/dev/null
	bn_timed bash -c 'tar -C "$1" -xf "$2" && sync -f "$1"' _ "$dir/src" "$TARBALL" || return 1
	bn_emit "$t" untar "$T_ELAPSED"
	bn_drop_caches
	bn_timed rm -rf "$dir/src" || return 1
	bn_emit "$t" rm_rf "$T_ELAPSED"
}

# ---------------------------------------------------------------- CLI
# bn_cold FILE: warn when FILE still has pages in the page cache (the
# caches were not dropped: a local read would be a memory copy).
bn_cold() {
	local pages
	pages=$(fincore -nb -o PAGES "$1" 2>/dev/null | tr -d ' ')
	[ "${pages:-0}" = 0 ] || bn_log "    warning: $1 has $pages pages cached"
}

# wl_cli: `ringfs put` / `ringfs get` of CLI_SRC (SIZE bytes) against `cp`
# on the local disk, each timed to the same durability: the copy is on
# disk at the end (put: the chunk servers fsync, its cp is followed by
# sync -f; get and its cp are both followed by sync -f of the copy). Caches
# are dropped before each, so get reads cold chunk files and cp a cold
# local file (checked with fincore).
wl_cli() {
	local t=$1 dir=$2 out=$WORK/local/cli.out
	rm -f "$out"
	bn_drop_caches
	if [ "$t" = local ]; then
		bn_timed bash -c 'cp "$1" "$2" && sync -f "$2"' _ "$CLI_SRC" "$dir/cli.dat" || return 1
	else
		bn_timed "$BUILD/tools/ringfs" -q -m "$RFS_BENCH_META" put "$CLI_SRC" /bench-cli.dat \
			2>>"$WORK/logs/cli.log" || return 1
	fi
	bn_emit "$t" cli_put "$(bn_mbps "$SIZE" "$T_ELAPSED")"
	bn_drop_caches
	if [ "$t" = local ]; then
		bn_cold "$dir/cli.dat"
		bn_timed bash -c 'cp "$1" "$2" && sync -f "$2"' _ "$dir/cli.dat" "$out" || return 1
	else
		bn_timed bash -c '"$1" -q -m "$2" get /bench-cli.dat "$3" && sync -f "$3"' _ \
			"$BUILD/tools/ringfs" "$RFS_BENCH_META" "$out" 2>>"$WORK/logs/cli.log" || return 1
	fi
	bn_emit "$t" cli_get "$(bn_mbps "$SIZE" "$T_ELAPSED")"
	cmp -s "$CLI_SRC" "$out" || {
		bn_log "    cli: the copy differs from the source"
		return 1
	}
	rm -f "$out" "$dir/cli.dat"
	[ "$t" = local ] || "$BUILD/tools/ringfs" -q -m "$RFS_BENCH_META" rm /bench-cli.dat 2>>"$WORK/logs/cli.log"
}
