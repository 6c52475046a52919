/*
 * fsm_restore: rebuilds a state from a snapshot image (docs/formats.md).
 * The CRC32C trailer is checked first; then every count is bounded by the
 * bytes left before anything is allocated, every field is range-checked
 * and the whole state is verified against the invariants of
 * fsm_internal.h (links, reachability, chunk ownership), so a damaged or
 * hostile image gives -EBADMSG and never a state that could crash later.
 */
#include <config.h>
#include "metaserver/fsm.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/crc32c.h"
#include "metaserver/fsm_internal.h"

/* Smallest encoding of each record, to bound counts by the bytes left. */
#define RESTORE_SERVER_MIN 16
#define RESTORE_INODE_MIN  72
#define RESTORE_XATTR_MIN  6
#define RESTORE_DIRENT_MIN 26
#define RESTORE_CHUNK_MIN  41
#define RESTORE_ORPHAN_MIN 16

struct restore_rd {
	const uint8_t *p;
	size_t len;
	size_t off;
	bool bad;
};

struct restore_ctx {
	struct restore_rd r;
	struct ms_fsm *fsm;
	struct ms_inode **inodes; /* ascending ino */
	uint64_t *inos;		  /* inodes[i]->ino, dense for searching */
	uint32_t *refs;		  /* dirents naming inodes[i] */
	size_t n_inodes;
	uint32_t version; /* MS_SNAP_VERSION_1 or MS_SNAP_VERSION */
};

/* n bytes, or NULL (and r->bad) when fewer are left. */
static const uint8_t *rd_bytes(struct restore_rd *r, size_t n)
{
	const uint8_t *p;

	if (r->bad || r->len - r->off < n) {
		r->bad = true;
		return NULL;
	}
	p = r->p + r->off;
	r->off += n;
	return p;
}

static uint64_t rd_le(struct restore_rd *r, size_t n)
{
	const uint8_t *p = rd_bytes(r, n);
	uint64_t v = 0;
	size_t i;

	if (!p)
		return 0;
	for (i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static uint8_t rd_u8(struct restore_rd *r)
{
	return (uint8_t)rd_le(r, 1);
}

static uint32_t rd_u32(struct restore_rd *r)
{
	return (uint32_t)rd_le(r, 4);
}

static uint64_t rd_u64(struct restore_rd *r)
{
	return rd_le(r, 8);
}

/* Would count records of at least min bytes each fit in what is left? */
static bool rd_fits(struct restore_rd *r, uint64_t count, size_t min)
{
	if (r->bad || count > (r->len - r->off) / min) {
		r->bad = true;
		return false;
	}
	return true;
}

/* u8 length + bytes into a NUL-terminated buffer of size bytes; no NUL
 * inside, at least min bytes. */
static bool rd_str8(struct restore_rd *r, char *out, size_t size, size_t min)
{
	uint8_t n = rd_u8(r);
	const uint8_t *p = rd_bytes(r, n);

	if (!p || n < min || n >= size || memchr(p, '\0', n))
		return false;
	memcpy(out, p, n);
	out[n] = '\0';
	return true;
}

static int restore_format(struct restore_rd *r, struct ms_fsm_format *fmt,
			  uint32_t *version)
{
	const uint8_t *magic = rd_bytes(r, MS_SNAP_MAGIC_LEN);

	if (!magic || memcmp(magic, MS_SNAP_MAGIC, MS_SNAP_MAGIC_LEN) != 0)
		return -EBADMSG;
	*version = rd_u32(r);
	if ((*version != MS_SNAP_VERSION && *version != MS_SNAP_VERSION_1) ||
	    rd_u32(r) != 0)
		return -EBADMSG;
	memset(fmt, 0, sizeof(*fmt));
	if (!rd_str8(r, fmt->fsid, sizeof(fmt->fsid), 0))
		return -EBADMSG;
	fmt->chunk_size = rd_u64(r);
	fmt->goal = rd_u32(r);
	fmt->created_ns = (int64_t)rd_u64(r);
	if (r->bad || !ms_fsm_format_is_valid(fmt))
		return -EBADMSG;
	return 0;
}

static int restore_servers(struct restore_ctx *c)
{
	struct restore_rd *r = &c->r;
	struct rfs_server s;
	uint32_t n;
	uint32_t i;
	int rc;

	c->fsm->next_ino = rd_u64(r);
	c->fsm->next_chunk_id = rd_u64(r);
	c->fsm->ring_epoch = rd_u64(r);
	if (c->fsm->next_ino <= RFS_ROOT_INO || c->fsm->next_chunk_id < 1)
		return -EBADMSG;
	n = rd_u32(r);
	if (n > RFS_SERVERS_MAX || !rd_fits(r, n, RESTORE_SERVER_MIN))
		return -EBADMSG;
	for (i = 0; i < n; i++) {
		memset(&s, 0, sizeof(s));
		if (!rd_str8(r, s.id, sizeof(s.id), 1) ||
		    !rd_str8(r, s.addr, sizeof(s.addr), 1) ||
		    !rd_str8(r, s.zone, sizeof(s.zone), 0))
			return -EBADMSG;
		s.weight = rd_u32(r);
		s.capacity = rd_u64(r);
		if (r->bad)
			return -EBADMSG;
		rc = ms_fsm_server_restore(c->fsm, &s);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int restore_xattrs(struct restore_rd *r, struct ms_inode *in)
{
	uint32_t n = rd_u32(r);
	uint32_t i;

	if (n > MS_FSM_XATTR_LIST_MAX / 2 || !rd_fits(r, n, RESTORE_XATTR_MIN))
		return -EBADMSG;
	if (n == 0)
		return 0;
	in->xattrs = calloc(n, sizeof(*in->xattrs));
	if (!in->xattrs)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		struct ms_xattr *x = &in->xattrs[i];
		char name[RFS_NAME_MAX + 1];
		const uint8_t *v;

		if (!rd_str8(r, name, sizeof(name), 1))
			return -EBADMSG;
		x->value_len = rd_u32(r);
		if (x->value_len > RFS_XATTR_VALUE_MAX)
			return -EBADMSG;
		v = rd_bytes(r, x->value_len);
		if (!v)
			return -EBADMSG;
		x->name_len = (uint32_t)strlen(name);
		x->name = strdup(name);
		x->value = x->value_len ? malloc(x->value_len) : NULL;
		in->n_xattrs = i + 1;
		if (!x->name || (x->value_len && !x->value))
			return -ENOMEM;
		if (x->value_len)
			memcpy(x->value, v, x->value_len);
	}
	return ms_fsm_xattrs_are_valid(in) ? 0 : -EBADMSG;
}

/* The type-specific part of an inode record. */
static int restore_inode_body(struct restore_rd *r, struct ms_inode *in)
{
	const uint8_t *p;

	if (ms_fsm_is_dir(in)) {
		in->u.dir->parent = rd_u64(r);
		in->u.dir->next_cookie = rd_u64(r);
		if (in->size != 0 ||
		    in->u.dir->next_cookie < MS_FSM_COOKIE_FIRST)
			return -EBADMSG;
	} else if (ms_fsm_is_lnk(in)) {
		if (in->size < 1 || in->size > RFS_PATH_MAX)
			return -EBADMSG;
		p = rd_bytes(r, in->size);
		if (!p || memchr(p, '\0', in->size))
			return -EBADMSG;
		in->u.target = malloc(in->size + 1);
		if (!in->u.target)
			return -ENOMEM;
		memcpy(in->u.target, p, in->size);
		in->u.target[in->size] = '\0';
	} else if (in->size > MS_FSM_FILE_SIZE_MAX) {
		return -EBADMSG;
	}
	if (r->bad)
		return -EBADMSG;
	return restore_xattrs(r, in);
}

static bool restore_mode_ok(uint32_t mode)
{
	uint32_t type = mode & S_IFMT;

	if (mode & ~(uint32_t)(S_IFMT | 07777))
		return false;
	return type == S_IFREG || type == S_IFDIR || type == S_IFLNK;
}

/* Reads the fixed part of an inode into a new detached inode. */
static int restore_inode_head(struct restore_ctx *c, uint64_t prev,
			      struct ms_inode **out)
{
	struct restore_rd *r = &c->r;
	uint64_t ino = rd_u64(r);
	uint32_t mode = rd_u32(r);
	struct ms_inode *in;

	if (r->bad || ino <= prev || ino >= c->fsm->next_ino ||
	    !restore_mode_ok(mode))
		return -EBADMSG;
	in = ms_fsm_inode_new(ino, mode, 0);
	if (!in)
		return -ENOMEM;
	in->uid = rd_u32(r);
	in->gid = rd_u32(r);
	in->nlink = rd_u32(r);
	in->size = rd_u64(r);
	in->atime_ns = (int64_t)rd_u64(r);
	in->mtime_ns = (int64_t)rd_u64(r);
	in->ctime_ns = (int64_t)rd_u64(r);
	in->generation = rd_u64(r);
	in->goal = rd_u32(r);
	*out = in;
	if (r->bad || in->goal < 1 || in->goal > RFS_MAX_REPLICAS)
		return -EBADMSG;
	return 0;
}

static int restore_inodes(struct restore_ctx *c)
{
	struct restore_rd *r = &c->r;
	uint64_t n = rd_u64(r);
	uint64_t prev = 0;
	size_t i;
	int rc;

	if (n < 1 || !rd_fits(r, n, RESTORE_INODE_MIN))
		return -EBADMSG;
	c->inodes = calloc(n, sizeof(*c->inodes));
	c->inos = calloc(n, sizeof(*c->inos));
	c->refs = calloc(n, sizeof(*c->refs));
	if (!c->inodes || !c->inos || !c->refs ||
	    ms_htab_reserve(&c->fsm->inodes, n) < 0)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		struct ms_inode *in = NULL;

		rc = restore_inode_head(c, prev, &in);
		if (rc == 0)
			rc = restore_inode_body(r, in);
		if (rc < 0) {
			ms_fsm_inode_free(in);
			return rc;
		}
		ms_fsm_inode_insert(c->fsm, in);
		c->inos[c->n_inodes] = in->ino;
		c->inodes[c->n_inodes++] = in;
		prev = in->ino;
	}
	return 0;
}

/* Position of ino in c->inodes (it exists: the caller looked it up). */
static size_t restore_ordinal(const struct restore_ctx *c, uint64_t ino)
{
	size_t lo = 0;
	size_t hi = c->n_inodes;

	while (lo + 1 < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (c->inos[mid] <= ino)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/* Checks one dirent record against the state so far. */
static int restore_dirent_check(struct restore_ctx *c,
				const struct ms_dirent *d,
				struct ms_inode **parent)
{
	struct ms_inode *child;
	size_t k;

	*parent = ms_fsm_inode(c->fsm, d->parent);
	child = ms_fsm_inode(c->fsm, d->ino);
	if (!*parent || !ms_fsm_is_dir(*parent) || !child)
		return -EBADMSG;
	if (d->cookie < MS_FSM_COOKIE_FIRST ||
	    d->cookie >= (*parent)->u.dir->next_cookie)
		return -EBADMSG;
	if (rfs_proto_check_name(d->name, d->name_len) < 0 ||
	    ms_fsm_dirent_find(c->fsm, d->parent, d->name, d->name_len))
		return -EBADMSG;
	if (ms_fsm_is_dir(child) && child->u.dir->parent != d->parent)
		return -EBADMSG;
	k = restore_ordinal(c, d->ino);
	if (c->refs[k] >= child->nlink)
		return -EBADMSG;
	c->refs[k]++;
	return 0;
}

static int restore_dirent(struct restore_ctx *c, uint64_t *prev_parent,
			  uint64_t *prev_cookie)
{
	struct restore_rd *r = &c->r;
	uint64_t parent = rd_u64(r);
	uint64_t cookie = rd_u64(r);
	uint64_t ino = rd_u64(r);
	char name[RFS_NAME_MAX + 1];
	struct ms_inode *pdir;
	struct ms_dirent *d;
	int rc;

	if (!rd_str8(r, name, sizeof(name), 1))
		return -EBADMSG;
	if (parent < *prev_parent ||
	    (parent == *prev_parent && cookie <= *prev_cookie))
		return -EBADMSG;
	*prev_parent = parent;
	*prev_cookie = cookie;
	d = ms_fsm_dirent_alloc(parent, name, strlen(name), c->fsm->seed);
	if (!d)
		return -ENOMEM;
	d->ino = ino;
	d->cookie = cookie;
	rc = restore_dirent_check(c, d, &pdir);
	if (rc == 0)
		rc = ms_fsm_dirent_restore(c->fsm, pdir, d);
	if (rc < 0)
		ms_fsm_dirent_abort(d);
	return rc;
}

static int restore_dirents(struct restore_ctx *c)
{
	uint64_t n = rd_u64(&c->r);
	uint64_t prev_parent = 0;
	uint64_t prev_cookie = 0;
	uint64_t i;
	int rc;

	if (!rd_fits(&c->r, n, RESTORE_DIRENT_MIN))
		return -EBADMSG;
	if (ms_htab_reserve(&c->fsm->dirents, n) < 0)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		rc = restore_dirent(c, &prev_parent, &prev_cookie);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Checks a chunk record against its file and the state so far. */
static int restore_chunk_check(const struct restore_ctx *c,
			       const struct ms_chunk *ch,
			       const struct ms_inode *file)
{
	const struct ms_fsm *fsm = c->fsm;
	uint64_t cs = fsm->fmt.chunk_size;
	uint32_t i;
	uint32_t j;

	if (!file || !ms_fsm_is_reg(file) ||
	    ch->index >= MS_FSM_FILE_SIZE_MAX / cs)
		return -EBADMSG;
	if (ch->chunk_id < 1 || ch->chunk_id >= fsm->next_chunk_id ||
	    ms_fsm_chunk_by_id(fsm, ch->chunk_id))
		return -EBADMSG;
	if (ch->pending < 1 || ch->version > ch->pending || ch->length > cs ||
	    ch->n_replicas > RFS_MAX_REPLICAS)
		return -EBADMSG;
	if (ch->version == 0 && (ch->length || ch->n_replicas))
		return -EBADMSG;
	if (ch->version > 0 &&
	    (ch->n_replicas < 1 || ch->index * cs + ch->length > file->size))
		return -EBADMSG;
	for (i = 0; i < ch->n_replicas; i++) {
		if (ch->servers[i] >= fsm->n_servers)
			return -EBADMSG;
		for (j = 0; j < i; j++)
			if (ch->servers[j] == ch->servers[i])
				return -EBADMSG;
	}
	return 0;
}

static int restore_chunk(struct restore_ctx *c, uint64_t *prev_ino,
			 uint64_t *prev_index, bool first)
{
	struct restore_rd *r = &c->r;
	struct ms_chunk *ch = calloc(1, sizeof(*ch));
	struct ms_inode *file;
	uint32_t i;
	int rc;

	if (!ch)
		return -ENOMEM;
	ch->ino = rd_u64(r);
	ch->index = rd_u64(r);
	ch->chunk_id = rd_u64(r);
	ch->version = rd_u32(r);
	ch->pending = rd_u32(r);
	ch->length = rd_u64(r);
	ch->n_replicas = rd_u8(r);
	for (i = 0; i < ch->n_replicas && i < RFS_MAX_REPLICAS; i++)
		ch->servers[i] = rd_u32(r);
	rc = -EBADMSG;
	if (r->bad ||
	    (!first && (ch->ino < *prev_ino ||
			(ch->ino == *prev_ino && ch->index <= *prev_index))))
		goto out_free_chunk;
	*prev_ino = ch->ino;
	*prev_index = ch->index;
	file = ms_fsm_inode(c->fsm, ch->ino);
	rc = restore_chunk_check(c, ch, file);
	if (rc == 0)
		rc = ms_fsm_chunk_restore(c->fsm, file, ch);
	if (rc == 0)
		return 0;
out_free_chunk:
	free(ch);
	return rc;
}

static int restore_chunks(struct restore_ctx *c)
{
	uint64_t n = rd_u64(&c->r);
	uint64_t prev_ino = 0;
	uint64_t prev_index = 0;
	uint64_t i;
	int rc;

	if (!rd_fits(&c->r, n, RESTORE_CHUNK_MIN))
		return -EBADMSG;
	if (ms_htab_reserve(&c->fsm->chunks, n) < 0)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		rc = restore_chunk(c, &prev_ino, &prev_index, i == 0);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* The orphan table (version 2 on): ascending ino, each an unlinked
 * regular file (nlink 0) of a session. */
static int restore_orphans(struct restore_ctx *c)
{
	struct restore_rd *r = &c->r;
	uint64_t n;
	uint64_t i;
	int rc;

	if (c->version == MS_SNAP_VERSION_1)
		return 0;
	n = rd_u64(r);
	if (n > MS_FSM_ORPHANS_MAX || !rd_fits(r, n, RESTORE_ORPHAN_MIN))
		return -EBADMSG;
	for (i = 0; i < n; i++) {
		uint64_t ino = rd_u64(r);
		uint64_t session = rd_u64(r);
		const struct ms_inode *in = ms_fsm_inode(c->fsm, ino);

		if (r->bad || !in || !ms_fsm_is_reg(in) || in->nlink != 0 ||
		    session == 0)
			return -EBADMSG;
		rc = ms_fsm_orphan_restore(c->fsm, ino, session);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* nlink of a directory: itself, its ".", and each subdirectory's "..". */
static uint64_t restore_dir_links(const struct ms_fsm *fsm,
				  const struct ms_inode *in)
{
	const struct ms_dir *dir = in->u.dir;
	uint64_t n = 2;
	size_t i;

	for (i = 0; i < dir->n_slots; i++)
		if (ms_fsm_is_dir(ms_fsm_inode(fsm, dir->slots[i].d->ino)))
			n++;
	return n;
}

/* Link counts: the root is named nowhere, a directory once, an orphan
 * nowhere, anything else nlink (>= 1) times. */
static int restore_verify_links(const struct restore_ctx *c, size_t *n_dirs)
{
	size_t i;

	*n_dirs = 0;
	for (i = 0; i < c->n_inodes; i++) {
		const struct ms_inode *in = c->inodes[i];
		bool root = in->ino == RFS_ROOT_INO;

		if (root && (!ms_fsm_is_dir(in) || c->refs[i] != 0 ||
			     in->u.dir->parent != RFS_ROOT_INO))
			return -EBADMSG;
		if (!ms_fsm_is_dir(in)) {
			if (c->refs[i] != in->nlink ||
			    (in->nlink == 0 &&
			     !ms_fsm_orphan_find(c->fsm, in->ino)))
				return -EBADMSG;
			continue;
		}
		if ((!root && c->refs[i] != 1) ||
		    in->nlink != restore_dir_links(c->fsm, in))
			return -EBADMSG;
		(*n_dirs)++;
	}
	return c->inodes[0]->ino == RFS_ROOT_INO ? 0 : -EBADMSG;
}

/* Every directory is reachable from the root (no detached cycles). Each
 * is named exactly once, so a breadth-first walk meets each once. */
static int restore_verify_tree(const struct ms_fsm *fsm, size_t n_dirs)
{
	struct ms_inode **queue = calloc(n_dirs, sizeof(*queue));
	size_t head = 0;
	size_t tail = 0;
	size_t i;

	if (!queue)
		return -ENOMEM;
	queue[tail++] = ms_fsm_inode(fsm, RFS_ROOT_INO);
	while (head < tail) {
		const struct ms_dir *dir = queue[head++]->u.dir;

		for (i = 0; i < dir->n_slots; i++) {
			struct ms_inode *in =
			    ms_fsm_inode(fsm, dir->slots[i].d->ino);

			if (ms_fsm_is_dir(in) && tail < n_dirs)
				queue[tail++] = in;
		}
	}
	free(queue);
	return tail == n_dirs ? 0 : -EBADMSG;
}

static int restore_all(struct restore_ctx *c)
{
	struct ms_fsm_format fmt;
	size_t n_dirs;
	int rc;

	rc = restore_format(&c->r, &fmt, &c->version);
	if (rc < 0)
		return rc;
	c->fsm = ms_fsm_alloc(&fmt);
	if (!c->fsm)
		return -ENOMEM;
	rc = restore_servers(c);
	if (rc == 0)
		rc = restore_inodes(c);
	if (rc == 0)
		rc = restore_dirents(c);
	if (rc == 0)
		rc = restore_chunks(c);
	if (rc == 0)
		rc = restore_orphans(c);
	if (rc < 0)
		return rc;
	if (c->r.bad || c->r.off != c->r.len)
		return -EBADMSG;
	rc = restore_verify_links(c, &n_dirs);
	if (rc < 0)
		return rc;
	return restore_verify_tree(c->fsm, n_dirs);
}

int ms_fsm_restore(const void *buf, size_t len, struct ms_fsm **out)
{
	struct restore_ctx c = {0};
	const uint8_t *p = buf;
	uint32_t crc;
	int rc;

	*out = NULL;
	if (!buf || len < MS_SNAP_HEADER_LEN + MS_SNAP_TRAILER_LEN)
		return -EBADMSG;
	len -= MS_SNAP_TRAILER_LEN;
	crc = (uint32_t)p[len] | (uint32_t)p[len + 1] << 8 |
	      (uint32_t)p[len + 2] << 16 | (uint32_t)p[len + 3] << 24;
	if (rfs_crc32c(0, p, len) != crc)
		return -EBADMSG;
	c.r.p = p;
	c.r.len = len;
	rc = restore_all(&c);
	free(c.inodes);
	free(c.inos);
	free(c.refs);
	if (rc < 0) {
		ms_fsm_free(c.fsm);
		return rc;
	}
	*out = c.fsm;
	return 0;
}
