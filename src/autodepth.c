/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The auto queue depth controller. A cold cloud volume answers each read
 * after milliseconds, and serves a limited number of fetches at once: below
 * that number (the knee) throughput grows with the depth, above it only the
 * latency does. So: double while a window's throughput rises by more than
 * AD_GAIN; at the first window that does not, hold the shallowest depth tried
 * whose throughput came within AD_HOLD_KEEP of the best. (Little's law from
 * the lowest latency seen would place the knee from one point, but latency
 * also grows in the host's own queues well before the volume's knee: it
 * guesses too shallow.) Then hold, and every AD_HOLD_WINDOWS windows try a
 * little deeper and a little shallower: a volume's speed changes as it warms.
 */
#include "config.h"

#include "autodepth.h"

#define AD_WINDOW_MIN_NS 150000000ULL	/* a window lasts at least this... */
#define AD_GROW_WINDOW_MIN_NS 100000000ULL	/* ...or this while growing: be quick */
#define AD_WINDOW_MAX_NS 3000000000ULL	/* ...and is judged after this even if thin */
#define AD_GAIN 1.10			/* a rise smaller than 10% is noise */
#define AD_HOLD_KEEP 0.95		/* a shallower depth may lose 5% */
#define AD_HOLD_WINDOWS 40		/* windows between probes */
#define AD_DRIFT 0.30			/* a held rate moving this much means re-probe soon: */
#define AD_DRIFT_WINDOWS 4		/* after this many windows */

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

/* Remember the rate measured at depth @d during this growth. */
static void tried(struct autodepth *ad, unsigned int d, double rate)
{
	if (ad->ntried < AD_MAX_TRIED) {
		ad->tried_depth[ad->ntried] = d;
		ad->tried_rate[ad->ntried++] = rate;
	}
}

/* The shallowest depth tried that came within AD_HOLD_KEEP of the best rate. */
static unsigned int shallowest_good(const struct autodepth *ad, double *rate)
{
	double best = 0;
	unsigned int i, d = ad->depth;

	for (i = 0; i < ad->ntried; i++)
		if (ad->tried_rate[i] > best)
			best = ad->tried_rate[i];
	for (i = 0; i < ad->ntried; i++)
		if (ad->tried_rate[i] >= best * AD_HOLD_KEEP && ad->tried_depth[i] <= d) {
			d = ad->tried_depth[i];
			*rate = ad->tried_rate[i];
		}
	return d;
}

static void grow(struct autodepth *ad, unsigned int d, double rate)
{
	ad->state = AD_GROW;
	ad->base_rate = rate;
	ad->base_depth = d;
	tried(ad, d, rate);
	set_depth(ad, clamp(ad, 2.0 * d));
}

/* Judge one full window. */
static void judge(struct autodepth *ad, double rate, bool limited)
{
	unsigned int d = ad->depth;

	switch (ad->state) {
	case AD_GROW:
		if (!ad->base_depth || (rate > ad->base_rate * AD_GAIN && !limited)) {
			if (d < ad->max && !limited) {
				grow(ad, d, rate);
				break;
			}
			hold(ad, d, rate);
			break;
		}
		/* No longer rising: hold the shallowest depth that got (nearly) the best. */
		tried(ad, d, rate);
		d = shallowest_good(ad, &rate);
		if (limited && d > ad->base_depth)
			d = ad->base_depth;
		hold(ad, d, rate);
		break;
	case AD_HOLD:
		ad->hold_rate = 0.75 * ad->hold_rate + 0.25 * rate;
		if (ad->hold_left)
			ad->hold_left--;
		/* A rate far off the held one: probe soon, not at once (one window is noisy). */
		if ((rate > ad->hold_rate * (1 + AD_DRIFT) || rate < ad->hold_rate * (1 - AD_DRIFT)) &&
		    ad->hold_left > AD_DRIFT_WINDOWS)
			ad->hold_left = AD_DRIFT_WINDOWS;
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
			ad->ntried = 0;
			tried(ad, ad->base_depth, ad->base_rate);
			grow(ad, d, rate);
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
	double rate;

	if (ad->settling) {
		ad->settling = false;
		return ad->depth;
	}
	ad->w_ns += s->ns;
	ad->w_bytes += s->bytes;
	ad->w_reads += s->reads;
	ad->w_lat += s->lat_ns;
	ad->w_limited = ad->w_limited || s->limited;
	if (ad->w_ns < (ad->state == AD_GROW ? AD_GROW_WINDOW_MIN_NS : AD_WINDOW_MIN_NS) ||
	    !ad->w_reads)
		return ad->depth;
	if (ad->w_reads < 2ULL * ad->depth && ad->w_ns < AD_WINDOW_MAX_NS)
		return ad->depth;

	rate = (double)ad->w_bytes * 1e9 / (double)ad->w_ns;
	ad->rate = rate;
	ad->lat = (double)ad->w_lat / (double)ad->w_reads;
	ad->limited = ad->w_limited;
	judge(ad, rate, ad->w_limited);
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
