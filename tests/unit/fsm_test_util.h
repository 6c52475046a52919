/*
 * fsm_test_util: helpers shared by the fsm unit tests: a small test
 * state and one-line wrappers that build and apply each op. Every
 * wrapper returns what ms_fsm_apply() returned.
 */
#ifndef RFS_TESTS_UNIT_FSM_TEST_UTIL_H
#define RFS_TESTS_UNIT_FSM_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "metaserver/fsm.h"

#define FT_CHUNK   (64u << 10) /* smallest legal chunk size */
#define FT_GOAL	   2
#define FT_CREATED 1000 /* root times */
#define FT_NOW	   2000 /* now_ns of every op the wrappers build */
#define FT_UID	   100
#define FT_GID	   200

/* A fresh state (chunk size FT_CHUNK, goal FT_GOAL); fatal on failure. */
struct ms_fsm *ft_new(void);
/* A zeroed op of this type with now_ns FT_NOW and FT_UID/FT_GID. */
void ft_op(struct rfs_op *op, uint32_t type);
/* Copies a name into an op field; longer names fill it without NUL. */
void ft_name(char *dst, const char *src);

int ft_mkdir(struct ms_fsm *fsm, uint64_t parent, const char *name,
	     struct rfs_attr *out);
int ft_mkdir_at(struct ms_fsm *fsm, uint64_t parent, const char *name,
		uint32_t mode, int64_t now, struct rfs_attr *out);
int ft_create(struct ms_fsm *fsm, uint64_t parent, const char *name,
	      uint32_t flags, struct rfs_attr *out);
int ft_symlink(struct ms_fsm *fsm, uint64_t parent, const char *name,
	       const char *target, struct rfs_attr *out);
int ft_rmdir(struct ms_fsm *fsm, uint64_t parent, const char *name);
int ft_unlink(struct ms_fsm *fsm, uint64_t parent, const char *name);
int ft_rename(struct ms_fsm *fsm, uint64_t parent, const char *name,
	      uint64_t newparent, const char *newname, uint32_t flags);
int ft_link(struct ms_fsm *fsm, uint64_t ino, uint64_t newparent,
	    const char *newname, struct rfs_attr *out);
int ft_truncate(struct ms_fsm *fsm, uint64_t ino, uint64_t size);
int ft_setxattr(struct ms_fsm *fsm, uint64_t ino, const char *name,
		const char *value, size_t len, uint32_t flags);
int ft_removexattr(struct ms_fsm *fsm, uint64_t ino, const char *name);

int ft_register(struct ms_fsm *fsm, const char *id, const char *addr,
		const char *zone, uint32_t weight);
/* Registers "cs1".."csN" at 127.0.0.1:950N in zones "z1".."zN". */
void ft_servers(struct ms_fsm *fsm, int n);
/* Lease on cs1..csN (n_replicas of them). out may be NULL. */
int ft_lease(struct ms_fsm *fsm, uint64_t ino, uint64_t index,
	     uint64_t chunk_id, uint32_t n_replicas, struct rfs_lease *out);
/* Commit on cs1..csN (n_replicas of them). */
int ft_commit(struct ms_fsm *fsm, uint64_t ino, uint64_t index,
	      uint64_t chunk_id, uint32_t version, uint64_t length,
	      uint32_t n_replicas);
/* Lease (fresh chunk id if new) then commit length bytes on cs1, cs2. */
int ft_write(struct ms_fsm *fsm, uint64_t ino, uint64_t index, uint64_t length);

#endif
