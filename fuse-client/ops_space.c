/*
 * Space ops: fallocate and lseek SEEK_DATA/SEEK_HOLE.
 *
 * ringfs stores a file as chunks; a chunk that was never written is a
 * hole, and so are the bytes of a chunk past its stored length (both read
 * as zeros). fallocate cannot reserve space on the chunk servers, so mode
 * 0 only makes the file long enough (the new range is a hole that reads as
 * zeros, as after ftruncate); FALLOC_FL_KEEP_SIZE is a no-op; punching
 * holes and zeroing ranges are EOPNOTSUPP. SEEK_DATA/SEEK_HOLE answer from
 * the file's chunk layout after committing what this mount buffered.
 */
#include <config.h>

#include "fuse-client/fc.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdio.h> /* SEEK_DATA, SEEK_HOLE with _GNU_SOURCE */
#include <unistd.h>

/* fallocate: mode 0 grows the file to offset + length when shorter. */
static int do_fallocate(struct fc_ctx *fc, fuse_ino_t ino, int mode,
			off_t offset, off_t length)
{
	struct rfs_client_setattr sa = {0};
	struct rfs_attr a;
	uint64_t end;
	int rc;

	if (mode & ~FALLOC_FL_KEEP_SIZE)
		return -EOPNOTSUPP;
	if (offset < 0 || length <= 0)
		return -EINVAL;
	if (__builtin_add_overflow((uint64_t)offset, (uint64_t)length, &end) ||
	    end > (uint64_t)INT64_MAX)
		return -EFBIG;
	if (mode & FALLOC_FL_KEEP_SIZE)
		return 0;
	rc = rfs_client_getattr(fc->c, ino, &a);
	if (rc < 0)
		return rc;
	fc_attr_add_dirty(fc, &a);
	if (!S_ISREG(a.mode))
		return S_ISDIR(a.mode) ? -EISDIR : -ENODEV;
	if (end <= a.size)
		return 0;
	sa.valid = RFS_SETATTR_SIZE;
	sa.size = end;
	return fc_files_set_size(fc->files, ino, &sa, &a);
}

void fc_op_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset,
		     off_t length, struct fuse_file_info *fi)
{
	fuse_reply_err(
	    req, -do_fallocate(fc_ctx_of(req), ino, mode, offset, length));
}

/* Where one scan of the layout stands. */
struct seek_scan {
	uint64_t pos;  /* SEEK_DATA: not found yet; SEEK_HOLE: the candidate */
	bool found;    /* pos is the answer */
	uint64_t from; /* where the next layout page starts */
	bool more;     /* the layout reply was cut: fetch the next page */
};

/*
 * One page of the layout. Stored bytes of chunk i are [i * cs, i * cs +
 * length) cut at the file size; everything else is a hole.
 */
static void seek_page(const struct rfs_layout *l, int whence,
		      struct seek_scan *s)
{
	uint64_t cs = l->chunk_size;
	size_t i;

	for (i = 0; i < l->n_chunks && !s->found; i++) {
		uint64_t start = l->chunks[i].index * cs;
		uint64_t end = start + l->chunks[i].length;

		if (end > l->size)
			end = l->size;
		if (whence == SEEK_DATA) {
			if (end > s->pos && start < end) {
				s->pos = start > s->pos ? start : s->pos;
				s->found = true;
			}
			continue;
		}
		if (start > s->pos)
			s->found = true; /* a hole before this chunk */
		else if (end > s->pos)
			s->pos = end;
		if (!s->found && end < start + cs)
			s->found = true; /* the chunk's unstored tail */
	}
	s->more = l->n_chunks == RFS_LAYOUT_MAX_CHUNKS;
	if (l->n_chunks)
		s->from = (l->chunks[l->n_chunks - 1].index + 1) * cs;
}

static int do_lseek(struct fc_ctx *fc, fuse_ino_t ino, struct fc_file *f,
		    uint64_t off, int whence, uint64_t *out)
{
	struct seek_scan s = {.pos = off, .from = off};
	struct rfs_layout l;
	uint64_t size;
	int rc;

	if (whence != SEEK_DATA && whence != SEEK_HOLE)
		return -EINVAL;
	rc = fc_file_flush(fc->files, f);
	if (rc < 0)
		return rc;
	do {
		rc = rfs_client_layout(fc->c, ino, s.from, 0, &l);
		if (rc < 0)
			return rc;
		size = l.size;
		if (off >= size) {
			rfs_proto_layout_release(&l);
			return -ENXIO;
		}
		seek_page(&l, whence, &s);
		rfs_proto_layout_release(&l);
	} while (!s.found && s.more && s.from < size);
	if (whence == SEEK_DATA && !s.found)
		return -ENXIO; /* only holes up to the end */
	*out = s.pos < size ? s.pos : size;
	return 0;
}

void fc_op_lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence,
		 struct fuse_file_info *fi)
{
	uint64_t pos = 0;
	int rc = -ENXIO;

	if (off >= 0)
		rc = do_lseek(fc_ctx_of(req), ino, fc_file_of(fi),
			      (uint64_t)off, whence, &pos);
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_lseek(req, (off_t)pos);
}
