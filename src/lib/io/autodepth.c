/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The auto queue depth controller. A cold cloud volume answers each read
 * after milliseconds, and serves a limited number of fetches at once: below
 * that number (the knee) throughput grows with the depth and a read takes
 * the unloaded fetch latency; above it only the latency grows, and every
 * other reader of the volume waits behind our queue. Little's law ties the
 * three: reads in flight = reads per second x latency.
 *
 * So: double while a window's mean latency stays within AD_QUEUED of the
 * lowest seen (or the probe's lone cold reads). Once reads wait longer, the depth that serves
 * the rate at the unloaded latency is the knee: jump there, then walk down
 * by a fifth while the rate stays within AD_HOLD_KEEP of the best, and hold
 * the last that did. A volume that stops paying for depth before its latency
 * rises (a host-side limit) holds the shallowest depth that got nearly the
 * best, as does a device that says it is at its limit. While holding, every
 * AD_HOLD_WINDOWS windows try a little deeper (or, when reads wait, the knee
 * again): a volume's speed changes as it warms.
 */
#include "config.h"

#include <string.h>

#include "io/autodepth.h"

#define AD_WINDOW_MIN_NS 150000000ULL	/* a window lasts at least this... */
#define AD_GROW_WINDOW_MIN_NS 50000000ULL	/* ...or this while growing, */
#define AD_WALK_WINDOW_MIN_NS 100000000ULL	/* ...or this while walking down */
#define AD_WINDOW_MAX_NS 3000000000ULL	/* ...and is judged after this even if thin */
#define AD_MIN_READS 8			/* a window holds this many reads, and one turnover */
#define AD_MIN_FETCHES 4		/* fewer fetches than this in a window: judged by all reads */
#define AD_COLD_NS 1000000.0		/* a fetch takes longer, until the unloaded latency is known */
#define AD_COLD_MIN_NS 500000.0		/* ...and never less: nothing comes from a snapshot faster */
#define AD_QUEUED 1.25			/* mean latency over the unloaded one: reads wait */
#define AD_GAIN 1.10			/* a rise smaller than 10% is noise */
#define AD_HOLD_KEEP 0.95		/* a shallower depth may lose 5% */
#define AD_HEADROOM 1.25		/* held above the shallowest good depth (plateau) */
#define AD_LITTLE_HEADROOM 1.10		/* Little's law's depth, and a tenth for variance */
#define AD_STEP_DOWN 0.8		/* walking down: a fifth at a time */
#define AD_HOLD_WINDOWS 20		/* windows between re-checks */
#define AD_DRIFT 0.30			/* a held rate moving this much means re-check soon: */
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

/* Within [min, max], and below a depth where the device said it was at its limit. */
static unsigned int clamp(const struct autodepth *ad, double d)
{
	unsigned int max = ad->max;

	if (ad->limit_depth && ad->limit_depth - 1 < max)
		max = ad->limit_depth > ad->min ? ad->limit_depth - 1 : ad->min;
	if (d < ad->min)
		return ad->min;
	if (d > max)
		return max;
	return (unsigned int)d;
}

static void window_reset(struct autodepth *ad)
{
	ad->w_ns = ad->w_bytes = ad->w_reads = ad->w_lat = ad->w_inflight = 0;
	ad->w_limited = false;
	memset(&ad->w_hist, 0, sizeof(ad->w_hist));
}

static void set_depth(struct autodepth *ad, unsigned int d)
{
	unsigned int was = ad->depth;

	if (d == was)
		return;
	ad->depth = d;
	ad->changes++;
	autodepth_settle(ad);
	/* The reads from before the change saw the old queue: not judged. */
	ad->settle_reads = was;
}

void autodepth_init(struct autodepth *ad, unsigned int min, unsigned int max,
		    unsigned int start)
{
	*ad = (struct autodepth){.min = min ? min : 1, .max = max};
	if (ad->max < ad->min)
		ad->max = ad->min;
	ad->depth = clamp(ad, start);
	ad->state = AD_GROW;
	ad->why = AD_WHY_START;
}

void autodepth_hint_latency(struct autodepth *ad, uint64_t ns)
{
	if (ns && (!ad->lat_floor || (double)ns < ad->lat_floor))
		ad->lat_floor = (double)ns;
}

static void hold(struct autodepth *ad, unsigned int d, double rate, enum ad_why why)
{
	/* A re-check that comes back to the same depth changes nothing, the reason neither. */
	if (why == AD_WHY_RECHECK && d == ad->depth_held)
		why = ad->held_why;
	ad->state = AD_HOLD;
	ad->why = ad->held_why = why;
	ad->depth_held = d;
	ad->hold_rate = rate;
	ad->lat_hold = ad->lat;
	ad->hold_left = AD_HOLD_WINDOWS;
	ad->descending = false;
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

static double best_tried(const struct autodepth *ad)
{
	double best = 0;
	unsigned int i;

	for (i = 0; i < ad->ntried; i++)
		if (ad->tried_rate[i] > best)
			best = ad->tried_rate[i];
	return best;
}

/* The shallowest depth tried that came within AD_HOLD_KEEP of the best rate. */
static unsigned int shallowest_good(const struct autodepth *ad, double *rate)
{
	double best = best_tried(ad);
	unsigned int i, d = ad->depth;

	for (i = 0; i < ad->ntried; i++)
		if (ad->tried_rate[i] >= best * AD_HOLD_KEEP && ad->tried_depth[i] <= d) {
			d = ad->tried_depth[i];
			*rate = ad->tried_rate[i];
		}
	return d;
}

/* Fetches wait: the window's mean fetch latency is past the unloaded one. */
static bool queued(const struct autodepth *ad)
{
	return ad->fetches && ad->lat_floor > 0 && ad->lat > ad->lat_floor * AD_QUEUED;
}

/*
 * Little's law: the depth that sustains the window's fetches at the unloaded
 * latency, plus its other reads in flight, with headroom; scaled to @rate
 * when that is another window's (the best seen).
 */
static unsigned int little(const struct autodepth *ad, double rate)
{
	double n;

	if (!ad->fetches || !ad->lat_floor || ad->work <= 0)
		return ad->max;
	n = ad->fetch_rate * ad->lat_floor / 1e9 + ad->others_inflight;
	return clamp(ad, up(n * rate / ad->work * AD_LITTLE_HEADROOM));
}

/*
 * Try @d against @rate, the best seen at @from; walking on down while it
 * holds when @walk.
 */
static void probe_down(struct autodepth *ad, unsigned int from, unsigned int d, double rate,
		       bool walk, enum ad_why why)
{
	ad->state = AD_PROBE_DOWN;
	ad->why = why;
	ad->base_rate = rate;
	ad->base_depth = from;
	ad->good_depth = from;
	ad->good_rate = rate;
	ad->descending = walk;
	set_depth(ad, d);
}

/* Reads began to wait at this depth: go to Little's law's depth and walk down from there. */
static void knee_cut(struct autodepth *ad, double rate, enum ad_why why)
{
	double best = best_tried(ad) > rate ? best_tried(ad) : rate;
	unsigned int k = little(ad, best);

	if (k < ad->depth)
		probe_down(ad, ad->depth, k, best, true, why);
	else
		hold(ad, ad->depth, rate, why);
}

/*
 * Go deeper: twice. More overshoots the knee by more than one queue of the
 * volume's width, and every other reader's cold read waits that long.
 */
static void grow(struct autodepth *ad, unsigned int d, double rate)
{
	ad->state = AD_GROW;
	ad->base_rate = rate;
	ad->base_depth = d;
	tried(ad, d, rate);
	set_depth(ad, clamp(ad, 2.0 * d));
}

/* Deeper stopped paying before reads waited: the shallowest good depth, and a quarter. */
static void plateau(struct autodepth *ad, double rate, bool limited)
{
	unsigned int d = ad->depth, k;

	tried(ad, d, rate);
	k = clamp(ad, up(shallowest_good(ad, &rate) * AD_HEADROOM));
	if (k > d)
		k = d;
	if (limited && k > ad->base_depth)
		k = ad->base_depth;
	hold(ad, k, rate, limited ? AD_WHY_LIMITED : AD_WHY_PLATEAU);
	/* The doublings only bracket the knee; Little's law may place it inside. */
	if (little(ad, rate) < k)
		knee_cut(ad, rate, ad->why);
}

static void judge_grow(struct autodepth *ad, double rate, bool limited)
{
	unsigned int d = ad->depth;

	if (queued(ad)) {
		tried(ad, d, rate);
		knee_cut(ad, rate, AD_WHY_LATENCY);
	} else if (ad->base_depth && (limited || rate <= ad->base_rate * AD_GAIN)) {
		plateau(ad, rate, limited);
	} else if (limited) {
		hold(ad, d, rate, AD_WHY_LIMITED);
	} else if (d >= ad->max) {
		hold(ad, d, rate, AD_WHY_MAX);
	} else {
		grow(ad, d, rate);
	}
}

/* Holding: follow the rate, and now and then re-check the knee. */
static void judge_hold(struct autodepth *ad, double rate, bool limited)
{
	unsigned int d = ad->depth;

	ad->hold_rate = 0.75 * ad->hold_rate + 0.25 * rate;
	ad->lat_hold = 0.75 * ad->lat_hold + 0.25 * ad->lat;
	if (ad->hold_left)
		ad->hold_left--;
	/* A rate far off the held one: re-check soon, not at once (one window is noisy). */
	if ((rate > ad->hold_rate * (1 + AD_DRIFT) || rate < ad->hold_rate * (1 - AD_DRIFT)) &&
	    ad->hold_left > AD_DRIFT_WINDOWS)
		ad->hold_left = AD_DRIFT_WINDOWS;
	if (ad->hold_left)
		return;
	ad->ntried = 0;
	tried(ad, d, ad->hold_rate);
	if (queued(ad) && little(ad, ad->hold_rate) < d) {
		knee_cut(ad, ad->hold_rate, AD_WHY_RECHECK);
	} else if (d < ad->max && !limited && !queued(ad)) {
		ad->state = AD_PROBE_UP;
		ad->base_rate = ad->hold_rate;
		ad->base_depth = d;
		set_depth(ad, clamp(ad, up(d * AD_HEADROOM)));
	} else if (d > ad->min) {
		probe_down(ad, d, clamp(ad, down(d * AD_STEP_DOWN)), ad->hold_rate, true,
			   AD_WHY_RECHECK);
	} else {
		hold(ad, d, rate, AD_WHY_MIN);
	}
}

static void judge_probe_down(struct autodepth *ad, double rate)
{
	unsigned int d = ad->depth, next;

	if (rate < ad->base_rate * AD_HOLD_KEEP) {
		/*
		 * Too shallow: back to the last depth that kept the rate, and
		 * after a walk a tenth more (at least one): at the very knee
		 * the volume waits for our next read between a completion and
		 * the submission that follows.
		 */
		next = ad->good_depth;
		if (ad->descending && next < ad->base_depth) {
			next = clamp(ad, up(ad->good_depth * AD_LITTLE_HEADROOM));
			if (next <= ad->good_depth)
				next = clamp(ad, ad->good_depth + 1);
		}
		if (next > ad->base_depth)
			next = ad->base_depth;
		hold(ad, next, ad->good_rate, ad->why);
		return;
	}
	ad->good_depth = d;
	ad->good_rate = rate;
	next = clamp(ad, down(d * AD_STEP_DOWN));
	if (next >= d && d > ad->min)
		next = d - 1;
	if (ad->descending && next < d) {
		set_depth(ad, next);
		return;
	}
	hold(ad, d, rate, d <= ad->min ? AD_WHY_MIN : ad->why);
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
		if (rate > ad->base_rate * AD_GAIN && !limited && !queued(ad)) {
			/* Deeper pays again: grow from here. */
			ad->ntried = 0;
			tried(ad, ad->base_depth, ad->base_rate);
			grow(ad, d, rate);
		} else if (ad->base_depth > ad->min) {
			/* Deeper does not pay: does shallower keep the rate? */
			probe_down(ad, ad->base_depth,
				   clamp(ad, down(ad->base_depth * AD_STEP_DOWN)), ad->base_rate,
				   true, AD_WHY_RECHECK);
		} else {
			hold(ad, ad->base_depth, ad->base_rate, AD_WHY_RECHECK);
		}
		break;
	case AD_PROBE_DOWN:
		judge_probe_down(ad, rate);
		break;
	}
}

/*
 * Tell the window's fetches from its other reads (holes, warm blocks): reads
 * slower than a third of the unloaded latency. Enough of them: their mean is
 * the window's latency; too few: all reads' mean, and no knee is judged.
 */
static void split_fetches(struct autodepth *ad)
{
	double cut = ad->lat_floor ? ad->lat_floor / 3 : AD_COLD_NS;
	unsigned int k, from = lat_bin((uint64_t)(cut > AD_COLD_MIN_NS ? cut : AD_COLD_MIN_NS));
	uint64_t n = 0, ns = 0;

	for (k = from; k < LAT_BINS; k++) {
		n += ad->w_hist.n[k];
		ns += ad->w_hist.ns[k];
	}
	ad->fetches = n >= AD_MIN_FETCHES;
	ad->fetch_rate = (double)n * 1e9 / (double)ad->w_ns;
	ad->others_inflight = (double)(ad->w_lat > ns ? ad->w_lat - ns : 0) / (double)ad->w_ns;
	if (ad->fetches)
		ad->lat = (double)ns / (double)n;
}

/*
 * What a window got done, as the decisions compare it: the volume's fetches
 * when it had them (holes in between cost the volume nothing, and how many
 * a window met says nothing of the depth), else every read, by Little's law
 * (reads in flight over latency, averaged over every instant and every read:
 * counting completions depends on where the window's edges fall among the
 * volume's bursts) unless the count is lower (while a queue builds, the reads
 * that complete were asked before it did and are faster than those in flight).
 */
static double work(struct autodepth *ad)
{
	double little_rate;

	ad->work = ad->rate;
	if (ad->fetches) {
		ad->work = ad->fetch_rate * ad->bytes_per_read;
	} else if (ad->w_inflight && ad->lat > 0) {
		little_rate = (double)ad->w_inflight / (double)ad->w_ns / ad->lat * 1e9 *
			      ad->bytes_per_read;
		if (little_rate < ad->rate)
			ad->work = little_rate;
	}
	return ad->work;
}

/*
 * What a window whose fetches waited says the volume serves at once: Little's
 * law on the fetches in flight over the time (not on those counted as they
 * completed: where a short window's edges fall among bursts of completions
 * makes that count swing); 0 when they did not wait.
 */
static unsigned int served_queued(const struct autodepth *ad)
{
	double n;

	if (!queued(ad) || ad->inflight <= ad->others_inflight)
		return 0;
	n = (ad->inflight - ad->others_inflight) * ad->lat_floor / ad->lat;
	return n < 1 ? 1 : (unsigned int)down(n);
}

/* A window is judged once long enough and one turnover of @depth reads (or long enough alone). */
static bool window_full(const struct autodepth *ad, unsigned int depth)
{
	uint64_t min_ns = ad->state == AD_GROW ? AD_GROW_WINDOW_MIN_NS
			  : ad->descending     ? AD_WALK_WINDOW_MIN_NS
					       : AD_WINDOW_MIN_NS;
	uint64_t reads = depth > AD_MIN_READS ? depth : AD_MIN_READS;

	if (ad->w_ns < min_ns || !ad->w_reads)
		return false;
	return ad->w_reads >= reads || ad->w_ns >= AD_WINDOW_MAX_NS;
}

/* Add a tick read at @depth to the window; true when that made one full, measured and reset. */
static bool window_take(struct autodepth *ad, const struct ad_sample *s, unsigned int depth)
{
	ad->elapsed_ns += s->ns;
	if (ad->settle_reads) {
		ad->settle_reads = s->reads < ad->settle_reads ? ad->settle_reads - s->reads : 0;
		return false;
	}
	ad->w_ns += s->ns;
	ad->w_bytes += s->bytes;
	ad->w_reads += s->reads;
	ad->w_lat += s->lat_ns;
	ad->w_inflight += s->inflight_ns;
	ad->w_limited = ad->w_limited || s->limited;
	for (unsigned int k = 0; k < LAT_BINS; k++) {
		ad->w_hist.n[k] += s->hist.n[k];
		ad->w_hist.ns[k] += s->hist.ns[k];
	}
	if (!window_full(ad, depth))
		return false;

	ad->rate = (double)ad->w_bytes * 1e9 / (double)ad->w_ns;
	ad->lat = (double)ad->w_lat / (double)ad->w_reads;
	ad->bytes_per_read = (double)ad->w_bytes / (double)ad->w_reads;
	ad->inflight = (double)ad->w_inflight / (double)ad->w_ns;
	ad->limited = ad->w_limited;
	if (ad->limited && (!ad->limit_depth || depth < ad->limit_depth))
		ad->limit_depth = depth;
	split_fetches(ad);
	if (ad->fetches && (!ad->lat_floor || ad->lat < ad->lat_floor))
		ad->lat_floor = ad->lat;
	work(ad);
	ad->served_queued = served_queued(ad);
	ad->windows++;
	window_reset(ad);
	return true;
}

static unsigned int served_judged(const struct autodepth *ad);

unsigned int autodepth_update(struct autodepth *ad, const struct ad_sample *s)
{
	if (!window_take(ad, s, ad->depth))
		return ad->depth;
	/* Not from windows read at a cap: those would say the cap, and it would only fall. */
	if (ad->fetches && ad->lat > 0 && ad->inflight > ad->others_inflight)
		ad->served_inflight =
		    (ad->inflight - ad->others_inflight) * ad->lat_floor / ad->lat;
	judge(ad, ad->work, ad->limited);
	/* Only here: a window read at a cap would say the cap, and the cap follows it down. */
	ad->served = served_judged(ad);
	if (!ad->knee_ns && ad->why != AD_WHY_START)
		ad->knee_ns = ad->elapsed_ns;
	return ad->depth;
}

void autodepth_observe(struct autodepth *ad, const struct ad_sample *s, unsigned int depth)
{
	window_take(ad, s, depth);
}

void autodepth_settle(struct autodepth *ad)
{
	ad->settle_reads = ad->depth;
	window_reset(ad);
}

unsigned int autodepth_resume(struct autodepth *ad)
{
	if (ad->state == AD_PROBE_UP || ad->state == AD_PROBE_DOWN) {
		ad->state = AD_HOLD;
		ad->depth = ad->base_depth;
		ad->descending = false;
		ad->hold_left = AD_HOLD_WINDOWS;
	} else if (ad->state == AD_GROW && ad->base_depth) {
		ad->depth = ad->base_depth;
	}
	autodepth_settle(ad);
	return ad->depth;
}

unsigned int autodepth_chosen(const struct autodepth *ad)
{
	if (ad->state == AD_PROBE_UP || ad->state == AD_PROBE_DOWN)
		return ad->base_depth;
	return ad->depth;
}

/* What the window just judged says the volume serves (autodepth_served()). */
static unsigned int served_judged(const struct autodepth *ad)
{
	double rate = ad->state == AD_HOLD ? ad->hold_rate : ad->work;
	double n;

	/* Before a knee was judged, the depth was below it: the rate says nothing of it. */
	if (ad->why == AD_WHY_START || !ad->lat_floor || ad->fetch_rate <= 0 ||
	    ad->bytes_per_read <= 0)
		return 0;
	n = rate / ad->bytes_per_read * ad->lat_floor / 1e9;
	/*
	 * Completions counted over a short window swing with where its edges
	 * fall among bursts (a loaded machine reaps them in bunches); the
	 * reads in flight over the time do not: the lower of the two.
	 */
	if (ad->served_inflight > 0 && ad->served_inflight < n)
		n = ad->served_inflight;
	n = down(n);
	return n < 1 ? 1 : (unsigned int)n;
}

unsigned int autodepth_served(const struct autodepth *ad)
{
	return ad->served;
}

const char *autodepth_why_name(enum ad_why why)
{
	static const char *const names[] = {
	    [AD_WHY_START] = "start",	  [AD_WHY_LATENCY] = "latency",
	    [AD_WHY_PLATEAU] = "plateau", [AD_WHY_LIMITED] = "limited",
	    [AD_WHY_MAX] = "max",	  [AD_WHY_MIN] = "min",
	    [AD_WHY_RECHECK] = "recheck",
	};

	return why < sizeof(names) / sizeof(names[0]) && names[why] ? names[why] : "?";
}
