# bench/lib/moosefs.sh -- the MooseFS target: 1 mfsmaster + 3
# mfschunkservers, goal 2, data under $WORK/moosefs, mounted with mfsmount
# at $WORK/mnt/moosefs.
#
# Trap: mfschunkserver refuses a master address in 127.0.0.0/8 (a
# hard-coded check). So every daemon and the client run in the network
# namespace rfsbench-mfs, which has its own address 10.99.1.1/32 on its
# own lo; they enter only that network namespace (nsenter --net), so the
# FUSE mount is made in the host's mount namespace and is visible here.

MFS_NS=rfsbench-mfs
MFS_ADDR=${RFS_BENCH_MFS_ADDR:-10.99.1.1}

bn_mfs_cfg() {
	local d=$WORK/moosefs i
	mkdir -p "$d/master" "$d/logs"
	cp /var/lib/mfs/metadata.mfs.empty "$d/master/metadata.mfs" || return 1
	echo '*	/	rw,alldirs,admin,maproot=0:0' >"$d/exports.cfg"
	: >"$d/topology.cfg"
	cat >"$d/master.cfg" <<CFG
WORKING_USER = root
WORKING_GROUP = root
NICE_LEVEL = 0
DATA_PATH = $d/master
EXPORTS_FILENAME = $d/exports.cfg
TOPOLOGY_FILENAME = $d/topology.cfg
MATOML_LISTEN_HOST = $MFS_ADDR
MATOCS_LISTEN_HOST = $MFS_ADDR
MATOCL_LISTEN_HOST = $MFS_ADDR
CFG
	for i in 1 2 3; do
		mkdir -p "$d/cs$i/hdd"
		echo "$d/cs$i/hdd" >"$d/cs$i/hdd.cfg"
		cat >"$d/cs$i.cfg" <<CFG
WORKING_USER = root
WORKING_GROUP = root
NICE_LEVEL = 0
DATA_PATH = $d/cs$i
HDD_CONF_FILENAME = $d/cs$i/hdd.cfg
HDD_LEAVE_SPACE_DEFAULT = 1GiB
MASTER_HOST = $MFS_ADDR
BIND_HOST = $MFS_ADDR
CSSERV_LISTEN_HOST = $MFS_ADDR
CSSERV_LISTEN_PORT = $((9421 + i))
CFG
	done
}

# bn_mfs_cs_registered: the master has seen all 3 chunk servers register.
bn_mfs_cs_registered() {
	[ "$(grep -c 'chunkserver register end' "$WORK/moosefs/logs/master.log")" -ge 3 ]
}

bn_mfs_up() {
	local d=$WORK/moosefs mnt=$WORK/mnt/moosefs i pid goal srv=
	# started straight through nsenter (it execs), so $! is the daemon
	local ns=(nsenter "--net=/run/netns/$MFS_NS")
	command -v mfsmaster >/dev/null || { bn_log "moosefs: mfsmaster not installed"; return 1; }
	bn_mfs_cfg || return 1
	bn_netns_up "$MFS_NS" "$MFS_ADDR" || return 1
	bn_reg hook bn_mfs_down
	"${ns[@]}" mfsmaster -c "$d/master.cfg" -f start >"$d/logs/master.log" 2>&1 7>&- 8>&- 9>&- &
	echo $! >"$d/master.pid"
	srv="$srv $!"
	bn_wait_for 20 bn_in "$MFS_NS" bash -c "exec 3<>/dev/tcp/$MFS_ADDR/9420" || {
		bn_log "moosefs: master did not listen; see $d/logs/master.log"
		return 1
	}
	for i in 1 2 3; do
		"${ns[@]}" mfschunkserver -c "$d/cs$i.cfg" -f start >"$d/logs/cs$i.log" 2>&1 7>&- 8>&- 9>&- &
		echo $! >"$d/cs$i.pid"
		srv="$srv $!"
	done
	bn_wait_for 60 bn_mfs_cs_registered || {
		bn_log "moosefs: chunk servers did not register; see $d/logs/"
		return 1
	}
	mkdir -p "$mnt"
	"${ns[@]}" mfsmount -f "$mnt" -H "$MFS_ADDR" -P 9421 >"$d/logs/mount.log" 2>&1 7>&- 8>&- 9>&- &
	pid=$!
	echo "$pid" >"$d/mount.pid"
	bn_wait_for 20 mountpoint -q "$mnt" || {
		bn_log "moosefs: mount failed; see $d/logs/mount.log"
		return 1
	}
	bn_in "$MFS_NS" mfssetgoal -r 2 "$mnt" >/dev/null
	goal=$(bn_in "$MFS_NS" mfsgetgoal "$mnt" | awk '{print $2}')
	[ "$goal" = 2 ] || { bn_log "moosefs: goal is '$goal', not 2"; return 1; }
	TDIR[moosefs]=$mnt
	SRV_PIDS[moosefs]=$srv
	CLI_PIDS[moosefs]=$pid
	VERSION[moosefs]="MooseFS $(mfsmaster -v 2>/dev/null | sed -n 's/^version: \([^ ;]*\).*/\1/Ip')"
}

bn_mfs_down() {
	local d=$WORK/moosefs f pids=()
	bn_unmount "$WORK/mnt/moosefs"
	# chunk servers first, then the master (it saves its metadata on exit)
	for f in "$d"/mount.pid "$d"/cs?.pid; do
		[ -f "$f" ] && pids+=("$(cat "$f")")
	done
	[ ${#pids[@]} -gt 0 ] && bn_kill "${pids[@]}"
	[ -f "$d/master.pid" ] && bn_kill "$(cat "$d/master.pid")"
	rm -f "$d"/*.pid
}
