/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Btrfs address translation. FIEMAP on btrfs reports fe_physical as a btrfs
 * logical address, which the chunk tree maps to device offsets; this module
 * loads that mapping for a mounted single-device btrfs and turns logical
 * ranges into the device byte ranges that hold them, so that a plan built
 * from a file's extents reads the right bytes of the right device.
 */
#ifndef BLKHYDRATE_BTRFS_H
#define BLKHYDRATE_BTRFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/range.h"

/* Copies of a byte that the supported profiles keep: one for SINGLE, two for DUP. */
#define BTRFS_MAP_MAX_COPIES 2

/* One chunk, reduced to what mapping needs. */
struct btrfs_map_chunk {
	uint64_t logical;	/* first logical byte: the CHUNK_ITEM key offset */
	uint64_t length;
	uint64_t type;		/* BTRFS_BLOCK_GROUP_* flags */
	uint16_t num_stripes;
	uint64_t physical[BTRFS_MAP_MAX_COPIES]; /* device offsets of the first stripes */
};

/* The chunk mapping of one btrfs: a snapshot of its chunk tree. */
struct btrfs_map;

/* True when @fd is on a btrfs (fstatfs f_type is BTRFS_SUPER_MAGIC). */
bool btrfs_is_btrfs(int fd);

/*
 * Load the chunk mapping of the btrfs holding @fd (any file or directory on
 * it) and the dev_t of its one device into @dev. Returns 0; -ENOTSUP with
 * @why set when the file system is not one we can map (several devices, a
 * seed device, a device this system cannot name, ...); -EPERM without
 * CAP_SYS_ADMIN, which the chunk tree search needs; or -errno. @why may be NULL.
 */
int btrfs_map_load(int fd, struct btrfs_map **map, dev_t *dev, const char **why);

/*
 * Build a mapping from a table of @n chunks in any order, as btrfs_map_load()
 * does from the chunk tree; unit tests start here. Returns 0, -EUCLEAN when
 * the table is inconsistent (empty or overflowing chunks, overlaps, a stripe
 * count that does not fit the profile) or -ENOMEM.
 */
int btrfs_map_from_chunks(const struct btrfs_map_chunk *chunks, size_t n, struct btrfs_map **map);

/*
 * Append to @out the device ranges holding logical [@logical, @logical + @len):
 * chunk by chunk in logical order, one range per copy (btrfs may read either
 * DUP copy, so hydration reads both). Returns 0, -ENOENT when part of the
 * range lies in no chunk, -ENOTSUP with @why set when it lies in a chunk of a
 * striped or mirrored profile, -ERANGE on overflow, or -ENOMEM. On error @out
 * is as it was. @why may be NULL.
 */
int btrfs_map_range(const struct btrfs_map *map, uint64_t logical, uint64_t len,
		    struct rangelist *out, const char **why);

void btrfs_map_free(struct btrfs_map *map);

#endif
