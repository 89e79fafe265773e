/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Description: the pure parts of probe: places are aligned, inside the
 * device, one per slice, the same for the same seed and different for
 * another; a small device gives fewer places; the Wilson interval matches
 * known values and stays within [0, 1]; latencies fall in the right bins.
 */
#include "config.h"

#include <string.h>

#include "io/probe.h"
#include "../lib/tap.h"

static int near(double a, double b)
{
	return a - b < 0.0005 && b - a < 0.0005;
}

int main(void)
{
	static uint64_t a[1000], b[1000], c[1000];
	uint64_t size = 10ULL << 30, unit = 4096;
	unsigned int n, i, bad = 0;
	uint64_t v;
	double lo, hi;

	plan(15);

	n = probe_offsets(size, unit, 1000, 42, a);
	for (i = 0; i < n; i++)
		bad += a[i] % unit || a[i] + unit > size || a[i] / unit < size / unit * i / 1000 ||
		       a[i] / unit >= size / unit * (i + 1) / 1000;
	ok(n == 1000 && !bad, "1000 places, aligned, inside, one per slice (%u bad)", bad);
	probe_offsets(size, unit, 1000, 42, b);
	ok(!memcmp(a, b, sizeof(a)), "the same seed, the same places");
	probe_offsets(size, unit, 1000, 43, c);
	for (i = 0, bad = 0; i < 1000; i++)
		bad += a[i] == c[i];
	ok(bad < 10, "another seed, other places (%u the same)", bad);
	n = probe_offsets(5 * 4096 + 100, unit, 256, 1, a);
	ok(n == 5 && a[0] == 0 && a[4] == 4 * 4096, "a 5-block device gives 5 places");

	probe_wilson(50, 100, PROBE_Z95, &lo, &hi);
	ok(near(lo, 0.4038) && near(hi, 0.5962), "Wilson 50/100: [%.4f, %.4f]", lo, hi);
	probe_wilson(0, 100, PROBE_Z95, &lo, &hi);
	ok(lo == 0 && near(hi, 0.0370), "Wilson 0/100: [%.4f, %.4f]", lo, hi);
	probe_wilson(10, 10, PROBE_Z95, &lo, &hi);
	ok(near(lo, 0.7225) && hi <= 1.0, "Wilson 10/10: [%.4f, %.4f]", lo, hi);
	probe_wilson(0, 0, PROBE_Z95, &lo, &hi);
	ok(lo == 0 && hi == 1, "no samples: we know nothing");

	ok(probe_bin(0) == 0 && probe_bin(31999) == 0 && probe_bin(32000) == 1,
	   "bin 0 is under 32 us");
	ok(probe_bin(10000000) == 9 && probe_bin_upper_us(9) == 16384,
	   "10 ms falls under 16.4 ms");
	ok(probe_bin(~0ULL) == PROBE_HIST_BINS - 1 && !probe_bin_upper_us(PROBE_HIST_BINS - 1),
	   "the last bin is open");
	/* Thresholds: 100 warm at 60 us, a few stretched to 2.5-3.5 ms, cold at 20+ ms. */
	for (i = 0; i < 100; i++)
		a[i] = 60000;
	a[100] = 2500000, a[101] = 3000000, a[102] = 3500000;
	for (i = 103; i < 200; i++)
		a[i] = 20000000 + i * 10000;
	v = probe_threshold(a, 200, 2200000);
	ok(v > 3500000 && v < 20000000, "3 stretched warm reads, then a gap: threshold %.1f ms in it",
	   v / 1e6);
	for (i = 0; i < 200; i++)
		a[i] = 20000000 + i * 200000;
	v = probe_threshold(a, 200, 2200000);
	ok(v < 20000000, "all cold: every read over the threshold (%.1f ms)", v / 1e6);
	for (i = 0; i < 100; i++)
		a[i] = 60000;
	for (; i < 160; i++)
		a[i] = 2500000 + i * 10000;
	for (; i < 200; i++)
		a[i] = 20000000;
	v = probe_threshold(a, 200, 2200000);
	ok(v == 2200000, "60 reads between 2.5 and 4 ms are too many to be stretched warm ones");
	for (i = 0; i < 200; i++)
		a[i] = 60000 + i;
	ok(probe_threshold(a, 200, 2200000) == 2200000, "all warm: the threshold stays");
	return exit_status();
}
