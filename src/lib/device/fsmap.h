/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Free space of a mounted file system, from FS_IOC_GETFSMAP: what --used
 * leaves out.
 */
#ifndef BLKHYDRATE_FSMAP_H
#define BLKHYDRATE_FSMAP_H

#include <sys/types.h>

#include "base/range.h"

/*
 * Append the free space of the file system mounted at @dir, on device @dev,
 * as byte ranges of that device. Returns 0, -EOPNOTSUPP when the file system
 * has no GETFSMAP (btrfs, tmpfs...), or -errno.
 */
int fsmap_free_space(const char *dir, dev_t dev, struct rangelist *out);

#endif
