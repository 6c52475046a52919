#include <config.h>
#include "common/config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/*
 * Longest line of an INI file, newline included. Settings are short
 * (paths, addresses, numbers); a longer line is refused, not cut.
 */
#define CONFIG_LINE_MAX 4096

/* The option that names the INI file; applied before all other options. */
#define CONFIG_FILE_OPTION "config"

/* Units of RFS_CONFIG_SIZE suffixes, in powers of 1024. */
#define SIZE_UNIT_SHIFT 10

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Key names compare with '_' and '-' equal, so "data_dir" is "data-dir". */
static bool key_matches(const char *key, const char *name, size_t name_len)
{
	size_t i;

	for (i = 0; i < name_len; i++) {
		char a = key[i];
		char b = name[i] == '_' ? '-' : name[i];

		if (a == '\0' || a != b)
			return false;
	}
	return key[name_len] == '\0';
}

static const struct rfs_config_key *find_key(const struct rfs_config_key *keys,
					     size_t n, const char *name,
					     size_t name_len)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (key_matches(keys[i].key, name, name_len))
			return &keys[i];
	}
	return NULL;
}

/*
 * Parse a plain decimal number. strtoull alone would accept leading
 * spaces and a sign ("-1" wraps to 2^64-1), so the first byte must be a
 * digit. Returns 0, -EINVAL (malformed) or -ERANGE (over 2^64-1); *end is
 * where the digits stop.
 */
static int parse_u64(const char *value, uint64_t *out, const char **end)
{
	char *endptr;
	unsigned long long v;

	if (!isdigit((unsigned char)value[0]))
		return -EINVAL;
	errno = 0;
	v = strtoull(value, &endptr, 10);
	if (errno == ERANGE)
		return -ERANGE;
	if (errno != 0)
		return -EINVAL;
	*out = v;
	*end = endptr;
	return 0;
}

/* A number with an optional K, M, G or T suffix (powers of 1024). */
static int parse_size(const char *value, uint64_t *out)
{
	static const char units[] = "KMGT";
	const char *end;
	const char *unit;
	uint64_t v;
	unsigned int shift;
	int rc;

	rc = parse_u64(value, &v, &end);
	if (rc < 0)
		return rc;
	if (*end == '\0') {
		*out = v;
		return 0;
	}
	unit = strchr(units, toupper((unsigned char)*end));
	if (!unit || end[1] != '\0')
		return -EINVAL;
	shift = SIZE_UNIT_SHIFT * (unsigned int)(unit - units + 1);
	if (v > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = v << shift;
	return 0;
}

static int parse_bool(const char *value, bool *out)
{
	static const char *const yes[] = {"true", "yes", "on", "1"};
	static const char *const no[] = {"false", "no", "off", "0"};
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(value, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(value, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

/*
 * Parse a numeric value of any number type and check it against the key's
 * range (and against UINT32_MAX for U32 fields).
 */
static int parse_number(const struct rfs_config_key *k, const char *value,
			uint64_t *out, char *err, size_t errlen)
{
	const char *end = value;
	uint64_t max = k->type == RFS_CONFIG_U32 ? UINT32_MAX : UINT64_MAX;
	int rc;

	if (k->type == RFS_CONFIG_SIZE)
		rc = parse_size(value, out);
	else if ((rc = parse_u64(value, out, &end)) == 0 && *end != '\0')
		rc = -EINVAL;
	if (rc == -EINVAL) {
		set_err(err, errlen, "setting '%s': '%s' is not a %s", k->key,
			value,
			k->type == RFS_CONFIG_SIZE
			    ? "size (a number with optional K, M, G or T)"
			    : "decimal number");
		return rc;
	}
	if (rc == 0 && (k->min != 0 || k->max != 0) &&
	    (*out < k->min || *out > k->max)) {
		set_err(err, errlen,
			"setting '%s': %s is outside the range %llu..%llu",
			k->key, value, (unsigned long long)k->min,
			(unsigned long long)k->max);
		return -ERANGE;
	}
	if (rc == -ERANGE || *out > max) {
		set_err(err, errlen, "setting '%s': %s is too large", k->key,
			value);
		return -ERANGE;
	}
	return 0;
}

/* Store value into the field of one key. */
static int set_value(const struct rfs_config_key *k, void *settings,
		     const char *value, char *err, size_t errlen)
{
	char *field = (char *)settings + k->offset;
	uint64_t num = 0;
	char *copy;
	int rc;

	switch (k->type) {
	case RFS_CONFIG_STR:
		copy = strdup(value);
		if (!copy) {
			set_err(err, errlen, "setting '%s': out of memory",
				k->key);
			return -ENOMEM;
		}
		free(*(char **)field);
		*(char **)field = copy;
		return 0;
	case RFS_CONFIG_BOOL:
		rc = parse_bool(value, (bool *)field);
		if (rc < 0)
			set_err(err, errlen,
				"setting '%s': '%s' is not true/false, yes/no, "
				"on/off or 1/0",
				k->key, value);
		return rc;
	case RFS_CONFIG_U32:
	case RFS_CONFIG_U64:
	case RFS_CONFIG_SIZE:
		rc = parse_number(k, value, &num, err, errlen);
		if (rc < 0)
			return rc;
		if (k->type == RFS_CONFIG_U32)
			*(uint32_t *)field = (uint32_t)num;
		else
			*(uint64_t *)field = num;
		return 0;
	}
	set_err(err, errlen, "setting '%s': unknown type %d", k->key, k->type);
	return -EINVAL;
}

/* The value a key holds when its table entry has no default (def NULL). */
static void set_zero(const struct rfs_config_key *k, void *settings)
{
	char *field = (char *)settings + k->offset;

	if (k->type == RFS_CONFIG_U32)
		*(uint32_t *)field = 0;
	else if (k->type == RFS_CONFIG_U64 || k->type == RFS_CONFIG_SIZE)
		*(uint64_t *)field = 0;
	else if (k->type == RFS_CONFIG_BOOL)
		*(bool *)field = false;
}

int rfs_config_init(const struct rfs_config_key *keys, size_t n, void *settings,
		    char *err, size_t errlen)
{
	size_t i;
	int rc;

	/* settings may hold garbage: clear every string before any free */
	for (i = 0; i < n; i++) {
		if (keys[i].type == RFS_CONFIG_STR)
			*(char **)((char *)settings + keys[i].offset) = NULL;
	}
	for (i = 0; i < n; i++) {
		if (!keys[i].def && keys[i].type != RFS_CONFIG_STR) {
			set_zero(&keys[i], settings);
			continue;
		}
		rc = set_value(&keys[i], settings,
			       keys[i].def ? keys[i].def : "", err, errlen);
		if (rc < 0)
			goto out_release;
	}
	return 0;

out_release:
	rfs_config_release(keys, n, settings);
	return rc;
}

int rfs_config_set(const struct rfs_config_key *keys, size_t n, void *settings,
		   const char *key, const char *value, char *err, size_t errlen)
{
	const struct rfs_config_key *k;

	k = key ? find_key(keys, n, key, strlen(key)) : NULL;
	if (!k) {
		set_err(err, errlen, "unknown setting '%s'", key ? key : "");
		return -EINVAL;
	}
	if (!value) {
		set_err(err, errlen, "setting '%s' needs a value", k->key);
		return -EINVAL;
	}
	return set_value(k, settings, value, err, errlen);
}

/* Cut leading and trailing white space in place; returns the new start. */
static char *trim(char *s)
{
	size_t len;

	while (isspace((unsigned char)*s))
		s++;
	len = strlen(s);
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		s[--len] = '\0';
	return s;
}

/*
 * Apply one INI line (already trimmed). Blank lines, comments and
 * "[section]" headers are skipped.
 */
static int apply_line(const struct rfs_config_key *keys, size_t n,
		      void *settings, char *line, char *err, size_t errlen)
{
	char *eq;

	if (line[0] == '\0' || line[0] == '#' || line[0] == ';' ||
	    line[0] == '[')
		return 0;
	eq = strchr(line, '=');
	if (!eq) {
		set_err(err, errlen, "expected 'key = value', got '%s'", line);
		return -EINVAL;
	}
	*eq = '\0';
	return rfs_config_set(keys, n, settings, trim(line), trim(eq + 1), err,
			      errlen);
}

/* True when f has nothing more to read (the last line had no newline). */
static bool at_eof(FILE *f)
{
	int c = getc(f);

	if (c == EOF)
		return true;
	ungetc(c, f);
	return false;
}

int rfs_config_load(const struct rfs_config_key *keys, size_t n, void *settings,
		    const char *path, char *err, size_t errlen)
{
	char line[CONFIG_LINE_MAX];
	char why[RFS_CONFIG_ERR_MAX];
	unsigned int lineno = 0;
	FILE *f;
	int rc = 0;

	f = fopen(path, "r");
	if (!f) {
		rc = -errno;
		set_err(err, errlen, "cannot read config file '%s': %s", path,
			strerror(-rc));
		return rc;
	}
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		if (!strchr(line, '\n') && !at_eof(f)) {
			snprintf(why, sizeof(why), "line longer than %d bytes",
				 CONFIG_LINE_MAX - 1);
			rc = -EINVAL;
		} else {
			rc = apply_line(keys, n, settings, trim(line), why,
					sizeof(why));
		}
		if (rc < 0) {
			set_err(err, errlen, "%s:%u: %s", path, lineno, why);
			goto out_close;
		}
	}
	if (ferror(f)) {
		/* e.g. EISDIR: fopen() opens a directory, reading it fails */
		rc = errno ? -errno : -EIO;
		set_err(err, errlen, "cannot read config file '%s': %s", path,
			strerror(-rc));
	}

out_close:
	fclose(f);
	return rc;
}

/* One "--name[=value]" or "--name value" option of argv. */
struct option_arg {
	const char *name;
	size_t name_len;
	const char *value;
};

/*
 * Read the option at argv[*i] and advance *i past it (and its value).
 * Returns 1 for an option, 0 at the end of the options (*i is then the
 * first positional argument), or -EINVAL for "--name" without a value.
 */
static int next_option(int argc, char **argv, int *i, struct option_arg *opt,
		       char *err, size_t errlen)
{
	const char *arg;
	const char *eq;

	if (*i >= argc)
		return 0;
	arg = argv[*i];
	if (strcmp(arg, "--") == 0) {
		(*i)++;
		return 0;
	}
	if (strncmp(arg, "--", 2) != 0)
		return 0;
	opt->name = arg + 2;
	eq = strchr(opt->name, '=');
	if (eq) {
		opt->name_len = (size_t)(eq - opt->name);
		opt->value = eq + 1;
		(*i)++;
		return 1;
	}
	opt->name_len = strlen(opt->name);
	if (*i + 1 >= argc) {
		set_err(err, errlen, "option '%s' needs a value", arg);
		return -EINVAL;
	}
	opt->value = argv[*i + 1];
	*i += 2;
	return 1;
}

static bool is_config_option(const struct option_arg *opt)
{
	return opt->name_len == strlen(CONFIG_FILE_OPTION) &&
	       strncmp(opt->name, CONFIG_FILE_OPTION, opt->name_len) == 0;
}

/* First pass over argv: load every --config file, in order. */
static int load_config_args(const struct rfs_config_key *keys, size_t n,
			    void *settings, int argc, char **argv, char *err,
			    size_t errlen)
{
	struct option_arg opt;
	int i = 1;
	int rc;

	while ((rc = next_option(argc, argv, &i, &opt, err, errlen)) > 0) {
		if (!is_config_option(&opt))
			continue;
		rc = rfs_config_load(keys, n, settings, opt.value, err, errlen);
		if (rc < 0)
			return rc;
	}
	return rc;
}

int rfs_config_parse_args(const struct rfs_config_key *keys, size_t n,
			  void *settings, int argc, char **argv, int *first_arg,
			  char *err, size_t errlen)
{
	const struct rfs_config_key *k;
	struct option_arg opt;
	int i = 1;
	int rc;

	rc = load_config_args(keys, n, settings, argc, argv, err, errlen);
	if (rc < 0)
		return rc;
	while ((rc = next_option(argc, argv, &i, &opt, err, errlen)) > 0) {
		if (is_config_option(&opt))
			continue;
		k = find_key(keys, n, opt.name, opt.name_len);
		if (!k) {
			set_err(err, errlen, "unknown setting '%.*s'",
				(int)opt.name_len, opt.name);
			return -EINVAL;
		}
		rc = set_value(k, settings, opt.value, err, errlen);
		if (rc < 0)
			return rc;
	}
	if (rc < 0)
		return rc;
	if (first_arg)
		*first_arg = i;
	return 0;
}

static const char *value_placeholder(enum rfs_config_type type)
{
	switch (type) {
	case RFS_CONFIG_U32:
	case RFS_CONFIG_U64:
		return "N";
	case RFS_CONFIG_SIZE:
		return "SIZE";
	case RFS_CONFIG_BOOL:
		return "BOOL";
	case RFS_CONFIG_STR:
		break;
	}
	return "VALUE";
}

void rfs_config_print_help(const struct rfs_config_key *keys, size_t n,
			   FILE *out)
{
	size_t width = 0;
	size_t len;
	size_t i;

	for (i = 0; i < n; i++) {
		len = strlen(keys[i].key) +
		      strlen(value_placeholder(keys[i].type));
		if (len > width)
			width = len;
	}
	for (i = 0; i < n; i++) {
		len = strlen(keys[i].key) +
		      strlen(value_placeholder(keys[i].type));
		fprintf(out, "  --%s=%s%*s  %s", keys[i].key,
			value_placeholder(keys[i].type), (int)(width - len), "",
			keys[i].help ? keys[i].help : "");
		if (keys[i].def && keys[i].def[0])
			fprintf(out, " (default: %s)", keys[i].def);
		fputc('\n', out);
	}
}

void rfs_config_release(const struct rfs_config_key *keys, size_t n,
			void *settings)
{
	char **field;
	size_t i;

	for (i = 0; i < n; i++) {
		if (keys[i].type != RFS_CONFIG_STR)
			continue;
		field = (char **)((char *)settings + keys[i].offset);
		free(*field);
		*field = NULL;
	}
}

int rfs_config_setup(const struct rfs_config_key *keys, size_t n,
		     void *settings, int argc, char **argv, char *err,
		     size_t errlen)
{
	int first = argc;
	int rc;

	rc = rfs_config_init(keys, n, settings, err, errlen);
	if (rc == 0)
		rc = rfs_config_parse_args(keys, n, settings, argc, argv,
					   &first, err, errlen);
	if (rc == 0 && first < argc) {
		snprintf(err, errlen, "unexpected argument '%s'", argv[first]);
		rc = -EINVAL;
	}
	return rc;
}

enum rfs_config_flag rfs_config_find_flag(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0)
			return RFS_CONFIG_FLAG_HELP;
		if (strcmp(argv[i], "--version") == 0)
			return RFS_CONFIG_FLAG_VERSION;
	}
	return RFS_CONFIG_FLAG_NONE;
}

enum rfs_config_flag rfs_config_early_flags(int argc, char **argv,
					    rfs_config_flag_cb print)
{
	enum rfs_config_flag flag = rfs_config_find_flag(argc, argv);

	if (flag != RFS_CONFIG_FLAG_NONE)
		print(flag);
	return flag;
}
