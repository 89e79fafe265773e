/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Watching a block device for other users. /sys/dev/block/MAJ:MIN/stat
 * counts sectors read (field 3) and written (field 7) by everyone; we know
 * how many bytes the device moved for us, so the difference is the others'.
 * Our writes are none: anything written is someone else. A QD1 reader of
 * 4 KiB moves a few KiB a look, so any such difference counts (yield.h says
 * how our own completions are kept out of it).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "io/yield.h"

int yield_open(struct yield *y, dev_t rdev)
{
	char path[64];
	int rc;

	memset(y, 0, sizeof(*y));
	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/stat", major(rdev), minor(rdev));
	y->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (y->fd < 0)
		return -errno;
	rc = yield_look(y);
	if (rc) {
		yield_close(y);
		return rc;
	}
	y->base = (int64_t)y->sys_bytes;
	return 0;
}

void yield_close(struct yield *y)
{
	if (y->fd >= 0)
		close(y->fd);
	y->fd = -1;
}

int yield_read(const struct yield *y, uint64_t *bytes)
{
	unsigned long long f[7];
	char buf[256];
	ssize_t n;

	if (y->fd < 0)
		return -EBADF;
	n = pread(y->fd, buf, sizeof(buf) - 1, 0);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	if (sscanf(buf, "%llu %llu %llu %llu %llu %llu %llu", &f[0], &f[1], &f[2], &f[3], &f[4],
		   &f[5], &f[6]) != 7)
		return -EINVAL;
	*bytes = (f[2] + f[6]) * 512;
	return 0;
}

int yield_look(struct yield *y)
{
	return yield_read(y, &y->sys_bytes);
}

bool yield_update(struct yield *y, uint64_t ns, uint64_t ours)
{
	int64_t theirs = (int64_t)y->sys_bytes - y->base - (int64_t)ours;
	uint64_t more = 0;

	if (theirs > y->theirs) {
		more = (uint64_t)(theirs - y->theirs);
		y->theirs = theirs;
		y->others += more;
	}
	if (more >= YIELD_BUSY_BYTES) {
		if (!y->busy)
			y->events++;
		y->busy = true;
		y->quiet_ns = 0;
	} else if (y->busy) {
		y->quiet_ns += ns;
		if (y->quiet_ns >= YIELD_RESUME_NS)
			y->busy = false;
	}
	return y->busy;
}
