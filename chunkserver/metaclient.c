#include <config.h>
#include "chunkserver/metaclient.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chunkserver/reaper.h"
#include "common/errors.h"
#include "common/httpc.h"
#include "common/log.h"

/*
 * Registration retries start fast (a metaserver starting next to us is
 * usually up within a second) and back off to a few seconds, so a server
 * down for long costs one connection attempt every few seconds and a
 * returning one is found quickly.
 */
#define RETRY_FIRST_MS 200
#define RETRY_MAX_MS   5000
/* Calls are bounded so that stopping never waits long for a dead peer. */
#define CALL_CONNECT_TIMEOUT_MS 2000
#define CALL_TIMEOUT_MS		30000
#define MS_PER_S		1000
#define NS_PER_MS		1000000

/* What the thread is doing, for logging each change once. */
enum mc_phase { PHASE_REGISTER, PHASE_HEARTBEAT, PHASE_INVENTORY, PHASE_COUNT };

static const char *const phase_names[PHASE_COUNT] = {
    "register",
    "heartbeat",
    "inventory",
};

struct cs_metaclient {
	char meta_addr[RFS_ADDR_MAX + 1];
	struct cs_store *store;
	cs_metaclient_status_cb status;
	void *status_arg;
	uint32_t heartbeat_ms;
	uint32_t inventory_interval_ms;
	struct rfs_httpc *http;	  /* used by the thread only */
	struct cs_reaper *reaper; /* deletes what inventories list */
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t wake;
	bool stopping; /* under mu */
	/* thread state */
	bool registered;
	int last_rc[PHASE_COUNT]; /* last result logged per phase */
	uint32_t retry_ms;
	uint64_t next_inventory_ms;
	/* quick inventories of the chunks holding older versions */
	uint64_t gc_gen;	/* cs_store_superseded_gen last acted on */
	uint64_t gc_next_ms;	/* when the next one is due; 0: none */
	uint32_t gc_backoff_ms; /* wait after the next one */
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * MS_PER_S +
	       (uint64_t)ts.tv_nsec / NS_PER_MS;
}

/* Sleep up to ms; returns true when asked to stop. */
static bool wait_ms(struct cs_metaclient *mc, uint32_t ms)
{
	struct timespec until;
	bool stop;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += ms / MS_PER_S;
	until.tv_nsec += (long)(ms % MS_PER_S) * NS_PER_MS;
	if (until.tv_nsec >= MS_PER_S * NS_PER_MS) {
		until.tv_sec++;
		until.tv_nsec -= MS_PER_S * NS_PER_MS;
	}
	pthread_mutex_lock(&mc->mu);
	while (!mc->stopping &&
	       pthread_cond_timedwait(&mc->wake, &mc->mu, &until) != ETIMEDOUT)
		;
	stop = mc->stopping;
	pthread_mutex_unlock(&mc->mu);
	return stop;
}

/* Log the result of a phase only when it differs from the last one. */
static void note(struct cs_metaclient *mc, enum mc_phase phase, int rc,
		 const struct rfs_httpc_reply *reply)
{
	if (rc == mc->last_rc[phase])
		return;
	mc->last_rc[phase] = rc;
	if (rc == 0) {
		rfs_log_info(NULL, "msg=\"metaserver %s ok\" meta=%s",
			     phase_names[phase], mc->meta_addr);
		return;
	}
	rfs_log_warn(reply && reply->request_id[0] ? reply->request_id : NULL,
		     "msg=\"metaserver %s failed; retrying\" meta=%s err=%s "
		     "status=%u detail=\"%s\"",
		     phase_names[phase], mc->meta_addr, rfs_errno_name(rc),
		     reply ? reply->status : 0,
		     reply && reply->message[0] ? reply->message : "");
}

/* POST body to path; the reply is the caller's to release. */
static int post(struct cs_metaclient *mc, const char *path, char *body,
		size_t len, struct rfs_httpc_reply *reply)
{
	memset(reply, 0, sizeof(*reply));
	return rfs_httpc_call(mc->http, mc->meta_addr, "POST", path, body, len,
			      true, reply);
}

/* Register or heartbeat: both send this server's record. */
static int send_server(struct cs_metaclient *mc, enum mc_phase phase,
		       const char *path)
{
	struct rfs_httpc_reply reply;
	struct rfs_server self;
	char *body = NULL;
	size_t len = 0;
	int rc;

	mc->status(mc->status_arg, &self);
	rc = rfs_proto_server_encode(&self, &body, &len);
	if (rc < 0)
		return rc;
	rc = post(mc, path, body, len, &reply);
	free(body);
	/* 404 on heartbeat is not a failure to report: we re-register */
	if (!(phase == PHASE_HEARTBEAT && rc == -ENOENT))
		note(mc, phase, rc, &reply);
	rfs_httpc_reply_release(&reply);
	return rc;
}

/* Hand the replicas the metaserver no longer wants to the reaper. */
static void queue_deletes(struct cs_metaclient *mc, const char *body,
			  size_t len)
{
	struct rfs_inventory del;
	int rc;

	if (!body || len == 0)
		return;
	rc = rfs_proto_inventory_decode(body, len, &del);
	if (rc == 0)
		rc = cs_reaper_add(mc->reaper, &del);
	if (rc < 0)
		rfs_log_warn(NULL,
			     "msg=\"cannot queue the replicas to delete\" "
			     "meta=%s err=%s",
			     mc->meta_addr, rfs_errno_name(rc));
	rfs_proto_inventory_release(&del);
}

/* The inventory (only of chunks with older versions: superseded). */
static int send_inventory(struct cs_metaclient *mc, bool superseded)
{
	struct rfs_httpc_reply reply;
	struct rfs_inventory inv;
	struct rfs_server self;
	char *body = NULL;
	size_t len = 0;
	int rc;

	mc->status(mc->status_arg, &self);
	rc = superseded ? cs_store_superseded(mc->store, &inv)
			: cs_store_inventory(mc->store, &inv);
	if (rc < 0)
		return rc;
	memcpy(inv.server_id, self.id, sizeof(inv.server_id));
	rc = rfs_proto_inventory_encode(&inv, &body, &len);
	rfs_proto_inventory_release(&inv);
	if (rc < 0)
		return rc;
	rc = post(mc, RFS_PATH_CLUSTER_INVENTORY, body, len, &reply);
	free(body);
	if (rc != -ENOENT)
		note(mc, PHASE_INVENTORY, rc, &reply);
	if (rc == 0)
		queue_deletes(mc, reply.body, reply.len);
	rfs_httpc_reply_release(&reply);
	return rc;
}

/* One step while unregistered; returns true when asked to stop. */
static bool step_register(struct cs_metaclient *mc)
{
	int rc = send_server(mc, PHASE_REGISTER, RFS_PATH_CLUSTER_REGISTER);

	if (rc < 0) {
		bool stop = wait_ms(mc, mc->retry_ms);

		mc->retry_ms = mc->retry_ms * 2 > RETRY_MAX_MS
				   ? RETRY_MAX_MS
				   : mc->retry_ms * 2;
		return stop;
	}
	mc->registered = true;
	mc->retry_ms = RETRY_FIRST_MS;
	/* The metaserver learns where our replicas are right away. */
	mc->next_inventory_ms = now_ms();
	return false;
}

/*
 * A write kept an older version of a chunk (its newest may never be
 * committed): ask the metaserver about those chunks at the next beat, so
 * that the older version goes (its disk space with it) soon after the
 * commit, not at the next full inventory. While some stay (not committed
 * yet, or never), ask again after 1, 2, 4... heartbeats, up to the full
 * inventory interval. Returns -ENOENT when the metaserver does not know
 * this server.
 */
static int step_gc(struct cs_metaclient *mc)
{
	uint64_t gen = cs_store_superseded_gen(mc->store);
	int rc;

	if (gen != mc->gc_gen) {
		mc->gc_gen = gen;
		mc->gc_next_ms = now_ms();
		mc->gc_backoff_ms = mc->heartbeat_ms;
	}
	/* while the reaper deletes, the superseded versions are still held:
	 * asking now would only list them again */
	if (mc->gc_next_ms == 0 || now_ms() < mc->gc_next_ms ||
	    cs_reaper_busy(mc->reaper))
		return 0;
	rc =
	    cs_store_superseded_count(mc->store) ? send_inventory(mc, true) : 0;
	if (cs_store_superseded_count(mc->store) == 0 ||
	    mc->gc_backoff_ms >= mc->inventory_interval_ms) {
		mc->gc_next_ms = 0;
		return rc;
	}
	mc->gc_next_ms = now_ms() + mc->gc_backoff_ms;
	mc->gc_backoff_ms *= 2;
	return rc;
}

/* One step while registered; returns true when asked to stop. */
static bool step_registered(struct cs_metaclient *mc)
{
	int rc;

	if (now_ms() >= mc->next_inventory_ms) {
		rc = send_inventory(mc, false);
		/* a failed inventory is retried soon, not a full interval on */
		mc->next_inventory_ms =
		    now_ms() +
		    (rc == 0 ? mc->inventory_interval_ms : RETRY_MAX_MS);
		if (rc == -ENOENT) {
			mc->registered = false;
			return false;
		}
	}
	if (wait_ms(mc, mc->heartbeat_ms))
		return true;
	rc = send_server(mc, PHASE_HEARTBEAT, RFS_PATH_CLUSTER_HEARTBEAT);
	if (rc == 0)
		rc = step_gc(mc);
	if (rc == -ENOENT) {
		rfs_log_info(NULL,
			     "msg=\"metaserver does not know this "
			     "server; registering again\" meta=%s",
			     mc->meta_addr);
		mc->registered = false;
	}
	return false;
}

static void *metaclient_main(void *arg)
{
	struct cs_metaclient *mc = arg;
	bool stop = false;

	while (!stop)
		stop = mc->registered ? step_registered(mc) : step_register(mc);
	return NULL;
}

int cs_metaclient_start(const struct cs_metaclient_opts *opts,
			struct cs_metaclient **out)
{
	struct rfs_httpc_opts ho = {
	    .connect_timeout_ms = CALL_CONNECT_TIMEOUT_MS,
	    .timeout_ms = CALL_TIMEOUT_MS,
	    .retries = 0, /* this module retries on its own schedule */
	};
	struct cs_metaclient *mc;
	pthread_condattr_t ca;
	int rc;

	if (!opts->meta_addr || !opts->meta_addr[0] ||
	    strlen(opts->meta_addr) > RFS_ADDR_MAX || !opts->store ||
	    !opts->status || opts->heartbeat_ms == 0 ||
	    opts->inventory_interval_ms == 0)
		return -EINVAL;
	mc = calloc(1, sizeof(*mc));
	if (!mc)
		return -ENOMEM;
	snprintf(mc->meta_addr, sizeof(mc->meta_addr), "%s", opts->meta_addr);
	mc->store = opts->store;
	mc->status = opts->status;
	mc->status_arg = opts->status_arg;
	mc->heartbeat_ms = opts->heartbeat_ms;
	mc->inventory_interval_ms = opts->inventory_interval_ms;
	mc->retry_ms = RETRY_FIRST_MS;
	/* not a result: the first outcome of every phase gets logged */
	for (int i = 0; i < PHASE_COUNT; i++)
		mc->last_rc[i] = 1;
	mc->http = rfs_httpc_new(&ho);
	if (!mc->http) {
		free(mc);
		return -ENOMEM;
	}
	rc = cs_reaper_start(&(struct cs_reaper_opts){.store = opts->store},
			     &mc->reaper);
	if (rc < 0) {
		rfs_httpc_free(mc->http);
		free(mc);
		return rc;
	}
	pthread_mutex_init(&mc->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&mc->wake, &ca);
	pthread_condattr_destroy(&ca);
	rc = pthread_create(&mc->thread, NULL, metaclient_main, mc);
	if (rc != 0) {
		pthread_cond_destroy(&mc->wake);
		pthread_mutex_destroy(&mc->mu);
		cs_reaper_stop(mc->reaper);
		rfs_httpc_free(mc->http);
		free(mc);
		return -rc;
	}
	*out = mc;
	return 0;
}

void cs_metaclient_stop(struct cs_metaclient *mc)
{
	if (!mc)
		return;
	pthread_mutex_lock(&mc->mu);
	mc->stopping = true;
	pthread_cond_broadcast(&mc->wake);
	pthread_mutex_unlock(&mc->mu);
	pthread_join(mc->thread, NULL);
	cs_reaper_stop(mc->reaper);
	pthread_cond_destroy(&mc->wake);
	pthread_mutex_destroy(&mc->mu);
	rfs_httpc_free(mc->http);
	free(mc);
}
