/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * statmap DIR [PATTERN]: the file system's own cost of mapping files, for
 * bench/scale.sh to set beside `blkhydrate plan`: for every regular file
 * of DIR (one level) whose name matches PATTERN (fnmatch; all when none),
 * a stat and FIEMAP (FIEMAP_FLAG_SYNC, as the planner asks) to the last
 * extent, and nothing else. Prints "FILES EXTENTS".
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#define BATCH 256 /* extents a call */

/* Extents of the open file @fd, or -1. */
static long map_file(int fd, struct fiemap *fm)
{
	__u64 start = 0;
	long n = 0;

	for (;;) {
		memset(fm, 0, sizeof(*fm));
		fm->fm_start = start;
		fm->fm_length = FIEMAP_MAX_OFFSET - start;
		fm->fm_flags = FIEMAP_FLAG_SYNC;
		fm->fm_extent_count = BATCH;
		if (ioctl(fd, FS_IOC_FIEMAP, fm) < 0)
			return -1;
		if (!fm->fm_mapped_extents)
			return n;
		n += fm->fm_mapped_extents;
		struct fiemap_extent *last = &fm->fm_extents[fm->fm_mapped_extents - 1];

		if (last->fe_flags & FIEMAP_EXTENT_LAST)
			return n;
		start = last->fe_logical + last->fe_length;
	}
}

int main(int argc, char **argv)
{
	struct fiemap *fm = calloc(1, sizeof(*fm) + BATCH * sizeof(struct fiemap_extent));
	const char *pattern = argc > 2 ? argv[2] : "*";
	long files = 0, extents = 0, n;
	struct dirent *de;
	struct stat st;
	DIR *d;
	int fd;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: statmap DIR [PATTERN]\n");
		return 2;
	}
	d = opendir(argv[1]);
	if (!d || !fm) {
		fprintf(stderr, "statmap: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	while ((de = readdir(d))) {
		if (fnmatch(pattern, de->d_name, FNM_PERIOD))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) || !S_ISREG(st.st_mode))
			continue;
		fd = openat(dirfd(d), de->d_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0)
			continue;
		n = map_file(fd, fm);
		close(fd);
		if (n < 0)
			continue;
		files++;
		extents += n;
	}
	closedir(d);
	free(fm);
	printf("%ld %ld\n", files, extents);
	return 0;
}
