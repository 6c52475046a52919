/*
 * ops_lock: flock and POSIX fcntl locks that every mount of the cluster
 * sees, held in the metaserver under this mount's lock session (client
 * library, rfs_lock_*). A thread renews the session every third of its
 * lease; a mount that dies stops renewing and the metaserver releases its
 * locks when the lease runs out.
 *
 * Owners are the kernel's: for POSIX locks fi->lock_owner names the
 * process's file table, so close() of any descriptor of the file (a
 * FLUSH) releases that process's locks on it; for flock it names the open
 * file description, released on its last close (RELEASE with
 * flock_release).
 *
 * A blocking request (F_SETLKW, flock without LOCK_NB) that meets a
 * conflicting lock does not hold its FUSE worker thread: it joins the
 * waiter list and the request is answered later by the waiter thread,
 * which retries each waiter with backoff until it is granted, fails, is
 * interrupted (EINTR) or the mount ends. Holding workers would let a few
 * waiters take every worker of the mount, and then nobody could unlock.
 */
#include <config.h>

#include "fuse-client/fc.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>

#include "common/log.h"

/* Retrying a blocked lock: first after 10 ms (a lock released quickly is
 * taken quickly), doubling up to 250 ms (a long wait costs the metaserver
 * at most 4 requests a second per waiter). */
#define FC_LOCK_POLL_FIRST_MS 10
#define FC_LOCK_POLL_MAX_MS   250
/* Waiters are checked for interruption at least this often, so a signal
 * ends a wait promptly even between retries. */
#define FC_LOCK_INTR_CHECK_MS 50
/* Renew this many times per lease: two renewals may fail in a row (a
 * metaserver restart) before the lease runs out. */
#define FC_LOCK_RENEWS_PER_LEASE 3
/* Retry interval while no session could be opened or renewed. */
#define FC_LOCK_RETRY_MS 1000
#define FC_MS_PER_S	 1000
#define FC_NS_PER_MS	 1000000L

/* A blocking request waiting for a conflicting lock to go away. */
struct fc_lock_waiter {
	fuse_req_t req; /* answered exactly once, by the waiter thread */
	struct rfs_lock r;
	long delay_ms;	    /* before the next try */
	struct timespec at; /* next try (CLOCK_MONOTONIC) */
	struct fc_lock_waiter *next;
};

struct fc_locks {
	struct rfs_lock_session *s;
	pthread_mutex_t mu;	   /* stop and waiters */
	pthread_cond_t renew_cond; /* CLOCK_MONOTONIC */
	pthread_cond_t wait_cond;  /* CLOCK_MONOTONIC */
	bool stop;
	struct fc_lock_waiter *waiters;
	pthread_t renew_thread;
	pthread_t wait_thread;
	bool failing; /* renew thread: the last renewal failed */
};

/* --- time ----------------------------------------------------------------- */

static void ts_add_ms(struct timespec *ts, long ms)
{
	ts->tv_sec += ms / FC_MS_PER_S;
	ts->tv_nsec += (ms % FC_MS_PER_S) * FC_NS_PER_MS;
	if (ts->tv_nsec >= FC_MS_PER_S * FC_NS_PER_MS) {
		ts->tv_sec++;
		ts->tv_nsec -= FC_MS_PER_S * FC_NS_PER_MS;
	}
}

static void deadline_after(struct timespec *ts, long ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts_add_ms(ts, ms);
}

static bool ts_before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec ||
	       (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/* --- the renew thread ------------------------------------------------------ */

/* One renewal, logging failures once and every lock a reclaim lost. */
static void locks_renew(struct fc_locks *lk)
{
	size_t lost = 0;
	int rc;

	rc = rfs_lock_session_renew(lk->s, &lost);
	if (lost > 0)
		rfs_log_error(NULL,
			      "msg=\"locks lost: the metaserver refused to "
			      "reclaim them after losing this mount's lock "
			      "session\" count=%zu",
			      lost);
	if (rc < 0 && !lk->failing)
		rfs_log_warn(NULL,
			     "msg=\"cannot renew the lock session; locks are "
			     "lost if this lasts past the lease\" err=%s",
			     strerror(-rc));
	else if (rc == 0 && lk->failing)
		rfs_log_info(NULL, "msg=\"lock session renewed again\"");
	lk->failing = rc < 0;
}

static void *renew_thread(void *arg)
{
	struct fc_locks *lk = arg;
	struct timespec ts;
	uint32_t lease;
	long wait_ms;

	pthread_mutex_lock(&lk->mu);
	while (!lk->stop) {
		pthread_mutex_unlock(&lk->mu);
		locks_renew(lk);
		lease = rfs_lock_session_lease_ms(lk->s);
		wait_ms = lease && !lk->failing
			      ? (long)lease / FC_LOCK_RENEWS_PER_LEASE
			      : FC_LOCK_RETRY_MS;
		deadline_after(&ts, wait_ms);
		pthread_mutex_lock(&lk->mu);
		while (!lk->stop && pthread_cond_timedwait(&lk->renew_cond,
							   &lk->mu, &ts) == 0)
			;
	}
	pthread_mutex_unlock(&lk->mu);
	return NULL;
}

/* --- the waiter thread ----------------------------------------------------- */

/* Take the waiters that are due or interrupted out of the list (under
 * mu); *wake gets when the first remaining one is due. */
static struct fc_lock_waiter *waiters_take_due(struct fc_locks *lk,
					       struct timespec *wake)
{
	struct fc_lock_waiter **p = &lk->waiters;
	struct fc_lock_waiter *due = NULL;
	struct fc_lock_waiter *w;
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	*wake = now;
	ts_add_ms(wake, FC_LOCK_INTR_CHECK_MS);
	while ((w = *p)) {
		if (!ts_before(&now, &w->at) || fuse_req_interrupted(w->req)) {
			*p = w->next;
			w->next = due;
			due = w;
			continue;
		}
		if (ts_before(&w->at, wake))
			*wake = w->at;
		p = &w->next;
	}
	return due;
}

/* Try one waiter; answer it, or put it back with a longer delay. */
static void waiter_try(struct fc_locks *lk, struct fc_lock_waiter *w)
{
	int rc = -EINTR;

	if (!fuse_req_interrupted(w->req))
		rc = rfs_lock_set(lk->s, &w->r);
	if (rc == -EAGAIN) {
		w->delay_ms = w->delay_ms * 2 > FC_LOCK_POLL_MAX_MS
				  ? FC_LOCK_POLL_MAX_MS
				  : w->delay_ms * 2;
		deadline_after(&w->at, w->delay_ms);
		pthread_mutex_lock(&lk->mu);
		w->next = lk->waiters;
		lk->waiters = w;
		pthread_mutex_unlock(&lk->mu);
		return;
	}
	fuse_reply_err(w->req, -rc);
	free(w);
}

static void *wait_thread(void *arg)
{
	struct fc_locks *lk = arg;
	struct fc_lock_waiter *due;
	struct fc_lock_waiter *w;
	struct timespec wake;

	pthread_mutex_lock(&lk->mu);
	while (!lk->stop) {
		due = waiters_take_due(lk, &wake);
		if (!due) {
			if (lk->waiters)
				pthread_cond_timedwait(&lk->wait_cond, &lk->mu,
						       &wake);
			else
				pthread_cond_wait(&lk->wait_cond, &lk->mu);
			continue;
		}
		pthread_mutex_unlock(&lk->mu);
		while ((w = due)) {
			due = w->next;
			waiter_try(lk, w);
		}
		pthread_mutex_lock(&lk->mu);
	}
	/* the mount ends: nobody waits any more */
	while ((w = lk->waiters)) {
		lk->waiters = w->next;
		fuse_reply_err(w->req, EINTR);
		free(w);
	}
	pthread_mutex_unlock(&lk->mu);
	return NULL;
}

/* Queue req to be answered once r is granted. 0, or -ENOMEM/-EINTR. */
static int waiter_add(struct fc_locks *lk, fuse_req_t req,
		      const struct rfs_lock *r)
{
	struct fc_lock_waiter *w = calloc(1, sizeof(*w));
	int rc = 0;

	if (!w)
		return -ENOMEM;
	w->req = req;
	w->r = *r;
	w->delay_ms = FC_LOCK_POLL_FIRST_MS;
	deadline_after(&w->at, w->delay_ms);
	pthread_mutex_lock(&lk->mu);
	if (lk->stop) {
		rc = -EINTR;
	} else {
		w->next = lk->waiters;
		lk->waiters = w;
		pthread_cond_signal(&lk->wait_cond);
	}
	pthread_mutex_unlock(&lk->mu);
	if (rc < 0)
		free(w);
	return rc;
}

/* --- start and stop -------------------------------------------------------- */

static int cond_init_monotonic(pthread_cond_t *c)
{
	pthread_condattr_t ca;
	int rc;

	if (pthread_condattr_init(&ca) != 0)
		return -ENOMEM;
	rc = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if (rc == 0)
		rc = pthread_cond_init(c, &ca);
	pthread_condattr_destroy(&ca);
	return -rc;
}

/* The synchronisation objects (the conds wait on the monotonic clock, so
 * a wall-clock jump cannot stall renewals or waiters). */
static int locks_sync_init(struct fc_locks *lk)
{
	int rc = cond_init_monotonic(&lk->renew_cond);

	if (rc < 0)
		return rc;
	rc = cond_init_monotonic(&lk->wait_cond);
	if (rc == 0 && pthread_mutex_init(&lk->mu, NULL) != 0) {
		pthread_cond_destroy(&lk->wait_cond);
		rc = -ENOMEM;
	}
	if (rc < 0)
		pthread_cond_destroy(&lk->renew_cond);
	return rc;
}

static void locks_sync_destroy(struct fc_locks *lk)
{
	pthread_cond_destroy(&lk->renew_cond);
	pthread_cond_destroy(&lk->wait_cond);
	pthread_mutex_destroy(&lk->mu);
}

/* Ask the threads to end and wait for them. */
static void locks_stop_thread(struct fc_locks *lk, pthread_t t)
{
	pthread_mutex_lock(&lk->mu);
	lk->stop = true;
	pthread_cond_signal(&lk->renew_cond);
	pthread_cond_signal(&lk->wait_cond);
	pthread_mutex_unlock(&lk->mu);
	pthread_join(t, NULL);
}

void fc_locks_start(struct fc_ctx *fc)
{
	struct fc_locks *lk = calloc(1, sizeof(*lk));
	int rc = lk ? 0 : -ENOMEM;

	if (rc == 0)
		rc = rfs_lock_session_new(fc->c, &lk->s);
	if (rc < 0)
		goto out_free;
	rc = locks_sync_init(lk);
	if (rc < 0)
		goto out_free_session;
	rc = -pthread_create(&lk->wait_thread, NULL, wait_thread, lk);
	if (rc < 0)
		goto out_destroy_sync;
	rc = -pthread_create(&lk->renew_thread, NULL, renew_thread, lk);
	if (rc < 0)
		goto out_stop_waiter;
	fc->locks = lk;
	return;

out_stop_waiter:
	locks_stop_thread(lk, lk->wait_thread);
out_destroy_sync:
	locks_sync_destroy(lk);
out_free_session:
	rfs_lock_session_free(lk->s);
out_free:
	free(lk);
	rfs_log_error(NULL,
		      "msg=\"cannot start the lock session; flock and fcntl "
		      "locks will fail with ENOLCK\" err=%s",
		      strerror(-rc));
}

uint64_t fc_locks_session_id(struct fc_ctx *fc)
{
	return fc->locks ? rfs_lock_session_id(fc->locks->s) : 0;
}

void fc_op_destroy(void *userdata)
{
	struct fc_ctx *fc = userdata;
	struct fc_locks *lk = fc->locks;
	int rc;

	if (!lk)
		return;
	locks_stop_thread(lk, lk->renew_thread);
	locks_stop_thread(lk, lk->wait_thread);
	fc->locks = NULL;
	rc = rfs_lock_session_free(lk->s);
	if (rc < 0)
		rfs_log_warn(NULL,
			     "msg=\"cannot close the lock session; the "
			     "metaserver releases its locks when the lease "
			     "runs out\" err=%s",
			     strerror(-rc));
	locks_sync_destroy(lk);
	free(lk);
}

/* --- requests -------------------------------------------------------------- */

/*
 * Apply r for open file fi and answer req, now or (a blocking request
 * meeting a conflicting lock) from the waiter thread. Data written
 * through fi is committed before an unlock, so the next holder sees it.
 */
static void lock_apply(fuse_req_t req, struct fuse_file_info *fi,
		       const struct rfs_lock *r, bool wait)
{
	struct fc_ctx *fc = fc_ctx_of(req);
	int rc = fc->locks ? 0 : -ENOLCK;

	if (rc == 0 && r->type == RFS_LOCK_UN)
		rc = fc_file_flush(fc->files, fc_file_of(fi));
	if (rc == 0)
		rc = rfs_lock_set(fc->locks->s, r);
	if (rc == -EAGAIN && wait) {
		rc = waiter_add(fc->locks, req, r);
		if (rc == 0)
			return; /* answered by the waiter thread */
	}
	/* EAGAIN is EWOULDBLOCK, what flock(LOCK_NB) reports */
	fuse_reply_err(req, -rc);
}

/* A struct flock (whence SEEK_SET, as the kernel sends it) as a request. */
static int lock_from_flock(fuse_ino_t ino, const struct fuse_file_info *fi,
			   const struct flock *fl, struct rfs_lock *r)
{
	memset(r, 0, sizeof(*r));
	switch (fl->l_type) {
	case F_RDLCK:
		r->type = RFS_LOCK_RD;
		break;
	case F_WRLCK:
		r->type = RFS_LOCK_WR;
		break;
	case F_UNLCK:
		r->type = RFS_LOCK_UN;
		break;
	default:
		return -EINVAL;
	}
	if (fl->l_start < 0 || fl->l_len < 0)
		return -EINVAL;
	r->ino = ino;
	r->kind = RFS_LOCK_POSIX;
	r->owner = fi->lock_owner;
	r->start = (uint64_t)fl->l_start;
	r->end =
	    fl->l_len == 0 ? RFS_LOCK_EOF : r->start + (uint64_t)fl->l_len - 1;
	r->pid = (uint32_t)fl->l_pid;
	return 0;
}

void fc_op_getlk(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi,
		 struct flock *lock)
{
	struct fc_ctx *fc = fc_ctx_of(req);
	struct rfs_lock r;
	struct rfs_lock h;
	struct flock out = *lock;
	int rc;

	rc = lock_from_flock(ino, fi, lock, &r);
	if (rc == 0)
		rc = fc->locks ? rfs_lock_test(fc->locks->s, &r, &h) : -ENOLCK;
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	out.l_whence = SEEK_SET;
	out.l_type = h.type == RFS_LOCK_RD   ? F_RDLCK
		     : h.type == RFS_LOCK_WR ? F_WRLCK
					     : F_UNLCK;
	if (h.type != RFS_LOCK_UN) {
		out.l_start = (off_t)h.start;
		/* l_len 0: to the end of the file */
		out.l_len = h.end >= (uint64_t)INT64_MAX
				? 0
				: (off_t)(h.end - h.start + 1);
		out.l_pid = (pid_t)h.pid;
	}
	fuse_reply_lock(req, &out);
}

void fc_op_setlk(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi,
		 struct flock *lock, int sleep)
{
	struct rfs_lock r;
	int rc;

	rc = lock_from_flock(ino, fi, lock, &r);
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		lock_apply(req, fi, &r, sleep != 0);
}

void fc_op_flock(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi,
		 int op)
{
	struct rfs_lock r = {.ino = ino,
			     .kind = RFS_LOCK_FLOCK,
			     .owner = fi->lock_owner,
			     .end = RFS_LOCK_EOF,
			     .pid = (uint32_t)fuse_req_ctx(req)->pid};

	switch (op & ~LOCK_NB) {
	case LOCK_SH:
		r.type = RFS_LOCK_RD;
		break;
	case LOCK_EX:
		r.type = RFS_LOCK_WR;
		break;
	case LOCK_UN:
		r.type = RFS_LOCK_UN;
		break;
	default:
		fuse_reply_err(req, EINVAL);
		return;
	}
	lock_apply(req, fi, &r, !(op & LOCK_NB));
}

/* --- release on close ------------------------------------------------------ */

static void locks_release(struct fc_ctx *fc, fuse_ino_t ino, uint32_t kind,
			  uint64_t owner)
{
	int rc;

	if (!fc->locks)
		return;
	rc = rfs_lock_release(fc->locks->s, ino, kind, owner);
	if (rc < 0)
		rfs_log_warn(NULL,
			     "msg=\"cannot release locks on close; the "
			     "metaserver keeps them until the session ends\" "
			     "ino=%llu kind=%s err=%s",
			     (unsigned long long)ino,
			     kind == RFS_LOCK_FLOCK ? "flock" : "posix",
			     strerror(-rc));
}

void fc_locks_on_flush(struct fc_ctx *fc, fuse_ino_t ino,
		       const struct fuse_file_info *fi)
{
	locks_release(fc, ino, RFS_LOCK_POSIX, fi->lock_owner);
}

void fc_locks_on_release(struct fc_ctx *fc, fuse_ino_t ino,
			 const struct fuse_file_info *fi)
{
	if (fi->flock_release)
		locks_release(fc, ino, RFS_LOCK_FLOCK, fi->lock_owner);
}
