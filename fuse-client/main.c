/*
 * ringfs-mount: mount a ringfs cluster with FUSE.
 *
 *   ringfs-mount [-f] [-d] [-s] [-o OPT[,OPT...]] META_ADDR MOUNTPOINT
 *
 * Start-up order: options, logging (the log file is opened here, so a bad
 * path fails before anything else), the client (checked against the
 * metaserver before mounting, so a wrong address fails here and not at the
 * first ls), the open-file table, the FUSE session with its signal
 * handlers (SIGINT/SIGTERM/SIGHUP unmount cleanly), the mount, then the
 * move to the background (after the mount, so its errors are still seen)
 * and only then stderr onto the log file.
 */
#include <config.h>

#include "fuse-client/bcache.h"
#include "fuse-client/fc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"

/* How long metadata calls keep retrying while no metaserver answers
 * before the operation fails with EIO: 30 s rides out a metaserver
 * restart without hanging an application for long. */
#define FC_META_RETRY_DEFAULT_S 30.0
#define FC_MS_PER_S		1000.0
/* Idle worker threads kept when -o max_idle_threads is not given
 * (libfuse's own default; its option parser leaves UINT_MAX for "unset"). */
#define FC_IDLE_THREADS_DEFAULT 10

struct fc_opts {
	char *meta;
	double attr_timeout;
	double entry_timeout;
	double meta_retry;
	unsigned int parallel;
	char *log_level;
	char *log_file;
	int allow_root;	 /* -o allow_root seen (excludes allow_other) */
	int sync_close;	 /* -o sync_close: close() makes data durable */
	int sync_unlink; /* -o sync_unlink: no unlink queue */
	char *readahead; /* -o readahead=BYTES|auto, NULL: auto */
	uint64_t ra_bytes;
	char *block_cache; /* -o block_cache=BYTES, NULL: the default */
	uint64_t bc_bytes;
};

/* Keys of the options opt_proc looks at and passes on to libfuse. */
#define FC_KEY_ALLOW_ROOT 1
/* Mode of a log file ringfs-mount creates. */
#define FC_LOG_FILE_MODE 0640

#define FC_OPT(t, p)                                                           \
	{                                                                      \
		t, offsetof(struct fc_opts, p), 0                              \
	}
static const struct fuse_opt fc_opt_spec[] = {
    FC_OPT("attr_timeout=%lf", attr_timeout),
    FC_OPT("entry_timeout=%lf", entry_timeout),
    FC_OPT("meta_retry=%lf", meta_retry),
    FC_OPT("parallel=%u", parallel),
    FC_OPT("log_level=%s", log_level),
    FC_OPT("log_file=%s", log_file),
    FC_OPT("readahead=%s", readahead),
    FC_OPT("block_cache=%s", block_cache),
    {"sync_close", offsetof(struct fc_opts, sync_close), 1},
    {"sync_unlink", offsetof(struct fc_opts, sync_unlink), 1},
    FUSE_OPT_KEY("allow_root", FC_KEY_ALLOW_ROOT),
    FUSE_OPT_END,
};

static void usage(const char *prog)
{
	printf(
	    "usage: %s [options] META_ADDR MOUNTPOINT\n\n"
	    "Mount the ringfs cluster whose metaserver is META_ADDR\n"
	    "(HOST:PORT[,HOST:PORT...]) at MOUNTPOINT.\n\n"
	    "ringfs options:\n"
	    "    -o attr_timeout=S      cache attributes S seconds (1)\n"
	    "    -o entry_timeout=S     cache names S seconds (1)\n"
	    "    -o meta_retry=S        retry metadata calls S seconds "
	    "while no\n"
	    "                           metaserver answers, then EIO (30)\n"
	    "    -o parallel=N          chunk transfers in flight per "
	    "thread (%d)\n"
	    "    -o log_level=LEVEL     error, warn, info or debug (warn)\n"
	    "    -o log_file=PATH       append log lines to PATH once mounted\n"
	    "                           (without it a daemon logs nowhere;\n"
	    "                           with -f they go to stderr)\n"
	    "    -o readahead=BYTES     read ahead BYTES (K, M suffixes, at "
	    "most %uM)\n"
	    "                           past the kernel's own read-ahead "
	    "with\n"
	    "                           threads of the mount; 0: off; auto "
	    "(the\n"
	    "                           default): off when the kernel's is "
	    "raised\n"
	    "                           to %uM (root), else %uM\n"
	    "    -o block_cache=BYTES   keep the 64K blocks small reads "
	    "fetch,\n"
	    "                           up to BYTES (K, M suffixes, at most "
	    "%uM;\n"
	    "                           0: off; default %uM)\n"
	    "    -o sync_close          close() makes the data durable on\n"
	    "                           the chunk servers, as fsync() does\n"
	    "                           (default: only fsync() does)\n"
	    "    -o sync_unlink         unlink() waits for the metaserver\n"
	    "                           (default: while no file is open on\n"
	    "                           the mount, unlinks are answered at\n"
	    "                           once and run in the background, %d\n"
	    "                           at a time; the next op on names\n"
	    "                           waits for them)\n\n"
	    "Run as root, ringfs-mount adds allow_other (every user may enter\n"
	    "the mount; default_permissions checks their rights) unless\n"
	    "allow_root is given.\n\n",
	    prog, RFS_CLIENT_PARALLEL_DEFAULT, FC_RA_BUDGET_BYTES >> 20,
	    FC_RA_KERNEL_BYTES >> 20, FC_RA_WINDOW_BYTES >> 20,
	    FC_BCACHE_MAX_BYTES >> 20, FC_BCACHE_DEFAULT_BYTES >> 20,
	    FC_UNLINKQ_THREADS);
	fuse_cmdline_help();
	fuse_lowlevel_help();
}

/* The first non-option argument is the metaserver; the next one is left
 * for fuse_parse_cmdline (the mount point). */
static int opt_proc(void *data, const char *arg, int key,
		    struct fuse_args *outargs)
{
	struct fc_opts *o = data;

	if (key == FC_KEY_ALLOW_ROOT)
		o->allow_root = 1;
	if (key != FUSE_OPT_KEY_NONOPT || o->meta)
		return 1;
	o->meta = strdup(arg);
	return o->meta ? 0 : -1;
}

/* BYTES with an optional K, M or G suffix (powers of 1024). Returns 0 or
 * -EINVAL. */
static int parse_bytes(const char *s, uint64_t *out)
{
	char *end = NULL;
	unsigned long long v;
	unsigned int shift = 0;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *s == '-')
		return -EINVAL;
	if (*end == 'K' || *end == 'k')
		shift = 10;
	else if (*end == 'M' || *end == 'm')
		shift = 20;
	else if (*end == 'G' || *end == 'g')
		shift = 30;
	if (shift)
		end++;
	if (*end != '\0' || v > (UINT64_MAX >> shift))
		return -EINVAL;
	*out = (uint64_t)v << shift;
	return 0;
}

/* -o NAME=VAL, a byte count of at most max; else a message naming the
 * option (what else it takes: extra) and -EINVAL. */
static int size_opt(const char *name, const char *val, uint64_t max,
		    const char *extra, uint64_t *out)
{
	if (parse_bytes(val, out) == 0 && *out <= max)
		return 0;
	fprintf(stderr,
		"ringfs-mount: bad %s '%s' (%sBYTES with a K or M suffix, 0 "
		"to %lluM)\n",
		name, val, extra, (unsigned long long)(max >> 20));
	return -EINVAL;
}

/* -o fsname=META with the commas of an address list escaped. */
static int add_fsname(struct fuse_args *args, const char *meta)
{
	char buf[RFS_CLIENT_META_ADDRS_MAX * (RFS_ADDR_MAX + 2) + 16];
	size_t n = 0;
	const char *p;

	n = (size_t)snprintf(buf, sizeof(buf), "-ofsname=");
	for (p = meta; *p && n + 3 < sizeof(buf); p++) {
		if (*p == ',' || *p == '\\')
			buf[n++] = '\\';
		buf[n++] = *p;
	}
	if (*p)
		return -1;
	buf[n] = '\0';
	return fuse_opt_add_arg(args, buf);
}

/* Parse everything; 0 to go on, else the exit status (help, version and
 * usage errors end here). */
static int parse_args(struct fuse_args *args, struct fc_opts *o,
		      struct fuse_cmdline_opts *co)
{
	if (fuse_opt_parse(args, o, fc_opt_spec, opt_proc) != 0 ||
	    fuse_parse_cmdline(args, co) != 0)
		return 2;
	if (co->show_help) {
		usage(args->argv[0]);
		return 0;
	}
	if (co->show_version) {
		printf("ringfs-mount %s (libfuse %s)\n", PACKAGE_VERSION,
		       fuse_pkgversion());
		return 0;
	}
	if (!o->meta || !co->mountpoint) {
		fprintf(stderr,
			"usage: %s [options] META_ADDR MOUNTPOINT "
			"(see --help)\n",
			args->argv[0]);
		return 2;
	}
	o->ra_bytes = FC_RA_AUTO;
	if (o->readahead && strcmp(o->readahead, "auto") != 0 &&
	    size_opt("readahead", o->readahead, FC_RA_BUDGET_BYTES, "auto, or ",
		     &o->ra_bytes) < 0)
		return 2;
	o->bc_bytes = FC_BCACHE_DEFAULT_BYTES;
	if (o->block_cache &&
	    size_opt("block_cache", o->block_cache, FC_BCACHE_MAX_BYTES, "",
		     &o->bc_bytes) < 0)
		return 2;
	if (o->attr_timeout < 0 || o->entry_timeout < 0 || o->meta_retry < 0 ||
	    o->parallel > RFS_CLIENT_PARALLEL_MAX) {
		fprintf(stderr, "ringfs-mount: option out of range\n");
		return 2;
	}
	if (fuse_opt_add_arg(args, "-odefault_permissions") != 0 ||
	    fuse_opt_add_arg(args, "-osubtype=ringfs") != 0 ||
	    add_fsname(args, o->meta) != 0)
		return 1;
	/* a root mount is for everybody, as a kernel file system is */
	if (geteuid() == 0 && !o->allow_root &&
	    fuse_opt_add_arg(args, "-oallow_other") != 0)
		return 1;
	return -1;
}

/* The level, and the log file opened for appending (*fd, else -1). */
static int setup_logging(const struct fc_opts *o, bool debug, int *fd)
{
	enum rfs_log_level level = debug ? RFS_LOG_DEBUG : RFS_LOG_WARN;

	*fd = -1;
	if (o->log_level && rfs_log_level_parse(o->log_level, &level) < 0) {
		fprintf(stderr,
			"ringfs-mount: bad log_level '%s' "
			"(error, warn, info or debug)\n",
			o->log_level);
		return -EINVAL;
	}
	rfs_log_setup("ringfs-mount", level);
	if (!o->log_file)
		return 0;
	*fd = open(o->log_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
		   FC_LOG_FILE_MODE);
	if (*fd < 0) {
		int err = errno;

		fprintf(stderr, "ringfs-mount: cannot open log_file %s: %s\n",
			o->log_file, strerror(err));
		return -err;
	}
	return 0;
}

/* From here on, log lines (ours and libfuse's, all on stderr) go to the
 * log file when there is one. */
static void start_log_file(int fd)
{
	if (fd >= 0 && dup2(fd, STDERR_FILENO) < 0)
		rfs_log_warn(NULL, "msg=\"cannot log to log_file\" err=%d",
			     errno);
}

/* The client, checked against the metaserver (it also tells the chunk
 * size), and the open-file table. */
static int setup_client(const struct fc_opts *o, struct fc_ctx *fc)
{
	struct rfs_client_opts copts = {0};
	int rc;

	copts.meta = o->meta;
	copts.retry_ms = (long)(o->meta_retry * FC_MS_PER_S);
	rc = rfs_client_new(&copts, &fc->c);
	if (rc < 0) {
		fprintf(stderr,
			"ringfs-mount: invalid metaserver address "
			"'%s' (expected HOST:PORT)\n",
			o->meta);
		return rc;
	}
	rc = rfs_client_chunk_size(fc->c, &fc->chunk_size);
	if (rc < 0) {
		fprintf(stderr,
			"ringfs-mount: cannot reach the metaserver at %s: %s "
			"(is ringfs-meta running?)\n",
			o->meta, strerror(-rc));
		return rc;
	}
	rc = fc_files_new(fc->c, fc->chunk_size, o->parallel, &fc->files);
	if (rc < 0)
		fprintf(stderr, "ringfs-mount: %s\n", strerror(-rc));
	else
		fc_files_set_sync_close(fc->files, o->sync_close != 0);
	/* in range: parse_args checked it */
	if (rc == 0)
		rc = fc_files_set_readahead(fc->files, o->ra_bytes);
	if (rc == 0)
		rc = fc_files_set_block_cache(fc->files, o->bc_bytes);
	return rc;
}

static int run_session(struct fuse_args *args, struct fuse_cmdline_opts *co,
		       struct fc_ctx *fc, int log_fd)
{
	struct fuse_loop_config lc = {0};
	struct fuse_session *se;
	int rc = 1;

	se = fuse_session_new(args, &fc_ops, sizeof(fc_ops), fc);
	if (!se)
		return 1;
	fc->se = se;
	if (fuse_set_signal_handlers(se) != 0)
		goto out_destroy;
	if (fuse_session_mount(se, co->mountpoint) != 0)
		goto out_remove_handlers;
	/* best effort: only for raising the kernel's read-ahead */
	(void)fc_files_set_mountpoint(fc->files, co->mountpoint);
	fuse_daemonize(co->foreground);
	start_log_file(log_fd);
	rfs_log_info(NULL, "msg=\"mounted\" mountpoint=\"%s\" pid=%ld",
		     co->mountpoint, (long)getpid());
	if (co->singlethread) {
		rc = fuse_session_loop(se);
	} else {
		lc.clone_fd = co->clone_fd;
		lc.max_idle_threads = co->max_idle_threads == UINT_MAX
					  ? FC_IDLE_THREADS_DEFAULT
					  : co->max_idle_threads;
		rc = fuse_session_loop_mt(se, &lc);
	}
	/* the loop reports the signal that ended it: a clean unmount */
	rc = (rc == 0 || rc == SIGINT || rc == SIGTERM || rc == SIGHUP) ? 0 : 1;
	fuse_session_unmount(se);
	rfs_log_info(NULL, "msg=\"unmounted\" mountpoint=\"%s\" status=%d",
		     co->mountpoint, rc);
out_remove_handlers:
	fuse_remove_signal_handlers(se);
out_destroy:
	fuse_session_destroy(se);
	return rc;
}

int main(int argc, char **argv)
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct fc_opts o = {.attr_timeout = FC_TIMEOUT_DEFAULT_S,
			    .entry_timeout = FC_TIMEOUT_DEFAULT_S,
			    .meta_retry = FC_META_RETRY_DEFAULT_S};
	struct fuse_cmdline_opts co = {0};
	struct fc_ctx fc = {0};
	int log_fd = -1;
	int rc;

	rc = parse_args(&args, &o, &co);
	if (rc >= 0)
		goto out_free_args;
	rc = 1;
	if (setup_logging(&o, co.debug, &log_fd) < 0 ||
	    setup_client(&o, &fc) < 0)
		goto out_free_client;
	fc.attr_timeout = o.attr_timeout;
	fc.entry_timeout = o.entry_timeout;
	fc.sync_unlink = o.sync_unlink != 0;
	rc = run_session(&args, &co, &fc, log_fd);
out_free_client:
	fc_files_free(fc.files);
	rfs_client_free(fc.c);
	if (log_fd >= 0)
		close(log_fd);
out_free_args:
	free(co.mountpoint);
	free(o.meta);
	free(o.log_level);
	free(o.log_file);
	free(o.readahead);
	free(o.block_cache);
	fuse_opt_free_args(&args);
	return rc;
}
