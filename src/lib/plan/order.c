/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Loader order. A file's extents come from FIEMAP in the file's order; a
 * class lists its files in the order given; clipping keeps that order and
 * drops what an earlier piece (a shared extent, an earlier class, a block
 * widened to the sector) already covers.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/value.h"
#include "plan/order.h"

void order_free(struct order *o)
{
	free(o->v);
	o->v = NULL;
	o->n = 0;
}

static int order_push(struct order *o, const struct order_piece *pc)
{
	if (!pc->len)
		return 0;
	/* A piece that continues the last one in the same file extends it. */
	if (o->n) {
		struct order_piece *last = &o->v[o->n - 1];

		if (last->file == pc->file && last->off + last->len == pc->off &&
		    (last->file_off == ORDER_NO_FILE_OFF
			 ? pc->file_off == ORDER_NO_FILE_OFF
			 : pc->file_off == last->file_off + last->len)) {
			last->len += pc->len;
			return 0;
		}
	}
	if (ARRAY_GROW(o->v, o->n, NULL))
		return -ENOMEM;
	o->v[o->n++] = *pc;
	return 0;
}

int order_add(struct order *o, size_t file, uint64_t off, uint64_t len, uint64_t file_off,
	      uint64_t align, uint64_t limit)
{
	uint64_t start = off & ~(align - 1), end = off + len;
	struct order_piece pc;

	if (end < off)
		return -ERANGE;
	end = (end + align - 1) & ~(align - 1);
	if (end > limit)
		end = limit;
	if (end <= start)
		return 0;
	pc.off = start;
	pc.len = end - start;
	pc.file = file;
	pc.file_off = file_off;
	if (file_off != ORDER_NO_FILE_OFF)
		pc.file_off = file_off > off - start ? file_off - (off - start) : 0;
	return order_push(o, &pc);
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Index of @off in the sorted, distinct @pts (it is there). */
static size_t point_index(const uint64_t *pts, size_t m, uint64_t off)
{
	size_t lo = 0, hi = m;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (pts[mid] < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The first segment from @i on not yet taken (path halving). */
static size_t next_free(size_t *nxt, size_t i)
{
	while (nxt[i] != i) {
		nxt[i] = nxt[nxt[i]];
		i = nxt[i];
	}
	return i;
}

/* The ends of every piece of @in and range of @allow, sorted and distinct; returns their count. */
static size_t cut_points(uint64_t *pts, const struct order *in, const struct rangelist *allow)
{
	size_t i, m = 0;

	for (i = 0; i < in->n; i++) {
		pts[m++] = in->v[i].off;
		pts[m++] = in->v[i].off + in->v[i].len;
	}
	for (i = 0; i < allow->n; i++) {
		pts[m++] = allow->v[i].off;
		pts[m++] = allow->v[i].off + allow->v[i].len;
	}
	qsort(pts, m, sizeof(*pts), u64_cmp);
	for (i = 0, m = m ? 1 : 0; m && i < 2 * (in->n + allow->n); i++)
		if (pts[i] != pts[m - 1])
			pts[m++] = pts[i];
	return m;
}

/*
 * Emit the runs of free segments of @pc, in offset order (free neighbours
 * as one part, as the allowed ranges they came from), and take them.
 */
static int clip_one(struct order *out, const struct order_piece *pc, const uint64_t *pts, size_t m,
		    size_t *nxt)
{
	size_t i = point_index(pts, m, pc->off), e = point_index(pts, m, pc->off + pc->len), j;
	int rc = 0;

	for (i = next_free(nxt, i); i < e && !rc; i = next_free(nxt, j)) {
		struct order_piece part = *pc;

		for (j = i; j < e && nxt[j] == j; j++)
			nxt[j] = j + 1;
		part.off = pts[i];
		part.len = pts[j] - pts[i];
		if (pc->file_off != ORDER_NO_FILE_OFF)
			part.file_off = pc->file_off + (part.off - pc->off);
		rc = order_push(out, &part);
	}
	return rc;
}

/*
 * Each byte goes to the first piece of @in covering it, if @allow holds it.
 * The ends of the pieces and of @allow cut the line into segments; a segment
 * outside @allow starts taken, and each piece takes the free segments of its
 * span, found through "next free segment" links that skip the taken ones.
 * So a clip costs O(n log n) in pieces and ranges, not a subtraction per
 * piece.
 */
int order_clip(struct order *out, const struct order *in, const struct rangelist *allow)
{
	uint64_t *pts;
	size_t *nxt, i, k, m;
	int rc = 0;

	if (!allow || !allow->n || !in->n)
		return 0;
	pts = malloc(2 * (in->n + allow->n) * sizeof(*pts));
	nxt = malloc(2 * (in->n + allow->n) * sizeof(*nxt));
	if (!pts || !nxt) {
		rc = -ENOMEM;
		goto done;
	}
	m = cut_points(pts, in, allow);
	/* Segment i is [pts[i], pts[i + 1]); index m - 1 is the end, always free. */
	for (i = 0; i < m; i++)
		nxt[i] = i + 1 < m ? i + 1 : i;
	for (k = 0; k < allow->n; k++) {
		size_t e = point_index(pts, m, allow->v[k].off + allow->v[k].len);

		for (i = point_index(pts, m, allow->v[k].off); i < e; i++)
			nxt[i] = i;
	}
	for (i = 0; i < in->n && !rc; i++)
		rc = clip_one(out, &in->v[i], pts, m, nxt);
done:
	free(pts);
	free(nxt);
	return rc;
}

uint64_t order_bytes(const struct order *o)
{
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i < o->n; i++)
		sum += o->v[i].len;
	return sum;
}
