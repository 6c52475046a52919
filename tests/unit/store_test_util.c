/*
 * store_test_util: helpers shared by the chunk store unit tests
 * (test_store.c, test_store_ver.c): temporary data dirs, writes and reads
 * through the store API with CUnit checks, and file inspection.
 */
#include <config.h>
#include "tests/unit/store_test_util.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "chunkserver/replica.h"
#include "common/crc32c.h"

#define NFTW_FDS 16
/* Body pieces fed to the store: not a divisor of the block size, so CRCs
 * are chained across pieces and blocks end in the middle of a piece. */
#define PIECE_BYTES 10000

char g_dir[PATH_LEN];
char g_dir2[PATH_LEN];

static int rm_entry(const char *path, const struct stat *sb, int flag,
		    struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void rm_tree(const char *path)
{
	nftw(path, rm_entry, NFTW_FDS, FTW_DEPTH | FTW_PHYS);
}

int st_setup(void)
{
	snprintf(g_dir, sizeof(g_dir), "/tmp/test_store.XXXXXX");
	snprintf(g_dir2, sizeof(g_dir2), "/tmp/test_store2.XXXXXX");
	if (!mkdtemp(g_dir) || !mkdtemp(g_dir2))
		return -1;
	return 0;
}

int st_teardown(void)
{
	rm_tree(g_dir);
	rm_tree(g_dir2);
	return 0;
}

/* Start every test from empty data dirs. */
void st_clean_dirs(void)
{
	rm_tree(g_dir);
	rm_tree(g_dir2);
	mkdir(g_dir, 0700);
	mkdir(g_dir2, 0700);
}

struct cs_store *st_open_one(void)
{
	const char *dirs[] = {g_dir};
	struct cs_store *st = NULL;

	CU_ASSERT_EQUAL(cs_store_open(dirs, 1, &st), 0);
	return st;
}

uint8_t *st_random_buf(size_t len, unsigned seed)
{
	uint8_t *p = malloc(len ? len : 1);

	srand(seed);
	for (size_t i = 0; p && i < len; i++)
		p[i] = (uint8_t)rand();
	return p;
}

/* Feed a body in pieces; returns the first error. */
int st_feed(struct cs_store_write *w, const uint8_t *buf, size_t len)
{
	for (size_t off = 0; off < len; off += PIECE_BYTES) {
		size_t n = len - off < PIECE_BYTES ? len - off : PIECE_BYTES;
		int rc = cs_store_write_data(w, buf + off, n);

		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Feed a begun write all of buf and commit it; aborts it on a feed error. */
static int feed_commit(struct cs_store_write *w, const uint8_t *buf, size_t len)
{
	int rc = st_feed(w, buf, len);

	if (rc < 0) {
		cs_store_write_abort(w);
		return rc;
	}
	return cs_store_write_commit(w, true);
}

int st_put(struct cs_store *st, uint64_t id, uint32_t ver, const uint8_t *buf,
	   size_t len)
{
	size_t n = rfs_crc_block_count(len);
	uint32_t *crcs = calloc(n + 1, sizeof(*crcs));
	struct cs_store_write *w = NULL;
	int rc;

	rfs_crc_blocks(buf, len, crcs);
	rc = cs_store_write_begin(st, id, ver, len, crcs, n, &w);
	free(crcs);
	if (rc < 0)
		return rc;
	return feed_commit(w, buf, len);
}

int st_update(struct cs_store *st, uint64_t id, uint32_t ver, uint64_t off,
	      const uint8_t *buf, size_t len, uint32_t base, uint64_t base_len)
{
	size_t n = rfs_crc_block_count(len);
	uint32_t *crcs = calloc(n + 1, sizeof(*crcs));
	struct cs_store_write *w = NULL;
	int rc;

	rfs_crc_blocks(buf, len, crcs);
	rc = cs_store_update_begin(st, id, ver, off, len, base, base_len, crcs,
				   n, &w);
	free(crcs);
	if (rc < 0)
		return rc;
	return feed_commit(w, buf, len);
}

/*
 * Read [off, off + len) of a chunk into out (malloc'd) and check that the
 * CRCs handed out match the data. Returns the store's error or 0.
 */
int st_get(struct cs_store *st, uint64_t id, uint32_t ver, uint64_t off,
	   uint64_t len, bool verify, uint8_t **out, uint64_t *out_len)
{
	struct cs_store_extent ext;
	uint32_t *crcs;
	uint8_t *buf;
	int rc = cs_store_read_open(st, id, ver, off, len, verify, &ext);

	if (rc < 0)
		return rc;
	buf = malloc(ext.len + 1);
	CU_ASSERT_FATAL(buf != NULL);
	if (ext.buf)
		memcpy(buf, ext.buf, ext.len);
	else
		CU_ASSERT_EQUAL(
		    pread(ext.fd, buf, ext.len, (off_t)ext.file_offset),
		    (ssize_t)ext.len);
	crcs = calloc(ext.n_crcs + 1, sizeof(*crcs));
	rfs_crc_blocks(buf, ext.len, crcs);
	CU_ASSERT_EQUAL(ext.n_crcs, rfs_crc_block_count(ext.len));
	CU_ASSERT_EQUAL(memcmp(crcs, ext.crcs, ext.n_crcs * sizeof(*crcs)), 0);
	free(crcs);
	*out = buf;
	*out_len = ext.len;
	cs_store_extent_release(&ext);
	return 0;
}

/* The whole chunk reads back as expect[0..len), with verified CRCs. */
void st_check_chunk(struct cs_store *st, uint64_t id, uint32_t ver,
		    const uint8_t *expect, size_t len)
{
	uint8_t *buf = NULL;
	uint64_t got = 0;

	CU_ASSERT_EQUAL_FATAL(
	    st_get(st, id, ver, 0, UINT64_MAX, true, &buf, &got), 0);
	CU_ASSERT_EQUAL(got, len);
	CU_ASSERT(got == len && memcmp(buf, expect, len) == 0);
	free(buf);
}

static const char *g_part;
static int g_count;

static int count_entry(const char *path, const struct stat *sb, int flag,
		       struct FTW *ftw)
{
	(void)sb;
	if (flag == FTW_F && strstr(path + ftw->base, g_part))
		g_count++;
	return 0;
}

/* Files anywhere under dir whose name contains part. */
int st_count_part(const char *dir, const char *part)
{
	g_part = part;
	g_count = 0;
	if (nftw(dir, count_entry, NFTW_FDS, FTW_PHYS) != 0)
		return -1;
	return g_count;
}

void st_replica_path(const char *dir, uint64_t id, uint32_t ver,
		     const char *suffix, char *out)
{
	char name[CS_REPLICA_NAME_MAX];
	char sub[3];

	cs_replica_subdir(id, sub);
	cs_replica_name(id, ver, suffix, name);
	CU_ASSERT(snprintf(out, PATH_LEN, "%s/chunks/%s/%s", dir, sub, name) <
		  PATH_LEN);
}

bool st_exists(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0;
}

void st_write_file(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(write(fd, buf, len), (ssize_t)len);
	close(fd);
}
