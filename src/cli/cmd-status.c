/* SPDX-License-Identifier: GPL-2.0-or-later */
/* blkhydrate status: the attach hydrations running now, and the ledger of those done. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/listing.h"
#include "state/ledger.h"
#include "state/runstate.h"

static void describe(void)
{
	fputs("Show the attach hydrations running now, with their progress, and the volumes\n"
	      "hydrated before (the ledger).\n",
	      stdout);
}

static const struct cmd_option options[] = {
    {S_JSON, NULL},
    {S_STATE_DIR, NULL},
    {S_RUN_DIR, NULL},
};

static const struct cmd_spec spec = {
    "status", "[options]", describe, options, sizeof(options) / sizeof(options[0]), 27, NULL,
};

struct status_ctx {
	bool json;
	size_t n;
};

static int status_running(const struct run_state *st, const char *path, int err, void *arg)
{
	struct status_ctx *sx = arg;
	bool alive;

	if (err) {
		warn_user("%s: %s: ignored", path, err == -EBADMSG ? "corrupt" : strerror(-err));
		return 0;
	}
	alive = !kill(st->pid, 0) || errno == EPERM;
	if (sx->json)
		listing_running_json(stdout, st, alive, !sx->n);
	else
		listing_running(stdout, st, alive);
	sx->n++;
	return 0;
}

static int status_finished(const struct ledger_entry *e, const char *path, int err, void *arg)
{
	struct status_ctx *sx = arg;

	if (err) {
		warn_user("%s: %s: ignored", path,
			  err == -EBADMSG ? "corrupt ledger entry" : strerror(-err));
		return 0;
	}
	if (sx->json)
		listing_finished_json(stdout, e, !sx->n);
	else
		listing_finished(stdout, e);
	sx->n++;
	return 0;
}

int cmd_status(int argc, char **argv)
{
	struct ctl ctl = {0};
	struct status_ctx sx = {0};
	int rc;

	settings_parse(&ctl, &spec, argc, argv);
	if (optind < argc)
		die_usage(ctl.cmd, "unexpected argument '%s'", argv[optind]);
	sx.json = ctl.json;
	fputs(ctl.json ? "{\"running\": [" : "Running:\n", stdout);
	rc = run_state_list(ctl.run_dir, status_running, &sx);
	if (rc && rc != -ENOENT)
		die(EXIT_USAGE, "%s: %s", ctl.run_dir, strerror(-rc));
	if (!ctl.json && !sx.n)
		fputs("  none\n", stdout);
	fputs(ctl.json ? (sx.n ? "\n  ],\n  \"finished\": [" : "],\n  \"finished\": [")
		       : "Finished:\n",
	      stdout);
	sx.n = 0;
	rc = ledger_list(ctl.state_dir, status_finished, &sx);
	if (rc && rc != -ENOENT)
		die(EXIT_USAGE, "%s: %s", ctl.state_dir, strerror(-rc));
	if (!ctl.json && !sx.n)
		fputs("  none\n", stdout);
	if (ctl.json)
		fputs(sx.n ? "\n  ]}\n" : "]}\n", stdout);
	settings_free(&ctl);
	return EXIT_DONE;
}
