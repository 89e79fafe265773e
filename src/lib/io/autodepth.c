/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The auto queue depth controller. A cold cloud volume answers each read
 * after milliseconds, and serves a limited number of fetches at once: below
 * that number (the knee) throughput grows with the depth, above it only the
 * latency does. So: double while a window's throughput rises by more than
 * AD_GAIN (four times while it grows in step); at the first window that does
 * not, hold a quarter more than the shallowest depth tried whose throughput
 * came within AD_HOLD_KEEP of the best, or, when it holds the rate just as
 * well, the shallower depth Little's law gives from the lowest latency seen
 * (on its own it can guess too shallow: latency also grows in the host's own
 * queues before the volume's knee). Then hold, and every AD_HOLD_WINDOWS windows try a little deeper and a
 * little shallower: a volume's speed changes as it warms.
 */
#include "config.h"

#include "io/autodepth.h"

#define AD_WINDOW_MIN_NS 150000000ULL	/* a window lasts at least this... */
#define AD_GROW_WINDOW_MIN_NS 100000000ULL	/* ...or this while growing: be quick */
#define AD_WINDOW_MAX_NS 3000000000ULL	/* ...and is judged after this even if thin */
#define AD_GAIN 1.10			/* a rise smaller than 10% is noise */
#define AD_HOLD_KEEP 0.95		/* a shallower depth may lose 5% */
#define AD_HEADROOM 1.25		/* held above the shallowest good depth */
#define AD_LINEAR 1.7			/* doubling gave this much: still far below the knee */
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
	unsigned int was = ad->depth;

	if (d != was) {
		ad->depth = d;
		ad->changes++;
		autodepth_settle(ad);
		/* After a cut, the deeper queue drains first, at its old latency: not judged. */
		if (was > d)
			ad->settle_reads = was;
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

/* Little's law: the depth that sustains @rate at the lowest latency seen, with headroom. */
static unsigned int knee(const struct autodepth *ad, double rate)
{
	double bytes_per_read = ad->w_reads ? (double)ad->w_bytes / (double)ad->w_reads : 0;

	if (!ad->lat_floor || bytes_per_read <= 0)
		return ad->max;
	return clamp(ad, up(rate / bytes_per_read * ad->lat_floor / 1e9 * AD_HEADROOM));
}

/* Go deeper: four times while throughput grows in step with the depth, else twice. */
static void grow(struct autodepth *ad, unsigned int d, double rate)
{
	bool linear = ad->base_depth && rate >= ad->base_rate * AD_LINEAR;

	ad->state = AD_GROW;
	ad->base_rate = rate;
	ad->base_depth = d;
	tried(ad, d, rate);
	set_depth(ad, clamp(ad, (linear ? 4.0 : 2.0) * d));
}

/* Growing: double while the rate rises, then hold the knee (or try Little's law's). */
static void judge_grow(struct autodepth *ad, double rate, bool limited)
{
	unsigned int d = ad->depth, k, little;

	if (!ad->base_depth || (rate > ad->base_rate * AD_GAIN && !limited)) {
		if (d < ad->max && !limited) {
			grow(ad, d, rate);
			return;
		}
		hold(ad, d, rate);
		return;
	}
	/*
	 * No longer rising: hold the shallowest depth that got (nearly) the
	 * best, and a quarter more, so that the volume never waits for our
	 * next read between a completion and the submission that follows.
	 */
	tried(ad, d, rate);
	k = clamp(ad, up(shallowest_good(ad, &rate) * AD_HEADROOM));
	if (k > d)
		k = d;
	if (limited && k > ad->base_depth)
		k = ad->base_depth;
	hold(ad, k, rate);
	/*
	 * The doublings only bracket the knee. Little's law places it
	 * inside: the rate times the lowest latency seen. Try that at once,
	 * as a probe: kept if it holds the rate, which it does not when the
	 * latency grew in the host before the volume's knee.
	 */
	little = knee(ad, rate);
	if (little < k) {
		ad->base_rate = rate;
		ad->base_depth = k;
		ad->state = AD_PROBE_DOWN;
		set_depth(ad, little);
	}
}

/* Holding: follow the rate, and now and then try a depth either side. */
static void judge_hold(struct autodepth *ad, double rate, bool limited)
{
	unsigned int d = ad->depth;

	ad->hold_rate = 0.75 * ad->hold_rate + 0.25 * rate;
	if (ad->hold_left)
		ad->hold_left--;
	/* A rate far off the held one: probe soon, not at once (one window is noisy). */
	if ((rate > ad->hold_rate * (1 + AD_DRIFT) || rate < ad->hold_rate * (1 - AD_DRIFT)) &&
	    ad->hold_left > AD_DRIFT_WINDOWS)
		ad->hold_left = AD_DRIFT_WINDOWS;
	if (ad->hold_left)
		return;
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
}

/* Judge one full window. */
static void judge(struct autodepth *ad, double rate, bool limited)
{
	unsigned int d = ad->depth;

	switch (ad->state) {
	case AD_GROW:
		judge_grow(ad, rate, limited);
		break;
	case AD_HOLD:
		judge_hold(ad, rate, limited);
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

	if (ad->settle_reads) {
		ad->settle_reads = s->reads < ad->settle_reads ? ad->settle_reads - s->reads : 0;
		return ad->depth;
	}
	ad->w_ns += s->ns;
	ad->w_bytes += s->bytes;
	ad->w_reads += s->reads;
	ad->w_lat += s->lat_ns;
	ad->w_inflight += s->inflight_ns;
	ad->w_limited = ad->w_limited || s->limited;
	if (ad->w_ns < (ad->state == AD_GROW ? AD_GROW_WINDOW_MIN_NS : AD_WINDOW_MIN_NS) ||
	    !ad->w_reads)
		return ad->depth;
	if (ad->w_reads < 2ULL * ad->depth && ad->w_ns < AD_WINDOW_MAX_NS)
		return ad->depth;

	rate = (double)ad->w_bytes * 1e9 / (double)ad->w_ns;
	ad->lat = (double)ad->w_lat / (double)ad->w_reads;
	/*
	 * Little's law: throughput is reads in flight over latency. Both are
	 * averaged over every read and every instant of the window, where
	 * counting completions in it depends on where the window's edges fall
	 * among the volume's bursts.
	 */
	if (ad->w_inflight && ad->lat > 0)
		rate = (double)ad->w_inflight / (double)ad->w_ns / ad->lat * 1e9 *
		       ((double)ad->w_bytes / (double)ad->w_reads);
	ad->rate = rate;
	if (!ad->lat_floor || ad->lat < ad->lat_floor)
		ad->lat_floor = ad->lat;
	ad->limited = ad->w_limited;
	judge(ad, rate, ad->w_limited);
	ad->w_ns = ad->w_bytes = ad->w_reads = ad->w_lat = ad->w_inflight = 0;
	ad->w_limited = false;
	return ad->depth;
}

void autodepth_settle(struct autodepth *ad)
{
	ad->settle_reads = ad->depth;
	ad->w_ns = ad->w_bytes = ad->w_reads = ad->w_lat = ad->w_inflight = 0;
	ad->w_limited = false;
}

unsigned int autodepth_chosen(const struct autodepth *ad)
{
	if (ad->state == AD_PROBE_UP || ad->state == AD_PROBE_DOWN)
		return ad->base_depth;
	return ad->depth;
}
