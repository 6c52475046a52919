/*
 * Directory listing ops: readdir, readdirplus (entries with their
 * attributes, so `ls -l`, find and tar need no lookup per entry) and
 * fsyncdir. A readdirplus page is one metaserver round trip: the entries
 * come with their attributes.
 *
 * Both listings page through the metaserver's readdir cookies: the FUSE
 * offset of an entry is its cookie (the last entry's with FC_DIR_OFF_EOF),
 * so a listing resumed after any change to the directory sees every entry
 * that existed throughout exactly once.
 */
#include <config.h>

#include "fuse-client/fc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Fewest bytes one FUSE directory entry takes besides its name: readdir
 * asks the metaserver for about as many entries as can fit. */
#define FC_DIRENT_MIN_BYTES	32
#define FC_DIRENTPLUS_MIN_BYTES 160
/*
 * Marks the FUSE offset of a directory's last entry (its cookie with this
 * bit): the kernel's next call at that offset, which only asks whether
 * anything follows, is answered "nothing" without a metaserver round
 * trip. Cookies count up from 1 per directory and never get near it.
 */
#define FC_DIR_OFF_EOF (1ull << 62)

struct fc_dirbuf {
	fuse_req_t req;
	char *buf;
	size_t size;
	size_t used;
	bool plus;
};

static bool is_dot_or_dotdot(const char *name)
{
	return name[0] == '.' &&
	       (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'));
}

/*
 * One readdirplus entry: the attributes the listing carried (a getattr
 * only when it did not: an older metaserver). "." and ".." go without
 * them (ino 0: the kernel takes no lookup reference), as does an entry
 * removed since the listing was read.
 */
static void plus_entry(fuse_req_t req, const struct rfs_dirent *d,
		       struct fuse_entry_param *e)
{
	struct fc_ctx *fc = fc_ctx_of(req);
	struct rfs_attr a;

	memset(e, 0, sizeof(*e));
	e->attr.st_ino = d->ino;
	e->attr.st_mode = d->mode;
	if (is_dot_or_dotdot(d->name))
		return;
	if (d->has_attr && d->attr.ino == d->ino)
		a = d->attr;
	else if (rfs_client_getattr(fc->c, d->ino, &a) < 0)
		return;
	fc_attr_add_dirty(fc, &a);
	fc_entry_from_attr(fc, &a, e);
}

/*
 * Append one entry (last: the directory's last one); false (nothing
 * added) when it does not fit.
 */
static bool dirbuf_add(struct fc_dirbuf *b, const struct rfs_dirent *d,
		       bool last)
{
	uint64_t off = d->cookie;
	struct fuse_entry_param e;
	struct stat st;
	size_t n;

	if (last)
		off |= FC_DIR_OFF_EOF;
	if (b->plus) {
		plus_entry(b->req, d, &e);
		n = fuse_add_direntry_plus(b->req, b->buf + b->used,
					   b->size - b->used, d->name, &e,
					   (off_t)off);
	} else {
		memset(&st, 0, sizeof(st));
		st.st_ino = d->ino;
		st.st_mode = d->mode;
		n = fuse_add_direntry(b->req, b->buf + b->used,
				      b->size - b->used, d->name, &st,
				      (off_t)off);
	}
	if (n > b->size - b->used)
		return false;
	b->used += n;
	return true;
}

/* Fill b with the entries after cookie `off`, page by page from the
 * metaserver, while they fit. Returns 0 or a negative errno (only when
 * nothing was added). */
static int do_readdir(fuse_ino_t ino, uint64_t off, struct fc_dirbuf *b)
{
	size_t per = b->plus ? FC_DIRENTPLUS_MIN_BYTES : FC_DIRENT_MIN_BYTES;
	struct fc_ctx *fc = fc_ctx_of(b->req);
	struct rfs_readdir_reply r;
	bool full = false;
	uint64_t gen;
	size_t i;
	size_t n;
	int rc;

	if (off & FC_DIR_OFF_EOF)
		return 0; /* after the last entry: nothing follows */
	do {
		gen = fc_ncache_gen(fc->ncache);
		n = (b->size - b->used) / per + 1;
		rc = (b->plus ? rfs_client_readdirplus : rfs_client_readdir)(
		    fc->c, ino, off, n > RFS_READDIR_MAX ? 0 : (uint32_t)n, &r);
		if (rc < 0)
			return b->used ? 0 : rc;
		if (b->plus) /* lookups after the kernel forgets these */
			fc_ncache_fill(fc->ncache, ino, r.entries, r.n, gen,
				       fc_dcache_now_ns());
		for (i = 0; i < r.n && !full; i++) {
			full = !dirbuf_add(b, &r.entries[i],
					   r.eof && i + 1 == r.n);
			if (!full)
				off = r.entries[i].cookie;
		}
		full = full || r.eof || r.n == 0;
		rfs_proto_readdir_release(&r);
	} while (!full);
	return 0;
}

static void reply_dir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		      bool plus)
{
	struct fc_dirbuf b = {.req = req, .size = size, .plus = plus};
	int rc = -ENOMEM;

	fc_unlinkq_drain(fc_ctx_of(req)->unlinkq);
	b.buf = malloc(size ? size : 1);
	if (b.buf)
		rc = do_readdir(ino, (uint64_t)off, &b);
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_buf(req, b.buf, b.used);
	free(b.buf);
}

void fc_op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		   struct fuse_file_info *fi)
{
	reply_dir(req, ino, size, off, false);
}

/*
 * The kernel's lookup count of every entry but "." and ".." goes up by
 * one; inode numbers are never reused, so nothing is counted here (see
 * forget in ops.c).
 */
void fc_op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	reply_dir(req, ino, size, off, true);
}

void fc_list_for_ncache(struct fc_ctx *fc, fuse_ino_t ino)
{
	struct rfs_readdir_reply r;
	uint64_t cookie = 0;
	size_t listed = 0;
	bool more = true;
	uint64_t gen;

	while (more && listed < FC_NCACHE_FILL_MAX) {
		gen = fc_ncache_gen(fc->ncache);
		if (rfs_client_readdirplus(fc->c, ino, cookie, 0, &r) < 0)
			return;
		more = fc_ncache_fill(fc->ncache, ino, r.entries, r.n, gen,
				      fc_dcache_now_ns()) &&
		       !r.eof && r.n > 0;
		if (r.n > 0)
			cookie = r.entries[r.n - 1].cookie;
		listed += r.n;
		rfs_proto_readdir_release(&r);
	}
}

void fc_op_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync,
		    struct fuse_file_info *fi)
{
	/* every metadata change is durable on the metaserver when answered;
	 * queued unlinks are once the queue is empty */
	fc_unlinkq_drain(fc_ctx_of(req)->unlinkq);
	fuse_reply_err(req, 0);
}
