/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Touch mode: a volume restored from a snapshot that fetches the whole
 * snapshot block on any read of it is hydrated by reading one logical block
 * of each snapshot block, a small share of the volume's own throughput. The
 * plan of one job's touches: which piece each read takes, when to verify, and
 * what a verifying sample says. A sample reads, alone on the device, the
 * other end of a snapshot block whose touch completed: warm means the whole
 * block came; a cold sample, confirmed by the next one, means it did not,
 * and the job goes back to full reads.
 */
#ifndef BLKHYDRATE_TOUCH_H
#define BLKHYDRATE_TOUCH_H

#include <stdbool.h>
#include <stdint.h>

#include "base/range.h"

#define TOUCH_DEFAULT_BLOCK (512 * 1024) /* an EBS snapshot block */
#define TOUCH_FIRST_SAMPLE  16		 /* touches before the first sample */
#define TOUCH_SAMPLE_GROWTH 4		 /* each next sample after this many times more */

/* What a sample said. */
enum touch_verdict {
	TOUCH_WARM,    /* the whole block came: go on touching */
	TOUCH_SUSPECT, /* cold once: the next sample, soon, decides */
	TOUCH_COLD,    /* cold twice running: full reads from now on */
	TOUCH_NOTHING, /* the sample failed: no evidence either way */
};

struct touch_plan {
	/* Set by touch_init(). */
	uint64_t block;	       /* snapshot block size; 0: this job reads in full */
	uint64_t lbs;	       /* bytes of one touch: the logical block */
	uint64_t threshold_ns; /* a sample slower than this was cold */

	/* Kept as the job goes. */
	bool active;	      /* touching now (not switched to full reads) */
	bool switched;	      /* went back to full reads after cold samples */
	bool suspect;	      /* the last sample was cold */
	uint64_t touched;     /* touches completed */
	uint64_t next_sample; /* a sample is due once this many touches completed */
	bool have_last, have_prev;
	uint64_t last_off;    /* where the last completed touch read */
	uint64_t prev_off;    /* the last touch before it in another snapshot block */
	uint64_t confirm_off; /* after a cold sample: the touch whose block confirms it */
	unsigned int samples, cold_samples;
};

/* Touch snapshot blocks of @block bytes with reads of @lbs; @threshold_ns tells cold samples. */
void touch_init(struct touch_plan *tp, uint64_t block, uint64_t lbs, uint64_t threshold_ns);

/*
 * The next piece from a cursor: at most @max bytes, never across a snapshot
 * block boundary (an active plan), so that one touch stands for it. Returns 0
 * or -ENODATA.
 */
int touch_next(const struct touch_plan *tp, struct rangecursor *c, uint64_t max, struct range *r);

/* The read that touches piece @r: its length, from the piece's start. */
uint64_t touch_read_len(const struct touch_plan *tp, const struct range *r);

/* A touch at @off completed. */
void touch_done(struct touch_plan *tp, uint64_t off);

/*
 * The job read its last piece: true when it still owes a sample (none was
 * read yet, or the last one was cold), which is then due at once.
 */
bool touch_finish(struct touch_plan *tp);

/* True when a sample should be read now. */
bool touch_sample_due(const struct touch_plan *tp);

/*
 * Where the sample reads: the logical block at the other end of the snapshot
 * block of the last touch (after a cold sample: of the one before, in another
 * block), inside a target of @size bytes.
 */
uint64_t touch_sample_offset(const struct touch_plan *tp, uint64_t size);

/* A sample took @ns (@ok: it read what it asked). Schedules the next one; the verdict. */
enum touch_verdict touch_sample_done(struct touch_plan *tp, uint64_t ns, bool ok);

/*
 * Up to @n snapshot blocks of @block bytes that lie whole inside @phases,
 * spread over them, for the granularity probe: in the first phase when it
 * holds at least @min_first of them (the priority files' blocks are wanted
 * first anyway), else in all of them, so that probing fetches nothing the
 * plan leaves out. Returns how many offsets it put in @off.
 */
unsigned int touch_probe_places(const struct rangelist *phases, size_t nphases, uint64_t block,
				unsigned int n, unsigned int min_first, uint64_t *off);

/* Cold samples: stop touching. */
void touch_switch(struct touch_plan *tp);

#endif
