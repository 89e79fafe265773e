/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Read faults: retries with back-off, splitting a failed block down to the
 * logical block size, the list of unreadable ranges, and telling a few bad
 * sectors from a volume that went away. Nothing here does I/O: the engine
 * reads, this decides what to read again.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "io/fault.h"
#include "base/value.h"

void fault_init(struct fault_state *fs)
{
	memset(fs, 0, sizeof(*fs));
}

void fault_free(struct fault_state *fs)
{
	free(fs->redo);
	fault_init(fs);
}

static int redo_push(struct fault_state *fs, uint64_t off, uint64_t len, uint64_t due,
		     unsigned int tries)
{
	if (ARRAY_GROW(fs->redo, fs->nredo, &fs->capredo))
		return -ENOMEM;
	fs->redo[fs->nredo++] = (struct redo){ off, len, due, tries };
	return 0;
}

static bool gone(int err)
{
	return err == -ENODEV || err == -ENXIO;
}

int fault_failed(struct fault_state *fs, uint64_t off, uint64_t len, unsigned int tries,
		 int err, uint64_t lbs, uint64_t now_ns)
{
	uint64_t backoff = FAULT_BACKOFF_NS, half;
	unsigned int i;
	int rc;

	if (gone(err))
		return FAULT_VANISHED;
	fs->streak++;
	if (tries <= FAULT_RETRIES) {
		/* A cold block may fail while the backend is busy: wait a little, ask again. */
		for (i = 1; i < tries; i++)
			backoff *= 5;
		fs->retries++;
		rc = redo_push(fs, off, len, now_ns + backoff, tries + 1);
		return rc ? rc : FAULT_QUEUED;
	}
	if (len <= lbs)
		return FAULT_BAD;
	/* Halves stay multiples of the logical block size; no more back-off. */
	half = (len / 2 + lbs - 1) / lbs * lbs;
	if (half >= len)
		half = len - lbs;
	rc = redo_push(fs, off, half, now_ns, tries);
	if (!rc)
		rc = redo_push(fs, off + half, len - half, now_ns, tries);
	return rc ? rc : FAULT_QUEUED;
}

void fault_good(struct fault_state *fs, uint64_t off)
{
	fs->streak = 0;
	fs->have_good = true;
	fs->last_good = off;
}

bool fault_need_check(struct fault_state *fs)
{
	if (fs->streak < FAULT_STREAK || fs->checking)
		return false;
	fs->checking = true;
	return true;
}

uint64_t fault_check_offset(const struct fault_state *fs)
{
	return fs->have_good ? fs->last_good : 0;
}

bool fault_check_done(struct fault_state *fs, bool ok)
{
	fs->checking = false;
	if (ok)
		fs->streak = 0;
	return ok;
}

bool fault_next(struct fault_state *fs, uint64_t now_ns, struct redo *out)
{
	size_t i;

	for (i = 0; i < fs->nredo; i++) {
		if (fs->redo[i].due_ns > now_ns)
			continue;
		*out = fs->redo[i];
		fs->redo[i] = fs->redo[--fs->nredo];
		return true;
	}
	return false;
}

uint64_t fault_next_due(const struct fault_state *fs)
{
	uint64_t due = UINT64_MAX;
	size_t i;

	for (i = 0; i < fs->nredo; i++)
		if (fs->redo[i].due_ns < due)
			due = fs->redo[i].due_ns;
	return due;
}

void fault_drop(struct fault_state *fs)
{
	fs->nredo = 0;
}

void badlist_init(struct badlist *bl)
{
	memset(bl, 0, sizeof(*bl));
}

void badlist_free(struct badlist *bl)
{
	free(bl->v);
	badlist_init(bl);
}

int badlist_add(struct badlist *bl, uint64_t off, uint64_t len, int err)
{
	size_t i = bl->n;
	struct bad_range *prev, *next;

	if (!len)
		return 0;
	/* Leaves of a split finish out of order; keep the list sorted as they come. */
	while (i > 0 && bl->v[i - 1].off > off)
		i--;
	prev = i > 0 ? &bl->v[i - 1] : NULL;
	next = i < bl->n ? &bl->v[i] : NULL;
	if (prev && prev->err == err && prev->off + prev->len == off) {
		prev->len += len;
		if (next && next->err == err && prev->off + prev->len == next->off) {
			prev->len += next->len;
			memmove(next, next + 1, (bl->n - i - 1) * sizeof(*next));
			bl->n--;
		}
		return 0;
	}
	if (next && next->err == err && off + len == next->off) {
		next->off = off;
		next->len += len;
		return 0;
	}
	if (ARRAY_GROW(bl->v, bl->n, &bl->cap))
		return -ENOMEM;
	memmove(&bl->v[i + 1], &bl->v[i], (bl->n - i) * sizeof(*bl->v));
	bl->v[i] = (struct bad_range){ off, len, err };
	bl->n++;
	return 0;
}
