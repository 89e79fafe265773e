/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The recordings saved for the targets' file systems ("record --save"), for
 * plan and hydrate without --attach: their recorded classes only. (The
 * attach unit reads every class of its saved plans, attach.c.) A target
 * that is not a block device, or whose file systems have no saved plan, has
 * none; a bad saved plan is said by attach, not here.
 */
#include "config.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "device/disk.h"
#include "device/target.h"
#include "plan/plan.h"
#include "plan/saved.h"

struct recorded_set {
	struct saved_set *per; /* one per target */
	size_t n;
	struct plan_preset *presets;
	size_t npresets;
};

static void quiet_note(void *arg, enum saved_event ev, const char *uuid, int err, const char *why)
{
	(void)arg, (void)ev, (void)uuid, (void)err, (void)why;
}

/* Whether @path, a saved plan, holds a recorded class: a "recorded=" line. */
static bool has_recording(const char *path)
{
	char line[256];
	bool found = false;
	FILE *f = fopen(path, "re");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = !strncmp(line, "recorded=", 9);
	fclose(f);
	return found;
}

/*
 * Whether any saved plan holds a recording: without one no target is
 * probed, since the probe (libblkid) reads the target.
 */
static bool any_recording(const char *state_dir)
{
	char dir[PATH_MAX], path[PATH_MAX + NAME_MAX + 2];
	struct dirent *e;
	bool found = false;
	size_t n;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/" PLANS_SUBDIR, state_dir);
	d = opendir(dir);
	if (!d)
		return false;
	while (!found && (e = readdir(d))) {
		n = strlen(e->d_name);
		if (n <= 5 || strcmp(e->d_name + n - 5, ".plan"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		found = has_recording(path);
	}
	closedir(d);
	return found;
}

void recorded_load(const struct ctl *ctl, const struct target *targets, size_t n,
		   struct recorded_set **setp, const struct plan_preset **presets, size_t *npresets)
{
	struct recorded_set *set = calloc(1, sizeof(*set));
	struct disk_contents *c = malloc(sizeof(*c));
	size_t t, k, total = 0;

	if (!set || !c || !(set->per = calloc(n ? n : 1, sizeof(*set->per))))
		die_oom();
	*setp = set;
	set->n = n;
	if (ctl->recorded == RECORDED_OFF || !any_recording(ctl->state_dir))
		n = 0;
	for (t = 0; t < n; t++) {
		if (!targets[t].blockdev)
			continue;
		disk_read_contents(targets[t].path, c);
		if (saved_set_load(&set->per[t], ctl->state_dir, c, targets[t].size, quiet_note,
				   NULL))
			die_oom();
		total += set->per[t].npresets;
	}
	free(c);
	set->presets = calloc(total ? total : 1, sizeof(*set->presets));
	if (!set->presets)
		die_oom();
	for (t = 0; t < n; t++)
		for (k = 0; k < set->per[t].npresets; k++) {
			if (!set->per[t].presets[k].recorded)
				continue;
			set->presets[set->npresets] = set->per[t].presets[k];
			set->presets[set->npresets++].target = t;
		}
	*presets = set->presets;
	*npresets = set->npresets;
}

void recorded_free(struct recorded_set *set)
{
	size_t t;

	if (!set)
		return;
	for (t = 0; t < set->n; t++)
		saved_set_free(&set->per[t]);
	free(set->per);
	free(set->presets);
	free(set);
}
