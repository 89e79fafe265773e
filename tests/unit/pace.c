/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Description: no ramp while a priority window is read. With auto depth,
 * the pace answers the largest depth for every tick while a job reads a
 * phase of its window, whatever the controller would say; without a window
 * the controller starts shallow and ramps.
 */
#include "config.h"

#include <string.h>

#include "io/pace.h"
#include "../lib/tap.h"

#define MAX 112

static unsigned int ticks(struct pace *p, struct job *j, unsigned int n)
{
	struct engine_pace ep;
	unsigned int i, lowest = MAX + 1, d;

	for (i = 0; i < n; i++) {
		memset(&ep, 0, sizeof(ep));
		ep.ns = 50000000ULL;
		ep.reads = 40;
		ep.bytes = 40 * 524288ULL;
		ep.lat_ns = 40 * 20000000ULL;
		ep.inflight_ns = (uint64_t)p->depth * ep.ns;
		ep.limit = p->depth;
		d = pace_tick(&ep, j, 1, p);
		if (d < lowest)
			lowest = d;
	}
	return lowest;
}

int main(void)
{
	struct pace p;
	struct window w;
	struct job j;

	plan(2);
	memset(&w, 0, sizeof(w));
	memset(&j, 0, sizeof(j));
	w.nphases = 1;
	j.window = &w;
	j.nphases = 2;

	pace_init(&p, 0, MAX, false, NULL, 0);
	ok(ticks(&p, &j, 20) == MAX, "in the window: full depth at every tick");
	pace_free(&p);

	j.window = NULL;
	j.phase = 0;
	pace_init(&p, 0, MAX, false, NULL, 0);
	ok(ticks(&p, &j, 1) < MAX, "without a window the controller starts shallow");
	pace_free(&p);
	return exit_status();
}
