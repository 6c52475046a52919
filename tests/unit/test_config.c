#include <config.h>
#include "common/config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "tests/unit/runner.h"

#define KIB	   1024ull
#define MIB	   (1024 * KIB)
#define GIB	   (1024 * MIB)
#define TIB	   (1024 * GIB)
#define PATH_BYTES 256

struct settings {
	char *data_dir;
	char *listen;
	uint32_t port;
	uint64_t count;
	uint64_t chunk_size;
	uint64_t buffer;
	bool fsync;
	uint32_t nodef;
	char *empty;
};

#define OFF(f) offsetof(struct settings, f)

static const struct rfs_config_key keys[] = {
    {"data-dir", RFS_CONFIG_STR, "/var/lib/ringfs", 0, 0, OFF(data_dir),
     "where replicas are stored"},
    {"listen", RFS_CONFIG_STR, "127.0.0.1", 0, 0, OFF(listen),
     "address to listen on"},
    {"port", RFS_CONFIG_U32, "9000", 1, 65535, OFF(port), "TCP port"},
    {"count", RFS_CONFIG_U64, "10", 0, 0, OFF(count), "a count"},
    {"chunk-size", RFS_CONFIG_SIZE, "64M", MIB, GIB, OFF(chunk_size),
     "bytes per chunk"},
    {"buffer", RFS_CONFIG_SIZE, "512K", 0, 0, OFF(buffer), "buffer"},
    {"fsync", RFS_CONFIG_BOOL, "true", 0, 0, OFF(fsync), "fsync writes"},
    {"nodef", RFS_CONFIG_U32, NULL, 0, 0, OFF(nodef), "no default"},
    {"empty", RFS_CONFIG_STR, NULL, 0, 0, OFF(empty), "no default"},
};

#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

/* Scratch directory for config files, made per test and removed after. */
struct scratch {
	char dir[PATH_BYTES];
	char path[2 * PATH_BYTES];
};

static void scratch_file(struct scratch *s, const char *text)
{
	FILE *f;

	snprintf(s->dir, sizeof(s->dir), "/tmp/rfs-test-config.XXXXXX");
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(s->dir));
	snprintf(s->path, sizeof(s->path), "%s/test.conf", s->dir);
	f = fopen(s->path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(fputs(text, f) >= 0, 1);
	CU_ASSERT_EQUAL(fclose(f), 0);
}

static void scratch_remove(struct scratch *s)
{
	CU_ASSERT_EQUAL(unlink(s->path), 0);
	CU_ASSERT_EQUAL(rmdir(s->dir), 0);
}

static void init_settings(struct settings *st)
{
	char err[RFS_CONFIG_ERR_MAX];

	/* garbage in, to prove init does not free what it did not set */
	memset(st, 0xa5, sizeof(*st));
	CU_ASSERT_EQUAL_FATAL(
	    rfs_config_init(keys, N_KEYS, st, err, sizeof(err)), 0);
}

static int set(struct settings *st, const char *key, const char *value)
{
	char err[RFS_CONFIG_ERR_MAX];

	return rfs_config_set(keys, N_KEYS, st, key, value, err, sizeof(err));
}

static void test_config_defaults(void)
{
	struct settings st;

	init_settings(&st);
	CU_ASSERT_STRING_EQUAL(st.data_dir, "/var/lib/ringfs");
	CU_ASSERT_STRING_EQUAL(st.listen, "127.0.0.1");
	CU_ASSERT_EQUAL(st.port, 9000);
	CU_ASSERT_EQUAL(st.count, 10);
	CU_ASSERT_EQUAL(st.chunk_size, 64 * MIB);
	CU_ASSERT_EQUAL(st.buffer, 512 * KIB);
	CU_ASSERT_EQUAL(st.fsync, true);
	CU_ASSERT_EQUAL(st.nodef, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(st.empty);
	CU_ASSERT_STRING_EQUAL(st.empty, "");
	rfs_config_release(keys, N_KEYS, &st);
}

static void test_config_bad_default(void)
{
	static const struct rfs_config_key bad[] = {
	    {"name", RFS_CONFIG_STR, "x", 0, 0, OFF(data_dir), ""},
	    {"port", RFS_CONFIG_U32, "70000", 1, 65535, OFF(port), ""},
	};
	char err[RFS_CONFIG_ERR_MAX];
	struct settings st;

	CU_ASSERT_EQUAL(rfs_config_init(bad, 2, &st, err, sizeof(err)),
			-ERANGE);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "'port'"));
	/* the string already set was freed (ASan would see a leak) */
	CU_ASSERT_PTR_NULL(st.data_dir);
}

static void test_config_set(void)
{
	char err[RFS_CONFIG_ERR_MAX];
	struct settings st;

	init_settings(&st);
	CU_ASSERT_EQUAL(set(&st, "data-dir", "/srv/a"), 0);
	CU_ASSERT_STRING_EQUAL(st.data_dir, "/srv/a");
	CU_ASSERT_EQUAL(set(&st, "data_dir", "/srv/b"), 0);
	CU_ASSERT_STRING_EQUAL(st.data_dir, "/srv/b");
	CU_ASSERT_EQUAL(set(&st, "listen", ""), 0);
	CU_ASSERT_STRING_EQUAL(st.listen, "");
	CU_ASSERT_EQUAL(set(&st, "port", "8080"), 0);
	CU_ASSERT_EQUAL(st.port, 8080);
	CU_ASSERT_EQUAL(set(&st, "count", "18446744073709551615"), 0);
	CU_ASSERT_EQUAL(st.count, UINT64_MAX);
	CU_ASSERT_EQUAL(set(&st, "nodef", "4294967295"), 0);
	CU_ASSERT_EQUAL(st.nodef, UINT32_MAX);
	CU_ASSERT_EQUAL(rfs_config_set(keys, N_KEYS, &st, "dta-dir", "/x", err,
				       sizeof(err)),
			-EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "unknown setting 'dta-dir'");
	CU_ASSERT_EQUAL(set(&st, "", "1"), -EINVAL);
	CU_ASSERT_EQUAL(set(&st, "PORT", "1"), -EINVAL);
	CU_ASSERT_EQUAL(set(&st, "port-", "1"), -EINVAL);
	CU_ASSERT_EQUAL(set(&st, "por", "1"), -EINVAL);
	CU_ASSERT_EQUAL(set(&st, "port", NULL), -EINVAL);
	CU_ASSERT_EQUAL(set(&st, NULL, "1"), -EINVAL);
	/* a failed set leaves the old value */
	CU_ASSERT_EQUAL(st.port, 8080);
	CU_ASSERT_STRING_EQUAL(st.data_dir, "/srv/b");
	rfs_config_release(keys, N_KEYS, &st);
}

static void test_config_bad_number(void)
{
	static const char *const bad[] = {
	    "", "12x", "-1", "+1", " 1", "1 ", "0x10", "1.5", "1e3", "K",
	};
	char err[RFS_CONFIG_ERR_MAX];
	struct settings st;
	size_t i;

	init_settings(&st);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CU_ASSERT_EQUAL(set(&st, "port", bad[i]), -EINVAL);
		CU_ASSERT_EQUAL(set(&st, "count", bad[i]), -EINVAL);
		CU_ASSERT_EQUAL(set(&st, "buffer", bad[i]), -EINVAL);
	}
	CU_ASSERT_EQUAL(
	    rfs_config_set(keys, N_KEYS, &st, "port", "12x", err, sizeof(err)),
	    -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "'port'"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "12x"));
	CU_ASSERT_EQUAL(set(&st, "count", "18446744073709551616"), -ERANGE);
	CU_ASSERT_EQUAL(set(&st, "count", "99999999999999999999999"), -ERANGE);
	CU_ASSERT_EQUAL(set(&st, "nodef", "4294967296"), -ERANGE);
	CU_ASSERT_EQUAL(st.port, 9000);
	CU_ASSERT_EQUAL(st.count, 10);
	rfs_config_release(keys, N_KEYS, &st);
}

static void test_config_range(void)
{
	char err[RFS_CONFIG_ERR_MAX];
	struct settings st;

	init_settings(&st);
	CU_ASSERT_EQUAL(set(&st, "port", "1"), 0);
	CU_ASSERT_EQUAL(set(&st, "port", "65535"), 0);
	CU_ASSERT_EQUAL(st.port, 65535);
	CU_ASSERT_EQUAL(
	    rfs_config_set(keys, N_KEYS, &st, "port", "0", err, sizeof(err)),
	    -ERANGE);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "'port'"));
	CU_ASSERT_EQUAL(set(&st, "port", "65536"), -ERANGE);
	CU_ASSERT_EQUAL(set(&st, "port", "99999999999"), -ERANGE);
	CU_ASSERT_EQUAL(set(&st, "chunk-size", "1M"), 0);
	CU_ASSERT_EQUAL(set(&st, "chunk-size", "1G"), 0);
	CU_ASSERT_EQUAL(set(&st, "chunk-size", "1048575"), -ERANGE);
	CU_ASSERT_EQUAL(set(&st, "chunk-size", "1023K"), -ERANGE);
	CU_ASSERT_EQUAL(set(&st, "chunk-size", "2G"), -ERANGE);
	CU_ASSERT_EQUAL(st.port, 65535);
	CU_ASSERT_EQUAL(st.chunk_size, GIB);
	rfs_config_release(keys, N_KEYS, &st);
}

static void test_config_size_suffixes(void)
{
	static const struct {
		const char *text;
		uint64_t bytes;
	} ok[] = {
	    {"0", 0},
	    {"1", 1},
	    {"4K", 4 * KIB},
	    {"4k", 4 * KIB},
	    {"2M", 2 * MIB},
	    {"2m", 2 * MIB},
	    {"3G", 3 * GIB},
	    {"1T", TIB},
	    {"0K", 0},
	    {"16777215T", 16777215 * TIB},
	    {"18446744073709551615", UINT64_MAX},
	};
	static const char *const bad[] = {"1KB", "1KiB", "1 K", "1P",
					  "1E",	 "K1",	 "1KK"};
	struct settings st;
	size_t i;

	init_settings(&st);
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		CU_ASSERT_EQUAL(set(&st, "buffer", ok[i].text), 0);
		CU_ASSERT_EQUAL(st.buffer, ok[i].bytes);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CU_ASSERT_EQUAL(set(&st, "buffer", bad[i]), -EINVAL);
	/* 2^24 T is 2^64 bytes */
	CU_ASSERT_EQUAL(set(&st, "buffer", "16777216T"), -ERANGE);
	CU_ASSERT_EQUAL(set(&st, "buffer", "17179869184G"), -ERANGE);
	/* a plain number key takes no suffix */
	CU_ASSERT_EQUAL(set(&st, "count", "4K"), -EINVAL);
	rfs_config_release(keys, N_KEYS, &st);
}

static void test_config_bool_words(void)
{
	static const char *const yes[] = {"true", "yes",  "on",
					  "1",	  "TRUE", "Yes"};
	static const char *const no[] = {"false", "no", "off", "0", "OFF"};
	static const char *const bad[] = {"",	   "2",	   "maybe",
					  "truee", " yes", "y"};
	struct settings st;
	size_t i;

	init_settings(&st);
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		st.fsync = true;
		CU_ASSERT_EQUAL(set(&st, "fsync", no[i]), 0);
		CU_ASSERT_EQUAL(st.fsync, false);
	}
	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		st.fsync = false;
		CU_ASSERT_EQUAL(set(&st, "fsync", yes[i]), 0);
		CU_ASSERT_EQUAL(st.fsync, true);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CU_ASSERT_EQUAL(set(&st, "fsync", bad[i]), -EINVAL);
	CU_ASSERT_EQUAL(st.fsync, true);
	rfs_config_release(keys, N_KEYS, &st);
}

static void test_config_load_file(void)
{
	char err[RFS_CONFIG_ERR_MAX];
	struct scratch s;
	struct settings st;

	scratch_file(&s, "# a comment\n"
			 "; another comment\n"
			 "\n"
			 "[chunkserver]\n"
			 "  data-dir   =  /srv/ringfs data  \n"
			 "port=7000\r\n"
			 "chunk_size = 8M\n"
			 "fsync = off\n"
			 "listen = a=b # kept\n"
			 "count = 5"); /* no final newline */
	init_settings(&st);
	CU_ASSERT_EQUAL(
	    rfs_config_load(keys, N_KEYS, &st, s.path, err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(st.data_dir, "/srv/ringfs data");
	CU_ASSERT_EQUAL(st.port, 7000);
	CU_ASSERT_EQUAL(st.chunk_size, 8 * MIB);
	CU_ASSERT_EQUAL(st.fsync, false);
	CU_ASSERT_STRING_EQUAL(st.listen, "a=b # kept");
	CU_ASSERT_EQUAL(st.count, 5);
	/* untouched keys keep their defaults */
	CU_ASSERT_EQUAL(st.buffer, 512 * KIB);
	rfs_config_release(keys, N_KEYS, &st);
	scratch_remove(&s);
}

/* Load text as a file and return the error, checking err names file:line. */
static int load_bad(const char *text, unsigned int line)
{
	char err[RFS_CONFIG_ERR_MAX];
	char where[3 * PATH_BYTES];
	struct scratch s;
	struct settings st;
	int rc;

	scratch_file(&s, text);
	init_settings(&st);
	rc = rfs_config_load(keys, N_KEYS, &st, s.path, err, sizeof(err));
	snprintf(where, sizeof(where), "%s:%u: ", s.path, line);
	CU_ASSERT_EQUAL(strncmp(err, where, strlen(where)), 0);
	rfs_config_release(keys, N_KEYS, &st);
	scratch_remove(&s);
	return rc;
}

static void test_config_load_errors(void)
{
	char err[RFS_CONFIG_ERR_MAX];
	char *long_line = malloc(5000);
	struct settings st;

	CU_ASSERT_PTR_NOT_NULL_FATAL(long_line);
	CU_ASSERT_EQUAL(load_bad("port = 1\n# c\ndta-dir = /x\n", 3), -EINVAL);
	CU_ASSERT_EQUAL(load_bad("port 1\n", 1), -EINVAL);
	CU_ASSERT_EQUAL(load_bad("\nport = 0\n", 2), -ERANGE);
	CU_ASSERT_EQUAL(load_bad("fsync = perhaps\n", 1), -EINVAL);
	CU_ASSERT_EQUAL(load_bad("= 5\n", 1), -EINVAL);
	memset(long_line, 'a', 4999);
	memcpy(long_line, "listen = ", 9);
	long_line[4999] = '\0';
	CU_ASSERT_EQUAL(load_bad(long_line, 1), -EINVAL);
	free(long_line);

	init_settings(&st);
	CU_ASSERT_EQUAL(rfs_config_load(keys, N_KEYS, &st,
					"/nonexistent/ringfs.conf", err,
					sizeof(err)),
			-ENOENT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "/nonexistent/ringfs.conf"));
	/* a directory opens but cannot be read */
	CU_ASSERT_EQUAL(
	    rfs_config_load(keys, N_KEYS, &st, "/", err, sizeof(err)), -EISDIR);
	rfs_config_release(keys, N_KEYS, &st);
}

static void test_config_load_unreadable(void)
{
	char err[RFS_CONFIG_ERR_MAX];
	struct scratch s;
	struct settings st;

	/* root reads files whatever their mode */
	if (geteuid() == 0)
		return;
	scratch_file(&s, "port = 1\n");
	CU_ASSERT_EQUAL_FATAL(chmod(s.path, 0), 0);
	init_settings(&st);
	CU_ASSERT_EQUAL(
	    rfs_config_load(keys, N_KEYS, &st, s.path, err, sizeof(err)),
	    -EACCES);
	rfs_config_release(keys, N_KEYS, &st);
	scratch_remove(&s);
}

static int parse(struct settings *st, char **argv, int *first, char *err)
{
	int argc = 0;

	while (argv[argc])
		argc++;
	return rfs_config_parse_args(keys, N_KEYS, st, argc, argv, first, err,
				     RFS_CONFIG_ERR_MAX);
}

static void test_config_args_override_file(void)
{
	char err[RFS_CONFIG_ERR_MAX];
	char opt[3 * PATH_BYTES];
	struct scratch s;
	struct settings st;
	int first = -1;

	scratch_file(&s, "port = 1000\nlisten = file\ncount = 3\n");
	snprintf(opt, sizeof(opt), "--config=%s", s.path);
	{
		/* the file comes last but is applied first */
		char *argv[] = {"prog", "--port=2000", "--listen",
				"args", opt,	       NULL};

		init_settings(&st);
		CU_ASSERT_EQUAL(parse(&st, argv, &first, err), 0);
		CU_ASSERT_EQUAL(st.port, 2000);
		CU_ASSERT_STRING_EQUAL(st.listen, "args");
		CU_ASSERT_EQUAL(st.count, 3);
		CU_ASSERT_EQUAL(first, 5);
		rfs_config_release(keys, N_KEYS, &st);
	}
	{
		/* "--config FILE" form; later options override earlier */
		char *argv[] = {"prog",	   "--count=7", "--config",	 s.path,
				"--count", "8",		"--data_dir=/d", NULL};

		init_settings(&st);
		CU_ASSERT_EQUAL(parse(&st, argv, &first, err), 0);
		CU_ASSERT_EQUAL(st.port, 1000);
		CU_ASSERT_EQUAL(st.count, 8);
		CU_ASSERT_STRING_EQUAL(st.data_dir, "/d");
		CU_ASSERT_EQUAL(first, 7);
		rfs_config_release(keys, N_KEYS, &st);
	}
	scratch_remove(&s);
}

static void test_config_setup_daemon_args(void)
{
	char err[RFS_CONFIG_ERR_MAX] = "";
	struct settings st;

	{
		char *argv[] = {"prog", "--port=7", "--listen", "::1", NULL};

		memset(&st, 0, sizeof(st));
		CU_ASSERT_EQUAL(rfs_config_setup(keys, N_KEYS, &st, 4, argv,
						 err, sizeof(err)),
				0);
		CU_ASSERT_EQUAL(st.port, 7);
		CU_ASSERT_STRING_EQUAL(st.listen, "::1");
		CU_ASSERT_STRING_EQUAL(st.data_dir, "/var/lib/ringfs");
		rfs_config_release(keys, N_KEYS, &st);
	}
	{
		char *argv[] = {"prog", "--port=7", "extra", NULL};

		memset(&st, 0, sizeof(st));
		CU_ASSERT_EQUAL(rfs_config_setup(keys, N_KEYS, &st, 3, argv,
						 err, sizeof(err)),
				-EINVAL);
		CU_ASSERT_PTR_NOT_NULL(
		    strstr(err, "unexpected argument 'extra'"));
		rfs_config_release(keys, N_KEYS, &st);
	}
	{
		char *argv[] = {"prog", "--nope=1", NULL};

		memset(&st, 0, sizeof(st));
		CU_ASSERT_EQUAL(rfs_config_setup(keys, N_KEYS, &st, 2, argv,
						 err, sizeof(err)),
				-EINVAL);
		CU_ASSERT_PTR_NOT_NULL(strstr(err, "nope"));
		rfs_config_release(keys, N_KEYS, &st);
	}
}

static void test_config_find_flag(void)
{
	char *none[] = {"prog", "--port=1", NULL};
	char *help[] = {"prog", "--port=1", "-h", "--version", NULL};
	char *version[] = {"prog", "--version", "--help", NULL};
	char *after_dashes[] = {"prog", "--", "--help", NULL};

	CU_ASSERT_EQUAL(rfs_config_find_flag(2, none), RFS_CONFIG_FLAG_NONE);
	CU_ASSERT_EQUAL(rfs_config_find_flag(4, help), RFS_CONFIG_FLAG_HELP);
	CU_ASSERT_EQUAL(rfs_config_find_flag(3, version),
			RFS_CONFIG_FLAG_VERSION);
	CU_ASSERT_EQUAL(rfs_config_find_flag(3, after_dashes),
			RFS_CONFIG_FLAG_NONE);
	CU_ASSERT_EQUAL(rfs_config_find_flag(1, none), RFS_CONFIG_FLAG_NONE);
}

static enum rfs_config_flag printed_flag;
static int n_printed;

static void record_flag(enum rfs_config_flag flag)
{
	printed_flag = flag;
	n_printed++;
}

static void test_config_early_flags(void)
{
	char *none[] = {"prog", "--port=1", "--", "-h", NULL};
	char *help[] = {"prog", "--port=1", "--help", NULL};
	char *version[] = {"prog", "--version", "-h", NULL};

	n_printed = 0;
	CU_ASSERT_EQUAL(rfs_config_early_flags(4, none, record_flag),
			RFS_CONFIG_FLAG_NONE);
	CU_ASSERT_EQUAL(n_printed, 0);
	CU_ASSERT_EQUAL(rfs_config_early_flags(3, help, record_flag),
			RFS_CONFIG_FLAG_HELP);
	CU_ASSERT_EQUAL(n_printed, 1);
	CU_ASSERT_EQUAL(printed_flag, RFS_CONFIG_FLAG_HELP);
	CU_ASSERT_EQUAL(rfs_config_early_flags(3, version, record_flag),
			RFS_CONFIG_FLAG_VERSION);
	CU_ASSERT_EQUAL(n_printed, 2);
	CU_ASSERT_EQUAL(printed_flag, RFS_CONFIG_FLAG_VERSION);
}

static void test_config_args_positional(void)
{
	char err[RFS_CONFIG_ERR_MAX];
	struct settings st;
	int first = -1;

	init_settings(&st);
	{
		char *argv[] = {"prog", NULL};

		CU_ASSERT_EQUAL(parse(&st, argv, &first, err), 0);
		CU_ASSERT_EQUAL(first, 1);
	}
	{
		char *argv[] = {"prog", "--port=1", "file", "--port=2", NULL};

		CU_ASSERT_EQUAL(parse(&st, argv, &first, err), 0);
		CU_ASSERT_EQUAL(first, 2);
		CU_ASSERT_EQUAL(st.port, 1);
	}
	{
		char *argv[] = {"prog", "-v", "--port=3", NULL};

		CU_ASSERT_EQUAL(parse(&st, argv, &first, err), 0);
		CU_ASSERT_EQUAL(first, 1);
		CU_ASSERT_EQUAL(st.port, 1);
	}
	{
		char *argv[] = {"prog", "--port", "5", "--", "--port=7", NULL};

		CU_ASSERT_EQUAL(parse(&st, argv, &first, err), 0);
		CU_ASSERT_EQUAL(first, 4);
		CU_ASSERT_EQUAL(st.port, 5);
	}
	{
		char *argv[] = {"prog", "--", NULL};

		CU_ASSERT_EQUAL(parse(&st, argv, &first, err), 0);
		CU_ASSERT_EQUAL(first, 2);
	}
	{
		/* a value may start with "--" in the separate form */
		char *argv[] = {"prog", "--listen", "--odd", "x", NULL};

		CU_ASSERT_EQUAL(parse(&st, argv, &first, err), 0);
		CU_ASSERT_STRING_EQUAL(st.listen, "--odd");
		CU_ASSERT_EQUAL(first, 3);
	}
	rfs_config_release(keys, N_KEYS, &st);
}

static void test_config_args_errors(void)
{
	char err[RFS_CONFIG_ERR_MAX];
	struct settings st;
	int first = -1;

	init_settings(&st);
	{
		char *argv[] = {"prog", "--nope=1", NULL};

		CU_ASSERT_EQUAL(parse(&st, argv, &first, err), -EINVAL);
		CU_ASSERT_STRING_EQUAL(err, "unknown setting 'nope'");
	}
	{
		char *argv[] = {"prog", "--port", NULL};

		CU_ASSERT_EQUAL(parse(&st, argv, &first, err), -EINVAL);
		CU_ASSERT_PTR_NOT_NULL(strstr(err, "--port"));
	}
	{
		char *argv[] = {"prog", "--port=0", NULL};

		CU_ASSERT_EQUAL(parse(&st, argv, &first, err), -ERANGE);
	}
	{
		char *argv[] = {"prog", "--port=x1", NULL};

		CU_ASSERT_EQUAL(parse(&st, argv, &first, err), -EINVAL);
	}
	{
		char *argv[] = {"prog", "--config", "/nonexistent/x.conf",
				NULL};

		CU_ASSERT_EQUAL(parse(&st, argv, &first, err), -ENOENT);
	}
	{
		char *argv[] = {"prog", "--config", NULL};

		CU_ASSERT_EQUAL(parse(&st, argv, &first, err), -EINVAL);
	}
	{
		char *argv[] = {"prog", "--=5", NULL};

		CU_ASSERT_EQUAL(parse(&st, argv, &first, err), -EINVAL);
	}
	CU_ASSERT_EQUAL(st.port, 9000);
	rfs_config_release(keys, N_KEYS, &st);
}

static void test_config_print_help(void)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	rfs_config_print_help(keys, N_KEYS, out);
	CU_ASSERT_EQUAL_FATAL(fclose(out), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "  --port=N"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "TCP port (default: 9000)\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "  --data-dir=VALUE"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "(default: /var/lib/ringfs)"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "  --chunk-size=SIZE"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "  --fsync=BOOL"));
	/* a key without default shows none */
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "no default\n"));
	CU_ASSERT_PTR_NULL(strstr(text, "no default (default"));
	free(text);
}

static void test_config_release(void)
{
	struct settings st;

	init_settings(&st);
	CU_ASSERT_EQUAL(set(&st, "data-dir", "/x"), 0);
	rfs_config_release(keys, N_KEYS, &st);
	CU_ASSERT_PTR_NULL(st.data_dir);
	CU_ASSERT_PTR_NULL(st.listen);
	CU_ASSERT_PTR_NULL(st.empty);
	/* a second release is harmless */
	rfs_config_release(keys, N_KEYS, &st);
}

int main(void)
{
	static const struct rfs_test tests[] = {
	    RFS_TEST(test_config_defaults),
	    RFS_TEST(test_config_bad_default),
	    RFS_TEST(test_config_set),
	    RFS_TEST(test_config_bad_number),
	    RFS_TEST(test_config_range),
	    RFS_TEST(test_config_size_suffixes),
	    RFS_TEST(test_config_bool_words),
	    RFS_TEST(test_config_load_file),
	    RFS_TEST(test_config_load_errors),
	    RFS_TEST(test_config_load_unreadable),
	    RFS_TEST(test_config_args_override_file),
	    RFS_TEST(test_config_args_positional),
	    RFS_TEST(test_config_args_errors),
	    RFS_TEST(test_config_print_help),
	    RFS_TEST(test_config_release),
	    RFS_TEST(test_config_setup_daemon_args),
	    RFS_TEST(test_config_find_flag),
	    RFS_TEST(test_config_early_flags),
	};
	static const struct rfs_test_suite suite = {
	    .name = "config",
	    RFS_TESTS(tests),
	};

	return rfs_test_run(&suite, 1);
}
