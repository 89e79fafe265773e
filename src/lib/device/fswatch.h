/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Which files of a disk's mounted file systems are opened, in the order of
 * their first open: fanotify, for "blkhydrate record".
 */
#ifndef BLKHYDRATE_FSWATCH_H
#define BLKHYDRATE_FSWATCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct fswatch_file {
	char *path; /* as it was opened (the first of its names seen) */
	dev_t dev;
	ino_t ino;
	uint64_t first_ns; /* first open, from fswatch_start() (CLOCK_MONOTONIC) */
};

struct fswatch {
	int fd; /* the fanotify group */
	uint64_t t0_ns;
	size_t max_files;	/* stop noting new files past this many (0: no limit) */
	struct fswatch_file *v; /* in first-open order */
	size_t n;
	size_t *slot; /* hash of (dev, ino) -> index + 1 */
	size_t nslot;
	unsigned int marks; /* file systems watched */
	uint64_t dropped;   /* files past max_files, or events the kernel lost */
};

/*
 * Watch opens of regular files on every file system mounted from @disk or
 * its partitions (a whole file system each: FAN_MARK_FILESYSTEM, else the
 * mount). Returns 0, -ENOENT when nothing of @disk is mounted, -EPERM
 * without CAP_SYS_ADMIN, or -errno.
 */
int fswatch_start(struct fswatch *w, dev_t disk, size_t max_files);

/* Take the events waiting on w->fd (non-blocking). Returns 0 or -ENOMEM. */
int fswatch_drain(struct fswatch *w);

/* Stop watching; the files noted stay. */
void fswatch_stop(struct fswatch *w);
void fswatch_free(struct fswatch *w);

#endif
