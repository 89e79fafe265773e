/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Saved plan files are text: a header, the UUID, then "class=", "file=" and
 * "extent=OFFSET+LENGTH" lines in order. Offsets are relative to the file
 * system, not the disk, so a plan saved on a partition still fits when the
 * disk is seen whole at attach. A plan that does not parse, or no longer
 * fits, is never used: reading the wrong blocks first is harmless but
 * pointless, and the rest of the volume is read anyway.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan/saved.h"
#include "base/statefile.h"
#include "base/value.h"

#define SAVED_MAGIC_V1 "# blkhydrate saved plan 1\n"
#define SAVED_MAGIC    "# blkhydrate saved plan 2\n"

static void free_class(struct saved_class *c)
{
	size_t i;

	for (i = 0; i < c->nfiles; i++) {
		free(c->files[i].path);
		rangelist_free(&c->files[i].ranges);
	}
	free(c->files);
	free(c->pattern);
}

void saved_plan_free(struct saved_plan *sp)
{
	size_t c;

	for (c = 0; c < sp->nclasses; c++)
		free_class(&sp->classes[c]);
	free(sp->classes);
	sp->classes = NULL;
	sp->nclasses = 0;
}

static struct saved_class *add_class(struct saved_plan *sp, const char *pattern, bool recorded)
{
	struct saved_class *v;

	if (ARRAY_GROW(sp->classes, sp->nclasses, NULL))
		return NULL;
	v = sp->classes;
	memset(&v[sp->nclasses], 0, sizeof(*v));
	v[sp->nclasses].pattern = strdup(pattern);
	if (!v[sp->nclasses].pattern)
		return NULL;
	v[sp->nclasses].recorded = recorded;
	return &v[sp->nclasses++];
}

static struct plan_preset_file *add_file(struct saved_class *c, const char *path)
{
	struct plan_preset_file *v;

	if (ARRAY_GROW(c->files, c->nfiles, NULL))
		return NULL;
	v = c->files;
	rangelist_init(&v[c->nfiles].ranges);
	memset(&v[c->nfiles].stamp, 0, sizeof(v[c->nfiles].stamp));
	v[c->nfiles].path = strdup(path);
	if (!v[c->nfiles].path)
		return NULL;
	return &v[c->nfiles++];
}

int saved_plan_from_plan(const struct plan *p, size_t t, const struct disk_fs *fs,
			 struct saved_plan *sp)
{
	uint64_t start = fs->offset, end = fs->offset + fs->size;
	struct saved_class *sc;
	struct plan_preset_file *sf;
	size_t c, i, k;
	int rc;

	memset(sp, 0, sizeof(*sp));
	snprintf(sp->uuid, sizeof(sp->uuid), "%s", fs->uuid);
	sp->fs_size = fs->size;
	for (c = 0; c < p->nclasses; c++) {
		const struct plan_class *cl = &p->classes[c];

		sc = NULL;
		for (i = 0; i < cl->nfiles; i++) {
			const struct plan_file *f = &cl->files[i];
			const struct rangelist *r = &f->ranges;
			bool inside = r->n > 0;

			if (f->error || f->target != t || strchr(f->path, '\n'))
				continue;
			for (k = 0; k < r->n && inside; k++)
				inside = r->v[k].off >= start && r->v[k].off + r->v[k].len <= end;
			if (!inside)
				continue;
			if (!sc && !(sc = add_class(sp, cl->pattern, cl->recorded)))
				goto nomem;
			if (!(sf = add_file(sc, f->path)))
				goto nomem;
			sf->stamp = f->stamp;
			for (k = 0; k < r->n; k++) {
				rc = rangelist_add(&sf->ranges, r->v[k].off - start, r->v[k].len);
				if (rc)
					goto nomem;
			}
		}
	}
	return 0;
nomem:
	saved_plan_free(sp);
	return -ENOMEM;
}

struct buf {
	char *s;
	size_t len, cap;
	int err;
};

static void __attribute__((format(printf, 2, 3))) put(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	char *ns;
	int n;

	if (b->err)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->err = -EINVAL;
			return;
		}
		if (b->s && b->len + (size_t)n < b->cap) {
			b->len += (size_t)n;
			return;
		}
		ns = realloc(b->s, b->cap * 2 + (size_t)n + 64);
		if (!ns) {
			b->err = -ENOMEM;
			return;
		}
		b->s = ns;
		b->cap = b->cap * 2 + (size_t)n + 64;
	}
}

int saved_plan_format(const struct saved_plan *sp, char **text, size_t *len)
{
	struct buf b = { 0 };
	size_t c, i, k;

	put(&b, SAVED_MAGIC "uuid=%s\nfs-size=%" PRIu64 "\n", sp->uuid, sp->fs_size);
	for (c = 0; c < sp->nclasses; c++) {
		bool rec = sp->classes[c].recorded;

		put(&b, "%s=%s\n", rec ? "recorded" : "class", sp->classes[c].pattern);
		for (i = 0; i < sp->classes[c].nfiles; i++) {
			const struct plan_preset_file *f = &sp->classes[c].files[i];

			put(&b, "file=%s\n", f->path);
			if (rec)
				put(&b, "stamp=%" PRIu64 " %" PRIu64 " %" PRId64 "\n", f->stamp.ino,
				    f->stamp.size, f->stamp.mtime_ns);
			for (k = 0; k < f->ranges.n; k++)
				put(&b, "extent=%" PRIu64 "+%" PRIu64 "\n", f->ranges.v[k].off,
				    f->ranges.v[k].len);
		}
	}
	put(&b, "end\n");
	if (b.err) {
		free(b.s);
		return b.err;
	}
	*text = b.s;
	*len = b.len;
	return 0;
}

static int parse_extent(const char *s, uint64_t *off, uint64_t *len)
{
	char *end;

	if (state_parse_u64_at(s, off, &end) || *end != '+' ||
	    state_parse_u64_at(end + 1, len, &end) || *end)
		return -EBADMSG;
	return !*len || *off + *len < *off ? -EBADMSG : 0;
}

/* "INO SIZE MTIME_NS" of a recorded file. */
static int parse_stamp(const char *s, struct file_stamp *st)
{
	uint64_t mt;
	char *end;
	bool neg;

	if (state_parse_u64_at(s, &st->ino, &end) || *end != ' ' ||
	    state_parse_u64_at(end + 1, &st->size, &end) || *end != ' ')
		return -EBADMSG;
	neg = end[1] == '-';
	if (state_parse_u64_at(end + 1 + neg, &mt, &end) || *end || mt > INT64_MAX)
		return -EBADMSG;
	st->mtime_ns = neg ? -(int64_t)mt : (int64_t)mt;
	return 0;
}

int saved_plan_parse(const char *text, struct saved_plan *sp)
{
	struct saved_class *sc = NULL;
	struct plan_preset_file *sf = NULL;
	const char *p, *nl;
	char *line = NULL, *eq;
	bool ended = false, v2 = true;
	uint64_t off, len;
	int rc = 0;

	memset(sp, 0, sizeof(*sp));
	/* Both headers have the same length; format 1 has no recorded classes. */
	if (!strncmp(text, SAVED_MAGIC_V1, strlen(SAVED_MAGIC_V1)))
		v2 = false;
	else if (strncmp(text, SAVED_MAGIC, strlen(SAVED_MAGIC)))
		return -EBADMSG;
	for (p = text + strlen(SAVED_MAGIC); *p && !rc; p = nl + 1) {
		nl = strchr(p, '\n');
		if (!nl || ended) {
			rc = -EBADMSG;	/* cut short, or something after the end */
			break;
		}
		free(line);
		line = strndup(p, (size_t)(nl - p));
		if (!line) {
			rc = -ENOMEM;
			break;
		}
		if (!strcmp(line, "end")) {
			ended = true;
			continue;
		}
		eq = strchr(line, '=');
		if (!eq) {
			rc = -EBADMSG;
			break;
		}
		*eq++ = '\0';
		if (!strcmp(line, "uuid")) {
			if (!*eq || strlen(eq) >= sizeof(sp->uuid))
				rc = -EBADMSG;
			else
				strcpy(sp->uuid, eq);
		} else if (!strcmp(line, "fs-size")) {
			rc = state_parse_u64_at(eq, &sp->fs_size, &eq);
			rc = rc || *eq ? -EBADMSG : 0;
		} else if (!strcmp(line, "class") || (v2 && !strcmp(line, "recorded"))) {
			sc = add_class(sp, eq, line[0] == 'r');
			sf = NULL;
			rc = sc ? 0 : -ENOMEM;
		} else if (v2 && !strcmp(line, "stamp")) {
			rc = sf && sc->recorded ? parse_stamp(eq, &sf->stamp) : -EBADMSG;
		} else if (!strcmp(line, "file")) {
			rc = !sc ? -EBADMSG : (sf = add_file(sc, eq)) ? 0 : -ENOMEM;
		} else if (!strcmp(line, "extent")) {
			rc = sf ? parse_extent(eq, &off, &len) : -EBADMSG;
			if (!rc)
				rc = rangelist_add(&sf->ranges, off, len);
		}
	}
	free(line);
	if (!rc && (!ended || !sp->uuid[0]))
		rc = -EBADMSG;
	if (rc)
		saved_plan_free(sp);
	return rc;
}

static int plan_dir(const char *state_dir, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "%s/" PLANS_SUBDIR, state_dir);

	return n < 0 || (size_t)n >= outlen ? -ENAMETOOLONG : 0;
}

int saved_plan_save(const char *state_dir, const struct saved_plan *sp, char *path,
		    size_t pathlen)
{
	char dir[PATH_MAX], name[NAME_MAX + 1], *text;
	size_t len;
	int rc;

	rc = plan_dir(state_dir, dir, sizeof(dir));
	if (!rc)
		rc = state_name(sp->uuid, ".plan", name, sizeof(name));
	if (!rc)
		rc = saved_plan_format(sp, &text, &len);
	if (rc)
		return rc;
	rc = state_write(dir, name, text, len);
	free(text);
	if (!rc && path)
		snprintf(path, pathlen, "%s/%s", dir, name);
	return rc;
}

static int parse_plan(const char *text, void *sp)
{
	return saved_plan_parse(text, sp);
}

int saved_plan_load(const char *state_dir, const char *uuid, struct saved_plan *sp)
{
	char dir[PATH_MAX], name[NAME_MAX + 1];
	int rc;

	rc = plan_dir(state_dir, dir, sizeof(dir));
	if (!rc)
		rc = state_name(uuid, ".plan", name, sizeof(name));
	return rc ? rc : state_load(dir, name, parse_plan, sp);
}

int saved_plan_check(const struct saved_plan *sp, const struct disk_fs *fs, uint64_t disk_size,
		     const char **why)
{
	size_t c, i, k;

	if (strcmp(sp->uuid, fs->uuid)) {
		*why = "it was saved for another file system UUID";
		return -ESTALE;
	}
	for (c = 0; c < sp->nclasses; c++)
		for (i = 0; i < sp->classes[c].nfiles; i++) {
			const struct rangelist *r = &sp->classes[c].files[i].ranges;

			for (k = 0; k < r->n; k++) {
				uint64_t end = r->v[k].off + r->v[k].len;

				if (end > fs->size || fs->offset + end > disk_size) {
					*why = "an extent lies beyond the file system or the device";
					return -ESTALE;
				}
			}
		}
	return 0;
}

int saved_set_load(struct saved_set *set, const char *state_dir, const struct disk_contents *c,
		   uint64_t size, saved_note_fn note, void *arg)
{
	struct saved_plan *sp;
	const char *why;
	size_t i, k, n = 0;
	int rc;

	memset(set, 0, sizeof(*set));
	for (i = 0; i < c->nfs; i++) {
		if (!c->fs[i].uuid[0])
			continue;
		sp = &set->saved[set->nsaved];
		rc = saved_plan_load(state_dir, c->fs[i].uuid, sp);
		if (rc == -ENOENT)
			continue;
		if (rc) {
			note(arg, SAVED_BAD, c->fs[i].uuid, rc, NULL);
			continue;
		}
		if (saved_plan_check(sp, &c->fs[i], size, &why)) {
			note(arg, SAVED_STALE, c->fs[i].uuid, 0, why);
			saved_plan_free(sp);
			continue;
		}
		for (k = 0; k < sp->nclasses; k++)
			n += sp->classes[k].nfiles;
		note(arg, SAVED_USED, sp->uuid, 0, NULL);
		set->fs_offset[set->nsaved++] = c->fs[i].offset;
	}
	if (!set->nsaved)
		return 0;
	set->presets = calloc(n ? n : 1, sizeof(*set->presets));
	if (!set->presets)
		return -ENOMEM;
	for (i = 0; i < set->nsaved; i++)
		for (k = 0; k < set->saved[i].nclasses; k++) {
			struct plan_preset *ps = &set->presets[set->npresets++];

			ps->pattern = set->saved[i].classes[k].pattern;
			ps->recorded = set->saved[i].classes[k].recorded;
			ps->target = 0;
			ps->shift = set->fs_offset[i];
			ps->files = set->saved[i].classes[k].files;
			ps->nfiles = set->saved[i].classes[k].nfiles;
		}
	return 0;
}

void saved_set_free(struct saved_set *set)
{
	size_t i;

	for (i = 0; i < set->nsaved; i++)
		saved_plan_free(&set->saved[i]);
	free(set->presets);
	set->presets = NULL;
	set->nsaved = set->npresets = 0;
}

/*
 * Move into @sp the classes of the plan saved before for its file system
 * that are of a kind @sp has none of (recorded, or named). Returns 0 or
 * -ENOMEM; a missing or bad old plan keeps nothing.
 */
static int keep_other_kind(const char *state_dir, struct saved_plan *sp)
{
	struct saved_plan old;
	bool has[2] = {false, false};
	size_t c;
	int rc = 0;

	if (saved_plan_load(state_dir, sp->uuid, &old))
		return 0;
	for (c = 0; c < sp->nclasses; c++)
		has[sp->classes[c].recorded] = true;
	for (c = 0; c < old.nclasses; c++) {
		struct saved_class *oc = &old.classes[c];

		if (has[oc->recorded] || rc)
			continue;
		if (ARRAY_GROW(sp->classes, sp->nclasses, NULL)) {
			rc = -ENOMEM;
			continue;
		}
		sp->classes[sp->nclasses++] = *oc;
		memset(oc, 0, sizeof(*oc));
	}
	saved_plan_free(&old);
	return rc;
}

int saved_plans_store(const char *state_dir, const struct plan *plan, saved_store_fn done,
		      void *arg)
{
	struct disk_contents *c = malloc(sizeof(*c));
	struct saved_plan sp;
	char path[4200];
	size_t t, i, k, files;
	int rc, saved = 0;

	if (!c)
		return -ENOMEM;
	for (t = 0; t < plan->ntargets; t++) {
		disk_read_contents(plan->targets[t].path, c);
		for (i = 0; i < c->nfs; i++) {
			if (!c->fs[i].uuid[0])
				continue;
			if (saved_plan_from_plan(plan, t, &c->fs[i], &sp)) {
				free(c);
				return -ENOMEM;
			}
			for (k = 0, files = 0; k < sp.nclasses; k++)
				files += sp.classes[k].nfiles;
			if (files && keep_other_kind(state_dir, &sp)) {
				saved_plan_free(&sp);
				free(c);
				return -ENOMEM;
			}
			rc = files ? saved_plan_save(state_dir, &sp, path, sizeof(path)) : 0;
			if (files)
				done(arg, sp.uuid, files, path, rc);
			saved += files && !rc;
			saved_plan_free(&sp);
		}
	}
	free(c);
	return saved;
}
