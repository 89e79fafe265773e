/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What of a file is in the page cache (cachestat(2), else mincore(2) on a
 * mapping that is never touched), asking the kernel to read a file into it
 * (readahead(2)), and how much memory the kernel calls available. A reader
 * of a lazy volume's files leaves its pages in the cache: where they are
 * shows what it has fetched already.
 */
#ifndef BLKHYDRATE_RESIDENT_H
#define BLKHYDRATE_RESIDENT_H

#include <stdbool.h>
#include <stdint.h>

#include "base/range.h"

struct resident_file {
	int fd;
	uint64_t size;
	void *map;	   /* mincore's mapping, made on first need; NULL: none */
	bool no_cachestat; /* the kernel has none: mincore */
};

/* Open @path read-only to watch it. Returns 0 or -errno. */
int resident_open(struct resident_file *rf, const char *path);
void resident_close(struct resident_file *rf);

/* Pages of [@off, @off + @len) in the page cache, in bytes (clipped to the file). Returns 0 or
 * -errno. */
int resident_bytes(struct resident_file *rf, uint64_t off, uint64_t len, uint64_t *bytes);

/* 1 when every page of [@off, @off + @len) within the file is cached, 0 when not, or -errno. */
int resident_range(struct resident_file *rf, uint64_t off, uint64_t len);

/* Have the kernel read [@off, @off + @len) into the page cache. Returns 0 or -errno. */
int resident_readahead(struct resident_file *rf, uint64_t off, uint64_t len);

/*
 * The resident pages of open file @fd as file byte ranges, appended to
 * @out in file order: what a recorded run read. Returns 0 or -errno.
 */
int resident_pages(int fd, struct rangelist *out);

/* MemAvailable of @meminfo (normally /proc/meminfo), in bytes. Returns 0 or -errno. */
int mem_available(const char *meminfo, uint64_t *bytes);

#endif
