/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The hydrate workflow in three steps: prepare (open, lock, plan, resume),
 * run (the engine, with its progress, pacing and checkpoint callbacks) and
 * finish (what went wrong, the summary, the ledger, releasing everything).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/range.h"
#include "base/size.h"
#include "base/value.h"
#include "cli/cli.h"
#include "cli/loader.h"
#include "cli/notify.h"
#include "device/target.h"
#include "device/volid.h"
#include "io/engine.h"
#include "io/pace.h"
#include "io/probe.h"
#include "io/touch.h"
#include "plan/plan.h"
#include "state/checkpoint.h"
#include "state/lock.h"
#include "state/runstate.h"

#define PROGRESS_BAR_MS 200
#define PROGRESS_LOG_MS 5000
#define MAX_BAD_LINES	20   /* the JSON summary lists them all */
#define CHECKPOINT_MS	2000 /* how often progress is saved while reading */

/* Per target: who it is, its disk lock, and what an earlier run read. */
struct volstate {
	struct volid vid;
	int lock_fd;
	struct rangelist prior; /* read by earlier runs (--resume) */
	struct rangelist *left; /* the plan's phases minus @prior; NULL: not resuming */
	bool save_failed;	/* said once that progress cannot be saved */
	struct loader loader;	/* the priority phases in loader order; --preload */
	bool priority_said;	/* its priority classes were reported read */
	bool switch_said;	/* said that touching stopped */
	struct read_choice choice;
};

struct hydration {
	struct ctl *ctl;
	size_t n;
	struct target *targets;
	struct job *jobs;
	struct volstate *vs;
	struct plan plan;
	bool planned;		  /* @plan and @vs hold something to free */
	struct attach *at;	  /* --attach, else NULL */
	struct recorded_set *rec; /* without --attach: the saved recordings */
	struct run_state *state;  /* --attach: progress for "status" */
	struct pace pace;
	bool paced;	   /* @pace holds something to free */
	uint64_t fetch_ns; /* median cold first read the probe saw, the fastest target's; 0: none */
	struct engine_info info;
	size_t waiting; /* jobs whose priority classes are not read yet */
};

/* Units ordered After= the hydration start now: their files are warm (or there are none). */
static void priority_ready(struct hydration *h, const char *status)
{
	if (h->state)
		h->state->priority_done = true;
	notify_systemd(status);
}

static void phase_cb(const struct job *job, size_t phase, void *arg)
{
	struct hydration *h = arg;
	size_t t = (size_t)(job - h->jobs);
	size_t npri = h->plan.per[t].npriority;

	/* A job that stops touching reads its phases again: once is news. */
	if (!npri || phase + 1 != npri || h->vs[t].priority_said)
		return;
	h->vs[t].priority_said = true;
	if (!--h->waiting)
		priority_ready(h, "READY=1\nSTATUS=priority files read, reading the rest");
	if (h->ctl->quiet)
		return;
	if (h->ctl->bar)
		report_progress_end(stderr);
	report_priority_done(stderr, &h->plan, t, job);
}

static void save_run_state(struct hydration *h, const struct job *j)
{
	int rc;

	/* Before the engine starts, the plan's count stands. */
	if (j->planned)
		h->state->planned = j->planned;
	h->state->done = j->done;
	h->state->errors = (unsigned int)j->bad.n;
	if (h->paced) {
		h->state->depth = h->pace.depth;
		h->state->rate = (uint64_t)h->pace.rate;
		h->state->latency_us = (uint64_t)(h->pace.lat_ns / 1000.0);
	}
	rc = run_state_write(h->ctl->run_dir, h->state);
	if (rc)
		warn_user("%s: cannot write progress: %s", h->ctl->run_dir, strerror(-rc));
}

/* Say, once, that a target's samples were cold and it is read in full again. */
static void say_switches(struct hydration *h)
{
	size_t i;

	for (i = 0; i < h->n; i++) {
		if (!h->jobs[i].touch.switched || h->vs[i].switch_said)
			continue;
		h->vs[i].switch_said = true;
		if (h->ctl->quiet)
			continue;
		if (h->ctl->bar)
			report_progress_end(stderr);
		warn_user(
		    "%s: %u of %u samples inside touched blocks were cold: the volume fetches "
		    "only what is read; switched to full reads, reading everything again",
		    h->targets[i].path, h->jobs[i].touch.cold_samples, h->jobs[i].touch.samples);
	}
}

static void progress_cb(const struct job *jobs, size_t njobs, uint64_t elapsed_ns, void *arg)
{
	struct hydration *h = arg;
	uint64_t done = 0, planned = 0;
	char status[128], sdone[32], splanned[32];
	size_t i;

	say_switches(h);
	if (h->ctl->progress != PROGRESS_NEVER)
		report_progress(stderr, jobs, njobs, elapsed_ns, h->ctl->bar, &h->pace);
	for (i = 0; i < njobs; i++) {
		done += jobs[i].done;
		planned += jobs[i].planned;
	}
	snprintf(status, sizeof(status), "STATUS=read %s of %s (%.0f%%)",
		 size_format(done, sdone, sizeof(sdone)),
		 size_format(planned, splanned, sizeof(splanned)), percent(done, planned));
	notify_systemd(status);
	if (h->state)
		save_run_state(h, &jobs[0]);
}

static void look_cb(void *arg)
{
	struct hydration *h = arg;

	pace_look(&h->pace);
}

static unsigned int pace_cb(const struct engine_pace *ep, const struct job *jobs, size_t njobs,
			    void *arg)
{
	struct hydration *h = arg;

	return pace_tick(ep, jobs, njobs, &h->pace);
}

static void save_one(const struct ctl *ctl, struct volstate *vs, const struct job *j)
{
	int rc;

	if (j->complete)
		rc = checkpoint_remove(ctl->progress_dir, vs->vid.id);
	else
		rc = checkpoint_save(ctl->progress_dir, vs->vid.id, j->target->size, &vs->prior,
				     &j->read, &j->bad);
	if (rc && !vs->save_failed) {
		vs->save_failed = true;
		warn_user("%s: warning: cannot save progress in %s: %s", j->target->path,
			  ctl->state_dir, strerror(-rc));
	}
}

static void save_cb(const struct job *jobs, size_t njobs, void *arg)
{
	struct hydration *h = arg;
	size_t i;

	for (i = 0; i < njobs; i++)
		save_one(h->ctl, &h->vs[i], &jobs[i]);
}

/* One target's disk lock; waits with --wait. Returns the lock's fd, or -1 when unlocked. */
static int lock_one(const struct ctl *ctl, const struct target *t, const char *disk)
{
	pid_t holder;
	int rc;

	rc = disk_lock(ctl->lock_dir, disk, false, &holder);
	if (rc == -EBUSY && ctl->wait) {
		if (!ctl->quiet)
			warn_user("%s: waiting for pid %ld, which is hydrating the same disk",
				  t->path, (long)holder);
		rc = disk_lock(ctl->lock_dir, disk, true, &holder);
		if (rc == -EINTR)
			die(EXIT_INTERRUPTED, "%s: interrupted while waiting for the disk lock",
			    t->path);
	}
	if (rc == -EBUSY)
		die(EXIT_BUSY,
		    "%s: already being hydrated by pid %ld (lock %s/%s.lock); use --wait to wait",
		    t->path, (long)holder, ctl->lock_dir, disk);
	if (rc == -EACCES || rc == -EPERM || rc == -EROFS) {
		/* An unprivileged user hydrating an image: run, but say so. */
		if (!ctl->quiet)
			warn_user("%s: warning: cannot lock %s/%s.lock: %s; running unlocked",
				  t->path, ctl->lock_dir, disk, strerror(-rc));
		return -1;
	}
	if (rc < 0)
		die(EXIT_SYSTEM, "%s: cannot lock %s/%s.lock: %s", t->path, ctl->lock_dir, disk,
		    strerror(-rc));
	return rc;
}

/*
 * Lock every target's disk, before anything is read. Two targets of one run
 * on the same disk (two partitions) share the first one's lock.
 */
static void lock_targets(struct hydration *h)
{
	struct volstate *vs = h->vs;
	size_t i, k;
	int rc;

	for (i = 0; i < h->n; i++) {
		vs[i].lock_fd = -1;
		rc = volid_get(&h->targets[i], "/sys", &vs[i].vid);
		if (rc)
			die(EXIT_SYSTEM, "%s: cannot identify the volume: %s", h->targets[i].path,
			    strerror(-rc));
		for (k = 0; k < i; k++)
			if (!strcmp(vs[k].vid.disk, vs[i].vid.disk))
				break;
		if (k == i)
			vs[i].lock_fd = lock_one(h->ctl, &h->targets[i], vs[i].vid.disk);
	}
}

/* With --resume, take one target's saved progress off its plan; a bad state file is ignored. */
static void resume_one(const struct ctl *ctl, const struct plan_target *per, const struct target *t,
		       struct volstate *vs)
{
	char path[4200], sread[32];
	size_t p;
	int rc;

	rc = checkpoint_load(ctl->progress_dir, vs->vid.id, t->size, &vs->prior, NULL);
	if (rc == -ENOENT)
		return;
	if (rc == -ENOMEM)
		die_oom();
	if (rc) {
		checkpoint_path(ctl->progress_dir, vs->vid.id, path, sizeof(path));
		warn_user("%s: warning: ignoring %s: %s; reading everything", t->path, path,
			  checkpoint_strerror(rc));
		return;
	}
	vs->left = calloc(per->nphases ? per->nphases : 1, sizeof(*vs->left));
	if (!vs->left)
		die_oom();
	for (p = 0; p < per->nphases; p++)
		if (rangelist_subtract(&vs->left[p], &per->phases[p], &vs->prior))
			die_oom();
	if (!ctl->quiet) {
		size_format(rangelist_bytes(&vs->prior), sread, sizeof(sread));
		warn_user("%s: resuming: %s read before", t->path, sread);
	}
}

static void say_before_reading(struct hydration *h)
{
	unsigned int through_failed;
	size_t i;

	if (!h->ctl->quiet) {
		report_plan_problems(&h->plan);
		for (i = 0; i < h->n; i++)
			if (!h->targets[i].direct)
				warn_user("%s: O_DIRECT refused, reading through the page cache",
					  h->targets[i].path);
	}
	/* Bytes FIEMAP could not place (inline data) are few: read them through the files now. */
	through_failed = plan_read_through(&h->plan);
	if (through_failed && !h->ctl->quiet)
		warn_user("%u priority files could not be read through the file system",
			  through_failed);
}

int hydrate_prepare(struct ctl *ctl, char **paths, size_t n, struct hydration **hp)
{
	struct hydration *h = calloc(1, sizeof(*h));
	const struct plan_preset *presets;
	size_t npresets, i;

	if (!h)
		die_oom();
	*hp = h;
	h->ctl = ctl;
	h->n = n;
	h->targets = calloc(n, sizeof(*h->targets));
	h->jobs = calloc(n, sizeof(*h->jobs));
	h->vs = calloc(n, sizeof(*h->vs));
	if (!h->targets || !h->jobs || !h->vs)
		die_oom();
	open_targets(paths, n, h->targets);
	if (ctl->attach && attach_prepare(ctl, &h->targets[0], &h->at)) {
		notify_systemd("READY=1\nSTATUS=already hydrated");
		return 1;
	}
	/* From here a signal stops the run cleanly, also one that comes while we wait for a lock.
	 */
	stop_on_signals();
	lock_targets(h);
	if (h->at)
		attach_presets(h->at, &presets, &npresets);
	else
		recorded_load(ctl, h->targets, n, &h->rec, &presets, &npresets);
	build_plan(ctl, &h->plan, h->targets, n, presets, npresets);
	h->planned = true;
	for (i = 0; i < n; i++) {
		rangelist_init(&h->vs[i].prior);
		if (ctl->resume)
			resume_one(ctl, &h->plan.per[i], &h->targets[i], &h->vs[i]);
	}
	say_before_reading(h);
	return 0;
}

/* The jobs, and what is known before the first read: whether priority is done, the plan's size. */
static void start_jobs(struct hydration *h)
{
	size_t i;

	for (i = 0; i < h->n; i++) {
		h->jobs[i].target = &h->targets[i];
		h->jobs[i].phases = h->vs[i].left ? h->vs[i].left : h->plan.per[i].phases;
		h->jobs[i].nphases = h->plan.per[i].nphases;
		h->waiting += h->plan.per[i].npriority > 0;
		loader_setup(&h->vs[i].loader, &h->plan, i, h->vs[i].left ? &h->vs[i].prior : NULL,
			     h->ctl->rs.block_size, h->ctl->preload, h->ctl->preload_margin);
		if (h->vs[i].loader.active)
			h->jobs[i].window = &h->vs[i].loader.win;
	}
	h->state = h->at ? attach_run_state(h->at) : NULL;
	if (!h->waiting)
		priority_ready(h, "READY=1\nSTATUS=no priority files, reading");
	if (h->state) {
		for (i = 0; i < h->plan.per[0].nphases; i++)
			h->state->planned += plan_phase_bytes(&h->plan, 0, i);
		save_run_state(h, &h->jobs[0]);
	}
}

/* Between reads: preload what is warm. */
static void idle_cb(const struct job *jobs, size_t njobs, void *arg)
{
	struct hydration *h = arg;
	size_t i;

	(void)jobs;
	for (i = 0; i < njobs; i++)
		loader_preload(&h->vs[i].loader, false);
}

/* Bytes left for target @i to read. */
static uint64_t bytes_left(const struct hydration *h, size_t i)
{
	uint64_t sum = 0;
	size_t p;

	for (p = 0; p < h->jobs[i].nphases; p++)
		sum += rangelist_bytes(&h->jobs[i].phases[p]);
	return sum;
}

static void say_choice(const struct hydration *h, size_t i, const struct granularity_result *g)
{
	char sblock[32];

	if (h->ctl->quiet)
		return;
	size_format(g->block, sblock, sizeof(sblock));
	warn_user("%s: snapshot blocks of %s fetched %s (%u cold of %u probed, other end warm in "
		  "%u, cold in %u): %s",
		  h->targets[i].path, sblock,
		  g->verdict == GRANULARITY_WHOLE     ? "whole"
		  : g->verdict == GRANULARITY_PARTIAL ? "partially"
						      : "in a way the probe cannot tell",
		  g->cold, g->tried, g->far_warm, g->far_cold,
		  h->jobs[i].touch.active ? "touching each block" : "reading in full");
}

/*
 * --read-mode touch or auto: probe each target's fetch granularity, at
 * snapshot blocks inside its plan (nothing the plan leaves out is fetched;
 * with priority classes, inside them: a model too small for the probe is
 * read in full), and touch where it says whole blocks come (or where touch
 * is asked for: the probe still gives the samples their threshold).
 */
static void choose_read_modes(struct hydration *h)
{
	const struct run_settings *rs = &h->ctl->rs;
	uint64_t off[GRANULARITY_DEFAULT_BLOCKS * GRANULARITY_TRIES];
	struct granularity_result *g;
	unsigned int n;
	size_t i;
	int rc;

	if (rs->read_mode == READ_MODE_FULL)
		return;
	g = malloc(sizeof(*g));
	if (!g)
		die_oom();
	for (i = 0; i < h->n && !stop_requested; i++) {
		if (!bytes_left(h, i))
			continue;
		/* With priority classes, only their blocks: nothing else is fetched first. */
		n = touch_probe_places(
		    h->jobs[i].phases,
		    h->plan.per[i].npriority ? h->plan.per[i].npriority : h->jobs[i].nphases,
		    rs->snapshot_block, GRANULARITY_DEFAULT_BLOCKS * GRANULARITY_TRIES,
		    GRANULARITY_MIN_COLD, off);
		rc = probe_granularity_at(&h->targets[i], rs->snapshot_block, off, n,
					  GRANULARITY_DEFAULT_BLOCKS, rs->ioprio, &stop_requested,
					  g);
		if (rc) {
			if (rc != -EINTR && !h->ctl->quiet)
				warn_user(
				    "%s: cannot probe the fetch granularity: %s; reading in full",
				    h->targets[i].path, strerror(-rc));
			continue;
		}
		h->vs[i].choice = (struct read_choice){true, g->verdict, g->bytes_read, g->tried};
		if (g->cold_ns && (!h->fetch_ns || g->cold_ns < h->fetch_ns))
			h->fetch_ns = g->cold_ns;
		if (rs->read_mode == READ_MODE_TOUCH || g->verdict == GRANULARITY_WHOLE)
			touch_init(&h->jobs[i].touch, rs->snapshot_block, h->targets[i].align,
				   granularity_sample_threshold(g));
		say_choice(h, i, g);
	}
	free(g);
}

static void engine_options(struct hydration *h, struct engine_opts *eo)
{
	const struct ctl *ctl = h->ctl;

	memset(eo, 0, sizeof(*eo));
	eo->queue_depth = h->pace.max_depth;
	eo->start_depth = h->pace.depth;
	eo->ioprio = ctl->rs.ioprio;
	eo->pace_ms = PACE_TICK_MS;
	eo->pace = pace_cb;
	eo->look = h->pace.yield ? look_cb : NULL;
	eo->block_size = ctl->rs.block_size;
	eo->strides = ctl->rs.strides;
	eo->rate = ctl->rs.rate;
	eo->stop = &stop_requested;
	eo->phase_done = phase_cb;
	eo->save = save_cb;
	eo->save_ms = CHECKPOINT_MS;
	eo->idle = ctl->preload ? idle_cb : NULL;
	eo->arg = h;
	/* Under --attach progress also feeds "status" and systemd, even when quiet. */
	if (ctl->progress != PROGRESS_NEVER || ctl->attach) {
		eo->tick_ms = ctl->bar ? PROGRESS_BAR_MS : PROGRESS_LOG_MS;
		eo->progress = progress_cb;
	}
}

static int exit_status(const struct job *jobs, size_t n, const struct engine_info *info)
{
	bool errors = false, vanished = false;
	size_t i;

	for (i = 0; i < n; i++) {
		errors = errors || jobs[i].errors;
		vanished = vanished || jobs[i].vanished;
	}
	/*
	 * A disk that goes away takes its unit down too (BindsTo=): the
	 * SIGTERM that follows is not the reason the run stopped.
	 */
	if (vanished)
		return EXIT_VANISHED;
	if (info->interrupted)
		return EXIT_INTERRUPTED;
	return errors ? EXIT_READ_ERRORS : EXIT_DONE;
}

int hydrate_run(struct hydration *h)
{
	const struct ctl *ctl = h->ctl;
	struct engine_opts eo;
	int rc;

	start_jobs(h);
	choose_read_modes(h);
	/* A depth the user fixed is theirs: yielding cuts it only when asked for. */
	if (pace_init(&h->pace, ctl->rs.queue_depth, pace_auto_max(ctl->rs.block_size),
		      ctl->rs.yield && (!ctl->rs.queue_depth || ctl->rs.yield_given), h->targets,
		      h->n))
		die_oom();
	h->paced = true;
	if (ctl->rs.yield_given && !pace_watched(&h->pace) && !ctl->quiet)
		warn_user("--yield: no target is a block device with statistics in sysfs, "
			  "not yielding");
	/* The probe's lone cold reads took the unloaded fetch latency: auto depth starts on it. */
	pace_hint_latency(&h->pace, h->fetch_ns);
	engine_options(h, &eo);
	rc = engine_run(h->jobs, h->n, &eo, &h->info);
	/* A detach stops the unit (BindsTo=) by a SIGTERM that can beat any failed read. */
	for (size_t i = 0; !rc && h->info.interrupted && i < h->n; i++)
		if (!h->jobs[i].vanished && target_gone(&h->targets[i])) {
			h->jobs[i].vanished = true;
			h->jobs[i].vanish_err = -ENODEV;
		}
	for (size_t i = 0; !rc && ctl->preload && !h->info.interrupted && i < h->n; i++)
		if (!h->jobs[i].vanished)
			loader_preload(&h->vs[i].loader, true);
	if (ctl->bar)
		report_progress_end(stderr);
	if (rc) {
		warn_user("cannot read with io_uring: %s", strerror(-rc));
		return -EXIT_SYSTEM;
	}
	return exit_status(h->jobs, h->n, &h->info);
}

static void json_more(FILE *f, void *arg)
{
	struct hydration *h = arg;
	struct loader **l = calloc(h->n, sizeof(*l));
	size_t i;

	if (!l)
		die_oom();
	for (i = 0; i < h->n; i++)
		l[i] = &h->vs[i].loader;
	loader_json(f, l, h->n, h->ctl->preload, h->ctl->preload_margin);
	free(l);
}

/* What the run did: errors always (--quiet silences progress, not trouble), then the summary. */
static void report_run(struct hydration *h, int status)
{
	const struct ctl *ctl = h->ctl;
	size_t i;

	save_cb(h->jobs, h->n, h);
	for (i = 0; i < h->n; i++) {
		report_bad_ranges(stderr, &h->jobs[i], MAX_BAD_LINES);
		if (h->jobs[i].vanished)
			warn_user("%s: the device went away (%s): stopped", h->targets[i].path,
				  strerror(-h->jobs[i].vanish_err));
	}
	if (!ctl->quiet) {
		for (i = 0; i < h->n; i++) {
			report_summary(stderr, &h->plan, i, &h->jobs[i]);
			loader_report(stderr, h->targets[i].path, &h->vs[i].loader);
		}
		report_pace(stderr, &h->pace);
		if (h->info.interrupted)
			warn_user("interrupted: in-flight reads drained, stopping");
	}
	say_switches(h);
	if (ctl->json) {
		struct read_choice *rc = calloc(h->n, sizeof(*rc));

		if (!rc)
			die_oom();
		for (i = 0; i < h->n; i++)
			rc[i] = h->vs[i].choice;
		report_json(stdout, h->jobs, h->n, &h->plan, &h->info, &ctl->rs, &h->pace, rc,
			    status, json_more, h);
		free(rc);
	}
	if (ctl->attach && status == EXIT_DONE && !ctl->only_priority)
		attach_record(ctl, h->at, &h->jobs[0]);
}

static void free_volstate(struct hydration *h)
{
	struct volstate *vs = h->vs;
	size_t i, p;

	for (i = 0; i < h->n; i++) {
		if (vs[i].left)
			for (p = 0; p < h->plan.per[i].nphases; p++)
				rangelist_free(&vs[i].left[p]);
		free(vs[i].left);
		rangelist_free(&vs[i].prior);
		loader_free(&vs[i].loader);
		if (vs[i].lock_fd >= 0)
			close(vs[i].lock_fd);
	}
}

int hydrate_finish(struct hydration *h, int status)
{
	size_t i;

	/* Nothing to report when there was nothing to do, or the engine could not run. */
	if (h->planned && status >= 0)
		report_run(h, status);
	if (status < 0)
		status = -status;
	if (h->paced)
		pace_free(&h->pace);
	if (h->ctl->attach && h->planned) {
		run_state_remove(h->ctl->run_dir, h->state->device);
		notify_systemd("READY=1\nSTATUS=finished");
	}
	for (i = 0; h->planned && i < h->n; i++)
		job_release(&h->jobs[i]);
	if (h->planned) {
		free_volstate(h);
		plan_free(&h->plan);
	}
	for (i = 0; i < h->n; i++)
		target_close(&h->targets[i]);
	attach_free(h->at);
	recorded_free(h->rec);
	free(h->vs);
	free(h->jobs);
	free(h->targets);
	free(h);
	return status;
}
