/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Ledger files are "key=value" lines. A file that does not parse, or names
 * another volume than its file name says, is reported corrupt and ignored:
 * the worst that does is one more hydration, never a skipped one that was
 * needed on the word of a damaged file.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state/ledger.h"
#include "base/statefile.h"

#define LEDGER_MAGIC "# blkhydrate ledger 1\n"

static int entry_name(const char *volume, uint64_t size, char *out, size_t outlen)
{
	char suffix[32];

	snprintf(suffix, sizeof(suffix), "@%" PRIu64, size);
	return state_name(volume, suffix, out, outlen);
}

int ledger_format(const struct ledger_entry *e, char *out, size_t outlen)
{
	int n = snprintf(out, outlen,
			 LEDGER_MAGIC
			 "volume=%s\nsize=%" PRIu64 "\ndevice=%s\nfinished=%" PRId64
			 "\nbytes=%" PRIu64 "\nms=%" PRIu64 "\n",
			 e->volume, e->size, e->device, e->finished, e->bytes, e->ms);

	return n < 0 || (size_t)n >= outlen ? -ENOSPC : n;
}

static int copy_str(const char *s, char *out, size_t outlen)
{
	if (strlen(s) >= outlen)
		return -EBADMSG;
	strcpy(out, s);
	return 0;
}

enum { HAVE_VOLUME = 1, HAVE_SIZE = 2, HAVE_FINISHED = 4, HAVE_ALL = 7 };

struct parse_ctx {
	struct ledger_entry *e;
	unsigned int have;
};

static int parse_line(const char *key, const char *value, void *arg)
{
	struct parse_ctx *px = arg;
	struct ledger_entry *e = px->e;
	uint64_t v;
	int rc = 0;

	if (!strcmp(key, "volume")) {
		rc = *value ? copy_str(value, e->volume, sizeof(e->volume)) : -EBADMSG;
		px->have |= HAVE_VOLUME;
	} else if (!strcmp(key, "size")) {
		rc = state_parse_u64(value, &e->size);
		px->have |= HAVE_SIZE;
	} else if (!strcmp(key, "device")) {
		rc = copy_str(value, e->device, sizeof(e->device));
	} else if (!strcmp(key, "finished")) {
		rc = state_parse_u64(value, &v);
		if (!rc && v > INT64_MAX)
			rc = -EBADMSG;
		e->finished = (int64_t)v;
		px->have |= HAVE_FINISHED;
	} else if (!strcmp(key, "bytes")) {
		rc = state_parse_u64(value, &e->bytes);
	} else if (!strcmp(key, "ms")) {
		rc = state_parse_u64(value, &e->ms);
	}
	/* Unknown keys are left for newer versions. */
	return rc;
}

int ledger_parse(const char *text, struct ledger_entry *e)
{
	struct parse_ctx px = { e, 0 };
	int rc;

	memset(e, 0, sizeof(*e));
	rc = state_parse_kv(text, LEDGER_MAGIC, parse_line, &px);
	if (rc)
		return rc;
	return px.have == HAVE_ALL && e->size ? 0 : -EBADMSG;
}

static int ledger_dir(const char *state_dir, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "%s/" LEDGER_SUBDIR, state_dir);

	return n < 0 || (size_t)n >= outlen ? -ENAMETOOLONG : 0;
}

int ledger_record(const char *state_dir, const struct ledger_entry *e)
{
	char dir[PATH_MAX], name[NAME_MAX + 1], text[1024];
	int rc, n;

	rc = ledger_dir(state_dir, dir, sizeof(dir));
	if (!rc)
		rc = entry_name(e->volume, e->size, name, sizeof(name));
	if (rc)
		return rc;
	n = ledger_format(e, text, sizeof(text));
	if (n < 0)
		return n;
	return state_write(dir, name, text, (size_t)n);
}

static int parse_entry(const char *text, void *e)
{
	return ledger_parse(text, e);
}

int ledger_lookup(const char *state_dir, const char *volume, uint64_t size,
		  struct ledger_entry *e)
{
	char dir[PATH_MAX], name[NAME_MAX + 1];
	int rc;

	rc = ledger_dir(state_dir, dir, sizeof(dir));
	if (!rc)
		rc = entry_name(volume, size, name, sizeof(name));
	if (!rc)
		rc = state_load(dir, name, parse_entry, e);
	if (rc)
		return rc;
	return strcmp(e->volume, volume) || e->size != size ? -EBADMSG : 0;
}

struct list_ctx {
	int (*cb)(const struct ledger_entry *e, const char *path, int err, void *arg);
	void *arg;
};

static int list_one(const char *path, const char *text, int err, void *arg)
{
	struct list_ctx *lx = arg;
	struct ledger_entry e;

	memset(&e, 0, sizeof(e));
	if (!err)
		err = ledger_parse(text, &e);
	return lx->cb(&e, path, err, lx->arg);
}

int ledger_list(const char *state_dir,
		int (*cb)(const struct ledger_entry *e, const char *path, int err, void *arg),
		void *arg)
{
	struct list_ctx lx = { cb, arg };
	char dir[PATH_MAX];
	int rc;

	rc = ledger_dir(state_dir, dir, sizeof(dir));
	return rc ? rc : state_scan(dir, "", list_one, &lx);
}
