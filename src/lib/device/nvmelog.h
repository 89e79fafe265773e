/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * NVMe Get Log Page over the kernel's admin passthrough ioctl.
 */
#ifndef BLKHYDRATE_NVMELOG_H
#define BLKHYDRATE_NVMELOG_H

#include <stdint.h>

/*
 * Read @len bytes (a multiple of 4) of log page @lid of namespace @nsid
 * through @fd, an NVMe namespace or controller. Returns 0, -errno (-ENOTTY:
 * not NVMe), or -EIO when the controller refused the command.
 */
int nvme_get_log_page(int fd, uint8_t lid, uint32_t nsid, void *buf, uint32_t len);

#endif
