/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Option values: their defaults, their limits, and the checks that turn a
 * command-line string into a setting or a one-line reason why not.
 */
#ifndef BLKHYDRATE_OPTIONS_H
#define BLKHYDRATE_OPTIONS_H

#include <stdint.h>

/* Defaults measured with bench/ on the lazy-volume simulator; see README. */
#define DEFAULT_QUEUE_DEPTH 64	/* bench/ sweeps and the unit tests' reference */
#define QUEUE_DEPTH_AUTO 0	/* the default: measured while reading, see pace.h */
#define DEFAULT_BLOCK_SIZE (512 * 1024)
#define DEFAULT_STRIDES 4
#define DEFAULT_PRELOAD_MARGIN (1024ULL * 1024 * 1024) /* MemAvailable --preload leaves */

#define MAX_QUEUE_DEPTH 1024
#define MIN_BLOCK_SIZE 4096
#define MAX_BLOCK_SIZE (64 * 1024 * 1024)
#define MAX_STRIDES 1024
#define MAX_BUFFER_MEMORY (1024ULL * 1024 * 1024)

/* How hydrate reads (--read-mode): see io/touch.h. */
enum read_mode {
	READ_MODE_AUTO, /* the default: touch when the probe shows whole-block fetches */
	READ_MODE_FULL,
	READ_MODE_TOUCH,
};

#define MIN_SNAPSHOT_BLOCK 8192 /* the granularity probe reads both ends of one */

enum progress_mode {
	PROGRESS_AUTO,
	PROGRESS_ALWAYS,
	PROGRESS_NEVER,
};

/* Each returns 0 or -EINVAL/-ERANGE with @why set to the reason. */
int opt_count(const char *str, unsigned int min, unsigned int max, unsigned int *res,
	      const char **why);
int opt_block_size(const char *str, uint64_t *res, const char **why);
int opt_rate(const char *str, uint64_t *res, const char **why);
int opt_progress(const char *str, enum progress_mode *res, const char **why);
#define MAX_DURATION_MS	  (7ull * 24 * 3600 * 1000)
#define DEFAULT_MAX_FILES 100000
#define MAX_MAX_FILES	  10000000

/* "30" or "30s" (seconds), "500ms", "5m", "1h", as milliseconds. */
int opt_duration(const char *str, uint64_t *ms, const char **why);
/* first, after or off: enum recorded_order (plan/plan.h), in that order. */
int opt_recorded(const char *str, unsigned int *res, const char **why);
int opt_read_mode(const char *str, enum read_mode *res, const char **why);
const char *read_mode_name(enum read_mode m);
/* 8K to 64M, a multiple of 4K. */
int opt_snapshot_block(const char *str, uint64_t *res, const char **why);
/* "auto" (QUEUE_DEPTH_AUTO) or a count from 1 to MAX_QUEUE_DEPTH. */
int opt_queue_depth(const char *str, unsigned int *res, const char **why);

/* Buffers are queue depth times block size: refuse a product we will not allocate. */
int opt_check_memory(unsigned int queue_depth, uint64_t block_size, const char **why);

#endif
