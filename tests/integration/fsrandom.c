/*
 * fsrandom: a seeded random-operation tester for file systems.
 *
 *   fsrandom --seed N --ops N [--full-every N] [--chunk BYTES]
 *            [--no-xattr] [--no-orphans] [--corrupt-at STEP] [-v]
 *            DIR_A DIR_B
 *
 * It runs the same pseudo-random operations (a pure function of the seed)
 * on two trees, A (e.g. a ringfs mount) and B (e.g. a local directory):
 * create, write at random offsets and lengths around multiples of the chunk
 * size, truncate (grow and shrink), rename (with RENAME_NOREPLACE and
 * RENAME_EXCHANGE, over existing targets), link, unlink, mkdir, rmdir,
 * chmod, utimensat, setxattr/removexattr, symlink, reads at random
 * offsets, several file descriptors on one file used in turn, and
 * descriptors kept open across steps (while the file is renamed or
 * unlinked).
 *
 * After each operation it compares the result of every system call
 * (return value, errno, hash of the bytes read) on A and B, then the state
 * of every path the operation touched and of their parent directories:
 * type, mode, owner, size and link count (not for directories: their size
 * and link count are file-system specific), content, symlink target, the
 * sorted names of a directory, the user.* extended attributes and, after
 * a utimensat with an explicit time, the mtime. Every
 * --full-every steps and at the end the whole trees are compared, hard
 * links included (paths sharing an inode on A share one on B).
 *
 * The paths an operation uses are picked from the current tree of B, so B
 * must be a trusted file system. ENOTEMPTY and EEXIST count as the same
 * error (POSIX allows either for rmdir and rename of a non-empty
 * directory). Other times are not compared.
 *
 * POSIX keeps a file that is unlinked while open readable and writable
 * through its descriptors until the last close; --no-orphans never
 * removes the last name of a file a kept descriptor holds, to test the
 * rest where that is known not to work.
 *
 * On the first difference it prints the seed, the step number, the
 * operation and the difference on stderr and exits 1. Otherwise it prints
 * "N ops, N checks" and exits 0. Exit status 2: bad usage or setup.
 * --corrupt-at STEP damages B after that step's operation (self-test: the
 * run must then fail at that step).
 */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "tests/integration/fsrandom.h"

/* Relative weights of the op kinds. */
static const unsigned op_weights[OP_NKINDS] = {12, 14, 8, 8, 10, 5, 7, 6,
					       5,  5,  5, 3, 4,	 6, 8, 4};

static const char *const pool[] = {
    "a",
    "b",
    "c",
    "d",
    "e",
    "f",
    "sp ace",
    "\xc3\xbc-utf8",
    "long-name-0123456789-0123456789-0123456789-0123456789-0123456789-"
    "0123456789-0123456789-012345678",
};
#define POOL_N (sizeof(pool) / sizeof(pool[0]))

static const char *const xnames[] = {"user.a", "user.bb",
				     "user.a-longer-attribute-name"};
#define XNAMES_N (sizeof(xnames) / sizeof(xnames[0]))

/* ---- randomness and data --------------------------------------------- */

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t rnd(struct fsr *f, uint64_t n)
{
	return n ? splitmix(&f->rng) % n : 0;
}

static bool chance(struct fsr *f, unsigned percent)
{
	return rnd(f, 100) < percent;
}

/* The bytes of a write: a pure function of its seed. */
static void fill(unsigned char *buf, size_t len, uint64_t seed)
{
	uint64_t s = seed, v = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		if (i % 8 == 0)
			v = splitmix(&s);
		buf[i] = (unsigned char)(v >> (8 * (i % 8)));
	}
}

static uint64_t fnv(const unsigned char *p, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

/* ---- the tree of B -------------------------------------------------------- */

static void walk_dir(struct fsr *f, const char *rel, int depth)
{
	char abs[PATH_MAX], child[FSR_MAX_REL];
	size_t self = f->nents - 1;
	struct dirent *de;
	struct stat st;
	DIR *d;

	fsr_path(f, 1, rel, abs);
	d = opendir(abs);
	if (!d)
		return;
	while ((de = readdir(d)) && f->nents < FSR_MAX_ENTS) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		f->ents[self].empty = false;
		fsr_join(child, rel, de->d_name);
		fsr_path(f, 1, child, abs);
		if (lstat(abs, &st) < 0)
			continue;
		struct ent *e = &f->ents[f->nents++];

		fsr_bprintf(e->path, sizeof(e->path), "%s", child);
		e->type = st.st_mode & S_IFMT;
		e->depth = depth + 1;
		e->empty = true;
		if (S_ISDIR(st.st_mode))
			walk_dir(f, child, depth + 1);
	}
	closedir(d);
}

/* The entries of tree B (the root is entry 0, path ""). */
static void walk_b(struct fsr *f)
{
	f->nents = 1;
	f->ents[0].path[0] = '\0';
	f->ents[0].type = S_IFDIR;
	f->ents[0].depth = 0;
	f->ents[0].empty = true;
	walk_dir(f, "", 0);
}

#define T_FILE	   1u
#define T_DIR	   2u
#define T_LINK	   4u
#define T_ANY	   7u
#define T_EMPTYDIR 8u

static bool ent_matches(const struct ent *e, unsigned mask)
{
	if (e->path[0] == '\0')
		return false;
	if (mask & T_EMPTYDIR)
		return S_ISDIR(e->type) && e->empty;
	return ((mask & T_FILE) && S_ISREG(e->type)) ||
	       ((mask & T_DIR) && S_ISDIR(e->type)) ||
	       ((mask & T_LINK) && S_ISLNK(e->type));
}

/* An existing path of B of one of the types in mask. */
static bool pick_exist(struct fsr *f, unsigned mask, char *out)
{
	size_t i, n = 0, k;

	for (i = 0; i < f->nents; i++)
		n += ent_matches(&f->ents[i], mask);
	if (n == 0)
		return false;
	k = rnd(f, n);
	for (i = 0; i < f->nents; i++)
		if (ent_matches(&f->ents[i], mask) && k-- == 0)
			break;
	fsr_bprintf(out, FSR_MAX_REL, "%s", f->ents[i].path);
	return true;
}

/* A name from the pool in a random directory (it may exist already). */
static void pick_new(struct fsr *f, char *out)
{
	size_t i, n = 0, k;

	for (i = 0; i < f->nents; i++)
		n += S_ISDIR(f->ents[i].type) &&
		     f->ents[i].depth < FSR_MAX_DEPTH;
	k = rnd(f, n);
	for (i = 0; i < f->nents; i++)
		if (S_ISDIR(f->ents[i].type) &&
		    f->ents[i].depth < FSR_MAX_DEPTH && k-- == 0)
			break;
	fsr_join(out, f->ents[i].path, pool[rnd(f, POOL_N)]);
}

/* An existing path of a type in mask, or with new_pct % chance (or when
 * none exists) a new one. */
static void pick(struct fsr *f, unsigned mask, unsigned new_pct, char *out)
{
	if (chance(f, new_pct) || !pick_exist(f, mask, out))
		pick_new(f, out);
}

/* ---- op generation ------------------------------------------------------ */

/* Offsets cluster at 0 and around chunk boundaries. */
static off_t pick_off(struct fsr *f)
{
	off_t c = (off_t)f->chunk, delta = (off_t)rnd(f, 8193) - 4096;
	off_t k = 1 + (off_t)rnd(f, 3), off;

	switch (rnd(f, 5)) {
	case 0:
		return 0;
	case 1:
		return (off_t)rnd(f, 65536);
	case 2:
	case 3:
		off = k * c + delta;
		return off < 0 ? 0 : off;
	default:
		return (off_t)rnd(f, 3 * f->chunk);
	}
}

/* Lengths: mostly small, some spanning one or two chunk boundaries. */
static size_t pick_len(struct fsr *f)
{
	unsigned r = (unsigned)rnd(f, 100);

	if (r < 5)
		return 0;
	if (r < 45)
		return 1 + rnd(f, 4096);
	if (r < 75)
		return 1 + rnd(f, 131072);
	if (r < 93)
		return 1 + rnd(f, f->chunk);
	return f->chunk + rnd(f, f->chunk + 300);
}

static off_t pick_size(struct fsr *f)
{
	if (chance(f, 15))
		return 0;
	return chance(f, 50) ? pick_off(f) : (off_t)rnd(f, 100000);
}

static mode_t pick_mode(struct fsr *f, bool dir)
{
	if (dir)
		return 0700 | (mode_t)rnd(f, 0100);
	return 0400 | (mode_t)rnd(f, 01000);
}

/* The size of a file of B, or 0. */
static off_t b_size(struct fsr *f, const char *rel)
{
	char abs[PATH_MAX];
	struct stat st;

	fsr_path(f, 1, rel, abs);
	return stat(abs, &st) == 0 ? st.st_size : 0;
}

static const int fd_flag_set[] = {O_RDWR, O_RDWR | O_APPEND, O_WRONLY,
				  O_RDONLY};

static void gen_sub(struct fsr *f, struct sub *s, int nfd)
{
	s->kind = (enum sub_kind)rnd(f, SUB_NKINDS);
	s->fd = (int)rnd(f, (uint64_t)nfd);
	s->off = pick_off(f);
	s->len = pick_len(f) / 2;
	s->data = splitmix(&f->rng);
	if (s->kind == SUB_FTRUNCATE)
		s->off = pick_size(f);
	if (s->kind == SUB_LSEEK && chance(f, 30))
		s->off = -1; /* SEEK_END */
}

static void gen_multifd(struct fsr *f, struct op *o)
{
	int i, j, t;

	pick(f, T_FILE, 10, o->p1);
	o->nfd = 2 + (int)rnd(f, FSR_MAX_FDS - 1);
	for (i = 0; i < o->nfd; i++) {
		o->fdflags[i] = fd_flag_set[rnd(f, 4)];
		o->close_order[i] = i;
	}
	if (chance(f, 50))
		o->fdflags[0] =
		    O_RDWR | O_CREAT | (chance(f, 30) ? O_TRUNC : 0);
	for (i = o->nfd - 1; i > 0; i--) {
		j = (int)rnd(f, (uint64_t)i + 1);
		t = o->close_order[i];
		o->close_order[i] = o->close_order[j];
		o->close_order[j] = t;
	}
	o->nsub = 3 + (int)rnd(f, FSR_MAX_SUBS - 2);
	for (i = 0; i < o->nsub; i++)
		gen_sub(f, &o->subs[i], o->nfd);
}

static void gen_slot(struct fsr *f, struct op *o)
{
	struct slot *s;

	o->slot = (int)rnd(f, FSR_NSLOTS);
	s = &f->slots[o->slot];
	if (!s->open) {
		o->action = SLOT_OPEN;
		pick(f, T_FILE, 10, o->p1);
		o->flags = O_RDWR | (chance(f, 50) ? O_CREAT : 0);
		return;
	}
	fsr_bprintf(o->p1, sizeof(o->p1), "%s", s->path);
	o->action = chance(f, 20) ? SLOT_CLOSE : SLOT_IO;
	o->nfd = 1;
	o->nsub = 1;
	gen_sub(f, &o->subs[0], 1);
}

static void gen_symlink(struct fsr *f, struct op *o)
{
	char dir[FSR_MAX_REL];

	pick(f, T_ANY, 85, o->p1);
	switch (rnd(f, 5)) {
	case 0: /* a sibling (maybe itself: a loop) */
	case 1:
		fsr_bprintf(o->p2, sizeof(o->p2), "%s", pool[rnd(f, POOL_N)]);
		break;
	case 2: /* deeper */
		fsr_bprintf(o->p2, sizeof(o->p2), "%s/%s", pool[rnd(f, POOL_N)],
			    pool[rnd(f, POOL_N)]);
		break;
	case 3: /* dangling, absolute */
		fsr_bprintf(o->p2, sizeof(o->p2), "/nonexistent-fsrandom/%s",
			    pool[rnd(f, POOL_N)]);
		break;
	default: /* an existing entry, relative to the link's directory */
		fsr_parent(o->p1, dir);
		if (pick_exist(f, T_ANY, o->p2) && dir[0] &&
		    !strncmp(o->p2, dir, strlen(dir)) &&
		    o->p2[strlen(dir)] == '/')
			memmove(o->p2, o->p2 + strlen(dir) + 1,
				strlen(o->p2) - strlen(dir));
		else if (dir[0])
			fsr_bprintf(o->p2, sizeof(o->p2), "%s", pool[0]);
	}
}

static void gen_rename(struct fsr *f, struct op *o)
{
	pick(f, T_ANY, 5, o->p1);
	pick(f, T_ANY, 50, o->p2);
	o->flags = 0;
	if (chance(f, 10))
		o->flags = RENAME_NOREPLACE;
	else if (chance(f, 10))
		o->flags = RENAME_EXCHANGE;
}

static void gen_file_op(struct fsr *f, struct op *o)
{
	switch (o->kind) {
	case OP_CREATE:
		pick(f, T_FILE, 40, o->p1);
		o->flags = (chance(f, 20) ? O_EXCL : 0) |
			   (chance(f, 30) ? O_TRUNC : 0);
		o->mode = pick_mode(f, false);
		o->len = pick_len(f);
		break;
	case OP_WRITE:
		pick(f, T_FILE, 5, o->p1);
		o->off = pick_off(f);
		o->len = pick_len(f);
		o->flags = chance(f, 10) ? O_TRUNC : 0;
		if (chance(f, 15) &&
		    b_size(f, o->p1) + (off_t)o->len < (off_t)(4 * f->chunk))
			o->flags |= O_APPEND;
		break;
	case OP_READ:
		pick(f, chance(f, 95) ? T_FILE : T_ANY, 3, o->p1);
		o->off = pick_off(f);
		o->len = pick_len(f);
		break;
	default: /* OP_TRUNCATE */
		pick(f, chance(f, 95) ? T_FILE : T_ANY, 3, o->p1);
		o->off = pick_size(f);
	}
}

static void gen_ns_op(struct fsr *f, struct op *o)
{
	switch (o->kind) {
	case OP_LINK:
		pick(f, chance(f, 10) ? T_ANY : T_FILE | T_LINK, 3, o->p1);
		pick(f, T_ANY, 80, o->p2);
		break;
	case OP_UNLINK:
		pick(f, chance(f, 10) ? T_ANY : T_FILE | T_LINK, 3, o->p1);
		break;
	case OP_MKDIR:
		pick(f, T_ANY, 90, o->p1);
		o->mode = pick_mode(f, true);
		break;
	case OP_RMDIR:
		pick(f,
		     chance(f, 50)   ? T_EMPTYDIR
		     : chance(f, 10) ? T_ANY
				     : T_DIR,
		     3, o->p1);
		break;
	case OP_CHMOD:
		pick(f, T_ANY, 3, o->p1);
		o->mode = pick_mode(f, true);
		break;
	case OP_UTIMENS: /* off: the new mtime in seconds, 0: UTIME_NOW */
		pick(f, T_ANY, 3, o->p1);
		o->flags = chance(f, 30) ? AT_SYMLINK_NOFOLLOW : 0;
		o->off =
		    chance(f, 80) ? 1000000000 + (off_t)rnd(f, 100000000) : 0;
		break;
	case OP_SETXATTR:
	case OP_REMOVEXATTR:
		pick(f, chance(f, 90) ? T_FILE | T_DIR : T_ANY, 3, o->p1);
		o->xname = xnames[rnd(f, XNAMES_N)];
		o->len = chance(f, 10) ? 1000 + rnd(f, 100) : rnd(f, 300);
		o->data = splitmix(&f->rng);
		o->flags = chance(f, 70)   ? 0
			   : chance(f, 50) ? XATTR_CREATE
					   : XATTR_REPLACE;
		break;
	default:
		break;
	}
}

static enum op_kind pick_kind(struct fsr *f)
{
	unsigned total = 0, r, k;

	if (f->nents > FSR_CROWDED && chance(f, 40))
		return chance(f, 60) ? OP_UNLINK : OP_RMDIR;
	for (k = 0; k < OP_NKINDS; k++)
		total +=
		    (f->xattrs || (k != OP_SETXATTR && k != OP_REMOVEXATTR))
			? op_weights[k]
			: 0;
	r = (unsigned)rnd(f, total);
	for (k = 0; k < OP_NKINDS; k++) {
		if (!f->xattrs && (k == OP_SETXATTR || k == OP_REMOVEXATTR))
			continue;
		if (r < op_weights[k])
			break;
		r -= op_weights[k];
	}
	return (enum op_kind)k;
}

static void gen_one(struct fsr *f, struct op *o)
{
	memset(o, 0, sizeof(*o));
	o->kind = pick_kind(f);
	o->data = splitmix(&f->rng);
	switch (o->kind) {
	case OP_CREATE:
	case OP_WRITE:
	case OP_READ:
	case OP_TRUNCATE:
		gen_file_op(f, o);
		break;
	case OP_RENAME:
		gen_rename(f, o);
		break;
	case OP_SYMLINK:
		gen_symlink(f, o);
		break;
	case OP_MULTIFD:
		gen_multifd(f, o);
		break;
	case OP_SLOT:
		gen_slot(f, o);
		break;
	default:
		gen_ns_op(f, o);
	}
}

/* Would the op remove the last name of a file a slot holds open? (On B:
 * same inode, one link.) */
static bool orphans(struct fsr *f, const struct op *o)
{
	const char *rel = o->kind == OP_UNLINK ? o->p1 : o->p2;
	char abs[PATH_MAX];
	struct stat st, held;
	int i;

	if (o->kind != OP_UNLINK &&
	    (o->kind != OP_RENAME || o->flags == RENAME_EXCHANGE))
		return false;
	fsr_path(f, 1, rel, abs);
	if (lstat(abs, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1)
		return false;
	for (i = 0; i < FSR_NSLOTS; i++)
		if (f->slots[i].open && fstat(f->slots[i].fd[1], &held) == 0 &&
		    held.st_ino == st.st_ino && held.st_dev == st.st_dev)
			return true;
	return false;
}

static void gen_op(struct fsr *f, struct op *o)
{
	do
		gen_one(f, o);
	while (f->no_orphans && orphans(f, o));
}

/* ---- op execution ------------------------------------------------------- */

/* Record a call's result; errno is read first, so call it right after. */
static void rec(struct res *r, const char *what, long ret, uint64_t hash)
{
	int err = ret < 0 ? errno : 0;

	if (r->n >= FSR_MAX_CALLS)
		return;
	r->c[r->n].what = what;
	r->c[r->n].ret = ret;
	r->c[r->n].err = err;
	r->c[r->n].hash = hash;
	r->n++;
}

/* Record an open: only success or failure (and errno) is compared, not
 * the descriptor number. */
static void rec_open(struct res *r, int fd)
{
	rec(r, "open", fd < 0 ? -1 : 0, 0);
}

static void ensure_wbuf(struct fsr *f, size_t len, uint64_t seed)
{
	fill(f->wbuf, len < f->wbuf_len ? len : f->wbuf_len, seed);
}

static void exec_sub(struct fsr *f, int side, const struct sub *s, int fd,
		     struct res *r)
{
	unsigned char *rb = f->rbuf[side];
	struct stat st;
	long ret;

	switch (s->kind) {
	case SUB_PWRITE:
		ensure_wbuf(f, s->len, s->data);
		rec(r, "pwrite", (long)pwrite(fd, f->wbuf, s->len, s->off), 0);
		break;
	case SUB_WRITE:
		ensure_wbuf(f, s->len, s->data);
		rec(r, "write", (long)write(fd, f->wbuf, s->len), 0);
		break;
	case SUB_PREAD:
	case SUB_READ:
		ret = s->kind == SUB_PREAD ? (long)pread(fd, rb, s->len, s->off)
					   : (long)read(fd, rb, s->len);
		rec(r, fsr_sub_names[s->kind], ret,
		    ret > 0 ? fnv(rb, (size_t)ret) : 0);
		break;
	case SUB_FTRUNCATE:
		rec(r, "ftruncate", ftruncate(fd, s->off), 0);
		break;
	case SUB_FSYNC:
		rec(r, "fsync", fsync(fd), 0);
		break;
	case SUB_FSTAT:
		/* size and link count, not for directories (see compare_stat) */
		ret = fstat(fd, &st);
		if (ret == 0 && S_ISDIR(st.st_mode)) {
			st.st_size = 0;
			st.st_nlink = 0;
		}
		rec(r, "fstat", ret < 0 ? ret : (long)st.st_size,
		    ret < 0 ? 0 : ((uint64_t)st.st_mode << 32) | st.st_nlink);
		break;
	default:
		/* a directory's offsets are the file system's own cookies */
		if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
			rec(r, "lseek on a directory (not compared)", 0, 0);
			break;
		}
		ret = (long)(s->off < 0 ? lseek(fd, 0, SEEK_END)
					: lseek(fd, s->off, SEEK_SET));
		rec(r, "lseek", ret, 0);
	}
}

static void exec_multifd(struct fsr *f, int side, const char *p, struct res *r)
{
	const struct op *o = &f->op;
	int fds[FSR_MAX_FDS], i, k;

	for (i = 0; i < o->nfd; i++) {
		fds[i] = open(p, o->fdflags[i], 0644);
		rec_open(r, fds[i]);
	}
	for (i = 0; i < o->nsub; i++)
		exec_sub(f, side, &o->subs[i], fds[o->subs[i].fd], r);
	for (i = 0; i < o->nfd; i++) {
		k = o->close_order[i];
		if (fds[k] >= 0)
			rec(r, "close", close(fds[k]), 0);
	}
}

static void exec_slot(struct fsr *f, int side, const char *p, struct res *r)
{
	const struct op *o = &f->op;
	struct slot *s = &f->slots[o->slot];

	switch (o->action) {
	case SLOT_OPEN:
		s->fd[side] = open(p, o->flags, 0640);
		rec_open(r, s->fd[side]);
		break;
	case SLOT_IO:
		exec_sub(f, side, &o->subs[0], s->fd[side], r);
		break;
	default:
		if (s->fd[side] >= 0)
			rec(r, "close", close(s->fd[side]), 0);
		s->fd[side] = -1;
	}
}

static void exec_data(struct fsr *f, int side, const char *p, struct res *r)
{
	const struct op *o = &f->op;
	unsigned char *rb = f->rbuf[side];
	long ret;
	int fd;

	switch (o->kind) {
	case OP_CREATE:
		fd = open(p, O_CREAT | O_WRONLY | o->flags, o->mode);
		rec_open(r, fd);
		if (fd < 0)
			return;
		ensure_wbuf(f, o->len, o->data);
		rec(r, "write", (long)write(fd, f->wbuf, o->len), 0);
		rec(r, "close", close(fd), 0);
		break;
	case OP_WRITE:
		fd = open(p, O_WRONLY | o->flags);
		rec_open(r, fd);
		if (fd < 0)
			return;
		ensure_wbuf(f, o->len, o->data);
		rec(r, "pwrite", (long)pwrite(fd, f->wbuf, o->len, o->off), 0);
		rec(r, "close", close(fd), 0);
		break;
	default: /* OP_READ */
		fd = open(p, O_RDONLY);
		rec_open(r, fd);
		if (fd < 0)
			return;
		ret = (long)pread(fd, rb, o->len, o->off);
		rec(r, "pread", ret, ret > 0 ? fnv(rb, (size_t)ret) : 0);
		rec(r, "close", close(fd), 0);
	}
}

/* The namespace and attribute ops. */
static void exec_ns(struct fsr *f, const char *p1, const char *p2,
		    struct res *r)
{
	const struct op *o = &f->op;
	struct timespec ts[2] = {{0, UTIME_OMIT}, {o->off, 0}};

	switch (o->kind) {
	case OP_TRUNCATE:
		rec(r, "truncate", truncate(p1, o->off), 0);
		break;
	case OP_RENAME:
		rec(r, "rename",
		    renameat2(AT_FDCWD, p1, AT_FDCWD, p2, (unsigned)o->flags),
		    0);
		break;
	case OP_LINK:
		rec(r, "link", link(p1, p2), 0);
		break;
	case OP_UNLINK:
		rec(r, "unlink", unlink(p1), 0);
		break;
	case OP_MKDIR:
		rec(r, "mkdir", mkdir(p1, o->mode), 0);
		break;
	case OP_RMDIR:
		rec(r, "rmdir", rmdir(p1), 0);
		break;
	case OP_CHMOD:
		rec(r, "chmod", chmod(p1, o->mode), 0);
		break;
	case OP_SETXATTR:
		ensure_wbuf(f, o->len, o->data);
		rec(r, "setxattr",
		    setxattr(p1, o->xname, f->wbuf, o->len, o->flags), 0);
		break;
	case OP_REMOVEXATTR:
		rec(r, "removexattr", removexattr(p1, o->xname), 0);
		break;
	case OP_SYMLINK:
		rec(r, "symlink", symlink(o->p2, p1), 0);
		break;
	default: /* OP_UTIMENS, off 0: UTIME_NOW */
		ts[1].tv_nsec = o->off ? 0 : UTIME_NOW;
		rec(r, "utimensat", utimensat(AT_FDCWD, p1, ts, o->flags), 0);
	}
}

static void exec_op(struct fsr *f, int side, struct res *r)
{
	const struct op *o = &f->op;
	char p1[PATH_MAX], p2[PATH_MAX];

	fsr_path(f, side, o->p1, p1);
	fsr_path(f, side, o->p2, p2);
	r->n = 0;
	switch (o->kind) {
	case OP_CREATE:
	case OP_WRITE:
	case OP_READ:
		exec_data(f, side, p1, r);
		break;
	case OP_MULTIFD:
		exec_multifd(f, side, p1, r);
		break;
	case OP_SLOT:
		exec_slot(f, side, p1, r);
		break;
	default:
		exec_ns(f, p1, p2, r);
	}
}

/* ---- self-test ---------------------------------------------------------- */

/* --corrupt-at: change B where the op just worked. */
static void corrupt_b(struct fsr *f)
{
	char p[PATH_MAX];
	struct stat st;
	int fd;

	fsr_path(f, 1, f->op.p1, p);
	if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
		chmod(p, (st.st_mode ^ 01) & 07777);
		return;
	}
	if (lstat(p, &st) == 0 && !S_ISREG(st.st_mode))
		unlink(p);
	fd = open(p, O_WRONLY | O_APPEND | O_CREAT, 0644);
	if (fd >= 0) {
		if (write(fd, "x", 1) != 1)
			perror("fsrandom: corrupt");
		close(fd);
	}
}

/* ---- main --------------------------------------------------------------- */

static void print_res(const struct res *r)
{
	int i;

	for (i = 0; i < r->n; i++)
		fprintf(stderr, "  %s -> %ld%s%s\n", r->c[i].what, r->c[i].ret,
			r->c[i].err ? " " : "",
			r->c[i].err ? strerror(r->c[i].err) : "");
}

static void run_step(struct fsr *f)
{
	static struct res r[2];
	struct slot *s;

	walk_b(f);
	gen_op(f, &f->op);
	fsr_describe(f);
	if (f->verbose)
		fprintf(stderr, "step %ld: %s\n", f->step, f->desc);
	exec_op(f, 0, &r[0]);
	exec_op(f, 1, &r[1]);
	if (f->verbose)
		print_res(&r[1]);
	fsr_compare_res(f, &r[0], &r[1]);
	if (f->op.kind == OP_SLOT) {
		s = &f->slots[f->op.slot];
		if (f->op.action == SLOT_OPEN && s->fd[0] >= 0) {
			s->open = true;
			fsr_bprintf(s->path, sizeof(s->path), "%s", f->op.p1);
		} else if (f->op.action == SLOT_CLOSE) {
			s->open = false;
		}
	}
	if (f->step == f->corrupt_at)
		corrupt_b(f);
	fsr_check_touched(f);
	if (f->full_every > 0 && f->step % f->full_every == 0)
		fsr_compare_all(f);
}

/* Close the slots still open (their close results compared), then compare
 * the whole trees. */
static void finish(struct fsr *f)
{
	int i, s, rc[2];

	f->desc[0] = '\0';
	fsr_describe_add(f, "final close and full comparison");
	for (i = 0; i < FSR_NSLOTS; i++) {
		if (!f->slots[i].open)
			continue;
		for (s = 0; s < 2; s++)
			rc[s] = close(f->slots[i].fd[s]) < 0 ? errno : 0;
		f->slots[i].open = false;
		if (rc[0] != rc[1])
			fsr_differ(f, "close of slot %d: A %s, B %s", i,
				   strerror(rc[0]), strerror(rc[1]));
	}
	fsr_compare_all(f);
}

static void usage(void)
{
	fprintf(
	    stderr,
	    "usage: fsrandom --seed N --ops N [--full-every N] "
	    "[--chunk BYTES]\n"
	    "                [--no-xattr] [--no-orphans] [--corrupt-at STEP] "
	    "[-v] DIR_A DIR_B\n");
	exit(2);
}

static long num_arg(const char *s)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 0);
	if (errno || *end || v < 0 || v > LONG_MAX)
		usage();
	return (long)v;
}

static void parse_args(struct fsr *f, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"seed", required_argument, NULL, 's'},
	    {"ops", required_argument, NULL, 'n'},
	    {"full-every", required_argument, NULL, 'F'},
	    {"chunk", required_argument, NULL, 'c'},
	    {"no-xattr", no_argument, NULL, 'X'},
	    {"corrupt-at", required_argument, NULL, 'C'},
	    {"no-orphans", no_argument, NULL, 'O'},
	    {"verbose", no_argument, NULL, 'v'},
	    {NULL, 0, NULL, 0}};
	int c;

	while ((c = getopt_long(argc, argv, "v", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			f->seed = (uint64_t)num_arg(optarg);
			break;
		case 'n':
			f->nops = num_arg(optarg);
			break;
		case 'F':
			f->full_every = num_arg(optarg);
			break;
		case 'c':
			f->chunk = (size_t)num_arg(optarg);
			break;
		case 'X':
			f->xattrs = false;
			break;
		case 'C':
			f->corrupt_at = num_arg(optarg);
			break;
		case 'O':
			f->no_orphans = true;
			break;
		case 'v':
			f->verbose = true;
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 2 || f->nops < 0 || f->chunk < 4096)
		usage();
	f->root[0] = argv[optind];
	f->root[1] = argv[optind + 1];
}

static int setup(struct fsr *f)
{
	int i;

	f->wbuf_len = 3 * f->chunk;
	f->rbuf_len = 3 * f->chunk > FSR_IO_BLOCK ? 3 * f->chunk : FSR_IO_BLOCK;
	f->wbuf = malloc(f->wbuf_len);
	f->rbuf[0] = malloc(f->rbuf_len);
	f->rbuf[1] = malloc(f->rbuf_len);
	f->ents = calloc(FSR_MAX_ENTS, sizeof(*f->ents));
	f->nodes = calloc(FSR_MAX_NODES, sizeof(*f->nodes));
	if (!f->wbuf || !f->rbuf[0] || !f->rbuf[1] || !f->ents || !f->nodes)
		return -ENOMEM;
	for (i = 0; i < FSR_NSLOTS; i++)
		f->slots[i].fd[0] = f->slots[i].fd[1] = -1;
	f->rng = f->seed;
	umask(022);
	return 0;
}

int main(int argc, char **argv)
{
	struct fsr f = {.full_every = 50,
			.chunk = 1 << 20,
			.xattrs = true,
			.corrupt_at = -1};

	parse_args(&f, argc, argv);
	if (setup(&f) < 0) {
		fprintf(stderr, "fsrandom: out of memory\n");
		return 2;
	}
	fsr_describe_add(&f, "initial comparison");
	fsr_compare_all(&f);
	for (f.step = 1; f.step <= f.nops; f.step++)
		run_step(&f);
	f.step = f.nops;
	finish(&f);
	printf("%ld ops, %ld checks\n", f.nops, f.checks);
	free(f.wbuf);
	free(f.rbuf[0]);
	free(f.rbuf[1]);
	free(f.ents);
	free(f.nodes);
	return 0;
}
