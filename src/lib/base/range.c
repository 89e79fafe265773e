/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Range list arithmetic: building, sorting, merging, aligning and subtracting
 * the byte ranges that make up a plan, and cursors that hand a span of them out
 * in read-sized pieces.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include "base/range.h"
#include "base/value.h"

void rangelist_init(struct rangelist *rl)
{
	rl->v = NULL;
	rl->n = 0;
	rl->cap = 0;
}

void rangelist_free(struct rangelist *rl)
{
	free(rl->v);
	rangelist_init(rl);
}

void rangelist_trim(struct rangelist *rl)
{
	ARRAY_TRIM(rl->v, rl->n, &rl->cap);
}

size_t rangelist_find(const struct rangelist *rl, uint64_t pos)
{
	size_t lo = 0, hi = rl->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (rl->v[mid].off + rl->v[mid].len <= pos)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int rangelist_add(struct rangelist *rl, uint64_t off, uint64_t len)
{
	if (!len)
		return 0;
	if (off + len < off)
		return -ERANGE;
	if (ARRAY_GROW(rl->v, rl->n, &rl->cap))
		return -ENOMEM;
	rl->v[rl->n].off = off;
	rl->v[rl->n].len = len;
	rl->n++;
	return 0;
}

int rangelist_add_all(struct rangelist *rl, const struct rangelist *from)
{
	size_t i;
	int rc = 0;

	for (i = 0; from && i < from->n && !rc; i++)
		rc = rangelist_add(rl, from->v[i].off, from->v[i].len);
	return rc;
}

static int range_cmp(const void *a, const void *b)
{
	const struct range *x = a, *y = b;

	if (x->off != y->off)
		return x->off < y->off ? -1 : 1;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return 0;
}

void rangelist_normalize(struct rangelist *rl)
{
	size_t i, out = 0;

	if (rl->n < 2)
		return;
	/* Extents of a file come in order more often than not: then no sort. */
	for (i = 1; i < rl->n && range_cmp(&rl->v[i - 1], &rl->v[i]) <= 0; i++)
		;
	if (i < rl->n)
		qsort(rl->v, rl->n, sizeof(*rl->v), range_cmp);
	for (i = 1; i < rl->n; i++) {
		struct range *last = &rl->v[out];
		uint64_t end = last->off + last->len;

		if (rl->v[i].off <= end) {
			uint64_t e = rl->v[i].off + rl->v[i].len;

			if (e > end)
				last->len = e - last->off;
		} else {
			rl->v[++out] = rl->v[i];
		}
	}
	rl->n = out + 1;
}

void rangelist_align(struct rangelist *rl, uint64_t align, uint64_t limit)
{
	size_t i, out = 0;

	for (i = 0; i < rl->n; i++) {
		uint64_t start = rl->v[i].off & ~(align - 1);
		uint64_t end = rl->v[i].off + rl->v[i].len;

		if (rl->v[i].off >= limit)
			continue;
		end = end > limit ? limit : end;
		/* Rounding up may pass the limit; reads past the end come back short. */
		if (end & (align - 1))
			end = (end | (align - 1)) + 1;
		rl->v[out].off = start;
		rl->v[out].len = end - start;
		out++;
	}
	rl->n = out;
	rangelist_normalize(rl);
}

void rangelist_bridge(struct rangelist *rl, uint64_t gap, uint64_t limit)
{
	struct range *last;
	size_t i, out = 0;

	rangelist_normalize(rl);
	if (!rl->n)
		return;
	if (rl->v[0].off <= gap) {
		rl->v[0].len += rl->v[0].off;
		rl->v[0].off = 0;
	}
	for (i = 1; i < rl->n; i++) {
		last = &rl->v[out];
		if (rl->v[i].off - (last->off + last->len) <= gap)
			last->len = rl->v[i].off + rl->v[i].len - last->off;
		else
			rl->v[++out] = rl->v[i];
	}
	rl->n = out + 1;
	last = &rl->v[out];
	if (last->off + last->len < limit && limit - (last->off + last->len) <= gap)
		last->len = limit - last->off;
}

int rangelist_subtract(struct rangelist *out, const struct rangelist *a,
		       const struct rangelist *b)
{
	size_t i, j = 0;
	int rc;

	for (i = 0; i < a->n; i++) {
		uint64_t pos = a->v[i].off, end = a->v[i].off + a->v[i].len;

		while (j < b->n && b->v[j].off + b->v[j].len <= pos)
			j++;
		for (size_t k = j; k < b->n && b->v[k].off < end; k++) {
			uint64_t bs = b->v[k].off, be = b->v[k].off + b->v[k].len;

			if (bs > pos) {
				rc = rangelist_add(out, pos, bs - pos);
				if (rc)
					return rc;
			}
			if (be > pos)
				pos = be;
			if (pos >= end)
				break;
		}
		if (pos < end) {
			rc = rangelist_add(out, pos, end - pos);
			if (rc)
				return rc;
		}
	}
	return 0;
}

uint64_t rangelist_bytes(const struct rangelist *rl)
{
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i < rl->n; i++)
		sum += rl->v[i].len;
	return sum;
}

void rangecursor_init(struct rangecursor *c, const struct rangelist *rl,
		      uint64_t start, uint64_t len)
{
	c->rl = rl;
	c->idx = 0;
	c->left = len;
	while (c->idx < rl->n && start >= rl->v[c->idx].len) {
		start -= rl->v[c->idx].len;
		c->idx++;
	}
	c->pos = c->idx < rl->n ? rl->v[c->idx].off + start : 0;
}

int rangecursor_next(struct rangecursor *c, uint64_t max, struct range *r)
{
	const struct range *cur;
	uint64_t avail;

	if (!c->left || c->idx >= c->rl->n)
		return -ENODATA;
	cur = &c->rl->v[c->idx];
	avail = cur->off + cur->len - c->pos;
	r->off = c->pos;
	r->len = max;
	if (r->len > avail)
		r->len = avail;
	if (r->len > c->left)
		r->len = c->left;
	c->pos += r->len;
	c->left -= r->len;
	if (c->pos == cur->off + cur->len && ++c->idx < c->rl->n)
		c->pos = c->rl->v[c->idx].off;
	return 0;
}

uint64_t range_clipped_len(uint64_t off, uint64_t len, uint64_t size)
{
	if (off >= size)
		return 0;
	return len < size - off ? len : size - off;
}
