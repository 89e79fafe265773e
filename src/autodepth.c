/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The auto queue depth controller. A cold cloud volume answers each read
 * after milliseconds, and serves a limited number of fetches at once: below
 * that number (the knee) throughput grows with the depth, above it only the
 * latency does. So: double while a window's throughput rises by more than
 * AD_GAIN; at the first window that does not, the knee is the rate we saw
 * times the lowest latency we saw (Little's law), plus headroom. Then hold,
 * and every AD_HOLD_WINDOWS windows try a little deeper and a little
 * shallower, because a volume's speed changes as it warms.
 */
#include "config.h"

#include "autodepth.h"

#define AD_WINDOW_MIN_NS 150000000ULL	/* a window lasts at least this... */
#define AD_WINDOW_MAX_NS 3000000000ULL	/* ...and is judged after this even if thin */
#define AD_GAIN 1.10			/* a rise smaller than 10% is noise */
#define AD_HOLD_KEEP 0.95		/* a shallower depth may lose 5% */
#define AD_HEADROOM 1.25		/* above the Little's-law knee */
#define AD_HOLD_WINDOWS 40		/* windows between probes */
#define AD_DRIFT 0.30			/* a held rate moving this much means re-probe now */

/* Rounding up and down without libm: depths are small positive numbers. */
static double up(double x)
{
	double t = (double)(unsigned long)x;

	return t < x ? t + 1 : t;
}

static double down(double x)
{
	return (double)(unsigned long)x;
}

static unsigned int clamp(const struct autodepth *ad, double d)
{
	if (d < ad->min)
		return ad->min;
	if (d > ad->max)
		return ad->max;
	return (unsigned int)d;
}

static void set_depth(struct autodepth *ad, unsigned int d)
{
	if (d != ad->depth) {
		ad->depth = d;
		ad->changes++;
		ad->settling = true;
	}
}

void autodepth_init(struct autodepth *ad, unsigned int min, unsigned int max,
		    unsigned int start)
{
	*ad = (struct autodepth){ .min = min ? min : 1, .max = max };
	if (ad->max < ad->min)
		ad->max = ad->min;
	ad->depth = clamp(ad, start);
	ad->state = AD_GROW;
}

static void hold(struct autodepth *ad, unsigned int d, double rate)
{
	ad->state = AD_HOLD;
	ad->hold_rate = rate;
	ad->hold_left = AD_HOLD_WINDOWS;
	set_depth(ad, d);
}

/* The depth that sustains @rate at the lowest latency seen, with headroom. */
static unsigned int knee(const struct autodepth *ad, double rate, double bytes_per_read)
{
	double reads_per_s = bytes_per_read > 0 ? rate / bytes_per_read : 0;

	if (!ad->lat_floor || reads_per_s <= 0)
		return ad->depth;
	return clamp(ad, up(reads_per_s * ad->lat_floor / 1e9 * AD_HEADROOM));
}

/* Judge one full window. */
static void judge(struct autodepth *ad, double rate, double bpr, bool limited)
{
	unsigned int d = ad->depth, k;

	switch (ad->state) {
	case AD_GROW:
		if (!ad->base_depth || (rate > ad->base_rate * AD_GAIN && !limited)) {
			ad->base_rate = rate;
			ad->base_depth = d;
			if (d < ad->max && !limited) {
				set_depth(ad, clamp(ad, 2.0 * d));
				break;
			}
			hold(ad, d, rate);
			break;
		}
		/* No longer rising: the knee is at or below the previous depth. */
		if (ad->base_rate > rate)
			rate = ad->base_rate;
		k = knee(ad, rate, bpr);
		if (k > d)
			k = d;
		if (limited && k > ad->base_depth)
			k = ad->base_depth;
		hold(ad, k, rate);
		break;
	case AD_HOLD:
		ad->hold_rate = 0.75 * ad->hold_rate + 0.25 * rate;
		if (ad->hold_left)
			ad->hold_left--;
		if (rate > ad->hold_rate * (1 + AD_DRIFT) || rate < ad->hold_rate * (1 - AD_DRIFT))
			ad->hold_left = 0;
		if (ad->hold_left)
			break;
		ad->base_rate = ad->hold_rate;
		ad->base_depth = d;
		if (d < ad->max && !limited) {
			ad->state = AD_PROBE_UP;
			set_depth(ad, clamp(ad, up(d * 1.5)));
		} else if (d > ad->min) {
			ad->state = AD_PROBE_DOWN;
			set_depth(ad, clamp(ad, down(d * 0.75)));
		} else {
			hold(ad, d, rate);
		}
		break;
	case AD_PROBE_UP:
		if (rate > ad->base_rate * AD_GAIN && !limited) {
			/* Deeper pays again: grow from here. */
			ad->state = AD_GROW;
			ad->base_rate = rate;
			ad->base_depth = d;
			set_depth(ad, clamp(ad, 2.0 * d));
		} else if (ad->base_depth > ad->min) {
			ad->state = AD_PROBE_DOWN;
			set_depth(ad, clamp(ad, down(ad->base_depth * 0.75)));
		} else {
			hold(ad, ad->base_depth, ad->base_rate);
		}
		break;
	case AD_PROBE_DOWN:
		if (rate >= ad->base_rate * AD_HOLD_KEEP)
			hold(ad, d, rate);
		else
			hold(ad, ad->base_depth, ad->base_rate);
		break;
	}
}

unsigned int autodepth_update(struct autodepth *ad, const struct ad_sample *s)
{
	double rate, bpr;

	if (ad->settling) {
		ad->settling = false;
		return ad->depth;
	}
	ad->w_ns += s->ns;
	ad->w_bytes += s->bytes;
	ad->w_reads += s->reads;
	ad->w_lat += s->lat_ns;
	ad->w_limited = ad->w_limited || s->limited;
	if (ad->w_ns < AD_WINDOW_MIN_NS || !ad->w_reads)
		return ad->depth;
	if (ad->w_reads < 2ULL * ad->depth && ad->w_ns < AD_WINDOW_MAX_NS)
		return ad->depth;

	rate = (double)ad->w_bytes * 1e9 / (double)ad->w_ns;
	bpr = (double)ad->w_bytes / (double)ad->w_reads;
	ad->rate = rate;
	ad->lat = (double)ad->w_lat / (double)ad->w_reads;
	ad->limited = ad->w_limited;
	if (!ad->lat_floor || ad->lat < ad->lat_floor)
		ad->lat_floor = ad->lat;
	judge(ad, rate, bpr, ad->w_limited);
	ad->w_ns = ad->w_bytes = ad->w_reads = ad->w_lat = 0;
	ad->w_limited = false;
	return ad->depth;
}

unsigned int autodepth_chosen(const struct autodepth *ad)
{
	if (ad->state == AD_PROBE_UP || ad->state == AD_PROBE_DOWN)
		return ad->base_depth;
	return ad->depth;
}
