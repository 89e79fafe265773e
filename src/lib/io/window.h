/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The sliding window: how the engine reads the priority phases. Each phase
 * is a list of blocks in loader order (plan/order.h); free queue slots take
 * the first block not yet asked for, so the reads in flight are the next
 * queue-depth blocks a reader of the files will want, just ahead of it.
 * Where a reader of the files can be seen (their pages in the page cache),
 * the window follows it: blocks it has pulled in already are not read again,
 * and the window moves on past them.
 */
#ifndef BLKHYDRATE_WINDOW_H
#define BLKHYDRATE_WINDOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/range.h"

#define WINDOW_NO_FILE_OFF UINT64_MAX
#define WINDOW_LOOK_BLOCKS 64 /* blocks past the ones in flight looked at per follow */

enum window_state { WP_PENDING, WP_ISSUED, WP_DONE, WP_SKIPPED };

struct window_block {
	uint64_t off, len; /* device bytes, at most one engine block */
	uint64_t file_off; /* where they are in their file; WINDOW_NO_FILE_OFF: unknown */
	uint32_t file;	   /* the window's file number */
	uint8_t state;
};

struct window_ops {
	/*
	 * 1 when bytes [@off, @off + @len) of file @file are all in the page
	 * cache (a reader fetched them), 0 when not, <0 when it cannot tell.
	 * NULL: the reader is not followed.
	 */
	int (*resident)(void *arg, uint32_t file, uint64_t off, uint64_t len);
	/* Every block of file @file is read or was found in the page cache. */
	void (*warm)(void *arg, uint32_t file);
	void *arg;
};

struct window {
	struct window_block *v;
	size_t n;
	size_t *start; /* phase p is v[start[p]] up to v[start[p + 1]] */
	size_t nphases;
	size_t *next;	 /* per phase: no block before it is pending */
	size_t *pending; /* per phase: blocks not yet asked for */
	uint32_t nfiles;
	uint64_t *file_left; /* per file: blocks not yet read or skipped */
	struct window_ops ops;

	struct rangelist skipped; /* found in the page cache since the engine last took them */
	size_t skipped_taken;
	uint64_t skipped_bytes; /* all skipped so far */
	unsigned int look;	/* blocks looked at ahead per follow */
};

/*
 * A window of @nphases phases over @nfiles files. Add the blocks with
 * window_add() phase by phase, in order, then call window_seal().
 */
int window_init(struct window *w, size_t nphases, uint32_t nfiles, const struct window_ops *ops);
void window_free(struct window *w);

/*
 * Append device bytes [@off, @off + @len) of @file to phase @phase (phases
 * in order), cut into blocks of @block bytes, less @prior (normalized: read
 * by an earlier run; NULL: none). Returns 0 or -ENOMEM.
 */
int window_add(struct window *w, size_t phase, uint32_t file, uint64_t off, uint64_t len,
	       uint64_t file_off, uint64_t block, const struct rangelist *prior);
int window_seal(struct window *w);

/*
 * The next block of @phase to read: the first not asked for; blocks a reader
 * has in the page cache are skipped on the way. False when none is left.
 */
bool window_next(struct window *w, size_t phase, struct range *r, size_t *block);

/* Block @block (from window_next) was read, or given up: it is not pending any more. */
void window_done(struct window *w, size_t block);

/* Blocks of @phase not asked for yet. */
size_t window_pending(const struct window *w, size_t phase);

/*
 * Look at the blocks of @phase just past the ones in flight: those a reader
 * has in the page cache are skipped. While all it looks at are, it looks
 * further (the reader is ahead of the window), up to @rounds looks.
 * Returns the blocks skipped.
 */
size_t window_follow(struct window *w, size_t phase, unsigned int rounds);

/* One range skipped since the last call, for the engine's books. False when none. */
bool window_take_skipped(struct window *w, struct range *r);

#endif
