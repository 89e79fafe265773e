/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Description: btrfs logical to device mapping, without a file system. A
 * hand-made chunk table checks SINGLE offsets, ranges crossing chunks, both
 * DUP copies, gaps, every striped or mirrored profile and unknown chunk flags
 * being refused, and that a failed call leaves the list as it was; broken
 * tables are rejected; and the binary search agrees with a linear scan on a
 * seeded random table.
 */
#include "config.h"

#include <errno.h>
#include <linux/btrfs_tree.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "device/btrfs.h"
#include "base/range.h"
#include "../lib/tap.h"

#define MiB (1024ULL * 1024)
#define DATA BTRFS_BLOCK_GROUP_DATA
#define META BTRFS_BLOCK_GROUP_METADATA
#define REMAPPED (1ULL << 11)	/* a chunk flag newer than what the module knows */

/* Given in no particular order: btrfs_map_from_chunks() sorts. */
static const struct btrfs_map_chunk table[] = {
	{ 13 * MiB, 2 * MiB, META | BTRFS_BLOCK_GROUP_DUP, 2, { 200 * MiB, 300 * MiB } },
	{ 1 * MiB, 8 * MiB, DATA, 1, { 1 * MiB } },
	{ 9 * MiB, 4 * MiB, DATA, 1, { 100 * MiB } },
	/* 15..17 MiB: a gap, as a deleted chunk leaves */
	{ 17 * MiB, 3 * MiB, DATA, 1, { 700 * MiB } },
	{ 20 * MiB, 4 * MiB, DATA | BTRFS_BLOCK_GROUP_RAID1, 2, { 0, 0 } },
	{ 24 * MiB, 4 * MiB, DATA | REMAPPED, 1, { 400 * MiB } },
	{ 28 * MiB, 4 * MiB, DATA | BTRFS_BLOCK_GROUP_RAID0, 3, { 0, 0 } },
	{ 32 * MiB, 4 * MiB, DATA | BTRFS_BLOCK_GROUP_RAID10, 4, { 0, 0 } },
	{ 36 * MiB, 4 * MiB, DATA | BTRFS_BLOCK_GROUP_RAID5, 3, { 0, 0 } },
	{ 40 * MiB, 4 * MiB, DATA | BTRFS_BLOCK_GROUP_RAID6, 4, { 0, 0 } },
	{ 44 * MiB, 4 * MiB, DATA | BTRFS_BLOCK_GROUP_RAID1C3, 3, { 0, 0 } },
	{ 48 * MiB, 4 * MiB, DATA | BTRFS_BLOCK_GROUP_RAID1C4, 4, { 0, 0 } },
	{ 52 * MiB, 4 * MiB, DATA | BTRFS_BLOCK_GROUP_DUP, 2, { 500 * MiB, 600 * MiB } },
};

static const struct {
	const char *what;
	uint64_t logical, len;
	int ret;
	const char *why;	/* a word the reason must contain */
	size_t n;
	struct range want[4];
} rows[] = {
	{ "SINGLE identity chunk, inside", 2 * MiB + 4096, 8192, 0, NULL, 1,
	  { { 2 * MiB + 4096, 8192 } } },
	{ "SINGLE moved chunk, first byte", 9 * MiB, 1, 0, NULL, 1, { { 100 * MiB, 1 } } },
	{ "SINGLE moved chunk, last byte", 13 * MiB - 1, 1, 0, NULL, 1,
	  { { 104 * MiB - 1, 1 } } },
	{ "crossing two SINGLE chunks gives one range each", 9 * MiB - 4096, 8192, 0, NULL, 2,
	  { { 9 * MiB - 4096, 4096 }, { 100 * MiB, 4096 } } },
	{ "DUP gives both copies", 13 * MiB + 65536, 4096, 0, NULL, 2,
	  { { 200 * MiB + 65536, 4096 }, { 300 * MiB + 65536, 4096 } } },
	{ "SINGLE into DUP: one range, then two", 13 * MiB - 4096, 8192, 0, NULL, 3,
	  { { 104 * MiB - 4096, 4096 }, { 200 * MiB, 4096 }, { 300 * MiB, 4096 } } },
	{ "three whole chunks", 1 * MiB, 14 * MiB, 0, NULL, 4,
	  { { 1 * MiB, 8 * MiB }, { 100 * MiB, 4 * MiB }, { 200 * MiB, 2 * MiB },
	    { 300 * MiB, 2 * MiB } } },
	{ "DUP data chunk", 56 * MiB - 4096, 4096, 0, NULL, 2,
	  { { 504 * MiB - 4096, 4096 }, { 604 * MiB - 4096, 4096 } } },
	{ "empty range maps to nothing", 17 * MiB, 0, 0, NULL, 0, { { 0, 0 } } },
	{ "below the first chunk", 4096, 4096, -ENOENT, NULL, 0, { { 0, 0 } } },
	{ "in the gap between chunks", 16 * MiB, 4096, -ENOENT, NULL, 0, { { 0, 0 } } },
	{ "running from a chunk into the gap", 15 * MiB - 4096, 8192, -ENOENT, NULL, 0,
	  { { 0, 0 } } },
	{ "past the last chunk", 56 * MiB, 1, -ENOENT, NULL, 0, { { 0, 0 } } },
	{ "RAID1 refused", 20 * MiB, 4096, -ENOTSUP, "RAID1 ", 0, { { 0, 0 } } },
	{ "RAID0 refused", 28 * MiB, 4096, -ENOTSUP, "RAID0", 0, { { 0, 0 } } },
	{ "RAID10 refused", 32 * MiB, 4096, -ENOTSUP, "RAID10", 0, { { 0, 0 } } },
	{ "RAID5 refused", 36 * MiB, 4096, -ENOTSUP, "RAID5", 0, { { 0, 0 } } },
	{ "RAID6 refused", 40 * MiB, 4096, -ENOTSUP, "RAID6", 0, { { 0, 0 } } },
	{ "RAID1C3 refused", 44 * MiB, 4096, -ENOTSUP, "RAID1C3", 0, { { 0, 0 } } },
	{ "RAID1C4 refused", 48 * MiB, 4096, -ENOTSUP, "RAID1C4", 0, { { 0, 0 } } },
	{ "SINGLE running into RAID1 refused whole", 20 * MiB - 4096, 8192, -ENOTSUP, "RAID1 ",
	  0, { { 0, 0 } } },
	{ "unknown chunk flag (remapped) refused", 24 * MiB, 4096, -ENOTSUP, "flags", 0,
	  { { 0, 0 } } },
	{ "overflowing range", UINT64_MAX - 10, 4096, -ERANGE, NULL, 0, { { 0, 0 } } },
};

static const struct {
	const char *what;
	struct btrfs_map_chunk c[2];
	size_t n;
	int ret;
} tables[] = {
	{ "empty table", { { 0 } }, 0, 0 },
	{ "adjacent chunks", { { 0, MiB, DATA, 1, { 0 } }, { MiB, MiB, DATA, 1, { 5 * MiB } } }, 2,
	  0 },
	{ "overlapping chunks", { { MiB, 2 * MiB, DATA, 1, { 0 } }, { 0, 2 * MiB, DATA, 1, { 0 } } },
	  2, -EUCLEAN },
	{ "zero-length chunk", { { MiB, 0, DATA, 1, { 0 } } }, 1, -EUCLEAN },
	{ "chunk past the end of the address space", { { UINT64_MAX - MiB, 2 * MiB, DATA, 1, { 0 } } },
	  1, -EUCLEAN },
	{ "stripe past the end of the device space", { { 0, 2 * MiB, DATA, 1, { UINT64_MAX - MiB } } },
	  1, -EUCLEAN },
	{ "SINGLE with two stripes", { { 0, MiB, DATA, 2, { 0, MiB } } }, 1, -EUCLEAN },
	{ "DUP with one stripe", { { 0, MiB, DATA | BTRFS_BLOCK_GROUP_DUP, 1, { 0 } } }, 1,
	  -EUCLEAN },
};

#define NROWS (sizeof(rows) / sizeof(rows[0]))
#define NTABLES (sizeof(tables) / sizeof(tables[0]))
#define SENTINEL_OFF 77
#define SENTINEL_LEN 3

static bool same(const struct rangelist *rl, size_t from, const struct range *want, size_t n)
{
	size_t i;

	if (rl->n != from + n)
		return false;
	for (i = 0; i < n; i++)
		if (rl->v[from + i].off != want[i].off || rl->v[from + i].len != want[i].len)
			return false;
	return true;
}

static void check_row(const struct btrfs_map *map, size_t i)
{
	const char *why = NULL;
	struct rangelist rl;
	bool good;
	int ret;

	/* A range already in the list: calls append, and failures leave it alone. */
	rangelist_init(&rl);
	rangelist_add(&rl, SENTINEL_OFF, SENTINEL_LEN);
	ret = btrfs_map_range(map, rows[i].logical, rows[i].len, &rl, &why);
	good = ret == rows[i].ret && rl.v[0].off == SENTINEL_OFF && same(&rl, 1, rows[i].want, rows[i].n);
	if (rows[i].why)
		good = good && why && strstr(why, rows[i].why);
	ok(good, "%s (ret %d, %zu ranges%s%s)", rows[i].what, ret, rl.n - 1,
	   why ? ": " : "", why ? why : "");
	rangelist_free(&rl);
}

/* The chunk holding @addr by linear scan, the slow way the search must agree with. */
static const struct btrfs_map_chunk *scan(const struct btrfs_map_chunk *c, size_t n, uint64_t addr)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (addr >= c[i].logical && addr - c[i].logical < c[i].length)
			return &c[i];
	return NULL;
}

/* Seeded random SINGLE chunks with random gaps, probed at random addresses. */
static bool random_agrees(void)
{
	enum { CHUNKS = 1000, PROBES = 20000 };
	struct btrfs_map_chunk *c = calloc(CHUNKS, sizeof(*c));
	unsigned int seed = 42;
	struct btrfs_map *map;
	uint64_t next = 0;
	bool good = true;
	size_t i;

	if (!c)
		return false;
	for (i = 0; i < CHUNKS; i++) {
		next += (uint64_t)(rand_r(&seed) % 4) * MiB;	/* gap, often none */
		c[i].logical = next;
		c[i].length = (1 + (uint64_t)(rand_r(&seed) % 8)) * MiB;
		c[i].type = DATA;
		c[i].num_stripes = 1;
		c[i].physical[0] = (uint64_t)rand_r(&seed) * 4096;
		next += c[i].length;
	}
	if (btrfs_map_from_chunks(c, CHUNKS, &map)) {
		free(c);
		return false;
	}
	for (i = 0; i < PROBES && good; i++) {
		uint64_t addr = ((uint64_t)rand_r(&seed) << 16 ^ (uint64_t)rand_r(&seed)) % (next + MiB);
		const struct btrfs_map_chunk *want = scan(c, CHUNKS, addr);
		struct rangelist rl;
		int ret;

		rangelist_init(&rl);
		ret = btrfs_map_range(map, addr, 1, &rl, NULL);
		if (want)
			good = ret == 0 && rl.n == 1 &&
			       rl.v[0].off == want->physical[0] + (addr - want->logical);
		else
			good = ret == -ENOENT && rl.n == 0;
		rangelist_free(&rl);
	}
	btrfs_map_free(map);
	free(c);
	return good;
}

int main(void)
{
	struct btrfs_map *map;
	size_t i;
	int ret;

	plan(1 + NROWS + NTABLES + 2);

	ret = btrfs_map_from_chunks(table, sizeof(table) / sizeof(table[0]), &map);
	ok(ret == 0, "the test table loads (%d)", ret);
	if (ret)
		return exit_status();
	for (i = 0; i < NROWS; i++)
		check_row(map, i);
	btrfs_map_free(map);

	for (i = 0; i < NTABLES; i++) {
		map = NULL;
		ret = btrfs_map_from_chunks(tables[i].c, tables[i].n, &map);
		ok(ret == tables[i].ret && !map == !!ret, "table: %s (%d)", tables[i].what, ret);
		btrfs_map_free(map);
	}

	ret = btrfs_map_from_chunks(NULL, 0, &map);
	if (!ret) {
		struct rangelist rl;

		rangelist_init(&rl);
		ret = btrfs_map_range(map, 0, 4096, &rl, NULL);
		rangelist_free(&rl);
		btrfs_map_free(map);
	}
	ok(ret == -ENOENT, "an empty map maps nothing (%d)", ret);

	ok(random_agrees(), "binary search agrees with a linear scan on 1000 random chunks");
	return exit_status();
}
