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

/* Index of the first range of @rl ending after @off (@rl normalized). */
static size_t first_after(const struct rangelist *rl, uint64_t off)
{
	size_t lo = 0, hi = rl->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (rl->v[mid].off + rl->v[mid].len <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Emit the parts of @pc inside @avail, and take them out of @avail. */
static int clip_one(struct order *out, const struct order_piece *pc, struct rangelist *avail)
{
	uint64_t end = pc->off + pc->len;
	struct rangelist taken, rest;
	size_t k;
	int rc = 0;

	rangelist_init(&taken);
	for (k = first_after(avail, pc->off); k < avail->n && avail->v[k].off < end && !rc; k++) {
		uint64_t a = avail->v[k].off > pc->off ? avail->v[k].off : pc->off;
		uint64_t b = avail->v[k].off + avail->v[k].len < end
				 ? avail->v[k].off + avail->v[k].len
				 : end;
		struct order_piece part = *pc;

		part.off = a;
		part.len = b - a;
		if (pc->file_off != ORDER_NO_FILE_OFF)
			part.file_off = pc->file_off + (a - pc->off);
		rc = order_push(out, &part);
		if (!rc)
			rc = rangelist_add(&taken, a, b - a);
	}
	if (!rc && taken.n) {
		rangelist_init(&rest);
		rc = rangelist_subtract(&rest, avail, &taken);
		if (!rc) {
			rangelist_free(avail);
			*avail = rest;
		}
	}
	rangelist_free(&taken);
	return rc;
}

int order_clip(struct order *out, const struct order *in, const struct rangelist *allow)
{
	struct rangelist avail;
	size_t i;
	int rc;

	rangelist_init(&avail);
	rc = rangelist_add_all(&avail, allow);
	for (i = 0; i < in->n && !rc && avail.n; i++)
		rc = clip_one(out, &in->v[i], &avail);
	rangelist_free(&avail);
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
