#!/bin/bash
# Writes, truncates to odd sizes (inside a 64 KiB CRC block), reads and
# extending writes of one file straight through the client library,
# against the test cluster (1 MiB chunks), checked byte for byte against a
# model by tests/integration/iocheck (a few seeds).
. "$(dirname "$0")/lib.sh"

IOCHECK=$RFS_BUILDDIR/tests/integration/iocheck
SEEDS="1 2 3"
OPS=250
RFS_CASES="client_io_random"
rfs_setup
[ -x "$IOCHECK" ] || { echo "no $IOCHECK: skipped" >&2; exit 77; }
rfs_cluster_start || rfs_abort "cluster did not start: $RFS_REASON"

case_client_io_random() {
	local seed
	for seed in $SEEDS; do
		rfs_run "$IOCHECK" "127.0.0.1:${RFS_PORT[meta]}" "io$seed" \
			"$seed" $OPS ||
			{ fail "seed $seed: $(rfs_err_tail)"; return; }
		rfs_log "seed $seed: $(cat "$RFS_TMP/cmd.out")"
	done
}

rfs_case client_io_random case_client_io_random
rfs_finish
