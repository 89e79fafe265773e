/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * GETFSMAP walks the file system's own space map (ext4's bitmaps, XFS's
 * free-space and reverse-mapping btrees). Only space it calls free is left
 * out of a --used plan; anything it does not account for is still read,
 * so a gap in its answer costs time, never data.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fsmap.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "device/fsmap.h"

#define FSMAP_BATCH 512

int fsmap_free_space(const char *dir, dev_t dev, struct rangelist *out)
{
	struct fsmap_head *head;
	int fd, rc = 0;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	head = calloc(1, fsmap_sizeof(FSMAP_BATCH));
	if (!head) {
		close(fd);
		return -ENOMEM;
	}
	head->fmh_count = FSMAP_BATCH;
	head->fmh_keys[1].fmr_device = UINT32_MAX;
	head->fmh_keys[1].fmr_physical = UINT64_MAX;
	head->fmh_keys[1].fmr_owner = UINT64_MAX;
	head->fmh_keys[1].fmr_offset = UINT64_MAX;
	head->fmh_keys[1].fmr_flags = UINT32_MAX;
	for (;;) {
		struct fsmap *last;
		unsigned int i;

		if (ioctl(fd, FS_IOC_GETFSMAP, head) < 0) {
			rc = errno == ENOTTY || errno == EINVAL ? -EOPNOTSUPP : -errno;
			break;
		}
		if (!head->fmh_entries)
			break;
		for (i = 0; i < head->fmh_entries; i++) {
			const struct fsmap *r = &head->fmh_recs[i];

			/* Records of an external log or realtime device are not ours. */
			if (r->fmr_device != (uint32_t)makedev(major(dev), minor(dev)))
				continue;
			if ((r->fmr_flags & FMR_OF_SPECIAL_OWNER) && r->fmr_owner == FMR_OWN_FREE) {
				rc = rangelist_add(out, r->fmr_physical, r->fmr_length);
				if (rc)
					goto done;
			}
		}
		last = &head->fmh_recs[head->fmh_entries - 1];
		if (last->fmr_flags & FMR_OF_LAST)
			break;
		fsmap_advance(head);
	}
done:
	free(head);
	close(fd);
	rangelist_normalize(out);
	return rc;
}
