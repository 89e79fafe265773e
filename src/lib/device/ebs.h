/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What an EBS NVMe controller says about itself: the volume id hidden in
 * its serial, and the block-device-mapping name (/dev/sdf, xvdf) the volume
 * was attached as, from the vendor-specific area of the identify data.
 */
#ifndef BLKHYDRATE_NVMEID_H
#define BLKHYDRATE_NVMEID_H

#include <stddef.h>
#include <stdint.h>

#include "device/kind.h"

#define NVME_ID_CTRL_SIZE 4096
#define EBS_VS_BDEV_OFFSET 3072	/* vendor-specific area: the mapping name */
#define EBS_VS_BDEV_LEN 32

#define EBS_MODEL "Amazon Elastic Block Store"
#define EBS_INSTANCE_STORE_MODEL "Amazon EC2 NVMe Instance Storage"
#define EBS_PCI_VENDOR 0x1d0f

/* What a disk is from its model as sysfs gives it (padding and all). */
enum disk_kind ebs_kind(const char *model);

/* Cut trailing spaces (sysfs pads model and serial) in place; returns @s. */
char *trim_trailing_spaces(char *s);

/*
 * Turn an EBS serial ("vol0123abcd", space padded) into the volume id
 * ("vol-0123abcd"). Returns 0, or -EINVAL when it is not a volume serial.
 */
int ebs_volume_id(const char *serial, char *out, size_t outlen);

/*
 * The block-device-mapping name in identify-controller data @ctrl (@len
 * bytes, at least NVME_ID_CTRL_SIZE): space and NUL padding cut, a leading
 * "/dev/" dropped, as amazon-ec2-utils' ebsnvme-id prints it. Returns 0,
 * -ENODATA when the field is empty, -EINVAL when it holds a byte that is not
 * printable or @len is short, -ENOSPC when @out is too small.
 */
int ebs_bdev_name(const uint8_t *ctrl, size_t len, char *out, size_t outlen);

/*
 * Read the identify-controller data of the NVMe device open as @fd (a
 * namespace or the controller) with the admin identify command (needs
 * CAP_SYS_ADMIN). @buf holds NVME_ID_CTRL_SIZE bytes. Returns 0 or -errno;
 * -EIO when the controller answered with an error status.
 */
int nvme_identify_ctrl(int fd, uint8_t *buf);

#endif
