#include <config.h>
#include "common/errors.h"

#include <errno.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "tests/unit/runner.h"

struct expect {
	int err;
	const char *name;
	unsigned int status;
};

#define E(e) e, #e

/* Every errno the table must know, with the status errors.h documents. */
static const struct expect expected[] = {
    {E(EPERM), 403},	    {E(ENOENT), 404},	  {E(EIO), 500},
    {E(EBADF), 500},	    {E(EAGAIN), 503},	  {E(ENOMEM), 500},
    {E(EACCES), 403},	    {E(EBUSY), 409},	  {E(EEXIST), 409},
    {E(EXDEV), 500},	    {E(ENOTDIR), 400},	  {E(EISDIR), 400},
    {E(EINVAL), 400},	    {E(ENFILE), 500},	  {E(EMFILE), 500},
    {E(EFBIG), 413},	    {E(ENOSPC), 507},	  {E(EROFS), 500},
    {E(EMLINK), 409},	    {E(ERANGE), 400},	  {E(ENAMETOOLONG), 400},
    {E(ENOSYS), 501},	    {E(ENOTEMPTY), 409},  {E(ELOOP), 400},
    {E(ENODATA), 404},	    {E(EPROTO), 400},	  {E(EBADMSG), 400},
    {E(EOVERFLOW), 500},    {E(EOPNOTSUPP), 501}, {E(EDQUOT), 507},
    {E(ESTALE), 410},	    {E(ETIMEDOUT), 503},  {E(ECONNREFUSED), 500},
    {E(EHOSTUNREACH), 500}, {E(ECONNRESET), 500}, {E(E2BIG), 413},
    {E(EALREADY), 500},	    {E(ECANCELED), 500},  {E(EADDRINUSE), 500},
    {E(ESPIPE), 500},	    {E(ENXIO), 500},	  {E(EDEADLK), 500},
    {E(ENOLCK), 500},	    {E(EINTR), 500},
};

#define N_EXPECTED (sizeof(expected) / sizeof(expected[0]))

static void test_errors_name_round_trip(void)
{
	size_t i;

	for (i = 0; i < N_EXPECTED; i++) {
		CU_ASSERT_STRING_EQUAL(rfs_errno_name(expected[i].err),
				       expected[i].name);
		CU_ASSERT_EQUAL(rfs_errno_from_name(expected[i].name),
				expected[i].err);
		CU_ASSERT_EQUAL(
		    rfs_errno_from_name(rfs_errno_name(expected[i].err)),
		    expected[i].err);
	}
}

static void test_errors_negative_errno(void)
{
	size_t i;

	for (i = 0; i < N_EXPECTED; i++) {
		CU_ASSERT_STRING_EQUAL(rfs_errno_name(-expected[i].err),
				       expected[i].name);
		CU_ASSERT_EQUAL(rfs_errno_http_status(-expected[i].err),
				expected[i].status);
	}
}

static void test_errors_http_status(void)
{
	size_t i;

	for (i = 0; i < N_EXPECTED; i++)
		CU_ASSERT_EQUAL(rfs_errno_http_status(expected[i].err),
				expected[i].status);
}

static void test_errors_unknown(void)
{
	/* an errno outside the table, 0, and unknown or NULL names */
	CU_ASSERT_STRING_EQUAL(rfs_errno_name(0), "EIO");
	CU_ASSERT_STRING_EQUAL(rfs_errno_name(EHWPOISON), "EIO");
	CU_ASSERT_STRING_EQUAL(rfs_errno_name(100000), "EIO");
	CU_ASSERT_STRING_EQUAL(rfs_errno_name(-100000), "EIO");
	CU_ASSERT_EQUAL(rfs_errno_http_status(EHWPOISON), 500);
	CU_ASSERT_EQUAL(rfs_errno_http_status(0), 500);
	CU_ASSERT_EQUAL(rfs_errno_from_name(NULL), EIO);
	CU_ASSERT_EQUAL(rfs_errno_from_name(""), EIO);
	CU_ASSERT_EQUAL(rfs_errno_from_name("ENOPE"), EIO);
	CU_ASSERT_EQUAL(rfs_errno_from_name("enoent"), EIO);
	CU_ASSERT_EQUAL(rfs_errno_from_name("ENOENT "), EIO);
	CU_ASSERT_EQUAL(rfs_errno_from_name("0"), EIO);
}

static void test_errors_from_http_status(void)
{
	CU_ASSERT_EQUAL(rfs_errno_from_http_status(404), ENOENT);
	CU_ASSERT_EQUAL(rfs_errno_from_http_status(400), EPROTO);
	CU_ASSERT_EQUAL(rfs_errno_from_http_status(405), EOPNOTSUPP);
	CU_ASSERT_EQUAL(rfs_errno_from_http_status(413), E2BIG);
	CU_ASSERT_EQUAL(rfs_errno_from_http_status(503), EAGAIN);
	CU_ASSERT_EQUAL(rfs_errno_from_http_status(401), EINVAL);
	CU_ASSERT_EQUAL(rfs_errno_from_http_status(403), EINVAL);
	CU_ASSERT_EQUAL(rfs_errno_from_http_status(409), EINVAL);
	CU_ASSERT_EQUAL(rfs_errno_from_http_status(499), EINVAL);
	CU_ASSERT_EQUAL(rfs_errno_from_http_status(500), EIO);
	CU_ASSERT_EQUAL(rfs_errno_from_http_status(501), EIO);
	CU_ASSERT_EQUAL(rfs_errno_from_http_status(507), EIO);
	CU_ASSERT_EQUAL(rfs_errno_from_http_status(599), EIO);
	/* not an error status at all: still never 0 */
	CU_ASSERT_EQUAL(rfs_errno_from_http_status(0), EIO);
	CU_ASSERT_EQUAL(rfs_errno_from_http_status(200), EIO);
	CU_ASSERT_EQUAL(rfs_errno_from_http_status(302), EIO);
}

static void test_errors_status_round_trip(void)
{
	/* the errnos a bare status maps to map back to that status */
	static const unsigned int statuses[] = {400, 404, 413, 503};
	size_t i;
	int err;

	for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
		err = rfs_errno_from_http_status(statuses[i]);
		CU_ASSERT_EQUAL(rfs_errno_http_status(err), statuses[i]);
	}
}

int main(void)
{
	static const struct rfs_test tests[] = {
	    RFS_TEST(test_errors_name_round_trip),
	    RFS_TEST(test_errors_negative_errno),
	    RFS_TEST(test_errors_http_status),
	    RFS_TEST(test_errors_unknown),
	    RFS_TEST(test_errors_from_http_status),
	    RFS_TEST(test_errors_status_round_trip),
	};
	static const struct rfs_test_suite suite = {
	    .name = "errors",
	    RFS_TESTS(tests),
	};

	return rfs_test_run(&suite, 1);
}
