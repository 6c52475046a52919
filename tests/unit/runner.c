#include <config.h>
#include "tests/unit/runner.h"

#include <stdbool.h>

#include <CUnit/Basic.h>

/* Adds one suite and its tests to the registry; returns a CUnit error. */
static CU_ErrorCode add_suite(const struct rfs_test_suite *s)
{
	CU_pSuite suite;
	size_t i;

	suite = CU_add_suite(s->name, s->init, s->cleanup);
	if (!suite)
		return CU_get_error();
	for (i = 0; i < s->n_tests; i++) {
		if (!CU_add_test(suite, s->tests[i].name, s->tests[i].fn))
			return CU_get_error();
	}
	return CUE_SUCCESS;
}

int rfs_test_run(const struct rfs_test_suite *suites, size_t n_suites)
{
	CU_ErrorCode rc;
	bool failed;
	size_t i;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	for (i = 0; i < n_suites; i++) {
		if (add_suite(&suites[i]) != CUE_SUCCESS)
			goto out_cleanup_registry;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	rc = CU_basic_run_tests();
	/* a failed suite init or cleanup counts too */
	failed = rc != CUE_SUCCESS || CU_get_number_of_failures() != 0 ||
		 CU_get_number_of_suites_failed() != 0;
	CU_cleanup_registry();
	return failed ? 1 : 0;

out_cleanup_registry:
	CU_cleanup_registry();
	return 1;
}
