/*
 * Unit tests of the pure parts of the client library and the CLI:
 * metaserver address lists, remote path handling, block/range arithmetic,
 * layout lookup, text formatting (sizes, progress, faults, modes), temp
 * names, and the ringfs command-line parser; against a fake server on
 * loopback: chunk server syncs and a create that leases chunk 0.
 */
#include <config.h>
#include "client/client.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <CUnit/Basic.h>

#include "common/crc32c.h"
#include "common/httpd.h"
#include "tools/ringfs-opts.h"
#include "tests/unit/runner.h"

#define B  ((uint64_t)RFS_CRC_BLOCK_BYTES)
#define MB (1024u * 1024u)

/* --- a fake metaserver and chunk server ------------------------------- */
struct fake {
	struct rfs_httpd *srv;
	char addr[RFS_ADDR_MAX + 1];
	atomic_int syncs;	  /* POST /v1/sync seen */
	atomic_int creates;	  /* creates seen */
	atomic_uint create_flags; /* flags of the last one */
	bool fail_sync;		  /* answer syncs with 500 EIO */
	bool lease;		  /* creates reply a lease */
};

static int fake_sync(struct rfs_httpd_req *req, void *ctx)
{
	struct fake *f = ctx;

	atomic_fetch_add(&f->syncs, 1);
	if (f->fail_sync) {
		rfs_httpd_reply_error(req, -EIO, "disk gone");
		return -EIO;
	}
	return rfs_httpd_reply(req, 204, NULL, NULL, 0);
}

static int fake_create(struct rfs_httpd_req *req, void *ctx)
{
	struct fake *f = ctx;
	struct rfs_attr a = {.ino = 42, .mode = S_IFREG | 0644, .nlink = 1};
	struct rfs_lease l = {.ino = 42,
			      .chunk_id = 9,
			      .version = 1,
			      .chunk_size = 1 << 20,
			      .n_replicas = 2};
	const char *body;
	struct rfs_op op;
	size_t len = 0;
	char *out = NULL;

	body = rfs_httpd_req_body(req, &len);
	if (rfs_proto_op_decode(body ? body : "", len, &op) == 0) {
		atomic_store(&f->create_flags, op.flags);
		rfs_proto_op_release(&op);
	}
	atomic_fetch_add(&f->creates, 1);
	snprintf(l.replicas[0].id, sizeof(l.replicas[0].id), "cs1");
	snprintf(l.replicas[0].addr, sizeof(l.replicas[0].addr), "%s", f->addr);
	snprintf(l.replicas[1].id, sizeof(l.replicas[1].id), "cs2");
	snprintf(l.replicas[1].addr, sizeof(l.replicas[1].addr), "%s", f->addr);
	if (!f->lease)
		l.n_replicas = 0;
	if (rfs_proto_attr_lease_encode(&a, &l, &out, &len) < 0)
		return -ENOMEM;
	return rfs_httpd_reply(req, 200, RFS_CONTENT_JSON, out, len);
}

static const struct rfs_httpd_route fake_routes[] = {
    {"POST", RFS_PATH_SYNC, fake_sync, NULL, 0},
    {"POST", RFS_PATH_NS "create", fake_create, NULL, 1 << 16},
};

static void fake_start(struct fake *f)
{
	struct rfs_httpd_opts o = {.name = "fake",
				   .bind_addr = "127.0.0.1",
				   .threads = 2,
				   .routes = fake_routes,
				   .n_routes = 2,
				   .ctx = f};

	CU_ASSERT_EQUAL_FATAL(rfs_httpd_start(&o, &f->srv), 0);
	snprintf(f->addr, sizeof(f->addr), "127.0.0.1:%u",
		 (unsigned)rfs_httpd_port(f->srv));
}

/* A client of the fake and a chunk engine over it. */
static struct rfs_client *fake_client(const struct fake *f, struct rfs_cio **io)
{
	struct rfs_client_opts o = {.meta = f->addr};
	struct rfs_client *c = NULL;

	CU_ASSERT_EQUAL_FATAL(rfs_client_new(&o, &c), 0);
	*io = rfs_cio_new(c, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(*io);
	return c;
}

static void test_client_sync_set(void)
{
	struct rfs_sync_set s = {0};
	struct rfs_sync_set t = {0};
	char addr[32];

	CU_ASSERT_EQUAL(rfs_sync_set_add(&s, "127.0.0.1:1"), 0);
	CU_ASSERT_EQUAL(rfs_sync_set_add(&s, "127.0.0.1:2"), 0);
	CU_ASSERT_EQUAL(rfs_sync_set_add(&s, "127.0.0.1:1"), 0);
	CU_ASSERT_EQUAL(s.n, 2);
	/* grows past its first allocation */
	for (int i = 0; i < 40; i++) {
		snprintf(addr, sizeof(addr), "10.0.0.%d:9500", i);
		CU_ASSERT_EQUAL(rfs_sync_set_add(&t, addr), 0);
	}
	CU_ASSERT_EQUAL(rfs_sync_set_add(&t, "127.0.0.1:2"), 0);
	CU_ASSERT_EQUAL(rfs_sync_set_merge(&s, &t), 0);
	CU_ASSERT_EQUAL(s.n, 42);
	CU_ASSERT_STRING_EQUAL(s.addr[2], "10.0.0.0:9500");
	rfs_sync_set_release(&t);
	CU_ASSERT_EQUAL(t.n, 0);
	CU_ASSERT_PTR_NULL(t.addr);
	rfs_sync_set_release(&s);
}

static void test_client_sync_servers(void)
{
	struct fake f = {0};
	struct fake g = {.fail_sync = true};
	struct rfs_sync_set s = {0};
	struct rfs_client *c;
	struct rfs_cio *io;

	fake_start(&f);
	fake_start(&g);
	c = fake_client(&f, &io);
	/* nothing to sync: no request */
	CU_ASSERT_EQUAL(rfs_cio_sync(io, &s), 0);
	CU_ASSERT_EQUAL(atomic_load(&f.syncs), 0);
	CU_ASSERT_EQUAL(rfs_sync_set_add(&s, f.addr), 0);
	CU_ASSERT_EQUAL(rfs_cio_sync(io, &s), 0);
	CU_ASSERT_EQUAL(atomic_load(&f.syncs), 1);
	/* one server failing fails the sync; the others still synced */
	CU_ASSERT_EQUAL(rfs_sync_set_add(&s, g.addr), 0);
	CU_ASSERT_EQUAL(rfs_cio_sync(io, &s), -EIO);
	CU_ASSERT_EQUAL(atomic_load(&f.syncs), 2);
	CU_ASSERT_EQUAL(atomic_load(&g.syncs), 1);
	CU_ASSERT_EQUAL(s.n, 2);
	rfs_sync_set_release(&s);
	rfs_cio_free(io);
	rfs_client_free(c);
	rfs_httpd_stop(g.srv);
	rfs_httpd_stop(f.srv);
}

static void test_client_create_lease(void)
{
	struct fake f = {.lease = true};
	struct rfs_lease l;
	struct rfs_attr a;
	struct rfs_client *c;
	struct rfs_cio *io;

	fake_start(&f);
	c = fake_client(&f, &io);
	CU_ASSERT_EQUAL(rfs_client_create_lease(c, RFS_ROOT_INO, "x", 0644, 1,
						2, RFS_CREATE_EXCL, &a, &l),
			0);
	CU_ASSERT_EQUAL(atomic_load(&f.create_flags),
			RFS_CREATE_EXCL | RFS_CREATE_LEASE);
	CU_ASSERT_EQUAL(a.ino, 42);
	CU_ASSERT_EQUAL(l.ino, 42);
	CU_ASSERT_EQUAL(l.index, 0);
	CU_ASSERT_EQUAL(l.chunk_id, 9);
	CU_ASSERT_EQUAL(l.version, 1);
	CU_ASSERT_EQUAL(l.n_replicas, 2);
	CU_ASSERT_STRING_EQUAL(l.replicas[1].addr, f.addr);
	/* a reply without a lease: the create still succeeds */
	f.lease = false;
	CU_ASSERT_EQUAL(rfs_client_create_lease(c, RFS_ROOT_INO, "y", 0644, 1,
						2, 0, &a, &l),
			0);
	CU_ASSERT_EQUAL(a.ino, 42);
	CU_ASSERT_EQUAL(l.n_replicas, 0);
	/* and the plain create reads the attr of the same reply */
	f.lease = true;
	CU_ASSERT_EQUAL(
	    rfs_client_create(c, RFS_ROOT_INO, "z", 0644, 1, 2, 0, &a), 0);
	CU_ASSERT_EQUAL(atomic_load(&f.create_flags), 0);
	CU_ASSERT_EQUAL(a.ino, 42);
	CU_ASSERT_EQUAL(atomic_load(&f.creates), 3);
	rfs_cio_free(io);
	rfs_client_free(c);
	rfs_httpd_stop(f.srv);
}

/* --- addresses --------------------------------------------------------- */

static void test_client_parse_addrs_valid(void)
{
	char a[RFS_CLIENT_META_ADDRS_MAX][RFS_ADDR_MAX + 1];
	size_t n = 99;

	CU_ASSERT_EQUAL(rfs_client_parse_addrs("127.0.0.1:9400", a, 8, &n), 0);
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT_STRING_EQUAL(a[0], "127.0.0.1:9400");
	CU_ASSERT_EQUAL(
	    rfs_client_parse_addrs("m1:1,m2.example:65535,[::1]:9", a, 8, &n),
	    0);
	CU_ASSERT_EQUAL(n, 3);
	CU_ASSERT_STRING_EQUAL(a[1], "m2.example:65535");
	CU_ASSERT_STRING_EQUAL(a[2], "[::1]:9");
}

static void test_client_parse_addrs_invalid(void)
{
	static const char *const bad[] = {
	    "",	    "host", "host:", ":80",	  "h:0",  "h:65536", "h:12x",
	    "a:1,", ",a:1", "h o:1", "[::1]9400", "[]:1", "h:-1",    "a:1,,b:2",
	};
	char a[2][RFS_ADDR_MAX + 1];
	size_t n;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CU_ASSERT_EQUAL(rfs_client_parse_addrs(bad[i], a, 2, &n),
				-EINVAL);
	CU_ASSERT_EQUAL(rfs_client_parse_addrs("a:1,b:2,c:3", a, 2, &n),
			-E2BIG);
	CU_ASSERT_EQUAL(rfs_client_parse_addrs(NULL, a, 2, &n), -EINVAL);
}

static void test_client_new_rejects_bad_address(void)
{
	struct rfs_client_opts o = {.meta = "nonsense"};
	struct rfs_client *c = (void *)1;

	CU_ASSERT_EQUAL(rfs_client_new(&o, &c), -EINVAL);
	CU_ASSERT_PTR_NULL(c);
	o.meta = NULL;
	CU_ASSERT_EQUAL(rfs_client_new(&o, &c), 0);
	CU_ASSERT_PTR_NOT_NULL(c);
	rfs_client_free(c);
	rfs_client_free(NULL);
}

static void test_client_unreachable_errors(void)
{
	CU_ASSERT_TRUE(rfs_client_err_is_unreachable(-ECONNREFUSED));
	CU_ASSERT_TRUE(rfs_client_err_is_unreachable(ETIMEDOUT));
	CU_ASSERT_FALSE(rfs_client_err_is_unreachable(-ENOENT));
	CU_ASSERT_FALSE(rfs_client_err_is_unreachable(0));
}

/* --- paths ------------------------------------------------------------- */

static void check_norm(const char *in, const char *want)
{
	char out[RFS_PATH_MAX + 1];

	CU_ASSERT_EQUAL_FATAL(rfs_path_normalize(in, out, sizeof(out)), 0);
	CU_ASSERT_STRING_EQUAL(out, want);
}

static void test_client_path_normalize(void)
{
	char big[RFS_NAME_MAX + 10];
	char out[RFS_PATH_MAX + 1];
	char small[4];

	check_norm("/", "/");
	check_norm("a/b", "/a/b");
	check_norm("//a/./b//", "/a/b");
	check_norm("/a/../b", "/b");
	check_norm("/..", "/");
	check_norm("../../x", "/x");
	check_norm("/a/b/..", "/a");
	check_norm(".", "/");
	CU_ASSERT_EQUAL(rfs_path_normalize("", out, sizeof(out)), -EINVAL);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CU_ASSERT_EQUAL(rfs_path_normalize(big, out, sizeof(out)),
			-ENAMETOOLONG);
	CU_ASSERT_EQUAL(rfs_path_normalize("/abcd", small, sizeof(small)),
			-ENAMETOOLONG);
}

static void test_client_path_split(void)
{
	char dir[RFS_PATH_MAX + 1];
	char name[RFS_NAME_MAX + 1];

	CU_ASSERT_EQUAL(
	    rfs_path_split("/a/b", dir, sizeof(dir), name, sizeof(name)), 0);
	CU_ASSERT_STRING_EQUAL(dir, "/a");
	CU_ASSERT_STRING_EQUAL(name, "b");
	CU_ASSERT_EQUAL(
	    rfs_path_split("/top", dir, sizeof(dir), name, sizeof(name)), 0);
	CU_ASSERT_STRING_EQUAL(dir, "/");
	CU_ASSERT_STRING_EQUAL(name, "top");
	CU_ASSERT_EQUAL(
	    rfs_path_split("/", dir, sizeof(dir), name, sizeof(name)), -EINVAL);
	CU_ASSERT_EQUAL(rfs_path_split("/a/long", dir, sizeof(dir), name, 3),
			-ENAMETOOLONG);
}

static void test_client_path_basename_join(void)
{
	char out[64];

	CU_ASSERT_EQUAL(rfs_path_basename("a/b/", out, sizeof(out)), 0);
	CU_ASSERT_STRING_EQUAL(out, "b");
	CU_ASSERT_EQUAL(rfs_path_basename("/", out, sizeof(out)), 0);
	CU_ASSERT_STRING_EQUAL(out, "/");
	CU_ASSERT_EQUAL(rfs_path_basename("file", out, sizeof(out)), 0);
	CU_ASSERT_STRING_EQUAL(out, "file");
	CU_ASSERT_EQUAL(rfs_path_basename("/x/yz", out, 2), -ENAMETOOLONG);
	CU_ASSERT_EQUAL(rfs_path_join("/", "a", out, sizeof(out)), 0);
	CU_ASSERT_STRING_EQUAL(out, "/a");
	CU_ASSERT_EQUAL(rfs_path_join("dir/", "a", out, sizeof(out)), 0);
	CU_ASSERT_STRING_EQUAL(out, "dir/a");
	CU_ASSERT_EQUAL(rfs_path_join("dir", "a", out, sizeof(out)), 0);
	CU_ASSERT_STRING_EQUAL(out, "dir/a");
	CU_ASSERT_EQUAL(rfs_path_join("dir", "abc", out, 6), -ENAMETOOLONG);
}

/* --- ranges ------------------------------------------------------------ */

static void test_client_range_read_aligned(void)
{
	struct rfs_range_fetch f;

	/* A whole 1 MiB chunk: direct, nothing rounded. */
	CU_ASSERT_TRUE(rfs_range_plan_read(0, MB, MB, &f));
	CU_ASSERT_TRUE(f.direct);
	CU_ASSERT_EQUAL(f.start, 0);
	CU_ASSERT_EQUAL(f.end, MB);
	/* The last piece of a short chunk: rounded up to a block (the server
	 * clips it), still straight into a buffer that holds that much. */
	CU_ASSERT_TRUE(rfs_range_plan_read(2 * B, 8 * B, 3 * B + 5, &f));
	CU_ASSERT_TRUE(f.direct);
	CU_ASSERT_EQUAL(f.end, 4 * B);
	CU_ASSERT_EQUAL(f.data_end, 3 * B + 5);
	/* A buffer that ends before the aligned end: through a bounce. */
	CU_ASSERT_TRUE(rfs_range_plan_read(2 * B, B + 5, 3 * B + 5, &f));
	CU_ASSERT_FALSE(f.direct);
	CU_ASSERT_EQUAL(f.end, 4 * B);
}

static void test_client_range_read_unaligned(void)
{
	struct rfs_range_fetch f;

	CU_ASSERT_TRUE(rfs_range_plan_read(100, 4096, 10 * B, &f));
	CU_ASSERT_FALSE(f.direct);
	CU_ASSERT_EQUAL(f.start, 0);
	CU_ASSERT_EQUAL(f.end, B);
	CU_ASSERT_EQUAL(f.data_end, 4196);
	/* Crossing a block edge: two blocks. */
	CU_ASSERT_TRUE(rfs_range_plan_read(B - 10, 20, 10 * B, &f));
	CU_ASSERT_EQUAL(f.start, 0);
	CU_ASSERT_EQUAL(f.end, 2 * B);
	/* Rounded up past the chunk's length (cut by a truncate inside a
	 * block while the replica still holds the whole block). */
	CU_ASSERT_TRUE(rfs_range_plan_read(B, 10, B + 7, &f));
	CU_ASSERT_EQUAL(f.end, 2 * B);
	CU_ASSERT_EQUAL(f.data_end, B + 7);
	CU_ASSERT_FALSE(f.direct);
	CU_ASSERT_TRUE(rfs_range_plan_read(0, 100000, 70000, &f));
	CU_ASSERT_EQUAL(f.start, 0);
	CU_ASSERT_EQUAL(f.end, 2 * B);
	CU_ASSERT_EQUAL(f.data_end, 70000);
	CU_ASSERT_FALSE(f.direct);
}

static void test_client_range_read_past_length(void)
{
	struct rfs_range_fetch f;

	CU_ASSERT_FALSE(rfs_range_plan_read(5 * B, B, 5 * B, &f));
	CU_ASSERT_FALSE(rfs_range_plan_read(0, B, 0, &f));
	CU_ASSERT_FALSE(rfs_range_plan_read(10, 0, B, &f));
}

static void test_client_range_write_whole(void)
{
	struct rfs_range_write w;

	/* New chunk from 0. */
	rfs_range_plan_write(0, 5 * B + 3, false, 0, &w);
	CU_ASSERT_TRUE(w.whole);
	CU_ASSERT_TRUE(w.direct);
	CU_ASSERT_EQUAL(w.end, 5 * B + 3);
	CU_ASSERT_EQUAL(w.new_length, 5 * B + 3);
	CU_ASSERT_EQUAL(w.head_len + w.tail_len, 0);
	/* Covering the old length replaces the chunk. */
	rfs_range_plan_write(0, 4 * B, true, 3 * B, &w);
	CU_ASSERT_TRUE(w.whole);
	CU_ASSERT_TRUE(w.direct);
	/* New chunk written at an offset: zeros before it. */
	rfs_range_plan_write(100, 10, false, 0, &w);
	CU_ASSERT_TRUE(w.whole);
	CU_ASSERT_FALSE(w.direct);
	CU_ASSERT_EQUAL(w.start, 0);
	CU_ASSERT_EQUAL(w.end, 110);
	CU_ASSERT_EQUAL(w.new_length, 110);
}

static void test_client_range_write_aligned_update(void)
{
	struct rfs_range_write w;

	rfs_range_plan_write(2 * B, 3 * B, true, 10 * B, &w);
	CU_ASSERT_FALSE(w.whole);
	CU_ASSERT_TRUE(w.direct);
	CU_ASSERT_EQUAL(w.start, 2 * B);
	CU_ASSERT_EQUAL(w.end, 5 * B);
	CU_ASSERT_EQUAL(w.new_length, 10 * B);
	CU_ASSERT_EQUAL(w.head_len + w.tail_len, 0);
	/* Appending past the end with an unaligned tail needs nothing old. */
	rfs_range_plan_write(10 * B, 100, true, 10 * B, &w);
	CU_ASSERT_TRUE(w.direct);
	CU_ASSERT_EQUAL(w.new_length, 10 * B + 100);
	CU_ASSERT_EQUAL(w.head_len + w.tail_len, 0);
}

static void test_client_range_write_edges(void)
{
	struct rfs_range_write w;

	/* [B + 10, 3B + 20) over a 10-block chunk: both edge blocks. */
	rfs_range_plan_write(B + 10, 2 * B + 10, true, 10 * B, &w);
	CU_ASSERT_FALSE(w.direct);
	CU_ASSERT_EQUAL(w.start, B);
	CU_ASSERT_EQUAL(w.end, 4 * B);
	CU_ASSERT_EQUAL(w.head_off, B);
	CU_ASSERT_EQUAL(w.head_len, B);
	CU_ASSERT_EQUAL(w.tail_off, 3 * B);
	CU_ASSERT_EQUAL(w.tail_len, B);
	/* Inside one block: one read serves head and tail. */
	rfs_range_plan_write(10, 20, true, 10 * B, &w);
	CU_ASSERT_EQUAL(w.start, 0);
	CU_ASSERT_EQUAL(w.end, B);
	CU_ASSERT_EQUAL(w.head_len, B);
	CU_ASSERT_EQUAL(w.tail_len, 0);
	/* Old data ends inside the tail block: read only what exists. */
	rfs_range_plan_write(0, 10, true, B + 100, &w);
	CU_ASSERT_FALSE(w.whole);
	CU_ASSERT_EQUAL(w.end, B);
	CU_ASSERT_EQUAL(w.tail_off, 0);
	CU_ASSERT_EQUAL(w.tail_len, B);
	rfs_range_plan_write(B + 5, 10, true, B + 100, &w);
	CU_ASSERT_EQUAL(w.start, B);
	CU_ASSERT_EQUAL(w.end, B + 100);
	CU_ASSERT_EQUAL(w.head_len, 100);
	CU_ASSERT_EQUAL(w.new_length, B + 100);
}

static void test_client_range_piece_len(void)
{
	CU_ASSERT_EQUAL(rfs_range_piece_len(0, 100 * MB, 64 * MB, 8 * MB),
			8 * MB);
	/* Never across a chunk boundary. */
	CU_ASSERT_EQUAL(rfs_range_piece_len(60 * MB, 100 * MB, 64 * MB, 8 * MB),
			4 * MB);
	/* Never past the end of the file. */
	CU_ASSERT_EQUAL(rfs_range_piece_len(99 * MB, 100 * MB, 64 * MB, 8 * MB),
			MB);
	CU_ASSERT_EQUAL(rfs_range_piece_len(5, 5, MB, MB), 0);
}

static void test_client_layout_find(void)
{
	struct rfs_chunk chunks[4] = {
	    {.index = 0}, {.index = 2}, {.index = 3}, {.index = 9}};
	struct rfs_layout l = {.chunks = chunks, .n_chunks = 4};

	CU_ASSERT_PTR_EQUAL(rfs_layout_find(&l, 0), &chunks[0]);
	CU_ASSERT_PTR_EQUAL(rfs_layout_find(&l, 3), &chunks[2]);
	CU_ASSERT_PTR_EQUAL(rfs_layout_find(&l, 9), &chunks[3]);
	CU_ASSERT_PTR_NULL(rfs_layout_find(&l, 1));
	CU_ASSERT_PTR_NULL(rfs_layout_find(&l, 10));
	l.n_chunks = 0;
	CU_ASSERT_PTR_NULL(rfs_layout_find(&l, 0));
}

/* --- formatting -------------------------------------------------------- */

static void test_client_format_size(void)
{
	char b[32];

	CU_ASSERT_STRING_EQUAL(rfs_format_size(0, b, sizeof(b)), "0 B");
	CU_ASSERT_STRING_EQUAL(rfs_format_size(1023, b, sizeof(b)), "1023 B");
	CU_ASSERT_STRING_EQUAL(rfs_format_size(1536, b, sizeof(b)), "1.50 KiB");
	CU_ASSERT_STRING_EQUAL(rfs_format_size(10 * MB, b, sizeof(b)),
			       "10.0 MiB");
	CU_ASSERT_STRING_EQUAL(rfs_format_size(200ull << 30, b, sizeof(b)),
			       "200 GiB");
}

static void test_client_format_progress(void)
{
	char line[256];
	unsigned int w;

	for (w = 40; w <= 120; w += 20) {
		rfs_format_progress("a-rather-long-file-name-for-the-bar.bin",
				    450 * MB, 1000 * MB, 3.0, w, line,
				    sizeof(line));
		CU_ASSERT(strlen(line) <= w);
		CU_ASSERT_PTR_NOT_NULL(strstr(line, " 45%"));
		CU_ASSERT_PTR_NOT_NULL(strstr(line, "MB/s"));
		CU_ASSERT_PTR_NOT_NULL(strstr(line, "ETA 0:04"));
	}
	rfs_format_progress("f", 1000, 1000, 2.0, 80, line, sizeof(line));
	CU_ASSERT_PTR_NOT_NULL(strstr(line, "100%"));
	CU_ASSERT_PTR_NOT_NULL(strstr(line, "[##########"));
	CU_ASSERT_PTR_NULL(strstr(line, "ETA"));
	/* Unknown total: no percent, no bar. */
	rfs_format_progress("stdin", 5 * MB, 0, 1.0, 80, line, sizeof(line));
	CU_ASSERT_PTR_NULL(strchr(line, '%'));
	CU_ASSERT_PTR_NULL(strchr(line, '['));
	CU_ASSERT_PTR_NOT_NULL(strstr(line, "5.00 MiB"));
	/* No time yet: no rate. */
	rfs_format_progress("f", 0, 100, 0, 80, line, sizeof(line));
	CU_ASSERT_PTR_NULL(strstr(line, "MB/s"));
	CU_ASSERT_PTR_NOT_NULL(strstr(line, "  0%"));
}

static void test_client_format_fault(void)
{
	struct rfs_replica bad = {.id = "cs2", .addr = "127.0.0.1:9502"};
	struct rfs_replica good = {.id = "cs3", .addr = "127.0.0.1:9503"};
	struct rfs_cio_fault f = {.chunk_id = 0x2a,
				  .version = 1,
				  .replica = &bad,
				  .err = -EBADMSG,
				  .block = 3,
				  .message = "checksum mismatch",
				  .used = &good};
	char line[512];

	CU_ASSERT_STRING_EQUAL(
	    rfs_format_fault(&f, line, sizeof(line)),
	    "chunk 000000000000002a v1: checksum mismatch in "
	    "block 3 on cs2 (127.0.0.1:9502); used cs3 "
	    "instead");
	f.block = -1;
	f.err = -ECONNREFUSED;
	f.message = "";
	f.used = NULL;
	CU_ASSERT_STRING_EQUAL(rfs_format_fault(&f, line, sizeof(line)),
			       "chunk 000000000000002a v1: read failed "
			       "(ECONNREFUSED) on cs2 (127.0.0.1:9502); no "
			       "replica left to try");
	f.write = true;
	f.err = -ENOSPC;
	f.message = "disk full";
	CU_ASSERT_STRING_EQUAL(rfs_format_fault(&f, line, sizeof(line)),
			       "chunk 000000000000002a v1: write failed "
			       "(ENOSPC: disk full) on cs2 (127.0.0.1:9502)");
}

static void test_client_format_mode(void)
{
	char m[11];

	rfs_format_mode(S_IFDIR | 0755, m);
	CU_ASSERT_STRING_EQUAL(m, "drwxr-xr-x");
	rfs_format_mode(S_IFREG | 0640, m);
	CU_ASSERT_STRING_EQUAL(m, "-rw-r-----");
	rfs_format_mode(S_IFLNK | 0777, m);
	CU_ASSERT_STRING_EQUAL(m, "lrwxrwxrwx");
	rfs_format_mode(S_IFDIR | 01777, m);
	CU_ASSERT_STRING_EQUAL(m, "drwxrwxrwt");
	rfs_format_mode(S_IFREG | 04644, m);
	CU_ASSERT_STRING_EQUAL(m, "-rwSr--r--");
}

static void test_client_temp_name(void)
{
	char out[RFS_NAME_MAX + 1];
	char longname[RFS_NAME_MAX + 1];

	CU_ASSERT_EQUAL(
	    rfs_transfer_temp_name("data.bin", 0xdeadbeef, out, sizeof(out)),
	    0);
	CU_ASSERT_STRING_EQUAL(out, ".data.bin.ringfs-part-deadbeef");
	CU_ASSERT_EQUAL(rfs_transfer_temp_name("x", 1, out, sizeof(out)), 0);
	CU_ASSERT_STRING_EQUAL(out, ".x.ringfs-part-00000001");
	memset(longname, 'n', RFS_NAME_MAX);
	longname[RFS_NAME_MAX] = '\0';
	CU_ASSERT_EQUAL(rfs_transfer_temp_name(longname, 1, out, sizeof(out)),
			-ENAMETOOLONG);
}

/* --- CLI option parsing ------------------------------------------------- */

/* Parse a NULL-terminated word list; argv must outlive o. */
static int parse(char **argv, struct rcli_opts *o, char *err)
{
	int argc = 0;

	while (argv[argc])
		argc++;
	return rcli_parse(argc, argv, o, err, RCLI_ERR_MAX);
}

static void test_client_cli_globals_anywhere(void)
{
	char *argv[] = {"ringfs", "-q",	 "put", "--parallel=8", "a",
			"-m",	  "h:1", "/b",	"-r",		NULL};
	char err[RCLI_ERR_MAX];
	struct rcli_opts o;

	CU_ASSERT_EQUAL_FATAL(parse(argv, &o, err), 0);
	CU_ASSERT_STRING_EQUAL(o.command->name, "put");
	CU_ASSERT_TRUE(o.quiet);
	CU_ASSERT_EQUAL(o.parallel, 8);
	CU_ASSERT_STRING_EQUAL(o.meta, "h:1");
	CU_ASSERT_EQUAL(o.flags, RCLI_F_RECURSIVE);
	CU_ASSERT_EQUAL(o.n_args, 2);
	CU_ASSERT_STRING_EQUAL(o.args[0], "a");
	CU_ASSERT_STRING_EQUAL(o.args[1], "/b");
	rcli_opts_release(&o);
}

static void test_client_cli_short_forms(void)
{
	char *argv[] = {"ringfs", "-mhost:2", "ls", "-lq", "--", "-odd", NULL};
	char *argv2[] = {"ringfs", "--meta", "x:3", "--parallel", "2",
			 "get",	   "/r",     "-",   NULL};
	char err[RCLI_ERR_MAX];
	struct rcli_opts o;

	CU_ASSERT_EQUAL_FATAL(parse(argv, &o, err), 0);
	CU_ASSERT_STRING_EQUAL(o.meta, "host:2");
	CU_ASSERT_EQUAL(o.flags, RCLI_F_LONG);
	CU_ASSERT_TRUE(o.quiet);
	CU_ASSERT_EQUAL(o.n_args, 1);
	CU_ASSERT_STRING_EQUAL(o.args[0], "-odd");
	rcli_opts_release(&o);
	CU_ASSERT_EQUAL_FATAL(parse(argv2, &o, err), 0);
	CU_ASSERT_STRING_EQUAL(o.meta, "x:3");
	CU_ASSERT_EQUAL(o.parallel, 2);
	CU_ASSERT_EQUAL(o.n_args, 2);
	CU_ASSERT_STRING_EQUAL(o.args[1], "-");
	rcli_opts_release(&o);
}

static void test_client_cli_errors(void)
{
	char *unknown_opt[] = {"ringfs", "ls", "-x", NULL};
	char *unknown_cmd[] = {"ringfs", "frob", NULL};
	char *bad_flag[] = {"ringfs", "ls", "-r", NULL};
	char *few[] = {"ringfs", "put", "a", NULL};
	char *many[] = {"ringfs", "mv", "a", "b", "c", NULL};
	char *par0[] = {"ringfs", "--parallel=0", "ls", NULL};
	char *parbig[] = {"ringfs", "--parallel", "1000", "ls", NULL};
	char *nometa[] = {"ringfs", "ls", "-m", NULL};
	char err[RCLI_ERR_MAX];
	struct rcli_opts o;

	CU_ASSERT_EQUAL(parse(unknown_opt, &o, err), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "-x"));
	CU_ASSERT_EQUAL(parse(unknown_cmd, &o, err), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "frob"));
	CU_ASSERT_EQUAL(parse(bad_flag, &o, err), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "-r"));
	CU_ASSERT_EQUAL(parse(few, &o, err), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "put [-r]"));
	CU_ASSERT_EQUAL(parse(many, &o, err), -EINVAL);
	CU_ASSERT_EQUAL(parse(par0, &o, err), -EINVAL);
	CU_ASSERT_EQUAL(parse(parbig, &o, err), -EINVAL);
	CU_ASSERT_EQUAL(parse(nometa, &o, err), -EINVAL);
}

static void test_client_cli_help_and_version(void)
{
	char *help[] = {"ringfs", "put", "--help", NULL};
	char *version[] = {"ringfs", "--version", NULL};
	char *none[] = {"ringfs", NULL};
	char err[RCLI_ERR_MAX];
	struct rcli_opts o;

	/* --help skips the operand count check. */
	CU_ASSERT_EQUAL_FATAL(parse(help, &o, err), 0);
	CU_ASSERT_TRUE(o.help);
	CU_ASSERT_STRING_EQUAL(o.command->name, "put");
	rcli_opts_release(&o);
	CU_ASSERT_EQUAL_FATAL(parse(version, &o, err), 0);
	CU_ASSERT_TRUE(o.version);
	CU_ASSERT_PTR_NULL(o.command);
	rcli_opts_release(&o);
	CU_ASSERT_EQUAL_FATAL(parse(none, &o, err), 0);
	CU_ASSERT_PTR_NULL(o.command);
	rcli_opts_release(&o);
}

static void test_client_cli_meta_precedence(void)
{
	struct rcli_opts o = {0};

	CU_ASSERT_STRING_EQUAL(rcli_meta_addr(&o, NULL),
			       RFS_CLIENT_META_DEFAULT);
	CU_ASSERT_STRING_EQUAL(rcli_meta_addr(&o, ""), RFS_CLIENT_META_DEFAULT);
	CU_ASSERT_STRING_EQUAL(rcli_meta_addr(&o, "e:1"), "e:1");
	o.meta = "m:2";
	CU_ASSERT_STRING_EQUAL(rcli_meta_addr(&o, "e:1"), "m:2");
}

static void test_client_cli_every_command_has_help(void)
{
	const struct rcli_command *c;
	int n = 0;

	for (c = rcli_commands; c->name; c++, n++) {
		CU_ASSERT_PTR_NOT_NULL(strstr(c->usage, c->name));
		CU_ASSERT(strlen(c->help) > 0);
		CU_ASSERT_PTR_EQUAL(rcli_find_command(c->name), c);
	}
	CU_ASSERT_EQUAL(n, 8);
	CU_ASSERT_PTR_NULL(rcli_find_command("nope"));
}

static const struct rfs_test client_tests[] = {
    RFS_TEST(test_client_parse_addrs_valid),
    RFS_TEST(test_client_parse_addrs_invalid),
    RFS_TEST(test_client_new_rejects_bad_address),
    RFS_TEST(test_client_unreachable_errors),
    RFS_TEST(test_client_path_normalize),
    RFS_TEST(test_client_path_split),
    RFS_TEST(test_client_path_basename_join),
    RFS_TEST(test_client_range_read_aligned),
    RFS_TEST(test_client_range_read_unaligned),
    RFS_TEST(test_client_range_read_past_length),
    RFS_TEST(test_client_range_write_whole),
    RFS_TEST(test_client_range_write_aligned_update),
    RFS_TEST(test_client_range_write_edges),
    RFS_TEST(test_client_range_piece_len),
    RFS_TEST(test_client_layout_find),
    RFS_TEST(test_client_format_size),
    RFS_TEST(test_client_format_progress),
    RFS_TEST(test_client_format_fault),
    RFS_TEST(test_client_format_mode),
    RFS_TEST(test_client_temp_name),
    RFS_TEST(test_client_cli_globals_anywhere),
    RFS_TEST(test_client_cli_short_forms),
    RFS_TEST(test_client_cli_errors),
    RFS_TEST(test_client_cli_help_and_version),
    RFS_TEST(test_client_cli_meta_precedence),
    RFS_TEST(test_client_cli_every_command_has_help),
    RFS_TEST(test_client_sync_set),
    RFS_TEST(test_client_sync_servers),
    RFS_TEST(test_client_create_lease),
};

int main(void)
{
	static const struct rfs_test_suite suite = {
	    .name = "client",
	    RFS_TESTS(client_tests),
	};

	return rfs_test_run(&suite, 1);
}
