/*
 * ringfs: the command-line client. Parses options, creates the client,
 * runs one command, and owns every message and the progress bar.
 * Exit status: 0 success, 1 a command failed, 2 usage error.
 */
#include <config.h>
#include "tools/ringfs.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "common/errors.h"

#define EXIT_USAGE 2
/* Progress redraws per second at most: smooth without flooding. */
#define PROGRESS_INTERVAL_S    0.1
#define PROGRESS_WIDTH_DEFAULT 80
#define LINE_MAX_BYTES	       512

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static unsigned int term_width(void)
{
	struct winsize ws;

	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return PROGRESS_WIDTH_DEFAULT;
}

/* Clear the progress line so a message can be printed. */
static void progress_clear(struct rcli *cli)
{
	if (cli->progress.shown) {
		fputs("\r\033[K", cli->err);
		cli->progress.shown = false;
	}
}

static void progress_draw(struct rcli *cli, uint64_t done, uint64_t total)
{
	char line[LINE_MAX_BYTES];
	double t = now_s();

	rfs_format_progress(cli->progress.label, done, total,
			    t - cli->progress.start_s, term_width() - 1, line,
			    sizeof(line));
	fprintf(cli->err, "\r%s\033[K", line);
	fflush(cli->err);
	cli->progress.shown = true;
	cli->progress.last_s = t;
}

static void progress_cb(uint64_t done, uint64_t total, void *arg)
{
	struct rcli *cli = arg;

	cli->progress.done = done;
	cli->progress.total = total;
	if (now_s() - cli->progress.last_s < PROGRESS_INTERVAL_S)
		return;
	progress_draw(cli, done, total);
}

static void fault_cb(const struct rfs_cio_fault *f, void *arg)
{
	struct rcli *cli = arg;
	char line[LINE_MAX_BYTES];

	rcli_warn(cli, "%s", rfs_format_fault(f, line, sizeof(line)));
}

void rcli_transfer_opts(struct rcli *cli, const char *label,
			struct rfs_transfer_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->parallel = cli->o->parallel;
	o->uid = cli->uid;
	o->gid = cli->gid;
	o->fault = fault_cb;
	o->fault_arg = cli;
	if (!cli->progress.enabled)
		return;
	snprintf(cli->progress.label, sizeof(cli->progress.label), "%s", label);
	cli->progress.start_s = now_s();
	cli->progress.last_s = 0;
	cli->progress.done = 0;
	cli->progress.total = 0;
	o->progress = progress_cb;
	o->progress_arg = cli;
}

void rcli_progress_end(struct rcli *cli, bool ok)
{
	if (!cli->progress.enabled)
		return;
	if (!ok) {
		progress_clear(cli);
		return;
	}
	progress_draw(cli, cli->progress.done, cli->progress.total);
	fputc('\n', cli->err);
	cli->progress.shown = false;
}

void rcli_warn(struct rcli *cli, const char *fmt, ...)
{
	va_list ap;

	progress_clear(cli);
	fputs("ringfs: warning: ", cli->err);
	va_start(ap, fmt);
	vfprintf(cli->err, fmt, ap);
	va_end(ap);
	fputc('\n', cli->err);
}

int rcli_fail(struct rcli *cli, const char *what, int rc, const char *text)
{
	progress_clear(cli);
	fprintf(cli->err, "ringfs: %s: %s: %s\n", cli->cmd, what, text);
	return rc;
}

int rcli_local_error(struct rcli *cli, const char *what, int rc)
{
	return rcli_fail(cli, what, rc, strerror(-rc));
}

static void print_hint(struct rcli *cli, const struct rfs_client_error *e)
{
	char addr[RFS_ADDR_MAX + 1];

	if (e->from_meta) {
		rfs_client_meta_addr(cli->c, addr, sizeof(addr));
		fprintf(cli->err,
			"ringfs: hint: is ringfs-meta running at %s? set -m or "
			"%s\n",
			e->addr[0] ? e->addr : addr, RFS_CLIENT_META_ENV);
	} else if (e->addr[0]) {
		fprintf(cli->err,
			"ringfs: hint: chunk server %s is unreachable; see "
			"'ringfs-admin status'\n",
			e->addr);
	}
}

int rcli_error(struct rcli *cli, const char *what, int rc)
{
	struct rfs_client_error e;

	progress_clear(cli);
	rfs_client_last_error(cli->c, &e);
	if (e.err != rc)
		memset(&e, 0, sizeof(e));
	fprintf(cli->err, "ringfs: %s: %s: %s (%s%s%s)\n", cli->cmd, what,
		strerror(-rc), rfs_errno_name(rc), e.message[0] ? ": " : "",
		e.message);
	if (e.err && rfs_client_err_is_unreachable(rc))
		print_hint(cli, &e);
	return rc;
}

static void print_usage(FILE *f)
{
	const struct rcli_command *c;

	fprintf(f, "Usage: ringfs [-m HOST:PORT] [--parallel N] [-q] COMMAND "
		   "[ARGS...]\n\nCommands:\n");
	for (c = rcli_commands; c->name; c++)
		fprintf(f, "  %-28s %s\n", c->usage, c->summary);
	fprintf(f,
		"\nOptions (anywhere on the line):\n"
		"  -m, --meta HOST:PORT[,...]  metaserver (default: $%s, else "
		"%s)\n"
		"      --parallel N            chunks in flight (default %d, "
		"max %d)\n"
		"  -q, --quiet                 no progress bar\n"
		"  -h, --help                  this help; 'ringfs COMMAND "
		"--help' for one command\n"
		"      --version               print the version\n",
		RFS_CLIENT_META_ENV, RFS_CLIENT_META_DEFAULT,
		RFS_CLIENT_PARALLEL_DEFAULT, RFS_CLIENT_PARALLEL_MAX);
}

static void print_command_help(const struct rcli_command *c)
{
	printf("Usage: ringfs [-m HOST:PORT] [--parallel N] [-q] %s\n\n%s\n%s",
	       c->usage, c->summary, c->help);
}

static int run_command(struct rcli *cli)
{
	static const struct {
		const char *name;
		int (*fn)(struct rcli *cli);
	} table[] = {
	    {"put", rcli_cmd_put},   {"get", rcli_cmd_get},
	    {"cat", rcli_cmd_cat},   {"ls", rcli_cmd_ls},
	    {"stat", rcli_cmd_stat}, {"mkdir", rcli_cmd_mkdir},
	    {"rm", rcli_cmd_rm},     {"mv", rcli_cmd_mv},
	};
	size_t i;

	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (strcmp(table[i].name, cli->cmd) == 0)
			return table[i].fn(cli);
	return -ENOSYS;
}

/* Options are parsed; handle help/version/usage. Returns -1 to go on. */
static int early_exit(const struct rcli_opts *o)
{
	if (o->version) {
		printf("ringfs %s\n", PACKAGE_VERSION);
		return EXIT_SUCCESS;
	}
	if (o->help && o->command) {
		print_command_help(o->command);
		return EXIT_SUCCESS;
	}
	if (o->help) {
		print_usage(stdout);
		return EXIT_SUCCESS;
	}
	if (!o->command) {
		print_usage(stderr);
		return EXIT_USAGE;
	}
	return -1;
}

int main(int argc, char **argv)
{
	char err[RCLI_ERR_MAX];
	struct rfs_client_opts copts = {0};
	struct rcli_opts o;
	struct rcli cli = {.out = stdout, .err = stderr};
	int rc;

	if (rcli_parse(argc, argv, &o, err, sizeof(err)) < 0) {
		fprintf(stderr, "ringfs: %s\n", err[0] ? err : "out of memory");
		return EXIT_USAGE;
	}
	rc = early_exit(&o);
	if (rc >= 0)
		goto out_release_opts;
	copts.meta = rcli_meta_addr(&o, getenv(RFS_CLIENT_META_ENV));
	if (rfs_client_new(&copts, &cli.c) < 0) {
		fprintf(stderr,
			"ringfs: invalid metaserver address '%s' "
			"(expected HOST:PORT)\n",
			copts.meta);
		rc = EXIT_USAGE;
		goto out_release_opts;
	}
	cli.o = &o;
	cli.cmd = o.command->name;
	cli.uid = (uint32_t)getuid();
	cli.gid = (uint32_t)getgid();
	cli.progress.enabled = !o.quiet && isatty(STDERR_FILENO);
	rc = run_command(&cli) < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
	if (fflush(stdout) != 0 && rc == EXIT_SUCCESS) {
		fprintf(stderr, "ringfs: %s: write error: %s\n", cli.cmd,
			strerror(errno));
		rc = EXIT_FAILURE;
	}
	rfs_client_free(cli.c);
out_release_opts:
	rcli_opts_release(&o);
	return rc;
}
