/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Page-cache residency. cachestat(2) (Linux 6.5) counts a range's cached
 * pages without mapping anything; before it, mincore(2) on a read-only
 * shared mapping of the file tells page by page. Mapping a file reads
 * nothing: only touching the mapping would, and we never do. Debian 12's
 * kernel (6.1) has no cachestat: there mincore does all of it.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "device/resident.h"

#ifndef __NR_cachestat
#define __NR_cachestat 451 /* the same number on every architecture */
#endif

#define READAHEAD_PIECE (128ULL * 1024)
#define MINCORE_CHUNK	(64ULL * 1024 * 1024) /* pages looked at per mincore call */
#define PAGES_WINDOW	(256ULL << 20)	      /* mapped at a time by resident_pages() */

struct cs_range {
	uint64_t off, len;
};

struct cs_stat {
	uint64_t nr_cache, nr_dirty, nr_writeback, nr_evicted, nr_recently_evicted;
};

static uint64_t page_size(void)
{
	long ps = sysconf(_SC_PAGESIZE);

	return ps > 0 ? (uint64_t)ps : 4096;
}

int resident_open(struct resident_file *rf, const char *path)
{
	struct stat st;

	memset(rf, 0, sizeof(*rf));
	rf->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (rf->fd < 0)
		return -errno;
	if (fstat(rf->fd, &st) < 0) {
		int rc = -errno;

		close(rf->fd);
		rf->fd = -1;
		return rc;
	}
	rf->size = (uint64_t)st.st_size;
	return 0;
}

void resident_close(struct resident_file *rf)
{
	if (rf->map)
		munmap(rf->map, rf->size);
	if (rf->fd >= 0)
		close(rf->fd);
	rf->map = NULL;
	rf->fd = -1;
}

static int by_mincore(struct resident_file *rf, uint64_t off, uint64_t end, uint64_t *bytes)
{
	uint64_t ps = page_size(), pos, n, i;
	unsigned char *vec;

	if (!rf->map) {
		rf->map = mmap(NULL, rf->size, PROT_READ, MAP_SHARED, rf->fd, 0);
		if (rf->map == MAP_FAILED) {
			rf->map = NULL;
			return -errno;
		}
	}
	vec = malloc(MINCORE_CHUNK / ps);
	if (!vec)
		return -ENOMEM;
	*bytes = 0;
	for (pos = off; pos < end; pos += n) {
		n = end - pos < MINCORE_CHUNK ? end - pos : MINCORE_CHUNK;
		if (mincore((char *)rf->map + pos, n, vec) < 0) {
			int rc = -errno;

			free(vec);
			return rc;
		}
		for (i = 0; i < (n + ps - 1) / ps; i++)
			if (vec[i] & 1)
				*bytes += ps;
	}
	free(vec);
	return 0;
}

int resident_bytes(struct resident_file *rf, uint64_t off, uint64_t len, uint64_t *bytes)
{
	uint64_t ps = page_size(), end;
	struct cs_range r;
	struct cs_stat cs;

	*bytes = 0;
	if (off >= rf->size)
		return 0;
	end = len < rf->size - off ? off + len : rf->size;
	off &= ~(ps - 1);
	if (!rf->no_cachestat) {
		r.off = off;
		r.len = end - off;
		if (!syscall(__NR_cachestat, rf->fd, &r, &cs, 0)) {
			*bytes = cs.nr_cache * ps;
			return 0;
		}
		if (errno != ENOSYS && errno != EOPNOTSUPP)
			return -errno;
		rf->no_cachestat = true;
	}
	return by_mincore(rf, off, end, bytes);
}

int resident_range(struct resident_file *rf, uint64_t off, uint64_t len)
{
	uint64_t ps = page_size(), end, want, got;
	int rc;

	if (off >= rf->size || !len)
		return 1;
	end = len < rf->size - off ? off + len : rf->size;
	want = ((end + ps - 1) & ~(ps - 1)) - (off & ~(ps - 1));
	rc = resident_bytes(rf, off, end - off, &got);
	if (rc)
		return rc;
	return got >= want;
}

int resident_readahead(struct resident_file *rf, uint64_t off, uint64_t len)
{
	uint64_t n;

	/*
	 * The kernel cuts one call to the device's readahead window (128 KiB
	 * unless tuned), dropping the rest: ask in pieces no larger.
	 */
	for (; len; off += n, len -= n) {
		n = len < READAHEAD_PIECE ? len : READAHEAD_PIECE;
		if (readahead(rf->fd, (off_t)off, (size_t)n) < 0)
			return -errno;
	}
	return 0;
}

int mem_available(const char *meminfo, uint64_t *bytes)
{
	char line[256];
	unsigned long long kb;
	FILE *f = fopen(meminfo, "re");
	int rc = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1) {
			*bytes = (uint64_t)kb * 1024;
			rc = 0;
			break;
		}
	fclose(f);
	return rc;
}

/* The resident pages of [@off, @off + @len) of @fd, as ranges. Returns 0 or -errno. */
static int window_resident(int fd, uint64_t off, size_t len, size_t page, unsigned char *vec,
			   struct rangelist *out)
{
	size_t i, npages = (len + page - 1) / page, run = 0;
	void *m;
	int rc = 0;

	m = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, (off_t)off);
	if (m == MAP_FAILED)
		return -errno;
	if (mincore(m, len, vec) < 0)
		rc = -errno;
	munmap(m, len);
	for (i = 0; !rc && i <= npages; i++) {
		if (i < npages && (vec[i] & 1)) {
			run++;
			continue;
		}
		if (run)
			rc = rangelist_add(out, off + (uint64_t)(i - run) * page,
					   (uint64_t)run * page);
		run = 0;
	}
	return rc;
}

int resident_pages(int fd, struct rangelist *out)
{
	size_t page = (size_t)page_size();
	unsigned char *vec;
	struct stat st;
	uint64_t off, size;
	int rc = 0;

	if (fstat(fd, &st) < 0)
		return -errno;
	size = (uint64_t)st.st_size;
	if (!size)
		return 0;
	vec = malloc(PAGES_WINDOW / page);
	if (!vec)
		return -ENOMEM;
	for (off = 0; off < size && !rc; off += PAGES_WINDOW)
		rc = window_resident(fd, off, size - off < PAGES_WINDOW ? size - off : PAGES_WINDOW,
				     page, vec, out);
	free(vec);
	return rc;
}
