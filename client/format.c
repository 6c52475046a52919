/*
 * format: human-readable text for sizes, progress lines, replica faults and
 * modes. Pure: the same input always gives the same text.
 */
#include <config.h>
#include "client/client.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "common/errors.h"

/* Bytes per MB in rates: decimal, as network and disk speeds are quoted. */
#define FMT_MB 1e6
/* Narrowest and widest progress bar, in cells. */
#define FMT_BAR_MIN   10
#define FMT_BAR_MAX   30
#define FMT_WIDTH_MIN 40
#define FMT_FIELD_MAX 128
/* Room kept for "100%  1023 MiB/1023 MiB  9999.9 MB/s  ETA 9:59:59". */
#define FMT_TAIL_W 50

char *rfs_format_size(uint64_t bytes, char *out, size_t outlen)
{
	static const char *const units[] = {"KiB", "MiB", "GiB",
					    "TiB", "PiB", "EiB"};
	double v = (double)bytes;
	size_t u = 0;

	if (bytes < 1024) {
		snprintf(out, outlen, "%" PRIu64 " B", bytes);
		return out;
	}
	v /= 1024.0;
	while (v >= 1024.0 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024.0;
		u++;
	}
	if (v < 10.0)
		snprintf(out, outlen, "%.2f %s", v, units[u]);
	else if (v < 100.0)
		snprintf(out, outlen, "%.1f %s", v, units[u]);
	else
		snprintf(out, outlen, "%.0f %s", v, units[u]);
	return out;
}

/* "m:ss" or "h:mm:ss". */
static void format_duration(double s, char *out, size_t outlen)
{
	uint64_t t = s > 0 ? (uint64_t)(s + 0.5) : 0;

	if (t >= 3600)
		snprintf(out, outlen, "%" PRIu64 ":%02u:%02u", t / 3600,
			 (unsigned int)(t / 60 % 60), (unsigned int)(t % 60));
	else
		snprintf(out, outlen, "%u:%02u", (unsigned int)(t / 60),
			 (unsigned int)(t % 60));
}

/*
 * The numbers part: percent, sizes, rate, ETA (or elapsed when done);
 * compact leaves out the sizes for narrow terminals.
 */
static void progress_tail(uint64_t done, uint64_t total, double elapsed_s,
			  bool compact, char *out, size_t outlen)
{
	char d[32], t[32], rate[32] = "", time[32] = "", pct[8] = "";
	double bps = elapsed_s > 0 ? (double)done / elapsed_s : 0;

	rfs_format_size(done, d, sizeof(d));
	if (elapsed_s > 0)
		snprintf(rate, sizeof(rate), "  %.1f MB/s", bps / FMT_MB);
	if (total == 0) {
		snprintf(out, outlen, "%s%s", d, rate);
		return;
	}
	snprintf(pct, sizeof(pct), "%3u%%",
		 (unsigned int)(done >= total ? 100 : done * 100 / total));
	rfs_format_size(total, t, sizeof(t));
	if (done >= total && elapsed_s > 0) {
		format_duration(elapsed_s, time + 2, sizeof(time) - 2);
		memcpy(time, "  ", 2);
	} else if (bps > 0) {
		memcpy(time, "  ETA ", 6);
		format_duration((double)(total - done) / bps, time + 6,
				sizeof(time) - 6);
	}
	if (compact)
		snprintf(out, outlen, "%s%s%s", pct, rate, time);
	else
		snprintf(out, outlen, "%s  %s/%s%s%s", pct, d, t, rate, time);
}

/* "[#####.....]" with cells cells into out (cells + 3 bytes). */
static void progress_bar(uint64_t done, uint64_t total, unsigned int cells,
			 char *out)
{
	unsigned int full =
	    (unsigned int)(done >= total
			       ? cells
			       : (double)done / (double)total * cells);
	unsigned int i;

	out[0] = '[';
	for (i = 0; i < cells; i++)
		out[1 + i] = i < full ? '#' : '.';
	out[cells + 1] = ']';
	out[cells + 2] = '\0';
}

char *rfs_format_progress(const char *label, uint64_t done, uint64_t total,
			  double elapsed_s, unsigned int width, char *out,
			  size_t outlen)
{
	char tail[FMT_FIELD_MAX];
	char bar[FMT_BAR_MAX + 3] = "";
	size_t avail;
	size_t label_w;
	size_t llen = strlen(label);
	size_t tail_w;
	unsigned int cells = 0;

	if (width < FMT_WIDTH_MIN)
		width = FMT_WIDTH_MIN;
	progress_tail(done, total, elapsed_s, false, tail, sizeof(tail));
	if (strlen(tail) + 2 > width)
		progress_tail(done, total, elapsed_s, true, tail, sizeof(tail));
	/* A tail of constant width keeps the label and bar from jumping as
	 * the numbers change length. */
	tail_w = strlen(tail);
	if (tail_w < FMT_TAIL_W && FMT_TAIL_W + FMT_BAR_MIN + 8 <= width)
		tail_w = FMT_TAIL_W;
	avail = tail_w + 2 < width ? width - tail_w - 2 : 0;
	/* The bar takes a third of the room left: cells, brackets, gap. */
	if (total > 0 && avail >= FMT_BAR_MIN + 4) {
		cells = (unsigned int)(avail / 3);
		cells = cells < FMT_BAR_MIN   ? FMT_BAR_MIN
			: cells > FMT_BAR_MAX ? FMT_BAR_MAX
					      : cells;
		progress_bar(done, total, cells, bar);
		avail -= cells + 4;
	}
	label_w = avail;
	if (llen <= label_w)
		snprintf(out, outlen, "%-*s  %s%s%-*s", (int)label_w, label,
			 bar, cells ? "  " : "", (int)tail_w, tail);
	else if (label_w > 3)
		snprintf(out, outlen, "...%s  %s%s%-*s",
			 label + llen - (label_w - 3), bar, cells ? "  " : "",
			 (int)tail_w, tail);
	else
		snprintf(out, outlen, "%s%s%-*s", bar, cells ? "  " : "",
			 (int)tail_w, tail);
	if (strlen(out) > width)
		out[width] = '\0';
	return out;
}

/* What went wrong: "checksum mismatch in block 3" / "read failed (...)". */
static void fault_what(const struct rfs_cio_fault *f, char *out, size_t len)
{
	const char *name = rfs_errno_name(f->err);
	bool msg = f->message && *f->message;

	if (f->block >= 0)
		snprintf(out, len, "checksum mismatch in block %" PRId64,
			 f->block);
	else
		snprintf(out, len, "%s failed (%s%s%s)",
			 f->write ? "write" : "read", name, msg ? ": " : "",
			 msg ? f->message : "");
}

char *rfs_format_fault(const struct rfs_cio_fault *f, char *out, size_t outlen)
{
	char what[RFS_ERR_MESSAGE_MAX + 64];
	char then[RFS_SERVER_ID_MAX + 32] = "";

	fault_what(f, what, sizeof(what));
	if (!f->write && f->used)
		snprintf(then, sizeof(then), "; used %s instead", f->used->id);
	else if (!f->write)
		snprintf(then, sizeof(then), "; no replica left to try");
	snprintf(out, outlen,
		 "chunk %016" PRIx64 " v%" PRIu32 ": %s on %s (%s)%s",
		 f->chunk_id, f->version, what, f->replica->id,
		 f->replica->addr, then);
	return out;
}

void rfs_format_mode(uint32_t mode, char out[11])
{
	static const char rwx[] = "rwxrwxrwx";
	int i;

	out[0] = S_ISDIR(mode)	 ? 'd'
		 : S_ISLNK(mode) ? 'l'
		 : S_ISREG(mode) ? '-'
				 : '?';
	for (i = 0; i < 9; i++)
		out[1 + i] = mode & (1u << (8 - i)) ? rwx[i] : '-';
	if (mode & S_ISUID)
		out[3] = out[3] == 'x' ? 's' : 'S';
	if (mode & S_ISGID)
		out[6] = out[6] == 'x' ? 's' : 'S';
	if (mode & S_ISVTX)
		out[9] = out[9] == 'x' ? 't' : 'T';
	out[10] = '\0';
}
