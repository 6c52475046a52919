/*
 * log: one line per event on stderr, key=value, e.g.
 *   ts=2026-11-23T10:49:01.123Z level=WARN prog=ringfs-chunk req=5f2a msg="cannot open chunk" chunk=00af err=ENOENT
 * The caller writes the key=value part (starting with msg="...") through a
 * printf-style format. Lines are written with one write(2) so concurrent
 * threads never interleave. Thread-safe.
 */
#ifndef RFS_COMMON_LOG_H
#define RFS_COMMON_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

enum rfs_log_level {
	RFS_LOG_ERROR = 0,
	RFS_LOG_WARN = 1,
	RFS_LOG_INFO = 2,
	RFS_LOG_DEBUG = 3,
};

/* Maximum bytes of one log line; longer lines are cut and end in "...". */
#define RFS_LOG_LINE_MAX 4096

/*
 * Set the program name shown as prog= and the most verbose level written.
 * Call once from main() before any thread starts; defaults are "ringfs"
 * and RFS_LOG_INFO. The name is borrowed and must outlive all logging.
 */
void rfs_log_setup(const char *program, enum rfs_log_level level);

/* Parse "error", "warn", "info" or "debug" into *out. Returns 0 or -EINVAL. */
int rfs_log_level_parse(const char *name, enum rfs_log_level *out);
/* rfs_log_level_parse(), and on -EINVAL a message for the user naming the
 * bad value ("log-level 'x' is not error, warn, info or debug") in err. */
int rfs_log_level_parse_msg(const char *name, enum rfs_log_level *out,
			    char *err, size_t errlen);

/* True when a message at this level would be written. */
bool rfs_log_enabled(enum rfs_log_level level);

/*
 * Write one line at the given level. req_id may be NULL (no req= field).
 * fmt is the key=value tail, e.g. "msg=\"chunk stored\" chunk=%016llx".
 */
void rfs_log(enum rfs_log_level level, const char *req_id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void rfs_logv(enum rfs_log_level level, const char *req_id, const char *fmt,
	      va_list ap) __attribute__((format(printf, 3, 0)));

#define rfs_log_error(req, ...) rfs_log(RFS_LOG_ERROR, (req), __VA_ARGS__)
#define rfs_log_warn(req, ...)	rfs_log(RFS_LOG_WARN, (req), __VA_ARGS__)
#define rfs_log_info(req, ...)	rfs_log(RFS_LOG_INFO, (req), __VA_ARGS__)
#define rfs_log_debug(req, ...) rfs_log(RFS_LOG_DEBUG, (req), __VA_ARGS__)

#endif
