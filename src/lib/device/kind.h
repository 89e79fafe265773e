/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The two facts discovery learns about a disk that the hydrate-or-skip
 * decision (policy/decide.h) is made from: what kind of volume it is, and
 * whether libblkid finds anything on it.
 */
#ifndef BLKHYDRATE_KIND_H
#define BLKHYDRATE_KIND_H

enum disk_kind {
	KIND_OTHER,	     /* not a cloud volume we know */
	KIND_EBS,	     /* Amazon Elastic Block Store (NVMe) */
	KIND_INSTANCE_STORE, /* Amazon EC2 NVMe Instance Storage: local, never from a snapshot */
};

enum disk_content {
	CONTENT_EMPTY,	/* libblkid found nothing: a new, empty volume */
	CONTENT_DATA,	/* a partition table or a file system */
	CONTENT_FAILED, /* could not be read or probed */
};

#endif
