/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What hydrate and plan share before reading: the targets, opened and told
 * apart, and the plan of what to read in them, with its problems said once.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "cli/cli.h"
#include "device/target.h"
#include "plan/plan.h"

void open_targets(char **paths, size_t n, struct target *t)
{
	size_t i, k;
	int rc;

	for (i = 0; i < n; i++) {
		rc = target_open(&t[i], paths[i]);
		if (rc)
			die(EXIT_USAGE, "%s: %s", paths[i], target_strerror(rc));
		for (k = 0; k < i; k++)
			if (target_same(&t[k], &t[i]))
				die(EXIT_USAGE, "%s: the same %s as %s", paths[i],
				    t[i].blockdev ? "device" : "file", paths[k]);
	}
}

void build_plan(const struct ctl *ctl, struct plan *plan, struct target *targets, size_t n,
		const struct plan_preset *presets, size_t npresets)
{
	struct plan_opts po = {
	    .patterns = ctl->patterns,
	    .npatterns = ctl->npatterns,
	    .presets = presets,
	    .npresets = npresets,
	    .recorded_order = (enum recorded_order)ctl->recorded,
	    .used = ctl->used,
	    .only_priority = ctl->only_priority,
	};
	int rc = plan_build(plan, targets, n, &po);

	if (rc)
		die(EXIT_SYSTEM, "cannot build the plan: %s", strerror(-rc));
}

void report_plan_problems(const struct plan *plan)
{
	size_t c, i;

	for (c = 0; c < plan->nclasses; c++) {
		const struct plan_class *cl = &plan->classes[c];

		if (cl->error)
			warn_user("priority %s: %s", cl->pattern,
				  cl->error == -ENOENT ? "matches no file" : strerror(-cl->error));
		for (i = 0; i < cl->nfiles; i++)
			if (cl->files[i].error)
				warn_user("priority file %s: %s", cl->files[i].path,
					  cl->files[i].why);
	}
	for (i = 0; i < plan->nnotes; i++)
		warn_user("%s", plan->notes[i]);
}
