/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Read latencies binned by powers of two of microseconds, with each bin's
 * summed latency: what the engine hands the depth controller every tick, so
 * that it can tell reads that waited for a fetch from those that did not
 * (holes, blocks already warm) without a threshold fixed in advance.
 */
#ifndef BLKHYDRATE_LATHIST_H
#define BLKHYDRATE_LATHIST_H

#include <stdint.h>

#define LAT_BINS 24 /* bin k: [2^k, 2^(k+1)) us; the first holds less, the last more */

struct lat_hist {
	uint32_t n[LAT_BINS];
	uint64_t ns[LAT_BINS];
};

static inline unsigned int lat_bin(uint64_t ns)
{
	uint64_t us = ns / 1000;
	unsigned int k = 0;

	while (us > 1 && k < LAT_BINS - 1) {
		us >>= 1;
		k++;
	}
	return k;
}

static inline void lat_hist_add(struct lat_hist *h, uint64_t ns)
{
	unsigned int k = lat_bin(ns);

	h->n[k]++;
	h->ns[k] += ns;
}

#endif
