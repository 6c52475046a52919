/*
 * ringfs-micro: micro-benchmarks of the hot paths (bench/micro/micro.h).
 * Thin: settings, the group to run, and the output. Each finished
 * measurement is one tab-separated line on stdout,
 *
 *   result GROUP NAME PARAMS UNIT MEDIAN MIN MAX SAMPLE,SAMPLE,...
 *
 * which bench/micro/run turns into a table or JSON; progress and errors go
 * to stderr. Exit status: 0, 1 when the group failed (after the lines of
 * the measurements it finished), 2 for a bad command line.
 */
#include <config.h>

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/micro/micro.h"
#include "common/config.h"
#include "common/proto.h"

#define MB_PROG "ringfs-micro"
/* Largest server count for the ring group: 1000 servers take ~1 s to
 * build; 100000 would take minutes and 3 GB. */
#define MB_SERVERS_MAX 20000
/* Most client threads of the meta group. */
#define MB_CLIENTS_MAX 256

struct mb_settings {
	uint32_t reps;
	uint32_t min_time_ms;
	char *servers;
	char *meta;
	uint32_t files;
	char *clients;
	char *chunk;
	uint64_t size;
};

#define KEY(name, type, def, min, max, field, help)                            \
	{                                                                      \
		name, type, def, min, max,                                     \
		    offsetof(struct mb_settings, field), help                  \
	}
static const struct rfs_config_key mb_keys[] = {
    KEY("reps", RFS_CONFIG_U32, "3", 1, MB_REPS_MAX, reps,
	"samples per measurement (median, min and max are reported)"),
    KEY("min-time-ms", RFS_CONFIG_U32, "500", 1, 60000, min_time_ms,
	"least time per sample of a timed loop (ring, crc, chunk)"),
    KEY("servers", RFS_CONFIG_STR, "10,100,1000", 0, 0, servers,
	"ring: comma-separated server counts"),
    KEY("meta", RFS_CONFIG_STR, "", 0, 0, meta,
	"meta: metaserver address (host:port)"),
    KEY("files", RFS_CONFIG_U32, "2000", 1, 1000000, files,
	"meta: files created, stat'ed and unlinked per sample"),
    KEY("clients", RFS_CONFIG_STR, "1,4", 0, 0, clients,
	"meta: comma-separated counts of parallel clients (threads)"),
    KEY("chunk", RFS_CONFIG_STR, "", 0, 0, chunk,
	"chunk: chunk server address (host:port)"),
    KEY("size", RFS_CONFIG_SIZE, "64M", 1, RFS_CHUNK_SIZE_MAX, size,
	"chunk: bytes per PUT/GET (K/M suffixes), at most 64M"),
};
#define N_MB_KEYS (sizeof(mb_keys) / sizeof(mb_keys[0]))

typedef int (*mb_group_fn)(struct mb_ctx *ctx);

static const struct {
	const char *name;
	mb_group_fn run;
	const char *what;
} mb_groups[] = {
    {"ring", mb_ring_run, "ring build ms and lookup ns/op"},
    {"crc", mb_crc_run, "CRC32C GB/s"},
    {"meta", mb_meta_run, "metadata ops/s against --meta"},
    {"chunk", mb_chunk_run, "chunk PUT/GET MB/s against --chunk"},
};
#define N_MB_GROUPS (sizeof(mb_groups) / sizeof(mb_groups[0]))

static void usage(FILE *out)
{
	fprintf(out, "usage: " MB_PROG " GROUP [--key=value ...]\n"
		     "       " MB_PROG " --help\n\n"
		     "Micro-benchmarks of the ringfs hot paths. Groups:\n");
	for (size_t i = 0; i < N_MB_GROUPS; i++)
		fprintf(out, "  %-6s %s\n", mb_groups[i].name,
			mb_groups[i].what);
	fprintf(out, "\nOne line per measurement on stdout:\n"
		     "  result GROUP NAME PARAMS UNIT MEDIAN MIN MAX SAMPLES "
		     "(tab-separated)\n"
		     "bench/micro/run starts the servers and prints a "
		     "table.\n\nsettings:\n");
	rfs_config_print_help(mb_keys, N_MB_KEYS, out);
}

static void report(const struct mb_result *r, void *arg)
{
	double med;
	double min;
	double max;

	mb_stats(r->samples, r->n, &med, &min, &max);
	printf("result\t%s\t%s\t%s\t%s\t%.6g\t%.6g\t%.6g\t", r->group, r->name,
	       r->params, r->unit, med, min, max);
	for (unsigned int i = 0; i < r->n; i++)
		printf("%s%.6g", i ? "," : "", r->samples[i]);
	printf("\n");
	fflush(stdout);
}

static void progress(const struct mb_result *r, void *arg)
{
	fprintf(stderr, MB_PROG ": %s %s %s\n", r->group, r->name, r->params);
}

/* "10,100,1000" into out[0..MB_LIST_MAX), each in 1..max. */
static int parse_list(const char *s, size_t max, size_t *out, size_t *n)
{
	const char *p = s;

	*n = 0;
	while (*p) {
		char *end;
		unsigned long v;

		errno = 0;
		v = strtoul(p, &end, 10);
		if (end == p || errno || v < 1 || v > max || *n == MB_LIST_MAX)
			return -EINVAL;
		if (*end != ',' && *end != '\0')
			return -EINVAL;
		out[(*n)++] = v;
		p = *end ? end + 1 : end;
	}
	return *n ? 0 : -EINVAL;
}

/* Settings into ctx; messages on stderr. Returns 0 or -EINVAL. */
static int settings_apply(const struct mb_settings *set, const char *group,
			  struct mb_ctx *ctx)
{
	size_t clients[MB_LIST_MAX];

	ctx->reps = set->reps;
	ctx->min_time_s = set->min_time_ms / 1e3;
	ctx->meta = set->meta;
	ctx->chunk = set->chunk;
	ctx->files = set->files;
	ctx->size = set->size;
	if (parse_list(set->servers, MB_SERVERS_MAX, ctx->servers,
		       &ctx->n_servers) < 0) {
		fprintf(stderr,
			MB_PROG ": --servers wants up to %d counts in 1..%d, "
				"comma-separated\n",
			MB_LIST_MAX, MB_SERVERS_MAX);
		return -EINVAL;
	}
	if (parse_list(set->clients, MB_CLIENTS_MAX, clients, &ctx->n_clients) <
	    0) {
		fprintf(stderr,
			MB_PROG ": --clients wants up to %d counts in 1..%d, "
				"comma-separated\n",
			MB_LIST_MAX, MB_CLIENTS_MAX);
		return -EINVAL;
	}
	for (size_t i = 0; i < ctx->n_clients; i++)
		ctx->clients[i] = (unsigned int)clients[i];
	if ((!strcmp(group, "meta") && !ctx->meta[0]) ||
	    (!strcmp(group, "chunk") && !ctx->chunk[0])) {
		fprintf(stderr, MB_PROG ": %s needs --%s=HOST:PORT\n", group,
			group);
		return -EINVAL;
	}
	return 0;
}

/* The command line into set and ctx; returns the group's index, or -1. */
static int configure(int argc, char **argv, struct mb_settings *set,
		     struct mb_ctx *ctx)
{
	char err[RFS_CONFIG_ERR_MAX];
	int first = 0;
	int rc;

	for (size_t i = 0; i < N_MB_GROUPS; i++) {
		if (strcmp(argv[1], mb_groups[i].name))
			continue;
		/* argv[1], the group, stands where parse_args skips argv[0] */
		rc = rfs_config_init(mb_keys, N_MB_KEYS, set, err, sizeof(err));
		if (rc == 0)
			rc = rfs_config_parse_args(mb_keys, N_MB_KEYS, set,
						   argc - 1, argv + 1, &first,
						   err, sizeof(err));
		if (rc == 0 && first != argc - 1) {
			snprintf(err, sizeof(err), "unexpected argument '%s'",
				 argv[first + 1]);
			rc = -EINVAL;
		}
		if (rc < 0) {
			fprintf(stderr, MB_PROG ": %s\n", err);
			return -1;
		}
		return settings_apply(set, argv[1], ctx) < 0 ? -1 : (int)i;
	}
	fprintf(stderr, MB_PROG ": unknown group '%s' (try --help)\n", argv[1]);
	return -1;
}

int main(int argc, char **argv)
{
	struct mb_settings set;
	struct mb_ctx ctx;
	int g;
	int rc;

	/* the TCP ceiling writes to a socket whose reader may be gone */
	signal(SIGPIPE, SIG_IGN);
	if (argc < 2 ||
	    rfs_config_find_flag(argc, argv) == RFS_CONFIG_FLAG_HELP) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	memset(&set, 0, sizeof(set));
	memset(&ctx, 0, sizeof(ctx));
	ctx.report = report;
	ctx.progress = progress;
	g = configure(argc, argv, &set, &ctx);
	if (g < 0) {
		rfs_config_release(mb_keys, N_MB_KEYS, &set);
		return 2;
	}
	rc = mb_groups[g].run(&ctx);
	if (rc < 0)
		fprintf(stderr, MB_PROG ": %s: %s\n", mb_groups[g].name,
			ctx.err);
	rfs_config_release(mb_keys, N_MB_KEYS, &set);
	return rc < 0 ? 1 : 0;
}
