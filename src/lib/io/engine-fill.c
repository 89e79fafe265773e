/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The engine's submission side: which block each free slot reads next (a
 * job's window in loader order, else its strides in turn, or a redo that
 * fell due), under the rate cap and the depth the pacer allows, and when a
 * phase is finished so that the next one may start.
 */
#include "config.h"

#include <errno.h>
#include <liburing.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>

#include "io/engine-priv.h"

/* Cut the job's current phase into strides. Returns 0 or -ENOMEM. */
int job_start_phase(struct job *j, const struct engine_opts *o)
{
	const struct rangelist *rl = &j->phases[j->phase];
	uint64_t total = rangelist_bytes(rl), blocks, span;
	unsigned int s, n = o->strides;

	blocks = (total + o->block_size - 1) / o->block_size;
	if (blocks < n)
		n = blocks ? (unsigned int)blocks : 1;
	span = (blocks + n - 1) / n * o->block_size;
	free(j->cursors);
	j->cursors = calloc(n, sizeof(*j->cursors));
	if (!j->cursors)
		return -ENOMEM;
	j->nstrides = n;
	j->rr = 0;
	for (s = 0; s < n; s++) {
		uint64_t start = s * span;
		uint64_t len = start < total ? total - start : 0;

		rangecursor_init(&j->cursors[s], rl, start, len < span ? len : span);
	}
	return 0;
}

/* The job's current phase is read from its window, in loader order. */
bool job_in_window(const struct job *j)
{
	return j->window && j->phase < j->window->nphases && j->phase < j->nphases;
}

/* Blocks a reader pulled into the page cache count as read: the device has them. */
void job_take_skipped(struct job *j)
{
	struct range r;
	uint64_t n;

	while (window_take_skipped(j->window, &r)) {
		n = range_clipped_len(r.off, r.len, j->target->size);
		job_read(j, r.off, n);
		j->done += n;
	}
}

/*
 * Move a job past every phase it has finished: all strides handed out and no
 * read of it in flight. Returns 0 or -ENOMEM.
 */
int job_settle(struct engine *e, struct job *j)
{
	unsigned int s;
	int rc;

	while (j->phase < j->nphases && !j->inflight && !j->faults.nredo) {
		if (job_in_window(j) && window_pending(j->window, j->phase))
			return 0;
		for (s = 0; !job_in_window(j) && s < j->nstrides; s++)
			if (j->cursors[s].left && j->cursors[s].idx < j->cursors[s].rl->n)
				return 0;
		j->phase_ns[j->phase] = engine_elapsed(e);
		if (e->opts->phase_done)
			e->opts->phase_done(j, j->phase, e->opts->arg);
		if (++j->phase == j->nphases) {
			j->end_ns = engine_elapsed(e);
			j->complete = !j->failed && j->done == j->planned;
			/* A job that touched still owes a sample when none said its blocks came
			 * whole. */
			touch_finish(&j->touch);
			return 0;
		}
		rc = job_start_phase(j, e->opts);
		if (rc)
			return rc;
	}
	return 0;
}

/*
 * Touching through the window: its blocks in loader order, each cut at
 * snapshot blocks, one touch a piece (as touch_next() cuts strides).
 */
static bool window_touch_next(struct job *j, struct range *r, size_t *block)
{
	uint64_t edge;

	if (!j->wpiece.len) {
		bool got = window_next(j->window, j->phase, &j->wpiece, &j->wblock);

		job_take_skipped(j);
		if (!got) {
			j->wpiece.len = 0;
			return false;
		}
	}
	edge = j->touch.block - j->wpiece.off % j->touch.block;
	r->off = j->wpiece.off;
	r->len = edge < j->wpiece.len ? edge : j->wpiece.len;
	j->wpiece.off += r->len;
	j->wpiece.len -= r->len;
	*block = j->wblock;
	return true;
}

/* Next block of @j to read: from its window, or from its strides in turn. */
static bool job_next(struct job *j, uint64_t max, struct range *r, size_t *block)
{
	unsigned int k;

	*block = NO_BLOCK;
	if (j->phase >= j->nphases || j->vanished)
		return false;
	if (job_in_window(j) && j->touch.active)
		return window_touch_next(j, r, block);
	if (job_in_window(j)) {
		bool got = window_next(j->window, j->phase, r, block);

		job_take_skipped(j);
		return got;
	}
	for (k = 0; k < j->nstrides; k++) {
		unsigned int s = (j->rr + k) % j->nstrides;

		if (!touch_next(&j->touch, &j->cursors[s], max, r)) {
			j->rr = (s + 1) % j->nstrides;
			return true;
		}
	}
	return false;
}

/* A failed piece to read again if one is due, else the next block. */
static bool job_pick(struct engine *e, struct job *j, struct range *r, unsigned int *tries,
		     size_t *block, bool *redo)
{
	struct redo rd;

	*block = NO_BLOCK;
	if (j->vanished)
		return false;
	*redo = j->faults.nredo && fault_next(&j->faults, engine_elapsed(e), &rd);
	if (*redo) {
		r->off = rd.off;
		r->len = rd.len;
		*tries = rd.tries;
		return true;
	}
	*tries = 1;
	return job_next(j, e->opts->block_size, r, block);
}

void slot_submit(struct engine *e, struct slot *sl)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&e->ring);
	struct job *j = sl->job;
	int fd = e->fixed_files ? (int)(j - e->jobs) : j->target->fd;
	unsigned int len = (unsigned int)(sl->len - sl->got);
	uint64_t off = sl->off + sl->got;

	/* One entry per slot plus the check's and the sample's, so this cannot fail. */
	if (sl->fixed)
		io_uring_prep_read_fixed(sqe, fd, sl->data + sl->got, len, off, (int)sl->index);
	else
		io_uring_prep_read(sqe, fd, sl->data + sl->got, len, off);
	if (e->fixed_files)
		sqe->flags |= IOSQE_FIXED_FILE;
	sqe->ioprio = e->opts->ioprio;
	io_uring_sqe_set_data(sqe, sl);
}

/* Bytes the rate cap lets us have issued by now; the burst is one block. */
static bool rate_allows(const struct engine *e, uint64_t len, uint64_t *wait_ns)
{
	const struct engine_opts *o = e->opts;
	double allowed, need_ns;

	if (!o->rate)
		return true;
	allowed = (double)o->rate * (double)engine_elapsed(e) / 1e9 + (double)o->block_size;
	if ((double)(e->issued + len) <= allowed)
		return true;
	need_ns = ((double)(e->issued + len) - (double)o->block_size) / (double)o->rate * 1e9;
	*wait_ns =
	    (uint64_t)need_ns > engine_elapsed(e) ? (uint64_t)need_ns - engine_elapsed(e) : 0;
	return false;
}

/* Set @sl up for piece @r of @j: a full read, or (@touch) one logical block standing for it. */
static void slot_prepare(struct engine *e, struct slot *sl, struct job *j, const struct range *r,
			 bool touch)
{
	sl->job = j;
	sl->gen = j->gen;
	sl->off = r->off;
	if (touch) {
		sl->kind = READ_TOUCH;
		sl->span_off = r->off;
		sl->span_len = range_clipped_len(r->off, r->len, j->target->size);
		sl->len = touch_read_len(&j->touch, r);
		sl->data = sl->tbuf;
		sl->fixed = e->reg == REG_TOUCH;
	} else {
		sl->kind = READ_FULL;
		sl->len = r->len;
		sl->data = sl->buf;
		sl->fixed = e->reg == REG_FULL;
	}
	sl->want = range_clipped_len(sl->off, sl->len, j->target->size);
	sl->got = 0;
	sl->start_ns = engine_now_ns();
}

/* Submit lone slot @p (a sample, a check): @len bytes at @off of @j, read once. */
void lone_submit(struct engine *e, struct slot *p, struct job *j, enum read_kind kind, uint64_t off,
		 uint64_t len)
{
	p->job = j;
	p->gen = j->gen;
	p->kind = kind;
	p->off = off;
	p->len = p->want = len;
	p->got = 0;
	p->tries = 1;
	p->block = NO_BLOCK;
	p->data = p->buf;
	p->fixed = false;
	j->inflight++;
	p->start_ns = engine_now_ns();
	slot_submit(e, p);
}

/* Read the sample due for @j, alone. */
static void sample_submit(struct engine *e, struct job *j)
{
	lone_submit(e, &e->sample, j, READ_SAMPLE, touch_sample_offset(&j->touch, j->target->size),
		    j->touch.lbs);
}

/*
 * A sample due holds every other read back until nothing is in flight, so
 * that its latency is the device's; then it goes alone. Returns true while
 * a sample is due or out; *@queued: 1 when it was submitted now.
 */
static bool sample_fill(struct engine *e, unsigned int *queued)
{
	size_t i;

	if (e->sample.job)
		return true;
	for (i = 0; i < e->njobs && !e->sampling; i++)
		if (!e->jobs[i].vanished && touch_sample_due(&e->jobs[i].touch))
			e->sampling = &e->jobs[i];
	if (!e->sampling)
		return false;
	if (!e->inflight) {
		sample_submit(e, e->sampling);
		*queued = 1;
	}
	return true;
}

/*
 * A failed touch is touched again while the backend may only have been busy;
 * a piece that keeps failing is read in full (a failed touch says nothing of
 * the rest), split down to the bad sectors.
 */
static bool redo_touches(const struct job *j, bool redo, unsigned int tries)
{
	return j->touch.active && (!redo || tries <= FAULT_RETRIES);
}

/* Fill free slots. Returns how many reads were queued; *wait_ns set when the cap held us. */
unsigned int engine_fill(struct engine *e, bool stopping, uint64_t *wait_ns)
{
	unsigned int queued = 0;
	size_t tries;

	if (!stopping && sample_fill(e, &queued))
		return queued;
	while (e->nfree && e->opts->queue_depth - e->nfree < e->limit && !stopping) {
		struct range r;
		struct job *j = NULL;
		unsigned int ntries;
		size_t block;
		bool redo;

		if (!rate_allows(e, e->opts->block_size, wait_ns))
			break;
		for (tries = 0; tries < e->njobs; tries++) {
			struct job *c = &e->jobs[(e->rr + tries) % e->njobs];

			if (job_pick(e, c, &r, &ntries, &block, &redo)) {
				j = c;
				e->rr = (e->rr + tries + 1) % e->njobs;
				break;
			}
		}
		if (!j)
			break;

		struct slot *sl = &e->slots[e->free[--e->nfree]];

		slot_prepare(e, sl, j, &r, redo_touches(j, redo, ntries));
		sl->tries = ntries;
		sl->block = block;
		j->inflight++;
		e->issued += r.len;
		slot_submit(e, sl);
		queued++;
	}
	return queued;
}
