/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Devices, partitions and mounts, from sysfs and /proc/self/mountinfo: where
 * a file system's device lies on a target, and what is mounted from it.
 */
#ifndef BLKHYDRATE_DEVMAP_H
#define BLKHYDRATE_DEVMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Where @dev starts on @disk in bytes: 0 when it is @disk, the partition's
 * start when it is a partition of @disk. Returns 0, or -EXDEV when @dev is
 * not on @disk.
 */
int devmap_offset(dev_t dev, dev_t disk, uint64_t *offset);

/* "/dev/NAME" of a block device from sysfs, or "MAJ:MIN" when unknown. */
void devmap_name(dev_t dev, char *buf, size_t len);

struct mountpoint {
	dev_t dev;
	char *dir;
	char *fstype;
};

struct mountlist {
	struct mountpoint *v;
	size_t n;
};

/* File systems mounted from @disk or one of its partitions (first mount of each). */
int devmap_mounts(dev_t disk, struct mountlist *out);

/*
 * As devmap_mounts(), and with @by_source also the file systems whose mount
 * source is a device node on @disk: btrfs, whose mounts carry an anonymous
 * device number.
 */
int devmap_mounts_of(dev_t disk, bool by_source, struct mountlist *out);
void mountlist_free(struct mountlist *ml);

#endif
