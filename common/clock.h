/*
 * clock: the wall clock in nanoseconds, as ringfs stamps file times
 * (the metaserver's "now" of an operation, the FUSE client's guesses of
 * it). Header-only; thread-safe.
 */
#ifndef RFS_COMMON_CLOCK_H
#define RFS_COMMON_CLOCK_H

#include <stdint.h>
#include <time.h>

/* CLOCK_REALTIME in ns since the epoch. */
static inline int64_t rfs_wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

#endif
