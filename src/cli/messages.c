/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The program's one voice on standard error: every warning and error line
 * starts "blkhydrate: ", and a bad invocation ends with the hint to --help.
 */
#include "config.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "base/value.h"

volatile sig_atomic_t stop_requested;

static void vwarn_user(const char *fmt, va_list ap)
{
	fputs("blkhydrate: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void warn_user(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn_user(fmt, ap);
	va_end(ap);
}

void die(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn_user(fmt, ap);
	va_end(ap);
	exit(status);
}

void die_usage(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn_user(fmt, ap);
	va_end(ap);
	fprintf(stderr, "Try 'blkhydrate%s%s --help'.\n", cmd ? " " : "", cmd ? cmd : "");
	exit(EXIT_USAGE);
}

void die_oom(void)
{
	die(EXIT_SYSTEM, OUT_OF_MEMORY);
}

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

void stop_on_signals(void)
{
	struct sigaction sa = {0};

	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}
