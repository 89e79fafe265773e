/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * FIEMAP, with every extent flag handled on purpose:
 *  - plain, shared, not-aligned, encoded and encrypted extents have real
 *    on-disk bytes: their physical range is read (for encoded extents the
 *    range may be longer than the bytes on disk; reading more only warms more);
 *  - unwritten (preallocated) extents read as zeros without touching the
 *    disk, so there is nothing to fetch;
 *  - inline and tail-packed data live inside metadata blocks, and unknown
 *    or still-delayed extents have no address yet: those bytes are read
 *    through the file instead.
 * Shared extents need no care here: the plan merges ranges, so a block
 * shared by two files is read once.
 */
#include "config.h"

#include <errno.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "base/value.h"
#include "device/extent.h"

#define FIEMAP_BATCH 256

void file_extents_init(struct file_extents *fx)
{
	memset(fx, 0, sizeof(*fx));
	rangelist_init(&fx->phys);
	rangelist_init(&fx->through);
}

void file_extents_free(struct file_extents *fx)
{
	rangelist_free(&fx->phys);
	rangelist_free(&fx->through);
	free(fx->seq);
	fx->seq = NULL;
	fx->nseq = 0;
}

void file_extents_release_maps(struct file_extents *fx)
{
	rangelist_free(&fx->phys);
	free(fx->seq);
	fx->seq = NULL;
	fx->nseq = 0;
}

/*
 * One extent, cut to the file bytes [@ws, @we) asked for. An encoded
 * (compressed) extent is not linear: its whole on-disk range is kept.
 */
static int add_extent(struct file_extents *fx, const struct fiemap_extent *fe, uint64_t ws,
		      uint64_t we)
{
	const uint32_t through = FIEMAP_EXTENT_UNKNOWN | FIEMAP_EXTENT_DELALLOC |
				 FIEMAP_EXTENT_DATA_INLINE | FIEMAP_EXTENT_DATA_TAIL;
	const uint32_t encoded = FIEMAP_EXTENT_ENCODED | FIEMAP_EXTENT_DATA_ENCRYPTED;
	uint64_t logical = fe->fe_logical, phys = fe->fe_physical, len = fe->fe_length;

	if (!(fe->fe_flags & encoded)) {
		uint64_t s = logical > ws ? logical : ws;
		uint64_t e = logical + len < we ? logical + len : we;

		if (e <= s)
			return 0;
		phys += s - logical;
		len = e - s;
		logical = s;
	}

	fx->extents++;
	/* The last extent may run past the end of the file; its block is still read. */
	if (fe->fe_flags & FIEMAP_EXTENT_SHARED)
		fx->shared++;
	if (fe->fe_flags & FIEMAP_EXTENT_UNWRITTEN) {
		fx->unwritten++;
		fx->unwritten_bytes += len;
		return 0;
	}
	if (fe->fe_flags & through) {
		fx->inline_data++;
		return rangelist_add(&fx->through, logical, len);
	}
	if (fe->fe_flags & encoded)
		fx->encoded++;
	if (len && ARRAY_GROW(fx->seq, fx->nseq, NULL))
		return -ENOMEM;
	if (len)
		fx->seq[fx->nseq++] = (struct extent_seq){logical, phys, len};
	return rangelist_add(&fx->phys, phys, len);
}

/* The extents of file bytes [@start, @we) into @fx, batch by batch. */
static int map_window(int fd, struct fiemap *fm, struct file_extents *fx, uint64_t start,
		      uint64_t we, uint32_t *flags)
{
	uint64_t ws = start, end = we < fx->size ? we : fx->size;
	bool last = false;
	int rc;

	while (!last && start < end) {
		uint32_t i;

		memset(fm, 0, sizeof(*fm));
		fm->fm_start = start;
		fm->fm_length = end - start;
		fm->fm_flags = *flags;
		fm->fm_extent_count = FIEMAP_BATCH;
		if (ioctl(fd, FS_IOC_FIEMAP, fm) < 0)
			return errno == ENOTTY || errno == EINVAL ? -EOPNOTSUPP : -errno;
		/* One sync is enough: later batches see the allocated extents. */
		*flags = 0;
		if (!fm->fm_mapped_extents)
			break;
		for (i = 0; i < fm->fm_mapped_extents; i++) {
			const struct fiemap_extent *fe = &fm->fm_extents[i];

			rc = add_extent(fx, fe, ws, we);
			if (rc)
				return rc;
			start = fe->fe_logical + fe->fe_length;
			last = fe->fe_flags & FIEMAP_EXTENT_LAST;
		}
	}
	return 0;
}

int file_extents_map_part(int fd, struct file_extents *fx, const struct rangelist *part)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	return file_extents_map_sized(fd, (uint64_t)st.st_size, fx, part);
}

int file_extents_map_sized(int fd, uint64_t size, struct file_extents *fx,
			   const struct rangelist *part)
{
	struct fiemap *fm;
	uint32_t flags = FIEMAP_FLAG_SYNC;
	size_t i;
	int rc = 0;

	fx->size = size;
	fm = calloc(1, sizeof(*fm) + FIEMAP_BATCH * sizeof(struct fiemap_extent));
	if (!fm)
		return -ENOMEM;
	if (!part)
		rc = map_window(fd, fm, fx, 0, FIEMAP_MAX_OFFSET, &flags);
	for (i = 0; part && i < part->n && !rc; i++)
		rc =
		    map_window(fd, fm, fx, part->v[i].off, part->v[i].off + part->v[i].len, &flags);
	free(fm);
	rangelist_normalize(&fx->phys);
	rangelist_normalize(&fx->through);
	return rc;
}

int file_extents_map(int fd, struct file_extents *fx)
{
	return file_extents_map_part(fd, fx, NULL);
}
