/*
 * store_test_util: helpers shared by the chunk store unit tests. Two
 * temporary data dirs (g_dir, g_dir2) made by st_setup and removed by
 * st_teardown; every helper asserts with CUnit where noted. Not
 * thread-safe except st_put (used by racing threads).
 */
#ifndef RFS_TESTS_UNIT_STORE_TEST_UTIL_H
#define RFS_TESTS_UNIT_STORE_TEST_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chunkserver/store.h"
#include "common/crc32c.h"

#define BLK	 RFS_CRC_BLOCK_BYTES
#define PATH_LEN 256
#define CHUNK_A	 0x00000000000012abull
#define CHUNK_B	 0x00000000000034cdull
#define CHUNK_C	 0x00000000000056efull

extern char g_dir[PATH_LEN];
extern char g_dir2[PATH_LEN];

/* Suite init/cleanup: make / remove the two temporary dirs. */
int st_setup(void);
int st_teardown(void);
/* Start a test from empty data dirs. */
void st_clean_dirs(void);
/* A store over g_dir (asserted to open; NULL if it did not). */
struct cs_store *st_open_one(void);
/* len pseudo-random bytes from seed (malloc'd; NULL on OOM). */
uint8_t *st_random_buf(size_t len, unsigned seed);
/* Feed a body in pieces; returns the first error. */
int st_feed(struct cs_store_write *w, const uint8_t *buf, size_t len);
/* A whole chunk write, committed with fsync: the store's result. */
int st_put(struct cs_store *st, uint64_t id, uint32_t ver, const uint8_t *buf,
	   size_t len);
/* A range update, committed with fsync: the store's result. */
int st_update(struct cs_store *st, uint64_t id, uint32_t ver, uint64_t off,
	      const uint8_t *buf, size_t len, uint32_t base, uint64_t base_len);
/*
 * Read [off, off + len) of a chunk into *out (malloc'd) and check that the
 * CRCs handed out match the data. Returns the store's error or 0.
 */
int st_get(struct cs_store *st, uint64_t id, uint32_t ver, uint64_t off,
	   uint64_t len, bool verify, uint8_t **out, uint64_t *out_len);
/* Assert: the whole chunk reads back as expect[0..len), verified. */
void st_check_chunk(struct cs_store *st, uint64_t id, uint32_t ver,
		    const uint8_t *expect, size_t len);
/* Files anywhere under dir whose name contains part. */
int st_count_part(const char *dir, const char *part);
/* dir/chunks/<xx>/<id>_<ver><suffix> into out[PATH_LEN]. */
void st_replica_path(const char *dir, uint64_t id, uint32_t ver,
		     const char *suffix, char *out);
bool st_exists(const char *path);
/* Create (or truncate) path holding buf (asserted). */
void st_write_file(const char *path, const void *buf, size_t len);

#endif
