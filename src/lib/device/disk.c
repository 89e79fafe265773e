/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Discovery with libudev and libblkid. The libblkid calls follow systemd's
 * udev-builtin-blkid.c: open O_RDONLY|O_CLOEXEC|O_NONBLOCK, errno cleared
 * before calls, blkid_do_fullprobe() returning 0 found / 1 nothing / < 0
 * error, the probe freed on every path. Nothing here writes to a disk.
 */
#include "config.h"

#include <blkid.h>
#include <errno.h>
#include <fcntl.h>
#include <libudev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "device/disk.h"
#include "device/ebs.h"
#include "device/target.h"

static void copy(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src ? src : "");
}

static void lookup(blkid_probe pr, const char *name, char *dst, size_t len)
{
	const char *v = NULL;

	dst[0] = '\0';
	if (!blkid_probe_lookup_value(pr, name, &v, NULL) && v)
		copy(dst, len, v);
}

/* The file system, if any, in [@offset, @offset + @size) of @fd. */
static void probe_fs(int fd, uint64_t offset, uint64_t size, unsigned int partno,
		     struct disk_contents *p)
{
	struct disk_fs *fs;
	blkid_probe pr;

	if (p->nfs == DISK_MAX_FS)
		return;
	pr = blkid_new_probe();
	if (!pr)
		return;
	errno = 0;
	if (blkid_probe_set_device(pr, fd, (blkid_loff_t)offset, (blkid_loff_t)size))
		goto done;
	blkid_probe_enable_superblocks(pr, 1);
	blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE | BLKID_SUBLKS_UUID |
						      BLKID_SUBLKS_LABEL);
	blkid_probe_enable_partitions(pr, 0);
	if (blkid_do_safeprobe(pr))
		goto done;
	fs = &p->fs[p->nfs];
	lookup(pr, "TYPE", fs->type, sizeof(fs->type));
	if (!fs->type[0])
		goto done;
	lookup(pr, "UUID", fs->uuid, sizeof(fs->uuid));
	lookup(pr, "LABEL", fs->label, sizeof(fs->label));
	fs->offset = offset;
	fs->size = size;
	fs->partno = partno;
	p->nfs++;
done:
	blkid_free_probe(pr);
}

void disk_read_contents(const char *devnode, struct disk_contents *p)
{
	blkid_partlist parts;
	blkid_probe pr = NULL;
	blkid_loff_t disk_size;
	char type[32];
	int fd, rc, i, n;

	memset(p, 0, sizeof(*p));
	fd = open(devnode, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		p->found = CONTENT_FAILED;
		p->error = -errno;
		return;
	}
	errno = 0;
	pr = blkid_new_probe();
	if (!pr) {
		p->error = errno ? -errno : -ENOMEM;
		goto failed;
	}
	errno = 0;
	if (blkid_probe_set_device(pr, fd, 0, 0)) {
		p->error = errno ? -errno : -EIO;
		goto failed;
	}
	disk_size = blkid_probe_get_size(pr);
	blkid_probe_enable_superblocks(pr, 1);
	blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE | BLKID_SUBLKS_UUID |
						      BLKID_SUBLKS_LABEL);
	blkid_probe_enable_partitions(pr, 1);
	blkid_probe_set_partitions_flags(pr, BLKID_PARTS_ENTRY_DETAILS);
	errno = 0;
	rc = blkid_do_fullprobe(pr);
	if (rc < 0) {
		p->error = errno ? -errno : -EIO;
		goto failed;
	}
	if (rc == 1) {
		p->found = CONTENT_EMPTY;
		goto done;
	}
	p->found = CONTENT_DATA;
	lookup(pr, "PTTYPE", p->pttype, sizeof(p->pttype));
	lookup(pr, "PTUUID", p->ptuuid, sizeof(p->ptuuid));
	lookup(pr, "TYPE", type, sizeof(type));
	if (type[0] && !p->pttype[0]) {
		struct disk_fs *fs = &p->fs[p->nfs++];

		copy(fs->type, sizeof(fs->type), type);
		lookup(pr, "UUID", fs->uuid, sizeof(fs->uuid));
		lookup(pr, "LABEL", fs->label, sizeof(fs->label));
		fs->size = disk_size > 0 ? (uint64_t)disk_size : 0;
	}
	/* File systems inside partitions, probed at their offsets: no partition nodes needed. */
	parts = p->pttype[0] ? blkid_probe_get_partitions(pr) : NULL;
	n = parts ? blkid_partlist_numof_partitions(parts) : 0;
	for (i = 0; i < n; i++) {
		blkid_partition par = blkid_partlist_get_partition(parts, i);
		blkid_loff_t start = blkid_partition_get_start(par);
		blkid_loff_t len = blkid_partition_get_size(par);

		if (start > 0 && len > 0)
			probe_fs(fd, (uint64_t)start * 512, (uint64_t)len * 512,
				 (unsigned int)blkid_partition_get_partno(par), p);
	}
	goto done;
failed:
	p->found = CONTENT_FAILED;
done:
	blkid_free_probe(pr);
	close(fd);
}

const char *disk_property(const char *name, void *d)
{
	return udev_device_get_property_value(d, name);
}

/* A sysfs attribute, else a udev property; trailing padding cut. */
static void attr(struct udev_device *d, const char *sysattr, const char *prop, char *dst,
		 size_t len)
{
	const char *v = sysattr ? udev_device_get_sysattr_value(d, sysattr) : NULL;

	if (!v || !*v)
		v = prop ? udev_device_get_property_value(d, prop) : NULL;
	copy(dst, len, v);
	trim_trailing_spaces(dst);
	/* sysfs pads on the left too in places (vendor ids, some models). */
	if (dst[0] == ' ') {
		size_t k = strspn(dst, " ");

		memmove(dst, dst + k, strlen(dst + k) + 1);
	}
}

void disk_identity(struct disk_info *di)
{
	size_t i;

	di->identity[0] = '\0';
	if (di->volume_id[0]) {
		copy(di->identity, sizeof(di->identity), di->volume_id);
		return;
	}
	if (di->serial[0]) {
		copy(di->identity, sizeof(di->identity), di->serial);
		return;
	}
	/* Loop devices and some virtual disks have no serial: a UUID on it is the next best. */
	for (i = 0; i < di->contents.nfs; i++)
		if (di->contents.fs[i].uuid[0]) {
			snprintf(di->identity, sizeof(di->identity), "uuid:%s", di->contents.fs[i].uuid);
			return;
		}
	if (di->contents.ptuuid[0])
		snprintf(di->identity, sizeof(di->identity), "uuid:%s", di->contents.ptuuid);
}

static void read_ebs_name(struct disk_info *di)
{
	uint8_t *buf;
	int fd, rc;

	buf = malloc(NVME_ID_CTRL_SIZE);
	if (!buf) {
		di->ebs_name_error = -ENOMEM;
		return;
	}
	fd = open(di->devnode, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	rc = fd < 0 ? -errno : nvme_identify_ctrl(fd, buf);
	if (!rc)
		rc = ebs_bdev_name(buf, NVME_ID_CTRL_SIZE, di->ebs_name, sizeof(di->ebs_name));
	di->ebs_name_error = rc;
	if (fd >= 0)
		close(fd);
	free(buf);
}

int disk_info_from_udev(struct udev_device *d, bool identify, struct disk_info *di)
{
	const char *node = udev_device_get_devnode(d), *size;

	memset(di, 0, sizeof(*di));
	if (!node)
		return -ENODEV;
	copy(di->devnode, sizeof(di->devnode), node);
	copy(di->name, sizeof(di->name), udev_device_get_sysname(d));
	size = udev_device_get_sysattr_value(d, "size");
	di->size = size ? strtoull(size, NULL, 10) * 512 : 0;
	attr(d, "device/model", "ID_MODEL", di->model, sizeof(di->model));
	attr(d, "device/serial", "ID_SERIAL_SHORT", di->serial, sizeof(di->serial));
	/* virtio-blk keeps its serial (a cloud's volume id) on the disk itself. */
	if (!di->serial[0])
		attr(d, "serial", NULL, di->serial, sizeof(di->serial));
	/* NVMe: the controller's PCI vendor; SCSI and virtio: the vendor string. */
	attr(d, "device/vendor", NULL, di->vendor, sizeof(di->vendor));
	if (!di->vendor[0])
		attr(d, "device/device/vendor", "ID_VENDOR", di->vendor, sizeof(di->vendor));

	di->kind = ebs_kind(di->model);
	if (di->kind == KIND_EBS) {
		if (ebs_volume_id(di->serial, di->volume_id, sizeof(di->volume_id)))
			di->volume_id[0] = '\0';
		if (identify)
			read_ebs_name(di);
	}
	disk_read_contents(di->devnode, &di->contents);
	disk_identity(di);
	return 0;
}

int discover_disks(int (*cb)(struct udev_device *d, void *arg), void *arg)
{
	struct udev_list_entry *e;
	struct udev_enumerate *en = NULL;
	struct udev *udev;
	int rc;

	udev = udev_new();
	if (!udev)
		return -ENOMEM;
	en = udev_enumerate_new(udev);
	if (!en) {
		rc = -ENOMEM;
		goto done;
	}
	rc = udev_enumerate_add_match_subsystem(en, "block");
	if (!rc)
		rc = udev_enumerate_add_match_property(en, "DEVTYPE", "disk");
	if (!rc)
		rc = udev_enumerate_scan_devices(en);
	if (rc)
		goto done;
	udev_list_entry_foreach(e, udev_enumerate_get_list_entry(en))
	{
		struct udev_device *d;
		const char *size;

		d = udev_device_new_from_syspath(udev, udev_list_entry_get_name(e));
		if (!d)
			continue;	/* it went away meanwhile */
		size = udev_device_get_sysattr_value(d, "size");
		if (size && strcmp(size, "0"))
			rc = cb(d, arg);
		udev_device_unref(d);
		if (rc)
			break;
	}
done:
	udev_enumerate_unref(en);
	udev_unref(udev);
	return rc;
}

int disk_find(struct udev *udev, const char *path, bool from_event, struct udev_device **dp,
	      char *why, size_t whylen)
{
	struct udev_device *d = NULL;
	const char *node, *type;
	struct stat st;
	int rc;

	/* Under udev the event's properties are newer than its database. */
	if (from_event) {
		d = udev_device_new_from_environment(udev);
		node = d ? udev_device_get_devnode(d) : NULL;
		if (d && (!node || strcmp(node, path))) {
			udev_device_unref(d);
			d = NULL;
		}
	}
	if (!d) {
		if (stat(path, &st) < 0) {
			rc = -errno;
			snprintf(why, whylen, "%s", strerror(-rc));
			return rc;
		}
		if (!S_ISBLK(st.st_mode)) {
			snprintf(why, whylen, "not a block device");
			return -ENOTBLK;
		}
		d = udev_device_new_from_devnum(udev, 'b', st.st_rdev);
		if (!d) {
			rc = errno ? -errno : -ENODEV;
			snprintf(why, whylen, "unknown to udev: %s", strerror(errno));
			return rc;
		}
	}
	type = udev_device_get_devtype(d);
	if (!type || strcmp(type, "disk")) {
		udev_device_unref(d);
		snprintf(why, whylen, "not a whole disk");
		return -EMEDIUMTYPE;
	}
	*dp = d;
	return 0;
}

void disk_info_of_target(const struct target *t, struct disk_info *di)
{
	struct udev_device *d = NULL;
	struct udev *udev = NULL;
	const char *base;

	if (t->blockdev && (udev = udev_new()))
		d = udev_device_new_from_devnum(udev, 'b', t->id_dev);
	if (d && !disk_info_from_udev(d, false, di)) {
		di->size = t->size;
		disk_identity(di);
	} else {
		memset(di, 0, sizeof(*di));
		base = strrchr(t->path, '/');
		snprintf(di->name, sizeof(di->name), "%s", base ? base + 1 : t->path);
		snprintf(di->devnode, sizeof(di->devnode), "%s", t->path);
		di->size = t->size;
		disk_read_contents(t->path, &di->contents);
		disk_identity(di);
	}
	udev_device_unref(d);
	udev_unref(udev);
}
