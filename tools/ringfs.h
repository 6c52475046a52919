/*
 * ringfs: the shared context of the CLI's files. ringfs.c is the program's
 * main (options, client, dispatch, messages, progress bar);
 * ringfs-xfer.c holds put/get/cat and ringfs-ns.c the namespace commands.
 * Commands write results to cli->out and messages to cli->err only through
 * the helpers below, and return 0 or a negative errno (already reported).
 */
#ifndef RFS_TOOLS_RINGFS_H
#define RFS_TOOLS_RINGFS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "client/client.h"
#include "tools/ringfs-opts.h"

struct rcli_progress {
	bool enabled; /* stderr is a terminal and not -q */
	bool shown;   /* a line is on screen */
	char label[64];
	double start_s;
	double last_s;
	uint64_t done; /* latest numbers, for the final line */
	uint64_t total;
};

struct rcli {
	struct rfs_client *c;
	const struct rcli_opts *o;
	const char *cmd; /* command name for messages */
	FILE *out;
	FILE *err;
	uint32_t uid;
	uint32_t gid;
	struct rcli_progress progress;
};

/*
 * "ringfs: CMD: WHAT: strerror (ENAME: server message)" plus a hint when
 * the metaserver or a chunk server was unreachable. rc < 0. Returns rc.
 */
int rcli_error(struct rcli *cli, const char *what, int rc);
/* Same for a local failure (no server message). Returns rc. */
int rcli_local_error(struct rcli *cli, const char *what, int rc);
/* "ringfs: CMD: WHAT: text" for a usage-level problem. Returns rc. */
int rcli_fail(struct rcli *cli, const char *what, int rc, const char *text);
/* "ringfs: warning: ..." (printf-style). */
void rcli_warn(struct rcli *cli, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Transfer options wired to the progress bar and fault warnings. */
void rcli_transfer_opts(struct rcli *cli, const char *label,
			struct rfs_transfer_opts *o);
/* Close the progress line: final state (ok) or cleared (failure). */
void rcli_progress_end(struct rcli *cli, bool ok);

int rcli_cmd_put(struct rcli *cli);
int rcli_cmd_get(struct rcli *cli);
int rcli_cmd_cat(struct rcli *cli);
int rcli_cmd_ls(struct rcli *cli);
int rcli_cmd_stat(struct rcli *cli);
int rcli_cmd_mkdir(struct rcli *cli);
int rcli_cmd_rm(struct rcli *cli);
int rcli_cmd_mv(struct rcli *cli);

#endif
