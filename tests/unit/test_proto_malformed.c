/*
 * Unit tests for common/proto.c and common/json.c, part 2: malformed input.
 * Every decoder gets truncated input at every length, mutated and random
 * bytes, deep nesting, wrong types and out-of-range values for every
 * field, and lists and blobs over their limits. Run under ASan this also
 * checks that no error path leaks.
 */
#include <config.h>
#include "common/proto.h"

#include <CUnit/Basic.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/crypto.h"
#include "common/json.h"
#include "tests/unit/proto_fixtures.h"
#include "tests/unit/runner.h"

/* --- truncated, mutated and random input -------------------------------- */
static void test_proto_truncated_input(void)
{
	char *text;
	size_t len;
	size_t i;
	size_t cut;

	for (i = 0; i < tp_n_codecs; i++) {
		text = tp_sample_encoding(tp_all_codecs[i], &len);
		CU_ASSERT_EQUAL(tp_decode_check(tp_all_codecs[i], text, len),
				0);
		for (cut = 0; cut < len; cut++)
			CU_ASSERT_EQUAL(
			    tp_decode_check(tp_all_codecs[i], text, cut),
			    -EPROTO);
		free(text);
	}
}

static void test_proto_mutated_input(void)
{
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	char *text;
	size_t len;
	size_t i;
	int round;
	int rc;
	int k;

	for (i = 0; i < tp_n_codecs; i++) {
		text = tp_sample_encoding(tp_all_codecs[i], &len);
		for (round = 0; round < 1000; round++) {
			char *m = malloc(len);

			CU_ASSERT_PTR_NOT_NULL_FATAL(m);
			memcpy(m, text, len);
			for (k = 0; k < 1 + round % 3; k++)
				m[tp_rng_next(&seed) % len] =
				    (char)tp_rng_next(&seed);
			/* no crash, leak or junk; only documented errors */
			rc = tp_decode_check(tp_all_codecs[i], m, len);
			CU_ASSERT(rc == 0 || rc == -EPROTO ||
				  rc == -ENAMETOOLONG || rc == -E2BIG);
			free(m);
		}
		free(text);
	}
}

static void test_proto_random_bytes(void)
{
	uint64_t seed = 12345;
	char buf[512];
	size_t len;
	size_t i;
	size_t j;
	int round;

	for (i = 0; i < tp_n_codecs; i++) {
		for (round = 0; round < 500; round++) {
			len = tp_rng_next(&seed) % sizeof(buf);
			for (j = 0; j < len; j++)
				buf[j] = (char)tp_rng_next(&seed);
			if (round % 2 && len)
				buf[0] = '{'; /* get past the first byte */
			CU_ASSERT_EQUAL(
			    tp_decode_check(tp_all_codecs[i], buf, len),
			    -EPROTO);
		}
	}
}

static void test_proto_not_an_object(void)
{
	static const char *const bad[] = {
	    "",	       " ",	     "[]",   "1",
	    "\"x\"",   "null",	     "true", "{",
	    "}",       "{}{}",	     "{} x", "{\"a\"}",
	    "{'a':1}", "{\"a\":1,}", "[{}]", "{\"name\":\"\xff\"}",
	};
	static const char with_nul[] = "{\"op\":\"mkdir\"}\0{}";
	static const char nul_in_string[] = "{\"name\":\"a\\u0000b\"}";
	static const char dup[] = "{\"ino\":\"0000000000000001\","
				  "\"ino\":\"0000000000000002\"}";
	size_t i;
	size_t c;

	for (c = 0; c < tp_n_codecs; c++) {
		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			tp_expect_rc(tp_all_codecs[c], bad[i], -EPROTO);
		CU_ASSERT_EQUAL(tp_decode_check(tp_all_codecs[c], with_nul,
						sizeof(with_nul) - 1),
				-EPROTO);
		tp_expect_rc(tp_all_codecs[c], "{} \n", 0);
	}
	tp_expect_rc(&tp_c_op, nul_in_string, -EPROTO);
	tp_expect_rc(&tp_c_readdir, "{\"entries\":[{\"name\":\"a\\u0000\"}]}",
		     -EPROTO);
	tp_expect_rc(&tp_c_op, dup, -EPROTO);
}

static void test_proto_deep_nesting(void)
{
	size_t depth = 100000;
	char *text;
	size_t c;

	text = tp_repeat_json("", "[", depth, "");
	for (c = 0; c < tp_n_codecs; c++)
		CU_ASSERT_EQUAL(
		    tp_decode_check(tp_all_codecs[c], text, strlen(text)),
		    -EPROTO);
	free(text);
	/* complete but deeper than the parser allows */
	text = malloc(depth * 6 + 16);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	memset(text, 0, depth * 6 + 16);
	for (c = 0; c < 5000; c++)
		memcpy(text + c * 5, "{\"a\":", 5);
	text[5000 * 5] = '1';
	memset(text + 5000 * 5 + 1, '}', 5000);
	tp_expect_rc(&tp_c_op, text, -EPROTO);
	tp_expect_rc(&tp_c_status, text, -EPROTO);
	free(text);
	/* moderate nesting under an unknown key is ignored */
	tp_expect_rc(&tp_c_op, "{\"x\":[[[[[[[[[[{\"y\":[]}]]]]]]]]]]}", 0);
	tp_expect_rc(&tp_c_op, "{\"server\":{\"id\":[[[[]]]]}}", -EPROTO);
}

/* --- wrong types and ranges, field by field ----------------------------- */
enum kind {
	K_HEX,
	K_U32,
	K_U64,
	K_I64,
	K_BOOL,
	K_NAME,
	K_STR,
	K_SID,
	K_STATE,
	K_B64,
	K_TEXT,
	K_OP
};

struct key_kind {
	const char *key;
	enum kind kind;
};

/* Where the fields of one struct sit in a message: head KEY:VALUE tail. */
struct shape {
	const struct tp_codec *c;
	const char *head;
	const char *tail;
	const struct key_kind *keys;
};

static const struct key_kind op_keys[] = {
    {"op", K_OP},	    {"ino", K_HEX},	  {"parent", K_HEX},
    {"name", K_NAME},	    {"newparent", K_HEX}, {"newname", K_NAME},
    {"mode", K_U32},	    {"uid", K_U32},	  {"gid", K_U32},
    {"flags", K_U32},	    {"valid", K_U32},	  {"size", K_U64},
    {"atime_ns", K_I64},    {"mtime_ns", K_I64},  {"data", K_B64},
    {"cookie", K_HEX},	    {"limit", K_U32},	  {"index", K_U64},
    {"offset", K_U64},	    {"chunk_id", K_HEX},  {"version", K_U32},
    {"length", K_U64},	    {"now_ns", K_I64},	  {"name_b64", K_B64},
    {"newname_b64", K_B64}, {NULL, K_HEX}};
static const struct key_kind replica_keys[] = {
    {"id", K_SID}, {"addr", K_STR}, {"up", K_BOOL}, {NULL, K_HEX}};
static const struct key_kind server_keys[] = {
    {"id", K_SID},	 {"addr", K_STR},
    {"zone", K_STR},	 {"weight", K_U32},
    {"capacity", K_U64}, {"used", K_U64},
    {"chunks", K_U64},	 {"load", K_U32},
    {"state", K_STATE},	 {"heartbeat_age_ms", K_I64},
    {NULL, K_HEX}};
static const struct key_kind attr_keys[] = {
    {"ino", K_HEX},	   {"mode", K_U32},	{"uid", K_U32},
    {"gid", K_U32},	   {"nlink", K_U32},	{"size", K_U64},
    {"atime_ns", K_I64},   {"mtime_ns", K_I64}, {"ctime_ns", K_I64},
    {"generation", K_HEX}, {"goal", K_U32},	{NULL, K_HEX}};
static const struct key_kind readdir_keys[] = {{"eof", K_BOOL}, {NULL, K_HEX}};
static const struct key_kind dirent_keys[] = {
    {"ino", K_HEX},   {"mode", K_U32},	   {"cookie", K_HEX},
    {"name", K_NAME}, {"name_b64", K_B64}, {NULL, K_HEX}};
static const struct key_kind value_keys[] = {{"value", K_B64}, {NULL, K_HEX}};
static const struct key_kind statfs_keys[] = {
    {"total_bytes", K_U64}, {"free_bytes", K_U64}, {"used_bytes", K_U64},
    {"inodes", K_U64},	    {"chunk_size", K_U64}, {NULL, K_HEX}};
static const struct key_kind lease_keys[] = {
    {"ino", K_HEX},	     {"index", K_U64},
    {"chunk_id", K_HEX},     {"version", K_U32},
    {"prev_version", K_U32}, {"prev_length", K_U64},
    {"chunk_size", K_U64},   {NULL, K_HEX}};
static const struct key_kind layout_keys[] = {{"ino", K_HEX},
					      {"size", K_U64},
					      {"chunk_size", K_U64},
					      {"goal", K_U32},
					      {NULL, K_HEX}};
static const struct key_kind chunk_keys[] = {{"index", K_U64},
					     {"chunk_id", K_HEX},
					     {"version", K_U32},
					     {"length", K_U64},
					     {NULL, K_HEX}};
static const struct key_kind status_keys[] = {
    {"fsid", K_STR},	   {"chunk_size", K_U64}, {"goal", K_U32},
    {"ring_epoch", K_HEX}, {"inodes", K_U64},	  {"chunks", K_U64},
    {NULL, K_HEX}};
static const struct key_kind inventory_keys[] = {{"server_id", K_SID},
						 {NULL, K_HEX}};
static const struct key_kind inv_entry_keys[] = {
    {"chunk_id", K_HEX}, {"version", K_U32}, {"length", K_U64}, {NULL, K_HEX}};
static const struct key_kind error_keys[] = {
    {"error", K_TEXT}, {"message", K_TEXT}, {NULL, K_HEX}};

static const struct shape shapes[] = {
    {&tp_c_op, "{", "}", op_keys},
    {&tp_c_op, "{\"replicas\":[{", "}]}", replica_keys},
    {&tp_c_op, "{\"server\":{", "}}", server_keys},
    {&tp_c_attr, "{\"attr\":{", "}}", attr_keys},
    {&tp_c_readdir, "{", "}", readdir_keys},
    {&tp_c_readdir, "{\"entries\":[{}, {", "}]}", dirent_keys},
    {&tp_c_value, "{", "}", value_keys},
    {&tp_c_statfs, "{", "}", statfs_keys},
    {&tp_c_lease, "{", "}", lease_keys},
    {&tp_c_lease, "{\"replicas\":[{", "}]}", replica_keys},
    {&tp_c_layout, "{", "}", layout_keys},
    {&tp_c_layout, "{\"chunks\":[{", "}]}", chunk_keys},
    {&tp_c_layout, "{\"chunks\":[{\"replicas\":[{", "}]}]}", replica_keys},
    {&tp_c_server, "{", "}", server_keys},
    {&tp_c_status, "{", "}", status_keys},
    {&tp_c_status, "{\"servers\":[{", "}]}", server_keys},
    {&tp_c_inventory, "{", "}", inventory_keys},
    {&tp_c_inventory, "{\"chunks\":[{", "}]}", inv_entry_keys},
    {&tp_c_error, "{", "}", error_keys},
};

struct bad_value {
	const char *value;
	int rc;
};

#define END_BAD                                                                \
	{                                                                      \
		NULL, 0                                                        \
	}
#define NOT_STRING                                                             \
	{"5", -EPROTO}, {"null", -EPROTO}, {"[]", -EPROTO}, {"{}", -EPROTO},   \
	    {"true", -EPROTO},                                                 \
	{                                                                      \
		"1.5", -EPROTO                                                 \
	}
#define NOT_INTEGER                                                            \
	{"1.5", -EPROTO}, {"\"1\"", -EPROTO}, {"true", -EPROTO},               \
	    {"null", -EPROTO}, {"[]", -EPROTO}, {"{}", -EPROTO},               \
	    {"1e3", -EPROTO},                                                  \
	{                                                                      \
		"1.0", -EPROTO                                                 \
	}

static const struct bad_value bad_hex[] = {NOT_STRING,
					   {"\"\"", -EPROTO},
					   {"\"123\"", -EPROTO},
					   {"\"0123456789abcdef0\"", -EPROTO},
					   {"\"0123456789abcdeg\"", -EPROTO},
					   {"\"-123456789abcdef\"", -EPROTO},
					   {"\" 123456789abcdef\"", -EPROTO},
					   {"\"0x3456789abcdef0\"", -EPROTO},
					   {"255", -EPROTO},
					   END_BAD};
static const struct bad_value bad_u32[] = {NOT_INTEGER,
					   {"-1", -EPROTO},
					   {"4294967296", -EPROTO},
					   {"9223372036854775807", -EPROTO},
					   {"18446744073709551616", -EPROTO},
					   END_BAD};
static const struct bad_value bad_u64[] = {NOT_INTEGER,
					   {"-1", -EPROTO},
					   {"-9223372036854775808", -EPROTO},
					   {"9223372036854775808", -EPROTO},
					   {"18446744073709551615", -EPROTO},
					   {"1e300", -EPROTO},
					   END_BAD};
static const struct bad_value bad_i64[] = {NOT_INTEGER,
					   {"9223372036854775808", -EPROTO},
					   {"-9223372036854775809", -EPROTO},
					   END_BAD};
static const struct bad_value bad_bool[] = {{"1", -EPROTO},
					    {"0", -EPROTO},
					    {"\"true\"", -EPROTO},
					    {"null", -EPROTO},
					    {"[]", -EPROTO},
					    {"{}", -EPROTO},
					    END_BAD};
/* long names and strings are added by bad_values_long() */
static const struct bad_value bad_name[] = {
    NOT_STRING, {"\"a\\u0000b\"", -EPROTO}, END_BAD};
static const struct bad_value bad_str[] = {
    NOT_STRING, {"\"a\\u0000b\"", -EPROTO}, END_BAD};
static const struct bad_value bad_sid[] = {NOT_STRING,
					   {"\"a b\"", -EPROTO},
					   {"\"a/b\"", -EPROTO},
					   {"\"a:b\"", -EPROTO},
					   {"\"\xc3\xa9\"", -EPROTO},
					   {"\"a\\u0000b\"", -EPROTO},
					   END_BAD};
static const struct bad_value bad_state[] = {{"0", -EPROTO},
					     {"\"sideways\"", -EPROTO},
					     {"\"UP\"", -EPROTO},
					     {"null", -EPROTO},
					     {"[]", -EPROTO},
					     {"\"\"", -EPROTO},
					     END_BAD};
static const struct bad_value bad_b64[] = {NOT_STRING,
					   {"\"!!!!\"", -EPROTO},
					   {"\"abc\"", -EPROTO},
					   {"\"ab=c\"", -EPROTO},
					   {"\"====\"", -EPROTO},
					   {"\"AA AA\"", -EPROTO},
					   END_BAD};
static const struct bad_value bad_text[] = {NOT_STRING, END_BAD};
static const struct bad_value bad_op[] = {NOT_STRING,
					  {"\"\"", -EPROTO},
					  {"\"MKDIR\"", -EPROTO},
					  {"\"none\"", -EPROTO},
					  {"\"add_replicas_or_more\"", -EPROTO},
					  END_BAD};

static const struct bad_value *const bad_by_kind[] = {
    [K_HEX] = bad_hex, [K_U32] = bad_u32,   [K_U64] = bad_u64,
    [K_I64] = bad_i64, [K_BOOL] = bad_bool, [K_NAME] = bad_name,
    [K_STR] = bad_str, [K_SID] = bad_sid,   [K_STATE] = bad_state,
    [K_B64] = bad_b64, [K_TEXT] = bad_text, [K_OP] = bad_op,
};
static const char *const good_by_kind[] = {
    [K_HEX] = "\"00000000000000fF\"",
    [K_U32] = "4294967295",
    [K_U64] = "9223372036854775807",
    [K_I64] = "-9223372036854775808",
    [K_BOOL] = "false",
    [K_NAME] = "\"\xc3\xa9t\xc3\xa9\"",
    [K_STR] = "\"x\"",
    [K_SID] = "\"A-b.c_9\"",
    [K_STATE] = "\"draining\"",
    [K_B64] = "\"YWI=\"",
    [K_TEXT] = "\"ENOENT\"",
    [K_OP] = "\"add_replicas\"",
};

static void expect_field(const struct shape *sh, const char *key,
			 const char *value, int want)
{
	struct tp_sbuf sb = {0};

	tp_sb_str(&sb, sh->head);
	tp_sb_str(&sb, "\"");
	tp_sb_str(&sb, key);
	tp_sb_str(&sb, "\":");
	tp_sb_str(&sb, value);
	tp_sb_str(&sb, sh->tail);
	tp_expect_rc(sh->c, sb.p, want);
	free(sb.p);
}

/* A JSON string of n copies of c. */
static char *long_string(size_t n, char c)
{
	char *s = malloc(n + 3);

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	s[0] = '"';
	memset(s + 1, c, n);
	s[n + 1] = '"';
	s[n + 2] = '\0';
	return s;
}

/* Over-long strings: names give ENAMETOOLONG, other strings EPROTO. */
static void expect_long_values(const struct shape *sh,
			       const struct key_kind *kk)
{
	char *s;

	if (kk->kind == K_NAME) {
		s = long_string(RFS_NAME_MAX, 'n');
		expect_field(sh, kk->key, s, 0);
		free(s);
		s = long_string(RFS_NAME_MAX + 1, 'n');
		expect_field(sh, kk->key, s, -ENAMETOOLONG);
		free(s);
		s = long_string(300, 'n');
		expect_field(sh, kk->key, s, -ENAMETOOLONG);
		free(s);
	} else if (kk->kind == K_STR || kk->kind == K_SID) {
		s = long_string(RFS_ADDR_MAX + 1, 'a');
		expect_field(sh, kk->key, s, -EPROTO);
		free(s);
	}
	if (kk->kind == K_SID) {
		s = long_string(RFS_SERVER_ID_MAX, 'a');
		expect_field(sh, kk->key, s, 0);
		free(s);
		s = long_string(RFS_SERVER_ID_MAX + 1, 'a');
		expect_field(sh, kk->key, s, -EPROTO);
		free(s);
		expect_field(sh, kk->key, "\"\"", 0); /* empty: absent */
	}
}

static void test_proto_wrong_types(void)
{
	const struct bad_value *bad;
	const struct key_kind *kk;
	size_t i;

	for (i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		for (kk = shapes[i].keys; kk->key; kk++) {
			expect_field(&shapes[i], kk->key,
				     good_by_kind[kk->kind], 0);
			for (bad = bad_by_kind[kk->kind]; bad->value; bad++)
				expect_field(&shapes[i], kk->key, bad->value,
					     bad->rc);
			expect_long_values(&shapes[i], kk);
		}
	}
}

/* --- limits on lists and blobs ------------------------------------------ */
/* {"<key>":"<base64 of n bytes>"} plus extra members, malloc'd. */
static char *blob_json(const char *extra, const char *key, size_t n)
{
	struct tp_sbuf sb = {0};
	char *data = tp_make_data(n);
	char *b64;
	size_t i;

	/* names may hold any byte but NUL */
	for (i = 0; strstr(key, "_b64") && i < n; i++)
		if (!data[i])
			data[i] = 'x';
	CU_ASSERT_EQUAL_FATAL(rfs_base64_encode(data, n, &b64), 0);
	tp_sb_str(&sb, "{");
	tp_sb_str(&sb, extra);
	tp_sb_str(&sb, "\"");
	tp_sb_str(&sb, key);
	tp_sb_str(&sb, "\":\"");
	tp_sb_str(&sb, b64);
	tp_sb_str(&sb, "\"}");
	free(b64);
	free(data);
	return sb.p;
}

static void expect_blob(const struct tp_codec *c, const char *extra,
			const char *key, size_t n, int want)
{
	char *text = blob_json(extra, key, n);

	tp_expect_rc(c, text, want);
	free(text);
}

static void test_proto_blob_limits(void)
{
	expect_blob(&tp_c_op, "\"op\":\"symlink\",", "data", RFS_PATH_MAX, 0);
	expect_blob(&tp_c_op, "\"op\":\"symlink\",", "data", RFS_PATH_MAX + 1,
		    -ENAMETOOLONG);
	expect_blob(&tp_c_op, "\"op\":\"resolve\",", "data", RFS_PATH_MAX + 1,
		    -ENAMETOOLONG);
	expect_blob(&tp_c_op, "\"op\":\"setxattr\",", "data",
		    RFS_XATTR_VALUE_MAX, 0);
	expect_blob(&tp_c_op, "\"op\":\"setxattr\",", "data",
		    RFS_XATTR_VALUE_MAX + 1, -E2BIG);
	expect_blob(&tp_c_op, "", "data", RFS_XATTR_VALUE_MAX + 1, -E2BIG);
	expect_blob(&tp_c_op, "", "data", 3 * RFS_XATTR_VALUE_MAX, -E2BIG);
	expect_blob(&tp_c_value, "", "value", RFS_XATTR_VALUE_MAX, 0);
	expect_blob(&tp_c_value, "", "value", RFS_XATTR_VALUE_MAX + 1, -E2BIG);
	/* names in base64 form */
	expect_blob(&tp_c_op, "", "name_b64", RFS_NAME_MAX, 0);
	expect_blob(&tp_c_op, "", "name_b64", RFS_NAME_MAX + 1, -ENAMETOOLONG);
	expect_blob(&tp_c_op, "", "newname_b64", 300, -ENAMETOOLONG);
	tp_expect_rc(&tp_c_op, "{\"name_b64\":\"YQBi\"}", -EPROTO); /* "a\0b" */
	tp_expect_rc(&tp_c_op, "{\"name\":\"ab\",\"name_b64\":\"YWI=\"}",
		     -EPROTO);
	tp_expect_rc(&tp_c_readdir, "{\"entries\":[{\"name_b64\":\"/w==\"}]}",
		     0);
}

static void test_proto_list_limits(void)
{
	static const char rep[] = "{\"id\":\"a\"}";
	char *text;

	text = tp_repeat_json("{\"replicas\":[", rep, RFS_MAX_REPLICAS, "]}");
	tp_expect_rc(&tp_c_op, text, 0);
	tp_expect_rc(&tp_c_lease, text, 0);
	free(text);
	text =
	    tp_repeat_json("{\"replicas\":[", rep, RFS_MAX_REPLICAS + 1, "]}");
	tp_expect_rc(&tp_c_op, text, -E2BIG);
	tp_expect_rc(&tp_c_lease, text, -E2BIG);
	free(text);
	text = tp_repeat_json("{\"chunks\":[{\"replicas\":[", rep,
			      RFS_MAX_REPLICAS + 1, "]}]}");
	tp_expect_rc(&tp_c_layout, text, -E2BIG);
	free(text);
	text = tp_repeat_json("{\"entries\":[", "{}", RFS_READDIR_MAX, "]}");
	tp_expect_rc(&tp_c_readdir, text, 0);
	free(text);
	text =
	    tp_repeat_json("{\"entries\":[", "{}", RFS_READDIR_MAX + 1, "]}");
	tp_expect_rc(&tp_c_readdir, text, -E2BIG);
	free(text);
	text = tp_repeat_json("{\"chunks\":[", "{}", RFS_LAYOUT_MAX_CHUNKS + 1,
			      "]}");
	tp_expect_rc(&tp_c_layout, text, -E2BIG);
	free(text);
	text =
	    tp_repeat_json("{\"servers\":[", "{}", RFS_SERVERS_MAX + 1, "]}");
	tp_expect_rc(&tp_c_status, text, -E2BIG);
	free(text);
	/* lists of the wrong type, or holding the wrong type */
	tp_expect_rc(&tp_c_op, "{\"replicas\":{}}", -EPROTO);
	tp_expect_rc(&tp_c_op, "{\"replicas\":[[]]}", -EPROTO);
	tp_expect_rc(&tp_c_op, "{\"replicas\":[\"a\"]}", -EPROTO);
	tp_expect_rc(&tp_c_op, "{\"server\":[]}", -EPROTO);
	tp_expect_rc(&tp_c_attr, "{\"attr\":[]}", -EPROTO);
	tp_expect_rc(&tp_c_readdir, "{\"entries\":{}}", -EPROTO);
	tp_expect_rc(&tp_c_readdir, "{\"entries\":[{},1]}", -EPROTO);
	tp_expect_rc(&tp_c_layout, "{\"chunks\":\"x\"}", -EPROTO);
	tp_expect_rc(&tp_c_status, "{\"servers\":[null]}", -EPROTO);
	tp_expect_rc(&tp_c_inventory,
		     "{\"chunks\":[[\"0000000000000001\",1,1]]}", -EPROTO);
	tp_expect_rc(&tp_c_inventory, "{\"chunks\":null}", -EPROTO);
}

int main(void)
{
	static const struct rfs_test tests[] = {
	    RFS_TEST(test_proto_truncated_input),
	    RFS_TEST(test_proto_mutated_input),
	    RFS_TEST(test_proto_random_bytes),
	    RFS_TEST(test_proto_not_an_object),
	    RFS_TEST(test_proto_deep_nesting),
	    RFS_TEST(test_proto_wrong_types),
	    RFS_TEST(test_proto_blob_limits),
	    RFS_TEST(test_proto_list_limits),
	};
	static const struct rfs_test_suite suite = {
	    .name = "proto_malformed",
	    RFS_TESTS(tests),
	};

	return rfs_test_run(&suite, 1);
}
