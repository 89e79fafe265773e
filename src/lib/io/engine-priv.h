/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The engine's insides, shared by its files: engine.c (the main loop),
 * engine-fill.c (what each free slot reads next), engine-complete.c (what a
 * finished read means) and engine-setup.c (ring and buffers). Nothing outside
 * src/lib/io/engine*.c includes this.
 */
#ifndef BLKHYDRATE_ENGINE_PRIV_H
#define BLKHYDRATE_ENGINE_PRIV_H

#include <liburing.h>
#include <stdbool.h>
#include <stdint.h>

#include "io/engine.h"

#define BUF_ALIGN     4096
#define NO_BLOCK      SIZE_MAX
#define FOLLOW_ROUNDS 8 /* looks ahead per follow while the reader is ahead of the window */

enum read_kind {
	READ_FULL,   /* a block read in full */
	READ_TOUCH,  /* one logical block standing for the piece [span_off, +span_len) */
	READ_SAMPLE, /* a touched block's other end, read alone: was the whole block fetched? */
};

struct slot {
	struct job *job;
	enum read_kind kind;
	uint64_t span_off, span_len; /* a touch: the piece it hydrates */
	unsigned int gen;	     /* the job's gen when submitted */
	uint64_t off;		     /* where this read starts */
	uint64_t len;		     /* bytes asked (aligned) */
	uint64_t want;		     /* bytes that exist there (len clipped to the target size) */
	uint64_t got;		     /* bytes read so far (short reads) */
	uint64_t start_ns;	     /* first submission, for the latency a depth controller sees */
	unsigned int tries;	     /* reads of this piece so far, this one included */
	size_t block;		     /* its window block, or NO_BLOCK */
	char *buf;		     /* a block; NULL until needed when every job touches */
	char *tbuf;		     /* a touch's logical block, when a job touches */
	char *data;		     /* where this read goes: buf or tbuf */
	bool fixed;		     /* @data is a registered buffer */
	unsigned int index;
};

/* Which of the slots' buffers are registered with the ring. */
enum registered { REG_NONE, REG_FULL, REG_TOUCH };

struct engine {
	struct io_uring ring;
	const struct engine_opts *opts;
	struct job *jobs;
	size_t njobs;
	size_t rr;
	struct slot *slots;
	unsigned int *free; /* stack of free slot indexes */
	unsigned int nfree;
	char *mem;
	char *tmem; /* touch buffers, queue depth x tsize */
	uint64_t tsize;
	enum registered reg;
	bool fixed_buffers;
	bool fixed_files;
	uint64_t start_ns;
	uint64_t issued;	 /* bytes submitted, for the rate cap */
	unsigned int limit;	 /* reads allowed in flight now, <= queue depth */
	struct engine_pace pace; /* since the last pace call */
	struct slot check;	 /* liveness check: re-reads a good block when reads keep failing */
	unsigned int checks;	 /* checks submitted since the main loop last counted */
	struct slot sample;	 /* a touch-verifying sample, read alone */
	struct job *sampling;	 /* the job a sample is due for: nothing else is submitted */

	/* The main loop's clock: each period in ns (0: never), and when it is next due. */
	uint64_t tick_ns, next_tick;
	uint64_t pace_ns, last_pace;
	uint64_t save_ns, next_save;
	uint64_t follow_ns, next_follow;
	unsigned int inflight;
	bool stopping;
};

static inline uint64_t engine_elapsed(const struct engine *e)
{
	return engine_now_ns() - e->start_ns;
}

/* engine-fill.c */
int job_start_phase(struct job *j, const struct engine_opts *o);
bool job_in_window(const struct job *j);
void job_take_skipped(struct job *j);
int job_settle(struct engine *e, struct job *j);
void slot_submit(struct engine *e, struct slot *sl);
void lone_submit(struct engine *e, struct slot *p, struct job *j, enum read_kind kind, uint64_t off,
		 uint64_t len);
unsigned int engine_fill(struct engine *e, bool stopping, uint64_t *wait_ns);

/* engine-complete.c */
void job_read(struct job *j, uint64_t off, uint64_t n);
int engine_complete(struct engine *e, struct slot *sl, int res);

/* engine-setup.c */
int engine_setup(struct engine *e);
void engine_teardown(struct engine *e);
int engine_full_buffers(struct engine *e);

#endif
