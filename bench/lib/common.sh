# bench/lib/common.sh -- helpers shared by bench/run and the target libs:
# logging, the process/mount/namespace registry that teardown walks,
# network namespaces, cache dropping, CPU accounting, machine description.
# Sourced; expects WORK (the bench work dir) to be set.

bn_log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
bn_die() {
	bn_log "bench: $*"
	exit 1
}

# ---------------------------------------------------------------- registry
# Everything the harness starts is written down in $WORK/state so that the
# EXIT/INT/TERM trap (bn_teardown) can undo it, in reverse order, even when
# the run dies half-way. A later run finds a crashed run's state there too.

# bn_reg KIND VALUE...: remember something to undo
#   mount DIR | pid PID | pidfile FILE | netns NAME | hook FUNCTION
bn_reg() { printf '%s\n' "$*" >>"$WORK/state"; }

# bn_unmount DIR: unmount a FUSE mount, lazily if it is busy.
bn_unmount() {
	local d=$1 i
	mountpoint -q "$d" 2>/dev/null || return 0
	for i in 1 2 3; do
		fusermount3 -u "$d" 2>/dev/null || umount "$d" 2>/dev/null
		mountpoint -q "$d" 2>/dev/null || return 0
		sleep 1
	done
	fusermount3 -uz "$d" 2>/dev/null || umount -l "$d" 2>/dev/null
}

# bn_kill PID...: SIGTERM, then SIGKILL after 10 s for what is still alive.
bn_kill() {
	local p i alive
	for p in "$@"; do kill "$p" 2>/dev/null; done
	for i in $(seq 1 20); do
		alive=
		for p in "$@"; do kill -0 "$p" 2>/dev/null && alive="$alive $p"; done
		[ -z "$alive" ] && return 0
		sleep 0.5
	done
	for p in $alive; do kill -9 "$p" 2>/dev/null; done
	return 0
}

# bn_teardown: undo everything in $WORK/state, newest first: hooks (which
# stop the peers' daemons in order), mounts, processes, namespaces.
bn_teardown() {
	local kind val pids=()
	[ -f "$WORK/state" ] || return 0
	while read -r kind val; do
		case $kind in
		hook) "$val" || true ;;
		mount) bn_unmount "$val" ;;
		pid) pids+=("$val") ;;
		pidfile) [ -f "$val" ] && pids+=("$(cat "$val")") ;;
		esac
	done < <(tac "$WORK/state")
	[ ${#pids[@]} -gt 0 ] && bn_kill "${pids[@]}"
	while read -r kind val; do
		case $kind in
		mount) bn_unmount "$val" ;;
		netns) ip netns del "$val" 2>/dev/null ;;
		esac
	done < <(tac "$WORK/state")
	# Safety net: a process whose command line names the work dir is one
	# this bench started (a daemon's own child, say); stop it by its id.
	pids=($(pgrep -f -- "$WORK/" | grep -vx "$$"))
	if [ ${#pids[@]} -gt 0 ]; then
		bn_log "teardown: stopping leftover processes ${pids[*]}"
		bn_kill "${pids[@]}"
	fi
	rm -f "$WORK/state"
}

# ---------------------------------------------------------------- namespaces
# bn_netns_up NAME ADDR: a network namespace with lo up and ADDR/32 on it.
bn_netns_up() {
	local ns=$1 addr=$2
	ip netns del "$ns" 2>/dev/null
	ip netns add "$ns" || return 1
	bn_reg netns "$ns"
	ip -n "$ns" link set lo up &&
		ip -n "$ns" addr add "$addr/32" dev lo
}

# bn_in NAME CMD...: run CMD in namespace NAME's network only, so the FUSE
# mounts it makes stay in the host's mount namespace (`ip netns exec`
# would also give it a mount namespace of its own).
bn_in() {
	local ns=$1
	shift
	nsenter --net="/run/netns/$ns" "$@"
}

# bn_wait_for SECONDS CMD...: poll CMD every 0.25 s until it succeeds.
bn_wait_for() {
	local n=$(($1 * 4))
	shift
	while [ $n -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.25
		n=$((n - 1))
	done
	return 1
}

# ---------------------------------------------------------------- measuring
bn_now() { date +%s.%N; }

bn_drop_caches() {
	sync
	if [ -w /proc/sys/vm/drop_caches ]; then
		echo 3 >/proc/sys/vm/drop_caches
	else
		bn_log "warning: cannot drop caches (not root)"
	fi
}

# bn_cpu_ticks PID...: total user+system clock ticks of the processes and
# their reaped children (fields 14-17 of /proc/PID/stat).
bn_cpu_ticks() {
	local p sum=0 t
	for p in "$@"; do
		[ -r "/proc/$p/stat" ] || continue
		t=$(sed 's/^.*) //' "/proc/$p/stat" | awk '{print $12 + $13 + $14 + $15}')
		sum=$((sum + ${t:-0}))
	done
	echo "$sum"
}

# bn_machine_json: the machine as one JSON object (cores, CPU, memory, the
# disk and file system under the work dir, kernel, distribution).
bn_machine_json() {
	local src dev fstype model rota
	src=$(findmnt -n -o SOURCE -T "$WORK" 2>/dev/null | head -1)
	fstype=$(findmnt -n -o FSTYPE -T "$WORK" 2>/dev/null | head -1)
	dev=$(lsblk -n -o PKNAME "$src" 2>/dev/null | head -1)
	[ -n "$dev" ] || dev=$(basename "$src")
	model=$(lsblk -d -n -o MODEL "/dev/$dev" 2>/dev/null | sed 's/ *$//')
	[ -n "$model" ] || model=$(cat "/sys/block/$dev/device/model" 2>/dev/null)
	[ -n "$model" ] || { [ -d "/sys/block/$dev/device" ] &&
		grep -q virtio "/sys/block/$dev/device/modalias" 2>/dev/null &&
		model="virtio block device"; }
	rota=$(cat "/sys/block/$dev/queue/rotational" 2>/dev/null)
	python3 - "$src" "$fstype" "$dev" "${model:-unknown}" "${rota:-?}" <<'PY'
import json, os, platform, sys
src, fstype, dev, model, rota = sys.argv[1:6]
cpu = "unknown"
with open("/proc/cpuinfo") as f:
    for line in f:
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
mem = 0
with open("/proc/meminfo") as f:
    for line in f:
        if line.startswith("MemTotal:"):
            mem = int(line.split()[1]) * 1024
distro = "unknown"
try:
    with open("/etc/os-release") as f:
        for line in f:
            if line.startswith("PRETTY_NAME="):
                distro = line.split("=", 1)[1].strip().strip('"')
except OSError:
    pass
try:
    with open("/etc/debian_version") as f:
        distro += " (" + f.read().strip() + ")"
except OSError:
    pass
print(json.dumps({
    "cores": os.cpu_count(), "cpu": cpu, "memory_bytes": mem,
    "disk": {"device": "/dev/" + dev, "source": src, "model": model,
             "rotational": rota == "1", "fs": fstype},
    "kernel": platform.release(), "distribution": distro,
    "hostname": platform.node()}))
PY
}
