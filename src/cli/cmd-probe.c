/* SPDX-License-Identifier: GPL-2.0-or-later */
/* blkhydrate probe: how cold a target is, from a few small timed reads. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "device/target.h"
#include "io/probe.h"

static void describe(void)
{
	printf("Estimate how cold a target is without reading it all: time small direct\n"
	       "reads at places spread over it (the same places for the same seed), count\n"
	       "those slower than the target's warm latency as cold, and print the cold\n"
	       "share with a 95%% confidence interval and a latency histogram. Reads\n"
	       "about (samples + %u) x 4 KiB, and warms the blocks it reads.\n"
	       "\n"
	       "With -g, measure instead what a small read of a cold snapshot block\n"
	       "fetches: at %u x samples places, read 4 KiB at the start of a snapshot\n"
	       "block, the same again, then time a read at its other end. Warm there\n"
	       "means the whole block came (whole: hydrate's touch mode pays); cold,\n"
	       "only what was read (partial); too few cold blocks or mixed evidence:\n"
	       "unsure.\n",
	       PROBE_REREADS, GRANULARITY_TRIES);
}

/* probe -g: the fetch granularity. Returns the exit status. */
static int granularity(const struct ctl *ctl, const struct target *t)
{
	struct granularity_result *g = malloc(sizeof(*g));
	unsigned int blocks =
	    ctl->given & (1ULL << S_SAMPLES) ? ctl->samples : GRANULARITY_DEFAULT_BLOCKS;
	int rc, status;

	if (!g)
		die_oom();
	rc = probe_granularity(t, ctl->rs.snapshot_block, blocks, ctl->seed, &stop_requested, g);
	if (rc) {
		free(g);
		if (rc == -EINTR)
			die(EXIT_INTERRUPTED, "%s: probe interrupted", t->path);
		if (rc == -ENODEV || rc == -ENXIO)
			die(EXIT_VANISHED, "%s: the device went away", t->path);
		die(EXIT_SYSTEM, "%s: cannot probe: %s", t->path, strerror(-rc));
	}
	if (ctl->json)
		report_granularity_json(stdout, t, ctl->seed, g);
	else
		report_granularity(stdout, t, ctl->seed, g);
	status = g->errors ? EXIT_READ_ERRORS : EXIT_DONE;
	free(g);
	return status;
}

static const struct cmd_option options[] = {
    {S_GRANULARITY, NULL},
    {S_SAMPLES, "reads to time (default %u, 1 to %u); with -g: cold\n"
		"blocks wanted (default 8)"},
    {S_SEED, NULL},
    {S_SNAPSHOT_BLOCK, "-g: the snapshot block size (default %uK)"},
    {S_JSON, "print the estimate as JSON"},
};

static const struct cmd_spec spec = {
    "probe", "[options] <target>", describe, options, sizeof(options) / sizeof(options[0]), 29,
    NULL,
};

int cmd_probe(int argc, char **argv)
{
	struct probe_result r;
	struct ctl ctl = {0};
	struct target t;
	const char *path;
	int rc;

	settings_parse(&ctl, &spec, argc, argv);
	if (optind >= argc)
		die_usage(ctl.cmd, "no target given");
	if (optind + 1 < argc)
		die_usage(ctl.cmd, "one target at a time");
	path = argv[optind];
	open_targets(argv + optind, 1, &t);
	if (!t.direct)
		warn_user("%s: O_DIRECT refused: cached reads will look warm", t.path);
	stop_on_signals();
	if (ctl.granularity) {
		rc = granularity(&ctl, &t);
		target_close(&t);
		return rc;
	}
	rc = probe_run(&t, ctl.samples, ctl.seed, &stop_requested, &r);
	if (rc) {
		target_close(&t);
		if (rc == -EINTR)
			die(EXIT_INTERRUPTED, "%s: probe interrupted", path);
		if (rc == -ENODEV || rc == -ENXIO)
			die(EXIT_VANISHED, "%s: the device went away", path);
		die(EXIT_SYSTEM, "%s: cannot probe: %s", path, strerror(-rc));
	}
	if (ctl.json)
		report_probe_json(stdout, &t, ctl.seed, &r);
	else
		report_probe(stdout, &t, ctl.seed, &r);
	target_close(&t);
	return r.errors ? EXIT_READ_ERRORS : EXIT_DONE;
}
