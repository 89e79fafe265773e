/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Size parsing and formatting. Kept free of any I/O so that the unit tests and
 * the fuzz harness can drive it directly.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/size.h"

struct suffix {
	const char *name;
	unsigned int base;
	unsigned int power;
};

static const struct suffix suffixes[] = {
	{ "", 1, 0 },
	{ "B", 1, 0 },
	{ "K", 1024, 1 },   { "KiB", 1024, 1 }, { "KB", 1000, 1 }, { "k", 1024, 1 },
	{ "M", 1024, 2 },   { "MiB", 1024, 2 }, { "MB", 1000, 2 },
	{ "G", 1024, 3 },   { "GiB", 1024, 3 }, { "GB", 1000, 3 },
	{ "T", 1024, 4 },   { "TiB", 1024, 4 }, { "TB", 1000, 4 },
};

int size_parse(const char *str, uint64_t *res, const char **why)
{
	const char *p = str;
	uint64_t num = 0, mult = 1;
	const struct suffix *sfx = NULL;
	size_t i;

	if (!str || !*str) {
		*why = "empty";
		return -EINVAL;
	}
	if (!isdigit((unsigned char)*p)) {
		*why = "not a number";
		return -EINVAL;
	}
	for (; isdigit((unsigned char)*p); p++) {
		unsigned int d = (unsigned int)(*p - '0');

		if (num > (UINT64_MAX - d) / 10) {
			*why = "too large";
			return -ERANGE;
		}
		num = num * 10 + d;
	}
	for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		if (strcmp(p, suffixes[i].name) == 0) {
			sfx = &suffixes[i];
			break;
		}
	}
	if (!sfx) {
		*why = "unknown suffix (use K, M, G or T)";
		return -EINVAL;
	}
	for (i = 0; i < sfx->power; i++)
		mult *= sfx->base;
	if (num && mult > UINT64_MAX / num) {
		*why = "too large";
		return -ERANGE;
	}
	*res = num * mult;
	return 0;
}

char *size_format(uint64_t bytes, char *buf, size_t len)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	double v = (double)bytes;
	size_t u = 0;

	while (v >= 1024.0 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024.0;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%llu B", (unsigned long long)bytes);
	else
		snprintf(buf, len, "%.1f %s", v, units[u]);
	return buf;
}
