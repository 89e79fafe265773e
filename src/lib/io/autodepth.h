/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Auto queue depth: a controller fed with what completed in each short tick
 * (bytes, reads, summed latency) that answers with the number of reads to keep
 * in flight. It doubles the depth while throughput rises, holds the
 * shallowest depth that got nearly the best throughput once it stops, and
 * re-probes now and then. Pure: no clock, no I/O,
 * so that unit tests drive it with synthetic devices.
 */
#ifndef BLKHYDRATE_AUTODEPTH_H
#define BLKHYDRATE_AUTODEPTH_H

#include <stdbool.h>
#include <stdint.h>

/* What completed during one tick. */
struct ad_sample {
	uint64_t ns;		/* length of the tick */
	uint64_t bytes;
	uint64_t reads;
	uint64_t lat_ns;	/* sum of the latencies of those reads */
	uint64_t inflight_ns;	/* reads in flight integrated over the tick; 0: unknown */
	bool limited;		/* the device says it is at its own limit: do not grow */
};

#define AD_MAX_TRIED 16

enum ad_state {
	AD_GROW,	/* doubling while throughput rises */
	AD_HOLD,	/* at the chosen depth */
	AD_PROBE_UP,	/* trying deeper: did throughput rise? */
	AD_PROBE_DOWN,	/* trying shallower: did throughput hold? */
};

struct autodepth {
	unsigned int min, max;
	unsigned int depth;
	enum ad_state state;
	unsigned int changes;	/* depth changes so far */

	/* The window being measured. */
	uint64_t w_ns, w_bytes, w_reads, w_lat, w_inflight;
	bool w_limited;
	/*
	 * After a change, ticks are dropped until this many reads completed:
	 * one turnover of the new queue (after a cut, of the old one, which
	 * drains first), before which latency lags behind.
	 */
	uint64_t settle_reads;

	/* What was learnt. */
	double base_rate;	/* bytes/s of the window before the step being judged */
	unsigned int base_depth;
	double hold_rate;	/* bytes/s at the held depth */
	double lat_floor;	/* lowest mean latency of a window, ns; 0: none yet */
	unsigned int ntried;	/* depths tried while growing, and their rates */
	unsigned int tried_depth[AD_MAX_TRIED];
	double tried_rate[AD_MAX_TRIED];
	unsigned int hold_left;	/* windows until the next probe */

	/* The last window, for display. */
	double rate;		/* bytes/s */
	double lat;		/* mean latency, ns */
	bool limited;
};

/* Start at @start reads in flight, never leave [@min, @max]. */
void autodepth_init(struct autodepth *ad, unsigned int min, unsigned int max,
		    unsigned int start);

/* Feed one tick; returns the depth to use from now on. */
unsigned int autodepth_update(struct autodepth *ad, const struct ad_sample *s);

/* The queue was disturbed (we paused, someone else used the device): let it settle. */
void autodepth_settle(struct autodepth *ad);

/* The depth settled on: the one in use, or during a probe the one probed from. */
unsigned int autodepth_chosen(const struct autodepth *ad);

#endif
