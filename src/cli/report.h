/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Progress, summaries and plans: a live bar on a terminal, log lines for the
 * journal, and JSON for scripts.
 */
#ifndef BLKHYDRATE_REPORT_H
#define BLKHYDRATE_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "io/engine.h"
#include "io/pace.h"
#include "plan/plan.h"
#include "io/probe.h"
#include "cli/options.h"

struct run_settings {
	unsigned int queue_depth;	/* 0: auto */
	uint64_t block_size;
	unsigned int strides;
	uint64_t rate;
	uint16_t ioprio;
	bool yield;	  /* make room for other readers: with auto depth, or when given */
	bool yield_given; /* --yield or yield = yes: with a fixed depth too; warn if it cannot */
	enum read_mode read_mode;
	uint64_t snapshot_block;
};

/* What the granularity probe said of one target before hydrate read it. */
struct read_choice {
	bool probed;
	enum granularity_verdict verdict;
	uint64_t probe_bytes; /* read by the probe, in guest bytes too */
	unsigned int probe_places; /* snapshot blocks it tried: each fetched once at most */
};

/*
 * One progress update for all jobs: a redrawn bar (@bar) or a log line, with
 * the depth, throughput and latency of @pace when given.
 */
void report_progress(FILE *f, const struct job *jobs, size_t njobs, uint64_t elapsed_ns,
		     bool bar, const struct pace *pace);

/* Clear a bar left on the terminal. */
void report_progress_end(FILE *f);

/* The priority classes of target @t are all read. */
void report_priority_done(FILE *f, const struct plan *plan, size_t t, const struct job *j);

/* One human line per job. */
void report_summary(FILE *f, const struct plan *plan, size_t t, const struct job *j);
/* The depth auto depth held and why, and the time spent making room for others. */
void report_pace(FILE *f, const struct pace *pace);

/* One line per unreadable range of @j, the first @max of them. */
void report_bad_ranges(FILE *f, const struct job *j, size_t max);

/* The whole run as one JSON object. */
void report_json(FILE *f, const struct job *jobs, size_t njobs, const struct plan *plan,
		 const struct engine_info *info, const struct run_settings *rs,
		 const struct pace *pace, const struct read_choice *rc, int exit_status,
		 void (*more)(FILE *f, void *arg), void *more_arg);

/* The plan, for people (@verbose: every range) and as JSON. */
void report_plan(FILE *f, const struct plan *plan, const struct run_settings *rs, bool verbose);
void report_plan_json(FILE *f, const struct plan *plan, const struct run_settings *rs);

/* @s as a JSON string, quoted and escaped. */
void json_string(FILE *f, const char *s);
/* A probe's estimate: for people, and as JSON. */
void report_probe(FILE *f, const struct target *t, uint64_t seed, const struct probe_result *r);
void report_probe_json(FILE *f, const struct target *t, uint64_t seed,
		       const struct probe_result *r);
/* The granularity probe's verdict and evidence: for people, and as JSON. */
void report_granularity(FILE *f, const struct target *t, uint64_t seed,
			const struct granularity_result *g);
void report_granularity_json(FILE *f, const struct target *t, uint64_t seed,
			     const struct granularity_result *g);

#endif
