/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Byte ranges of a target and lists of them: what a plan reads, in order.
 */
#ifndef BLKHYDRATE_RANGE_H
#define BLKHYDRATE_RANGE_H

#include <stddef.h>
#include <stdint.h>

struct range {
	uint64_t off;
	uint64_t len;
};

struct rangelist {
	struct range *v;
	size_t n;
	size_t cap;
};

void rangelist_init(struct rangelist *rl);

/* Give back the room grown beyond @rl's ranges. */
void rangelist_trim(struct rangelist *rl);

/* In the normalized @rl, the index of the first range that ends after @pos (@rl->n: none). */
size_t rangelist_find(const struct rangelist *rl, uint64_t pos);
void rangelist_free(struct rangelist *rl);

/* Append [off, off + len); empty ranges are ignored. Returns 0 or -ENOMEM/-ERANGE. */
int rangelist_add(struct rangelist *rl, uint64_t off, uint64_t len);

/* Append every range of @from (NULL: none). Returns 0 or -ENOMEM/-ERANGE. */
int rangelist_add_all(struct rangelist *rl, const struct rangelist *from);

/* Sort by offset and merge overlapping or touching ranges. */
void rangelist_normalize(struct rangelist *rl);

/*
 * Widen every range to multiples of @align (a power of two) and clip it to
 * [0, @limit), then normalize. O_DIRECT wants aligned offsets.
 */
void rangelist_align(struct rangelist *rl, uint64_t align, uint64_t limit);

/*
 * Normalize, then close every hole of at most @gap bytes: between two
 * ranges, before the first (from 0) and after the last (up to @limit).
 */
void rangelist_bridge(struct rangelist *rl, uint64_t gap, uint64_t limit);

/* @out = @a minus @b; both normalized. @out must be empty. Returns 0 or -ENOMEM. */
int rangelist_subtract(struct rangelist *out, const struct rangelist *a,
		       const struct rangelist *b);

uint64_t rangelist_bytes(const struct rangelist *rl);

/* The bytes of [@off, @off + @len) that lie below @size: a range clipped to its target. */
uint64_t range_clipped_len(uint64_t off, uint64_t len, uint64_t size);

/*
 * A cursor walking a span of a range list in order, as if the ranges were
 * laid end to end: the engine cuts one cursor per stride.
 */
struct rangecursor {
	const struct rangelist *rl;
	size_t idx;	   /* current range */
	uint64_t pos;	   /* next offset inside v[idx] */
	uint64_t left;	   /* bytes of this span still to hand out */
};

/* Position @c at logical byte @start of @rl, to hand out @len bytes. */
void rangecursor_init(struct rangecursor *c, const struct rangelist *rl,
		      uint64_t start, uint64_t len);

/* Next piece of at most @max bytes; returns 0 and fills @r, or -ENODATA when done. */
int rangecursor_next(struct rangecursor *c, uint64_t max, struct range *r);

#endif
