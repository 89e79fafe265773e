/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Checks of option values, apart from getopt so that unit tests reach them.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/options.h"
#include "base/size.h"

int opt_count(const char *str, unsigned int min, unsigned int max, unsigned int *res,
	      const char **why)
{
	unsigned long long v = 0;
	const char *p;

	if (!*str) {
		*why = "empty";
		return -EINVAL;
	}
	for (p = str; *p; p++) {
		if (!isdigit((unsigned char)*p)) {
			*why = "not a whole number";
			return -EINVAL;
		}
		v = v * 10 + (unsigned long long)(*p - '0');
		if (v > max)
			break;
	}
	if (v < min || v > max) {
		static char buf[64];

		snprintf(buf, sizeof(buf), "out of range (%u to %u)", min, max);
		*why = buf;
		return -ERANGE;
	}
	*res = (unsigned int)v;
	return 0;
}

int opt_block_size(const char *str, uint64_t *res, const char **why)
{
	uint64_t v;
	int rc = size_parse(str, &v, why);

	if (rc)
		return rc;
	if (v < MIN_BLOCK_SIZE || v > MAX_BLOCK_SIZE) {
		*why = "out of range (4K to 64M)";
		return -ERANGE;
	}
	if (v % MIN_BLOCK_SIZE) {
		*why = "not a multiple of 4K";
		return -EINVAL;
	}
	*res = v;
	return 0;
}

int opt_rate(const char *str, uint64_t *res, const char **why)
{
	return size_parse(str, res, why);
}

int opt_progress(const char *str, enum progress_mode *res, const char **why)
{
	if (!strcmp(str, "auto"))
		*res = PROGRESS_AUTO;
	else if (!strcmp(str, "always"))
		*res = PROGRESS_ALWAYS;
	else if (!strcmp(str, "never"))
		*res = PROGRESS_NEVER;
	else {
		*why = "not one of auto, always, never";
		return -EINVAL;
	}
	return 0;
}

int opt_duration(const char *str, uint64_t *ms, const char **why)
{
	static const struct {
		const char *suffix;
		uint64_t ms;
	} units[] = {{"", 1000}, {"s", 1000}, {"ms", 1}, {"m", 60000}, {"h", 3600000}};
	unsigned long long v;
	char *end;
	size_t i;

	errno = 0;
	v = strtoull(str, &end, 10);
	if (end == str || *str == '-' || errno) {
		*why = "not a duration (30, 30s, 500ms, 5m, 1h)";
		return -EINVAL;
	}
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (!strcmp(end, units[i].suffix))
			break;
	if (i == sizeof(units) / sizeof(units[0])) {
		*why = "not a duration (30, 30s, 500ms, 5m, 1h)";
		return -EINVAL;
	}
	if (!v || v > MAX_DURATION_MS / units[i].ms) {
		*why = "out of range (1ms to 7 days)";
		return -ERANGE;
	}
	*ms = v * units[i].ms;
	return 0;
}

int opt_recorded(const char *str, unsigned int *res, const char **why)
{
	static const char *const names[] = {"first", "after", "off"};
	unsigned int i;

	for (i = 0; i < 3; i++)
		if (!strcmp(str, names[i])) {
			*res = i;
			return 0;
		}
	*why = "not one of first, after, off";
	return -EINVAL;
}

int opt_read_mode(const char *str, enum read_mode *res, const char **why)
{
	static const enum read_mode modes[] = {READ_MODE_AUTO, READ_MODE_FULL, READ_MODE_TOUCH};
	size_t i;

	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		if (!strcmp(str, read_mode_name(modes[i]))) {
			*res = modes[i];
			return 0;
		}
	}
	*why = "not one of full, touch, auto";
	return -EINVAL;
}

const char *read_mode_name(enum read_mode m)
{
	return m == READ_MODE_FULL ? "full" : m == READ_MODE_TOUCH ? "touch" : "auto";
}

int opt_snapshot_block(const char *str, uint64_t *res, const char **why)
{
	uint64_t v;
	int rc = opt_block_size(str, &v, why);

	if (!rc && v < MIN_SNAPSHOT_BLOCK)
		rc = -ERANGE;
	if (rc == -ERANGE)
		*why = "out of range (8K to 64M)";
	if (!rc)
		*res = v;
	return rc;
}

int opt_queue_depth(const char *str, unsigned int *res, const char **why)
{
	if (!strcmp(str, "auto")) {
		*res = QUEUE_DEPTH_AUTO;
		return 0;
	}
	return opt_count(str, 1, MAX_QUEUE_DEPTH, res, why);
}

int opt_check_memory(unsigned int queue_depth, uint64_t block_size, const char **why)
{
	if ((uint64_t)queue_depth * block_size > MAX_BUFFER_MEMORY) {
		*why = "queue depth times block size exceeds 1 GiB of buffers";
		return -ERANGE;
	}
	return 0;
}
