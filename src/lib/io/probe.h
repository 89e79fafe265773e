/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Probe: how cold is a volume, without reading it all. Small O_DIRECT reads
 * at seeded, reproducible places spread over the device are timed one at a
 * time; each is warm or cold against the device's own warm latency (the same
 * places read again); the cold share comes with a Wilson interval.
 */
#ifndef BLKHYDRATE_PROBE_H
#define BLKHYDRATE_PROBE_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "device/target.h"

#define PROBE_DEFAULT_SAMPLES 256
#define PROBE_MAX_SAMPLES 100000
#define PROBE_DEFAULT_SEED 1
#define PROBE_REREADS 16
#define PROBE_HIST_BINS 17	/* bin i: under 32 us << i; the last: the rest */
#define PROBE_Z95 1.959964
#define PROBE_GAP 3		/* a gap in latency this wide separates warm from cold */
#define PROBE_STRETCHED 10	/* at most this percent of samples may be stretched warm reads */

struct probe_result {
	unsigned int samples;	/* reads timed */
	unsigned int cold;
	unsigned int errors;	/* reads that failed: not counted either way */
	int first_error;
	unsigned int rereads;	/* warm reference reads */
	uint64_t read_size;
	uint64_t bytes_read;	/* all of it, samples and rereads */
	uint64_t warm_ns;	/* median of the rereads */
	uint64_t warm_max_ns;	/* slowest of the rereads */
	uint64_t threshold_ns;	/* slower than this: cold */
	double share, low, high;	/* cold share and its 95% interval */
	unsigned int hist[PROBE_HIST_BINS];
	unsigned int hist_cold[PROBE_HIST_BINS];
};

/* What a partial read of a cold snapshot block fetches, by the granularity probe. */
enum granularity_verdict {
	GRANULARITY_UNSURE,  /* too few cold blocks, or the evidence is mixed */
	GRANULARITY_WHOLE,   /* the whole block: touch mode pays */
	GRANULARITY_PARTIAL, /* only what was read: full reads */
};

#define GRANULARITY_DEFAULT_BLOCKS 8  /* cold blocks wanted */
#define GRANULARITY_TRIES	   2  /* places tried per block wanted */
#define GRANULARITY_MIN_COLD	   3  /* fewer cold blocks than this: unsure */
#define GRANULARITY_AGREE	   75 /* percent of the cold blocks that must agree */
#define GRANULARITY_MAX_PLACES	   512

/* One place: its first read, the same read again, and the block's other end. */
struct granularity_place {
	uint64_t off, far_off;
	uint64_t first_ns, again_ns, far_ns;
	unsigned int round; /* of first reads read at once (a lone one: its own); the lead's is 0 */
	bool ok, cold, far_cold;
};

struct granularity_result {
	uint64_t block, read_size, bytes_read;
	unsigned int tried, errors, cold, far_warm, far_cold;
	unsigned int rounds, cold_rounds; /* rounds of first reads; those with a cold place */
	int first_error;
	uint64_t warm_ns, threshold_ns; /* from the second reads of each place */
	uint64_t cold_ns;		/* median first read of the cold places; 0: none */
	uint64_t fetch_ns;		/* fastest first read of the cold places; 0: none */
	enum granularity_verdict verdict;
	struct granularity_place place[GRANULARITY_MAX_PLACES];
};

/*
 * The verdict from @cold cold blocks, @far_warm of them warm at the other
 * end, @far_cold cold, found in @cold_rounds rounds of first reads: from one
 * round only, unsure (one stall of the host stretches reads at once alike).
 */
enum granularity_verdict granularity_verdict(unsigned int cold, unsigned int far_warm,
					     unsigned int far_cold, unsigned int cold_rounds);

const char *granularity_name(enum granularity_verdict v);

/*
 * What tells touch mode's samples cold from warm: halfway between the warm
 * latency and the fastest cold first read the probe saw (a sample of a block
 * fetched only in part costs a fetch; first reads read at once, one stall
 * of the host stretches them all, and only the fastest is sure to be no
 * slower than a fetch), and never below the probe's own threshold. A warm
 * read a loaded host stretches past the probe's threshold is still far
 * from a fetch.
 */
uint64_t granularity_sample_threshold(const struct granularity_result *g);

/*
 * The granularity probe: at up to GRANULARITY_TRIES x @blocks seeded places
 * (fewer once @blocks of them were cold), each the start of a snapshot block
 * of @block bytes, read one logical block, read it again (warm now: the
 * reference), then time a read of the block's other end. The first reads
 * of the first three places at once; when they all fetched, those of the next
 * places at once too (as many as cold blocks are still wanted); the warm
 * reads one at a time. Of the
 * blocks whose first read was cold, warm other ends mean the whole block was
 * fetched. Returns 0 (read errors counted), -ENOMEM, -EINTR when @stop was
 * set, -ENODEV/-ENXIO when the device went away.
 */
int probe_granularity(const struct target *t, uint64_t block, unsigned int blocks, uint64_t seed,
		      volatile sig_atomic_t *stop, struct granularity_result *g);

/*
 * The same at the @n snapshot blocks starting at @off (hydrate picks them
 * inside its plan), the reads at I/O priority @ioprio (0: the default).
 */
int probe_granularity_at(const struct target *t, uint64_t block, const uint64_t *off,
			 unsigned int n, unsigned int blocks, uint16_t ioprio,
			 volatile sig_atomic_t *stop, struct granularity_result *g);

/*
 * @n offsets, multiples of @unit, one in each of @n equal strata of a device
 * of @size bytes, drawn from @seed. Returns how many (fewer when the device
 * holds fewer than @n units).
 */
unsigned int probe_offsets(uint64_t size, uint64_t unit, unsigned int n, uint64_t seed,
			   uint64_t *off);

/* Wilson score interval of @k successes in @n trials at normal quantile @z. */
void probe_wilson(unsigned int k, unsigned int n, double z, double *low, double *high);

/*
 * The cold threshold over @n sample latencies sorted ascending, from the warm
 * reference @floor_ns: @floor_ns, or higher when a few samples just above it
 * are followed by a clear gap (the next one at least PROBE_GAP times slower):
 * those few were warm reads a busy host stretched, the cold ones come after.
 */
uint64_t probe_threshold(const uint64_t *sorted, unsigned int n, uint64_t floor_ns);

/* Histogram bin of a latency. */
unsigned int probe_bin(uint64_t ns);

/* Upper bound of bin @i in microseconds; 0 for the last (open) bin. */
uint64_t probe_bin_upper_us(unsigned int i);

/*
 * Time @samples reads of target @t from @seed. Returns 0 (read errors are
 * counted in @r), -ENOMEM, -EINTR when @stop was set, or -ENODEV/-ENXIO when
 * the device went away.
 */
int probe_run(const struct target *t, unsigned int samples, uint64_t seed,
	      volatile sig_atomic_t *stop, struct probe_result *r);

#endif
