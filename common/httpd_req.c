#include <config.h>
#include "common/httpd.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <microhttpd.h>

#include "common/errors.h"
#include "common/httpd_int.h"
#include "common/log.h"
#include "common/proto.h"

/* --- replies ---------------------------------------------------------- */

/*
 * Give the built response to the request: with the request id and the
 * handler's headers added, it is queued by the access handler, at once or
 * (suspended request) after resuming the connection. Takes resp.
 */
static int req_set_response(struct rfs_httpd_req *req, unsigned int status,
			    struct MHD_Response *resp)
{
	size_t i;

	if (req->response || req->state == REQ_DONE ||
	    req->state == REQ_RESUMED || req->state == REQ_DROPPED) {
		MHD_destroy_response(resp);
		return -EINVAL; /* a second reply */
	}
	if (MHD_add_response_header(resp, RFS_HDR_REQUEST_ID, req->id) !=
	    MHD_YES)
		goto out_destroy;
	for (i = 0; i < req->n_hdrs; i++)
		if (MHD_add_response_header(resp, req->hdrs[i].name,
					    req->hdrs[i].value) != MHD_YES)
			goto out_destroy;
	req->response = resp;
	req->status = status;
	if (req->state == REQ_SUSPENDED) {
		rfs_httpd_unlink_suspended(req);
		req->state = REQ_RESUMED;
		MHD_resume_connection(req->conn);
		if (eventfd_write(req->srv->wake_fd, 1) < 0)
			rfs_log_error(req->id,
				      "msg=\"cannot wake the server loop\" "
				      "server=%s",
				      req->srv->name);
		else
			req->srv->wake_pending = true;
	}
	return 0;

out_destroy:
	MHD_destroy_response(resp);
	return -ENOMEM;
}

int rfs_httpd_add_header(struct rfs_httpd_req *req, const char *name,
			 const char *value)
{
	size_t nlen = strlen(name);
	size_t vlen = strlen(value);
	struct reply_header *hdrs;
	char *copy;

	if (nlen == 0 || strpbrk(name, "\r\n: \t") || strpbrk(value, "\r\n"))
		return -EINVAL;
	hdrs = realloc(req->hdrs, (req->n_hdrs + 1) * sizeof(*hdrs));
	if (!hdrs)
		return -ENOMEM;
	req->hdrs = hdrs;
	copy = malloc(nlen + vlen + 2);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, name, nlen + 1);
	memcpy(copy + nlen + 1, value, vlen + 1);
	hdrs[req->n_hdrs].name = copy;
	hdrs[req->n_hdrs].value = copy + nlen + 1;
	req->n_hdrs++;
	return 0;
}

int rfs_httpd_reply(struct rfs_httpd_req *req, unsigned int status,
		    const char *content_type, char *buf, size_t len)
{
	struct MHD_Response *resp;

	resp =
	    MHD_create_response_from_buffer_with_free_callback(len, buf, &free);
	if (!resp) {
		free(buf);
		return -ENOMEM;
	}
	if (content_type &&
	    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				    content_type) != MHD_YES) {
		MHD_destroy_response(resp);
		return -ENOMEM;
	}
	return req_set_response(req, status, resp);
}

int rfs_httpd_reply_fd(struct rfs_httpd_req *req, unsigned int status, int fd,
		       uint64_t offset, uint64_t len)
{
	struct MHD_Response *resp;

	/* MHD closes fd when the response is destroyed (sendfile path). */
	resp = MHD_create_response_from_fd_at_offset64(len, fd, offset);
	if (!resp) {
		close(fd);
		return offset > INT64_MAX || len > INT64_MAX ? -EINVAL
							     : -ENOMEM;
	}
	if (MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				    RFS_CONTENT_OCTETS) != MHD_YES) {
		MHD_destroy_response(resp);
		return -ENOMEM;
	}
	return req_set_response(req, status, resp);
}

/* Last resort when even an error body cannot be built: status only. */
int rfs_httpd_reply_empty(struct rfs_httpd_req *req, unsigned int status)
{
	struct MHD_Response *resp;

	resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return -ENOMEM;
	return req_set_response(req, status, resp);
}

static int reply_error_va(struct rfs_httpd_req *req, unsigned int status,
			  enum rfs_log_level level, int err, const char *fmt,
			  va_list ap) __attribute__((format(printf, 5, 0)));

/* Log the refusal, then reply {"error": name, "message": ...}. */
static int reply_error_va(struct rfs_httpd_req *req, unsigned int status,
			  enum rfs_log_level level, int err, const char *fmt,
			  va_list ap)
{
	struct rfs_error_reply e = {.err = err < 0 ? -err : err};
	char path[RFS_ERR_MESSAGE_MAX];
	char detail[RFS_ERR_MESSAGE_MAX];
	char *out = NULL;
	size_t len = 0;
	int rc;

	vsnprintf(e.message, sizeof(e.message), fmt, ap);
	/* 503 means "not now, retry" (e.g. log replay): not a server fault */
	if (status >= 500 && status != 503)
		level = RFS_LOG_ERROR;
	rfs_log(level, req->id,
		"msg=\"request refused\" server=%s peer=%s method=%s "
		"path=\"%s\" status=%u err=%s detail=\"%s\"",
		req->srv->name, req->peer, req->method,
		rfs_httpd_log_safe(path, sizeof(path), req->path), status,
		rfs_errno_name(e.err),
		rfs_httpd_log_safe(detail, sizeof(detail), e.message));
	rc = rfs_proto_error_encode(&e, &out, &len);
	if (rc < 0)
		return rfs_httpd_reply_empty(req, status);
	return rfs_httpd_reply(req, status, RFS_CONTENT_JSON, out, len);
}

int rfs_httpd_reply_error_level(struct rfs_httpd_req *req, unsigned int status,
				enum rfs_log_level level, int err,
				const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = reply_error_va(req, status, level, err, fmt, ap);
	va_end(ap);
	return rc;
}

/*
 * Level for an error a handler gives: "no such entry" and "already
 * exists" are everyday answers in a file system (every create looks its
 * name up first), not refusals worth a warning.
 */
static enum rfs_log_level handler_error_level(int err)
{
	err = err < 0 ? -err : err;
	return err == ENOENT || err == EEXIST || err == ENODATA ? RFS_LOG_DEBUG
								: RFS_LOG_WARN;
}

int rfs_httpd_reply_error(struct rfs_httpd_req *req, int err, const char *fmt,
			  ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = reply_error_va(req, rfs_errno_http_status(err),
			    handler_error_level(err), err, fmt, ap);
	va_end(ap);
	return rc;
}

/* Reply err with the generic message, when nobody has replied yet. */
void rfs_httpd_reply_generic(struct rfs_httpd_req *req, int err)
{
	if (req->response)
		return;
	rfs_httpd_reply_error_level(
	    req, rfs_errno_http_status(err), handler_error_level(err), err,
	    "%s %s failed: %s", req->method, req->path, rfs_errno_name(err));
}

/* --- request accessors ------------------------------------------------ */

const char *rfs_httpd_req_method(const struct rfs_httpd_req *req)
{
	return req->method;
}

const char *rfs_httpd_req_path(const struct rfs_httpd_req *req)
{
	return req->path;
}

const char *rfs_httpd_req_path_tail(const struct rfs_httpd_req *req)
{
	return req->tail;
}

const char *rfs_httpd_req_query(const struct rfs_httpd_req *req,
				const char *key)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND,
					   key);
}

const char *rfs_httpd_req_header(const struct rfs_httpd_req *req,
				 const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *rfs_httpd_req_body(const struct rfs_httpd_req *req, size_t *len)
{
	*len = req->body_len;
	return req->body;
}

const char *rfs_httpd_req_id(const struct rfs_httpd_req *req)
{
	return req->id;
}

const char *rfs_httpd_req_peer(const struct rfs_httpd_req *req)
{
	return req->peer;
}

/* Strict unsigned parse: digits of base only, no sign, no overflow. */
static int parse_u64(const char *s, int base, uint64_t *out)
{
	const char *digits =
	    base == 10 ? "0123456789" : "0123456789abcdefABCDEF";
	unsigned long long v;
	char *end;

	if (!s[0] || strspn(s, digits) != strlen(s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, base);
	if (errno || *end)
		return -EINVAL;
	*out = v;
	return 0;
}

int rfs_httpd_req_query_u64(const struct rfs_httpd_req *req, const char *key,
			    uint64_t *out)
{
	const char *v = rfs_httpd_req_query(req, key);

	return v ? parse_u64(v, 10, out) : -ENOENT;
}

int rfs_httpd_req_query_hex(const struct rfs_httpd_req *req, const char *key,
			    uint64_t *out)
{
	const char *v = rfs_httpd_req_query(req, key);

	return v ? parse_u64(v, 16, out) : -ENOENT;
}

/* Declared Content-Length: 0 and *len set, -ENOENT if none. */
int rfs_httpd_req_content_length(const struct rfs_httpd_req *req, uint64_t *len)
{
	const char *v =
	    rfs_httpd_req_header(req, MHD_HTTP_HEADER_CONTENT_LENGTH);

	if (!v)
		return -ENOENT;
	return parse_u64(v, 10, len);
}

void rfs_httpd_req_set_data(struct rfs_httpd_req *req, void *data,
			    void (*free_cb)(void *))
{
	req->data = data;
	req->free_cb = free_cb;
}

void *rfs_httpd_req_data(const struct rfs_httpd_req *req)
{
	return req->data;
}
