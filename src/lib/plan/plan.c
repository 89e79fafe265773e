/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Building the plan. A priority file's journey: its path is expanded
 * (paths.c), opened read-only, mapped with FIEMAP (extent.c), carried from
 * btrfs logical addresses to device offsets where needed (btrfs.c), placed on
 * the target that holds its file system (devmap.c, adding a partition's
 * start), and merged into its class. A file that cannot be placed exactly is
 * refused with a reason: reading a wrong place and calling it done is worse
 * than reading it in the rest.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "device/btrfs.h"
#include "device/devmap.h"
#include "device/fsmap.h"
#include "plan/build.h"
#include "plan/paths.h"
#include "plan/plan.h"
#include "base/value.h"

#define THROUGH_BUF (1024 * 1024)

static int vnote(struct plan *p, const char *fmt, va_list ap)
{
	if (ARRAY_GROW(p->notes, p->nnotes, NULL))
		return -ENOMEM;
	if (vasprintf(&p->notes[p->nnotes], fmt, ap) < 0)
		return -ENOMEM;
	p->nnotes++;
	return 0;
}

int plan_note(struct plan *p, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vnote(p, fmt, ap);
	va_end(ap);
	return rc;
}

static int __attribute__((format(printf, 3, 4)))
refuse(struct plan_file *f, int err, const char *fmt, ...)
{
	va_list ap;
	int n;

	f->error = err;
	va_start(ap, fmt);
	n = vasprintf(&f->why, fmt, ap);
	va_end(ap);
	if (n < 0) {
		f->why = NULL;
		return -ENOMEM;
	}
	return 0;
}

static struct btrfs_cache *btrfs_lookup(struct build *b, int fd, dev_t fsid)
{
	struct btrfs_cache *c;
	size_t i;

	for (i = 0; i < b->nbtrfs; i++)
		if (b->btrfs[i].fsid == fsid)
			return &b->btrfs[i];
	if (ARRAY_GROW(b->btrfs, b->nbtrfs, NULL))
		return NULL;
	c = &b->btrfs[b->nbtrfs++];
	memset(c, 0, sizeof(*c));
	c->fsid = fsid;
	c->error = btrfs_map_load(fd, &c->map, &c->dev, &c->why);
	return c;
}

/* Carry @fx->phys (btrfs logical addresses) to device offsets in @out. */
static int btrfs_translate(struct plan_file *f, const struct btrfs_cache *c,
			   struct rangelist *out)
{
	const char *why = NULL;
	size_t i;
	int rc;

	for (i = 0; i < f->fx.phys.n; i++) {
		rc = btrfs_map_range(c->map, f->fx.phys.v[i].off, f->fx.phys.v[i].len, out, &why);
		if (rc == -ENOMEM)
			return rc;
		if (rc)
			return refuse(f, rc, "btrfs address %llu cannot be placed on the device: %s",
				      (unsigned long long)f->fx.phys.v[i].off,
				      why ? why : strerror(-rc));
	}
	return 0;
}

/*
 * The target holding file system @fsdev, and where the file system starts
 * on it; or refuse @f. Returns 0 (also when refused) or -ENOMEM.
 */
static int find_target(const struct plan *p, struct plan_file *f, dev_t fsdev, size_t *tp,
		       uint64_t *off)
{
	char fsname[64], tname[256];
	size_t t;

	for (t = 0; t < p->ntargets; t++)
		if (p->targets[t].blockdev && !devmap_offset(fsdev, p->targets[t].id_dev, off)) {
			*tp = t;
			return 0;
		}
	devmap_name(fsdev, fsname, sizeof(fsname));
	if (p->ntargets == 1)
		snprintf(tname, sizeof(tname), "the target %s", p->targets[0].path);
	else
		snprintf(tname, sizeof(tname), "any target");
	return refuse(f, -EXDEV, "it is on %s, not on %s", fsname, tname);
}

/*
 * @f's pieces in its own order (FIEMAP's, by file offset), on the target at
 * @shift; through @c's chunk map on btrfs. The merged @f->ranges decide what
 * is read; this only orders it. Returns 0 or -ENOMEM.
 */
static int order_file(struct plan_file *f, const struct btrfs_cache *c, uint64_t shift,
		      const struct target *tg)
{
	struct rangelist dev;
	size_t i, k;
	int rc = 0;

	for (i = 0; i < f->fx.nseq && !rc; i++) {
		const struct extent_seq *sq = &f->fx.seq[i];
		uint64_t at = 0;

		if (!c) {
			rc = order_add(&f->order, 0, shift + sq->physical, sq->len, sq->logical,
				       tg->align, tg->size);
			continue;
		}
		rangelist_init(&dev);
		if (btrfs_map_range(c->map, sq->physical, sq->len, &dev, NULL) == -ENOMEM)
			rc = -ENOMEM;
		/* DUP maps one extent to two copies: each is the same file bytes. */
		for (k = 0; k < dev.n && !rc; k++) {
			if (at >= sq->len)
				at = 0;
			rc = order_add(&f->order, 0, shift + dev.v[k].off, dev.v[k].len,
				       sq->logical + at, tg->align, tg->size);
			at += dev.v[k].len;
		}
		rangelist_free(&dev);
	}
	return rc;
}

/* The file's identity now, for recorded classes: changed files are told by it. */
static void stamp_of(const struct stat *st, struct file_stamp *s)
{
	s->ino = (uint64_t)st->st_ino;
	s->size = (uint64_t)st->st_size;
	s->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

int plan_place_file(struct build *b, struct plan_file *f, const struct rangelist *part)
{
	struct plan *p = b->p;
	struct rangelist dev;
	const struct rangelist *src = &f->fx.phys; /* device ranges, before the target's offset */
	struct btrfs_cache *c = NULL;
	struct stat st;
	dev_t fsdev;
	uint64_t off = 0, end;
	size_t t, i;
	int fd, rc;

	rangelist_init(&dev);
	fd = open(f->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return refuse(f, -errno, "%s", strerror(errno));
	if (fstat(fd, &st) < 0) {
		rc = refuse(f, -errno, "%s", strerror(errno));
		goto done;
	}
	stamp_of(&st, &f->stamp);
	rc = file_extents_map_sized(fd, (uint64_t)st.st_size, &f->fx, part);
	if (rc == -EOPNOTSUPP) {
		rc = refuse(f, rc, "its file system has no FIEMAP, so its blocks cannot be found");
		goto done;
	}
	if (rc) {
		rc = rc == -ENOMEM ? rc : refuse(f, rc, "FIEMAP failed: %s", strerror(-rc));
		goto done;
	}

	fsdev = st.st_dev;
	/* One statfs a file system, not one a file: a glob can match millions of files. */
	if (!b->fs_known || b->fs_dev != st.st_dev) {
		b->fs_known = true;
		b->fs_dev = st.st_dev;
		b->fs_btrfs = btrfs_is_btrfs(fd);
	}
	if (b->fs_btrfs) {
		c = btrfs_lookup(b, fd, st.st_dev);
		if (!c) {
			rc = -ENOMEM;
			goto done;
		}
		if (c->error) {
			rc = refuse(f, c->error, "btrfs: %s", c->why ? c->why : strerror(-c->error));
			goto done;
		}
		rc = btrfs_translate(f, c, &dev);
		if (rc || f->error)
			goto done;
		fsdev = c->dev;
		src = &dev;
	}

	t = p->ntargets;
	rc = find_target(p, f, fsdev, &t, &off);
	if (rc || f->error)
		goto done;
	f->target = t;
	for (i = 0; i < src->n; i++) {
		end = off + src->v[i].off + src->v[i].len;
		if (end > p->targets[t].size) {
			rc = refuse(f, -ERANGE, "its extents run past the end of %s",
				    p->targets[t].path);
			goto done;
		}
		if ((rc = rangelist_add(&f->ranges, off + src->v[i].off, src->v[i].len)))
			goto done;
	}
	rangelist_align(&f->ranges, p->targets[t].align, p->targets[t].size);
	rangelist_trim(&f->ranges);
	rc = order_file(f, c, off, &p->targets[t]);
	order_trim(&f->order);
	/* Placed and ordered: the maps are not looked at again, and hold the most memory. */
	file_extents_release_maps(&f->fx);
done:
	rangelist_free(&dev);
	close(fd);
	return rc;
}

static int build_class(struct build *b, struct plan_class *c)
{
	struct pathlist files = { 0 };
	size_t i;
	int rc;

	rc = paths_expand(c->pattern, &files);
	if (rc == -ENOMEM)
		return rc;
	if (rc) {
		c->error = rc;
		b->p->unmapped++;
		return 0;
	}
	c->files = calloc(files.n, sizeof(*c->files));
	if (!c->files) {
		pathlist_free(&files);
		return -ENOMEM;
	}
	for (i = 0; i < files.n; i++) {
		struct plan_file *f = &c->files[i];

		f->path = files.v[i];
		files.v[i] = NULL;
		c->nfiles++;
		file_extents_init(&f->fx);
		rangelist_init(&f->ranges);
		rc = plan_place_file(b, f, NULL);
		if (rc)
			break;
		if (f->error)
			b->p->unmapped++;
	}
	pathlist_free(&files);
	return rc;
}

bool plan_parent_on_target(const struct plan *p, size_t t, const char *path)
{
	char dir[4096], *slash;
	struct stat st;
	uint64_t off;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return false;
	while ((slash = strrchr(dir, '/'))) {
		*slash = '\0';
		if (!stat(*dir ? dir : "/", &st))
			return p->targets[t].blockdev &&
			       !devmap_offset(st.st_dev, p->targets[t].id_dev, &off);
	}
	return false;
}

static bool same_ranges(const struct rangelist *a, const struct rangelist *b)
{
	return a->n == b->n && (!a->n || !memcmp(a->v, b->v, a->n * sizeof(*a->v)));
}

/*
 * A file of a saved plan. Where it can be seen now (its file system is
 * mounted), it is placed where it lives now: a plan saved before the file
 * was rewritten, truncated or deleted is stale, and a file that is gone is
 * not read first. Where it cannot be seen, the saved ranges are all we have.
 */
static int place_preset_file(struct build *b, struct plan_file *f, const struct plan_preset *ps,
			     const struct rangelist *saved)
{
	struct plan *p = b->p;
	int rc;

	rc = plan_place_file(b, f, NULL);
	if (rc)
		return rc;
	if (!f->error && f->target == ps->target) {
		rangelist_normalize(&f->ranges);
		if (!same_ranges(&f->ranges, saved))
			return plan_note(p, "saved plan: %s has changed since the plan was saved: "
				    "reading it where it now lives", f->path);
		return 0;
	}
	if (f->error == -ENOENT && plan_parent_on_target(p, ps->target, f->path)) {
		free(f->why);
		f->why = NULL;
		f->error = 0;
		f->target = ps->target;
		rangelist_free(&f->ranges);
		order_free(&f->order);
		return plan_note(p, "saved plan: %s is gone since the plan was saved: not read first",
			    f->path);
	}
	/* Not to be seen from here: trust the plan. */
	return plan_trust_saved(f, ps->target, saved);
}

int plan_trust_saved(struct plan_file *f, size_t target, const struct rangelist *saved)
{
	size_t k;
	int rc = 0;

	free(f->why);
	f->why = NULL;
	f->error = 0;
	f->target = target;
	file_extents_free(&f->fx);
	file_extents_init(&f->fx);
	rangelist_free(&f->ranges);
	order_free(&f->order);
	for (k = 0; k < saved->n && !rc; k++)
		rc = rangelist_add(&f->ranges, saved->v[k].off, saved->v[k].len);
	return rc;
}

/* A class from a saved plan: its files are placed already, unless they can be placed anew. */
static int build_preset(struct build *b, struct plan_class *c, const struct plan_preset *ps)
{
	struct plan *p = b->p;
	const struct target *tg = &p->targets[ps->target];
	struct rangelist saved;
	size_t i, k;
	int rc = 0;

	c->pattern = ps->pattern;
	c->recorded = ps->recorded;
	c->files = calloc(ps->nfiles ? ps->nfiles : 1, sizeof(*c->files));
	if (!c->files)
		return -ENOMEM;
	for (i = 0; i < ps->nfiles && !rc; i++) {
		struct plan_file *f = &c->files[i];
		const struct rangelist *src = &ps->files[i].ranges;

		file_extents_init(&f->fx);
		rangelist_init(&f->ranges);
		f->target = ps->target;
		f->path = strdup(ps->files[i].path);
		c->nfiles++;
		if (!f->path)
			return -ENOMEM;
		rangelist_init(&saved);
		for (k = 0; k < src->n && !rc; k++)
			rc = rangelist_add(&saved, ps->shift + src->v[k].off, src->v[k].len);
		rangelist_align(&saved, tg->align, tg->size);
		rangelist_normalize(&saved);
		if (!rc && ps->recorded)
			rc = record_place_saved(b, f, ps, &ps->files[i], &saved);
		else if (!rc)
			rc = place_preset_file(b, f, ps, &saved);
		rangelist_free(&saved);
	}
	return rc;
}

/* The rest of target @t for --used: the whole device less what its file systems call free. */
static int used_space(struct plan *p, size_t t, struct rangelist *base)
{
	struct target *tg = &p->targets[t];
	struct rangelist free_space, out;
	struct mountlist ml;
	uint64_t off;
	size_t i, k;
	int rc, counted = 0;

	rangelist_init(&free_space);
	rc = devmap_mounts(tg->id_dev, &ml);
	if (rc)
		return rc;
	for (i = 0; i < ml.n; i++) {
		struct rangelist fs_free;

		rangelist_init(&fs_free);
		rc = fsmap_free_space(ml.v[i].dir, ml.v[i].dev, &fs_free);
		if (rc == -ENOMEM)
			goto done;
		if (rc) {
			rc = plan_note(p, "--used: %s (%s at %s) has no GETFSMAP (%s): reading it whole",
				  tg->path, ml.v[i].fstype, ml.v[i].dir, strerror(-rc));
			rangelist_free(&fs_free);
			if (rc)
				goto done;
			continue;
		}
		devmap_offset(ml.v[i].dev, tg->id_dev, &off);
		for (k = 0; k < fs_free.n && !rc; k++)
			rc = rangelist_add(&free_space, off + fs_free.v[k].off, fs_free.v[k].len);
		rangelist_free(&fs_free);
		if (rc)
			goto done;
		counted++;
	}
	if (!tg->blockdev)
		rc = plan_note(p, "--used: %s is not a block device: reading it whole", tg->path);
	else if (!counted)
		rc = plan_note(p, "--used: no file system with GETFSMAP is mounted from %s: reading it whole",
			  tg->path);
	if (rc)
		goto done;
	/* Free space rounded inwards: a partly used block is still read. */
	rangelist_normalize(&free_space);
	for (k = 0; k < free_space.n; k++) {
		uint64_t s = free_space.v[k].off, e = s + free_space.v[k].len;

		s = (s + tg->align - 1) / tg->align * tg->align;
		e = e / tg->align * tg->align;
		free_space.v[k].off = s;
		free_space.v[k].len = e > s ? e - s : 0;
	}
	rangelist_init(&out);
	rc = rangelist_subtract(&out, base, &free_space);
	rangelist_free(base);
	*base = out;
	p->per[t].used = counted > 0;
done:
	rangelist_free(&free_space);
	mountlist_free(&ml);
	return rc;
}

/*
 * Class @c's phase on target @t, @fresh, in loader order: its files in
 * turn, each in its own order (a saved plan's file unseen now: in device
 * order). Each file's order is used up: the first is taken over whole, the
 * others appended and freed, so that a file of a million extents is not
 * held twice. Returns 0 or -ENOMEM.
 */
static int class_order(struct plan *p, size_t t, size_t c, const struct rangelist *fresh,
		       struct order *out)
{
	struct plan_class *cl = &p->classes[c];
	const struct target *tg = &p->targets[t];
	struct order all = { 0 };
	size_t i, k;
	int rc = 0;

	for (i = 0; i < cl->nfiles && !rc; i++) {
		struct plan_file *f = &cl->files[i];

		if (f->error || f->target != t)
			continue;
		for (k = 0; k < f->order.n; k++)
			f->order.v[k].file = i;
		if (!all.n && f->order.n) {
			all = f->order;
			f->order = (struct order){ 0 };
			continue;
		}
		for (k = 0; k < f->order.n && !rc; k++)
			rc = order_add(&all, i, f->order.v[k].off, f->order.v[k].len,
				       f->order.v[k].file_off, tg->align, tg->size);
		for (k = 0; !f->order.n && k < f->ranges.n && !rc; k++)
			rc = order_add(&all, i, f->ranges.v[k].off, f->ranges.v[k].len,
				       ORDER_NO_FILE_OFF, tg->align, tg->size);
		order_free(&f->order);
	}
	if (!rc)
		rc = order_clip_take(out, &all, fresh);
	order_free(&all);
	return rc;
}

static int build_target(struct plan *p, size_t t, const struct plan_opts *o)
{
	struct plan_target *pt = &p->per[t];
	struct target *tg = &p->targets[t];
	struct rangelist seen, base;
	size_t c, i, k;
	int rc;

	pt->npriority = p->nclasses;
	pt->nphases = p->nclasses + (o->only_priority ? 0 : 1);
	pt->phases = calloc(pt->nphases ? pt->nphases : 1, sizeof(*pt->phases));
	pt->orders = calloc(pt->npriority ? pt->npriority : 1, sizeof(*pt->orders));
	if (!pt->phases || !pt->orders)
		return -ENOMEM;
	rangelist_init(&seen);
	rangelist_init(&base);
	for (c = 0; c < p->nclasses; c++) {
		struct rangelist mine, fresh;

		rangelist_init(&mine);
		for (i = 0; i < p->classes[c].nfiles; i++) {
			const struct plan_file *f = &p->classes[c].files[i];

			if (f->error || f->target != t)
				continue;
			for (k = 0; k < f->ranges.n; k++)
				if ((rc = rangelist_add(&mine, f->ranges.v[k].off, f->ranges.v[k].len)))
					goto fail;
		}
		rangelist_normalize(&mine);
		/* A block already read by an earlier class is not read again. */
		rangelist_init(&fresh);
		rc = rangelist_subtract(&fresh, &mine, &seen);
		for (k = 0; !rc && k < mine.n; k++)
			rc = rangelist_add(&seen, mine.v[k].off, mine.v[k].len);
		rangelist_free(&mine);
		rangelist_normalize(&seen);
		pt->phases[c] = fresh;
		if (rc)
			goto fail;
	}
	if (!o->only_priority) {
		rc = rangelist_add(&base, 0, tg->size);
		if (!rc && o->used)
			rc = used_space(p, t, &base);
		if (rc)
			goto fail;
		rangelist_align(&base, tg->align, tg->size);
		rc = rangelist_subtract(&pt->phases[p->nclasses], &base, &seen);
	}
fail:
	rangelist_free(&seen);
	rangelist_free(&base);
	if (rc)
		return rc;
	/* The orders last, the lists that made the phases freed: the orders are the largest. */
	for (c = 0; c < pt->nphases; c++)
		rangelist_trim(&pt->phases[c]);
	for (c = 0; c < p->nclasses && !rc; c++)
		rc = class_order(p, t, c, &pt->phases[c], &pt->orders[c]);
	return rc;
}

int plan_build(struct plan *p, struct target *targets, size_t ntargets,
	       const struct plan_opts *o)
{
	struct build b = { .p = p, .o = o };
	size_t i;
	int rc = 0;

	memset(p, 0, sizeof(*p));
	p->targets = targets;
	p->ntargets = ntargets;
	p->classes = calloc(o->npresets + o->npatterns + 2, sizeof(*p->classes));
	p->per = calloc(ntargets, sizeof(*p->per));
	if (!p->classes || !p->per)
		return -ENOMEM;
	if (o->nrecorded)
		rc = record_build_class(&b, &p->classes[p->nclasses++]);
	/* Recorded classes first, then the named ones; or after them, or not at all. */
	for (i = 0; i < o->npresets && !rc; i++)
		if (o->presets[i].recorded && o->recorded_order == RECORDED_FIRST)
			rc = build_preset(&b, &p->classes[p->nclasses++], &o->presets[i]);
	for (i = 0; i < o->npresets && !rc; i++)
		if (!o->presets[i].recorded)
			rc = build_preset(&b, &p->classes[p->nclasses++], &o->presets[i]);
	for (i = 0; i < o->npatterns && !rc; i++) {
		struct plan_class *c = &p->classes[p->nclasses++];

		c->pattern = o->patterns[i];
		rc = build_class(&b, c);
	}
	for (i = 0; i < o->npresets && !rc; i++)
		if (o->presets[i].recorded && o->recorded_order == RECORDED_AFTER)
			rc = build_preset(&b, &p->classes[p->nclasses++], &o->presets[i]);
	for (i = 0; i < b.nbtrfs; i++)
		btrfs_map_free(b.btrfs[i].map);
	free(b.btrfs);
	for (i = 0; i < ntargets && !rc; i++)
		rc = build_target(p, i, o);
	return rc;
}

void plan_free(struct plan *p)
{
	size_t c, i;

	for (c = 0; c < p->nclasses; c++) {
		for (i = 0; i < p->classes[c].nfiles; i++) {
			struct plan_file *f = &p->classes[c].files[i];

			free(f->path);
			free(f->why);
			file_extents_free(&f->fx);
			rangelist_free(&f->ranges);
			order_free(&f->order);
		}
		free(p->classes[c].files);
	}
	free(p->classes);
	for (i = 0; p->per && i < p->ntargets; i++) {
		for (c = 0; c < p->per[i].nphases; c++)
			rangelist_free(&p->per[i].phases[c]);
		for (c = 0; p->per[i].orders && c < p->per[i].npriority; c++)
			order_free(&p->per[i].orders[c]);
		free(p->per[i].phases);
		free(p->per[i].orders);
	}
	free(p->per);
	for (i = 0; i < p->nnotes; i++)
		free(p->notes[i]);
	free(p->notes);
	memset(p, 0, sizeof(*p));
}

uint64_t plan_phase_bytes(const struct plan *p, size_t t, size_t phase)
{
	const struct rangelist *rl = &p->per[t].phases[phase];
	uint64_t size = p->targets[t].size, sum = 0;
	size_t i;

	for (i = 0; i < rl->n; i++)
		sum += range_clipped_len(rl->v[i].off, rl->v[i].len, size);
	return sum;
}

unsigned int plan_read_through(struct plan *p)
{
	unsigned int failed = 0;
	char *buf = NULL;
	size_t c, i, k;

	for (c = 0; c < p->nclasses; c++) {
		for (i = 0; i < p->classes[c].nfiles; i++) {
			struct plan_file *f = &p->classes[c].files[i];
			int fd;

			if (f->error || !f->fx.through.n)
				continue;
			if (!buf && !(buf = malloc(THROUGH_BUF)))
				return failed + 1;
			fd = open(f->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
			if (fd < 0) {
				failed++;
				continue;
			}
			for (k = 0; k < f->fx.through.n; k++) {
				uint64_t pos = f->fx.through.v[k].off;
				uint64_t end = pos + f->fx.through.v[k].len;
				ssize_t n = 1;

				while (pos < end && n > 0) {
					size_t want = end - pos < THROUGH_BUF ? end - pos : THROUGH_BUF;

					n = pread(fd, buf, want, (off_t)pos);
					if (n > 0) {
						pos += (uint64_t)n;
						f->through_read += (uint64_t)n;
					}
				}
				if (n < 0)
					failed++;
			}
			close(fd);
		}
	}
	free(buf);
	return failed;
}
