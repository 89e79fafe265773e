/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Description: size_parse() accepts the suffixes people write, refuses the
 * rest with a reason, and catches overflow; size_format() rounds sensibly.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "base/size.h"
#include "../lib/tap.h"

static const struct {
	const char *in;
	int rc;
	unsigned long long out;
} cases[] = {
	{ "0", 0, 0 },
	{ "512", 0, 512 },
	{ "512B", 0, 512 },
	{ "4K", 0, 4096 },
	{ "4k", 0, 4096 },
	{ "4KiB", 0, 4096 },
	{ "4KB", 0, 4000 },
	{ "512K", 0, 524288 },
	{ "1M", 0, 1048576 },
	{ "1MiB", 0, 1048576 },
	{ "300MB", 0, 300000000 },
	{ "2G", 0, 2147483648ULL },
	{ "1GB", 0, 1000000000 },
	{ "3T", 0, 3298534883328ULL },
	{ "18446744073709551615", 0, 18446744073709551615ULL },
	{ "18446744073709551616", -ERANGE, 0 },
	{ "16777216T", -ERANGE, 0 },
	{ "", -EINVAL, 0 },
	{ "K", -EINVAL, 0 },
	{ "-1", -EINVAL, 0 },
	{ " 1", -EINVAL, 0 },
	{ "1X", -EINVAL, 0 },
	{ "1.5M", -EINVAL, 0 },
	{ "1 M", -EINVAL, 0 },
	{ "1MM", -EINVAL, 0 },
	{ "0x10", -EINVAL, 0 },
};

static const struct {
	unsigned long long in;
	const char *out;
} formats[] = {
	{ 0, "0 B" },
	{ 1023, "1023 B" },
	{ 1024, "1.0 KiB" },
	{ 1536, "1.5 KiB" },
	{ 524288, "512.0 KiB" },
	{ 3221225472ULL, "3.0 GiB" },
};

int main(void)
{
	size_t i, n = sizeof(cases) / sizeof(cases[0]);
	size_t nf = sizeof(formats) / sizeof(formats[0]);
	char buf[32];

	plan((unsigned int)(n + nf));
	for (i = 0; i < n; i++) {
		uint64_t v = 0;
		const char *why = NULL;
		int rc = size_parse(cases[i].in, &v, &why);

		ok(rc == cases[i].rc && (rc || v == cases[i].out) && (!rc || why),
		   "size_parse(\"%s\") = %d, %llu (%s)", cases[i].in, rc, (unsigned long long)v,
		   rc ? why : "ok");
	}
	for (i = 0; i < nf; i++) {
		size_format(formats[i].in, buf, sizeof(buf));
		ok(!strcmp(buf, formats[i].out), "size_format(%llu) = \"%s\"", formats[i].in, buf);
	}
	return exit_status();
}
