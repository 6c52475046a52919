#include <config.h>
#include "metaserver/state.h"

#include <errno.h>
#include <string.h>

#include "common/log.h"

int ms_state_init(struct ms_state *st, const struct ms_fsm_format *fmt)
{
	memset(st, 0, sizeof(*st));
	st->fmt = *fmt;
	st->fsm = ms_fsm_new(fmt);
	return st->fsm == NULL ? -ENOMEM : 0;
}

void ms_state_release(struct ms_state *st)
{
	ms_fsm_free(st->fsm);
	st->fsm = NULL;
}

static void state_apply(void *arg, const char *buf, size_t len, void **result)
{
	struct ms_state *st = arg;
	struct ms_state_result *r = &st->last;
	struct rfs_op op;
	int rc;

	memset(r, 0, sizeof(*r));
	*result = r;
	rc = rfs_proto_op_decode(buf, len, &op);
	if (rc < 0 || !ms_fsm_op_is_mutation(op.type)) {
		/*
		 * Only this program writes entries, so this means a damaged
		 * or foreign log. Every node skips it the same way.
		 */
		st->bad_entries++;
		rfs_log_error(NULL,
			      "msg=\"log entry skipped: not a valid mutation\" "
			      "bytes=%zu err=%s",
			      len, rc < 0 ? "EPROTO" : "EINVAL");
		if (rc == 0)
			rfs_proto_op_release(&op);
		r->rc = -EBADMSG;
		return;
	}
	r->type = op.type;
	r->rc = ms_fsm_apply(st->fsm, &op, &r->res);
	rfs_proto_op_release(&op);
}

static int state_snapshot(void *arg, void **buf, size_t *len)
{
	struct ms_state *st = arg;

	return ms_fsm_snapshot(st->fsm, buf, len);
}

static int state_restore(void *arg, const char *buf, size_t len)
{
	struct ms_state *st = arg;
	struct ms_fsm *fsm;
	const char *fsid;
	int rc;

	rc = ms_fsm_restore(buf, len, &fsm);
	if (rc < 0)
		return rc;
	fsid = ms_fsm_format(fsm)->fsid;
	if (strcmp(fsid, st->fmt.fsid) != 0) {
		rfs_log_error(NULL,
			      "msg=\"snapshot belongs to another file system\" "
			      "snapshot_fsid=%s fsid=%s",
			      fsid, st->fmt.fsid);
		ms_fsm_free(fsm);
		return -EPROTO;
	}
	ms_fsm_free(st->fsm);
	st->fsm = fsm;
	return 0;
}

void ms_state_sm(struct ms_state *st, struct ms_raftlog_sm *out)
{
	out->arg = st;
	out->apply = state_apply;
	out->snapshot = state_snapshot;
	out->restore = state_restore;
}
