/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Pace: the engine asks every PACE_TICK_MS how many reads to keep in flight.
 * Yielding wins over everything (a read fewer than the volume serves at once
 * while someone else reads, one read with a fixed depth; the controller
 * is not fed then: it would learn the other reader's load, not the volume's);
 * an EBS volume over its limits stops the
 * controller from growing; otherwise the controller decides, or the fixed
 * depth stays.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "device/nvmelog.h"
#include "io/pace.h"

#define DISPLAY_WINDOW_NS 1000000000ULL
#define EBS_LOOK_NS	  1000000000ULL
/* Over a limit for a tenth of the time between two looks: at the limit. */
#define EBS_LIMITED_SHARE 10

unsigned int pace_auto_max(uint64_t block_size)
{
	uint64_t m = AUTO_MAX_MEMORY / block_size;

	if (m > AUTO_MAX_DEPTH)
		m = AUTO_MAX_DEPTH;
	return m ? (unsigned int)m : 1;
}

/* Returns 0 when @fd is an EBS volume whose statistics page we can read. */
static int ebs_look(int fd, struct ebs_stats *st)
{
	static uint8_t page[EBS_STATS_SIZE] __attribute__((aligned(4096)));
	int rc;

	rc = nvme_get_log_page(fd, EBS_STATS_LOG_ID, 1, page, sizeof(page));
	if (rc)
		return rc;
	return ebs_stats_parse(page, st);
}

int pace_init(struct pace *p, unsigned int depth, unsigned int max_depth, bool yield,
	      const struct target *targets, size_t ntargets)
{
	size_t i;

	memset(p, 0, sizeof(*p));
	p->auto_depth = !depth;
	p->max_depth = p->auto_depth ? max_depth : depth;
	p->yield = yield;
	p->ntargets = ntargets;
	if (p->auto_depth)
		autodepth_init(&p->ad, 1, max_depth, AUTO_START_DEPTH);
	p->depth = p->auto_depth ? p->ad.depth : depth;
	p->yields = calloc(ntargets, sizeof(*p->yields));
	p->ebs = calloc(ntargets, sizeof(*p->ebs));
	if (!p->yields || !p->ebs) {
		pace_free(p);
		return -ENOMEM;
	}
	for (i = 0; i < ntargets; i++) {
		p->yields[i].fd = -1;
		p->ebs[i].fd = -1;
		if (!targets[i].blockdev)
			continue;
		if (yield)
			yield_open(&p->yields[i], targets[i].id_dev);
		if (!ebs_look(targets[i].fd, &p->ebs[i].first)) {
			p->ebs[i].fd = targets[i].fd;
			p->ebs[i].last = p->ebs[i].first;
			p->nebs++;
		}
	}
	return 0;
}

void pace_hint_latency(struct pace *p, uint64_t ns)
{
	if (!p->auto_depth || !ns)
		return;
	autodepth_init(&p->ad, 1, p->max_depth, AUTO_START_DEPTH_HINTED);
	autodepth_hint_latency(&p->ad, ns);
	p->depth = p->ad.depth;
}

void pace_free(struct pace *p)
{
	size_t i;

	for (i = 0; p->yields && i < p->ntargets; i++)
		yield_close(&p->yields[i]);
	free(p->yields);
	free(p->ebs);
	p->yields = NULL;
	p->ebs = NULL;
}

size_t pace_watched(const struct pace *p)
{
	size_t i, n = 0;

	for (i = 0; p->yields && i < p->ntargets; i++)
		n += p->yields[i].fd >= 0;
	return n;
}

uint64_t pace_ebs_exceeded_us(const struct pace *p)
{
	uint64_t us = 0;
	size_t i;

	for (i = 0; p->ebs && i < p->ntargets; i++)
		if (p->ebs[i].fd >= 0)
			us += ebs_stats_exceeded_us(&p->ebs[i].first, &p->ebs[i].last);
	return us;
}

void pace_look(struct pace *p)
{
	size_t i;

	for (i = 0; p->yield && i < p->ntargets; i++)
		if (p->yields[i].fd >= 0)
			yield_look(&p->yields[i]);
}

/* Someone else reads a watched target; when @cut, we make room for them meanwhile. */
static bool look_yield(struct pace *p, uint64_t ns, const struct job *jobs, bool cut)
{
	bool busy = false;
	size_t i;

	for (i = 0; i < p->ntargets; i++) {
		struct yield *y = &p->yields[i];

		if (y->fd < 0)
			continue;
		if (cut && y->busy)
			y->yielded_ns += ns;
		busy = yield_update(y, ns, jobs[i].io_bytes) || busy;
	}
	return busy;
}

/* Some job still reads its priority phases through its window. */
static bool in_windows(const struct job *jobs, size_t njobs)
{
	size_t i;

	for (i = 0; i < njobs; i++)
		if (jobs[i].window && jobs[i].phase < jobs[i].window->nphases &&
		    jobs[i].phase < jobs[i].nphases && !jobs[i].vanished)
			return true;
	return false;
}

static bool look_ebs(struct pace *p)
{
	bool limited = false;
	size_t i;

	for (i = 0; i < p->ntargets; i++) {
		struct pace_ebs *e = &p->ebs[i];
		struct ebs_stats st;
		uint64_t span;

		if (e->fd < 0)
			continue;
		if (p->now_ns - e->last_ns < EBS_LOOK_NS) {
			limited = limited || e->limited;
			continue;
		}
		span = p->now_ns - e->last_ns;
		if (!ebs_look(e->fd, &st)) {
			e->limited =
			    ebs_stats_exceeded_us(&e->last, &st) * 1000 * EBS_LIMITED_SHARE >= span;
			e->last = st;
		}
		e->last_ns = p->now_ns;
		limited = limited || e->limited;
	}
	return limited;
}

static void measure(struct pace *p, const struct engine_pace *ep)
{
	p->reads += ep->reads;
	p->lat_sum += ep->lat_ns;
	p->w_ns += ep->ns;
	p->w_bytes += ep->bytes;
	p->w_reads += ep->reads;
	p->w_lat += ep->lat_ns;
	if (p->w_ns < DISPLAY_WINDOW_NS)
		return;
	p->rate = (double)p->w_bytes * 1e9 / (double)p->w_ns;
	if (p->w_reads)
		p->lat_ns = (double)p->w_lat / (double)p->w_reads;
	p->w_ns = p->w_bytes = p->w_reads = p->w_lat = 0;
}

/*
 * The most reads to keep while someone else reads: with auto depth, one
 * fewer than the volume serves at once, less an eighth for the estimate's
 * noise (a window of a few hundred reads is a few percent off, and a loaded
 * machine reaps in bunches), so that their cold read finds a fetch free (no
 * cap before the controller judged a knee: it must find it, and doubling
 * overshoots by one queue at most); with a fixed depth (watched only when
 * asked for), one.
 */
unsigned int pace_yield_depth(unsigned int served)
{
	unsigned int keep = served - 1 - served / 8;

	return served > 1 && keep > 1 ? keep : 1;
}

static unsigned int yield_cap(const struct pace *p)
{
	unsigned int served;

	if (!p->auto_depth)
		return 1;
	served = autodepth_served(&p->ad);
	if (!served)
		return p->max_depth;
	/* A knee judged from a short window may be above what the cap's own windows show. */
	if (p->capped_served && p->capped_served < served)
		served = p->capped_served;
	return pace_yield_depth(served);
}

static struct ad_sample ad_sample_of(const struct pace *p, const struct engine_pace *ep)
{
	return (struct ad_sample){.ns = ep->ns,
				  .bytes = ep->bytes,
				  .reads = ep->reads,
				  .lat_ns = ep->lat_ns,
				  .inflight_ns = ep->inflight_ns,
				  .limited = p->limited,
				  .hist = ep->hist};
}

static unsigned int auto_tick(struct pace *p, const struct engine_pace *ep)
{
	struct ad_sample s = ad_sample_of(p, ep);

	return autodepth_update(&p->ad, &s);
}

/*
 * While others read, every window whose fetches waited says what the volume
 * serves: the cap follows it (a knee judged from a short, bursty window may
 * have been above it).
 */
static void learn_served(struct pace *p, bool busy)
{
	if (!busy)
		p->capped_served = 0;
	else if (p->ad.windows != p->seen_windows && p->ad.served_queued)
		p->capped_served = p->ad.served_queued;
	p->seen_windows = p->ad.windows;
}

unsigned int pace_tick(const struct engine_pace *ep, const struct job *jobs, size_t njobs,
		       void *arg)
{
	struct pace *p = arg;
	bool was = p->yielding, busy, capped = false;
	unsigned int cap = p->max_depth;

	p->now_ns += ep->ns;
	measure(p, ep);
	if (p->nebs)
		p->limited = look_ebs(p);
	if (p->yield) {
		/*
		 * A priority window is the prefetch of the reader of those
		 * files, in its order and at the knee: cutting it would only
		 * slow that reader. Others first once the window is read.
		 */
		busy = look_yield(p, ep->ns, jobs, was) && !in_windows(jobs, njobs);
		if (was && p->auto_depth) {
			struct ad_sample s = ad_sample_of(p, ep);

			autodepth_observe(&p->ad, &s, p->depth);
		}
		if (p->auto_depth)
			learn_served(p, busy);
		cap = busy ? yield_cap(p) : p->max_depth;
		capped = busy && (p->auto_depth ? p->ad.depth : p->max_depth) > cap;
		p->yielding = capped;
		/*
		 * Capped, the controller decides nothing (it would judge its
		 * depth by the cap's), it only measures; back from a cap, to
		 * the last depth it judged.
		 */
		if (was && !capped && p->auto_depth)
			autodepth_resume(&p->ad);
		else if (capped && p->auto_depth && cap != p->depth)
			autodepth_settle(&p->ad); /* reads from before the cap saw the old queue */
	}
	if (capped)
		p->depth = cap;
	else if (p->auto_depth)
		p->depth = was && p->yield ? p->ad.depth : auto_tick(p, ep);
	else
		p->depth = p->max_depth;
	return p->depth;
}
