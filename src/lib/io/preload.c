/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Watching and preloading the priority files. Preloading only reads what
 * is warm: the device answers at once, and a cold block asked through the
 * page cache would queue one fetch at a time behind the engine's. The margin
 * is checked before each step, so a step can take MemAvailable at most one
 * step below it.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "io/preload.h"

int preload_init(struct preload *p, const char *const *paths, size_t n, bool enabled,
		 uint64_t margin)
{
	size_t i;

	memset(p, 0, sizeof(*p));
	p->enabled = enabled;
	p->margin = margin;
	p->meminfo = "/proc/meminfo";
	p->v = calloc(n ? n : 1, sizeof(*p->v));
	p->queue = calloc(n ? n : 1, sizeof(*p->queue));
	if (!p->v || !p->queue) {
		preload_free(p);
		return -ENOMEM;
	}
	p->n = n;
	for (i = 0; i < n; i++) {
		p->v[i].path = paths[i];
		p->v[i].error = resident_open(&p->v[i].rf, paths[i]);
	}
	return 0;
}

void preload_free(struct preload *p)
{
	size_t i;

	for (i = 0; p->v && i < p->n; i++)
		if (!p->v[i].error)
			resident_close(&p->v[i].rf);
	free(p->v);
	free(p->queue);
	memset(p, 0, sizeof(*p));
}

static int resident_cb(void *arg, uint32_t file, uint64_t off, uint64_t len)
{
	struct preload *p = arg;

	if (file >= p->n || p->v[file].error)
		return -EBADF;
	return resident_range(&p->v[file].rf, off, len);
}

static void warm_cb(void *arg, uint32_t file)
{
	struct preload *p = arg;

	if (file >= p->n || p->v[file].warm)
		return;
	p->v[file].warm = true;
	if (p->enabled && !p->v[file].error)
		p->queue[p->nqueue++] = file;
}

void preload_window_ops(struct preload *p, struct window_ops *ops)
{
	ops->resident = resident_cb;
	ops->warm = warm_cb;
	ops->arg = p;
}

int preload_step(struct preload *p, uint64_t budget)
{
	uint64_t avail, n;
	int rc;

	while (budget && p->head < p->nqueue) {
		struct preload_file *f = &p->v[p->queue[p->head]];

		if (f->pos >= f->rf.size) {
			p->head++;
			continue;
		}
		n = f->rf.size - f->pos < budget ? f->rf.size - f->pos : budget;
		if (n > PRELOAD_STEP)
			n = PRELOAD_STEP;
		rc = mem_available(p->meminfo, &avail);
		if (rc)
			return rc;
		if (avail < p->margin + n) {
			p->held = true;
			return 0;
		}
		rc = resident_readahead(&f->rf, f->pos, n);
		if (rc) {
			if (!p->error)
				p->error = rc;
			f->pos = f->rf.size;
			continue;
		}
		f->pos += n;
		p->bytes += n;
		budget -= n;
	}
	return p->head < p->nqueue;
}

void preload_count(struct preload *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (!p->v[i].error &&
		    resident_bytes(&p->v[i].rf, 0, p->v[i].rf.size, &p->v[i].resident))
			p->v[i].resident = 0;
}
