/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Description: range list arithmetic. Normalize merges and sorts, align
 * widens and clips, subtract removes exactly the bytes of the second list,
 * and cursors cut a list into strides that together cover it once. The
 * subtraction and the cursors are also checked against a byte map on
 * seeded random lists.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/range.h"
#include "../lib/tap.h"

#define MAP 4096

static bool same(const struct rangelist *rl, const struct range *want, size_t n)
{
	size_t i;

	if (rl->n != n)
		return false;
	for (i = 0; i < n; i++)
		if (rl->v[i].off != want[i].off || rl->v[i].len != want[i].len)
			return false;
	return true;
}

static void fill(struct rangelist *rl, const struct range *r, size_t n)
{
	size_t i;

	rangelist_init(rl);
	for (i = 0; i < n; i++)
		rangelist_add(rl, r[i].off, r[i].len);
}

static void mark(unsigned char *map, const struct rangelist *rl, unsigned char v)
{
	size_t i;

	for (i = 0; i < rl->n; i++)
		memset(map + rl->v[i].off, v, rl->v[i].len);
}

static void random_list(struct rangelist *rl, unsigned int *seed, size_t n)
{
	size_t i;

	rangelist_init(rl);
	for (i = 0; i < n; i++) {
		uint64_t off = (uint64_t)rand_r(seed) % (MAP - 64);
		uint64_t len = 1 + (uint64_t)rand_r(seed) % 64;

		rangelist_add(rl, off, len);
	}
	rangelist_normalize(rl);
}

/* Cut @rl into @n strides of @span bytes, pieces of @max; true if they cover it exactly once. */
static bool cursors_cover(const struct rangelist *rl, unsigned int n, uint64_t span,
			  uint64_t max)
{
	unsigned char want[MAP] = { 0 }, got[MAP] = { 0 };
	uint64_t total = rangelist_bytes(rl);
	struct range r;
	unsigned int s;

	mark(want, rl, 1);
	for (s = 0; s < n; s++) {
		struct rangecursor c;
		uint64_t start = s * span, len = start < total ? total - start : 0;

		rangecursor_init(&c, rl, start, len < span ? len : span);
		while (!rangecursor_next(&c, max, &r)) {
			if (r.len == 0 || r.len > max)
				return false;
			for (uint64_t b = r.off; b < r.off + r.len; b++)
				if (got[b]++)
					return false;
		}
	}
	return !memcmp(want, got, MAP);
}

int main(void)
{
	struct rangelist a, b, out;
	unsigned int seed = 12345;
	int i;

	plan(19);

	{
		const struct range in[] = { { 100, 10 }, { 0, 10 }, { 10, 5 }, { 105, 20 }, { 50, 0 } };
		const struct range want[] = { { 0, 15 }, { 100, 25 } };

		fill(&a, in, 5);
		ok(a.n == 4, "empty range is not added");
		rangelist_normalize(&a);
		ok(same(&a, want, 2), "normalize sorts and merges touching and overlapping ranges");
		ok(rangelist_bytes(&a) == 40, "bytes counts merged ranges once");
		rangelist_free(&a);
	}
	{
		const struct range in[] = { { 5, 10 }, { 4090, 20 }, { 9000, 100 } };
		const struct range want[] = { { 0, 8192 } };

		fill(&a, in, 3);
		rangelist_align(&a, 4096, 8200);
		ok(same(&a, want, 1), "align widens to 4K, merges, and drops ranges past the limit");
		rangelist_free(&a);
	}
	{
		const struct range in[] = { { 0, 1000 } };
		const struct range want[] = { { 0, 1024 } };

		fill(&a, in, 1);
		rangelist_align(&a, 512, 1000);
		ok(same(&a, want, 1), "align rounds the last range up past an unaligned end");
		rangelist_free(&a);
	}
	{
		/* Holes of 10 (closed), 11 (kept); 10 from 0 and 10 to the limit: closed. */
		const struct range in[] = { { 30, 20 }, { 10, 10 }, { 61, 9 }, { 5, 0 } };
		const struct range want[] = { { 0, 50 }, { 61, 19 } };

		fill(&a, in, 4);
		rangelist_bridge(&a, 10, 80);
		ok(same(&a, want, 2), "bridge closes holes up to the gap, from 0 and to the limit");
		fill(&b, in, 4);
		rangelist_bridge(&b, 9, 81);
		ok(b.n == 3 && b.v[0].off == 10 && b.v[2].off + b.v[2].len == 70,
		   "bridge keeps holes one byte over the gap, at both ends too");
		rangelist_free(&a);
		rangelist_free(&b);
		rangelist_init(&a);
		rangelist_bridge(&a, 10, 80);
		ok(a.n == 0, "bridge of nothing is nothing");
		rangelist_free(&a);
	}
	{
		const struct range in[] = { { 0, 100 } };
		const struct range cut[] = { { 10, 10 }, { 50, 60 } };
		const struct range want[] = { { 0, 10 }, { 20, 30 } };

		fill(&a, in, 1);
		fill(&b, cut, 2);
		rangelist_init(&out);
		ok(!rangelist_subtract(&out, &a, &b) && same(&out, want, 2),
		   "subtract cuts holes and a tail");
		rangelist_free(&a);
		rangelist_free(&b);
		rangelist_free(&out);
	}
	{
		const struct range in[] = { { 10, 10 } };
		const struct range cut[] = { { 0, 100 } };

		fill(&a, in, 1);
		fill(&b, cut, 1);
		rangelist_init(&out);
		ok(!rangelist_subtract(&out, &a, &b) && out.n == 0, "subtract of a cover leaves nothing");
		rangelist_free(&a);
		rangelist_free(&b);
		rangelist_free(&out);
	}
	rangelist_init(&a);
	ok(rangelist_add(&a, UINT64_MAX - 5, 10) == -ERANGE && a.n == 0,
	   "add refuses a range that wraps around");
	rangelist_free(&a);

	for (i = 0; i < 4; i++) {
		unsigned char ma[MAP] = { 0 }, mb[MAP] = { 0 }, mo[MAP] = { 0 };
		bool good = true;

		random_list(&a, &seed, 40);
		random_list(&b, &seed, 40);
		rangelist_init(&out);
		rangelist_subtract(&out, &a, &b);
		mark(ma, &a, 1);
		mark(mb, &b, 1);
		mark(mo, &out, 1);
		for (int k = 0; k < MAP; k++)
			good = good && mo[k] == (ma[k] && !mb[k]);
		ok(good, "subtract matches a byte map, random lists %d", i);
		rangelist_free(&a);
		rangelist_free(&b);
		rangelist_free(&out);
	}

	random_list(&a, &seed, 60);
	ok(cursors_cover(&a, 1, rangelist_bytes(&a), 16), "one stride covers the list once");
	ok(cursors_cover(&a, 4, (rangelist_bytes(&a) + 3) / 4, 16), "four strides cover it once");
	ok(cursors_cover(&a, 7, (rangelist_bytes(&a) + 6) / 7, 1000),
	   "seven strides, pieces larger than ranges, cover it once");
	ok(cursors_cover(&a, 50, 64, 64), "more strides than needed: the spare ones are empty");
	rangelist_free(&a);
	return exit_status();
}
