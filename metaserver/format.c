#include <config.h>
#include "metaserver/format.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/config.h"
#include "common/crypto.h"
#include "metaserver/raftlog.h"

#define FORMAT_HINT "initialise one with `ringfs-meta --format DIR`"
/* Bytes of the format file; it holds a handful of short lines. */
#define FORMAT_TEXT_MAX	  1024
#define FORMAT_UUID_BYTES 16

/* The format file as the config parser fills it. */
struct format_file {
	uint32_t version;
	char *fsid;
	uint64_t chunk_size;
	uint32_t goal;
	uint64_t created_ns;
	uint64_t raft_id;
};

static const struct rfs_config_key format_keys[] = {
    {"format-version", RFS_CONFIG_U32, "0", 0, 0,
     offsetof(struct format_file, version), "layout version"},
    {"fsid", RFS_CONFIG_STR, "", 0, 0, offsetof(struct format_file, fsid),
     "file system id (uuid)"},
    {"chunk-size", RFS_CONFIG_U64, "0", 0, 0,
     offsetof(struct format_file, chunk_size), "bytes per chunk"},
    {"goal", RFS_CONFIG_U32, "0", 0, 0, offsetof(struct format_file, goal),
     "default replication goal"},
    {"created-ns", RFS_CONFIG_U64, "0", 0, 0,
     offsetof(struct format_file, created_ns),
     "creation time, ns since the epoch"},
    {"raft-id", RFS_CONFIG_U64, "0", 0, 0,
     offsetof(struct format_file, raft_id), "this node's raft id"},
};
#define N_FORMAT_KEYS (sizeof(format_keys) / sizeof(format_keys[0]))

static int format_path(const char *dir, const char *name, char *out,
		       size_t outlen)
{
	int n = snprintf(out, outlen, "%s/%s", dir, name);

	return n < 0 || (size_t)n >= outlen ? -ENAMETOOLONG : 0;
}

int ms_format_raft_dir(const char *dir, char *out, size_t outlen)
{
	return format_path(dir, MS_FORMAT_RAFT_DIR, out, outlen);
}

int ms_format_check_params(uint64_t chunk_size, uint32_t goal, char *err,
			   size_t errlen)
{
	if (chunk_size < RFS_CHUNK_SIZE_MIN ||
	    chunk_size > RFS_CHUNK_SIZE_MAX ||
	    (chunk_size & (chunk_size - 1)) != 0) {
		snprintf(err, errlen,
			 "chunk size %llu is not a power of two between "
			 "%u and %u bytes (64K..64M)",
			 (unsigned long long)chunk_size, RFS_CHUNK_SIZE_MIN,
			 RFS_CHUNK_SIZE_MAX);
		return -EINVAL;
	}
	if (goal < 1 || goal > RFS_MAX_REPLICAS) {
		snprintf(err, errlen, "goal %u is not between 1 and %d", goal,
			 RFS_MAX_REPLICAS);
		return -EINVAL;
	}
	return 0;
}

int ms_format_new_fsid(char out[RFS_FSID_MAX + 1])
{
	uint8_t b[FORMAT_UUID_BYTES];
	char hex[2 * FORMAT_UUID_BYTES + 1];

	if (rfs_random_bytes(b, sizeof(b)) < 0)
		return -EIO;
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x40); /* version 4 */
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	rfs_hex_encode(b, sizeof(b), hex);
	snprintf(out, RFS_FSID_MAX + 1, "%.8s-%.4s-%.4s-%.4s-%.12s", hex,
		 hex + 8, hex + 12, hex + 16, hex + 20);
	return 0;
}

static bool format_fsid_is_valid(const char *s)
{
	static const char shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
	size_t i;

	if (strlen(s) != sizeof(shape) - 1)
		return false;
	for (i = 0; shape[i] != '\0'; i++) {
		bool hex = (s[i] >= '0' && s[i] <= '9') ||
			   (s[i] >= 'a' && s[i] <= 'f');

		if (shape[i] == '-' ? s[i] != '-' : !hex)
			return false;
	}
	return true;
}

/* -ENOENT: missing; -ENOTEMPTY: has entries; 0: exists and empty. */
static int format_dir_state(const char *dir)
{
	struct dirent *de;
	DIR *d;
	int rc = 0;

	d = opendir(dir);
	if (d == NULL)
		return -errno;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0) {
			rc = -ENOTEMPTY;
			break;
		}
	}
	closedir(d);
	return rc;
}

static int format_fsync_path(const char *path, int flags)
{
	int fd;
	int rc = 0;

	fd = open(path, flags | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

/* Write text to dir/name atomically and durably. */
static int format_write_file(const char *dir, const char *name,
			     const char *text)
{
	char path[PATH_MAX];
	char tmp[PATH_MAX];
	size_t len = strlen(text);
	ssize_t n;
	int fd;
	int rc;

	if (format_path(dir, name, path, sizeof(path)) < 0 ||
	    snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0)
		return -errno;
	n = write(fd, text, len);
	rc = n < 0 ? -errno : (size_t)n != len ? -EIO : 0;
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	close(fd);
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc < 0) {
		unlink(tmp);
		return rc;
	}
	return format_fsync_path(dir, O_RDONLY | O_DIRECTORY);
}

static int format_render(const struct ms_format_info *info, char *out,
			 size_t outlen)
{
	int n = snprintf(out, outlen,
			 "# ringfs metadata directory: written by "
			 "`ringfs-meta --format`, do not edit\n"
			 "format-version = %u\n"
			 "fsid = %s\n"
			 "chunk-size = %llu\n"
			 "goal = %u\n"
			 "created-ns = %lld\n"
			 "raft-id = %llu\n",
			 info->version, info->fmt.fsid,
			 (unsigned long long)info->fmt.chunk_size,
			 info->fmt.goal, (long long)info->fmt.created_ns,
			 (unsigned long long)info->raft_id);

	return n < 0 || (size_t)n >= outlen ? -ENAMETOOLONG : 0;
}

/* Refuse a formatted or non-empty dir; create a missing one. */
static int format_prepare_dir(const char *dir, char *err, size_t errlen)
{
	struct ms_format_info old;
	int rc;

	rc = format_dir_state(dir);
	if (rc == -ENOENT) {
		if (mkdir(dir, 0750) == 0)
			return 0;
		rc = -errno;
		snprintf(err, errlen, "cannot create %s: %s", dir,
			 strerror(-rc));
		return rc;
	}
	if (rc == -ENOTEMPTY) {
		if (ms_format_load(dir, &old, err, errlen) == 0)
			snprintf(err, errlen,
				 "%s is already formatted (fsid %s); refusing "
				 "to format it again",
				 dir, old.fmt.fsid);
		else
			snprintf(err, errlen,
				 "%s is not empty; refusing to format it (use "
				 "a new or empty directory)",
				 dir);
		return -EEXIST;
	}
	if (rc < 0)
		snprintf(err, errlen, "cannot read %s: %s", dir, strerror(-rc));
	return rc;
}

int ms_format_create(const char *dir, uint64_t chunk_size, uint32_t goal,
		     const char *raft_addr, struct ms_format_info *out,
		     char *err, size_t errlen)
{
	struct ms_format_info info = {.version = MS_FORMAT_VERSION,
				      .raft_id = MS_FORMAT_FIRST_RAFT_ID};
	char raft_dir[PATH_MAX];
	char text[FORMAT_TEXT_MAX];
	int rc;

	rc = ms_format_check_params(chunk_size, goal, err, errlen);
	if (rc < 0)
		return rc;
	if (ms_format_raft_dir(dir, raft_dir, sizeof(raft_dir)) < 0) {
		snprintf(err, errlen, "directory name too long: %s", dir);
		return -ENAMETOOLONG;
	}
	rc = format_prepare_dir(dir, err, errlen);
	if (rc < 0)
		return rc;
	if (mkdir(raft_dir, 0750) < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot create %s: %s", raft_dir,
			 strerror(-rc));
		return rc;
	}
	rc = ms_raftlog_bootstrap(raft_dir, info.raft_id, raft_addr, err,
				  errlen);
	if (rc < 0)
		return rc;
	info.fmt.chunk_size = chunk_size;
	info.fmt.goal = goal;
	info.fmt.created_ns = rfs_wall_ns();
	rc = ms_format_new_fsid(info.fmt.fsid);
	if (rc == 0)
		rc = format_render(&info, text, sizeof(text));
	if (rc == 0)
		rc = format_write_file(dir, MS_FORMAT_FILE, text);
	if (rc < 0) {
		snprintf(err, errlen, "cannot write %s/%s: %s", dir,
			 MS_FORMAT_FILE, strerror(-rc));
		return rc;
	}
	if (out != NULL)
		*out = info;
	return 0;
}

/* Check the parsed file and copy it into *out. */
static int format_check_file(const char *path, const struct format_file *f,
			     struct ms_format_info *out, char *err,
			     size_t errlen)
{
	char why[RFS_CONFIG_ERR_MAX];

	if (f->version != MS_FORMAT_VERSION) {
		snprintf(err, errlen,
			 "%s has format version %u; this ringfs-meta reads "
			 "version %d only",
			 path, f->version, MS_FORMAT_VERSION);
		return -EPROTO;
	}
	if (!format_fsid_is_valid(f->fsid) || f->raft_id == 0 ||
	    f->created_ns > INT64_MAX ||
	    ms_format_check_params(f->chunk_size, f->goal, why, sizeof(why)) <
		0) {
		snprintf(err, errlen,
			 "%s is damaged (bad fsid, raft id, chunk size or "
			 "goal)",
			 path);
		return -EPROTO;
	}
	memset(out, 0, sizeof(*out));
	snprintf(out->fmt.fsid, sizeof(out->fmt.fsid), "%s", f->fsid);
	out->fmt.chunk_size = f->chunk_size;
	out->fmt.goal = f->goal;
	out->fmt.created_ns = (int64_t)f->created_ns;
	out->version = f->version;
	out->raft_id = f->raft_id;
	return 0;
}

int ms_format_load(const char *dir, struct ms_format_info *out, char *err,
		   size_t errlen)
{
	char path[PATH_MAX];
	char why[RFS_CONFIG_ERR_MAX] = "";
	struct format_file f;
	struct stat st;
	int rc;

	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen,
			 "metadata directory %s does not exist; " FORMAT_HINT,
			 dir);
		return -ENOENT;
	}
	if (format_path(dir, MS_FORMAT_FILE, path, sizeof(path)) < 0) {
		snprintf(err, errlen, "directory name too long: %s", dir);
		return -ENAMETOOLONG;
	}
	if (access(path, F_OK) < 0) {
		snprintf(err, errlen,
			 "%s is not a ringfs metadata directory (no %s "
			 "file); " FORMAT_HINT,
			 dir, MS_FORMAT_FILE);
		return -ENOENT;
	}
	rc = rfs_config_init(format_keys, N_FORMAT_KEYS, &f, why, sizeof(why));
	if (rc < 0) {
		snprintf(err, errlen, "%s: %s", path, why);
		return rc;
	}
	rc = rfs_config_load(format_keys, N_FORMAT_KEYS, &f, path, why,
			     sizeof(why));
	if (rc < 0)
		snprintf(err, errlen,
			 "%s is not a ringfs format file this version "
			 "understands (%s); " FORMAT_HINT,
			 path, why);
	else
		rc = format_check_file(path, &f, out, err, errlen);
	rfs_config_release(format_keys, N_FORMAT_KEYS, &f);
	return rc < 0 ? -EPROTO : 0;
}

int ms_format_lock(const char *dir, int *fd, char *err, size_t errlen)
{
	char path[PATH_MAX];
	int rc;

	if (format_path(dir, MS_FORMAT_FILE, path, sizeof(path)) < 0)
		return -ENAMETOOLONG;
	*fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot open %s: %s", path,
			 strerror(-rc));
		return rc;
	}
	if (flock(*fd, LOCK_EX | LOCK_NB) == 0)
		return 0;
	rc = errno == EWOULDBLOCK ? -EBUSY : -errno;
	snprintf(err, errlen,
		 rc == -EBUSY ? "%s is in use by another ringfs-meta"
			      : "cannot lock %s",
		 dir);
	close(*fd);
	*fd = -1;
	return rc;
}
