/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A minimal TAP producer for the C unit tests: plan(), ok(), exit_status().
 */
#ifndef BLKHYDRATE_TAP_H
#define BLKHYDRATE_TAP_H

#include <stdarg.h>
#include <stdio.h>

static unsigned int tap_planned, tap_run, tap_failed;

static inline void plan(unsigned int n)
{
	/* Line by line: the results survive a crash or LeakSanitizer's exit. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	tap_planned = n;
	printf("1..%u\n", n);
}

static inline int __attribute__((format(printf, 2, 3))) ok(int cond, const char *fmt, ...)
{
	va_list ap;

	tap_run++;
	if (!cond)
		tap_failed++;
	printf("%sok %u - ", cond ? "" : "not ", tap_run);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	return cond;
}

static inline int exit_status(void)
{
	if (tap_run != tap_planned) {
		printf("# planned %u tests but ran %u\n", tap_planned, tap_run);
		return 1;
	}
	return tap_failed ? 1 : 0;
}

#endif
