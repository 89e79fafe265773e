/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The plan: what to read, in what order. Priority classes first (one per
 * --priority path, in the order given), each the merged device extents of
 * its files; then the rest of each target (the whole device, or with --used
 * only the space its mounted file systems use), less what was read already.
 */
#ifndef BLKHYDRATE_PLAN_H
#define BLKHYDRATE_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "extent.h"
#include "range.h"
#include "target.h"

struct plan_file {
	char *path;
	size_t target;		/* index of the target holding it */
	int error;		/* 0, or why it cannot be read first (negative errno) */
	char *why;		/* the reason in words, when error */
	struct file_extents fx;
	struct rangelist ranges; /* target byte ranges */
	uint64_t through_read;	/* bytes read through the file (plan_read_through) */
};

struct plan_class {
	const char *pattern;
	int error;		/* the pattern itself failed: matches nothing, unreadable */
	struct plan_file *files;
	size_t nfiles;
};

struct plan_target {
	struct rangelist *phases; /* one per class, then the rest unless only_priority */
	size_t nphases;
	size_t npriority;	  /* leading phases that are priority classes */
	bool used;		  /* the rest is the used space only */
};

/*
 * A priority class placed already (a saved plan): each file's ranges plus
 * @shift are offsets on target @target. Preset classes come before the
 * --priority ones.
 */
struct plan_preset_file {
	char *path;
	struct rangelist ranges;
};

struct plan_preset {
	const char *pattern;
	size_t target;
	uint64_t shift;
	const struct plan_preset_file *files;
	size_t nfiles;
};

struct plan_opts {
	char *const *patterns;
	size_t npatterns;
	const struct plan_preset *presets;
	size_t npresets;
	bool used;
	bool only_priority;
};

struct plan {
	struct target *targets;
	size_t ntargets;
	struct plan_class *classes;
	size_t nclasses;
	struct plan_target *per;
	char **notes;		/* things the user should know: fallbacks, skips */
	size_t nnotes;
	unsigned int unmapped;	/* patterns matching nothing plus files refused */
};

/*
 * Build the plan for @targets (opened). Problems with single priority paths
 * are recorded in the plan (plan.unmapped, each file's why), not returned.
 * Returns 0 or -ENOMEM.
 */
int plan_build(struct plan *p, struct target *targets, size_t ntargets,
	       const struct plan_opts *o);
void plan_free(struct plan *p);

/* Bytes of phase @phase of target @t (clipped to the target size). */
uint64_t plan_phase_bytes(const struct plan *p, size_t t, size_t phase);

/*
 * Read, through the files themselves, the bytes FIEMAP could not place
 * (inline data, unknown extents). Returns the number of files that failed.
 */
unsigned int plan_read_through(struct plan *p);

#endif
