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
 */
#include "config.h"

#include <errno.h>
#include <liburing.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>

#include "engine.h"

#define BUF_ALIGN 4096

struct slot {
	struct job *job;
	uint64_t off;	   /* where this read starts */
	uint64_t len;	   /* bytes asked (aligned) */
	uint64_t want;	   /* bytes that exist there (len clipped to the target size) */
	uint64_t got;	   /* bytes read so far (short reads) */
	uint64_t start_ns; /* first submission, for the latency a depth controller sees */
	unsigned int tries; /* reads of this piece so far, this one included */
	char *buf;
	unsigned int index;
};

struct engine {
	struct io_uring ring;
	const struct engine_opts *opts;
	struct job *jobs;
	size_t njobs;
	size_t rr;
	struct slot *slots;
	unsigned int *free;	/* stack of free slot indexes */
	unsigned int nfree;
	char *mem;
	bool fixed_buffers;
	bool fixed_files;
	uint64_t start_ns;
	uint64_t issued;	/* bytes submitted, for the rate cap */
	unsigned int limit;	/* reads allowed in flight now, <= queue depth */
	struct engine_pace pace;	/* since the last pace call */
	struct slot probe;	/* re-reads a good block when reads keep failing */
	unsigned int probes;	/* probes submitted since the main loop last counted */
};

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

/*
 * Move a job past every phase it has finished: all strides handed out and no
 * read of it in flight. Returns 0 or -ENOMEM.
 */
static int job_settle(struct engine *e, struct job *j)
{
	unsigned int s;
	int rc;

	while (j->phase < j->nphases && !j->inflight && !j->faults.nredo) {
		for (s = 0; s < j->nstrides; s++)
			if (j->cursors[s].left && j->cursors[s].idx < j->cursors[s].rl->n)
				return 0;
		j->phase_ns[j->phase] = elapsed(e);
		if (e->opts->phase_done)
			e->opts->phase_done(j, j->phase, e->opts->arg);
		if (++j->phase == j->nphases) {
			j->end_ns = elapsed(e);
			j->complete = !j->failed && j->done == j->planned;
			return 0;
		}
		rc = job_start_phase(j, e->opts);
		if (rc)
			return rc;
	}
	return 0;
}

/* Next block of @j to read, from its strides in turn. */
static bool job_next(struct job *j, uint64_t max, struct range *r)
{
	unsigned int k;

	if (j->phase >= j->nphases || j->vanished)
		return false;
	for (k = 0; k < j->nstrides; k++) {
		unsigned int s = (j->rr + k) % j->nstrides;

		if (!rangecursor_next(&j->cursors[s], max, r)) {
			j->rr = (s + 1) % j->nstrides;
			return true;
		}
	}
	return false;
}

/* A failed piece to read again if one is due, else the next block. */
static bool job_pick(struct engine *e, struct job *j, struct range *r, unsigned int *tries)
{
	struct redo rd;

	if (j->vanished)
		return false;
	if (j->faults.nredo && fault_next(&j->faults, elapsed(e), &rd)) {
		r->off = rd.off;
		r->len = rd.len;
		*tries = rd.tries;
		return true;
	}
	*tries = 1;
	return job_next(j, e->opts->block_size, r);
}

static void slot_submit(struct engine *e, struct slot *sl)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&e->ring);
	struct job *j = sl->job;
	int fd = e->fixed_files ? (int)(j - e->jobs) : j->target->fd;
	unsigned int len = (unsigned int)(sl->len - sl->got);
	uint64_t off = sl->off + sl->got;

	/* One entry per slot plus the probe's, so this cannot fail. */
	if (e->fixed_buffers && sl != &e->probe)
		io_uring_prep_read_fixed(sqe, fd, sl->buf + sl->got, len, off, (int)sl->index);
	else
		io_uring_prep_read(sqe, fd, sl->buf + sl->got, len, off);
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

/* Fill free slots. Returns how many reads were queued; *wait_ns set when the cap held us. */
static unsigned int fill(struct engine *e, bool stopping, uint64_t *wait_ns)
{
	unsigned int queued = 0;
	size_t tries;

	while (e->nfree && e->opts->queue_depth - e->nfree < e->limit && !stopping) {
		struct range r;
		struct job *j = NULL;
		unsigned int ntries;

		if (!rate_allows(e, e->opts->block_size, wait_ns))
			break;
		for (tries = 0; tries < e->njobs; tries++) {
			struct job *c = &e->jobs[(e->rr + tries) % e->njobs];

			if (job_pick(e, c, &r, &ntries)) {
				j = c;
				e->rr = (e->rr + tries + 1) % e->njobs;
				break;
			}
		}
		if (!j)
			break;

		struct slot *sl = &e->slots[e->free[--e->nfree]];

		sl->job = j;
		sl->off = r.off;
		sl->len = r.len;
		sl->want = r.off >= j->target->size ? 0 :
			   (r.len < j->target->size - r.off ? r.len : j->target->size - r.off);
		sl->got = 0;
		sl->start_ns = engine_now_ns();
		sl->tries = ntries;
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
static void probe_submit(struct engine *e, struct job *j)
{
	struct slot *p = &e->probe;

	if (p->job) {
		/* Another job's probe is out: this one asks again at its next failure. */
		j->faults.probing = false;
		return;
	}
	p->job = j;
	p->off = fault_probe_offset(&j->faults);
	p->len = p->want = j->target->align;
	p->got = 0;
	p->tries = 1;
	j->inflight++;
	e->probes++;
	slot_submit(e, p);
}

static void probe_complete(struct engine *e, struct slot *p, int res)
{
	struct job *j = p->job;

	p->job = NULL;
	j->inflight--;
	if (!fault_probe_done(&j->faults, res > 0))
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
	int rc;

	if (j->vanished)
		return 0;
	rc = fault_failed(&j->faults, sl->off + got, sl->len - got, sl->tries, err, lbs,
			  elapsed(e));
	if (rc < 0)
		return rc;
	if (rc == FAULT_VANISHED)
		job_vanish(j, err);
	else if (rc == FAULT_BAD && job_bad(j, sl->off + got, sl->len - got, err))
		return -ENOMEM;
	if (fault_need_probe(&j->faults))
		probe_submit(e, j);
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
	if (sl == &e->probe) {
		probe_complete(e, sl, res);
		return 0;
	}
	if (res < 0) {
		rc = slot_fail(e, sl, res);
	} else {
		uint64_t n = (uint64_t)res;

		if (sl->got + n > sl->want)
			n = sl->want - sl->got;
		job_read(j, sl->off + sl->got, n);
		sl->got += n;
		j->done += n;
		e->pace.bytes += n;
		if (n)
			fault_good(&j->faults, sl->off);
		if (res > 0 && sl->got < sl->want) {
			/* Short read: ask for the rest, as liburing's examples do. */
			slot_submit(e, sl);
			return 1;
		}
		if (sl->got < sl->want)
			rc = slot_fail(e, sl, -EIO); /* end of data before the end of the target */
	}
	j->inflight--;
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
	free(e->probe.buf);
}

/* The probe reads one logical block of any target. */
static size_t probe_size(const struct engine *e)
{
	size_t i, size = BUF_ALIGN;

	for (i = 0; i < e->njobs; i++)
		if (e->jobs[i].target->align > size)
			size = e->jobs[i].target->align;
	return size;
}

static int engine_setup(struct engine *e)
{
	const struct engine_opts *o = e->opts;
	struct io_uring_params p;
	struct iovec *iov;
	int *fds;
	unsigned int i;
	int rc;

	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN;
	rc = io_uring_queue_init_params(o->queue_depth + 1, &e->ring, &p);
	if (rc == -EINVAL) {
		/* Kernels before 6.0 do not know these hints. */
		memset(&p, 0, sizeof(p));
		rc = io_uring_queue_init_params(o->queue_depth + 1, &e->ring, &p);
	}
	if (rc)
		return rc;

	e->slots = calloc(o->queue_depth, sizeof(*e->slots));
	e->free = calloc(o->queue_depth, sizeof(*e->free));
	iov = calloc(o->queue_depth, sizeof(*iov));
	fds = calloc(e->njobs, sizeof(*fds));
	if (!e->slots || !e->free || !iov || !fds ||
	    posix_memalign((void **)&e->mem, BUF_ALIGN, o->queue_depth * o->block_size) ||
	    posix_memalign((void **)&e->probe.buf, BUF_ALIGN, probe_size(e))) {
		rc = -ENOMEM;
		goto done;
	}
	for (i = 0; i < o->queue_depth; i++) {
		e->slots[i].index = i;
		e->slots[i].buf = e->mem + (size_t)i * o->block_size;
		iov[i].iov_base = e->slots[i].buf;
		iov[i].iov_len = o->block_size;
		e->free[e->nfree++] = o->queue_depth - 1 - i;
	}
	/* Registration only saves per-read work; without it we still run. */
	e->fixed_buffers = !io_uring_register_buffers(&e->ring, iov, o->queue_depth);
	for (i = 0; i < e->njobs; i++)
		fds[i] = e->jobs[i].target->fd;
	e->fixed_files = !io_uring_register_files(&e->ring, fds, (unsigned int)e->njobs);
	e->probe.index = o->queue_depth;
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

int engine_run(struct job *jobs, size_t njobs, const struct engine_opts *opts,
	       struct engine_info *info)
{
	struct engine e;
	uint64_t tick_ns = (uint64_t)opts->tick_ms * 1000000ULL, next_tick;
	uint64_t pace_ns = opts->pace ? (uint64_t)opts->pace_ms * 1000000ULL : 0, last_pace = 0;
	uint64_t save_ns = opts->save ? (uint64_t)opts->save_ms * 1000000ULL : 0, next_save;
	unsigned int inflight = 0;
	bool stopping = false;
	size_t i;
	int rc;

	memset(&e, 0, sizeof(e));
	memset(info, 0, sizeof(*info));
	e.opts = opts;
	e.jobs = jobs;
	e.njobs = njobs;
	e.limit = opts->start_depth && opts->start_depth < opts->queue_depth ?
		  opts->start_depth : opts->queue_depth;
	rc = engine_setup(&e);
	if (rc)
		return rc;
	e.start_ns = engine_now_ns();
	next_tick = tick_ns;
	next_save = save_ns;
	rc = jobs_init(&e);
	if (rc)
		goto done;

	for (;;) {
		struct __kernel_timespec ts;
		struct io_uring_cqe *cqe;
		uint64_t wait_ns = tick_ns ? tick_ns : 1000000000ULL, now, waited;
		unsigned int held;
		unsigned int head, seen = 0;

		if (opts->stop && *opts->stop)
			stopping = true;
		inflight += fill(&e, stopping, &wait_ns);
		if (!inflight && (stopping || all_done(&e)))
			break;

		redo_wait(&e, &wait_ns);
		now = elapsed(&e);
		held = inflight;
		waited = now;
		if (tick_ns && next_tick > now && next_tick - now < wait_ns)
			wait_ns = next_tick - now;
		if (pace_ns && last_pace + pace_ns > now && last_pace + pace_ns - now < wait_ns)
			wait_ns = last_pace + pace_ns - now;
		if (save_ns && next_save > now && next_save - now < wait_ns)
			wait_ns = next_save - now;
		ts.tv_sec = (long long)(wait_ns / 1000000000ULL);
		ts.tv_nsec = (long long)(wait_ns % 1000000000ULL);
		rc = io_uring_submit_and_wait_timeout(&e.ring, &cqe, inflight ? 1 : 0, &ts, NULL);
		if (rc < 0 && rc != -ETIME && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY)
			goto done;
		if (!inflight && rc != -EINTR) {
			/* Held back by the rate cap with nothing in flight: sleep it off. */
			struct timespec sl = { (time_t)ts.tv_sec, (long)ts.tv_nsec };

			nanosleep(&sl, NULL);
		}

		io_uring_for_each_cqe(&e.ring, head, cqe) {
			struct slot *sl = io_uring_cqe_get_data(cqe);
			struct job *j = sl->job;	/* the probe forgets its job */

			seen++;
			rc = complete_one(&e, sl, cqe->res);
			if (rc < 0) {
				io_uring_cq_advance(&e.ring, seen);
				inflight--;
				goto done;
			}
			if (!rc) {
				inflight--;
				rc = job_settle(&e, j);
				if (rc) {
					io_uring_cq_advance(&e.ring, seen);
					goto done;
				}
			}
		}
		io_uring_cq_advance(&e.ring, seen);
		inflight += e.probes;
		e.probes = 0;

		now = elapsed(&e);
		/* Reads in flight only change as we reap: the count held while we waited. */
		e.pace.inflight_ns += (uint64_t)held * (now - waited);
		if (pace_ns && now >= last_pace + pace_ns) {
			e.pace.ns = now - last_pace;
			e.pace.limit = e.limit;
			e.limit = opts->pace(&e.pace, jobs, njobs, opts->arg);
			if (e.limit < 1)
				e.limit = 1;
			if (e.limit > opts->queue_depth)
				e.limit = opts->queue_depth;
			memset(&e.pace, 0, sizeof(e.pace));
			last_pace = now;
		}
		if (tick_ns && now >= next_tick) {
			if (opts->progress)
				opts->progress(jobs, njobs, now, opts->arg);
			next_tick = now + tick_ns;
		}
		if (save_ns && now >= next_save) {
			for (i = 0; i < njobs; i++) {
				rangelist_normalize(&jobs[i].read);
				jobs[i].read_norm = jobs[i].read.n;
			}
			opts->save(jobs, njobs, opts->arg);
			next_save = now + save_ns;
		}
	}
	rc = 0;
done:
	inflight += e.probes;
	info->elapsed_ns = elapsed(&e);
	info->interrupted = stopping;
	info->fixed_buffers = e.fixed_buffers;
	info->fixed_files = e.fixed_files;
	for (i = 0; i < njobs; i++) {
		if (!jobs[i].end_ns)
			jobs[i].end_ns = info->elapsed_ns;
		rangelist_normalize(&jobs[i].read);
	}
	if (rc && inflight) {
		/* Reads still in flight point into our buffers: wait them out first. */
		while (inflight) {
			struct io_uring_cqe *cqe;
			int err = io_uring_submit_and_wait(&e.ring, 1);

			if (err == -EINTR)
				continue;
			if (err < 0 || io_uring_peek_cqe(&e.ring, &cqe))
				break;
			io_uring_cqe_seen(&e.ring, cqe);
			inflight--;
		}
	}
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
