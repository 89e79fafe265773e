/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Description: the hydrate-or-skip decision, one row per case: EBS with data
 * is hydrated, empty volumes, instance store, other disks, the ledger and the
 * configuration's rules are skipped or hydrated in their order of precedence.
 */
#include "config.h"

#include <string.h>

#include "policy/decide.h"
#include "../lib/tap.h"

#define EBS KIND_EBS
#define IS KIND_INSTANCE_STORE
#define OTHER KIND_OTHER
#define DATA CONTENT_DATA
#define EMPTY CONTENT_EMPTY
#define FAIL CONTENT_FAILED
#define H DECIDE_HYDRATE
#define S DECIDE_SKIP

static const struct {
	const char *what;
	struct decide_in in;	/* kind, probe, hydrate_ebs, matched_hydrate, matched_skip, in_ledger */
	enum decision d;
	enum decide_reason r;
} rows[] = {
	{ "EBS with a file system", { EBS, DATA, 1, 0, 0, 0 }, H, REASON_SNAPSHOT },
	{ "EBS, empty", { EBS, EMPTY, 1, 0, 0, 0 }, S, REASON_EMPTY },
	{ "EBS, probe failed", { EBS, FAIL, 1, 0, 0, 0 }, S, REASON_UNREADABLE },
	{ "EBS in the ledger", { EBS, DATA, 1, 0, 0, 1 }, S, REASON_HYDRATED },
	{ "EBS, hydrate-ebs = no", { EBS, DATA, 0, 0, 0, 0 }, S, REASON_EBS_DISABLED },
	{ "EBS, hydrate-ebs = no but a hydrate-match", { EBS, DATA, 0, 1, 0, 0 }, H,
	  REASON_SNAPSHOT },
	{ "EBS named by a skip-match", { EBS, DATA, 1, 0, 1, 0 }, S, REASON_CONFIGURED_SKIP },
	{ "EBS named by both rules: skip wins", { EBS, DATA, 1, 1, 1, 0 }, S,
	  REASON_CONFIGURED_SKIP },
	{ "instance store with data", { IS, DATA, 1, 0, 0, 0 }, S, REASON_INSTANCE_STORE },
	{ "instance store even when matched", { IS, DATA, 1, 1, 0, 0 }, S,
	  REASON_INSTANCE_STORE },
	{ "other disk with data", { OTHER, DATA, 1, 0, 0, 0 }, S, REASON_NOT_CLOUD },
	{ "other disk, matched, with data", { OTHER, DATA, 1, 1, 0, 0 }, H, REASON_MATCHED },
	{ "other disk, matched, empty", { OTHER, EMPTY, 1, 1, 0, 0 }, S, REASON_EMPTY },
	{ "other disk, matched, in the ledger", { OTHER, DATA, 1, 1, 0, 1 }, S,
	  REASON_HYDRATED },
	{ "other disk, not matched, in the ledger", { OTHER, DATA, 1, 0, 0, 1 }, S,
	  REASON_NOT_CLOUD },
	{ "other disk, matched, probe failed", { OTHER, FAIL, 1, 1, 0, 0 }, S,
	  REASON_UNREADABLE },
	{ "EBS empty and in the ledger: ledger first", { EBS, EMPTY, 1, 0, 0, 1 }, S,
	  REASON_HYDRATED },
};

int main(void)
{
	size_t i, n = sizeof(rows) / sizeof(rows[0]);
	struct decide_out out;

	plan((unsigned int)n + 3);
	for (i = 0; i < n; i++) {
		out = decide(&rows[i].in);
		ok(out.decision == rows[i].d && out.reason == rows[i].r, "%s: %s (%s)", rows[i].what,
		   decision_name(out.decision), reason_name(out.reason));
	}
	ok(!strcmp(decision_name(DECIDE_HYDRATE), "hydrate") &&
		   !strcmp(decision_name(DECIDE_SKIP), "skip"),
	   "decision names");
	ok(!strcmp(kind_name(KIND_EBS), "ebs") && !strcmp(kind_name(KIND_INSTANCE_STORE),
							  "instance-store"),
	   "kind names");
	for (i = 0; i <= REASON_UNREADABLE; i++)
		if (!reason_name((enum decide_reason)i) || !reason_text((enum decide_reason)i))
			break;
	ok(i == REASON_UNREADABLE + 1, "every reason has a name and a text");
	return exit_status();
}
