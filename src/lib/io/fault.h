/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Read faults: what the engine does when a read fails. A failed block is
 * retried a few times with back-off, then split in halves down to the
 * logical block size so that only the unreadable sectors are given up; those
 * are kept as bad ranges with their errno. A run of failures is checked
 * against a block that was read before (or the first block): if that fails
 * too, the volume went away and the job stops instead of splitting
 * everything into errors.
 */
#ifndef BLKHYDRATE_FAULT_H
#define BLKHYDRATE_FAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FAULT_RETRIES 3		/* retries of a whole block before it is split */
#define FAULT_BACKOFF_NS 10000000ULL	/* first back-off; each next one is 5 times longer */
#define FAULT_STREAK 16		/* failures in a row that make us check the volume */

/* A range that could not be read, and why (negative errno). */
struct bad_range {
	uint64_t off;
	uint64_t len;
	int err;
};

/* Sorted by offset; neighbours with the same errno are merged. */
struct badlist {
	struct bad_range *v;
	size_t n;
	size_t cap;
};

/* A piece to read again: a retried block or one half of a split. */
struct redo {
	uint64_t off;
	uint64_t len;
	uint64_t due_ns;	/* not before this time (engine clock) */
	unsigned int tries;	/* reads of this piece or its parent so far */
};

struct fault_state {
	struct redo *redo;	/* pieces waiting to be read again */
	size_t nredo, capredo;
	unsigned int streak;	/* failed completions since the last good one */
	bool have_good;
	uint64_t last_good;	/* offset of a block that was read */
	bool checking;		/* a read of last_good is in flight */
	uint64_t retries;	/* reads that were tried again */
};

/* What became of a failed read. */
enum fault_action {
	FAULT_QUEUED,		/* queued again (retry or halves): nothing lost yet */
	FAULT_BAD,		/* a logical block that cannot be read: add to the bad list */
	FAULT_VANISHED,		/* the device is gone: stop the job */
};

void fault_init(struct fault_state *fs);
void fault_free(struct fault_state *fs);

/*
 * A read of [@off, @off + @len) failed with @err after @tries reads. @lbs is
 * the logical block size, @now_ns the engine clock. Queues a retry or the
 * halves, or says the piece is bad, or that the device is gone. Returns the
 * action, or -ENOMEM.
 */
int fault_failed(struct fault_state *fs, uint64_t off, uint64_t len, unsigned int tries,
		 int err, uint64_t lbs, uint64_t now_ns);

/* A read at @off succeeded. */
void fault_good(struct fault_state *fs, uint64_t off);

/*
 * After a failure: true when a block should be read again to tell bad
 * sectors from a device that went away: last_good, or when nothing was read
 * yet (a resumed run may have only bad ranges left) the first block.
 */
bool fault_need_check(struct fault_state *fs);

/* Which block the liveness check reads. */
uint64_t fault_check_offset(const struct fault_state *fs);

/* The liveness check of last_good finished; false: it failed too, the device is gone. */
bool fault_check_done(struct fault_state *fs, bool ok);

/* Take a piece that is due; false when none is. */
bool fault_next(struct fault_state *fs, uint64_t now_ns, struct redo *out);

/* When the next piece is due (UINT64_MAX: none waiting). */
uint64_t fault_next_due(const struct fault_state *fs);

/* Forget every waiting piece (the job stopped). */
void fault_drop(struct fault_state *fs);

void badlist_init(struct badlist *bl);
void badlist_free(struct badlist *bl);

/* Record [@off, @off + @len) as unreadable with @err. Returns 0 or -ENOMEM. */
int badlist_add(struct badlist *bl, uint64_t off, uint64_t len, int err);

#endif
