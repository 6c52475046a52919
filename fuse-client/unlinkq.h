/*
 * unlinkq: the mount's pipelined unlinks (docs/fuse.md, "Pipelined
 * unlink"). The unlink op queues (parent, name) and answers the kernel at
 * once; a few worker threads, started at the first push (so after the
 * move to the background), run the unlinks, several at a time, so the
 * metaserver commits them together. Ops that depend on the namespace wait
 * for the queue to empty first (fc_unlinkq_drain).
 *
 * At most FC_UNLINKQ_CAP entries are queued or running at once; a push
 * waits while that many are. One mutex guards everything; a worker calls
 * the unlink function without it.
 */
#ifndef RFS_FUSE_CLIENT_UNLINKQ_H
#define RFS_FUSE_CLIENT_UNLINKQ_H

#include <stdbool.h>
#include <stdint.h>

/* Entries queued plus running, at most. */
#define FC_UNLINKQ_CAP 64
/* Worker threads of the mount. */
#define FC_UNLINKQ_THREADS 8

/* The unlink a worker runs: 0 or a negative errno. -ENOENT counts as
 * done (someone else removed the name); any other error is logged and
 * counted. Called from the worker threads, several at a time. */
typedef int (*fc_unlinkq_fn)(void *arg, uint64_t parent, const char *name);

struct fc_unlinkq;

/*
 * A queue whose n_threads workers (1..FC_UNLINKQ_THREADS) call fn(arg,
 * parent, name). No thread starts here. Returns 0 and *out (free it with
 * fc_unlinkq_free), -EINVAL for a bad n_threads or NULL fn, or -ENOMEM.
 */
int fc_unlinkq_new(fc_unlinkq_fn fn, void *arg, unsigned int n_threads,
		   struct fc_unlinkq **out);

/*
 * Called by the worker that ran the last unlink queued or running in
 * parent, after it and before a drain can see the queue without it (the
 * mount invalidates the kernel's attributes of parent there). Only
 * another push in parent meanwhile makes it come later.
 */
typedef void (*fc_unlinkq_idle_fn)(void *arg, uint64_t parent);
/* Set idle (NULL: none; later runs no longer call it). NULL q: no-op. */
void fc_unlinkq_set_idle(struct fc_unlinkq *q, fc_unlinkq_idle_fn idle);

/*
 * Runs what is queued, stops the workers and frees q. NULL is a no-op.
 * No other call on q may be running or follow.
 */
void fc_unlinkq_free(struct fc_unlinkq *q);

/*
 * Queue the unlink of name (copied) in parent, waiting while the queue is
 * full; the first push starts the workers. Returns 0, -ENAMETOOLONG for a
 * name over RFS_NAME_MAX bytes, or the error of starting the first worker
 * (nothing queued then: the caller unlinks itself).
 */
int fc_unlinkq_push(struct fc_unlinkq *q, uint64_t parent, const char *name);

/* Wait until nothing is queued or running. NULL is a no-op. */
void fc_unlinkq_drain(struct fc_unlinkq *q);

/* Is (parent, name) queued or running? NULL: false. */
bool fc_unlinkq_pending(struct fc_unlinkq *q, uint64_t parent,
			const char *name);

/* Wait until (parent, name) is neither queued nor running (other names
 * may be). NULL is a no-op. */
void fc_unlinkq_drain_name(struct fc_unlinkq *q, uint64_t parent,
			   const char *name);

/*
 * Is an unlink in directory parent queued or running? Then *newest_ns
 * (may be NULL) is the latest push time (CLOCK_REALTIME ns) among them.
 * NULL q: false.
 */
bool fc_unlinkq_parent_pending(struct fc_unlinkq *q, uint64_t parent,
			       int64_t *newest_ns);

/* Unlinks that failed with an error other than -ENOENT so far. */
uint64_t fc_unlinkq_errors(struct fc_unlinkq *q);

#endif
