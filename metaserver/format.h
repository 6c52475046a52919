/*
 * format: the metadata directory of one metaserver. `ringfs-meta --format
 * DIR` creates it; every start checks it. Layout (docs/formats.md,
 * "Metadata directory"):
 *
 *   DIR/ringfs-format   "key = value" text: format version, fsid, chunk
 *                       size, goal, creation time, raft id. Written last,
 *                       atomically (temp file, fsync, rename, fsync DIR):
 *                       a directory without it is not formatted.
 *   DIR/raft/           libraft's files (metadata1/2, log segments,
 *                       snapshots), bootstrapped with a one-voter
 *                       configuration at format time.
 *
 * Not thread-safe; called from main() before the loop runs.
 */
#ifndef RFS_METASERVER_FORMAT_H
#define RFS_METASERVER_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "metaserver/fsm.h"

#define MS_FORMAT_FILE	   "ringfs-format"
#define MS_FORMAT_RAFT_DIR "raft"
/* Bumped whenever the layout above changes incompatibly. */
#define MS_FORMAT_VERSION 1
/* Raft id of the node that formats the directory (the first voter). */
#define MS_FORMAT_FIRST_RAFT_ID 1

/* What the format file records. */
struct ms_format_info {
	struct ms_fsm_format fmt;
	uint32_t version;
	uint64_t raft_id;
};

/*
 * Check format parameters: chunk_size a power of two within
 * RFS_CHUNK_SIZE_MIN..RFS_CHUNK_SIZE_MAX, goal 1..RFS_MAX_REPLICAS.
 * Returns 0 or -EINVAL with err saying what is wrong.
 */
int ms_format_check_params(uint64_t chunk_size, uint32_t goal, char *err,
			   size_t errlen);

/*
 * Format dir (created if missing; refused with -EEXIST when it is already
 * formatted or not empty): bootstrap the raft configuration with this
 * node (MS_FORMAT_FIRST_RAFT_ID at raft_addr), pick a new fsid (uuid v4)
 * and write the format file. On success *out (may be NULL) gets what was
 * written. Returns 0, -EINVAL, -EEXIST or another negative errno, with
 * err saying what failed and what to do.
 */
int ms_format_create(const char *dir, uint64_t chunk_size, uint32_t goal,
		     const char *raft_addr, struct ms_format_info *out,
		     char *err, size_t errlen);

/*
 * Read and check dir's format file. Returns 0; -ENOENT when dir does not
 * exist or is not formatted; -EPROTO when the file is foreign, damaged or
 * of an unsupported version; err names the problem and the command that
 * formats a directory.
 */
int ms_format_load(const char *dir, struct ms_format_info *out, char *err,
		   size_t errlen);

/*
 * Take an exclusive lock on dir's format file so that two metaservers
 * never share a directory. On success *fd holds the lock until closed.
 * Returns 0, -EBUSY (locked by another process) or another negative errno.
 */
int ms_format_lock(const char *dir, int *fd, char *err, size_t errlen);

/* Path of the raft directory inside dir. Returns 0 or -ENAMETOOLONG. */
int ms_format_raft_dir(const char *dir, char *out, size_t outlen);

/* A new random uuid v4 in text form. Returns 0 or -EIO. */
int ms_format_new_fsid(char out[RFS_FSID_MAX + 1]);

#endif
