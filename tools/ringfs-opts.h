/*
 * ringfs-opts: command-line parsing of the ringfs CLI, pure (no I/O, no
 * globals), so it is unit-tested. Options may stand before or after the
 * command and between operands, GNU style; "--" ends options; "-" alone is
 * an operand (stdin/stdout). Short flags combine ("-rq"); -m takes its
 * value attached ("-mHOST:PORT") or as the next argument.
 */
#ifndef RFS_TOOLS_RINGFS_OPTS_H
#define RFS_TOOLS_RINGFS_OPTS_H

#include <stdbool.h>
#include <stddef.h>

/* Flags a command may accept (bit set in rcli_command.flags). */
#define RCLI_F_RECURSIVE (1u << 0) /* -r, -R, --recursive */
#define RCLI_F_LONG	 (1u << 1) /* -l, --long */
#define RCLI_F_PARENTS	 (1u << 2) /* -p, --parents */

/* Longest error text rcli_parse writes. */
#define RCLI_ERR_MAX 256

struct rcli_command {
	const char *name;
	unsigned int flags; /* RCLI_F_* it accepts */
	int min_args;
	int max_args;	     /* -1: any number */
	const char *usage;   /* "put [-r] LOCAL... REMOTE" */
	const char *summary; /* one line for the command list */
	const char *help;    /* paragraph for "ringfs CMD --help" */
};

struct rcli_opts {
	const char *meta;      /* -m/--meta value, NULL if not given */
	unsigned int parallel; /* 0 if not given */
	bool quiet;
	bool help;
	bool version;
	unsigned int flags;		    /* RCLI_F_* given */
	const struct rcli_command *command; /* NULL: none given */
	char **args;			    /* operands after the command */
	int n_args;
};

/* The command table, terminated by an entry with name NULL. */
extern const struct rcli_command rcli_commands[];

/* The command called name, or NULL. */
const struct rcli_command *rcli_find_command(const char *name);

/*
 * Parse argv[1..argc). Returns 0; -EINVAL with a message in err for an
 * unknown option or command, a missing or bad value, an option the
 * command does not take, or a wrong operand count (not checked when
 * help or version is set); -ENOMEM. The operands point into argv; release
 * o with rcli_opts_release().
 */
int rcli_parse(int argc, char **argv, struct rcli_opts *o, char *err,
	       size_t errlen);
void rcli_opts_release(struct rcli_opts *o);

/* The metaserver to use: -m, else env (when non-empty), else default. */
const char *rcli_meta_addr(const struct rcli_opts *o, const char *env);

#endif
