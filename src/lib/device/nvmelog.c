/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * NVMe Get Log Page (admin opcode 0x02). The number of dwords minus one is
 * split over CDW10 (low 16 bits, above the log id) and CDW11.
 */
#include "config.h"

#include <errno.h>
#include <linux/nvme_ioctl.h>
#include <string.h>
#include <sys/ioctl.h>

#include "device/nvmelog.h"

#define NVME_ADMIN_GET_LOG_PAGE 0x02

int nvme_get_log_page(int fd, uint8_t lid, uint32_t nsid, void *buf, uint32_t len)
{
	struct nvme_admin_cmd cmd;
	uint32_t numd = len / 4 - 1;
	int rc;

	if (!len || len % 4)
		return -EINVAL;
	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = NVME_ADMIN_GET_LOG_PAGE;
	cmd.nsid = nsid;
	cmd.addr = (uint64_t)(uintptr_t)buf;
	cmd.data_len = len;
	cmd.cdw10 = lid | (numd & 0xffff) << 16;
	cmd.cdw11 = numd >> 16;
	rc = ioctl(fd, NVME_IOCTL_ADMIN_CMD, &cmd);
	if (rc < 0)
		return -errno;
	return rc ? -EIO : 0;	/* a positive value is the NVMe status */
}
