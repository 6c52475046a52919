/*
 * micro: ringfs-micro, micro-benchmarks of the hot paths (issue 5). One
 * program, one subcommand per group; bench/micro/run starts the servers
 * the network groups need and turns the results into a table or JSON.
 *
 *  - ring  (ring.c):  rfs_ring_new build time and rfs_ring_lookup ns/op
 *                     for several server counts, plus rfs_ring_key alone;
 *  - crc   (crc.c):   CRC32C GB/s over a 64 KiB block, a 1 MiB buffer and
 *                     the per-block checksums of a 64 MiB chunk;
 *  - meta  (meta.c):  create / getattr / unlink ops/s of N files by M
 *                     threads, each with its own rfs_client, against a
 *                     running metaserver;
 *  - chunk (chunk.c): chunk server PUT (with and without fsync) and GET
 *                     MB/s of one chunk over one keep-alive connection,
 *                     next to a raw loopback TCP ceiling (sock.c) moving
 *                     the same bytes with write/read.
 *
 * Every measurement is taken reps times (one sample each) and handed to a
 * report callback; nothing here prints or asserts on timings. CPU loops run
 * for at least min_time_s per sample so short operations are timed over
 * many calls. A group returns 0 or a negative errno and then leaves a
 * message in ctx->err.
 */
#ifndef RFS_BENCH_MICRO_H
#define RFS_BENCH_MICRO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Most samples per measurement (--reps); enough for a stable median. */
#define MB_REPS_MAX 32
/* Most server counts for the ring group, and most client counts. */
#define MB_LIST_MAX   8
#define MB_NAME_MAX   32
#define MB_PARAMS_MAX 96
/* room for a server message (RFS_ERR_MESSAGE_MAX) and a URL */
#define MB_ERR_MAX 2048

/* One measurement: reps samples of one quantity. */
struct mb_result {
	char group[MB_NAME_MAX];    /* "ring", "crc", "meta", "chunk" */
	char name[MB_NAME_MAX];	    /* "lookup", "put", ... */
	char params[MB_PARAMS_MAX]; /* "servers=10,vnodes=2048" */
	const char *unit;	    /* "ns/op", "GB/s", "ops/s", "MB/s", "ms" */
	double samples[MB_REPS_MAX];
	unsigned int n; /* samples taken */
};

/* Called once per finished measurement; r is borrowed for the call. */
typedef void (*mb_report_cb)(const struct mb_result *r, void *arg);
/* Called before a measurement starts (r: its names, no samples yet). */
typedef void (*mb_progress_cb)(const struct mb_result *r, void *arg);

struct mb_ctx {
	/* common */
	unsigned int reps; /* 1..MB_REPS_MAX */
	double min_time_s; /* least time per sample of a timed loop */
	mb_report_cb report;
	mb_progress_cb progress; /* may be NULL */
	void *arg;		 /* for both callbacks */
	/* ring */
	size_t servers[MB_LIST_MAX];
	size_t n_servers;
	/* meta */
	const char *meta; /* "host:port" */
	unsigned int files;
	unsigned int clients[MB_LIST_MAX];
	size_t n_clients;
	/* chunk */
	const char *chunk; /* "host:port" */
	size_t size;	   /* bytes per chunk, 1..RFS_CHUNK_SIZE_MAX */
	/* out */
	char err[MB_ERR_MAX]; /* why a group failed */
};

/* Seconds on the monotonic clock. */
double mb_now(void);

/* Median, minimum and maximum of v[0..n), n >= 1; v is not changed. */
void mb_stats(const double *v, unsigned int n, double *median, double *min,
	      double *max);

/* Start a result: copies group/name/params (truncated to fit), n = 0. */
void mb_result_init(struct mb_result *r, const char *group, const char *name,
		    const char *params, const char *unit);

/* Next value of a xorshift64 generator (*state != 0). Deterministic. */
uint64_t mb_rand(uint64_t *state);
/* Fill buf with mb_rand bytes. */
void mb_fill(void *buf, size_t len, uint64_t seed);
/* A byte count as "64MiB", "4KiB" or "1000B" into out; returns out. */
char *mb_size_str(size_t bytes, char *out, size_t outlen);
/* Store v where the compiler must assume it is read, so the loop that
 * computed it cannot be optimised away. */
void mb_keep(uint64_t v);

/*
 * The groups. Each reports its measurements through ctx->report and
 * returns 0, or a negative errno with a message in ctx->err (measurements
 * reported before the failure stay valid).
 */
int mb_ring_run(struct mb_ctx *ctx);
int mb_crc_run(struct mb_ctx *ctx);
int mb_meta_run(struct mb_ctx *ctx);
int mb_chunk_run(struct mb_ctx *ctx);

/*
 * The loopback TCP ceiling: reps samples of MB/s moving size bytes from a
 * sender to a receiver thread over one 127.0.0.1 connection (write/read,
 * one ack byte per size bytes), each sample at least min_time_s long.
 * Fills r. Returns 0 or a negative errno (message in ctx->err).
 */
int mb_sock_measure(struct mb_ctx *ctx, struct mb_result *r);

#endif
