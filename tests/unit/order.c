/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Description: loader order. A piece is widened to the sector and clipped to
 * the target, keeping its place in the file; clipping to a phase keeps the
 * pieces' order (not device order), drops bytes outside the phase, and
 * gives a byte shared by two pieces only to the first. Then a property: on
 * random pieces and phases, each byte clipped goes where a byte map of
 * "first piece in the phase that covers it" says, once, in the pieces' order;
 * the same when the clip uses its input up, and for pieces in device order
 * (their ends merged, not sorted), taken over whole where nothing is cut.
 */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "plan/order.h"
#include "../lib/tap.h"

#define UNITS 512 /* a small device of 512 sectors, so that pieces overlap often */
#define SECT  512

/* The pieces of @in in order, a byte map standing for what order_clip computes. */
static bool clip_matches(const struct order *in, const struct rangelist *allow,
			 const struct order *out)
{
	static long owner[UNITS], got[UNITS];
	size_t i, k, prev = 0;
	uint64_t u;

	for (u = 0; u < UNITS; u++) {
		bool ok = false;

		for (k = 0; k < allow->n; k++)
			ok |= u * SECT >= allow->v[k].off &&
			      u * SECT < allow->v[k].off + allow->v[k].len;
		owner[u] = -1;
		for (i = 0; ok && i < in->n && owner[u] < 0; i++)
			if (u * SECT >= in->v[i].off && u * SECT < in->v[i].off + in->v[i].len)
				owner[u] = (long)i;
		got[u] = -1;
	}
	for (i = 0; i < out->n; i++) {
		const struct order_piece *p = &out->v[i];

		for (u = p->off / SECT; u < (p->off + p->len) / SECT; u++) {
			long w = owner[u];

			/* once, to its first piece, at that piece's file offset, in order */
			if (got[u] >= 0 || w < 0 || in->v[w].file != p->file ||
			    in->v[w].file_off + (u * SECT - in->v[w].off) !=
				p->file_off + (u * SECT - p->off) ||
			    (size_t)w < prev)
				return false;
			got[u] = w;
			prev = (size_t)w;
		}
	}
	for (u = 0; u < UNITS; u++)
		if (owner[u] >= 0 && got[u] < 0)
			return false;
	return true;
}

static void copy_order(struct order *to, const struct order *from)
{
	size_t i;

	for (i = 0; i < from->n; i++)
		order_add(to, from->v[i].file, from->v[i].off, from->v[i].len, from->v[i].file_off,
			  SECT, UNITS * SECT);
}

/*
 * Pieces for a round: random (overlapping often), or in device order
 * (@sorted: gaps and lengths random, as a file's extents), in which case
 * the phase is half the time exactly their union (nothing to cut).
 */
static void round_input(struct order *in, struct rangelist *allow, bool sorted)
{
	int i, n = 1 + rand() % 40;
	uint64_t at = 0;

	for (i = 0; i < n; i++) {
		uint64_t off = (uint64_t)(rand() % UNITS) * SECT;
		uint64_t len = (uint64_t)(1 + rand() % 64) * SECT;

		if (sorted) {
			off = at + (uint64_t)(rand() % 3) * SECT;
			len = (uint64_t)(1 + rand() % 16) * SECT;
			at = off + len;
		}
		order_add(in, (size_t)(i % 5), off, len, (uint64_t)i * 65536, SECT, UNITS * SECT);
	}
	if (sorted && rand() % 2) {
		for (i = 0; (size_t)i < in->n; i++)
			rangelist_add(allow, in->v[i].off, in->v[i].len);
	} else {
		for (i = rand() % 6; i >= 0; i--)
			rangelist_add(allow, (uint64_t)(rand() % UNITS) * SECT,
				      (uint64_t)(1 + rand() % 200) * SECT);
	}
	rangelist_normalize(allow);
}

/*
 * Random pieces and phases; returns how many rounds were clipped right, by
 * order_clip(), or (@take) by order_clip_take(), which uses its input up
 * and where nothing is cut takes it over (counted in @taken).
 */
static int clip_rounds(int rounds, bool sorted, bool take, int *taken)
{
	int r, good = 0;

	srand(22);
	for (r = 0; r < rounds; r++) {
		struct order in = {0}, out = {0}, used = {0};
		struct order_piece *was;
		struct rangelist allow;
		int rc;

		rangelist_init(&allow);
		round_input(&in, &allow, sorted);
		if (take) {
			copy_order(&used, &in);
			was = used.v;
			rc = order_clip_take(&out, &used, &allow);
			*taken += out.n && out.v == was;
			rc = rc || used.n || used.v;
		} else {
			rc = order_clip(&out, &in, &allow);
		}
		if (!rc && clip_matches(&in, &allow, &out))
			good++;
		order_free(&in);
		order_free(&out);
		rangelist_free(&allow);
	}
	return good;
}

int main(void)
{
	int good, taken = 0;

	struct order in = {0}, out = {0};
	struct rangelist allow;

	plan(10);
	order_add(&in, 0, 8192 + 100, 4000, 4096 + 100, 4096, 1 << 20);
	ok(in.n == 1 && in.v[0].off == 8192 && in.v[0].len == 8192 && in.v[0].file_off == 4096,
	   "widened to the sector, the file offset moved with it");
	order_add(&in, 0, 1 << 20, 8192, 8192, 4096, 1 << 20);
	ok(in.n == 1, "a piece past the target is dropped");
	order_add(&in, 0, 16384, 4096, 4096 + 8192, 4096, 1 << 20);
	ok(in.n == 1 && in.v[0].len == 12288, "a piece continuing the last in its file extends it");
	order_add(&in, 1, 0, 8192, 0, 4096, 1 << 20);	     /* file 1 lies before file 0 */
	order_add(&in, 1, 8192, 12288, 8192, 4096, 1 << 20); /* and shares file 0's blocks */
	rangelist_init(&allow);
	rangelist_add(&allow, 4096, 1 << 19);
	order_clip(&out, &in, &allow);
	ok(out.n == 2 && out.v[0].off == 8192 && out.v[0].file == 0,
	   "clipped: file 0 stays first although it lies later");
	ok(out.n == 2 && out.v[1].off == 4096 && out.v[1].len == 4096 && out.v[1].file == 1 &&
	       out.v[1].file_off == 4096,
	   "file 1 keeps only what is in the phase and not file 0's");
	ok(order_bytes(&out) == 12288 + 4096, "each byte once (%llu)",
	   (unsigned long long)order_bytes(&out));
	order_free(&out);
	rangelist_free(&allow);
	rangelist_init(&allow);
	order_clip(&out, &in, &allow);
	ok(out.n == 0, "nothing allowed, nothing left");
	order_free(&in);
	order_free(&out);
	rangelist_free(&allow);
	good = clip_rounds(2000, false, false, &taken);
	ok(good == 2000, "random pieces and phases: %d of 2000 clipped as the byte map says", good);
	good = clip_rounds(2000, false, true, &taken);
	ok(good == 2000, "the same, the input used up: %d of 2000", good);
	taken = 0;
	good = clip_rounds(2000, true, true, &taken);
	ok(good == 2000 && taken >= 500 && taken < 2000,
	   "pieces in device order, the phase often their union: %d of 2000, %d taken over whole",
	   good, taken);
	return exit_status();
}
