/*
 * fuse-ceiling: the fastest possible FUSE file system, for measuring what
 * the kernel's FUSE transport itself allows on a machine.
 *
 * It exposes one read-only 4 GiB file, "big", whose reads are answered
 * from a static buffer, so no disk, network or copy of ours is involved.
 * A read benchmark on it is the ceiling any FUSE client can reach here.
 *
 * Build: cc -O2 -Wall fuse-ceiling.c $(pkg-config --cflags --libs fuse3) -o fuse-ceiling
 * Use:   ./fuse-ceiling [-s] [-o max_write_kib=N] MOUNTPOINT    (then e.g.
 *        dd if=MOUNTPOINT/big of=/dev/null bs=1M count=2048 [iflag=direct]);
 *        fusermount3 -u MOUNTPOINT to stop.
 * Measured on the 2-core project machine: ~1.4-1.5 GB/s buffered reads,
 * ~5 GB/s with O_DIRECT and 1 MiB requests.
 *
 * Origin: copied (clang-formatted, this note added) from the project's shared
 * bench notes (shared/bench/fuse-ceiling.c). It is a stand-alone tool built
 * by bench/run (lib/ceiling.sh), not part of the ringfs build, and so keeps
 * its own small statics instead of the house rules for daemons.
 */
#define FUSE_USE_VERSION 34
#include <errno.h>
#include <fuse_lowlevel.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define ROOT_INO       1
#define BIG_INO	       2
#define BIG_SIZE       (4LL << 30)
#define REPLY_MAX      (4 << 20)
#define ATTR_TIMEOUT_S 100.0

static char zeros[REPLY_MAX];

struct options {
	unsigned int max_write_kib;
};

static const struct fuse_opt option_spec[] = {
    {"max_write_kib=%u", offsetof(struct options, max_write_kib), 0},
    FUSE_OPT_END};

static int fill_stat(fuse_ino_t ino, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	if (ino == ROOT_INO) {
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2;
	} else if (ino == BIG_INO) {
		st->st_mode = S_IFREG | 0444;
		st->st_nlink = 1;
		st->st_size = BIG_SIZE;
	} else {
		return -ENOENT;
	}
	return 0;
}

static void ceiling_init(void *userdata, struct fuse_conn_info *conn)
{
	const struct options *opt = userdata;
	unsigned int bytes = opt->max_write_kib * 1024;

	/* Larger requests mean fewer round trips through /dev/fuse. */
	conn->max_write = bytes;
	conn->max_readahead = bytes;
}

static void ceiling_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fuse_entry_param e;

	if (parent != ROOT_INO || strcmp(name, "big") != 0) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	memset(&e, 0, sizeof(e));
	e.ino = BIG_INO;
	e.attr_timeout = ATTR_TIMEOUT_S;
	e.entry_timeout = ATTR_TIMEOUT_S;
	fill_stat(BIG_INO, &e.attr);
	fuse_reply_entry(req, &e);
}

static void ceiling_getattr(fuse_req_t req, fuse_ino_t ino,
			    struct fuse_file_info *fi)
{
	struct stat st;
	int rc = fill_stat(ino, &st);

	(void)fi;
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_attr(req, &st, ATTR_TIMEOUT_S);
}

static void ceiling_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			 struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	if (off >= BIG_SIZE)
		size = 0;
	else if (off + (off_t)size > BIG_SIZE)
		size = BIG_SIZE - off;
	if (size > REPLY_MAX)
		size = REPLY_MAX;
	fuse_reply_buf(req, zeros, size);
}

static const struct fuse_lowlevel_ops ceiling_ops = {
    .init = ceiling_init,
    .lookup = ceiling_lookup,
    .getattr = ceiling_getattr,
    .read = ceiling_read,
};

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct options opt = {.max_write_kib = 1024};
	struct fuse_cmdline_opts cmd;
	struct fuse_session *se;
	struct fuse_loop_config *loop;
	int rc = 1;

	if (fuse_parse_cmdline(&args, &cmd) != 0 || !cmd.mountpoint)
		return 1;
	if (fuse_opt_parse(&args, &opt, option_spec, NULL) == -1)
		goto out_args;
	se = fuse_session_new(&args, &ceiling_ops, sizeof(ceiling_ops), &opt);
	if (!se)
		goto out_args;
	if (fuse_set_signal_handlers(se) != 0)
		goto out_session;
	if (fuse_session_mount(se, cmd.mountpoint) != 0)
		goto out_signals;
	fuse_daemonize(cmd.foreground);
	if (cmd.singlethread) {
		rc = fuse_session_loop(se);
	} else {
		loop = fuse_loop_cfg_create();
		rc = fuse_session_loop_mt(se, loop);
		fuse_loop_cfg_destroy(loop);
	}
	fuse_session_unmount(se);
out_signals:
	fuse_remove_signal_handlers(se);
out_session:
	fuse_session_destroy(se);
out_args:
	free(cmd.mountpoint);
	fuse_opt_free_args(&args);
	return rc ? 1 : 0;
}
