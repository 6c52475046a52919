#include <config.h>
#include "tools/ringfs-opts.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/client.h"

const struct rcli_command rcli_commands[] = {
    {"put", RCLI_F_RECURSIVE, 2, -1, "put [-r] LOCAL... REMOTE",
     "upload files (or directories with -r)",
     "Upload LOCAL to REMOTE. If REMOTE is an existing directory, LOCAL\n"
     "goes inside it under its own name; with several LOCALs it must be.\n"
     "LOCAL '-' reads standard input. The data is written to a hidden temp\n"
     "file '.NAME.ringfs-part-XXXXXXXX' and renamed over NAME only when\n"
     "every chunk is committed, so a failed put leaves no half file.\n"
     "The permission bits are kept. -r uploads directories recursively.\n"},
    {"get", RCLI_F_RECURSIVE, 2, -1, "get [-r] REMOTE... LOCAL",
     "download files (or directories with -r)",
     "Download REMOTE to LOCAL ('-' = standard output). If LOCAL is an\n"
     "existing directory, REMOTE goes inside it under its own name. The\n"
     "file is written to a hidden temp file next to LOCAL and renamed into\n"
     "place at the end. Every 64 KiB block is checked against its CRC32C;\n"
     "a bad or unreachable replica is reported and another one used.\n"
     "-r downloads directories recursively.\n"},
    {"cat", 0, 1, -1, "cat REMOTE...", "write files to standard output",
     "Write the contents of each REMOTE file to standard output, in order,\n"
     "checking every block's CRC32C.\n"},
    {"ls", RCLI_F_LONG, 0, -1, "ls [-l] [PATH...]", "list directories",
     "List the entries of each directory PATH (default /), sorted by name.\n"
     "A file PATH lists itself. -l adds mode, links, owner, group, size,\n"
     "modification time and symlink targets.\n"},
    {"stat", 0, 1, -1, "stat PATH...", "show attributes",
     "Print the attributes of each PATH as 'Key: value' lines.\n"},
    {"mkdir", RCLI_F_PARENTS, 1, -1, "mkdir [-p] PATH...", "create directories",
     "Create each directory PATH (mode 0755). -p creates missing parents\n"
     "and accepts directories that already exist.\n"},
    {"rm", RCLI_F_RECURSIVE, 1, -1, "rm [-r] PATH...", "remove files",
     "Remove each PATH. Directories need -r, which removes everything\n"
     "below them.\n"},
    {"mv", 0, 2, 2, "mv SRC DST", "rename or move",
     "Rename SRC to DST atomically, replacing DST if it is a file. If DST\n"
     "is an existing directory, SRC moves inside it under its own name.\n"},
    {NULL, 0, 0, 0, NULL, NULL, NULL},
};

const struct rcli_command *rcli_find_command(const char *name)
{
	const struct rcli_command *c;

	for (c = rcli_commands; c->name; c++)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int parse_parallel(const char *s, struct rcli_opts *o, char *err,
			  size_t errlen)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v < 1 ||
	    v > RFS_CLIENT_PARALLEL_MAX) {
		snprintf(err, errlen,
			 "invalid --parallel value '%s' (expected 1..%d)", s,
			 RFS_CLIENT_PARALLEL_MAX);
		return -EINVAL;
	}
	o->parallel = (unsigned int)v;
	return 0;
}

/* A long option with its value: "--key=value" or "--key value". */
static int long_value(const char *arg, const char *key, int argc, char **argv,
		      int *i, const char **value)
{
	size_t klen = strlen(key);

	if (strncmp(arg + 2, key, klen) != 0)
		return 0;
	if (arg[2 + klen] == '=') {
		*value = arg + 3 + klen;
		return 1;
	}
	if (arg[2 + klen] != '\0')
		return 0;
	if (*i + 1 >= argc)
		return -1;
	*value = argv[++*i];
	return 1;
}

static int parse_long(const char *arg, int argc, char **argv, int *i,
		      struct rcli_opts *o, char *err, size_t errlen)
{
	static const struct {
		const char *name;
		unsigned int flag;
	} flags[] = {{"recursive", RCLI_F_RECURSIVE},
		     {"long", RCLI_F_LONG},
		     {"parents", RCLI_F_PARENTS}};
	const char *v = NULL;
	size_t k;
	int r;

	for (k = 0; k < sizeof(flags) / sizeof(flags[0]); k++)
		if (strcmp(arg + 2, flags[k].name) == 0) {
			o->flags |= flags[k].flag;
			return 0;
		}
	if (strcmp(arg, "--quiet") == 0) {
		o->quiet = true;
		return 0;
	}
	if (strcmp(arg, "--help") == 0) {
		o->help = true;
		return 0;
	}
	if (strcmp(arg, "--version") == 0) {
		o->version = true;
		return 0;
	}
	r = long_value(arg, "meta", argc, argv, i, &v);
	if (r > 0)
		o->meta = v;
	if (r == 0) {
		r = long_value(arg, "parallel", argc, argv, i, &v);
		if (r > 0 && parse_parallel(v, o, err, errlen) < 0)
			return -EINVAL;
	}
	if (r < 0)
		return fail(err, errlen, "option '%s' needs a value", arg);
	if (r == 0)
		return fail(err, errlen, "unknown option '%s'", arg);
	return 0;
}

/* A cluster of short flags: "-rq", "-m HOST", "-mHOST". */
static int parse_short(const char *arg, int argc, char **argv, int *i,
		       struct rcli_opts *o, char *err, size_t errlen)
{
	const char *p;
	char bad[3] = "-?";

	for (p = arg + 1; *p; p++) {
		switch (*p) {
		case 'r':
		case 'R':
			o->flags |= RCLI_F_RECURSIVE;
			break;
		case 'l':
			o->flags |= RCLI_F_LONG;
			break;
		case 'p':
			o->flags |= RCLI_F_PARENTS;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'h':
			o->help = true;
			break;
		case 'm':
			if (p[1]) {
				o->meta = p + 1;
				return 0;
			}
			if (*i + 1 >= argc)
				return fail(err, errlen,
					    "option '%s' needs a value", "-m");
			o->meta = argv[++*i];
			return 0;
		default:
			bad[1] = *p;
			return fail(err, errlen, "unknown option '%s'", bad);
		}
	}
	return 0;
}

/* Flags given that the command does not take. */
static int check_command(const struct rcli_opts *o, char *err, size_t errlen)
{
	static const struct {
		unsigned int flag;
		const char *name;
	} names[] = {{RCLI_F_RECURSIVE, "-r"},
		     {RCLI_F_LONG, "-l"},
		     {RCLI_F_PARENTS, "-p"}};
	const struct rcli_command *c = o->command;
	size_t k;

	for (k = 0; k < sizeof(names) / sizeof(names[0]); k++)
		if ((o->flags & names[k].flag) && !(c->flags & names[k].flag)) {
			snprintf(err, errlen, "%s: option %s is not valid here",
				 c->name, names[k].name);
			return -EINVAL;
		}
	if (o->n_args < c->min_args ||
	    (c->max_args >= 0 && o->n_args > c->max_args)) {
		snprintf(err, errlen,
			 "%s: wrong number of arguments (usage: %s)", c->name,
			 c->usage);
		return -EINVAL;
	}
	return 0;
}

/* An operand: the command name first, then its arguments. */
static int add_operand(char *arg, struct rcli_opts *o, char *err, size_t errlen)
{
	if (!o->command) {
		o->command = rcli_find_command(arg);
		return o->command
			   ? 0
			   : fail(err, errlen,
				  "unknown command '%s' (see ringfs --help)",
				  arg);
	}
	o->args[o->n_args++] = arg;
	return 0;
}

int rcli_parse(int argc, char **argv, struct rcli_opts *o, char *err,
	       size_t errlen)
{
	bool opts_done = false;
	int rc = 0;
	int i;

	memset(o, 0, sizeof(*o));
	err[0] = '\0';
	o->args = calloc(argc > 0 ? (size_t)argc : 1, sizeof(*o->args));
	if (!o->args)
		return -ENOMEM;
	for (i = 1; i < argc && rc == 0; i++) {
		char *a = argv[i];

		if (opts_done || a[0] != '-' || a[1] == '\0')
			rc = add_operand(a, o, err, errlen);
		else if (strcmp(a, "--") == 0)
			opts_done = true;
		else if (a[1] == '-')
			rc = parse_long(a, argc, argv, &i, o, err, errlen);
		else
			rc = parse_short(a, argc, argv, &i, o, err, errlen);
	}
	if (rc == 0 && o->command && !o->help && !o->version)
		rc = check_command(o, err, errlen);
	if (rc < 0)
		rcli_opts_release(o);
	return rc;
}

void rcli_opts_release(struct rcli_opts *o)
{
	free(o->args);
	o->args = NULL;
	o->n_args = 0;
}

const char *rcli_meta_addr(const struct rcli_opts *o, const char *env)
{
	if (o->meta)
		return o->meta;
	if (env && *env)
		return env;
	return RFS_CLIENT_META_DEFAULT;
}
