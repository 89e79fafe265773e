/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The hydrate-or-skip rule. There is no in-guest flag for "restored from a
 * snapshot": a cloud volume that carries a partition table or a file system
 * when it appears came from one (a new volume is all zeroes), so it is
 * hydrated; everything else is left alone. The order of the tests is the
 * order of precedence.
 */
#include "config.h"

#include "policy/decide.h"

struct decide_out decide(const struct decide_in *in)
{
	struct decide_out out = { DECIDE_SKIP, REASON_NOT_CLOUD };

	/* Local NVMe storage is empty at every start; a rule cannot make it a snapshot. */
	if (in->kind == KIND_INSTANCE_STORE) {
		out.reason = REASON_INSTANCE_STORE;
		return out;
	}
	if (in->matched_skip) {
		out.reason = REASON_CONFIGURED_SKIP;
		return out;
	}
	if (in->kind == KIND_EBS && !in->hydrate_ebs && !in->matched_hydrate) {
		out.reason = REASON_EBS_DISABLED;
		return out;
	}
	if (in->kind != KIND_EBS && !in->matched_hydrate)
		return out;
	if (in->in_ledger) {
		out.reason = REASON_HYDRATED;
		return out;
	}
	if (in->content == CONTENT_FAILED) {
		out.reason = REASON_UNREADABLE;
		return out;
	}
	if (in->content == CONTENT_EMPTY) {
		out.reason = REASON_EMPTY;
		return out;
	}
	out.decision = DECIDE_HYDRATE;
	out.reason = in->kind == KIND_EBS ? REASON_SNAPSHOT : REASON_MATCHED;
	return out;
}

const char *decision_name(enum decision d)
{
	return d == DECIDE_HYDRATE ? "hydrate" : "skip";
}

static const struct {
	const char *name;
	const char *text;
} reasons[] = {
	[REASON_SNAPSHOT] = { "snapshot", "a cloud volume carrying data: restored from a snapshot" },
	[REASON_MATCHED] = { "matched", "a hydrate-match rule names it and it carries data" },
	[REASON_EMPTY] = { "empty", "an empty new volume: nothing to fetch" },
	[REASON_INSTANCE_STORE] = { "instance-store", "instance store: local, never from a snapshot" },
	[REASON_NOT_CLOUD] = { "not-cloud", "not a cloud volume (no hydrate-match rule names it)" },
	[REASON_EBS_DISABLED] = { "ebs-disabled", "EBS volume, but hydrate-ebs = no" },
	[REASON_HYDRATED] = { "hydrated", "already hydrated (in the ledger)" },
	[REASON_CONFIGURED_SKIP] = { "configured", "a skip-match rule names it" },
	[REASON_UNREADABLE] = { "probe-failed", "could not be probed" },
};

const char *reason_name(enum decide_reason r)
{
	return reasons[r].name;
}

const char *reason_text(enum decide_reason r)
{
	return reasons[r].text;
}

const char *kind_name(enum disk_kind k)
{
	switch (k) {
	case KIND_EBS:
		return "ebs";
	case KIND_INSTANCE_STORE:
		return "instance-store";
	default:
		return "other";
	}
}
