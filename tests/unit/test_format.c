/*
 * Unit tests for metaserver/format: formatting a metadata directory,
 * reading it back, and refusing formatted, non-empty, foreign, damaged or
 * missing directories with a message that says what to do.
 */
#include <config.h>
#include "metaserver/format.h"

#include <CUnit/Basic.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "tests/unit/runner.h"

#define T_ADDR	"127.0.0.1:0"
#define T_CHUNK (1u << 20)
#define T_ERR	512

static char base[64];

static void path_in(char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s/%s", base, name);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(text, f);
	fclose(f);
}

static void test_format_create_and_load(void)
{
	struct ms_format_info made;
	struct ms_format_info got;
	char dir[128];
	char err[T_ERR] = "";

	path_in(dir, sizeof(dir), "fresh"); /* does not exist yet */
	CU_ASSERT_EQUAL_FATAL(
	    ms_format_create(dir, T_CHUNK, 3, T_ADDR, &made, err, sizeof(err)),
	    0);
	CU_ASSERT_EQUAL_FATAL(ms_format_load(dir, &got, err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(got.fmt.fsid, made.fmt.fsid);
	CU_ASSERT_EQUAL(got.fmt.chunk_size, T_CHUNK);
	CU_ASSERT_EQUAL(got.fmt.goal, 3);
	CU_ASSERT_EQUAL(got.fmt.created_ns, made.fmt.created_ns);
	CU_ASSERT_EQUAL(got.version, MS_FORMAT_VERSION);
	CU_ASSERT_EQUAL(got.raft_id, MS_FORMAT_FIRST_RAFT_ID);
	CU_ASSERT_EQUAL(strlen(got.fmt.fsid), 36);
	CU_ASSERT_EQUAL(got.fmt.fsid[14], '4'); /* uuid version 4 */
}

static void test_format_refuses_formatted_or_non_empty(void)
{
	struct ms_format_info info;
	char dir[128];
	char file[160];
	char err[T_ERR] = "";

	path_in(dir, sizeof(dir), "fresh");
	CU_ASSERT_EQUAL(
	    ms_format_create(dir, T_CHUNK, 2, T_ADDR, NULL, err, sizeof(err)),
	    -EEXIST);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "already formatted"));
	path_in(dir, sizeof(dir), "busy");
	CU_ASSERT_EQUAL_FATAL(mkdir(dir, 0700), 0);
	snprintf(file, sizeof(file), "%s/other", dir);
	write_file(file, "x");
	CU_ASSERT_EQUAL(
	    ms_format_create(dir, T_CHUNK, 2, T_ADDR, NULL, err, sizeof(err)),
	    -EEXIST);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "not empty"));
	/* Still not formatted: starting on it names the format command. */
	CU_ASSERT_EQUAL(ms_format_load(dir, &info, err, sizeof(err)), -ENOENT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "ringfs-meta --format"));
}

static void test_format_refuses_bad_parameters(void)
{
	char dir[128];
	char err[T_ERR] = "";

	path_in(dir, sizeof(dir), "params");
	CU_ASSERT_EQUAL(
	    ms_format_create(dir, 3u << 20, 2, T_ADDR, NULL, err, sizeof(err)),
	    -EINVAL);
	CU_ASSERT_EQUAL(
	    ms_format_create(dir, 32u << 10, 2, T_ADDR, NULL, err, sizeof(err)),
	    -EINVAL);
	CU_ASSERT_EQUAL(
	    ms_format_create(dir, T_CHUNK, 0, T_ADDR, NULL, err, sizeof(err)),
	    -EINVAL);
	CU_ASSERT_EQUAL(ms_format_create(dir, T_CHUNK, RFS_MAX_REPLICAS + 1,
					 T_ADDR, NULL, err, sizeof(err)),
			-EINVAL);
	CU_ASSERT_EQUAL(access(dir, F_OK), -1); /* nothing created */
}

static void test_format_load_missing_dir(void)
{
	struct ms_format_info info;
	char dir[128];
	char err[T_ERR] = "";

	path_in(dir, sizeof(dir), "missing");
	CU_ASSERT_EQUAL(ms_format_load(dir, &info, err, sizeof(err)), -ENOENT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "does not exist"));
}

static void test_format_load_foreign_or_damaged(void)
{
	static const char *const bad[] = {
	    "hello world\n",
	    "format-version = 2\nfsid = 053ed280-1953-4f25-ac77-00d7a2d80f73\n"
	    "chunk-size = 1048576\ngoal = 2\ncreated-ns = 1\nraft-id = 1\n",
	    "format-version = 1\nfsid = not-a-uuid\n"
	    "chunk-size = 1048576\ngoal = 2\ncreated-ns = 1\nraft-id = 1\n",
	    "format-version = 1\nfsid = 053ed280-1953-4f25-ac77-00d7a2d80f73\n"
	    "chunk-size = 1000\ngoal = 2\ncreated-ns = 1\nraft-id = 1\n",
	};
	struct ms_format_info info;
	char dir[128];
	char file[160];
	char err[T_ERR];
	size_t i;

	path_in(dir, sizeof(dir), "foreign");
	CU_ASSERT_EQUAL_FATAL(mkdir(dir, 0700), 0);
	snprintf(file, sizeof(file), "%s/%s", dir, MS_FORMAT_FILE);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_file(file, bad[i]);
		err[0] = '\0';
		CU_ASSERT_EQUAL(ms_format_load(dir, &info, err, sizeof(err)),
				-EPROTO);
		CU_ASSERT(strlen(err) > 0);
	}
}

static void test_format_lock_is_exclusive(void)
{
	char dir[128];
	char err[T_ERR] = "";
	int fd1 = -1;
	int fd2 = -1;

	path_in(dir, sizeof(dir), "fresh");
	CU_ASSERT_EQUAL_FATAL(ms_format_lock(dir, &fd1, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(ms_format_lock(dir, &fd2, err, sizeof(err)), -EBUSY);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "in use"));
	close(fd1);
	CU_ASSERT_EQUAL(ms_format_lock(dir, &fd2, err, sizeof(err)), 0);
	close(fd2);
}

static void test_format_fsids_differ(void)
{
	char a[RFS_FSID_MAX + 1];
	char b[RFS_FSID_MAX + 1];

	CU_ASSERT_EQUAL(ms_format_new_fsid(a), 0);
	CU_ASSERT_EQUAL(ms_format_new_fsid(b), 0);
	CU_ASSERT_STRING_NOT_EQUAL(a, b);
	CU_ASSERT(strchr("89ab", a[19]) != NULL); /* RFC 4122 variant */
}

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	return remove(path);
}

int main(void)
{
	static const struct rfs_test tests[] = {
	    RFS_TEST(test_format_create_and_load),
	    RFS_TEST(test_format_refuses_formatted_or_non_empty),
	    RFS_TEST(test_format_refuses_bad_parameters),
	    RFS_TEST(test_format_load_missing_dir),
	    RFS_TEST(test_format_load_foreign_or_damaged),
	    RFS_TEST(test_format_lock_is_exclusive),
	    RFS_TEST(test_format_fsids_differ),
	};
	static const struct rfs_test_suite suite = {
	    .name = "format",
	    RFS_TESTS(tests),
	};
	int rc;

	rfs_log_setup("test_format", RFS_LOG_WARN);
	snprintf(base, sizeof(base), "/tmp/test_format.XXXXXX");
	if (mkdtemp(base) == NULL)
		return 1;
	rc = rfs_test_run(&suite, 1);
	nftw(base, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return rc;
}
