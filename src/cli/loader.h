/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * loader.c: one target's priority phases read as a loader reads them: the
 * window in loader order (io/window.h) following the reader through the page
 * cache, and --preload (io/preload.h); what they did, for the summaries.
 */
#ifndef BLKHYDRATE_LOADER_H
#define BLKHYDRATE_LOADER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "base/range.h"
#include "io/preload.h"
#include "io/window.h"
#include "plan/plan.h"

struct loader {
	bool active; /* the target has priority phases */
	struct window win;
	struct preload pre;
	const char **paths; /* the window's files, class by class (borrowed from the plan) */
	size_t npaths;
};

/*
 * Target @t's priority phases of @plan, less @prior (NULL: nothing read
 * before), cut at @block bytes. Dies when out of memory.
 */
void loader_setup(struct loader *l, const struct plan *plan, size_t t,
		  const struct rangelist *prior, uint64_t block, bool preload, uint64_t margin);

/* Preload what is warm, a step at a time; @all: until done or held by the margin. */
void loader_preload(struct loader *l, bool all);

void loader_free(struct loader *l);

/* One line on what the reader pulled in and what was preloaded. */
void loader_report(FILE *f, const char *target, struct loader *l);

/* ,"priority_order":...,"preload":{...} members of the JSON summary, all targets. */
void loader_json(FILE *f, struct loader *const *l, size_t n, bool preload, uint64_t margin);

#endif
