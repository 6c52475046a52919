/*
 * ringfs-xfer: the transfer commands put, get and cat. put and get follow
 * cp: a target that is an existing directory receives the sources under
 * their own names; -r copies trees (directories, files, symlinks); an
 * error on one file is reported and the others still go.
 */
#include <config.h>
#include "tools/ringfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Deepest local or remote tree followed by -r. */
#define XFER_DEPTH_MAX 256
#define XFER_PATH_MAX  4096

static bool is_dash(const char *s)
{
	return strcmp(s, "-") == 0;
}

/* Keep the first error of a multi-file command. */
static void keep_first(int *first, int rc)
{
	if (rc < 0 && *first == 0)
		*first = rc;
}

/* --- put --------------------------------------------------------------- */

static int put_fd(struct rcli *cli, int fd, uint64_t size, uint32_t mode,
		  uint64_t parent, const char *name, const char *display)
{
	struct rfs_transfer_opts o;
	struct rfs_transfer_stats stats;
	struct rfs_attr attr;
	int rc;

	rcli_transfer_opts(cli, display, &o);
	rfs_client_clear_error(cli->c);
	rc = rfs_transfer_put(cli->c, fd, size, parent, name, mode, &o, &attr,
			      &stats);
	rcli_progress_end(cli, rc == 0);
	if (rc < 0)
		return rcli_error(cli, display, rc);
	if (stats.chunks > 0 &&
	    (stats.under_replicated > 0 || stats.min_acked < attr.goal))
		rcli_warn(cli,
			  "put: %s: %llu chunk(s) stored on fewer replicas "
			  "than the goal of %u (fewest: %u)",
			  display, (unsigned long long)stats.under_replicated,
			  attr.goal, stats.min_acked);
	return 0;
}

static int put_file(struct rcli *cli, const char *local, uint64_t parent,
		    const char *name, const char *display)
{
	struct stat st;
	int fd = open(local, O_RDONLY | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return rcli_local_error(cli, local, -errno);
	if (fstat(fd, &st) < 0) {
		rc = rcli_local_error(cli, local, -errno);
		goto out_close;
	}
	rc = put_fd(cli, fd, (uint64_t)st.st_size, st.st_mode & 07777, parent,
		    name, display);
out_close:
	close(fd);
	return rc;
}

static int put_tree(struct rcli *cli, const char *local, uint32_t mode,
		    uint64_t parent, const char *name, const char *display,
		    int depth);

/* Recreate a local symlink remotely, replacing a non-directory there. */
static int put_symlink(struct rcli *cli, const char *local, uint64_t parent,
		       const char *name, const char *display)
{
	char target[XFER_PATH_MAX];
	ssize_t n = readlink(local, target, sizeof(target) - 1);
	int rc;

	if (n < 0)
		return rcli_local_error(cli, local, -errno);
	target[n] = '\0';
	rc = rfs_client_symlink(cli->c, parent, name, target, cli->uid,
				cli->gid, NULL);
	if (rc == -EEXIST && rfs_client_unlink(cli->c, parent, name) == 0)
		rc = rfs_client_symlink(cli->c, parent, name, target, cli->uid,
					cli->gid, NULL);
	return rc < 0 ? rcli_error(cli, display, rc) : 0;
}

/* One entry of a local directory being uploaded (lstat: links stay). */
static int put_entry(struct rcli *cli, const char *local, uint64_t parent,
		     const char *name, const char *display, int depth)
{
	struct stat st;

	if (lstat(local, &st) < 0)
		return rcli_local_error(cli, local, -errno);
	if (S_ISDIR(st.st_mode))
		return put_tree(cli, local, st.st_mode & 07777, parent, name,
				display, depth + 1);
	if (S_ISREG(st.st_mode))
		return put_file(cli, local, parent, name, display);
	if (S_ISLNK(st.st_mode))
		return put_symlink(cli, local, parent, name, display);
	rcli_warn(cli, "put: %s: skipped (not a file, directory or symlink)",
		  local);
	return 0;
}

/* Make (or reuse) the remote directory name in parent. */
static int remote_dir(struct rcli *cli, uint64_t parent, const char *name,
		      uint32_t mode, struct rfs_attr *out)
{
	int rc = rfs_client_mkdir(cli->c, parent, name, mode, cli->uid,
				  cli->gid, out);

	if (rc == -EEXIST) {
		rc = rfs_client_lookup(cli->c, parent, name, out);
		if (rc == 0 && !S_ISDIR(out->mode))
			rc = -ENOTDIR;
	}
	return rc;
}

static int put_tree(struct rcli *cli, const char *local, uint32_t mode,
		    uint64_t parent, const char *name, const char *display,
		    int depth)
{
	struct rfs_attr dir;
	struct dirent *d;
	DIR *dp;
	int first = 0;
	int rc;

	if (depth > XFER_DEPTH_MAX)
		return rcli_fail(cli, local, -ELOOP, "directory tree too deep");
	rc = remote_dir(cli, parent, name, mode, &dir);
	if (rc < 0)
		return rcli_error(cli, display, rc);
	dp = opendir(local);
	if (!dp)
		return rcli_local_error(cli, local, -errno);
	while ((d = readdir(dp)) != NULL) {
		char lpath[XFER_PATH_MAX];
		char rpath[XFER_PATH_MAX];

		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
			continue;
		if (rfs_path_join(local, d->d_name, lpath, sizeof(lpath)) < 0 ||
		    rfs_path_join(display, d->d_name, rpath, sizeof(rpath)) < 0)
			rc = rcli_fail(cli, d->d_name, -ENAMETOOLONG,
				       "path too long");
		else
			rc = put_entry(cli, lpath, dir.ino, d->d_name, rpath,
				       depth);
		keep_first(&first, rc);
	}
	closedir(dp);
	return first;
}

/* A command-line source: stdin, a file, or (with -r) a directory. */
static int put_source(struct rcli *cli, const char *local, uint64_t parent,
		      const char *name, const char *display)
{
	struct stat st;

	if (is_dash(local))
		return put_fd(cli, STDIN_FILENO, 0, 0644, parent, name,
			      display);
	if (stat(local, &st) < 0)
		return rcli_local_error(cli, local, -errno);
	if (S_ISDIR(st.st_mode) && !(cli->o->flags & RCLI_F_RECURSIVE))
		return rcli_fail(cli, local, -EISDIR,
				 "is a directory (use -r)");
	if (S_ISDIR(st.st_mode))
		return put_tree(cli, local, st.st_mode & 07777, parent, name,
				display, 0);
	if (!S_ISREG(st.st_mode))
		return rcli_fail(cli, local, -EINVAL,
				 "not a regular file or directory");
	return put_file(cli, local, parent, name, display);
}

/* Where one source goes: inside dest (a directory) or as dest. */
static int put_target(struct rcli *cli, const char *src, const char *dest,
		      const struct rfs_attr *dattr, bool into_dir,
		      uint64_t *parent, char name[RFS_NAME_MAX + 1],
		      char *display, size_t dlen)
{
	struct rfs_attr pa = {0};
	int rc;

	if (!into_dir) {
		rc = rfs_client_resolve_parent(cli->c, dest, &pa, name);
		*parent = pa.ino;
		snprintf(display, dlen, "%s", dest);
		return rc < 0 ? rcli_error(cli, dest, rc) : 0;
	}
	if (is_dash(src))
		return rcli_fail(cli, dest, -EISDIR,
				 "is a directory; name the file to put '-' to");
	rc = rfs_path_basename(src, name, RFS_NAME_MAX + 1);
	if (rc == 0)
		rc = rfs_path_join(dest, name, display, dlen);
	*parent = dattr->ino;
	return rc < 0 ? rcli_fail(cli, src, rc, "name too long") : 0;
}

int rcli_cmd_put(struct rcli *cli)
{
	int n_src = cli->o->n_args - 1;
	const char *dest = cli->o->args[n_src];
	struct rfs_attr dattr;
	bool into_dir;
	int first = 0;
	int rc;
	int i;

	rc = rfs_client_resolve(cli->c, dest, &dattr);
	if (rc < 0 && rc != -ENOENT)
		return rcli_error(cli, dest, rc);
	into_dir = rc == 0 && S_ISDIR(dattr.mode);
	if (n_src > 1 && !into_dir)
		return rcli_fail(cli, dest, -ENOTDIR,
				 "target is not an existing directory");
	for (i = 0; i < n_src; i++) {
		const char *src = cli->o->args[i];
		char name[RFS_NAME_MAX + 1];
		char display[XFER_PATH_MAX];
		uint64_t parent = 0;

		rc = put_target(cli, src, dest, &dattr, into_dir, &parent, name,
				display, sizeof(display));
		if (rc == 0)
			rc = put_source(cli, src, parent, name, display);
		keep_first(&first, rc);
	}
	return first;
}

/* --- get and cat -------------------------------------------------------- */

/* Copy one remote file to standard output. */
static int cat_one(struct rcli *cli, const char *path)
{
	struct rfs_transfer_opts o;
	struct rfs_attr attr;
	int rc;

	rfs_client_clear_error(cli->c);
	rc = rfs_client_resolve(cli->c, path, &attr);
	if (rc < 0)
		return rcli_error(cli, path, rc);
	if (S_ISDIR(attr.mode))
		return rcli_fail(cli, path, -EISDIR, "is a directory");
	if (!S_ISREG(attr.mode))
		return rcli_fail(cli, path, -EINVAL, "not a regular file");
	memset(&o, 0, sizeof(o));
	rcli_transfer_opts(cli, path, &o);
	o.progress = NULL; /* the data itself goes to the terminal */
	if (fflush(cli->out) != 0)
		return rcli_local_error(cli, "standard output", -errno);
	rc =
	    rfs_transfer_download(cli->c, attr.ino, fileno(cli->out), &o, NULL);
	return rc < 0 ? rcli_error(cli, path, rc) : 0;
}

int rcli_cmd_cat(struct rcli *cli)
{
	int first = 0;
	int i;

	for (i = 0; i < cli->o->n_args; i++)
		keep_first(&first, cat_one(cli, cli->o->args[i]));
	return first;
}

static int get_one(struct rcli *cli, const struct rfs_attr *attr,
		   const char *display, const char *local, int depth);

static int get_file(struct rcli *cli, const struct rfs_attr *attr,
		    const char *display, const char *local)
{
	struct rfs_transfer_opts o;
	int rc;

	rcli_transfer_opts(cli, display, &o);
	rfs_client_clear_error(cli->c);
	rc = rfs_transfer_get(cli->c, attr, local, &o, NULL);
	rcli_progress_end(cli, rc == 0);
	return rc < 0 ? rcli_error(cli, display, rc) : 0;
}

static int get_symlink(struct rcli *cli, const struct rfs_attr *attr,
		       const char *display, const char *local)
{
	struct rfs_value_reply v;
	int rc = rfs_client_readlink(cli->c, attr->ino, &v);

	if (rc < 0)
		return rcli_error(cli, display, rc);
	if (symlink(v.data, local) < 0)
		rc = rcli_local_error(cli, local, -errno);
	rfs_proto_value_release(&v);
	return rc;
}

static int get_tree(struct rcli *cli, const struct rfs_attr *attr,
		    const char *display, const char *local, int depth)
{
	struct rfs_dirent *ents;
	struct stat st;
	size_t n;
	size_t i;
	int first = 0;
	int rc;

	if (depth > XFER_DEPTH_MAX)
		return rcli_fail(cli, display, -ELOOP,
				 "directory tree too deep");
	if (mkdir(local, (attr->mode & 0777) | 0700) < 0 &&
	    !(errno == EEXIST && stat(local, &st) == 0 && S_ISDIR(st.st_mode)))
		return rcli_local_error(cli, local, -errno);
	rc = rfs_client_readdir_all(cli->c, attr->ino, &ents, &n);
	if (rc < 0)
		return rcli_error(cli, display, rc);
	for (i = 0; i < n; i++) {
		char lpath[XFER_PATH_MAX];
		char rpath[XFER_PATH_MAX];
		struct rfs_attr ca;

		if (rfs_path_join(local, ents[i].name, lpath, sizeof(lpath)) <
			0 ||
		    rfs_path_join(display, ents[i].name, rpath, sizeof(rpath)) <
			0) {
			keep_first(&first,
				   rcli_fail(cli, ents[i].name, -ENAMETOOLONG,
					     "path too long"));
			continue;
		}
		rc = rfs_client_getattr(cli->c, ents[i].ino, &ca);
		if (rc < 0)
			rc = rcli_error(cli, rpath, rc);
		else
			rc = get_one(cli, &ca, rpath, lpath, depth + 1);
		keep_first(&first, rc);
	}
	free(ents);
	return first;
}

static int get_one(struct rcli *cli, const struct rfs_attr *attr,
		   const char *display, const char *local, int depth)
{
	if (S_ISDIR(attr->mode) && !(cli->o->flags & RCLI_F_RECURSIVE))
		return rcli_fail(cli, display, -EISDIR,
				 "is a directory (use -r)");
	if (S_ISDIR(attr->mode))
		return get_tree(cli, attr, display, local, depth);
	if (S_ISLNK(attr->mode))
		return get_symlink(cli, attr, display, local);
	return get_file(cli, attr, display, local);
}

/* One command-line source into dest (a directory) or as dest. */
static int get_source(struct rcli *cli, const char *src, const char *dest,
		      bool into_dir)
{
	char local[XFER_PATH_MAX];
	char name[RFS_NAME_MAX + 1];
	struct rfs_attr attr;
	int rc;

	rfs_client_clear_error(cli->c);
	rc = rfs_client_resolve(cli->c, src, &attr);
	if (rc < 0)
		return rcli_error(cli, src, rc);
	if (into_dir) {
		rc = rfs_path_basename(src, name, sizeof(name));
		if (rc == 0 && strcmp(name, "/") == 0)
			rc = rfs_path_join(dest, "root", local, sizeof(local));
		else if (rc == 0)
			rc = rfs_path_join(dest, name, local, sizeof(local));
	} else {
		rc = snprintf(local, sizeof(local), "%s", dest) <
			     (int)sizeof(local)
			 ? 0
			 : -ENAMETOOLONG;
	}
	if (rc < 0)
		return rcli_fail(cli, src, rc, "local path too long");
	return get_one(cli, &attr, src, local, 0);
}

int rcli_cmd_get(struct rcli *cli)
{
	int n_src = cli->o->n_args - 1;
	const char *dest = cli->o->args[n_src];
	struct stat st;
	bool into_dir;
	int first = 0;
	int i;

	if (is_dash(dest)) {
		for (i = 0; i < n_src; i++)
			keep_first(&first, cat_one(cli, cli->o->args[i]));
		return first;
	}
	into_dir = stat(dest, &st) == 0 && S_ISDIR(st.st_mode);
	if (n_src > 1 && !into_dir)
		return rcli_fail(cli, dest, -ENOTDIR,
				 "target is not an existing directory");
	for (i = 0; i < n_src; i++)
		keep_first(&first,
			   get_source(cli, cli->o->args[i], dest, into_dir));
	return first;
}
