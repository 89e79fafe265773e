/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One disk's hydrate-or-skip decision, as list shows it for every disk and
 * discover prints it for the udev rule: discovery, the policy of the
 * configuration, and the ledger.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "device/disk.h"
#include "policy/policy.h"
#include "state/ledger.h"

struct policy *load_policy(struct ctl *ctl)
{
	struct config_error err;
	struct policy *pol = malloc(sizeof(*pol));
	int rc;

	if (!pol)
		die_oom();
	rc = policy_from_config(&ctl->cfg, pol, &err);
	if (rc == -ENOMEM)
		die_oom();
	if (rc)
		die(EXIT_USAGE, "%s:%u: %s", ctl->config, err.line, err.reason);
	return pol;
}

void free_policy(struct policy *pol)
{
	policy_free(pol);
	free(pol);
}

int decide_disk(struct disks_ctx *dx, struct udev_device *d, struct disk_info *di,
		struct decide_out *out)
{
	struct decide_in in = {0};
	struct ledger_entry e;
	int rc;

	rc = disk_info_from_udev(d, !dx->ctl->udev, di);
	if (rc)
		return rc;
	in.kind = di->kind;
	in.content = di->contents.found;
	in.hydrate_ebs = dx->pol->hydrate_ebs;
	in.matched_hydrate =
	    policy_match(dx->pol->hydrate_match, dx->pol->nhydrate, disk_property, d);
	in.matched_skip = policy_match(dx->pol->skip_match, dx->pol->nskip, disk_property, d);
	if (di->identity[0]) {
		rc = ledger_lookup(dx->ctl->state_dir, di->identity, di->size, &e);
		in.in_ledger = !rc;
		if (rc && rc != -ENOENT)
			warn_user("%s: ledger entry for %s %s: ignored", di->devnode, di->identity,
				  rc == -EBADMSG ? "is corrupt" : strerror(-rc));
	}
	*out = decide(&in);
	return 0;
}
