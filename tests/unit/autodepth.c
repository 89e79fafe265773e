/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Description: the auto queue depth controller, driven by synthetic devices
 * that serve C fetches at once with latency L, optionally capped at B reads a
 * second (throughput min(d / L, C / L, B), latency d / throughput by Little's
 * law), some reads optionally warm (no fetch, 50 us). It finds the knee (the
 * least depth that gets the best rate, at about the unloaded latency) for
 * volumes of 4, 16 and 128 at once, bandwidth-bound ones and ones with holes;
 * a start far past the knee comes down (the old controller held 112 on a
 * volume that serves 16: it started there and never judged a shallower
 * depth); it stops growing when the device says it is limited, follows a
 * device that gets faster, re-checks, and keeps to its bounds.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>

#include "io/autodepth.h"
#include "../lib/tap.h"

#define TICK_NS 50000000ULL
#define BLOCK	524288.0
#define WARM_NS 50000.0

struct dev {
	unsigned int conc;
	double lat_ns;
	double cap;	       /* reads/s; 0: none */
	unsigned int warm;     /* percent of reads that fetch nothing */
	unsigned int limit_at; /* report "limited" from this depth on; 0: never */
	unsigned int noise;    /* percent */
	unsigned int seed;
	bool queue_known; /* report the reads in flight over time */
};

static double jitter(struct dev *dv)
{
	if (!dv->noise)
		return 1.0;
	dv->seed = dv->seed * 1103515245u + 12345u;
	return 1.0 + ((double)(dv->seed >> 16 & 0x7fff) / 32767.0 * 2.0 - 1.0) * dv->noise / 100.0;
}

/* Fetches per second at depth @d: the reads in flight that fetch, over their latency. */
static double fetch_rate(const struct dev *dv, unsigned int d, double *lat)
{
	double w = dv->warm / 100.0, x, fetching;

	/* Warm reads hold a slot for WARM_NS only: nearly all of the depth fetches. */
	fetching = d;
	if (w > 0)
		fetching = d * (1 - w) * dv->lat_ns / ((1 - w) * dv->lat_ns + w * WARM_NS);
	x = (fetching < dv->conc ? fetching : dv->conc) / dv->lat_ns * 1e9;
	if (dv->cap && x > dv->cap)
		x = dv->cap;
	*lat = fetching / x * 1e9;
	return x;
}

/* One tick of @ns against @dv: @reads completions, or (0) what it serves at the depth in use. */
static unsigned int tick(struct autodepth *ad, struct dev *dv, uint64_t ns, uint64_t reads)
{
	unsigned int d = ad->depth;
	double lat, x = fetch_rate(dv, d, &lat) * jitter(dv);
	double w = dv->warm / 100.0;
	struct ad_sample s = {.ns = ns};
	uint64_t fetches, warm;

	fetches = reads ? reads : (uint64_t)(x * (double)ns / 1e9 + 0.5);
	warm = w > 0 ? (uint64_t)((double)fetches * w / (1 - w) + 0.5) : 0;
	s.reads = fetches + warm;
	s.bytes = (uint64_t)((double)s.reads * BLOCK);
	s.lat_ns = (uint64_t)((double)fetches * lat + (double)warm * WARM_NS);
	s.hist.n[lat_bin((uint64_t)lat)] += (uint32_t)fetches;
	s.hist.ns[lat_bin((uint64_t)lat)] += (uint64_t)((double)fetches * lat);
	s.hist.n[lat_bin((uint64_t)WARM_NS)] += (uint32_t)warm;
	s.hist.ns[lat_bin((uint64_t)WARM_NS)] += (uint64_t)((double)warm * WARM_NS);
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

/* Ticks until the controller first holds. */
static unsigned int ticks_to_hold(struct autodepth *ad, struct dev *dv)
{
	unsigned int n = 0;

	while (ad->state != AD_HOLD && n < 1000) {
		tick(ad, dv, TICK_NS, 0);
		n++;
	}
	return n;
}

static void converges(struct dev dv, unsigned int max, unsigned int lo, unsigned int hi,
		      const char *what)
{
	struct autodepth ad;
	unsigned int d, n;
	bool hinted = dv.seed == 1;

	autodepth_init(&ad, 1, max, 16);
	if (hinted)
		autodepth_hint_latency(&ad, (uint64_t)dv.lat_ns);
	n = ticks_to_hold(&ad, &dv);
	d = run(&ad, &dv, 400);
	ok(d >= lo && d <= hi && n <= (hinted ? 20 : 80),
	   "%s (%u at once, %.0f ms%s): depth %u in [%u, %u], first held after %u ticks (<= %u)",
	   what, dv.conc, dv.lat_ns / 1e6, hinted ? ", latency hinted" : "", d, lo, hi, n,
	   hinted ? 20 : 80);
}

int main(void)
{
	struct autodepth ad;
	struct dev dv;
	unsigned int d, changes, n;

	plan(28);

	/* The knee for volumes of 4, 16 and 128 at once, fast and slow fetches. */
	converges((struct dev){.conc = 4, .lat_ns = 2e6}, 112, 4, 6, "narrow");
	converges((struct dev){.conc = 4, .lat_ns = 40e6}, 112, 4, 6, "narrow");
	converges((struct dev){.conc = 4, .lat_ns = 40e6, .seed = 1}, 112, 4, 6, "narrow");
	converges((struct dev){.conc = 16, .lat_ns = 10e6}, 112, 16, 21, "middle");
	converges((struct dev){.conc = 16, .lat_ns = 40e6}, 112, 16, 21, "middle");
	converges((struct dev){.conc = 16, .lat_ns = 40e6, .seed = 1}, 112, 16, 21, "middle");
	converges((struct dev){.conc = 128, .lat_ns = 40e6}, 256, 128, 160, "wide");
	converges((struct dev){.conc = 128, .lat_ns = 2e6}, 256, 128, 160, "wide");
	/* Bandwidth first: 16 at once but 12 fetches' worth of bandwidth. */
	converges((struct dev){.conc = 16, .lat_ns = 20e6, .cap = 600}, 112, 12, 16,
		  "bandwidth-bound");
	/* A third of the reads are holes: they hold no fetch slot, and are not the latency. */
	converges((struct dev){.conc = 16, .lat_ns = 20e6, .warm = 33}, 112, 16, 26, "with holes");
	converges((struct dev){.conc = 16, .lat_ns = 10e6, .noise = 5, .seed = 16}, 112, 14, 24,
		  "noisy");
	converges(
	    (struct dev){.conc = 16, .lat_ns = 10e6, .noise = 5, .seed = 7, .queue_known = true},
	    112, 14, 24, "noisy, by Little's law");

	/* The old failure: a start far past the knee. Without a hint, the first re-check walks
	 * down. */
	dv = (struct dev){.conc = 16, .lat_ns = 20e6};
	autodepth_init(&ad, 1, 112, 112);
	d = run(&ad, &dv, 400);
	ok(d >= 16 && d <= 21, "start at 112 on a volume of 16, no hint: comes down to %u", d);
	/* With the unloaded latency hinted (the probe's lone cold reads), at the first judgement.
	 */
	autodepth_init(&ad, 1, 112, 112);
	autodepth_hint_latency(&ad, 20000000);
	n = ticks_to_hold(&ad, &dv);
	d = run(&ad, &dv, 0);
	ok(d >= 16 && d <= 21 && n <= 12, "the same with the latency hinted: %u after %u ticks", d,
	   n);
	ok(autodepth_served(&ad) == 16, "and it says the volume serves 16 at once (%u)",
	   autodepth_served(&ad));
	ok(ad.why == AD_WHY_LATENCY, "why: reads began to wait (%s)", autodepth_why_name(ad.why));
	ok(ad.lat_floor > 19e6 && ad.lat_floor < 21e6, "the unloaded latency: %.1f ms",
	   ad.lat_floor / 1e6);

	/* A pause (yielding) mid-growth: back to the depth judged, not the step not yet judged. */
	dv = (struct dev){.conc = 128, .lat_ns = 20e6};
	autodepth_init(&ad, 1, 112, 16);
	autodepth_hint_latency(&ad, 20000000);
	while (ad.depth == 16)
		tick(&ad, &dv, TICK_NS, 0);
	d = ad.depth;
	ok(autodepth_resume(&ad) == 16 && ad.settle_reads == 16,
	   "resumed mid-growth (%u not judged yet): at 16, the refill not judged", d);

	/* A device at its own limit from depth 16: growth stops there. */
	dv = (struct dev){.conc = 64, .lat_ns = 10e6, .limit_at = 32};
	autodepth_init(&ad, 1, 128, 4);
	d = run(&ad, &dv, 400);
	ok(d <= 32 && d >= 16, "limited from depth 32: depth %u in [16, 32]", d);

	/* Converged, then held: re-checks happen and come back. */
	dv = (struct dev){.conc = 8, .lat_ns = 10e6};
	autodepth_init(&ad, 1, 128, 16);
	run(&ad, &dv, 100);
	changes = ad.changes;
	d = run(&ad, &dv, 2000);
	ok(autodepth_chosen(&ad) == d, "holding: the chosen depth is the one in use");
	ok(ad.changes > changes, "re-checks while holding (%u depth changes after settling)",
	   ad.changes - changes);
	ok(d >= 8 && d <= 11, "and returns near the knee: %u in [8, 11]", d);

	ad.state = AD_PROBE_UP;
	ad.base_depth = 9;
	ok(autodepth_chosen(&ad) == 9, "probing: the chosen depth is the one probed from");
	ad.state = AD_HOLD;

	/* The device gets faster: the controller follows. */
	dv.conc = 48;
	d = run(&ad, &dv, 2000);
	ok(d >= 48 && d <= 64, "device now serves 48 at once: depth %u in [48, 64]", d);

	/* Bounds. */
	dv = (struct dev){.conc = 1000, .lat_ns = 10e6};
	autodepth_init(&ad, 1, 64, 4);
	d = run(&ad, &dv, 400);
	ok(d == 64 && ad.why == AD_WHY_MAX,
	   "a bottomless device: depth stays at the maximum (%u, %s)", d,
	   autodepth_why_name(ad.why));
	autodepth_init(&ad, 2, 8, 100);
	ok(ad.depth == 8, "start clamped to the maximum (%u)", ad.depth);
	dv = (struct dev){.conc = 1, .lat_ns = 10e6};
	autodepth_init(&ad, 2, 8, 2);
	d = run(&ad, &dv, 2000);
	ok(d >= 2, "never below the minimum (%u)", d);
	autodepth_init(&ad, 1, 8, 4);
	ok(autodepth_served(&ad) == 0, "nothing measured: the volume's width unknown (%u)",
	   autodepth_served(&ad));

	return exit_status();
}
