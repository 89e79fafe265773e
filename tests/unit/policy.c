/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Description: the policy keys of the configuration. hydrate-ebs defaults
 * to yes and takes yes/no; hydrate-match and skip-match take PROPERTY=GLOB
 * and match a disk's udev properties with fnmatch; bad values are refused
 * with the line; other keys are left alone.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "cli/cli.h"
#include "policy/policy.h"
#include "base/value.h"
#include "../lib/tap.h"

/* A GCP persistent disk as udev describes it. */
static const char *gcp(const char *name, void *arg)
{
	static const char *const props[][2] = {
		{ "ID_MODEL", "PersistentDisk" },
		{ "ID_SERIAL", "Google_PersistentDisk_data-1" },
		{ "DEVNAME", "/dev/sdb" },
	};
	size_t i;

	(void)arg;
	for (i = 0; i < sizeof(props) / sizeof(props[0]); i++)
		if (!strcmp(name, props[i][0]))
			return props[i][1];
	return NULL;
}

static const struct {
	const char *rule;
	int match;
} rules[] = {
	{ "ID_MODEL=PersistentDisk", 1 },
	{ "ID_MODEL=Persistent*", 1 },
	{ "ID_MODEL=persistentdisk", 0 },	/* case matters, as in udev */
	{ "ID_SERIAL=Google_*_data-?", 1 },
	{ "DEVNAME=/dev/sd[a-c]", 1 },
	{ "DEVNAME=/dev/nvme*", 0 },
	{ "ID_VENDOR=Msft", 0 },		/* a property the disk does not have */
	{ "ID_MODEL=", 0 },
};

/* The policy points into its configuration: keep each until the end. */
static struct config cfgs[8];
static unsigned int ncfgs;

static int load(const char *text, struct policy *pol, struct config_error *err)
{
	struct config *cfg = &cfgs[ncfgs++];
	int rc = config_parse(text, strlen(text), setting_known, cfg, err);

	if (!rc)
		rc = policy_from_config(cfg, pol, err);
	return rc;
}

int main(void)
{
	struct policy pol;
	struct config_error err;
	const char *one[1];
	size_t i, n = sizeof(rules) / sizeof(rules[0]);
	int rc;

	plan((unsigned int)n + 9);
	for (i = 0; i < n; i++) {
		one[0] = rules[i].rule;
		ok(policy_match(one, 1, gcp, NULL) == rules[i].match, "%s %s a GCP disk",
		   rules[i].rule, rules[i].match ? "matches" : "does not match");
	}
	rc = load("rate = 100M\n", &pol, &err);
	ok(rc == 0 && pol.hydrate_ebs && !pol.nhydrate && !pol.nskip,
	   "no policy keys: EBS yes, no rules");
	policy_free(&pol);
	rc = load("hydrate-ebs = no\nhydrate-match = ID_MODEL=PersistentDisk\n"
		  "hydrate-match = ID_VENDOR=Msft\nskip-match = DEVNAME=/dev/sdb\n",
		  &pol, &err);
	ok(rc == 0 && !pol.hydrate_ebs && pol.nhydrate == 2 && pol.nskip == 1,
	   "hydrate-ebs = no, two hydrate rules, one skip rule (rc %d)", rc);
	ok(rc == 0 && policy_match(pol.hydrate_match, pol.nhydrate, gcp, NULL),
	   "the hydrate rules match the GCP disk");
	ok(rc == 0 && policy_match(pol.skip_match, pol.nskip, gcp, NULL),
	   "the skip rule matches it too");
	policy_free(&pol);
	ok(load("hydrate-ebs = YES\n", &pol, &err) == 0 && pol.hydrate_ebs, "YES is yes");
	policy_free(&pol);
	rc = load("# c\nhydrate-ebs = maybe\n", &pol, &err);
	ok(rc == -EINVAL && err.line == 2 &&
		   !strcmp(err.reason, "invalid hydrate-ebs 'maybe': not yes or no"),
	   "hydrate-ebs = maybe refused at line 2: %s", err.reason);
	rc = load("skip-match = ID_MODEL\n", &pol, &err);
	ok(rc == -EINVAL && err.line == 1 && strstr(err.reason, "not PROPERTY=GLOB"),
	   "a rule without '=' is refused: %s", err.reason);
	rc = load("hydrate-match = =x\n", &pol, &err);
	ok(rc == -EINVAL && strstr(err.reason, "not PROPERTY=GLOB"),
	   "a rule without a property name is refused");
	ok(bool_parse("0") == 0 && bool_parse("true") == 1 && bool_parse("") == -EINVAL,
	   "bool_parse: 0, true, empty");
	while (ncfgs)
		config_free(&cfgs[--ncfgs]);
	return exit_status();
}
