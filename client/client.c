#include <config.h>
#include "client/client.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client/client-int.h"
#include "common/errors.h"
#include "common/httpc.h"
#include "common/log.h"

/* Idle metaserver connections kept for reuse: one per thread that made a
 * call at the same time, bounded so a burst does not pin sockets. */
#define CLIENT_POOL_MAX 64
/* Backoff between passes over an unreachable address list. */
#define CLIENT_BACKOFF_FIRST_MS 50
#define CLIENT_BACKOFF_MAX_MS	1000
#define CLIENT_PORT_MAX		65535

struct rfs_client {
	char addrs[RFS_CLIENT_META_ADDRS_MAX][RFS_ADDR_MAX + 1];
	size_t n_addrs;
	struct rfs_httpc_opts hopts;
	long retry_ms;
	pthread_mutex_t lock; /* guards everything below */
	size_t cur;	      /* index of the address in use */
	struct rfs_httpc *pool[CLIENT_POOL_MAX];
	size_t n_pool;
	struct rfs_client_error last;
	uint64_t chunk_size;	    /* 0 until known */
	rfs_client_dirs_cb dirs_cb; /* set before the client is shared */
	void *dirs_arg;
	rfs_client_op_cb op_cb; /* set before the client is shared */
	void *op_arg;
};

static bool host_char_ok(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == '_';
}

/* Check one "host:port" of len bytes. */
static int parse_one_addr(const char *s, size_t len)
{
	const char *colon;
	const char *host_end;
	unsigned long port = 0;
	size_t i;

	if (len == 0 || len > RFS_ADDR_MAX)
		return -EINVAL;
	if (s[0] == '[') {
		host_end = memchr(s, ']', len);
		if (!host_end || host_end == s + 1)
			return -EINVAL;
		for (i = 1; s + i < host_end; i++)
			if (!(host_char_ok(s[i]) || s[i] == ':'))
				return -EINVAL;
		colon = host_end + 1;
		if (colon >= s + len || *colon != ':')
			return -EINVAL;
	} else {
		colon = memchr(s, ':', len);
		if (!colon || colon == s)
			return -EINVAL;
		for (i = 0; s + i < colon; i++)
			if (!host_char_ok(s[i]))
				return -EINVAL;
	}
	if (colon + 1 == s + len)
		return -EINVAL;
	for (i = (size_t)(colon + 1 - s); i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		port = port * 10 + (unsigned long)(s[i] - '0');
		if (port > CLIENT_PORT_MAX)
			return -EINVAL;
	}
	return port == 0 ? -EINVAL : 0;
}

int rfs_client_parse_addrs(const char *list, char (*addrs)[RFS_ADDR_MAX + 1],
			   size_t max, size_t *n)
{
	const char *p = list;
	size_t count = 0;

	*n = 0;
	if (!list || !*list)
		return -EINVAL;
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		int rc = parse_one_addr(p, len);

		if (rc < 0)
			return rc;
		if (count == max)
			return -E2BIG;
		memcpy(addrs[count], p, len);
		addrs[count][len] = '\0';
		count++;
		if (!comma)
			break;
		p = comma + 1;
	}
	*n = count;
	return 0;
}

int rfs_client_new(const struct rfs_client_opts *opts, struct rfs_client **out)
{
	struct rfs_client *c;
	const char *meta =
	    opts && opts->meta ? opts->meta : RFS_CLIENT_META_DEFAULT;
	int rc;

	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	rc = rfs_client_parse_addrs(meta, c->addrs, RFS_CLIENT_META_ADDRS_MAX,
				    &c->n_addrs);
	if (rc < 0) {
		free(c);
		return rc == -E2BIG ? -EINVAL : rc;
	}
	c->hopts.retries = -1;
	if (opts) {
		c->hopts.connect_timeout_ms = opts->connect_timeout_ms;
		c->hopts.timeout_ms = opts->timeout_ms;
		c->retry_ms = opts->retry_ms > 0 ? opts->retry_ms : 0;
	}
	rc = pthread_mutex_init(&c->lock, NULL);
	if (rc != 0) {
		free(c);
		return -rc;
	}
	*out = c;
	return 0;
}

void rfs_client_free(struct rfs_client *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->n_pool; i++)
		rfs_httpc_free(c->pool[i]);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

void rfs_client_httpc_opts(const struct rfs_client *c,
			   struct rfs_httpc_opts *out)
{
	*out = c->hopts;
}

void rfs_client_meta_addr(struct rfs_client *c, char *buf, size_t len)
{
	pthread_mutex_lock(&c->lock);
	snprintf(buf, len, "%s", c->addrs[c->cur]);
	pthread_mutex_unlock(&c->lock);
}

void rfs_client_note_error(struct rfs_client *c, int err, bool from_meta,
			   const char *addr, const char *message)
{
	pthread_mutex_lock(&c->lock);
	c->last.err = err < 0 ? err : -err;
	c->last.from_meta = from_meta;
	snprintf(c->last.addr, sizeof(c->last.addr), "%s", addr ? addr : "");
	snprintf(c->last.message, sizeof(c->last.message), "%s",
		 message ? message : "");
	pthread_mutex_unlock(&c->lock);
}

void rfs_client_last_error(struct rfs_client *c, struct rfs_client_error *out)
{
	pthread_mutex_lock(&c->lock);
	*out = c->last;
	pthread_mutex_unlock(&c->lock);
}

void rfs_client_clear_error(struct rfs_client *c)
{
	pthread_mutex_lock(&c->lock);
	memset(&c->last, 0, sizeof(c->last));
	pthread_mutex_unlock(&c->lock);
}

bool rfs_client_err_is_unreachable(int err)
{
	if (err > 0)
		err = -err;
	return err == -ECONNREFUSED || err == -EHOSTUNREACH ||
	       err == -ETIMEDOUT || err == -ENETUNREACH;
}

static struct rfs_httpc *pool_take(struct rfs_client *c)
{
	struct rfs_httpc *h = NULL;

	pthread_mutex_lock(&c->lock);
	if (c->n_pool > 0)
		h = c->pool[--c->n_pool];
	pthread_mutex_unlock(&c->lock);
	return h ? h : rfs_httpc_new(&c->hopts);
}

static void pool_put(struct rfs_client *c, struct rfs_httpc *h)
{
	pthread_mutex_lock(&c->lock);
	if (c->n_pool < CLIENT_POOL_MAX) {
		c->pool[c->n_pool++] = h;
		h = NULL;
	}
	pthread_mutex_unlock(&c->lock);
	rfs_httpc_free(h);
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000,
			      .tv_nsec = (ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/*
 * Whether a failed call may be sent again (to the next address). A
 * request that was refused at connect or with 503 was never applied, so
 * even a mutation may be repeated; a timeout might have been applied.
 */
static bool call_retryable(int rc, bool idempotent)
{
	if (rc == -ECONNREFUSED || rc == -EHOSTUNREACH || rc == -ENETUNREACH ||
	    rc == -EAGAIN)
		return true;
	return idempotent && rc == -ETIMEDOUT;
}

/* Move on from address index cur (unless another thread already did). */
static void rotate_addr(struct rfs_client *c, size_t cur)
{
	pthread_mutex_lock(&c->lock);
	if (c->cur == cur)
		c->cur = (cur + 1) % c->n_addrs;
	pthread_mutex_unlock(&c->lock);
}

static size_t current_addr(struct rfs_client *c, char *addr)
{
	size_t cur;

	pthread_mutex_lock(&c->lock);
	cur = c->cur;
	memcpy(addr, c->addrs[cur], RFS_ADDR_MAX + 1);
	pthread_mutex_unlock(&c->lock);
	return cur;
}

/*
 * The retry time ran out on rc. A metaserver that stayed unreachable that
 * long is a timeout for the caller (a mount then answers ETIMEDOUT, not a
 * connection error of one attempt), logged once per call.
 */
static int call_gave_up(const char *addr, long retry_ms, int rc)
{
	if (retry_ms <= 0 || !rfs_client_err_is_unreachable(rc))
		return rc;
	rfs_log_warn(NULL,
		     "msg=\"metaserver unreachable, giving up\" addr=%s "
		     "retried_ms=%ld err=%s",
		     addr, retry_ms, rfs_errno_name(rc));
	return -ETIMEDOUT;
}

static int call_retry(struct rfs_client *c, long retry_ms, const char *method,
		      const char *path, const char *body, size_t len,
		      bool idempotent, struct rfs_httpc_reply *reply)
{
	char addr[RFS_ADDR_MAX + 1];
	long deadline = now_ms() + retry_ms;
	long delay = CLIENT_BACKOFF_FIRST_MS;
	struct rfs_httpc *h = pool_take(c);
	size_t tried = 0;
	int rc;

	memset(reply, 0, sizeof(*reply));
	if (!h)
		return -ENOMEM;
	for (;;) {
		size_t cur = current_addr(c, addr);

		rfs_httpc_reply_release(reply);
		memset(reply, 0, sizeof(*reply));
		rc = rfs_httpc_call(h, addr, method, path, body, len,
				    idempotent, reply);
		if (rc == 0)
			break;
		rfs_client_note_error(c, rc, true, addr, reply->message);
		if (!call_retryable(rc, idempotent))
			break;
		rotate_addr(c, cur);
		if (++tried < c->n_addrs)
			continue;
		if (now_ms() + delay > deadline) {
			rc = call_gave_up(addr, retry_ms, rc);
			break;
		}
		sleep_ms(delay);
		delay = delay * 2 > CLIENT_BACKOFF_MAX_MS
			    ? CLIENT_BACKOFF_MAX_MS
			    : delay * 2;
		tried = 0;
	}
	pool_put(c, h);
	if (rc < 0) {
		free(reply->body);
		reply->body = NULL;
		reply->len = 0;
	}
	return rc;
}

int rfs_client_call(struct rfs_client *c, const char *method, const char *path,
		    const char *body, size_t len, bool idempotent,
		    struct rfs_httpc_reply *reply)
{
	return call_retry(c, c->retry_ms, method, path, body, len, idempotent,
			  reply);
}

int rfs_client_call_once(struct rfs_client *c, const char *method,
			 const char *path, const char *body, size_t len,
			 bool idempotent, struct rfs_httpc_reply *reply)
{
	return call_retry(c, 0, method, path, body, len, idempotent, reply);
}

int rfs_client_chunk_size(struct rfs_client *c, uint64_t *out)
{
	struct rfs_statfs st;
	int rc;

	pthread_mutex_lock(&c->lock);
	*out = c->chunk_size;
	pthread_mutex_unlock(&c->lock);
	if (*out)
		return 0;
	rc = rfs_client_statfs(c, &st);
	if (rc < 0)
		return rc;
	if (st.chunk_size < RFS_CHUNK_SIZE_MIN ||
	    st.chunk_size > RFS_CHUNK_SIZE_MAX) {
		rfs_client_note_error(c, -EPROTO, true, NULL,
				      "metaserver reported a bad chunk size");
		return -EPROTO;
	}
	pthread_mutex_lock(&c->lock);
	c->chunk_size = st.chunk_size;
	pthread_mutex_unlock(&c->lock);
	*out = st.chunk_size;
	return 0;
}

void rfs_client_set_dirs_cb(struct rfs_client *c, rfs_client_dirs_cb cb,
			    void *arg)
{
	c->dirs_cb = cb;
	c->dirs_arg = arg;
}

void rfs_client_set_op_cb(struct rfs_client *c, rfs_client_op_cb cb, void *arg)
{
	c->op_cb = cb;
	c->op_arg = arg;
}

void rfs_client_notify_op(struct rfs_client *c, const struct rfs_op *op)
{
	if (c->op_cb)
		c->op_cb(op, c->op_arg);
}

void rfs_client_notify_dirs(struct rfs_client *c, const char *body, size_t len)
{
	struct rfs_dir_attrs d;

	if (c->dirs_cb == NULL || body == NULL || len == 0)
		return;
	/* a malformed member is ignored: it only saves a later getattr */
	if (rfs_proto_dirs_decode(body, len, &d) == 0 && d.n > 0)
		c->dirs_cb(&d, c->dirs_arg);
}
