/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Volume identity from sysfs. The whole disk of a partition is the parent
 * of its sysfs directory; EBS and other NVMe namespaces carry a wwid, SCSI
 * disks device/wwid, most disks device/serial (padded with spaces, which we
 * trim). Nothing here opens the device.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "device/volid.h"

/* Read a one-line sysfs attribute, trimmed. Returns its length, 0 when absent or empty. */
static size_t read_attr(const char *dir, const char *name, char *buf, size_t len)
{
	char path[PATH_MAX];
	ssize_t n;
	size_t s = 0, e;
	int fd;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return 0;
	e = (size_t)n;
	while (e > 0 && isspace((unsigned char)buf[e - 1]))
		e--;
	while (s < e && isspace((unsigned char)buf[s]))
		s++;
	memmove(buf, buf + s, e - s);
	buf[e - s] = '\0';
	/* An identity is one line of a state file. */
	for (n = 0; (size_t)n < e - s; n++)
		if ((unsigned char)buf[n] < 0x20)
			buf[n] = '_';
	return e - s;
}

static int block_id(const struct target *t, const char *sysfs, struct volid *v)
{
	char link[PATH_MAX], dir[PATH_MAX], val[VOLID_MAX - 64], part[24] = "", *slash;
	unsigned int maj = major(t->id_dev), min = minor(t->id_dev), wmaj, wmin, pno;

	snprintf(link, sizeof(link), "%s/dev/block/%u:%u", sysfs, maj, min);
	if (!realpath(link, dir))
		return -errno;
	if (read_attr(dir, "partition", val, sizeof(val)) && sscanf(val, "%u", &pno) == 1) {
		snprintf(part, sizeof(part), "-part%u", pno);
		slash = strrchr(dir, '/');
		if (!slash)
			return -ENODEV;
		*slash = '\0';
	}
	if (read_attr(dir, "dev", val, sizeof(val)) && sscanf(val, "%u:%u", &wmaj, &wmin) == 2) {
		maj = wmaj;
		min = wmin;
	}
	snprintf(v->disk, sizeof(v->disk), "block-%u:%u", maj, min);
	if (read_attr(dir, "wwid", val, sizeof(val)) ||
	    read_attr(dir, "device/wwid", val, sizeof(val)))
		snprintf(v->id, sizeof(v->id), "wwid:%s%s", val, part);
	else if (read_attr(dir, "device/serial", val, sizeof(val)) ||
		 read_attr(dir, "serial", val, sizeof(val)))
		snprintf(v->id, sizeof(v->id), "serial:%s%s", val, part);
	else if (read_attr(dir, "loop/backing_file", val, sizeof(val)))
		snprintf(v->id, sizeof(v->id), "loop:%s%s", val, part);
	else
		snprintf(v->id, sizeof(v->id), "dev:%u:%u%s", maj, min, part);
	return 0;
}

int volid_get(const struct target *t, const char *sysfs, struct volid *v)
{
	memset(v, 0, sizeof(*v));
	if (t->blockdev)
		return block_id(t, sysfs, v);
	snprintf(v->id, sizeof(v->id), "file:%llu:%llu", (unsigned long long)t->id_dev,
		 (unsigned long long)t->id_ino);
	snprintf(v->disk, sizeof(v->disk), "file-%llu-%llu", (unsigned long long)t->id_dev,
		 (unsigned long long)t->id_ino);
	return 0;
}

void volid_filename(const char *id, char *out, size_t len)
{
	size_t i;

	for (i = 0; id[i] && i + 1 < len; i++)
		out[i] = isalnum((unsigned char)id[i]) || strchr("._:-", id[i]) ? id[i] : '_';
	if (len)
		out[i] = '\0';
}
