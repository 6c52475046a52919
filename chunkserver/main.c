/*
 * ringfs-chunk: the chunk server. Thin: settings, the ordered start-up
 * table, signals and shutdown. Storage is chunkserver/store.h, the HTTP
 * interface chunkserver/api.h, the metaserver protocol
 * chunkserver/metaclient.h; docs/chunkserver.md describes the daemon.
 */
#include <config.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chunkserver/api.h"
#include "chunkserver/metaclient.h"
#include "chunkserver/store.h"
#include "common/addr.h"
#include "common/config.h"
#include "common/errors.h"
#include "common/log.h"

#define CS_PROG	   "ringfs-chunk"
#define CS_ERR_MAX 512

struct cs_settings {
	char *listen;
	char *advertise;
	char *meta;
	char *data_dir;
	char *id;
	char *zone;
	uint32_t weight;
	uint64_t capacity;
	uint32_t heartbeat_ms;
	uint32_t inventory_interval_ms;
	uint32_t threads;
	char *log_level;
	bool verify_reads;
};

#define KEY(name, type, def, min, max, field, help)                            \
	{                                                                      \
		name, type, def, min, max,                                     \
		    offsetof(struct cs_settings, field), help                  \
	}
static const struct rfs_config_key cs_keys[] = {
    KEY("listen", RFS_CONFIG_STR, "127.0.0.1:9500", 0, 0, listen,
	"HTTP address (host:port) for clients; port 0 picks a free one"),
    KEY("advertise", RFS_CONFIG_STR, "", 0, 0, advertise,
	"address (host:port) given to the metaserver; empty: the "
	"listen address with the bound port"),
    KEY("meta", RFS_CONFIG_STR, "127.0.0.1:9400", 0, 0, meta,
	"metaserver address (host:port)"),
    KEY("data-dir", RFS_CONFIG_STR, "./chunk-data", 0, 0, data_dir,
	"comma-separated data directories (created if missing)"),
    KEY("id", RFS_CONFIG_STR, "", 0, 0, id,
	"server id ([A-Za-z0-9._-]); empty: kept from the first data "
	"dir, or generated as cs-<8 hex> at first start"),
    KEY("zone", RFS_CONFIG_STR, "default", 0, 0, zone,
	"failure zone; replicas prefer distinct zones"),
    KEY("weight", RFS_CONFIG_U32, "1", 1, 1000, weight,
	"share of the ring relative to other servers"),
    KEY("capacity", RFS_CONFIG_SIZE, "0", 0, 0, capacity,
	"bytes offered (K/M/G/T); 0: size of the data dirs' file systems"),
    KEY("heartbeat-ms", RFS_CONFIG_U32, "2000", 100, 600000, heartbeat_ms,
	"interval between heartbeats to the metaserver"),
    KEY("inventory-interval-ms", RFS_CONFIG_U32, "60000", 1000, 86400000,
	inventory_interval_ms,
	"interval between full replica inventories to the metaserver"),
    KEY("threads", RFS_CONFIG_U32, "8", 1, 256, threads, "HTTP worker threads"),
    KEY("log-level", RFS_CONFIG_STR, "info", 0, 0, log_level,
	"error, warn, info or debug"),
    KEY("verify-reads", RFS_CONFIG_BOOL, "false", 0, 0, verify_reads,
	"check stored checksums before sending data (readers check "
	"them anyway)"),
};
#define N_CS_KEYS (sizeof(cs_keys) / sizeof(cs_keys[0]))

/* Everything the running daemon owns; the one context of this program. */
struct cs_main {
	struct cs_settings set;
	char *dirs_buf; /* data-dir split in place */
	const char *dirs[CS_STORE_DIRS_MAX];
	size_t n_dirs;
	char bind_host[RFS_ADDR_MAX + 1];
	uint16_t port;
	struct rfs_server self;
	struct cs_store *store;
	struct cs_api *api;
	struct cs_metaclient *meta;
	char err[CS_ERR_MAX];
};

/* What -h/--help and --version print (rfs_config_early_flags()). */
static void print_flag(enum rfs_config_flag flag)
{
	if (flag == RFS_CONFIG_FLAG_VERSION) {
		printf(CS_PROG " " PACKAGE_VERSION "\n");
		return;
	}
	printf("usage: " CS_PROG " [--config FILE] [--key=value ...]\n"
	       "       " CS_PROG " --help | --version\n\n"
	       "Stores ringfs chunk replicas in the data directories, serves "
	       "them over\nHTTP and reports to the metaserver.\n\n"
	       "settings (also as 'key = value' lines in --config FILE):\n");
	rfs_config_print_help(cs_keys, N_CS_KEYS, stdout);
}

/* Split data-dir at commas, dropping blanks around each dir. */
static int split_dirs(struct cs_main *m)
{
	char *p;

	m->dirs_buf = strdup(m->set.data_dir);
	if (!m->dirs_buf)
		return -ENOMEM;
	p = m->dirs_buf;
	while (p) {
		char *comma = strchr(p, ',');
		char *end;

		if (comma)
			*comma = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		end = p + strlen(p);
		while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
		if (*p == '\0' || m->n_dirs == CS_STORE_DIRS_MAX)
			return -EINVAL;
		m->dirs[m->n_dirs++] = p;
		p = comma ? comma + 1 : NULL;
	}
	return 0;
}

/* --- start-up steps, in order ------------------------------------------ */

/* Settings that the config table cannot check by range. */
static int step_check(struct cs_main *m)
{
	if (rfs_addr_split(m->set.listen, m->bind_host, sizeof(m->bind_host),
			   &m->port) < 0) {
		snprintf(m->err, sizeof(m->err), "listen '%s' is not host:port",
			 m->set.listen);
		return -EINVAL;
	}
	if (!m->set.meta[0] || strlen(m->set.meta) > RFS_ADDR_MAX ||
	    strlen(m->set.advertise) > RFS_ADDR_MAX) {
		snprintf(m->err, sizeof(m->err),
			 "meta and advertise must be host:port, at most %d "
			 "bytes",
			 RFS_ADDR_MAX);
		return -EINVAL;
	}
	if (strlen(m->set.zone) > RFS_ZONE_MAX) {
		snprintf(m->err, sizeof(m->err), "zone is longer than %d bytes",
			 RFS_ZONE_MAX);
		return -EINVAL;
	}
	if (split_dirs(m) < 0) {
		snprintf(m->err, sizeof(m->err),
			 "data-dir '%s' must list 1 to %d non-empty "
			 "directories separated by commas",
			 m->set.data_dir, CS_STORE_DIRS_MAX);
		return -EINVAL;
	}
	return 0;
}

/* Open the data dirs: replicas indexed, crash leftovers repaired. */
static int step_store(struct cs_main *m)
{
	int rc = cs_store_open(m->dirs, m->n_dirs, &m->store);

	if (rc == -EBUSY)
		snprintf(m->err, sizeof(m->err),
			 "a data dir is in use by another chunk server, "
			 "or listed twice in data-dir");
	else if (rc < 0)
		snprintf(m->err, sizeof(m->err),
			 "cannot open data dirs '%s': %s", m->set.data_dir,
			 rfs_errno_name(rc));
	return rc;
}

/* Needs the store: the id lives in the first data dir. */
static int step_identity(struct cs_main *m)
{
	int rc = cs_store_server_id(m->store, m->set.id, m->self.id);

	if (rc == -EEXIST)
		snprintf(m->err, sizeof(m->err),
			 "data dir %s belongs to server '%s', not '%s'; "
			 "fix id= or use another data dir",
			 m->dirs[0], m->self.id, m->set.id);
	else if (rc == -EINVAL)
		snprintf(m->err, sizeof(m->err),
			 "invalid server id (use 1-%d of [A-Za-z0-9._-]), or a "
			 "damaged %s/%s",
			 RFS_SERVER_ID_MAX, m->dirs[0],
			 CS_STORE_SERVER_ID_FILE);
	else if (rc < 0)
		snprintf(m->err, sizeof(m->err), "cannot set up server id: %s",
			 rfs_errno_name(rc));
	snprintf(m->self.zone, sizeof(m->self.zone), "%s", m->set.zone);
	m->self.weight = m->set.weight;
	m->self.capacity = m->set.capacity;
	m->self.heartbeat_age_ms = -1;
	return rc;
}

/* The address the metaserver hands to clients. */
static void advertised_addr(struct cs_main *m, uint16_t port)
{
	const char *host = m->bind_host;

	if (m->set.advertise[0]) {
		snprintf(m->self.addr, sizeof(m->self.addr), "%s",
			 m->set.advertise);
		return;
	}
	if (strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0)
		rfs_log_warn(NULL,
			     "msg=\"listening on all addresses without "
			     "advertise=; clients are sent the wildcard "
			     "address\" listen=%s",
			     m->set.listen);
	snprintf(m->self.addr, sizeof(m->self.addr),
		 strchr(host, ':') ? "[%s]:%u" : "%s:%u", host, port);
}

/* Needs the store and the identity. */
static int step_api(struct cs_main *m)
{
	struct cs_api_opts opts = {
	    .store = m->store,
	    .self = &m->self,
	    .verify_reads = m->set.verify_reads,
	    .bind_addr = m->bind_host,
	    .port = m->port,
	    .threads = m->set.threads,
	};
	int rc = cs_api_start(&opts, &m->api);

	if (rc < 0) {
		snprintf(m->err, sizeof(m->err), "cannot listen on %s: %s",
			 m->set.listen, rfs_errno_name(rc));
		return rc;
	}
	advertised_addr(m, cs_api_port(m->api));
	cs_api_set_addr(m->api, m->self.addr);
	return 0;
}

/* Last: registering announces a server that is ready to serve. */
static int step_metaclient(struct cs_main *m)
{
	struct cs_metaclient_opts opts = {
	    .meta_addr = m->set.meta,
	    .store = m->store,
	    .status = cs_api_server_status,
	    .status_arg = m->api,
	    .heartbeat_ms = m->set.heartbeat_ms,
	    .inventory_interval_ms = m->set.inventory_interval_ms,
	};
	int rc = cs_metaclient_start(&opts, &m->meta);

	if (rc < 0)
		snprintf(m->err, sizeof(m->err),
			 "cannot start the metaserver client: %s",
			 rfs_errno_name(rc));
	return rc;
}

static const struct {
	const char *name;
	int (*run)(struct cs_main *m);
} cs_startup[] = {
    {"settings", step_check},
    {"store", step_store},
    {"identity", step_identity},
    {"http", step_api},
    {"metaserver client", step_metaclient},
};

/*
 * Reverse order of start-up: stop reporting (the metaclient reads the
 * api's server record), stop taking requests (waits for running ones),
 * then close the store.
 */
static void teardown(struct cs_main *m)
{
	cs_metaclient_stop(m->meta);
	cs_api_stop(m->api);
	cs_store_close(m->store);
	free(m->dirs_buf);
}

/* Run until SIGINT or SIGTERM; both are blocked in every thread. */
static int serve(struct cs_main *m, const sigset_t *sigs)
{
	int sig = 0;
	int rc = 0;

	for (size_t i = 0; i < sizeof(cs_startup) / sizeof(cs_startup[0]);
	     i++) {
		rc = cs_startup[i].run(m);
		if (rc < 0) {
			fprintf(stderr, CS_PROG ": %s: %s\n",
				cs_startup[i].name, m->err);
			break;
		}
	}
	if (rc == 0) {
		rfs_log_info(NULL,
			     "msg=\"" CS_PROG " started\" version=%s id=%s "
			     "addr=%s zone=%s data_dir=%s meta=%s",
			     PACKAGE_VERSION, m->self.id, m->self.addr,
			     m->self.zone, m->set.data_dir, m->set.meta);
		while (sigwait(sigs, &sig) != 0)
			;
		rfs_log_info(NULL, "msg=\"stopping\" signal=%s",
			     sig == SIGINT ? "SIGINT" : "SIGTERM");
	}
	teardown(m);
	return rc == 0 ? 0 : 1;
}

static int configure(struct cs_main *m, int argc, char **argv)
{
	char err[RFS_CONFIG_ERR_MAX] = "";
	enum rfs_log_level level = RFS_LOG_INFO;
	int rc;

	rc = rfs_config_setup(cs_keys, N_CS_KEYS, &m->set, argc, argv, err,
			      sizeof(err));
	if (rc == 0)
		rc = rfs_log_level_parse_msg(m->set.log_level, &level, err,
					     sizeof(err));
	if (rc < 0) {
		fprintf(stderr, CS_PROG ": %s (see " CS_PROG " --help)\n", err);
		return rc;
	}
	rfs_log_setup(CS_PROG, level);
	return 0;
}

int main(int argc, char **argv)
{
	static struct cs_main m;
	sigset_t sigs;
	int rc;

	/* A client that disconnects mid-reply must not kill the process,
	 * nor a file size limit (writes then fail with EFBIG: ENOSPC). */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN);
	if (rfs_config_early_flags(argc, argv, print_flag) !=
	    RFS_CONFIG_FLAG_NONE)
		return 0;
	if (configure(&m, argc, argv) < 0) {
		rfs_config_release(cs_keys, N_CS_KEYS, &m.set);
		return 2;
	}
	/* Blocked before any thread starts, so only sigwait sees them. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	rc = serve(&m, &sigs);
	rfs_config_release(cs_keys, N_CS_KEYS, &m.set);
	return rc;
}
