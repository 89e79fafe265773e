/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Loader order. A file's extents come from FIEMAP in the file's order; a
 * class lists its files in the order given; clipping keeps that order and
 * drops what an earlier piece (a shared extent, an earlier class, a block
 * widened to the sector) already covers.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/value.h"
#include "plan/order.h"

void order_free(struct order *o)
{
	free(o->v);
	o->v = NULL;
	o->n = 0;
	o->cap = 0;
}

void order_trim(struct order *o)
{
	ARRAY_TRIM(o->v, o->n, &o->cap);
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
	if (ARRAY_GROW(o->v, o->n, &o->cap))
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
static size_t next_free(uint32_t *nxt, size_t i)
{
	while (nxt[i] != i) {
		nxt[i] = nxt[nxt[i]];
		i = nxt[i];
	}
	return i;
}

/* A clip's segments: their starts (and the end), and for each the next one not taken. */
struct clip {
	uint64_t *pts;
	uint32_t *nxt;
	size_t m;
	size_t parts; /* counted by the first pass */
	bool same;    /* every piece so far came out whole */
};

/* End @k of @in's pieces: starts and ends in turn. */
static uint64_t piece_point(const struct order *in, size_t k)
{
	const struct order_piece *pc = &in->v[k / 2];

	return k & 1 ? pc->off + pc->len : pc->off;
}

static uint64_t range_point(const struct rangelist *rl, size_t k)
{
	const struct range *r = &rl->v[k / 2];

	return k & 1 ? r->off + r->len : r->off;
}

/* The pieces' ends already sorted: one file read from its start, as most are. */
static bool pieces_in_order(const struct order *in)
{
	size_t k;

	for (k = 1; k < 2 * in->n; k++)
		if (piece_point(in, k - 1) > piece_point(in, k))
			return false;
	return true;
}

/*
 * The ends of the pieces (in order) and of the normalized @allow merged in
 * one pass, distinct, into @pts (NULL: only counted). Returns the count.
 */
static size_t merge_points(uint64_t *pts, const struct order *in, const struct rangelist *allow)
{
	size_t a = 0, b = 0, na = 2 * in->n, nb = 2 * allow->n, m = 0;
	uint64_t x, last = 0;

	while (a < na || b < nb) {
		if (b == nb || (a < na && piece_point(in, a) <= range_point(allow, b)))
			x = piece_point(in, a++);
		else
			x = range_point(allow, b++);
		if (!m || last != x) {
			if (pts)
				pts[m] = x;
			m++;
			last = x;
		}
	}
	return m;
}

/* The ends of every piece of @in and range of @allow, sorted and distinct: @c->pts, @c->m. */
static int cut_points(struct clip *c, const struct order *in, const struct rangelist *allow)
{
	size_t i, m = 0, n = 2 * (in->n + allow->n);
	uint64_t *fit;

	if (pieces_in_order(in)) {
		/* Counted first: the points take exactly their room. */
		c->m = merge_points(NULL, in, allow);
		c->pts = malloc(c->m * sizeof(*c->pts));
		if (!c->pts)
			return -ENOMEM;
		merge_points(c->pts, in, allow);
		return 0;
	}
	c->pts = malloc(n * sizeof(*c->pts));
	if (!c->pts)
		return -ENOMEM;
	for (i = 0; i < in->n; i++) {
		c->pts[m++] = in->v[i].off;
		c->pts[m++] = in->v[i].off + in->v[i].len;
	}
	for (i = 0; i < allow->n; i++) {
		c->pts[m++] = allow->v[i].off;
		c->pts[m++] = allow->v[i].off + allow->v[i].len;
	}
	qsort(c->pts, m, sizeof(*c->pts), u64_cmp);
	for (i = 0, m = 1; i < n; i++)
		if (c->pts[i] != c->pts[m - 1])
			c->pts[m++] = c->pts[i];
	fit = realloc(c->pts, m * sizeof(*c->pts));
	c->pts = fit ? fit : c->pts;
	c->m = m;
	return 0;
}

/* Every segment free inside @allow, taken outside it. */
static void clip_links(struct clip *c, const struct rangelist *allow)
{
	size_t i, k;

	/* Segment i is [pts[i], pts[i + 1]); index m - 1 is the end, always free. */
	for (i = 0; i < c->m; i++)
		c->nxt[i] = (uint32_t)(i + 1 < c->m ? i + 1 : i);
	for (k = 0; k < allow->n; k++) {
		size_t e = point_index(c->pts, c->m, allow->v[k].off + allow->v[k].len);

		for (i = point_index(c->pts, c->m, allow->v[k].off); i < e; i++)
			c->nxt[i] = (uint32_t)i;
	}
}

/*
 * Emit the runs of free segments of @pc, in offset order (free neighbours
 * as one part, as the allowed ranges they came from), and take them. With
 * @out NULL they are only counted in @c->parts, and @c->same cleared unless
 * @pc comes out whole.
 */
static int clip_one(struct clip *c, struct order *out, const struct order_piece *pc)
{
	size_t s = point_index(c->pts, c->m, pc->off),
	       e = point_index(c->pts, c->m, pc->off + pc->len);
	size_t i, j, runs = 0;
	int rc = 0;

	for (i = next_free(c->nxt, s); i < e && !rc; i = next_free(c->nxt, j)) {
		struct order_piece part = *pc;

		for (j = i; j < e && c->nxt[j] == j; j++)
			c->nxt[j] = (uint32_t)(j + 1);
		runs++;
		if (!out) {
			c->same = c->same && i == s && j == e;
			continue;
		}
		part.off = c->pts[i];
		part.len = c->pts[j] - c->pts[i];
		if (pc->file_off != ORDER_NO_FILE_OFF)
			part.file_off = pc->file_off + (part.off - pc->off);
		rc = order_push(out, &part);
	}
	c->parts += runs;
	c->same = c->same && runs == 1;
	return rc;
}

/*
 * Each byte goes to the first piece of @in covering it, if @allow holds it.
 * The ends of the pieces and of @allow cut the line into segments; a segment
 * outside @allow starts taken, and each piece takes the free segments of its
 * span, found through "next free segment" links that skip the taken ones.
 * So a clip costs O(n log n) in pieces and ranges, not a subtraction per
 * piece. A first pass counts the parts: @out is allocated to fit, and when
 * every piece comes out whole and @take is given, @out takes @take's pieces
 * (@in itself) instead of a copy.
 */
static int clip(struct order *out, const struct order *in, struct order *take,
		const struct rangelist *allow)
{
	struct clip c = {.same = true};
	size_t i;
	int rc;

	if (!allow || !allow->n || !in->n)
		return 0;
	rc = cut_points(&c, in, allow);
	if (rc)
		return rc;
	if (c.m >= UINT32_MAX || !(c.nxt = malloc(c.m * sizeof(*c.nxt)))) {
		rc = -ENOMEM;
		goto done;
	}
	clip_links(&c, allow);
	for (i = 0; i < in->n; i++)
		clip_one(&c, NULL, &in->v[i]);
	if (c.same && take) {
		*out = *take;
		*take = (struct order){0};
		goto done;
	}
	out->v = malloc((c.parts ? c.parts : 1) * sizeof(*out->v));
	if (!out->v) {
		rc = -ENOMEM;
		goto done;
	}
	out->cap = c.parts ? c.parts : 1;
	clip_links(&c, allow);
	for (i = 0; i < in->n && !rc; i++)
		rc = clip_one(&c, out, &in->v[i]);
	order_trim(out);
done:
	free(c.pts);
	free(c.nxt);
	return rc;
}

int order_clip(struct order *out, const struct order *in, const struct rangelist *allow)
{
	return clip(out, in, NULL, allow);
}

int order_clip_take(struct order *out, struct order *in, const struct rangelist *allow)
{
	int rc = clip(out, in, in, allow);

	order_free(in);
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
