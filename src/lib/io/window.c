/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The sliding window over the priority phases. The blocks are cut once, in
 * loader order; each is pending, asked for, done, or skipped (a reader had
 * it in the page cache). Taking the first pending block keeps the reads in
 * flight one contiguous run of the files just ahead of where a reader is,
 * however deep the queue.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/value.h"
#include "io/window.h"

int window_init(struct window *w, size_t nphases, uint32_t nfiles, const struct window_ops *ops)
{
	memset(w, 0, sizeof(*w));
	w->nphases = nphases;
	w->nfiles = nfiles;
	w->look = WINDOW_LOOK_BLOCKS;
	if (ops)
		w->ops = *ops;
	rangelist_init(&w->skipped);
	w->start = calloc(nphases + 1, sizeof(*w->start));
	w->next = calloc(nphases + 1, sizeof(*w->next));
	w->pending = calloc(nphases + 1, sizeof(*w->pending));
	w->file_left = calloc(nfiles + 1, sizeof(*w->file_left));
	if (!w->start || !w->next || !w->pending || !w->file_left) {
		window_free(w);
		return -ENOMEM;
	}
	return 0;
}

void window_free(struct window *w)
{
	free(w->v);
	free(w->start);
	free(w->next);
	free(w->pending);
	free(w->file_left);
	rangelist_free(&w->skipped);
	memset(w, 0, sizeof(*w));
}

static int push_block(struct window *w, size_t phase, uint32_t file, uint64_t off, uint64_t len,
		      uint64_t file_off)
{
	if (ARRAY_GROW(w->v, w->n, NULL))
		return -ENOMEM;
	w->v[w->n++] = (struct window_block){off, len, file_off, file, WP_PENDING};
	w->pending[phase]++;
	w->file_left[file]++;
	return 0;
}

/* Cut [off, off + len) into blocks; file offsets follow the device offsets. */
static int add_span(struct window *w, size_t phase, uint32_t file, uint64_t off, uint64_t len,
		    uint64_t file_off, uint64_t block)
{
	int rc = 0;

	while (len && !rc) {
		uint64_t n = len < block ? len : block;

		rc = push_block(w, phase, file, off, n, file_off);
		off += n;
		len -= n;
		if (file_off != WINDOW_NO_FILE_OFF)
			file_off += n;
	}
	return rc;
}

int window_add(struct window *w, size_t phase, uint32_t file, uint64_t off, uint64_t len,
	       uint64_t file_off, uint64_t block, const struct rangelist *prior)
{
	uint64_t end = off + len, pos = off;
	size_t k = 0;
	int rc = 0;

	if (phase >= w->nphases || file >= w->nfiles || !block)
		return -EINVAL;
	/* Phases come in order: a new one starts where the blocks end now. */
	for (size_t p = phase + 1; p <= w->nphases; p++)
		w->start[p] = w->n;
	/* A search, not a walk from the first: a phase of a million pieces adds each. */
	if (prior)
		k = rangelist_find(prior, pos);
	for (; prior && k < prior->n && prior->v[k].off < end && !rc; k++) {
		if (prior->v[k].off > pos)
			rc = add_span(w, phase, file, pos, prior->v[k].off - pos,
				      file_off == WINDOW_NO_FILE_OFF ? file_off
								     : file_off + (pos - off),
				      block);
		if (prior->v[k].off + prior->v[k].len > pos)
			pos = prior->v[k].off + prior->v[k].len;
	}
	if (!rc && pos < end)
		rc = add_span(w, phase, file, pos, end - pos,
			      file_off == WINDOW_NO_FILE_OFF ? file_off : file_off + (pos - off),
			      block);
	for (size_t p = phase + 1; p <= w->nphases; p++)
		w->start[p] = w->n;
	return rc;
}

int window_seal(struct window *w)
{
	size_t p;

	for (p = 0; p < w->nphases; p++)
		w->next[p] = w->start[p];
	return 0;
}

/* Past the blocks of @phase that are not pending: where the window's front is. */
static size_t front(struct window *w, size_t phase)
{
	size_t i = w->next[phase];

	while (i < w->start[phase + 1] && w->v[i].state != WP_PENDING)
		i++;
	w->next[phase] = i;
	return i;
}

static void skip(struct window *w, size_t i);

/* A reader has the block in the page cache: the device has it already. */
static bool cached(const struct window *w, const struct window_block *b)
{
	return w->ops.resident && b->file_off != WINDOW_NO_FILE_OFF &&
	       w->ops.resident(w->ops.arg, b->file, b->file_off, b->len) == 1;
}

bool window_next(struct window *w, size_t phase, struct range *r, size_t *block)
{
	size_t i;

	if (phase >= w->nphases)
		return false;
	for (;;) {
		if (!w->pending[phase])
			return false;
		i = front(w, phase);
		if (i >= w->start[phase + 1])
			return false;
		if (!cached(w, &w->v[i]))
			break;
		skip(w, i);
	}
	w->v[i].state = WP_ISSUED;
	w->pending[phase]--;
	r->off = w->v[i].off;
	r->len = w->v[i].len;
	*block = i;
	return true;
}

static size_t phase_of(const struct window *w, size_t block)
{
	size_t p = 0;

	while (p + 1 < w->nphases && block >= w->start[p + 1])
		p++;
	return p;
}

/* A block is off the books: when it was its file's last, the file is warm. */
static void block_finished(struct window *w, size_t block)
{
	uint32_t f = w->v[block].file;

	if (w->file_left[f] && !--w->file_left[f] && w->ops.warm)
		w->ops.warm(w->ops.arg, f);
}

void window_done(struct window *w, size_t block)
{
	if (block >= w->n || w->v[block].state != WP_ISSUED)
		return;
	w->v[block].state = WP_DONE;
	block_finished(w, block);
}

size_t window_pending(const struct window *w, size_t phase)
{
	return phase < w->nphases ? w->pending[phase] : 0;
}

static void skip(struct window *w, size_t i)
{
	size_t p = phase_of(w, i);

	w->v[i].state = WP_SKIPPED;
	w->pending[p]--;
	w->skipped_bytes += w->v[i].len;
	/* Losing the record only costs a read again: the block is still off the books. */
	(void)rangelist_add(&w->skipped, w->v[i].off, w->v[i].len);
	block_finished(w, i);
}

size_t window_follow(struct window *w, size_t phase, unsigned int rounds)
{
	size_t i, end, looked, skipped = 0, hit;

	if (!w->ops.resident || phase >= w->nphases)
		return 0;
	i = front(w, phase);
	end = w->start[phase + 1];
	while (rounds-- && i < end) {
		for (looked = hit = 0; i < end && looked < w->look; i++) {
			const struct window_block *b = &w->v[i];

			if (b->state != WP_PENDING || b->file_off == WINDOW_NO_FILE_OFF)
				continue;
			looked++;
			if (cached(w, b)) {
				skip(w, i);
				hit++;
			}
		}
		skipped += hit;
		/* Not all in the cache: the reader is behind this look, not ahead of it. */
		if (hit < looked || !looked)
			break;
	}
	return skipped;
}

bool window_take_skipped(struct window *w, struct range *r)
{
	if (w->skipped_taken >= w->skipped.n) {
		w->skipped.n = 0;
		w->skipped_taken = 0;
		return false;
	}
	*r = w->skipped.v[w->skipped_taken++];
	return true;
}
