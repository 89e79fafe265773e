/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The touch plan of one job (see touch.h). Samples come early and then ever
 * further apart (after 16, 64, 256, ... touches): a volume that fetches only
 * what is read is caught before much of it was touched in vain, and a long
 * run still pays for only a few quiet moments. One cold sample may be a warm
 * read a busy host stretched: the block touched before it is sampled at once,
 * and only a second cold one in a row switches the job to full reads. A job
 * that ends before its first sample, or on a cold one, is sampled at its end.
 */
#include "config.h"

#include "io/touch.h"

void touch_init(struct touch_plan *tp, uint64_t block, uint64_t lbs, uint64_t threshold_ns)
{
	*tp = (struct touch_plan){0};
	tp->block = block;
	tp->lbs = lbs;
	tp->threshold_ns = threshold_ns;
	tp->active = block != 0;
	tp->next_sample = TOUCH_FIRST_SAMPLE;
}

int touch_next(const struct touch_plan *tp, struct rangecursor *c, uint64_t max, struct range *r)
{
	if (tp->active && c->left && c->idx < c->rl->n) {
		uint64_t edge = tp->block - c->pos % tp->block;

		if (edge < max)
			max = edge;
	}
	return rangecursor_next(c, max, r);
}

uint64_t touch_read_len(const struct touch_plan *tp, const struct range *r)
{
	return tp->lbs < r->len ? tp->lbs : r->len;
}

void touch_done(struct touch_plan *tp, uint64_t off)
{
	tp->touched++;
	if (tp->have_last && off / tp->block != tp->last_off / tp->block) {
		tp->prev_off = tp->last_off;
		tp->have_prev = true;
	}
	tp->last_off = off;
	tp->have_last = true;
}

bool touch_finish(struct touch_plan *tp)
{
	if (!tp->active || !tp->have_last || (tp->samples && !tp->suspect))
		return false;
	tp->next_sample = tp->touched;
	return true;
}

bool touch_sample_due(const struct touch_plan *tp)
{
	return tp->active && tp->have_last && tp->touched >= tp->next_sample;
}

uint64_t touch_sample_offset(const struct touch_plan *tp, uint64_t size)
{
	uint64_t off = tp->suspect ? tp->confirm_off : tp->last_off;
	uint64_t start = off - off % tp->block;
	uint64_t end = start + tp->block < size ? start + tp->block : size;

	/* A touch in the first half of its block: the sample reads the last logical block. */
	if (off - start < tp->block / 2 && end >= start + tp->lbs)
		return (end - tp->lbs) / tp->lbs * tp->lbs;
	return start;
}

enum touch_verdict touch_sample_done(struct touch_plan *tp, uint64_t ns, bool ok)
{
	if (!ok) {
		tp->next_sample = tp->touched * TOUCH_SAMPLE_GROWTH;
		return TOUCH_NOTHING;
	}
	tp->samples++;
	if (ns <= tp->threshold_ns) {
		tp->suspect = false;
		tp->next_sample = tp->touched * TOUCH_SAMPLE_GROWTH;
		return TOUCH_WARM;
	}
	tp->cold_samples++;
	/* Confirm on another block at once; with no other block, one cold sample decides. */
	if (!tp->suspect && tp->have_prev) {
		tp->suspect = true;
		tp->confirm_off = tp->prev_off;
		tp->next_sample = tp->touched;
		return TOUCH_SUSPECT;
	}
	return TOUCH_COLD;
}

void touch_switch(struct touch_plan *tp)
{
	tp->active = false;
	tp->switched = true;
}

/* Whole snapshot blocks inside @rl; with @off, the @k-th of them in *@off. */
static uint64_t whole_blocks(const struct rangelist *rl, uint64_t block, uint64_t k, uint64_t *off)
{
	uint64_t count = 0;
	size_t i;

	for (i = 0; i < rl->n; i++) {
		uint64_t first = (rl->v[i].off + block - 1) / block;
		uint64_t end = (rl->v[i].off + rl->v[i].len) / block;
		uint64_t have = end > first ? end - first : 0;

		if (off && k < count + have) {
			*off = (first + k - count) * block;
			return count;
		}
		count += have;
	}
	return count;
}

unsigned int touch_probe_places(const struct rangelist *phases, size_t nphases, uint64_t block,
				unsigned int n, unsigned int min_first, uint64_t *off)
{
	uint64_t total = 0, k;
	size_t p, from = 0, to = nphases;
	unsigned int i, got = 0;

	if (!block || !nphases)
		return 0;
	if (whole_blocks(&phases[0], block, 0, NULL) >= min_first)
		to = 1;
	for (p = from; p < to; p++)
		total += whole_blocks(&phases[p], block, 0, NULL);
	if (total < n)
		n = (unsigned int)total;
	/* The middle of each of n equal shares of the blocks, in plan order. */
	for (i = 0; i < n; i++) {
		k = (2 * (uint64_t)i + 1) * total / (2 * (uint64_t)n);
		for (p = from; p < to; p++) {
			uint64_t have = whole_blocks(&phases[p], block, 0, NULL);

			if (k < have) {
				whole_blocks(&phases[p], block, k, &off[got++]);
				break;
			}
			k -= have;
		}
	}
	return got;
}
