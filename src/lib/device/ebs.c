/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * EBS NVMe identity. The parsers are pure functions over bytes so that
 * tests can feed them captured or constructed controller data; only
 * nvme_identify_ctrl() talks to a device.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <linux/nvme_ioctl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/ioctl.h>

#include "device/ebs.h"

#define NVME_ADMIN_IDENTIFY 0x06
#define NVME_ID_CNS_CTRL 0x01

char *trim_trailing_spaces(char *s)
{
	size_t n = strlen(s);

	while (n && (s[n - 1] == ' ' || s[n - 1] == '\n' || s[n - 1] == '\t'))
		s[--n] = '\0';
	return s;
}

enum disk_kind ebs_kind(const char *model)
{
	size_t n;

	while (*model == ' ')
		model++;
	n = strlen(model);
	while (n && (model[n - 1] == ' ' || model[n - 1] == '\n'))
		n--;
	if (n == strlen(EBS_MODEL) && !strncmp(model, EBS_MODEL, n))
		return KIND_EBS;
	if (n == strlen(EBS_INSTANCE_STORE_MODEL) && !strncmp(model, EBS_INSTANCE_STORE_MODEL, n))
		return KIND_INSTANCE_STORE;
	return KIND_OTHER;
}

int ebs_volume_id(const char *serial, char *out, size_t outlen)
{
	size_t n, i, k;

	while (*serial == ' ')
		serial++;
	n = strlen(serial);
	while (n && serial[n - 1] == ' ')
		n--;
	if (n < 4 || strncmp(serial, "vol", 3))
		return -EINVAL;
	/* Some tools already print the dash; accept both spellings. */
	i = serial[3] == '-' ? 4 : 3;
	if (i == n)
		return -EINVAL;
	for (k = i; k < n; k++)
		if (!isxdigit((unsigned char)serial[k]))
			return -EINVAL;
	if (outlen < 4 + (n - i) + 1)
		return -ENOSPC;
	memcpy(out, "vol-", 4);
	memcpy(out + 4, serial + i, n - i);
	out[4 + (n - i)] = '\0';
	return 0;
}

int ebs_bdev_name(const uint8_t *ctrl, size_t len, char *out, size_t outlen)
{
	const uint8_t *f;
	size_t n, i, start = 0;

	if (len < NVME_ID_CTRL_SIZE)
		return -EINVAL;
	f = ctrl + EBS_VS_BDEV_OFFSET;
	n = EBS_VS_BDEV_LEN;
	while (n && (f[n - 1] == ' ' || f[n - 1] == '\0'))
		n--;
	while (start < n && f[start] == ' ')
		start++;
	if (n - start >= 5 && !memcmp(f + start, "/dev/", 5))
		start += 5;
	if (start == n)
		return -ENODATA;
	for (i = start; i < n; i++)
		if (!isgraph(f[i]))
			return -EINVAL;
	if (outlen < n - start + 1)
		return -ENOSPC;
	memcpy(out, f + start, n - start);
	out[n - start] = '\0';
	return 0;
}

int nvme_identify_ctrl(int fd, uint8_t *buf)
{
	struct nvme_admin_cmd cmd;
	int rc;

	memset(&cmd, 0, sizeof(cmd));
	memset(buf, 0, NVME_ID_CTRL_SIZE);
	cmd.opcode = NVME_ADMIN_IDENTIFY;
	cmd.addr = (uint64_t)(uintptr_t)buf;
	cmd.data_len = NVME_ID_CTRL_SIZE;
	cmd.cdw10 = NVME_ID_CNS_CTRL;
	rc = ioctl(fd, NVME_IOCTL_ADMIN_CMD, &cmd);
	if (rc < 0)
		return -errno;
	/* A positive value is the NVMe status of a command the controller refused. */
	return rc ? -EIO : 0;
}
