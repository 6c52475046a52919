/*
 * store_ver: the older versions a chunk server keeps beside the newest
 * version of a chunk (docs/chunkserver.md, "Versions"): their index
 * entries, the undo files of versions a range update rewrote in place,
 * deletes, and the inventories the metaserver judges them by.
 */
#include <config.h>
#include "chunkserver/store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chunkserver/replica.h"
#include "chunkserver/store_priv.h"
#include "common/errors.h"
#include "common/log.h"

#define UNDO_MODE 0644

/* --- index ---------------------------------------------------------- */
uint64_t cs_old_file_bytes(const struct cs_old *o)
{
	return CS_REPLICA_DATA_OFFSET +
	       (o->undo ? o->undo_end - o->undo_start : o->length);
}

struct cs_old *cs_store_old_find(const struct cs_entry *e, uint32_t version)
{
	struct cs_old *o = e->old;

	while (o && o->version != version)
		o = o->next;
	return o;
}

void cs_store_old_add(struct cs_store *st, struct cs_entry *e, struct cs_old *o)
{
	struct cs_old **pp = &e->old;

	if (!e->old)
		st->n_multi++;
	while (*pp && (*pp)->version > o->version)
		pp = &(*pp)->next;
	o->next = *pp;
	*pp = o;
	st->n_versions++;
	st->used_bytes += cs_old_file_bytes(o);
}

/* With st->mu held: take o out of e's list and the totals. */
static void old_detach(struct cs_store *st, struct cs_entry *e,
		       struct cs_old *o)
{
	struct cs_old **pp = &e->old;

	while (*pp != o)
		pp = &(*pp)->next;
	*pp = o->next;
	o->next = NULL;
	if (!e->old)
		st->n_multi--;
	st->n_versions--;
	st->used_bytes -= cs_old_file_bytes(o);
}

/* A record of e's current version as a full older one; NULL on OOM. */
static struct cs_old *current_as_old(const struct cs_entry *e)
{
	struct cs_old *o = calloc(1, sizeof(*o));

	if (!o)
		return NULL;
	o->version = e->version;
	o->length = e->length;
	o->dir = e->dir;
	o->slot = e->slot;
	return o;
}

void cs_store_keep_current_as(struct cs_store *st, struct cs_entry *e,
			      struct cs_old *o)
{
	memset(o, 0, sizeof(*o));
	o->version = e->version;
	o->length = e->length;
	o->dir = e->dir;
	o->slot = e->slot;
	cs_store_entry_set(st, e, false, 0, 0, 0, 0);
	cs_store_old_add(st, e, o);
	atomic_fetch_add(&st->superseded_gen, 1);
}

int cs_store_keep_current(struct cs_store *st, struct cs_entry *e)
{
	struct cs_old *o = malloc(sizeof(*o));

	if (!o)
		return -ENOMEM;
	cs_store_keep_current_as(st, e, o);
	return 0;
}

/* Remove the file of a version (an undo file for an undo version). */
static int remove_file(struct cs_store *st, uint64_t id, uint32_t version,
		       uint16_t dir, bool undo)
{
	char name[CS_REPLICA_NAME_MAX];
	int sub_fd = cs_store_subdir_open(st, dir, id, false);
	int rc = 0;

	if (sub_fd < 0)
		return sub_fd;
	cs_replica_name(id, version, undo ? CS_REPLICA_SUFFIX_UNDO : NULL,
			name);
	if (unlinkat(sub_fd, name, 0) < 0)
		rc = -errno;
	if (rc == 0)
		rc = cs_store_fsync(sub_fd);
	close(sub_fd);
	if (rc < 0)
		rfs_log_warn(NULL,
			     "msg=\"cannot remove replica file\" file=%s "
			     "err=%s",
			     name, rfs_errno_name(rc));
	return rc;
}

/* Remove and free a detached list of older versions. */
static void remove_olds(struct cs_store *st, uint64_t id, struct cs_old *list)
{
	while (list) {
		struct cs_old *next = list->next;

		remove_file(st, id, list->version, list->dir, list->undo);
		free(list);
		list = next;
	}
}

/* With st->mu held: detach the older versions matching (below, over_of)
 * onto *out: those below `below`, and undo versions over `over_of`. */
static void detach_matching(struct cs_store *st, struct cs_entry *e,
			    uint32_t below, uint32_t over_of,
			    struct cs_old **out)
{
	struct cs_old *o = e->old;

	while (o) {
		struct cs_old *next = o->next;

		if (o->version < below || (o->undo && o->over == over_of)) {
			old_detach(st, e, o);
			o->next = *out;
			*out = o;
		}
		o = next;
	}
}

void cs_store_drop_older(struct cs_store *st, struct cs_entry *e,
			 uint32_t below)
{
	struct cs_old *gone = NULL;

	pthread_mutex_lock(&st->mu);
	detach_matching(st, e, below, 0, &gone);
	pthread_mutex_unlock(&st->mu);
	remove_olds(st, e->id, gone);
}

/* --- delete ----------------------------------------------------------- */
/*
 * With st->mu held: forget version `version` of e, with the undo versions
 * that depend on its file; *gone gets them (and a record of the version
 * itself) to remove. The newest older version takes the place of a
 * deleted newest one.
 */
static int delete_index(struct cs_store *st, struct cs_entry *e,
			uint32_t version, struct cs_old **gone)
{
	struct cs_old *o;

	if (!e->present)
		return -ENOENT;
	if (e->version == version) {
		o = current_as_old(e);
		if (!o)
			return -ENOMEM;
		detach_matching(st, e, 0, version, gone);
		o->next = *gone;
		*gone = o;
		/* The newest one left is full: undos over the current went. */
		o = e->old;
		if (!o) {
			cs_store_entry_set(st, e, false, 0, 0, 0, 0);
			return 0;
		}
		old_detach(st, e, o);
		cs_store_entry_set(st, e, true, o->dir, o->version, o->length,
				   o->slot);
		free(o);
		return 0;
	}
	o = cs_store_old_find(e, version);
	if (!o)
		return -ESTALE;
	if (!o->undo)
		detach_matching(st, e, 0, version, gone);
	old_detach(st, e, o);
	o->next = *gone;
	*gone = o;
	return 0;
}

/*
 * Before an older version goes (the chunk's write lock held): make the
 * newest one durable, which may have been stored without sync, so that a
 * power loss leaves the old or the new version, never neither. Best
 * effort: a failure is logged and the delete goes on.
 */
static void sync_newest(struct cs_store *st, struct cs_entry *e,
			uint32_t version)
{
	char name[CS_REPLICA_NAME_MAX];
	uint32_t newest;
	uint16_t dir;
	bool older;
	int sub_fd;
	int fd = -1;

	pthread_mutex_lock(&st->mu);
	older = e->present && version < e->version;
	newest = e->version;
	dir = e->dir;
	pthread_mutex_unlock(&st->mu);
	if (!older)
		return;
	sub_fd = cs_store_subdir_open(st, dir, e->id, false);
	if (sub_fd >= 0) {
		cs_replica_name(e->id, newest, NULL, name);
		fd = openat(sub_fd, name, O_RDONLY | O_CLOEXEC);
	}
	if (fd < 0 || cs_store_fsync(fd) < 0 || cs_store_fsync(sub_fd) < 0)
		rfs_log_warn(NULL,
			     "msg=\"cannot sync the newest version before "
			     "deleting an older one\" chunk=%016llx version=%u",
			     (unsigned long long)e->id, newest);
	if (fd >= 0)
		close(fd);
	if (sub_fd >= 0)
		close(sub_fd);
}

int cs_store_delete(struct cs_store *st, uint64_t chunk_id, uint32_t version)
{
	struct cs_old *gone = NULL;
	struct cs_entry *e;
	int rc;

	rc = cs_store_chunk_lock(st, chunk_id, &e);
	if (rc < 0)
		return rc;
	sync_newest(st, e, version);
	/* Readers stop finding them before the files go away. */
	pthread_mutex_lock(&st->mu);
	rc = delete_index(st, e, version, &gone);
	pthread_mutex_unlock(&st->mu);
	remove_olds(st, chunk_id, gone);
	cs_store_chunk_unlock(st, e);
	return rc;
}

/* --- inventories ------------------------------------------------------ */
/* With st->mu held: append every version of e to inv (room is there). */
static void inv_add_entry(const struct cs_entry *e, struct rfs_inventory *inv)
{
	struct rfs_inv_entry *v = &inv->entries[inv->n++];

	v->chunk_id = e->id;
	v->version = e->version;
	v->length = e->length;
	for (const struct cs_old *o = e->old; o; o = o->next) {
		v = &inv->entries[inv->n++];
		v->chunk_id = e->id;
		v->version = o->version;
		v->length = o->length;
	}
}

/* Every version held (only of chunks with older versions: multi_only). */
static int versions_list(struct cs_store *st, bool multi_only,
			 struct rfs_inventory *inv)
{
	memset(inv, 0, sizeof(*inv));
	pthread_mutex_lock(&st->mu);
	inv->entries =
	    calloc(st->n_versions ? st->n_versions : 1, sizeof(*inv->entries));
	if (!inv->entries) {
		pthread_mutex_unlock(&st->mu);
		return -ENOMEM;
	}
	for (size_t b = 0; b < st->n_buckets; b++) {
		for (struct cs_entry *e = st->buckets[b]; e; e = e->next) {
			if (e->present && (!multi_only || e->old))
				inv_add_entry(e, inv);
		}
	}
	pthread_mutex_unlock(&st->mu);
	return 0;
}

int cs_store_inventory(struct cs_store *st, struct rfs_inventory *inv)
{
	return versions_list(st, false, inv);
}

int cs_store_superseded(struct cs_store *st, struct rfs_inventory *inv)
{
	return versions_list(st, true, inv);
}

uint64_t cs_store_superseded_gen(struct cs_store *st)
{
	return atomic_load(&st->superseded_gen);
}

uint64_t cs_store_superseded_count(struct cs_store *st)
{
	uint64_t n;

	pthread_mutex_lock(&st->mu);
	n = st->n_multi;
	pthread_mutex_unlock(&st->mu);
	return n;
}

/* --- undo files --------------------------------------------------------- */
void cs_undo_range(uint64_t offset, uint64_t body_end, uint64_t base_length,
		   uint64_t old_len, uint64_t *start, uint64_t *end)
{
	uint64_t cut = base_length < old_len ? base_length : old_len;
	uint64_t lo = offset < cut ? offset : cut;
	/* Past a cut everything up to the old end is zeroed or cut off. */
	uint64_t hi = cut < old_len	   ? old_len
		      : body_end < old_len ? body_end
					   : old_len;

	*start = lo < hi ? lo : 0;
	*end = lo < hi ? hi : 0;
}

/* Write the undo file's content into ufd. */
static int undo_fill(int ufd, int fd, const struct cs_replica_hdr *old,
		     uint32_t over, uint64_t start, uint64_t end, bool sync)
{
	struct cs_undo_rec rec = {.chunk_id = old->chunk_id,
				  .version = old->version,
				  .over = over,
				  .start = start,
				  .end = end};
	int rc = cs_replica_hdr_write(ufd, 0, old);

	if (rc == 0)
		rc = cs_undo_rec_write(ufd, &rec);
	if (rc == 0 && end > start)
		rc = cs_store_copy(fd, (off_t)(CS_REPLICA_DATA_OFFSET + start),
				   ufd, CS_REPLICA_DATA_OFFSET, end - start);
	if (rc == 0 &&
	    ftruncate(ufd, (off_t)(CS_REPLICA_DATA_OFFSET + end - start)) < 0)
		rc = cs_replica_write_err(errno);
	if (rc == 0 && sync)
		rc = cs_store_fsync(ufd);
	return rc;
}

int cs_undo_save(struct cs_store *st, int sub_fd, int fd,
		 const struct cs_replica_hdr *old, uint32_t over,
		 uint64_t start, uint64_t end, bool sync)
{
	char suffix[CS_REPLICA_NAME_MAX];
	char tmp[CS_REPLICA_NAME_MAX];
	char final[CS_REPLICA_NAME_MAX];
	int ufd;
	int rc;

	snprintf(suffix, sizeof(suffix), "%su%llx", CS_REPLICA_SUFFIX_TMP,
		 (unsigned long long)atomic_fetch_add(&st->tmp_seq, 1));
	rc = cs_replica_name(old->chunk_id, old->version, suffix, tmp);
	if (rc < 0)
		return rc;
	cs_replica_name(old->chunk_id, old->version, CS_REPLICA_SUFFIX_UNDO,
			final);
	ufd = openat(sub_fd, tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
		     UNDO_MODE);
	if (ufd < 0)
		return cs_replica_write_err(errno);
	rc = undo_fill(ufd, fd, old, over, start, end, sync);
	close(ufd);
	if (rc == 0 && renameat(sub_fd, tmp, sub_fd, final) < 0)
		rc = -errno;
	if (rc < 0) {
		unlinkat(sub_fd, tmp, 0);
		return rc;
	}
	/* The undo file must exist before the replica starts to change. */
	return sync ? cs_store_fsync(sub_fd) : 0;
}

/* Open "<id>_<version>.undo" and check its record and header against
 * each other. Returns the fd or a negative errno (-EBADMSG: unusable). */
static int undo_open(int sub_fd, const char *name, uint64_t id,
		     uint32_t version, struct cs_undo_rec *rec,
		     struct cs_replica_hdr *hdr)
{
	int fd = openat(sub_fd, name, O_RDONLY | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return -errno;
	rc = cs_undo_rec_read(fd, rec);
	if (rc == 0)
		rc = cs_replica_hdr_read_slot(fd, 0, hdr);
	if (rc == 0 && (rec->chunk_id != id || rec->version != version ||
			hdr->chunk_id != id || hdr->version != version ||
			rec->end > hdr->length))
		rc = -EBADMSG;
	if (rc < 0) {
		close(fd);
		return rc;
	}
	return fd;
}

int cs_undo_restore(int sub_fd, int fd, uint64_t id, uint32_t base)
{
	char name[CS_REPLICA_NAME_MAX];
	struct cs_replica_hdr *hdr = malloc(sizeof(*hdr));
	struct cs_undo_rec rec;
	int ufd;
	int rc;

	if (!hdr)
		return -ENOMEM;
	cs_replica_name(id, base, CS_REPLICA_SUFFIX_UNDO, name);
	ufd = undo_open(sub_fd, name, id, base, &rec, hdr);
	free(hdr);
	if (ufd == -ENOENT)
		return 0;
	rc = ufd;
	if (ufd >= 0) {
		rc = cs_store_copy(ufd, CS_REPLICA_DATA_OFFSET, fd,
				   (off_t)(CS_REPLICA_DATA_OFFSET + rec.start),
				   rec.end - rec.start);
		close(ufd);
	}
	if (rc < 0 && rc != -EBADMSG)
		return rc;
	/* Restored, or unusable: either way the replica is the base again. */
	if (unlinkat(sub_fd, name, 0) < 0 && errno != ENOENT)
		return -errno;
	return rc == 0 ? 1 : 0;
}

/* With st->mu held: is the full version `version` of e held in dir, with
 * at least `need` bytes? */
static bool full_held(const struct cs_entry *e, uint32_t version, uint16_t dir,
		      uint64_t need)
{
	const struct cs_old *o;

	if (e->present && e->version == version)
		return e->dir == dir && e->length >= need;
	o = cs_store_old_find(e, version);
	return o && !o->undo && o->dir == dir && o->length >= need;
}

/* With st->mu held: index an undo version; false when it is useless. */
static int scan_undo_index(struct cs_store *st, uint16_t dir, uint64_t id,
			   const struct cs_undo_rec *rec,
			   const struct cs_replica_hdr *hdr, bool *keep)
{
	struct cs_entry *e = cs_store_entry_find(st, id);
	uint64_t need = rec->end < hdr->length ? hdr->length : 0;
	struct cs_old *o;

	*keep = false;
	if (!e || !e->present || full_held(e, rec->version, dir, 0) ||
	    cs_store_old_find(e, rec->version) ||
	    !full_held(e, rec->over, dir, need))
		return 0;
	o = calloc(1, sizeof(*o));
	if (!o)
		return -ENOMEM;
	o->version = rec->version;
	o->length = hdr->length;
	o->dir = dir;
	o->undo = true;
	o->over = rec->over;
	o->undo_start = rec->start;
	o->undo_end = rec->end;
	cs_store_old_add(st, e, o);
	*keep = true;
	return 0;
}

int cs_store_scan_undo(struct cs_store *st, uint16_t dir, int sub_fd,
		       const char *name, uint64_t id, uint32_t version)
{
	struct cs_replica_hdr *hdr = malloc(sizeof(*hdr));
	struct cs_undo_rec rec;
	bool keep = false;
	int fd;
	int rc = 0;

	if (!hdr)
		return -ENOMEM;
	fd = undo_open(sub_fd, name, id, version, &rec, hdr);
	if (fd >= 0) {
		close(fd);
		pthread_mutex_lock(&st->mu);
		rc = scan_undo_index(st, dir, id, &rec, hdr, &keep);
		pthread_mutex_unlock(&st->mu);
	}
	free(hdr);
	if (rc < 0 || keep)
		return rc;
	if (unlinkat(sub_fd, name, 0) < 0 && errno != ENOENT)
		return -errno;
	rfs_log_info(NULL, "msg=\"removed unneeded undo file\" file=%s", name);
	return 0;
}
