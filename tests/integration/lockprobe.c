/*
 * lockprobe: takes flock and fcntl locks on one file for
 * t_fuse_locks.sh, following a little script given on the command line:
 *
 *   lockprobe FILE CMD [ARGS] [CMD [ARGS]...]
 *
 *   flock sh|ex|un [nb]        flock(2); nb adds LOCK_NB
 *   fcntl rd|wr|un START LEN [wait]
 *                              F_SETLK, or F_SETLKW with "wait" (LEN 0:
 *                              to the end of the file)
 *   getlk rd|wr START LEN      F_GETLK; prints "unlocked" or
 *                              "TYPE START LEN" of the conflicting lock
 *   alarm SECONDS              SIGALRM after SECONDS: interrupts a
 *                              blocking lock with EINTR
 *   touch PATH                 create PATH (tells the test we got here)
 *   waitfor PATH               wait until PATH exists
 *   sleep SECONDS
 *   close | reopen             close the file / open it again
 *
 * FILE is opened read-write (created if needed) before the first command.
 * Each command prints one line "CMD: ok" (or its result) or "CMD: ERRNO".
 * Exit status: 0 when every command succeeded; 3 when a lock was busy
 * (EAGAIN, EWOULDBLOCK, EACCES); 4 when interrupted (EINTR); 1 for any
 * other failure; 2 for a usage error. It stops at the first failure.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define EXIT_BUSY	 3
#define EXIT_INTERRUPTED 4
#define EXIT_USAGE	 2
/* waitfor polls this often, and gives up after this long. */
#define POLL_MS	   20
#define WAITFOR_MS (600 * 1000)

struct probe {
	const char *path;
	int fd;
	char **argv;
	int argc;
	int i; /* next argument */
};

static void on_alarm(int sig)
{
	(void)sig;
}

static const char *err_name(int err)
{
	switch (err) {
	case EAGAIN:
		return "EAGAIN";
	case EACCES:
		return "EACCES";
	case EINTR:
		return "EINTR";
	case ENOLCK:
		return "ENOLCK";
	case EDEADLK:
		return "EDEADLK";
	case EBADF:
		return "EBADF";
	case EINVAL:
		return "EINVAL";
	case EIO:
		return "EIO";
	case ENOTCONN:
		return "ENOTCONN";
	default:
		return strerror(err);
	}
}

/* Report the outcome of cmd; returns the exit status it calls for. */
static int report(const char *cmd, int rc, int err)
{
	if (rc == 0) {
		printf("%s: ok\n", cmd);
		return 0;
	}
	printf("%s: %s\n", cmd, err_name(err));
	if (err == EAGAIN || err == EACCES)
		return EXIT_BUSY;
	return err == EINTR ? EXIT_INTERRUPTED : 1;
}

static const char *next_arg(struct probe *p)
{
	return p->i < p->argc ? p->argv[p->i++] : NULL;
}

/* A non-negative decimal number argument; -1 when missing or malformed. */
static long long num_arg(struct probe *p)
{
	const char *s = next_arg(p);
	char *end;
	long long v;

	if (!s)
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < 0)
		return -1;
	return v;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000,
			      .tv_nsec = (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static int cmd_flock(struct probe *p)
{
	const char *how = next_arg(p);
	int op;
	int rc;

	if (!how)
		return -1;
	if (strcmp(how, "sh") == 0)
		op = LOCK_SH;
	else if (strcmp(how, "ex") == 0)
		op = LOCK_EX;
	else if (strcmp(how, "un") == 0)
		op = LOCK_UN;
	else
		return -1;
	if (p->i < p->argc && strcmp(p->argv[p->i], "nb") == 0) {
		op |= LOCK_NB;
		p->i++;
	}
	rc = flock(p->fd, op);
	return report("flock", rc, errno);
}

/* "rd" / "wr" / "un" as an l_type; -1 if none. */
static int type_arg(struct probe *p)
{
	const char *t = next_arg(p);

	if (!t)
		return -1;
	if (strcmp(t, "rd") == 0)
		return F_RDLCK;
	if (strcmp(t, "wr") == 0)
		return F_WRLCK;
	if (strcmp(t, "un") == 0)
		return F_UNLCK;
	return -1;
}

static int cmd_fcntl(struct probe *p, bool get)
{
	struct flock fl = {.l_whence = SEEK_SET};
	int type = type_arg(p);
	long long start = num_arg(p);
	long long len = num_arg(p);
	int cmd = get ? F_GETLK : F_SETLK;
	int rc;

	if (type < 0 || start < 0 || len < 0)
		return -1;
	if (!get && p->i < p->argc && strcmp(p->argv[p->i], "wait") == 0) {
		cmd = F_SETLKW;
		p->i++;
	}
	fl.l_type = (short)type;
	fl.l_start = (off_t)start;
	fl.l_len = (off_t)len;
	rc = fcntl(p->fd, cmd, &fl);
	if (!get || rc < 0)
		return report(get ? "getlk" : "fcntl", rc, errno);
	if (fl.l_type == F_UNLCK)
		printf("getlk: unlocked\n");
	else
		printf("getlk: %s %lld %lld\n",
		       fl.l_type == F_RDLCK ? "rd" : "wr",
		       (long long)fl.l_start, (long long)fl.l_len);
	return 0;
}

static int cmd_touch(struct probe *p)
{
	const char *path = next_arg(p);
	int fd;

	if (!path)
		return -1;
	fd = open(path, O_WRONLY | O_CREAT, 0644);
	if (fd >= 0)
		close(fd);
	return report("touch", fd < 0 ? -1 : 0, errno);
}

static int cmd_waitfor(struct probe *p)
{
	const char *path = next_arg(p);
	struct stat st;
	long waited = 0;

	if (!path)
		return -1;
	while (stat(path, &st) < 0 && waited < WAITFOR_MS) {
		sleep_ms(POLL_MS);
		waited += POLL_MS;
	}
	return report("waitfor", waited < WAITFOR_MS ? 0 : -1, ETIMEDOUT);
}

static int open_file(struct probe *p)
{
	p->fd = open(p->path, O_RDWR | O_CREAT, 0644);
	return report("open", p->fd < 0 ? -1 : 0, errno);
}

/* Run one command; -1 for a usage error, else its exit status. */
static int run_one(struct probe *p, const char *cmd)
{
	long long n;

	if (strcmp(cmd, "flock") == 0)
		return cmd_flock(p);
	if (strcmp(cmd, "fcntl") == 0 || strcmp(cmd, "getlk") == 0)
		return cmd_fcntl(p, strcmp(cmd, "getlk") == 0);
	if (strcmp(cmd, "touch") == 0)
		return cmd_touch(p);
	if (strcmp(cmd, "waitfor") == 0)
		return cmd_waitfor(p);
	if (strcmp(cmd, "close") == 0) {
		n = close(p->fd);
		p->fd = -1;
		return report("close", (int)n, errno);
	}
	if (strcmp(cmd, "reopen") == 0)
		return open_file(p);
	n = num_arg(p);
	if (n < 0)
		return -1;
	if (strcmp(cmd, "alarm") == 0) {
		alarm((unsigned int)n);
		return 0;
	}
	if (strcmp(cmd, "sleep") == 0) {
		sleep_ms((long)n * 1000);
		return 0;
	}
	return -1;
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	struct probe p = {.argv = argv, .argc = argc, .i = 2, .fd = -1};
	const char *cmd;
	int rc;

	if (argc < 2) {
		fprintf(stderr, "usage: lockprobe FILE CMD [ARGS]...\n");
		return EXIT_USAGE;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* no SA_RESTART: a blocked F_SETLKW or flock returns EINTR */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	p.path = argv[1];
	rc = open_file(&p);
	while (rc == 0 && (cmd = next_arg(&p)) != NULL) {
		rc = run_one(&p, cmd);
		if (rc < 0) {
			fprintf(stderr, "lockprobe: bad arguments for '%s'\n",
				cmd);
			rc = EXIT_USAGE;
		}
	}
	if (p.fd >= 0)
		close(p.fd);
	return rc;
}
