/*
 * client-int: declarations shared by the files of client/ and nobody else
 * (the FUSE client and tools use client/client.h only).
 */
#ifndef RFS_CLIENT_CLIENT_INT_H
#define RFS_CLIENT_CLIENT_INT_H

#include <stdbool.h>

#include "client/client.h"
#include "common/httpc.h"

/*
 * Remember a failure for rfs_client_last_error(). addr and message may be
 * NULL. Thread-safe.
 */
void rfs_client_note_error(struct rfs_client *c, int err, bool from_meta,
			   const char *addr, const char *message);

/* The HTTP options every connection of this client uses. */
void rfs_client_httpc_opts(const struct rfs_client *c,
			   struct rfs_httpc_opts *out);

/* Pass the "dirs" of a namespace change's reply body to the callback of
 * rfs_client_set_dirs_cb, if any. */
void rfs_client_notify_dirs(struct rfs_client *c, const char *body, size_t len);

/* Pass op to the callback of rfs_client_set_op_cb, if any. */
void rfs_client_notify_op(struct rfs_client *c, const struct rfs_op *op);

/* Chunks in flight for a transfer: o->parallel, defaulted and capped. */
unsigned int rfs_transfer_parallel(const struct rfs_transfer_opts *o);

#endif
