# bench/lib/glusterfs.sh -- the GlusterFS target: a private glusterd and a
# 2x2 distributed-replicated volume (replica 2, bricks in dirs under
# $WORK/glusterfs), mounted with the glusterfs FUSE client at
# $WORK/mnt/glusterfs.
#
# Traps: glusterd refuses 127.0.0.1/localhost as a brick host (even with
# force), so glusterd, its bricks and the client run in the network
# namespace rfsbench-gfs with its own address 10.99.2.1/32, entering only
# that network namespace so the FUSE mount stays visible on the host.
# glusterd is a system daemon: the bench runs a private one in the
# foreground (-N) with its own volfile, whose working-directory,
# run-directory, logging-directory and glusterd-sockfile (the CLI's unix
# socket) all point into $WORK, and the gluster CLI is given that socket.
# Replica 2 with two bricks of a pair on one host needs `force`, and the
# CLI's split-brain question needs --mode=script. The brick processes
# still put their control sockets in /var/run/gluster; the bench removes
# the ones its bricks named.

GFS_NS=rfsbench-gfs
GFS_ADDR=${RFS_BENCH_GFS_ADDR:-10.99.2.1}
GFS_VOL=rfsbench

bn_gfs_cli() {
	bn_in "$GFS_NS" timeout 120 gluster --mode=script \
		--glusterd-sock="$WORK/glusterfs/run/cli.socket" \
		--log-file="$WORK/glusterfs/logs/cli.log" "$@"
}

bn_gfs_up() {
	local d=$WORK/glusterfs mnt=$WORK/mnt/glusterfs i pid bricks=() f
	# started straight through nsenter (it execs), so $! is the daemon
	local ns=(nsenter "--net=/run/netns/$GFS_NS")
	command -v glusterd >/dev/null || { bn_log "glusterfs: glusterd not installed"; return 1; }
	mkdir -p "$d/wd" "$d/run" "$d/logs" "$d/b1" "$d/b2" "$d/b3" "$d/b4"
	cat >"$d/glusterd.vol" <<VOL
volume management
    type mgmt/glusterd
    option working-directory $d/wd
    option run-directory $d/run
    option logging-directory $d/logs
    option glusterd-sockfile $d/run/cli.socket
    option transport-type socket
    option transport.address-family inet
    option transport.socket.bind-address $GFS_ADDR
    option transport.socket.listen-port 24007
    option transport.socket.keepalive-time 10
    option transport.socket.keepalive-interval 2
    option ping-timeout 0
    option event-threads 1
    option max-port 60999
end-volume
VOL
	bn_netns_up "$GFS_NS" "$GFS_ADDR" || return 1
	bn_reg hook bn_gfs_down
	"${ns[@]}" glusterd -N -f "$d/glusterd.vol" -p "$d/glusterd.pid" \
		-l "$d/logs/glusterd.log" >"$d/logs/glusterd.out" 2>&1 7>&- 8>&- 9>&- &
	echo $! >"$d/glusterd.main.pid"
	bn_wait_for 30 bn_gfs_cli volume list || {
		bn_log "glusterfs: glusterd did not answer; see $d/logs/glusterd.log"
		return 1
	}
	for i in 1 2 3 4; do bricks+=("$GFS_ADDR:$d/b$i"); done
	bn_gfs_cli volume create "$GFS_VOL" replica 2 "${bricks[@]}" force >>"$d/logs/setup.log" 2>&1 &&
		bn_gfs_cli volume start "$GFS_VOL" >>"$d/logs/setup.log" 2>&1 || {
		bn_log "glusterfs: volume create/start failed; see $d/logs/setup.log"
		return 1
	}
	mkdir -p "$mnt"
	"${ns[@]}" glusterfs -N --volfile-server="$GFS_ADDR" --volfile-id="$GFS_VOL" \
		--log-file="$d/logs/mount.log" "$mnt" >"$d/logs/mount.out" 2>&1 7>&- 8>&- 9>&- &
	pid=$!
	echo "$pid" >"$d/mount.pid"
	bn_wait_for 30 mountpoint -q "$mnt" || {
		bn_log "glusterfs: mount failed; see $d/logs/mount.log"
		return 1
	}
	# the volume must be whole: 4 bricks online before measuring
	bn_wait_for 30 bn_gfs_bricks_online || {
		bn_log "glusterfs: bricks not online; see $d/logs/bricks/"
		return 1
	}
	TDIR[glusterfs]=$mnt
	SRV_PIDS[glusterfs]=$(for f in "$d"/run/vols/"$GFS_VOL"/*.pid; do cat "$f"; done | tr '\n' ' ')
	CLI_PIDS[glusterfs]=$pid
	VERSION[glusterfs]="GlusterFS $(glusterfs --version | awk 'NR == 1 {print $2}')"
}

bn_gfs_bricks_online() {
	[ "$(bn_gfs_cli volume status "$GFS_VOL" | grep -c '^Brick .* Y ')" -ge 4 ]
}

# bn_gfs_pids: glusterd and every process it started (bricks, self-heal).
bn_gfs_pids() {
	local d=$WORK/glusterfs f
	for f in "$d/glusterd.main.pid" $(find "$d/run" -name '*.pid' 2>/dev/null); do
		[ -f "$f" ] && cat "$f"
	done | sort -u
}

bn_gfs_down() {
	local d=$WORK/glusterfs p pids socks=()
	[ -d "$d" ] || return 0
	bn_unmount "$WORK/mnt/glusterfs"
	[ -f "$d/mount.pid" ] && bn_kill "$(cat "$d/mount.pid")"
	pids=$(bn_gfs_pids)
	for p in $pids; do
		[ -r "/proc/$p/cmdline" ] || continue
		# the -S /var/run/gluster/XXXX.socket of each brick and self-heal daemon
		socks+=($(tr '\0' '\n' <"/proc/$p/cmdline" | grep -A1 -x -- -S | grep '^/'))
	done
	if [ -S "$d/run/cli.socket" ]; then
		bn_gfs_cli volume stop "$GFS_VOL" >>"$d/logs/setup.log" 2>&1
	fi
	# shellcheck disable=SC2086
	[ -n "$pids" ] && bn_kill $pids
	[ ${#socks[@]} -gt 0 ] && rm -f "${socks[@]}"
	rm -f "$d/mount.pid" "$d/glusterd.main.pid"
}
