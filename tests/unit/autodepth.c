/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Description: the auto queue depth controller, driven by synthetic devices
 * that serve C fetches at once with latency L (throughput min(d, C) / L,
 * latency max(L, d L / C)): it settles near the knee C for several C and L,
 * stops growing when the device says it is limited, follows a device that
 * gets faster, re-probes, and keeps to its bounds.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>

#include "io/autodepth.h"
#include "../lib/tap.h"

#define TICK_NS 50000000ULL
#define BLOCK 524288.0

struct dev {
	unsigned int conc;
	double lat_ns;
	unsigned int limit_at;	/* report "limited" from this depth on; 0: never */
	unsigned int noise;	/* percent */
	unsigned int seed;
	bool queue_known;	/* report the reads in flight over time */
};

static double jitter(struct dev *dv)
{
	if (!dv->noise)
		return 1.0;
	dv->seed = dv->seed * 1103515245u + 12345u;
	return 1.0 + ((double)(dv->seed >> 16 & 0x7fff) / 32767.0 * 2.0 - 1.0) * dv->noise / 100.0;
}

/* One tick of @ns against @dv: @reads completions, or (0) what it serves at the depth in use. */
static unsigned int tick(struct autodepth *ad, struct dev *dv, uint64_t ns, uint64_t reads)
{
	unsigned int d = ad->depth;
	double busy = d < dv->conc ? d : dv->conc;
	double x = busy / dv->lat_ns * 1e9 * jitter(dv); /* reads/s */
	double lat = d > dv->conc ? dv->lat_ns * d / dv->conc : dv->lat_ns;
	struct ad_sample s = { .ns = ns };

	s.reads = reads ? reads : (uint64_t)(x * (double)ns / 1e9 + 0.5);
	s.bytes = (uint64_t)(s.reads * BLOCK);
	s.lat_ns = (uint64_t)(s.reads * lat);
	s.inflight_ns = dv->queue_known ? (uint64_t)d * ns : 0;
	s.limited = dv->limit_at && d >= dv->limit_at;
	return autodepth_update(ad, &s);
}

/*
 * Run @ticks ticks against @dv, then on until the controller holds (not in
 * the middle of a probe); returns the depth it holds.
 */
static unsigned int run(struct autodepth *ad, struct dev *dv, unsigned int ticks)
{
	unsigned int d = ad->depth, extra = 1000;

	while (ticks || (ad->state != AD_HOLD && extra--)) {
		if (ticks)
			ticks--;
		d = tick(ad, dv, TICK_NS, 0);
	}
	return d;
}

static void converges(unsigned int conc, double lat_ms, unsigned int lo, unsigned int hi,
		      unsigned int noise, bool queue_known)
{
	struct dev dv = { .conc = conc, .lat_ns = lat_ms * 1e6, .noise = noise, .seed = conc,
			  .queue_known = queue_known };
	struct autodepth ad;
	unsigned int d;

	autodepth_init(&ad, 1, 128, 4);
	d = run(&ad, &dv, 400);
	ok(d >= lo && d <= hi, "concurrency %u, latency %.0f ms%s%s: depth %u in [%u, %u]", conc,
	   lat_ms, noise ? ", noisy" : "", queue_known ? ", by Little's law" : "", d, lo, hi);
}

int main(void)
{
	struct autodepth ad;
	struct dev dv;
	unsigned int d, changes;

	plan(18);

	converges(4, 2, 4, 8, 0, false);
	converges(4, 40, 4, 8, 0, false);
	converges(32, 10, 32, 48, 0, false);
	converges(64, 2, 64, 96, 0, false);
	converges(64, 40, 64, 96, 0, false);
	converges(16, 10, 12, 32, 5, false);
	converges(4, 40, 4, 8, 0, true);
	converges(32, 10, 32, 48, 5, true);

	/* A device at its own limit from depth 16: growth stops there. */
	dv = (struct dev){ .conc = 64, .lat_ns = 10e6, .limit_at = 16 };
	autodepth_init(&ad, 1, 128, 4);
	d = run(&ad, &dv, 400);
	ok(d <= 16 && d >= 8, "limited from depth 16: depth %u in [8, 16]", d);

	/* Converged, then held: probes happen and come back. */
	dv = (struct dev){ .conc = 8, .lat_ns = 10e6 };
	autodepth_init(&ad, 1, 128, 4);
	run(&ad, &dv, 100);
	changes = ad.changes;
	d = run(&ad, &dv, 2000);
	ok(autodepth_chosen(&ad) == d, "holding: the chosen depth is the one in use");
	ok(ad.changes > changes, "re-probes while holding (%u depth changes after settling)",
	   ad.changes - changes);
	ok(d >= 8 && d <= 12, "and returns near the knee: %u in [8, 12]", d);

	ad.state = AD_PROBE_UP;
	ad.base_depth = 9;
	ok(autodepth_chosen(&ad) == 9, "probing: the chosen depth is the one probed from");
	ad.state = AD_HOLD;

	/* The device gets faster: the controller follows. */
	dv.conc = 48;
	d = run(&ad, &dv, 2000);
	ok(d >= 48 && d <= 72, "device now serves 48 at once: depth %u in [48, 72]", d);

	/*
	 * A cut from 128 to 96: the 128 reads in flight drain first, slowly,
	 * and are not judged; from then on 96 serves as well: it holds 96.
	 */
	dv = (struct dev){ .conc = 32, .lat_ns = 100e6 };
	autodepth_init(&ad, 1, 128, 128);
	run(&ad, &dv, 0);
	ad.hold_left = 1;
	while (ad.depth == 128)
		tick(&ad, &dv, TICK_NS, 0);
	tick(&ad, &dv, TICK_NS, 96);	   /* one turnover of the new depth */
	tick(&ad, &dv, 10 * TICK_NS, 30); /* the rest of the old queue draining */
	d = run(&ad, &dv, 0);
	ok(d == 96, "after a cut from 128 to 96 the old queue drains unjudged: holds %u", d);

	/* Bounds. */
	dv = (struct dev){ .conc = 1000, .lat_ns = 10e6 };
	autodepth_init(&ad, 1, 64, 4);
	d = run(&ad, &dv, 400);
	ok(d == 64, "a bottomless device: depth stays at the maximum (%u)", d);
	autodepth_init(&ad, 2, 8, 100);
	ok(ad.depth == 8, "start clamped to the maximum (%u)", ad.depth);
	dv = (struct dev){ .conc = 1, .lat_ns = 10e6 };
	autodepth_init(&ad, 2, 8, 2);
	d = run(&ad, &dv, 2000);
	ok(d >= 2, "never below the minimum (%u)", d);

	return exit_status();
}
