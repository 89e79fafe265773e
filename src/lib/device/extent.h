/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Where a file's bytes are on its file system's device, from FIEMAP.
 */
#ifndef BLKHYDRATE_EXTENT_H
#define BLKHYDRATE_EXTENT_H

#include <stdint.h>

#include "base/range.h"

/* One extent with data on the device, in the file's own order. */
struct extent_seq {
	uint64_t logical;	/* file offset */
	uint64_t physical;	/* device (or, on btrfs, logical) offset */
	uint64_t len;
};

struct file_extents {
	struct rangelist phys;	  /* device (or, on btrfs, logical) byte ranges to read */
	struct rangelist through; /* file offsets to read through the file instead */
	struct extent_seq *seq;	  /* @phys in file order, unmerged: how a loader reads it */
	size_t nseq;
	uint64_t size;		  /* file size */
	unsigned int extents;	  /* extents FIEMAP reported */
	unsigned int unwritten;	  /* preallocated, reads as zeros: nothing to fetch */
	uint64_t unwritten_bytes;
	unsigned int shared;	  /* shared with other files (reflinks, snapshots) */
	unsigned int encoded;	  /* compressed or encrypted: the on-disk range is read */
	unsigned int inline_data; /* inline, tail-packed, unknown or delalloc: read through the file */
};

void file_extents_init(struct file_extents *fx);
void file_extents_free(struct file_extents *fx);

/* Drop @phys and @seq once planned from (40 bytes an extent); the rest stays. */
void file_extents_release_maps(struct file_extents *fx);

/*
 * Map the open file @fd with FIEMAP (FIEMAP_FLAG_SYNC first, so delayed
 * allocation is resolved). Returns 0, -EOPNOTSUPP when the file system has no
 * FIEMAP, or -errno.
 */
int file_extents_map(int fd, struct file_extents *fx);

/*
 * As file_extents_map(), for the file bytes in @part (file offsets) only:
 * the bytes a recording saw read. @part NULL: the whole file.
 */
int file_extents_map_part(int fd, struct file_extents *fx, const struct rangelist *part);

/* As file_extents_map_part(), the file's @size known already (its fstat saved). */
int file_extents_map_sized(int fd, uint64_t size, struct file_extents *fx,
			   const struct rangelist *part);

#endif
