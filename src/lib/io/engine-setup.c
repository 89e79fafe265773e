/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Setting the engine up and down: the ring, one slot per read in flight, each
 * with its block buffer (and a touch buffer when a job touches), registered
 * with the ring when the kernel lets us. Memory is queue depth times block size.
 */
#include "config.h"

#include <errno.h>
#include <liburing.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>

#include "io/engine-priv.h"

void engine_teardown(struct engine *e)
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
int engine_full_buffers(struct engine *e)
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

int engine_setup(struct engine *e)
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
