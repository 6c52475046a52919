#include <config.h>
#include "common/httpc.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "common/crypto.h"
#include "common/errors.h"

/* Peers a struct rfs_httpc keeps a connection to (least recently used out). */
#define RFS_HTTPC_PEERS_MAX 16
/* Retry backoff: first wait, doubled each retry up to the cap. */
#define RFS_HTTPC_BACKOFF_FIRST_MS 50
#define RFS_HTTPC_BACKOFF_MAX_MS   2000
/* Largest reply body rfs_httpc_call accepts: an inventory is the biggest. */
#define RFS_HTTPC_REPLY_MAX_BYTES ((size_t)RFS_INVENTORY_BODY_MAX)
/* Error body kept from a failed multi transfer ({"error":..,"message":..}) */
#define RFS_HTTPC_ERR_BODY_MAX (2 * RFS_ERR_MESSAGE_MAX)
/* "http://" + address + path */
#define RFS_HTTPC_URL_MAX                                                      \
	(sizeof("http://") + RFS_ADDR_MAX + RFS_HTTPC_PATH_MAX)
/* Random bytes of the request id we send (hex: twice as many chars). */
#define RFS_HTTPC_ID_RANDOM_BYTES 8
/* Longest wait in curl_multi_poll; transfers have their own timeouts. */
#define RFS_HTTPC_POLL_MS 1000
/* Header lines we build: "Name: value" for short values. */
#define RFS_HTTPC_HEADER_MAX 128

struct httpc_timeouts {
	long connect_ms;
	long total_ms;
};

/*
 * Request ids of one client object: a random seed drawn once, then a
 * counter mixed into it, so a call costs no randomness (a getrandom or
 * the RNG's fork check) and ids stay unique across processes.
 */
struct httpc_ids {
	uint64_t seed;
	uint64_t next;
};

struct httpc_peer {
	char addr[RFS_ADDR_MAX + 1];
	CURL *easy; /* NULL: free slot */
	unsigned long long used;
};

struct rfs_httpc {
	struct httpc_timeouts to;
	int retries;
	struct httpc_peer peers[RFS_HTTPC_PEERS_MAX];
	unsigned long long clock;
	struct httpc_ids ids;
};

/* One synchronous call in flight. */
struct httpc_call {
	const char *send;
	size_t send_len;
	size_t sent;
	char *buf; /* reply body */
	size_t len;
	size_t cap;
	bool overflow;	/* body over RFS_HTTPC_REPLY_MAX_BYTES */
	bool nomem;	/* body buffer could not grow */
	bool transport; /* curl failed (as opposed to an error reply) */
	char request_id[RFS_REQUEST_ID_MAX + 1];
	char errbuf[CURL_ERROR_SIZE];
};

/* One running multi transfer. */
struct httpc_slot {
	CURL *easy; /* kept between transfers; NULL until first use */
	struct curl_slist *hdrs;
	struct rfs_xfer *x; /* NULL: slot free */
	size_t sent;
	unsigned int status;
	bool overflow;
	char err_body[RFS_HTTPC_ERR_BODY_MAX];
	size_t err_len;
	char errbuf[CURL_ERROR_SIZE];
};

struct rfs_httpc_multi {
	CURLM *multi;
	struct httpc_timeouts to;
	unsigned int max_parallel;
	struct httpc_slot *slots; /* max_parallel */
	unsigned int active;
	struct rfs_xfer **queue; /* FIFO: queue[head .. head + n) */
	size_t q_head;
	size_t q_len;
	size_t q_cap;
	struct httpc_ids ids;
};

/* --- shared helpers --------------------------------------------------- */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;

/* curl_global_init is not thread-safe: run it once for the process. */
static void curl_init_once(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static bool curl_ready(void)
{
	return pthread_once(&curl_once, curl_init_once) == 0 &&
	       curl_init_rc == CURLE_OK;
}

static void timeouts_set(struct httpc_timeouts *to,
			 const struct rfs_httpc_opts *opts)
{
	to->connect_ms = opts && opts->connect_timeout_ms > 0
			     ? opts->connect_timeout_ms
			     : RFS_HTTPC_CONNECT_TIMEOUT_MS;
	to->total_ms = opts && opts->timeout_ms > 0 ? opts->timeout_ms
						    : RFS_HTTPC_TIMEOUT_MS;
}

/* Options every transfer gets, after curl_easy_reset. */
static int easy_common(CURL *e, const struct httpc_timeouts *to, char *errbuf)
{
	errbuf[0] = '\0';
	if (curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) ||
	    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L) ||
	    curl_easy_setopt(e, CURLOPT_BUFFERSIZE,
			     (long)RFS_HTTPC_BUFFER_BYTES) ||
	    curl_easy_setopt(e, CURLOPT_UPLOAD_BUFFERSIZE,
			     (long)RFS_HTTPC_BUFFER_BYTES) ||
	    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, to->connect_ms) ||
	    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, to->total_ms) ||
	    curl_easy_setopt(e, CURLOPT_HTTP_VERSION,
			     (long)CURL_HTTP_VERSION_1_1) ||
	    /* cluster traffic never goes through an environment proxy */
	    curl_easy_setopt(e, CURLOPT_PROXY, "") ||
	    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf))
		return -ENOMEM;
	return 0;
}

/* "http://addr/path" into url; addr and path are checked first. */
static int url_build(char *url, size_t cap, const char *addr, const char *path)
{
	size_t n = strlen(addr);
	size_t i;
	int len;

	if (n == 0 || n > RFS_ADDR_MAX ||
	    strspn(addr, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			 "0123456789.-:[]") != n)
		return -EINVAL;
	if (path[0] != '/')
		return -EINVAL;
	for (i = 0; path[i]; i++)
		if ((unsigned char)path[i] <= ' ' || path[i] == 0x7f)
			return -EINVAL;
	len = snprintf(url, cap, "http://%s%s", addr, path);
	if (len < 0 || (size_t)len >= cap)
		return -ENAMETOOLONG;
	return 0;
}

/* Seed ids: random, or (no randomness) the clock and the address. */
static void ids_init(struct httpc_ids *ids)
{
	struct timespec ts;

	if (rfs_random_bytes(&ids->seed, sizeof(ids->seed)) == 0)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	ids->seed = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	ids->seed ^= (uint64_t)(uintptr_t)ids;
}

/* A request id (16 hex digits) so both ends log the same one. */
static void request_id_make(struct httpc_ids *ids, char *out)
{
	uint8_t bytes[RFS_HTTPC_ID_RANDOM_BYTES];
	uint64_t z = ids->seed + ++ids->next * 0x9e3779b97f4a7c15ull;
	size_t i;

	/* splitmix64: consecutive ids look unrelated in the logs */
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	for (i = 0; i < sizeof(bytes); i++)
		bytes[i] = (uint8_t)(z >> (8 * i));
	rfs_hex_encode(bytes, sizeof(bytes), out);
}

/* Append "name: value" to *list. Returns 0 or -ENOMEM. */
static int header_add(struct curl_slist **list, const char *name,
		      const char *value)
{
	size_t n = strlen(name) + strlen(value) + 3;
	struct curl_slist *l;
	char *line = malloc(n);

	if (!line)
		return -ENOMEM;
	snprintf(line, n, "%s: %s", name, value);
	l = curl_slist_append(*list, line);
	free(line);
	if (!l)
		return -ENOMEM;
	*list = l;
	return 0;
}

/*
 * If the header line is "name: value", point *value at the trimmed value
 * and return its length; otherwise return -1.
 */
static long header_match(const char *line, size_t len, const char *name,
			 const char **value)
{
	size_t n = strlen(name);

	if (len <= n || line[n] != ':' || strncasecmp(line, name, n) != 0)
		return -1;
	line += n + 1;
	len -= n + 1;
	while (len > 0 && (*line == ' ' || *line == '\t')) {
		line++;
		len--;
	}
	while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == '\n' ||
			   line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	*value = line;
	return (long)len;
}

/* Map a failed curl transfer to an errno. */
static int curl_errno(CURL *e, CURLcode cc)
{
	long os_errno = 0;

	switch (cc) {
	case CURLE_COULDNT_CONNECT:
		curl_easy_getinfo(e, CURLINFO_OS_ERRNO, &os_errno);
		if (os_errno == ECONNREFUSED)
			return -ECONNREFUSED;
		if (os_errno == ETIMEDOUT)
			return -ETIMEDOUT;
		return -EHOSTUNREACH;
	case CURLE_COULDNT_RESOLVE_HOST:
		return -EHOSTUNREACH;
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_OUT_OF_MEMORY:
		return -ENOMEM;
	case CURLE_URL_MALFORMAT:
		return -EINVAL;
	default:
		return -EIO;
	}
}

/*
 * Errno for a non-2xx reply: the error name of its JSON body, else one
 * derived from the status. Copies the message (or a generic one).
 */
static int reply_errno(unsigned int status, const char *body, size_t len,
		       char *msg, size_t cap)
{
	struct rfs_error_reply e;

	if (body && len > 0 && rfs_proto_error_decode(body, len, &e) == 0 &&
	    e.err > 0) {
		snprintf(msg, cap, "%s", e.message);
		return -e.err;
	}
	snprintf(msg, cap, "HTTP status %u", status);
	return -rfs_errno_from_http_status(status);
}

static bool status_is_ok(long status)
{
	return status >= 200 && status < 300;
}

/* --- synchronous calls ------------------------------------------------ */

struct rfs_httpc *rfs_httpc_new(const struct rfs_httpc_opts *opts)
{
	struct rfs_httpc *c;

	if (!curl_ready())
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	timeouts_set(&c->to, opts);
	ids_init(&c->ids);
	c->retries =
	    opts && opts->retries >= 0 ? opts->retries : RFS_HTTPC_RETRIES;
	return c;
}

void rfs_httpc_free(struct rfs_httpc *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < RFS_HTTPC_PEERS_MAX; i++)
		curl_easy_cleanup(c->peers[i].easy);
	free(c);
}

void rfs_httpc_reply_release(struct rfs_httpc_reply *reply)
{
	if (!reply)
		return;
	free(reply->body);
	reply->body = NULL;
	reply->len = 0;
}

/* The easy handle kept for addr; takes over the least recently used. */
static CURL *peer_easy(struct rfs_httpc *c, const char *addr)
{
	struct httpc_peer *lru = &c->peers[0];
	size_t i;

	for (i = 0; i < RFS_HTTPC_PEERS_MAX; i++) {
		struct httpc_peer *p = &c->peers[i];

		if (p->easy && strcmp(p->addr, addr) == 0) {
			p->used = ++c->clock;
			return p->easy;
		}
		if (!p->easy || (lru->easy && p->used < lru->used))
			lru = p;
	}
	curl_easy_cleanup(lru->easy);
	lru->easy = curl_easy_init();
	if (!lru->easy)
		return NULL;
	snprintf(lru->addr, sizeof(lru->addr), "%s", addr);
	lru->used = ++c->clock;
	return lru->easy;
}

static size_t call_write(char *data, size_t size, size_t n, void *arg)
{
	struct httpc_call *st = arg;
	size_t len = size * n;

	if (len > RFS_HTTPC_REPLY_MAX_BYTES - st->len) {
		st->overflow = true;
		return 0;
	}
	if (st->len + len + 1 > st->cap) {
		size_t cap = st->cap ? st->cap : 4096;
		char *buf;

		while (cap < st->len + len + 1)
			cap *= 2;
		buf = realloc(st->buf, cap);
		if (!buf) {
			st->nomem = true;
			return 0;
		}
		st->buf = buf;
		st->cap = cap;
	}
	memcpy(st->buf + st->len, data, len);
	st->len += len;
	st->buf[st->len] = '\0';
	return len;
}

static size_t call_header(char *line, size_t size, size_t n, void *arg)
{
	struct httpc_call *st = arg;
	const char *v;
	long len = header_match(line, size * n, RFS_HDR_REQUEST_ID, &v);

	if (len > 0 && len <= RFS_REQUEST_ID_MAX) {
		memcpy(st->request_id, v, (size_t)len);
		st->request_id[len] = '\0';
	}
	return size * n;
}

static size_t upload_read(char *buf, size_t size, size_t n, const char *src,
			  size_t src_len, size_t *sent)
{
	size_t len = size * n;

	if (len > src_len - *sent)
		len = src_len - *sent;
	memcpy(buf, src + *sent, len);
	*sent += len;
	return len;
}

static size_t call_read(char *buf, size_t size, size_t n, void *arg)
{
	struct httpc_call *st = arg;

	return upload_read(buf, size, n, st->send, st->send_len, &st->sent);
}

/* Rewind for curl when it resends a body (e.g. on a stale connection). */
static int upload_seek(size_t *sent, size_t len, curl_off_t off, int origin)
{
	if (origin != SEEK_SET || off < 0 || (curl_off_t)len < off)
		return CURL_SEEKFUNC_CANTSEEK;
	*sent = (size_t)off;
	return CURL_SEEKFUNC_OK;
}

static int call_seek(void *arg, curl_off_t off, int origin)
{
	struct httpc_call *st = arg;

	return upload_seek(&st->sent, st->send_len, off, origin);
}

/* PUT body through read_cb, and seek_cb for curl's rewinds. */
static int easy_set_upload(CURL *e, curl_read_callback read_cb,
			   curl_seek_callback seek_cb, void *arg, size_t len)
{
	if (curl_easy_setopt(e, CURLOPT_UPLOAD, 1L) ||
	    curl_easy_setopt(e, CURLOPT_READFUNCTION, read_cb) ||
	    curl_easy_setopt(e, CURLOPT_READDATA, arg) ||
	    curl_easy_setopt(e, CURLOPT_SEEKFUNCTION, seek_cb) ||
	    curl_easy_setopt(e, CURLOPT_SEEKDATA, arg) ||
	    curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len))
		return -ENOMEM;
	return 0;
}

/* Method and body: POST from memory, PUT through the read callback. */
static int call_set_method(CURL *e, const char *method, struct httpc_call *st)
{
	bool has_body = st->send != NULL;
	bool post = strcmp(method, "POST") == 0;

	if (strcmp(method, "GET") == 0 && !has_body)
		return curl_easy_setopt(e, CURLOPT_HTTPGET, 1L) ? -ENOMEM : 0;
	if (strcmp(method, "PUT") == 0)
		return easy_set_upload(e, call_read, call_seek, st,
				       st->send_len);
	if (!post && curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method))
		return -ENOMEM;
	if (!has_body && !post)
		return 0;
	if (curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
			     (curl_off_t)st->send_len) ||
	    curl_easy_setopt(e, CURLOPT_POSTFIELDS, has_body ? st->send : ""))
		return -ENOMEM;
	return 0;
}

static int call_headers(struct curl_slist **hdrs, struct httpc_ids *ids,
			bool has_body)
{
	char id[RFS_REQUEST_ID_MAX + 1];
	int rc;

	/* no "Expect: 100-continue" round trip before a body */
	*hdrs = curl_slist_append(NULL, "Expect:");
	if (!*hdrs)
		return -ENOMEM;
	request_id_make(ids, id);
	rc = header_add(hdrs, RFS_HDR_REQUEST_ID, id);
	if (rc == 0 && has_body)
		rc = header_add(hdrs, "Content-Type", RFS_CONTENT_JSON);
	return rc;
}

/* One attempt. Returns 0, the reply's -errno, or a transport -errno. */
static int call_once(struct rfs_httpc *c, CURL *e, const char *url,
		     const char *method, struct httpc_call *st,
		     struct rfs_httpc_reply *reply)
{
	struct curl_slist *hdrs = NULL;
	long status = 0;
	CURLcode cc;
	int rc;

	curl_easy_reset(e); /* keeps the live connection */
	rc = easy_common(e, &c->to, st->errbuf);
	if (rc == 0)
		rc = call_headers(&hdrs, &c->ids, st->send != NULL);
	if (rc == 0)
		rc = call_set_method(e, method, st);
	if (rc == 0 &&
	    (curl_easy_setopt(e, CURLOPT_URL, url) ||
	     curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdrs) ||
	     curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, call_write) ||
	     curl_easy_setopt(e, CURLOPT_WRITEDATA, st) ||
	     curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, call_header) ||
	     curl_easy_setopt(e, CURLOPT_HEADERDATA, st)))
		rc = -ENOMEM;
	if (rc < 0)
		goto out_free_hdrs;
	cc = curl_easy_perform(e);
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	reply->status = (unsigned int)status;
	if (cc != CURLE_OK) {
		st->transport = true;
		rc = st->overflow ? -EOVERFLOW
		     : st->nomem  ? -ENOMEM
				  : curl_errno(e, cc);
		snprintf(reply->message, sizeof(reply->message), "%s",
			 st->errbuf[0] ? st->errbuf : curl_easy_strerror(cc));
	} else if (!status_is_ok(status)) {
		rc = reply_errno(reply->status, st->buf, st->len,
				 reply->message, sizeof(reply->message));
	}
out_free_hdrs:
	curl_slist_free_all(hdrs);
	return rc;
}

/*
 * Whether a failed attempt may be repeated: refused connections and 503
 * mean the server did nothing, so every call is retried; other transport
 * failures may have reached the server, so only idempotent calls are.
 */
static bool call_should_retry(int rc, unsigned int status, bool transport,
			      bool idempotent)
{
	if (rc == -ECONNREFUSED || status == 503)
		return true;
	if (!idempotent || !transport)
		return false;
	return rc != -EOVERFLOW && rc != -ENOMEM && rc != -EINVAL;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000,
			      .tv_nsec = (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int rfs_httpc_call(struct rfs_httpc *c, const char *addr, const char *method,
		   const char *path, const char *body, size_t len,
		   bool idempotent, struct rfs_httpc_reply *reply)
{
	char url[RFS_HTTPC_URL_MAX];
	long backoff = RFS_HTTPC_BACKOFF_FIRST_MS;
	struct httpc_call st;
	int attempt;
	int rc;

	memset(reply, 0, sizeof(*reply));
	rc = url_build(url, sizeof(url), addr, path);
	if (rc < 0)
		return rc;
	for (attempt = 0;; attempt++) {
		CURL *e = peer_easy(c, addr);

		if (!e)
			return -ENOMEM;
		memset(&st, 0, sizeof(st));
		st.send = body;
		st.send_len = body ? len : 0;
		rfs_httpc_reply_release(reply);
		memset(reply, 0, sizeof(*reply));
		rc = call_once(c, e, url, method, &st, reply);
		reply->body = st.buf;
		reply->len = st.len;
		snprintf(reply->request_id, sizeof(reply->request_id), "%s",
			 st.request_id);
		if (rc == 0 || attempt >= c->retries ||
		    !call_should_retry(rc, reply->status, st.transport,
				       idempotent))
			return rc;
		sleep_ms(backoff);
		backoff = backoff * 2 > RFS_HTTPC_BACKOFF_MAX_MS
			      ? RFS_HTTPC_BACKOFF_MAX_MS
			      : backoff * 2;
	}
}

/* --- multi ------------------------------------------------------------ */

void rfs_xfer_release(struct rfs_xfer *x)
{
	if (!x)
		return;
	free(x->recv_crc);
	x->recv_crc = NULL;
}

struct rfs_httpc_multi *rfs_httpc_multi_new(unsigned int max_parallel,
					    const struct rfs_httpc_opts *opts)
{
	struct rfs_httpc_multi *m;

	if (!curl_ready())
		return NULL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->max_parallel = max_parallel ? max_parallel : 1;
	timeouts_set(&m->to, opts);
	ids_init(&m->ids);
	m->slots = calloc(m->max_parallel, sizeof(*m->slots));
	m->multi = curl_multi_init();
	if (!m->slots || !m->multi)
		goto out_free_m;
	if (curl_multi_setopt(m->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
			      (long)m->max_parallel) ||
	    curl_multi_setopt(m->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
			      (long)m->max_parallel))
		goto out_free_m;
	return m;

out_free_m:
	curl_multi_cleanup(m->multi);
	free(m->slots);
	free(m);
	return NULL;
}

void rfs_httpc_multi_free(struct rfs_httpc_multi *m)
{
	unsigned int i;

	if (!m)
		return;
	for (i = 0; i < m->max_parallel; i++) {
		struct httpc_slot *s = &m->slots[i];

		if (s->easy && s->x)
			curl_multi_remove_handle(m->multi, s->easy);
		curl_easy_cleanup(s->easy);
		curl_slist_free_all(s->hdrs);
	}
	curl_multi_cleanup(m->multi);
	free(m->slots);
	free(m->queue);
	free(m);
}

int rfs_httpc_multi_add(struct rfs_httpc_multi *m, struct rfs_xfer *x)
{
	if (m->q_head > 0 && m->q_head + m->q_len == m->q_cap) {
		memmove(m->queue, m->queue + m->q_head,
			m->q_len * sizeof(*m->queue));
		m->q_head = 0;
	}
	if (m->q_len == m->q_cap) {
		size_t cap = m->q_cap ? m->q_cap * 2 : 16;
		struct rfs_xfer **q = realloc(m->queue, cap * sizeof(*q));

		if (!q)
			return -ENOMEM;
		m->queue = q;
		m->q_cap = cap;
	}
	m->queue[m->q_head + m->q_len++] = x;
	return 0;
}

static size_t slot_write(char *data, size_t size, size_t n, void *arg)
{
	struct httpc_slot *s = arg;
	struct rfs_xfer *x = s->x;
	size_t len = size * n;
	long status = 0;

	if (s->status == 0) {
		curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);
		s->status = (unsigned int)status;
	}
	if (!status_is_ok(s->status)) {
		/* keep the start of an error body for its name and message */
		size_t keep = sizeof(s->err_body) - s->err_len;

		memcpy(s->err_body + s->err_len, data, len < keep ? len : keep);
		s->err_len += len < keep ? len : keep;
		return len;
	}
	if (!x->recv_buf)
		return len; /* nobody wants the body */
	if (len > x->recv_cap - x->recv_len) {
		s->overflow = true;
		return 0;
	}
	memcpy((char *)x->recv_buf + x->recv_len, data, len);
	x->recv_len += len;
	return len;
}

static size_t slot_header(char *line, size_t size, size_t n, void *arg)
{
	struct httpc_slot *s = arg;
	struct rfs_xfer *x = s->x;
	size_t len = size * n;
	const char *v;
	long vlen;

	if (len >= 5 && strncmp(line, "HTTP/", 5) == 0) {
		/* a new header block (after a 1xx): forget the previous one */
		rfs_xfer_release(x);
		x->recv_chunk_length = 0;
		return len;
	}
	vlen = header_match(line, len, RFS_HDR_CRC, &v);
	if (vlen >= 0) {
		free(x->recv_crc);
		x->recv_crc = strndup(v, (size_t)vlen);
		return x->recv_crc ? len : 0;
	}
	vlen = header_match(line, len, RFS_HDR_CHUNK_LENGTH, &v);
	if (vlen > 0) {
		char num[24];
		char *end;

		if ((size_t)vlen >= sizeof(num))
			return len;
		memcpy(num, v, (size_t)vlen);
		num[vlen] = '\0';
		x->recv_chunk_length = strtoull(num, &end, 10);
		if (*end)
			x->recv_chunk_length = 0;
	}
	return len;
}

static size_t slot_read(char *buf, size_t size, size_t n, void *arg)
{
	struct httpc_slot *s = arg;

	return upload_read(buf, size, n, s->x->send_buf, s->x->send_len,
			   &s->sent);
}

static int slot_seek(void *arg, curl_off_t off, int origin)
{
	struct httpc_slot *s = arg;

	return upload_seek(&s->sent, s->x->send_len, off, origin);
}

static int slot_headers(struct httpc_slot *s, struct httpc_ids *ids,
			const struct rfs_xfer *x)
{
	char id[RFS_REQUEST_ID_MAX + 1];
	int rc;

	curl_slist_free_all(s->hdrs);
	s->hdrs = curl_slist_append(NULL, "Expect:");
	if (!s->hdrs)
		return -ENOMEM;
	request_id_make(ids, id);
	rc = header_add(&s->hdrs, RFS_HDR_REQUEST_ID, id);
	if (rc == 0 && x->send_crc)
		rc = header_add(&s->hdrs, RFS_HDR_CRC, x->send_crc);
	if (rc == 0 && x->no_sync)
		rc = header_add(&s->hdrs, RFS_HDR_SYNC, "0");
	if (rc == 0 && x->send_buf)
		rc = header_add(&s->hdrs, "Content-Type", RFS_CONTENT_OCTETS);
	return rc;
}

static int slot_set_method(struct httpc_slot *s, const struct rfs_xfer *x)
{
	if (strcmp(x->method, "GET") == 0)
		return curl_easy_setopt(s->easy, CURLOPT_HTTPGET, 1L) ? -ENOMEM
								      : 0;
	if (strcmp(x->method, "PUT") == 0)
		return easy_set_upload(s->easy, slot_read, slot_seek, s,
				       x->send_len);
	if (curl_easy_setopt(s->easy, CURLOPT_CUSTOMREQUEST, x->method))
		return -ENOMEM;
	return 0;
}

/* Set up slot s for x and hand it to curl. */
static int slot_start(struct rfs_httpc_multi *m, struct httpc_slot *s,
		      struct rfs_xfer *x)
{
	char url[RFS_HTTPC_URL_MAX];
	int rc;

	s->x = x;
	s->sent = 0;
	s->status = 0;
	s->overflow = false;
	s->err_len = 0;
	x->recv_len = 0;
	x->status = 0;
	x->result = 0;
	x->recv_crc = NULL;
	x->recv_chunk_length = 0;
	x->message[0] = '\0';
	rc = url_build(url, sizeof(url), x->addr, x->path);
	if (rc < 0)
		return rc;
	if (!s->easy && !(s->easy = curl_easy_init()))
		return -ENOMEM;
	curl_easy_reset(s->easy);
	rc = easy_common(s->easy, &m->to, s->errbuf);
	if (rc == 0)
		rc = slot_headers(s, &m->ids, x);
	if (rc == 0)
		rc = slot_set_method(s, x);
	if (rc == 0 &&
	    (curl_easy_setopt(s->easy, CURLOPT_URL, url) ||
	     curl_easy_setopt(s->easy, CURLOPT_HTTPHEADER, s->hdrs) ||
	     curl_easy_setopt(s->easy, CURLOPT_WRITEFUNCTION, slot_write) ||
	     curl_easy_setopt(s->easy, CURLOPT_WRITEDATA, s) ||
	     curl_easy_setopt(s->easy, CURLOPT_HEADERFUNCTION, slot_header) ||
	     curl_easy_setopt(s->easy, CURLOPT_HEADERDATA, s) ||
	     curl_easy_setopt(s->easy, CURLOPT_PRIVATE, s) ||
	     curl_multi_add_handle(m->multi, s->easy)))
		rc = -ENOMEM;
	return rc;
}

/* Fill x's result from the finished transfer and free its slot. */
static struct rfs_xfer *slot_finish(struct rfs_httpc_multi *m,
				    struct httpc_slot *s, CURLcode cc)
{
	struct rfs_xfer *x = s->x;
	long status = 0;

	curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);
	x->status = (unsigned int)status;
	if (cc != CURLE_OK) {
		x->result = s->overflow ? -EOVERFLOW : curl_errno(s->easy, cc);
		snprintf(x->message, sizeof(x->message), "%s",
			 s->overflow	? "reply longer than the receive buffer"
			 : s->errbuf[0] ? s->errbuf
					: curl_easy_strerror(cc));
	} else if (!status_is_ok(status)) {
		x->result = reply_errno(x->status, s->err_body, s->err_len,
					x->message, sizeof(x->message));
	}
	if (x->result < 0)
		x->recv_len = 0;
	curl_multi_remove_handle(m->multi, s->easy);
	s->x = NULL;
	m->active--;
	return x;
}

/* Start queued transfers while slots are free. */
static void multi_fill(struct rfs_httpc_multi *m, rfs_xfer_done_cb done,
		       void *arg)
{
	unsigned int i;

	for (i = 0; i < m->max_parallel && m->q_len > 0; i++) {
		struct httpc_slot *s = &m->slots[i];
		struct rfs_xfer *x;
		int rc;

		if (s->x)
			continue;
		x = m->queue[m->q_head++];
		m->q_len--;
		m->active++;
		rc = slot_start(m, s, x);
		if (rc < 0) {
			s->x = NULL;
			m->active--;
			x->result = rc;
			done(x, arg);
		}
	}
	if (m->q_len == 0)
		m->q_head = 0;
}

/* Report finished transfers. Returns how many finished. */
static unsigned int multi_collect(struct rfs_httpc_multi *m,
				  rfs_xfer_done_cb done, void *arg)
{
	unsigned int finished = 0;
	char *priv;
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(m->multi, &left))) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		if (curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
				      &priv) != CURLE_OK)
			continue;
		done(slot_finish(m, (struct httpc_slot *)(void *)priv,
				 msg->data.result),
		     arg);
		finished++;
	}
	return finished;
}

/* curl itself failed: end every transfer with -EIO. */
static void multi_abort(struct rfs_httpc_multi *m, rfs_xfer_done_cb done,
			void *arg)
{
	unsigned int i;

	for (i = 0; i < m->max_parallel; i++) {
		struct httpc_slot *s = &m->slots[i];
		struct rfs_xfer *x;

		if (!s->x)
			continue;
		x = slot_finish(m, s, CURLE_OK);
		x->result = -EIO;
		x->recv_len = 0;
		done(x, arg);
	}
	while (m->q_len > 0) {
		struct rfs_xfer *x = m->queue[m->q_head++];

		m->q_len--;
		x->result = -EIO;
		done(x, arg);
	}
	m->q_head = 0;
}

int rfs_httpc_multi_run(struct rfs_httpc_multi *m, rfs_xfer_done_cb done,
			void *arg)
{
	CURLMcode mc;
	int running;

	for (;;) {
		multi_fill(m, done, arg);
		if (m->active == 0) {
			if (m->q_len == 0)
				return 0;
			continue; /* done callbacks of failed starts added */
		}
		mc = curl_multi_perform(m->multi, &running);
		if (mc != CURLM_OK)
			break;
		if (multi_collect(m, done, arg) > 0)
			continue; /* start what was queued before waiting */
		mc =
		    curl_multi_poll(m->multi, NULL, 0, RFS_HTTPC_POLL_MS, NULL);
		if (mc != CURLM_OK)
			break;
	}
	multi_abort(m, done, arg);
	return mc == CURLM_OUT_OF_MEMORY ? -ENOMEM : -EIO;
}
