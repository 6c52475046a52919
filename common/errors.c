#include <config.h>
#include "common/errors.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

/*
 * HTTP statuses used below, named by meaning rather than by number.
 */
#define HTTP_BAD_REQUEST	  400u
#define HTTP_FORBIDDEN		  403u
#define HTTP_NOT_FOUND		  404u
#define HTTP_METHOD_NOT_ALLOWED	  405u
#define HTTP_CONFLICT		  409u
#define HTTP_GONE		  410u
#define HTTP_PAYLOAD_TOO_LARGE	  413u
#define HTTP_INTERNAL_ERROR	  500u
#define HTTP_NOT_IMPLEMENTED	  501u
#define HTTP_UNAVAILABLE	  503u
#define HTTP_INSUFFICIENT_STORAGE 507u

struct errno_entry {
	int err;
	const char *name;
	unsigned int status;	  /* status that carries err */
	unsigned int from_status; /* bare status read back as err, or 0 */
};

/* An errno constant and its name, the first two fields of an entry. */
#define ERRNO_AND_NAME(e) e, #e

/*
 * The one table: errno <-> name <-> HTTP status. Each errno value appears
 * once, under its POSIX spelling (Linux aliases such as EWOULDBLOCK,
 * EDEADLOCK and ENOTSUP share a value with EAGAIN, EDEADLK, EOPNOTSUPP).
 */
static const struct errno_entry errno_table[] = {
    {ERRNO_AND_NAME(EPERM), HTTP_FORBIDDEN, 0},
    {ERRNO_AND_NAME(ENOENT), HTTP_NOT_FOUND, HTTP_NOT_FOUND},
    {ERRNO_AND_NAME(EIO), HTTP_INTERNAL_ERROR, 0},
    {ERRNO_AND_NAME(EBADF), HTTP_INTERNAL_ERROR, 0},
    {ERRNO_AND_NAME(EAGAIN), HTTP_UNAVAILABLE, HTTP_UNAVAILABLE},
    {ERRNO_AND_NAME(ENOMEM), HTTP_INTERNAL_ERROR, 0},
    {ERRNO_AND_NAME(EACCES), HTTP_FORBIDDEN, 0},
    {ERRNO_AND_NAME(EBUSY), HTTP_CONFLICT, 0},
    {ERRNO_AND_NAME(EEXIST), HTTP_CONFLICT, 0},
    {ERRNO_AND_NAME(EXDEV), HTTP_INTERNAL_ERROR, 0},
    {ERRNO_AND_NAME(ENOTDIR), HTTP_BAD_REQUEST, 0},
    {ERRNO_AND_NAME(EISDIR), HTTP_BAD_REQUEST, 0},
    {ERRNO_AND_NAME(EINVAL), HTTP_BAD_REQUEST, 0},
    {ERRNO_AND_NAME(ENFILE), HTTP_INTERNAL_ERROR, 0},
    {ERRNO_AND_NAME(EMFILE), HTTP_INTERNAL_ERROR, 0},
    {ERRNO_AND_NAME(EFBIG), HTTP_PAYLOAD_TOO_LARGE, 0},
    {ERRNO_AND_NAME(ENOSPC), HTTP_INSUFFICIENT_STORAGE, 0},
    {ERRNO_AND_NAME(EROFS), HTTP_INTERNAL_ERROR, 0},
    {ERRNO_AND_NAME(EMLINK), HTTP_CONFLICT, 0},
    {ERRNO_AND_NAME(ERANGE), HTTP_BAD_REQUEST, 0},
    {ERRNO_AND_NAME(ENAMETOOLONG), HTTP_BAD_REQUEST, 0},
    {ERRNO_AND_NAME(ENOSYS), HTTP_NOT_IMPLEMENTED, 0},
    {ERRNO_AND_NAME(ENOTEMPTY), HTTP_CONFLICT, 0},
    {ERRNO_AND_NAME(ELOOP), HTTP_BAD_REQUEST, 0},
    {ERRNO_AND_NAME(ENODATA), HTTP_NOT_FOUND, 0},
    {ERRNO_AND_NAME(EPROTO), HTTP_BAD_REQUEST, HTTP_BAD_REQUEST},
    {ERRNO_AND_NAME(EBADMSG), HTTP_BAD_REQUEST, 0},
    {ERRNO_AND_NAME(EOVERFLOW), HTTP_INTERNAL_ERROR, 0},
    {ERRNO_AND_NAME(EOPNOTSUPP), HTTP_NOT_IMPLEMENTED, HTTP_METHOD_NOT_ALLOWED},
    {ERRNO_AND_NAME(EDQUOT), HTTP_INSUFFICIENT_STORAGE, 0},
    {ERRNO_AND_NAME(ESTALE), HTTP_GONE, 0},
    {ERRNO_AND_NAME(ETIMEDOUT), HTTP_UNAVAILABLE, 0},
    {ERRNO_AND_NAME(ECONNREFUSED), HTTP_INTERNAL_ERROR, 0},
    {ERRNO_AND_NAME(EHOSTUNREACH), HTTP_INTERNAL_ERROR, 0},
    {ERRNO_AND_NAME(ECONNRESET), HTTP_INTERNAL_ERROR, 0},
    {ERRNO_AND_NAME(E2BIG), HTTP_PAYLOAD_TOO_LARGE, HTTP_PAYLOAD_TOO_LARGE},
    {ERRNO_AND_NAME(EALREADY), HTTP_INTERNAL_ERROR, 0},
    {ERRNO_AND_NAME(ECANCELED), HTTP_INTERNAL_ERROR, 0},
    {ERRNO_AND_NAME(EADDRINUSE), HTTP_INTERNAL_ERROR, 0},
    {ERRNO_AND_NAME(ESPIPE), HTTP_INTERNAL_ERROR, 0},
    {ERRNO_AND_NAME(ENXIO), HTTP_INTERNAL_ERROR, 0},
    {ERRNO_AND_NAME(EDEADLK), HTTP_INTERNAL_ERROR, 0},
    {ERRNO_AND_NAME(ENOLCK), HTTP_INTERNAL_ERROR, 0},
    {ERRNO_AND_NAME(EINTR), HTTP_INTERNAL_ERROR, 0},
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
