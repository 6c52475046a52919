#include <config.h>
#include "client/client.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Drop the last component of the normalised path out[0..*len). */
static void pop_component(char *out, size_t *len)
{
	while (*len > 1 && out[*len - 1] != '/')
		(*len)--;
	if (*len > 1)
		(*len)--; /* the '/' before it, unless it is the root */
	out[*len] = '\0';
}

/* Append "/" + comp[0..clen) to out[0..*len). */
static int push_component(char *out, size_t outlen, size_t *len,
			  const char *comp, size_t clen)
{
	size_t need = *len + (*len > 1 ? 1 : 0) + clen + 1;
	int rc = rfs_proto_check_name(comp, clen);

	if (rc < 0)
		return rc;
	if (need > outlen || need > RFS_PATH_MAX)
		return -ENAMETOOLONG;
	if (*len > 1)
		out[(*len)++] = '/';
	memcpy(out + *len, comp, clen);
	*len += clen;
	out[*len] = '\0';
	return 0;
}

int rfs_path_normalize(const char *in, char *out, size_t outlen)
{
	const char *p = in;
	size_t len = 1;

	if (!in || !*in)
		return -EINVAL;
	if (outlen < 2)
		return -ENAMETOOLONG;
	out[0] = '/';
	out[1] = '\0';
	while (*p) {
		const char *slash = strchr(p, '/');
		size_t clen = slash ? (size_t)(slash - p) : strlen(p);
		int rc = 0;

		if (clen == 2 && p[0] == '.' && p[1] == '.')
			pop_component(out, &len);
		else if (clen > 0 && !(clen == 1 && p[0] == '.'))
			rc = push_component(out, outlen, &len, p, clen);
		if (rc < 0)
			return rc;
		p += clen;
		if (*p == '/')
			p++;
	}
	return 0;
}

int rfs_path_split(const char *path, char *parent, size_t plen, char *name,
		   size_t nlen)
{
	const char *slash = strrchr(path, '/');
	size_t dlen;

	if (!slash || slash[1] == '\0')
		return -EINVAL;
	dlen = slash == path ? 1 : (size_t)(slash - path);
	if (dlen + 1 > plen || strlen(slash + 1) + 1 > nlen)
		return -ENAMETOOLONG;
	memcpy(parent, path, dlen);
	parent[dlen] = '\0';
	memcpy(name, slash + 1, strlen(slash + 1) + 1);
	return 0;
}

int rfs_path_basename(const char *path, char *out, size_t outlen)
{
	size_t end = strlen(path);
	size_t start;

	while (end > 1 && path[end - 1] == '/')
		end--;
	if (end == 1 && path[0] == '/')
		start = 0;
	else {
		start = end;
		while (start > 0 && path[start - 1] != '/')
			start--;
	}
	if (end - start + 1 > outlen)
		return -ENAMETOOLONG;
	memcpy(out, path + start, end - start);
	out[end - start] = '\0';
	return 0;
}

int rfs_path_join(const char *dir, const char *name, char *out, size_t outlen)
{
	size_t dlen = strlen(dir);
	bool slash = dlen > 0 && dir[dlen - 1] == '/';
	int n;

	n = snprintf(out, outlen, "%s%s%s", dir, slash || dlen == 0 ? "" : "/",
		     name);
	return n < 0 || (size_t)n >= outlen ? -ENAMETOOLONG : 0;
}
