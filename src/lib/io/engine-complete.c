/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The engine's completion side: what a finished read means for its job (bytes
 * done, a short read's rest, a failure to retry or give up, a touch landed, a
 * sample that says the volume fetches only what is read) and for the pacer.
 */
#include "config.h"

#include <errno.h>
#include <liburing.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>

#include "io/engine-priv.h"

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
		/* The piece is touched again; after the last retry it is read in full. */
		if (sl->tries >= FAULT_RETRIES) {
			rc = engine_full_buffers(e);
			if (rc)
				return rc;
		}
		off = sl->span_off;
		len = sl->span_len;
	}
	rc = fault_failed(&j->faults, off, len, sl->tries, err, lbs, engine_elapsed(e));
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
void job_read(struct job *j, uint64_t off, uint64_t n)
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
int engine_complete(struct engine *e, struct slot *sl, int res)
{
	struct job *j = sl->job;
	uint64_t lat;
	int rc = 0;

	if (res == -EAGAIN || res == -EINTR) {
		slot_submit(e, sl);
		return 1;
	}
	sl->job->io_bytes += res > 0 ? (uint64_t)res : sl->len - sl->got;
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
	lat = engine_now_ns() - sl->start_ns;
	e->pace.lat_ns += lat;
	lat_hist_add(&e->pace.hist, lat);
	e->free[e->nfree++] = sl->index;
	return rc;
}
