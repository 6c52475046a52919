/* Unit tests for common/jsonw.c, the streaming JSON writer. */
#include <config.h>

#include <CUnit/CUnit.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "common/jsonw.h"
#include "tests/unit/runner.h"

/* Finish w, assert success, that the text equals want (if not NULL) and
 * that it parses as an object; returns the parsed tree. */
static json_t *finish_ok(struct rfs_jsonw *w, const char *want)
{
	char *out = NULL;
	size_t len = 0;
	json_t *j = NULL;

	CU_ASSERT_EQUAL_FATAL(rfs_jsonw_finish(w, &out, &len), 0);
	CU_ASSERT_EQUAL(strlen(out), len);
	if (want)
		CU_ASSERT_STRING_EQUAL(out, want);
	CU_ASSERT_EQUAL(rfs_json_parse(out, len, &j), 0);
	free(out);
	return j;
}

static void test_jsonw_escapes_every_control_char(void)
{
	struct rfs_jsonw w;
	char in[40];
	json_t *tree;
	json_t *j;
	char *a;
	char *b;
	size_t i;

	/* bytes 1..31 plus '"' and '\\' (NUL is refused) */
	for (i = 0; i < 31; i++)
		in[i] = (char)(i + 1);
	in[31] = '"';
	in[32] = '\\';
	in[33] = '/';
	rfs_jsonw_init(&w);
	rfs_jsonw_obj_begin(&w);
	rfs_jsonw_key(&w, "s");
	rfs_jsonw_strn(&w, in, 34);
	rfs_jsonw_obj_end(&w);
	j = finish_ok(&w, NULL);
	CU_ASSERT_FATAL(j != NULL);
	CU_ASSERT_EQUAL(json_string_length(json_object_get(j, "s")), 34);
	CU_ASSERT(memcmp(json_string_value(json_object_get(j, "s")), in, 34) ==
		  0);
	/* and byte for byte what jansson writes */
	tree = json_object();
	CU_ASSERT_EQUAL(rfs_json_set_strn(tree, "s", in, 34), 0);
	a = json_dumps(tree, JSON_COMPACT | JSON_PRESERVE_ORDER);
	b = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	CU_ASSERT_STRING_EQUAL(a, b);
	free(a);
	free(b);
	json_decref(tree);
	json_decref(j);
}

static void test_jsonw_short_escapes(void)
{
	struct rfs_jsonw w;

	rfs_jsonw_init(&w);
	rfs_jsonw_obj_begin(&w);
	rfs_jsonw_key(&w, "a\"b");
	rfs_jsonw_strn(&w, "q\"b\\n\n\t\x01\x1f\x7f", 10);
	rfs_jsonw_obj_end(&w);
	json_decref(finish_ok(
	    &w, "{\"a\\\"b\":\"q\\\"b\\\\n\\n\\t\\u0001\\u001F\x7f\"}"));
}

static void test_jsonw_utf8(void)
{
	static const char *const bad[] = {
	    "\x80",		/* lone continuation */
	    "\xc0\xaf",		/* overlong */
	    "\xe0\x80\xaf",	/* overlong */
	    "\xed\xa0\x80",	/* surrogate */
	    "\xf4\x90\x80\x80", /* above U+10FFFF */
	    "\xf5\x80\x80\x80",
	    "\xc3",
	    "\xe2\x82",
	    "a\xff",
	};
	struct rfs_jsonw w;
	json_t *tree;
	size_t i;

	CU_ASSERT(
	    rfs_jsonw_utf8_ok("h\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 12));
	CU_ASSERT(!rfs_jsonw_utf8_ok("a\0b", 3));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CU_ASSERT(!rfs_jsonw_utf8_ok(bad[i], strlen(bad[i])));
		/* the tree encoder refuses exactly the same */
		tree = json_object();
		CU_ASSERT_EQUAL(
		    rfs_json_set_strn(tree, "k", bad[i], strlen(bad[i])),
		    -EILSEQ);
		json_decref(tree);
		rfs_jsonw_init(&w);
		rfs_jsonw_obj_begin(&w);
		rfs_jsonw_key(&w, "k");
		rfs_jsonw_strn(&w, bad[i], strlen(bad[i]));
		CU_ASSERT_EQUAL(rfs_jsonw_error(&w), -EILSEQ);
		rfs_jsonw_release(&w);
	}
	/* bytes >= 0x80 of valid UTF-8 are copied as they are */
	rfs_jsonw_init(&w);
	rfs_jsonw_obj_begin(&w);
	rfs_jsonw_key(&w, "\xc3\xa9");
	rfs_jsonw_strn(&w, "\xe2\x82\xac", 3);
	rfs_jsonw_obj_end(&w);
	json_decref(finish_ok(&w, "{\"\xc3\xa9\":\"\xe2\x82\xac\"}"));
}

static void test_jsonw_u64_limits(void)
{
	struct rfs_jsonw w;
	char *out = NULL;
	size_t len;
	json_t *j;

	rfs_jsonw_init(&w);
	rfs_jsonw_obj_begin(&w);
	rfs_jsonw_key(&w, "z");
	rfs_jsonw_u64(&w, 0);
	rfs_jsonw_key(&w, "m");
	rfs_jsonw_u64(&w, INT64_MAX);
	rfs_jsonw_key(&w, "n");
	rfs_jsonw_i64(&w, INT64_MIN);
	rfs_jsonw_key(&w, "o");
	rfs_jsonw_i64(&w, -1);
	rfs_jsonw_key(&w, "u");
	rfs_jsonw_u32(&w, UINT32_MAX);
	rfs_jsonw_key(&w, "h");
	rfs_jsonw_hex64(&w, 0xabcdef0123456789ull);
	rfs_jsonw_key(&w, "t");
	rfs_jsonw_bool(&w, true);
	rfs_jsonw_key(&w, "f");
	rfs_jsonw_bool(&w, false);
	rfs_jsonw_obj_end(&w);
	j = finish_ok(&w, "{\"z\":0,\"m\":9223372036854775807,"
			  "\"n\":-9223372036854775808,\"o\":-1,"
			  "\"u\":4294967295,\"h\":\"abcdef0123456789\","
			  "\"t\":true,\"f\":false}");
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(j, "n")), INT64_MIN);
	json_decref(j);

	rfs_jsonw_init(&w);
	rfs_jsonw_obj_begin(&w);
	rfs_jsonw_key(&w, "x");
	rfs_jsonw_u64(&w, (uint64_t)INT64_MAX + 1);
	CU_ASSERT_EQUAL(rfs_jsonw_error(&w), -ERANGE);
	rfs_jsonw_obj_end(&w);
	CU_ASSERT_EQUAL(rfs_jsonw_finish(&w, &out, &len), -ERANGE);
	CU_ASSERT_PTR_NULL(out);
}

static void test_jsonw_nesting_and_commas(void)
{
	struct rfs_jsonw w;

	rfs_jsonw_init(&w);
	rfs_jsonw_obj_begin(&w);
	rfs_jsonw_key(&w, "a");
	rfs_jsonw_arr_begin(&w);
	rfs_jsonw_arr_end(&w);
	rfs_jsonw_key(&w, "b");
	rfs_jsonw_arr_begin(&w);
	rfs_jsonw_obj_begin(&w);
	rfs_jsonw_obj_end(&w);
	rfs_jsonw_obj_begin(&w);
	rfs_jsonw_key(&w, "c");
	rfs_jsonw_obj_begin(&w);
	rfs_jsonw_key(&w, "d");
	rfs_jsonw_u32(&w, 1);
	rfs_jsonw_obj_end(&w);
	rfs_jsonw_key(&w, "e");
	rfs_jsonw_arr_begin(&w);
	rfs_jsonw_u32(&w, 1);
	rfs_jsonw_strn(&w, "x", 1);
	rfs_jsonw_arr_begin(&w);
	rfs_jsonw_arr_end(&w);
	rfs_jsonw_bool(&w, false);
	rfs_jsonw_arr_end(&w);
	rfs_jsonw_obj_end(&w);
	rfs_jsonw_arr_end(&w);
	rfs_jsonw_key(&w, "f");
	rfs_jsonw_obj_begin(&w);
	rfs_jsonw_obj_end(&w);
	rfs_jsonw_obj_end(&w);
	json_decref(finish_ok(&w, "{\"a\":[],\"b\":[{},{\"c\":{\"d\":1},"
				  "\"e\":[1,\"x\",[],false]}],\"f\":{}}"));
}

static void test_jsonw_errors_are_sticky(void)
{
	struct rfs_jsonw w;
	char *out = NULL;
	size_t len = 0;
	size_t before;

	rfs_jsonw_init(&w);
	rfs_jsonw_obj_begin(&w);
	rfs_jsonw_key(&w, "a");
	rfs_jsonw_strn(&w, "\xff", 1);
	CU_ASSERT_EQUAL(rfs_jsonw_error(&w), -EILSEQ);
	before = w.len;
	rfs_jsonw_key(&w, "b");
	rfs_jsonw_u64(&w, UINT64_MAX); /* would be -ERANGE */
	rfs_jsonw_fail(&w, -ENOMEM);
	rfs_jsonw_strn(&w, "ok", 2);
	rfs_jsonw_obj_end(&w);
	CU_ASSERT_EQUAL(w.len, before);
	CU_ASSERT_EQUAL(rfs_jsonw_error(&w), -EILSEQ);
	CU_ASSERT_EQUAL(rfs_jsonw_finish(&w, &out, &len), -EILSEQ);
	CU_ASSERT_PTR_NULL(out);
	CU_ASSERT_PTR_NULL(w.buf);
	/* a writer never used finishes as an empty text */
	rfs_jsonw_init(&w);
	CU_ASSERT_EQUAL(rfs_jsonw_finish(&w, &out, &len), 0);
	CU_ASSERT_EQUAL(len, 0);
	CU_ASSERT_STRING_EQUAL(out, "");
	free(out);
}

static void test_jsonw_large_output(void)
{
	struct rfs_jsonw w;
	json_t *j;
	json_t *arr;
	size_t i;

	rfs_jsonw_init(&w);
	rfs_jsonw_obj_begin(&w);
	rfs_jsonw_key(&w, "v");
	rfs_jsonw_arr_begin(&w);
	for (i = 0; i < 100000; i++) {
		rfs_jsonw_obj_begin(&w);
		rfs_jsonw_key(&w, "i");
		rfs_jsonw_u64(&w, i);
		rfs_jsonw_key(&w, "s");
		rfs_jsonw_strn(&w, "a\"b\\c\n", 6);
		rfs_jsonw_key(&w, "b");
		rfs_jsonw_base64(&w, "\0\1\2", 3);
		rfs_jsonw_obj_end(&w);
	}
	rfs_jsonw_arr_end(&w);
	rfs_jsonw_obj_end(&w);
	CU_ASSERT(w.cap >= w.len + 1);
	j = finish_ok(&w, NULL);
	CU_ASSERT_FATAL(j != NULL);
	arr = json_object_get(j, "v");
	CU_ASSERT_EQUAL(json_array_size(arr), 100000);
	CU_ASSERT_EQUAL(json_integer_value(
			    json_object_get(json_array_get(arr, 99999), "i")),
			99999);
	CU_ASSERT_STRING_EQUAL(
	    json_string_value(json_object_get(json_array_get(arr, 5), "b")),
	    "AAEC");
	json_decref(j);
}

static const struct rfs_test jsonw_tests[] = {
    RFS_TEST(test_jsonw_escapes_every_control_char),
    RFS_TEST(test_jsonw_short_escapes),
    RFS_TEST(test_jsonw_utf8),
    RFS_TEST(test_jsonw_u64_limits),
    RFS_TEST(test_jsonw_nesting_and_commas),
    RFS_TEST(test_jsonw_errors_are_sticky),
    RFS_TEST(test_jsonw_large_output),
};

int main(void)
{
	static const struct rfs_test_suite suites[] = {
	    {.name = "jsonw", RFS_TESTS(jsonw_tests)},
	};

	return rfs_test_run(suites, sizeof(suites) / sizeof(suites[0]));
}
