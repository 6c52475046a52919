/*
 * config: table-driven settings for every program. A program declares its
 * settings once, as an array of struct rfs_config_key (key, type, default,
 * range, offsetof the field it fills, help text); this module applies the
 * defaults, reads an INI file ("key = value" lines, '#' or ';' comments,
 * "[section]" lines ignored), applies "--key=value" command-line overrides,
 * range-checks every value, rejects unknown keys and prints --help.
 * Keys are lower-case with '-' ("data-dir"); '_' is accepted for '-'.
 * Not thread-safe: call from main() before threads start.
 */
#ifndef RFS_COMMON_CONFIG_H
#define RFS_COMMON_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum rfs_config_type {
	RFS_CONFIG_STR,	 /* char * field, malloc'd copy ("" if no default) */
	RFS_CONFIG_U32,	 /* uint32_t field, decimal */
	RFS_CONFIG_U64,	 /* uint64_t field, decimal */
	RFS_CONFIG_SIZE, /* uint64_t field, bytes; accepts K, M, G, T (1024) */
	RFS_CONFIG_BOOL, /* bool field: true/false, yes/no, on/off, 1/0 */
};

struct rfs_config_key {
	const char *key;
	enum rfs_config_type type;
	const char *def; /* default, as it would be written in the file */
	uint64_t min;	 /* numbers only; min == max == 0 means no range */
	uint64_t max;
	size_t offset; /* offsetof(struct settings, field) */
	const char *help;
};

/* Longest error text these functions write into err. */
#define RFS_CONFIG_ERR_MAX 256

/*
 * Fill every field of settings from the defaults. Returns 0, -ENOMEM, or
 * -EINVAL if a default itself is invalid (a programming error, explained in
 * err).
 */
int rfs_config_init(const struct rfs_config_key *keys, size_t n, void *settings,
		    char *err, size_t errlen);

/*
 * Set one key from its text value. Returns 0; -EINVAL for an unknown key or
 * a malformed value; -ERANGE for a number outside [min, max]; err says which
 * key and why, e.g. "unknown setting 'dta-dir'".
 */
int rfs_config_set(const struct rfs_config_key *keys, size_t n, void *settings,
		   const char *key, const char *value, char *err,
		   size_t errlen);

/*
 * Apply an INI file. Returns 0, -ENOENT/-EACCES when it cannot be read, or
 * the rfs_config_set error of its first bad line (err names file:line).
 */
int rfs_config_load(const struct rfs_config_key *keys, size_t n, void *settings,
		    const char *path, char *err, size_t errlen);

/*
 * Parse argv[1..argc): "--config FILE" or "--config=FILE" (applied first,
 * wherever it stands), then each "--key=value" or "--key value" in order.
 * Option parsing stops at "--" or at the first argument not starting with
 * "--"; *first_arg gets the index of the first positional argument (argc if
 * none). Flags the program handles itself (--help, --version, --format...)
 * must be removed or checked by main() before calling. Errors as
 * rfs_config_set.
 */
int rfs_config_parse_args(const struct rfs_config_key *keys, size_t n,
			  void *settings, int argc, char **argv, int *first_arg,
			  char *err, size_t errlen);

/*
 * rfs_config_init() then rfs_config_parse_args(), refusing positional
 * arguments: the whole command line of a daemon. Errors as
 * rfs_config_parse_args, -EINVAL "unexpected argument 'x'" for a
 * positional one.
 */
int rfs_config_setup(const struct rfs_config_key *keys, size_t n,
		     void *settings, int argc, char **argv, char *err,
		     size_t errlen);

enum rfs_config_flag {
	RFS_CONFIG_FLAG_NONE = 0,
	RFS_CONFIG_FLAG_HELP,	 /* -h or --help */
	RFS_CONFIG_FLAG_VERSION, /* --version */
};

/* The first of -h/--help/--version in argv[1..) before any "--". */
enum rfs_config_flag rfs_config_find_flag(int argc, char **argv);

/*
 * Prints what a program says for flag (its usage and settings for
 * RFS_CONFIG_FLAG_HELP, its name and version for RFS_CONFIG_FLAG_VERSION);
 * lives in the program's main.c, the one place that prints.
 */
typedef void (*rfs_config_flag_cb)(enum rfs_config_flag flag);

/*
 * The --help/--version step of a daemon's main(): finds the flag as
 * rfs_config_find_flag() does and, when there is one, calls print(flag).
 * Returns the flag found (RFS_CONFIG_FLAG_NONE: go on; otherwise main()
 * exits 0). Prints nothing itself; cannot fail.
 */
enum rfs_config_flag rfs_config_early_flags(int argc, char **argv,
					    rfs_config_flag_cb print);

/* Print one line per key: "  --key=VALUE  help (default: def)". */
void rfs_config_print_help(const struct rfs_config_key *keys, size_t n,
			   FILE *out);

/* Free the strings the settings hold. */
void rfs_config_release(const struct rfs_config_key *keys, size_t n,
			void *settings);

#endif
