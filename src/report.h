/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Progress and summaries: a live bar on a terminal, log lines for the
 * journal, and the JSON summary for scripts.
 */
#ifndef BLKHYDRATE_REPORT_H
#define BLKHYDRATE_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "engine.h"

struct run_settings {
	unsigned int queue_depth;
	uint64_t block_size;
	unsigned int strides;
	uint64_t rate;
};

/* One progress update for all jobs: a redrawn bar (@bar) or a log line. */
void report_progress(FILE *f, const struct job *jobs, size_t njobs, uint64_t elapsed_ns,
		     bool bar);

/* Clear a bar left on the terminal. */
void report_progress_end(FILE *f);

/* One human line per job. */
void report_summary(FILE *f, const struct job *j);

/* The whole run as one JSON object. */
void report_json(FILE *f, const struct job *jobs, size_t njobs,
		 const struct engine_info *info, const struct run_settings *rs,
		 int exit_status);

#endif
