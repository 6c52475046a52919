#include <config.h>
#include "common/errors.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

/*
 * HTTP statuses used below, named by meaning rather than by number.
 */
#define HTTP_BAD_REQUEST 400u
#define HTTP_FORBIDDEN 403u
#define HTTP_NOT_FOUND 404u
#define HTTP_METHOD_NOT_ALLOWED 405u
#define HTTP_CONFLICT 409u
#define HTTP_GONE 410u
#define HTTP_PAYLOAD_TOO_LARGE 413u
#define HTTP_INTERNAL_ERROR 500u
#define HTTP_NOT_IMPLEMENTED 501u
#define HTTP_UNAVAILABLE 503u
#define HTTP_INSUFFICIENT_STORAGE 507u

struct errno_entry {
	int err;
	const char *name;
	unsigned int status;	  /* status that carries err */
	unsigned int from_status; /* bare status read back as err, or 0 */
};

#define ERRNO_ENTRY(e, status) { e, #e, status, 0 }
/* An entry that is also the errno of its bare HTTP status. */
#define ERRNO_ENTRY_BACK(e, status, back) { e, #e, status, back }

/*
 * The one table: errno <-> name <-> HTTP status. Each errno value appears
 * once, under its POSIX spelling (Linux aliases such as EWOULDBLOCK,
 * EDEADLOCK and ENOTSUP share a value with EAGAIN, EDEADLK, EOPNOTSUPP).
 */
static const struct errno_entry errno_table[] = {
	ERRNO_ENTRY(EPERM, HTTP_FORBIDDEN),
	ERRNO_ENTRY_BACK(ENOENT, HTTP_NOT_FOUND, HTTP_NOT_FOUND),
	ERRNO_ENTRY(EIO, HTTP_INTERNAL_ERROR),
	ERRNO_ENTRY(EBADF, HTTP_INTERNAL_ERROR),
	ERRNO_ENTRY_BACK(EAGAIN, HTTP_UNAVAILABLE, HTTP_UNAVAILABLE),
	ERRNO_ENTRY(ENOMEM, HTTP_INTERNAL_ERROR),
	ERRNO_ENTRY(EACCES, HTTP_FORBIDDEN),
	ERRNO_ENTRY(EBUSY, HTTP_CONFLICT),
	ERRNO_ENTRY(EEXIST, HTTP_CONFLICT),
	ERRNO_ENTRY(EXDEV, HTTP_INTERNAL_ERROR),
	ERRNO_ENTRY(ENOTDIR, HTTP_BAD_REQUEST),
	ERRNO_ENTRY(EISDIR, HTTP_BAD_REQUEST),
	ERRNO_ENTRY(EINVAL, HTTP_BAD_REQUEST),
	ERRNO_ENTRY(ENFILE, HTTP_INTERNAL_ERROR),
	ERRNO_ENTRY(EMFILE, HTTP_INTERNAL_ERROR),
	ERRNO_ENTRY(EFBIG, HTTP_PAYLOAD_TOO_LARGE),
	ERRNO_ENTRY(ENOSPC, HTTP_INSUFFICIENT_STORAGE),
	ERRNO_ENTRY(EROFS, HTTP_INTERNAL_ERROR),
	ERRNO_ENTRY(EMLINK, HTTP_INTERNAL_ERROR),
	ERRNO_ENTRY(ERANGE, HTTP_BAD_REQUEST),
	ERRNO_ENTRY(ENAMETOOLONG, HTTP_BAD_REQUEST),
	ERRNO_ENTRY(ENOSYS, HTTP_NOT_IMPLEMENTED),
	ERRNO_ENTRY(ENOTEMPTY, HTTP_CONFLICT),
	ERRNO_ENTRY(ELOOP, HTTP_BAD_REQUEST),
	ERRNO_ENTRY(ENODATA, HTTP_INTERNAL_ERROR),
	ERRNO_ENTRY_BACK(EPROTO, HTTP_BAD_REQUEST, HTTP_BAD_REQUEST),
	ERRNO_ENTRY(EBADMSG, HTTP_BAD_REQUEST),
	ERRNO_ENTRY(EOVERFLOW, HTTP_INTERNAL_ERROR),
	ERRNO_ENTRY_BACK(EOPNOTSUPP, HTTP_NOT_IMPLEMENTED,
			 HTTP_METHOD_NOT_ALLOWED),
	ERRNO_ENTRY(EDQUOT, HTTP_INSUFFICIENT_STORAGE),
	ERRNO_ENTRY(ESTALE, HTTP_GONE),
	ERRNO_ENTRY(ETIMEDOUT, HTTP_UNAVAILABLE),
	ERRNO_ENTRY(ECONNREFUSED, HTTP_INTERNAL_ERROR),
	ERRNO_ENTRY(EHOSTUNREACH, HTTP_INTERNAL_ERROR),
	ERRNO_ENTRY(ECONNRESET, HTTP_INTERNAL_ERROR),
	ERRNO_ENTRY_BACK(E2BIG, HTTP_PAYLOAD_TOO_LARGE,
			 HTTP_PAYLOAD_TOO_LARGE),
	ERRNO_ENTRY(EALREADY, HTTP_INTERNAL_ERROR),
	ERRNO_ENTRY(ECANCELED, HTTP_INTERNAL_ERROR),
	ERRNO_ENTRY(EADDRINUSE, HTTP_INTERNAL_ERROR),
	ERRNO_ENTRY(ESPIPE, HTTP_INTERNAL_ERROR),
	ERRNO_ENTRY(ENXIO, HTTP_INTERNAL_ERROR),
	ERRNO_ENTRY(EDEADLK, HTTP_INTERNAL_ERROR),
	ERRNO_ENTRY(ENOLCK, HTTP_INTERNAL_ERROR),
	ERRNO_ENTRY(EINTR, HTTP_INTERNAL_ERROR),
};

#define ERRNO_TABLE_LEN (sizeof(errno_table) / sizeof(errno_table[0]))

/* Table entry for a positive or negative errno, or NULL if not listed. */
static const struct errno_entry *find_by_errno(int err)
{
	size_t i;

	if (err < 0)
		err = -err;
	for (i = 0; i < ERRNO_TABLE_LEN; i++) {
		if (errno_table[i].err == err)
			return &errno_table[i];
	}
	return NULL;
}

const char *rfs_errno_name(int err)
{
	const struct errno_entry *e = find_by_errno(err);

	return e ? e->name : "EIO";
}

int rfs_errno_from_name(const char *name)
{
	size_t i;

	if (!name)
		return EIO;
	for (i = 0; i < ERRNO_TABLE_LEN; i++) {
		if (strcmp(errno_table[i].name, name) == 0)
			return errno_table[i].err;
	}
	return EIO;
}

unsigned int rfs_errno_http_status(int err)
{
	const struct errno_entry *e = find_by_errno(err);

	return e ? e->status : HTTP_INTERNAL_ERROR;
}

int rfs_errno_from_http_status(unsigned int status)
{
	size_t i;

	for (i = 0; i < ERRNO_TABLE_LEN; i++) {
		/* from_status 0 marks "none", never a match */
		if (errno_table[i].from_status != 0 &&
		    errno_table[i].from_status == status)
			return errno_table[i].err;
	}
	if (status >= HTTP_BAD_REQUEST && status < HTTP_INTERNAL_ERROR)
		return EINVAL;
	return EIO;
}
