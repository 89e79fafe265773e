/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Opening targets. A target is only ever opened O_RDONLY: hydration must never
 * be able to change a byte of a volume, whatever else goes wrong.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "device/target.h"

#define FILE_DIRECT_ALIGN 4096

int target_open(struct target *t, const char *path)
{
	struct stat st;
	int fd, lbs, rc;

	memset(t, 0, sizeof(*t));
	t->path = path;
	t->fd = -1;
	if (stat(path, &st) < 0)
		return -errno;
	if (S_ISDIR(st.st_mode))
		return -TARGET_EDIR;
	if (S_ISCHR(st.st_mode))
		return -TARGET_ECHR;
	if (!S_ISBLK(st.st_mode) && !S_ISREG(st.st_mode))
		return -TARGET_ETYPE;

	t->direct = true;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_DIRECT);
	if (fd < 0 && errno == EINVAL) {
		/* tmpfs and some FUSE file systems refuse O_DIRECT. */
		t->direct = false;
		fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	if (fd < 0)
		return -errno;
	/* Re-check what we opened: the path may have changed under us. */
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		goto fail;
	}
	if (S_ISBLK(st.st_mode)) {
		t->blockdev = true;
		t->id_dev = st.st_rdev;
		if (ioctl(fd, BLKGETSIZE64, &t->size) < 0 ||
		    ioctl(fd, BLKSSZGET, &lbs) < 0) {
			rc = -errno;
			goto fail;
		}
		t->align = lbs > 0 ? (unsigned int)lbs : 512;
	} else if (S_ISREG(st.st_mode)) {
		t->id_dev = st.st_dev;
		t->id_ino = st.st_ino;
		t->size = (uint64_t)st.st_size;
		t->align = FILE_DIRECT_ALIGN;
	} else {
		rc = -TARGET_ETYPE;
		goto fail;
	}
	if (!t->size) {
		rc = -TARGET_EEMPTY;
		goto fail;
	}
	t->fd = fd;
	return 0;
fail:
	close(fd);
	return rc;
}

void target_close(struct target *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
}

bool target_same(const struct target *a, const struct target *b)
{
	return a->blockdev == b->blockdev && a->id_dev == b->id_dev &&
	       a->id_ino == b->id_ino;
}

bool target_gone(const struct target *t)
{
	char path[64];

	if (!t->blockdev)
		return false;
	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u", major(t->id_dev), minor(t->id_dev));
	return access(path, F_OK) < 0 && errno == ENOENT;
}

const char *target_strerror(int err)
{
	switch (-err) {
	case TARGET_EDIR:
		return "is a directory, not a block device or disk image";
	case TARGET_ECHR:
		return "is a character device, not a block device or disk image";
	case TARGET_ETYPE:
		return "is not a block device or disk image";
	case TARGET_EEMPTY:
		return "is empty: nothing to read";
	default:
		return strerror(-err);
	}
}
