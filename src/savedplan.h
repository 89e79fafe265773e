/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Saved plans: the priority extents of a file system, stored at image build
 * time ("plan --save") under the state directory, keyed by the file
 * system's UUID, so that a volume made from the image can be hydrated
 * priority first when it is attached, before anything mounts it.
 */
#ifndef BLKHYDRATE_SAVEDPLAN_H
#define BLKHYDRATE_SAVEDPLAN_H

#include <stddef.h>
#include <stdint.h>

#include "discover.h"
#include "plan.h"

#define PLANS_SUBDIR "plans"

struct saved_class {
	char *pattern;
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

/* As file text (malloc'd). Returns 0 or -ENOMEM. */
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

#endif
