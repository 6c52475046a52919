/*
 * files: the put and get policies. A file appears under its final name
 * only when it is complete: put uploads into a hidden temp file in the
 * target directory and renames it over the name after the last commit;
 * get writes a hidden local temp file and renames it into place. Either
 * removes its temp file on failure.
 */
#include <config.h>
#include "client/client.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/client-int.h"
#include "common/crypto.h"

/* Fresh temp names tried before giving up on EEXIST. */
#define FILES_TEMP_ATTEMPTS 8
/* Longest local path handled. */
#define FILES_LOCAL_PATH_MAX 4096

int rfs_transfer_temp_name(const char *name, uint32_t rnd, char *out,
			   size_t outlen)
{
	int n = snprintf(out, outlen, ".%s.ringfs-part-%08x", name,
			 (unsigned int)rnd);

	if (n < 0 || (size_t)n >= outlen)
		return -ENAMETOOLONG;
	return rfs_proto_check_name(out, (size_t)n);
}

static int random_u32(uint32_t *out)
{
	uint8_t b[4];
	int rc = rfs_random_bytes(b, sizeof(b));

	*out = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	       (uint32_t)b[2] << 8 | b[3];
	return rc;
}

/* Create a fresh temp file for name in parent. */
static int create_temp(struct rfs_client *c, uint64_t parent, const char *name,
		       uint32_t mode, const struct rfs_transfer_opts *o,
		       char temp[RFS_NAME_MAX + 1], struct rfs_attr *attr)
{
	int rc = -EEXIST;
	int i;

	for (i = 0; i < FILES_TEMP_ATTEMPTS && rc == -EEXIST; i++) {
		uint32_t rnd;

		rc = random_u32(&rnd);
		if (rc == 0)
			rc = rfs_transfer_temp_name(name, rnd, temp,
						    RFS_NAME_MAX + 1);
		if (rc == 0)
			rc = rfs_client_create(c, parent, temp, mode, o->uid,
					       o->gid, RFS_CREATE_EXCL, attr);
	}
	return rc;
}

/*
 * Remove the temp file of a failed put. The put's own error is what the
 * caller reports, so it stays the client's last error; a temp file that
 * cannot be removed either is hidden and harmless.
 */
static void remove_temp(struct rfs_client *c, uint64_t parent, const char *temp)
{
	struct rfs_client_error e;

	rfs_client_last_error(c, &e);
	if (rfs_client_unlink(c, parent, temp) < 0)
		rfs_client_note_error(c, e.err, e.from_meta, e.addr, e.message);
}

int rfs_transfer_put(struct rfs_client *c, int fd, uint64_t size_hint,
		     uint64_t parent, const char *name, uint32_t mode,
		     const struct rfs_transfer_opts *o, struct rfs_attr *out,
		     struct rfs_transfer_stats *stats)
{
	static const struct rfs_transfer_opts none;
	char temp[RFS_NAME_MAX + 1];
	struct rfs_attr attr;
	int rc;

	if (!o)
		o = &none;
	rc = rfs_proto_check_name(name, strlen(name));
	if (rc == 0)
		rc = create_temp(c, parent, name, mode, o, temp, &attr);
	if (rc < 0)
		return rc;
	rc = rfs_transfer_upload(c, fd, attr.ino, size_hint, o, stats);
	if (rc == 0)
		rc = rfs_client_rename(c, parent, temp, parent, name, 0);
	if (rc < 0)
		goto out_remove_temp;
	if (out)
		rc = rfs_client_getattr(c, attr.ino, out);
	/* The file is in place: a failed getattr does not undo the put. */
	if (rc < 0 && out)
		*out = attr;
	return 0;

out_remove_temp:
	remove_temp(c, parent, temp);
	return rc;
}

/* Split a local path into its directory ("." if none) and last name. */
static int local_split(const char *path, char *dir, size_t dlen, char *name,
		       size_t nlen)
{
	const char *slash = strrchr(path, '/');
	int n;

	if (!slash)
		n = snprintf(dir, dlen, ".");
	else if (slash == path)
		n = snprintf(dir, dlen, "/");
	else
		n = snprintf(dir, dlen, "%.*s", (int)(slash - path), path);
	if (n < 0 || (size_t)n >= dlen)
		return -ENAMETOOLONG;
	n = snprintf(name, nlen, "%s", slash ? slash + 1 : path);
	if (n < 0 || (size_t)n >= nlen)
		return -ENAMETOOLONG;
	return *name ? 0 : -EISDIR;
}

/* Open a fresh local temp file next to local_path. */
static int open_local_temp(struct rfs_client *c, const char *local_path,
			   char *temp, size_t tlen)
{
	char dir[FILES_LOCAL_PATH_MAX];
	char name[RFS_NAME_MAX + 1];
	char tname[RFS_NAME_MAX + 1];
	int rc = local_split(local_path, dir, sizeof(dir), name, sizeof(name));
	int i;

	for (i = 0; rc >= 0 && i < FILES_TEMP_ATTEMPTS; i++) {
		uint32_t rnd;
		int fd;

		rc = random_u32(&rnd);
		if (rc == 0)
			rc = rfs_transfer_temp_name(name, rnd, tname,
						    sizeof(tname));
		if (rc == 0)
			rc = rfs_path_join(dir, tname, temp, tlen);
		if (rc < 0)
			break;
		fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd >= 0)
			return fd;
		rc = -errno;
		if (rc != -EEXIST)
			break;
	}
	rfs_client_note_error(c, rc, false, NULL,
			      "cannot create a temp file next to the target");
	return rc;
}

/*
 * An existing target that is not a regular file (/dev/null, a fifo, a
 * terminal) is written in place, never replaced.
 */
static int get_in_place(struct rfs_client *c, const struct rfs_attr *attr,
			const char *local_path,
			const struct rfs_transfer_opts *o,
			struct rfs_transfer_stats *stats)
{
	int fd = open(local_path, O_WRONLY | O_CLOEXEC);
	int rc;

	if (fd < 0) {
		rc = -errno;
		rfs_client_note_error(c, rc, false, NULL,
				      "cannot open the local target");
		return rc;
	}
	rc = rfs_transfer_download(c, attr->ino, fd, o, stats);
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	return rc;
}

int rfs_transfer_get(struct rfs_client *c, const struct rfs_attr *attr,
		     const char *local_path, const struct rfs_transfer_opts *o,
		     struct rfs_transfer_stats *stats)
{
	char temp[FILES_LOCAL_PATH_MAX];
	char real[PATH_MAX];
	struct stat st;
	int fd;
	int rc;

	if (stat(local_path, &st) == 0 && S_ISDIR(st.st_mode))
		return -EISDIR;
	if (stat(local_path, &st) == 0 && !S_ISREG(st.st_mode))
		return get_in_place(c, attr, local_path, o, stats);
	/* A symlink to a file: replace the file it points to, not the link. */
	if (lstat(local_path, &st) == 0 && S_ISLNK(st.st_mode) &&
	    realpath(local_path, real))
		local_path = real;
	fd = open_local_temp(c, local_path, temp, sizeof(temp));
	if (fd < 0)
		return fd;
	rc = rfs_transfer_download(c, attr->ino, fd, o, stats);
	if (rc == 0 && fchmod(fd, attr->mode & 0777) < 0)
		rc = -errno;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(temp, local_path) < 0) {
		rc = -errno;
		rfs_client_note_error(c, rc, false, NULL,
				      "cannot rename the temp file into place");
	}
	if (rc < 0)
		unlink(temp);
	return rc;
}
