/*
 * The fast readdir decoder (common/proto_sax.c) against the jansson one
 * (rfs_proto_readdir_decode_tree, common/proto_int.h): on the replies the
 * metaserver writes it decodes by itself, to the same struct; on anything
 * else it defers; and whatever the text, rfs_proto_readdir_decode (fast
 * first) gives exactly what the jansson decoder gives, error codes too.
 */
#include <config.h>

#include <CUnit/CUnit.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/proto.h"
#include "common/proto_int.h"
#include "tests/unit/proto_fixtures.h"
#include "tests/unit/runner.h"

#define N_MUTATIONS 4000

/* A reply of n entries with ASCII names and, with plus, varied attrs. */
static void plain_reply(struct rfs_readdir_reply *r, size_t n, bool plus,
			uint64_t seed)
{
	memset(r, 0, sizeof(*r));
	r->entries = calloc(n ? n : 1, sizeof(*r->entries));
	CU_ASSERT_PTR_NOT_NULL_FATAL(r->entries);
	r->n = n;
	r->eof = seed & 1;
	for (size_t i = 0; i < n; i++) {
		struct rfs_dirent *d = &r->entries[i];
		uint64_t x = tp_rng_next(&seed);

		d->ino = x;
		d->mode = (i & 1 ? S_IFDIR : S_IFREG) | (uint32_t)(x & 07777);
		d->cookie = tp_rng_next(&seed);
		snprintf(d->name, sizeof(d->name), "n%zu-%llx.txt", i,
			 (unsigned long long)(x >> 20));
		if (i == n - 1) /* the longest name there is */
			memset(d->name, 'z', RFS_NAME_MAX);
		if (!plus)
			continue;
		d->has_attr = true;
		d->attr.ino = d->ino;
		d->attr.mode = d->mode;
		d->attr.uid = i % 5 == 0 ? UINT32_MAX : (uint32_t)x;
		d->attr.gid = (uint32_t)(x >> 32);
		d->attr.nlink = (uint32_t)i;
		d->attr.size = i % 7 == 0 ? (uint64_t)INT64_MAX : x >> 1;
		/* INT64_MIN itself is deferred: see below */
		d->attr.atime_ns = i % 4 == 0 ? INT64_MIN + 1 : (int64_t)x;
		d->attr.mtime_ns = i % 4 == 1 ? INT64_MAX : -(int64_t)(x >> 2);
		d->attr.ctime_ns = (int64_t)(x >> 3);
		d->attr.generation = UINT64_MAX - x;
		d->attr.goal = (uint32_t)(i % 4);
	}
}

static void check_same_reply(const struct rfs_readdir_reply *a,
			     const struct rfs_readdir_reply *b)
{
	CU_ASSERT_EQUAL_FATAL(a->n, b->n);
	CU_ASSERT_EQUAL(a->eof, b->eof);
	for (size_t i = 0; i < a->n; i++)
		CU_ASSERT_EQUAL(memcmp(&a->entries[i], &b->entries[i],
				       sizeof(a->entries[i])),
				0);
}

/* Both decoders on buf: the same rc and, on success, the same reply. */
static int check_same_result(const char *buf, size_t len)
{
	struct rfs_readdir_reply a;
	struct rfs_readdir_reply b;
	int ra = rfs_proto_readdir_decode(buf, len, &a);
	int rb = rfs_proto_readdir_decode_tree(buf, len, &b);

	CU_ASSERT_EQUAL(ra, rb);
	if (ra == 0 && rb == 0)
		check_same_reply(&a, &b);
	rfs_proto_readdir_release(&a);
	rfs_proto_readdir_release(&b);
	return ra;
}

/* What the metaserver writes, the fast decoder decodes, to the same. */
static void test_sax_decodes_what_the_server_writes(void)
{
	static const size_t sizes[] = {0, 1, 2, 17, 100, RFS_READDIR_MAX};

	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		for (int plus = 0; plus < 2; plus++) {
			struct rfs_readdir_reply r;
			struct rfs_readdir_reply f;
			char *text = NULL;
			size_t len = 0;

			plain_reply(&r, sizes[k], plus, k * 2 + plus + 1);
			CU_ASSERT_EQUAL_FATAL(
			    rfs_proto_readdir_encode(&r, &text, &len), 0);
			CU_ASSERT_EQUAL(
			    rfs_proto_readdir_decode_sax(text, len, &f), 0);
			check_same_reply(&r, &f);
			rfs_proto_readdir_release(&f);
			CU_ASSERT_EQUAL(check_same_result(text, len), 0);
			free(text);
			rfs_proto_readdir_release(&r);
		}
	}
}

/* Texts the fast decoder leaves to jansson, valid or not. */
static void test_sax_defers_what_it_does_not_judge(void)
{
	static const char *const texts[] = {
	    /* escapes, UTF-8, base64 names: valid */
	    "{\"entries\":[{\"name\":\"a\\\"b\"}],\"eof\":true}",
	    "{\"entries\":[{\"name\":\"\xc3\xa9t\xc3\xa9\"}]}",
	    "{\"entries\":[{\"name_b64\":\"/w==\"}]}",
	    /* an unknown key, valid; the same twice, not */
	    "{\"entries\":[],\"more\":1}",
	    "{\"entries\":[],\"more\":1,\"more\":2}",
	    /* duplicates and wrong types */
	    "{\"entries\":[],\"entries\":[]}",
	    "{\"entries\":[{\"mode\":1,\"mode\":2}]}",
	    "{\"entries\":[{\"attr\":{\"uid\":1,\"uid\":1}}]}",
	    "{\"entries\":[{\"mode\":4294967296}]}",
	    "{\"entries\":[{\"mode\":-1}]}",
	    "{\"entries\":[{\"mode\":1.5}]}",
	    "{\"entries\":[{\"mode\":null}]}",
	    "{\"entries\":[{\"ino\":\"123\"}]}",
	    "{\"entries\":[{\"ino\":\"000000000000000g\"}]}",
	    "{\"entries\":[{\"attr\":{\"size\":-5}}]}",
	    /* valid, but yajl 2.1 calls INT64_MIN an overflow */
	    "{\"entries\":[{\"attr\":{\"atime_ns\":-9223372036854775808}}]}",
	    "{\"entries\":[{\"attr\":[]}]}",
	    "{\"entries\":[1]}",
	    "{\"entries\":{}}",
	    "{\"eof\":1,\"entries\":[]}",
	    /* no entries key; not an object; not JSON */
	    "{\"eof\":true}",
	    "[{\"entries\":[]}]",
	    "{\"entries\":[]}{}",
	    "{\"entries\":[],}",
	    "{\"entries\":[{\"name\":\"a\"},]}",
	    "{\"entries\":[{\"mode\":01}]}",
	    "{\"entries\":[{\"name\":\"a\tb\"}]}",
	    "",
	    "{",
	};

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		struct rfs_readdir_reply f;

		CU_ASSERT_EQUAL(rfs_proto_readdir_decode_sax(
				    texts[i], strlen(texts[i]), &f),
				RFS_PROTO_DEFER);
		CU_ASSERT_EQUAL(f.n, 0);
		CU_ASSERT_PTR_NULL(f.entries);
		check_same_result(texts[i], strlen(texts[i]));
	}
}

/* More entries than a reply may carry: jansson's -E2BIG, not a decode. */
static void test_sax_defers_too_many_entries(void)
{
	struct rfs_readdir_reply f;
	size_t len = 0;
	size_t cap = 16 + (RFS_READDIR_MAX + 1) * 3;
	char *text = malloc(cap);

	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	len += (size_t)snprintf(text, cap, "{\"entries\":[");
	for (size_t i = 0; i <= RFS_READDIR_MAX; i++)
		len += (size_t)snprintf(text + len, cap - len, "%s{}",
					i ? "," : "");
	len += (size_t)snprintf(text + len, cap - len, "]}");
	CU_ASSERT_EQUAL(rfs_proto_readdir_decode_sax(text, len, &f),
			RFS_PROTO_DEFER);
	CU_ASSERT_EQUAL(check_same_result(text, len), -E2BIG);
	free(text);
}

/* Seeded damage to a valid reply: both decoders always agree. */
static void test_sax_mutations_agree_with_jansson(void)
{
	static const char alphabet[] = "{}[]\":,0123456789abcdefxyz-+.eE \\tn";
	struct rfs_readdir_reply r;
	uint64_t seed = 42;
	char *text = NULL;
	size_t len = 0;
	int decoded = 0;

	plain_reply(&r, 4, true, 7);
	CU_ASSERT_EQUAL_FATAL(rfs_proto_readdir_encode(&r, &text, &len), 0);
	for (int i = 0; i < N_MUTATIONS; i++) {
		char *m = malloc(len + 1);
		size_t mlen = len;
		size_t at;

		CU_ASSERT_PTR_NOT_NULL_FATAL(m);
		memcpy(m, text, len);
		for (int k = 0; k < 1 + i % 3; k++) {
			uint64_t x = tp_rng_next(&seed);

			at = (size_t)(x % mlen);
			switch ((x >> 32) % 3) {
			case 0: /* replace */
				m[at] = alphabet[(x >> 40) %
						 (sizeof(alphabet) - 1)];
				break;
			case 1: /* delete */
				memmove(m + at, m + at + 1, mlen - at - 1);
				mlen--;
				break;
			default: /* duplicate */
				m = realloc(m, mlen + 2);
				CU_ASSERT_PTR_NOT_NULL_FATAL(m);
				memmove(m + at + 1, m + at, mlen - at);
				mlen++;
				break;
			}
		}
		if (check_same_result(m, mlen) == 0)
			decoded++;
		free(m);
	}
	/* some damage leaves valid text (a digit for a digit) */
	CU_ASSERT(decoded > 0);
	free(text);
	rfs_proto_readdir_release(&r);
}

int main(void)
{
	static const struct rfs_test tests[] = {
	    RFS_TEST(test_sax_decodes_what_the_server_writes),
	    RFS_TEST(test_sax_defers_what_it_does_not_judge),
	    RFS_TEST(test_sax_defers_too_many_entries),
	    RFS_TEST(test_sax_mutations_agree_with_jansson),
	};
	static const struct rfs_test_suite suite = {
	    .name = "proto_sax",
	    RFS_TESTS(tests),
	};

	return rfs_test_run(&suite, 1);
}
