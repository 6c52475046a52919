/*
 * ringfs-ns: the namespace commands ls, stat, mkdir, rm and mv. Output
 * formats are stable (docs/cli.md) so scripts and tests can parse them.
 */
#include <config.h>
#include "tools/ringfs.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define NS_TIME_MAX 96 /* a full timestamp with zone */
#define NS_DATE_MAX 40
#define NS_PATH_MAX 4096

static void keep_first(int *first, int rc)
{
	if (rc < 0 && *first == 0)
		*first = rc;
}

/* "2024-05-01 12:34" in local time. */
static void format_mtime(int64_t ns, char *out, size_t len)
{
	time_t t = (time_t)(ns / 1000000000);
	struct tm tm;

	if (!localtime_r(&t, &tm) ||
	    strftime(out, len, "%Y-%m-%d %H:%M", &tm) == 0)
		snprintf(out, len, "?");
}

/* "2024-05-01 12:34:56.123456789 +0200" in local time. */
static void format_time_full(int64_t ns, char *out, size_t len)
{
	time_t t = (time_t)(ns / 1000000000);
	long frac = (long)(ns % 1000000000);
	char date[NS_DATE_MAX];
	char zone[16];
	struct tm tm;

	if (frac < 0) {
		frac += 1000000000;
		t--;
	}
	if (!localtime_r(&t, &tm) ||
	    strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S", &tm) == 0 ||
	    strftime(zone, sizeof(zone), "%z", &tm) == 0) {
		snprintf(out, len, "?");
		return;
	}
	snprintf(out, len, "%s.%09ld %s", date, frac, zone);
}

static const char *type_name(uint32_t mode)
{
	if (S_ISDIR(mode))
		return "directory";
	if (S_ISLNK(mode))
		return "symlink";
	if (S_ISREG(mode))
		return "file";
	return "other";
}

/* One "ls -l" line (attr of the entry, name as shown). */
static void print_long(struct rcli *cli, const struct rfs_attr *a,
		       const char *name)
{
	char mode[11];
	char when[NS_TIME_MAX];
	struct rfs_value_reply target = {0};

	rfs_format_mode(a->mode, mode);
	format_mtime(a->mtime_ns, when, sizeof(when));
	fprintf(cli->out,
		"%s %3" PRIu32 " %5" PRIu32 " %5" PRIu32 " %12" PRIu64 " %s %s",
		mode, a->nlink, a->uid, a->gid, a->size, when, name);
	if (S_ISLNK(a->mode) &&
	    rfs_client_readlink(cli->c, a->ino, &target) == 0)
		fprintf(cli->out, " -> %s", target.data);
	fputc('\n', cli->out);
	rfs_proto_value_release(&target);
}

static int cmp_dirent(const void *a, const void *b)
{
	return strcmp(((const struct rfs_dirent *)a)->name,
		      ((const struct rfs_dirent *)b)->name);
}

static int ls_dir(struct rcli *cli, const char *path, uint64_t ino)
{
	bool lng = cli->o->flags & RCLI_F_LONG;
	struct rfs_dirent *ents;
	size_t n;
	size_t i;
	int first = 0;
	int rc;

	rc = rfs_client_readdir_all(cli->c, ino, &ents, &n);
	if (rc < 0)
		return rcli_error(cli, path, rc);
	if (n > 1)
		qsort(ents, n, sizeof(*ents), cmp_dirent);
	for (i = 0; i < n; i++) {
		struct rfs_attr a;

		if (!lng) {
			fprintf(cli->out, "%s\n", ents[i].name);
			continue;
		}
		rc = rfs_client_getattr(cli->c, ents[i].ino, &a);
		if (rc == -ENOENT) /* removed while listing */
			continue;
		if (rc < 0)
			keep_first(&first, rcli_error(cli, ents[i].name, rc));
		else
			print_long(cli, &a, ents[i].name);
	}
	free(ents);
	return first;
}

static int ls_one(struct rcli *cli, const char *path, bool header)
{
	struct rfs_attr a;
	int rc;

	rfs_client_clear_error(cli->c);
	rc = rfs_client_resolve(cli->c, path, &a);
	if (rc < 0)
		return rcli_error(cli, path, rc);
	if (!S_ISDIR(a.mode)) {
		if (cli->o->flags & RCLI_F_LONG)
			print_long(cli, &a, path);
		else
			fprintf(cli->out, "%s\n", path);
		return 0;
	}
	if (header)
		fprintf(cli->out, "%s:\n", path);
	return ls_dir(cli, path, a.ino);
}

int rcli_cmd_ls(struct rcli *cli)
{
	int first = 0;
	int i;

	if (cli->o->n_args == 0)
		return ls_one(cli, "/", false);
	for (i = 0; i < cli->o->n_args; i++) {
		if (i > 0 && cli->o->n_args > 1)
			fputc('\n', cli->out);
		keep_first(&first,
			   ls_one(cli, cli->o->args[i], cli->o->n_args > 1));
	}
	return first;
}

static void print_stat(struct rcli *cli, const char *path,
		       const struct rfs_attr *a)
{
	char mode[11];
	char at[NS_TIME_MAX], mt[NS_TIME_MAX], ct[NS_TIME_MAX];

	rfs_format_mode(a->mode, mode);
	format_time_full(a->atime_ns, at, sizeof(at));
	format_time_full(a->mtime_ns, mt, sizeof(mt));
	format_time_full(a->ctime_ns, ct, sizeof(ct));
	fprintf(cli->out,
		"Path: %s\nInode: %016" PRIx64 "\nType: %s\n"
		"Mode: %04o (%s)\nLinks: %" PRIu32 "\nUid: %" PRIu32
		"\nGid: %" PRIu32 "\nSize: %" PRIu64 "\nGoal: %" PRIu32
		"\nGeneration: %016" PRIx64 "\nAccess: %s\nModify: %s\n"
		"Change: %s\n",
		path, a->ino, type_name(a->mode), a->mode & 07777, mode,
		a->nlink, a->uid, a->gid, a->size, a->goal, a->generation, at,
		mt, ct);
}

int rcli_cmd_stat(struct rcli *cli)
{
	int first = 0;
	int i;

	for (i = 0; i < cli->o->n_args; i++) {
		const char *path = cli->o->args[i];
		struct rfs_attr a;
		int rc;

		rfs_client_clear_error(cli->c);
		rc = rfs_client_resolve(cli->c, path, &a);
		if (rc < 0) {
			keep_first(&first, rcli_error(cli, path, rc));
			continue;
		}
		if (i > 0)
			fputc('\n', cli->out);
		print_stat(cli, path, &a);
	}
	return first;
}

/* Default mode of new directories (before the metaserver's rules). */
#define NS_DIR_MODE 0755

static int mkdir_one(struct rcli *cli, const char *path)
{
	char name[RFS_NAME_MAX + 1];
	struct rfs_attr parent;
	int rc;

	rfs_client_clear_error(cli->c);
	if (cli->o->flags & RCLI_F_PARENTS)
		rc = rfs_client_mkdir_p(cli->c, path, NS_DIR_MODE, cli->uid,
					cli->gid, NULL);
	else {
		rc = rfs_client_resolve_parent(cli->c, path, &parent, name);
		if (rc == -EINVAL) /* "/" */
			rc = -EEXIST;
		if (rc == 0)
			rc = rfs_client_mkdir(cli->c, parent.ino, name,
					      NS_DIR_MODE, cli->uid, cli->gid,
					      NULL);
	}
	return rc < 0 ? rcli_error(cli, path, rc) : 0;
}

int rcli_cmd_mkdir(struct rcli *cli)
{
	int first = 0;
	int i;

	for (i = 0; i < cli->o->n_args; i++)
		keep_first(&first, mkdir_one(cli, cli->o->args[i]));
	return first;
}

static int rm_one(struct rcli *cli, const char *path)
{
	char name[RFS_NAME_MAX + 1];
	struct rfs_attr parent;
	struct rfs_attr a;
	int rc;

	rfs_client_clear_error(cli->c);
	rc = rfs_client_resolve_parent(cli->c, path, &parent, name);
	if (rc == -EINVAL)
		return rcli_fail(cli, path, -EBUSY, "refusing to remove '/'");
	if (rc == 0)
		rc = rfs_client_lookup(cli->c, parent.ino, name, &a);
	if (rc < 0)
		return rcli_error(cli, path, rc);
	if (S_ISDIR(a.mode) && !(cli->o->flags & RCLI_F_RECURSIVE))
		return rcli_fail(cli, path, -EISDIR, "is a directory (use -r)");
	if (S_ISDIR(a.mode))
		rc = rfs_client_remove_tree(cli->c, parent.ino, name);
	else
		rc = rfs_client_unlink(cli->c, parent.ino, name);
	return rc < 0 ? rcli_error(cli, path, rc) : 0;
}

int rcli_cmd_rm(struct rcli *cli)
{
	int first = 0;
	int i;

	for (i = 0; i < cli->o->n_args; i++)
		keep_first(&first, rm_one(cli, cli->o->args[i]));
	return first;
}

int rcli_cmd_mv(struct rcli *cli)
{
	const char *src = cli->o->args[0];
	const char *dst = cli->o->args[1];
	char sname[RFS_NAME_MAX + 1];
	char dname[RFS_NAME_MAX + 1];
	struct rfs_attr sparent;
	struct rfs_attr dparent;
	int rc;

	rfs_client_clear_error(cli->c);
	rc = rfs_client_resolve_parent(cli->c, src, &sparent, sname);
	if (rc == -EINVAL)
		return rcli_fail(cli, src, -EBUSY, "cannot move '/'");
	if (rc < 0)
		return rcli_error(cli, src, rc);
	rc = rfs_client_resolve(cli->c, dst, &dparent);
	if (rc == 0 && S_ISDIR(dparent.mode))
		memcpy(dname, sname, sizeof(dname));
	else if (rc == 0 || rc == -ENOENT)
		rc = rfs_client_resolve_parent(cli->c, dst, &dparent, dname);
	if (rc < 0)
		return rcli_error(cli, dst, rc);
	rc = rfs_client_rename(cli->c, sparent.ino, sname, dparent.ino, dname,
			       0);
	return rc < 0 ? rcli_error(cli, src, rc) : 0;
}
