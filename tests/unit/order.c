/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Description: loader order. A piece is widened to the sector and clipped to
 * the target, keeping its place in the file; clipping to a phase keeps the
 * pieces' order (not device order), drops bytes outside the phase, and
 * gives a byte shared by two pieces only to the first.
 */
#include "config.h"

#include <stdbool.h>

#include "plan/order.h"
#include "../lib/tap.h"

int main(void)
{
	struct order in = {0}, out = {0};
	struct rangelist allow;

	plan(7);
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
	return exit_status();
}
