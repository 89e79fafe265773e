/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A target: the block device or disk image to hydrate, opened read-only.
 */
#ifndef BLKHYDRATE_TARGET_H
#define BLKHYDRATE_TARGET_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Reasons beyond errno that target_open() can return (negated). */
enum {
	TARGET_EDIR = 4096,	/* a directory */
	TARGET_ECHR,		/* a character device */
	TARGET_ETYPE,		/* a socket, fifo or other non-disk */
	TARGET_EEMPTY,		/* zero bytes long */
};

struct target {
	const char *path;
	int fd;
	uint64_t size;
	unsigned int align;	/* O_DIRECT alignment of offsets and lengths */
	bool blockdev;
	bool direct;		/* false: O_DIRECT refused, reads go through the page cache */
	dev_t id_dev;		/* identity: st_rdev for a device, st_dev for a file */
	ino_t id_ino;
};

/*
 * Open @path read-only for hydration, with O_DIRECT where the file system
 * takes it. Returns 0, -errno, or -TARGET_E*.
 */
int target_open(struct target *t, const char *path);
void target_close(struct target *t);

/* True when @a and @b are the same device or file. */
bool target_same(const struct target *a, const struct target *b);

/*
 * True when block device @t has left the system (its sysfs entry is gone):
 * a detach, seen even when no read has failed yet.
 */
bool target_gone(const struct target *t);

/* Text for a target_open() error: "is a directory", "No such file or directory". */
const char *target_strerror(int err);

#endif
