/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Whether a disk that appeared should be hydrated: a pure function of what
 * discovery learnt about it and what the configuration says, so that every
 * case can be tested from a table.
 */
#ifndef BLKHYDRATE_DECIDE_H
#define BLKHYDRATE_DECIDE_H

#include <stdbool.h>

#include "device/kind.h"

struct decide_in {
	enum disk_kind kind;
	enum disk_content content;
	bool hydrate_ebs;	/* configuration: hydrate EBS volumes (default yes) */
	bool matched_hydrate;	/* configuration: a hydrate-match rule names this disk */
	bool matched_skip;	/* configuration: a skip-match rule names this disk */
	bool in_ledger;		/* hydrated before (the same volume and size) */
};

enum decision {
	DECIDE_SKIP,
	DECIDE_HYDRATE,
};

enum decide_reason {
	REASON_SNAPSHOT,	/* a cloud volume carrying data: it came from a snapshot */
	REASON_MATCHED,		/* configured: a hydrate-match rule, and it carries data */
	REASON_EMPTY,
	REASON_INSTANCE_STORE,
	REASON_NOT_CLOUD,
	REASON_EBS_DISABLED,
	REASON_HYDRATED,
	REASON_CONFIGURED_SKIP,
	REASON_UNREADABLE,
};

struct decide_out {
	enum decision decision;
	enum decide_reason reason;
};

struct decide_out decide(const struct decide_in *in);

/* "hydrate" or "skip". */
const char *decision_name(enum decision d);

/* A short token for udev and JSON ("snapshot", "empty", ...). */
const char *reason_name(enum decide_reason r);

/* The reason in words, for people. */
const char *reason_text(enum decide_reason r);

const char *kind_name(enum disk_kind k);

#endif
