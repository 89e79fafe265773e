/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Loader order: the priority extents in the order a model server reads
 * them. The files in the order given (a glob's matches sorted by name), each
 * from its start to its end, each device byte once. The engine reads a
 * priority phase in this order (io/window.h) rather than in strides, so the
 * blocks a reader asks for next are the ones in flight.
 */
#ifndef BLKHYDRATE_ORDER_H
#define BLKHYDRATE_ORDER_H

#include <stddef.h>
#include <stdint.h>

#include "base/range.h"

#define ORDER_NO_FILE_OFF UINT64_MAX /* where in its file a piece lies is not known */

/* Device bytes [off, off + len) of a target hold file @file's bytes from @file_off. */
struct order_piece {
	uint64_t off;
	uint64_t len;
	uint64_t file_off;
	size_t file; /* index of the file in its class */
};

struct order {
	struct order_piece *v;
	size_t n;
	size_t cap;
};

void order_free(struct order *o);

/* Give back the room grown beyond @o's pieces. */
void order_trim(struct order *o);

/*
 * Append the piece [@off, @off + @len) of file @file, widened to multiples of
 * @align (a power of two) and clipped to [0, @limit). Returns 0 or -ENOMEM.
 */
int order_add(struct order *o, size_t file, uint64_t off, uint64_t len, uint64_t file_off,
	      uint64_t align, uint64_t limit);

/*
 * @out = the pieces of @in, in @in's order, clipped to @allow (normalized),
 * each byte only where it first appears. @out must be empty. Returns 0 or
 * -ENOMEM.
 */
int order_clip(struct order *out, const struct order *in, const struct rangelist *allow);

/* order_clip(), @in used up (and freed): where nothing is cut, @out takes its pieces. */
int order_clip_take(struct order *out, struct order *in, const struct rangelist *allow);

uint64_t order_bytes(const struct order *o);

#endif
