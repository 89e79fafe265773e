/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Description: the touch plan and the granularity verdict. Pieces never
 * cross a snapshot block (and are not cut when the plan is inactive); a
 * touch reads one logical block; samples fall due after 16, then 64
 * touches; a sample reads the other end of the last touched block, inside
 * the target; a cold sample is confirmed on the block touched before, and
 * only two cold ones in a row switch; a job that ends unverified owes a
 * sample; the verdict needs 3 cold blocks and 75% of them agreeing.
 */
#include "config.h"

#include <string.h>

#include "io/probe.h"
#include "io/touch.h"
#include "../lib/tap.h"

#define K   1024ULL
#define BLK (512 * K)

/* Every piece of @rl by touch_next(): count them, and those that cross a block boundary. */
static unsigned int pieces(const struct touch_plan *tp, const struct rangelist *rl,
			   unsigned int *crossing, uint64_t *bytes)
{
	struct rangecursor c;
	struct range r;
	unsigned int n = 0;

	*crossing = 0;
	*bytes = 0;
	rangecursor_init(&c, rl, 0, rangelist_bytes(rl));
	while (!touch_next(tp, &c, BLK, &r)) {
		n++;
		*bytes += r.len;
		*crossing += r.off / BLK != (r.off + r.len - 1) / BLK;
	}
	return n;
}

static void test_pieces(void)
{
	struct touch_plan tp, off;
	struct rangelist rl;
	struct range r = {100 * K, 16};
	unsigned int n, crossing;
	uint64_t bytes;

	rangelist_init(&rl);
	rangelist_add(&rl, 0, 3 * 1024 * K);
	rangelist_add(&rl, 4 * 1024 * K + 100 * K, 1024 * K);
	touch_init(&tp, BLK, 512, 3000000);
	n = pieces(&tp, &rl, &crossing, &bytes);
	ok(n == 6 + 3 && !crossing && bytes == rangelist_bytes(&rl),
	   "pieces stop at snapshot blocks: %u pieces, %u crossing, all bytes", n, crossing);
	memset(&off, 0, sizeof(off));
	n = pieces(&off, &rl, &crossing, &bytes);
	ok(n == 6 + 2 && crossing == 2, "an inactive plan cuts as before: %u pieces, %u crossing",
	   n, crossing);
	ok(touch_read_len(&tp, &(struct range){0, BLK}) == 512 && touch_read_len(&tp, &r) == 16,
	   "a touch reads one logical block, or the piece when shorter");
	rangelist_free(&rl);
}

static void test_samples(void)
{
	struct touch_plan tp;
	unsigned int i;
	bool early = false;

	touch_init(&tp, BLK, 4096, 3000000);
	for (i = 0; i < TOUCH_FIRST_SAMPLE - 1; i++) {
		touch_done(&tp, i * BLK);
		early = early || touch_sample_due(&tp);
	}
	ok(!early, "no sample before %u touches", TOUCH_FIRST_SAMPLE);
	touch_done(&tp, 15 * BLK);
	ok(touch_sample_due(&tp), "a sample after %u touches", TOUCH_FIRST_SAMPLE);
	ok(touch_sample_offset(&tp, 1ULL << 30) == 16 * BLK - 4096,
	   "a touch at a block's start: the sample reads its last logical block");
	ok(touch_sample_done(&tp, 100000, true) == TOUCH_WARM && !touch_sample_due(&tp),
	   "a warm sample: go on, none due");
	for (i = 16; i < 63; i++)
		touch_done(&tp, i * BLK + BLK / 2 + 8192);
	ok(!touch_sample_due(&tp), "the next not before %u touches", 16 * TOUCH_SAMPLE_GROWTH);
	touch_done(&tp, 63 * BLK + BLK / 2 + 8192);
	ok(touch_sample_due(&tp) && touch_sample_offset(&tp, 1ULL << 30) == 63 * BLK,
	   "due at 64; a touch in a block's second half: the sample reads its start");
	ok(touch_sample_done(&tp, 20000000, true) == TOUCH_SUSPECT && touch_sample_due(&tp) &&
	       touch_sample_offset(&tp, 1ULL << 30) == 62 * BLK,
	   "one cold sample: another is due at once, on the block touched before");
	ok(touch_finish(&tp), "a job that ends on a cold sample still owes one");
	touch_done(&tp, 64 * BLK);
	ok(touch_sample_offset(&tp, 1ULL << 30) == 62 * BLK,
	   "touches while the queue drains do not move the confirming sample");
	ok(touch_sample_done(&tp, 20000000, true) == TOUCH_COLD, "two cold in a row: switch");
	touch_switch(&tp);
	ok(!tp.active && tp.switched && !touch_sample_due(&tp) && tp.cold_samples == 2,
	   "switched: no longer touching, no sample due, 2 cold samples counted");
}

static void test_edges(void)
{
	struct touch_plan tp;

	touch_init(&tp, BLK, 4096, 3000000);
	touch_done(&tp, 0);
	ok(touch_sample_done(&tp, 20000000, true) == TOUCH_COLD,
	   "one cold sample and no other block to confirm on: switch");
	touch_init(&tp, BLK, 4096, 3000000);
	touch_done(&tp, 10 * BLK);
	ok(touch_finish(&tp) && touch_sample_due(&tp), "a job that ends unverified owes a sample");
	ok(touch_sample_offset(&tp, 10 * BLK + 64 * K) == 10 * BLK + 60 * K,
	   "the sample stays inside a target that ends inside the block");
	ok(touch_sample_done(&tp, 0, false) == TOUCH_NOTHING && tp.samples == 0,
	   "a failed sample is no evidence");
	touch_done(&tp, 11 * BLK);
	touch_sample_done(&tp, 1000, true);
	ok(!touch_finish(&tp), "a job whose last sample was warm owes nothing");
	memset(&tp, 0, sizeof(tp));
	touch_done(&tp, 0);
	ok(!touch_finish(&tp) && !touch_sample_due(&tp), "full reads: never a sample");
}

/* True when every one of @n places is a whole block inside @rl, and no two are the same. */
static bool places_inside(const uint64_t *off, unsigned int n, const struct rangelist *rl)
{
	unsigned int i, k;
	size_t r;

	for (i = 0; i < n; i++) {
		bool in = false;

		for (r = 0; r < rl->n; r++)
			in = in || (off[i] >= rl->v[r].off &&
				    off[i] + BLK <= rl->v[r].off + rl->v[r].len);
		for (k = 0; k < i; k++)
			in = in && off[k] != off[i];
		if (!in || off[i] % BLK)
			return false;
	}
	return true;
}

static void test_probe_places(void)
{
	struct rangelist ph[2];
	uint64_t off[16];
	unsigned int n;

	rangelist_init(&ph[0]);
	rangelist_init(&ph[1]);
	rangelist_add(&ph[0], 1024 * K + 100 * K, 3 * BLK); /* 2 whole blocks */
	rangelist_add(&ph[0], 8 * 1024 * K, 2 * BLK);
	rangelist_add(&ph[1], 16 * 1024 * K, 64 * 1024 * K);
	n = touch_probe_places(ph, 2, BLK, 16, 3, off);
	ok(n == 4 && places_inside(off, n, &ph[0]),
	   "4 whole blocks in the first phase: the probe takes those (%u)", n);
	n = touch_probe_places(ph, 2, BLK, 16, 5, off);
	rangelist_add(&ph[1], 1024 * K + 100 * K, 3 * BLK);
	rangelist_add(&ph[1], 8 * 1024 * K, 2 * BLK);
	ok(n == 16 && places_inside(off, n, &ph[1]) && off[0] < off[15],
	   "too few there: spread over all the phases, in order, inside the plan (%u)", n);
	ok(touch_probe_places(ph, 0, BLK, 16, 3, off) == 0, "no phase, no place");
	rangelist_free(&ph[0]);
	rangelist_free(&ph[1]);
}

static void test_verdict(void)
{
	static const struct {
		unsigned int cold, warm, coldfar, rounds;
		enum granularity_verdict want;
	} rows[] = {
	    {8, 8, 0, 2, GRANULARITY_WHOLE},
	    {8, 6, 2, 2, GRANULARITY_WHOLE},
	    {8, 0, 8, 2, GRANULARITY_PARTIAL},
	    {8, 2, 6, 5, GRANULARITY_PARTIAL},
	    {8, 5, 3, 2, GRANULARITY_UNSURE},
	    {8, 4, 4, 2, GRANULARITY_UNSURE},
	    {2, 2, 0, 2, GRANULARITY_UNSURE},
	    {3, 3, 0, 2, GRANULARITY_WHOLE},
	    {0, 0, 0, 0, GRANULARITY_UNSURE},
	    /* One round of reads at once: a stall may have stretched them all. */
	    {3, 3, 0, 1, GRANULARITY_UNSURE},
	    {8, 0, 8, 1, GRANULARITY_UNSURE},
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		ok(granularity_verdict(rows[i].cold, rows[i].warm, rows[i].coldfar,
				       rows[i].rounds) == rows[i].want,
		   "%u cold blocks in %u rounds, %u warm and %u cold at the other end: %s",
		   rows[i].cold, rows[i].rounds, rows[i].warm, rows[i].coldfar,
		   granularity_name(rows[i].want));
}

/*
 * The samples' threshold: the probe's first reads went at once and one
 * stall stretched most of them (median 60 ms); a fetch costs 20 ms, the
 * fastest of them. A sample that fetches must still count as cold.
 */
static void test_sample_threshold(void)
{
	static struct granularity_result g;
	uint64_t ms = 1000000, th;

	g.warm_ns = ms / 2;
	g.threshold_ns = 4 * ms;
	g.cold_ns = 60 * ms;
	g.fetch_ns = 20 * ms;
	th = granularity_sample_threshold(&g);
	ok(th > g.threshold_ns - 1 && th < g.fetch_ns,
	   "a stall stretched the probe's cold reads: a sample that fetches (20 ms) is still "
	   "cold (threshold %.1f ms)",
	   (double)th / ms);
	g.fetch_ns = g.cold_ns = 0;
	ok(granularity_sample_threshold(&g) == g.threshold_ns,
	   "no cold first read: the probe's own threshold");
}

int main(void)
{
	plan(3 + 11 + 6 + 3 + 11 + 2);
	test_pieces();
	test_probe_places();
	test_samples();
	test_edges();
	test_verdict();
	test_sample_threshold();
	return exit_status();
}
