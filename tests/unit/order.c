/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Description: loader order. A piece is widened to the sector and clipped to
 * the target, keeping its place in the file; clipping to a phase keeps the
 * pieces' order (not device order), drops bytes outside the phase, and
 * gives a byte shared by two pieces only to the first. Then a property: on
 * random pieces and phases, each byte clipped goes where a byte map of
 * "first piece in the phase that covers it" says, once, in the pieces' order.
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

/* Random pieces and phases; returns how many rounds order_clip got right. */
static int clip_rounds(int rounds)
{
	int r, good = 0;

	srand(22);
	for (r = 0; r < rounds; r++) {
		struct order in = {0}, out = {0};
		struct rangelist allow;
		int i, n = 1 + rand() % 40;

		rangelist_init(&allow);
		for (i = 0; i < n; i++) {
			uint64_t off = (uint64_t)(rand() % UNITS) * SECT;
			uint64_t len = (uint64_t)(1 + rand() % 64) * SECT;

			order_add(&in, (size_t)(i % 5), off, len, (uint64_t)i * 65536, SECT,
				  UNITS * SECT);
		}
		for (i = rand() % 6; i >= 0; i--)
			rangelist_add(&allow, (uint64_t)(rand() % UNITS) * SECT,
				      (uint64_t)(1 + rand() % 200) * SECT);
		rangelist_normalize(&allow);
		if (!order_clip(&out, &in, &allow) && clip_matches(&in, &allow, &out))
			good++;
		order_free(&in);
		order_free(&out);
		rangelist_free(&allow);
	}
	return good;
}

int main(void)
{
	int good;

	struct order in = {0}, out = {0};
	struct rangelist allow;

	plan(8);
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
	good = clip_rounds(2000);
	ok(good == 2000, "random pieces and phases: %d of 2000 clipped as the byte map says", good);
	return exit_status();
}
