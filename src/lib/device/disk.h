/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Discovery: the whole disks libudev knows, what kind of cloud volume each
 * is (EBS, instance store, other), and what libblkid finds on it (partition
 * table, file systems, UUIDs), which is what the hydrate-or-skip decision
 * and saved plans are made from.
 */
#ifndef BLKHYDRATE_DISCOVER_H
#define BLKHYDRATE_DISCOVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "device/kind.h"

struct target;
struct udev;
struct udev_device;

#define DISK_MAX_FS 16

/* A file system found on the disk: on the whole of it, or in a partition. */
struct disk_fs {
	char type[32];
	char uuid[64];
	char label[64];
	uint64_t offset;	/* where it starts on the disk */
	uint64_t size;		/* bytes of its partition, or of the disk */
	unsigned int partno;	/* 0: the whole disk */
};

struct disk_contents {
	enum disk_content found;
	int error;		/* negative errno when result is CONTENT_FAILED */
	char pttype[32];
	char ptuuid[64];
	struct disk_fs fs[DISK_MAX_FS];
	size_t nfs;
};

struct disk_info {
	char name[64];		/* kernel name: nvme1n1 */
	char devnode[96];	/* /dev/nvme1n1 */
	uint64_t size;
	char vendor[64];
	char model[128];
	char serial[128];
	enum disk_kind kind;
	char volume_id[64];	/* EBS: vol-0123... */
	char ebs_name[40];	/* EBS: the block-device mapping name (sdf), when readable */
	int ebs_name_error;	/* why not, negative errno; 0 when read */
	char identity[160];	/* ledger key: volume id, serial, or uuid:...; "" when none */
	struct disk_contents contents;
};

/*
 * Probe @devnode with libblkid: a partition table, a file system on the
 * whole disk, and one in each partition. Never fails as a whole: a device
 * that cannot be opened or probed gives CONTENT_FAILED with the error.
 */
void disk_read_contents(const char *devnode, struct disk_contents *p);

/*
 * Fill @di from udev device @d (a whole disk): sysfs attributes, the EBS
 * identity (with the NVMe identify command when @identify), and a libblkid
 * probe. Returns 0 or -errno (-ENODEV: it has no device node).
 */
int disk_info_from_udev(struct udev_device *d, bool identify, struct disk_info *di);

/* A udev property of @d (a property_fn for policy_match), or NULL. */
const char *disk_property(const char *name, void *d);

/* The ledger key from what is known: volume id, else serial, else a UUID. */
void disk_identity(struct disk_info *di);

/*
 * The udev device of the whole disk @path: from the event's environment
 * when @from_event and it names @path, else udev's database. Returns 0, or
 * -errno with @why saying what is wrong in words (not a block device, not a
 * whole disk, unknown to udev).
 */
int disk_find(struct udev *udev, const char *path, bool from_event, struct udev_device **d,
	      char *why, size_t whylen);

/*
 * The identity and contents of an open target: through udev for a block
 * device, libblkid alone for an image (or a device udev does not know).
 */
void disk_info_of_target(const struct target *t, struct disk_info *di);

/*
 * Call @cb for every whole disk with a non-zero size, in udev's order.
 * Returns 0, the first non-zero return of @cb, or -errno.
 */
int discover_disks(int (*cb)(struct udev_device *d, void *arg), void *arg);

#endif
