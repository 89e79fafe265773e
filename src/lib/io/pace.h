/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The pace of a run: how many reads the engine keeps in flight, tick by
 * tick. The auto depth controller proposes, an EBS volume's own statistics
 * stop it growing past the volume's limits, and yielding holds it below what
 * the volume serves at once while someone else uses the device. Also what
 * progress, the JSON summary and status show: the depth, the throughput and
 * latency measured.
 */
#ifndef BLKHYDRATE_PACE_H
#define BLKHYDRATE_PACE_H

#include <stdbool.h>
#include <stdint.h>

#include "io/autodepth.h"
#include "device/ebsstats.h"
#include "io/engine.h"
#include "io/yield.h"

#define PACE_TICK_MS 50
/*
 * Auto depth starts low enough that the first reads take the volume's
 * unloaded latency, unless the probe measured it already: then twice that,
 * which a narrow volume's first reads already show waiting for; it doubles
 * from there while fetches take the unloaded latency.
 */
#define AUTO_START_DEPTH 4
#define AUTO_START_DEPTH_HINTED 8
#define AUTO_MAX_DEPTH 128
/*
 * Auto depth keeps its buffers (max depth x block size) under this, so that
 * the whole process stays under 64 MiB resident with the defaults.
 */
#define AUTO_MAX_MEMORY (56ULL * 1024 * 1024)

struct pace_ebs {
	int fd;			/* the target's, borrowed */
	struct ebs_stats first, last;
	uint64_t last_ns;
	bool limited;		/* over a limit during the last look */
};

struct pace {
	bool auto_depth;
	unsigned int depth;	/* reads allowed in flight now */
	unsigned int max_depth;
	struct autodepth ad;

	size_t ntargets;
	struct yield *yields;	/* per target; fd -1 when not watched */
	bool yield;
	bool yielding;
	unsigned int capped_served;	/* served at once, by windows read while others read; 0: none */
	unsigned long seen_windows;	/* the controller's windows already looked at */

	struct pace_ebs *ebs;	/* per target; fd -1 when not an EBS volume */
	unsigned int nebs;
	bool limited;

	/* Measured, for display: a window of about a second. */
	uint64_t now_ns;
	uint64_t w_ns, w_bytes, w_reads, w_lat;
	double rate;		/* bytes/s */
	double lat_ns;		/* mean latency of a read */
	uint64_t reads, lat_sum;	/* whole run */
};

/*
 * Set up for a run over @targets. @depth 0 means auto, up to @max_depth.
 * Returns 0 or -ENOMEM; devices that cannot be watched are simply not.
 */
int pace_init(struct pace *p, unsigned int depth, unsigned int max_depth, bool yield,
	      const struct target *targets, size_t ntargets);
void pace_free(struct pace *p);

/*
 * The volume's unloaded fetch latency, as the probe's lone cold reads
 * measured it (0: not measured): auto depth starts deeper, knowing it.
 */
void pace_hint_latency(struct pace *p, uint64_t ns);

/*
 * The engine's look hook: read every watched device's counters, right
 * before the engine reaps what completed (yield.h says why in that order).
 */
void pace_look(struct pace *p);

/* Our reads in flight while others read a volume that serves @served at once (at least 1). */
unsigned int pace_yield_depth(unsigned int served);

/* The largest auto depth for @block_size. */
unsigned int pace_auto_max(uint64_t block_size);

/* The engine's pace hook: returns the reads to allow in flight. */
unsigned int pace_tick(const struct engine_pace *ep, const struct job *jobs, size_t njobs,
		       void *arg);

/* Targets whose activity --yield can watch. */
size_t pace_watched(const struct pace *p);

/* Time over any EBS limit since the start, microseconds, all EBS targets. */
uint64_t pace_ebs_exceeded_us(const struct pace *p);

#endif
