/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Volume identity: a name for what a target is, stable across device names,
 * so that progress saved for a volume is found again (and only for it) and
 * two runs on the same disk find each other.
 */
#ifndef BLKHYDRATE_VOLID_H
#define BLKHYDRATE_VOLID_H

#include <stddef.h>

#include "device/target.h"

#define VOLID_MAX 512

struct volid {
	char id[VOLID_MAX];	/* the volume: "wwid:...", "serial:...", "loop:...", "dev:8:16" */
	char disk[64];		/* the whole disk or file, for locking: "block-8:16", "file-2049-1234" */
};

/*
 * Identify @t. A block device is named by its whole disk's WWID or serial
 * from sysfs (a loop device by its backing file), else by device number,
 * with "-partN" for a partition; a file by device and inode. @sysfs is the
 * sysfs mount point ("/sys"). Returns 0 or -errno.
 */
int volid_get(const struct target *t, const char *sysfs, struct volid *v);

/* Copy @id into @out as a file name: anything but [A-Za-z0-9._:-] becomes '_'. */
void volid_filename(const char *id, char *out, size_t len);

#endif
