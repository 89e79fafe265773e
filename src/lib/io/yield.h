/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Yielding to other readers: the device's own counters (sysfs stat) less our
 * own reads are someone else's I/O; while there is some, we slow down.
 *
 * The kernel counts a read's sectors when it completes, before io_uring
 * posts it to us: a completion counted there but not yet reaped here would
 * pass for someone else's read. So the counters are read first
 * (yield_look()), then every completion is reaped, then the two compared
 * (yield_update()): what we have reaped by then covers all of ours that the
 * counters held, and others' bytes so far are at least the difference. The
 * largest such lower bound only grows when someone else really moved bytes.
 */
#ifndef BLKHYDRATE_YIELD_H
#define BLKHYDRATE_YIELD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Someone else moved at least this many bytes since the last look: they are busy. */
#define YIELD_BUSY_BYTES 4096
/* Quiet this long before we speed up again. */
#define YIELD_RESUME_NS 1000000000ULL

struct yield {
	int fd;			/* the device's sysfs stat; -1: cannot watch */
	uint64_t sys_bytes;	/* device bytes read and written, at the last look */
	int64_t base;		/* sys_bytes when watching began: nothing of ours yet */
	int64_t theirs;		/* others' bytes since then, a lower bound */
	bool busy;
	uint64_t quiet_ns;	/* since the last busy look */
	unsigned int events;	/* times we began yielding */
	uint64_t yielded_ns;	/* time spent yielding (the pace counts it: it may not cut) */
	uint64_t others;	/* bytes of others seen */
};

/*
 * Watch block device @rdev, before any read of ours. Returns 0 or -errno
 * (-ENOENT: no sysfs stat).
 */
int yield_open(struct yield *y, dev_t rdev);
void yield_close(struct yield *y);

/* Bytes read and written by the device so far, from its stat. Returns 0 or -errno. */
int yield_read(const struct yield *y, uint64_t *bytes);

/* Read the device's counters now, before our completions are reaped. Returns 0 or -errno. */
int yield_look(struct yield *y);

/*
 * After reaping: @ns since the last update, we have had @ours bytes of the
 * device in all since watching began. Returns true while we should yield.
 */
bool yield_update(struct yield *y, uint64_t ns, uint64_t ours);

#endif
