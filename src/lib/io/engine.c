/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The io_uring read engine.
 *
 * Every slot of the queue owns one block-sized buffer, registered with the
 * ring once, so memory is bounded by queue depth times block size whatever
 * the size of the volume. A job's current phase is cut into strides of equal
 * bytes; free slots take the next block from the strides in turn, so the reads
 * in flight are spread over the volume instead of crowding one window. A phase
 * is finished, and its time recorded, before the next one starts: the
 * priority extents are warm before anything else is fetched.
 *
 * A job in touch mode (touch.h) reads one logical block of each snapshot
 * block instead, into small buffers of their own, and counts the piece as
 * hydrated. Now and then the queue is let drain and one sample is read
 * alone; when samples say the volume fetches only what is read, the job
 * starts again from its first phase with full reads (whatever was touched
 * must be read), and reads still in flight from before are stale. The full
 * buffers of a job that touches are only allocated when it needs them.
 * Priority phases with a window (window.h) are read in its loader order
 * instead of in strides; touching, each window block is cut at snapshot
 * blocks and is done once its last touch is; a switch to full reads drops
 * the window, whose books count the touches as reads.
 */
#include "config.h"

#include <errno.h>
#include <liburing.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>

#include "io/engine-priv.h"

uint64_t engine_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int jobs_init(struct engine *e)
{
	size_t i, p;
	int rc;

	for (i = 0; i < e->njobs; i++) {
		struct job *j = &e->jobs[i];

		j->planned = j->done = j->failed = 0;
		j->errors = 0;
		j->first_error = 0;
		j->vanished = j->complete = false;
		j->vanish_err = 0;
		j->phase = 0;
		j->inflight = 0;
		j->cursors = NULL;
		badlist_init(&j->bad);
		rangelist_init(&j->read);
		j->read_norm = 0;
		j->guest = 0;
		j->io_bytes = 0;
		j->gen = 0;
		j->wpiece.len = 0;
		j->wblock = NO_BLOCK;
		fault_init(&j->faults);
		j->phase_ns = calloc(j->nphases ? j->nphases : 1, sizeof(*j->phase_ns));
		if (!j->phase_ns)
			return -ENOMEM;
		for (p = 0; p < j->nphases; p++) {
			const struct rangelist *rl = &j->phases[p];

			for (size_t k = 0; k < rl->n; k++) {
				uint64_t s = rl->v[k].off, end = s + rl->v[k].len;

				if (end > j->target->size)
					end = j->target->size;
				if (end > s)
					j->planned += end - s;
			}
		}
		if (!j->nphases) {
			j->complete = true;
			continue;
		}
		rc = job_start_phase(j, e->opts);
		if (rc)
			return rc;
		rc = job_settle(e, j);
		if (rc)
			return rc;
	}
	return 0;
}

/* Shorten *@wait_ns to when the first piece waiting to be retried is due. */
static void redo_wait(const struct engine *e, uint64_t *wait_ns)
{
	uint64_t now = engine_elapsed(e), due;
	size_t i;

	for (i = 0; i < e->njobs; i++) {
		if (!e->jobs[i].faults.nredo)
			continue;
		due = fault_next_due(&e->jobs[i].faults);
		if (due <= now)
			*wait_ns = 0;
		else if (due - now < *wait_ns)
			*wait_ns = due - now;
	}
}

static bool all_done(const struct engine *e)
{
	size_t i;

	for (i = 0; i < e->njobs; i++)
		if (e->jobs[i].phase < e->jobs[i].nphases && !e->jobs[i].vanished)
			return false;
	return true;
}

/* How long to wait for completions: until the next tick, pace or save, or a redo falls due. */
static uint64_t wait_budget(struct engine *e)
{
	uint64_t wait_ns = e->tick_ns ? e->tick_ns : 1000000000ULL, now;

	e->inflight += engine_fill(e, e->stopping, &wait_ns);
	redo_wait(e, &wait_ns);
	now = engine_elapsed(e);
	if (e->tick_ns && e->next_tick > now && e->next_tick - now < wait_ns)
		wait_ns = e->next_tick - now;
	if (e->pace_ns && e->last_pace + e->pace_ns > now &&
	    e->last_pace + e->pace_ns - now < wait_ns)
		wait_ns = e->last_pace + e->pace_ns - now;
	if (e->save_ns && e->next_save > now && e->next_save - now < wait_ns)
		wait_ns = e->next_save - now;
	if (e->follow_ns && e->next_follow > now && e->next_follow - now < wait_ns)
		wait_ns = e->next_follow - now;
	return wait_ns;
}

/* Submit, and wait up to @wait_ns for one completion. Returns 0 or a fatal -errno. */
static int submit_and_wait(struct engine *e, uint64_t wait_ns)
{
	struct __kernel_timespec ts;
	struct io_uring_cqe *cqe;
	int rc;

	ts.tv_sec = (long long)(wait_ns / 1000000000ULL);
	ts.tv_nsec = (long long)(wait_ns % 1000000000ULL);
	rc = io_uring_submit_and_wait_timeout(&e->ring, &cqe, e->inflight ? 1 : 0, &ts, NULL);
	if (rc < 0 && rc != -ETIME && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY)
		return rc;
	if (!e->inflight && rc != -EINTR) {
		/* Held back by the rate cap with nothing in flight: sleep it off. */
		struct timespec sl = {(time_t)ts.tv_sec, (long)ts.tv_nsec};

		nanosleep(&sl, NULL);
	}
	return 0;
}

/* Handle every completion there is. Returns 0 or a fatal -errno. */
static int reap(struct engine *e)
{
	struct io_uring_cqe *cqe;
	unsigned int head, seen = 0;
	int rc = 0;

	io_uring_for_each_cqe(&e->ring, head, cqe)
	{
		struct slot *sl = io_uring_cqe_get_data(cqe);
		struct job *j = sl->job; /* the check forgets its job */

		seen++;
		rc = engine_complete(e, sl, cqe->res);
		if (rc < 0) {
			e->inflight--;
			break;
		}
		if (!rc) {
			e->inflight--;
			rc = job_settle(e, j);
			if (rc)
				break;
		}
	}
	io_uring_cq_advance(&e->ring, seen);
	if (rc > 0)
		rc = 0;
	e->inflight += e->checks;
	e->checks = 0;
	return rc;
}

/*
 * Each window looks where its reader is; what the reader pulled in is off the
 * books, and a phase it finished is settled. Returns 0 or -ENOMEM.
 */
static int follow(struct engine *e)
{
	size_t i;
	int rc;

	for (i = 0; i < e->njobs; i++) {
		struct job *j = &e->jobs[i];

		if (!job_in_window(j) || j->vanished)
			continue;
		window_follow(j->window, j->phase, FOLLOW_ROUNDS);
		job_take_skipped(j);
		rc = job_settle(e, j);
		if (rc)
			return rc;
	}
	if (e->opts->idle)
		e->opts->idle(e->jobs, e->njobs, e->opts->arg);
	return 0;
}

/* What falls due at @now: a new depth from the pacer, a progress tick, a checkpoint. */
static int run_timers(struct engine *e, uint64_t now)
{
	const struct engine_opts *opts = e->opts;
	size_t i;
	int rc;

	if (e->pace_ns && now >= e->last_pace + e->pace_ns) {
		if (opts->look) {
			opts->look(opts->arg);
			io_uring_get_events(&e->ring);
			rc = reap(e);
			if (rc)
				return rc;
		}
		e->pace.ns = now - e->last_pace;
		e->pace.limit = e->limit;
		e->limit = opts->pace(&e->pace, e->jobs, e->njobs, opts->arg);
		if (e->limit < 1)
			e->limit = 1;
		if (e->limit > opts->queue_depth)
			e->limit = opts->queue_depth;
		memset(&e->pace, 0, sizeof(e->pace));
		e->last_pace = now;
	}
	if (e->tick_ns && now >= e->next_tick) {
		if (opts->progress)
			opts->progress(e->jobs, e->njobs, now, opts->arg);
		e->next_tick = now + e->tick_ns;
	}
	if (e->save_ns && now >= e->next_save) {
		for (i = 0; i < e->njobs; i++) {
			rangelist_normalize(&e->jobs[i].read);
			e->jobs[i].read_norm = e->jobs[i].read.n;
		}
		opts->save(e->jobs, e->njobs, opts->arg);
		e->next_save = now + e->save_ns;
	}
	if (e->follow_ns && now >= e->next_follow) {
		e->next_follow = now + e->follow_ns;
		return follow(e);
	}
	return 0;
}

/* The main loop: fill, wait, reap, and what falls due, until all is read or we stop. */
static int run_loop(struct engine *e)
{
	const struct engine_opts *opts = e->opts;
	uint64_t wait_ns, now, waited;
	unsigned int held;
	int rc;

	for (;;) {
		if (opts->stop && *opts->stop)
			e->stopping = true;
		wait_ns = wait_budget(e);
		if (!e->inflight && (e->stopping || all_done(e)))
			return 0;
		held = e->inflight;
		waited = engine_elapsed(e);
		rc = submit_and_wait(e, wait_ns);
		if (!rc)
			rc = reap(e);
		if (rc)
			return rc;
		now = engine_elapsed(e);
		/* Reads in flight only change as we reap: the count held while we waited. */
		e->pace.inflight_ns += (uint64_t)held * (now - waited);
		rc = run_timers(e, now);
		if (rc)
			return rc;
	}
}

/* After an error, reads still in flight point into our buffers: wait them out first. */
static void drain(struct engine *e)
{
	struct io_uring_cqe *cqe;
	int err;

	while (e->inflight) {
		err = io_uring_submit_and_wait(&e->ring, 1);
		if (err == -EINTR)
			continue;
		if (err < 0 || io_uring_peek_cqe(&e->ring, &cqe))
			break;
		io_uring_cqe_seen(&e->ring, cqe);
		e->inflight--;
	}
}

int engine_run(struct job *jobs, size_t njobs, const struct engine_opts *opts,
	       struct engine_info *info)
{
	struct engine e;
	size_t i;
	int rc;

	memset(&e, 0, sizeof(e));
	memset(info, 0, sizeof(*info));
	e.opts = opts;
	e.jobs = jobs;
	e.njobs = njobs;
	e.limit = opts->start_depth && opts->start_depth < opts->queue_depth ? opts->start_depth
									     : opts->queue_depth;
	e.tick_ns = (uint64_t)opts->tick_ms * 1000000ULL;
	e.pace_ns = opts->pace ? (uint64_t)opts->pace_ms * 1000000ULL : 0;
	e.save_ns = opts->save ? (uint64_t)opts->save_ms * 1000000ULL : 0;
	for (i = 0; i < njobs; i++)
		if (jobs[i].window || opts->idle)
			e.follow_ns =
			    (uint64_t)(opts->follow_ms ? opts->follow_ms : ENGINE_FOLLOW_MS) *
			    1000000ULL;
	rc = engine_setup(&e);
	if (rc)
		return rc;
	e.start_ns = engine_now_ns();
	e.next_tick = e.tick_ns;
	e.next_save = e.save_ns;
	rc = jobs_init(&e);
	if (!rc)
		rc = run_loop(&e);
	e.inflight += e.checks;
	info->elapsed_ns = engine_elapsed(&e);
	info->interrupted = e.stopping;
	info->fixed_buffers = e.fixed_buffers;
	info->fixed_files = e.fixed_files;
	for (i = 0; i < njobs; i++) {
		if (!jobs[i].end_ns)
			jobs[i].end_ns = info->elapsed_ns;
		rangelist_normalize(&jobs[i].read);
	}
	if (rc)
		drain(&e);
	engine_teardown(&e);
	return rc;
}

void job_release(struct job *job)
{
	free(job->cursors);
	free(job->phase_ns);
	badlist_free(&job->bad);
	rangelist_free(&job->read);
	fault_free(&job->faults);
	job->cursors = NULL;
	job->phase_ns = NULL;
}
