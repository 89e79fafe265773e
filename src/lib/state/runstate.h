/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Progress of running attach hydrations, one small file per device under
 * the run directory (/run/blkhydrate), for "blkhydrate status". A file
 * whose process is gone is stale and shown as such.
 */
#ifndef BLKHYDRATE_RUNSTATE_H
#define BLKHYDRATE_RUNSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define DEFAULT_RUN_DIR "/run/blkhydrate"

struct run_state {
	char device[64];	/* kernel name */
	char volume[160];	/* ledger identity, may be empty */
	pid_t pid;
	int64_t started;	/* seconds since the epoch */
	uint64_t planned;
	uint64_t done;
	bool priority_done;
	/* The pace, as the last progress tick saw it. */
	unsigned int depth;	/* reads in flight allowed */
	uint64_t rate;		/* bytes per second, about the last second */
	uint64_t latency_us;	/* mean latency of a read */
	unsigned int errors;	/* unreadable ranges so far */
};

/* Replace the device's state file atomically. Returns 0 or -errno. */
int run_state_write(const char *run_dir, const struct run_state *st);

/* Remove it at the end of the run. Returns 0 or -errno. */
int run_state_remove(const char *run_dir, const char *device);

/* Parse file text. Returns 0 or -EBADMSG. */
int run_state_parse(const char *text, struct run_state *st);

/*
 * Call @cb for each state file, sorted by name (err 0, or -EBADMSG/-errno
 * with @path). Returns 0, the first non-zero return of @cb, or -errno
 * (-ENOENT: nothing ever ran).
 */
int run_state_list(const char *run_dir,
		   int (*cb)(const struct run_state *st, const char *path, int err, void *arg),
		   void *arg);

#endif
