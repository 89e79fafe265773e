/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The priority files of one target, watched in the page cache: their window
 * (io/window.h) asks here whether a reader has a block's pages cached
 * already, and tells here when a file is warm. With --preload a warm file is
 * then read into the page cache (readahead), a step at a time between the
 * engine's reads, while MemAvailable stays above the margin, so that a model
 * server's first load comes from memory.
 */
#ifndef BLKHYDRATE_PRELOAD_H
#define BLKHYDRATE_PRELOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "device/resident.h"
#include "io/window.h"

#define PRELOAD_STEP (16ULL * 1024 * 1024) /* bytes asked for per step */

struct preload_file {
	const char *path; /* borrowed */
	struct resident_file rf;
	int error;	   /* could not be opened: not watched, not preloaded */
	bool warm;	   /* every block read */
	uint64_t pos;	   /* preloaded up to here */
	uint64_t resident; /* bytes in the page cache when last counted */
};

struct preload {
	struct preload_file *v;
	size_t n;
	bool enabled;	     /* --preload */
	uint64_t margin;     /* MemAvailable kept free */
	const char *meminfo; /* /proc/meminfo; tests point it elsewhere */
	size_t *queue;	     /* warm files in the order they became warm */
	size_t nqueue, head;
	uint64_t bytes; /* asked to be read into the page cache */
	bool held;	/* stopped at least once by the margin */
	int error;	/* first readahead error, or 0 */
};

/* Watch @paths (borrowed); preload when @enabled. Returns 0 or -ENOMEM. */
int preload_init(struct preload *p, const char *const *paths, size_t n, bool enabled,
		 uint64_t margin);
void preload_free(struct preload *p);

/* The window's hooks: residency and warm files, answered from @p. */
void preload_window_ops(struct preload *p, struct window_ops *ops);

/*
 * Ask for at most @budget bytes of the warm files not preloaded yet, while
 * MemAvailable leaves the margin. Returns 1 while there is more to do, 0 when
 * all warm files are in (or the margin holds), or -errno.
 */
int preload_step(struct preload *p, uint64_t budget);

/* Count each file's bytes in the page cache now, for the report. */
void preload_count(struct preload *p);

#endif
