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
#include <stdint.h>

#include "target.h"

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
