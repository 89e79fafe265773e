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

#define MAX_QUEUE_DEPTH 1024
#define MIN_BLOCK_SIZE 4096
#define MAX_BLOCK_SIZE (64 * 1024 * 1024)
#define MAX_STRIDES 1024
#define MAX_BUFFER_MEMORY (1024ULL * 1024 * 1024)

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
/* "auto" (QUEUE_DEPTH_AUTO) or a count from 1 to MAX_QUEUE_DEPTH. */
int opt_queue_depth(const char *str, unsigned int *res, const char **why);

/* Buffers are queue depth times block size: refuse a product we will not allocate. */
int opt_check_memory(unsigned int queue_depth, uint64_t block_size, const char **why);

#endif
