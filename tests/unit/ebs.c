/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Description: EBS NVMe identity from bytes. Models tell EBS from instance
 * store through sysfs padding. Serials become volume ids
 * ("vol0123..." -> "vol-0123...", padding cut); sysfs padding is trimmed;
 * the block-device-mapping name is read from the 32 space-padded bytes at
 * offset 3072 of 4096-byte identify-controller data, as ebsnvme-id reads it.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "device/ebs.h"
#include "../lib/tap.h"

static const struct {
	const char *serial;
	int rc;
	const char *id;
} serials[] = {
	{ "vol0123456789abcdef0", 0, "vol-0123456789abcdef0" },
	{ "vol0123456789abcdef0     ", 0, "vol-0123456789abcdef0" },
	{ "vol-0abc", 0, "vol-0abc" },
	{ "vol1234abcd", 0, "vol-1234abcd" },
	{ "AWS1234567890ABCDEF", -EINVAL, NULL },	/* instance store serials */
	{ "vol", -EINVAL, NULL },
	{ "vol-", -EINVAL, NULL },
	{ "volume01", -EINVAL, NULL },
	{ "", -EINVAL, NULL },
};

/* Identify data with @field written at offset 3072, space padded like the real thing. */
static void ctrl_with(unsigned char *buf, const char *field, size_t len)
{
	memset(buf, 0, NVME_ID_CTRL_SIZE);
	/* Model and serial are at offsets 24 and 4 in real data: fill them in. */
	memcpy(buf + 4, "vol0123456789abcdef0", 20);
	memcpy(buf + 24, EBS_MODEL "              ", 40);
	memset(buf + EBS_VS_BDEV_OFFSET, ' ', EBS_VS_BDEV_LEN);
	memcpy(buf + EBS_VS_BDEV_OFFSET, field, len);
}

int main(void)
{
	unsigned char ctrl[NVME_ID_CTRL_SIZE];
	char out[64], small[4];
	char padded[] = "Amazon Elastic Block Store              ";
	char empty[] = "    ";
	size_t i, n = sizeof(serials) / sizeof(serials[0]);
	int rc;

	plan((unsigned int)n + 16);
	ok(ebs_kind("Amazon Elastic Block Store              ") == KIND_EBS,
	   "EBS model, sysfs padded");
	ok(ebs_kind("Amazon EC2 NVMe Instance Storage        \n") == KIND_INSTANCE_STORE,
	   "instance store model, padded, with a newline");
	ok(ebs_kind("Amazon Elastic Block Store Express") == KIND_OTHER,
	   "a longer model is not EBS");
	ok(ebs_kind("PersistentDisk") == KIND_OTHER && ebs_kind("") == KIND_OTHER,
	   "GCP and empty models are other");
	for (i = 0; i < n; i++) {
		out[0] = '\0';
		rc = ebs_volume_id(serials[i].serial, out, sizeof(out));
		ok(rc == serials[i].rc && (rc || !strcmp(out, serials[i].id)), "serial '%s' -> %s",
		   serials[i].serial, rc ? "not a volume" : out);
	}
	ok(ebs_volume_id("vol0123456789abcdef0", small, sizeof(small)) == -ENOSPC,
	   "a short buffer is refused");
	ok(!strcmp(trim_trailing_spaces(padded), EBS_MODEL), "sysfs model padding is cut");
	ok(!strcmp(trim_trailing_spaces(empty), ""), "all padding gives the empty string");

	ctrl_with(ctrl, "sdf", 3);
	rc = ebs_bdev_name(ctrl, sizeof(ctrl), out, sizeof(out));
	ok(rc == 0 && !strcmp(out, "sdf"), "mapping 'sdf' (rc %d, '%s')", rc, rc ? "" : out);
	ctrl_with(ctrl, "/dev/xvda", 9);
	rc = ebs_bdev_name(ctrl, sizeof(ctrl), out, sizeof(out));
	ok(rc == 0 && !strcmp(out, "xvda"), "'/dev/xvda' loses its /dev/ prefix ('%s')",
	   rc ? "" : out);
	ctrl_with(ctrl, "xvdcz", 5);
	ctrl[EBS_VS_BDEV_OFFSET + 5] = '\0';	/* NUL padding after the name */
	rc = ebs_bdev_name(ctrl, sizeof(ctrl), out, sizeof(out));
	ok(rc == 0 && !strcmp(out, "xvdcz"), "NUL and space padding ('%s')", rc ? "" : out);
	ctrl_with(ctrl, "abcdefghijklmnopqrstuvwxyz012345", 32);
	rc = ebs_bdev_name(ctrl, sizeof(ctrl), out, sizeof(out));
	ok(rc == 0 && strlen(out) == 32, "a name filling all 32 bytes");
	ctrl_with(ctrl, "", 0);
	ok(ebs_bdev_name(ctrl, sizeof(ctrl), out, sizeof(out)) == -ENODATA,
	   "an all-space field: no mapping name");
	memset(ctrl + EBS_VS_BDEV_OFFSET, 0, EBS_VS_BDEV_LEN);
	ok(ebs_bdev_name(ctrl, sizeof(ctrl), out, sizeof(out)) == -ENODATA,
	   "an all-zero field (not EBS): no mapping name");
	ctrl_with(ctrl, "sd\001f", 4);
	ok(ebs_bdev_name(ctrl, sizeof(ctrl), out, sizeof(out)) == -EINVAL,
	   "a control byte is refused");
	ctrl_with(ctrl, "sdf", 3);
	ok(ebs_bdev_name(ctrl, 3072 + 32, out, sizeof(out)) == -EINVAL,
	   "data shorter than 4096 bytes is refused");
	ok(ebs_bdev_name(ctrl, sizeof(ctrl), small, 3) == -ENOSPC, "a short buffer is refused");
	return exit_status();
}
