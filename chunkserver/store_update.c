/*
 * store_update: range updates of a replica (docs/formats.md, "Crash
 * safety"). The body was spooled and checked by store_write.c; here it is
 * applied under the chunk's write lock, in one of two ways:
 *
 *  - in place, when the base is the newest version held: the bytes the
 *    update is about to change are saved with the base's header as an
 *    undo file (so the base, which may still be the committed version,
 *    stays readable and is restored if the update fails or a crash
 *    interrupts it), then the replica is renamed to ".updating", changed,
 *    and renamed to the new version;
 *  - as a copy, when the base is an older version (the newer ones were
 *    written but, as the writer's lease proves, never committed): the
 *    base's bytes go into a new temporary file that is changed the same
 *    way and renamed into place, leaving every held version as it was.
 *
 * Either way the versions older than the base are dropped: the lease
 * names the base as the committed version.
 */
#include <config.h>
#include "chunkserver/store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chunkserver/replica.h"
#include "chunkserver/store_priv.h"
#include "common/crc32c.h"
#include "common/errors.h"
#include "common/log.h"

#define TMP_MODE 0644

struct update {
	struct cs_store_write *w;
	struct cs_entry *e;
	int sub_fd;
	int fd;	       /* in place: the replica renamed to ".updating";
			* copy: the new temporary file */
	bool in_place; /* else a copy */
	unsigned old_slot;
	struct cs_replica_hdr *old;
	struct cs_replica_hdr *new;
	uint64_t cut;	 /* data kept from the base: min(base_length, length) */
	uint64_t newlen; /* max(base_length, offset + body length) */
	struct cs_old *rec; /* in place: the base as an undo version; copy:
			      * the replaced newest as an older one */
	struct cs_old base; /* copy: where the base is */
	char tmp[CS_REPLICA_NAME_MAX]; /* copy: temporary name, "" once gone */
};

/* Make data bytes [from, to) read as zero. */
static int zero_range(int fd, uint64_t from, uint64_t to)
{
	uint8_t *zeros;
	int rc = 0;

	if (to <= from)
		return 0;
	if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      (off_t)(CS_REPLICA_DATA_OFFSET + from),
		      (off_t)(to - from)) == 0)
		return 0;
	if (errno != EOPNOTSUPP)
		return cs_replica_write_err(errno);
	zeros = calloc(1, RFS_CRC_BLOCK_BYTES);
	if (!zeros)
		return -ENOMEM;
	while (rc == 0 && from < to) {
		size_t n = to - from < RFS_CRC_BLOCK_BYTES
			       ? (size_t)(to - from)
			       : RFS_CRC_BLOCK_BYTES;

		rc = cs_replica_pwrite_all(
		    fd, zeros, n, (off_t)(CS_REPLICA_DATA_OFFSET + from));
		from += n;
	}
	free(zeros);
	return rc;
}

/*
 * Give the replica its new shape: space for the body reserved first (the
 * only step that fails on a full disk, and it changes no data), then the
 * base's bytes past base_length zeroed and the file cut or extended to the
 * new length.
 */
static int update_reshape(struct update *u)
{
	struct cs_store_write *w = u->w;
	uint64_t old_len = u->old->length;
	uint64_t body_end = w->offset + w->length;
	uint64_t zero_end;
	int rc;

	u->cut = w->base_length < old_len ? w->base_length : old_len;
	u->newlen = w->base_length > body_end ? w->base_length : body_end;
	zero_end = old_len < u->newlen ? old_len : u->newlen;
	rc = cs_store_reserve(u->fd, CS_REPLICA_DATA_OFFSET + w->offset,
			      w->length);
	if (rc == 0)
		rc = zero_range(u->fd, u->cut,
				zero_end < w->offset ? zero_end : w->offset);
	if (rc == 0)
		rc = zero_range(u->fd, u->cut > body_end ? u->cut : body_end,
				zero_end);
	if (rc == 0 &&
	    ftruncate(u->fd, (off_t)cs_replica_file_bytes(u->newlen)) < 0)
		rc = cs_replica_write_err(errno);
	return rc;
}

/*
 * The new CRC table: a block the update did not touch keeps its stored
 * CRC, a block the body covers exactly takes the body's (verified) CRC,
 * and any other block (partly written, zeroed or newly extended) is read
 * back and checksummed.
 */
static int update_crcs(struct update *u)
{
	struct cs_store_write *w = u->w;
	uint64_t body_end = w->offset + w->length;
	size_t n = rfs_crc_block_count(u->newlen);
	int rc = 0;

	u->new->n_blocks = (uint32_t)n;
	for (size_t b = 0; rc == 0 && b < n; b++) {
		uint64_t start = (uint64_t)b * RFS_CRC_BLOCK_BYTES;
		uint64_t end = start + RFS_CRC_BLOCK_BYTES;
		uint64_t end_new = end < u->newlen ? end : u->newlen;
		uint64_t end_old = end < u->old->length ? end : u->old->length;
		/* offset is block-aligned: a block the body touches starts
		 * at or after it. */
		bool in_body = start < body_end && end_new > w->offset;

		if (in_body && end_new == (end < body_end ? end : body_end))
			u->new->crcs[b] =
			    w->crcs[(start - w->offset) / RFS_CRC_BLOCK_BYTES];
		else if (!in_body && end_new <= u->cut && end_old == end_new)
			u->new->crcs[b] = u->old->crcs[b];
		else
			rc = cs_replica_block_crc(u->fd, u->newlen, b,
						  &u->new->crcs[b]);
	}
	return rc;
}

/* Save what the update will change of the base as its undo file. */
static int update_undo(struct update *u, bool sync)
{
	struct cs_store_write *w = u->w;
	struct cs_old *r = u->rec;

	cs_undo_range(w->offset, w->offset + w->length, w->base_length,
		      u->old->length, &r->undo_start, &r->undo_end);
	r->version = w->base;
	r->length = u->old->length;
	r->dir = w->dir;
	r->undo = true;
	r->over = w->version;
	return cs_undo_save(w->st, u->sub_fd, u->fd, u->old, w->version,
			    r->undo_start, r->undo_end, sync);
}

/* Apply the body to u->fd, which holds the base with its header in slot
 * u->old_slot; the new header goes to the other slot. */
static int update_write(struct update *u, bool sync)
{
	struct cs_store_write *w = u->w;
	int rc;

	rc = cs_replica_hdr_read_slot(u->fd, u->old_slot, u->old);
	if (rc == 0 &&
	    (u->old->chunk_id != w->id || u->old->version != w->base))
		rc = -EIO; /* the index and the file disagree */
	if (rc == 0 && u->in_place)
		rc = update_undo(u, sync);
	if (rc == 0)
		rc = update_reshape(u);
	if (rc == 0)
		rc = cs_store_copy(w->fd, 0, u->fd,
				   (off_t)(CS_REPLICA_DATA_OFFSET + w->offset),
				   w->length);
	if (rc == 0)
		rc = update_crcs(u);
	if (rc == 0 && sync)
		rc = cs_store_fsync(u->fd);
	if (rc < 0)
		return rc;
	/* Data and new checksums are durable: only now may the header (in
	 * the other slot, so the old one survives a torn write) say so. */
	u->new->seq = u->old->seq + 1;
	u->new->chunk_id = w->id;
	u->new->version = w->version;
	u->new->length = u->newlen;
	rc = cs_replica_hdr_write(u->fd, 1 - u->old_slot, u->new);
	if (rc == 0 && sync)
		rc = cs_store_fsync(u->fd);
	return rc;
}

/* After a failed in-place update: put the file back under the name of the
 * version its header holds (the changed bytes restored from the undo
 * file), exactly as recovery at start-up would, and index it. */
static void update_rollback(struct update *u)
{
	struct cs_store_write *w = u->w;
	struct cs_store *st = w->st;
	unsigned slot = 0;
	int rc;

	rc =
	    cs_store_recover_updating(u->sub_fd, w->id, w->base, u->new, &slot);
	pthread_mutex_lock(&st->mu);
	if (rc == 0)
		cs_store_entry_set(st, u->e, true, w->dir, u->new->version,
				   u->new->length, (uint8_t)slot);
	else
		cs_store_entry_set(st, u->e, false, 0, 0, 0, 0);
	pthread_mutex_unlock(&st->mu);
	if (rc < 0)
		rfs_log_error(NULL,
			      "msg=\"cannot roll back range update\" "
			      "chunk=%016llx err=%s",
			      (unsigned long long)w->id, rfs_errno_name(rc));
}

/* Names of the replica during a range update. */
struct update_names {
	char base[CS_REPLICA_NAME_MAX];
	char updating[CS_REPLICA_NAME_MAX];
	char final[CS_REPLICA_NAME_MAX];
};

static int update_in_place(struct update *u, bool sync)
{
	struct cs_store_write *w = u->w;
	struct update_names nm;
	int rc;

	cs_replica_name(w->id, w->base, NULL, nm.base);
	cs_replica_name(w->id, w->base, CS_REPLICA_SUFFIX_UPDATING,
			nm.updating);
	cs_replica_name(w->id, w->version, NULL, nm.final);
	/* From here until the final rename no file claims either version. */
	if (renameat(u->sub_fd, nm.base, u->sub_fd, nm.updating) < 0)
		return -errno;
	rc = sync ? cs_store_fsync(u->sub_fd) : 0;
	u->fd =
	    rc == 0 ? openat(u->sub_fd, nm.updating, O_RDWR | O_CLOEXEC) : -1;
	if (rc == 0 && u->fd < 0)
		rc = -errno;
	if (rc == 0)
		rc = update_write(u, sync);
	if (rc == 0 &&
	    renameat(u->sub_fd, nm.updating, u->sub_fd, nm.final) < 0)
		rc = -errno;
	if (rc < 0) {
		update_rollback(u);
		return rc;
	}
	rc = sync ? cs_store_fsync(u->sub_fd) : 0;
	pthread_mutex_lock(&w->st->mu);
	cs_store_entry_set(w->st, u->e, true, w->dir, w->version, u->newlen,
			   (uint8_t)(1 - u->old_slot));
	cs_store_old_add(w->st, u->e, u->rec);
	atomic_fetch_add(&w->st->superseded_gen, 1);
	pthread_mutex_unlock(&w->st->mu);
	u->rec = NULL;
	return rc;
}

/* Open a file of the chunk in the update's directory. */
static int open_named(struct update *u, uint32_t version, const char *suffix)
{
	char name[CS_REPLICA_NAME_MAX];
	int fd;

	cs_replica_name(u->w->id, version, suffix, name);
	fd = openat(u->sub_fd, name, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* Copy mode: the bytes of an undo version (its newer version's file with
 * the saved range on top) into u->fd, its header into slot 0. */
static int copy_undo_base(struct update *u)
{
	const struct cs_old *b = &u->base;
	int over_fd = open_named(u, b->over, NULL);
	int undo_fd = open_named(u, b->version, CS_REPLICA_SUFFIX_UNDO);
	struct stat sb;
	uint64_t n = 0;
	int rc = over_fd < 0 ? over_fd : undo_fd < 0 ? undo_fd : 0;

	if (rc == 0 && fstat(over_fd, &sb) < 0)
		rc = -errno;
	if (rc == 0 && (uint64_t)sb.st_size > CS_REPLICA_DATA_OFFSET)
		n = (uint64_t)sb.st_size - CS_REPLICA_DATA_OFFSET;
	if (n > b->length)
		n = b->length;
	if (rc == 0)
		rc = cs_store_copy(undo_fd, 0, u->fd, 0, CS_REPLICA_SLOT_BYTES);
	if (rc == 0)
		rc = cs_store_copy(over_fd, CS_REPLICA_DATA_OFFSET, u->fd,
				   CS_REPLICA_DATA_OFFSET, n);
	if (rc == 0)
		rc = cs_store_copy(
		    undo_fd, CS_REPLICA_DATA_OFFSET, u->fd,
		    (off_t)(CS_REPLICA_DATA_OFFSET + b->undo_start),
		    b->undo_end - b->undo_start);
	if (rc == 0 &&
	    ftruncate(u->fd, (off_t)cs_replica_file_bytes(b->length)) < 0)
		rc = cs_replica_write_err(errno);
	u->old_slot = 0;
	if (over_fd >= 0)
		close(over_fd);
	if (undo_fd >= 0)
		close(undo_fd);
	return rc;
}

/* Copy mode: the base's bytes and header into the new temporary file. */
static int copy_base(struct update *u)
{
	int fd;
	int rc;

	if (u->base.undo)
		return copy_undo_base(u);
	fd = open_named(u, u->base.version, NULL);
	if (fd < 0)
		return fd;
	rc = cs_store_copy(fd, 0, u->fd, 0,
			   cs_replica_file_bytes(u->base.length));
	close(fd);
	u->old_slot = u->base.slot;
	return rc;
}

static int update_copy(struct update *u, bool sync)
{
	struct cs_store_write *w = u->w;
	char final[CS_REPLICA_NAME_MAX];
	char suffix[CS_REPLICA_NAME_MAX];
	int rc;

	snprintf(suffix, sizeof(suffix), "%s%llx", CS_REPLICA_SUFFIX_TMP,
		 (unsigned long long)atomic_fetch_add(&w->st->tmp_seq, 1));
	cs_replica_name(w->id, w->version, suffix, u->tmp);
	cs_replica_name(w->id, w->version, NULL, final);
	u->fd = openat(u->sub_fd, u->tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
		       TMP_MODE);
	if (u->fd < 0) {
		u->tmp[0] = '\0';
		return cs_replica_write_err(errno);
	}
	rc = copy_base(u);
	if (rc == 0)
		rc = update_write(u, sync);
	if (rc == 0 && renameat(u->sub_fd, u->tmp, u->sub_fd, final) < 0)
		rc = -errno;
	if (rc < 0)
		return rc;
	u->tmp[0] = '\0';
	rc = sync ? cs_store_fsync(u->sub_fd) : 0;
	pthread_mutex_lock(&w->st->mu);
	cs_store_keep_current_as(w->st, u->e, u->rec);
	cs_store_entry_set(w->st, u->e, true, w->dir, w->version, u->newlen,
			   (uint8_t)(1 - u->old_slot));
	pthread_mutex_unlock(&w->st->mu);
	u->rec = NULL;
	return rc;
}

/*
 * With the chunk's write lock: check the base is still there and choose
 * the way: in place (the chunk is marked as being updated so reads of the
 * base back off) or as a copy.
 */
static int update_claim(struct update *u)
{
	struct cs_store_write *w = u->w;
	struct cs_entry *e = u->e;
	const struct cs_old *o;
	int rc = 0;

	pthread_mutex_lock(&w->st->mu);
	o = cs_store_old_find(e, w->base);
	if (!e->present)
		rc = -ENOENT;
	else if (e->version == w->base && e->dir == w->dir) {
		u->in_place = true;
		e->updating = true;
		u->old_slot = e->slot;
	} else if (o && e->version < w->version && o->dir == w->dir)
		u->base = *o;
	else
		rc = -ESTALE; /* replaced (or moved) since begin */
	pthread_mutex_unlock(&w->st->mu);
	return rc;
}

int cs_store_update_commit(struct cs_store_write *w, bool sync)
{
	struct update u = {.w = w, .sub_fd = -1, .fd = -1};
	int rc;

	u.old = malloc(sizeof(*u.old));
	u.new = malloc(sizeof(*u.new));
	u.rec = calloc(1, sizeof(*u.rec));
	rc = (u.old && u.new &&u.rec) ? cs_store_chunk_lock(w->st, w->id, &u.e)
				      : -ENOMEM;
	if (rc < 0)
		goto out_free;
	rc = update_claim(&u);
	if (rc == 0) {
		/* the lease names the base as committed: older ones are stale */
		cs_store_drop_older(w->st, u.e, w->base);
		u.sub_fd = cs_store_subdir_open(w->st, w->dir, w->id, false);
		rc = u.sub_fd < 0 ? u.sub_fd
		     : u.in_place ? update_in_place(&u, sync)
				  : update_copy(&u, sync);
	}
	if (u.tmp[0] != '\0')
		unlinkat(u.sub_fd, u.tmp, 0);
	cs_store_chunk_unlock(w->st, u.e);
	if (u.fd >= 0)
		close(u.fd);
	if (u.sub_fd >= 0)
		close(u.sub_fd);
out_free:
	free(u.rec);
	free(u.old);
	free(u.new);
	return rc;
}
