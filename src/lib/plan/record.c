/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Recorded classes: what a run of the workload read ("blkhydrate record"),
 * as a priority class of the plan. A recording names files in the order
 * they were first opened, each with the bytes of it found in the page cache
 * at the end; those file bytes are placed on the device with the same FIEMAP
 * and btrfs code as a --priority file, but only the part that was read.
 *
 * Saved, a recorded class keeps each file's stamp (inode, size, mtime) as
 * it was recorded. At hydrate time a file that can be seen is checked
 * against it: unchanged, it is read where it was recorded; changed since
 * (rewritten, truncated, replaced), its recorded places are worthless and
 * the whole file is read where it now lives; gone (deleted), nothing is
 * read for it first, and the rest of the recording still is.
 * A file that cannot be seen (its file system is not mounted yet, as at
 * attach) is read where it was recorded.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plan/build.h"

#define RECORDED_CLASS "recorded"

/*
 * The kernel drops pages a run has read before a sample sees them: a few
 * at a time, up to 180 KiB seen here, with memory to spare (tests/MUTATIONS,
 * "CI: record: the kernel drops pages"). A hole no bigger than half a 512 KiB
 * snapshot block never holds a whole block, so reading it costs no fetch
 * of its own.
 */
#define RECORD_GAP (256 * 1024)

/* The part of a recorded file to read: its pages seen, small holes closed. */
static int recorded_part(const struct plan_recorded_file *rf, struct rangelist *part)
{
	struct stat st;
	int rc;

	rangelist_init(part);
	rc = rangelist_add_all(part, &rf->pages);
	if (!rc)
		rangelist_bridge(part, RECORD_GAP, stat(rf->path, &st) ? 0 : (uint64_t)st.st_size);
	return rc;
}

int record_build_class(struct build *b, struct plan_class *c)
{
	const struct plan_opts *o = b->o;
	size_t i;
	int rc = 0;

	c->pattern = RECORDED_CLASS;
	c->recorded = true;
	c->files = calloc(o->nrecorded, sizeof(*c->files));
	if (!c->files)
		return -ENOMEM;
	for (i = 0; i < o->nrecorded && !rc; i++) {
		struct plan_file *f = &c->files[i];
		struct rangelist part;

		file_extents_init(&f->fx);
		rangelist_init(&f->ranges);
		f->path = strdup(o->recorded[i].path);
		c->nfiles++;
		if (!f->path)
			return -ENOMEM;
		rc = recorded_part(&o->recorded[i], &part);
		if (!rc)
			rc = plan_place_file(b, f, &part);
		rangelist_free(&part);
		if (!rc && f->error)
			b->p->unmapped++;
	}
	return rc;
}

static bool same_stamp(const struct file_stamp *a, const struct file_stamp *b)
{
	return a->ino == b->ino && a->size == b->size && a->mtime_ns == b->mtime_ns;
}

int record_place_saved(struct build *b, struct plan_file *f, const struct plan_preset *ps,
		       const struct plan_preset_file *pf, const struct rangelist *saved)
{
	struct file_stamp now;
	struct stat st;
	int fd, rc, err;

	fd = open(f->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	err = fd < 0 ? -errno : 0;
	if (fd >= 0) {
		rc = fstat(fd, &st);
		close(fd);
		if (rc)
			return plan_trust_saved(f, ps->target, saved);
		now.ino = (uint64_t)st.st_ino;
		now.size = (uint64_t)st.st_size;
		now.mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
		f->stamp = pf->stamp;
		if (same_stamp(&now, &pf->stamp))
			return plan_trust_saved(f, ps->target, saved);
		rc = plan_place_file(b, f, NULL);
		if (rc)
			return rc;
		/* The same path on another file system is not this file: trust the recording. */
		if (f->error || f->target != ps->target)
			return plan_trust_saved(f, ps->target, saved);
		return plan_note(b->p,
				 "recorded: %s has changed since it was recorded: "
				 "reading it where it now lives",
				 f->path);
	}
	if (err == -ENOENT && plan_parent_on_target(b->p, ps->target, f->path)) {
		f->target = ps->target;
		return plan_note(b->p,
				 "recorded: %s is gone (deleted since it was recorded): "
				 "nothing read for it first",
				 f->path);
	}
	return plan_trust_saved(f, ps->target, saved);
}
