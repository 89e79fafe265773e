/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Checkpoints: what of a volume has been read, saved in a small state file
 * per volume identity so that an interrupted hydration (signal, crash,
 * reboot) resumes with only what is left.
 */
#ifndef BLKHYDRATE_CHECKPOINT_H
#define BLKHYDRATE_CHECKPOINT_H

#include <stdint.h>

#include "io/fault.h"
#include "base/range.h"

/* Why a state file was not used (beyond errno). */
enum {
	CHECKPOINT_ECORRUPT = 4200,	/* not a state file, truncated, or checksum wrong */
	CHECKPOINT_EOTHER,		/* written for another volume (identity or size) */
};

/* The state file of volume @id under @dir, in @out. Returns 0 or -ENAMETOOLONG. */
int checkpoint_path(const char *dir, const char *id, char *out, size_t len);

/*
 * Save that @a and @b (either may be NULL) were read of volume @id of @size
 * bytes, and that @bad (may be NULL) could not be, atomically: a temporary
 * file, fsync, rename, fsync of @dir. Creates @dir. Returns 0 or -errno.
 */
int checkpoint_save(const char *dir, const char *id, uint64_t size, const struct rangelist *a,
		    const struct rangelist *b, const struct badlist *bad);

/*
 * Load what was read of volume @id of @size bytes into @read (sorted, apart,
 * inside the volume) and, when @bad is not NULL, the ranges that could not
 * be read (for status). Returns 0, -ENOENT when there is no state file,
 * -CHECKPOINT_ECORRUPT, -CHECKPOINT_EOTHER, or -errno.
 */
int checkpoint_load(const char *dir, const char *id, uint64_t size, struct rangelist *read,
		    struct badlist *bad);

/* Parse state file text; what checkpoint_load() does after reading the file. */
int checkpoint_parse(const char *text, size_t len, const char *id, uint64_t size,
		     struct rangelist *read, struct badlist *bad);

/* Remove the state file of @id: the volume is fully read. Returns 0 or -errno. */
int checkpoint_remove(const char *dir, const char *id);

/* Text for a checkpoint_load() error. */
const char *checkpoint_strerror(int err);

#endif
