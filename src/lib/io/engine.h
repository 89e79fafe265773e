/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The engine: reads the phases of one or more jobs with io_uring, many reads
 * in flight, each job's phase cut into strides read side by side.
 */
#ifndef BLKHYDRATE_ENGINE_H
#define BLKHYDRATE_ENGINE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "io/fault.h"
#include "io/lathist.h"
#include "io/touch.h"
#include "base/range.h"
#include "device/target.h"
#include "io/window.h"

struct job {
	/* Set by the caller. */
	struct target *target;
	const struct rangelist *phases;	/* read in this order, each finished before the next */
	size_t nphases;
	/*
	 * NULL, or the leading phases in loader order (io/window.h): phases
	 * below window->nphases are read from it instead of in strides. Its
	 * blocks must be those of the phases, cut at the engine's block size.
	 * A job that touches cuts each block at snapshot blocks; once it
	 * switches to full reads the engine drops the window (every phase
	 * starts again, in strides).
	 */
	struct window *window;
	struct touch_plan touch;	/* touch_init(), or all zero: full reads */

	/* Results, valid during progress callbacks and after engine_run(). */
	uint64_t planned;	/* bytes in all phases, clipped to the target size */
	uint64_t done;		/* bytes read (touched: hydrated) */
	uint64_t guest;		/* bytes the device returned: touches, samples, full reads */
	uint64_t io_bytes;	/* bytes the device moved for us, failed reads and checks too */
	uint64_t failed;	/* bytes whose read failed */
	unsigned int errors;	/* failed reads */
	int first_error;	/* negative errno of the first failure, or 0 */
	uint64_t first_error_off;
	bool vanished;		/* the device went away: the job stopped early */
	int vanish_err;		/* the negative errno that told us so */
	bool complete;		/* every planned byte was read */
	uint64_t *phase_ns;	/* when each phase finished, ns since start; 0: not finished */
	uint64_t end_ns;	/* when the job finished or stopped */
	struct badlist bad;	/* ranges that could not be read, with their errno */
	struct rangelist read;	/* ranges read so far (for checkpoints); normalized at ticks */

	/* Engine state. */
	size_t phase;
	unsigned int inflight;
	unsigned int nstrides;
	unsigned int rr;
	struct rangecursor *cursors;
	struct fault_state faults;	/* retries, splits, vanish checks */
	size_t read_norm;	/* entries of @read when it was last normalized */
	unsigned int gen;	/* bumped when touching stops: reads from before are stale */
	struct range wpiece;	/* touching through the window: what is left of a block */
	size_t wblock;		/* ... and which block it is */
};

/* What completed since the last pace call, for a depth controller. */
struct engine_pace {
	uint64_t ns;		/* since the last call */
	uint64_t bytes;
	uint64_t reads;		/* reads finished (whole blocks, after any short-read rest) */
	uint64_t lat_ns;	/* their summed latency, first submission to last completion */
	uint64_t inflight_ns;	/* reads in flight integrated over time: ns x reads */
	struct lat_hist hist;	/* their latencies */
	unsigned int limit;	/* reads allowed in flight during that time */
};

struct engine_opts {
	unsigned int queue_depth;	/* slots and buffers: the most ever in flight */
	unsigned int start_depth;	/* reads allowed in flight at first; 0: queue_depth */
	uint16_t ioprio;		/* SQE ioprio of every read; 0: the task's own */
	uint64_t block_size;
	unsigned int strides;	/* per job */
	uint64_t rate;		/* bytes per second over all jobs; 0: no cap */
	unsigned int tick_ms;	/* how often to call progress */
	void (*progress)(const struct job *jobs, size_t njobs, uint64_t elapsed_ns,
			 void *arg);
	/* Called when a job finishes a phase (the priority classes end at npriority). */
	void (*phase_done)(const struct job *job, size_t phase, void *arg);
	/*
	 * Called every pace_ms with what completed since the last call; returns
	 * the reads allowed in flight from now on (clamped to 1..queue_depth).
	 */
	unsigned int pace_ms;
	unsigned int (*pace)(const struct engine_pace *p, const struct job *jobs, size_t njobs,
			     void *arg);
	/* Called every save_ms, each job's @read normalized: checkpoints. */
	void (*save)(const struct job *jobs, size_t njobs, void *arg);
	/*
	 * Called right before each pace call, before the engine reaps once
	 * more: what the device's counters say then is no later than what
	 * the pace call sees reaped (yielding compares the two).
	 */
	void (*look)(void *arg);
	unsigned int save_ms;
	/*
	 * How often a window follows its reader (0: ENGINE_FOLLOW_MS), and a
	 * hook called as often for work that rides along the reads (preloading).
	 */
	unsigned int follow_ms;
	void (*idle)(const struct job *jobs, size_t njobs, void *arg);
	void *arg;
	volatile sig_atomic_t *stop;	/* set from a signal handler: drain and return */
};

/* What the engine had to settle for; reported, never fatal. */
#define ENGINE_FOLLOW_MS 20

struct engine_info {
	bool fixed_buffers;
	bool fixed_files;
	bool interrupted;
	uint64_t elapsed_ns;
};

/*
 * Read every job's phases. Returns 0 when the run ended (read errors are
 * counted in the jobs, not returned), or -errno when it could not run at all
 * (io_uring unavailable, out of memory).
 */
int engine_run(struct job *jobs, size_t njobs, const struct engine_opts *opts,
	       struct engine_info *info);

/* Release what engine_run() allocated in @job. */
void job_release(struct job *job);

uint64_t engine_now_ns(void);

#endif
