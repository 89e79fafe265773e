/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * blkhydrate record: note which files of a disk's mounted file systems a run
 * of the workload opens (fanotify), in the order first opened, and at the
 * end which of their bytes were read (the page cache); place those on the
 * device and show them as the "recorded" class; with --save, keep it in
 * each file system's saved plan, for hydrate to read first next time.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/notify.h"
#include "device/fswatch.h"
#include "device/resident.h"
#include "device/target.h"
#include "plan/plan.h"
#include "state/ledger.h"

#define POLL_MS	     100
#define UNIT_POLL_MS 500
#define SAMPLE_MS    100

static void describe(void)
{
	fputs("Note which files of the file systems mounted from the target are opened\n"
	      "(a trial boot, a first run of the workload), in the order first opened, and\n"
	      "at the end which of their bytes were read; show them as the recorded class\n"
	      "of a plan, and with --save keep it for hydrate to read first. Stops after\n"
	      "--for, when --until-unit is active, or on SIGINT or SIGTERM.\n",
	      stdout);
}

static const struct cmd_option options[] = {
    {S_FOR, NULL},
    {S_UNTIL_UNIT, NULL},
    {S_SAVE, "keep the recording in each file system's saved plan,\n"
	     "keyed by its UUID, for plan and hydrate"},
    {S_MAX_FILES, NULL},
    {S_STATE_DIR, "where --save stores plans (default " DEFAULT_STATE_DIR ")"},
    {S_JSON, "print the recorded plan as JSON"},
    {S_VERBOSE, NULL},
    {S_QUIET, "say nothing but errors on standard error"},
};

static const struct cmd_spec spec = {
    "record",
    "[--for <duration> | --until-unit <unit>] [options] <target>",
    describe,
    options,
    sizeof(options) / sizeof(options[0]),
    27,
    NULL,
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Whether --until-unit's unit is active now; a failed unit ends the recording too. */
static bool unit_reached(const struct ctl *ctl)
{
	char state[64];
	int rc = unit_active_state(ctl->until_unit, state, sizeof(state));

	if (rc)
		die(EXIT_SYSTEM, "--until-unit %s: cannot ask systemd: %s", ctl->until_unit,
		    strerror(-rc));
	if (!strcmp(state, "failed")) {
		warn_user("%s failed: recording what was read until now", ctl->until_unit);
		return true;
	}
	return !strcmp(state, "active");
}

/* What of each file noted is in the page cache, and was at every sample before. */
struct residency {
	struct plan_recorded_file *rf; /* one per file noted, in first-open order */
	size_t n;
	uint64_t next_ms;  /* when to sample again */
	uint64_t every_ms; /* sampling costs at most a tenth of the time */
};

/*
 * A sample: the pages of each file in the page cache now, added to those
 * seen before. Sampling all along, not only at the end, keeps what memory
 * pressure (or a drop_caches) evicts after the run read it.
 */
static void sample(const struct fswatch *w, struct residency *r)
{
	uint64_t t0 = now_ms(), spent;
	size_t i;
	int fd, rc;

	if (w->n > r->n) {
		struct plan_recorded_file *v = realloc(r->rf, w->n * sizeof(*v));

		if (!v)
			die_oom();
		r->rf = v;
		for (i = r->n; i < w->n; i++) {
			v[i].path = w->v[i].path;
			rangelist_init(&v[i].pages);
		}
		r->n = w->n;
	}
	for (i = 0; i < r->n; i++) {
		fd =
		    open(r->rf[i].path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOATIME);
		if (fd < 0)
			continue; /* gone since, or not ours to open: what was seen stays */
		rc = resident_pages(fd, &r->rf[i].pages);
		close(fd);
		if (rc == -ENOMEM)
			die_oom();
		rangelist_normalize(&r->rf[i].pages);
	}
	spent = now_ms() - t0;
	r->every_ms = spent * 10 > SAMPLE_MS ? spent * 10 : SAMPLE_MS;
	r->next_ms = now_ms() + r->every_ms;
}

/* Until --for has passed, --until-unit is active, or a signal; then a last sample. */
static void watch(const struct ctl *ctl, struct fswatch *w, struct residency *r)
{
	struct pollfd pfd = {.fd = w->fd, .events = POLLIN};
	uint64_t start = now_ms(), unit_at = 0, t;

	for (;;) {
		if (fswatch_drain(w))
			die_oom();
		t = now_ms();
		if (stop_requested || (ctl->record_ms && t - start >= ctl->record_ms))
			break;
		if (ctl->until_unit && t >= unit_at) {
			if (unit_reached(ctl))
				break;
			unit_at = t + UNIT_POLL_MS;
		}
		if (t >= r->next_ms)
			sample(w, r);
		if (poll(&pfd, 1, POLL_MS) < 0 && errno != EINTR)
			die(EXIT_SYSTEM, "poll: %s", strerror(errno));
	}
	if (fswatch_drain(w))
		die_oom();
	fswatch_stop(w);
	sample(w, r);
}

/* Keep the files with bytes seen in the page cache, in order. Returns how many. */
static size_t resident(struct residency *r)
{
	size_t i, n = 0;

	for (i = 0; i < r->n; i++) {
		if (!r->rf[i].pages.n) {
			rangelist_free(&r->rf[i].pages);
			continue;
		}
		r->rf[n++] = r->rf[i];
	}
	return n;
}

static void start(const struct ctl *ctl, const struct target *t, struct fswatch *w)
{
	int rc;

	if (!t->blockdev)
		die(EXIT_USAGE,
		    "%s: not a block device: record watches the file systems mounted "
		    "from a disk",
		    t->path);
	rc = fswatch_start(w, t->id_dev, ctl->max_files);
	if (rc == -ENOENT)
		die(EXIT_USAGE, "%s: no file system of it is mounted: nothing to record", t->path);
	if (rc == -EPERM)
		die(EXIT_USAGE, "%s: fanotify needs CAP_SYS_ADMIN (run as root)", t->path);
	if (rc)
		die(EXIT_SYSTEM, "%s: cannot watch its file systems: %s", t->path, strerror(-rc));
	stop_on_signals();
	if (ctl->quiet)
		return;
	if (ctl->until_unit)
		warn_user("recording opens on %u file system%s of %s until %s is active", w->marks,
			  w->marks == 1 ? "" : "s", t->path, ctl->until_unit);
	else if (ctl->record_ms)
		warn_user("recording opens on %u file system%s of %s for %.1f s", w->marks,
			  w->marks == 1 ? "" : "s", t->path, (double)ctl->record_ms / 1000);
	else
		warn_user("recording opens on %u file system%s of %s until SIGINT or SIGTERM",
			  w->marks, w->marks == 1 ? "" : "s", t->path);
}

/* Place the recording, show it, and with --save keep it. Returns the exit status. */
static int finish(struct ctl *ctl, struct target *t, struct plan_recorded_file *rf, size_t n)
{
	struct plan_opts po = {.recorded = rf, .nrecorded = n, .only_priority = true};
	struct plan plan;
	int rc, status = EXIT_DONE;

	rc = plan_build(&plan, t, 1, &po);
	if (rc)
		die(EXIT_SYSTEM, "cannot build the plan: %s", strerror(-rc));
	if (ctl->json)
		report_plan_json(stdout, &plan, &ctl->rs);
	else
		report_plan(stdout, &plan, &ctl->rs, ctl->verbose);
	if (!ctl->quiet)
		report_plan_problems(&plan);
	if (ctl->save && (!n || !save_plans(ctl, &plan)))
		status = EXIT_UNMAPPED;
	plan_free(&plan);
	return status;
}

int cmd_record(int argc, char **argv)
{
	struct ctl ctl = {0};
	struct residency r = {0};
	struct target t;
	struct fswatch w;
	size_t n, i;
	int status;

	settings_parse(&ctl, &spec, argc, argv);
	if (argc - optind != 1)
		die_usage(ctl.cmd,
			  argc - optind < 1 ? "no target given" : "record takes one target");
	if (ctl.record_ms && ctl.until_unit)
		die_usage(ctl.cmd, "--for and --until-unit exclude each other");
	if (ctl.until_unit && unit_active_state(ctl.until_unit, (char[8]){0}, 8) == -EOPNOTSUPP)
		die_usage(ctl.cmd, "--until-unit: blkhydrate was built without libsystemd");
	open_targets(argv + optind, 1, &t);
	start(&ctl, &t, &w);
	watch(&ctl, &w, &r);
	n = resident(&r);
	if (!ctl.quiet)
		warn_user("%zu file%s opened, %zu of them with bytes in the page cache%s", w.n,
			  w.n == 1 ? "" : "s", n,
			  w.dropped ? " (some opens were not noted: --max-files or a full queue)"
				    : "");
	status = finish(&ctl, &t, r.rf, n);
	for (i = 0; i < n; i++)
		rangelist_free(&r.rf[i].pages);
	free(r.rf);
	fswatch_free(&w);
	target_close(&t);
	settings_free(&ctl);
	return status;
}
