/*
 * errors: the one table that maps errno values to their names and to HTTP
 * statuses. Errors cross the wire as names ("ENOENT"), never as integers;
 * each end converts with these functions. Pure and thread-safe.
 */
#ifndef RFS_COMMON_ERRORS_H
#define RFS_COMMON_ERRORS_H

/*
 * Name of a positive errno value, e.g. rfs_errno_name(ENOENT) == "ENOENT".
 * A negative value is treated as its absolute value. Unknown values give
 * "EIO". The result is a static string.
 */
const char *rfs_errno_name(int err);

/*
 * Positive errno for a name such as "ENOENT". An unknown or NULL name
 * gives EIO, so a peer can never make us return 0 for a failure.
 */
int rfs_errno_from_name(const char *name);

/*
 * HTTP status that carries a positive (or negative) errno: ENOENT/ENODATA 404,
 * EEXIST/ENOTEMPTY/EBUSY/EMLINK 409, EACCES/EPERM 403, EINVAL/EPROTO/ENAMETOOLONG/
 * ENOTDIR/EISDIR/ELOOP/ERANGE/EBADMSG 400, E2BIG/EFBIG 413, ENOSPC/EDQUOT 507,
 * EAGAIN/ETIMEDOUT 503, ESTALE 410, EOPNOTSUPP/ENOSYS 501, everything else
 * 500.
 */
unsigned int rfs_errno_http_status(int err);

/*
 * Best errno for an HTTP status when the reply carried no error name
 * (e.g. a proxy or a crashed peer): 404 ENOENT, 400 EPROTO, 405 EOPNOTSUPP,
 * 413 E2BIG, 503 EAGAIN, other 4xx EINVAL, 5xx EIO. Returns a positive errno.
 */
int rfs_errno_from_http_status(unsigned int status);

#endif
