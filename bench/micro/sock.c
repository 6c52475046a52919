/*
 * The loopback TCP ceiling for the chunk group: a sender and a receiver
 * thread in this process move the same bytes as one chunk transfer over
 * one 127.0.0.1 connection with plain write() and read() into a buffer of
 * the chunk's size, the receiver answering each chunk with one byte (as a
 * server answers a request). No HTTP, no checksums, no disk: what the
 * kernel's loopback path allows one stream on this machine.
 */
#include <config.h>
#include "bench/micro/micro.h"

#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/errors.h"

/* Most chunks moved in one sample, however fast: bounds the run. */
#define MB_SOCK_OPS_MAX 256
#define MB_SOCK_SEED	0x736f636bULL

struct sock_bench {
	struct mb_ctx *ctx;
	int lfd;
	void *send;
	void *recv;
	pthread_t tid;
	int rc; /* receiver's failure */
};

/* Read exactly len bytes; 0, -EPIPE on EOF at the start (*eof set) or in
 * the middle, or a negative errno. */
static int read_full(int fd, void *buf, size_t len, bool *eof)
{
	size_t got = 0;

	*eof = false;
	while (got < len) {
		ssize_t n = read(fd, (char *)buf + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0) {
			*eof = got == 0;
			return -EPIPE;
		}
		got += (size_t)n;
	}
	return 0;
}

static int write_full(int fd, const void *buf, size_t len)
{
	size_t put = 0;

	while (put < len) {
		ssize_t n = write(fd, (const char *)buf + put, len - put);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		put += (size_t)n;
	}
	return 0;
}

/* Receive chunks and ack each until the sender closes. */
static void *receiver_main(void *arg)
{
	struct sock_bench *s = arg;
	const char ack = 1;
	bool eof = false;
	int fd;

	fd = accept(s->lfd, NULL, NULL);
	if (fd < 0) {
		s->rc = -errno;
		return NULL;
	}
	for (;;) {
		s->rc = read_full(fd, s->recv, s->ctx->size, &eof);
		if (s->rc < 0)
			break;
		s->rc = write_full(fd, &ack, 1);
		if (s->rc < 0)
			break;
	}
	if (eof)
		s->rc = 0;
	close(fd);
	return NULL;
}

/* A listening socket on 127.0.0.1 with a kernel-chosen port, in *addr. */
static int listener_open(struct sock_bench *s, struct sockaddr_in *addr)
{
	socklen_t len = sizeof(*addr);

	s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->lfd < 0)
		return -errno;
	memset(addr, 0, sizeof(*addr));
	addr->sin_family = AF_INET;
	addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(s->lfd, (struct sockaddr *)addr, sizeof(*addr)) < 0 ||
	    listen(s->lfd, 1) < 0 ||
	    getsockname(s->lfd, (struct sockaddr *)addr, &len) < 0)
		return -errno;
	return 0;
}

/* reps samples of MB/s over the connected fd. */
static int send_samples(struct sock_bench *s, int fd, struct mb_result *r)
{
	size_t size = s->ctx->size;
	bool eof;
	char ack;
	int rc = 0;

	for (unsigned int i = 0; i < s->ctx->reps && rc == 0; i++) {
		unsigned int ops = 0;
		double t0 = mb_now();
		double t;

		do {
			rc = write_full(fd, s->send, size);
			if (rc == 0)
				rc = read_full(fd, &ack, 1, &eof);
			ops++;
			t = mb_now() - t0;
		} while (rc == 0 && t < s->ctx->min_time_s &&
			 ops < MB_SOCK_OPS_MAX);
		r->samples[r->n++] = (double)ops * (double)size / t / 1e6;
	}
	return rc;
}

/* Connect to the receiver and send; the receiver thread runs meanwhile. */
static int sock_run(struct sock_bench *s, const struct sockaddr_in *addr,
		    struct mb_result *r)
{
	int fd;
	int rc;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 ||
	    connect(fd, (const struct sockaddr *)addr, sizeof(*addr)) < 0) {
		rc = -errno;
		/* wakes the receiver's accept() with an error */
		shutdown(s->lfd, SHUT_RDWR);
		goto out_close_fd;
	}
	rc = send_samples(s, fd, r);
out_close_fd:
	if (fd >= 0)
		close(fd);
	pthread_join(s->tid, NULL);
	return rc < 0 ? rc : s->rc;
}

int mb_sock_measure(struct mb_ctx *ctx, struct mb_result *r)
{
	struct sock_bench s = {.ctx = ctx, .lfd = -1};
	struct sockaddr_in addr;
	int rc;

	s.send = malloc(ctx->size);
	s.recv = malloc(ctx->size);
	if (!s.send || !s.recv) {
		rc = -ENOMEM;
		goto out_free;
	}
	mb_fill(s.send, ctx->size, MB_SOCK_SEED);
	/* fault the pages in now, not during the first sample */
	memset(s.recv, 0, ctx->size);
	rc = listener_open(&s, &addr);
	if (rc < 0)
		goto out_close_listener;
	rc = -pthread_create(&s.tid, NULL, receiver_main, &s);
	if (rc < 0)
		goto out_close_listener;
	rc = sock_run(&s, &addr, r);
out_close_listener:
	if (s.lfd >= 0)
		close(s.lfd);
out_free:
	free(s.recv);
	free(s.send);
	if (rc < 0)
		snprintf(ctx->err, sizeof(ctx->err), "loopback TCP ceiling: %s",
			 rfs_errno_name(rc));
	return rc;
}
