/* SPDX-License-Identifier: GPL-2.0-or-later */
/* blkhydrate plan: what hydrate would read, in order, without reading; --save keeps it for attach.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "device/target.h"
#include "plan/plan.h"
#include "plan/saved.h"
#include "state/ledger.h"

static void describe(void)
{
	fputs("Show what 'blkhydrate hydrate' would read, in order, without reading:\n"
	      "each priority class with its files, extents and bytes, then the rest.\n",
	      stdout);
}

static const struct cmd_option options[] = {
    PLANNING_OPTIONS,
    {S_RECORDED, NULL},
    {S_JSON, "print the plan as JSON"},
    {S_VERBOSE, NULL},
    {S_SAVE, NULL},
    {S_STATE_DIR, "where --save stores plans (default " DEFAULT_STATE_DIR ")"},
};

static const struct cmd_spec spec = {
    "plan", "[options] <target>...", describe, options, sizeof(options) / sizeof(options[0]),
    27,	    size_suffixes,
};

static void saved_one(void *arg, const char *uuid, size_t files, const char *path, int err)
{
	const struct ctl *ctl = arg;

	if (err)
		warn_user("%s: cannot save the plan for UUID %s: %s", ctl->state_dir, uuid,
			  strerror(-err));
	else
		warn_user("saved the plan for UUID %s (%zu file%s) as %s", uuid, files,
			  files == 1 ? "" : "s", path);
}

int save_plans(const struct ctl *ctl, const struct plan *plan)
{
	int saved = saved_plans_store(ctl->state_dir, plan, saved_one, (void *)ctl);

	if (saved < 0)
		die_oom();
	if (!saved)
		warn_user("nothing saved: no priority file lies in a file system with a UUID on "
			  "the targets");
	return saved;
}

int cmd_plan(int argc, char **argv)
{
	struct ctl ctl = {0};
	struct target *targets;
	const struct plan_preset *presets;
	struct recorded_set *rec;
	struct plan plan;
	size_t n, i, npresets;
	int status;

	settings_parse(&ctl, &spec, argc, argv);
	settings_check_targets(&ctl, argc - optind);
	n = (size_t)(argc - optind);
	targets = calloc(n, sizeof(*targets));
	if (!targets)
		die_oom();
	open_targets(argv + optind, n, targets);
	recorded_load(&ctl, targets, n, &rec, &presets, &npresets);
	build_plan(&ctl, &plan, targets, n, presets, npresets);
	if (ctl.json)
		report_plan_json(stdout, &plan, &ctl.rs);
	else
		report_plan(stdout, &plan, &ctl.rs, ctl.verbose);
	report_plan_problems(&plan);
	status = plan.unmapped ? EXIT_UNMAPPED : EXIT_DONE;
	if (plan.unmapped)
		warn_user("%u priority paths or files could not be mapped", plan.unmapped);
	if (ctl.save && !save_plans(&ctl, &plan))
		status = EXIT_UNMAPPED;
	for (i = 0; i < n; i++)
		target_close(&targets[i]);
	plan_free(&plan);
	recorded_free(rec);
	free(targets);
	settings_free(&ctl);
	return status;
}
