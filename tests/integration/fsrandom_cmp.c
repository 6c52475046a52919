/*
 * fsrandom_cmp.c: fsrandom's comparison of the two trees (results of the
 * calls, state of the touched paths, whole trees), the description of an
 * op and the report of the first difference.
 */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "tests/integration/fsrandom.h"

const char *const fsr_op_names[OP_NKINDS] = {
    "create",  "write",	  "read",  "truncate", "rename",   "link",
    "unlink",  "mkdir",	  "rmdir", "chmod",    "setxattr", "removexattr",
    "symlink", "multifd", "slot",  "utimens"};

const char *const fsr_sub_names[SUB_NKINDS] = {
    "pwrite", "write", "pread", "read", "ftruncate", "fsync", "fstat", "lseek"};

/* ---- op description -------------------------------------------------- */

static void describe_subs(struct fsr *f)
{
	const struct op *o = &f->op;
	int i;

	for (i = 0; i < o->nsub; i++)
		fsr_describe_add(f, " %s(fd%d,off=%lld,len=%zu)",
				 fsr_sub_names[o->subs[i].kind], o->subs[i].fd,
				 (long long)o->subs[i].off, o->subs[i].len);
}

void fsr_describe(struct fsr *f)
{
	const struct op *o = &f->op;

	f->desc[0] = '\0';
	fsr_describe_add(
	    f, "%s \"%s\" \"%s\" flags=%#x mode=%#o off=%lld len=%zu",
	    fsr_op_names[o->kind], o->p1, o->p2, (unsigned)o->flags,
	    (unsigned)o->mode, (long long)o->off, o->len);
	if (o->xname)
		fsr_describe_add(f, " xattr=%s", o->xname);
	if (o->kind == OP_MULTIFD) {
		fsr_describe_add(f,
				 " fds=%#x,%#x,%#x:", (unsigned)o->fdflags[0],
				 (unsigned)o->fdflags[1],
				 o->nfd > 2 ? (unsigned)o->fdflags[2] : 0u);
		describe_subs(f);
	} else if (o->kind == OP_SLOT) {
		fsr_describe_add(f, " slot%d %s", o->slot,
				 o->action == SLOT_OPEN	   ? "open"
				 : o->action == SLOT_CLOSE ? "close"
							   : "io:");
		if (o->action == SLOT_IO)
			describe_subs(f);
	}
}

/* snprintf for paths: these are short by construction, so truncation is a
 * bug of this program (exit 2). */
__attribute__((format(printf, 3, 4))) void fsr_bprintf(char *out, size_t size,
						       const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(out, size, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size) {
		fprintf(stderr, "fsrandom: path too long: %s\n", out);
		exit(2);
	}
}

/* Append to the op description (truncated if need be). */
__attribute__((format(printf, 2, 3))) void
fsr_describe_add(struct fsr *f, const char *fmt, ...)
{
	size_t n = strlen(f->desc);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(f->desc + n, sizeof(f->desc) - n, fmt, ap);
	va_end(ap);
}

static void cleanup_slots(struct fsr *f)
{
	int i, s;

	for (i = 0; i < FSR_NSLOTS; i++)
		for (s = 0; s < 2 && f->slots[i].open; s++)
			if (f->slots[i].fd[s] >= 0)
				close(f->slots[i].fd[s]);
}

/* The first difference: report it and exit 1. */
__attribute__((format(printf, 2, 3), noreturn)) void
fsr_differ(struct fsr *f, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "fsrandom: seed %" PRIu64 " step %ld op %s: ", f->seed,
		f->step, f->desc);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	fprintf(stderr,
		"fsrandom: A=%s B=%s; rerun: fsrandom --seed %" PRIu64
		" --ops %ld\n",
		f->root[0], f->root[1], f->seed, f->step);
	cleanup_slots(f);
	exit(1);
}

void fsr_path(const struct fsr *f, int side, const char *rel, char *out)
{
	if (rel[0] == '\0')
		fsr_bprintf(out, PATH_MAX, "%s", f->root[side]);
	else
		fsr_bprintf(out, PATH_MAX, "%s/%s", f->root[side], rel);
}

void fsr_join(char *out, const char *dir, const char *name)
{
	if (dir[0] == '\0')
		fsr_bprintf(out, FSR_MAX_REL, "%s", name);
	else
		fsr_bprintf(out, FSR_MAX_REL, "%s/%s", dir, name);
}

void fsr_parent(const char *rel, char *out)
{
	const char *slash = strrchr(rel, '/');
	size_t n = slash ? (size_t)(slash - rel) : 0;

	memcpy(out, rel, n);
	out[n] = '\0';
}

static bool same_err(int a, int b)
{
	if (a == ENOTEMPTY)
		a = EEXIST;
	if (b == ENOTEMPTY)
		b = EEXIST;
	return a == b;
}

void fsr_compare_res(struct fsr *f, const struct res *a, const struct res *b)
{
	int i;

	for (i = 0; i < a->n && i < b->n; i++) {
		const struct call *x = &a->c[i], *y = &b->c[i];

		if (x->ret == y->ret && same_err(x->err, y->err) &&
		    x->hash == y->hash)
			continue;
		fsr_differ(f,
			   "call %d (%s): A ret=%ld errno=%s hash=%016" PRIx64
			   ", B ret=%ld errno=%s hash=%016" PRIx64,
			   i, x->what, x->ret, x->err ? strerror(x->err) : "0",
			   x->hash, y->ret, y->err ? strerror(y->err) : "0",
			   y->hash);
	}
	if (a->n != b->n)
		fsr_differ(f, "A made %d calls, B %d", a->n, b->n);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted names of a directory (malloc'ed, in *names); -errno. */
static int list_dir(const char *abs, char ***names, size_t *n)
{
	struct dirent *de;
	DIR *d = opendir(abs);
	char **v;

	*n = 0;
	*names = NULL;
	if (!d)
		return -errno;
	v = calloc(FSR_MAX_NAMES, sizeof(*v));
	if (!v) {
		closedir(d);
		return -ENOMEM;
	}
	while ((de = readdir(d)) && *n < FSR_MAX_NAMES) {
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			v[(*n)++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(v, *n, sizeof(*v), cmp_str);
	*names = v;
	return 0;
}

static void free_names(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void compare_names(struct fsr *f, const char *rel)
{
	char abs[2][PATH_MAX], **v[2];
	size_t n[2], i;
	int rc[2], s;

	for (s = 0; s < 2; s++) {
		fsr_path(f, s, rel, abs[s]);
		rc[s] = list_dir(abs[s], &v[s], &n[s]);
	}
	if (rc[0] != rc[1])
		fsr_differ(f, "readdir \"%s\": A %s, B %s", rel,
			   strerror(-rc[0]), strerror(-rc[1]));
	for (i = 0; i < n[0] && i < n[1]; i++)
		if (strcmp(v[0][i], v[1][i]))
			fsr_differ(
			    f,
			    "directory \"%s\": A has \"%s\" where B has \"%s\"",
			    rel, v[0][i], v[1][i]);
	if (n[0] != n[1])
		fsr_differ(f, "directory \"%s\": A has %zu entries, B %zu", rel,
			   n[0], n[1]);
	free_names(v[0], n[0]);
	free_names(v[1], n[1]);
}

static void compare_content(struct fsr *f, const char *rel)
{
	char abs[PATH_MAX];
	int fd[2], s;
	ssize_t n[2];
	off_t off = 0;

	for (s = 0; s < 2; s++) {
		fsr_path(f, s, rel, abs);
		fd[s] = open(abs, O_RDONLY);
	}
	if ((fd[0] < 0) != (fd[1] < 0))
		fsr_differ(f, "open \"%s\" for reading: A fd %d, B fd %d", rel,
			   fd[0], fd[1]);
	while (fd[0] >= 0) {
		for (s = 0; s < 2; s++)
			n[s] = read(fd[s], f->rbuf[s], FSR_IO_BLOCK);
		if (n[0] != n[1] || (n[0] > 0 && memcmp(f->rbuf[0], f->rbuf[1],
							(size_t)n[0]))) {
			size_t i = 0;

			while (n[0] > 0 && n[1] > 0 && i < (size_t)n[0] &&
			       i < (size_t)n[1] &&
			       f->rbuf[0][i] == f->rbuf[1][i])
				i++;
			fsr_differ(
			    f,
			    "content of \"%s\" differs at byte %lld (reads of "
			    "%zd and %zd bytes at %lld)",
			    rel, (long long)off + (long long)i, n[0], n[1],
			    (long long)off);
		}
		if (n[0] <= 0)
			break;
		off += n[0];
	}
	for (s = 0; s < 2; s++)
		if (fd[s] >= 0)
			close(fd[s]);
}

/* The user.* names of a path's xattrs, sorted, NUL-separated in buf. */
static ssize_t user_xattrs(const char *abs, char *buf, size_t size)
{
	char raw[FSR_XATTR_BUF], *names[256], *p;
	ssize_t len = llistxattr(abs, raw, sizeof(raw));
	size_t n = 0, out = 0, i;

	if (len < 0)
		return -errno;
	for (p = raw; p < raw + len && n < 256; p += strlen(p) + 1)
		if (!strncmp(p, "user.", 5))
			names[n++] = p;
	qsort(names, n, sizeof(names[0]), cmp_str);
	for (i = 0; i < n && out + strlen(names[i]) + 1 <= size; i++) {
		memcpy(buf + out, names[i], strlen(names[i]) + 1);
		out += strlen(names[i]) + 1;
	}
	return (ssize_t)out;
}

static void compare_xattrs(struct fsr *f, const char *rel)
{
	static char names[2][FSR_XATTR_BUF];
	char abs[2][PATH_MAX], *p;
	ssize_t n[2], v[2];
	int s;

	for (s = 0; s < 2; s++) {
		fsr_path(f, s, rel, abs[s]);
		n[s] = user_xattrs(abs[s], names[s], sizeof(names[s]));
	}
	if (n[0] != n[1] ||
	    (n[0] > 0 && memcmp(names[0], names[1], (size_t)n[0])))
		fsr_differ(f,
			   "xattr names of \"%s\" differ (A %zd, B %zd bytes)",
			   rel, n[0], n[1]);
	for (p = names[0]; n[0] > 0 && p < names[0] + n[0];
	     p += strlen(p) + 1) {
		for (s = 0; s < 2; s++)
			v[s] = lgetxattr(abs[s], p, f->rbuf[s], FSR_XATTR_BUF);
		if (v[0] != v[1] ||
		    (v[0] > 0 && memcmp(f->rbuf[0], f->rbuf[1], (size_t)v[0])))
			fsr_differ(
			    f,
			    "xattr %s of \"%s\" differs (A %zd, B %zd bytes)",
			    p, rel, v[0], v[1]);
	}
}

static void compare_stat(struct fsr *f, const char *rel, const char *how,
			 const struct stat *a, const struct stat *b)
{
	mode_t type = a->st_mode & S_IFMT;

	if (type != (b->st_mode & S_IFMT))
		fsr_differ(f, "%s \"%s\": type A %#o, B %#o", how, rel,
			   (unsigned)type, (unsigned)(b->st_mode & S_IFMT));
	if (!S_ISLNK(a->st_mode) &&
	    (a->st_mode & 07777) != (b->st_mode & 07777))
		fsr_differ(f, "%s \"%s\": mode A %04o, B %04o", how, rel,
			   (unsigned)(a->st_mode & 07777),
			   (unsigned)(b->st_mode & 07777));
	if (a->st_uid != b->st_uid || a->st_gid != b->st_gid)
		fsr_differ(f, "%s \"%s\": owner A %u:%u, B %u:%u", how, rel,
			   (unsigned)a->st_uid, (unsigned)a->st_gid,
			   (unsigned)b->st_uid, (unsigned)b->st_gid);
	if (S_ISDIR(a->st_mode))
		return;
	if (a->st_size != b->st_size)
		fsr_differ(f, "%s \"%s\": size A %lld, B %lld", how, rel,
			   (long long)a->st_size, (long long)b->st_size);
	if (a->st_nlink != b->st_nlink)
		fsr_differ(f, "%s \"%s\": link count A %lu, B %lu", how, rel,
			   (unsigned long)a->st_nlink,
			   (unsigned long)b->st_nlink);
}

static void compare_symlink(struct fsr *f, const char *rel, const char *a,
			    const char *b)
{
	char t[2][PATH_MAX];
	ssize_t n[2];
	struct stat st[2];
	int rc[2];

	n[0] = readlink(a, t[0], sizeof(t[0]) - 1);
	n[1] = readlink(b, t[1], sizeof(t[1]) - 1);
	if (n[0] != n[1] || (n[0] > 0 && memcmp(t[0], t[1], (size_t)n[0])))
		fsr_differ(
		    f,
		    "symlink \"%s\": target A %zd bytes \"%.*s\", B \"%.*s\"",
		    rel, n[0], (int)(n[0] > 0 ? n[0] : 0), t[0],
		    (int)(n[1] > 0 ? n[1] : 0), t[1]);
	rc[0] = stat(a, &st[0]) < 0 ? errno : 0;
	rc[1] = stat(b, &st[1]) < 0 ? errno : 0;
	if (rc[0] != rc[1])
		fsr_differ(f, "stat through symlink \"%s\": A %s, B %s", rel,
			   strerror(rc[0]), strerror(rc[1]));
	if (rc[0] == 0)
		compare_stat(f, rel, "stat through symlink", &st[0], &st[1]);
}

/* Compare one path on A and B; the lstat results go to st (if both exist).
 * Returns true when both exist. */
static bool check_path(struct fsr *f, const char *rel, struct stat st[2])
{
	char a[PATH_MAX], b[PATH_MAX];
	int rc[2];

	fsr_path(f, 0, rel, a);
	fsr_path(f, 1, rel, b);
	f->checks++;
	rc[0] = lstat(a, &st[0]) < 0 ? errno : 0;
	rc[1] = lstat(b, &st[1]) < 0 ? errno : 0;
	if (rc[0] != rc[1])
		fsr_differ(f, "lstat \"%s\": A %s, B %s", rel,
			   rc[0] ? strerror(rc[0]) : "exists",
			   rc[1] ? strerror(rc[1]) : "exists");
	if (rc[0])
		return false;
	/* the roots themselves may differ (mount point vs temp dir) */
	if (rel[0] != '\0')
		compare_stat(f, rel, "lstat", &st[0], &st[1]);
	if (S_ISLNK(st[0].st_mode))
		compare_symlink(f, rel, a, b);
	else if (f->xattrs)
		compare_xattrs(f, rel);
	if (S_ISREG(st[0].st_mode))
		compare_content(f, rel);
	else if (S_ISDIR(st[0].st_mode))
		compare_names(f, rel);
	return true;
}

/* Paths sharing an inode on one side share one on the other. */
static void check_links(struct fsr *f, const char *rel, const struct stat st[2])
{
	size_t i;

	for (i = 0; i < f->nnodes; i++) {
		struct node *n = &f->nodes[i];

		if (n->ino[0] != st[0].st_ino && n->ino[1] != st[1].st_ino)
			continue;
		if (n->ino[0] != st[0].st_ino || n->ino[1] != st[1].st_ino)
			fsr_differ(
			    f, "\"%s\" and \"%s\" are %s on A but %s on B", rel,
			    n->path,
			    n->ino[0] == st[0].st_ino ? "one file" : "two",
			    n->ino[1] == st[1].st_ino ? "one file" : "two");
		return;
	}
	if (f->nnodes < FSR_MAX_NODES) {
		f->nodes[f->nnodes].ino[0] = st[0].st_ino;
		f->nodes[f->nnodes].ino[1] = st[1].st_ino;
		fsr_bprintf(f->nodes[f->nnodes].path, FSR_MAX_REL, "%s", rel);
		f->nnodes++;
	}
}

static void compare_tree(struct fsr *f, const char *rel)
{
	char abs[PATH_MAX], child[FSR_MAX_REL], **names;
	struct stat st[2];
	size_t n, i;

	if (!check_path(f, rel, st))
		return;
	if (!S_ISDIR(st[0].st_mode)) {
		check_links(f, rel, st);
		return;
	}
	fsr_path(f, 1, rel, abs);
	if (list_dir(abs, &names, &n) < 0)
		return;
	for (i = 0; i < n; i++) {
		fsr_join(child, rel, names[i]);
		compare_tree(f, child);
	}
	free_names(names, n);
}

void fsr_compare_all(struct fsr *f)
{
	f->nnodes = 0;
	compare_tree(f, "");
}

/* The paths an op touched, and their parent directories. */
/* After a utimensat with an explicit time: the mtimes (whole seconds) of
 * what it changed. Other mtimes are "now" on each side, not compared. */
static void compare_mtime(struct fsr *f, const char *rel, int flags)
{
	char abs[PATH_MAX];
	struct stat st[2];
	int rc[2], s;

	for (s = 0; s < 2; s++) {
		fsr_path(f, s, rel, abs);
		rc[s] = fstatat(AT_FDCWD, abs, &st[s], flags) < 0 ? errno : 0;
	}
	if (rc[0] != rc[1])
		fsr_differ(f, "stat \"%s\" after utimensat: A %s, B %s", rel,
			   strerror(rc[0]), strerror(rc[1]));
	if (rc[0] == 0 && st[0].st_mtim.tv_sec != st[1].st_mtim.tv_sec)
		fsr_differ(f, "mtime of \"%s\": A %lld, B %lld", rel,
			   (long long)st[0].st_mtim.tv_sec,
			   (long long)st[1].st_mtim.tv_sec);
}

void fsr_check_touched(struct fsr *f)
{
	const struct op *o = &f->op;
	char dir[FSR_MAX_REL];
	struct stat st[2];

	if (check_path(f, o->p1, st) && o->kind == OP_UTIMENS && o->off)
		compare_mtime(f, o->p1, o->flags);
	fsr_parent(o->p1, dir);
	check_path(f, dir, st);
	if (o->kind == OP_RENAME || o->kind == OP_LINK) {
		check_path(f, o->p2, st);
		fsr_parent(o->p2, dir);
		check_path(f, dir, st);
	}
}
