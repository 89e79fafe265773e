/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Yielding to the application: the device's own counters (sysfs stat) less
 * our own reads are someone else's I/O; while there is some, we slow down.
 */
#ifndef BLKHYDRATE_YIELD_H
#define BLKHYDRATE_YIELD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Someone else moved this many bytes in one look: they are busy. */
#define YIELD_BUSY_BYTES (1024 * 1024)
/* Quiet this long before we speed up again. */
#define YIELD_RESUME_NS 1000000000ULL

struct yield {
	int fd;			/* the device's sysfs stat; -1: cannot watch */
	bool primed;
	uint64_t sys_bytes;	/* device bytes read and written at the last look */
	uint64_t ours;		/* our bytes at the last look */
	bool busy;
	uint64_t quiet_ns;	/* since the last busy look */
	unsigned int events;	/* times we began yielding */
	uint64_t yielded_ns;	/* time spent yielding */
	uint64_t others;	/* bytes of others seen */
};

/* Watch block device @rdev. Returns 0 or -errno (-ENOENT: no sysfs stat). */
int yield_open(struct yield *y, dev_t rdev);
void yield_close(struct yield *y);

/* Bytes read and written by the device so far, from its stat. Returns 0 or -errno. */
int yield_read(const struct yield *y, uint64_t *bytes);

/*
 * One look, @ns after the last: the device has moved @sys_bytes in all, we
 * have read @ours in all. Returns true while we should yield.
 */
bool yield_update(struct yield *y, uint64_t ns, uint64_t sys_bytes, uint64_t ours);

#endif
