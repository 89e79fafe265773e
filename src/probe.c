/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Probing coldness. Reads go one at a time so that a latency is the
 * device's, not our queue's. The places are stratified: one random place in
 * each of n equal slices, so the estimate covers the whole device even when
 * the warm part is one contiguous run. A read of a cold block makes the
 * device fetch the whole snapshot block (512 KiB on EBS): probing warms what
 * it touches, which is why the same places serve as the warm reference right
 * after, spread over the run so that they see the same load. A read is cold
 * when slower than PROBE_COLD_FACTOR times the warm median plus
 * PROBE_COLD_MARGIN_NS, and than twice the upper quartile of the warm reads:
 * cold fetches cost milliseconds to tens of milliseconds, warm reads a
 * fraction of a millisecond. A busy host stretches some warm reads past that;
 * when a few samples lie just above it and a clear gap follows, the threshold
 * moves into the gap (probe_threshold()).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"
#include "probe.h"

#define PROBE_COLD_FACTOR 3
#define PROBE_COLD_MARGIN_NS 2000000ULL
#define PROBE_TAIL_FACTOR 2	/* times the upper quartile of the warm re-reads */
#define PROBE_READ_SIZE 4096
#define BIN0_NS 32000ULL

/* splitmix64: small, seedable, the same everywhere. */
static uint64_t next_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

unsigned int probe_offsets(uint64_t size, uint64_t unit, unsigned int n, uint64_t seed,
			   uint64_t *off)
{
	uint64_t units = size / unit, s = seed, i;

	if ((uint64_t)n > units)
		n = (unsigned int)units;
	for (i = 0; i < n; i++) {
		/* Units [lo, hi) form slice i. */
		uint64_t lo = units * i / n, hi = units * (i + 1) / n;

		off[i] = (lo + next_rand(&s) % (hi - lo)) * unit;
	}
	return n;
}

static double root(double x)
{
	double r = x > 1 ? x : 1;
	int i;

	/* Newton: enough for a confidence interval, and no libm. */
	if (x <= 0)
		return 0;
	for (i = 0; i < 60; i++)
		r = 0.5 * (r + x / r);
	return r;
}

void probe_wilson(unsigned int k, unsigned int n, double z, double *low, double *high)
{
	double p, z2, den, mid, half;

	if (!n) {
		*low = 0;
		*high = 1;
		return;
	}
	p = (double)k / n;
	z2 = z * z;
	den = 1 + z2 / n;
	mid = (p + z2 / (2.0 * n)) / den;
	half = z / den * root(p * (1 - p) / n + z2 / (4.0 * n * n));
	*low = mid - half < 0 ? 0 : mid - half;
	*high = mid + half > 1 ? 1 : mid + half;
}

unsigned int probe_bin(uint64_t ns)
{
	unsigned int i;

	for (i = 0; i < PROBE_HIST_BINS - 1; i++)
		if (ns < BIN0_NS << i)
			return i;
	return PROBE_HIST_BINS - 1;
}

uint64_t probe_bin_upper_us(unsigned int i)
{
	return i < PROBE_HIST_BINS - 1 ? (BIN0_NS << i) / 1000 : 0;
}

uint64_t probe_threshold(const uint64_t *sorted, unsigned int n, uint64_t floor_ns)
{
	uint64_t prev = floor_ns;
	unsigned int i, above = 0;

	for (i = 0; i < n; i++) {
		if (sorted[i] <= floor_ns)
			continue;
		if (sorted[i] >= prev * PROBE_GAP) {
			if ((uint64_t)above * 100 > (uint64_t)n * PROBE_STRETCHED)
				break;
			return (uint64_t)root((double)prev * (double)sorted[i]);
		}
		prev = sorted[i];
		above++;
	}
	return floor_ns;
}

/* Time one read. Returns 0, or -errno. */
static int timed_read(const struct target *t, void *buf, uint64_t len, uint64_t off,
		      uint64_t *ns)
{
	uint64_t t0 = engine_now_ns();
	ssize_t n;

	do
		n = pread(t->fd, buf, len, (off_t)off);
	while (n < 0 && errno == EINTR);
	*ns = engine_now_ns() - t0;
	if (n < 0)
		return -errno;
	return n == (ssize_t)len ? 0 : -EIO;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int probe_run(const struct target *t, unsigned int samples, uint64_t seed,
	      volatile sig_atomic_t *stop, struct probe_result *r)
{
	uint64_t *off = NULL, *lat = NULL, warm[PROBE_REREADS], tail = 0;
	uint64_t unit = t->align > PROBE_READ_SIZE ? t->align : PROBE_READ_SIZE;
	unsigned int n, i, ok = 0;
	void *buf = NULL;
	int rc = -ENOMEM;

	memset(r, 0, sizeof(*r));
	r->read_size = unit;
	off = calloc(samples, sizeof(*off));
	lat = calloc(samples, sizeof(*lat));
	if (!off || !lat || posix_memalign(&buf, 4096, unit))
		goto done;
	n = probe_offsets(t->size, unit, samples, seed, off);

	for (i = 0; i < n; i++) {
		uint64_t ns;
		int err;

		/* Now and then the place just read, warm now: the warm latency of this moment. */
		if (i && i % (n / PROBE_REREADS ? n / PROBE_REREADS : 1) == 0 &&
		    r->rereads < PROBE_REREADS) {
			if (!timed_read(t, buf, unit, off[i - 1], &ns))
				warm[r->rereads++] = ns;
			r->bytes_read += unit;
		}
		if (stop && *stop) {
			rc = -EINTR;
			goto done;
		}
		err = timed_read(t, buf, unit, off[i], &ns);
		r->bytes_read += unit;
		if (err == -ENODEV || err == -ENXIO) {
			rc = err;
			goto done;
		}
		if (err) {
			if (!r->errors++)
				r->first_error = err;
			continue;
		}
		lat[ok++] = ns;
	}
	r->samples = ok;

	for (i = n; i > 0 && r->rereads < PROBE_REREADS; i--) {
		uint64_t ns;

		if (!timed_read(t, buf, unit, off[i - 1], &ns))
			warm[r->rereads++] = ns;
		r->bytes_read += unit;
	}
	if (r->rereads) {
		qsort(warm, r->rereads, sizeof(warm[0]), cmp_u64);
		r->warm_ns = warm[r->rereads / 2];
		r->warm_max_ns = warm[r->rereads - 1];
		/* The upper quartile, not the slowest: one hiccup must not hide every cold read. */
		tail = warm[r->rereads * 3 / 4];
	}
	r->threshold_ns = PROBE_COLD_FACTOR * r->warm_ns + PROBE_COLD_MARGIN_NS;
	if (r->threshold_ns < tail * PROBE_TAIL_FACTOR)
		r->threshold_ns = tail * PROBE_TAIL_FACTOR;
	qsort(lat, ok, sizeof(lat[0]), cmp_u64);
	r->threshold_ns = probe_threshold(lat, ok, r->threshold_ns);
	for (i = 0; i < ok; i++) {
		unsigned int b = probe_bin(lat[i]);
		int cold = lat[i] > r->threshold_ns;

		r->hist[b]++;
		r->hist_cold[b] += cold;
		r->cold += cold;
	}
	r->share = ok ? (double)r->cold / ok : 0;
	probe_wilson(r->cold, ok, PROBE_Z95, &r->low, &r->high);
	rc = 0;
done:
	free(off);
	free(lat);
	free(buf);
	return rc;
}
