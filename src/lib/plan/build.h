/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The plan builder's insides, shared by plan.c and record.c (the recorded
 * classes): not for the layers above.
 */
#ifndef BLKHYDRATE_PLAN_BUILD_H
#define BLKHYDRATE_PLAN_BUILD_H

#include <stdbool.h>
#include <sys/types.h>

#include "plan/plan.h"

struct btrfs_map;

/* One btrfs chunk map per file system, loaded on first use. */
struct btrfs_cache {
	dev_t fsid; /* st_dev of files on it (an anonymous device) */
	struct btrfs_map *map;
	dev_t dev; /* its one block device */
	int error;
	const char *why;
};

struct build {
	struct plan *p;
	const struct plan_opts *o;
	struct btrfs_cache *btrfs;
	size_t nbtrfs;
	bool fs_known; /* @fs_dev and @fs_btrfs say the last file's file system */
	dev_t fs_dev;
	bool fs_btrfs;
};

/* A line for plan.notes. Returns 0 or -ENOMEM. */
int plan_note(struct plan *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Map file @f (its bytes @part, file offsets; NULL: all of it) onto the
 * target holding it, or refuse it with a reason. Returns 0 (also when
 * refused) or -ENOMEM.
 */
int plan_place_file(struct build *b, struct plan_file *f, const struct rangelist *part);

/* Whether the directory that holds (held) @path is on target @t: its file system is here. */
bool plan_parent_on_target(const struct plan *p, size_t t, const char *path);

/* @f, which cannot be seen from here, is read where @saved says. Returns 0 or -ENOMEM. */
int plan_trust_saved(struct plan_file *f, size_t target, const struct rangelist *saved);

/* record.c: the recorded classes */

/* The class of the files "blkhydrate record" saw read (@b->o->recorded). */
int record_build_class(struct build *b, struct plan_class *c);

/*
 * A file of a saved recorded class: read where it was recorded while its
 * stamp matches (or it cannot be seen), where it now lives once it has
 * changed, not at all once it is gone. Returns 0 or -ENOMEM.
 */
int record_place_saved(struct build *b, struct plan_file *f, const struct plan_preset *ps,
		       const struct plan_preset_file *pf, const struct rangelist *saved);

#endif
