/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The policy keys of the configuration. Matching is on udev properties
 * (ID_MODEL, ID_SERIAL, ID_VENDOR, DEVNAME, ...) because that is what an
 * administrator sees with "udevadm info" and what GCP's and Azure's disks are
 * told apart by (ID_MODEL=PersistentDisk, ID_VENDOR=Msft).
 */
#include "config.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy/policy.h"
#include "base/value.h"

static int add_rule(const char ***v, size_t *n, const char *rule)
{
	if (ARRAY_GROW(*v, *n, NULL))
		return -ENOMEM;
	(*v)[(*n)++] = rule;
	return 0;
}

static int bad(struct config_error *err, const struct config_item *it, const char *why)
{
	err->line = it->line;
	snprintf(err->reason, sizeof(err->reason), "invalid %s '%s': %s", it->key, it->value,
		 why);
	return -EINVAL;
}

int policy_from_config(const struct config *cfg, struct policy *pol, struct config_error *err)
{
	size_t i;
	int rc = 0, b;

	memset(pol, 0, sizeof(*pol));
	pol->hydrate_ebs = true;
	for (i = 0; i < cfg->n && !rc; i++) {
		const struct config_item *it = &cfg->v[i];
		bool skip = !strcmp(it->key, "skip-match");

		if (!strcmp(it->key, "hydrate-ebs")) {
			b = bool_parse(it->value);
			if (b < 0)
				rc = bad(err, it, "not yes or no");
			else
				pol->hydrate_ebs = b;
		} else if (skip || !strcmp(it->key, "hydrate-match")) {
			const char *eq = strchr(it->value, '=');

			if (!eq || eq == it->value)
				rc = bad(err, it, "not PROPERTY=GLOB");
			else if (skip)
				rc = add_rule(&pol->skip_match, &pol->nskip, it->value);
			else
				rc = add_rule(&pol->hydrate_match, &pol->nhydrate, it->value);
		}
	}
	if (rc)
		policy_free(pol);
	return rc;
}

void policy_free(struct policy *pol)
{
	free(pol->hydrate_match);
	free(pol->skip_match);
	pol->hydrate_match = pol->skip_match = NULL;
	pol->nhydrate = pol->nskip = 0;
}

bool policy_match(const char *const *rules, size_t n, property_fn get, void *arg)
{
	char name[128];
	const char *eq, *value;
	size_t i, len;

	for (i = 0; i < n; i++) {
		eq = strchr(rules[i], '=');
		len = (size_t)(eq - rules[i]);
		if (len >= sizeof(name))
			continue;
		memcpy(name, rules[i], len);
		name[len] = '\0';
		value = get(name, arg);
		if (value && !fnmatch(eq + 1, value, 0))
			return true;
	}
	return false;
}
