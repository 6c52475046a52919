/*
 * client: libringfs-client, the one client library used by the CLI
 * (tools/ringfs, tools/ringfs-admin) and the FUSE client. Layers:
 *
 *  1. struct rfs_client (client.c): the handle. Knows the metaserver
 *     address list, keeps a pool of keep-alive HTTP connections to it, and
 *     makes every metadata call with retries and fail-over to the next
 *     address. Thread-safe: any number of threads may share one client.
 *  2. Metadata calls (meta.c): one typed wrapper per operation of
 *     common/proto.h (lookup, create, lease, commit, layout, status...).
 *     Each returns 0 or a negative errno; the server's message for the most
 *     recent failure is kept for rfs_client_last_error().
 *  3. Paths (path.c, pure) and trees (tree.c): path normalisation and
 *     splitting, resolve, mkdir -p, recursive remove, paged readdir.
 *  4. Chunk I/O (chunkio.c): struct rfs_cio runs chunk jobs (reads of a
 *     chunk range, writes of a chunk range) over one curl multi, many at
 *     once. Writes go to every replica of the lease in parallel and are
 *     committed to the metaserver before the job completes; reads verify
 *     every 64 KiB block's CRC32C and fall back to the next replica on any
 *     error or mismatch, reporting the bad replica through a fault callback.
 *     One struct rfs_cio is used by one thread at a time (the FUSE client
 *     keeps one per worker thread).
 *  5. Transfers (upload.c, download.c, files.c): whole-file upload and
 *     download between a local fd and an inode, and the CLI's "put"/"get"
 *     policies (temp name, rename at the end, cleanup on failure) with
 *     progress callbacks.
 *  6. Formatting (format.c, pure): sizes, progress lines, fault messages.
 *
 * Nothing here prints; errors are returned, faults and progress are
 * reported through callbacks.
 */
#ifndef RFS_CLIENT_CLIENT_H
#define RFS_CLIENT_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/httpc.h"
#include "common/proto.h"

/* --- handle ---------------------------------------------------------- */

/* Metaserver address used when neither -m nor RINGFS_META is given. */
#define RFS_CLIENT_META_DEFAULT "127.0.0.1:9400"
/* Environment variable naming the metaserver address list. */
#define RFS_CLIENT_META_ENV "RINGFS_META"
/* Most metaserver addresses in one list (a 3- or 5-node Raft group). */
#define RFS_CLIENT_META_ADDRS_MAX 8
/* Chunks in flight by default: enough to keep three servers' disks busy
 * while the client reads the next chunk, small enough that buffers stay at
 * 4 x chunk size. */
#define RFS_CLIENT_PARALLEL_DEFAULT 4
#define RFS_CLIENT_PARALLEL_MAX	    64

struct rfs_client_opts {
	/* "host:port[,host:port...]" (copied); NULL = RFS_CLIENT_META_DEFAULT */
	const char *meta;
	long connect_timeout_ms; /* 0 = RFS_HTTPC_CONNECT_TIMEOUT_MS */
	long timeout_ms;	 /* 0 = RFS_HTTPC_TIMEOUT_MS */
	/*
	 * How long a metadata call keeps retrying while no metaserver answers
	 * (connection refused, unreachable, 503), cycling through the address
	 * list with backoff. 0 = one pass over the list (plus the HTTP
	 * layer's own retries of idempotent calls).
	 */
	long retry_ms;
};

struct rfs_client;

/*
 * Create a client. Does not connect yet. Returns 0, -EINVAL for a malformed
 * address list, or -ENOMEM. *out is freed with rfs_client_free().
 */
int rfs_client_new(const struct rfs_client_opts *opts, struct rfs_client **out);
void rfs_client_free(struct rfs_client *c);

/*
 * Parse "host:port[,host:port...]" into addrs[0..max). A host is a name,
 * an IPv4 address or "[v6]"; the port is 1..65535. Returns 0 with *n set,
 * -EINVAL when malformed or empty, -E2BIG for more than max addresses.
 * Pure.
 */
int rfs_client_parse_addrs(const char *list, char (*addrs)[RFS_ADDR_MAX + 1],
			   size_t max, size_t *n);

/* The metaserver address calls currently go to (copied into buf). */
void rfs_client_meta_addr(struct rfs_client *c, char *buf, size_t len);

/* The most recent failure seen through this client (by any thread). */
struct rfs_client_error {
	int err;	/* negative errno; 0 if nothing failed yet */
	bool from_meta; /* the metaserver failed (else a chunk server) */
	char addr[RFS_ADDR_MAX + 1];
	char message[RFS_ERR_MESSAGE_MAX]; /* the server's message, or "" */
};
void rfs_client_last_error(struct rfs_client *c, struct rfs_client_error *out);
/* Forget the last failure (call before an operation to report on it). */
void rfs_client_clear_error(struct rfs_client *c);

/* True when err means "could not reach the peer at all". */
bool rfs_client_err_is_unreachable(int err);

/*
 * One raw metaserver call: method + path (RFS_PATH_*), JSON body. Retries
 * and fails over as described for retry_ms; a non-idempotent call is only
 * repeated when the request provably never reached a server (connection
 * refused/unreachable) or was refused with 503. Returns 0 with the reply
 * (release it), or a negative errno with reply->status/message filled and
 * no body. Thread-safe.
 */
int rfs_client_call(struct rfs_client *c, const char *method, const char *path,
		    const char *body, size_t len, bool idempotent,
		    struct rfs_httpc_reply *reply);
/* rfs_client_call trying each address once, without the retry time (for
 * best-effort calls at shutdown, which must not wait for a dead server). */
int rfs_client_call_once(struct rfs_client *c, const char *method,
			 const char *path, const char *body, size_t len,
			 bool idempotent, struct rfs_httpc_reply *reply);

/*
 * Directory attributes that came with a namespace change's reply
 * (mkdir, rmdir, create, unlink, rename, link, symlink: the parent, for
 * rename both; struct rfs_dir_attrs in common/proto.h). Once set, cb is
 * called with them after each such successful call, from the calling
 * thread, before the call returns; d is borrowed for the call. A cache
 * of directory attributes (the FUSE mount) fills itself from it and saves
 * a getattr. An older metaserver sends none: cb is not called. Set it
 * before the client is shared between threads; cb NULL turns it off.
 */
typedef void (*rfs_client_dirs_cb)(const struct rfs_dir_attrs *d, void *arg);
void rfs_client_set_dirs_cb(struct rfs_client *c, rfs_client_dirs_cb cb,
			    void *arg);

/*
 * Every metadata request of meta.c (struct rfs_op): once set, cb is called
 * with it from the calling thread right before it is sent and again after
 * its reply (or failure). A cache of the mount (fuse-client/ncache.h)
 * forgets what a change may touch, and voids reads that overlap it. op is
 * borrowed for the call. Set it before the client is shared between
 * threads; cb NULL turns it off.
 */
typedef void (*rfs_client_op_cb)(const struct rfs_op *op, void *arg);
void rfs_client_set_op_cb(struct rfs_client *c, rfs_client_op_cb cb, void *arg);

/* File system chunk size (from statfs, cached after the first call). */
int rfs_client_chunk_size(struct rfs_client *c, uint64_t *out);

/* --- metadata calls (meta.c) ----------------------------------------- */
/*
 * All thread-safe; names are single components (checked locally with
 * rfs_proto_check_name first); out-structs may be NULL when not wanted.
 * Ownership of reply structs with heap members passes to the caller, who
 * releases them with the matching rfs_proto_*_release().
 */
struct rfs_client_setattr {
	uint32_t valid; /* RFS_SETATTR_* */
	uint32_t mode;
	uint32_t uid;
	uint32_t gid;
	uint64_t size;
	int64_t atime_ns;
	int64_t mtime_ns;
};

int rfs_client_lookup(struct rfs_client *c, uint64_t parent, const char *name,
		      struct rfs_attr *out);
int rfs_client_getattr(struct rfs_client *c, uint64_t ino,
		       struct rfs_attr *out);
int rfs_client_setattr(struct rfs_client *c, uint64_t ino,
		       const struct rfs_client_setattr *sa,
		       struct rfs_attr *out);
/* mode: permission bits (07777); the type bits are added here. */
int rfs_client_mkdir(struct rfs_client *c, uint64_t parent, const char *name,
		     uint32_t mode, uint32_t uid, uint32_t gid,
		     struct rfs_attr *out);
int rfs_client_rmdir(struct rfs_client *c, uint64_t parent, const char *name);
/* flags: RFS_CREATE_EXCL. mode: permission bits. */
int rfs_client_create(struct rfs_client *c, uint64_t parent, const char *name,
		      uint32_t mode, uint32_t uid, uint32_t gid, uint32_t flags,
		      struct rfs_attr *out);
/*
 * rfs_client_create that also asks for a write lease on chunk 0 of a new
 * file (RFS_CREATE_LEASE): one round trip instead of two for a file's
 * first write. *lease gets it, or n_replicas 0 when none came (the file
 * existed, no chunk server was up). Use it with the write options of
 * rfs_cio_pwrite_opts.
 */
int rfs_client_create_lease(struct rfs_client *c, uint64_t parent,
			    const char *name, uint32_t mode, uint32_t uid,
			    uint32_t gid, uint32_t flags, struct rfs_attr *out,
			    struct rfs_lease *lease);
int rfs_client_unlink(struct rfs_client *c, uint64_t parent, const char *name);
/* flags: RFS_RENAME_NOREPLACE / RFS_RENAME_EXCHANGE. */
int rfs_client_rename(struct rfs_client *c, uint64_t parent, const char *name,
		      uint64_t newparent, const char *newname, uint32_t flags);
/*
 * Unlinked open files (docs/fuse.md): unlink and rename sent with the
 * caller's lock session (rfs_lock_session_id; 0 = none, as the calls
 * above). When the op drops the last link of a regular file, the
 * metaserver keeps it as an orphan of that session and *orphan (may be
 * NULL) gets its inode, else 0. The caller frees an orphan with
 * rfs_client_release_orphan once it is no longer open (the metaserver
 * frees them all when the session ends). Errors as the calls above.
 */
int rfs_client_unlink_session(struct rfs_client *c, uint64_t parent,
			      const char *name, uint64_t session,
			      uint64_t *orphan);
int rfs_client_rename_session(struct rfs_client *c, uint64_t parent,
			      const char *name, uint64_t newparent,
			      const char *newname, uint32_t flags,
			      uint64_t session, uint64_t *orphan);
/* Free orphan ino of session with its chunks. Idempotent: 0 when it is
 * gone already; -EPERM (another session's), -EINVAL (not an orphan). */
int rfs_client_release_orphan(struct rfs_client *c, uint64_t ino,
			      uint64_t session);
int rfs_client_link(struct rfs_client *c, uint64_t ino, uint64_t newparent,
		    const char *newname, struct rfs_attr *out);
int rfs_client_symlink(struct rfs_client *c, uint64_t parent, const char *name,
		       const char *target, uint32_t uid, uint32_t gid,
		       struct rfs_attr *out);
/* The target in out->data (NUL-terminated), out->len bytes. */
int rfs_client_readlink(struct rfs_client *c, uint64_t ino,
			struct rfs_value_reply *out);
/* One page of entries after cookie (0 = from the start); limit 0 = max. */
int rfs_client_readdir(struct rfs_client *c, uint64_t ino, uint64_t cookie,
		       uint32_t limit, struct rfs_readdir_reply *out);
/*
 * The same, each entry but "." and ".." also with its attributes (one
 * round trip for names and attributes). An entry may still come without
 * (has_attr false: an older metaserver, or it vanished meanwhile); the
 * caller then asks for them itself. Errors as rfs_client_readdir.
 */
int rfs_client_readdirplus(struct rfs_client *c, uint64_t ino, uint64_t cookie,
			   uint32_t limit, struct rfs_readdir_reply *out);
int rfs_client_statfs(struct rfs_client *c, struct rfs_statfs *out);
/* flags: RFS_XATTR_CREATE / RFS_XATTR_REPLACE. */
int rfs_client_setxattr(struct rfs_client *c, uint64_t ino, const char *name,
			const void *value, size_t len, uint32_t flags);
int rfs_client_getxattr(struct rfs_client *c, uint64_t ino, const char *name,
			struct rfs_value_reply *out);
/* NUL-separated names, as listxattr(2). */
int rfs_client_listxattr(struct rfs_client *c, uint64_t ino,
			 struct rfs_value_reply *out);
int rfs_client_removexattr(struct rfs_client *c, uint64_t ino,
			   const char *name);
/* Server-side resolution of a normalised absolute path. */
int rfs_client_resolve_op(struct rfs_client *c, const char *path,
			  struct rfs_attr *out);
/* Write lease on chunk (ino, index). Not idempotent (bumps the version). */
int rfs_client_lease(struct rfs_client *c, uint64_t ino, uint64_t index,
		     struct rfs_lease *out);
/* Commit a written chunk with the replicas that acknowledged it. */
int rfs_client_commit(struct rfs_client *c, uint64_t ino, uint64_t index,
		      uint64_t chunk_id, uint32_t version, uint64_t length,
		      const struct rfs_replica *replicas, uint32_t n);
/* The same; sa (may be NULL; borrowed) is a setattr without
 * RFS_SETATTR_SIZE applied after the commit in the same metaserver log
 * entry (-EINVAL with the size bit); out (may be NULL) gets the file's
 * attributes after both, as the metaserver replies them. */
int rfs_client_commit_attr(struct rfs_client *c, uint64_t ino, uint64_t index,
			   uint64_t chunk_id, uint32_t version, uint64_t length,
			   const struct rfs_replica *replicas, uint32_t n,
			   const struct rfs_client_setattr *sa,
			   struct rfs_attr *out);
/* Chunks covering [offset, offset + size) (size 0 = to the end). */
int rfs_client_layout(struct rfs_client *c, uint64_t ino, uint64_t offset,
		      uint64_t size, struct rfs_layout *out);
int rfs_client_status(struct rfs_client *c, struct rfs_status *out);

/* --- lock sessions and cluster-wide locks (lock.c) -------------------- */
/*
 * A lock session with the metaserver: flock and POSIX byte-range locks
 * that every client of the cluster sees (docs/protocol.md, "Locks").
 * The session lapses, releasing its locks, unless renewed within its
 * lease (rfs_lock_session_lease_ms; renew every third of it). The
 * session keeps a copy of the locks it holds: when the metaserver no
 * longer knows the session (it restarted, or the lease ran out) any call
 * opens a new one and reclaims them; a reclaim the metaserver refuses
 * (after its grace period, or held by someone else meanwhile) drops that
 * lock, counted as lost. All functions are thread-safe; one mutex orders
 * the session's requests.
 *
 * Requests are struct rfs_lock (common/proto.h) with session and reclaim
 * ignored: ino, kind, owner, type (RFS_LOCK_UN unlocks), start..end
 * inclusive (RFS_LOCK_EOF: to the end; flock: 0..RFS_LOCK_EOF), pid.
 */
struct rfs_lock_session;

/* A session handle on client c (borrowed; must outlive it). No I/O: the
 * first call opens the session. Returns 0 or -ENOMEM. */
int rfs_lock_session_new(struct rfs_client *c, struct rfs_lock_session **out);

/*
 * Open the session if needed and renew its lease (reopening and
 * reclaiming when the metaserver lost it). *lost (may be NULL) gets the
 * locks dropped by refused reclaims since the last renew. Returns 0 or a
 * negative errno (metaserver unreachable: call again later).
 */
int rfs_lock_session_renew(struct rfs_lock_session *s, size_t *lost);

/* The lease the metaserver granted, 0 while no session was opened. */
uint32_t rfs_lock_session_lease_ms(struct rfs_lock_session *s);

/*
 * The session id to send with unlink and rename (orphans), 0 while none
 * is open. When the metaserver loses the session, it is reopened under
 * the same id where possible, so orphans kept for it survive.
 */
uint64_t rfs_lock_session_id(struct rfs_lock_session *s);

/*
 * Take, change or release (RFS_LOCK_UN) a lock; never waits for a
 * conflicting lock. Returns 0, -EAGAIN (another owner holds a conflicting
 * lock, or the metaserver's grace period after a restart refuses new
 * locks: try again later), -ENOLCK (too many locks), -EINVAL, -ENOMEM or
 * a transport error.
 */
int rfs_lock_set(struct rfs_lock_session *s, const struct rfs_lock *r);

/*
 * F_GETLK: *holder gets the first lock of another owner that conflicts
 * with r (type, start, end, pid), or type RFS_LOCK_UN when there is none.
 */
int rfs_lock_test(struct rfs_lock_session *s, const struct rfs_lock *r,
		  struct rfs_lock *holder);

/*
 * Release every lock of (ino, kind, owner), as close() does; no request
 * is sent when the session holds none. The locks are forgotten even when
 * the request fails (the error is returned): a released lock is never
 * reclaimed.
 */
int rfs_lock_release(struct rfs_lock_session *s, uint64_t ino, uint32_t kind,
		     uint64_t owner);

/* Close the session (the metaserver releases all its locks; one try per
 * address, no waiting for a dead metaserver) and free s.
 * Returns the close request's result; s is freed anyway. NULL: 0. */
int rfs_lock_session_free(struct rfs_lock_session *s);

/* --- paths (path.c, pure) -------------------------------------------- */
/*
 * Normalise a remote path: relative paths start at "/", "//" and "." are
 * collapsed, ".." removes the previous component (never above "/"), no
 * trailing '/'. Every component is checked with rfs_proto_check_name.
 * Returns 0, -ENAMETOOLONG (component or whole path too long, or out too
 * small) or -EINVAL (empty path).
 */
int rfs_path_normalize(const char *in, char *out, size_t outlen);

/*
 * Split a normalised path into its parent path and last component.
 * Returns 0, -EINVAL for "/" (no parent), -ENAMETOOLONG if a buffer is too
 * small.
 */
int rfs_path_split(const char *path, char *parent, size_t plen, char *name,
		   size_t nlen);

/*
 * Last component of a local or remote path, ignoring trailing slashes
 * ("a/b/" -> "b", "/" -> "/"). Returns 0 or -ENAMETOOLONG.
 */
int rfs_path_basename(const char *path, char *out, size_t outlen);

/* dir + "/" + name without doubling '/'. Returns 0 or -ENAMETOOLONG. */
int rfs_path_join(const char *dir, const char *name, char *out, size_t outlen);

/* --- trees (tree.c) --------------------------------------------------- */

/* Attributes of the inode at a remote path (normalised here). */
int rfs_client_resolve(struct rfs_client *c, const char *path,
		       struct rfs_attr *out);

/*
 * Resolve the parent directory of a remote path and return the last
 * component in name. -EINVAL for "/", -ENOTDIR if the parent is not a
 * directory.
 */
int rfs_client_resolve_parent(struct rfs_client *c, const char *path,
			      struct rfs_attr *parent,
			      char name[RFS_NAME_MAX + 1]);

/*
 * mkdir -p: create every missing directory of path (mode: permission
 * bits). An existing directory is success; an existing non-directory is
 * -ENOTDIR/-EEXIST. out gets the last directory's attributes.
 */
int rfs_client_mkdir_p(struct rfs_client *c, const char *path, uint32_t mode,
		       uint32_t uid, uint32_t gid, struct rfs_attr *out);

/* Every entry of a directory (all pages, without "." and ".."); *out is
 * malloc'd (free it), possibly NULL when *n == 0. */
int rfs_client_readdir_all(struct rfs_client *c, uint64_t ino,
			   struct rfs_dirent **out, size_t *n);

/* rm -r: remove name in parent and, if it is a directory, all below it. */
int rfs_client_remove_tree(struct rfs_client *c, uint64_t parent,
			   const char *name);

/* --- chunk I/O (chunkio.c) ------------------------------------------- */

/* A read of a big chunk is split into pieces of at most this size, spread
 * over the replicas and connections. 8 MiB: large enough that per-request
 * overhead is < 1 %, small enough to spread a 64 MiB chunk over 8
 * connections. A multiple of RFS_CRC_BLOCK_BYTES. */
#define RFS_CIO_READ_PIECE_BYTES (8u << 20)

/* A replica that failed a job (reported whether or not another one served
 * it). */
struct rfs_cio_fault {
	bool write; /* a write (else a read) */
	uint64_t chunk_id;
	uint32_t version;
	const struct rfs_replica *replica; /* the failing replica */
	int err;			   /* negative errno; -EBADMSG: CRC */
	int64_t block;	     /* chunk block with the bad CRC, else -1 */
	const char *message; /* server or local message, never NULL */
	/* read: the replica that served instead, NULL if none did */
	const struct rfs_replica *used;
};
typedef void (*rfs_cio_fault_cb)(const struct rfs_cio_fault *f, void *arg);

struct rfs_sync_set;

enum rfs_cio_kind {
	RFS_CIO_READ = 0,
	RFS_CIO_WRITE,
};

/*
 * One job: read or write buf[0..len) at byte `offset` within one chunk.
 *
 * Read: chunk is the committed chunk from a layout (borrowed until done),
 * or NULL for a hole. Any offset/len is allowed: the job fetches the
 * enclosing block-aligned range (directly into buf when it is aligned),
 * checks every block's CRC, and zero-fills what lies past chunk->length.
 * offset + len must not exceed the chunk size.
 *
 * Write: ino/index name the chunk. The job takes a lease, sends the data to
 * every leased replica in parallel and commits the replicas that acked;
 * the chunk's new length is max(previous length, offset + len). offset == 0
 * with len covering the old length replaces the whole chunk; anything else
 * is a range update on the previous version, with the partial edge blocks
 * read back first (read-modify-write), so any offset/len is allowed.
 * Nothing is committed when no replica acked.
 *
 * Write options: with no_sync the PUTs of whole chunks carry
 * X-Ringfs-Sync: 0 (the chunk servers do not fsync; see rfs_cio_sync) and
 * the address of every replica that stored the data is added to
 * *unsynced. Range updates stay synced: they change a replica holding
 * committed data in place, and a power loss before the sync could leave
 * every replica's untouched bytes of the edge blocks unreadable. lease, when set, is
 * a lease already held on (ino, index) (from a create that asked for
 * one): it is used instead of asking the metaserver, and consumed (its
 * n_replicas set to 0) when the job starts.
 */
struct rfs_cio_job {
	/* in */
	enum rfs_cio_kind kind;
	const struct rfs_chunk *chunk; /* read */
	uint64_t ino;		       /* write */
	uint64_t index;		       /* write */
	uint64_t offset;	       /* within the chunk */
	void *buf;		       /* read: filled; write: only read */
	size_t len;
	void *user;		       /* for the caller */
	bool no_sync;		       /* write: no fsync on the servers */
	struct rfs_sync_set *unsynced; /* write with no_sync: grows */
	struct rfs_lease *lease;       /* write: held lease, or NULL */
	/* write: attributes to set with the commit, or NULL (borrowed) */
	const struct rfs_client_setattr *setattr;
	/* out, valid in the done callback */
	int result;		/* 0 or negative errno */
	bool zero;		/* read: no transfer, buf zero-filled */
	uint64_t chunk_id;	/* the chunk read or written */
	uint32_t version;	/* read: version read; write: committed */
	uint64_t chunk_length;	/* write: committed length */
	unsigned int n_acked;	/* write: replicas that stored the data */
	unsigned int n_targets; /* write: replicas in the lease */
	struct rfs_attr attr;	/* write: file after the commit (ino 0:
				 * not known) */
	/* private to chunkio.c */
	struct rfs_cio_state *state;
};

/*
 * Job source: return the next job to start, or NULL when there is none
 * right now. Called whenever fewer than the maximum jobs run; called again
 * after every completion, so an ordered consumer may return NULL while it
 * waits for an earlier job.
 */
typedef struct rfs_cio_job *(*rfs_cio_next_cb)(void *arg);
/* A job finished (job->result); its buffer may be reused from here on. */
typedef void (*rfs_cio_done_cb)(struct rfs_cio_job *job, void *arg);

struct rfs_cio;

/*
 * A chunk I/O engine over one curl multi. max_jobs: jobs in flight at once
 * (0 = RFS_CLIENT_PARALLEL_DEFAULT, at most RFS_CLIENT_PARALLEL_MAX x 4).
 * c is borrowed and must outlive the engine. Returns NULL only on OOM.
 * Not thread-safe: one thread uses an engine at a time.
 */
struct rfs_cio *rfs_cio_new(struct rfs_client *c, unsigned int max_jobs);
void rfs_cio_free(struct rfs_cio *io);

/* Report replica faults to cb (may be NULL). */
void rfs_cio_set_fault_cb(struct rfs_cio *io, rfs_cio_fault_cb cb, void *arg);

/*
 * Pull jobs from next() and run them, up to max_jobs at once, calling
 * done() once per job, until next() returns NULL with nothing in flight.
 * Leases and commits are synchronous metaserver calls made from inside
 * the run. Job failures are reported through job->result, not here:
 * returns 0, or -ENOMEM/-EIO when the engine itself failed (then jobs
 * still in flight are completed with that error).
 */
int rfs_cio_run(struct rfs_cio *io, rfs_cio_next_cb next, rfs_cio_done_cb done,
		void *arg);

/*
 * Read [offset, offset + len) of a file through a layout that covers it
 * (rfs_client_layout), all chunk pieces in parallel. Bytes past
 * layout->size are not read. Returns the byte count or a negative errno.
 */
ssize_t rfs_cio_pread(struct rfs_cio *io, const struct rfs_layout *layout,
		      uint64_t offset, void *buf, size_t len);

/*
 * Write buf to [offset, offset + len) of file ino, chunk by chunk in
 * parallel (leases, replicas, commits as for jobs). Returns len, or a
 * negative errno (then some chunks may be committed and others not).
 */
ssize_t rfs_cio_pwrite(struct rfs_cio *io, uint64_t ino, uint64_t chunk_size,
		       uint64_t offset, const void *buf, size_t len);

/* Options of rfs_cio_pwrite_opts (see struct rfs_cio_job). */
struct rfs_cio_wopts {
	bool no_sync;
	struct rfs_sync_set *unsynced; /* with no_sync; must not be NULL */
	struct rfs_lease *lease;       /* used by the job of its chunk */
	/* out (may be NULL): the file after the last commit; ino 0 when
	 * no commit said */
	struct rfs_attr *attr;
	/* attributes (no size) set by the commit of a write that lies
	 * within one chunk, in the same log entry; ignored (NULL it, and
	 * set them apart) when the write spans chunks. May be NULL. */
	const struct rfs_client_setattr *setattr;
};

/* rfs_cio_pwrite with options. */
ssize_t rfs_cio_pwrite_opts(struct rfs_cio *io, uint64_t ino,
			    uint64_t chunk_size, uint64_t offset,
			    const void *buf, size_t len,
			    const struct rfs_cio_wopts *o);

/*
 * Chunk servers that stored data without fsync (a set of addresses, no
 * duplicates). Zero-initialise; rfs_sync_set_release frees it.
 */
struct rfs_sync_set {
	char (*addr)[RFS_ADDR_MAX + 1]; /* malloc'd, n entries */
	size_t n;
	size_t cap;
};
/* Add addr unless present. Returns 0 or -ENOMEM. */
int rfs_sync_set_add(struct rfs_sync_set *s, const char *addr);
/* Add every address of from (from is unchanged). 0 or -ENOMEM. */
int rfs_sync_set_merge(struct rfs_sync_set *s, const struct rfs_sync_set *from);
/* Free the addresses; s is empty afterwards. */
void rfs_sync_set_release(struct rfs_sync_set *s);

/*
 * Make durable what the servers of s stored without fsync: POST
 * RFS_PATH_SYNC to all of them in parallel on io. Returns 0 when every
 * one answered, else the first error (-EIO, a transport error...); s is
 * not changed. Not to be called from inside rfs_cio_run.
 */
int rfs_cio_sync(struct rfs_cio *io, const struct rfs_sync_set *s);

/* --- ranges (range.c, pure) ------------------------------------------ */

/* A block-aligned range to fetch for reading [offset, offset + len) of a
 * chunk holding `length` bytes (the layout's length: a replica may hold
 * more, bytes past `length` read as zeros). */
struct rfs_range_fetch {
	uint64_t data_end; /* min(offset + len, length): end of real data */
	uint64_t start;	   /* offset rounded down to a block */
	uint64_t end;	   /* data_end rounded up to a block (the server
			    * clips it to the replica's end) */
	bool direct;	   /* start == offset and end <= offset + len: the
			    * fetch fits the caller's buffer */
};
/* Plan a chunk read; false when nothing needs fetching (all zeros). */
bool rfs_range_plan_read(uint64_t offset, uint64_t len, uint64_t length,
			 struct rfs_range_fetch *out);

/* A write of [offset, offset + len) over a chunk of prev_length bytes. */
struct rfs_range_write {
	uint64_t start;	     /* first byte sent (block-aligned) */
	uint64_t end;	     /* one past the last byte sent */
	uint64_t new_length; /* chunk length after the write */
	bool whole;	     /* a full replacement (no base version) */
	bool direct;	     /* start..end == offset..offset + len */
	/* old blocks to read back into the send buffer first: start offsets
	 * within the chunk and lengths (0 = none) */
	uint64_t head_off;
	uint64_t head_len;
	uint64_t tail_off;
	uint64_t tail_len;
};
/*
 * Plan a chunk write. has_base: a previous version exists (prev_length may
 * still be 0). Without a base the write is whole, zero-filled before
 * offset.
 */
void rfs_range_plan_write(uint64_t offset, uint64_t len, bool has_base,
			  uint64_t prev_length, struct rfs_range_write *out);

/*
 * The next piece of a sequential file read: at file offset pos (< size),
 * reading at most piece bytes, without crossing a chunk boundary.
 */
uint64_t rfs_range_piece_len(uint64_t pos, uint64_t size, uint64_t chunk_size,
			     uint64_t piece);

/* The chunk with this index in a layout (binary search), NULL for a hole
 * or an index the layout does not cover. */
const struct rfs_chunk *rfs_layout_find(const struct rfs_layout *l,
					uint64_t index);

/* --- transfers (upload.c, download.c, files.c) ----------------------- */

/* Bytes done so far of total (0 = unknown). */
typedef void (*rfs_progress_cb)(uint64_t done, uint64_t total, void *arg);

struct rfs_transfer_opts {
	unsigned int parallel; /* chunks in flight; 0 = default */
	rfs_progress_cb progress;
	void *progress_arg;
	rfs_cio_fault_cb fault;
	void *fault_arg;
	uint32_t uid; /* owner of created files and directories */
	uint32_t gid;
};

/* What a transfer did (for reporting). */
struct rfs_transfer_stats {
	uint64_t bytes;		   /* bytes committed / delivered */
	uint64_t chunks;	   /* chunk jobs that succeeded */
	uint64_t under_replicated; /* write: chunks acked by fewer replicas
				    * than the lease named */
	unsigned int min_acked;	   /* write: fewest replicas of any chunk */
};

/*
 * Upload everything read from fd (until EOF; a pipe works) into the empty
 * file ino, whole chunks in parallel, each committed. size_hint is the
 * expected total for progress (0 = unknown). stats may be NULL. Buffers:
 * parallel x chunk size; data is read() straight into the buffer the
 * upload sends from.
 */
int rfs_transfer_upload(struct rfs_client *c, int fd, uint64_t ino,
			uint64_t size_hint, const struct rfs_transfer_opts *o,
			struct rfs_transfer_stats *stats);

/*
 * Download file ino into fd. A regular file (not O_APPEND) is written with
 * pwrite at its current offset by a writer thread that overlaps the disk
 * with the network, pieces in any order, holes past its old end skipped
 * and the size set with ftruncate; the offset then moves past the data.
 * Anything else (pipe, terminal) gets ordered write()s. Every
 * block's CRC is checked; a bad replica is reported and another used.
 * Buffers: about parallel x chunk size. stats may be NULL.
 */
int rfs_transfer_download(struct rfs_client *c, uint64_t ino, int fd,
			  const struct rfs_transfer_opts *o,
			  struct rfs_transfer_stats *stats);

/*
 * put: upload fd as name in directory parent with permission bits mode.
 * The data goes to ".<name>.ringfs-part-<8 hex>" in the same directory,
 * renamed over name only after every chunk is committed; on failure the
 * temp file is removed, so no half file is ever visible. out (may be NULL)
 * gets the final attributes.
 */
int rfs_transfer_put(struct rfs_client *c, int fd, uint64_t size_hint,
		     uint64_t parent, const char *name, uint32_t mode,
		     const struct rfs_transfer_opts *o, struct rfs_attr *out,
		     struct rfs_transfer_stats *stats);

/*
 * get: download inode ino (attr from a lookup) into the local path
 * local_path through a temp file in the same local directory, renamed into
 * place at the end (mode = attr's rwx bits); removed on failure. An
 * existing local_path that is not a regular file (/dev/null, a fifo) is
 * written in place instead; a symlink is followed to the file it names;
 * a directory is -EISDIR.
 */
int rfs_transfer_get(struct rfs_client *c, const struct rfs_attr *attr,
		     const char *local_path, const struct rfs_transfer_opts *o,
		     struct rfs_transfer_stats *stats);

/* Temp name used by put/get: ".<name>.ringfs-part-<8 hex of rnd>". */
int rfs_transfer_temp_name(const char *name, uint32_t rnd, char *out,
			   size_t outlen);

/* --- formatting (format.c, pure) ------------------------------------- */

/* "0 B", "1023 B", "1.50 KiB", "10.0 MiB", "200 GiB" (3 significant
 * digits above 1 KiB). Returns out. */
char *rfs_format_size(uint64_t bytes, char *out, size_t outlen);

/*
 * One progress line, at most width columns (>= 40):
 *   "name  [#####.....]  45%  460 MiB/1.00 GiB  312.4 MB/s  ETA 0:02"
 * total 0 = unknown (no bar, percent or ETA). elapsed_s > 0 for a rate.
 * Returns out.
 */
char *rfs_format_progress(const char *label, uint64_t done, uint64_t total,
			  double elapsed_s, unsigned int width, char *out,
			  size_t outlen);

/*
 * A fault as one line, e.g. "chunk 000000000000002a v1: checksum mismatch
 * in block 3 on cs2 (127.0.0.1:9502); used cs3 instead". Returns out.
 */
char *rfs_format_fault(const struct rfs_cio_fault *f, char *out, size_t outlen);

/* "drwxr-xr-x" style mode string (10 chars + NUL) into out[11]. */
void rfs_format_mode(uint32_t mode, char out[11]);

#endif
