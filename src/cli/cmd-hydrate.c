/* SPDX-License-Identifier: GPL-2.0-or-later */
/* blkhydrate hydrate: read every block of each target once, priority files first. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>

#include "cli/cli.h"
#include "state/ledger.h"

static void describe(void)
{
	fputs("Read every block of each target (a block device or a disk image) once,\n"
	      "read-only, the extents of the priority files first, so that a volume\n"
	      "restored from a snapshot is fully fetched.\n",
	      stdout);
}

static const struct cmd_option options[] = {
    PLANNING_OPTIONS,
    {S_RECORDED, NULL},
    {S_RATE, NULL},
    {S_READ_MODE, NULL},
    {S_SNAPSHOT_BLOCK, NULL},
    {S_IOPRIO, NULL},
    {S_YIELD, NULL},
    {S_NO_YIELD, NULL},
    {S_PRELOAD, NULL},
    {S_PRELOAD_MARGIN, NULL},
    {S_PROGRESS, NULL},
    {S_JSON, "print a JSON summary on standard output"},
    {S_QUIET, NULL},
    {S_RESUME, NULL},
    {S_WAIT, NULL},
    {S_LOCK_DIR, NULL},
    {S_ATTACH, NULL},
    {S_STATE_DIR, "ledger, saved plans and progress (default " DEFAULT_STATE_DIR ")"},
    {S_RUN_DIR, NULL},
};

const char size_suffixes[] =
    "\nSizes take the suffixes K, M, G, T (powers of 1024) or KB, MB, GB, TB.\n";

static const struct cmd_spec spec = {
    "hydrate", "[options] <target>...", describe, options, sizeof(options) / sizeof(options[0]),
    27,	       size_suffixes,
};

int cmd_hydrate(int argc, char **argv)
{
	struct ctl ctl = {0};
	struct hydration *h;
	int status = EXIT_DONE;

	settings_parse(&ctl, &spec, argc, argv);
	settings_check_targets(&ctl, argc - optind);
	if (!hydrate_prepare(&ctl, argv + optind, (size_t)(argc - optind), &h))
		status = hydrate_run(h);
	status = hydrate_finish(h, status);
	settings_free(&ctl);
	return status;
}
