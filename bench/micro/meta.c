/*
 * The meta group: metadata ops/s straight against the metaserver's HTTP
 * API, no FUSE. For each client count M, every sample makes a fresh
 * directory and runs three timed phases over N files: create (O_EXCL),
 * getattr (stat by inode) and unlink. The files are split round-robin
 * over M threads, each with its own struct rfs_client (its own keep-alive
 * connection), all in the one directory. A phase's time runs from starting
 * the threads to the last one finishing.
 */
#include <config.h>
#include "bench/micro/micro.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/client.h"
#include "common/errors.h"

#define MB_META_FILE_MODE 0644
#define MB_META_DIR_MODE  0755
/* How long a call keeps retrying while the metaserver does not answer:
 * long enough to ride out a slow start, short enough to fail a run. */
#define MB_META_RETRY_MS 5000
#define MB_META_NAME_MAX 24

enum meta_phase {
	MB_PHASE_CREATE = 0,
	MB_PHASE_GETATTR,
	MB_PHASE_UNLINK,
	MB_PHASE_COUNT,
};

static const char *const phase_names[MB_PHASE_COUNT] = {"create", "getattr",
							"unlink"};

struct meta_bench;

struct meta_worker {
	struct meta_bench *b;
	struct rfs_client *c;
	unsigned int index;
	pthread_t tid;
	int rc;		   /* first failure of the phase */
	unsigned int file; /* the file it failed on */
};

struct meta_bench {
	struct mb_ctx *ctx;
	struct meta_worker *w;
	unsigned int nw;
	enum meta_phase phase;
	uint64_t dir;	/* this sample's directory */
	uint64_t *inos; /* [files], filled by create */
};

static int file_op(struct meta_worker *w, unsigned int i)
{
	struct meta_bench *b = w->b;
	struct rfs_attr a;
	char name[MB_META_NAME_MAX];
	int rc;

	snprintf(name, sizeof(name), "f%07u", i);
	switch (b->phase) {
	case MB_PHASE_CREATE:
		rc = rfs_client_create(w->c, b->dir, name, MB_META_FILE_MODE,
				       getuid(), getgid(), RFS_CREATE_EXCL, &a);
		if (rc == 0)
			b->inos[i] = a.ino;
		return rc;
	case MB_PHASE_GETATTR:
		return rfs_client_getattr(w->c, b->inos[i], &a);
	case MB_PHASE_UNLINK:
		return rfs_client_unlink(w->c, b->dir, name);
	default:
		return -EINVAL;
	}
}

static void *worker_main(void *arg)
{
	struct meta_worker *w = arg;

	w->rc = 0;
	for (unsigned int i = w->index; i < w->b->ctx->files; i += w->b->nw) {
		w->rc = file_op(w, i);
		if (w->rc < 0) {
			w->file = i;
			break;
		}
	}
	return NULL;
}

/* The first failure of the phase, as a message in ctx->err. */
static int phase_error(struct meta_bench *b)
{
	for (unsigned int k = 0; k < b->nw; k++) {
		struct meta_worker *w = &b->w[k];
		struct rfs_client_error e;

		if (w->rc == 0)
			continue;
		rfs_client_last_error(w->c, &e);
		snprintf(b->ctx->err, sizeof(b->ctx->err),
			 "%s of file f%07u: %s%s%s", phase_names[b->phase],
			 w->file, rfs_errno_name(w->rc),
			 e.message[0] ? ": " : "", e.message);
		return w->rc;
	}
	return 0;
}

/* Run one phase on every worker; *secs is its wall time. */
static int phase_run(struct meta_bench *b, enum meta_phase phase, double *secs)
{
	unsigned int started = 0;
	double t0;
	int rc = 0;

	b->phase = phase;
	t0 = mb_now();
	for (; started < b->nw; started++) {
		rc = -pthread_create(&b->w[started].tid, NULL, worker_main,
				     &b->w[started]);
		if (rc < 0) {
			snprintf(b->ctx->err, sizeof(b->ctx->err),
				 "cannot start a thread: %s",
				 rfs_errno_name(rc));
			break;
		}
	}
	for (unsigned int k = 0; k < started; k++)
		pthread_join(b->w[k].tid, NULL);
	*secs = mb_now() - t0;
	return rc < 0 ? rc : phase_error(b);
}

/* One sample: a fresh directory, the three phases, the directory removed. */
static int sample_run(struct meta_bench *b, unsigned int rep,
		      struct mb_result *res)
{
	struct rfs_client *c = b->w[0].c;
	struct rfs_attr dir;
	char name[MB_META_NAME_MAX];
	double secs;
	int rc;

	snprintf(name, sizeof(name), "micro-%u-%u-%u", (unsigned int)getpid(),
		 b->nw, rep);
	rc = rfs_client_mkdir(c, RFS_ROOT_INO, name, MB_META_DIR_MODE, getuid(),
			      getgid(), &dir);
	if (rc < 0) {
		snprintf(b->ctx->err, sizeof(b->ctx->err), "mkdir /%s: %s",
			 name, rfs_errno_name(rc));
		return rc;
	}
	b->dir = dir.ino;
	for (int p = 0; p < MB_PHASE_COUNT; p++) {
		rc = phase_run(b, (enum meta_phase)p, &secs);
		if (rc < 0)
			return rc; /* the directory is left; the run's is temp */
		res[p].samples[res[p].n++] = (double)b->ctx->files / secs;
	}
	rc = rfs_client_rmdir(c, RFS_ROOT_INO, name);
	if (rc < 0)
		snprintf(b->ctx->err, sizeof(b->ctx->err), "rmdir /%s: %s",
			 name, rfs_errno_name(rc));
	return rc;
}

static void workers_free(struct meta_bench *b)
{
	for (unsigned int k = 0; k < b->nw; k++)
		rfs_client_free(b->w[k].c);
	free(b->w);
	b->w = NULL;
	b->nw = 0;
}

/* nw workers, each with a client whose connection is already open. */
static int workers_make(struct meta_bench *b, unsigned int nw)
{
	struct rfs_client_opts o = {.meta = b->ctx->meta,
				    .retry_ms = MB_META_RETRY_MS};
	struct rfs_statfs st;
	int rc = 0;

	b->w = calloc(nw, sizeof(*b->w));
	if (!b->w)
		return -ENOMEM;
	for (; b->nw < nw; b->nw++) {
		struct meta_worker *w = &b->w[b->nw];

		w->b = b;
		w->index = b->nw;
		rc = rfs_client_new(&o, &w->c);
		if (rc < 0)
			break;
		rc = rfs_client_statfs(w->c, &st);
		if (rc < 0) {
			b->nw++; /* so workers_free frees this client */
			break;
		}
	}
	if (rc < 0) {
		snprintf(b->ctx->err, sizeof(b->ctx->err),
			 "cannot reach the metaserver at %s: %s", b->ctx->meta,
			 rfs_errno_name(rc));
		workers_free(b);
	}
	return rc;
}

static int clients_run(struct meta_bench *b, unsigned int nw)
{
	struct mb_ctx *ctx = b->ctx;
	struct mb_result res[MB_PHASE_COUNT];
	struct mb_result label;
	char params[MB_PARAMS_MAX];
	int rc;

	rc = workers_make(b, nw);
	if (rc < 0)
		return rc;
	snprintf(params, sizeof(params), "files=%u,clients=%u", ctx->files, nw);
	for (int p = 0; p < MB_PHASE_COUNT; p++)
		mb_result_init(&res[p], "meta", phase_names[p], params,
			       "ops/s");
	mb_result_init(&label, "meta", "create+getattr+unlink", params, "");
	if (ctx->progress)
		ctx->progress(&label, ctx->arg);
	for (unsigned int rep = 0; rep < ctx->reps && rc == 0; rep++)
		rc = sample_run(b, rep, res);
	if (rc == 0)
		for (int p = 0; p < MB_PHASE_COUNT; p++)
			ctx->report(&res[p], ctx->arg);
	workers_free(b);
	return rc;
}

int mb_meta_run(struct mb_ctx *ctx)
{
	struct meta_bench b = {.ctx = ctx};
	int rc = 0;

	b.inos = calloc(ctx->files ? ctx->files : 1, sizeof(*b.inos));
	if (!b.inos) {
		snprintf(ctx->err, sizeof(ctx->err), "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < ctx->n_clients && rc == 0; i++)
		rc = clients_run(&b, ctx->clients[i]);
	free(b.inos);
	return rc;
}
