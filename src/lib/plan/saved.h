/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Saved plans: the priority extents of a file system, stored at image build
 * time ("plan --save") under the state directory, keyed by the file
 * system's UUID, so that a volume made from the image can be hydrated
 * priority first when it is attached, before anything mounts it.
 */
#ifndef BLKHYDRATE_SAVEDPLAN_H
#define BLKHYDRATE_SAVEDPLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "device/disk.h"
#include "plan/plan.h"

#define PLANS_SUBDIR "plans"

struct saved_class {
	char *pattern;
	bool recorded;			/* "blkhydrate record": files carry their stamps */
	struct plan_preset_file *files;	/* ranges relative to the file system's start */
	size_t nfiles;
};

struct saved_plan {
	char uuid[64];
	uint64_t fs_size;	/* of the file system's partition or disk, when saved */
	struct saved_class *classes;
	size_t nclasses;
};

/*
 * The priority classes of target @t of @p that lie in file system @fs, with
 * offsets made relative to its start. Returns 0 (sp->nclasses 0 when none
 * of the files is on it) or -ENOMEM.
 */
int saved_plan_from_plan(const struct plan *p, size_t t, const struct disk_fs *fs,
			 struct saved_plan *sp);

/*
 * As file text (malloc'd), format 2: format 1 (plan --save) plus recorded
 * classes ("recorded=" instead of "class=", a "stamp=" line per file).
 * Format 1 files are still read. Returns 0 or -ENOMEM.
 */
int saved_plan_format(const struct saved_plan *sp, char **text, size_t *len);

/* Parse file text. Returns 0, -ENOMEM, or -EBADMSG when it is not a whole, valid plan. */
int saved_plan_parse(const char *text, struct saved_plan *sp);

/* Store @sp as <state_dir>/plans/<uuid>.plan, atomically. Returns 0 or -errno. */
int saved_plan_save(const char *state_dir, const struct saved_plan *sp, char *path,
		    size_t pathlen);

/* Load the plan saved for @uuid. Returns 0, -ENOENT, -EBADMSG, or -errno. */
int saved_plan_load(const char *state_dir, const char *uuid, struct saved_plan *sp);

/*
 * Whether @sp still fits file system @fs on a disk of @disk_size bytes.
 * Returns 0, or -ESTALE with @why set: the UUID differs, or an extent lies
 * beyond the file system or the device.
 */
int saved_plan_check(const struct saved_plan *sp, const struct disk_fs *fs, uint64_t disk_size,
		     const char **why);

void saved_plan_free(struct saved_plan *sp);

/* The saved plans of a disk's file systems, as the first priority classes of its plan. */
struct saved_set {
	struct saved_plan saved[DISK_MAX_FS];
	uint64_t fs_offset[DISK_MAX_FS];	/* where each saved plan's file system starts */
	size_t nsaved;
	struct plan_preset *presets;
	size_t npresets;
};

/* What became of one file system's saved plan; the caller says it (or not). */
enum saved_event {
	SAVED_USED,	/* it will be read first */
	SAVED_BAD,	/* could not be read (@err; -EBADMSG: corrupt): ignored */
	SAVED_STALE,	/* no longer matches the file system (@why): ignored */
};

typedef void (*saved_note_fn)(void *arg, enum saved_event ev, const char *uuid, int err,
			      const char *why);

/*
 * Load the saved plans for the file systems in @c (on a disk of @size
 * bytes) from @state_dir into @set, with one @note for each found. Returns
 * 0 or -ENOMEM. saved_set_free() frees @set either way.
 */
int saved_set_load(struct saved_set *set, const char *state_dir, const struct disk_contents *c,
		   uint64_t size, saved_note_fn note, void *arg);
void saved_set_free(struct saved_set *set);

/* One file system's plan stored as @path (@err 0), or not (@err). */
typedef void (*saved_store_fn)(void *arg, const char *uuid, size_t files, const char *path,
			       int err);

/*
 * plan --save and record --save: one saved plan per file system with a
 * UUID that holds priority files of @plan, with one @done for each. A plan
 * saved before for the file system keeps the kind of classes @plan has none
 * of: a recording keeps the named classes, plan --save the recording.
 * Returns how many were saved, or -ENOMEM.
 */
int saved_plans_store(const char *state_dir, const struct plan *plan, saved_store_fn done,
		      void *arg);

#endif
