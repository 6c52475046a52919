/*
 * ringfs-admin: cluster administration. "status" shows the file system
 * and every chunk server; "placement PATH" shows where each chunk of a
 * file lives next to the ring's target servers, computed here with the
 * same pure ring code the metaserver uses. Output is stable and
 * whitespace-separated (docs/cli.md). Exit: 0 ok, 1 failure, 2 usage.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "client/client.h"
#include "common/errors.h"
#include "common/ring.h"

#define EXIT_USAGE 2
/* Chunks per layout request: bounds each reply for huge files. */
#define ADMIN_LAYOUT_WINDOW 4096
#define ADMIN_LIST_MAX	    (RFS_MAX_REPLICAS * (RFS_SERVER_ID_MAX + 6))

struct admin_opts {
	const char *meta;
	const char *command;
	const char *path;
	bool help;
	bool version;
	int n_operands;
};

static const char usage_text[] =
    "Usage: ringfs-admin [-m HOST:PORT] COMMAND\n\n"
    "Commands:\n"
    "  status          file system summary and one line per chunk server\n"
    "  placement PATH  each chunk of a file: replicas and the ring's "
    "targets\n\n"
    "Options:\n"
    "  -m, --meta HOST:PORT[,...]  metaserver (default: $RINGFS_META, "
    "else 127.0.0.1:9400)\n"
    "  -h, --help                  this help; 'ringfs-admin COMMAND "
    "--help' for one\n"
    "      --version               print the version\n";

static const char status_help[] =
    "Usage: ringfs-admin [-m HOST:PORT] status\n\n"
    "Print 'key: value' lines (fsid, chunk_size, goal, ring_epoch,\n"
    "inodes, chunks, servers), a blank line, then a table with one chunk\n"
    "server per line: ID ADDRESS ZONE WEIGHT STATE CAPACITY USED CHUNKS\n"
    "HEARTBEAT. Sizes are bytes; ZONE '-' is none; HEARTBEAT is the age of\n"
    "the last heartbeat in seconds ('-' = never).\n";

static const char placement_help[] =
    "Usage: ringfs-admin [-m HOST:PORT] placement PATH\n\n"
    "Print 'key: value' lines about the file, a blank line, then one\n"
    "line per chunk: INDEX CHUNK_ID VERSION LENGTH REPLICAS TARGETS STATUS.\n"
    "REPLICAS lists id:up or id:down; TARGETS are the servers the ring\n"
    "picks (computed locally from the status server list, servers that\n"
    "are out excluded). STATUS is 'ok' when the replica set equals the\n"
    "targets, 'MISPLACED' otherwise. Exits 0 either way.\n";

static int parse_args(int argc, char **argv, struct admin_opts *o)
{
	int i;

	memset(o, 0, sizeof(*o));
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)
			o->help = true;
		else if (strcmp(a, "--version") == 0)
			o->version = true;
		else if ((strcmp(a, "-m") == 0 || strcmp(a, "--meta") == 0) &&
			 i + 1 < argc)
			o->meta = argv[++i];
		else if (strncmp(a, "--meta=", 7) == 0)
			o->meta = a + 7;
		else if (strncmp(a, "-m", 2) == 0 && a[2])
			o->meta = a + 2;
		else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "ringfs-admin: unknown option '%s'\n",
				a);
			return -EINVAL;
		} else if (!o->command)
			o->command = a;
		else {
			o->path = o->n_operands == 0 ? a : o->path;
			o->n_operands++;
		}
	}
	return 0;
}

static const char *state_name(uint32_t state)
{
	switch (state) {
	case RFS_SERVER_UP:
		return "up";
	case RFS_SERVER_DOWN:
		return "down";
	case RFS_SERVER_OUT:
		return "out";
	case RFS_SERVER_DRAINING:
		return "draining";
	default:
		return "unknown";
	}
}

static int report(struct rfs_client *c, const char *cmd, const char *what,
		  int rc)
{
	struct rfs_client_error e;

	rfs_client_last_error(c, &e);
	fprintf(stderr, "ringfs-admin: %s: %s%s%s (%s%s%s)\n", cmd,
		what ? what : "", what ? ": " : "", strerror(-rc),
		rfs_errno_name(rc), e.err == rc && e.message[0] ? ": " : "",
		e.err == rc ? e.message : "");
	if (e.err == rc && e.from_meta && rfs_client_err_is_unreachable(rc))
		fprintf(stderr,
			"ringfs-admin: hint: is ringfs-meta running at %s? set "
			"-m or %s\n",
			e.addr, RFS_CLIENT_META_ENV);
	return rc;
}

static void print_server_row(const struct rfs_server *s, int wid, int wad,
			     int wzo)
{
	char hb[32];

	if (s->heartbeat_age_ms < 0)
		snprintf(hb, sizeof(hb), "-");
	else
		snprintf(hb, sizeof(hb), "%.1fs",
			 (double)s->heartbeat_age_ms / 1000.0);
	printf("%-*s  %-*s  %-*s  %6" PRIu32 "  %-8s  %14" PRIu64 "  %14" PRIu64
	       "  %10" PRIu64 "  %s\n",
	       wid, s->id, wad, s->addr, wzo, s->zone[0] ? s->zone : "-",
	       s->weight, state_name(s->state), s->capacity, s->used, s->chunks,
	       hb);
}

static int cmd_status(struct rfs_client *c)
{
	struct rfs_status st;
	int wid = 2, wad = 7, wzo = 4;
	size_t i;
	int rc = rfs_client_status(c, &st);

	if (rc < 0)
		return report(c, "status", NULL, rc);
	printf("fsid: %s\nchunk_size: %" PRIu64 "\ngoal: %" PRIu32
	       "\nring_epoch: %" PRIu64 "\ninodes: %" PRIu64
	       "\nchunks: %" PRIu64 "\nservers: %zu\n\n",
	       st.fsid, st.chunk_size, st.goal, st.ring_epoch, st.inodes,
	       st.chunks, st.n_servers);
	for (i = 0; i < st.n_servers; i++) {
		const struct rfs_server *s = &st.servers[i];

		wid = (int)strlen(s->id) > wid ? (int)strlen(s->id) : wid;
		wad = (int)strlen(s->addr) > wad ? (int)strlen(s->addr) : wad;
		wzo = (int)strlen(s->zone) > wzo ? (int)strlen(s->zone) : wzo;
	}
	printf("%-*s  %-*s  %-*s  %6s  %-8s  %14s  %14s  %10s  %s\n", wid, "ID",
	       wad, "ADDRESS", wzo, "ZONE", "WEIGHT", "STATE", "CAPACITY",
	       "USED", "CHUNKS", "HEARTBEAT");
	for (i = 0; i < st.n_servers; i++)
		print_server_row(&st.servers[i], wid, wad, wzo);
	rfs_proto_status_release(&st);
	return 0;
}

/* Ring members are the status servers; those that are out own nothing. */
static bool member_usable(size_t member, void *arg)
{
	const struct rfs_status *st = arg;
	uint32_t s = st->servers[member].state;

	return s == RFS_SERVER_UP || s == RFS_SERVER_DOWN;
}

static struct rfs_ring *build_ring(const struct rfs_status *st)
{
	struct rfs_ring_member *m =
	    calloc(st->n_servers ? st->n_servers : 1, sizeof(*m));
	struct rfs_ring *ring;
	size_t i;

	if (!m)
		return NULL;
	for (i = 0; i < st->n_servers; i++) {
		m[i].id = st->servers[i].id;
		m[i].zone = st->servers[i].zone;
		m[i].weight = st->servers[i].weight;
	}
	ring = rfs_ring_new(m, st->n_servers, 0);
	free(m);
	return ring;
}

struct placement {
	const struct rfs_status *st;
	const struct rfs_ring *ring;
	uint32_t goal;
	uint64_t n_chunks;
	uint64_t n_ok;
};

static bool id_listed(const char *id, const struct rfs_status *st,
		      const size_t *idx, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(st->servers[idx[i]].id, id) == 0)
			return true;
	return false;
}

/* One chunk line; returns whether its replicas match the ring. */
static bool print_chunk(struct placement *p, const struct rfs_chunk *ch)
{
	char reps[ADMIN_LIST_MAX] = "";
	char targets[ADMIN_LIST_MAX] = "";
	size_t idx[RFS_MAX_REPLICAS];
	size_t n = rfs_ring_lookup(p->ring, ch->chunk_id, p->goal,
				   member_usable, (void *)p->st, idx);
	bool ok = n == ch->n_replicas;
	size_t len = 0;
	size_t i;

	for (i = 0; i < ch->n_replicas && i < RFS_MAX_REPLICAS; i++) {
		len += (size_t)snprintf(
		    reps + len, sizeof(reps) - len, "%s%s:%s", i ? "," : "",
		    ch->replicas[i].id, ch->replicas[i].up ? "up" : "down");
		ok = ok && id_listed(ch->replicas[i].id, p->st, idx, n);
		if (len >= sizeof(reps))
			break;
	}
	for (len = 0, i = 0; i < n && len < sizeof(targets); i++)
		len += (size_t)snprintf(targets + len, sizeof(targets) - len,
					"%s%s", i ? "," : "",
					p->st->servers[idx[i]].id);
	printf("%-6" PRIu64 "  %016" PRIx64 "  %-7" PRIu32 "  %-10" PRIu64
	       "  %-24s  %-16s  %s\n",
	       ch->index, ch->chunk_id, ch->version, ch->length,
	       reps[0] ? reps : "-", targets[0] ? targets : "-",
	       ok ? "ok" : "MISPLACED");
	return ok;
}

/* Print every chunk of ino, a window of layout at a time. */
static int print_chunks(struct rfs_client *c, struct placement *p, uint64_t ino,
			uint64_t chunk_size, uint64_t size)
{
	uint64_t span = chunk_size * ADMIN_LAYOUT_WINDOW;
	uint64_t off = 0;
	int rc = 0;

	printf("%-6s  %-16s  %-7s  %-10s  %-24s  %-16s  %s\n", "INDEX",
	       "CHUNK_ID", "VERSION", "LENGTH", "REPLICAS", "TARGETS",
	       "STATUS");
	while (rc == 0 && off < size) {
		struct rfs_layout l;
		size_t i;

		rc = rfs_client_layout(c, ino, off, span, &l);
		for (i = 0; rc == 0 && i < l.n_chunks; i++) {
			p->n_chunks++;
			p->n_ok += print_chunk(p, &l.chunks[i]);
		}
		if (rc == 0)
			rfs_proto_layout_release(&l);
		off += span;
	}
	return rc;
}

static int cmd_placement(struct rfs_client *c, const char *path)
{
	struct placement p = {0};
	struct rfs_status st;
	struct rfs_layout first;
	struct rfs_attr a;
	int rc;

	rc = rfs_client_resolve(c, path, &a);
	if (rc == 0 && !S_ISREG(a.mode))
		rc = -EISDIR;
	if (rc < 0)
		return report(c, "placement", path, rc);
	rc = rfs_client_status(c, &st);
	if (rc < 0)
		return report(c, "placement", "status", rc);
	rc = rfs_client_layout(c, a.ino, 0, 1, &first);
	p.st = &st;
	p.ring = build_ring(&st);
	if (rc == 0 && !p.ring)
		rc = -ENOMEM;
	if (rc < 0) {
		report(c, "placement", path, rc);
		goto out_release;
	}
	p.goal = first.goal ? first.goal : st.goal;
	printf("path: %s\ninode: %" PRIu64 "\nsize: %" PRIu64
	       "\nchunk_size: %" PRIu64 "\ngoal: %" PRIu32 "\n\n",
	       path, a.ino, first.size, first.chunk_size, p.goal);
	rc = print_chunks(c, &p, a.ino, first.chunk_size, first.size);
	rfs_proto_layout_release(&first);
	if (rc < 0) {
		report(c, "placement", path, rc);
		goto out_release;
	}
	if (p.n_ok == p.n_chunks)
		printf("\ntotal: %" PRIu64 " chunks, all ok\n", p.n_chunks);
	else
		printf("\ntotal: %" PRIu64 " chunks, %" PRIu64 " ok, %" PRIu64
		       " MISPLACED\n",
		       p.n_chunks, p.n_ok, p.n_chunks - p.n_ok);
out_release:
	rfs_ring_free((struct rfs_ring *)p.ring);
	rfs_proto_status_release(&st);
	return rc;
}

/* Help, version and usage errors. Returns an exit code, or -1 to go on. */
static int early_exit(const struct admin_opts *o)
{
	if (o->version) {
		printf("ringfs-admin %s\n", PACKAGE_VERSION);
		return EXIT_SUCCESS;
	}
	if (o->help && o->command && strcmp(o->command, "status") == 0) {
		fputs(status_help, stdout);
		return EXIT_SUCCESS;
	}
	if (o->help && o->command && strcmp(o->command, "placement") == 0) {
		fputs(placement_help, stdout);
		return EXIT_SUCCESS;
	}
	if (o->help) {
		fputs(usage_text, stdout);
		return EXIT_SUCCESS;
	}
	if (!o->command ||
	    (strcmp(o->command, "status") == 0 && o->n_operands != 0) ||
	    (strcmp(o->command, "placement") == 0 && o->n_operands != 1)) {
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	if (strcmp(o->command, "status") != 0 &&
	    strcmp(o->command, "placement") != 0) {
		fprintf(stderr,
			"ringfs-admin: unknown command '%s' (see "
			"ringfs-admin --help)\n",
			o->command);
		return EXIT_USAGE;
	}
	return -1;
}

int main(int argc, char **argv)
{
	struct rfs_client_opts copts = {0};
	struct rfs_client *c;
	struct admin_opts o;
	const char *env = getenv(RFS_CLIENT_META_ENV);
	int rc;

	if (parse_args(argc, argv, &o) < 0)
		return EXIT_USAGE;
	rc = early_exit(&o);
	if (rc >= 0)
		return rc;
	copts.meta = o.meta ? o.meta : env && *env ? env : NULL;
	if (rfs_client_new(&copts, &c) < 0) {
		fprintf(stderr,
			"ringfs-admin: invalid metaserver address '%s' "
			"(expected HOST:PORT)\n",
			copts.meta);
		return EXIT_USAGE;
	}
	if (strcmp(o.command, "status") == 0)
		rc = cmd_status(c);
	else
		rc = cmd_placement(c, o.path);
	rfs_client_free(c);
	return rc < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
