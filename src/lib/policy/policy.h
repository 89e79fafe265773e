/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Which disks to hydrate, as the configuration file says: EBS volumes unless
 * "hydrate-ebs = no", plus disks whose udev properties match a
 * "hydrate-match = PROPERTY=GLOB" line, minus those a "skip-match" line names.
 */
#ifndef BLKHYDRATE_POLICY_H
#define BLKHYDRATE_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "base/config-file.h"

struct policy {
	bool hydrate_ebs;
	const char **hydrate_match;	/* "PROPERTY=GLOB", pointing into the config */
	size_t nhydrate;
	const char **skip_match;
	size_t nskip;
};

/*
 * Read the policy keys of @cfg (others are left alone). Returns 0, -ENOMEM,
 * or -EINVAL with @err naming the line and the reason.
 */
int policy_from_config(const struct config *cfg, struct policy *pol, struct config_error *err);
void policy_free(struct policy *pol);

/* A udev property of the disk, or NULL. */
typedef const char *(*property_fn)(const char *name, void *arg);

/* True when one of @rules ("NAME=GLOB", fnmatch) matches the disk's properties. */
bool policy_match(const char *const *rules, size_t n, property_fn get, void *arg);

#endif
