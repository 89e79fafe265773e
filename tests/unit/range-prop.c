/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Description: range lists against a plain bitmap. Random sequences of add
 * (touching, overlapping, empty ranges), normalize, find, subtract, bridge and
 * align, on a small universe at offset 0 and one ending at 2^64 - 1, each
 * result compared byte for byte with what the bitmap says; then one large
 * list (2^17 ranges) the same way. A normalized list must also be sorted,
 * disjoint and not touching.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/range.h"
#include "../lib/tap.h"

#define SMALL 1024

static uint64_t seed = 21;

/* xorshift: the same sequence everywhere, unlike rand(). */
static uint64_t rnd(uint64_t n)
{
	seed ^= seed << 13;
	seed ^= seed >> 7;
	seed ^= seed << 17;
	return seed % n;
}

/* Mark @rl's bytes in @map, a universe of @size bytes starting at @base. */
static void paint(unsigned char *map, uint64_t base, uint64_t size, const struct rangelist *rl)
{
	size_t i;

	memset(map, 0, size);
	for (i = 0; i < rl->n; i++)
		for (uint64_t u = rl->v[i].off - base; u < rl->v[i].off - base + rl->v[i].len; u++)
			if (u < size)
				map[u] = 1;
}

static bool normalized(const struct rangelist *rl)
{
	size_t i;

	for (i = 0; i < rl->n; i++)
		if (!rl->v[i].len || (i && rl->v[i].off <= rl->v[i - 1].off + rl->v[i - 1].len))
			return false;
	return true;
}

/* @rl holds exactly the bytes of @want, and (when @norm) is normalized. */
static bool same(const unsigned char *want, uint64_t base, uint64_t size,
		 const struct rangelist *rl, bool norm, unsigned char *scratch)
{
	uint64_t n = 0, u;

	for (u = 0; u < size; u++)
		n += want[u];
	if (rangelist_bytes(rl) != n || (norm && !normalized(rl)))
		return false;
	paint(scratch, base, size, rl);
	return !memcmp(want, scratch, size);
}

/* Random ranges inside [@base, @base + @size), some empty, touching or overlapping. */
static void fill(struct rangelist *rl, uint64_t base, uint64_t size, unsigned int count)
{
	unsigned int n = count;

	while (count--) {
		uint64_t off = rnd(size), len = rnd(size / (n / 4 + 8) + 1);

		if (off + len > size)
			len = size - off;
		rangelist_add(rl, base + off, len);
	}
}

/* The bitmap's bridge: holes of at most @gap closed, from 0 and up to @limit too. */
static void bridge_model(unsigned char *m, uint64_t base, uint64_t size, uint64_t gap,
			 uint64_t limit)
{
	uint64_t u = 0, first = size, last = 0;

	for (u = 0; u < size; u++)
		if (m[u]) {
			first = first < u ? first : u;
			last = u + 1;
		}
	if (first == size)
		return;
	for (u = first; u < last; u++) {
		uint64_t e = u;

		while (e < last && !m[e])
			e++;
		if (e > u && e - u <= gap)
			memset(m + u, 1, e - u);
		u = e;
	}
	if (base + first <= gap)
		memset(m, 1, first);
	if (base + last < limit && limit - (base + last) <= gap)
		memset(m + last, 1, limit - base - last);
}

static void align_model(unsigned char *m, uint64_t size, uint64_t align, uint64_t limit)
{
	unsigned char *src = malloc(size);
	uint64_t u;

	memcpy(src, m, size);
	memset(m, 0, size);
	for (u = 0; u < size && u < limit; u++)
		if (src[u]) {
			uint64_t s = u / align * align, e = (u / align + 1) * align;

			memset(m + s, 1, (e < size ? e : size) - s);
		}
	free(src);
}

/*
 * One round on the universe [@base, @base + @size): returns a bit mask of
 * the operations that went wrong (1 normalize, 2 subtract, 4 bridge, 8 align,
 * 16 find).
 */
static unsigned int round_once(uint64_t base, uint64_t size, unsigned int n, unsigned char *m,
			       unsigned char *t)
{
	struct rangelist a, b, d;
	unsigned int bad = 0;
	unsigned char *mb = malloc(size);
	uint64_t gap = rnd(size / 16 + 2), u;

	rangelist_init(&a);
	rangelist_init(&b);
	rangelist_init(&d);
	fill(&a, base, size, n);
	fill(&b, base, size, 1 + n / 2);
	paint(m, base, size, &a);
	rangelist_normalize(&a);
	bad |= same(m, base, size, &a, true, t) ? 0 : 1;
	for (unsigned int k = 0; k < 8; k++) {
		uint64_t pos = base + rnd(size);
		size_t i = 0;

		while (i < a.n && a.v[i].off + a.v[i].len <= pos)
			i++;
		bad |= rangelist_find(&a, pos) == i ? 0 : 16;
	}
	paint(mb, base, size, &b);
	rangelist_normalize(&b);
	for (u = 0; u < size; u++)
		mb[u] = m[u] && !mb[u];
	if (rangelist_subtract(&d, &a, &b) || !same(mb, base, size, &d, true, t))
		bad |= 2;
	bridge_model(m, base, size, gap, base + size);
	rangelist_bridge(&a, gap, base + size);
	bad |= same(m, base, size, &a, true, t) ? 0 : 4;
	if (!base) {
		uint64_t align = 1ULL << rnd(6), limit = size - rnd(size / 4);

		paint(m, base, size, &d);
		align_model(m, size, align, limit);
		rangelist_align(&d, align, limit);
		bad |= same(m, base, size, &d, true, t) ? 0 : 8;
	}
	rangelist_free(&a);
	rangelist_free(&b);
	rangelist_free(&d);
	free(mb);
	return bad;
}

/* @count rounds of up to @n ranges (@n exactly when @count is 1). */
static unsigned int rounds(uint64_t base, uint64_t size, unsigned int count, unsigned int n)
{
	unsigned char *m = malloc(size), *t = malloc(size);
	unsigned int bad = 0;

	if (count == 1)
		bad = round_once(base, size, n, m, t);
	while (count-- > 1)
		bad |= round_once(base, size, 1 + (unsigned int)rnd(n), m, t);
	free(m);
	free(t);
	return bad;
}

int main(void)
{
	struct rangelist a;
	unsigned int bad;

	plan(8);
	bad = rounds(0, SMALL, 3000, 40);
	ok(!(bad & 1), "at 0: normalize holds the bitmap's bytes, sorted and apart");
	ok(!(bad & 2), "at 0: subtract is the bitmap's a and not b");
	ok(!(bad & 4), "at 0: bridge closes the holes the bitmap says, at both ends too");
	ok(!(bad & 8), "at 0: align widens and clips as the bitmap says");
	ok(!(bad & 16), "at 0: find gives the first range ending after a point, as a walk does");
	bad = rounds(UINT64_MAX - SMALL, SMALL, 3000, 40);
	ok(!bad, "ending at 2^64 - 1: normalize, subtract and bridge as the bitmap (mask %u)", bad);
	bad = rounds(0, 1 << 22, 1, 1 << 17);
	ok(!bad, "2^17 ranges on 4 MiB: as the bitmap (mask %u)", bad);
	rangelist_init(&a);
	ok(rangelist_add(&a, UINT64_MAX, 1) == -ERANGE && !a.n,
	   "a range past 2^64 - 1 is refused, nothing added");
	rangelist_free(&a);
	return exit_status();
}
