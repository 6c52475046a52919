#include <config.h>
#include "common/log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

/* Log lines go to stderr; daemons redirect it to their log file. */
#define LOG_FD STDERR_FILENO

/* What a cut line ends with (before its newline). */
#define LOG_CUT_MARK	 "..."
#define LOG_CUT_MARK_LEN (sizeof(LOG_CUT_MARK) - 1)

#define NSEC_PER_MSEC 1000000L

/*
 * The module's only state, and the one module-level variable the style
 * guide allows outside main.c: the process-wide log destination settings.
 * Written once by rfs_log_setup() before threads start, read-only after,
 * so no lock is needed.
 */
static struct {
	const char *program;
	enum rfs_log_level level;
} log_state = {
    .program = "ringfs",
    .level = RFS_LOG_INFO,
};

static const char *const level_names[] = {
    [RFS_LOG_ERROR] = "ERROR",
    [RFS_LOG_WARN] = "WARN",
    [RFS_LOG_INFO] = "INFO",
    [RFS_LOG_DEBUG] = "DEBUG",
};

#define LEVEL_COUNT (sizeof(level_names) / sizeof(level_names[0]))

void rfs_log_setup(const char *program, enum rfs_log_level level)
{
	if (program && program[0])
		log_state.program = program;
	log_state.level = level;
}

int rfs_log_level_parse(const char *name, enum rfs_log_level *out)
{
	size_t i;

	if (!name)
		return -EINVAL;
	for (i = 0; i < LEVEL_COUNT; i++) {
		if (strcasecmp(name, level_names[i]) == 0) {
			*out = (enum rfs_log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

int rfs_log_level_parse_msg(const char *name, enum rfs_log_level *out,
			    char *err, size_t errlen)
{
	if (rfs_log_level_parse(name, out) == 0)
		return 0;
	snprintf(err, errlen,
		 "log-level '%s' is not error, warn, info or debug",
		 name ? name : "");
	return -EINVAL;
}

bool rfs_log_enabled(enum rfs_log_level level)
{
	return (unsigned int)level < LEVEL_COUNT && level <= log_state.level;
}

/*
 * Write "ts=... level=... prog=... [req=...] " into buf. Returns the number
 * of bytes written (at most size - 1, the text is always NUL-terminated).
 */
static size_t format_prefix(char *buf, size_t size, enum rfs_log_level level,
			    const char *req_id)
{
	struct timespec now;
	struct tm tm;
	char ts[sizeof("YYYY-MM-DDTHH:MM:SS")];
	int n;

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	if (strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		ts[0] = '\0';
	if (req_id)
		n = snprintf(buf, size, "ts=%s.%03ldZ level=%s prog=%s req=%s ",
			     ts, now.tv_nsec / NSEC_PER_MSEC,
			     level_names[level], log_state.program, req_id);
	else
		n = snprintf(buf, size, "ts=%s.%03ldZ level=%s prog=%s ", ts,
			     now.tv_nsec / NSEC_PER_MSEC, level_names[level],
			     log_state.program);
	if (n < 0)
		return 0;
	return (size_t)n < size ? (size_t)n : size - 1;
}

/* One event is one line: a newline inside the tail would forge a second. */
static void flatten_newlines(char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (s[i] == '\n' || s[i] == '\r')
			s[i] = ' ';
	}
}

void rfs_logv(enum rfs_log_level level, const char *req_id, const char *fmt,
	      va_list ap)
{
	/* +1: room for snprintf's NUL, which is never written out */
	char line[RFS_LOG_LINE_MAX + 1];
	size_t used;
	size_t tail;
	int n;
	ssize_t w;
	int saved_errno = errno;

	if (!rfs_log_enabled(level))
		return;
	used = format_prefix(line, sizeof(line), level, req_id);
	n = vsnprintf(line + used, sizeof(line) - used, fmt, ap);
	tail = n < 0 ? 0 : (size_t)n;
	/* n is what would have been written; keep what was */
	if (tail > sizeof(line) - 1 - used)
		tail = sizeof(line) - 1 - used;
	flatten_newlines(line + used, tail);
	used += tail;
	/* the line, newline included, must fit in RFS_LOG_LINE_MAX bytes */
	if (used > RFS_LOG_LINE_MAX - 1) {
		used = RFS_LOG_LINE_MAX - 1;
		memcpy(line + used - LOG_CUT_MARK_LEN, LOG_CUT_MARK,
		       LOG_CUT_MARK_LEN);
	}
	line[used++] = '\n';
	/*
	 * A failed write cannot be reported anywhere (this is where errors
	 * are reported); only an interrupted one is retried.
	 */
	do {
		w = write(LOG_FD, line, used);
	} while (w < 0 && errno == EINTR);
	errno = saved_errno;
}

void rfs_log(enum rfs_log_level level, const char *req_id, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rfs_logv(level, req_id, fmt, ap);
	va_end(ap);
}
