/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Run state files: "key=value" lines rewritten on every progress tick. They
 * live in a tmpfs and die with the boot, which is what "running" means.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "state/runstate.h"
#include "base/statefile.h"

#define RUN_MAGIC "# blkhydrate run 1\n"

int run_state_write(const char *run_dir, const struct run_state *st)
{
	char name[NAME_MAX + 1], text[512];
	int rc, n;

	rc = state_name(st->device, ".state", name, sizeof(name));
	if (rc)
		return rc;
	n = snprintf(text, sizeof(text),
		     RUN_MAGIC "device=%s\nvolume=%s\npid=%ld\nstarted=%" PRId64
		     "\nplanned=%" PRIu64 "\ndone=%" PRIu64 "\npriority-done=%d\ndepth=%u"
		     "\nrate=%" PRIu64 "\nlatency-us=%" PRIu64 "\nerrors=%u\n",
		     st->device, st->volume, (long)st->pid, st->started, st->planned, st->done,
		     st->priority_done ? 1 : 0, st->depth, st->rate, st->latency_us, st->errors);
	if (n < 0 || (size_t)n >= sizeof(text))
		return -ENOSPC;
	return state_write(run_dir, name, text, (size_t)n);
}

int run_state_remove(const char *run_dir, const char *device)
{
	char name[NAME_MAX + 1], path[PATH_MAX];
	int rc;

	rc = state_name(device, ".state", name, sizeof(name));
	if (rc)
		return rc;
	if (snprintf(path, sizeof(path), "%s/%s", run_dir, name) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	return unlink(path) < 0 ? -errno : 0;
}

static int field(const char *key, const char *value, void *arg)
{
	struct run_state *st = arg;
	uint64_t v = 0;
	int rc = 0;

	if (!strcmp(key, "device") || !strcmp(key, "volume")) {
		char *dst = key[0] == 'd' ? st->device : st->volume;
		size_t len = key[0] == 'd' ? sizeof(st->device) : sizeof(st->volume);

		if (strlen(value) >= len)
			return -EBADMSG;
		strcpy(dst, value);
		return 0;
	}
	if (!strcmp(key, "pid") || !strcmp(key, "started") || !strcmp(key, "planned") ||
	    !strcmp(key, "done") || !strcmp(key, "priority-done") || !strcmp(key, "depth") ||
	    !strcmp(key, "rate") || !strcmp(key, "latency-us") || !strcmp(key, "errors"))
		rc = state_parse_u64(value, &v);
	if (rc)
		return rc;
	if (!strcmp(key, "pid"))
		st->pid = v <= INT32_MAX ? (pid_t)v : 0;
	else if (!strcmp(key, "started"))
		st->started = v <= INT64_MAX ? (int64_t)v : 0;
	else if (!strcmp(key, "planned"))
		st->planned = v;
	else if (!strcmp(key, "done"))
		st->done = v;
	else if (!strcmp(key, "priority-done"))
		st->priority_done = v != 0;
	else if (!strcmp(key, "depth"))
		st->depth = v <= UINT32_MAX ? (unsigned int)v : 0;
	else if (!strcmp(key, "rate"))
		st->rate = v;
	else if (!strcmp(key, "latency-us"))
		st->latency_us = v;
	else if (!strcmp(key, "errors"))
		st->errors = v <= UINT32_MAX ? (unsigned int)v : UINT32_MAX;
	return 0;
}

int run_state_parse(const char *text, struct run_state *st)
{
	int rc;

	memset(st, 0, sizeof(*st));
	rc = state_parse_kv(text, RUN_MAGIC, field, st);
	if (rc)
		return rc;
	return st->device[0] && st->pid > 0 ? 0 : -EBADMSG;
}

struct list_ctx {
	int (*cb)(const struct run_state *st, const char *path, int err, void *arg);
	void *arg;
};

static int list_one(const char *path, const char *text, int err, void *arg)
{
	struct list_ctx *lx = arg;
	struct run_state st;

	memset(&st, 0, sizeof(st));
	if (!err)
		err = run_state_parse(text, &st);
	return lx->cb(&st, path, err, lx->arg);
}

int run_state_list(const char *run_dir,
		   int (*cb)(const struct run_state *st, const char *path, int err, void *arg),
		   void *arg)
{
	struct list_ctx lx = { cb, arg };

	return state_scan(run_dir, ".state", list_one, &lx);
}
