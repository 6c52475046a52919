/*
 * api_lock: the metaserver's lock-session and lock routes (docs/protocol.md,
 * "Locks"). Part of the api module; the lock table itself, with its
 * grace period and lease rules, is metaserver/locks.c. Locks are served
 * from the leader's memory without touching the replicated log.
 */
#include <config.h>
#include "metaserver/api_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/crypto.h"
#include "common/errors.h"
#include "common/log.h"
#include "metaserver/locks.h"

/* Random ids drawn before giving up on finding a free one (a collision
 * among 2^64 ids is already improbable; this only bounds the loop). */
#define API_SESSION_ID_TRIES 8

static const char *const api_lock_type_names[] = {
    [RFS_LOCK_UN] = "unlock",
    [RFS_LOCK_RD] = "read",
    [RFS_LOCK_WR] = "write",
};

static const char *api_lock_type_name(uint32_t type)
{
	return type <= RFS_LOCK_WR ? api_lock_type_names[type] : "unknown";
}

/* Answer 503 unless locks can be served now; note that they are. */
static bool api_lock_ready(struct ms_api *api, struct rfs_httpd_req *req)
{
	if (!ms_api_ready(api, req))
		return false;
	ms_locks_serving(api->locks, ms_api_now_ms(api));
	return true;
}

static int api_reply_session(struct ms_api *api, struct rfs_httpd_req *req,
			     uint64_t id)
{
	struct rfs_session s = {.id = id,
				.lease_ms = ms_locks_lease_ms(api->locks)};
	char *buf = NULL;
	size_t len = 0;
	int rc;

	rc = rfs_proto_session_encode(&s, &buf, &len);
	return ms_api_reply_json(api, req, rc, buf, len);
}

static int api_reply_stale(struct ms_api *api, struct rfs_httpd_req *req,
			   uint64_t id)
{
	return ms_api_reply_error(api, req, -ESTALE,
				  "unknown lock session %016llx (expired, or "
				  "the metaserver restarted): open a new "
				  "session and reclaim the locks held",
				  (unsigned long long)id);
}

/*
 * The id a session open asks for again (0: none, or a malformed body,
 * which asks for nothing): a client whose session the metaserver lost
 * (restart, new leader, expiry) reopens it under the same id, so the
 * orphans kept for it survive (docs/protocol.md, "Orphans").
 */
static uint64_t api_session_wanted(struct rfs_httpd_req *req)
{
	struct rfs_session s;
	const char *body;
	size_t len;

	body = rfs_httpd_req_body(req, &len);
	if (!body || len == 0 || rfs_proto_session_decode(body, len, &s) < 0)
		return 0;
	return s.id;
}

/* Reopen the wanted id: 0 when granted (free, or open already: a retried
 * open of this client), else the error of ms_locks_session_open. */
static int api_session_reopen(struct ms_api *api, uint64_t id)
{
	int rc = ms_locks_session_open(api->locks, id, ms_api_now_ms(api));

	if (rc == -EEXIST)
		rc = ms_locks_session_renew(api->locks, id, ms_api_now_ms(api));
	return rc;
}

int ms_api_session_open(struct rfs_httpd_req *req, void *ctx)
{
	struct ms_api *api = ctx;
	uint64_t id = 0;
	int rc = -EEXIST;
	int i;

	if (!api_lock_ready(api, req))
		return 0;
	id = api_session_wanted(req);
	if (id && api_session_reopen(api, id) == 0) {
		rfs_log_info(rfs_httpd_req_id(req),
			     "msg=\"lock session reopened\" session=%016llx "
			     "peer=%s",
			     (unsigned long long)id, rfs_httpd_req_peer(req));
		return api_reply_session(api, req, id);
	}
	for (i = 0; i < API_SESSION_ID_TRIES && rc == -EEXIST; i++) {
		if (rfs_random_bytes(&id, sizeof(id)) < 0)
			return ms_api_reply_error(api, req, -EIO,
						  "no random bytes for a "
						  "session id");
		rc = id ? ms_locks_session_open(api->locks, id,
						ms_api_now_ms(api))
			: -EEXIST;
	}
	if (rc == -ENOLCK)
		return ms_api_reply_error(api, req, rc,
					  "too many lock sessions (%d)",
					  MS_LOCKS_SESSIONS_MAX);
	if (rc < 0)
		return ms_api_reply_error(api, req, rc,
					  "cannot open a lock session: %s",
					  strerror(-rc));
	rfs_log_info(rfs_httpd_req_id(req),
		     "msg=\"lock session opened\" session=%016llx peer=%s",
		     (unsigned long long)id, rfs_httpd_req_peer(req));
	return api_reply_session(api, req, id);
}

/*
 * Decode the body of a session request (into s, which must then carry a
 * session id) or of a lock request (into l): exactly one of s and l is
 * given. Replies and returns false when the body is malformed.
 */
static bool api_decode(struct ms_api *api, struct rfs_httpd_req *req,
		       const char *what, struct rfs_session *s,
		       struct rfs_lock *l)
{
	const char *body;
	size_t len = 0;
	int rc;

	body = rfs_httpd_req_body(req, &len);
	if (!body) {
		body = "";
		len = 0;
	}
	rc = s ? rfs_proto_session_decode(body, len, s)
	       : rfs_proto_lock_decode(body, len, l);
	if (rc < 0) {
		ms_api_reply_decode_error(api, req, rc, what);
		return false;
	}
	if (s && s->id == 0) {
		ms_api_reply_error(api, req, -EINVAL, "%s: missing session",
				   what);
		return false;
	}
	return true;
}

int ms_api_session_renew(struct rfs_httpd_req *req, void *ctx)
{
	struct ms_api *api = ctx;
	struct rfs_session s;

	if (!api_lock_ready(api, req) ||
	    !api_decode(api, req, "session renew", &s, NULL))
		return 0;
	if (ms_locks_session_renew(api->locks, s.id, ms_api_now_ms(api)) < 0)
		return api_reply_stale(api, req, s.id);
	return api_reply_session(api, req, s.id);
}

int ms_api_session_close(struct rfs_httpd_req *req, void *ctx)
{
	struct ms_api *api = ctx;
	struct rfs_session s;

	if (!api_lock_ready(api, req) ||
	    !api_decode(api, req, "session close", &s, NULL))
		return 0;
	if (ms_locks_session_close(api->locks, s.id) < 0)
		return api_reply_stale(api, req, s.id);
	rfs_log_info(rfs_httpd_req_id(req),
		     "msg=\"lock session closed\" session=%016llx",
		     (unsigned long long)s.id);
	return ms_api_reply_empty(api, req);
}

static int api_reply_invalid(struct ms_api *api, struct rfs_httpd_req *req,
			     const char *what)
{
	return ms_api_reply_error(api, req, -EINVAL,
				  "%s: needs session, ino, start <= end, and "
				  "a flock lock must cover the whole file",
				  what);
}

/* The reply to a refused lock request (rc from ms_locks_set). */
static int api_lock_refused(struct ms_api *api, struct rfs_httpd_req *req,
			    const struct rfs_lock *l, int rc,
			    const struct rfs_lock_range *c)
{
	int64_t left = 0;

	switch (rc) {
	case -EBUSY:
		return ms_api_reply_error(
		    api, req, rc,
		    "inode %llu: a %s lock of another owner (pid %u) "
		    "overlaps; retry later",
		    (unsigned long long)l->ino, api_lock_type_name(c->type),
		    c->pid);
	case -EAGAIN:
		/* EBUSY on the wire: 503 would make clients resend at once */
		ms_locks_in_grace(api->locks, ms_api_now_ms(api), &left);
		return ms_api_reply_error(
		    api, req, -EBUSY,
		    "lock grace period after a metaserver start: only "
		    "reclaims are granted for %lld ms more; retry",
		    (long long)left);
	case -ENOLCK:
		if (l->reclaim)
			return ms_api_reply_error(
			    api, req, rc,
			    "reclaim refused: the grace period is over, so the "
			    "lock may have been taken meanwhile");
		return ms_api_reply_error(api, req, rc,
					  "the session holds too many lock "
					  "ranges (%d)",
					  MS_LOCKS_SESSION_RANGES_MAX);
	case -ESTALE:
		return api_reply_stale(api, req, l->session);
	case -EINVAL:
		return api_reply_invalid(api, req, "lock");
	default:
		return ms_api_reply_error(api, req, rc, "lock: %s",
					  strerror(-rc));
	}
}

int ms_api_lock(struct rfs_httpd_req *req, void *ctx)
{
	struct ms_api *api = ctx;
	struct rfs_lock_range c = {0};
	struct rfs_lock l;
	int rc;

	if (!api_lock_ready(api, req) ||
	    !api_decode(api, req, "lock", NULL, &l))
		return 0;
	rc = ms_locks_set(api->locks, &l, ms_api_now_ms(api), &c);
	if (rc < 0) {
		if (l.reclaim && rc != -EBUSY)
			rfs_log_warn(rfs_httpd_req_id(req),
				     "msg=\"lock reclaim refused\" "
				     "session=%016llx ino=%llu err=%s",
				     (unsigned long long)l.session,
				     (unsigned long long)l.ino,
				     rfs_errno_name(rc));
		return api_lock_refused(api, req, &l, rc, &c);
	}
	rfs_log_debug(rfs_httpd_req_id(req),
		      "msg=\"lock\" session=%016llx ino=%llu kind=%u "
		      "owner=%016llx type=%s start=%llu end=%llu reclaim=%d",
		      (unsigned long long)l.session, (unsigned long long)l.ino,
		      l.kind, (unsigned long long)l.owner,
		      api_lock_type_name(l.type), (unsigned long long)l.start,
		      (unsigned long long)l.end, l.reclaim);
	return ms_api_reply_empty(api, req);
}

int ms_api_lock_test(struct rfs_httpd_req *req, void *ctx)
{
	struct ms_api *api = ctx;
	struct rfs_lock_range h;
	struct rfs_lock l;
	struct rfs_lock out = {0};
	char *buf = NULL;
	size_t len = 0;
	int rc;

	if (!api_lock_ready(api, req) ||
	    !api_decode(api, req, "lock test", NULL, &l))
		return 0;
	rc = ms_locks_test(api->locks, &l, &h);
	if (rc == -ESTALE)
		return api_reply_stale(api, req, l.session);
	if (rc < 0)
		return api_reply_invalid(api, req, "lock test");
	out.type = h.type;
	out.start = h.start;
	out.end = h.end;
	out.pid = h.pid;
	out.ino = l.ino;
	out.kind = l.kind;
	rc = rfs_proto_lock_encode(&out, &buf, &len);
	return ms_api_reply_json(api, req, rc, buf, len);
}

/* --- orphans of ended sessions ------------------------------------------ */

/* Distinct sessions one sweep proposes drop_orphans for, at most. */
#define API_ORPHAN_DROPS_MAX 16

static void api_orphan_drop_done(void *arg, int status, void *result)
{
	struct ms_api *api = arg;

	api->orphan_drops--;
}

static void api_orphan_drop(struct ms_api *api, uint64_t session)
{
	struct rfs_op op = {.type = RFS_OP_DROP_ORPHANS, .session = session};
	char *json = NULL;
	size_t len = 0;
	int rc;

	rc = rfs_proto_op_encode(&op, &json, &len);
	if (rc == 0)
		rc = ms_raftlog_propose(api->log, json, len,
					api_orphan_drop_done, api);
	free(json);
	if (rc == 0) {
		api->orphan_drops++;
		rfs_log_info(NULL,
			     "msg=\"freeing the unlinked open files of an "
			     "ended session\" session=%016llx",
			     (unsigned long long)session);
	} else {
		rfs_log_warn(NULL,
			     "msg=\"cannot propose drop_orphans; retried at "
			     "the next upkeep\" session=%016llx err=%s",
			     (unsigned long long)session, strerror(-rc));
	}
}

static bool api_seen(const uint64_t *v, size_t n, uint64_t x)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i] == x)
			return true;
	return false;
}

void ms_api_orphan_sweep(struct ms_api *api)
{
	const struct ms_fsm *fsm;
	uint64_t seen[API_ORPHAN_DROPS_MAX];
	size_t n_seen = 0;
	uint64_t ino;
	uint64_t session;
	size_t i;

	if (!api || api->draining || api->orphan_drops > 0 ||
	    !ms_raftlog_is_ready(api->log))
		return;
	fsm = api->state->fsm;
	if (ms_fsm_orphan_count(fsm) == 0)
		return;
	/* sessions lost by a restart are reclaimed during the grace */
	ms_locks_serving(api->locks, ms_api_now_ms(api));
	if (ms_locks_in_grace(api->locks, ms_api_now_ms(api), NULL))
		return;
	for (i = 0; ms_fsm_orphan_at(fsm, i, &ino, &session) == 0 &&
		    n_seen < API_ORPHAN_DROPS_MAX;
	     i++) {
		if (ms_locks_session_exists(api->locks, session) ||
		    api_seen(seen, n_seen, session))
			continue;
		seen[n_seen++] = session;
		api_orphan_drop(api, session);
	}
}
