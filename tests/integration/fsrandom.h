/*
 * fsrandom.h: the shared state of fsrandom, the random-operation tester of
 * the integration tests (see fsrandom.c for what it does). fsrandom.c
 * generates and runs the operations; fsrandom_cmp.c compares the two trees
 * and reports the first difference.
 */
#ifndef RFS_TESTS_FSRANDOM_H
#define RFS_TESTS_FSRANDOM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define FSR_MAX_REL   1024  /* a relative path */
#define FSR_MAX_ENTS  2048  /* entries of tree B considered */
#define FSR_MAX_DEPTH 4	    /* new entries are created at most this deep */
#define FSR_CROWDED   90    /* entries above which removal ops are favoured */
#define FSR_NSLOTS    3	    /* descriptors kept open across steps */
#define FSR_MAX_FDS   3	    /* descriptors of one multi-fd op */
#define FSR_MAX_SUBS  10    /* calls of one multi-fd op */
#define FSR_MAX_CALLS 48    /* results recorded per op and side */
#define FSR_XATTR_BUF 65536 /* listxattr/getxattr buffer */
#define FSR_MAX_NAMES 512   /* names of one directory compared */
#define FSR_MAX_NODES 4096  /* non-directories in a full comparison */
#define FSR_IO_BLOCK  (1 << 20) /* content comparison block */

enum op_kind {
	OP_CREATE,
	OP_WRITE,
	OP_READ,
	OP_TRUNCATE,
	OP_RENAME,
	OP_LINK,
	OP_UNLINK,
	OP_MKDIR,
	OP_RMDIR,
	OP_CHMOD,
	OP_SETXATTR,
	OP_REMOVEXATTR,
	OP_SYMLINK,
	OP_MULTIFD,
	OP_SLOT,
	OP_UTIMENS,
	OP_NKINDS
};

enum sub_kind {
	SUB_PWRITE,
	SUB_WRITE,
	SUB_PREAD,
	SUB_READ,
	SUB_FTRUNCATE,
	SUB_FSYNC,
	SUB_FSTAT,
	SUB_LSEEK,
	SUB_NKINDS
};

enum slot_action { SLOT_OPEN, SLOT_IO, SLOT_CLOSE };

/* One call on a descriptor: of a multi-fd op or of a slot. */
struct sub {
	enum sub_kind kind;
	int fd;	   /* index into the op's descriptors */
	off_t off; /* offset, new size, or lseek target */
	size_t len;
	uint64_t data; /* seed of the bytes written */
};

struct op {
	enum op_kind kind;
	char p1[FSR_MAX_REL];
	char p2[FSR_MAX_REL]; /* rename/link target; symlink contents */
	int flags;
	mode_t mode;
	off_t off; /* offset or new size */
	size_t len;
	uint64_t data;
	const char *xname;
	int nfd;
	int fdflags[FSR_MAX_FDS];
	int close_order[FSR_MAX_FDS];
	int nsub;
	struct sub subs[FSR_MAX_SUBS];
	int slot;
	enum slot_action action;
};

struct call {
	const char *what;
	long ret;
	int err;
	uint64_t hash;
};

struct res {
	int n;
	struct call c[FSR_MAX_CALLS];
};

struct ent {
	char path[FSR_MAX_REL];
	mode_t type;
	int depth;
	bool empty; /* a directory without entries */
};

struct slot {
	bool open;
	int fd[2];
	char path[FSR_MAX_REL];
};

/* A hard-link check pair: inode on A, inode on B, first path. */
struct node {
	ino_t ino[2];
	char path[FSR_MAX_REL];
};

struct fsr {
	const char *root[2];
	uint64_t seed;
	uint64_t rng;
	long nops;
	long step;
	long checks;
	long full_every;
	long corrupt_at;
	size_t chunk;
	bool xattrs;
	bool no_orphans;
	bool verbose;
	struct op op;
	char desc[2 * FSR_MAX_REL + 200];
	struct ent *ents;
	size_t nents;
	struct slot slots[FSR_NSLOTS];
	struct node *nodes;
	size_t nnodes;
	unsigned char *wbuf; /* bytes to write */
	size_t wbuf_len;
	unsigned char *rbuf[2]; /* bytes read on A and B */
	size_t rbuf_len;
};

/* Paths: rel is relative to the roots ("" is the root itself). */
/* The absolute path of rel on side 0 (A) or 1 (B), into out[PATH_MAX]. */
void fsr_path(const struct fsr *f, int side, const char *rel, char *out);
/* dir/name (or name when dir is ""), into out[FSR_MAX_REL]. */
void fsr_join(char *out, const char *dir, const char *name);
/* The directory part of rel ("" for the root), into out[FSR_MAX_REL]. */
void fsr_parent(const char *rel, char *out);
/* snprintf that exits 2 on truncation (paths are short by construction). */
__attribute__((format(printf, 3, 4))) void fsr_bprintf(char *out, size_t size,
						       const char *fmt, ...);
/* Append to f->desc, the description of the current op (truncating). */
__attribute__((format(printf, 2, 3))) void
fsr_describe_add(struct fsr *f, const char *fmt, ...);

/* The names of the op and call kinds, for descriptions and reports. */
extern const char *const fsr_op_names[OP_NKINDS];
extern const char *const fsr_sub_names[SUB_NKINDS];
/* Describe f->op in f->desc (for reports and -v). */
void fsr_describe(struct fsr *f);

/* Report the first difference (seed, step, op and the message) on stderr,
 * close the open descriptors and exit 1. */
__attribute__((format(printf, 2, 3), noreturn)) void
fsr_differ(struct fsr *f, const char *fmt, ...);
/* The results of one op on A and B must be the same (else fsr_differ). */
void fsr_compare_res(struct fsr *f, const struct res *a, const struct res *b);
/* Compare the paths the current op touched and their directories. */
void fsr_check_touched(struct fsr *f);
/* Compare the whole trees, hard links included. */
void fsr_compare_all(struct fsr *f);

#endif
