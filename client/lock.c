/*
 * lock: cluster-wide locks through a lock session with the metaserver
 * (declared in client/client.h; the wire side is docs/protocol.md,
 * "Locks").
 *
 * The session keeps its own copy of every lock it holds, per (inode,
 * kind, owner), with the same range rules as the metaserver
 * (common/lockrange.h). The copy serves two purposes: after the
 * metaserver lost the session (restart, or the lease ran out) the locks
 * are reclaimed from it, and a release (close of a file) costs no round
 * trip when the owner holds nothing on that file.
 *
 * Every call holds the session mutex for its whole exchange with the
 * metaserver, so requests reach it in the order the copy applies them.
 */
#include <config.h>
#include "client/client.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "client/client-int.h"
#include "common/lockrange.h"

/* What one (inode, kind, owner) holds. */
struct lock_held {
	uint64_t ino;
	uint32_t kind;
	uint64_t owner;
	struct rfs_lockrange ranges; /* never empty while listed */
};

struct rfs_lock_session {
	struct rfs_client *c;
	pthread_mutex_t mu;
	uint64_t id;	 /* 0: no session open */
	uint64_t old_id; /* the last id held: asked for again on reopen */
	uint32_t lease_ms;
	bool need_reclaim; /* the session is new: reclaim what is held */
	size_t lost;	   /* ranges not reclaimed since the last renew */
	struct lock_held *held;
	size_t n_held;
	size_t cap_held;
};

int rfs_lock_session_new(struct rfs_client *c, struct rfs_lock_session **out)
{
	struct rfs_lock_session *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	if (pthread_mutex_init(&s->mu, NULL) != 0) {
		free(s);
		return -ENOMEM;
	}
	s->c = c;
	*out = s;
	return 0;
}

/* --- the copy of what is held ------------------------------------------ */

static struct lock_held *held_find(struct rfs_lock_session *s, uint64_t ino,
				   uint32_t kind, uint64_t owner)
{
	size_t i;

	for (i = 0; i < s->n_held; i++)
		if (s->held[i].ino == ino && s->held[i].kind == kind &&
		    s->held[i].owner == owner)
			return &s->held[i];
	return NULL;
}

static void held_remove(struct rfs_lock_session *s, struct lock_held *h)
{
	rfs_lockrange_release(&h->ranges);
	*h = s->held[--s->n_held];
}

/* Room for one more entry; 0 or -ENOMEM. */
static int held_reserve(struct rfs_lock_session *s)
{
	struct lock_held *n;
	size_t cap;

	if (s->n_held < s->cap_held)
		return 0;
	cap = s->cap_held ? s->cap_held * 2 : 8;
	n = realloc(s->held, cap * sizeof(*n));
	if (!n)
		return -ENOMEM;
	s->held = n;
	s->cap_held = cap;
	return 0;
}

/* A copy of src (may be NULL: empty) in *dst, released by the caller. */
static int ranges_copy(const struct rfs_lockrange *src,
		       struct rfs_lockrange *dst)
{
	rfs_lockrange_init(dst);
	if (!src || !src->n)
		return 0;
	dst->r = calloc(src->n, sizeof(*dst->r));
	if (!dst->r)
		return -ENOMEM;
	memcpy(dst->r, src->r, src->n * sizeof(*dst->r));
	dst->n = src->n;
	dst->cap = src->n;
	return 0;
}

/* A copy of src with r applied, in *dst (released by the caller). */
static int ranges_apply_copy(const struct rfs_lockrange *src,
			     const struct rfs_lock *r,
			     struct rfs_lockrange *dst)
{
	int rc = ranges_copy(src, dst);

	if (rc == 0)
		rc = rfs_lockrange_set(dst, r->start, r->end, r->type, r->pid,
				       SIZE_MAX);
	return rc;
}

/* Install ranges (taken over) as what r's owner holds now. */
static void held_store(struct rfs_lock_session *s, const struct rfs_lock *r,
		       struct rfs_lockrange *ranges)
{
	struct lock_held *h = held_find(s, r->ino, r->kind, r->owner);

	if (!h) {
		if (rfs_lockrange_is_empty(ranges))
			return;
		/* reserved before the request was sent */
		h = &s->held[s->n_held++];
		h->ino = r->ino;
		h->kind = r->kind;
		h->owner = r->owner;
		rfs_lockrange_init(&h->ranges);
	}
	rfs_lockrange_release(&h->ranges);
	h->ranges = *ranges;
	rfs_lockrange_init(ranges);
	if (rfs_lockrange_is_empty(&h->ranges))
		held_remove(s, h);
}

/* --- wire --------------------------------------------------------------- */

static int post(struct rfs_lock_session *s, const char *path, const char *body,
		size_t len, bool idempotent, struct rfs_httpc_reply *reply)
{
	return rfs_client_call(s->c, "POST", path, body ? body : "{}",
			       body ? len : 2, idempotent, reply);
}

/* Send lock request r (under the current session) to path; the lock-test
 * reply is decoded into out when out is not NULL. */
static int post_lock(struct rfs_lock_session *s, const char *path,
		     const struct rfs_lock *r, struct rfs_lock *out)
{
	struct rfs_lock req = *r;
	struct rfs_httpc_reply reply;
	char *json = NULL;
	size_t len = 0;
	int rc;

	req.session = s->id;
	rc = rfs_proto_lock_encode(&req, &json, &len);
	if (rc < 0)
		return rc;
	rc = post(s, path, json, len, true, &reply);
	free(json);
	if (rc == 0 && out) {
		rc = rfs_proto_lock_decode(reply.body ? reply.body : "",
					   reply.len, out);
		if (rc < 0)
			rfs_client_note_error(s->c, rc, true, NULL,
					      "malformed lock test reply");
	}
	rfs_httpc_reply_release(&reply);
	return rc;
}

/* Open a new session (id 0 before). A retried open may leave an unused
 * session behind on the metaserver; it lapses after one lease. */
static int session_open(struct rfs_lock_session *s)
{
	struct rfs_session want = {.id = s->old_id};
	struct rfs_httpc_reply reply;
	struct rfs_session sess;
	char *json = NULL;
	size_t len = 0;
	int rc = 0;

	/* ask for the old id again: orphans kept for it survive */
	if (want.id)
		rc = rfs_proto_session_encode(&want, &json, &len);
	if (rc < 0)
		return rc;
	rc = post(s, RFS_PATH_SESSION_OPEN, json, len, false, &reply);
	free(json);
	if (rc == 0) {
		rc = rfs_proto_session_decode(reply.body ? reply.body : "",
					      reply.len, &sess);
		if (rc == 0 && (sess.id == 0 || sess.lease_ms == 0))
			rc = -EPROTO;
		if (rc < 0)
			rfs_client_note_error(s->c, rc, true, NULL,
					      "malformed session reply");
	}
	rfs_httpc_reply_release(&reply);
	if (rc < 0)
		return rc;
	s->id = sess.id;
	s->old_id = sess.id;
	s->lease_ms = sess.lease_ms;
	s->need_reclaim = s->n_held > 0;
	return 0;
}

/* Reclaim every range of h; drop the ones refused from the copy. Returns
 * 0, or the error that stopped it (the session is unusable). */
static int reclaim_held(struct rfs_lock_session *s, struct lock_held *h)
{
	struct rfs_lockrange snap;
	struct rfs_lock r = {
	    .ino = h->ino, .kind = h->kind, .owner = h->owner, .reclaim = true};
	size_t i;
	int rc = 0;

	/* the loop edits h->ranges: walk a snapshot */
	if (ranges_copy(&h->ranges, &snap) < 0)
		return -ENOMEM;
	for (i = 0; i < snap.n && rc == 0; i++) {
		r.type = snap.r[i].type;
		r.start = snap.r[i].start;
		r.end = snap.r[i].end;
		r.pid = snap.r[i].pid;
		rc = post_lock(s, RFS_PATH_LOCK, &r, NULL);
		if (rc == -EBUSY || rc == -ENOLCK) {
			/* refused (not just unreachable): this lock is lost */
			s->lost++;
			rfs_lockrange_set(&h->ranges, r.start, r.end,
					  RFS_LOCK_UN, 0, SIZE_MAX);
			rc = 0;
		}
	}
	rfs_lockrange_release(&snap);
	return rc;
}

/* A usable session: open one if needed, and reclaim after a new one. */
static int session_ready(struct rfs_lock_session *s)
{
	size_t i;
	int rc;

	if (!s->id) {
		rc = session_open(s);
		if (rc < 0)
			return rc;
	}
	if (!s->need_reclaim)
		return 0;
	for (i = 0; i < s->n_held;) {
		rc = reclaim_held(s, &s->held[i]);
		if (rc == -ESTALE)
			s->id = 0; /* lost again: start over next time */
		if (rc < 0)
			return rc;
		if (rfs_lockrange_is_empty(&s->held[i].ranges))
			held_remove(s, &s->held[i]);
		else
			i++;
	}
	s->need_reclaim = false;
	return 0;
}

/* Send r to path on a ready session, once more on a new session when
 * the metaserver no longer knows ours. */
static int session_call(struct rfs_lock_session *s, const char *path,
			const struct rfs_lock *r, struct rfs_lock *out)
{
	int tries;
	int rc = 0;

	for (tries = 0; tries < 2; tries++) {
		rc = session_ready(s);
		if (rc < 0)
			return rc;
		rc = post_lock(s, path, r, out);
		if (rc != -ESTALE)
			return rc;
		s->id = 0;
	}
	return rc;
}

/* --- public ------------------------------------------------------------- */

int rfs_lock_session_renew(struct rfs_lock_session *s, size_t *lost)
{
	struct rfs_session sess = {0};
	struct rfs_httpc_reply reply;
	char *json = NULL;
	size_t len = 0;
	int rc;

	pthread_mutex_lock(&s->mu);
	rc = session_ready(s);
	if (rc == 0) {
		sess.id = s->id;
		rc = rfs_proto_session_encode(&sess, &json, &len);
	}
	if (rc == 0) {
		rc = post(s, RFS_PATH_SESSION_RENEW, json, len, true, &reply);
		rfs_httpc_reply_release(&reply);
		free(json);
	}
	if (rc == -ESTALE) {
		s->id = 0;
		rc = session_ready(s);
	}
	if (lost)
		*lost = s->lost;
	s->lost = 0;
	pthread_mutex_unlock(&s->mu);
	return rc;
}

uint64_t rfs_lock_session_id(struct rfs_lock_session *s)
{
	uint64_t id;

	pthread_mutex_lock(&s->mu);
	id = s->id;
	pthread_mutex_unlock(&s->mu);
	return id;
}

uint32_t rfs_lock_session_lease_ms(struct rfs_lock_session *s)
{
	uint32_t ms;

	pthread_mutex_lock(&s->mu);
	ms = s->lease_ms;
	pthread_mutex_unlock(&s->mu);
	return ms;
}

/* One attempt of a lock request on a ready session; the copy changes
 * only when the metaserver granted it. */
static int lock_once(struct rfs_lock_session *s, const struct rfs_lock *r)
{
	struct lock_held *h = held_find(s, r->ino, r->kind, r->owner);
	struct rfs_lockrange next;
	int rc;

	rfs_lockrange_init(&next);
	/* everything that can fail locally is done before asking */
	rc = held_reserve(s);
	if (rc == 0)
		rc = ranges_apply_copy(h ? &h->ranges : NULL, r, &next);
	if (rc == 0)
		rc = post_lock(s, RFS_PATH_LOCK, r, NULL);
	if (rc == 0)
		held_store(s, r, &next);
	rfs_lockrange_release(&next);
	return rc;
}

int rfs_lock_set(struct rfs_lock_session *s, const struct rfs_lock *r)
{
	int tries;
	int rc = 0;

	pthread_mutex_lock(&s->mu);
	for (tries = 0; tries < 2; tries++) {
		rc = session_ready(s);
		if (rc == 0)
			rc = lock_once(s, r);
		if (rc != -ESTALE)
			break;
		s->id = 0; /* the metaserver lost it: new session, reclaim */
	}
	pthread_mutex_unlock(&s->mu);
	return rc == -EBUSY ? -EAGAIN : rc;
}

int rfs_lock_test(struct rfs_lock_session *s, const struct rfs_lock *r,
		  struct rfs_lock *holder)
{
	int rc;

	pthread_mutex_lock(&s->mu);
	rc = session_call(s, RFS_PATH_LOCK_TEST, r, holder);
	pthread_mutex_unlock(&s->mu);
	return rc;
}

int rfs_lock_release(struct rfs_lock_session *s, uint64_t ino, uint32_t kind,
		     uint64_t owner)
{
	struct rfs_lock r = {.ino = ino,
			     .kind = kind,
			     .owner = owner,
			     .type = RFS_LOCK_UN,
			     .end = RFS_LOCK_EOF};
	struct lock_held *h;
	int rc = 0;

	pthread_mutex_lock(&s->mu);
	h = held_find(s, ino, kind, owner);
	if (h) {
		rc = session_call(s, RFS_PATH_LOCK, &r, NULL);
		/* gone from the copy even on failure: never reclaim a lock
		 * the application released */
		h = held_find(s, ino, kind, owner);
		if (h)
			held_remove(s, h);
	}
	pthread_mutex_unlock(&s->mu);
	return rc;
}

int rfs_lock_session_free(struct rfs_lock_session *s)
{
	struct rfs_session sess = {0};
	struct rfs_httpc_reply reply;
	char *json = NULL;
	size_t len = 0;
	int rc = 0;

	if (!s)
		return 0;
	if (s->id) {
		sess.id = s->id;
		rc = rfs_proto_session_encode(&sess, &json, &len);
		if (rc == 0) {
			/* best effort: a dead metaserver drops the session
			 * when its lease runs out */
			rc = rfs_client_call_once(s->c, "POST",
						  RFS_PATH_SESSION_CLOSE, json,
						  len, true, &reply);
			rfs_httpc_reply_release(&reply);
		}
		free(json);
	}
	while (s->n_held)
		held_remove(s, &s->held[s->n_held - 1]);
	free(s->held);
	pthread_mutex_destroy(&s->mu);
	free(s);
	return rc == -ESTALE ? 0 : rc;
}
