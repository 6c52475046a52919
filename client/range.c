#include <config.h>
#include "client/client.h"

#include <string.h>

#include "common/crc32c.h"

#define BLOCK ((uint64_t)RFS_CRC_BLOCK_BYTES)

static uint64_t align_down(uint64_t v)
{
	return v - v % BLOCK;
}

static uint64_t align_up(uint64_t v)
{
	return v % BLOCK ? v - v % BLOCK + BLOCK : v;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

bool rfs_range_plan_read(uint64_t offset, uint64_t len, uint64_t length,
			 struct rfs_range_fetch *out)
{
	memset(out, 0, sizeof(*out));
	out->data_end = min_u64(offset + len, length);
	if (offset >= out->data_end)
		return false;
	out->start = align_down(offset);
	/* Aligned even when the length ends inside a block: a replica may
	 * hold more than the layout's length (the file was cut since), and a
	 * chunk server serves only block-aligned ranges or ranges to its own
	 * end, clipping a longer one to that end. */
	out->end = align_up(out->data_end);
	out->direct = out->start == offset && out->end <= offset + len;
	return true;
}

/* Plan the old blocks to read back around a range update. */
static void plan_edges(uint64_t offset, uint64_t end, uint64_t prev_length,
		       struct rfs_range_write *w)
{
	uint64_t tail = align_down(end);

	if (offset > w->start && w->start < prev_length) {
		w->head_off = w->start;
		w->head_len = min_u64(BLOCK, prev_length - w->start);
	}
	if (w->end > end && tail < prev_length &&
	    !(w->head_len > 0 && tail == w->head_off)) {
		w->tail_off = tail;
		w->tail_len = min_u64(BLOCK, prev_length - tail);
	}
}

void rfs_range_plan_write(uint64_t offset, uint64_t len, bool has_base,
			  uint64_t prev_length, struct rfs_range_write *out)
{
	uint64_t end = offset + len;

	memset(out, 0, sizeof(*out));
	if (!has_base || (offset == 0 && end >= prev_length)) {
		/* Nothing to keep: a new replica from byte 0 (zeros before
		 * offset when there is no base). */
		out->whole = true;
		out->start = 0;
		out->end = end;
		out->new_length = end;
		out->direct = offset == 0;
		return;
	}
	out->new_length = end > prev_length ? end : prev_length;
	out->start = align_down(offset);
	out->end = end % BLOCK ? min_u64(align_up(end), out->new_length) : end;
	out->direct = out->start == offset && out->end == end;
	plan_edges(offset, end, prev_length, out);
}

uint64_t rfs_range_piece_len(uint64_t pos, uint64_t size, uint64_t chunk_size,
			     uint64_t piece)
{
	uint64_t n = chunk_size - pos % chunk_size;

	if (pos >= size)
		return 0;
	n = min_u64(n, piece);
	return min_u64(n, size - pos);
}

const struct rfs_chunk *rfs_layout_find(const struct rfs_layout *l,
					uint64_t index)
{
	size_t lo = 0;
	size_t hi = l->n_chunks;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (l->chunks[mid].index == index)
			return &l->chunks[mid];
		if (l->chunks[mid].index < index)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}
