#include <config.h>
#include "common/log.h"

#include <errno.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "tests/unit/runner.h"

/* Room for a few captured lines. */
#define CAPTURE_BYTES (4 * RFS_LOG_LINE_MAX)

/* stderr redirected into a pipe while a test logs. */
struct capture {
	int saved_fd;
	int pipe_fd[2];
	char text[CAPTURE_BYTES + 1];
	size_t len;
};

static void capture_start(struct capture *c)
{
	CU_ASSERT_EQUAL_FATAL(pipe(c->pipe_fd), 0);
	c->saved_fd = dup(STDERR_FILENO);
	CU_ASSERT_FATAL(c->saved_fd >= 0);
	CU_ASSERT_FATAL(dup2(c->pipe_fd[1], STDERR_FILENO) >= 0);
	c->len = 0;
}

/* Restore stderr and read what was written (less than a pipe buffer). */
static void capture_stop(struct capture *c)
{
	ssize_t n;

	CU_ASSERT_FATAL(dup2(c->saved_fd, STDERR_FILENO) >= 0);
	close(c->saved_fd);
	close(c->pipe_fd[1]);
	while ((n = read(c->pipe_fd[0], c->text + c->len,
			 CAPTURE_BYTES - c->len)) > 0)
		c->len += (size_t)n;
	close(c->pipe_fd[0]);
	c->text[c->len] = '\0';
}

static bool matches(const char *text, const char *pattern)
{
	regex_t re;
	bool ok;

	if (regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) != 0)
		return false;
	ok = regexec(&re, text, 0, NULL, 0) == 0;
	regfree(&re);
	return ok;
}

#define TS_RE                                                                  \
	"ts=[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z"

static void test_log_line_format(void)
{
	struct capture c;

	rfs_log_setup("test-prog", RFS_LOG_INFO);
	capture_start(&c);
	rfs_log_info(NULL, "msg=\"hello\" n=%d", 5);
	rfs_log_warn("5f2a", "msg=\"cannot open chunk\" err=%s", "ENOENT");
	rfs_log(RFS_LOG_ERROR, NULL, "msg=\"bad\"");
	capture_stop(&c);
	CU_ASSERT(matches(c.text,
			  "^" TS_RE " level=INFO prog=test-prog "
			  "msg=\"hello\" n=5\n" TS_RE
			  " level=WARN prog=test-prog req=5f2a "
			  "msg=\"cannot open chunk\" err=ENOENT\n" TS_RE
			  " level=ERROR prog=test-prog msg=\"bad\"\n$"));
}

static void test_log_levels(void)
{
	struct capture c;

	rfs_log_setup("lv", RFS_LOG_WARN);
	CU_ASSERT(rfs_log_enabled(RFS_LOG_ERROR));
	CU_ASSERT(rfs_log_enabled(RFS_LOG_WARN));
	CU_ASSERT(!rfs_log_enabled(RFS_LOG_INFO));
	CU_ASSERT(!rfs_log_enabled(RFS_LOG_DEBUG));
	capture_start(&c);
	rfs_log_info(NULL, "msg=\"hidden\"");
	rfs_log_debug(NULL, "msg=\"hidden\"");
	rfs_log_warn(NULL, "msg=\"shown\"");
	capture_stop(&c);
	CU_ASSERT(matches(c.text, "^" TS_RE " level=WARN prog=lv "
				  "msg=\"shown\"\n$"));

	rfs_log_setup("lv", RFS_LOG_DEBUG);
	CU_ASSERT(rfs_log_enabled(RFS_LOG_DEBUG));
	capture_start(&c);
	rfs_log_debug("r1", "msg=\"now shown\"");
	capture_stop(&c);
	CU_ASSERT(matches(c.text, "level=DEBUG prog=lv req=r1 "
				  "msg=\"now shown\"\n$"));
	rfs_log_setup("lv", RFS_LOG_INFO);
}

static void test_log_level_parse(void)
{
	enum rfs_log_level lvl = RFS_LOG_INFO;

	CU_ASSERT_EQUAL(rfs_log_level_parse("error", &lvl), 0);
	CU_ASSERT_EQUAL(lvl, RFS_LOG_ERROR);
	CU_ASSERT_EQUAL(rfs_log_level_parse("warn", &lvl), 0);
	CU_ASSERT_EQUAL(lvl, RFS_LOG_WARN);
	CU_ASSERT_EQUAL(rfs_log_level_parse("info", &lvl), 0);
	CU_ASSERT_EQUAL(lvl, RFS_LOG_INFO);
	CU_ASSERT_EQUAL(rfs_log_level_parse("debug", &lvl), 0);
	CU_ASSERT_EQUAL(lvl, RFS_LOG_DEBUG);
	CU_ASSERT_EQUAL(rfs_log_level_parse("DEBUG", &lvl), 0);
	CU_ASSERT_EQUAL(rfs_log_level_parse("warning", &lvl), -EINVAL);
	CU_ASSERT_EQUAL(rfs_log_level_parse("", &lvl), -EINVAL);
	CU_ASSERT_EQUAL(rfs_log_level_parse(NULL, &lvl), -EINVAL);
	CU_ASSERT_EQUAL(lvl, RFS_LOG_DEBUG);
}

static void test_log_long_line_cut(void)
{
	char *big = malloc(3 * RFS_LOG_LINE_MAX);
	struct capture c;

	CU_ASSERT_PTR_NOT_NULL_FATAL(big);
	memset(big, 'x', 3 * RFS_LOG_LINE_MAX - 1);
	big[3 * RFS_LOG_LINE_MAX - 1] = '\0';
	rfs_log_setup("cut", RFS_LOG_INFO);
	capture_start(&c);
	rfs_log_info(NULL, "msg=\"%s\"", big);
	capture_stop(&c);
	CU_ASSERT_EQUAL(c.len, RFS_LOG_LINE_MAX);
	CU_ASSERT_EQUAL(strcmp(c.text + c.len - 5, "x...\n"), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(c.text, "level=INFO prog=cut msg=\"xxx"));
	free(big);
}

static void test_log_cut_boundary(void)
{
	char tail[RFS_LOG_LINE_MAX];
	struct capture c;
	size_t bare;

	rfs_log_setup("edge", RFS_LOG_INFO);
	capture_start(&c);
	rfs_log_info(NULL, "%s", "");
	capture_stop(&c);
	bare = c.len; /* prefix and newline */
	CU_ASSERT_FATAL(bare > 0 && bare < RFS_LOG_LINE_MAX);

	/* a tail that makes the line exactly RFS_LOG_LINE_MAX is kept whole */
	memset(tail, 'y', sizeof(tail));
	tail[RFS_LOG_LINE_MAX - bare] = '\0';
	capture_start(&c);
	rfs_log_info(NULL, "%s", tail);
	capture_stop(&c);
	CU_ASSERT_EQUAL(c.len, RFS_LOG_LINE_MAX);
	CU_ASSERT_EQUAL(strcmp(c.text + c.len - 4, "yyy\n"), 0);

	/* one byte more and it is cut */
	tail[RFS_LOG_LINE_MAX - bare] = 'y';
	tail[RFS_LOG_LINE_MAX - bare + 1] = '\0';
	capture_start(&c);
	rfs_log_info(NULL, "%s", tail);
	capture_stop(&c);
	CU_ASSERT_EQUAL(c.len, RFS_LOG_LINE_MAX);
	CU_ASSERT_EQUAL(strcmp(c.text + c.len - 5, "y...\n"), 0);
}

static void test_log_one_line_per_event(void)
{
	struct capture c;

	rfs_log_setup("nl", RFS_LOG_INFO);
	capture_start(&c);
	errno = ENOSPC;
	rfs_log_info(NULL, "msg=\"two\nlines\r\" x=1");
	CU_ASSERT_EQUAL(errno, ENOSPC); /* logging keeps the caller's errno */
	capture_stop(&c);
	CU_ASSERT(matches(c.text, "^" TS_RE " level=INFO prog=nl "
				  "msg=\"two lines \" x=1\n$"));
}

int main(void)
{
	static const struct rfs_test tests[] = {
	    RFS_TEST(test_log_line_format),
	    RFS_TEST(test_log_levels),
	    RFS_TEST(test_log_level_parse),
	    RFS_TEST(test_log_long_line_cut),
	    RFS_TEST(test_log_cut_boundary),
	    RFS_TEST(test_log_one_line_per_event),
	};
	static const struct rfs_test_suite suite = {
	    .name = "log",
	    RFS_TESTS(tests),
	};

	return rfs_test_run(&suite, 1);
}
