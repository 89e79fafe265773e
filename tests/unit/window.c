/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Description: the sliding window. Blocks go out in the order added (loader
 * order, not device order), cut at the block size, less what an earlier run
 * read; a phase's blocks all go before the next phase's; a block a reader
 * has in the page cache is skipped on the way out and reported as read; a
 * follow looks past the blocks in flight and goes on looking while the
 * reader is ahead; a file is warm once its last block is read or skipped.
 */
#include "config.h"

#include <stdbool.h>
#include <string.h>

#include "io/window.h"
#include "../lib/tap.h"

#define K     1024ULL
#define BLOCK (64 * K)

/* The fake page cache: file f's bytes from cached_from[f] to cached_to[f] are cached. */
static uint64_t cached_from[4], cached_to[4];
static unsigned int warm_seen[4], looks;

static int fake_resident(void *arg, uint32_t file, uint64_t off, uint64_t len)
{
	(void)arg;
	looks++;
	return off >= cached_from[file] && off + len <= cached_to[file];
}

static void fake_warm(void *arg, uint32_t file)
{
	(void)arg;
	warm_seen[file]++;
}

static const struct window_ops ops = {fake_resident, fake_warm, NULL};

/* Two phases: phase 0 file 0 (at device 1 MiB) then file 1 (at device 0); phase 1 file 2. */
static void build(struct window *w, const struct rangelist *prior)
{
	window_init(w, 2, 3, &ops);
	window_add(w, 0, 0, 1024 * K, 256 * K, 0, BLOCK, prior);
	window_add(w, 0, 1, 0, 128 * K + 4 * K, 0, BLOCK, prior);
	window_add(w, 1, 2, 4096 * K, 128 * K, 0, BLOCK, prior);
	window_seal(w);
}

static void test_order(void)
{
	struct window w;
	struct range r;
	size_t b, n = 0;
	bool order = true;
	static const uint64_t want[] = {1024 * K, 1088 * K, 1152 * K, 1216 * K, 0, 64 * K, 128 * K};

	memset(cached_to, 0, sizeof(cached_to));
	build(&w, NULL);
	while (window_next(&w, 0, &r, &b)) {
		order = order && n < 7 && r.off == want[n] && r.len == (n == 6 ? 4 * K : BLOCK);
		n++;
	}
	ok(order && n == 7,
	   "phase 0 goes out in the order added, cut at the block size (%zu blocks)", n);
	ok(window_next(&w, 1, &r, &b) && r.off == 4096 * K, "phase 1 is its own");
	window_free(&w);
}

static void test_prior(void)
{
	struct window w;
	struct rangelist prior;
	struct range r;
	size_t b;
	uint64_t bytes = 0;

	rangelist_init(&prior);
	rangelist_add(&prior, 1024 * K + 32 * K, 160 * K);
	build(&w, &prior);
	ok(window_next(&w, 0, &r, &b) && r.off == 1024 * K && r.len == 32 * K,
	   "what an earlier run read is left out: the first piece stops short of it");
	bytes += r.len;
	while (window_next(&w, 0, &r, &b))
		bytes += r.len;
	ok(bytes == 256 * K + 132 * K - 160 * K, "phase 0 less the prior read (%llu bytes)",
	   (unsigned long long)bytes);
	window_free(&w);
	rangelist_free(&prior);
}

static void test_skip_and_warm(void)
{
	struct window w;
	struct range r;
	size_t b, blocks[8], n = 0, i;
	uint64_t skipped = 0;

	memset(cached_to, 0, sizeof(cached_to));
	memset(warm_seen, 0, sizeof(warm_seen));
	cached_to[1] = 64 * K; /* a reader read file 1's first block */
	build(&w, NULL);
	while (window_next(&w, 0, &r, &b))
		blocks[n++] = b;
	ok(n == 6, "the block a reader has cached is not handed out (%zu of 7)", n);
	while (window_take_skipped(&w, &r))
		skipped += r.len;
	ok(skipped == 64 * K && w.skipped_bytes == 64 * K, "... it is reported as read (%llu)",
	   (unsigned long long)skipped);
	ok(window_pending(&w, 0) == 0, "nothing of phase 0 is pending");
	for (i = 0; i + 1 < n; i++)
		window_done(&w, blocks[i]);
	ok(warm_seen[0] == 1 && warm_seen[1] == 0,
	   "file 0 is warm when its blocks are read; file 1 not yet");
	window_done(&w, blocks[n - 1]);
	window_done(&w, blocks[n - 1]);
	ok(warm_seen[1] == 1, "file 1 is warm once, at its last block");
	window_free(&w);
}

static void test_follow(void)
{
	struct window w;
	struct range r;
	size_t b, skipped;

	memset(cached_to, 0, sizeof(cached_to));
	window_init(&w, 1, 1, &ops);
	window_add(&w, 0, 0, 0, 64 * BLOCK, 0, BLOCK, NULL);
	window_seal(&w);
	w.look = 4;
	ok(window_next(&w, 0, &r, &b) && r.off == 0, "the first block goes out");
	cached_to[0] = 20 * BLOCK; /* the reader ran ahead of the window */
	looks = 0;
	skipped = window_follow(&w, 0, 8);
	ok(skipped == 19, "a follow skips all the reader has, looking on while it is ahead (%zu)",
	   skipped);
	memset(&r, 0, sizeof(r));
	window_next(&w, 0, &r, &b);
	ok(r.off == 20 * BLOCK, "the window goes on just ahead of the reader (block %llu)",
	   (unsigned long long)(r.off / BLOCK));
	looks = 0;
	window_follow(&w, 0, 8);
	ok(looks == 4, "with the reader behind, one look of w.look blocks (%u)", looks);
	cached_from[0] = 22 * BLOCK; /* a reader's pages past the window's front */
	cached_to[0] = 24 * BLOCK;
	skipped = window_follow(&w, 0, 8);
	skipped += window_follow(&w, 0, 8);
	ok(skipped == 2 && window_pending(&w, 0) == 64 - 23,
	   "blocks skipped past the front are skipped once (%zu, %zu pending)", skipped,
	   window_pending(&w, 0));
	cached_from[0] = 0;
	window_free(&w);
}

int main(void)
{
	plan(14);
	test_order();
	test_prior();
	test_skip_and_warm();
	test_follow();
	return exit_status();
}
