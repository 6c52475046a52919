#include <config.h>
#include "metaserver/raftlog.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include <raft.h>
#include <raft/uv.h>

#include "common/addr.h"
#include "common/log.h"

/*
 * How often the readiness check runs. It only compares a few fields and
 * issues one barrier per leadership term, so a short period costs nothing
 * and keeps the window between "elected" and "serving" small.
 */
#define RAFTLOG_TICK_MS 20

struct ms_raftlog {
	uv_loop_t *loop;
	struct raft_uv_transport transport;
	struct raft_io io;
	struct raft_fsm fsm;
	struct raft raft;
	struct ms_raftlog_sm sm;
	uv_timer_t tick;
	struct raft_barrier barrier;
	bool barrier_pending;
	char addr[128]; /* raft listen address, for error messages */
	bool started;
	bool ready;
	unsigned long long ready_term; /* term whose barrier completed */
	bool closing;
	uint64_t drain_deadline; /* uv_now() ms */
	unsigned closes_left;	 /* handles still closing */
	void (*close_cb)(void *arg);
	void *close_arg;
	struct ms_raftlog_stats stats;
};

/* One proposal in flight. */
struct raftlog_prop {
	struct raft_apply req;
	struct ms_raftlog *log;
	ms_raftlog_done_cb cb;
	void *arg;
};

/* Negative errno for a libraft error code. */
static int raftlog_errno(int rv)
{
	switch (rv) {
	case 0:
		return 0;
	case RAFT_NOMEM:
		return -ENOMEM;
	case RAFT_NOTLEADER:
	case RAFT_LEADERSHIPLOST:
	case RAFT_SHUTDOWN:
	case RAFT_BUSY:
	case RAFT_CANCELED:
		return -EAGAIN;
	case RAFT_NOSPACE:
		return -ENOSPC;
	case RAFT_TOOBIG:
		return -E2BIG;
	case RAFT_CANTBOOTSTRAP:
		return -EEXIST;
	case RAFT_CORRUPT:
	case RAFT_MALFORMED:
		return -EBADMSG;
	case RAFT_NAMETOOLONG:
		return -ENAMETOOLONG;
	case RAFT_UNAUTHORIZED:
		return -EACCES;
	case RAFT_INVALID:
		return -EINVAL;
	default:
		return -EIO;
	}
}

static void raftlog_set_err(char *err, size_t errlen, const char *what,
			    const char *detail, int rv)
{
	if (err == NULL || errlen == 0)
		return;
	snprintf(err, errlen, "%s: %s", what,
		 detail != NULL && detail[0] != '\0' ? detail
						     : raft_strerror(rv));
}

/* --- the raft_fsm adapter -------------------------------------------- */

static int raftlog_fsm_apply(struct raft_fsm *fsm,
			     const struct raft_buffer *buf, void **result)
{
	struct ms_raftlog *log = fsm->data;
	const char *base = buf->base;
	size_t len = buf->len;

	/* Strip the alignment padding added by ms_raftlog_propose. */
	while (len > 0 && base[len - 1] == '\0')
		len--;
	*result = NULL;
	log->stats.applied++;
	if (len == 0) {
		rfs_log_warn(NULL, "msg=\"empty raft entry skipped\"");
		return 0;
	}
	log->sm.apply(log->sm.arg, base, len, result);
	return 0;
}

static int raftlog_fsm_snapshot(struct raft_fsm *fsm,
				struct raft_buffer *bufs[], unsigned *n_bufs)
{
	struct ms_raftlog *log = fsm->data;
	struct raft_buffer *b;
	void *data = NULL;
	size_t len = 0;
	int rc;

	rc = log->sm.snapshot(log->sm.arg, &data, &len);
	if (rc < 0) {
		rfs_log_error(NULL, "msg=\"cannot serialise snapshot\" err=%d",
			      rc);
		return rc == -ENOMEM ? RAFT_NOMEM : RAFT_IOERR;
	}
	/* libraft frees both the array and the data with raft_free. */
	b = raft_malloc(sizeof(*b));
	if (b == NULL)
		goto out_free_data;
	b->base = raft_malloc(len > 0 ? len : 1);
	if (b->base == NULL)
		goto out_free_array;
	memcpy(b->base, data, len);
	b->len = len;
	free(data);
	*bufs = b;
	*n_bufs = 1;
	log->stats.snapshots++;
	rfs_log_info(NULL, "msg=\"snapshot taken\" bytes=%zu applied=%llu", len,
		     (unsigned long long)raft_last_applied(&log->raft));
	return 0;

out_free_array:
	raft_free(b);
out_free_data:
	free(data);
	return RAFT_NOMEM;
}

static int raftlog_fsm_restore(struct raft_fsm *fsm, struct raft_buffer *buf)
{
	struct ms_raftlog *log = fsm->data;
	int rc;

	rc = log->sm.restore(log->sm.arg, buf->base, buf->len);
	if (rc < 0) {
		rfs_log_error(NULL,
			      "msg=\"cannot restore snapshot\" bytes=%zu "
			      "err=%d",
			      buf->len, rc);
		return rc == -ENOMEM ? RAFT_NOMEM : RAFT_CORRUPT;
	}
	/* On success the data is ours to free (libraft 0.15 contract). */
	raft_free(buf->base);
	return 0;
}

/* --- readiness --------------------------------------------------------- */

static bool raftlog_is_leader(struct ms_raftlog *log)
{
	return raft_state(&log->raft) == RAFT_LEADER;
}

static void raftlog_barrier_cb(struct raft_barrier *req, int status)
{
	struct ms_raftlog *log = req->data;

	log->barrier_pending = false;
	if (status != 0 || log->closing || !raftlog_is_leader(log))
		return;
	log->ready = true;
	log->ready_term = log->raft.current_term;
	rfs_log_info(NULL, "msg=\"raft leader ready\" term=%llu index=%llu",
		     log->raft.current_term, log->barrier.index);
}

static void raftlog_shutdown(struct ms_raftlog *log);

/*
 * Runs every RAFTLOG_TICK_MS: drops readiness when leadership is lost,
 * issues the barrier that makes a new leader ready, and finishes the
 * shutdown drain.
 */
static void raftlog_tick(uv_timer_t *timer)
{
	struct ms_raftlog *log = timer->data;
	int rv;

	if (log->closing) {
		if (log->stats.pending == 0 ||
		    uv_now(log->loop) >= log->drain_deadline)
			raftlog_shutdown(log);
		return;
	}
	if (!raftlog_is_leader(log) ||
	    log->raft.current_term != log->ready_term) {
		if (log->ready)
			rfs_log_warn(NULL, "msg=\"raft leadership lost\"");
		log->ready = false;
	}
	if (log->ready || log->barrier_pending || !raftlog_is_leader(log))
		return;
	log->barrier.data = log;
	rv = raft_barrier(&log->raft, &log->barrier, raftlog_barrier_cb);
	if (rv == 0)
		log->barrier_pending = true;
	else
		rfs_log_warn(NULL,
			     "msg=\"cannot issue raft barrier\" err=\"%s\"",
			     raft_strerror(rv));
}

bool ms_raftlog_is_ready(const struct ms_raftlog *log)
{
	return log->ready && !log->closing;
}

/* --- lifecycle --------------------------------------------------------- */

static void raftlog_configure(struct ms_raftlog *log,
			      const struct ms_raftlog_opts *opts)
{
	unsigned election = opts->election_timeout_ms;
	unsigned heartbeat = opts->heartbeat_timeout_ms;

	/* libraft 0.15 reads these only at raft_start: set them before. */
	raft_set_election_timeout(&log->raft,
				  election ? election : MS_RAFTLOG_ELECTION_MS);
	raft_set_heartbeat_timeout(
	    &log->raft, heartbeat ? heartbeat : MS_RAFTLOG_HEARTBEAT_MS);
	raft_set_pre_vote(&log->raft, true);
	if (opts->snapshot_threshold > 0)
		raft_set_snapshot_threshold(&log->raft,
					    opts->snapshot_threshold);
	raft_set_snapshot_trailing(&log->raft, opts->snapshot_trailing);
}

int ms_raftlog_new(const struct ms_raftlog_opts *opts, struct ms_raftlog **out,
		   char *err, size_t errlen)
{
	struct ms_raftlog *log;
	int rv;

	log = calloc(1, sizeof(*log));
	if (log == NULL)
		return -ENOMEM;
	log->loop = opts->loop;
	log->sm = opts->sm;
	rv = raft_uv_tcp_init(&log->transport, log->loop);
	if (rv != 0) {
		raftlog_set_err(err, errlen, "raft transport", NULL, rv);
		goto out_free_log;
	}
	rv = raft_uv_init(&log->io, log->loop, opts->dir, &log->transport);
	if (rv != 0) {
		raftlog_set_err(err, errlen, opts->dir, log->io.errmsg, rv);
		goto out_close_transport;
	}
	log->fsm.version = 1;
	log->fsm.data = log;
	log->fsm.apply = raftlog_fsm_apply;
	log->fsm.snapshot = raftlog_fsm_snapshot;
	log->fsm.restore = raftlog_fsm_restore;
	snprintf(log->addr, sizeof(log->addr), "%s", opts->addr);
	rv = raft_init(&log->raft, &log->io, &log->fsm, opts->id, opts->addr);
	if (rv != 0) {
		raftlog_set_err(err, errlen, opts->dir, raft_errmsg(&log->raft),
				rv);
		goto out_close_io;
	}
	log->raft.data = log;
	raftlog_configure(log, opts);
	uv_timer_init(log->loop, &log->tick);
	log->tick.data = log;
	*out = log;
	return 0;

out_close_io:
	raft_uv_close(&log->io);
out_close_transport:
	raft_uv_tcp_close(&log->transport);
out_free_log:
	free(log);
	return raftlog_errno(rv);
}

/*
 * libraft reports a raft address it cannot listen on only as "I/O error";
 * binding it once ourselves first gives the user the real reason.
 */
static int raftlog_probe_listen(const char *addr)
{
	char host[128];
	char port[8];
	uint16_t portnum;
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV};
	struct addrinfo *ai;
	int fd;
	int rc = 0;

	if (rfs_addr_split(addr, host, sizeof(host), &portnum) < 0)
		return -EINVAL;
	snprintf(port, sizeof(port), "%u", (unsigned int)portnum);
	if (getaddrinfo(host, port, &hints, &ai) != 0)
		return -EINVAL;
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		rc = -errno;
	else if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0)
		rc = -errno;
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	return rc;
}

int ms_raftlog_start(struct ms_raftlog *log, char *err, size_t errlen)
{
	int rv;

	rv = raftlog_probe_listen(log->addr);
	if (rv < 0) {
		snprintf(err, errlen,
			 "cannot listen on raft address %s: %s (set "
			 "--raft-listen)",
			 log->addr, strerror(-rv));
		return rv;
	}
	rv = raft_start(&log->raft);
	if (rv != 0) {
		raftlog_set_err(err, errlen, "cannot start raft",
				raft_errmsg(&log->raft), rv);
		return raftlog_errno(rv);
	}
	log->started = true;
	uv_timer_start(&log->tick, raftlog_tick, 0, RAFTLOG_TICK_MS);
	return 0;
}

static void raftlog_close_step(struct ms_raftlog *log)
{
	void (*cb)(void *arg) = log->close_cb;
	void *arg = log->close_arg;

	if (--log->closes_left > 0)
		return;
	free(log);
	if (cb != NULL)
		cb(arg);
}

static void raftlog_timer_closed(uv_handle_t *handle)
{
	raftlog_close_step(handle->data);
}

static void raftlog_raft_closed(struct raft *raft)
{
	struct ms_raftlog *log = raft->data;

	/* The I/O backend's handles are closed now; free its memory. */
	raft_uv_close(&log->io);
	raft_uv_tcp_close(&log->transport);
	raftlog_close_step(log);
}

static void raftlog_shutdown(struct ms_raftlog *log)
{
	if (log->closes_left > 0)
		return;
	log->closes_left = 2;
	log->ready = false;
	uv_timer_stop(&log->tick);
	uv_close((uv_handle_t *)&log->tick, raftlog_timer_closed);
	raft_close(&log->raft, raftlog_raft_closed);
}

void ms_raftlog_close(struct ms_raftlog *log, void (*cb)(void *arg), void *arg)
{
	if (log == NULL || log->closing)
		return;
	log->closing = true;
	log->close_cb = cb;
	log->close_arg = arg;
	log->drain_deadline = uv_now(log->loop) + MS_RAFTLOG_DRAIN_MS;
	if (!log->started || log->stats.pending == 0) {
		raftlog_shutdown(log);
		return;
	}
	rfs_log_info(NULL, "msg=\"draining raft proposals\" pending=%u",
		     log->stats.pending);
}

/* --- proposals --------------------------------------------------------- */

static void raftlog_apply_cb(struct raft_apply *req, int status, void *result)
{
	struct raftlog_prop *prop = req->data;
	struct ms_raftlog *log = prop->log;

	log->stats.pending--;
	if (status == 0)
		log->stats.committed++;
	else
		log->stats.failed++;
	prop->cb(prop->arg, raftlog_errno(status), status == 0 ? result : NULL);
	free(prop);
}

int ms_raftlog_propose(struct ms_raftlog *log, const void *buf, size_t len,
		       ms_raftlog_done_cb cb, void *arg)
{
	struct raftlog_prop *prop;
	struct raft_buffer entry;
	size_t padded;
	int rv;

	if (len == 0 || ((const char *)buf)[len - 1] == '\0')
		return -EINVAL;
	if (len > MS_RAFTLOG_ENTRY_MAX)
		return -E2BIG;
	if (!ms_raftlog_is_ready(log))
		return -EAGAIN;
	prop = calloc(1, sizeof(*prop));
	if (prop == NULL)
		return -ENOMEM;
	padded =
	    (len + MS_RAFTLOG_ALIGN - 1) / MS_RAFTLOG_ALIGN * MS_RAFTLOG_ALIGN;
	entry.base = raft_malloc(padded);
	if (entry.base == NULL) {
		free(prop);
		return -ENOMEM;
	}
	memcpy(entry.base, buf, len);
	memset((char *)entry.base + len, 0, padded - len);
	entry.len = padded;
	prop->req.data = prop;
	prop->log = log;
	prop->cb = cb;
	prop->arg = arg;
	rv = raft_apply(&log->raft, &prop->req, &entry, 1, raftlog_apply_cb);
	if (rv != 0) {
		/* Not accepted: the buffer is still ours. */
		raft_free(entry.base);
		free(prop);
		return raftlog_errno(rv);
	}
	log->stats.proposed++;
	log->stats.pending++;
	return 0;
}

void ms_raftlog_stats(const struct ms_raftlog *log,
		      struct ms_raftlog_stats *out)
{
	struct raft *raft = (struct raft *)&log->raft;

	*out = log->stats;
	out->last_index = raft_last_index(raft);
	out->last_applied = raft_last_applied(raft);
	out->ready = ms_raftlog_is_ready(log);
}

/* --- bootstrap --------------------------------------------------------- */

static void raftlog_noop_apply(void *arg, const char *buf, size_t len,
			       void **result)
{
	*result = NULL;
}

static int raftlog_noop_snapshot(void *arg, void **buf, size_t *len)
{
	return -EINVAL;
}

static int raftlog_noop_restore(void *arg, const char *buf, size_t len)
{
	return -EINVAL;
}

static int raftlog_write_conf(struct ms_raftlog *log, uint64_t id,
			      const char *addr, char *err, size_t errlen)
{
	struct raft_configuration conf;
	int rv;

	raft_configuration_init(&conf);
	rv = raft_configuration_add(&conf, id, addr, RAFT_VOTER);
	if (rv == 0)
		rv = raft_bootstrap(&log->raft, &conf);
	if (rv != 0)
		raftlog_set_err(err, errlen, "cannot bootstrap raft",
				rv == RAFT_CANTBOOTSTRAP
				    ? "directory already holds raft data"
				    : raft_errmsg(&log->raft),
				rv);
	raft_configuration_close(&conf);
	return raftlog_errno(rv);
}

int ms_raftlog_bootstrap(const char *dir, uint64_t id, const char *addr,
			 char *err, size_t errlen)
{
	struct ms_raftlog_opts opts = {
	    .dir = dir,
	    .id = id,
	    .addr = addr,
	    .sm = {.apply = raftlog_noop_apply,
		   .snapshot = raftlog_noop_snapshot,
		   .restore = raftlog_noop_restore},
	};
	struct ms_raftlog *log;
	uv_loop_t loop;
	int rc;

	rc = uv_loop_init(&loop);
	if (rc < 0) {
		snprintf(err, errlen, "cannot create event loop: %s",
			 uv_strerror(rc));
		return -EIO;
	}
	opts.loop = &loop;
	rc = ms_raftlog_new(&opts, &log, err, errlen);
	if (rc == 0) {
		rc = raftlog_write_conf(log, id, addr, err, errlen);
		ms_raftlog_close(log, NULL, NULL);
		uv_run(&loop, UV_RUN_DEFAULT);
	}
	if (uv_loop_close(&loop) != 0 && rc == 0) {
		snprintf(err, errlen, "event loop still busy after bootstrap");
		rc = -EIO;
	}
	return rc;
}
