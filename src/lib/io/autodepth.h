/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Auto queue depth: a controller fed with what completed in each short tick
 * (bytes, reads, summed latency) that answers with the number of reads to keep
 * in flight. It looks for the knee: the least depth whose throughput comes
 * within a few percent of the best seen, where a read still takes about the
 * volume's unloaded fetch latency. It grows fast while reads take that long,
 * jumps to the depth Little's law gives once they take longer, walks down
 * while a shallower depth keeps the rate, and re-checks now and then. Pure:
 * no clock, no I/O, so that unit tests drive it with synthetic devices.
 */
#ifndef BLKHYDRATE_AUTODEPTH_H
#define BLKHYDRATE_AUTODEPTH_H

#include <stdbool.h>
#include <stdint.h>

#include "io/lathist.h"

/* What completed during one tick. */
struct ad_sample {
	uint64_t ns;		/* length of the tick */
	uint64_t bytes;
	uint64_t reads;
	uint64_t lat_ns;	/* sum of the latencies of those reads */
	uint64_t inflight_ns;	/* reads in flight integrated over the tick; 0: unknown */
	bool limited;		/* the device says it is at its own limit: do not grow */
	struct lat_hist hist;	/* the latencies of those reads */
};

#define AD_MAX_TRIED 16

enum ad_state {
	AD_GROW,	/* growing while reads take the unloaded latency */
	AD_HOLD,	/* at the chosen depth */
	AD_PROBE_UP,	/* trying deeper: did throughput rise? */
	AD_PROBE_DOWN,	/* trying shallower: did throughput hold? */
};

/* Why the depth held is the one it is (the JSON summary and the journal say it). */
enum ad_why {
	AD_WHY_START,	 /* nothing judged yet */
	AD_WHY_LATENCY,	 /* reads began to wait: Little's law's depth, walked down */
	AD_WHY_PLATEAU,	 /* deeper stopped paying: the shallowest depth that got the best */
	AD_WHY_LIMITED,	 /* the device said it is at its limit */
	AD_WHY_MAX,	 /* still below the knee at the largest depth allowed */
	AD_WHY_MIN,	 /* at the smallest depth allowed */
	AD_WHY_RECHECK,	 /* a re-check while holding kept or changed it */
};

struct autodepth {
	unsigned int min, max;
	unsigned int depth;
	enum ad_state state;
	enum ad_why why;
	enum ad_why held_why;	/* why of the last hold: a re-check that changes nothing keeps it */
	unsigned int limit_depth;	/* the device said it was limited at this depth; 0: never */
	unsigned int changes;	/* depth changes so far */
	bool descending;	/* PROBE_DOWN: walk on down while the rate holds */

	/* The window being measured. */
	uint64_t w_ns, w_bytes, w_reads, w_lat, w_inflight;
	bool w_limited;
	struct lat_hist w_hist;
	/*
	 * After a change, ticks are dropped until this many reads completed:
	 * those from before the change, which saw the old queue.
	 */
	uint64_t settle_reads;

	/* What was learnt. */
	double base_rate;	/* bytes/s of the window before the step being judged */
	unsigned int base_depth;
	unsigned int good_depth;	/* PROBE_DOWN: the shallowest depth that kept the rate */
	double good_rate;
	double hold_rate;	/* bytes/s at the held depth */
	unsigned int depth_held;
	/*
	 * The unloaded fetch latency: the lowest mean of a window's fetches
	 * (reads slower than a third of it, or than AD_COLD_NS before it is
	 * known), or the hint; ns; 0: none yet.
	 */
	double lat_floor;
	double lat_hold;	/* mean latency at the held depth, ns */
	unsigned int ntried;	/* depths tried while growing, and their rates */
	unsigned int tried_depth[AD_MAX_TRIED];
	double tried_rate[AD_MAX_TRIED];
	unsigned int hold_left;	/* windows until the next re-check */

	/* The last window, also for display. */
	double rate;		/* bytes/s */
	double work;		/* bytes/s as decisions compare it: of fetches when it had them */
	double lat;		/* mean latency of its fetches (of all its reads when it had few), ns */
	bool fetches;		/* it had enough fetches to judge by */
	double fetch_rate;	/* its fetches per second */
	double inflight;	/* its reads in flight, on average over its time */
	double served_inflight;	/* the last judged window's fetches in flight x unloaded / mean latency */
	unsigned int served_queued;	/* what it says the volume serves, when its fetches waited; else 0 */
	unsigned int served;	/* autodepth_served(), as of the last judged window */
	unsigned long windows;	/* windows measured so far */
	uint64_t elapsed_ns;	/* ticks fed so far */
	uint64_t knee_ns;	/* when the first knee was judged; 0: not yet */
	double others_inflight;	/* its other reads in flight, on average */
	double bytes_per_read;
	bool limited;
};

/* Start at @start reads in flight, never leave [@min, @max]. */
void autodepth_init(struct autodepth *ad, unsigned int min, unsigned int max,
		    unsigned int start);

/* The volume's unloaded fetch latency as measured elsewhere (the probe's lone cold reads). */
void autodepth_hint_latency(struct autodepth *ad, uint64_t ns);

/* Feed one tick; returns the depth to use from now on. */
unsigned int autodepth_update(struct autodepth *ad, const struct ad_sample *s);

/* Feed one tick read at @depth, set by someone else (a cap while others read): nothing decided. */
void autodepth_observe(struct autodepth *ad, const struct ad_sample *s, unsigned int depth);

/* The queue was disturbed (we paused, someone else used the device): let it settle. */
void autodepth_settle(struct autodepth *ad);

/*
 * After a pause (yielding to others): back to the last depth judged, a
 * probe or a step of growth not judged yet given up; returns the depth.
 */
unsigned int autodepth_resume(struct autodepth *ad);

/* The depth settled on: the one in use, or during a probe the one probed from. */
unsigned int autodepth_chosen(const struct autodepth *ad);

/*
 * The reads the volume serves at once, by Little's law: the held rate in
 * reads per second times the unloaded latency, or the last judged window's
 * fetches in flight times the unloaded over their mean latency when that is
 * lower (at least 1); 0 while unknown (no knee judged yet). Only judged
 * windows set it: those read at a cap (autodepth_observe()) leave it.
 */
unsigned int autodepth_served(const struct autodepth *ad);

const char *autodepth_why_name(enum ad_why why);

#endif
