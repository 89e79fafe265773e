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

#include "savedplan.h"
#include "statefile.h"

#define SAVED_MAGIC "# blkhydrate saved plan 1\n"

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

static struct saved_class *add_class(struct saved_plan *sp, const char *pattern)
{
	struct saved_class *v = realloc(sp->classes, (sp->nclasses + 1) * sizeof(*v));

	if (!v)
		return NULL;
	sp->classes = v;
	memset(&v[sp->nclasses], 0, sizeof(*v));
	v[sp->nclasses].pattern = strdup(pattern);
	if (!v[sp->nclasses].pattern)
		return NULL;
	return &v[sp->nclasses++];
}

static struct plan_preset_file *add_file(struct saved_class *c, const char *path)
{
	struct plan_preset_file *v = realloc(c->files, (c->nfiles + 1) * sizeof(*v));

	if (!v)
		return NULL;
	c->files = v;
	rangelist_init(&v[c->nfiles].ranges);
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
			if (!sc && !(sc = add_class(sp, cl->pattern)))
				goto nomem;
			if (!(sf = add_file(sc, f->path)))
				goto nomem;
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
		put(&b, "class=%s\n", sp->classes[c].pattern);
		for (i = 0; i < sp->classes[c].nfiles; i++) {
			const struct plan_preset_file *f = &sp->classes[c].files[i];

			put(&b, "file=%s\n", f->path);
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

/* A decimal number at @s; @end is left after it. */
static int parse_num(const char *s, uint64_t *v, char **end)
{
	if (*s < '0' || *s > '9')
		return -EBADMSG;
	errno = 0;
	*v = strtoull(s, end, 10);
	return errno ? -EBADMSG : 0;
}

static int parse_extent(const char *s, uint64_t *off, uint64_t *len)
{
	char *end;

	if (parse_num(s, off, &end) || *end != '+' || parse_num(end + 1, len, &end) || *end)
		return -EBADMSG;
	return !*len || *off + *len < *off ? -EBADMSG : 0;
}

int saved_plan_parse(const char *text, struct saved_plan *sp)
{
	struct saved_class *sc = NULL;
	struct plan_preset_file *sf = NULL;
	const char *p, *nl;
	char *line = NULL, *eq;
	bool ended = false;
	uint64_t off, len;
	int rc = 0;

	memset(sp, 0, sizeof(*sp));
	if (strncmp(text, SAVED_MAGIC, strlen(SAVED_MAGIC)))
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
			rc = parse_num(eq, &sp->fs_size, &eq);
			rc = rc || *eq ? -EBADMSG : 0;
		} else if (!strcmp(line, "class")) {
			sc = add_class(sp, eq);
			sf = NULL;
			rc = sc ? 0 : -ENOMEM;
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
