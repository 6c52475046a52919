/*
 * raftlog: the metaserver's replicated, durable operation log, a wrapper
 * over libraft 0.15 and its libuv I/O backend (the only user of libraft).
 *
 * Entries are opaque byte strings that do not end in a NUL byte (the
 * metaserver stores JSON operation records). Each is padded with NULs to a
 * multiple of 8 bytes before it goes into the log, because libraft 0.15
 * cannot load closed segments holding unaligned entries after a crash; the
 * padding is stripped again before the entry reaches the state machine.
 *
 * The log is generic: the caller supplies a state machine (struct
 * ms_raftlog_sm) that applies committed entries, serialises itself for a
 * snapshot and restores from one. A proposal is answered exactly once,
 * after its entry is durable (fsync'd) and applied, with the result the
 * state machine produced for it; proposals made in the same loop
 * iteration share one disk write (group commit, done by libraft's libuv
 * backend, which queues appends while one is in flight).
 *
 * Readiness: the log accepts proposals only when this node is the leader
 * AND a barrier entry issued after it became leader has been applied, so
 * every entry committed before (including the whole log replayed at start)
 * is reflected in the state machine. Until then ms_raftlog_is_ready() is
 * false and proposals fail with -EAGAIN.
 *
 * Today the configuration holds one voter (this node); a later issue adds
 * voters with raft_add/raft_assign without changing this interface.
 *
 * Everything runs on the libuv loop thread given at creation; nothing here
 * is thread-safe.
 */
#ifndef RFS_METASERVER_RAFTLOG_H
#define RFS_METASERVER_RAFTLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

/* Entries are padded to this many bytes (see above). */
#define MS_RAFTLOG_ALIGN 8
/* Largest entry accepted by ms_raftlog_propose (a metadata op is far less). */
#define MS_RAFTLOG_ENTRY_MAX (4u << 20)

/*
 * The state machine behind the log. All callbacks run on the loop thread.
 *  - apply: apply one committed entry (padding removed, len >= 1). It must
 *    be deterministic and must not fail as a whole: an entry the machine
 *    refuses is a result, not an error. *result is handed to the
 *    proposer's callback (when this node proposed the entry) and must stay
 *    valid until the next apply; it is typically a slot inside arg.
 *  - snapshot: serialise the whole state into a malloc'd *buf of *len
 *    bytes (freed by the log). Returns 0 or a negative errno.
 *  - restore: replace the state with the one in buf[0..len) (borrowed).
 *    Returns 0 or a negative errno (start-up then fails).
 */
struct ms_raftlog_sm {
	void *arg;
	void (*apply)(void *arg, const char *buf, size_t len, void **result);
	int (*snapshot)(void *arg, void **buf, size_t *len);
	int (*restore)(void *arg, const char *buf, size_t len);
};

struct ms_raftlog_opts {
	uv_loop_t *loop;
	const char
	    *dir;    /* raft directory, bootstrapped by ms_raftlog_bootstrap */
	uint64_t id; /* this node's raft id, >= 1 */
	const char *addr;	       /* raft listen address "host:port" */
	unsigned election_timeout_ms;  /* 0: MS_RAFTLOG_ELECTION_MS */
	unsigned heartbeat_timeout_ms; /* 0: MS_RAFTLOG_HEARTBEAT_MS */
	unsigned snapshot_threshold;   /* entries between snapshots, >= 2 */
	unsigned snapshot_trailing;    /* entries kept after a snapshot */
	struct ms_raftlog_sm sm;
};

/*
 * Timeouts: a leader must heartbeat several times per election timeout;
 * 300/50 ms elect a new leader within a second on a LAN without spurious
 * elections under normal scheduling jitter.
 */
#define MS_RAFTLOG_ELECTION_MS	300
#define MS_RAFTLOG_HEARTBEAT_MS 50

struct ms_raftlog;

/*
 * Write the initial configuration (one voter: id at addr) into dir, which
 * must exist and hold no raft data. Runs its own short-lived loop. Returns
 * 0, -EEXIST when dir already holds raft data, or -EIO; err says why.
 */
int ms_raftlog_bootstrap(const char *dir, uint64_t id, const char *addr,
			 char *err, size_t errlen);

/*
 * Create the log (nothing is read or started yet). *out is freed by
 * ms_raftlog_close. The strings in opts are copied. Returns 0, -ENOMEM or
 * -EIO (err says why).
 */
int ms_raftlog_new(const struct ms_raftlog_opts *opts, struct ms_raftlog **out,
		   char *err, size_t errlen);

/*
 * Load the snapshot and log from disk (restoring and replaying them into
 * the state machine), start listening on the raft address and take part
 * in elections. Returns 0 or a negative errno (-EIO, -ENOMEM,
 * -EADDRINUSE...) with err saying why; the log must still be closed.
 */
int ms_raftlog_start(struct ms_raftlog *log, char *err, size_t errlen);

/* True when proposals are accepted (see "Readiness" above). */
bool ms_raftlog_is_ready(const struct ms_raftlog *log);

/*
 * Called once per proposal: status 0 when the entry is durable and
 * applied, with the state machine's result (valid during the call only);
 * otherwise a negative errno (-EAGAIN: leadership lost or shutting down,
 * the entry may or may not be applied later; -EIO, -ENOSPC: disk) and
 * result NULL.
 */
typedef void (*ms_raftlog_done_cb)(void *arg, int status, void *result);

/*
 * Propose buf[0..len) as a new entry (copied; must not end in NUL).
 * Returns 0 and later calls cb exactly once, or returns -EAGAIN (not
 * ready or closing), -EINVAL (empty or ends in NUL), -E2BIG (over
 * MS_RAFTLOG_ENTRY_MAX) or -ENOMEM without calling cb.
 */
int ms_raftlog_propose(struct ms_raftlog *log, const void *buf, size_t len,
		       ms_raftlog_done_cb cb, void *arg);

struct ms_raftlog_stats {
	uint64_t proposed;  /* entries accepted by ms_raftlog_propose */
	uint64_t committed; /* proposals answered with status 0 */
	uint64_t failed;    /* proposals answered with an error */
	uint64_t applied;   /* entries applied (proposed here or replayed) */
	uint64_t snapshots; /* snapshots taken */
	uint64_t last_index;
	uint64_t last_applied;
	unsigned pending; /* proposals not answered yet */
	bool ready;
};
void ms_raftlog_stats(const struct ms_raftlog *log,
		      struct ms_raftlog_stats *out);

/*
 * Stop: refuse new proposals, wait (at most MS_RAFTLOG_DRAIN_MS) for the
 * pending ones to be answered, then close libraft (answering any that are
 * left with -EAGAIN) and free the log. cb (may be NULL) runs once every
 * handle is closed; the caller keeps running the loop until then. Safe
 * after a failed ms_raftlog_start. NULL is a no-op.
 */
#define MS_RAFTLOG_DRAIN_MS 2000
void ms_raftlog_close(struct ms_raftlog *log, void (*cb)(void *arg), void *arg);

#endif
