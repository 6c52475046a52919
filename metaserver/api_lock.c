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

int ms_api_session_open(struct rfs_httpd_req *req, void *ctx)
{
	struct ms_api *api = ctx;
	uint64_t id = 0;
	int rc = -EEXIST;
	int i;

	if (!api_lock_ready(api, req))
		return 0;
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

/* Decode a {session} body; replies and returns false when malformed. */
static bool api_decode_session(struct ms_api *api, struct rfs_httpd_req *req,
			       const char *what, struct rfs_session *s)
{
	const char *body;
	size_t len;
	int rc;

	body = rfs_httpd_req_body(req, &len);
	rc = rfs_proto_session_decode(body ? body : "", body ? len : 0, s);
	if (rc < 0) {
		ms_api_reply_decode_error(api, req, rc, what);
		return false;
	}
	if (s->id == 0) {
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
	    !api_decode_session(api, req, "session renew", &s))
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
	    !api_decode_session(api, req, "session close", &s))
		return 0;
	if (ms_locks_session_close(api->locks, s.id) < 0)
		return api_reply_stale(api, req, s.id);
	rfs_log_info(rfs_httpd_req_id(req),
		     "msg=\"lock session closed\" session=%016llx",
		     (unsigned long long)s.id);
	return ms_api_reply_empty(api, req);
}

/* Decode a lock body; replies and returns false when malformed. */
static bool api_decode_lock(struct ms_api *api, struct rfs_httpd_req *req,
			    const char *what, struct rfs_lock *l)
{
	const char *body;
	size_t len;
	int rc;

	body = rfs_httpd_req_body(req, &len);
	rc = rfs_proto_lock_decode(body ? body : "", body ? len : 0, l);
	if (rc < 0) {
		ms_api_reply_decode_error(api, req, rc, what);
		return false;
	}
	return true;
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

	if (!api_lock_ready(api, req) || !api_decode_lock(api, req, "lock", &l))
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
	    !api_decode_lock(api, req, "lock test", &l))
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
