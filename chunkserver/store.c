#include <config.h>
#include "chunkserver/store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "chunkserver/replica.h"
#include "chunkserver/store_priv.h"
#include "common/crypto.h"
#include "common/errors.h"
#include "common/log.h"

/* Hash buckets to start with; the table doubles when it gets full. */
#define INDEX_BUCKETS_INITIAL 1024
/* 2^64 / golden ratio: spreads sequential chunk ids over the buckets. */
#define INDEX_HASH_MULT 0x9e3779b97f4a7c15ull
#define CHUNKS_SUBDIR	"chunks"
#define LOCK_FILE	"lock"
#define SERVER_ID_TMP	CS_STORE_SERVER_ID_FILE ".tmp"
#define DIR_MODE	0755
#define FILE_MODE	0644

/* --- index ---------------------------------------------------------- */
static size_t bucket_of(const struct cs_store *st, uint64_t id)
{
	return (size_t)((id * INDEX_HASH_MULT) >> 32) & (st->n_buckets - 1);
}

struct cs_entry *cs_store_entry_find(struct cs_store *st, uint64_t id)
{
	struct cs_entry *e = st->buckets[bucket_of(st, id)];

	while (e && e->id != id)
		e = e->next;
	return e;
}

static void index_grow(struct cs_store *st)
{
	size_t old_n = st->n_buckets;
	struct cs_entry **old = st->buckets;
	struct cs_entry **nb = calloc(old_n * 2, sizeof(*nb));

	if (!nb)
		return; /* longer chains, still correct */
	st->buckets = nb;
	st->n_buckets = old_n * 2;
	for (size_t i = 0; i < old_n; i++) {
		struct cs_entry *e = old[i];

		while (e) {
			struct cs_entry *next = e->next;
			size_t b = bucket_of(st, e->id);

			e->next = nb[b];
			nb[b] = e;
			e = next;
		}
	}
	free(old);
}

/* With st->mu held: find or add the entry of id; NULL on OOM. */
static struct cs_entry *entry_get(struct cs_store *st, uint64_t id)
{
	struct cs_entry *e = cs_store_entry_find(st, id);
	size_t b;

	if (e)
		return e;
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->id = id;
	if (st->n_entries >= st->n_buckets)
		index_grow(st);
	b = bucket_of(st, id);
	e->next = st->buckets[b];
	st->buckets[b] = e;
	st->n_entries++;
	return e;
}

/* With st->mu held: free e if nothing refers to it any more. */
static void entry_drop_if_unused(struct cs_store *st, struct cs_entry *e)
{
	struct cs_entry **pp = &st->buckets[bucket_of(st, e->id)];

	if (e->present || e->old || e->busy || e->waiters > 0)
		return;
	while (*pp != e)
		pp = &(*pp)->next;
	*pp = e->next;
	st->n_entries--;
	free(e);
}

void cs_store_entry_set(struct cs_store *st, struct cs_entry *e, bool present,
			uint16_t dir, uint32_t version, uint64_t length,
			uint8_t slot)
{
	if (e->present) {
		st->n_present--;
		st->n_versions--;
		st->used_bytes -= cs_replica_file_bytes(e->length);
	}
	e->present = present;
	e->dir = dir;
	e->version = version;
	e->length = length;
	e->slot = slot;
	if (present) {
		st->n_present++;
		st->n_versions++;
		st->used_bytes += cs_replica_file_bytes(length);
	}
}

int cs_store_chunk_lock(struct cs_store *st, uint64_t id, struct cs_entry **out)
{
	struct cs_entry *e;

	pthread_mutex_lock(&st->mu);
	e = entry_get(st, id);
	if (!e) {
		pthread_mutex_unlock(&st->mu);
		return -ENOMEM;
	}
	e->waiters++;
	while (e->busy)
		pthread_cond_wait(&st->idle, &st->mu);
	e->waiters--;
	e->busy = true;
	pthread_mutex_unlock(&st->mu);
	*out = e;
	return 0;
}

void cs_store_chunk_unlock(struct cs_store *st, struct cs_entry *e)
{
	pthread_mutex_lock(&st->mu);
	e->busy = false;
	e->updating = false;
	entry_drop_if_unused(st, e);
	pthread_cond_broadcast(&st->idle);
	pthread_mutex_unlock(&st->mu);
}

/* --- data dirs ------------------------------------------------------ */
int cs_store_fsync(int fd)
{
	if (fsync(fd) < 0)
		return cs_replica_write_err(errno);
	return 0;
}

/* mkdir -p: create path and its missing parents. */
static int mkdir_parents(const char *path)
{
	char *copy = strdup(path);
	int rc = 0;

	if (!copy)
		return -ENOMEM;
	for (char *p = copy + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(copy, DIR_MODE) < 0 && errno != EEXIST) {
			rc = -errno;
			goto out_free_copy;
		}
		*p = '/';
	}
	if (mkdir(copy, DIR_MODE) < 0 && errno != EEXIST)
		rc = -errno;
out_free_copy:
	free(copy);
	return rc;
}

/* Open (creating if needed) subdirectory name of parent_fd. */
static int open_subdir(int parent_fd, const char *name, bool create)
{
	int fd = openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc;

	if (fd >= 0 || errno != ENOENT || !create)
		return fd >= 0 ? fd : -errno;
	if (mkdirat(parent_fd, name, DIR_MODE) < 0 && errno != EEXIST)
		return -errno;
	/* The new directory entry must survive a crash like the files in it. */
	rc = cs_store_fsync(parent_fd);
	if (rc < 0)
		return rc;
	fd = openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return fd >= 0 ? fd : -errno;
}

int cs_store_subdir_open(struct cs_store *st, uint16_t dir, uint64_t id,
			 bool create)
{
	char sub[3];

	cs_replica_subdir(id, sub);
	return open_subdir(st->dirs[dir].chunks_fd, sub, create);
}

static int dir_open(struct cs_dir *d, const char *path)
{
	struct stat sb;
	int rc;

	d->path = strdup(path);
	if (!d->path)
		return -ENOMEM;
	rc = mkdir_parents(path);
	if (rc < 0)
		return rc;
	d->fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d->fd < 0)
		return -errno;
	d->lock_fd =
	    openat(d->fd, LOCK_FILE, O_RDWR | O_CREAT | O_CLOEXEC, FILE_MODE);
	if (d->lock_fd < 0)
		return -errno;
	if (flock(d->lock_fd, LOCK_EX | LOCK_NB) < 0)
		return errno == EWOULDBLOCK ? -EBUSY : -errno;
	rc = open_subdir(d->fd, CHUNKS_SUBDIR, true);
	if (rc < 0)
		return rc;
	d->chunks_fd = rc;
	if (fstat(d->fd, &sb) < 0)
		return -errno;
	d->dev = sb.st_dev;
	return 0;
}

static void dir_close(struct cs_dir *d)
{
	if (d->chunks_fd >= 0)
		close(d->chunks_fd);
	if (d->lock_fd >= 0)
		close(d->lock_fd); /* releases the flock */
	if (d->fd >= 0)
		close(d->fd);
	free(d->path);
}

uint16_t cs_store_pick_dir(struct cs_store *st)
{
	uint64_t best_free = 0;
	uint16_t best = 0;

	for (size_t i = 0; i < st->n_dirs; i++) {
		struct statvfs vfs;
		uint64_t avail;

		if (fstatvfs(st->dirs[i].fd, &vfs) < 0)
			continue;
		avail = (uint64_t)vfs.f_bavail * vfs.f_frsize;
		if (avail > best_free) {
			best_free = avail;
			best = (uint16_t)i;
		}
	}
	return best;
}

/* --- scanning at open ------------------------------------------------- */
/* Move a file we cannot use aside so an operator can look at it. */
static void quarantine(int sub_fd, const char *name)
{
	char bad[CS_REPLICA_NAME_MAX + sizeof(CS_REPLICA_SUFFIX_CORRUPT)];

	snprintf(bad, sizeof(bad), "%s%s", name, CS_REPLICA_SUFFIX_CORRUPT);
	if (renameat(sub_fd, name, sub_fd, bad) < 0)
		rfs_log_error(NULL,
			      "msg=\"cannot quarantine replica\" file=%s "
			      "err=%s",
			      name, rfs_errno_name(errno));
	else
		rfs_log_warn(NULL,
			     "msg=\"unreadable replica set aside\" "
			     "file=%s",
			     bad);
}

/* Make the data region as long as the header says (a rolled-back update
 * may have cut or extended it), so every block can be read and checked. */
static int fit_length(int fd, uint64_t length)
{
	struct stat sb;

	if (fstat(fd, &sb) < 0)
		return -errno;
	if ((uint64_t)sb.st_size == cs_replica_file_bytes(length))
		return 0;
	if (ftruncate(fd, (off_t)cs_replica_file_bytes(length)) < 0)
		return cs_replica_write_err(errno);
	return 0;
}

/* A rolled-back replica: log the blocks the interrupted write damaged. */
static void check_rolled_back(int fd, const struct cs_replica_hdr *hdr)
{
	size_t bad = 0;
	size_t n_bad = 0;
	int rc = cs_replica_verify(fd, hdr, 0, hdr->n_blocks, &bad, &n_bad);

	if (rc == -EBADMSG)
		rfs_log_warn(NULL,
			     "msg=\"interrupted range update left blocks "
			     "failing their checksum\" chunk=%016llx "
			     "version=%u bad_blocks=%zu first_bad=%zu",
			     (unsigned long long)hdr->chunk_id, hdr->version,
			     n_bad, bad);
	else if (rc < 0)
		rfs_log_warn(NULL,
			     "msg=\"cannot verify rolled-back replica\" "
			     "chunk=%016llx err=%s",
			     (unsigned long long)hdr->chunk_id,
			     rfs_errno_name(rc));
}

int cs_store_recover_updating(int sub_fd, uint64_t id, uint32_t base,
			      struct cs_replica_hdr *hdr, unsigned *slot)
{
	char upd[CS_REPLICA_NAME_MAX];
	char final[CS_REPLICA_NAME_MAX];
	int fd;
	int rc;

	cs_replica_name(id, base, CS_REPLICA_SUFFIX_UPDATING, upd);
	fd = openat(sub_fd, upd, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	rc = cs_replica_hdr_read(fd, hdr, slot);
	if (rc == 0 && (hdr->chunk_id != id || hdr->version < base))
		rc = -EBADMSG;
	if (rc == -EBADMSG)
		quarantine(sub_fd, upd);
	if (rc < 0)
		goto out_close_fd;
	/* Rolled back: the bytes the update changed may be in an undo file. */
	rc = hdr->version == base ? cs_undo_restore(sub_fd, fd, id, base) : 0;
	if (rc < 0)
		goto out_close_fd;
	rc = fit_length(fd, hdr->length);
	if (rc < 0)
		goto out_close_fd;
	if (hdr->version == base)
		check_rolled_back(fd, hdr);
	rc = cs_store_fsync(fd);
	if (rc < 0)
		goto out_close_fd;
	cs_replica_name(id, hdr->version, NULL, final);
	if (renameat(sub_fd, upd, sub_fd, final) < 0) {
		rc = -errno;
		goto out_close_fd;
	}
	rc = cs_store_fsync(sub_fd);
	rfs_log_info(NULL,
		     "msg=\"interrupted range update %s\" chunk=%016llx "
		     "version=%u",
		     hdr->version == base ? "rolled back" : "completed",
		     (unsigned long long)id, hdr->version);
out_close_fd:
	close(fd);
	return rc;
}

/*
 * Add a replica found on disk. Every version of a chunk is kept (the
 * newest as the current one): an older one goes when the metaserver's
 * inventory check says it is stale. A second file of a version already
 * indexed (in another data dir) is removed.
 */
static int index_insert(struct cs_store *st, uint16_t dir, int sub_fd,
			const struct cs_replica_hdr *hdr, unsigned slot)
{
	struct cs_entry *e = entry_get(st, hdr->chunk_id);
	char name[CS_REPLICA_NAME_MAX];
	const struct cs_old *dup;
	struct cs_old *o;

	if (!e)
		return -ENOMEM;
	dup = cs_store_old_find(e, hdr->version);
	if ((e->present && e->version == hdr->version && e->dir == dir) ||
	    (dup && !dup->undo && dup->dir == dir))
		return 0; /* the same file, seen again after a rename */
	if (dup || (e->present && e->version == hdr->version)) {
		cs_replica_name(hdr->chunk_id, hdr->version, NULL, name);
		return unlinkat(sub_fd, name, 0) < 0 ? -errno : 0;
	}
	if (e->present && e->version > hdr->version) {
		o = calloc(1, sizeof(*o));
		if (!o)
			return -ENOMEM;
		o->version = hdr->version;
		o->length = hdr->length;
		o->dir = dir;
		o->slot = (uint8_t)slot;
		cs_store_old_add(st, e, o);
		return 0;
	}
	if (e->present && cs_store_keep_current(st, e) < 0)
		return -ENOMEM;
	cs_store_entry_set(st, e, true, dir, hdr->version, hdr->length,
			   (uint8_t)slot);
	return 0;
}

/* Index one "<id>_<version>" file, setting it aside if it is damaged. */
static int scan_final(struct cs_store *st, uint16_t dir, int sub_fd,
		      const char *name, uint64_t id, uint32_t version,
		      struct cs_replica_hdr *hdr)
{
	struct stat sb;
	unsigned slot;
	int fd;
	int rc;

	fd = openat(sub_fd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	rc = cs_replica_hdr_read(fd, hdr, &slot);
	if (rc == 0 && fstat(fd, &sb) < 0)
		rc = -errno;
	close(fd);
	if (rc == 0 &&
	    (hdr->chunk_id != id || hdr->version != version ||
	     (uint64_t)sb.st_size < cs_replica_file_bytes(hdr->length)))
		rc = -EBADMSG;
	if (rc == -EBADMSG) {
		quarantine(sub_fd, name);
		return 0;
	}
	if (rc < 0)
		return rc;
	return index_insert(st, dir, sub_fd, hdr, slot);
}

struct name_list {
	char (*names)[CS_REPLICA_NAME_MAX];
	size_t n;
	size_t cap;
};

/* Read a directory's entry names first, so renames while processing them
 * cannot make readdir skip or repeat entries. */
static int collect_names(int dir_fd, struct name_list *list)
{
	int fd = dup(dir_fd);
	struct dirent *de;
	DIR *d;

	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' ||
		    strlen(de->d_name) >= CS_REPLICA_NAME_MAX)
			continue;
		if (list->n == list->cap) {
			size_t cap = list->cap ? list->cap * 2 : 64;
			void *p = reallocarray(list->names, cap,
					       sizeof(*list->names));

			if (!p) {
				closedir(d);
				return -ENOMEM;
			}
			list->names = p;
			list->cap = cap;
		}
		snprintf(list->names[list->n++], CS_REPLICA_NAME_MAX, "%s",
			 de->d_name);
	}
	closedir(d);
	return 0;
}

/* Handle one file of a chunks/<xx> subdirectory. */
static int scan_file(struct cs_store *st, uint16_t dir, int sub_fd,
		     const char *sub, const char *name,
		     struct cs_replica_hdr *hdr)
{
	char want_sub[3];
	uint64_t id = 0;
	uint32_t version = 0;
	unsigned slot;
	enum cs_replica_kind kind = cs_replica_name_parse(name, &id, &version);
	int rc;

	cs_replica_subdir(id, want_sub);
	if (kind == CS_REPLICA_OTHER || strcmp(sub, want_sub) != 0)
		return 0; /* not ours, or in a place reads would not look */
	switch (kind) {
	case CS_REPLICA_UNDO:
		return 0; /* once the directory's replicas are indexed */
	case CS_REPLICA_TMP:
		/* A write that never completed: the client got no ack. */
		if (unlinkat(sub_fd, name, 0) < 0)
			return -errno;
		rfs_log_info(NULL, "msg=\"removed unfinished write\" file=%s",
			     name);
		return 0;
	case CS_REPLICA_UPDATING:
		rc = cs_store_recover_updating(sub_fd, id, version, hdr, &slot);
		if (rc == -EBADMSG)
			return 0;
		return rc < 0 ? rc : index_insert(st, dir, sub_fd, hdr, slot);
	default:
		return scan_final(st, dir, sub_fd, name, id, version, hdr);
	}
}

/* Handle one undo file of a chunks/<xx> subdirectory (second pass). */
static int scan_undo(struct cs_store *st, uint16_t dir, int sub_fd,
		     const char *sub, const char *name)
{
	char want_sub[3];
	uint64_t id = 0;
	uint32_t version = 0;

	if (cs_replica_name_parse(name, &id, &version) != CS_REPLICA_UNDO)
		return 0;
	cs_replica_subdir(id, want_sub);
	if (strcmp(sub, want_sub) != 0)
		return 0;
	return cs_store_scan_undo(st, dir, sub_fd, name, id, version);
}

static int scan_subdir(struct cs_store *st, uint16_t dir, const char *sub,
		       struct cs_replica_hdr *hdr)
{
	struct name_list list = {0};
	int sub_fd;
	int rc;

	sub_fd = open_subdir(st->dirs[dir].chunks_fd, sub, false);
	if (sub_fd < 0)
		return sub_fd;
	rc = collect_names(sub_fd, &list);
	for (size_t i = 0; rc == 0 && i < 2 * list.n; i++) {
		const char *name = list.names[i % list.n];

		/* undo files in a second pass, over the indexed replicas */
		rc = i < list.n ? scan_file(st, dir, sub_fd, sub, name, hdr)
				: scan_undo(st, dir, sub_fd, sub, name);
		if (rc < 0 && rc != -ENOMEM) {
			/* One unreadable file must not keep the server down. */
			rfs_log_error(NULL,
				      "msg=\"cannot scan replica\" "
				      "dir=%s file=%s/%s err=%s",
				      st->dirs[dir].path, sub, name,
				      rfs_errno_name(rc));
			rc = 0;
		}
	}
	/* Make the removals and renames above durable. */
	if (rc == 0)
		rc = cs_store_fsync(sub_fd);
	free(list.names);
	close(sub_fd);
	return rc;
}

static bool is_subdir_name(const char *name)
{
	return strlen(name) == 2 && strspn(name, "0123456789abcdef") == 2;
}

static int scan_dir(struct cs_store *st, uint16_t dir)
{
	struct name_list list = {0};
	struct cs_replica_hdr *hdr = malloc(sizeof(*hdr));
	int rc;

	if (!hdr)
		return -ENOMEM;
	rc = collect_names(st->dirs[dir].chunks_fd, &list);
	for (size_t i = 0; rc == 0 && i < list.n; i++) {
		const char *name = list.names[i];

		if (is_subdir_name(name))
			rc = scan_subdir(st, dir, name, hdr);
		else if (strncmp(name, CS_REPLICA_SPOOL_PREFIX,
				 strlen(CS_REPLICA_SPOOL_PREFIX)) == 0)
			unlinkat(st->dirs[dir].chunks_fd, name, 0);
	}
	free(list.names);
	free(hdr);
	return rc;
}

/* --- open / close ------------------------------------------------------ */
static struct cs_store *store_alloc(size_t n)
{
	struct cs_store *st = calloc(1, sizeof(*st));

	if (!st)
		return NULL;
	st->buckets = calloc(INDEX_BUCKETS_INITIAL, sizeof(*st->buckets));
	if (!st->buckets) {
		free(st);
		return NULL;
	}
	st->n_buckets = INDEX_BUCKETS_INITIAL;
	pthread_mutex_init(&st->mu, NULL);
	pthread_cond_init(&st->idle, NULL);
	for (size_t i = 0; i < CS_STORE_DIRS_MAX; i++) {
		st->dirs[i].fd = -1;
		st->dirs[i].chunks_fd = -1;
		st->dirs[i].lock_fd = -1;
	}
	st->n_dirs = n;
	return st;
}

int cs_store_open(const char *const *dirs, size_t n, struct cs_store **out)
{
	struct cs_store *st;
	int rc = 0;

	if (n == 0 || n > CS_STORE_DIRS_MAX)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (!dirs[i] || dirs[i][0] == '\0')
			return -EINVAL;
	}
	st = store_alloc(n);
	if (!st)
		return -ENOMEM;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		rc = dir_open(&st->dirs[i], dirs[i]);
		if (rc < 0)
			rfs_log_error(NULL,
				      "msg=\"cannot open data dir\" "
				      "dir=%s err=%s",
				      dirs[i], rfs_errno_name(rc));
	}
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = scan_dir(st, (uint16_t)i);
	if (rc < 0) {
		cs_store_close(st);
		return rc;
	}
	rfs_log_info(NULL,
		     "msg=\"store opened\" dirs=%zu chunks=%llu "
		     "used_bytes=%llu",
		     n, (unsigned long long)st->n_present,
		     (unsigned long long)st->used_bytes);
	*out = st;
	return 0;
}

void cs_store_close(struct cs_store *st)
{
	if (!st)
		return;
	for (size_t i = 0; i < st->n_buckets; i++) {
		struct cs_entry *e = st->buckets[i];

		while (e) {
			struct cs_entry *next = e->next;

			while (e->old) {
				struct cs_old *o = e->old;

				e->old = o->next;
				free(o);
			}
			free(e);
			e = next;
		}
	}
	free(st->buckets);
	for (size_t i = 0; i < st->n_dirs; i++)
		dir_close(&st->dirs[i]);
	pthread_cond_destroy(&st->idle);
	pthread_mutex_destroy(&st->mu);
	free(st);
}

/* --- server id ---------------------------------------------------------- */
/* Read the persisted id: 0, -ENOENT, -EINVAL (damaged) or an errno. */
static int server_id_read(int dir_fd, char *out)
{
	char buf[RFS_SERVER_ID_MAX + 2];
	ssize_t n;
	int fd = openat(dir_fd, CS_STORE_SERVER_ID_FILE, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	if (n > 0 && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	if (!rfs_proto_server_id_is_valid(buf))
		return -EINVAL;
	memcpy(out, buf, strlen(buf) + 1); /* valid ids fit out */
	return 0;
}

/* Write the id durably: temporary file, fsync, rename, fsync dir. */
static int server_id_write(int dir_fd, const char *id)
{
	char line[RFS_SERVER_ID_MAX + 2];
	int n = snprintf(line, sizeof(line), "%s\n", id);
	int fd;
	int rc;

	fd = openat(dir_fd, SERVER_ID_TMP,
		    O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, FILE_MODE);
	if (fd < 0)
		return -errno;
	rc = cs_replica_pwrite_all(fd, line, (size_t)n, 0);
	if (rc == 0)
		rc = cs_store_fsync(fd);
	close(fd);
	if (rc == 0 && renameat(dir_fd, SERVER_ID_TMP, dir_fd,
				CS_STORE_SERVER_ID_FILE) < 0)
		rc = -errno;
	if (rc == 0)
		rc = cs_store_fsync(dir_fd);
	if (rc < 0)
		unlinkat(dir_fd, SERVER_ID_TMP, 0);
	return rc;
}

int cs_store_server_id(struct cs_store *st, const char *wanted, char *out)
{
	bool have_wanted = wanted && wanted[0] != '\0';
	int dir_fd = st->dirs[0].fd;
	uint8_t rnd[4];
	char hex[sizeof(rnd) * 2 + 1];
	int rc;

	if (have_wanted && !rfs_proto_server_id_is_valid(wanted))
		return -EINVAL;
	rc = server_id_read(dir_fd, out);
	if (rc == 0)
		return (have_wanted && strcmp(wanted, out) != 0) ? -EEXIST : 0;
	if (rc != -ENOENT)
		return rc;
	if (have_wanted) {
		snprintf(out, RFS_SERVER_ID_MAX + 1, "%s", wanted);
	} else {
		rc = rfs_random_bytes(rnd, sizeof(rnd));
		if (rc < 0)
			return rc;
		rfs_hex_encode(rnd, sizeof(rnd), hex);
		snprintf(out, RFS_SERVER_ID_MAX + 1, "cs-%s", hex);
	}
	return server_id_write(dir_fd, out);
}

/* --- stats ---------------------------------------------------------- */
void cs_store_stats(struct cs_store *st, struct cs_store_stats *out)
{
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&st->mu);
	out->chunks = st->n_present;
	out->versions = st->n_versions;
	out->used_bytes = st->used_bytes;
	pthread_mutex_unlock(&st->mu);
	out->bytes_written = atomic_load(&st->bytes_written);
	out->checksum_failures = atomic_load(&st->checksum_failures);
	for (size_t i = 0; i < st->n_dirs; i++) {
		struct statvfs vfs;
		bool seen = false;

		for (size_t j = 0; j < i; j++)
			seen = seen || st->dirs[j].dev == st->dirs[i].dev;
		if (seen || fstatvfs(st->dirs[i].fd, &vfs) < 0)
			continue;
		out->capacity_bytes += (uint64_t)vfs.f_blocks * vfs.f_frsize;
		out->free_bytes += (uint64_t)vfs.f_bavail * vfs.f_frsize;
	}
}

void cs_store_count_checksum_failure(struct cs_store *st)
{
	atomic_fetch_add(&st->checksum_failures, 1);
}

/* --- durability ------------------------------------------------------ */
int cs_store_sync(struct cs_store *st)
{
	int rc = 0;

	for (size_t i = 0; i < st->n_dirs; i++) {
		bool seen = false;

		for (size_t j = 0; j < i; j++)
			seen = seen || st->dirs[j].dev == st->dirs[i].dev;
		if (!seen && syncfs(st->dirs[i].fd) < 0 && rc == 0)
			rc = cs_replica_write_err(errno);
	}
	return rc;
}
