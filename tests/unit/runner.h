/*
 * runner: the one CUnit driver of the unit tests. A test program lists its
 * tests in static tables, groups them into suites and hands those to
 * rfs_test_run() from main(), whose exit code is what that returns. The
 * tables are borrowed for the call only; nothing here is thread-safe (CUnit
 * keeps one global registry per process).
 */
#ifndef RFS_TESTS_UNIT_RUNNER_H
#define RFS_TESTS_UNIT_RUNNER_H

#include <stddef.h>

/* One test: its name in the CUnit report and the function CUnit runs. */
struct rfs_test {
	const char *name;
	void (*fn)(void);
};

/*
 * One suite. init and cleanup may be NULL; otherwise CUnit calls init
 * before the first test and cleanup after the last, and a non-zero return
 * from either fails the suite (a failed init also skips its tests, and
 * CUnit does not call cleanup after it).
 */
struct rfs_test_suite {
	const char *name;
	const struct rfs_test *tests;
	size_t n_tests;
	int (*init)(void);
	int (*cleanup)(void);
};

/* A table entry named after its function: RFS_TEST(test_ring_empty). */
#define RFS_TEST(func)                                                         \
	{                                                                      \
		.name = #func, .fn = func                                      \
	}

/* The tests and n_tests fields of a suite, from a static table. */
#define RFS_TESTS(arr) .tests = (arr), .n_tests = sizeof(arr) / sizeof((arr)[0])

/*
 * Registers the suites in order, runs them in CUnit's verbose mode and
 * returns the process exit status: 0 only when every test passed, no
 * suite init or cleanup failed and registration succeeded; 1 otherwise.
 */
int rfs_test_run(const struct rfs_test_suite *suites, size_t n_suites);

#endif
