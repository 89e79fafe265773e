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

static int engine_full_buffers(struct engine *e);

uint64_t engine_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t elapsed(const struct engine *e)
{
	return engine_now_ns() - e->start_ns;
}

/* Cut the job's current phase into strides. Returns 0 or -ENOMEM. */
static int job_start_phase(struct job *j, const struct engine_opts *o)
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
static bool in_window(const struct job *j)
{
	return j->window && j->phase < j->window->nphases && j->phase < j->nphases;
}

static void job_read(struct job *j, uint64_t off, uint64_t n);

/* Blocks a reader pulled into the page cache count as read: the device has them. */
static void job_take_skipped(struct job *j)
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
static int job_settle(struct engine *e, struct job *j)
{
	unsigned int s;
	int rc;

	while (j->phase < j->nphases && !j->inflight && !j->faults.nredo) {
		if (in_window(j) && window_pending(j->window, j->phase))
			return 0;
		for (s = 0; !in_window(j) && s < j->nstrides; s++)
			if (j->cursors[s].left && j->cursors[s].idx < j->cursors[s].rl->n)
				return 0;
		j->phase_ns[j->phase] = elapsed(e);
		if (e->opts->phase_done)
			e->opts->phase_done(j, j->phase, e->opts->arg);
		if (++j->phase == j->nphases) {
			j->end_ns = elapsed(e);
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
	if (in_window(j) && j->touch.active)
		return window_touch_next(j, r, block);
	if (in_window(j)) {
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
	*redo = j->faults.nredo && fault_next(&j->faults, elapsed(e), &rd);
	if (*redo) {
		r->off = rd.off;
		r->len = rd.len;
		*tries = rd.tries;
		return true;
	}
	*tries = 1;
	return job_next(j, e->opts->block_size, r, block);
}

static void slot_submit(struct engine *e, struct slot *sl)
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
	allowed = (double)o->rate * (double)elapsed(e) / 1e9 + (double)o->block_size;
	if ((double)(e->issued + len) <= allowed)
		return true;
	need_ns = ((double)(e->issued + len) - (double)o->block_size) / (double)o->rate * 1e9;
	*wait_ns = (uint64_t)need_ns > elapsed(e) ? (uint64_t)need_ns - elapsed(e) : 0;
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
static void lone_submit(struct engine *e, struct slot *p, struct job *j, enum read_kind kind,
			uint64_t off, uint64_t len)
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

/* Fill free slots. Returns how many reads were queued; *wait_ns set when the cap held us. */
static unsigned int fill(struct engine *e, bool stopping, uint64_t *wait_ns)
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

		/* A piece read again is read in full: a failed touch says nothing of the rest. */
		slot_prepare(e, sl, j, &r, !redo && j->touch.active);
		sl->tries = ntries;
		sl->block = block;
		j->inflight++;
		e->issued += r.len;
		slot_submit(e, sl);
		queued++;
	}
	return queued;
}

static void job_vanish(struct job *j, int err)
{
	if (j->vanished)
		return;
	j->vanished = true;
	j->vanish_err = err;
	fault_drop(&j->faults);
}

/* Read one logical block of @j that was read before, to see whether the device is still there. */
static void check_submit(struct engine *e, struct job *j)
{
	struct slot *p = &e->check;

	if (p->job) {
		/* Another job's check is out: this one asks again at its next failure. */
		j->faults.checking = false;
		return;
	}
	e->checks++;
	lone_submit(e, p, j, READ_FULL, fault_check_offset(&j->faults), j->target->align);
}

static void check_complete(struct engine *e, struct slot *p, int res)
{
	struct job *j = p->job;

	p->job = NULL;
	j->inflight--;
	if (!fault_check_done(&j->faults, res > 0))
		job_vanish(j, res < 0 ? res : -EIO);
}

/* Give up the bytes of [off, off + len) that exist. */
static int job_bad(struct job *j, uint64_t off, uint64_t len, int err)
{
	uint64_t end = off + len < j->target->size ? off + len : j->target->size;

	if (end <= off)
		return 0;
	j->errors++;
	j->failed += end - off;
	if (!j->first_error || off < j->first_error_off) {
		j->first_error = err;
		j->first_error_off = off;
	}
	return badlist_add(&j->bad, off, end - off, err);
}

/*
 * A read failed: retry it, split it, give a sector up, or decide that the
 * device is gone. Returns 0 or -ENOMEM.
 */
static int slot_fail(struct engine *e, struct slot *sl, int err)
{
	struct job *j = sl->job;
	uint64_t lbs = j->target->align;
	uint64_t got = sl->got / lbs * lbs; /* a short read before the error: keep what came */
	uint64_t off = sl->off + got, len = sl->len - got;
	int rc;

	if (j->vanished)
		return 0;
	if (sl->kind == READ_TOUCH) {
		/* The piece is read again in full, with the retries and splits of any block. */
		rc = engine_full_buffers(e);
		if (rc)
			return rc;
		off = sl->span_off;
		len = sl->span_len;
	}
	rc = fault_failed(&j->faults, off, len, sl->tries, err, lbs, elapsed(e));
	if (rc < 0)
		return rc;
	if (rc == FAULT_VANISHED)
		job_vanish(j, err);
	else if (rc == FAULT_BAD && job_bad(j, off, len, err))
		return -ENOMEM;
	if (fault_need_check(&j->faults))
		check_submit(e, j);
	return 0;
}

/* Remember what was read, for checkpoints; losing an entry only costs a re-read. */
static void job_read(struct job *j, uint64_t off, uint64_t n)
{
	if (!n || rangelist_add(&j->read, off, n))
		return;
	if (j->read.n > 2 * j->read_norm + 64) {
		rangelist_normalize(&j->read);
		j->read_norm = j->read.n;
	}
}

/* A touch read what it asked: its whole piece counts as hydrated. */
static void touch_landed(struct engine *e, struct slot *sl)
{
	struct job *j = sl->job;

	job_read(j, sl->span_off, sl->span_len);
	j->done += sl->span_len;
	e->pace.bytes += sl->span_len;
	touch_done(&j->touch, sl->off);
}

/*
 * Samples say the volume fetches only what is read: every phase of @j again,
 * from the first, in full reads; what the touches counted is forgotten.
 * Returns 0 or -ENOMEM.
 */
static int job_switch_full(struct engine *e, struct job *j)
{
	int rc = engine_full_buffers(e);

	if (rc)
		return rc;
	touch_switch(&j->touch);
	j->gen++;
	j->done = j->failed = 0;
	j->errors = 0;
	j->first_error = 0;
	j->complete = false;
	j->end_ns = 0;
	badlist_free(&j->bad);
	badlist_init(&j->bad);
	rangelist_free(&j->read);
	rangelist_init(&j->read);
	j->read_norm = 0;
	fault_drop(&j->faults);
	memset(j->phase_ns, 0, (j->nphases ? j->nphases : 1) * sizeof(*j->phase_ns));
	j->phase = 0;
	/* The window counts the touched blocks as done: the phases start again in strides. */
	j->window = NULL;
	j->wpiece.len = 0;
	return j->nphases ? job_start_phase(j, e->opts) : 0;
}

/* A sample came back. Returns 0 or -ENOMEM. */
static int sample_complete(struct engine *e, struct slot *p, int res)
{
	struct job *j = p->job;
	uint64_t ns = engine_now_ns() - p->start_ns;

	p->job = NULL;
	e->sampling = NULL;
	j->inflight--;
	j->guest += res > 0 ? (uint64_t)res : 0;
	if (p->gen != j->gen || !j->touch.active || j->vanished)
		return 0;
	if (touch_sample_done(&j->touch, ns, res == (int)p->want) != TOUCH_COLD)
		return 0;
	/* A checkpoint at once: the one on disk still counts the touched pieces as read. */
	e->next_save = 0;
	return job_switch_full(e, j);
}

/*
 * @sl ends its window block: a block cut into touches is done when none of
 * it is left to hand out or in flight.
 */
static bool block_last(const struct engine *e, const struct slot *sl)
{
	const struct job *j = sl->job;
	unsigned int i;

	if (sl->kind != READ_TOUCH)
		return true;
	if (j->wpiece.len && j->wblock == sl->block)
		return false;
	for (i = 0; i < e->opts->queue_depth; i++)
		if (&e->slots[i] != sl && e->slots[i].job == j && e->slots[i].block == sl->block)
			return false;
	return true;
}

/*
 * Handle one completion. Returns 1 when the slot was queued again, 0 when it
 * is free, or -ENOMEM.
 */
static int complete_one(struct engine *e, struct slot *sl, int res)
{
	struct job *j = sl->job;
	int rc = 0;

	if (res == -EAGAIN || res == -EINTR) {
		slot_submit(e, sl);
		return 1;
	}
	if (sl == &e->check) {
		check_complete(e, sl, res);
		return 0;
	}
	if (sl == &e->sample)
		return sample_complete(e, sl, res);
	if (sl->gen != j->gen) {
		/* From before the job stopped touching: its phases start again without it. */
		j->guest += res > 0 ? (uint64_t)res : 0;
		j->inflight--;
		sl->block = NO_BLOCK;
		e->free[e->nfree++] = sl->index;
		return 0;
	}
	if (res < 0) {
		rc = slot_fail(e, sl, res);
	} else {
		uint64_t n = (uint64_t)res;

		if (sl->got + n > sl->want)
			n = sl->want - sl->got;
		j->guest += n;
		if (sl->kind == READ_FULL) {
			job_read(j, sl->off + sl->got, n);
			j->done += n;
			e->pace.bytes += n;
		}
		sl->got += n;
		if (n)
			fault_good(&j->faults, sl->off);
		if (res > 0 && sl->got < sl->want) {
			/* Short read: ask for the rest, as liburing's examples do. */
			slot_submit(e, sl);
			return 1;
		}
		if (sl->got < sl->want)
			rc = slot_fail(e, sl, -EIO); /* end of data before the end of the target */
		else if (sl->kind == READ_TOUCH)
			touch_landed(e, sl);
	}
	j->inflight--;
	if (sl->block != NO_BLOCK && block_last(e, sl))
		window_done(j->window, sl->block);
	sl->block = NO_BLOCK;
	e->pace.reads++;
	e->pace.lat_ns += engine_now_ns() - sl->start_ns;
	e->free[e->nfree++] = sl->index;
	return rc;
}

static void engine_teardown(struct engine *e)
{
	io_uring_queue_exit(&e->ring);
	free(e->slots);
	free(e->free);
	free(e->mem);
	free(e->tmem);
	free(e->check.buf);
	free(e->sample.buf);
}

/* The slots' block buffers: at setup when a job reads in full, else once one must. */
static int engine_full_buffers(struct engine *e)
{
	const struct engine_opts *o = e->opts;
	unsigned int i;

	if (e->mem)
		return 0;
	if (posix_memalign((void **)&e->mem, BUF_ALIGN, o->queue_depth * o->block_size)) {
		e->mem = NULL;
		return -ENOMEM;
	}
	for (i = 0; i < o->queue_depth; i++)
		e->slots[i].buf = e->mem + (size_t)i * o->block_size;
	return 0;
}

/* A touch buffer's size: the largest touch of any job, 0 when no job touches. */
static uint64_t touch_buffer_size(const struct engine *e)
{
	uint64_t size = 0;
	size_t i;

	for (i = 0; i < e->njobs; i++)
		if (e->jobs[i].touch.active && e->jobs[i].touch.lbs > size)
			size = e->jobs[i].touch.lbs;
	return size ? (size + BUF_ALIGN - 1) / BUF_ALIGN * BUF_ALIGN : 0;
}

static bool any_full_job(const struct engine *e)
{
	size_t i;

	for (i = 0; i < e->njobs; i++)
		if (!e->jobs[i].touch.active)
			return true;
	return false;
}

/* The liveness check reads one logical block of any target. */
static size_t check_size(const struct engine *e)
{
	size_t i, size = BUF_ALIGN;

	for (i = 0; i < e->njobs; i++)
		if (e->jobs[i].target->align > size)
			size = e->jobs[i].target->align;
	return size;
}

/* Buffers: blocks when a job reads in full, logical blocks when one touches. Returns 0 or -ENOMEM.
 */
static int engine_buffers(struct engine *e)
{
	const struct engine_opts *o = e->opts;
	unsigned int i;

	e->tsize = touch_buffer_size(e);
	if (any_full_job(e) && engine_full_buffers(e))
		return -ENOMEM;
	if (e->tsize && (posix_memalign((void **)&e->tmem, BUF_ALIGN, o->queue_depth * e->tsize) ||
			 posix_memalign((void **)&e->sample.buf, BUF_ALIGN, e->tsize)))
		return -ENOMEM;
	for (i = 0; i < o->queue_depth; i++) {
		e->slots[i].index = i;
		e->slots[i].block = NO_BLOCK;
		e->slots[i].tbuf = e->tmem ? e->tmem + (size_t)i * e->tsize : NULL;
		e->free[e->nfree++] = o->queue_depth - 1 - i;
	}
	return 0;
}

/* Registration only saves per-read work; without it we still run. */
static void engine_register(struct engine *e, struct iovec *iov, int *fds)
{
	const struct engine_opts *o = e->opts;
	unsigned int i;

	for (i = 0; i < o->queue_depth; i++) {
		iov[i].iov_base = e->mem ? e->slots[i].buf : e->slots[i].tbuf;
		iov[i].iov_len = e->mem ? o->block_size : e->tsize;
	}
	e->fixed_buffers = !io_uring_register_buffers(&e->ring, iov, o->queue_depth);
	if (e->fixed_buffers)
		e->reg = e->mem ? REG_FULL : REG_TOUCH;
	for (i = 0; i < e->njobs; i++)
		fds[i] = e->jobs[i].target->fd;
	e->fixed_files = !io_uring_register_files(&e->ring, fds, (unsigned int)e->njobs);
}

static int engine_setup(struct engine *e)
{
	const struct engine_opts *o = e->opts;
	struct io_uring_params p;
	struct iovec *iov;
	int *fds;
	int rc;

	/* One entry per slot, the liveness check's and the sample's. */
	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN;
	rc = io_uring_queue_init_params(o->queue_depth + 2, &e->ring, &p);
	if (rc == -EINVAL) {
		/* Kernels before 6.0 do not know these hints. */
		memset(&p, 0, sizeof(p));
		rc = io_uring_queue_init_params(o->queue_depth + 2, &e->ring, &p);
	}
	if (rc)
		return rc;

	e->slots = calloc(o->queue_depth, sizeof(*e->slots));
	e->free = calloc(o->queue_depth, sizeof(*e->free));
	iov = calloc(o->queue_depth, sizeof(*iov));
	fds = calloc(e->njobs, sizeof(*fds));
	if (!e->slots || !e->free || !iov || !fds || engine_buffers(e) ||
	    posix_memalign((void **)&e->check.buf, BUF_ALIGN, check_size(e))) {
		rc = -ENOMEM;
		goto done;
	}
	engine_register(e, iov, fds);
	e->check.index = o->queue_depth;
	e->sample.index = o->queue_depth + 1;
	rc = 0;
done:
	free(iov);
	free(fds);
	if (rc)
		engine_teardown(e);
	return rc;
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
	uint64_t now = elapsed(e), due;
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

	e->inflight += fill(e, e->stopping, &wait_ns);
	redo_wait(e, &wait_ns);
	now = elapsed(e);
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
		rc = complete_one(e, sl, cqe->res);
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

		if (!in_window(j) || j->vanished)
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

	if (e->pace_ns && now >= e->last_pace + e->pace_ns) {
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
		waited = elapsed(e);
		rc = submit_and_wait(e, wait_ns);
		if (!rc)
			rc = reap(e);
		if (rc)
			return rc;
		now = elapsed(e);
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
	info->elapsed_ns = elapsed(&e);
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
