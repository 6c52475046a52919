/*
 * state: the bridge between the replicated log (raftlog) and the state
 * machine (fsm). It owns the current struct ms_fsm and gives raftlog the
 * callbacks that apply a log entry (a JSON-encoded struct rfs_op, see
 * rfs_proto_op_encode), serialise a snapshot and restore one. A restore
 * replaces the fsm, so users always go through st->fsm and never keep the
 * pointer across loop iterations.
 * Runs on the loop thread only; not thread-safe.
 */
#ifndef RFS_METASERVER_STATE_H
#define RFS_METASERVER_STATE_H

#include <stdint.h>

#include "metaserver/fsm.h"
#include "metaserver/raftlog.h"

/* What applying one entry produced; handed to the proposer. */
struct ms_state_result {
	int rc;	       /* 0 or the negative errno ms_fsm_apply returned */
	uint32_t type; /* enum rfs_op_type of the entry */
	struct ms_fsm_result res;
};

struct ms_state {
	struct ms_fsm *fsm;	     /* current state; replaced by a restore */
	struct ms_fsm_format fmt;    /* from the format file */
	struct ms_state_result last; /* result of the latest apply */
	uint64_t bad_entries;	     /* entries that did not decode */
};

/*
 * Start from an empty file system described by fmt (the log replay then
 * rebuilds the real state). Returns 0 or -ENOMEM.
 */
int ms_state_init(struct ms_state *st, const struct ms_fsm_format *fmt);
void ms_state_release(struct ms_state *st);

/*
 * The raftlog state machine over st (borrowed for the log's lifetime).
 * Its apply callback gives a struct ms_state_result * as result. Its
 * restore refuses (-EPROTO) a snapshot whose fsid differs from st->fmt's.
 */
void ms_state_sm(struct ms_state *st, struct ms_raftlog_sm *out);

#endif
