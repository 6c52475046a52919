/*
 * ringfs-meta: the metadata server. Thin: options and settings, the
 * ordered start-up table, signals and shutdown. How it works is in
 * docs/metaserver.md.
 */
#include <config.h>

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#include "common/addr.h"
#include "common/config.h"
#include "common/log.h"
#include "metaserver/api.h"
#include "metaserver/cluster.h"
#include "metaserver/format.h"
#include "metaserver/locks.h"
#include "metaserver/raftlog.h"
#include "metaserver/state.h"

#define MS_PROG "ringfs-meta"
/* Entries kept in the log after a snapshot, so a follower that is a
 * little behind catches up from the log rather than a whole snapshot. */
#define MS_SNAPSHOT_TRAILING 1024
#define MS_ERR_MAX	     512
/* Lock upkeep runs this many times per session lease, so a dead client's
 * locks are free at most 1/8 of a lease after its lease ran out. */
#define MS_LOCK_TICKS_PER_LEASE 8

struct ms_settings {
	char *listen;
	char *raft_listen;
	char *data_dir;
	char *log_level;
	uint32_t heartbeat_ms;
	uint32_t down_after_ms;
	uint32_t snapshot_threshold;
	uint64_t chunk_size;
	uint32_t goal;
	uint32_t session_lease_ms;
};

#define KEY(name, type, def, min, max, field, help)                            \
	{                                                                      \
		name, type, def, min, max,                                     \
		    offsetof(struct ms_settings, field), help                  \
	}
static const struct rfs_config_key ms_keys[] = {
    KEY("listen", RFS_CONFIG_STR, "127.0.0.1:9400", 0, 0, listen,
	"HTTP address (host:port) for clients and chunk servers"),
    KEY("raft-listen", RFS_CONFIG_STR, "127.0.0.1:9401", 0, 0, raft_listen,
	"raft address (host:port) for peer metaservers"),
    KEY("data-dir", RFS_CONFIG_STR, "./meta-data", 0, 0, data_dir,
	"metadata directory, created by --format"),
    KEY("log-level", RFS_CONFIG_STR, "info", 0, 0, log_level,
	"error, warn, info or debug"),
    KEY("heartbeat-ms", RFS_CONFIG_U32, "2000", 100, 600000, heartbeat_ms,
	"interval at which chunk servers are expected to heartbeat"),
    KEY("down-after-ms", RFS_CONFIG_U32, "6000", 100, 3600000, down_after_ms,
	"a chunk server silent this long is down"),
    KEY("snapshot-threshold", RFS_CONFIG_U32, "8192", 2, 1u << 30,
	snapshot_threshold, "log entries between metadata snapshots"),
    KEY("chunk-size", RFS_CONFIG_SIZE, "64M", RFS_CHUNK_SIZE_MIN,
	RFS_CHUNK_SIZE_MAX, chunk_size,
	"with --format: bytes per chunk, a power of two"),
    KEY("goal", RFS_CONFIG_U32, "2", 1, RFS_MAX_REPLICAS, goal,
	"with --format: default replication goal (copies per chunk)"),
    KEY("session-lease-ms", RFS_CONFIG_U32, "30000", 100, 3600000,
	session_lease_ms,
	"a client's lock session lapses, with its locks, when not renewed "
	"this long; also the reclaim grace period after a start"),
};
#define N_MS_KEYS (sizeof(ms_keys) / sizeof(ms_keys[0]))

/* Everything the running daemon owns; the one context of this program. */
struct ms_main {
	struct ms_settings set;
	uv_loop_t loop;
	bool loop_ok;
	char bind_host[RFS_ADDR_MAX + 1];
	uint16_t port;
	char raft_dir[PATH_MAX];
	struct ms_format_info info;
	int lock_fd;
	struct ms_state state;
	bool state_ok;
	struct ms_cluster *cluster;
	struct ms_raftlog *log;
	struct ms_api *api;
	struct ms_locks *locks;
	uv_timer_t lock_timer;
	bool lock_timer_ok;
	uv_signal_t sigint;
	uv_signal_t sigterm;
	bool signals_ok;
	char err[MS_ERR_MAX];
};

/* What -h/--help and --version print (rfs_config_early_flags()). */
static void print_flag(enum rfs_config_flag flag)
{
	if (flag == RFS_CONFIG_FLAG_VERSION) {
		printf(MS_PROG " " PACKAGE_VERSION "\n");
		return;
	}
	printf("usage: " MS_PROG " [--config FILE] [--key=value ...]\n"
	       "       " MS_PROG " --format DIR [--chunk-size=SIZE] "
	       "[--goal=N] [--raft-listen=ADDR]\n"
	       "       " MS_PROG " --help | --version\n\n"
	       "Serves the ringfs namespace and chunk table from DIR "
	       "(--data-dir),\nwhich --format initialises once.\n\n"
	       "settings (also as 'key = value' lines in --config FILE):\n");
	rfs_config_print_help(ms_keys, N_MS_KEYS, stdout);
}

/* --- start-up steps, in order ------------------------------------------ */

/* The directory must be formatted, and ours alone. */
static int step_data_dir(struct ms_main *m)
{
	int rc;

	rc = ms_format_load(m->set.data_dir, &m->info, m->err, sizeof(m->err));
	if (rc == 0)
		rc = ms_format_lock(m->set.data_dir, &m->lock_fd, m->err,
				    sizeof(m->err));
	if (rc == 0 && ms_format_raft_dir(m->set.data_dir, m->raft_dir,
					  sizeof(m->raft_dir)) < 0) {
		snprintf(m->err, sizeof(m->err), "data-dir path too long");
		rc = -ENAMETOOLONG;
	}
	return rc;
}

/* An empty state from the format; the log replay fills it. */
static int step_state(struct ms_main *m)
{
	int rc = ms_state_init(&m->state, &m->info.fmt);

	m->state_ok = rc == 0;
	m->cluster = ms_cluster_new(m->set.down_after_ms);
	if (rc == 0 && m->cluster == NULL)
		rc = -ENOMEM;
	if (rc < 0)
		snprintf(m->err, sizeof(m->err), "out of memory");
	return rc;
}

static int step_loop(struct ms_main *m)
{
	int rc = uv_loop_init(&m->loop);

	m->loop_ok = rc == 0;
	if (rc < 0)
		snprintf(m->err, sizeof(m->err), "cannot create event loop: %s",
			 uv_strerror(rc));
	return rc < 0 ? -EIO : 0;
}

/* A chunk server went silent or came back: one log line each time. */
static void log_server_state(void *arg, const char *id, bool up, int64_t age_ms)
{
	struct ms_main *m = arg;

	if (up)
		rfs_log_info(NULL, "msg=\"chunk server up again\" server=%s",
			     id);
	else
		rfs_log_warn(NULL,
			     "msg=\"chunk server down: no heartbeat\" "
			     "server=%s last_heartbeat_ms=%lld "
			     "down_after_ms=%u",
			     id, (long long)age_ms, m->set.down_after_ms);
}

/* Expire silent lock sessions (only a leader with a ready log serves
 * locks, so the table empties when this node stops being one) and log
 * chunk servers going down or coming back. */
static void on_lock_timer(uv_timer_t *timer)
{
	struct ms_main *m = timer->data;
	bool serving = m->log && m->api && ms_raftlog_is_ready(m->log);
	size_t n;

	if (m->cluster)
		ms_cluster_watch(m->cluster, (int64_t)uv_now(&m->loop),
				 log_server_state, m);

	n = ms_locks_tick(m->locks, (int64_t)uv_now(&m->loop), serving);
	if (serving)
		ms_api_orphan_sweep(m->api);
	if (n > 0)
		rfs_log_info(NULL,
			     "msg=\"lock sessions dropped\" count=%zu "
			     "reason=%s",
			     n, serving ? "lease-expired" : "not-serving");
}

/* The lock table (volatile, in memory) and its upkeep timer. */
static int step_locks(struct ms_main *m)
{
	uint64_t period = m->set.session_lease_ms / MS_LOCK_TICKS_PER_LEASE;

	m->locks = ms_locks_new(m->set.session_lease_ms);
	if (!m->locks) {
		snprintf(m->err, sizeof(m->err), "out of memory");
		return -ENOMEM;
	}
	uv_timer_init(&m->loop, &m->lock_timer);
	m->lock_timer.data = m;
	m->lock_timer_ok = true;
	uv_timer_start(&m->lock_timer, on_lock_timer, period, period);
	return 0;
}

/* Replays snapshot + log into the state; needs the loop and the state. */
static int step_raftlog(struct ms_main *m)
{
	struct ms_raftlog_opts opts = {
	    .loop = &m->loop,
	    .dir = m->raft_dir,
	    .id = m->info.raft_id,
	    .addr = m->set.raft_listen,
	    .snapshot_threshold = m->set.snapshot_threshold,
	    .snapshot_trailing =
		m->set.snapshot_threshold < MS_SNAPSHOT_TRAILING
		    ? m->set.snapshot_threshold
		    : MS_SNAPSHOT_TRAILING,
	};
	int rc;

	ms_state_sm(&m->state, &opts.sm);
	rc = ms_raftlog_new(&opts, &m->log, m->err, sizeof(m->err));
	if (rc == 0)
		rc = ms_raftlog_start(m->log, m->err, sizeof(m->err));
	return rc;
}

/* Serving comes after the log exists; requests wait for it to be ready. */
static int step_api(struct ms_main *m)
{
	struct ms_api_opts opts = {
	    .loop = &m->loop,
	    .bind_addr = m->bind_host,
	    .port = m->port,
	    .state = &m->state,
	    .log = m->log,
	    .cluster = m->cluster,
	    .locks = m->locks,
	};
	int rc = ms_api_start(&opts, &m->api);

	if (rc < 0)
		snprintf(m->err, sizeof(m->err), "cannot listen on %s: %s",
			 m->set.listen, strerror(-rc));
	return rc;
}

static void on_api_closed(void *arg)
{
	struct ms_main *m = arg;

	m->api = NULL;
	if (m->lock_timer_ok) {
		uv_close((uv_handle_t *)&m->lock_timer, NULL);
		m->lock_timer_ok = false;
	}
	if (m->signals_ok) {
		uv_close((uv_handle_t *)&m->sigint, NULL);
		uv_close((uv_handle_t *)&m->sigterm, NULL);
		m->signals_ok = false;
	}
}

static void on_log_closed(void *arg)
{
	struct ms_main *m = arg;

	m->log = NULL;
	/* Pending mutations were answered by now: stop serving. */
	ms_api_close(m->api, on_api_closed, m);
	if (m->api == NULL)
		on_api_closed(m);
}

static void on_signal(uv_signal_t *sig, int signum)
{
	struct ms_main *m = sig->data;

	if (m->log == NULL && m->api == NULL)
		return;
	rfs_log_info(NULL, "msg=\"shutting down\" signal=%d", signum);
	uv_signal_stop(&m->sigint);
	uv_signal_stop(&m->sigterm);
	if (m->api != NULL)
		ms_api_drain(m->api);
	ms_raftlog_close(m->log, on_log_closed, m);
	if (m->log == NULL)
		on_log_closed(m);
}

static int step_signals(struct ms_main *m)
{
	uv_signal_init(&m->loop, &m->sigint);
	uv_signal_init(&m->loop, &m->sigterm);
	m->sigint.data = m;
	m->sigterm.data = m;
	m->signals_ok = true;
	uv_signal_start(&m->sigint, on_signal, SIGINT);
	uv_signal_start(&m->sigterm, on_signal, SIGTERM);
	return 0;
}

static const struct {
	const char *name;
	int (*run)(struct ms_main *m);
} ms_startup[] = {
    {"data-dir", step_data_dir}, /* format file, lock, raft dir path */
    {"state", step_state},	 /* needs the format */
    {"loop", step_loop},	 /* the event loop */
    {"locks", step_locks},	 /* needs the loop */
    {"raft", step_raftlog},	 /* needs loop + state; replays the log */
    {"api", step_api},		 /* needs the log and the lock table */
    {"signals", step_signals},
};

/* Close whatever start-up created (also after a failed step). */
static void teardown(struct ms_main *m)
{
	if (m->loop_ok) {
		if (m->log != NULL || m->api != NULL) {
			if (m->api != NULL)
				ms_api_drain(m->api);
			ms_raftlog_close(m->log, on_log_closed, m);
			if (m->log == NULL)
				on_log_closed(m);
		} else {
			on_api_closed(m);
		}
		uv_run(&m->loop, UV_RUN_DEFAULT);
		if (uv_loop_close(&m->loop) != 0)
			rfs_log_warn(NULL,
				     "msg=\"event loop not empty at exit\"");
	}
	ms_locks_free(m->locks);
	ms_cluster_free(m->cluster);
	if (m->state_ok)
		ms_state_release(&m->state);
	if (m->lock_fd >= 0)
		close(m->lock_fd);
}

static int serve(struct ms_main *m)
{
	size_t i;
	int rc = 0;

	if (rfs_addr_split(m->set.listen, m->bind_host, sizeof(m->bind_host),
			   &m->port) < 0) {
		fprintf(stderr, MS_PROG ": listen '%s' is not host:port\n",
			m->set.listen);
		return 2;
	}
	if (m->set.down_after_ms < 2 * m->set.heartbeat_ms)
		rfs_log_warn(NULL,
			     "msg=\"down-after-ms is under two heartbeats: "
			     "servers may flap between up and down\"");
	for (i = 0; i < sizeof(ms_startup) / sizeof(ms_startup[0]); i++) {
		rc = ms_startup[i].run(m);
		if (rc < 0) {
			fprintf(stderr, MS_PROG ": %s: %s\n",
				ms_startup[i].name, m->err);
			break;
		}
	}
	if (rc == 0) {
		rfs_log_info(NULL,
			     "msg=\"" MS_PROG " started\" version=%s "
			     "listen=%s:%u raft=%s data_dir=%s fsid=%s "
			     "chunk_size=%llu goal=%u",
			     PACKAGE_VERSION, m->bind_host, ms_api_port(m->api),
			     m->set.raft_listen, m->set.data_dir,
			     m->info.fmt.fsid,
			     (unsigned long long)m->info.fmt.chunk_size,
			     m->info.fmt.goal);
		uv_run(&m->loop, UV_RUN_DEFAULT);
	}
	teardown(m);
	return rc == 0 ? 0 : 1;
}

static int format(struct ms_main *m, const char *dir)
{
	struct ms_format_info info;
	int rc;

	rc =
	    ms_format_create(dir, m->set.chunk_size, m->set.goal,
			     m->set.raft_listen, &info, m->err, sizeof(m->err));
	if (rc < 0) {
		fprintf(stderr, MS_PROG ": %s\n", m->err);
		return 1;
	}
	printf("formatted %s: fsid=%s chunk-size=%llu goal=%u\n", dir,
	       info.fmt.fsid, (unsigned long long)info.fmt.chunk_size,
	       info.fmt.goal);
	return 0;
}

/*
 * Take the flags main handles itself out of argv (--format DIR,
 * --format=DIR); *format_dir gets DIR. Returns 0 or -EINVAL.
 */
static int take_format_flag(int *argc, char **argv, const char **format_dir)
{
	int i;
	int j = 1;

	*format_dir = NULL;
	for (i = 1; i < *argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--format") == 0) {
			if (i + 1 >= *argc)
				return -EINVAL;
			*format_dir = argv[++i];
		} else if (strncmp(argv[i], "--format=", 9) == 0) {
			*format_dir = argv[i] + 9;
		} else {
			argv[j++] = argv[i];
		}
	}
	for (; i < *argc; i++)
		argv[j++] = argv[i];
	*argc = j;
	argv[j] = NULL;
	return *format_dir != NULL && (*format_dir)[0] == '\0' ? -EINVAL : 0;
}

static int configure(struct ms_main *m, int argc, char **argv)
{
	char err[RFS_CONFIG_ERR_MAX] = "";
	enum rfs_log_level level = RFS_LOG_INFO;
	int rc;

	rc = rfs_config_setup(ms_keys, N_MS_KEYS, &m->set, argc, argv, err,
			      sizeof(err));
	if (rc == 0)
		rc = rfs_log_level_parse_msg(m->set.log_level, &level, err,
					     sizeof(err));
	if (rc < 0) {
		fprintf(stderr, MS_PROG ": %s (see " MS_PROG " --help)\n", err);
		return rc;
	}
	rfs_log_setup(MS_PROG, level);
	return 0;
}

int main(int argc, char **argv)
{
	static struct ms_main m = {.lock_fd = -1};
	const char *format_dir;
	int rc;

	/* A peer or client that disconnects must not kill the process. */
	signal(SIGPIPE, SIG_IGN);
	if (rfs_config_early_flags(argc, argv, print_flag) !=
	    RFS_CONFIG_FLAG_NONE)
		return 0;
	if (take_format_flag(&argc, argv, &format_dir) < 0) {
		fprintf(stderr, MS_PROG ": --format needs a directory\n");
		return 2;
	}
	if (configure(&m, argc, argv) < 0) {
		rfs_config_release(ms_keys, N_MS_KEYS, &m.set);
		return 2;
	}
	rc = format_dir != NULL ? format(&m, format_dir) : serve(&m);
	rfs_config_release(ms_keys, N_MS_KEYS, &m.set);
	return rc;
}
