/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Device topology from sysfs. A partition's directory in sysfs sits inside
 * its disk's, and holds "partition" and "start" (in 512-byte sectors); that
 * is all we need to carry a file system's offsets onto the whole disk.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "device/devmap.h"
#include "base/value.h"

static int read_u64(const char *path, uint64_t *v)
{
	FILE *f = fopen(path, "re");
	unsigned long long x;
	int n;

	if (!f)
		return -errno;
	n = fscanf(f, "%llu", &x);
	fclose(f);
	if (n != 1)
		return -EINVAL;
	*v = x;
	return 0;
}

static int read_dev(const char *path, dev_t *dev)
{
	FILE *f = fopen(path, "re");
	unsigned int ma, mi;
	int n;

	if (!f)
		return -errno;
	n = fscanf(f, "%u:%u", &ma, &mi);
	fclose(f);
	if (n != 2)
		return -EINVAL;
	*dev = makedev(ma, mi);
	return 0;
}

int devmap_offset(dev_t dev, dev_t disk, uint64_t *offset)
{
	char link[64], real[PATH_MAX], path[PATH_MAX + 32], *slash;
	uint64_t start = 0;
	dev_t parent = 0;
	struct stat st;

	if (dev == disk) {
		*offset = 0;
		return 0;
	}
	snprintf(link, sizeof(link), "/sys/dev/block/%u:%u", major(dev), minor(dev));
	if (!realpath(link, real))
		return -EXDEV;
	snprintf(path, sizeof(path), "%s/partition", real);
	if (stat(path, &st) < 0)
		return -EXDEV;
	slash = strrchr(real, '/');
	if (!slash)
		return -EXDEV;
	*slash = '\0';
	snprintf(path, sizeof(path), "%s/dev", real);
	if (read_dev(path, &parent) || parent != disk)
		return -EXDEV;
	*slash = '/';
	snprintf(path, sizeof(path), "%s/start", real);
	if (read_u64(path, &start))
		return -EXDEV;
	*offset = start * 512;
	return 0;
}

void devmap_name(dev_t dev, char *buf, size_t len)
{
	char link[64], real[PATH_MAX];
	const char *base;

	snprintf(link, sizeof(link), "/sys/dev/block/%u:%u", major(dev), minor(dev));
	if (realpath(link, real) && (base = strrchr(real, '/')))
		snprintf(buf, len, "/dev/%s", base + 1);
	else
		snprintf(buf, len, "%u:%u", major(dev), minor(dev));
}

/* Undo mountinfo's octal escapes (\040 for a space) in place. */
static void unescape(char *s)
{
	char *out = s;

	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*out++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 4;
		} else {
			*out++ = *s++;
		}
	}
	*out = '\0';
}

/* The mount's source, when it names a block device on @disk (btrfs: mountinfo's device is anonymous). */
static bool source_on_disk(const char *sep, dev_t disk)
{
	char src[4096];
	struct stat st;
	uint64_t off;

	if (sscanf(sep + 3, "%*63s %4095s", src) != 1 || strncmp(src, "/dev/", 5))
		return false;
	unescape(src);
	return !stat(src, &st) && S_ISBLK(st.st_mode) && !devmap_offset(st.st_rdev, disk, &off);
}

int devmap_mounts(dev_t disk, struct mountlist *out)
{
	return devmap_mounts_of(disk, false, out);
}

int devmap_mounts_of(dev_t disk, bool by_source, struct mountlist *out)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL;
	size_t cap = 0;
	int rc = 0;

	out->v = NULL;
	out->n = 0;
	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		unsigned int ma, mi;
		char dir[4096], fstype[64];
		const char *sep;
		uint64_t off;
		dev_t dev;
		struct mountpoint *v;
		size_t i;
		bool seen = false;

		if (sscanf(line, "%*u %*u %u:%u %*s %4095s", &ma, &mi, dir) != 3)
			continue;
		sep = strstr(line, " - ");
		if (!sep || sscanf(sep + 3, "%63s", fstype) != 1)
			continue;
		dev = makedev(ma, mi);
		if (devmap_offset(dev, disk, &off) && !(by_source && source_on_disk(sep, disk)))
			continue;
		for (i = 0; i < out->n; i++)
			seen = seen || out->v[i].dev == dev;
		if (seen)
			continue;
		if (ARRAY_GROW(out->v, out->n, NULL)) {
			rc = -ENOMEM;
			break;
		}
		v = &out->v[out->n];
		unescape(dir);
		v->dev = dev;
		v->dir = strdup(dir);
		v->fstype = strdup(fstype);
		if (!v->dir || !v->fstype) {
			free(v->dir);
			free(v->fstype);
			rc = -ENOMEM;
			break;
		}
		out->n++;
	}
	free(line);
	fclose(f);
	return rc;
}

void mountlist_free(struct mountlist *ml)
{
	size_t i;

	for (i = 0; i < ml->n; i++) {
		free(ml->v[i].dir);
		free(ml->v[i].fstype);
	}
	free(ml->v);
	ml->v = NULL;
	ml->n = 0;
}
