#include <config.h>
#include "bench/micro/micro.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

double mb_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a;
	double y = *(const double *)b;

	return (x > y) - (x < y);
}

void mb_stats(const double *v, unsigned int n, double *median, double *min,
	      double *max)
{
	double s[MB_REPS_MAX];

	if (n > MB_REPS_MAX)
		n = MB_REPS_MAX;
	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_double);
	*min = s[0];
	*max = s[n - 1];
	*median = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

void mb_result_init(struct mb_result *r, const char *group, const char *name,
		    const char *params, const char *unit)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->group, sizeof(r->group), "%s", group);
	snprintf(r->name, sizeof(r->name), "%s", name);
	snprintf(r->params, sizeof(r->params), "%s", params);
	r->unit = unit;
}

uint64_t mb_rand(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*state = x;
	return x;
}

void mb_fill(void *buf, size_t len, uint64_t seed)
{
	unsigned char *p = buf;
	uint64_t st = seed ? seed : 1;
	size_t i;

	for (i = 0; i + sizeof(uint64_t) <= len; i += sizeof(uint64_t)) {
		uint64_t v = mb_rand(&st);

		memcpy(p + i, &v, sizeof(v));
	}
	for (; i < len; i++)
		p[i] = (unsigned char)mb_rand(&st);
}

void mb_keep(uint64_t v)
{
	/* a volatile store must happen, so v must be computed */
	volatile uint64_t sink = v;

	(void)sink;
}

char *mb_size_str(size_t bytes, char *out, size_t outlen)
{
	if (bytes && bytes % (1u << 20) == 0)
		snprintf(out, outlen, "%zuMiB", bytes >> 20);
	else if (bytes && bytes % (1u << 10) == 0)
		snprintf(out, outlen, "%zuKiB", bytes >> 10);
	else
		snprintf(out, outlen, "%zuB", bytes);
	return out;
}
