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

#include "device/extent.h"
#include "base/range.h"
#include "device/target.h"
#include "plan/order.h"

/* Who a file was when it was recorded: a changed file no longer matches. */
struct file_stamp {
	uint64_t ino;
	uint64_t size;
	int64_t mtime_ns;
};

struct plan_file {
	char *path;
	size_t target;		/* index of the target holding it */
	int error;		/* 0, or why it cannot be read first (negative errno) */
	char *why;		/* the reason in words, when error */
	struct file_extents fx;
	struct rangelist ranges; /* target byte ranges */
	struct order order;	/* the same, in the file's own order */
	uint64_t through_read;	/* bytes read through the file (plan_read_through) */
	struct file_stamp stamp; /* when it was placed (recorded classes keep it) */
};

struct plan_class {
	const char *pattern;
	int error;		/* the pattern itself failed: matches nothing, unreadable */
	bool recorded;		/* what a recording saw read, files in first-touched order */
	struct plan_file *files;
	size_t nfiles;
};

struct plan_target {
	struct rangelist *phases; /* one per class, then the rest unless only_priority */
	size_t nphases;
	size_t npriority;	  /* leading phases that are priority classes */
	struct order *orders;	  /* per priority phase: its ranges in loader order */
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
	struct file_stamp stamp; /* recorded classes: the file as it was recorded */
};

struct plan_preset {
	const char *pattern;
	bool recorded; /* a recording: its files are checked by their stamps */
	size_t target;
	uint64_t shift;
	const struct plan_preset_file *files;
	size_t nfiles;
};

/* Where the recorded classes go among the priority classes. */
enum recorded_order {
	RECORDED_FIRST, /* before the named priority paths (the default) */
	RECORDED_AFTER, /* after them */
	RECORDED_OFF,	/* not read first at all */
};

/* A file a recording saw read (record.c): its bytes in page cache, as file offsets. */
struct plan_recorded_file {
	const char *path;
	struct rangelist pages;
};

struct plan_opts {
	char *const *patterns;
	size_t npatterns;
	const struct plan_preset *presets;
	size_t npresets;
	const struct plan_recorded_file *recorded; /* "blkhydrate record": one class of these */
	size_t nrecorded;
	enum recorded_order recorded_order;
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
