/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Description: the pace of a run, tick by tick, against a synthetic volume
 * that serves 16 fetches at once in 20 ms. Auto depth starts at 4, or at 16
 * when the probe measured the unloaded latency; a priority window is read at
 * the knee like the rest, not at the largest depth (a reader's cold read
 * would wait behind the queue). Yielding: while the device's counters (a
 * stand-in stat file) show bytes that are not ours, the depth drops below
 * what the volume serves at once (one fewer, less an eighth) and comes back
 * a quiet second after, not walked down by its own capped windows;
 * with a fixed depth it drops to one; our own reads never count; a priority
 * window (the prefetch of the reader of those files) is not cut while read.
 * A cap set from a misjudged knee comes down to what the cap's own windows
 * show the volume serving, and stays there.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/pace.h"
#include "../lib/tap.h"

#define MAX  112
#define TICK 50000000ULL
#define CONC 16
#define LAT  20e6
/* Our reads while others read: 16 served, one fewer less an eighth for the estimate's noise. */
#define CUT 13

static uint64_t sectors; /* the stand-in device's sectors read, everyone's */
static double bunch = 1; /* completions counted in a tick, over those there were */
static char statpath[] = "/tmp/blkhydrate-pace-XXXXXX";

static void write_stat(int fd)
{
	char buf[256];
	int n =
	    snprintf(buf, sizeof(buf), "0 0 %llu 0 0 0 0 0 0 0 0\n", (unsigned long long)sectors);

	if (pwrite(fd, buf, (size_t)n, 0) != n || ftruncate(fd, n))
		perror("stat file");
}

/* One tick at the depth in use; @foreign bytes read by someone else meanwhile. */
static unsigned int tick(struct pace *p, struct job *j, uint64_t foreign)
{
	unsigned int d = p->depth;
	double busy = d < CONC ? d : CONC, lat = d > CONC ? LAT * d / CONC : LAT;
	struct engine_pace ep;
	uint64_t reads = (uint64_t)(bunch * busy / LAT * (double)TICK + 0.5);

	memset(&ep, 0, sizeof(ep));
	ep.ns = TICK;
	ep.reads = reads;
	ep.bytes = reads * 524288ULL;
	ep.lat_ns = (uint64_t)((double)reads * lat);
	ep.hist.n[lat_bin((uint64_t)lat)] = (uint32_t)reads;
	ep.hist.ns[lat_bin((uint64_t)lat)] = ep.lat_ns;
	ep.inflight_ns = (uint64_t)d * ep.ns;
	ep.limit = d;
	j->io_bytes += ep.bytes;
	sectors += (ep.bytes + foreign) / 512;
	if (p->yield && p->yields[0].fd >= 0) {
		write_stat(p->yields[0].fd);
		pace_look(p);
	}
	return pace_tick(&ep, j, 1, p);
}

static unsigned int run(struct pace *p, struct job *j, unsigned int n, uint64_t foreign)
{
	unsigned int d = p->depth;

	while (n--)
		d = tick(p, j, foreign);
	return d;
}

/* A pace that yields, watching the stand-in stat file. */
static void watched(struct pace *p, struct job *j, unsigned int depth, int fd)
{
	struct target t;

	memset(&t, 0, sizeof(t));
	memset(j, 0, sizeof(*j));
	j->nphases = 1;
	pace_init(p, depth, MAX, true, &t, 1);
	sectors = 1000;
	write_stat(fd);
	p->yields[0].fd = dup(fd); /* pace_free() closes it */
	yield_look(&p->yields[0]);
	p->yields[0].base = (int64_t)p->yields[0].sys_bytes;
}

int main(void)
{
	struct pace p;
	struct window w;
	struct job j;
	unsigned int d, cut, back;
	int fd;

	plan(17);
	memset(&w, 0, sizeof(w));
	memset(&j, 0, sizeof(j));
	w.nphases = 1;
	j.window = &w;
	j.nphases = 2;

	pace_init(&p, 0, MAX, false, NULL, 0);
	ok(p.depth == AUTO_START_DEPTH, "auto depth starts at %u (%u)", AUTO_START_DEPTH, p.depth);
	d = run(&p, &j, 100, 0);
	ok(d >= CONC && d <= CONC * 5 / 4 + 1,
	   "reading a priority window: the knee (%u), not the largest depth", d);
	pace_free(&p);

	pace_init(&p, 0, MAX, false, NULL, 0);
	pace_hint_latency(&p, (uint64_t)LAT);
	ok(p.depth == AUTO_START_DEPTH_HINTED, "the latency hinted: starts at %u (%u)",
	   AUTO_START_DEPTH_HINTED, p.depth);
	pace_free(&p);

	fd = mkstemp(statpath);
	if (fd < 0) {
		perror(statpath);
		return 1;
	}
	unlink(statpath);

	watched(&p, &j, 0, fd);
	d = run(&p, &j, 100, 0);
	ok(!p.yielding && p.yields[0].events == 0,
	   "alone: our own reads never count as others' (%u events)", p.yields[0].events);
	cut = run(&p, &j, 2, 8192);
	ok(p.yielding && cut == CUT,
	   "a QD1 reader's 8 KiB a tick: cut from %u to %u, less than the %u served", d, cut, CONC);
	cut = run(&p, &j, 40, 8192);
	ok(p.yielding && cut == CUT, "and held there while it reads (%u)", cut);
	back = run(&p, &j, 19, 0);
	ok(p.yielding, "still yielding just under a quiet second after (%u)", back);
	back = run(&p, &j, 2, 0);
	ok(!p.yielding && back >= CONC, "a quiet second after: back to %u", back);
	ok(p.yields[0].yielded_ns >= 2 * 1000000000ULL && p.yields[0].events == 1,
	   "yielded once, for %.2f s; others read %llu bytes", p.yields[0].yielded_ns / 1e9,
	   (unsigned long long)p.yields[0].others);
	ok(p.yields[0].others == 42 * 8192ULL, "others' bytes counted exactly (%llu)",
	   (unsigned long long)p.yields[0].others);
	pace_free(&p);

	/* Completions counted in bunches say 26 at once: the reads in flight still say 16. */
	watched(&p, &j, 0, fd);
	bunch = 26.0 / CONC;
	run(&p, &j, 100, 0);
	cut = run(&p, &j, 2, 8192);
	bunch = 1;
	ok(p.yielding && cut == CUT, "a rate misjudged as %.0f at once: still cut to %u",
	   p.ad.hold_rate / p.ad.bytes_per_read * p.ad.lat_floor / 1e9, cut);
	pace_free(&p);

	/*
	 * A knee judged from a bursty window (as a loaded CI machine saw) held
	 * 30 and says the volume serves 26: the cap's own windows show its
	 * reads waiting, and bring it to what 16 served allow.
	 */
	watched(&p, &j, 0, fd);
	run(&p, &j, 100, 0);
	p.ad.served = 26;
	p.ad.depth = 30;
	d = autodepth_served(&p.ad);
	cut = run(&p, &j, 2, 8192);
	back = run(&p, &j, 20, 8192);
	ok(cut == pace_yield_depth(26) && back == CUT,
	   "served misjudged as %u: cut to %u, then what the cap's windows show: %u", d, cut, back);
	back = run(&p, &j, 40, 8192);
	ok(p.yielding && back == CUT, "and held there, not walked down (%u)", back);
	pace_free(&p);

	/*
	 * Others come while a re-check probes: the cap's windows read at the
	 * cap say only the cap, and must not walk it down (CI saw 15 served
	 * come down to 2 over two seconds of a QD1 reader).
	 */
	watched(&p, &j, 0, fd);
	run(&p, &j, 100, 0);
	for (d = 0; d < 400 && p.ad.state == AD_HOLD; d++)
		run(&p, &j, 1, 0);
	cut = run(&p, &j, 2, 8192);
	for (d = 0, back = cut; d < 60; d++)
		if ((cut = run(&p, &j, 1, 8192)) < back)
			back = cut;
	ok(p.ad.state != AD_HOLD && back == CUT,
	   "others during a re-check: held at %u for three seconds (least %u)", cut, back);
	pace_free(&p);

	/* A priority window is the reader's prefetch: not cut while it is read, cut after. */
	watched(&p, &j, 0, fd);
	j.window = &w;
	j.nphases = 2;
	run(&p, &j, 60, 0);
	d = p.depth;
	cut = run(&p, &j, 10, 131072);
	ok(!p.yielding && cut >= d && p.yields[0].yielded_ns == 0,
	   "the model's reader while its window is read: not cut (%u, then %u)", d, cut);
	j.phase = 1;
	cut = run(&p, &j, 2, 131072);
	ok(p.yielding && cut == CUT, "the window read, the reader goes on: cut to %u", cut);
	pace_free(&p);

	watched(&p, &j, 24, fd);
	run(&p, &j, 10, 0);
	cut = run(&p, &j, 2, 4096);
	ok(cut == 1, "a fixed depth of 24 yields to one read (%u)", cut);
	pace_free(&p);
	close(fd);
	return exit_status();
}
