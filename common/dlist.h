/*
 * dlist: an intrusive doubly-linked list (the LRU and eviction lists of
 * the mount's caches). A struct takes part by embedding a struct
 * rfs_dlink; rfs_dlist_entry gets the struct back from its link. The
 * list owns nothing: callers allocate and free the elements and do their
 * own locking. A zeroed struct rfs_dlist is empty; a link not on a list
 * has both pointers NULL.
 */
#ifndef RFS_COMMON_DLIST_H
#define RFS_COMMON_DLIST_H

#include <stddef.h>

struct rfs_dlink {
	struct rfs_dlink *prev; /* towards the head */
	struct rfs_dlink *next; /* towards the tail */
};

struct rfs_dlist {
	struct rfs_dlink *head;
	struct rfs_dlink *tail;
};

/* The struct of type whose member is the link at ptr (NULL stays NULL). */
#define rfs_dlist_entry(ptr, type, member)                                     \
	((ptr) ? (type *)(void *)((char *)(ptr)-offsetof(type, member))        \
	       : (type *)NULL)

/* Take n, which is on l, off it. */
static inline void rfs_dlist_remove(struct rfs_dlist *l, struct rfs_dlink *n)
{
	if (n->prev)
		n->prev->next = n->next;
	else
		l->head = n->next;
	if (n->next)
		n->next->prev = n->prev;
	else
		l->tail = n->prev;
	n->prev = n->next = NULL;
}

/* Put n, on no list, at the head of l. */
static inline void rfs_dlist_push_head(struct rfs_dlist *l, struct rfs_dlink *n)
{
	n->prev = NULL;
	n->next = l->head;
	if (l->head)
		l->head->prev = n;
	else
		l->tail = n;
	l->head = n;
}

/* Put n, on no list, at the tail of l. */
static inline void rfs_dlist_push_tail(struct rfs_dlist *l, struct rfs_dlink *n)
{
	n->next = NULL;
	n->prev = l->tail;
	if (l->tail)
		l->tail->next = n;
	else
		l->head = n;
	l->tail = n;
}

#endif
